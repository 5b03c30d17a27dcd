//! `dmfe run`, with checkpoints after every iteration, `--resume`, clean interruption on
//! SIGINT/SIGTERM (a second signal exits at once), and an output path that is checked and
//! locked before solving.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Result};

use dmfe::checkpoint::{self, checkpoint_path, Checkpoint, Checkpointer, SAFE_KEYS};
use dmfe::config::{from_value, RunConfig, AFFINE_FROM};
use dmfe::dynamics::sampling::largest_strain;
use dmfe::dynamics::{solve_from, Observer, SolverState};
use dmfe::output::{same_file, write_run, H5Writer, OutputLock, Provenance};
use dmfe::ranks::{agree, reporter_elsewhere, Ranks};

use super::progress::Progress;

/// Raised by the first SIGINT/SIGTERM; checked after each iteration's checkpoint.
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

/// The keys in which two configs differ, and those of them that change the equations.
fn differences(saved: &RunConfig, wanted: &RunConfig) -> (Vec<String>, Vec<String>) {
    let diff = checkpoint::differing_keys(&normalised(saved), &normalised(wanted));
    let unsafe_keys = diff
        .iter()
        .filter(|k| !SAFE_KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    (diff, unsafe_keys)
}

/// Where a run starts: its config, and the checkpoint it resumes (with its path).
struct Start {
    config: RunConfig,
    resumed: Option<(PathBuf, Checkpoint)>,
}

/// The config and the checkpoint to start from.
fn start(args: &RunArgs) -> Result<Start> {
    let Some(ckpt) = &args.resume else {
        let Some(path) = &args.config else {
            bail!(dmfe::Error::config(
                "config",
                "give a config file, or --resume CHECKPOINT"
            ));
        };
        return Ok(Start {
            config: RunConfig::load(path, &args.set)?,
            resumed: None,
        });
    };
    let ckpt = if ckpt.extension().is_some_and(|e| e == "ckpt") {
        ckpt.clone()
    } else {
        // An output path names its checkpoint.
        checkpoint_path(ckpt)
    };
    let saved = checkpoint::read(&ckpt)?;
    let saved_config: RunConfig = from_value(toml::Value::Table(saved.config_toml.parse()?))?;
    let wanted = match &args.config {
        Some(path) => RunConfig::load(path, &args.set)?,
        None => {
            let mut v = normalised(&saved_config);
            for s in &args.set {
                dmfe::config::apply_override(&mut v, s)?;
            }
            let cfg: RunConfig = from_value(v)?;
            cfg.problem()?;
            cfg
        }
    };
    let (diff, unsafe_keys) = differences(&saved_config, &wanted);
    if !unsafe_keys.is_empty() {
        bail!(dmfe::Error::config(
            "resume",
            format!(
                "the config differs from the checkpoint's in {}; these change the equations, start a new run instead",
                unsafe_keys.join(", ")
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
    Ok(Start {
        config: wanted,
        resumed: Some((ckpt, saved)),
    })
}

/// Refuses a run whose estimated peak memory exceeds what the system has available, naming
/// the key that sets it (the grid: memory grows as grid.steps^2).
pub(super) fn check_memory(problem: &dmfe::dynamics::Problem, threads: usize) -> Result<()> {
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

/// Refuses to overwrite a checkpoint at `ckpt` that belongs to another run (one whose config
/// differs in keys that change the equations, or that cannot be read): the user would lose
/// the means to resume it. A checkpoint of this same run may be replaced.
fn keep_other_checkpoint(ckpt: &Path, config: &RunConfig) -> Result<()> {
    if !ckpt.exists() {
        return Ok(());
    }
    let other = checkpoint::read_config(ckpt)
        .ok()
        .and_then(|text| from_value::<RunConfig>(toml::Value::Table(text.parse().ok()?)).ok());
    let what = match other {
        Some(other) => {
            let (_, unsafe_keys) = differences(&other, config);
            if unsafe_keys.is_empty() {
                return Ok(());
            }
            format!(
                "holds the checkpoint of another run (it differs in {}); resume it with `dmfe run --resume {}`",
                unsafe_keys.join(", "),
                ckpt.display()
            )
        }
        None => "exists and is not a readable checkpoint of dmfe".to_string(),
    };
    bail!(dmfe::Error::config(
        "output.path",
        format!(
            "{} {what}, or choose another output path (-o), or remove it",
            ckpt.display()
        )
    ))
}

/// [`dmfe::ranks::agree`] for the CLI's errors.
pub(super) fn agree_all<T>(ranks: &dyn Ranks, result: Result<T>) -> Result<T> {
    let own = matches!(&result, Err(e) if !matches!(e.downcast_ref(), Some(dmfe::Error::OtherRank { .. })));
    match reporter_elsewhere(ranks, own) {
        Some(rank) => Err(dmfe::Error::OtherRank { rank }.into()),
        None => result,
    }
}

/// On rank 0: checks the output path and its checkpoint (leaving a checkpoint of another
/// run alone) and locks the output for the run.
fn claim_output(
    args: &RunArgs,
    config: &RunConfig,
    resumed: Option<&Path>,
    threads: usize,
    problem: &dmfe::dynamics::Problem,
) -> Result<OutputLock> {
    let out_path = &config.output.path;
    let ckpt = checkpoint_path(out_path);
    let config_file: Vec<&Path> = args.config.iter().map(PathBuf::as_path).collect();
    let mut inputs = config_file.clone();
    inputs.extend(resumed);
    H5Writer::check_writable(out_path, &inputs)?;
    // The checkpoint may replace the one resumed from: it is its continuation.
    H5Writer::check_writable(&ckpt, &config_file)?;
    check_memory(problem, threads)?;
    let lock = OutputLock::acquire(out_path)?;
    if !resumed.is_some_and(|p| same_file(p, &ckpt)) {
        keep_other_checkpoint(&ckpt, config)?;
    }
    Ok(lock)
}

/// Loads the config (or a checkpoint), checks and locks the output path, solves, writes the
/// output and prints a summary. With several `ranks` every rank solves its share of the
/// population and rank 0 alone checks, locks, checkpoints, reports and writes.
pub fn run(args: RunArgs, ranks: &dyn Ranks) -> Result<()> {
    let root = ranks.is_root();
    let started = start(&args).and_then(
        |Start {
             mut config,
             resumed,
         }| {
            if let Some(o) = &args.output {
                config.output.path = o.clone();
            }
            let (problem, spec) = config.problem()?;
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(super::threads(args.threads)?)
                .build()?;
            Ok((config, resumed, problem, spec, pool))
        },
    );
    let (config, resumed, problem, spec, pool) = agree_all(ranks, started)?;
    if root {
        warn_about_sampling(&problem, "");
    }
    let threads = pool.current_num_threads();
    let resumed_path = resumed.as_ref().map(|(p, _)| p.as_path());
    let lock = root.then(|| claim_output(&args, &config, resumed_path, threads, &problem));
    let _lock = agree_all(ranks, lock.transpose())?;
    let out_path = config.output.path.clone();
    let ckpt = checkpoint_path(&out_path);
    let hint = ckpt.clone();
    // A second handler cannot be installed; ignoring the error keeps library use possible.
    let _ = ctrlc::set_handler(move || {
        if INTERRUPT.swap(true, Ordering::SeqCst) {
            eprintln!(
                "\nsecond signal: exiting now; the last checkpoint, if any, is {}",
                hint.display()
            );
            std::process::exit(super::EXIT_INTERRUPTED);
        }
    });
    let (state, wall_before) = match resumed {
        Some((_, c)) => (c.state, c.wall_seconds),
        None => (SolverState::initial(&problem, &spec), 0.0),
    };
    let start_time = Instant::now();
    let mut checkpointer = Checkpointer {
        path: ckpt.clone(),
        config_toml: config.to_toml(),
        wall_before,
        started: start_time,
        interrupt: &INTERRUPT,
        saved_iteration: state.history.len(),
    };
    let quiet = args.quiet || !root;
    let mut progress = Progress::new(problem.grid.len(), quiet);
    let solution = pool.install(|| {
        let mut all: [&mut dyn Observer; 2] = [&mut progress, &mut checkpointer];
        let observers: &mut [&mut dyn Observer] = if root { &mut all } else { &mut [] };
        solve_from(&problem, &spec, state, observers, ranks)
    });
    progress.finish();
    // Errors every rank met alike (a run that does not converge) are reported once.
    let solution = agree(ranks, solution)?;
    if !root {
        return Ok(());
    }
    let wall = wall_before + start_time.elapsed().as_secs_f64();
    let provenance = Provenance {
        threads,
        ranks: ranks.count(),
        wall_seconds: wall,
        git_commit: Some(env!("DMFE_GIT_COMMIT").to_string()).filter(|s| !s.is_empty()),
    };
    let path = write_run(&out_path, &config, &problem, &solution, &provenance)?;
    std::fs::remove_file(&ckpt).ok();
    if !quiet {
        summary(
            &solution,
            &path,
            wall,
            threads,
            ranks.count(),
            problem.grid.len(),
        );
    }
    warn_if_noisy(&solution, problem.population.size);
    warn_if_heavy(&solution, &problem.grid, "");
    Ok(())
}

/// Largest |gamma_eff| up to which antithetic pairs are worth their cost: measured, the
/// stress scatter fell 9.3x, 4.2x and 6.4x at strains 0.0125-0.1, 1.2x at 0.2 and not at all
/// at 0.4, while the even quantities are about 1.4 times noisier (README, "Choosing dt and
/// N").
const PAIRS_STRAIN: f64 = 0.3;

/// Warns (even with --quiet) before solving when a run's sampling does not suit its strain
/// (`what` names the run within a command, or is empty): antithetic pairs without entrants
/// (whose twins are mirrored at their step) beyond the strains where they pay, and entrants
/// with members on the gap proposal beyond gamma_eff = [`AFFINE_FROM`], where the members
/// the strain sweeps into contact before they have handed their weight over are rarely drawn (measured with fixed kernels: the late energy 9% and
/// the stress 13% low at strains 6.7 and 20, README, "Choosing dt and N").
pub(super) fn warn_about_sampling(problem: &dmfe::dynamics::Problem, what: &str) {
    let strain = largest_strain(&problem.model, &problem.grid);
    let population = &problem.population;
    if population.antithetic && population.entry.is_none() && strain > PAIRS_STRAIN {
        eprintln!(
            "warning{what}: population.antithetic with a strain up to gamma_eff = {strain:.3}: \
             the pairs cut the stress's errors only up to strains of about 0.2 and make the \
             kernels noisier; consider antithetic = false (README, \"Choosing dt and N\")"
        );
    }
    if population.entry.is_some() && population.strain_reach <= 0.0 && strain > AFFINE_FROM {
        eprintln!(
            "warning{what}: population.entrants with the gap proposal up to gamma_eff = \
             {strain:.3}: the members swept into contact are rarely drawn and the averages come \
             out low; set population.strain_reach (README, \"Choosing dt and N\")"
        );
    }
}

/// Share of M_C(t, t) carried by one member family above which a run is reported as
/// resting on few members (measured on the last pass, largest over t: 1.7-4.0% for the
/// examples whose late times stay light-tailed, 8.6-19% where a few members carry them: the
/// unsplit step strain and AQRD runs, a sheared glass whose proposal reach is far too long).
const HEAVY_SHARE: f64 = 0.05;

/// Warns (even with --quiet) when one member family carries more than [`HEAVY_SHARE`] of
/// M_C(t, t) at some t (`what` names the run within a command, or is empty).
pub(super) fn warn_if_heavy(
    solution: &dmfe::dynamics::Solution,
    grid: &dmfe::dynamics::Grid,
    what: &str,
) {
    if let Some((share, t)) = solution.averages.heaviest_family() {
        if share > HEAVY_SHARE {
            eprintln!(
                "warning{what}: one member family carries {:.0}% of M_C(t,t) at t = {:.4}: the \
                 errors rest on few members; check that they fall as 1/sqrt(N) with a larger \
                 population.size; population.splitting helps, and a sheared glass needs \
                 a short population.reach, about 1 (README, \"Glasses under steady shear\")",
                100.0 * share,
                grid.time(t)
            );
        }
    }
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

fn summary(
    solution: &dmfe::dynamics::Solution,
    path: &Path,
    wall: f64,
    threads: usize,
    ranks: usize,
    n: usize,
) {
    let last = solution.history.last().expect("one iteration");
    let processes = if ranks > 1 {
        format!(" x {ranks} MPI ranks")
    } else {
        String::new()
    };
    eprintln!(
        "converged: {} iterations, residual {:.2e} (noise floor {:.2e}), Delta_r(t_max) = {:.4}, {:.1} s on {} threads{}\nwrote {}",
        last.iteration,
        last.residual,
        last.noise_floor,
        solution.particle.delta_r[n - 1],
        wall,
        threads,
        processes,
        path.display()
    );
}
