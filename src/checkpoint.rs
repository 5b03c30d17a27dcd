//! Checkpoints of the dynamical solver: the complete [`SolverState`] and the config, written
//! after every iteration under a temporary name and renamed, so a crash mid-write leaves the
//! previous checkpoint intact. Random streams need no saving: each member's stream is a
//! function of (seed, member index) and is replayed from its start at every iteration, so
//! resuming from a checkpoint reproduces the uninterrupted run bit for bit. The checkpoint of
//! the final iteration holds the state before it (see [`Observer`]), so resuming from it
//! replays that iteration and writes the same output.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;

use crate::dynamics::{IterationReport, Kernels, Observer, SolverState};
use crate::error::{Error, Result};
use crate::output::{read_attr, H5Writer, OutputFile};

/// Value of the root attribute `dmfe_format` of checkpoint files.
/// (5: the kernels of `grid.scheme`, whose diagonal of M_R means another thing in each scheme.)
pub const CHECKPOINT_TAG: &str = "dmfe-checkpoint-5";

/// The checkpoint path that belongs to an output path: `OUTPUT.ckpt`.
pub fn checkpoint_path(output: &Path) -> PathBuf {
    let mut p = output.as_os_str().to_owned();
    p.push(".ckpt");
    PathBuf::from(p)
}

/// What a checkpoint holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The config the run was made with, as TOML text.
    pub config_toml: String,
    /// The solver state to continue from.
    pub state: SolverState,
    /// Wall time in seconds spent on the run so far, over all its segments.
    pub wall_seconds: f64,
}

/// Writes a [`Checkpoint`] of its three parts to `path` (atomically: temporary file, then
/// rename).
pub fn write(path: &Path, config_toml: &str, state: &SolverState, wall_seconds: f64) -> Result<()> {
    let w = H5Writer::create_tagged(path, CHECKPOINT_TAG)?;
    w.attr_str("/", "config_toml", config_toml)?;
    w.attr_f64("/", "wall_seconds", wall_seconds)?;
    w.attr_u64("/", "window", state.window as u64)?;
    w.attr_u64("/", "window_iterations", state.window_iterations as u64)?;
    w.attr_u64("/", "population", state.population as u64)?;
    let k = &state.kernels;
    w.write_1d("kernels/kappa", k.kappa.view(), "t", "eps", "kappa(t)")?;
    w.write_2d(
        "kernels/m_c",
        k.m_c.view(),
        ["t", "t_prime"],
        "eps^2",
        "M_C(t,t')",
    )?;
    w.write_2d(
        "kernels/m_r",
        k.m_r.view(),
        ["t", "s"],
        "eps^2/zeta_hat",
        "M_R(t,s)",
    )?;
    let h = &state.history;
    let cols: Array2<f64> = Array2::from_shape_fn((h.len(), 9), |(i, j)| {
        let r = &h[i];
        [
            r.iteration as f64,
            r.window as f64,
            r.grid_points as f64,
            r.population as f64,
            r.residual,
            r.noise_floor,
            r.target,
            r.regularisation,
            r.seconds,
        ][j]
    });
    w.write_2d(
        "history",
        cols.view(),
        ["iteration", "field"],
        "mixed",
        "iteration, window, grid_points, population, residual, noise_floor, target, regularisation, seconds",
    )?;
    w.finish()?;
    Ok(())
}

fn fmt_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Opens the dmfe checkpoint at `path`, refusing other files with one line.
fn open(path: &Path) -> Result<hdf5::File> {
    if !path.exists() {
        return Err(fmt_err(path, "no such checkpoint"));
    }
    let f = hdf5::File::open(path).map_err(|_| fmt_err(path, "not an HDF5 checkpoint of dmfe"))?;
    let tag = f
        .attr("dmfe_format")
        .ok()
        .and_then(|a| read_attr(&a).as_str().map(str::to_string))
        .ok_or_else(|| fmt_err(path, "not a dmfe checkpoint (no dmfe_format attribute)"))?;
    if tag == CHECKPOINT_TAG {
        return Ok(f);
    }
    let message = if tag.starts_with("dmfe-checkpoint") {
        format!("a checkpoint of another dmfe version ({tag}, this one reads {CHECKPOINT_TAG}); start the run again")
    } else {
        format!("not a checkpoint (dmfe_format = {tag}); resume from NAME.ckpt")
    };
    Err(fmt_err(path, message))
}

/// Reads only the config text of the checkpoint at `path`.
pub fn read_config(path: &Path) -> Result<String> {
    OutputFile::from_file(path, open(path)?).require_str("", "config_toml")
}

/// Reads a checkpoint. Every dataset is checksummed (Fletcher32), so a damaged one fails
/// here instead of being resumed from.
pub fn read(path: &Path) -> Result<Checkpoint> {
    let f = OutputFile::from_file(path, open(path)?);
    let int = |name: &str| -> Result<usize> { Ok(f.require_f64("", name)? as usize) };
    let kernels = Kernels {
        kappa: f.read_1d("kernels/kappa")?,
        m_c: f.read_2d("kernels/m_c")?,
        m_r: f.read_2d("kernels/m_r")?,
    };
    let history = f
        .read_2d("history")?
        .rows()
        .into_iter()
        .map(|r| IterationReport {
            iteration: r[0] as usize,
            window: r[1] as usize,
            grid_points: r[2] as usize,
            population: r[3] as usize,
            residual: r[4],
            noise_floor: r[5],
            target: r[6],
            regularisation: r[7],
            seconds: r[8],
        })
        .collect();
    let state = SolverState {
        kernels,
        window: int("window")?,
        window_iterations: int("window_iterations")?,
        population: int("population")?,
        history,
    };
    Ok(Checkpoint {
        config_toml: f.require_str("", "config_toml")?,
        state,
        wall_seconds: f.require_f64("", "wall_seconds")?,
    })
}

/// Observer that checkpoints after every iteration and stops the solve, once the
/// checkpoint is safe, when `interrupt` has been raised (SIGINT/SIGTERM).
pub struct Checkpointer<'a> {
    /// Checkpoint file.
    pub path: PathBuf,
    /// Config text stored with it.
    pub config_toml: String,
    /// Wall time of the run's earlier segments (0 for a fresh run).
    pub wall_before: f64,
    /// When this segment started.
    pub started: Instant,
    /// Raised by the signal handler.
    pub interrupt: &'a std::sync::atomic::AtomicBool,
    /// The last iteration whose state is in the checkpoint file (0: none yet).
    pub saved_iteration: usize,
}

impl Observer for Checkpointer<'_> {
    fn observe(&mut self, _report: &IterationReport, state: &SolverState) -> Result<()> {
        let wall = self.wall_before + self.started.elapsed().as_secs_f64();
        write(&self.path, &self.config_toml, state, wall)?;
        // The iterations the saved state has done (at the final iteration one fewer than the
        // report's: its checkpoint holds the state before it).
        self.saved_iteration = state.history.len();
        self.interruption().map_or(Ok(()), Err)
    }

    /// The signal, seen between blocks of a pass: the iteration in progress is dropped and
    /// the checkpoint of the one before resumes the run.
    fn interruption(&self) -> Option<Error> {
        self.interrupt
            .load(std::sync::atomic::Ordering::SeqCst)
            .then(|| Error::Interrupted {
                iteration: self.saved_iteration,
                checkpoint: self.path.clone(),
            })
    }
}

/// Keys of a run config that may differ between a checkpoint and a resumed run (with
/// `--allow-change`): they change how long the iteration goes on or where output goes, not
/// the equations.
pub const SAFE_KEYS: &[&str] = &[
    "solver.max_iterations",
    "solver.tolerance",
    "output.path",
    "output.samples",
];

/// The dotted keys whose values differ between two TOML documents.
pub fn differing_keys(a: &toml::Value, b: &toml::Value) -> Vec<String> {
    fn walk(prefix: &str, a: Option<&toml::Value>, b: Option<&toml::Value>, out: &mut Vec<String>) {
        match (a, b) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&p, x.get(k), y.get(k), out);
                }
            }
            (x, y) if x != y => out.push(prefix.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", Some(a), Some(b), &mut out);
    out
}
