//! The configuration of `dmfe static` (every key is documented in `dmfe config static`,
//! which prints `src/config/static_reference.toml`).

use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::driving::Driving;
use crate::error::{Error, Result};
use crate::noise::ExternalNoise;
use crate::potential::Potential;
use crate::statics::{BranchSpec, Interaction, StaticModel};

/// The fully commented reference configuration printed by `dmfe config static`.
pub const STATIC_REFERENCE_CONFIG: &str = include_str!("static_reference.toml");

/// `[model]`: the glass (prepared in equilibrium at phi_hat, T0) and the bath T.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticModelSection {
    /// Rescaled packing fraction phi_hat (> 0).
    pub phi_hat: f64,
    /// Bath temperature T (>= 0); soft potentials only.
    #[serde(rename = "T", skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Preparation temperature T0 (> 0); soft potentials only.
    #[serde(rename = "T0", skip_serializing_if = "Option::is_none")]
    pub t0: Option<f64>,
}

/// `[driving]`: global shear (AQS) or random local displacements (AQRD, paper Eq. (9)).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticDrivingSection {
    /// "shear" or "random_displacements"; default: shear, unless `f` or `xi` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Variance F of relative displacements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f: Option<f64>,
    /// Correlation length xi for F by Eq. (9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xi: Option<f64>,
    /// Amplitude Xi for F by Eq. (9) (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amplitude: Option<f64>,
}

/// `[branch]`: numerical settings of the strain continuation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSection {
    /// Largest strain step between stored points (default 0.01 sqrt(Delta_eq / F)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dgamma: Option<f64>,
    /// Stop at this strain even before the fold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma_max: Option<f64>,
    /// Largest number of points (default 5000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_points: Option<usize>,
}

/// `[output]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticOutputSection {
    /// Path of the HDF5 output file.
    pub path: PathBuf,
}

/// The whole configuration of `dmfe static`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// The glass and the bath.
    pub model: StaticModelSection,
    /// Hard spheres or a soft potential of `dmfe run`.
    pub potential: Interaction,
    /// External noise: none or constant random forces.
    #[serde(default = "no_noise")]
    pub noise: ExternalNoise,
    /// AQS or AQRD.
    #[serde(default)]
    pub driving: StaticDrivingSection,
    /// Continuation settings.
    #[serde(default)]
    pub branch: BranchSection,
    /// Output.
    pub output: StaticOutputSection,
}

fn no_noise() -> ExternalNoise {
    ExternalNoise::None
}

impl Serialize for Interaction {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Interaction::HardSphere => {
                let mut t = toml::Table::new();
                t.insert("kind".into(), toml::Value::String("hard_sphere".into()));
                t.serialize(s)
            }
            Interaction::Soft(p) => p.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Interaction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        if table.get("kind").and_then(|k| k.as_str()) == Some("hard_sphere") {
            if let Some(k) = table.keys().find(|k| *k != "kind") {
                return Err(D::Error::custom(format!(
                    "unknown field `{k}`: hard spheres take no parameters"
                )));
            }
            return Ok(Interaction::HardSphere);
        }
        Potential::deserialize(toml::Value::Table(table))
            .map(Interaction::Soft)
            .map_err(|e| {
                D::Error::custom(
                    e.message()
                        .replace("expected one of", "expected `hard_sphere` or one of"),
                )
            })
    }
}

fn check(ok: bool, key: &str, msg: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::config(key, msg()))
    }
}

impl StaticDrivingSection {
    /// The driving protocol: shear or random displacements (F given or from xi by Eq. (9)).
    pub fn resolve(&self) -> Result<Driving> {
        let rd = self.f.is_some() || self.xi.is_some() || self.amplitude.is_some();
        let kind =
            self.kind
                .as_deref()
                .unwrap_or(if rd { "random_displacements" } else { "shear" });
        let driving =
            match kind {
                "shear" => {
                    for (key, given) in [
                        ("f", self.f),
                        ("xi", self.xi),
                        ("amplitude", self.amplitude),
                    ] {
                        check(given.is_none(), &format!("driving.{key}"), || {
                            "not used by kind = \"shear\" (F = 1)".into()
                        })?;
                    }
                    Driving::Shear
                }
                "random_displacements" => Driving::RandomDisplacements {
                    f: self.f,
                    xi: self.xi,
                    amplitude: self.amplitude,
                },
                "none" => return Err(Error::config(
                    "driving.kind",
                    "the static solver follows a strained glass: use shear or random_displacements",
                )),
                other => {
                    return Err(Error::config(
                        "driving.kind",
                        format!("unknown kind '{other}' (expected shear or random_displacements)"),
                    ))
                }
            };
        driving.validate().map_err(|(k, m)| Error::config(k, m))?;
        Ok(driving)
    }
}

impl StaticConfig {
    /// Loads `path`, applies `--set` overrides, deserialises and validates.
    pub fn load(path: &Path, overrides: &[String]) -> Result<StaticConfig> {
        let cfg: StaticConfig = super::load_as(path, overrides)?;
        cfg.model()?;
        cfg.branch()?;
        Ok(cfg)
    }

    /// The configuration as TOML text (stored in output files).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }

    /// The validated model (docs/equations.md (S1)).
    pub fn model(&self) -> Result<StaticModel> {
        let m = &self.model;
        check(
            m.phi_hat.is_finite() && m.phi_hat > 0.0,
            "model.phi_hat",
            || format!("must be > 0, got {}", m.phi_hat),
        )?;
        let (beta, beta0) = match self.potential {
            Interaction::HardSphere => {
                for (key, given) in [("T", m.temperature), ("T0", m.t0)] {
                    check(given.is_none(), &format!("model.{key}"), || {
                        "not used by hard spheres (their free energy is entropic; stresses are in units of T)".into()
                    })?;
                }
                (1.0, 1.0)
            }
            Interaction::Soft(p) => {
                p.validate().map_err(|(k, msg)| Error::config(k, msg))?;
                let t = m
                    .temperature
                    .ok_or_else(|| Error::config("model.T", "required by soft potentials"))?;
                let t0 =
                    m.t0.ok_or_else(|| Error::config("model.T0", "required by soft potentials"))?;
                check(t.is_finite() && t >= 0.0, "model.T", || {
                    format!("must be >= 0, got {t}")
                })?;
                check(t0.is_finite() && t0 > 0.0, "model.T0", || {
                    format!("must be > 0 (equilibrium preparation), got {t0}")
                })?;
                (1.0 / t, 1.0 / t0)
            }
        };
        let f0 = match self.noise {
            ExternalNoise::None => 0.0,
            ExternalNoise::Constant { f0 } => f0,
            ExternalNoise::Active { .. } => return Err(Error::config(
                "noise.kind",
                "active forces have no static (state-following) counterpart; use none or constant",
            )),
        };
        self.noise
            .validate()
            .map_err(|(k, msg)| Error::config(k, msg))?;
        let variance = self.driving.resolve()?.variance();
        Ok(StaticModel {
            interaction: self.potential,
            phi_hat: m.phi_hat,
            beta,
            beta0,
            f0,
            variance,
        })
    }

    /// The validated continuation settings.
    pub fn branch(&self) -> Result<BranchSpec> {
        let b = &self.branch;
        let pos = |x: Option<f64>| x.is_none_or(|v| v.is_finite() && v > 0.0);
        check(pos(b.dgamma), "branch.dgamma", || "must be > 0".into())?;
        check(pos(b.gamma_max), "branch.gamma_max", || {
            "must be > 0".into()
        })?;
        let max_points = b.max_points.unwrap_or(BranchSpec::default().max_points);
        check(max_points >= 2, "branch.max_points", || {
            format!("must be >= 2, got {max_points}")
        })?;
        Ok(BranchSpec {
            dgamma: b.dgamma,
            gamma_max: b.gamma_max,
            max_points,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_config_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ref.toml");
        std::fs::write(&path, STATIC_REFERENCE_CONFIG).unwrap();
        let cfg = StaticConfig::load(&path, &[]).unwrap();
        assert_eq!(cfg.potential, Interaction::HardSphere);
        assert_eq!(cfg.model().unwrap().variance, 1.0);
        // Round trip through the stored TOML.
        std::fs::write(&path, cfg.to_toml()).unwrap();
        let again = StaticConfig::load(&path, &[]).unwrap();
        assert_eq!(again.to_toml(), cfg.to_toml());
    }
}
