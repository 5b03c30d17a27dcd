//! The progress bar: an observer of the iteration (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use dmfe::dynamics::{IterationReport, Observer, SolverState};

/// Shows the window, iteration, residual against its target, and an ETA; warns (once per
/// window) when G_C + M_C needed a diagonal shift to be factorised that is above rounding
/// level (more than [`ROUNDING_SHIFT`] of the largest M_C(t,t)); every shift is recorded in
/// `convergence/regularisation` of the output file.
pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
    warned_window: usize,
}

/// Diagonal shifts up to this fraction of the largest M_C(t,t) only undo rounding: a
/// population Gram matrix of more time points than its numerical rank.
const ROUNDING_SHIFT: f64 = 1e-12;

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
    fn observe(&mut self, r: &IterationReport, state: &SolverState) -> dmfe::Result<()> {
        self.bar.set_position(r.window as u64);
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
            "iter {} residual {:.2e} (target {:.2e})",
            r.iteration, r.residual, r.target
        ));
        Ok(())
    }
}
