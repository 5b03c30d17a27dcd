//! Steady state, judged from a run's own errors: over a window at the end of the run (whole
//! time blocks of [`TIME_BLOCK`] points), a one-time observable is steady when the means of
//! the window's two halves differ by at most a tolerance in standard errors of their
//! difference. Both the steady value (the window mean) and that difference get exact
//! standard errors from the block covariance of the stratified population
//! ([`Estimate::combination`]), which knows how strongly the members' values at different
//! times are correlated.

use std::ops::Range;

use crate::dynamics::population::Estimate;
use crate::dynamics::TIME_BLOCK;

/// The steady-state window: time blocks `blocks` (the last of the run), split at `split`
/// into a first half `blocks.start..split` and a second `split..blocks.end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The blocks of the window.
    pub blocks: Range<usize>,
    /// First block of the second half.
    pub split: usize,
    /// Grid points of the run.
    pub points: usize,
}

impl Window {
    /// The last `fraction` of a run on `points` grid points, rounded to whole time blocks
    /// (at least two, and never the block that holds t = 0 unless the run has only two).
    pub fn at_end(points: usize, fraction: f64) -> Window {
        let nb = points.div_ceil(TIME_BLOCK);
        let wanted = (fraction * points as f64 / TIME_BLOCK as f64).round() as usize;
        let size = wanted.clamp(2, nb.saturating_sub(1).max(2)).min(nb);
        let start = nb - size;
        Window {
            blocks: start..nb,
            split: start + size / 2,
            points,
        }
    }

    /// The grid points of the blocks `blocks`.
    pub fn points_of(&self, blocks: Range<usize>) -> Range<usize> {
        blocks.start * TIME_BLOCK..self.points.min(blocks.end * TIME_BLOCK)
    }

    /// The grid points of the whole window.
    pub fn range(&self) -> Range<usize> {
        self.points_of(self.blocks.clone())
    }

    /// Block coefficients of the time average over `blocks` (1/points on them, 0 elsewhere).
    fn average(&self, blocks: Range<usize>) -> Vec<f64> {
        let count = self.points_of(blocks.clone()).len() as f64;
        (0..self.blocks.end)
            .map(|a| {
                if blocks.contains(&a) {
                    1.0 / count
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// A one-time observable over the steady-state window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Steady {
    /// Time average over the window.
    pub mean: f64,
    /// Its standard error.
    pub se: f64,
    /// Mean of the second half minus mean of the first half.
    pub drift: f64,
    /// Standard error of that difference.
    pub drift_se: f64,
}

impl Steady {
    /// The window average and half-to-half drift of `est` over `window`.
    pub fn of(est: &Estimate, window: &Window) -> Steady {
        let (mean, se) = est.combination(&window.average(window.blocks.clone()));
        let first = window.average(window.blocks.start..window.split);
        let second = window.average(window.split..window.blocks.end);
        let diff: Vec<f64> = second.iter().zip(&first).map(|(b, a)| b - a).collect();
        let (drift, drift_se) = est.combination(&diff);
        Steady {
            mean,
            se,
            drift,
            drift_se,
        }
    }

    /// The drift in standard errors of the difference (0 for an exactly constant series).
    pub fn drift_in_se(&self) -> f64 {
        if self.drift == 0.0 {
            0.0
        } else {
            self.drift / self.drift_se
        }
    }

    /// Steady: |drift| at most `tolerance` standard errors of the difference.
    pub fn is_steady(&self, tolerance: f64) -> bool {
        self.drift_in_se().abs() <= tolerance
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    /// An estimate on `n` points with independent block sums of variance `var` each.
    fn estimate(mean: Array1<f64>, var: f64) -> Estimate {
        let nb = mean.len().div_ceil(TIME_BLOCK);
        Estimate {
            se: Array1::zeros(mean.len()),
            block_cov: Array2::from_diag_elem(nb, var),
            mean,
        }
    }

    #[test]
    fn window_covers_the_last_whole_blocks() {
        // 201 points: blocks of 32, the last one of 9 points; half of the run is 3 blocks.
        let w = Window::at_end(201, 0.5);
        assert_eq!(w.blocks, 4..7);
        assert_eq!(w.split, 5);
        assert_eq!(w.range(), 128..201);
        // At least two blocks, and the first block is kept out while there are three.
        assert_eq!(Window::at_end(201, 0.01).blocks, 5..7);
        assert_eq!(Window::at_end(201, 0.99).blocks, 1..7);
        assert_eq!(Window::at_end(40, 0.5).blocks, 0..2);
    }

    /// The window mean and its error from the block covariance; a constant series is
    /// steady, a linear drift of 10 standard errors is not, one of 1 is.
    #[test]
    fn drift_is_judged_in_standard_errors_of_the_difference() {
        let n = 256;
        let w = Window::at_end(n, 0.5);
        assert_eq!((w.blocks.clone(), w.split), (4..8, 6));
        let var = 32.0 * 32.0 * 1e-4; // block sums of 32 points with se 1e-2 per point
        let flat = Steady::of(&estimate(Array1::from_elem(n, 0.3), var), &w);
        assert!((flat.mean - 0.3).abs() < 1e-15);
        // se of a mean of 4 independent blocks whose means have se 1e-2: 5e-3.
        assert!((flat.se - 5e-3).abs() < 1e-15, "{}", flat.se);
        assert!(flat.is_steady(2.0));
        // Halves of 2 blocks each: their difference has se sqrt(2) 1e-2 / sqrt(2) = 1e-2;
        // the half means of a ramp of slope a over 64 points differ by 64 a.
        for (slope_in_se, steady) in [(10.0, false), (1.0, true)] {
            let a = slope_in_se * 1e-2 / 64.0;
            let ramp = Array1::from_shape_fn(n, |t| 0.3 + a * t as f64);
            let s = Steady::of(&estimate(ramp, var), &w);
            assert!((s.drift_se - 1e-2).abs() < 1e-15, "{}", s.drift_se);
            assert!((s.drift_in_se() - slope_in_se).abs() < 1e-9);
            assert_eq!(s.is_steady(2.0), steady);
        }
    }
}
