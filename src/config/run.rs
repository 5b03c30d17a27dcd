//! The configuration of `dmfe run` (every key is documented in `dmfe config`, which prints
//! `src/config/reference.toml`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::driving::Driving;
use crate::dynamics::entry::Entry;
use crate::dynamics::sampling::largest_strain;
use crate::dynamics::splitting::Splitting;
use crate::dynamics::{Grid, Model, PopulationSpec, Problem, Scheme, SolverSpec};
use crate::error::{Error, Result};
use crate::noise::ExternalNoise;
use crate::potential::Potential;
use crate::schedule::StrainSchedule;

/// The fully commented reference configuration printed by `dmfe config`.
pub const REFERENCE_CONFIG: &str = include_str!("reference.toml");

/// `[model]`: state point and dynamics (docs/equations.md (D1), (E1)).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Rescaled packing fraction phi_hat (>= 0).
    pub phi_hat: f64,
    /// Rescaled friction zeta_hat (> 0).
    #[serde(default = "one")]
    pub zeta_hat: f64,
    /// Bath temperature T (>= 0; 0 is the athermal case), units of eps.
    #[serde(rename = "T")]
    pub temperature: f64,
    /// Preparation temperature T0 (> 0) of the equilibrium initial state.
    #[serde(rename = "T0")]
    pub t0: f64,
}

/// `[driving]`: protocol and strain schedule, flat so that `--set driving.gamma_dot=...`
/// works.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrivingSection {
    /// "none", "shear" or "random_displacements".
    #[serde(default = "none_kind")]
    pub kind: String,
    /// Variance F of relative displacements (random_displacements).
    pub f: Option<f64>,
    /// Correlation length xi for F by Eq. (9) (random_displacements).
    pub xi: Option<f64>,
    /// Amplitude Xi for F by Eq. (9) (random_displacements; default 1).
    pub amplitude: Option<f64>,
    /// "rate", "step", "oscillatory" or "table".
    pub schedule: Option<String>,
    /// Strain rate (schedule = "rate").
    pub gamma_dot: Option<f64>,
    /// Strain amplitude (schedule = "step" or "oscillatory").
    pub gamma0: Option<f64>,
    /// Start of the step (schedule = "step").
    pub t_step: Option<f64>,
    /// Ramp duration of the step (schedule = "step"; default 2 dt).
    pub ramp: Option<f64>,
    /// Angular frequency (schedule = "oscillatory").
    pub omega: Option<f64>,
    /// Times of the table (schedule = "table").
    pub times: Option<Vec<f64>>,
    /// Strains of the table (schedule = "table").
    pub strains: Option<Vec<f64>>,
}

/// `[grid]`: the uniform two-time grid.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSection {
    /// Final time t_max (> 0).
    pub t_max: f64,
    /// Number of time steps (>= 2); dt = t_max / steps.
    pub steps: usize,
    /// Time-discrete scheme: "discrete" (default) or "trapezoid" (docs/equations.md (N3)-(N4)).
    #[serde(default = "default_scheme")]
    pub scheme: String,
}

fn default_scheme() -> String {
    Scheme::default().name().into()
}

/// `[population]`: the Monte-Carlo population of effective processes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSection {
    /// Number of members (>= 2).
    pub size: usize,
    /// Seed of the members' random streams.
    #[serde(default = "one_u64")]
    pub seed: u64,
    /// Lower end of the initial-gap window (default: where e^h g_in(h) falls 14 decades).
    pub h0_min: Option<f64>,
    /// Upper end of the initial-gap window (default: a free-diffusion estimate of reach).
    pub h0_max: Option<f64>,
    /// MSD reach of the h0 proposal (default: a free-particle bound over the run).
    pub reach: Option<f64>,
    /// Strain reach gamma_s of the affine proposal of (u = h0 - g_c^2/2, g_c) (default 0:
    /// the gap proposal alone).
    pub strain_reach: Option<f64>,
    /// Importance splitting of members as they move (weight windows).
    #[serde(default = "default_splitting")]
    pub splitting: bool,
    /// Weight-window ratio c > 1 of the splitting.
    #[serde(default = "default_split_ratio")]
    pub split_ratio: f64,
    /// Most running lanes (members and copies) per member, >= 1.
    #[serde(default = "default_lanes_per_member")]
    pub lanes_per_member: usize,
    /// Antithetic pairs: members 2k and 2k + 1 mirror each other (c_u -> -c_u), so the
    /// part of the stress odd in the strain cancels pair by pair (gap proposal only; size
    /// even).
    #[serde(default)]
    pub antithetic: bool,
    /// Entrants drawn at each step (even; 0: none): members drawn as their free gap comes
    /// near contact, to whom the members hand their weight over.
    #[serde(default)]
    pub entrants: usize,
    /// Entry level L: a free gap at or below it hands weight over to the entrants (default
    /// 0.5 at rest, 1 under driving).
    pub entry_level: Option<f64>,
    /// Hand-over rate (per unit time) while the free gap is at or below L (default 1 at
    /// rest, min(5, 1/dt) under driving).
    pub entry_rate: Option<f64>,
    /// Width of the ramp below entry_level over which the hand-over rate rises from zero to
    /// entry_rate (0: a step at entry_level; default 1 with antithetic pairs, else 0).
    pub entry_width: Option<f64>,
    /// Time over which the hand-over rate rises linearly from zero to entry_rate (default 0:
    /// the full rate from the first step).
    #[serde(default)]
    pub entry_ramp: f64,
}

/// `[solver]`: the Eissfeller-Opper iteration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSection {
    /// Fraction of the new kernels mixed into the old ones per iteration, in (0, 1] (halved
    /// when the residual rises within a window).
    #[serde(default = "one")]
    pub damping: f64,
    /// Relative residual below which the iteration has converged.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// Iterations allowed per time window.
    #[serde(default = "default_max_iterations")]
    pub max_iterations: usize,
    /// Fewest steps of the first time window (the grid's steps halved as often as that
    /// leaves); windows double until they cover the grid.
    #[serde(default = "default_window")]
    pub window: usize,
    /// Presolve fraction of the population, in (0, 1].
    #[serde(default = "one")]
    pub presolve: f64,
}

/// `[output]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Path of the HDF5 output file (relative paths are relative to the working directory).
    pub path: PathBuf,
    /// Number of member trajectories h(t) stored as samples.
    #[serde(default = "default_samples")]
    pub samples: usize,
}

/// The whole configuration of `dmfe run`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// State point and dynamics.
    pub model: ModelSection,
    /// Pair potential.
    pub potential: Potential,
    /// External noise.
    #[serde(default = "no_noise")]
    pub noise: ExternalNoise,
    /// Driving protocol and strain schedule.
    #[serde(default)]
    pub driving: DrivingSection,
    /// Time grid.
    pub grid: GridSection,
    /// Population.
    pub population: PopulationSection,
    /// Solver.
    #[serde(default = "default_solver")]
    pub solver: SolverSection,
    /// Output.
    pub output: OutputSection,
}

fn one() -> f64 {
    1.0
}
fn one_u64() -> u64 {
    1
}
fn none_kind() -> String {
    "none".into()
}
pub(super) fn no_noise() -> ExternalNoise {
    ExternalNoise::None
}
fn default_tolerance() -> f64 {
    1e-4
}
fn default_max_iterations() -> usize {
    60
}
fn default_window() -> usize {
    32
}
fn default_splitting() -> bool {
    false
}
fn default_split_ratio() -> f64 {
    2.0
}
fn default_lanes_per_member() -> usize {
    8
}
fn default_samples() -> usize {
    8
}
pub(super) fn default_solver() -> SolverSection {
    SolverSection {
        damping: one(),
        tolerance: default_tolerance(),
        max_iterations: default_max_iterations(),
        window: default_window(),
        presolve: one(),
    }
}

pub(super) fn check(ok: bool, key: &str, msg: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::config(key, msg()))
    }
}

fn lift(r: std::result::Result<(), (&'static str, String)>) -> Result<()> {
    r.map_err(|(k, m)| Error::config(k, m))
}

impl Default for DrivingSection {
    fn default() -> Self {
        DrivingSection {
            kind: none_kind(),
            f: None,
            xi: None,
            amplitude: None,
            schedule: None,
            gamma_dot: None,
            gamma0: None,
            t_step: None,
            ramp: None,
            omega: None,
            times: None,
            strains: None,
        }
    }
}

impl DrivingSection {
    /// The driving protocol and strain schedule this section describes; rejects keys that
    /// the chosen kind or schedule does not use.
    pub fn resolve(&self, dt: f64) -> Result<(Driving, StrainSchedule)> {
        let used = |name: &str, present: bool, allowed: bool| -> Result<()> {
            check(!present || allowed, &format!("driving.{name}"), || {
                "not used by this driving kind or schedule".into()
            })
        };
        let driving = match self.kind.as_str() {
            "none" => Driving::None,
            "shear" => Driving::Shear,
            "random_displacements" => Driving::RandomDisplacements {
                f: self.f,
                xi: self.xi,
                amplitude: self.amplitude,
            },
            other => {
                return Err(Error::config(
                    "driving.kind",
                    format!(
                        "unknown kind '{other}' (expected none, shear or random_displacements)"
                    ),
                ))
            }
        };
        let rd = matches!(driving, Driving::RandomDisplacements { .. });
        used("f", self.f.is_some(), rd)?;
        used("xi", self.xi.is_some(), rd)?;
        used("amplitude", self.amplitude.is_some(), rd)?;
        lift(driving.validate())?;
        let sched = self.schedule.as_deref();
        if matches!(driving, Driving::None) {
            check(
                sched.is_none() || sched == Some("none"),
                "driving.schedule",
                || "a strain schedule needs driving.kind = shear or random_displacements".into(),
            )?;
        }
        let need = |name: &str, v: Option<f64>| {
            v.ok_or_else(|| Error::config(format!("driving.{name}"), "required by this schedule"))
        };
        let s = sched.unwrap_or("none");
        used("gamma_dot", self.gamma_dot.is_some(), s == "rate")?;
        used(
            "gamma0",
            self.gamma0.is_some(),
            s == "step" || s == "oscillatory",
        )?;
        used("t_step", self.t_step.is_some(), s == "step")?;
        used("ramp", self.ramp.is_some(), s == "step")?;
        used("omega", self.omega.is_some(), s == "oscillatory")?;
        used("times", self.times.is_some(), s == "table")?;
        used("strains", self.strains.is_some(), s == "table")?;
        let schedule = match s {
            "none" => StrainSchedule::None,
            "rate" => StrainSchedule::Rate {
                gamma_dot: need("gamma_dot", self.gamma_dot)?,
            },
            "step" => StrainSchedule::Step {
                gamma0: need("gamma0", self.gamma0)?,
                t_step: need("t_step", self.t_step)?,
                ramp: self.ramp.unwrap_or(2.0 * dt),
            },
            "oscillatory" => StrainSchedule::Oscillatory {
                gamma0: need("gamma0", self.gamma0)?,
                omega: need("omega", self.omega)?,
            },
            "table" => StrainSchedule::Table {
                times: self.times.clone().ok_or_else(|| {
                    Error::config("driving.times", "required by schedule = table")
                })?,
                strains: self.strains.clone().ok_or_else(|| {
                    Error::config("driving.strains", "required by schedule = table")
                })?,
            },
            other => {
                return Err(Error::config(
                    "driving.schedule",
                    format!(
                        "unknown schedule '{other}' (expected rate, step, oscillatory or table)"
                    ),
                ))
            }
        };
        Ok((driving, schedule))
    }
}

impl RunConfig {
    /// Loads `path`, applies `--set` overrides, deserialises and validates.
    pub fn load(path: &Path, overrides: &[String]) -> Result<RunConfig> {
        let cfg: RunConfig = super::load_as(path, overrides)?;
        cfg.problem()?;
        Ok(cfg)
    }

    /// The configuration as TOML text (stored in output files and checkpoints).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }

    /// The validated problem and solver settings this configuration describes.
    pub fn problem(&self) -> Result<(Problem, SolverSpec)> {
        let m = &self.model;
        let pos = |x: f64| x.is_finite() && x > 0.0;
        check(
            m.phi_hat.is_finite() && m.phi_hat >= 0.0,
            "model.phi_hat",
            || format!("must be >= 0, got {}", m.phi_hat),
        )?;
        check(pos(m.zeta_hat), "model.zeta_hat", || {
            format!("must be > 0, got {}", m.zeta_hat)
        })?;
        check(
            m.temperature.is_finite() && m.temperature >= 0.0,
            "model.T",
            || format!("must be >= 0, got {}", m.temperature),
        )?;
        check(pos(m.t0), "model.T0", || {
            format!("must be > 0 (equilibrium preparation), got {}", m.t0)
        })?;
        lift(self.potential.validate())?;
        lift(self.noise.validate())?;
        let g = &self.grid;
        check(pos(g.t_max), "grid.t_max", || {
            format!("must be > 0, got {}", g.t_max)
        })?;
        check(g.steps >= 2, "grid.steps", || {
            format!("must be >= 2 (dt = t_max/steps > 0), got {}", g.steps)
        })?;
        check(g.steps <= 20_000, "grid.steps", || {
            format!(
                "{} steps need {} GiB per two-time kernel; use <= 20000",
                g.steps,
                (g.steps * g.steps * 8) >> 30
            )
        })?;
        let scheme = Scheme::from_name(&g.scheme).ok_or_else(|| {
            Error::config(
                "grid.scheme",
                format!(
                    "must be \"discrete\" or \"trapezoid\", got \"{}\"",
                    g.scheme
                ),
            )
        })?;
        let grid = Grid {
            dt: g.t_max / g.steps as f64,
            steps: g.steps,
            scheme,
        };
        let (driving, schedule) = self.driving.resolve(grid.dt)?;
        lift(schedule.validate(g.t_max))?;
        let p = &self.population;
        check(p.size >= 2, "population.size", || {
            format!("must be >= 2, got {}", p.size)
        })?;
        if let Some(r) = p.reach {
            check(pos(r), "population.reach", || {
                format!("must be > 0, got {r}")
            })?;
        }
        if let Some(g) = p.strain_reach {
            check(g.is_finite() && g >= 0.0, "population.strain_reach", || {
                format!("must be >= 0, got {g}")
            })?;
        }
        if p.antithetic {
            check(p.size.is_multiple_of(2), "population.size", || {
                format!("must be even with population.antithetic, got {}", p.size)
            })?;
        }
        check(p.split_ratio > 1.0, "population.split_ratio", || {
            format!("must be > 1, got {}", p.split_ratio)
        })?;
        check(
            p.lanes_per_member >= 1,
            "population.lanes_per_member",
            || format!("must be >= 1, got {}", p.lanes_per_member),
        )?;
        if let (Some(a), Some(b)) = (p.h0_min, p.h0_max) {
            check(a < b, "population.h0_max", || {
                format!("must exceed population.h0_min ({a}), got {b}")
            })?;
        }
        for (k, v) in [
            ("population.h0_min", p.h0_min),
            ("population.h0_max", p.h0_max),
        ] {
            if let Some(v) = v {
                check(v.is_finite(), k, || format!("must be finite, got {v}"))?;
            }
        }
        check(
            p.entry_ramp >= 0.0 && p.entry_ramp.is_finite(),
            "population.entry_ramp",
            || format!("must be finite and >= 0, got {}", p.entry_ramp),
        )?;
        let s = &self.solver;
        check(
            s.damping > 0.0 && s.damping <= 1.0,
            "solver.damping",
            || format!("must lie in (0, 1], got {}", s.damping),
        )?;
        check(pos(s.tolerance), "solver.tolerance", || {
            format!("must be > 0, got {}", s.tolerance)
        })?;
        check(s.max_iterations >= 1, "solver.max_iterations", || {
            "must be >= 1".into()
        })?;
        check(s.window >= 2, "solver.window", || {
            format!("must be >= 2, got {}", s.window)
        })?;
        check(
            s.presolve > 0.0 && s.presolve <= 1.0,
            "solver.presolve",
            || format!("must be in (0, 1], got {}", s.presolve),
        )?;
        let model = Model {
            potential: self.potential,
            phi_hat: m.phi_hat,
            zeta_hat: m.zeta_hat,
            temperature: m.temperature,
            t0: m.t0,
            noise: self.noise,
            driving,
            schedule,
        };
        check_scales(&model, &grid)?;
        let population = PopulationSpec::new(
            &model,
            &grid,
            p.size,
            p.seed,
            p.h0_min,
            p.h0_max,
            p.reach,
            p.strain_reach,
            self.output.samples,
            p.splitting.then_some(Splitting {
                ratio: p.split_ratio,
                lanes_per_member: p.lanes_per_member,
            }),
        )?
        .with_antithetic(p.antithetic)?
        .with_entry(
            (p.entrants > 0).then(|| {
                // Under driving the strain sweeps pairs through contact within a short
                // time: the members must hand over before (measured in README, "Choosing dt
                // and N").
                let driven = largest_strain(&model, &grid) > 0.0;
                Entry {
                    per_step: p.entrants,
                    level: p.entry_level.unwrap_or(if driven { 1.0 } else { 0.5 }),
                    rate: p.entry_rate.unwrap_or(if driven {
                        (1.0 / grid.dt).min(5.0)
                    } else {
                        1.0
                    }),
                    // Antithetic twins need a hand-over continuous in the free gap
                    // (docs/equations.md, "Entrants").
                    width: p
                        .entry_width
                        .unwrap_or(if p.antithetic { 1.0 } else { 0.0 }),
                    ramp: (p.entry_ramp / grid.dt).max(1.0),
                }
            }),
            grid.dt,
        )?;
        let solver = SolverSpec {
            damping: s.damping,
            tolerance: s.tolerance,
            max_iterations: s.max_iterations,
            window: s.window,
            presolve: s.presolve,
        };
        Ok((
            Problem {
                model,
                grid,
                population,
            },
            solver,
        ))
    }
}

/// Largest derived scale accepted: beyond it pairs move or are strained by more than a
/// thousand interaction lengths squared over the run (no interaction is left to resolve),
/// and squares of the inputs approach overflow.
const MAX_SCALE: f64 = 1e6;

/// Refuses finite inputs whose derived scales are hopeless or overflow: the free MSD
/// T t_max/zeta_hat, the displacement by constant or active forces (f0 t_max/zeta_hat)^2 and
/// the largest gamma_eff(t)^2 on the grid, each named by the key that sets it.
fn check_scales(model: &Model, grid: &Grid) -> Result<()> {
    let t_max = grid.time(grid.steps);
    let thermal = model.temperature * t_max / model.zeta_hat;
    check(thermal <= MAX_SCALE, "model.T", || {
        format!("T t_max/zeta_hat = {thermal:e} (the free MSD over the run) exceeds {MAX_SCALE:e}")
    })?;
    let f0 = match model.noise {
        ExternalNoise::None => 0.0,
        ExternalNoise::Constant { f0 } | ExternalNoise::Active { f0, .. } => f0,
    };
    let forced = (f0 * t_max / model.zeta_hat).powi(2);
    check(forced <= MAX_SCALE, "noise.f0", || {
        format!("(f0 t_max/zeta_hat)^2 = {forced:e} exceeds {MAX_SCALE:e}")
    })?;
    let strain = (0..grid.len())
        .map(|i| model.gamma_eff(grid.time(i)).powi(2))
        .fold(0.0, f64::max);
    check(strain <= MAX_SCALE, model.schedule.strain_key(), || {
        format!("the largest gamma_eff(t)^2 on the grid is {strain:e}, above {MAX_SCALE:e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference config printed by `dmfe config` is valid and its values are the
    /// defaults it documents.
    #[test]
    fn reference_config_is_valid_and_matches_defaults() {
        let value = toml::Value::Table(REFERENCE_CONFIG.parse().unwrap());
        let cfg: RunConfig = crate::config::from_value(value).unwrap();
        cfg.problem().unwrap();
        assert_eq!(cfg.model.zeta_hat, one());
        assert_eq!(cfg.population.seed, one_u64());
        assert_eq!(cfg.solver.damping, default_solver().damping);
        assert_eq!(cfg.solver.tolerance, default_tolerance());
        assert_eq!(cfg.solver.max_iterations, default_max_iterations());
        assert_eq!(cfg.solver.window, default_window());
        assert_eq!(cfg.output.samples, default_samples());
    }
}
