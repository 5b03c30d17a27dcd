//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong in a solve or while reading and writing files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is missing, malformed or non-physical.
    #[error("config: {key}: {message}")]
    Config {
        /// The dotted key, e.g. `model.phi_hat`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The integration produced a non-finite value.
    #[error(
        "diverged: non-finite {what} at time step {step} (t = {time}) of iteration {iteration}, \
         member {member}; reduce grid.dt (more steps) or lower solver.damping (default 1: mix in less of each new pass)"
    )]
    Diverged {
        /// Which quantity went non-finite.
        what: String,
        /// The time-step index.
        step: usize,
        /// The time of that step.
        time: f64,
        /// The iteration (1-based).
        iteration: usize,
        /// The population member where it began (or `-` for a kernel).
        member: String,
    },
    /// The self-consistency iteration did not converge.
    #[error(
        "not converged after {iterations} iterations: residual {residual:.3e} > target {target:.3e} \
         (Monte-Carlo noise floor {noise_floor:.3e}); increase solver.max_iterations, lower \
         solver.damping, or enlarge population.size"
    )]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// Last residual.
        residual: f64,
        /// The residual that would have counted as converged.
        target: f64,
        /// Relative Monte-Carlo standard error of the kernels.
        noise_floor: f64,
    },
    /// The run was interrupted (SIGINT/SIGTERM) after a checkpoint was written.
    #[error(
        "interrupted after iteration {iteration}; resume with: dmfe run --resume {checkpoint}"
    )]
    Interrupted {
        /// Last completed iteration.
        iteration: usize,
        /// Path of the checkpoint to resume from.
        checkpoint: PathBuf,
    },
    /// Another MPI rank stopped the run (its own message says why).
    #[error("stopped because MPI rank {rank} stopped (its message says why)")]
    OtherRank {
        /// The lowest rank that stopped.
        rank: usize,
    },
    /// The static solver could not find or follow the stationary point of G (docs/equations.md).
    #[error("static solver: {0}")]
    Static(String),
    /// An HDF5 error, with the file it concerns.
    #[error("HDF5 file {path}: {}", condensed(.source))]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: hdf5::Error,
    },
    /// An I/O error, with the file it concerns.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not one this program wrote, or lacks something expected.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// A configuration error for `key`.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// HDF5's message on one line: its first line up to the time stamp, and the system's
/// reason (e.g. "No space left on device") when the library reports one.
fn condensed(e: &hdf5::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let head = first.split(": time =").next().unwrap_or(first).trim();
    let reason = text
        .split("error message = '")
        .nth(1)
        .and_then(|r| r.split('\'').next());
    match reason {
        Some(r) => format!("{head} ({r})"),
        None => head.to_string(),
    }
}

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A full disk reads as one line with the system's reason, not HDF5's error dump.
    #[test]
    fn hdf5_errors_are_one_line_with_the_reason() {
        let raw =
            "H5Fflush(): unable to flush: file write failed: time = Wed Nov 25 11:59:50 2026\n\
                   , filename = 'x.h5.tmp', errno = 28, error message = 'No space left on device', \
                   buf = 0x1, total write size = 2048";
        let e = Error::Hdf5 {
            path: PathBuf::from("x.h5"),
            source: hdf5::Error::from(raw),
        };
        assert_eq!(
            e.to_string(),
            "HDF5 file x.h5: H5Fflush(): unable to flush: file write failed (No space left on device)"
        );
        let plain = Error::Hdf5 {
            path: PathBuf::from("y.h5"),
            source: hdf5::Error::from("unable to open file"),
        };
        assert_eq!(plain.to_string(), "HDF5 file y.h5: unable to open file");
    }
}
