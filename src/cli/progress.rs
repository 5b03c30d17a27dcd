//! The progress bar: an observer of the iteration (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use dmfe::dynamics::{IterationReport, Observer, SolverState};

/// Shows the window, iteration, residual against its target, and an ETA; warns (once per
/// window) when G_C + M_C needed a diagonal shift to be factorised.
pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
    warned_window: usize,
}

impl Progress {
    /// A bar over the grid points; hidden when `quiet` or stderr is not a terminal.
    pub fn new(grid_points: usize, quiet: bool) -> Self {
        let bar = ProgressBar::new(grid_points as u64);
        if quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] window {pos}/{len} points {wide_bar} {msg} (ETA {eta})",
            )
            .expect("valid template"),
        );
        Progress {
            bar,
            quiet,
            warned_window: 0,
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn observe(&mut self, r: &IterationReport, _state: &SolverState) -> dmfe::Result<()> {
        self.bar.set_position(r.window as u64);
        if r.regularisation > 0.0 && r.window != self.warned_window && !self.quiet {
            self.warned_window = r.window;
            self.bar.suspend(|| {
                eprintln!(
                    "warning: iteration {}: G_C + M_C is not numerically positive definite on {} points; \
                     added {:.2e} to its diagonal (recorded in convergence/regularisation)",
                    r.iteration, r.window, r.regularisation
                )
            });
        }
        self.bar.set_message(format!(
            "iter {} residual {:.2e} (target {:.2e})",
            r.iteration, r.residual, r.target
        ));
        Ok(())
    }
}
