//! One point of a flow curve: what a start-up at constant rate, solved by `dmfe run`'s
//! population solver, says about the steady state it reached (stress, pressures, energy,
//! diffusion, the kernels as functions of the time difference) and about the transient
//! (the stress overshoot).

use ndarray::Array1;

use super::control::Control;
use super::steady::{Steady, Window};
use crate::dynamics::{Problem, Solution};

/// The stress overshoot of a start-up: the largest stress and where it happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overshoot {
    /// Largest stress of the run.
    pub stress: f64,
    /// Its standard error.
    pub se: f64,
    /// The strain gamma at which it happened.
    pub strain: f64,
    /// The time at which it happened.
    pub time: f64,
}

/// The kernels of the steady state as functions of the time difference tau = k dt, read
/// along the last row of the run: M_C(t_end, t_end - tau), M_R(t_end, t_end - tau),
/// C(t_end, t_end - tau), R(t_end, t_end - tau), for tau over the steady window (the
/// values at tau = 0 as the run file stores the diagonals).
#[derive(Debug, Clone, PartialEq)]
pub struct SteadyKernels {
    /// M_C(t_end, t_end - tau).
    pub m_c: Array1<f64>,
    /// M_R(t_end, t_end - tau).
    pub m_r: Array1<f64>,
    /// C(t_end, t_end - tau).
    pub c: Array1<f64>,
    /// R(t_end, t_end - tau).
    pub r: Array1<f64>,
}

/// The start-up transient on the run's grid t_i = i dt.
#[derive(Debug, Clone, PartialEq)]
pub struct Startup {
    /// Strain gamma(t).
    pub gamma: Array1<f64>,
    /// Stress.
    pub stress: Array1<f64>,
    /// Standard error of the stress.
    pub stress_se: Array1<f64>,
    /// Pressure P.
    pub pressure: Array1<f64>,
    /// Energy e.
    pub energy: Array1<f64>,
    /// MSD Delta_r.
    pub delta_r: Array1<f64>,
}

/// How the run at one rate converged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Convergence {
    /// Iterations of the solver.
    pub iterations: usize,
    /// Final relative residual of the kernels.
    pub residual: f64,
    /// Final relative Monte-Carlo noise floor of the kernels.
    pub noise_floor: f64,
    /// Wall time of the run in seconds.
    pub seconds: f64,
}

/// Per-seed results of one rate (seed 0 first), and their mean with the standard error
/// of their scatter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seeds {
    /// Steady stress of each seed's start-up.
    pub plain: Vec<f64>,
    /// The same minus its unstrained control's (empty without controls).
    pub controlled: Vec<f64>,
    /// The linear-response stress (L1) from each control's kernels, over the window.
    pub linear: Vec<f64>,
    /// The truncated Green-Kubo viscosity of each control.
    pub eta_green_kubo: Vec<f64>,
    /// The largest share of M_C(t, t) carried by one member family in each seed's start-up
    /// (over t; [`crate::dynamics::population::Averages::heaviest_family`]): a seed far
    /// from the others with a large share rests on few members.
    pub heaviest_family: Vec<f64>,
    /// Wall time of all the rate's solves (seeds and controls), in seconds.
    pub seconds: f64,
}

impl Seeds {
    /// Mean of `v` and the standard error of its scatter (NaN below two values).
    pub fn mean_se(v: &[f64]) -> (f64, f64) {
        let n = v.len() as f64;
        if v.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let mean = v.iter().sum::<f64>() / n;
        if v.len() < 2 {
            return (mean, f64::NAN);
        }
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }
}

/// One rate of a flow curve.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowPoint {
    /// The strain rate gamma_dot.
    pub rate: f64,
    /// Variance F of the driving (1 for shear): the linear stress is F gamma_dot eta.
    pub f: f64,
    /// The steady-state window.
    pub window: Window,
    /// Time step.
    pub dt: f64,
    /// Stress (work conjugate of the strain, docs/equations.md (O1)) over the window.
    pub stress: Steady,
    /// Convected stress of paper Eq. (24).
    pub stress_convected: Steady,
    /// Pressure P.
    pub pressure: Steady,
    /// Pressure along the driving direction P_c.
    pub pressure_c: Steady,
    /// Energy e.
    pub energy: Steady,
    /// Diffusion constant D = dDelta_r/dt over the window (docs/equations.md (L2)).
    pub diffusion: f64,
    /// Bound on its standard error: (se(Delta_r) at both ends) / window length.
    pub diffusion_se: f64,
    /// The largest stress of the start-up.
    pub overshoot: Overshoot,
    /// Kernels against tau over the window.
    pub kernels: SteadyKernels,
    /// The start-up transient.
    pub startup: Startup,
    /// How the run converged.
    pub convergence: Convergence,
    /// The unstrained control of this start-up (None without controls).
    pub control: Option<Control>,
    /// All seeds of this rate (this point is seed 0's).
    pub seeds: Seeds,
}

impl FlowPoint {
    /// The flow-curve point of the start-up `problem` at `rate`, solved as `solution`, with
    /// the steady state judged over the last `steady_fraction` of the run.
    pub fn new(
        problem: &Problem,
        solution: &Solution,
        rate: f64,
        steady_fraction: f64,
        seconds: f64,
    ) -> Self {
        let grid = problem.grid;
        let n = grid.len();
        let window = Window::at_end(n, steady_fraction);
        let av = &solution.averages;
        let steady = |e| Steady::of(e, &window);
        let points = window.range();
        let (a, b) = (points.start, points.end - 1);
        let span = grid.time(b) - grid.time(a);
        let msd = &solution.particle.delta_r;
        let msd_se = &solution.particle_se.delta_r;
        let stress = &av.stress;
        let peak = (0..n)
            .max_by(|&i, &j| stress.mean[i].total_cmp(&stress.mean[j]))
            .expect("a grid has points");
        let model = &problem.model;
        let last = n - 1;
        let lags = points.len();
        let along = |m: &ndarray::Array2<f64>| Array1::from_shape_fn(lags, |k| m[[last, last - k]]);
        FlowPoint {
            rate,
            f: model.driving.variance(),
            dt: grid.dt,
            stress: steady(&av.stress),
            stress_convected: steady(&av.stress_convected),
            pressure: steady(&av.pressure),
            pressure_c: steady(&av.pressure_c),
            energy: steady(&av.energy),
            diffusion: (msd[b] - msd[a]) / span,
            diffusion_se: (msd_se[a] + msd_se[b]) / span,
            overshoot: Overshoot {
                stress: stress.mean[peak],
                se: stress.se[peak],
                strain: model.gamma(grid.time(peak)),
                time: grid.time(peak),
            },
            kernels: SteadyKernels {
                m_c: along(&solution.kernels.m_c),
                m_r: along(&solution.kernels.m_r),
                c: along(&solution.particle.c),
                r: along(&solution.particle.r),
            },
            startup: Startup {
                gamma: Array1::from_shape_fn(n, |i| model.gamma(grid.time(i))),
                stress: stress.mean.clone(),
                stress_se: stress.se.clone(),
                pressure: av.pressure.mean.clone(),
                energy: av.energy.mean.clone(),
                delta_r: msd.clone(),
            },
            convergence: Convergence {
                iterations: solution.history.len(),
                residual: solution.history.last().map_or(f64::NAN, |r| r.residual),
                noise_floor: solution.history.last().map_or(f64::NAN, |r| r.noise_floor),
                seconds,
            },
            window,
            control: None,
            seeds: Seeds::default(),
        }
    }

    /// Steady within `tolerance` standard errors: stress, pressure and energy.
    pub fn is_steady(&self, tolerance: f64) -> bool {
        [self.stress, self.pressure, self.energy]
            .iter()
            .all(|s| s.is_steady(tolerance))
    }

    /// The effective viscosity sigma / (F gamma_dot) and its standard error.
    pub fn viscosity(&self) -> (f64, f64) {
        let scale = self.f * self.rate;
        (self.stress.mean / scale, self.stress.se / scale)
    }

    /// The window's first and last times.
    pub fn window_times(&self) -> (f64, f64) {
        let r = self.window.range();
        (r.start as f64 * self.dt, (r.end - 1) as f64 * self.dt)
    }
}
