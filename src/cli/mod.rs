//! Command-line interface: argument parsing and the subcommands.

mod progress;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    /// checkpoint kept; `dmfe run --resume OUTPUT.ckpt` continues it and gives the same
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
        /// Worker threads (default: all cores). Results do not depend on it.
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
    /// Print a complete, commented configuration for `dmfe run` with every key.
    Config,
}

/// Exit code for a bad configuration or bad arguments.
const EXIT_CONFIG: i32 = 2;
/// Exit code of a run stopped by SIGINT/SIGTERM (checkpoint kept).
const EXIT_INTERRUPTED: i32 = 130;

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            config,
            output,
            set,
            threads,
            quiet,
            resume,
            allow_change,
        } => run::run(run::RunArgs {
            config,
            output,
            set,
            threads,
            quiet,
            resume,
            allow_change,
        }),
        Command::Config => {
            print!("{}", dmfe::config::REFERENCE_CONFIG);
            Ok(())
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<dmfe::Error>() {
                Some(dmfe::Error::Config { .. }) => EXIT_CONFIG,
                Some(dmfe::Error::Interrupted { .. }) => EXIT_INTERRUPTED,
                _ => 1,
            }
        }
    }
}
