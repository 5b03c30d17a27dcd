//! Entrants (docs/equations.md, "Entrants") are unbiased and lower the late noise: with the
//! same input kernels, split populations with and without entrants estimate the same
//! one-time observables, M_C and M_R (compared over independent seeds, tolerances from the
//! seed scatter), in a diffusing liquid, in a cage and in a liquid under shear; in the liquid
//! at rest the late kernels scatter several times less with entrants.

mod common;

use common::fixed::{self, Inputs};
use dmfe::dynamics::population::Averages;

const STEPS: usize = 80;
const SEEDS: u64 = 8;

/// A shear start-up at `rate` to t = 16, members drawn by the affine proposal reaching its
/// strain (the gap proposal alone loses the contacts beyond gamma ~ 2).
fn shear(rate: f64) -> (String, String) {
    (
        format!("[driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = {rate}\n"),
        format!("strain_reach = {}\n", 16.0 * rate),
    )
}

/// The liquid's config on 80 steps to t = 16, sheared at `rate` unless it is zero.
fn config(size: usize, entrants: usize, seed: u64, rate: f64) -> String {
    let (driving, reach) = if rate > 0.0 {
        shear(rate)
    } else {
        (String::new(), String::new())
    };
    format!(
        "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\neps = 1.0\n\
         [grid]\nt_max = 16.0\nsteps = {STEPS}\n[population]\nsize = {size}\nseed = {seed}\n\
         splitting = true\nentrants = {entrants}\n{reach}[output]\npath = \"unused.h5\"\n{driving}"
    )
}

type Compared = Vec<(&'static str, [(f64, f64); 2])>;

/// The statistics of `fixed::statistics` over the seeds, without and with `entrants` per
/// step, for `size` members, asserting that they agree within 4 standard errors.
fn compare(inputs: Inputs, rate: f64, size: usize, entrants: usize) -> Compared {
    let runs = |e: usize| -> Vec<Averages> {
        (1..=SEEDS)
            .map(|seed| fixed::pass(&config(size, e, 100 * seed + 7, rate), inputs))
            .collect()
    };
    let compared = fixed::compare(&runs(0), &runs(entrants), STEPS);
    for (name, [(mp, sp), (me, se)]) in &compared {
        let z = (mp - me).abs() / (sp * sp + se * se).sqrt();
        eprintln!(
            "gamma_dot {rate}, N = {size}: {name}: without {mp:.5} +- {sp:.5}, \
             with {me:.5} +- {se:.5}, z = {z:.2}"
        );
        assert!(z < 4.0, "{name}: without {mp} +- {sp}, with {me} +- {se}");
    }
    compared
}

/// In a diffusing liquid the late M_C(t, t) and energy scatter several times less with 160
/// entrants per step (12800 in all, on top of 6000 members; measured: 2.6x and 2.6x for 1.8
/// times the work), and both populations agree on every statistic.
#[test]
fn entrants_lower_the_late_noise_in_a_liquid() {
    for (name, [(_, sp), (_, se)]) in compare(Inputs::Liquid, 0.0, 6000, 160) {
        if name == "M_C(late, late)" || name == "e(late)" {
            assert!(se < sp / 1.6, "{name}: scatter {se} with, {sp} without");
        }
    }
}

/// A hand-over rate that rises over the first 4 time units (`population.entry_ramp`) keeps
/// every statistic of the diffusing liquid unbiased: the populations with 160 entrants per
/// step and the ramp and without entrants agree.
#[test]
fn a_rising_hand_over_is_unbiased() {
    let runs = |entrants: usize| -> Vec<Averages> {
        (1..=SEEDS)
            .map(|seed| {
                let text = config(6000, entrants, 100 * seed + 13, 0.0)
                    .replace("splitting = true\n", "splitting = true\nentry_ramp = 4.0\n");
                fixed::pass(&text, Inputs::Liquid)
            })
            .collect()
    };
    for (name, [(mp, sp), (me, se)]) in fixed::compare(&runs(0), &runs(160), STEPS) {
        let z = (mp - me).abs() / (sp * sp + se * se).sqrt();
        eprintln!("ramp: {name}: without {mp:.5} +- {sp:.5}, with {me:.5} +- {se:.5}, z = {z:.2}");
        assert!(z < 4.0, "{name}: without {mp} +- {sp}, with {me} +- {se}");
    }
}

/// In a cage, where the population drawn at t = 0 is reliable, at rest and sheared to strain
/// 4, the populations with and without entrants agree on every statistic. (In the sheared
/// liquid the population without entrants is heavy-tailed at these sizes: its late energy
/// came out 0.052 +- 0.013, 0.119 +- 0.005 and 0.097 +- 0.008 at N = 6000, 24000 and 48000,
/// against 0.110 +- 0.017, 0.093 +- 0.006 and 0.092 +- 0.004 with 40 entrants per step.)
#[test]
fn entrants_are_unbiased_in_a_cage() {
    compare(Inputs::Cage, 0.0, 6000, 40);
    compare(Inputs::Cage, 0.25, 6000, 40);
}

/// In the liquid sheared to strain 20 (gamma_dot = 1.25, 0.25 per step), with the members on
/// the affine proposal as the warning asks, the populations with and without entrants agree
/// on every statistic (measured: the energy's scatter 3.5x, 3.3x and 1.7x smaller early,
/// midway and late with 400 entrants per step).
#[test]
fn entrants_are_unbiased_in_a_sheared_liquid() {
    compare(Inputs::Liquid, 1.25, 20000, 400);
}

/// The free fluctuation has twice the particle's variance (docs/equations.md (J1): the pair's
/// linear part is the particle's, with twice its noise), v(t) = 2 Delta_r(t), to rounding, in
/// both schemes: the free map and the particle solver read the same step responses, noise
/// factor and white force.
#[test]
fn free_variance_is_twice_the_msd() {
    use dmfe::dynamics::entry::FreeMap;
    use dmfe::dynamics::particle::{solve_particle, step_responses};
    use dmfe::linalg::cholesky_regularised;
    for scheme in ["discrete", "trapezoid"] {
        let text = config(2, 0, 1, 0.0).replace(
            "steps = 80\n",
            &format!("steps = 80\nscheme = \"{scheme}\"\n"),
        );
        let (problem, _) = common::problem(&text);
        let (model, grid) = (&problem.model, &problem.grid);
        let n = grid.len();
        let k = fixed::kernels(Inputs::Liquid, n, grid.dt);
        let (chol, shift) = cholesky_regularised(k.m_c.view()).unwrap();
        assert_eq!(shift, 0.0);
        let white = (2.0 * model.temperature * model.zeta_hat / grid.dt).sqrt();
        let (_, s) = step_responses(model, grid, &k, n);
        let map = FreeMap::new(s.view(), chol.view(), grid.dt, white);
        let particle = solve_particle(model, grid, &k, n);
        for t in 0..n {
            let (v, d) = (map.variance(t), particle.delta_r[t]);
            assert!(
                (v - 2.0 * d).abs() <= 1e-10 * (1.0 + d),
                "{scheme} {t}: {v} {d}"
            );
        }
    }
}

/// At a small rate (gamma_dot = 0.02 to strain 0.32, gap proposal, 40 entrants per step),
/// entrants in antithetic twins (docs/equations.md, "Entrants") estimate the same averages as
/// independent ones, and the steady stress (mean over the last quarter of the run) scatters
/// at least 6 times less (measured: 0.00103 against 0.0108, 10.5x; 5.1x when the weight
/// windows decided twins on the geometric mean of their weights).
#[test]
fn entrant_twins_cut_the_stress_noise_at_a_small_rate() {
    const RATE: f64 = 0.02;
    let runs = |antithetic: bool| -> Vec<Averages> {
        (1..=SEEDS)
            .map(|seed| {
                let text = config(6000, 40, 100 * seed + 11, RATE).replace(
                    &format!("strain_reach = {}\n", 16.0 * RATE),
                    &format!("antithetic = {antithetic}\n"),
                );
                fixed::pass(&text, Inputs::Liquid)
            })
            .collect()
    };
    let (plain, twins) = (runs(false), runs(true));
    for (name, [(mp, sp), (mt, st)]) in fixed::compare(&plain, &twins, STEPS) {
        let z = (mp - mt).abs() / (sp * sp + st * st).sqrt();
        eprintln!("{name}: independent {mp:.5} +- {sp:.5}, twins {mt:.5} +- {st:.5}, z = {z:.2}");
        assert!(
            z < 4.0,
            "{name}: independent {mp} +- {sp}, twins {mt} +- {st}"
        );
    }
    let window = |set: &[Averages]| {
        common::mean_se(
            &set.iter()
                .map(|a| {
                    let w = &a.stress.mean.as_slice().unwrap()[3 * STEPS / 4..];
                    w.iter().sum::<f64>() / w.len() as f64
                })
                .collect::<Vec<_>>(),
        )
    };
    let ((mp, sp), (mt, st)) = (window(&plain), window(&twins));
    let z = (mp - mt).abs() / (sp * sp + st * st).sqrt();
    eprintln!(
        "steady stress: independent {mp:.5} +- {sp:.5}, twins {mt:.5} +- {st:.5}, z = {z:.2}"
    );
    assert!(z < 4.0);
    assert!(st < sp / 6.0, "scatter {st} with twins, {sp} without");
}
