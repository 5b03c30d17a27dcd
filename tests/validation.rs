//! Heavy validation runs, ignored by default; `scripts/validate.sh` runs them
//! (`cargo test --release --test validation -- --ignored --nocapture`), several minutes on
//! 2 cores. They print the measured residuals that the closing notes quote.

mod common;

use common::{mean_se, run};
use dmfe::dynamics::Solution;
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
        let text = glass(0.3, "", steps, 5.0, 3).replace("size = 20000", "size = 500000");
        let sol = run(&text);
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
/// t <= `t_max` with `steps` steps, `extra` TOML appended.
fn glass(t: f64, extra: &str, steps: usize, t_max: f64, seed: u64) -> String {
    format!(
        "[model]\nphi_hat = 10.0\nT = {t}\nT0 = 0.3\n[potential]\nkind = \"harmonic\"\n\
         eps = 1.0\n[grid]\nt_max = {t_max}\nsteps = {steps}\n[population]\nsize = 20000\n\
         seed = {seed}\n[solver]\ndamping = 0.5\n[output]\npath = \"v.h5\"\n{extra}"
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

/// Spec 1.8 item 6: the plateau of beta sigma after a small step gamma0 = 0.2 (ramp 0.1 at
/// t = 1) on the equilibrium glass (T = T0 = 0.3) against the static sigma_hat(0.2), at
/// dt = 0.1 and 0.05. Per seed (4 seeds, N = 20000) the unstrained run with the same
/// members is subtracted (its stress is zero on average), which removes most of the noise;
/// the standard error is over seeds. The glass approaches its plateau slowly (Delta_r is at
/// 0.30 of Delta_eq = 0.379 at t = 6, 0.36 at t = 12, whatever dt), so the plateau is the
/// average over t = 15-20; t = 4-6 is printed too. The convected stress of Eq. (24) is
/// printed alongside. Measured: 0.624 +- 0.067 (dt = 0.1) and 0.578 +- 0.025 (dt = 0.05)
/// against 0.4953, convected 1.29 +- 0.03: this test FAILS today (3.4 standard errors), the
/// long-time glass dynamics being too noisy and not time-translation invariant.
#[test]
#[ignore]
fn glass_step_strain_plateau_is_the_static_stress() {
    let (gamma0, t_max) = (0.2, 20.0);
    let target = static_glass(0.3, gamma0).eval.sigma;
    let step = "[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = 0.2\nt_step = 1.0\n\
                ramp = 0.1\n";
    let mut last = None;
    for steps in [200, 400] {
        let dt = t_max / steps as f64;
        let (mut plateau, mut early, mut conv) = (Vec::new(), Vec::new(), Vec::new());
        for seed in 1..=4 {
            let still = run(&glass(0.3, "", steps, t_max, seed));
            let strained = run(&glass(0.3, step, steps, t_max, seed));
            let d = |f: &dyn Fn(&Solution) -> Vec<f64>, a: f64, b: f64| -> f64 {
                let (x, y) = (f(&strained), f(&still));
                let diff: Vec<f64> = x.iter().zip(&y).map(|(x, y)| (x - y) / 0.3).collect();
                window(&diff, dt, a, b)
            };
            let stress = |s: &Solution| s.averages.stress.mean.to_vec();
            plateau.push(d(&stress, 15.0, 20.0));
            early.push(d(&stress, 4.0, 6.0));
            conv.push(d(
                &|s| s.averages.stress_convected.mean.to_vec(),
                15.0,
                20.0,
            ));
            let dr = &still.particle.delta_r;
            println!(
                "dt = {dt}, seed {seed}: Delta_r(6, 12, 20) = {:.4} {:.4} {:.4}",
                dr[(6.0 / dt) as usize],
                dr[(12.0 / dt) as usize],
                dr[steps]
            );
        }
        let (m, se) = mean_se(&plateau);
        let (e, e_se) = mean_se(&early);
        let (c, c_se) = mean_se(&conv);
        println!(
            "dt = {dt}: beta sigma over t = 15-20: {m:.4} +- {se:.4} (t = 4-6: {e:.4} +- {e_se:.4}); \
             static sigma_hat({gamma0}) = {target:.4}; convected (t = 15-20) {c:.4} +- {c_se:.4}"
        );
        last = Some((m, se));
    }
    let (m, se) = last.unwrap();
    assert!((m - target).abs() < 3.0 * se, "{m} +- {se} vs {target}");
}

/// Spec 1.8 item 6 / spec 2 with T != T0: the glass prepared at T0 = 0.3 and quenched to the
/// bath T = 0.2 reaches a plateau of Delta_r equal to the static state-following
/// Delta_r = (A + Delta)/2 at (T, T0), not the equilibrium value of T0 (printed with the
/// plateau, the average over t = 15-20, 4 seeds, dt = 0.1). Measured: 0.278 +- 0.010
/// against 0.3257 (Delta_eq at T0: 0.379), Delta_r still rising at t = 20: this test FAILS
/// today, for the same reason as the step-strain plateau.
#[test]
#[ignore]
fn quenched_glass_plateau_is_the_state_following_one() {
    let p = static_glass(0.2, 0.0);
    let target = 0.5 * (p.state.a + p.state.delta);
    let eq = static_glass(0.3, 0.0).state.delta;
    let (steps, t_max) = (400, 20.0);
    let dt = t_max / steps as f64;
    let at = |t: f64| (t / dt).round() as usize;
    let mut plateau = Vec::new();
    for seed in 1..=4 {
        let sol = run(&glass(0.2, "", steps, t_max, seed));
        let d = sol.particle.delta_r.to_vec();
        println!(
            "seed {seed}: Delta_r at t = 2, 5, 10, 15, 20: {:.4} {:.4} {:.4} {:.4} {:.4}",
            d[at(2.0)],
            d[at(5.0)],
            d[at(10.0)],
            d[at(15.0)],
            d[at(20.0)]
        );
        plateau.push(window(&d, dt, 15.0, 20.0));
    }
    let (m, se) = mean_se(&plateau);
    println!(
        "Delta_r plateau (t = 15-20) = {m:.4} +- {se:.4}; static (A + Delta)/2 at T = 0.2, \
         T0 = 0.3: {target:.4} (Delta {:.4}, A {:.4}); equilibrium Delta at T0: {eq:.4}",
        p.state.delta, p.state.a
    );
    assert!(
        (m - target).abs() < 3.0 * se + 0.02 * target,
        "{m} +- {se} vs {target}"
    );
}
