//! How many independent seeds a rate of a flow curve gets: a fixed number (`flow.seeds`),
//! or, with `flow.target_error`, as many as the steady stress needs for that relative
//! standard error over the seeds, from `flow.seeds` (the pilot that first estimates the
//! scatter) up to `flow.max_seeds`.
//!
//! The rule is sequential: after each seed beyond the pilot the mean and the standard error
//! of the seeds' scatter are recomputed, and the rate stops once se <= target x |mean|.
//! The stopping time depends on the seeds' values, so the mean is not exactly unbiased: its
//! bias is of second order in the relative error (a run that happens to have a large mean
//! stops a little earlier). `tests` measures it on Gaussian samples: below a tenth of the
//! standard error at the targets a flow curve uses.

use super::point::Seeds;

/// The number of seeds of one rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedBudget {
    /// Seeds always run (the pilot, with a target).
    pub min: usize,
    /// Relative standard error of the mean stress at which a rate stops (None: `min` seeds).
    pub target: Option<f64>,
    /// Seeds never exceeded.
    pub max: usize,
}

impl SeedBudget {
    /// Exactly `seeds` seeds.
    pub fn fixed(seeds: usize) -> Self {
        SeedBudget {
            min: seeds,
            target: None,
            max: seeds,
        }
    }

    /// Whether the seeds' steady stresses `values` (in the order they were run) are enough.
    pub fn enough(&self, values: &[f64]) -> bool {
        let n = values.len();
        if n < self.min {
            return false;
        }
        if n >= self.max {
            return true;
        }
        self.target
            .is_none_or(|target| Self::relative_error(values) <= target)
    }

    /// The standard error of the seeds' mean over its magnitude (infinite below two seeds
    /// or for a zero mean).
    pub fn relative_error(values: &[f64]) -> f64 {
        let (mean, se) = Seeds::mean_se(values);
        if se.is_finite() && mean != 0.0 {
            se / mean.abs()
        } else {
            f64::INFINITY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Fixed budgets stop at their count; a target stops at the first seed beyond the pilot
    /// whose scatter meets it, and never beyond max.
    #[test]
    fn stops_at_the_target_or_the_cap() {
        let fixed = SeedBudget::fixed(3);
        assert!(!fixed.enough(&[1.0, 1.0]));
        assert!(fixed.enough(&[1.0, 1.0, 1.0]));
        let budget = SeedBudget {
            min: 4,
            target: Some(0.05),
            max: 6,
        };
        // Identical values meet any target, but not before the pilot is complete.
        assert!(!budget.enough(&[2.0; 3]));
        assert!(budget.enough(&[2.0; 4]));
        // Mean 1, se = 0.1/sqrt(4) * sqrt(4/3) = 0.0577 > 0.05: one more seed.
        let four = [0.9, 1.1, 0.9, 1.1];
        assert!(!budget.enough(&four));
        // Five values 0.9, 1.1, 0.9, 1.1, 1.0: se = sqrt(0.04/4/5) = 0.0447 <= 0.05.
        assert!(budget.enough(&[0.9, 1.1, 0.9, 1.1, 1.0]));
        // Far from the target: the cap.
        assert!(!budget.enough(&[1.0, -1.0, 3.0, -2.0, 0.5]));
        assert!(budget.enough(&[1.0, -1.0, 3.0, -2.0, 0.5, 0.1]));
        assert_eq!(SeedBudget::relative_error(&[1.0]), f64::INFINITY);
        assert_eq!(SeedBudget::relative_error(&[1.0, -1.0]), f64::INFINITY);
    }

    /// The bias of the sequential rule, measured on Gaussian seeds of mean 1 and scatter
    /// 0.3 (1200 repetitions at a 3% target from a pilot of 8, cap 1000): the mean of the
    /// stopped means lies within 0.1 of its standard error of 1, and the relative errors
    /// reached lie at the target (their mean within 10% of it).
    #[test]
    fn the_sequential_mean_is_unbiased_at_the_percent_level() {
        let budget = SeedBudget {
            min: 8,
            target: Some(0.03),
            max: 1000,
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let (mut sum, mut reached, reps) = (0.0, 0.0, 1200);
        for _ in 0..reps {
            let mut v: Vec<f64> = Vec::new();
            while !budget.enough(&v) {
                let z: f64 = rng.sample(StandardNormal);
                v.push(1.0 + 0.3 * z);
            }
            assert!(v.len() < budget.max);
            sum += Seeds::mean_se(&v).0;
            reached += SeedBudget::relative_error(&v);
        }
        let mean = sum / reps as f64;
        let se_of_one = 0.03;
        assert!(
            (mean - 1.0).abs() < 0.1 * se_of_one,
            "mean of the stopped means {mean}"
        );
        let reached = reached / reps as f64;
        assert!(
            (reached - 0.03).abs() < 0.003,
            "relative error reached {reached}"
        );
    }
}
