//! Antithetic pairs (population.antithetic): with the same fixed input kernels, the mirrored
//! population estimates the same averages as the plain one (compared over independent
//! seeds, tolerances from the seed scatter), its stress errors at small strain are several
//! times smaller, and its reported standard errors (stratum pairs of pairs) match its seed
//! scatter.

mod common;

use common::fixed::{self, Inputs};
use dmfe::dynamics::population::Averages;

const STEPS: usize = 40;
const SEEDS: u64 = 8;
/// Points where the start-up stress is compared: t = 0.25, 1, 2, 4 (strain 0.0125 - 0.2).
const POINTS: [usize; 4] = [2, 10, 20, 40];

/// A shear start-up at gamma_dot = 0.05 to t = 4 (strain 0.2), gap proposal, splitting.
fn config(antithetic: bool, seed: u64) -> String {
    format!(
        "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\neps = 1.0\n\
         [driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = 0.05\n\
         [grid]\nt_max = 4.0\nsteps = {STEPS}\n[population]\nsize = 8000\nseed = {seed}\n\
         splitting = true\nantithetic = {antithetic}\n[output]\npath = \"unused.h5\"\n"
    )
}

/// The statistics compared, with the pass's own standard error where it reports one.
fn statistics(a: &Averages) -> Vec<(String, f64, f64)> {
    let k = &a.kernels;
    let mut s: Vec<(String, f64, f64)> = POINTS
        .iter()
        .map(|&i| (format!("stress({i})"), a.stress.mean[i], a.stress.se[i]))
        .collect();
    s.extend([
        (
            "energy(late)".into(),
            a.energy.mean[STEPS],
            a.energy.se[STEPS],
        ),
        ("kappa(late)".into(), k.kappa[STEPS], f64::NAN),
        ("M_C(late, late)".into(), k.m_c[[STEPS, STEPS]], f64::NAN),
        ("M_C(late, mid)".into(), k.m_c[[STEPS, STEPS / 2]], f64::NAN),
        ("M_R(late, mid)".into(), k.m_r[[STEPS, STEPS / 2]], f64::NAN),
    ]);
    s
}

#[test]
fn antithetic_pairs_are_unbiased_and_cut_the_stress_noise() {
    let runs = |antithetic: bool| -> Vec<Vec<(String, f64, f64)>> {
        (1..=SEEDS)
            .map(|seed| {
                statistics(&fixed::pass(
                    &config(antithetic, 100 * seed + 3),
                    Inputs::Cage,
                ))
            })
            .collect()
    };
    let (plain, mirrored) = (runs(false), runs(true));
    for i in 0..plain[0].len() {
        let name = &plain[0][i].0;
        let column = |set: &[Vec<(String, f64, f64)>]| {
            let values: Vec<f64> = set.iter().map(|s| s[i].1).collect();
            let reported = set.iter().map(|s| s[i].2).sum::<f64>() / set.len() as f64;
            let (mean, se) = common::mean_se(&values);
            (mean, se, se * (SEEDS as f64).sqrt(), reported)
        };
        let (mp, sp, scatter_p, reported_p) = column(&plain);
        let (ma, sa, scatter_a, reported_a) = column(&mirrored);
        let z = (mp - ma).abs() / (sp * sp + sa * sa).sqrt();
        eprintln!(
            "{name}: plain {mp:.5} +- {sp:.5} (scatter {scatter_p:.5}, reported {reported_p:.5}), \
             antithetic {ma:.5} +- {sa:.5} (scatter {scatter_a:.5}, reported {reported_a:.5}), \
             z = {z:.2}"
        );
        assert!(
            z < 4.0,
            "{name}: plain {mp} +- {sp} vs antithetic {ma} +- {sa}"
        );
        // Measured scatter ratios plain/antithetic: 9.3, 4.2 and 6.4 at t = 0.25, 1, 2 (strain
        // 0.0125-0.1), 1.2 at t = 4 (strain 0.2).
        if ["stress(2)", "stress(10)", "stress(20)"].contains(&name.as_str()) {
            assert!(
                scatter_a < scatter_p / 3.0,
                "{name}: antithetic scatter {scatter_a} vs plain {scatter_p}"
            );
        }
        // The errors from stratum pairs of pairs follow the scatter (measured ratios
        // 0.86-1.8 with 8 seeds); pairing a member with its own twin would report almost
        // nothing for the energy.
        if reported_a.is_finite() && name != "stress(40)" {
            let ratio = reported_a / scatter_a;
            assert!(
                (0.5..2.5).contains(&ratio),
                "{name}: reported {reported_a} vs scatter {scatter_a}"
            );
        }
    }
}
