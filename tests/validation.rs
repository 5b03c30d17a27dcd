//! Heavy validation runs, ignored by default; `scripts/validate.sh` runs them
//! (`cargo test --release --test validation -- --ignored --nocapture`), several minutes on
//! 2 cores. They print the measured residuals that the closing notes quote.

mod common;

use common::{problem, run};
use dmfe::flow::linear_stress;
use dmfe::potential::Potential;
use dmfe::statics::branch::solve_at_gamma;
use dmfe::statics::{equilibrium_cage, BranchPoint, Interaction, StaticModel};

/// The order of the scheme in the stiff glass (harmonic, phi_hat = 10, T = T0 = 0.3, t <= 5,
/// N = 500000, same seed): the drift of the late-time energy (last fifth) from e(0), zero in
/// the continuum, at dt = 0.2 and 0.1. Measured: 0.0302 and 0.0088 (ratio 3.4, order 1.8;
/// 4.3% of e(0) = 0.2027 at dt = 0.1); the previous first-order scheme gave 0.0375 at
/// dt = 0.1 with N = 50000.
#[test]
#[ignore]
fn glass_energy_drift_is_second_order() {
    let drift = |steps: usize| {
        let sol = run(&glass(0.3, "", steps, 5.0, 500_000));
        let e = &sol.averages.energy.mean;
        let late = &e.as_slice().unwrap()[e.len() - (e.len() / 5).max(1)..];
        (late.iter().sum::<f64>() / late.len() as f64 - e[0], e[0])
    };
    let ((coarse, e0), (fine, _)) = (drift(25), drift(50));
    println!(
        "glass energy drift: dt = 0.2 {coarse:.5}, dt = 0.1 {fine:.5} (e(0) = {e0:.4}), ratio {:.2}",
        coarse / fine
    );
    assert!(coarse / fine > 3.0, "not second order: {coarse} -> {fine}");
    assert!(fine.abs() < 0.06 * e0, "drift at dt = 0.1: {fine}");
}

/// Harmonic spheres at phi_hat = 10 prepared at T0 = 0.3 (T_d = 0.617), bath at `t`, on
/// t <= `t_max` with `steps` steps and `size` members (seed 3), `extra` TOML appended. The proposal reach is pinned to
/// T0 t_max (the default would add 2 gamma_eff^2 under strain and so draw other members),
/// so that a strained run and the unstrained one with the same seed hold the same members.
fn glass(t: f64, extra: &str, steps: usize, t_max: f64, size: usize) -> String {
    glass_seeded(t, extra, steps, t_max, size, 3)
}

/// [`glass`] with a given seed.
fn glass_seeded(t: f64, extra: &str, steps: usize, t_max: f64, size: usize, seed: u64) -> String {
    format!(
        "[model]\nphi_hat = 10.0\nT = {t}\nT0 = 0.3\n[potential]\nkind = \"harmonic\"\n\
         eps = 1.0\n[grid]\nt_max = {t_max}\nsteps = {steps}\n[population]\nsize = {size}\n\
         seed = {seed}\nreach = {reach}\n[output]\npath = \"v.h5\"\n{extra}",
        reach = 0.3 * t_max
    )
}

/// The static glass of [`glass`] followed to bath temperature `t` (continuation in T from
/// T0 = 0.3) and then to strain `gamma`.
fn static_glass(t: f64, gamma: f64) -> BranchPoint {
    let model = |t: f64| StaticModel {
        interaction: Interaction::Soft(Potential::Harmonic { eps: 1.0 }),
        phi_hat: 10.0,
        beta: 1.0 / t,
        beta0: 1.0 / 0.3,
        f0: 0.0,
        variance: 1.0,
    };
    let d0 = equilibrium_cage(&model(0.3)).unwrap();
    let mut p = solve_at_gamma(&model(0.3), 0.0, (d0, d0)).unwrap();
    for k in 1..=20 {
        let tk = 0.3 + (t - 0.3) * k as f64 / 20.0;
        p = solve_at_gamma(&model(tk), 0.0, (p.state.delta, p.state.a)).unwrap();
    }
    for k in 1..=20 {
        let g = gamma * k as f64 / 20.0;
        p = solve_at_gamma(&model(t), g, (p.state.delta, p.state.a)).unwrap();
    }
    p
}

/// Time average of `v` over grid points with t in [a, b].
fn window(v: &[f64], dt: f64, a: f64, b: f64) -> f64 {
    let (i, j) = ((a / dt).round() as usize, (b / dt).round() as usize);
    v[i..=j].iter().sum::<f64>() / (j + 1 - i) as f64
}

/// Population of the glass validations. At N = 20000 (4 seeds, dt = 0.05) the long-time
/// cage comes out too small: Delta_r(20) = 0.334 +- 0.015 against 0.369 +- 0.012 at
/// N = 200000 (static Delta_eq 0.379), the step-strain plateau 0.576 +- 0.028 (16% above the
/// static value) and the quenched plateau 0.284 +- 0.011 (13% below): a finite-N bias of the
/// self-consistent iteration, which feeds the kernels' noise back nonlinearly.
const GLASS_SIZE: usize = 200_000;

/// Spec 1.8 item 6: the plateau of beta sigma after a small step gamma0 = 0.2 (ramp 0.1 at
/// t = 1) on the equilibrium glass (T = T0 = 0.3) against the static sigma_hat(0.2) =
/// 0.4953, at dt = 0.05 with N = 200000 (seed 3; about 20 min on 2 cores). The unstrained
/// run with the same members is subtracted (its stress is zero on average), which removes
/// most of the noise. Measured (the same configs through `dmfe run`): beta (sigma - sigma_0)
/// = 0.504 over t = 6-10, 0.479 over t = 10-15, 0.465 over t = 15-20 (its fluctuation
/// between unit-time blocks 0.04; the per-point standard error of the strained run, 0.079,
/// bounds the error); convected stress 1.15. Passes when the plateau is within 10% of the
/// static value (N = 20000 gives 16% above) and within the per-point standard error. At
/// dt = 0.1 four seeds (3-6) give 0.4985 +- 0.0068 over t = 15-20 (seed 3: 0.494), their
/// scatter 0.014 there and 0.035 over t = 6-10, so one seed does not resolve the dt
/// dependence (t = 6-10: 0.519, 0.504, 0.536 at dt = 0.1, 0.05, 0.025).
#[test]
#[ignore]
fn glass_step_strain_plateau_is_the_static_stress() {
    let (gamma0, t_max, steps) = (0.2, 20.0, 400);
    let dt = t_max / steps as f64;
    let target = static_glass(0.3, gamma0).eval.sigma;
    let step = "[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = 0.2\nt_step = 1.0\n\
                ramp = 0.1\n";
    let still = run(&glass(0.3, "", steps, t_max, GLASS_SIZE));
    let strained = run(&glass(0.3, step, steps, t_max, GLASS_SIZE));
    let diff: Vec<f64> = (strained.averages.stress.mean.iter())
        .zip(still.averages.stress.mean.iter())
        .map(|(x, y)| (x - y) / 0.3)
        .collect();
    let se = window(&strained.averages.stress.se.to_vec(), dt, 15.0, 20.0) / 0.3;
    for (a, b) in [
        (2.0, 4.0),
        (4.0, 6.0),
        (6.0, 10.0),
        (10.0, 15.0),
        (15.0, 20.0),
    ] {
        println!(
            "beta (sigma - sigma_0) over t = {a}-{b}: {:.4}",
            window(&diff, dt, a, b)
        );
    }
    let m = window(&diff, dt, 15.0, 20.0);
    println!(
        "plateau (t = 15-20) {m:.4} (per-point se {se:.4}); static sigma_hat({gamma0}) = {target:.4}; \
         Delta_r(20) = {:.4}",
        still.particle.delta_r[steps]
    );
    assert!((m - target).abs() < 0.1 * target, "{m} vs {target}");
    assert!((m - target).abs() < se, "{m} +- {se} vs {target}");
}

/// Spec 1.8 item 6 / spec 2 with T != T0: the glass prepared at T0 = 0.3 and quenched to the
/// bath T = 0.2 reaches a plateau of Delta_r equal to the static state-following
/// Delta_r = (A + Delta)/2 = 0.3257 at (T, T0), not the equilibrium value 0.379 of T0 (the
/// average over t = 15-20, dt = 0.05, N = 200000, seed 3; about 10 min on 2 cores). Passes
/// within 3 jackknife standard errors plus 3%. Measured: 0.2938 +- 0.0094 (Delta_r 0.288 at
/// t = 15, 0.306 at t = 20, still rising), 3.4 standard errors below the static value but
/// within the tolerance; N = 20000 gives 0.284 +- 0.011 (4 seeds).
#[test]
#[ignore]
fn quenched_glass_plateau_is_the_state_following_one() {
    let p = static_glass(0.2, 0.0);
    let target = 0.5 * (p.state.a + p.state.delta);
    let eq = static_glass(0.3, 0.0).state.delta;
    let (steps, t_max) = (400, 20.0);
    let dt = t_max / steps as f64;
    let at = |t: f64| (t / dt).round() as usize;
    let sol = run(&glass(0.2, "", steps, t_max, GLASS_SIZE));
    let d = sol.particle.delta_r.to_vec();
    let d_se = sol.particle_se.delta_r.to_vec();
    println!(
        "Delta_r at t = 2, 5, 10, 15, 20: {:.4} {:.4} {:.4} {:.4} {:.4} (se at 20: {:.4})",
        d[at(2.0)],
        d[at(5.0)],
        d[at(10.0)],
        d[at(15.0)],
        d[at(20.0)],
        d_se[at(20.0)]
    );
    let m = window(&d, dt, 15.0, 20.0);
    let se = window(&d_se, dt, 15.0, 20.0);
    println!(
        "Delta_r plateau (t = 15-20) = {m:.4} +- {se:.4}; static (A + Delta)/2 at T = 0.2, \
         T0 = 0.3: {target:.4} (Delta {:.4}, A {:.4}); equilibrium Delta at T0: {eq:.4}",
        p.state.delta, p.state.a
    );
    assert!(
        (m - target).abs() < 3.0 * se + 0.03 * target,
        "{m} +- {se} vs {target}"
    );
}

/// Spec 1.8 item 9 in the glass: after a small step gamma0 = 0.05 (ramp 0.1 at t = 1) on the
/// equilibrium glass (T = T0 = 0.3, dt = 0.1), beta sigma/gamma0 follows the linear response
/// of the unstrained kernels, beta^2 sum_j dgamma_j M_C(t, t_j)/gamma0, within 5% in every
/// window (mean of seeds 3 and 4 at N = 10^6, the strained run minus the unstrained one with
/// the same members; about 15 min on 2 cores). The population must be this large: the stress
/// has a finite-N deficit. Measured, stress against linear response over t = 2-4, 6-10, 10-15,
/// 15-20: N = 10^6, seed 3: 3.634/3.802, 2.958/3.053, 2.886/2.956, 2.862/2.907; seed 4:
/// 3.777/3.861, 3.046/3.084, 2.953/2.992, 2.912/2.953 (gaps 1.2-4.4%); N = 200000, seeds 3-6:
/// 3.45 +- 0.04 / 3.79 +- 0.06, 2.96/3.06, 2.73/2.94, 2.68 +- 0.07 / 2.92 +- 0.04 (gaps
/// 3-11%; the same with the strain ramped over ten steps). Also printed: the static
/// sigma_hat(0.05)/0.05 = 2.631, which the plateau at dt = 0.1 does not reach (2.86-2.91 at
/// N = 10^6): this dt's cage is too small (Delta_r(20) = 0.328 against the static 0.379),
/// and beta^2 M_C follows it (L2); at N = 200000 the finite-N deficit happened to cancel that
/// (2.68 +- 0.07).
#[test]
#[ignore]
fn glass_small_step_follows_linear_response() {
    let (gamma0, t_max, steps, size) = (0.05, 20.0, 200, 1_000_000);
    let dt = t_max / steps as f64;
    let beta = 1.0 / 0.3;
    let target = static_glass(0.3, gamma0).eval.sigma / gamma0;
    let step = "[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = 0.05\nt_step = 1.0\n\
                ramp = 0.1\n";
    let windows = [(2.0, 4.0), (6.0, 10.0), (10.0, 15.0), (15.0, 20.0)];
    let seeds = [3, 4];
    let (mut stress, mut response) = (vec![0.0; 4], vec![0.0; 4]);
    for seed in seeds {
        let strained_config = glass_seeded(0.3, step, steps, t_max, size, seed);
        let (p, _) = problem(&strained_config);
        let gamma: Vec<f64> = (0..=steps).map(|i| p.model.gamma(p.grid.time(i))).collect();
        let still = run(&glass_seeded(0.3, "", steps, t_max, size, seed));
        let strained = run(&strained_config);
        let m_c = &still.kernels.m_c;
        let diff: Vec<f64> = (0..=steps)
            .map(|i| {
                beta * (strained.averages.stress.mean[i] - still.averages.stress.mean[i]) / gamma0
            })
            .collect();
        let lr: Vec<f64> = linear_stress(1.0, 1.0 / beta, &gamma, m_c)
            .iter()
            .map(|s| beta * s / gamma0)
            .collect();
        for (k, &(a, b)) in windows.iter().enumerate() {
            let (s, r) = (window(&diff, dt, a, b), window(&lr, dt, a, b));
            println!(
                "seed {seed}, t = {a}-{b}: beta sigma/gamma0 = {s:.3}, linear response {r:.3}"
            );
            stress[k] += s / seeds.len() as f64;
            response[k] += r / seeds.len() as f64;
        }
    }
    for (k, &(a, b)) in windows.iter().enumerate() {
        let gap = stress[k] / response[k] - 1.0;
        println!(
            "t = {a}-{b}: beta sigma/gamma0 = {:.3}, linear response {:.3}, gap {gap:+.3}; \
             static sigma_hat/gamma0 = {target:.3}",
            stress[k], response[k]
        );
        assert!(
            gap.abs() < 0.05,
            "t = {a}-{b}: {} vs {}",
            stress[k],
            response[k]
        );
    }
}

/// The flow curve's small-rate limit (issue 15): the quickstart liquid sheared at
/// gamma_dot = 0.1 to t = 10 (dt = 0.1), N = 160000 with splitting, 2 seeds with controls
/// (`dmfe flow`): the steady stress over t = 6.4-10, averaged over the seeds, against the
/// linear response of the same start-up from the controls' kernels (Eq. (L1)), within 3
/// standard errors of the seeds' scatter. Measured (494 s): 0.0662 +- 0.0063 against the
/// linear 0.0707; at N = 40000 (3 seeds) the stress was 0.050 +- 0.010.
#[test]
#[ignore]
fn flow_is_newtonian_at_small_rate() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runs/flow-liquid.toml"
    ))
    .unwrap();
    std::fs::write(dir.path().join("f.toml"), text).unwrap();
    let out = common::dmfe(
        dir.path(),
        &[
            "flow",
            "f.toml",
            "-q",
            "-o",
            "f.h5",
            "--set",
            "population.size=160000",
            "--set",
            "flow.rates=[0.1]",
            "--set",
            "flow.seeds=2",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = hdf5::File::open(dir.path().join("f.h5")).unwrap();
    let read = |name: &str| f.dataset(name).unwrap().read_raw::<f64>().unwrap()[0];
    let (s, se) = (
        read("flow/stress_over_seeds"),
        read("flow/stress_over_seeds_se"),
    );
    let linear = read("flow/stress_linear");
    println!("flow at gamma_dot = 0.1: stress {s:.4} +- {se:.4}, linear response {linear:.4}");
    assert!((s - linear).abs() < 3.0 * se, "{s} +- {se} vs {linear}");
}
