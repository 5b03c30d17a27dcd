//! `dmfe run`, with checkpoints after every iteration, `--resume`, and clean interruption
//! on SIGINT/SIGTERM.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Result};

use dmfe::checkpoint::{self, checkpoint_path, Checkpointer, SAFE_KEYS};
use dmfe::config::{from_value, RunConfig};
use dmfe::dynamics::{solve_from, SolverState};
use dmfe::output::{write_run, H5Writer, Provenance};

use super::progress::Progress;

/// Raised by the SIGINT/SIGTERM handler; checked after each iteration's checkpoint.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// What `dmfe run` was asked to do.
pub struct RunArgs {
    /// Config file (optional with --resume).
    pub config: Option<PathBuf>,
    /// Output path override.
    pub output: Option<PathBuf>,
    /// `--set` overrides.
    pub set: Vec<String>,
    /// Worker threads.
    pub threads: Option<usize>,
    /// No progress or summary.
    pub quiet: bool,
    /// Checkpoint to resume from.
    pub resume: Option<PathBuf>,
    /// Accept changes of the safe keys on resume.
    pub allow_change: bool,
}

/// The config as a normalised TOML value (defaults filled in), for comparisons.
fn normalised(cfg: &RunConfig) -> toml::Value {
    toml::Value::Table(cfg.to_toml().parse().expect("own TOML parses"))
}

/// The config and the state to start from.
fn start(args: &RunArgs) -> Result<(RunConfig, Option<SolverState>)> {
    let Some(ckpt) = &args.resume else {
        let Some(path) = &args.config else {
            bail!(dmfe::Error::config(
                "config",
                "give a config file, or --resume CHECKPOINT"
            ));
        };
        return Ok((RunConfig::load(path, &args.set)?, None));
    };
    let ckpt = if ckpt.extension().is_some_and(|e| e == "ckpt") {
        ckpt.clone()
    } else {
        // An output path names its checkpoint.
        checkpoint_path(ckpt)
    };
    let (text, state) = checkpoint::read(&ckpt)?;
    let saved: RunConfig = from_value(toml::Value::Table(text.parse()?))?;
    let wanted = match &args.config {
        Some(path) => RunConfig::load(path, &args.set)?,
        None => {
            let mut v = normalised(&saved);
            for s in &args.set {
                dmfe::config::apply_override(&mut v, s)?;
            }
            let cfg: RunConfig = from_value(v)?;
            cfg.problem()?;
            cfg
        }
    };
    let diff = checkpoint::differing_keys(&normalised(&saved), &normalised(&wanted));
    let unsafe_keys: Vec<&String> = diff
        .iter()
        .filter(|k| !SAFE_KEYS.contains(&k.as_str()))
        .collect();
    if !unsafe_keys.is_empty() {
        bail!(dmfe::Error::config(
            "resume",
            format!(
                "the config differs from the checkpoint's in {}; these change the equations, start a new run instead",
                unsafe_keys.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )
        ));
    }
    if !diff.is_empty() && !args.allow_change {
        bail!(dmfe::Error::config(
            "resume",
            format!(
                "the config differs from the checkpoint's in {}; pass --allow-change to accept",
                diff.join(", ")
            )
        ));
    }
    Ok((wanted, Some(state)))
}

/// Refuses a run whose estimated peak memory exceeds what the system has available, naming
/// the key that sets it (the grid: memory grows as grid.steps^2).
fn check_memory(problem: &dmfe::dynamics::Problem, threads: usize) -> Result<()> {
    let need = dmfe::dynamics::memory::peak_bytes(problem, threads);
    let Some(available) = dmfe::dynamics::memory::available_bytes() else {
        return Ok(());
    };
    if need > available {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(dmfe::Error::config(
            "grid.steps",
            format!(
                "a grid of {} points needs about {:.1} GiB (n x n kernels), more than the {:.1} GiB \
                 available: lower grid.steps (memory grows as its square)",
                problem.grid.len(),
                gib(need),
                gib(available)
            ),
        )
        .into());
    }
    Ok(())
}

/// Loads the config (or a checkpoint), solves, writes the output and prints a summary.
pub fn run(args: RunArgs) -> Result<()> {
    let (mut config, state) = start(&args)?;
    if let Some(o) = &args.output {
        config.output.path = o.clone();
    }
    let (problem, spec) = config.problem()?;
    let out_path = config.output.path.clone();
    H5Writer::check_writable(&out_path)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()?;
    let threads = pool.current_num_threads();
    check_memory(&problem, threads)?;
    // A second handler cannot be installed; ignoring the error keeps library use possible.
    let _ = ctrlc::set_handler(|| INTERRUPT.store(true, Ordering::SeqCst));
    let ckpt = checkpoint_path(&out_path);
    let mut checkpointer = Checkpointer {
        path: ckpt.clone(),
        config_toml: config.to_toml(),
        interrupt: &INTERRUPT,
    };
    let start_time = Instant::now();
    let mut progress = Progress::new(problem.grid.len(), args.quiet);
    let state = state.unwrap_or_else(|| SolverState::initial(&problem, &spec));
    let solution = pool.install(|| {
        solve_from(
            &problem,
            &spec,
            state,
            &mut [&mut progress, &mut checkpointer],
        )
    });
    progress.finish();
    let solution = solution?;
    let wall = start_time.elapsed().as_secs_f64();
    let provenance = Provenance {
        threads,
        wall_seconds: wall,
        git_commit: Some(env!("DMFE_GIT_COMMIT").to_string()).filter(|s| !s.is_empty()),
    };
    let path = write_run(&out_path, &config, &problem, &solution, &provenance)?;
    std::fs::remove_file(&ckpt).ok();
    if !args.quiet {
        summary(&solution, &path, wall, threads, problem.grid.len());
    }
    warn_if_noisy(&solution, problem.population.size);
    Ok(())
}

/// Relative Monte-Carlo noise floor of the kernels above which a converged run is reported
/// as noise-dominated.
const NOISY_FLOOR: f64 = 0.2;

/// Warns (even with --quiet) when the run converged onto its noise: the final noise floor
/// of the kernels above [`NOISY_FLOOR`], with the population size that would bring it to 5%.
fn warn_if_noisy(solution: &dmfe::dynamics::Solution, size: usize) {
    let floor = solution.history.last().map_or(0.0, |r| r.noise_floor);
    if floor > NOISY_FLOOR {
        let needed = (size as f64 * (floor / 0.05).powi(2)).ceil();
        eprintln!(
            "warning: the Monte-Carlo noise floor of the kernels is {:.0}% (converged onto noise): \
             raise population.size (the floor falls as 1/sqrt(N); {needed:.0} or more for 5%)",
            100.0 * floor
        );
    }
}

fn summary(solution: &dmfe::dynamics::Solution, path: &Path, wall: f64, threads: usize, n: usize) {
    let last = solution.history.last().expect("one iteration");
    eprintln!(
        "converged: {} iterations, residual {:.2e} (noise floor {:.2e}), Delta_r(t_max) = {:.4}, {:.1} s on {} threads\nwrote {}",
        last.iteration,
        last.residual,
        last.noise_floor,
        solution.particle.delta_r[n - 1],
        wall,
        threads,
        path.display()
    );
}
