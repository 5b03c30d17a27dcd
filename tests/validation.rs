//! Heavy validation runs, ignored by default; `scripts/validate.sh` runs them
//! (`cargo test --release --test validation -- --ignored --nocapture`), several minutes on
//! 2 cores. They print the measured residuals that the closing notes quote.

mod common;

use common::{problem, run};
use dmfe::dynamics::population::Estimate;
use dmfe::dynamics::TIME_BLOCK;
use dmfe::flow::linear_stress;
use dmfe::potential::Potential;
use dmfe::statics::branch::solve_at_gamma;
use dmfe::statics::{equilibrium_cage, BranchPoint, Interaction, StaticModel};

/// The accuracy of the schemes in the stiff glass (harmonic, phi_hat = 10, T = T0 = 0.3,
/// t <= 4, N = 500000, seed 3): Delta_r(4) at dt = 0.2 against dt = 0.05. Measured:
/// discrete scheme 0.2691 +- 0.0025 and 0.2656 +- 0.0005 (+1.3% +- 1.0%), trapezoid 0.2229
/// and 0.2630 (-15%); energy drift over the last fifth +0.8% (discrete) and +15% (trapezoid)
/// of e(0) at dt = 0.2 (N = 200000: discrete 0.2656 and 0.2645, trapezoid 0.2206 and 0.2621). Passes when the discrete scheme's
/// difference is within 3 standard errors (of the two runs together) plus 0.5%, and the
/// trapezoid's exceeds 5% (the comparison can fail either way).
#[test]
#[ignore]
fn glass_is_accurate_at_coarse_dt() {
    let delta = |scheme: &str, steps: usize| {
        let sol = run(&glass_seeded(0.3, "", scheme, steps, 4.0, 500_000, 3));
        let e = &sol.averages.energy.mean;
        let late = &e.as_slice().unwrap()[e.len() - (e.len() / 5).max(1)..];
        let drift = late.iter().sum::<f64>() / late.len() as f64 / e[0] - 1.0;
        let (d, se) = (sol.particle.delta_r[steps], sol.particle_se.delta_r[steps]);
        println!(
            "{scheme}, dt = {}: Delta_r(4) = {d:.4} +- {se:.4}, energy drift {drift:+.4} of e(0)",
            4.0 / steps as f64
        );
        (d, se)
    };
    let relative = |scheme: &str| {
        let ((coarse, se_c), (fine, se_f)) = (delta(scheme, 20), delta(scheme, 80));
        (coarse / fine - 1.0, se_c.hypot(se_f) / fine)
    };
    let (discrete, se) = relative("discrete");
    let (trapezoid, _) = relative("trapezoid");
    println!(
        "Delta_r(4) at dt = 0.2 against dt = 0.05: discrete {discrete:+.4} +- {se:.4}, \
         trapezoid {trapezoid:+.4}"
    );
    assert!(
        discrete.abs() < 3.0 * se + 0.005,
        "discrete {discrete} +- {se}"
    );
    assert!(trapezoid.abs() > 0.05, "trapezoid {trapezoid}");
}

/// Harmonic spheres at phi_hat = 10 prepared at T0 = 0.3 (T_d = 0.617), bath at `t`, on
/// t <= `t_max` with `steps` steps of the time-discrete `scheme` and `size` members
/// (`seed`), `extra` TOML appended. The proposal reach is pinned to T0 t_max (the default
/// would add 2 gamma_eff^2 under strain and so draw other members), so that a strained run
/// and the unstrained one with the same seed hold the same members.
fn glass_seeded(
    t: f64,
    extra: &str,
    scheme: &str,
    steps: usize,
    t_max: f64,
    size: usize,
    seed: u64,
) -> String {
    format!(
        "[model]\nphi_hat = 10.0\nT = {t}\nT0 = 0.3\n[potential]\nkind = \"harmonic\"\n\
         eps = 1.0\n[grid]\nt_max = {t_max}\nsteps = {steps}\nscheme = \"{scheme}\"\n\
         [population]\nsize = {size}\nseed = {seed}\nreach = {reach}\n[output]\n\
         path = \"v.h5\"\n{extra}",
        reach = 0.3 * t_max
    )
}

/// The static glass of [`glass_seeded`] followed to bath temperature `t` (continuation in T from
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

/// Mean and standard error over the whole time blocks from `first` on ([`TIME_BLOCK`]
/// points each) of an estimate: exact errors from the block covariance of the stratified
/// population.
fn late_blocks(e: &Estimate, first: usize) -> (f64, f64) {
    let blocks = e.block_cov.nrows();
    let points = e.mean.len() - first * TIME_BLOCK;
    let c: Vec<f64> = (0..blocks)
        .map(|a| if a >= first { 1.0 / points as f64 } else { 0.0 })
        .collect();
    e.combination(&c)
}

/// The glass validations' long runs: t <= 40 at dt = 0.2 in the discrete scheme, N = 10^6
/// (about 6-12 min each on 2 cores). At dt = 0.2 the scheme's bias is below their errors:
/// over t = 15-20 (runs to t = 20, seed 3) the step-strain stress below is 0.504 at dt = 0.2
/// and 0.521 at dt = 0.1 (errors 0.03), and Delta_r(20) 0.361 and 0.362 (+- 0.005).
const LONG: (usize, f64, usize) = (200, 40.0, 1_000_000);

/// Spec 1.8 item 6: after a step gamma0 = 0.2 (ramp 0.1 at t = 1) on the equilibrium glass
/// (T = T0 = 0.3) the stress keeps a plateau equal to the static T sigma_hat(0.2) of the
/// same glass (0.4953 in units of T). Measured beta sigma over t = 25.6-40 (the last whole
/// blocks; block-covariance errors): seed 3 0.5175 +- 0.0282, seed 4 0.4924 +- 0.0276, mean
/// 0.5050 +- 0.0197, 0.5 standard errors above the static value (the unstrained runs of the
/// same members average 0.0107 +- 0.0221 and -0.0114 +- 0.0223 there, zero within their
/// errors). Passes within 3 standard errors of the mean of seeds 3 and 4.
#[test]
#[ignore]
fn glass_step_strain_plateau_is_the_static_stress() {
    let (steps, t_max, size) = LONG;
    let target = static_glass(0.3, 0.2).eval.sigma;
    let step = "[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = 0.2\nt_step = 1.0\n\
                ramp = 0.1\n";
    let mut plateaus = Vec::new();
    for seed in [3, 4] {
        let sol = run(&glass_seeded(
            0.3, step, "discrete", steps, t_max, size, seed,
        ));
        let (m, se) = late_blocks(&sol.averages.stress, 4);
        println!(
            "seed {seed}: beta sigma over t >= 25.6: {:.4} +- {:.4}",
            m / 0.3,
            se / 0.3
        );
        plateaus.push((m / 0.3, se / 0.3));
    }
    let m = 0.5 * (plateaus[0].0 + plateaus[1].0);
    let se = 0.5 * (plateaus[0].1.powi(2) + plateaus[1].1.powi(2)).sqrt();
    println!("plateau {m:.4} +- {se:.4}; static sigma_hat(0.2) = {target:.4}");
    assert!((m - target).abs() < 3.0 * se, "{m} +- {se} vs {target}");
}

/// The glass's plateau modulus at a small step, measurable with antithetic pairs: gamma0 =
/// 0.02 (ramp 0.1 at t = 1) on the equilibrium glass of [`glass_seeded`] (seed 3, the long
/// runs of [`LONG`]), beta sigma/gamma0 over t = 25.6-40 against the static modulus
/// sigma_hat(gamma0)/gamma0 = 1/Delta_eq of the same glass, within 3 standard errors (block
/// covariance). Measured (137 s): 2.671 +- 0.118 against 2.639 (Delta_r(40) = 0.368, static
/// 0.379). Without the pairs the error at N = 400000 was 9 times larger (0.34 +- 0.51
/// against 0.876 +- 0.058 in sigma/gamma0 over t = 19-30, README).
#[test]
#[ignore]
fn glass_plateau_modulus_is_the_static_modulus() {
    let (steps, t_max, size) = LONG;
    let gamma0 = 0.02;
    let target = static_glass(0.3, gamma0).eval.sigma / gamma0;
    let step = format!(
        "[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = {gamma0}\nt_step = 1.0\n\
         ramp = 0.1\n"
    );
    let text = glass_seeded(0.3, &step, "discrete", steps, t_max, size, 3)
        .replace("seed = 3\n", "seed = 3\nantithetic = true\n");
    let sol = run(&text);
    let (m, se) = late_blocks(&sol.averages.stress, 4);
    let (m, se) = (m / (0.3 * gamma0), se / (0.3 * gamma0));
    println!(
        "beta sigma/gamma0 over t >= 25.6: {m:.4} +- {se:.4}; static modulus {target:.4}; \
         Delta_r(40) = {:.4}",
        sol.particle.delta_r[steps]
    );
    assert!((m - target).abs() < 3.0 * se, "{m} +- {se} vs {target}");
}

/// Spec 1.8 item 6 / spec 2 with T != T0: the glass prepared at T0 = 0.3 and quenched to the
/// bath T = 0.2 reaches a plateau of Delta_r equal to the static state-following
/// Delta_r = (A + Delta)/2 = 0.3257 at (T, T0), not the equilibrium value 0.379 of T0.
/// Measured (seed 3, the long runs of [`LONG`]): Delta_r = 0.2741, 0.2976, 0.3124, 0.3224
/// at t = 10, 20, 30, 40 (+- 0.0055 at t = 40), its mean over t = 30-40 0.3150 +- 0.0046,
/// 2.3 standard errors below the state-following value and still rising towards it (the cage
/// opens as a power law; seed 4: 0.3222 over t = 30-40, 0.3259 +- 0.0046 at t = 40); the
/// trapezoid scheme at dt = 0.1 levelled off at 0.282 +- 0.010 (t = 30-40), its cage too
/// small. Passes within 3 jackknife standard errors.
#[test]
#[ignore]
fn quenched_glass_plateau_is_the_state_following_one() {
    let p = static_glass(0.2, 0.0);
    let target = 0.5 * (p.state.a + p.state.delta);
    let (steps, t_max, size) = LONG;
    let dt = t_max / steps as f64;
    let at = |t: f64| (t / dt).round() as usize;
    let sol = run(&glass_seeded(0.2, "", "discrete", steps, t_max, size, 3));
    let d = sol.particle.delta_r.to_vec();
    let d_se = sol.particle_se.delta_r.to_vec();
    println!(
        "Delta_r at t = 10, 20, 30, 40: {:.4} {:.4} {:.4} {:.4} (se at 40: {:.4})",
        d[at(10.0)],
        d[at(20.0)],
        d[at(30.0)],
        d[at(40.0)],
        d_se[at(40.0)]
    );
    let m = window(&d, dt, 30.0, 40.0);
    let se = window(&d_se, dt, 30.0, 40.0);
    println!(
        "Delta_r plateau (t = 30-40) = {m:.4} +- {se:.4}; static (A + Delta)/2 at T = 0.2, \
         T0 = 0.3: {target:.4} (Delta {:.4}, A {:.4})",
        p.state.delta, p.state.a
    );
    assert!((m - target).abs() < 3.0 * se, "{m} +- {se} vs {target}");
}

/// Spec 1.8 item 9 in the glass: after a small step gamma0 = 0.05 (ramp 0.1 at t = 1) on the
/// equilibrium glass (T = T0 = 0.3, dt = 0.1, the trapezoid scheme (N3), with which the numbers
/// below were measured), beta sigma/gamma0 follows the linear response
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
        let strained_config = glass_seeded(0.3, step, "trapezoid", steps, t_max, size, seed);
        let (p, _) = problem(&strained_config);
        let gamma: Vec<f64> = (0..=steps).map(|i| p.model.gamma(p.grid.time(i))).collect();
        let still = run(&glass_seeded(
            0.3,
            "",
            "trapezoid",
            steps,
            t_max,
            size,
            seed,
        ));
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
/// gamma_dot = 0.1 to t = 10 (dt = 0.1, the trapezoid scheme with which it was measured), N = 160000 with splitting, 2 seeds with controls
/// (`dmfe flow`): the steady stress over t = 6.4-10, averaged over the seeds, against the
/// linear response of the same start-up from the controls' kernels (Eq. (L1)), within 3
/// standard errors of the seeds' scatter. Measured (494 s): 0.0662 +- 0.0063 against the
/// linear 0.0707 (with the end-point quadrature of (L1) that overstated it by about
/// F beta gamma_dot (dt/2) M_C0(0) = 0.003; not rerun since); at N = 40000 (3 seeds) the
/// stress was 0.050 +- 0.010.
#[test]
#[ignore]
fn flow_is_newtonian_at_small_rate() {
    let read = flow_example(
        "flow-liquid.toml",
        &[
            "population.size=160000",
            "flow.rates=[0.1]",
            "flow.seeds=2",
            "grid.scheme=trapezoid",
        ],
    );
    let (s, se) = (
        read("flow/stress_over_seeds"),
        read("flow/stress_over_seeds_se"),
    );
    let linear = read("flow/stress_linear");
    println!("flow at gamma_dot = 0.1: stress {s:.4} +- {se:.4}, linear response {linear:.4}");
    assert!((s - linear).abs() < 3.0 * se, "{s} +- {se} vs {linear}");
}

/// The start-up's linear regime at percent accuracy with antithetic pairs: the quickstart
/// liquid sheared at gamma_dot = 0.02 to t = 1 (strain 0.02, dt = 0.02), N = 640000 with
/// splitting, antithetic pairs and the control (`dmfe flow`): the stress averaged over t <= 1
/// against the linear response of the same start-up from the control's kernels (Eq. (L1)),
/// within 3 standard errors, and the error within 2.5%. Measured (45 s on 2 cores):
/// 0.003495 +- 0.000062 (1.8%) against 0.003557 (with the end-point quadrature of (L1),
/// about F beta gamma_dot (dt/2) M_C0(0) = 0.00012 higher than the present one; not rerun); at gamma_dot = 0.1 without antithetic pairs
/// the same population's error was 5.3% (0.01783 +- 0.00094), with them 1.7%.
#[test]
#[ignore]
fn start_up_is_linear_at_small_strain() {
    let read = flow_example(
        "flow-liquid.toml",
        &[
            "population.size=640000",
            "population.antithetic=true",
            "flow.rates=[0.02]",
            "flow.strain=0.02",
            "flow.seeds=1",
            "flow.control=true",
            "grid.t_max=1.0",
            "grid.steps=50",
        ],
    );
    let (s, se, linear) = (
        read("flow/stress"),
        read("flow/stress_se"),
        read("flow/stress_linear"),
    );
    println!("start-up at strain <= 0.02: stress {s:.6} +- {se:.6}, linear response {linear:.6}");
    assert!((s - linear).abs() < 3.0 * se, "{s} +- {se} vs {linear}");
    assert!(se < 0.025 * s, "relative error {}", se / s);
}

/// Runs `dmfe flow` on the example config `runs/NAME` with `--set` overrides in a temporary
/// directory, and returns a reader of the first value (the first rate) of a dataset of its
/// output.
fn flow_example(name: &str, sets: &[&str]) -> impl Fn(&str) -> f64 {
    let read = flow_example_rates(name, sets);
    move |dataset: &str| read(dataset)[0]
}

/// As [`flow_example`], with a reader of a whole dataset (one value per rate).
fn flow_example_rates(name: &str, sets: &[&str]) -> impl Fn(&str) -> Vec<f64> {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/runs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::write(
        dir.path().join("f.toml"),
        std::fs::read_to_string(path).unwrap(),
    )
    .unwrap();
    let mut args = vec!["flow", "f.toml", "-q", "-o", "f.h5"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = common::dmfe(dir.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = hdf5::File::open(dir.path().join("f.h5")).unwrap();
    // The reader keeps the directory (and so the file) alive.
    move |dataset: &str| {
        let _keep = &dir;
        f.dataset(dataset).unwrap().read_raw::<f64>().unwrap()
    }
}

/// One flow-curve point at percent accuracy (issue 15, `runs/flow-point.toml`): the
/// quickstart liquid at gamma_dot = 1 to strain 5, 8 seeds of N = 250000 with splitting and
/// no controls. The seeds' mean stress has a relative error (from their scatter) of at most
/// 2.5%, the point is judged steady, and the scatter agrees with seed 0's own population
/// error (8 seeds estimate a scatter to about 25%, so within a factor 2). Measured (104 s on
/// 2 cores): 0.2462 +- 0.0048; seed 0's error 0.0126, i.e. 0.0045 for 8 seeds.
#[test]
#[ignore]
fn flow_point_at_two_percent() {
    let read = flow_example("flow-point.toml", &[]);
    let (s, se) = (
        read("flow/stress_over_seeds"),
        read("flow/stress_over_seeds_se"),
    );
    let seed0 = read("flow/stress_se");
    let seeds: f64 = 8.0; // flow.seeds of runs/flow-point.toml
    println!(
        "flow point at gamma_dot = 1: stress {s:.4} +- {se:.4} ({:.1}%), seed 0's error {seed0:.4}",
        100.0 * se / s
    );
    assert!(se <= 0.025 * s, "{s} +- {se}");
    assert_eq!(read("flow/steady"), 1.0);
    let ratio = se * seeds.sqrt() / seed0;
    assert!(
        (0.5..2.0).contains(&ratio),
        "scatter / population error = {ratio}"
    );
}

/// A flow-curve point at strain 20 with entrants (issue 15, `runs/flow-strain20.toml`): the
/// same liquid at gamma_dot = 1 to t = 20, 4 seeds of N = 20000 (affine proposal) with
/// splitting and 400 entrants per step. The seeds' mean stress has a relative error of at
/// most 6%, is judged steady, and agrees with the strain-5 point of `runs/flow-point.toml`
/// (0.2462 +- 0.0048) within 3 combined errors. Measured (223 s on 2 cores):
/// 0.2461 +- 0.0108.
#[test]
#[ignore]
fn flow_point_at_strain_twenty_with_entrants() {
    flow_point_matches("flow-strain20.toml", &[], 0.06, (0.2462, 0.0048));
}

/// The Newtonian end of the flow curve with entrants in antithetic twins (issue 15,
/// `runs/flow-newtonian.toml`): the liquid at gamma_dot = 0.02 to t = 16, 128 seeds of
/// N = 20000 with splitting and 200 twins per step. The seeds' mean stress has a relative
/// error of at most 3%, is judged steady, and agrees within 3 combined errors with the linear
/// response of the same start-up from equilibrium kernels, 0.01388 +- 0.00014 (four
/// `dmfe run`s of the config without driving, N = 200000, seeds 1-4; window mean of (L1)).
/// Measured (seeds 100-179, 180-211 and 212-227 in 975 s, 378 s and 184 s on 2 cores):
/// 0.01337 +- 0.00037.
#[test]
#[ignore]
fn flow_is_newtonian_with_entrant_twins() {
    flow_point_matches("flow-newtonian.toml", &[], 0.03, (0.01388, 0.00014));
}

/// Runs the flow example `runs/NAME` with `--set` overrides `sets` and checks its point: the
/// seeds' mean stress has a relative error of at most `relative`, is judged steady, and
/// agrees with `reference` (value, standard error) within 3 combined errors.
fn flow_point_matches(name: &str, sets: &[&str], relative: f64, reference: (f64, f64)) {
    let read = flow_example(name, sets);
    let (s, se) = (
        read("flow/stress_over_seeds"),
        read("flow/stress_over_seeds_se"),
    );
    let (r, r_se) = reference;
    println!(
        "{name}: stress {s:.5} +- {se:.5} ({:.1}%), reference {r} +- {r_se}",
        100.0 * se / s
    );
    assert!(se <= relative * s, "{s} +- {se}");
    assert_eq!(read("flow/steady"), 1.0);
    let z = (s - r).abs() / (se * se + r_se * r_se).sqrt();
    assert!(z < 3.0, "{s} +- {se} against {r} +- {r_se}");
}

/// The shear-thinning part of the flow curve (issue 15, `runs/flow-thinning.toml`): the
/// liquid at gamma_dot = 0.3, 1 and 3 (strains 5, 16.7 and 20), seeds of N = 20000 with 400
/// entrants per step until each rate's error is 3%. Each rate meets the target and is judged
/// steady; gamma_dot = 1 agrees within 3 combined errors with `runs/flow-point.toml`
/// (strain 5, members only: 0.2462 +- 0.0048) and gamma_dot = 3 with N = 80000 members
/// without entrants (8 seeds: 0.3177 +- 0.0065, README "Choosing dt and N"); the local
/// exponents n = dln sigma/dln gamma_dot lie below 1 (shear thinning) and fall with the rate,
/// each by more than 3 errors. Measured (810 s on 2 cores): 0.1260 +- 0.0037 (27 seeds),
/// 0.2379 +- 0.0068 (13), 0.3107 +- 0.0057 (8); exponents 0.53 +- 0.03 and 0.24 +- 0.03.
#[test]
#[ignore]
fn flow_curve_thins_at_three_percent() {
    let rates = [0.3, 1.0, 3.0];
    let (s, se) = flow_curve_at_target("flow-thinning.toml", &rates, 0.03);
    for (i, (r, r_se)) in [(1, (0.2462, 0.0048)), (2, (0.3177, 0.0065))] {
        let z = (s[i] - r).abs() / (se[i] * se[i] + r_se * r_se).sqrt();
        assert!(
            z < 3.0,
            "rate {}: {} +- {} against {r} +- {r_se}",
            rates[i],
            s[i],
            se[i]
        );
    }
    // Local exponents between neighbouring rates (independent seeds at each rate).
    let n: Vec<(f64, f64)> = (0..2)
        .map(|i| {
            let span = (rates[i + 1] / rates[i]).ln();
            let rel = ((se[i] / s[i]).powi(2) + (se[i + 1] / s[i + 1]).powi(2)).sqrt();
            ((s[i + 1] / s[i]).ln() / span, rel / span)
        })
        .collect();
    println!("local exponents: {n:?}");
    assert!(n.iter().all(|&(x, e)| x < 1.0 - 3.0 * e), "{n:?}");
    let drop = n[0].0 - n[1].0;
    assert!(drop > 3.0 * n[0].1.hypot(n[1].1), "{n:?}");
}

/// Where the flow curve leaves the Newtonian line (issue 15, `runs/flow-crossover.toml`):
/// the liquid at gamma_dot = 0.05 and 0.1 to t = 16, seeds of N = 20000 with 200
/// independent entrants per step until each rate's error is 3%. Each rate meets the target
/// and is judged steady; at 0.1 the stress agrees within 3 combined errors with another
/// sampling (the affine proposal to strain 1.6 at MSD reach 2, entry_rate 5, 24 seeds:
/// 0.0568 +- 0.0039), and lies below the linear response of the same start-up,
/// 0.0700 +- 0.0003 (two runs at rest, N = 200000 with splitting, dt = 0.2, window mean of
/// (L1)), by more than 3 errors: the start-up thins. Measured (1298 s on 2 cores):
/// 0.03322 +- 0.00100 (75 seeds) and 0.05939 +- 0.00177 (33).
#[test]
#[ignore]
fn flow_curve_leaves_the_newtonian_line() {
    let (s, se) = flow_curve_at_target("flow-crossover.toml", &[0.05, 0.1], 0.03);
    let (other, other_se) = (0.0568, 0.0039);
    assert!(
        (s[1] - other).abs() < 3.0 * se[1].hypot(other_se),
        "{} +- {}",
        s[1],
        se[1]
    );
    let (linear, linear_se) = (0.0700, 0.0003);
    assert!(
        linear - s[1] > 3.0 * se[1].hypot(linear_se),
        "{} +- {}",
        s[1],
        se[1]
    );
}

/// Runs the flow example `runs/NAME` (with `flow.target_error`) and checks that its rates are
/// `rates`, that each one's mean stress over its seeds has a relative error of at most
/// `target`, and that each is judged steady; returns the means and their errors.
fn flow_curve_at_target(name: &str, rates: &[f64], target: f64) -> (Vec<f64>, Vec<f64>) {
    let read = flow_example_rates(name, &[]);
    let (s, se) = (
        read("flow/stress_over_seeds"),
        read("flow/stress_over_seeds_se"),
    );
    let seeds = read("flow/seeds");
    assert_eq!(read("rate"), rates);
    for i in 0..rates.len() {
        println!(
            "gamma_dot = {}: stress {:.5} +- {:.5} ({:.1}%, {} seeds)",
            rates[i],
            s[i],
            se[i],
            100.0 * se[i] / s[i],
            seeds[i]
        );
        assert!(
            se[i] <= target * s[i],
            "rate {}: {} +- {}",
            rates[i],
            s[i],
            se[i]
        );
    }
    assert!(read("flow/steady").iter().all(|&x| x == 1.0));
    (s, se)
}
