//! `dmfe flow`: one start-up at constant rate per rate of `[flow]`, each solved by the
//! population solver and judged for steady state, written as one flow-curve file.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use dmfe::config::FlowConfig;
use dmfe::dynamics::{solve_from, Observer, SolverState};
use dmfe::flow::{Control, FlowPoint, SeedBudget, Seeds};
use dmfe::output::{write_flow, H5Writer, OutputLock, Provenance};
use dmfe::ranks::Ranks;

use super::progress::Progress;
use super::run::agree_all;

/// What `dmfe flow` was asked to do.
pub struct FlowArgs {
    /// Config file.
    pub config: PathBuf,
    /// Output path override.
    pub output: Option<PathBuf>,
    /// `--set` overrides.
    pub set: Vec<String>,
    /// Worker threads.
    pub threads: Option<usize>,
    /// No progress or summary.
    pub quiet: bool,
}

/// Loads and checks the config and the output path, solves every rate in turn, writes the
/// flow curve and prints one line per rate. With several `ranks` every solve is spread over
/// them as in `dmfe run` (the same curve bit for bit), and rank 0 alone checks, locks,
/// reports and writes.
pub fn run(args: FlowArgs, ranks: &dyn Ranks) -> Result<()> {
    let root = ranks.is_root();
    let loaded = (|| -> Result<_> {
        let mut config = FlowConfig::load(&args.config, &args.set)?;
        if let Some(o) = &args.output {
            config.output.path = o.clone();
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(super::threads(args.threads)?)
            .build()?;
        Ok((config, pool))
    })();
    let (config, pool) = agree_all(ranks, loaded)?;
    let out_path = config.output.path.clone();
    let claim = root.then(|| -> Result<OutputLock> {
        H5Writer::check_writable(&out_path, &[args.config.as_path()])?;
        // The slowest rate runs longest: its grid sets the peak memory.
        let (longest, _) = config.run_config(config.flow.rates[0], 0).problem()?;
        super::run::check_memory(&longest, pool.current_num_threads())?;
        Ok(OutputLock::acquire(&out_path)?)
    });
    let _lock = agree_all(ranks, claim.transpose())?;
    let quiet = args.quiet || !root;
    let started = Instant::now();
    let rates = config.flow.rates.clone();
    let tol = config.flow.drift_tolerance;
    let mut points = Vec::with_capacity(rates.len());
    let mut first = None;
    let budget = config.budget();
    let solve_one = |cfg: dmfe::config::RunConfig, what: &str| -> Result<_> {
        let (problem, spec) = cfg.problem()?;
        if root {
            let seed = problem.population.seed;
            super::run::warn_about_sampling(&problem, &format!(" ({what}, seed {seed})"));
        }
        if !quiet {
            eprintln!(
                "  {what}: seed {}, t_max = {:.4}, {} steps",
                problem.population.seed,
                problem.grid.time(problem.grid.steps),
                problem.grid.steps
            );
        }
        let clock = Instant::now();
        let mut progress = Progress::new(problem.grid.len(), quiet);
        let solution = pool.install(|| {
            let mut all: [&mut dyn Observer; 1] = [&mut progress];
            let observers: &mut [&mut dyn Observer] = if root { &mut all } else { &mut [] };
            let state = SolverState::initial(&problem, &spec);
            solve_from(&problem, &spec, state, observers, ranks)
        });
        progress.finish();
        let solution = solution?;
        if root {
            let seed = problem.population.seed;
            super::run::warn_if_heavy(&solution, &problem.grid, &format!(" ({what}, seed {seed})"));
        }
        Ok((problem, solution, clock.elapsed().as_secs_f64()))
    };
    // One rate, all its seeds (and controls): the point of seed 0 and its problem.
    let solve_rate = |rate: f64| -> Result<(FlowPoint, dmfe::dynamics::Problem)> {
        let mut point: Option<(FlowPoint, dmfe::dynamics::Problem)> = None;
        let mut all = Seeds::default();
        let clock = Instant::now();
        for seed in 0.. {
            let (problem, solution, seconds) =
                solve_one(config.run_config(rate, seed), "start-up")?;
            let mut p = FlowPoint::new(
                &problem,
                &solution,
                rate,
                config.flow.steady_fraction,
                seconds,
            );
            all.plain.push(p.stress.mean);
            all.heaviest_family.push(
                solution
                    .averages
                    .heaviest_family()
                    .map_or(0.0, |(share, _)| share),
            );
            if config.flow.control {
                let cfg = config.control_config(rate, seed, &problem.population);
                let (_, control, _) = solve_one(cfg, "unstrained control")?;
                let c = Control::new(&problem, &control, &p.window);
                all.controlled.push(p.stress.mean - c.stress.mean);
                all.linear.push(c.linear_mean);
                all.eta_green_kubo.push(c.eta_green_kubo);
                p.control = Some(c);
            }
            point.get_or_insert((p, problem));
            // Every rank holds the same stresses; the root's decision is broadcast anyway,
            // so that no rank can run a seed the others skip.
            let enough = ranks.first_flagged(root && budget.enough(&all.plain)) == Some(0);
            if !quiet && budget.target.is_some() && all.plain.len() >= budget.min {
                eprintln!(
                    "  {} seeds: relative error of the mean stress {:.2}%",
                    all.plain.len(),
                    100.0 * SeedBudget::relative_error(&all.plain)
                );
            }
            if enough {
                break;
            }
        }
        if let Some(target) = budget.target {
            let reached = SeedBudget::relative_error(&all.plain);
            if root && reached > target {
                eprintln!(
                    "warning: gamma_dot = {rate}: {} seeds (flow.max_seeds) give a relative \
                     error of {:.2}%, above flow.target_error = {:.2}%: raise flow.max_seeds \
                     or population.size",
                    all.plain.len(),
                    100.0 * reached,
                    100.0 * target
                );
            }
        }
        let (mut p, problem) = point.expect("at least one seed");
        p.seeds = all;
        p.seeds.seconds = clock.elapsed().as_secs_f64();
        Ok((p, problem))
    };
    let mut skipped = Vec::new();
    for (i, &rate) in rates.iter().enumerate() {
        if !quiet {
            eprintln!("rate {}/{}: gamma_dot = {rate}", i + 1, rates.len());
        }
        let outcome = solve_rate(rate);
        // A run that does not converge or goes non-finite costs its rate, not the curve, on
        // every rank: the rank that met it first (the others hear of it as an error of
        // another rank) says so.
        let own = matches!(
            &outcome,
            Err(e) if matches!(
                e.downcast_ref(),
                Some(dmfe::Error::Diverged { .. } | dmfe::Error::NotConverged { .. })
            )
        );
        if let Some(by) = ranks.first_flagged(own) {
            match &outcome {
                Err(e) if own && by == ranks.rank() => {
                    let from = if root {
                        String::new()
                    } else {
                        format!(" (MPI rank {by})")
                    };
                    eprintln!("warning{from}: gamma_dot = {rate} skipped: {e:#}");
                }
                _ if root => {
                    eprintln!("warning: gamma_dot = {rate} skipped (MPI rank {by} says why)")
                }
                _ => {}
            }
            skipped.push(rate);
            continue;
        }
        let (point, problem) = outcome?;
        first.get_or_insert(problem);
        if !quiet {
            let (a, b) = point.window_times();
            let s = point.stress;
            let (pm, pse) = Seeds::mean_se(&point.seeds.plain);
            let seeds = point.seeds.plain.len();
            let over_seeds = if config.flow.control {
                let (cm, cse) = Seeds::mean_se(&point.seeds.controlled);
                let (lm, _) = Seeds::mean_se(&point.seeds.linear);
                format!(
                    "over {seeds} seeds {pm:.5} +- {pse:.5}, controlled {cm:.5} +- {cse:.5}; \
                     linear response {lm:.5}"
                )
            } else {
                format!("over {seeds} seeds {pm:.5} +- {pse:.5}")
            };
            eprintln!(
                "  stress = {:.5} +- {:.5} over t = {a:.2}-{b:.2} (seed 0); {over_seeds}; drift \
                 (in standard errors): stress {:.1}, pressure {:.1}, energy {:.1}: {}",
                s.mean,
                s.se,
                s.drift_in_se(),
                point.pressure.drift_in_se(),
                point.energy.drift_in_se(),
                if point.is_steady(tol) {
                    "steady"
                } else {
                    "NOT steady (raise grid.t_max or flow.strain)"
                }
            );
        }
        points.push(point);
    }
    if !root {
        return Ok(());
    }
    let provenance = Provenance {
        threads: pool.current_num_threads(),
        ranks: ranks.count(),
        wall_seconds: started.elapsed().as_secs_f64(),
        git_commit: Some(env!("DMFE_GIT_COMMIT").to_string()).filter(|s| !s.is_empty()),
    };
    let Some(problem) = first else {
        anyhow::bail!("no rate converged (each was skipped above)");
    };
    let path = write_flow(&out_path, &config, &problem, &points, &skipped, &provenance)?;
    let unsteady = points.iter().filter(|p| !p.is_steady(tol)).count();
    if unsteady > 0 {
        eprintln!(
            "warning: {unsteady} of {} rates did not reach a steady state within \
             flow.drift_tolerance = {tol} standard errors (flow/steady = 0): raise grid.t_max \
             (and grid.steps) or flow.strain",
            points.len()
        );
    }
    if !quiet {
        eprintln!(
            "wrote {} ({} rates, {:.1} s)",
            path.display(),
            points.len(),
            provenance.wall_seconds
        );
    }
    Ok(())
}
