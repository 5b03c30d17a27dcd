//! The progress bar: an observer of the iteration (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use dmfe::dynamics::{IterationReport, Observer, SolverState};

/// Shows the window, iteration, residual against its target, and an ETA. The bar counts
/// work: an iteration on a causal window of n points costs ~n^3 (the exact response), and
/// the work still to do assumes as many iterations per window as the completed windows
/// needed, on windows that double up to the grid, so the ETA follows the cost rather than
/// the number of time points. Warns (once per
/// window) when G_C + M_C needed a diagonal shift to be factorised that is above rounding
/// level (more than [`ROUNDING_SHIFT`] of the largest M_C(t,t)); every shift is recorded in
/// `convergence/regularisation` of the output file.
pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
    warned_window: usize,
    grid_points: usize,
    /// Work done, in iterations on the full grid.
    done: f64,
    /// Completed windows and the iterations they took.
    windows: usize,
    window_iterations: usize,
    /// Iterations of the current window so far.
    current: usize,
}

/// Bar units per iteration on the full grid.
const BAR_UNITS: f64 = 1000.0;
/// Iterations per window assumed before the first window has converged.
const FIRST_GUESS: f64 = 8.0;

/// Diagonal shifts up to this fraction of the largest M_C(t,t) only undo rounding: a
/// population Gram matrix of more time points than its numerical rank.
const ROUNDING_SHIFT: f64 = 1e-12;

impl Progress {
    /// A bar over the cost of the grid's windows; hidden when `quiet` or stderr is not a
    /// terminal.
    pub fn new(grid_points: usize, quiet: bool) -> Self {
        let bar = ProgressBar::new(BAR_UNITS as u64);
        if quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {msg} (ETA {eta})",
            )
            .expect("valid template"),
        );
        Progress {
            bar,
            quiet,
            warned_window: 0,
            grid_points,
            done: 0.0,
            windows: 0,
            window_iterations: 0,
            current: 0,
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn observe(&mut self, r: &IterationReport, state: &SolverState) -> dmfe::Result<()> {
        let len = self.grid_points.max(1);
        let cost = |points: usize| (points as f64 / len as f64).powi(3);
        self.done += cost(r.window);
        self.current += 1;
        if state.window_iterations == 0 {
            self.windows += 1;
            self.window_iterations += self.current;
            self.current = 0;
        }
        let per_window = if self.windows > 0 {
            self.window_iterations as f64 / self.windows as f64
        } else {
            FIRST_GUESS
        };
        let converged_everywhere = r.window == len && state.window_iterations == 0;
        let mut remaining = 0.0;
        if !converged_everywhere {
            let mut w = state.window;
            remaining += (per_window - self.current as f64).max(1.0) * cost(w);
            while w < len {
                w = (2 * (w - 1) + 1).min(len);
                remaining += per_window * cost(w);
            }
        }
        self.bar
            .set_length(((self.done + remaining) * BAR_UNITS).round() as u64);
        self.bar
            .set_position((self.done * BAR_UNITS).round() as u64);
        let m_c = &state.kernels.m_c;
        let scale = (0..r.window.min(m_c.nrows())).fold(0.0f64, |a, i| a.max(m_c[[i, i]]));
        let relative = r.regularisation / scale;
        if relative > ROUNDING_SHIFT && r.window != self.warned_window && !self.quiet {
            self.warned_window = r.window;
            self.bar.suspend(|| {
                eprintln!(
                    "warning: iteration {}: G_C + M_C is not numerically positive definite on {} points; \
                     added {:.2e} ({relative:.1e} of the largest M_C(t,t)) to its diagonal \
                     (recorded in convergence/regularisation)",
                    r.iteration, r.window, r.regularisation
                )
            });
        }
        self.bar.set_message(format!(
            "window {}/{} points, iter {} residual {:.2e} (target {:.2e})",
            r.window, self.grid_points, r.iteration, r.residual, r.target
        ));
        Ok(())
    }
}
