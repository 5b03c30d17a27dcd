//! What every output file carries besides its data: the root header (format tag, solver,
//! crate version, config as TOML, description) and the `/provenance` group.

use std::path::Path;

use super::H5Writer;
use crate::error::Result;

/// Facts about how a run was made, stored under `/provenance`.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// Worker threads used (per MPI rank).
    pub threads: usize,
    /// Processes (MPI ranks) the population was spread over; 1 for an ordinary run.
    pub ranks: usize,
    /// Wall time of the solve in seconds.
    pub wall_seconds: f64,
    /// Git commit of the source, when known at build time.
    pub git_commit: Option<String>,
}

impl Provenance {
    /// Writes the attributes of `/provenance` common to all solvers.
    pub(super) fn write(&self, w: &H5Writer) -> Result<()> {
        let pr = "provenance";
        w.attr_str(pr, "crate_version", env!("CARGO_PKG_VERSION"))?;
        w.attr_str(
            pr,
            "git_commit",
            self.git_commit.as_deref().unwrap_or("unknown"),
        )?;
        w.attr_u64(pr, "threads", self.threads as u64)?;
        w.attr_u64(pr, "ranks", self.ranks as u64)?;
        w.attr_f64(pr, "wall_seconds", self.wall_seconds)
    }
}

/// Starts an output file of `solver` at `path` (temporary name until finished) with the
/// root header: `solver`, `crate_version`, `config_toml` and `description`.
pub(super) fn create_output(
    path: &Path,
    solver: &str,
    config_toml: &str,
    description: &str,
) -> Result<H5Writer> {
    let w = H5Writer::create(path)?;
    w.attr_str("/", "solver", solver)?;
    w.attr_str("/", "crate_version", env!("CARGO_PKG_VERSION"))?;
    w.attr_str("/", "config_toml", config_toml)?;
    w.attr_str("/", "description", description)?;
    Ok(w)
}
