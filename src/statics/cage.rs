//! The cage function q(Delta, beta; h) of docs/equations.md (S1) (paper Eq. (30)) and its h-derivatives,
//! in closed form for hard spheres and harmonic spheres and by Gauss-Legendre
//! quadrature for the other potentials.

use super::gaussian::{log_add_exp, log_cdf, log_pdf};
use super::quadrature::{gauss_legendre, Rule};
use crate::potential::Potential;

/// The interaction of the static solver: hard spheres, or a soft potential of `dmfe run`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interaction {
    /// Hard spheres, exp(-beta v(h)) = theta(h).
    HardSphere,
    /// A soft pair potential.
    Soft(Potential),
}

impl Interaction {
    /// Short name used in output files and summaries.
    pub fn name(&self) -> &'static str {
        match self {
            Interaction::HardSphere => "hard_sphere",
            Interaction::Soft(p) => p.name(),
        }
    }

    /// Gap beyond which exp(-beta v) = 1 to double precision in the e^h-weighted integrals.
    pub fn edge(&self) -> f64 {
        match self {
            Interaction::HardSphere => 0.0,
            Interaction::Soft(p) => p.interaction_edge(),
        }
    }
}

/// log q and the log-derivatives q'/q, q''/q at one gap (primes are d/dh).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CageValues {
    /// log q.
    pub log_q: f64,
    /// q'(h) / q(h).
    pub d1: f64,
    /// q''(h) / q(h).
    pub d2: f64,
}

impl CageValues {
    /// q.
    #[inline]
    pub fn q(&self) -> f64 {
        self.log_q.exp()
    }

    /// (d q / d Delta) / q = (q'' + q') / (2 q).
    #[inline]
    pub fn d_delta(&self) -> f64 {
        0.5 * (self.d2 + self.d1)
    }

    /// d^2 log q / dh^2.
    #[inline]
    pub fn d2_log(&self) -> f64 {
        self.d2 - self.d1 * self.d1
    }
}

/// Evaluates q(Delta, beta; h) for one interaction at one (Delta, beta).
#[derive(Debug, Clone)]
pub struct Cage {
    interaction: Interaction,
    beta: f64,
    delta: f64,
    sqrt_delta: f64,
    /// Gauss-Legendre panel rule and the lowest gap worth integrating, for soft potentials
    /// without a closed form.
    panel: Option<(Rule, f64)>,
}

/// Gauss-Legendre nodes per panel of the quadrature form of q.
const PANEL_NODES: usize = 10;
/// Panel width of the quadrature form of q, at most this (and at most sqrt(Delta)).
const PANEL_WIDTH: f64 = 0.05;
/// beta v above which exp(-beta v) is dropped (e^-60).
const BOLTZMANN_CUT: f64 = 60.0;

impl Cage {
    /// The cage function of `interaction` at cage size `delta` and inverse temperature
    /// `beta` (may be infinite: the harmonic potential then reduces to hard spheres).
    pub fn new(interaction: Interaction, delta: f64, beta: f64) -> Cage {
        let interaction = match interaction {
            Interaction::Soft(Potential::Harmonic { .. }) if beta.is_infinite() => {
                Interaction::HardSphere
            }
            other => other,
        };
        let panel = match interaction {
            Interaction::Soft(
                p @ (Potential::Exponential { .. } | Potential::LennardJones { .. }),
            ) => {
                // Lowest gap where beta v < BOLTZMANN_CUT (v decreases there).
                let (mut lo, mut hi) = (-60.0, 0.0);
                if beta * p.v(lo) < BOLTZMANN_CUT {
                    Some((gauss_legendre(PANEL_NODES), lo))
                } else {
                    for _ in 0..80 {
                        let mid = 0.5 * (lo + hi);
                        if beta * p.v(mid) > BOLTZMANN_CUT {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    Some((gauss_legendre(PANEL_NODES), lo))
                }
            }
            _ => None,
        };
        Cage {
            interaction,
            beta,
            delta,
            sqrt_delta: delta.sqrt(),
            panel,
        }
    }

    /// log q, q'/q and q''/q at gap `h`.
    #[inline]
    pub fn eval(&self, h: f64) -> CageValues {
        let m = h + 0.5 * self.delta;
        match self.interaction {
            Interaction::HardSphere => self.hard_sphere(m),
            Interaction::Soft(Potential::Harmonic { eps }) => self.harmonic(m, self.beta * eps),
            Interaction::Soft(p) => self.quadrature(m, &p),
        }
    }

    /// q = Phi(m / sqrt(Delta)).
    fn hard_sphere(&self, m: f64) -> CageValues {
        let (sd, delta) = (self.sqrt_delta, self.delta);
        let a = m / sd;
        let log_q = log_cdf(a);
        let r = (log_pdf(a) - log_q).exp();
        CageValues {
            log_q,
            d1: r / sd,
            d2: -a * r / delta,
        }
    }

    /// q = Phi(m/sqrt(Delta)) + c^{-1/2} exp(-b m^2/c) Phi(-m/sqrt(Delta c)), c = 1 + 2 b Delta,
    /// b = beta eps, combined in log space.
    fn harmonic(&self, m: f64, b: f64) -> CageValues {
        let (sd, delta) = (self.sqrt_delta, self.delta);
        let a = m / sd;
        let c = 1.0 + 2.0 * b * delta;
        let log_t1 = log_cdf(a);
        let log_t2 = -0.5 * c.ln() - b * m * m / c + log_cdf(-m / (sd * c.sqrt()));
        let log_q = log_add_exp(log_t1, log_t2);
        // phi(a)/(sqrt(Delta) q) and T2/q.
        let r1 = (log_pdf(a) - sd.ln() - log_q).exp();
        let r2 = (log_t2 - log_q).exp();
        let k = 2.0 * b * m / c;
        let d1 = r1 * (1.0 - 1.0 / c) - k * r2;
        let t2_prime = -k * r2 - r1 / c;
        let d2 = -(a / sd) * r1 * (1.0 - 1.0 / c) - (2.0 * b / c) * r2 - k * t2_prime;
        CageValues { log_q, d1, d2 }
    }

    /// q = Phi((m - edge)/sqrt(Delta)) + int_{y < edge} exp(-beta v(y)) N(y; m, Delta) dy,
    /// the integral by Gauss-Legendre panels over m +- H_SIGMAS sqrt(Delta). Summed in log
    /// space where q is small and as 1 + int (exp(-beta v) - 1) N where q is of order one, so
    /// that log q keeps its relative accuracy when it is tiny (h -> +inf), where the
    /// e^h-weighted integrals would amplify rounding.
    fn quadrature(&self, m: f64, p: &Potential) -> CageValues {
        let (sd, delta) = (self.sqrt_delta, self.delta);
        let (rule, y_cut) = self
            .panel
            .as_ref()
            .expect("quadrature cage has a panel rule");
        let edge = p.interaction_edge();
        let span = super::quadrature::H_SIGMAS * sd;
        let lo = (m - span).max(*y_cut);
        let hi = (m + span).min(edge);
        // Terms as (y, log weight of exp(-beta v) N, (y - m)/Delta, ((y - m)/Delta)^2 - 1/Delta).
        let mut terms: Vec<(f64, f64, f64, f64)> = Vec::new();
        if hi > lo {
            let panels = ((hi - lo) / sd.min(PANEL_WIDTH)).ceil().max(1.0) as usize;
            let w = (hi - lo) / panels as f64;
            for k in 0..panels {
                let centre = lo + w * (k as f64 + 0.5);
                for (x, wx) in rule.nodes.iter().zip(&rule.weights) {
                    let y = centre + 0.5 * w * x;
                    let u = (y - m) / sd;
                    let lw = (0.5 * w * wx).ln() - self.beta * p.v(y) + log_pdf(u) - sd.ln();
                    let s1 = u / sd;
                    terms.push((y, lw, s1, s1 * s1 - 1.0 / delta));
                }
            }
        }
        // The region above the edge, where exp(-beta v) = 1.
        let u_edge = (m - edge) / sd;
        let lp = log_pdf(u_edge) - sd.ln();
        let tail = (log_cdf(u_edge), lp, u_edge / sd);
        let top = terms.iter().map(|t| t.1).fold(tail.0.max(lp), f64::max);
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for &(_, lw, a1, a2) in &terms {
            let e = (lw - top).exp();
            s0 += e;
            s1 += e * a1;
            s2 += e * a2;
        }
        // int_edge^inf N dy = Phi(u_edge); its m-derivatives are phi(u_edge)/sd and
        // -(u_edge/sd) phi(u_edge)/sd.
        s0 += (tail.0 - top).exp();
        let e = (tail.1 - top).exp();
        s1 += e;
        s2 -= tail.2 * e;
        let log_q = top + s0.ln();
        if log_q < -0.7 || hi <= lo {
            return CageValues {
                log_q,
                d1: s1 / s0,
                d2: s2 / s0,
            };
        }
        // q of order one: q - 1 = int (exp(-beta v) - 1) N over the window, minus the
        // Gaussian mass below it where exp(-beta v) ~ 0 (the mass above it is negligible).
        let u_lo = (lo - m) / sd;
        let (below, below_pdf) = if lo > m - span {
            (log_cdf(u_lo).exp(), log_pdf(u_lo).exp())
        } else {
            (0.0, 0.0)
        };
        let (mut e0, mut e1, mut e2) = (-below, below_pdf / sd, u_lo * below_pdf / delta);
        for &(y, lw, a1, a2) in &terms {
            // exp(lw) = weight exp(-beta v) N: rescale to weight (exp(-beta v) - 1) N.
            let bv = self.beta * p.v(y);
            let t = (lw + bv).exp() * (-bv).exp_m1();
            e0 += t;
            e1 += t * a1;
            e2 += t * a2;
        }
        let q = 1.0 + e0;
        CageValues {
            log_q: e0.ln_1p(),
            d1: e1 / q,
            d2: e2 / q,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finite_difference_check(cage: &Cage, hs: &[f64]) {
        for &h in hs {
            let e = 1e-4 * cage.delta.sqrt();
            let v = cage.eval(h);
            let (p, m) = (cage.eval(h + e), cage.eval(h - e));
            let dq = (p.q() - m.q()) / (2.0 * e);
            let d2q = (p.q() - 2.0 * v.q() + m.q()) / (e * e);
            let q = v.q();
            assert!(
                (dq - v.d1 * q).abs() < 1e-6 * (q * v.d1).abs().max(1e-8),
                "{:?} h={h}: q' {} vs {}",
                cage.interaction,
                dq,
                v.d1 * q
            );
            // Rounding in the second difference is of order eps q / e^2.
            let rounding = 4.0 * f64::EPSILON * q / (e * e);
            assert!(
                (d2q - v.d2 * q).abs() < 1e-4 * (q * v.d2).abs() + rounding,
                "{:?} h={h}: q'' {} vs {}",
                cage.interaction,
                d2q,
                v.d2 * q
            );
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let hs = [-0.8, -0.2, -0.05, 0.0, 0.07, 0.3, 1.0];
        finite_difference_check(&Cage::new(Interaction::HardSphere, 0.1, 1.0), &hs);
        let harmonic = Interaction::Soft(Potential::Harmonic { eps: 1.0 });
        finite_difference_check(&Cage::new(harmonic, 0.1, 3.0), &hs);
        finite_difference_check(&Cage::new(harmonic, 0.05, 300.0), &hs);
        let lj = Interaction::Soft(Potential::LennardJones { eps: 1.0 });
        finite_difference_check(&Cage::new(lj, 0.1, 2.0), &hs);
    }

    #[test]
    fn quadrature_reproduces_the_harmonic_closed_form() {
        // The panel quadrature, run on the harmonic potential, against the closed form.
        let p = Potential::Harmonic { eps: 1.0 };
        for &(delta, beta) in &[(0.1, 1.0), (0.02, 50.0), (1.0, 0.2)] {
            let exact = Cage::new(Interaction::Soft(p), delta, beta);
            let mut quad = exact.clone();
            quad.panel = Some((gauss_legendre(PANEL_NODES), -60.0));
            for &h in &[-1.0, -0.3, -0.1, 0.0, 0.1, 0.5] {
                let (a, b) = (exact.eval(h), quad.quadrature(h + 0.5 * delta, &p));
                assert!(
                    (a.log_q - b.log_q).abs() < 1e-10 * (1.0 + a.log_q.abs()),
                    "{delta} {beta} {h}: {a:?} {b:?}"
                );
                assert!(
                    (a.d1 - b.d1).abs() < 1e-8 * (1.0 + a.d1.abs()),
                    "{a:?} {b:?}"
                );
                assert!(
                    (a.d2 - b.d2).abs() < 1e-7 * (1.0 + a.d2.abs()),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn harmonic_tends_to_hard_spheres_at_low_temperature() {
        // q_harmonic -> q_HS as beta -> infinity; the gap closes like beta^{-1/2}.
        let hs = Cage::new(Interaction::HardSphere, 0.1, 1.0);
        let harmonic = Interaction::Soft(Potential::Harmonic { eps: 1.0 });
        let (mut last, mut scaled) = (f64::INFINITY, Vec::new());
        for &beta in &[1e2, 1e4, 1e6, 1e8] {
            let c = Cage::new(harmonic, 0.1, beta);
            let gap = [-0.3, -0.1, 0.0, 0.2]
                .iter()
                .map(|&h| (c.eval(h).q() - hs.eval(h).q()).abs())
                .fold(0.0, f64::max);
            assert!(
                gap < 0.7 * last,
                "beta {beta}: gap {gap} did not shrink from {last}"
            );
            last = gap;
            scaled.push(gap * beta.sqrt());
        }
        // gap sqrt(beta) settles to a constant (1.10 here): the approach is beta^{-1/2}.
        let (a, b) = (scaled[2], scaled[3]);
        assert!((a - b).abs() < 0.02 * b, "gap sqrt(beta): {scaled:?}");
        // And T = 0 is exactly hard spheres.
        let c0 = Cage::new(harmonic, 0.1, f64::INFINITY);
        assert_eq!(c0.eval(-0.2), hs.eval(-0.2));
    }
}
