//! `dmfe static`: one state-following branch (or the dynamical transition) and its summary.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use dmfe::config::StaticConfig;
use dmfe::output::{write_static, H5Writer, OutputLock, Provenance};
use dmfe::statics::{solve_branch, transition, Branch, TransitionKind};

/// What `dmfe static` was asked to do.
pub struct StaticArgs {
    /// Config file.
    pub config: PathBuf,
    /// Output path override.
    pub output: Option<PathBuf>,
    /// `--set` overrides.
    pub set: Vec<String>,
    /// Locate the dynamical transition instead of following a branch.
    pub transition: bool,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// Rows of the printed branch table.
const TABLE_ROWS: usize = 12;

/// Loads the config, solves, writes the output (branch mode) and prints a summary.
pub fn run(args: StaticArgs) -> Result<()> {
    let mut config = StaticConfig::load(&args.config, &args.set)?;
    if let Some(o) = &args.output {
        config.output.path = o.clone();
    }
    let model = config.model()?;
    let start = Instant::now();
    if args.transition {
        let tr = transition(&model)?;
        let wall = start.elapsed().as_secs_f64();
        match tr.kind {
            TransitionKind::PackingFraction => println!(
                "dynamical transition of hard spheres: phi_hat_d = {:.7}, Delta_d = {:.6}, lambda_R = {:.1e} ({:.3} s)",
                tr.phi_hat, tr.delta, tr.lambda_r, wall
            ),
            TransitionKind::Temperature => println!(
                "dynamical transition of {} spheres at phi_hat = {}: T_d = {:.7e}, Delta_d = {:.6}, lambda_R = {:.1e} ({:.3} s)",
                model.interaction.name(),
                tr.phi_hat,
                tr.temperature,
                tr.delta,
                tr.lambda_r,
                wall
            ),
        }
        return Ok(());
    }
    let spec = config.branch()?;
    H5Writer::check_writable(&config.output.path, &[&args.config])?;
    let _lock = OutputLock::acquire(&config.output.path)?;
    let branch = solve_branch(&model, &spec)?;
    let wall = start.elapsed().as_secs_f64();
    let provenance = Provenance {
        ranks: 1,
        threads: 1,
        wall_seconds: wall,
        git_commit: Some(env!("DMFE_GIT_COMMIT").to_string()).filter(|s| !s.is_empty()),
    };
    let path = write_static(&config.output.path, &config, &model, &branch, &provenance)?;
    if !args.quiet {
        print_branch(&branch, model.variance);
        println!(
            "{} points in {:.3} s; wrote {}",
            branch.points.len(),
            wall,
            path.display()
        );
    }
    Ok(())
}

/// The summary and a coarse table of the branch; rows past the Gardner point are marked.
fn print_branch(branch: &Branch, variance: f64) {
    let s = &branch.summary;
    let opt = |x: Option<f64>| x.map_or("none".to_string(), |g| format!("{g:.6}"));
    println!("F (variance of relative displacements) = {variance:.6}");
    println!("Delta_eq      {:.6}", s.delta_eq);
    println!(
        "mu_hat        {:.6}   (RS: F/Delta_eq = {:.6})",
        s.mu,
        variance / s.delta_eq
    );
    println!(
        "sigma_max     {:.6}   at gamma = {:.6}",
        s.sigma_max, s.gamma_sigma_max
    );
    println!(
        "gamma_G       {}   (Gardner point: lambda_R = 0)",
        opt(s.gamma_g)
    );
    println!(
        "gamma_Y       {}   (yield: fold of the branch)",
        opt(s.gamma_y)
    );
    if s.gamma_j.is_some() {
        println!(
            "gamma_J       {}   (shear jamming: the cage closed, Delta -> 0)",
            opt(s.gamma_j)
        );
    }
    println!();
    println!(
        "{:>10} {:>12} {:>12} {:>12} {:>12}",
        "gamma", "sigma_hat", "Delta", "Delta_r", "lambda_R"
    );
    let n = branch.points.len();
    let rows = (0..TABLE_ROWS).map(|k| k * (n - 1) / (TABLE_ROWS - 1));
    let mut last = usize::MAX;
    for i in rows.filter(|&i| {
        let new = i != last;
        last = i;
        new
    }) {
        let p = &branch.points[i];
        let mark = if p.eval.lambda_r > 0.0 {
            ""
        } else {
            "  RS approx."
        };
        println!(
            "{:>10.6} {:>12.6} {:>12.6} {:>12.6} {:>12.3e}{mark}",
            p.state.gamma,
            p.eval.sigma + 0.0, // no "-0.000000" at gamma = 0
            p.state.delta,
            p.state.delta_r(),
            p.eval.lambda_r
        );
    }
    println!();
}
