//! The Eissfeller-Opper iteration (docs/equations.md): particle pass, population pass, damped
//! update, on causal time windows that double until they cover the grid. Progress bars,
//! checkpoints and output are [`Observer`]s of the iteration, not part of it.

use std::time::Instant;

use ndarray::{s, Array1, Array2};

use super::particle::{solve_particle, Particle};
use super::population::{average, Averages, PassControl};
use super::uncertainty::{particle_errors, ParticleErrors};
use super::{Kernels, Problem};
use crate::error::{Error, Result};
use crate::linalg::cholesky_regularised;
use crate::ranks::{agree, OneProcess, Ranks};

/// Numerical settings of the iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverSpec {
    /// Fraction of the new kernels mixed in per iteration, in (0, 1].
    pub damping: f64,
    /// Relative residual that counts as converged (raised to a tenth of the Monte-Carlo
    /// noise floor when that is larger: iterating below the statistical error buys nothing).
    /// A residual that stalls below the noise floor also counts as converged
    /// (see [`stalled`]).
    pub tolerance: f64,
    /// Iterations allowed per time window.
    pub max_iterations: usize,
    /// Fewest steps of the first window ([`first_window`]).
    pub window: usize,
    /// Presolve fraction f in (0, 1]: the iteration first runs with a population of f N
    /// members (at least [`MIN_PRESOLVE`]) until it converges on the whole grid, then
    /// continues with all N from those kernels (1: all N throughout). The presolve reaches
    /// the fixed point at a fraction of the cost, and the full population then only has to
    /// lower the noise.
    pub presolve: f64,
}

/// Fewest members of a presolve population.
pub const MIN_PRESOLVE: usize = 1024;

/// One iteration's record (the residual history of the output file).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationReport {
    /// Iteration number, counted from 1 over the whole run.
    pub iteration: usize,
    /// Grid points of the current window.
    pub window: usize,
    /// Grid points of the whole grid.
    pub grid_points: usize,
    /// Members of the population used.
    pub population: usize,
    /// Relative residual of the kernels.
    pub residual: f64,
    /// Relative Monte-Carlo standard error of the kernels.
    pub noise_floor: f64,
    /// Residual that counts as converged.
    pub target: f64,
    /// Diagonal shift added to G_C + M_C to factorise it (0 when none was needed).
    pub regularisation: f64,
    /// Wall time of the iteration in seconds.
    pub seconds: f64,
}

/// The complete state of the iteration between two iterations (what a checkpoint holds).
#[derive(Debug, Clone, PartialEq)]
pub struct SolverState {
    /// Current kernels on the whole grid.
    pub kernels: Kernels,
    /// Grid points of the current window.
    pub window: usize,
    /// Iterations done in the current window (with the current population).
    pub window_iterations: usize,
    /// Members of the population the next iteration uses.
    pub population: usize,
    /// Residual history.
    pub history: Vec<IterationReport>,
}

impl SolverState {
    /// The state before the first iteration: zero kernels, first window.
    pub fn initial(problem: &Problem, spec: &SolverSpec) -> Self {
        let len = problem.grid.len();
        let size = problem.population.size;
        let unit = problem.population.unit();
        let presolve = ((spec.presolve * size as f64).round() as usize).max(MIN_PRESOLVE);
        // Whole sampling units (antithetic pairs).
        let presolve = presolve.next_multiple_of(unit);
        SolverState {
            kernels: Kernels::zeros(len),
            window: first_window(len, spec.window),
            window_iterations: 0,
            population: presolve.min(size),
            history: Vec::new(),
        }
    }
}

/// Points of the first causal window on a grid of `len` points: steps/2^k steps (rounded
/// up) with k the largest that leaves at least `least` steps (the whole grid when it has
/// fewer). Doubling from there ends on the whole grid with a full doubling, instead of a
/// last short extension that repeats nearly all the work of the window before it.
fn first_window(len: usize, least: usize) -> usize {
    let steps = len.saturating_sub(1);
    let mut first = steps;
    while first.div_ceil(2) >= least {
        first = first.div_ceil(2);
    }
    first + 1
}

/// Watches the iteration.
pub trait Observer {
    /// Called after every iteration with its report and the state after the update, except
    /// after the final one, where `state` is the state before it: the final update also
    /// needs that iteration's population averages for the output, and resuming from the
    /// state before it recomputes them bit for bit. An error stops the solve (used for
    /// interruption).
    fn observe(&mut self, report: &IterationReport, state: &SolverState) -> Result<()>;

    /// Polled between waves of population blocks during a pass (every few thousand
    /// members): an error stops the solve at once, losing only the iteration in progress,
    /// which a checkpoint of the state before it replays. None by default.
    fn interruption(&self) -> Option<Error> {
        None
    }
}

/// The converged solution.
#[derive(Debug, Clone)]
pub struct Solution {
    /// Converged kernels.
    pub kernels: Kernels,
    /// Single-particle R, C, Delta_r from the converged kernels.
    pub particle: Particle,
    /// Their standard errors (jackknife over population batches, [`super::uncertainty`]).
    pub particle_se: ParticleErrors,
    /// Population averages of the last pass (observables, standard errors, samples).
    pub averages: Averages,
    /// Residual history.
    pub history: Vec<IterationReport>,
}

impl Solution {
    /// Two-time MSD Delta(t, t') = C(t,t) + C(t',t') - 2 C(t,t').
    pub fn delta(&self) -> Array2<f64> {
        let c = &self.particle.c;
        let d = &self.particle.delta_r;
        Array2::from_shape_fn(c.dim(), |(i, j)| d[i] + d[j] - 2.0 * c[[i, j]])
    }
}

/// G_C + M_C on the first `n` points, and its regularised Cholesky factor; a divergence
/// error when no bounded diagonal shift factorises it (a non-finite entry, or a matrix that
/// is no covariance), naming the first row with a non-finite entry or else the last one.
pub(super) fn noise_factor(
    problem: &Problem,
    kernels: &Kernels,
    n: usize,
    iteration: usize,
) -> Result<(Array2<f64>, f64)> {
    let g = problem.grid;
    let cov = Array2::from_shape_fn((n, n), |(i, j)| {
        problem.model.noise.g_c(g.time(i), g.time(j)) + kernels.m_c[[i, j]]
    });
    cholesky_regularised(cov.view()).ok_or_else(|| {
        let step = (0..n)
            .find(|&i| cov.row(i).iter().any(|x| !x.is_finite()))
            .unwrap_or(n - 1);
        Error::Diverged {
            what: "noise covariance G_C + M_C (not factorisable with a diagonal shift up to its largest entry)".into(),
            step,
            time: g.time(step),
            iteration,
            member: "-".into(),
        }
    })
}

/// Solves `problem` from zero kernels in one process.
pub fn solve(
    problem: &Problem,
    spec: &SolverSpec,
    observers: &mut [&mut dyn Observer],
) -> Result<Solution> {
    solve_from(
        problem,
        spec,
        SolverState::initial(problem, spec),
        observers,
        &OneProcess,
    )
}

/// Continues the iteration from `state` (a fresh one or a checkpoint) until convergence on
/// the whole grid, with the population spread over `ranks` ([`crate::ranks`]). Every rank
/// calls this with the same arguments but the observers, which only rank 0 needs; an
/// observer's error on any rank stops every rank.
pub fn solve_from(
    problem: &Problem,
    spec: &SolverSpec,
    mut state: SolverState,
    observers: &mut [&mut dyn Observer],
    ranks: &dyn Ranks,
) -> Result<Solution> {
    let len = problem.grid.len();
    let size = problem.population.size;
    let allowance = if problem.population.splitting.is_some() {
        SPLIT_STALL_ALLOWANCE
    } else {
        1.0
    };
    loop {
        let start = Instant::now();
        let n = state.window;
        let iteration = state.history.len() + 1;
        let presolve;
        let current = if state.population == size {
            problem
        } else {
            presolve = problem.with_population(state.population);
            &presolve
        };
        let particle = solve_particle(&problem.model, &problem.grid, &state.kernels, n);
        let (chol, regularisation) = noise_factor(problem, &state.kernels, n, iteration)?;
        let stop = || observers.iter().find_map(|o| o.interruption());
        let control = PassControl { ranks, stop: &stop };
        let mut avg = average(
            current,
            &state.kernels,
            particle.delta_r.as_slice().expect("contiguous"),
            chol.view(),
            n,
            iteration,
            control,
        )?;
        check_finite(&avg.kernels, n, iteration, problem)?;
        avg.kernels
            .keep_prefix(&state.kernels, converged_prefix(&state));
        let residual = state.kernels.residual(&avg.kernels, n);
        let noise_floor = avg.noise_floor();
        let target = spec.tolerance.max(0.1 * noise_floor);
        let report = IterationReport {
            iteration,
            window: n,
            grid_points: len,
            population: state.population,
            residual,
            noise_floor,
            target,
            regularisation,
            seconds: start.elapsed().as_secs_f64(),
        };
        let converged = residual <= target || stalled(&state, residual, allowance * noise_floor);
        if converged && n == len && state.population == size {
            // Observers see the state this iteration started from: a checkpoint of it
            // replays the iteration, averages included, and so reproduces the solution.
            observe(observers, &report, &state, ranks)?;
            state.kernels.mix(&avg.kernels, spec.damping, n);
            state.history.push(report);
            let particle = solve_particle(&problem.model, &problem.grid, &state.kernels, len);
            let stop = || observers.iter().find_map(|o| o.interruption());
            let control = PassControl { ranks, stop: &stop };
            let delta_r = particle.delta_r.as_slice().expect("contiguous");
            let particle_se = particle_errors(problem, &state.kernels, delta_r, control)?;
            return Ok(Solution {
                kernels: state.kernels,
                particle,
                particle_se,
                averages: avg,
                history: state.history,
            });
        }
        // The first pass of the whole population after a converged presolve replaces the
        // kernels: the presolve sits at its own fixed point, and the whole population's pass
        // from there differs from it by little more than the small population's noise.
        let damping = damping(spec, &state, residual);
        state.kernels.mix(&avg.kernels, damping, n);
        state.window_iterations += 1;
        state.history.push(report);
        if converged {
            if n == len {
                state.population = size;
            } else {
                state.window = (2 * (n - 1) + 1).min(len);
                state.kernels.continue_rows(n, state.window);
            }
            state.window_iterations = 0;
        } else if state.population < size && state.window_iterations >= spec.max_iterations {
            // A presolve that does not converge hands over to the whole population, which
            // has its own max_iterations on this window.
            state.population = size;
            state.window_iterations = 0;
        }
        observe(observers, &report, &state, ranks)?;
        if !converged && state.window_iterations >= spec.max_iterations {
            return Err(Error::NotConverged {
                iterations: iteration,
                residual,
                target,
                noise_floor,
            });
        }
    }
}

/// Points of the leading block of the kernels that the iteration no longer changes: the
/// last window converged with the current population (none before one has). Kernels on a
/// window depend only on the paths on it (the equations are causal, and so are the splitting
/// decisions, whose lookahead spans the whole grid), so the passes of a longer window would
/// only re-estimate them: the differences are the population's flips (a member's contact or
/// split decision changing with a tiny change of the kernels), which the iteration would
/// chase instead of converging the new points. A window converged with a presolve's
/// population is not kept: the whole population replaces its noise.
fn converged_prefix(state: &SolverState) -> usize {
    state
        .history
        .iter()
        .rev()
        .find(|r| r.window < state.window && r.population == state.population)
        .map_or(0, |r| r.window)
}

/// Shows the iteration to the observers; an error of one of them, on any rank, is an error
/// on every rank (rank 0's observers write the checkpoints, and a rank that went on alone
/// would wait forever for the others).
fn observe(
    observers: &mut [&mut dyn Observer],
    report: &IterationReport,
    state: &SolverState,
    ranks: &dyn Ranks,
) -> Result<()> {
    let observed = observers
        .iter_mut()
        .try_for_each(|o| o.observe(report, state));
    agree(ranks, observed)
}

/// Most halvings of the damping within one window ([`damping`]).
const MAX_HALVINGS: i32 = 3;

/// The fraction of the new kernels mixed in after an iteration with `residual`: 1 for the
/// first pass of the whole population after a converged presolve (which replaces the
/// kernels), else `spec.damping` halved once for every rise of the residual over its
/// predecessor among the current window's iterations after its first (at most
/// [`MAX_HALVINGS`] times). A rise means the step overshoots, or that successive passes
/// differ by their own noise, which a smaller step averages. A function of the history
/// alone, so a resumed run mixes exactly as the uninterrupted one.
fn damping(spec: &SolverSpec, state: &SolverState, residual: f64) -> f64 {
    let after_presolve = state
        .history
        .last()
        .is_some_and(|r| r.population < state.population && r.window == r.grid_points);
    if after_presolve {
        return 1.0;
    }
    // The first residual of a window measures the new points against zero kernels and
    // says nothing about the step, so the rises are counted from the second one.
    let recent = &state.history[state.history.len() - state.window_iterations..];
    let residuals: Vec<f64> = (recent.iter().skip(1).map(|r| r.residual))
        .chain([residual])
        .collect();
    let rises = residuals.windows(2).filter(|w| w[1] > w[0]).count();
    spec.damping * 0.5f64.powi((rises as i32).min(MAX_HALVINGS))
}

/// Iterations over which a residual that no longer falls counts as stalled.
const STALL_ITERATIONS: usize = 4;

/// With importance splitting a stalled residual may reach this many noise floors: a lane's
/// split and roulette decisions flip with small changes of the kernels, so the map is not
/// smooth and successive passes differ by their own noise (measured: residuals of 1.2-4
/// noise floors that no longer fall, liquid to t = 32), not only by a few members' cycles.
const SPLIT_STALL_ALLOWANCE: f64 = 3.0;

/// True when the residual sits below `bound` (the Monte-Carlo noise floor, or a multiple
/// of it with splitting) and none of the last [`STALL_ITERATIONS`] iterations of the window
/// was more than 5% above it: the iteration cycles at the granularity of the population (a
/// member whose contact indicator v'' flips at one grid point from one iteration to the
/// next makes a cycle of one member's weight), and further iterations cannot lower it
/// below the statistical error.
fn stalled(state: &SolverState, residual: f64, bound: f64) -> bool {
    if residual > bound || state.window_iterations < STALL_ITERATIONS {
        return false;
    }
    let recent = &state.history[state.history.len() - STALL_ITERATIONS..];
    recent
        .iter()
        .all(|r| r.window == state.window && r.residual <= 1.05 * residual)
}

fn check_finite(k: &Kernels, n: usize, iteration: usize, problem: &Problem) -> Result<()> {
    let bad_row = |a: &Array1<f64>| a.slice(s![..n]).iter().position(|x| !x.is_finite());
    let bad_rows =
        |a: &Array2<f64>| (0..n).find(|&i| a.slice(s![i, ..n]).iter().any(|x| !x.is_finite()));
    for (what, row) in [
        ("kappa", bad_row(&k.kappa)),
        ("M_C", bad_rows(&k.m_c)),
        ("M_R", bad_rows(&k.m_r)),
    ] {
        if let Some(step) = row {
            return Err(Error::Diverged {
                what: what.into(),
                step,
                time: problem.grid.time(step),
                iteration,
                member: "-".into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(residuals: &[f64]) -> SolverState {
        let report = |r: f64| IterationReport {
            iteration: 1,
            window: 33,
            grid_points: 101,
            population: 1000,
            residual: r,
            noise_floor: 0.05,
            target: 0.005,
            regularisation: 0.0,
            seconds: 0.0,
        };
        SolverState {
            kernels: Kernels::zeros(3),
            window: 33,
            window_iterations: residuals.len(),
            population: 1000,
            history: residuals.iter().map(|&r| report(r)).collect(),
        }
    }

    /// The kept prefix is the last window converged with the current population: none in
    /// the first window, nor after a presolve hands over to the whole population.
    #[test]
    fn converged_prefix_is_the_last_window_of_this_population() {
        let mut s = state(&[1.0, 0.1, 0.01]);
        assert_eq!(converged_prefix(&s), 0);
        s.window = 65;
        assert_eq!(converged_prefix(&s), 33);
        s.history.last_mut().unwrap().window = 65;
        s.history[0].window = 17;
        assert_eq!(converged_prefix(&s), 33);
        s.population = 8000;
        assert_eq!(converged_prefix(&s), 0);
    }

    /// The windows halve back from the grid to at least the requested steps, and double
    /// onto the grid.
    #[test]
    fn first_window_doubles_onto_the_grid() {
        assert_eq!(first_window(101, 32), 51);
        assert_eq!(first_window(201, 32), 51);
        assert_eq!(first_window(401, 32), 51);
        assert_eq!(first_window(151, 32), 39);
        assert_eq!(first_window(61, 32), 61);
        assert_eq!(first_window(21, 32), 21);
        assert_eq!(first_window(65, 32), 33);
    }

    /// The damping halves per rise of the residual after the window's first iteration, at
    /// most three times; the first pass of the whole population after a presolve is undamped.
    #[test]
    fn damping_halves_per_rise_of_the_residual() {
        let spec = SolverSpec {
            damping: 1.0,
            tolerance: 1e-4,
            max_iterations: 60,
            window: 32,
            presolve: 1.0,
        };
        // The rise from the first residual (against zero kernels) does not count.
        assert_eq!(damping(&spec, &state(&[1.0]), 1.5), 1.0);
        assert_eq!(damping(&spec, &state(&[1.0, 0.2]), 0.1), 1.0);
        assert_eq!(damping(&spec, &state(&[1.0, 0.2]), 0.3), 0.5);
        assert_eq!(damping(&spec, &state(&[1.0, 0.2, 0.3, 0.1]), 0.2), 0.25);
        let cycling = [1.0, 0.1, 0.2, 0.1, 0.2, 0.1, 0.2];
        assert_eq!(damping(&spec, &state(&cycling), 0.3), 0.125);
        let mut after = state(&[0.01]);
        after.history[0].population = 500;
        after.history[0].window = 101;
        after.window_iterations = 0;
        let half = SolverSpec {
            damping: 0.5,
            ..spec
        };
        assert_eq!(damping(&half, &after, 0.2), 1.0);
        after.history[0].population = 1000;
        assert_eq!(damping(&half, &after, 0.2), 0.5);
    }

    /// A cycle below the noise floor stalls; a converging sequence, a cycle above the floor
    /// or too short a history does not.
    #[test]
    fn stall_is_a_cycle_below_the_noise_floor() {
        assert!(stalled(&state(&[0.02, 0.018, 0.03, 0.02]), 0.03, 0.05));
        assert!(!stalled(&state(&[0.08, 0.05, 0.04, 0.032]), 0.03, 0.05));
        assert!(!stalled(&state(&[0.06, 0.06, 0.06, 0.06]), 0.06, 0.05));
        assert!(!stalled(&state(&[0.03, 0.03, 0.03]), 0.03, 0.05));
    }
}
