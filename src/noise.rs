//! External (non-thermal) noise kernels G_C(t, s) (docs/equations.md (E1), paper Eq. (11)).

use serde::{Deserialize, Serialize};

/// The external noise kernel G_C(t, s), in the rescaled units of paper Eq. (18).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExternalNoise {
    /// No external noise: G_C = 0.
    None,
    /// Constant random forces: G_C(t, s) = f0^2.
    Constant {
        /// Rescaled force amplitude f0_hat.
        f0: f64,
    },
    /// Persistent active forces: G_C(t, s) = f0^2 exp(-|t - s| / tau).
    Active {
        /// Rescaled force amplitude f0_hat.
        f0: f64,
        /// Persistence time tau (> 0).
        tau: f64,
    },
}

impl ExternalNoise {
    /// G_C(t, s).
    #[inline]
    pub fn g_c(&self, t: f64, s: f64) -> f64 {
        match *self {
            ExternalNoise::None => 0.0,
            ExternalNoise::Constant { f0 } => f0 * f0,
            ExternalNoise::Active { f0, tau } => f0 * f0 * (-(t - s).abs() / tau).exp(),
        }
    }

    /// Short name used in output files and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            ExternalNoise::None => "none",
            ExternalNoise::Constant { .. } => "constant",
            ExternalNoise::Active { .. } => "active",
        }
    }

    /// Checks the parameters; returns the offending key and the reason.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        match *self {
            ExternalNoise::None => Ok(()),
            ExternalNoise::Constant { f0 } | ExternalNoise::Active { f0, .. }
                if !(f0.is_finite() && f0 >= 0.0) =>
            {
                Err(("noise.f0", format!("must be >= 0, got {f0}")))
            }
            ExternalNoise::Active { tau, .. } if !(tau.is_finite() && tau > 0.0) => {
                Err(("noise.tau", format!("must be > 0, got {tau}")))
            }
            _ => Ok(()),
        }
    }
}
