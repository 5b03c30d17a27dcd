//! Command-line interface: argument parsing and the subcommands.

mod flow;
mod inspect;
mod progress;
mod run;
mod statics;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dmfe::ranks::Ranks;

/// Solvers of the mean-field theory of infinite-dimensional glasses under global shear
/// (AQS) and random local displacements (AQRD).
#[derive(Parser)]
#[command(name = "dmfe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Solve the dynamical mean-field equations (population solver) and write HDF5.
    ///
    /// The config is a TOML file (print a commented one with `dmfe config`). The output file
    /// is written under a temporary name and renamed when complete.
    ///
    /// After every iteration the solver state is checkpointed to OUTPUT.ckpt (removed when
    /// the run completes). SIGINT/SIGTERM stop the run after the current iteration with the
    /// checkpoint kept (a second signal exits at once); `dmfe run --resume OUTPUT.ckpt` continues it and gives the same
    /// output as an uninterrupted run.
    Run {
        /// Run configuration (TOML); optional with --resume.
        config: Option<PathBuf>,
        /// Output file (overrides output.path).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Override a config key, e.g. --set driving.gamma_dot=0.01 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Worker threads (default: all cores; at most 4 per core). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
        /// Resume from a checkpoint (OUTPUT.ckpt, or the output path it belongs to).
        #[arg(long, value_name = "CHECKPOINT")]
        resume: Option<PathBuf>,
        /// On resume, accept changes of the keys that do not change the equations
        /// (solver.max_iterations, solver.tolerance, output.path, output.samples).
        #[arg(long)]
        allow_change: bool,
    },
    /// Compute a flow curve sigma(gamma_dot): start-up to steady state at each rate.
    ///
    /// For each rate of flow.rates, the equilibrium state of [model] is driven at that
    /// constant rate (shear, or random displacements) and solved as `dmfe run` would, on a
    /// grid of common dt (grid.t_max / grid.steps) up to t_max = flow.strain / rate (within
    /// [flow.t_min, grid.t_max]). Steady state is judged, not assumed: over the last
    /// flow.steady_fraction of each run, the stress, pressure and energy must not differ
    /// between the window's halves by more than flow.drift_tolerance standard errors. The
    /// file holds per rate the steady stress, convected stress, pressures, energy (window
    /// averages with standard errors that account for their correlation in time), the
    /// effective viscosity sigma/(F gamma_dot), the diffusion constant, the stress overshoot,
    /// the start-up transients and the steady kernels against the lag. With flow.seeds > 1
    /// every rate is repeated with independent seeds, whose scatter gives the error to quote
    /// (it includes the kernels' own noise); with flow.target_error each rate instead adds
    /// seeds until that relative error of its mean stress is reached (at most
    /// flow.max_seeds), so that every point of the curve has the accuracy asked for;
    /// flow.control (default true) also solves each
    /// start-up's unstrained control with the same members, for the controlled stress, the
    /// linear response of the same start-up and the Green-Kubo viscosity. Runs reaching
    /// gamma_eff > 2 use the affine proposal (population.strain_reach). A rate whose run does
    /// not converge is skipped with a warning. In a build with the `mpi` feature,
    /// `mpirun -n R dmfe flow ...` spreads every solve over the R ranks (the same file bit for
    /// bit; README, "Running on a cluster"). Print a commented config with
    /// `dmfe config flow`; plot with scripts/plot_flow.py, tabulate the curve over several
    /// files (with local exponents) with scripts/flow_curve.py; README, "Flow curves".
    Flow {
        /// Flow configuration (TOML).
        config: PathBuf,
        /// Output file (overrides output.path).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Override a config key, e.g. --set flow.rates="[0.1, 1.0]" (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Worker threads (default: all cores; at most 4 per core). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors and warnings.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Follow an equilibrium glass quasistatically in strain (replica-symmetric statics).
    ///
    /// Solves the state-following equations (paper Eqs. (26)-(36)) from gamma = 0 through
    /// the stress overshoot to the yield fold, under global shear (AQS) or random local
    /// displacements (AQRD), and writes the branch to HDF5. Prints the shear modulus, the
    /// overshoot, the Gardner strain (past it the RS values are approximations) and the
    /// yield strain. With --transition, prints phi_hat_d (hard spheres) or T_d at the
    /// config's phi_hat (soft potentials) instead. Print a commented config with
    /// `dmfe config static`.
    Static {
        /// Static configuration (TOML).
        config: PathBuf,
        /// Output file (overrides output.path).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Override a config key, e.g. --set driving.xi=0.7 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Locate the dynamical transition instead of following a branch (no file written).
        #[arg(long)]
        transition: bool,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Print a complete, commented configuration with every key (`run`, `flow` or `static`).
    Config {
        /// Which solver's configuration.
        #[arg(value_enum, default_value_t = ConfigKind::Run)]
        solver: ConfigKind,
    },
    /// Summarise an output file, or print a dataset, a group or a row slice as columns.
    ///
    /// Without DATASET: what run this is, whether it converged, key numbers. With a group
    /// (e.g. `observables`): its one-dimensional datasets as columns, time (or strain) first.
    /// With a two-time dataset (e.g. `kernels/m_c`) and --at T: the row at the t nearest T.
    Inspect {
        /// Output file of `dmfe run` or `dmfe static`.
        file: PathBuf,
        /// Dataset or group path, e.g. observables, observables/stress, kernels/m_c; a group
        /// of attributes (config, provenance, summary) is listed as key = value.
        dataset: Option<String>,
        /// For a two-time dataset: print the row at the time nearest this.
        #[arg(long, value_name = "T", allow_negative_numbers = true)]
        at: Option<f64>,
        /// Comma-separated values with a header line instead of aligned columns.
        #[arg(long)]
        csv: bool,
    },
}

/// The solver whose reference configuration `dmfe config` prints.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ConfigKind {
    /// `dmfe run`.
    Run,
    /// `dmfe flow`.
    Flow,
    /// `dmfe static`.
    Static,
}

/// Exit code for a bad configuration or bad arguments.
const EXIT_CONFIG: i32 = 2;
/// Exit code of a run stopped by SIGINT/SIGTERM (checkpoint kept).
const EXIT_INTERRUPTED: i32 = 130;

/// Most worker threads accepted, per core of the machine: more only cost memory.
const THREADS_PER_CORE: usize = 4;

/// The `--threads` request checked (between 1 and [`THREADS_PER_CORE`] per core), or 0 for
/// rayon's default (all cores, or `RAYON_NUM_THREADS`).
fn threads(requested: Option<usize>) -> dmfe::Result<usize> {
    let Some(n) = requested else { return Ok(0) };
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let most = THREADS_PER_CORE * cores;
    if (1..=most).contains(&n) {
        return Ok(n);
    }
    Err(dmfe::Error::config(
        "--threads",
        format!("{n} is not between 1 and {most} ({THREADS_PER_CORE} per core of this machine's {cores}); results do not depend on it"),
    ))
}

/// The processes of this invocation: MPI's world in a build with the `mpi` feature (one
/// rank without `mpirun`), else one process.
#[cfg(feature = "mpi")]
fn ranks() -> anyhow::Result<Box<dyn Ranks>> {
    match dmfe::ranks::World::initialize() {
        Some(world) => Ok(Box::new(world)),
        None => anyhow::bail!("MPI could not be initialised with MPI_THREAD_SERIALIZED support"),
    }
}

/// The processes of this invocation: MPI's world in a build with the `mpi` feature (one
/// rank without `mpirun`), else one process.
#[cfg(not(feature = "mpi"))]
fn ranks() -> anyhow::Result<Box<dyn Ranks>> {
    Ok(Box::new(dmfe::ranks::OneProcess))
}

/// Runs the CLI and returns the process exit code. Under `mpirun`, `dmfe run` and `dmfe flow`
/// are spread over the ranks; every other command runs on rank 0 alone.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let ranks = match ranks() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return 1;
        }
    };
    if !ranks.is_root() && !matches!(cli.command, Command::Run { .. } | Command::Flow { .. }) {
        return 0;
    }
    let result = match cli.command {
        Command::Run {
            config,
            output,
            set,
            threads,
            quiet,
            resume,
            allow_change,
        } => run::run(
            run::RunArgs {
                config,
                output,
                set,
                threads,
                quiet,
                resume,
                allow_change,
            },
            ranks.as_ref(),
        ),
        Command::Flow {
            config,
            output,
            set,
            threads,
            quiet,
        } => flow::run(
            flow::FlowArgs {
                config,
                output,
                set,
                threads,
                quiet,
            },
            ranks.as_ref(),
        ),
        Command::Static {
            config,
            output,
            set,
            transition,
            quiet,
        } => statics::run(statics::StaticArgs {
            config,
            output,
            set,
            transition,
            quiet,
        }),
        Command::Config { solver } => {
            print!(
                "{}",
                match solver {
                    ConfigKind::Run => dmfe::config::REFERENCE_CONFIG,
                    ConfigKind::Flow => dmfe::config::FLOW_REFERENCE_CONFIG,
                    ConfigKind::Static => dmfe::config::STATIC_REFERENCE_CONFIG,
                }
            );
            Ok(())
        }
        Command::Inspect {
            file,
            dataset,
            at,
            csv,
        } => {
            return inspect::run(inspect::InspectArgs {
                file,
                dataset,
                at,
                csv,
            })
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            // The library's errors name their cause themselves; others show their chain.
            let library = e.downcast_ref::<dmfe::Error>();
            // Each cause is reported by the lowest rank it stopped ([`dmfe::ranks::agree`]);
            // the other ranks have nothing to add but rank 0, which says who stopped.
            let other = matches!(library, Some(dmfe::Error::OtherRank { .. }));
            if ranks.is_root() || !other {
                let from = if ranks.is_root() {
                    String::new()
                } else {
                    format!(" (MPI rank {})", ranks.rank())
                };
                match library {
                    Some(d) => eprintln!("error{from}: {d}"),
                    None => eprintln!("error{from}: {e:#}"),
                }
            }
            match library {
                Some(dmfe::Error::Config { .. }) => EXIT_CONFIG,
                Some(dmfe::Error::Interrupted { .. }) => EXIT_INTERRUPTED,
                _ => 1,
            }
        }
    }
}
