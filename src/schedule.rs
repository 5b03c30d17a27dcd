//! Strain schedules gamma(t): the accumulated strain of the protocol (docs/equations.md (E1)).

use serde::{Deserialize, Serialize};

/// The accumulated strain gamma(t) as a function of time, with gamma(0) = 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StrainSchedule {
    /// No strain: gamma(t) = 0.
    None,
    /// Constant rate (shear start-up): gamma(t) = gamma_dot t.
    Rate {
        /// Strain rate gamma_dot.
        gamma_dot: f64,
    },
    /// Step strain: gamma rises linearly from 0 to gamma0 over [t_step, t_step + ramp].
    Step {
        /// Final strain gamma0.
        gamma0: f64,
        /// Time at which the ramp starts.
        t_step: f64,
        /// Duration of the ramp (> 0).
        ramp: f64,
    },
    /// Oscillatory strain gamma(t) = gamma0 sin(omega t).
    Oscillatory {
        /// Amplitude gamma0.
        gamma0: f64,
        /// Angular frequency omega.
        omega: f64,
    },
    /// Tabulated strain, linearly interpolated; the first time must be 0 with strain 0 and
    /// the last value is held after the last time.
    Table {
        /// Increasing times, starting at 0.
        times: Vec<f64>,
        /// Strains at those times, starting at 0.
        strains: Vec<f64>,
    },
}

impl StrainSchedule {
    /// gamma(t).
    pub fn gamma(&self, t: f64) -> f64 {
        match self {
            StrainSchedule::None => 0.0,
            StrainSchedule::Rate { gamma_dot } => gamma_dot * t,
            StrainSchedule::Step {
                gamma0,
                t_step,
                ramp,
            } => gamma0 * ((t - t_step) / ramp).clamp(0.0, 1.0),
            StrainSchedule::Oscillatory { gamma0, omega } => gamma0 * (omega * t).sin(),
            StrainSchedule::Table { times, strains } => {
                let k = times.partition_point(|&x| x <= t);
                if k == 0 {
                    strains[0]
                } else if k == times.len() {
                    strains[k - 1]
                } else {
                    let (t0, t1) = (times[k - 1], times[k]);
                    let (g0, g1) = (strains[k - 1], strains[k]);
                    g0 + (g1 - g0) * (t - t0) / (t1 - t0)
                }
            }
        }
    }

    /// Short name used in output files and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            StrainSchedule::None => "none",
            StrainSchedule::Rate { .. } => "rate",
            StrainSchedule::Step { .. } => "step",
            StrainSchedule::Oscillatory { .. } => "oscillatory",
            StrainSchedule::Table { .. } => "table",
        }
    }

    /// The config key that sets the size of the strain (for error messages).
    pub fn strain_key(&self) -> &'static str {
        match self {
            StrainSchedule::None => "driving",
            StrainSchedule::Rate { .. } => "driving.gamma_dot",
            StrainSchedule::Step { .. } | StrainSchedule::Oscillatory { .. } => "driving.gamma0",
            StrainSchedule::Table { .. } => "driving.strains",
        }
    }

    /// Checks the parameters against a run of length `t_max`; returns the key and reason.
    pub fn validate(&self, t_max: f64) -> Result<(), (&'static str, String)> {
        let finite = |k: &'static str, x: f64| {
            if x.is_finite() {
                Ok(())
            } else {
                Err((k, format!("must be a finite number, got {x}")))
            }
        };
        match self {
            StrainSchedule::None => Ok(()),
            StrainSchedule::Rate { gamma_dot } => finite("driving.gamma_dot", *gamma_dot),
            StrainSchedule::Step {
                gamma0,
                t_step,
                ramp,
            } => {
                finite("driving.gamma0", *gamma0)?;
                if !(t_step.is_finite() && *t_step >= 0.0 && *t_step < t_max) {
                    return Err((
                        "driving.t_step",
                        format!("must lie inside the time grid [0, {t_max}), got {t_step}"),
                    ));
                }
                if !(ramp.is_finite() && *ramp > 0.0) {
                    return Err(("driving.ramp", format!("must be > 0, got {ramp}")));
                }
                Ok(())
            }
            StrainSchedule::Oscillatory { gamma0, omega } => {
                finite("driving.gamma0", *gamma0)?;
                finite("driving.omega", *omega)
            }
            StrainSchedule::Table { times, strains } => {
                if times.is_empty() {
                    return Err(("driving.times", "must not be empty".into()));
                }
                if times.len() != strains.len() {
                    return Err((
                        "driving.strains",
                        format!(
                            "must have as many entries as schedule.times ({} vs {})",
                            strains.len(),
                            times.len()
                        ),
                    ));
                }
                for (key, values) in [("driving.times", times), ("driving.strains", strains)] {
                    if let Some(x) = values.iter().find(|x| !x.is_finite()) {
                        return Err((key, format!("entries must be finite numbers, got {x}")));
                    }
                }
                if times[0] != 0.0 || strains[0] != 0.0 {
                    return Err((
                        "driving.times",
                        "must start at time 0 with strain 0 (gamma(0) = 0)".into(),
                    ));
                }
                if times.windows(2).any(|w| w[1] <= w[0]) {
                    return Err(("driving.times", "must be strictly increasing".into()));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_start_at_zero_and_interpolate() {
        let step = StrainSchedule::Step {
            gamma0: 0.1,
            t_step: 1.0,
            ramp: 0.5,
        };
        assert_eq!(step.gamma(0.0), 0.0);
        assert!((step.gamma(1.25) - 0.05).abs() < 1e-15);
        assert_eq!(step.gamma(3.0), 0.1);
        let table = StrainSchedule::Table {
            times: vec![0.0, 1.0, 3.0],
            strains: vec![0.0, 0.2, 0.0],
        };
        assert!((table.gamma(2.0) - 0.1).abs() < 1e-15);
        assert_eq!(table.gamma(5.0), 0.0);
        assert_eq!(StrainSchedule::Rate { gamma_dot: 0.3 }.gamma(2.0), 0.6);
    }

    #[test]
    fn table_validation_rejects_bad_tables() {
        let bad = StrainSchedule::Table {
            times: vec![0.0, 2.0, 1.0],
            strains: vec![0.0, 0.1, 0.2],
        };
        assert_eq!(bad.validate(10.0).unwrap_err().0, "driving.times");
        let empty = StrainSchedule::Table {
            times: vec![],
            strains: vec![],
        };
        assert!(empty.validate(10.0).is_err());
        let nan_strain = StrainSchedule::Table {
            times: vec![0.0, 1.0],
            strains: vec![0.0, f64::NAN],
        };
        assert_eq!(nan_strain.validate(10.0).unwrap_err().0, "driving.strains");
        let inf_time = StrainSchedule::Table {
            times: vec![0.0, f64::INFINITY],
            strains: vec![0.0, 0.1],
        };
        assert_eq!(inf_time.validate(10.0).unwrap_err().0, "driving.times");
    }
}
