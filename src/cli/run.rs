//! `dmfe run`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use dmfe::config::RunConfig;
use dmfe::dynamics::solve;
use dmfe::output::{write_run, Provenance};

use super::progress::Progress;

/// Loads the config, solves, writes the output and prints a summary.
pub fn run(
    config_path: &Path,
    output: Option<PathBuf>,
    set: &[String],
    threads: Option<usize>,
    quiet: bool,
) -> Result<()> {
    let mut config = RunConfig::load(config_path, set)?;
    if let Some(o) = output {
        config.output.path = o;
    }
    let (problem, spec) = config.problem()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let threads = pool.current_num_threads();
    let start = Instant::now();
    let mut progress = Progress::new(problem.grid.len(), quiet);
    let solution = pool.install(|| solve(&problem, &spec, &mut [&mut progress]));
    progress.finish();
    let solution = solution?;
    let wall = start.elapsed().as_secs_f64();
    let provenance = Provenance {
        threads,
        wall_seconds: wall,
        git_commit: Some(env!("DMFE_GIT_COMMIT").to_string()).filter(|s| !s.is_empty()),
    };
    let path = write_run(
        &config.output.path,
        &config,
        &problem,
        &solution,
        &provenance,
    )?;
    if !quiet {
        let last = solution.history.last().expect("one iteration");
        let n = problem.grid.len();
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
    Ok(())
}
