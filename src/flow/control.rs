//! The unstrained control of a start-up: the same members (same seed, h0 window, reach and
//! proposal) at gamma_dot = 0. Its stress is zero on average, so subtracting it is an
//! unbiased control variate (which lowers the noise only while the two runs' members stay
//! correlated: at small strains and without splitting); its kernels give the linear response of the start-up
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
    /// The linear-response stress F beta sum_j dgamma_j (M_C0(t, t_j) + M_C0(t, t_{j-1}))/2
    /// of the start-up from the control's kernels (Eq. (L1), [`linear_stress`]), on the run's
    /// grid.
    pub linear: Array1<f64>,
    /// Its average over the steady window.
    pub linear_mean: f64,
    /// beta int_0^{t_end} M_C0(t_end, t_end - tau) dtau (trapezoid): the Green-Kubo
    /// viscosity truncated at the run's length.
    pub eta_green_kubo: f64,
}

/// F beta sum_{j=1}^{i} (gamma_j - gamma_{j-1}) (M_C(t_i, t_j) + M_C(t_i, t_{j-1}))/2 at every
/// point i: the linear response (L1) of the strain history `gamma` (beta = 1/T; NaN at
/// T = 0), each step's increment spread over its step as the time-stepping spreads it. (The
/// end point alone, M_C(t_i, t_j), overstates a start-up's response by
/// F beta gamma_dot (dt/2) (M_C(t_i, t_i) - M_C(t_i, 0)): measured at gamma_dot = 0.02,
/// 16-19% at dt = 0.2 against a stress that moved by at most 5% from dt = 0.05.)
pub fn linear_stress(f: f64, temperature: f64, gamma: &[f64], m_c: &Array2<f64>) -> Array1<f64> {
    let n = gamma.len();
    Array1::from_shape_fn(n, |i| {
        let sum: f64 = (1..=i)
            .map(|j| (gamma[j] - gamma[j - 1]) * 0.5 * (m_c[[i, j]] + m_c[[i, j - 1]]))
            .sum();
        f * sum / temperature
    })
}

/// beta int_0^{t_end} M_C(t_end, t_end - tau) dtau along the last row of `m_c` (trapezoid
/// on the grid of step `dt`): the Green-Kubo viscosity (L1) truncated at t_end.
pub fn green_kubo(m_c: &Array2<f64>, dt: f64, temperature: f64) -> f64 {
    let last = m_c.nrows() - 1;
    let integral: f64 = (0..last)
        .map(|k| 0.5 * (m_c[[last, last - k]] + m_c[[last, last - k - 1]]) * dt)
        .sum();
    integral / temperature
}

impl Control {
    /// The control `solution` of the start-up `problem` (whose strain it did not apply) over
    /// the steady `window`.
    pub fn new(problem: &Problem, solution: &Solution, window: &Window) -> Self {
        let grid = problem.grid;
        let model = &problem.model;
        let n = grid.len();
        let gamma: Vec<f64> = (0..n).map(|i| model.gamma(grid.time(i))).collect();
        let m_c = &solution.kernels.m_c;
        let linear = linear_stress(model.driving.variance(), model.temperature, &gamma, m_c);
        let points = window.range();
        let linear_mean = linear
            .slice(ndarray::s![points.clone()])
            .mean()
            .unwrap_or(f64::NAN);
        Control {
            stress: Steady::of(&solution.averages.stress, window),
            stress_series: solution.averages.stress.mean.clone(),
            linear,
            linear_mean,
            eta_green_kubo: green_kubo(m_c, grid.dt, model.temperature),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// M_C(t, t') = a e^{-|t - t'|/tau0} on a grid of step dt, beta = 1/T.
    fn exponential(n: usize, dt: f64) -> Array2<f64> {
        Array2::from_shape_fn((n, n), |(i, j)| {
            0.3 * (-(i.abs_diff(j) as f64) * dt / 1.5).exp()
        })
    }

    /// A start-up gamma = gamma_dot t: the sum over increments is the geometric series
    /// F beta gamma_dot dt a ((1 + q)/2) sum_{k=0}^{i-1} q^k, q = e^{-dt/tau0}, to rounding.
    #[test]
    fn linear_stress_of_a_start_up_is_the_geometric_series() {
        let (n, dt, rate, f, t) = (60, 0.1, 0.2, 0.64, 0.5);
        let gamma: Vec<f64> = (0..n).map(|i| rate * i as f64 * dt).collect();
        let s = linear_stress(f, t, &gamma, &exponential(n, dt));
        let q = (-dt / 1.5f64).exp();
        for i in 0..n {
            let exact =
                f / t * rate * dt * 0.3 * 0.5 * (1.0 + q) * (1.0 - q.powi(i as i32)) / (1.0 - q);
            assert!((s[i] - exact).abs() < 1e-13, "{i}: {} vs {exact}", s[i]);
        }
    }

    /// The trapezoid of an exponential: beta a tau0 (1 - e^{-t/tau0}) up to its O(dt^2)
    /// error, (dt^2/12) beta a/tau0 (1 - e^{-t/tau0}) at leading order.
    #[test]
    fn green_kubo_integrates_the_last_row() {
        let (n, dt, t) = (61, 0.1, 0.5);
        let eta = green_kubo(&exponential(n, dt), dt, t);
        let span = (n - 1) as f64 * dt;
        let exact = 0.3 * 1.5 * (1.0 - (-span / 1.5f64).exp()) / t;
        let trapezoid = dt * dt / 12.0 * 0.3 / 1.5 * (1.0 - (-span / 1.5f64).exp()) / t;
        assert!(
            (eta - exact - trapezoid).abs() < 1e-3 * trapezoid,
            "{eta} vs {exact} + {trapezoid}"
        );
    }
}
