//! Driving protocols: isotropic, global shear (AQS-type) and random local displacements
//! (AQRD-type) with variance F of the relative displacements (paper Eqs. (7)-(9), (21)-(22)).

use serde::{Deserialize, Serialize};

/// How the strain gamma(t) acts on a pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Driving {
    /// No driving: the strain schedule is ignored (gamma_eff = 0).
    None,
    /// Global shear: relative displacements of unit variance, F = 1 (paper Eq. (21)).
    Shear,
    /// Random local displacements of variance `f` given directly, or computed from the
    /// correlation length `xi` and amplitude `amplitude` (Xi) by paper Eq. (9).
    RandomDisplacements {
        /// Variance F of the relative local displacements (in units of l^2).
        #[serde(default)]
        f: Option<f64>,
        /// Correlation length xi of the displacement field (units of l).
        #[serde(default)]
        xi: Option<f64>,
        /// Amplitude Xi of the displacement field (units of l); default 1.
        #[serde(default)]
        amplitude: Option<f64>,
    },
}

/// Variance F/l^2 of relative local displacements for a Gaussian field of correlation length
/// `xi` and amplitude `amplitude` (both in units of l), paper Eq. (9).
pub fn variance_from_correlation(xi: f64, amplitude: f64) -> f64 {
    let r = 1.0 / xi;
    2.0 / (2.0 * std::f64::consts::PI).sqrt() * amplitude * r * (1.0 - (-0.5 * r * r).exp())
}

impl Driving {
    /// The variance F of the relative displacement amplitude c (paper Eq. (8)); 0 without
    /// driving, 1 for global shear.
    pub fn variance(&self) -> f64 {
        match *self {
            Driving::None => 0.0,
            Driving::Shear => 1.0,
            Driving::RandomDisplacements { f, xi, amplitude } => match (f, xi) {
                (Some(f), _) => f,
                (None, Some(xi)) => variance_from_correlation(xi, amplitude.unwrap_or(1.0)),
                (None, None) => f64::NAN,
            },
        }
    }

    /// gamma_eff = gamma sqrt(F), the strain of the equivalent global shear (paper Eq. (22)).
    pub fn gamma_eff(&self, gamma: f64) -> f64 {
        gamma * self.variance().sqrt()
    }

    /// Short name used in output files and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            Driving::None => "none",
            Driving::Shear => "shear",
            Driving::RandomDisplacements { .. } => "random_displacements",
        }
    }

    /// Checks the parameters; returns the offending key and the reason.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Driving::RandomDisplacements { f, xi, amplitude } = *self {
            match (f, xi) {
                (Some(_), Some(_)) => {
                    return Err((
                        "driving.f",
                        "give either driving.f or driving.xi (with driving.amplitude), not both"
                            .into(),
                    ))
                }
                (None, None) => return Err((
                    "driving.f",
                    "random displacements need driving.f, or driving.xi to compute it by Eq. (9)"
                        .into(),
                )),
                (Some(f), None) if !(f.is_finite() && f >= 0.0) => {
                    return Err(("driving.f", format!("must be >= 0, got {f}")))
                }
                (None, Some(xi)) if !(xi.is_finite() && xi > 0.0) => {
                    return Err(("driving.xi", format!("must be > 0, got {xi}")))
                }
                _ => {}
            }
            if let Some(a) = amplitude {
                if f.is_some() {
                    return Err((
                        "driving.amplitude",
                        "only meaningful with driving.xi, not with driving.f".into(),
                    ));
                }
                if !(a.is_finite() && a > 0.0) {
                    return Err(("driving.amplitude", format!("must be > 0, got {a}")));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_figure_1_values() {
        // Paper Fig. 1 caption: F/l^2 = 1.38, 0.73, 0.31 for xi/l = 0.5, 0.7, 1 at Xi = 1.
        for (xi, f) in [(0.5, 1.38), (0.7, 0.73), (1.0, 0.31)] {
            let got = variance_from_correlation(xi, 1.0);
            assert!((got - f).abs() < 0.005, "xi={xi}: {got} vs {f}");
        }
    }

    #[test]
    fn asymptotic_scalings() {
        // F ~ (2/sqrt(2 pi)) / xi for xi << 1 and F ~ 1/(sqrt(2 pi) xi^3) for xi >> 1.
        let s = (2.0 * std::f64::consts::PI).sqrt();
        let small = variance_from_correlation(0.01, 1.0) * 0.01 * s / 2.0;
        let large = variance_from_correlation(100.0, 1.0) * 1e6 * s;
        assert!((small - 1.0).abs() < 1e-12);
        assert!((large - 1.0).abs() < 1e-4);
    }

    #[test]
    fn gamma_eff_rescales_by_sqrt_f() {
        let d = Driving::RandomDisplacements {
            f: Some(0.25),
            xi: None,
            amplitude: None,
        };
        assert_eq!(d.gamma_eff(0.4), 0.2);
        assert_eq!(Driving::Shear.gamma_eff(0.4), 0.4);
        assert_eq!(Driving::None.gamma_eff(0.4), 0.0);
    }
}
