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
    Run {
        /// Run configuration (TOML).
        config: PathBuf,
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
    },
    /// Print a complete, commented configuration for `dmfe run` with every key.
    Config,
}

/// Exit code for a bad configuration or bad arguments.
const EXIT_CONFIG: i32 = 2;

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
        } => run::run(&config, output, &set, threads, quiet),
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
                _ => 1,
            }
        }
    }
}
