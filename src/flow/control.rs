//! The unstrained control of a start-up: the same members (same seed, h0 window, reach and
//! proposal) at gamma_dot = 0. Its stress is zero on average, and follows the sheared run's
//! Monte-Carlo noise closely while the strain is small, so subtracting it is an unbiased
//! control variate; its kernels give the linear response of the start-up
//! (docs/equations.md (L1)) and the Green-Kubo viscosity.

use ndarray::{Array1, Array2};

use super::steady::{Steady, Window};
use crate::dynamics::{Problem, Solution};

/// What the control run says about one start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    /// The control's stress over the steady window (zero on average).
    pub stress: Steady,
    /// The control's stress on the run's grid.
    pub stress_series: Array1<f64>,
    /// The linear-response stress F beta sum_j dgamma_j M_C0(t, t_j) of the start-up from the
    /// control's kernels (Eq. (L1)), on the run's grid.
    pub linear: Array1<f64>,
    /// Its average over the steady window.
    pub linear_mean: f64,
    /// beta int_0^{t_end} M_C0(t_end, t_end - tau) dtau (trapezoid): the Green-Kubo
    /// viscosity truncated at the run's length.
    pub eta_green_kubo: f64,
}

/// F beta sum_{j=1}^{i} (gamma_j - gamma_{j-1}) M_C(t_i, t_j) at every point i: the linear
/// response (L1) of the strain history `gamma` (beta = 1/T; NaN at T = 0).
pub fn linear_stress(
    f: f64,
    temperature: f64,
    gamma: &Array1<f64>,
    m_c: &Array2<f64>,
) -> Array1<f64> {
    let n = gamma.len();
    Array1::from_shape_fn(n, |i| {
        let sum: f64 = (1..=i)
            .map(|j| (gamma[j] - gamma[j - 1]) * m_c[[i, j]])
            .sum();
        f * sum / temperature
    })
}

impl Control {
    /// The control `solution` of the start-up `problem` (whose strain it did not apply) over
    /// the steady `window`.
    pub fn new(problem: &Problem, solution: &Solution, window: &Window) -> Self {
        let grid = problem.grid;
        let model = &problem.model;
        let n = grid.len();
        let gamma = Array1::from_shape_fn(n, |i| model.gamma(grid.time(i)));
        let m_c = &solution.kernels.m_c;
        let linear = linear_stress(model.driving.variance(), model.temperature, &gamma, m_c);
        let points = window.range();
        let linear_mean = linear
            .slice(ndarray::s![points.clone()])
            .mean()
            .unwrap_or(f64::NAN);
        let last = n - 1;
        let integral: f64 = (0..last)
            .map(|k| 0.5 * (m_c[[last, last - k]] + m_c[[last, last - k - 1]]) * grid.dt)
            .sum();
        Control {
            stress: Steady::of(&solution.averages.stress, window),
            stress_series: solution.averages.stress.mean.clone(),
            linear,
            linear_mean,
            eta_green_kubo: integral / model.temperature,
        }
    }
}
