//! The dynamical solver: a population-based (Eissfeller-Opper) integrator of the dynamical
//! mean-field equations, docs/equations.md (paper Eqs. (18)-(24)).
//!
//! The model ([`Model`]: potential, state point, noise, driving and strain schedule), the
//! problem ([`Problem`]: model plus [`Grid`] and [`PopulationSpec`]) and the numerics
//! ([`SolverSpec`]) meet in one call, [`solve`]. One iteration:
//! 1. [`particle::solve_particle`] integrates the single-particle R, C and Delta_r with the
//!    current kernels (docs/equations.md (P1));
//! 2. [`population::average`] integrates the population of effective processes (docs/equations.md (E1))
//!    with coloured noise (1.4) and each member's exact response (1.5), and averages them
//!    into new kernels kappa, M_C, M_R and the observables (1.7);
//! 3. [`solver`] mixes old and new kernels (damping) and checks the residual against the
//!    Monte-Carlo noise floor, on causal time windows that double until they cover the grid.

pub mod diagnostics;
pub mod entry;
pub mod kernels;
pub mod lanes;
pub mod memory;
pub mod observables;
pub mod particle;
mod pool;
pub mod population;
pub mod response;
pub mod sampling;
pub mod scheme;
pub mod solver;
pub mod splitting;
mod tally;
pub mod uncertainty;

/// Rows of a memory sum int_0^t M_R(t, u) y(u) du taken together: for the rows t in
/// [K, K + TIME_BLOCK) the part u < K is one matrix product at the start of the block (a
/// blocked Volterra step), so the bulk of the memory work runs at matrix-product speed.
pub const TIME_BLOCK: usize = 32;

/// The time block of row `row` (>= 1) of a memory sum on n points: its first row K, and,
/// when `row` is the first row of the block a step computes (row 0 never is), the number of
/// rows in the block, whose far part is then due.
pub fn time_block(row: usize, n: usize) -> (usize, Option<usize>) {
    let start = row / TIME_BLOCK * TIME_BLOCK;
    let opens = row == start || row == 1;
    (start, opens.then(|| TIME_BLOCK.min(n - start)))
}

pub use kernels::Kernels;
pub use sampling::PopulationSpec;
pub use scheme::Scheme;
pub use solver::{solve, solve_from, IterationReport, Observer, Solution, SolverSpec, SolverState};

use crate::driving::Driving;
use crate::noise::ExternalNoise;
use crate::potential::Potential;
use crate::schedule::StrainSchedule;

/// What the physics is: potential, state point, noise and driving (docs/equations.md (D1), (E1)).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Pair potential v(h).
    pub potential: Potential,
    /// Rescaled packing fraction phi_hat.
    pub phi_hat: f64,
    /// Rescaled friction zeta_hat.
    pub zeta_hat: f64,
    /// Bath temperature T.
    pub temperature: f64,
    /// Preparation temperature T0 of the equilibrium initial state.
    pub t0: f64,
    /// External noise kernel G_C.
    pub noise: ExternalNoise,
    /// Driving protocol (sets F).
    pub driving: Driving,
    /// Strain schedule gamma(t).
    pub schedule: StrainSchedule,
}

impl Model {
    /// gamma_eff(t) = gamma(t) sqrt(F), paper Eq. (22).
    pub fn gamma_eff(&self, t: f64) -> f64 {
        self.driving.gamma_eff(self.schedule.gamma(t))
    }

    /// The strain gamma(t) of the protocol (0 without driving).
    pub fn gamma(&self, t: f64) -> f64 {
        match self.driving {
            Driving::None => 0.0,
            _ => self.schedule.gamma(t),
        }
    }

    /// log g_in(h0) = -v(h0)/T0, the equilibrium initial gap distribution (paper after
    /// Eq. (19)).
    pub fn log_g_in(&self, h0: f64) -> f64 {
        -self.potential.v(h0) / self.t0
    }

    /// Standard deviation factor of the stress: sqrt(F), or 1 without driving (then the
    /// stress is the unstrained shear-stress fluctuation, zero on average).
    pub fn stress_scale(&self) -> f64 {
        match self.driving {
            Driving::None => 1.0,
            d => d.variance().sqrt(),
        }
    }
}

/// The uniform time grid t_i = i dt, i = 0..=steps, and the time-discrete scheme on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Time step dt.
    pub dt: f64,
    /// Number of steps; the grid has steps + 1 points.
    pub steps: usize,
    /// What the memory sums and responses mean on the grid (docs/equations.md (N3)-(N4)).
    pub scheme: Scheme,
}

impl Grid {
    /// `steps` steps of `dt` with the default scheme.
    pub fn uniform(dt: f64, steps: usize) -> Self {
        Grid {
            dt,
            steps,
            scheme: Scheme::default(),
        }
    }

    /// Number of grid points, steps + 1.
    pub fn len(&self) -> usize {
        self.steps + 1
    }

    /// Always false: a grid has at least 3 points.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// t_i.
    pub fn time(&self, i: usize) -> f64 {
        i as f64 * self.dt
    }
}

/// A dynamical problem: model, grid and population.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The physics.
    pub model: Model,
    /// The time grid.
    pub grid: Grid,
    /// The population of effective processes.
    pub population: PopulationSpec,
}

impl Problem {
    /// The same problem with a population of `size` members (same seed, window and
    /// proposal; the members are the first `size` streams, stratified over their own
    /// quantiles).
    pub fn with_population(&self, size: usize) -> Problem {
        let mut p = self.clone();
        p.population.size = size;
        p.population.samples = p.population.samples.min(size);
        p
    }
}
