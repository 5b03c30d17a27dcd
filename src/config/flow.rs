//! The configuration of `dmfe flow` (every key is documented in `dmfe config flow`, which
//! prints `src/config/flow_reference.toml`): the sections of `dmfe run` without a strain
//! schedule, and `[flow]`, the rates and how each is run to steady state.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::run::{
    check, default_solver, no_noise, DrivingSection, GridSection, ModelSection, OutputSection,
    PopulationSection, RunConfig, SolverSection,
};
use crate::dynamics::PopulationSpec;
use crate::error::Result;
use crate::flow::SeedBudget;
use crate::noise::ExternalNoise;
use crate::potential::Potential;

/// Largest gamma_eff of a start-up up to which `dmfe flow` keeps the gap proposal (and the
/// configured splitting) by default; beyond it, the affine proposal.
pub const AFFINE_FROM: f64 = 2.0;

/// The fully commented reference configuration printed by `dmfe config flow`.
pub const FLOW_REFERENCE_CONFIG: &str = include_str!("flow_reference.toml");

/// `[flow]`: the shear rates of the flow curve and how each one is run and judged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSection {
    /// Strain rates gamma_dot, increasing, each > 0.
    pub rates: Vec<f64>,
    /// Strain each rate is run to: t_max = strain / gamma_dot, within [t_min, grid.t_max].
    #[serde(default = "default_strain")]
    pub strain: f64,
    /// Shortest run (the relaxation the fastest rates still need), <= grid.t_max.
    #[serde(default)]
    pub t_min: f64,
    /// Fraction of each run, at its end, over which the steady state is judged and averaged.
    #[serde(default = "default_steady_fraction")]
    pub steady_fraction: f64,
    /// Largest drift between the two halves of that window, in standard errors of the
    /// difference, that still counts as steady.
    #[serde(default = "default_drift_tolerance")]
    pub drift_tolerance: f64,
    /// Independent seeds per rate (population.seed, +1, ...): their scatter is the error
    /// of the steady stress including the kernels' own noise; 1 = one run per rate.
    /// With `target_error`, the pilot: seeds always run before the target is checked.
    #[serde(default = "default_seeds")]
    pub seeds: usize,
    /// Relative standard error of the steady stress over the seeds at which a rate stops
    /// adding seeds (None: exactly `seeds` seeds per rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_error: Option<f64>,
    /// Most seeds a rate gets with `target_error` (default [`DEFAULT_MAX_SEEDS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seeds: Option<usize>,
    /// Also run each start-up's unstrained control (same members, gamma_dot = 0): a
    /// control variate for the stress, the linear response and the Green-Kubo viscosity.
    #[serde(default = "default_control")]
    pub control: bool,
}

/// Most seeds per rate with `flow.target_error` unless `flow.max_seeds` says otherwise.
pub const DEFAULT_MAX_SEEDS: usize = 256;

/// Fewest pilot seeds with `flow.target_error`: their scatter is the first estimate of the
/// error.
pub const MIN_PILOT_SEEDS: usize = 4;

fn default_seeds() -> usize {
    1
}
fn default_control() -> bool {
    true
}

fn default_strain() -> f64 {
    20.0
}
fn default_steady_fraction() -> f64 {
    0.5
}
fn default_drift_tolerance() -> f64 {
    2.0
}

/// The whole configuration of `dmfe flow`: one state point, driven at each rate of
/// `[flow]` from equilibrium (start-up at constant rate) to steady state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    /// State point and dynamics.
    pub model: ModelSection,
    /// Pair potential.
    pub potential: Potential,
    /// External noise.
    #[serde(default = "no_noise")]
    pub noise: ExternalNoise,
    /// Driving protocol (shear or random_displacements); the schedule is the rate.
    pub driving: DrivingSection,
    /// The time grid of the longest run: its t_max, and dt = t_max / steps for every rate.
    pub grid: GridSection,
    /// Population (the same members, seed and splitting at every rate).
    pub population: PopulationSection,
    /// Solver.
    #[serde(default = "default_solver")]
    pub solver: SolverSection,
    /// Output.
    pub output: OutputSection,
    /// Rates and steady-state judgement.
    pub flow: FlowSection,
}

impl FlowConfig {
    /// Loads `path`, applies `--set` overrides, deserialises and validates (every rate's run).
    pub fn load(path: &Path, overrides: &[String]) -> Result<FlowConfig> {
        let cfg: FlowConfig = super::load_as(path, overrides)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The configuration as TOML text (stored in the output file).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }

    /// How many seeds each rate gets ([`SeedBudget`]).
    pub fn budget(&self) -> SeedBudget {
        let f = &self.flow;
        match f.target_error {
            None => SeedBudget::fixed(f.seeds),
            Some(target) => SeedBudget {
                min: f.seeds,
                target: Some(target),
                max: f.max_seeds.unwrap_or(DEFAULT_MAX_SEEDS),
            },
        }
    }

    /// Time step dt = grid.t_max / grid.steps, common to every rate.
    pub fn dt(&self) -> f64 {
        self.grid.t_max / self.grid.steps as f64
    }

    /// Steps of the run at `rate`: strain / rate within [t_min, grid.t_max], in whole steps
    /// of dt (at least 2).
    pub fn steps(&self, rate: f64) -> usize {
        let f = &self.flow;
        let t = (f.strain / rate).clamp(f.t_min, self.grid.t_max);
        ((t / self.dt()).round() as usize).clamp(2, self.grid.steps)
    }

    /// sqrt(F) of the driving (NaN when the driving section does not define F).
    fn driving_scale(&self) -> f64 {
        self.driving
            .resolve(self.dt())
            .map_or(f64::NAN, |(d, _)| d.variance().sqrt())
    }

    /// The population of a start-up reaching gamma_eff = `strain` with seed offset `seed`:
    /// `[population]` as given when it sets `strain_reach`, or when the strain is at most
    /// [`AFFINE_FROM`]; beyond, the affine proposal reaching `strain` (docs/equations.md,
    /// "Affine proposal": with the gap proposal the members in contact thin out as
    /// 1/gamma^2), without antithetic pairs (they need the gap proposal).
    fn sampling(&self, strain: f64, seed: usize) -> PopulationSection {
        let p = &self.population;
        let affine = p.strain_reach.is_none() && strain > AFFINE_FROM;
        PopulationSection {
            seed: p.seed + seed as u64,
            strain_reach: if affine { Some(strain) } else { p.strain_reach },
            antithetic: p.antithetic && !affine,
            ..p.clone()
        }
    }

    /// The `dmfe run` configuration of the start-up at `rate` with seed offset `seed`:
    /// constant-rate driving on [`FlowConfig::steps`] steps of dt, sampled as
    /// [`FlowConfig::sampling`] says.
    pub fn run_config(&self, rate: f64, seed: usize) -> RunConfig {
        let steps = self.steps(rate);
        RunConfig {
            model: self.model.clone(),
            potential: self.potential,
            noise: self.noise,
            driving: DrivingSection {
                schedule: Some("rate".into()),
                gamma_dot: Some(rate),
                ..self.driving.clone()
            },
            grid: GridSection {
                t_max: steps as f64 * self.dt(),
                steps,
                scheme: self.grid.scheme.clone(),
            },
            population: self.sampling(rate * steps as f64 * self.dt() * self.driving_scale(), seed),
            solver: self.solver.clone(),
            output: self.output.clone(),
        }
    }

    /// The unstrained control of [`FlowConfig::run_config`]: gamma_dot = 0 with the sampling
    /// of the sheared run pinned (its MSD reach and strain reach), so that its members are
    /// the sheared run's, member by member.
    pub fn control_config(&self, rate: f64, seed: usize, sheared: &PopulationSpec) -> RunConfig {
        let mut cfg = self.run_config(rate, seed);
        cfg.driving.gamma_dot = Some(0.0);
        cfg.population.reach = Some(sheared.reach);
        cfg.population.strain_reach = Some(sheared.strain_reach);
        cfg
    }

    /// Checks `[flow]` and the driving, then every rate's run configuration.
    pub fn validate(&self) -> Result<()> {
        let d = &self.driving;
        check(d.kind != "none", "driving.kind", || {
            "a flow curve needs driving: shear or random_displacements".into()
        })?;
        check(
            d.schedule.as_deref().is_none_or(|s| s == "rate"),
            "driving.schedule",
            || "dmfe flow drives at constant rate: leave the schedule out, or set \"rate\"".into(),
        )?;
        check(d.gamma_dot.is_none(), "driving.gamma_dot", || {
            "set the rates in flow.rates".into()
        })?;
        let f = &self.flow;
        check(!f.rates.is_empty(), "flow.rates", || {
            "give at least one rate".into()
        })?;
        for (i, &r) in f.rates.iter().enumerate() {
            check(r.is_finite() && r > 0.0, "flow.rates", || {
                format!("every rate must be > 0, got {r}")
            })?;
            check(i == 0 || r > f.rates[i - 1], "flow.rates", || {
                "the rates must increase".into()
            })?;
        }
        check(
            f.strain.is_finite() && f.strain > 0.0,
            "flow.strain",
            || format!("must be > 0, got {}", f.strain),
        )?;
        check(
            f.t_min.is_finite() && f.t_min >= 0.0 && f.t_min <= self.grid.t_max,
            "flow.t_min",
            || {
                format!(
                    "must lie in [0, grid.t_max = {}], got {}",
                    self.grid.t_max, f.t_min
                )
            },
        )?;
        check(
            f.steady_fraction > 0.0 && f.steady_fraction < 1.0,
            "flow.steady_fraction",
            || format!("must lie in (0, 1), got {}", f.steady_fraction),
        )?;
        check(
            f.drift_tolerance.is_finite() && f.drift_tolerance > 0.0,
            "flow.drift_tolerance",
            || format!("must be > 0, got {}", f.drift_tolerance),
        )?;
        check(f.seeds >= 1, "flow.seeds", || "must be >= 1".into())?;
        if let Some(target) = f.target_error {
            check(target > 0.0 && target < 1.0, "flow.target_error", || {
                format!("must lie in (0, 1) (a relative error), got {target}")
            })?;
            check(f.seeds >= MIN_PILOT_SEEDS, "flow.seeds", || {
                format!(
                    "with flow.target_error the first flow.seeds seeds estimate the error: \
                     must be >= {MIN_PILOT_SEEDS}, got {}",
                    f.seeds
                )
            })?;
        }
        if let Some(max) = f.max_seeds {
            check(f.target_error.is_some(), "flow.max_seeds", || {
                "caps the seeds of flow.target_error: set that too, or use flow.seeds".into()
            })?;
            check(max >= f.seeds, "flow.max_seeds", || {
                format!("must be >= flow.seeds = {}, got {max}", f.seeds)
            })?;
        }
        let last = self.budget().max - 1;
        for &r in &f.rates {
            self.run_config(r, last).problem()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Antithetic pairs stay on for a rate the gap proposal samples (gamma_dot = 0.1 to
    /// strain 1) and are turned off where the affine proposal takes over (gamma_dot = 3 to
    /// strain 20), and both runs are valid problems.
    #[test]
    fn antithetic_pairs_only_on_the_gap_proposal() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("runs/flow-liquid.toml");
        let cfg = FlowConfig::load(&path, &["population.antithetic=true".into()]).unwrap();
        let slow = cfg.run_config(0.1, 0);
        assert!(slow.population.antithetic && slow.population.strain_reach.is_none());
        let fast = cfg.run_config(3.0, 0);
        assert!(!fast.population.antithetic);
        // 67 steps of dt = 0.1: the run reaches strain 20.1.
        assert!((fast.population.strain_reach.unwrap() - 20.1).abs() < 1e-9);
        for run in [slow, fast] {
            run.problem().unwrap();
        }
    }
}
