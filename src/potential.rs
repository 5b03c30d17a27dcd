//! Rescaled pair potentials v(h) of the d -> infinity limit (docs/equations.md, paper footnote 1).

use serde::{Deserialize, Serialize};

/// A rescaled pair potential v(h) of the gap h, in units of its energy scale eps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Potential {
    /// Harmonic soft spheres, v(h) = eps h^2 theta(-h).
    Harmonic {
        /// Energy scale eps.
        eps: f64,
    },
    /// Exponential soft spheres, v(h) = eps exp(-alpha h).
    Exponential {
        /// Energy scale eps.
        eps: f64,
        /// Decay rate alpha (> 1, so that the e^h-weighted force integrals converge).
        alpha: f64,
    },
    /// Lennard-Jones-like, v(h) = eps (exp(-4h) - exp(-2h)).
    LennardJones {
        /// Energy scale eps.
        eps: f64,
    },
}

/// v, v' and v'' at one gap, evaluated together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PotentialValues {
    /// v(h).
    pub v: f64,
    /// v'(h).
    pub dv: f64,
    /// v''(h).
    pub d2v: f64,
}

impl Potential {
    /// v(h), v'(h) and v''(h) (docs/equations.md).
    #[inline]
    pub fn eval(&self, h: f64) -> PotentialValues {
        match *self {
            Potential::Harmonic { eps } => {
                if h < 0.0 {
                    PotentialValues {
                        v: eps * h * h,
                        dv: 2.0 * eps * h,
                        d2v: 2.0 * eps,
                    }
                } else {
                    PotentialValues {
                        v: 0.0,
                        dv: 0.0,
                        d2v: 0.0,
                    }
                }
            }
            Potential::Exponential { eps, alpha } => {
                let e = eps * (-alpha * h).exp();
                PotentialValues {
                    v: e,
                    dv: -alpha * e,
                    d2v: alpha * alpha * e,
                }
            }
            Potential::LennardJones { eps } => {
                let e2 = (-2.0 * h).exp();
                let e4 = e2 * e2;
                PotentialValues {
                    v: eps * (e4 - e2),
                    dv: eps * (-4.0 * e4 + 2.0 * e2),
                    d2v: eps * (16.0 * e4 - 4.0 * e2),
                }
            }
        }
    }

    /// v(h).
    #[inline]
    pub fn v(&self, h: f64) -> f64 {
        self.eval(h).v
    }

    /// v'(h).
    #[inline]
    pub fn dv(&self, h: f64) -> f64 {
        self.eval(h).dv
    }

    /// v''(h).
    #[inline]
    pub fn d2v(&self, h: f64) -> f64 {
        self.eval(h).d2v
    }

    /// Energy scale eps.
    pub fn eps(&self) -> f64 {
        match *self {
            Potential::Harmonic { eps }
            | Potential::Exponential { eps, .. }
            | Potential::LennardJones { eps } => eps,
        }
    }

    /// Gap beyond which the force e^h |v'(h)| is negligible (below 1e-12 eps relative to its
    /// value at contact); exactly 0 for the harmonic potential, whose force vanishes for h > 0.
    pub fn interaction_edge(&self) -> f64 {
        match *self {
            Potential::Harmonic { .. } => 0.0,
            // e^h v'(h) ~ e^{-(alpha-1) h}
            Potential::Exponential { alpha, .. } => 12.0 * std::f64::consts::LN_10 / (alpha - 1.0),
            // e^h v'(h) ~ 2 e^{-h}
            Potential::LennardJones { .. } => 12.0 * std::f64::consts::LN_10,
        }
    }

    /// Short name used in output files and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            Potential::Harmonic { .. } => "harmonic",
            Potential::Exponential { .. } => "exponential",
            Potential::LennardJones { .. } => "lennard_jones",
        }
    }

    /// Checks the parameters; returns the offending key and the reason.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let eps = self.eps();
        if !(eps.is_finite() && eps > 0.0) {
            return Err((
                "potential.eps",
                format!("must be a positive number, got {eps}"),
            ));
        }
        if let Potential::Exponential { alpha, .. } = *self {
            if !(alpha.is_finite() && alpha > 1.0) {
                return Err((
                    "potential.alpha",
                    format!("must be > 1 (the e^h-weighted force integrals diverge otherwise), got {alpha}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_derivatives(p: Potential, hs: &[f64]) {
        for &h in hs {
            let d = 1e-5;
            let num_dv = (p.v(h + d) - p.v(h - d)) / (2.0 * d);
            let num_d2v = (p.dv(h + d) - p.dv(h - d)) / (2.0 * d);
            assert!(
                (num_dv - p.dv(h)).abs() < 1e-7 * (1.0 + p.dv(h).abs()),
                "{p:?} v' at {h}"
            );
            assert!(
                (num_d2v - p.d2v(h)).abs() < 1e-6 * (1.0 + p.d2v(h).abs()),
                "{p:?} v'' at {h}"
            );
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let hs = [-1.3, -0.4, -0.01, 0.2, 0.7, 2.5];
        check_derivatives(Potential::Harmonic { eps: 1.5 }, &hs);
        check_derivatives(
            Potential::Exponential {
                eps: 0.8,
                alpha: 3.0,
            },
            &hs,
        );
        check_derivatives(Potential::LennardJones { eps: 1.0 }, &hs);
    }

    #[test]
    fn harmonic_vanishes_outside_contact() {
        let p = Potential::Harmonic { eps: 1.0 };
        assert_eq!(
            p.eval(0.3),
            PotentialValues {
                v: 0.0,
                dv: 0.0,
                d2v: 0.0
            }
        );
        assert_eq!(p.v(-0.5), 0.25);
    }

    #[test]
    fn lennard_jones_minimum_at_log2_over_2() {
        let p = Potential::LennardJones { eps: 1.0 };
        let hmin = 0.5 * 2f64.ln();
        assert!(p.dv(hmin).abs() < 1e-14);
        assert!((p.v(hmin) + 0.25).abs() < 1e-14);
    }
}
