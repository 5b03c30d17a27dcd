//! The stress and the pressures (docs/equations.md, "Observables"): the work-conjugate stress
//! sigma = sqrt(F) E_w[(g_c c_u + gamma_eff c_u^2) v'] against the Born modulus, the work
//! done by the strain, the relaxation of a liquid and the linear response
//! sigma(t) = gamma0 F beta M_C(t - t_s); and the convected stress of the paper's Eq. (24)
//! failing the checks that the stress passes. Tolerances are multiples of standard errors
//! measured by the solver (one run) or over seeds (several), plus the stated O(gamma0^2)
//! nonlinearity where it enters.

mod common;

use common::{liquid, liquid_seeded, mean_se, problem, run};
use dmfe::dynamics::Solution;
use dmfe::flow::linear_stress;

const BETA: f64 = 2.0;

/// A strain step of `gamma0` completed within one grid step of dt = 0.01: gamma = 0 at
/// t = 0.05 (index 5) and gamma0 at t = 0.06 (index 6), on t <= 0.2.
fn instantaneous_step(kind: &str, gamma0: f64) -> String {
    format!(
        "[driving]\n{kind}\nschedule = \"step\"\ngamma0 = {gamma0}\nt_step = 0.0505\n\
         ramp = 0.009\n"
    )
}

/// The strain gamma(t_i) of a config's protocol at grid points `i`.
fn strains(text: &str, i: &[usize]) -> Vec<f64> {
    let (p, _) = problem(text);
    i.iter().map(|&i| p.model.gamma(p.grid.time(i))).collect()
}

/// Spec 1.8 item 9 at t = t_s: an instantaneous step gamma0 on the equilibrium liquid gives
/// the Born stress sigma = gamma0 F kappa_eq (first order in gamma0: the affine shift
/// gamma_eff g_c c_u + gamma_eff^2 c_u^2/2 expanded in sqrt(F) E_w[(g_c c_u + gamma_eff c_u^2) v']
/// gives gamma F E_w[v'' + v'] = gamma F kappa), for shear (F = 1) and for random
/// displacements (F = 0.25, gamma0 = 0.2: the same gamma_eff = 0.1). The convected stress
/// gives gamma0 F (kappa + P) instead, 45% more, which the test also rules out.
/// Tolerance: 4 standard errors plus 1% for the O(gamma0^2) terms. The first point after a
/// jump also carries an O(dt) deficit, the gap's response within the step that holds the
/// jump (measured in the stiffer glass of tests/validation.rs: 5.2 +- 1.0% at dt = 0.01,
/// 2.5 +- 0.6% at dt = 0.005); in this liquid it is inside the standard error (4.7%).
#[test]
fn born_modulus_is_f_kappa() {
    let n = 100_000;
    for (kind, gamma0, f) in [
        ("kind = \"shear\"", 0.1, 1.0),
        ("kind = \"random_displacements\"\nf = 0.25", 0.2, 0.25),
    ] {
        let text = liquid(&instantaneous_step(kind, gamma0), n, 20, 0.2);
        let g = strains(&text, &[5, 6]);
        assert_eq!(
            (g[0], g[1]),
            (0.0, gamma0),
            "{kind}: the step is not one grid step"
        );
        let sol = run(&text);
        let av = &sol.averages;
        let kappa = sol.kernels.kappa[5];
        let (s, se) = (av.stress.mean[6], av.stress.se[6]);
        let born = gamma0 * f * kappa;
        let convected = av.stress_convected.mean[6];
        let p = av.pressure.mean[5];
        println!(
            "{kind}: sigma = {s:.5} +- {se:.5}; gamma0 F kappa = {born:.5} \
             (gamma0 F beta M_C(0,0) = {:.5}); convected {convected:.5} +- {:.5} \
             vs gamma0 F (kappa + P) = {:.5}",
            gamma0 * f * BETA * sol.kernels.m_c[[0, 0]],
            av.stress_convected.se[6],
            gamma0 * f * (kappa + p)
        );
        assert!(se < 0.1 * born, "{kind}: standard error {se} too large");
        assert!(
            (s - born).abs() < 4.0 * se + 0.01 * born,
            "{kind}: Born stress {s} +- {se} vs gamma0 F kappa = {born}"
        );
        assert!(
            (convected - born).abs() > 4.0 * av.stress_convected.se[6],
            "{kind}: the convected stress {convected} cannot be told from {born}"
        );
    }
}

/// Spec 1.8 item 7: across a strain ramp of one step (much faster than the relaxation) the
/// energy jump equals the work, e(t6) - e(t5) = (sigma(t5) + sigma(t6))/2 gamma0
/// (trapezoid), while the convected stress of Eq. (24) gives gamma0^2 F P/2 too much.
/// The jump and the work are computed from the same members, so their difference is far less
/// noisy than either; its standard error is measured over 8 seeds. An unstrained run with
/// the same seed removes the scheme's own energy drift over that step.
#[test]
fn work_of_a_fast_strain_is_the_energy_jump() {
    let gamma0 = 0.1;
    let step = instantaneous_step("kind = \"shear\"", gamma0);
    let (mut gap, mut gap24, mut jumps) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 1..=8 {
        let strained = run(&liquid_seeded(&step, 25_000, 20, 0.2, seed));
        let still = run(&liquid_seeded("", 25_000, 20, 0.2, seed));
        let e = |s: &Solution| s.averages.energy.mean[6] - s.averages.energy.mean[5];
        let jump = e(&strained) - e(&still);
        let av = &strained.averages;
        let work = 0.5 * (av.stress.mean[5] + av.stress.mean[6]) * gamma0;
        let work24 = 0.5 * (av.stress_convected.mean[5] + av.stress_convected.mean[6]) * gamma0;
        jumps.push(jump);
        gap.push(jump - work);
        gap24.push(jump - work24);
    }
    let (j, j_se) = mean_se(&jumps);
    let (d, d_se) = mean_se(&gap);
    let (d24, d24_se) = mean_se(&gap24);
    println!(
        "energy jump {j:.6} +- {j_se:.6}; jump - int sigma = {d:.6} +- {d_se:.6}; \
         jump - int sigma_24 = {d24:.6} +- {d24_se:.6}"
    );
    assert!(j > 10.0 * j_se, "no measurable energy jump: {j} +- {j_se}");
    assert!(
        d.abs() < 3.0 * d_se,
        "work {d} +- {d_se} off the energy jump"
    );
    assert!(
        d24.abs() > 5.0 * d24_se,
        "the convected stress passes the work check too: {d24} +- {d24_se}"
    );
}

/// Spec 1.8 item 8 on `runs/step-strain.toml` (gamma0 = 0.5 over a ramp of 0.04 at t = 0.5,
/// N = 40000, t <= 3, importance splitting, which keeps its late times light-tailed: the
/// heaviest member family carries 1.7% of M_C(t,t), against 19% without):
/// over t = 2.5-3 the stress has relaxed to below 30% of its peak, while the convected stress
/// keeps more than 60% of gamma0 F P_eq (P_eq the pressure before the step), each by 3
/// standard errors (the mean of the pointwise errors bounds that of the time average).
/// Not to zero: 2-2.5 time units after the step the linear response gamma0 F beta
/// M_C(t - t_s) is still 0.03-0.04 (measured: sigma = 0.030 +- 0.009 against a peak of
/// 0.21; sigma_24 = 0.179 +- 0.013 against gamma0 F P_eq = 0.138). The relaxation to zero
/// itself is the long-time limit, checked through the linear response in
/// `stress_is_the_linear_response_beta_m_c`.
#[test]
fn liquid_stress_relaxes_after_a_step() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runs/step-strain.toml"
    ))
    .expect("example config");
    let sol = run(&text);
    let av = &sol.averages;
    let n = av.stress.mean.len();
    let late = (n * 5 / 6)..n;
    let window_mean = |v: &ndarray::Array1<f64>| {
        v.slice(ndarray::s![late.clone()])
            .mean()
            .expect("non-empty")
    };
    let (s, s_se) = (window_mean(&av.stress.mean), window_mean(&av.stress.se));
    let (s24, s24_se) = (
        window_mean(&av.stress_convected.mean),
        window_mean(&av.stress_convected.se),
    );
    let before = 20..25; // t = 0.4-0.5
    let p_eq = av
        .pressure
        .mean
        .slice(ndarray::s![before])
        .mean()
        .expect("non-empty");
    let peak = av.stress.mean.iter().cloned().fold(0.0, f64::max);
    let gamma0 = 0.5;
    println!(
        "peak stress {peak:.4}; over t = 2.5-3: sigma = {s:.4} +- {s_se:.4}, \
         sigma_24 = {s24:.4} +- {s24_se:.4}, gamma0 F P_eq = {:.4}",
        gamma0 * p_eq
    );
    assert!(
        s + 3.0 * s_se < 0.3 * peak,
        "stress does not relax: {s} +- {s_se}, peak {peak}"
    );
    assert!(
        s24 - 3.0 * s24_se > 0.6 * gamma0 * p_eq,
        "convected stress relaxes too: {s24} +- {s24_se} vs gamma0 F P = {}",
        gamma0 * p_eq
    );
}

/// Spec 1.8 item 9, linear response over the whole relaxation. On the equilibrium liquid
/// (dt = 0.02, t <= 2), per seed: an unstrained run, a small instantaneous step gamma0 = 0.05
/// completed at t_s = 0.32, and a start-up at gamma_dot = 0.05 from t = 0, all with the same
/// members. With the unstrained stress (zero on average) subtracted, the response of one
/// seed is nearly free of Monte-Carlo noise; its standard error is measured over 6 seeds.
/// Predictions from the unstrained run's kernels (linear response, Boltzmann superposition of
/// the discrete strain increments dgamma_j applied at t_j):
///   step:     sigma(t) = gamma0 F beta M_C(t, t_s);
///   start-up: sigma(t_i) = F beta sum_{j <= i} dgamma_j M_C(t_i, t_j),
/// which tends to F gamma_dot eta with the Green-Kubo viscosity eta = beta int M_C.
/// Checked at every t within 5 standard errors (the standard error itself comes from 6 seeds:
/// 5 degrees of freedom) plus a bias of 3% of the Born value gamma0 F kappa (step), resp. of
/// the prediction (start-up), for the O(dt) scheme. Measured: the largest deviation is 0.7 of
/// that tolerance; up to t = 1.6 every point is within 1.2 standard errors. At t = 1.8 and 2.0
/// the step response lies -0.00238 +- 0.00073 and -0.00158 +- 0.00040 below beta M_C at this
/// N = 20000; at N = 100000 (6 seeds, same runs otherwise) -0.00009 +- 0.00062 and
/// -0.00023 +- 0.00036: a deficit of the finite population, as in the glass, not of (L1).
#[test]
fn stress_is_the_linear_response_beta_m_c() {
    let (gamma0, seeds) = (0.05, 6);
    let step = "[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = 0.05\n\
                t_step = 0.3005\nramp = 0.018\n";
    let startup = "[driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = 0.05\n";
    let (steps, t_max, s_idx) = (100, 2.0, 16);
    let g = strains(&liquid(step, 100, steps, t_max), &[s_idx - 1, s_idx]);
    assert_eq!((g[0], g[1]), (0.0, gamma0), "the step is not one grid step");
    let gamma_rate = strains(
        &liquid(startup, 100, steps, t_max),
        &(0..=steps).collect::<Vec<_>>(),
    );
    let n = steps + 1;
    let (mut step_dev, mut rate_dev) = (vec![Vec::new(); n], vec![Vec::new(); n]);
    let (mut step_pred, mut rate_pred) = (vec![0.0; n], vec![0.0; n]);
    for seed in 1..=seeds {
        let still = run(&liquid_seeded("", 20_000, steps, t_max, seed));
        let stepped = run(&liquid_seeded(step, 20_000, steps, t_max, seed));
        let sheared = run(&liquid_seeded(startup, 20_000, steps, t_max, seed));
        let m_c = &still.kernels.m_c;
        let s0 = &still.averages.stress.mean;
        let linear = linear_stress(1.0, 1.0 / BETA, &gamma_rate, m_c);
        for i in 0..n {
            let sp = if i >= s_idx {
                gamma0 * BETA * m_c[[i, s_idx]]
            } else {
                0.0
            };
            let rp = linear[i];
            step_dev[i].push(stepped.averages.stress.mean[i] - s0[i] - sp);
            rate_dev[i].push(sheared.averages.stress.mean[i] - s0[i] - rp);
            step_pred[i] += sp / seeds as f64;
            rate_pred[i] += rp / seeds as f64;
        }
    }
    let born = step_pred[s_idx];
    let mut worst = (0.0f64, 0.0f64);
    for i in 1..n {
        let (ds, ds_se) = mean_se(&step_dev[i]);
        let (dr, dr_se) = mean_se(&rate_dev[i]);
        if i % 10 == 0 || i == s_idx {
            println!(
                "t = {:.2}: step {:.5} (pred {:.5}) dev {ds:+.5} +- {ds_se:.5}; \
                 start-up {:.5} (pred {:.5}) dev {dr:+.5} +- {dr_se:.5}",
                i as f64 * 0.02,
                step_pred[i] + ds,
                step_pred[i],
                rate_pred[i] + dr,
                rate_pred[i]
            );
        }
        let zs = ds.abs() / (5.0 * ds_se + 0.03 * born);
        let zr = dr.abs() / (5.0 * dr_se + 0.03 * rate_pred[i].abs());
        worst = (worst.0.max(zs), worst.1.max(zr));
    }
    println!(
        "largest |deviation| / tolerance: step {:.3}, start-up {:.3}",
        worst.0, worst.1
    );
    assert!(worst.0 < 1.0, "step response off beta M_C");
    assert!(worst.1 < 1.0, "start-up off the Green-Kubo convolution");
}

/// The relative residual of the equilibrium friction identity (docs/equations.md,
/// "Viscosity"), zeta_hat D(t) + beta int_0^t M_C(t, s) D(s) ds = T with D = dDelta_r/dt,
/// at grid points 1..n of one solution, with the memory term scaled by `memory` (1: the
/// identity; other values show what the check resolves). Centred differences for D,
/// trapezoids for the integral: O(dt^2).
fn friction_residual(sol: &Solution, dt: f64, memory: f64) -> Vec<f64> {
    let (d, m_c) = (&sol.particle.delta_r, &sol.kernels.m_c);
    let n = d.len();
    let slope: Vec<f64> = (0..n)
        .map(|i| match i {
            0 => (-3.0 * d[0] + 4.0 * d[1] - d[2]) / (2.0 * dt),
            i if i == n - 1 => (3.0 * d[i] - 4.0 * d[i - 1] + d[i - 2]) / (2.0 * dt),
            i => (d[i + 1] - d[i - 1]) / (2.0 * dt),
        })
        .collect();
    (1..n)
        .map(|i| {
            let integral: f64 = (0..=i)
                .map(|j| {
                    let w = if j == 0 || j == i { 0.5 } else { 1.0 };
                    w * m_c[[i, j]] * slope[j]
                })
                .sum::<f64>()
                * dt;
            (slope[i] + memory * BETA * integral) * BETA - 1.0
        })
        .collect()
}

/// Spec 1.8 item 9, viscosity from diffusion: in equilibrium the particle obeys a
/// generalised Langevin equation with friction zeta_hat delta(t) + beta M_C(t) (M_R =
/// beta dM_C/ds makes kappa cancel), whose MSD satisfies at every t
///     zeta_hat D(t) + beta int_0^t M_C(t - s) D(s) ds = T,   D = dDelta_r/dt;
/// as t -> infinity this is eta = beta int M_C = zeta_hat (D0/D - 1), D0 = T/zeta_hat.
/// Delta_r comes from the particle equation (kappa, M_R), M_C from the population: the check
/// ties them. Liquid of tests/common (zeta_hat = 1, T = 0.5), t <= 2, 6 seeds of N = 20000:
/// the residual averaged over t in (0, 2] must vanish within 4 standard errors over seeds,
/// and the check must resolve a memory term off by 30% (the same average then exceeds 4
/// standard errors) and the memory term's absence (residual -0.31 at t = 2). Measured: mean
/// residual +0.011 +- 0.009; memory x 0.7: -0.054 +- 0.008 (x 0.85: -0.021 +- 0.009, not
/// resolved at this N); the limit values, beta int_0^2 M_C = 0.388 +- 0.007 and
/// zeta_hat (D0/D(2) - 1) = 0.45 +- 0.04, still differ at t = 2 (the tail of M_C).
#[test]
fn diffusion_and_green_kubo_viscosity_agree() {
    let (steps, t_max, seeds) = (100, 2.0, 6);
    let dt = t_max / steps as f64;
    let (mut exact, mut off, mut none, mut late) = (vec![], vec![], vec![], vec![]);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for seed in 1..=seeds {
        let sol = run(&liquid_seeded("", 20_000, steps, t_max, seed));
        exact.push(mean(&friction_residual(&sol, dt, 1.0)));
        off.push(mean(&friction_residual(&sol, dt, 0.7)));
        let bare = friction_residual(&sol, dt, 0.0);
        none.push(bare[steps - 1]);
        let m_c = &sol.kernels.m_c;
        let gk = BETA
            * dt
            * (0..=steps)
                .map(|j| if j == 0 || j == steps { 0.5 } else { 1.0 } * m_c[[steps, j]])
                .sum::<f64>();
        late.push(gk);
    }
    let (r, r_se) = mean_se(&exact);
    let (r_off, r_off_se) = mean_se(&off);
    let (r_none, _) = mean_se(&none);
    let (gk, gk_se) = mean_se(&late);
    println!(
        "friction identity: mean residual {r:+.4} +- {r_se:.4}; memory x 0.7: {r_off:+.4} +- \
         {r_off_se:.4}; no memory at t = 2: {r_none:+.4}; beta int_0^2 M_C = {gk:.4} +- {gk_se:.4}"
    );
    assert!(r.abs() < 4.0 * r_se, "identity off: {r} +- {r_se}");
    assert!(
        r_off.abs() > 4.0 * r_off_se,
        "a 30% memory error not resolved"
    );
    assert!(r_none < -0.15, "the memory term not resolved: {r_none}");
}
