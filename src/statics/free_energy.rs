//! The glass free energy G(Delta, A; gamma) of docs/equations.md (S1) (paper Eq. (29)), its stationarity
//! conditions (Eq. (33)) with their Jacobian, the stress (Eq. (34)) and the RS stability
//! eigenvalue lambda_R (docs/equations.md, Statics), all from one pass over the gap grid.

use super::cage::{Cage, Interaction};
use super::quadrature::{strain_disorder, uniform, H_POINTS_PER_SIGMA, H_SIGMAS};
use crate::potential::Potential;

/// A glass prepared in equilibrium at (phi_hat, beta0), followed to bath inverse
/// temperature beta under constant random forces f0_hat and a strain applied with
/// relative-displacement variance F (F = 1: global shear, AQS; otherwise AQRD, Eq. (32)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaticModel {
    /// Interaction.
    pub interaction: Interaction,
    /// Rescaled packing fraction phi_hat.
    pub phi_hat: f64,
    /// Bath inverse temperature beta (infinite at T = 0).
    pub beta: f64,
    /// Preparation inverse temperature beta0.
    pub beta0: f64,
    /// Rescaled constant random force f0_hat.
    pub f0: f64,
    /// Variance F of the relative displacements (1 for global shear).
    pub variance: f64,
}

/// A point (Delta, A, gamma) of the state-following problem (A = 2 Delta_r - Delta, Eq. (26)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct State {
    /// Cage size Delta.
    pub delta: f64,
    /// A = 2 Delta_r - Delta.
    pub a: f64,
    /// Strain gamma (the AQRD random strain when F != 1).
    pub gamma: f64,
}

impl State {
    /// Delta_r = (A + Delta) / 2 (Eq. (26)).
    pub fn delta_r(&self) -> f64 {
        0.5 * (self.a + self.delta)
    }
}

/// Everything the solver needs at one [`State`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// G(Delta, A; gamma) (docs/equations.md (S1), without the irrelevant log(1/d^2)).
    pub g: f64,
    /// The stationarity conditions (dG/dDelta, dG/dA) of Eq. (33), in the spec's form.
    pub e: [f64; 2],
    /// Jacobian of `e` with respect to (Delta, A, gamma^2).
    pub jac: [[f64; 3]; 2],
    /// Stress sigma_hat = -(1/2) dG/dgamma (docs/equations.md, Statics).
    pub sigma: f64,
    /// RS stability eigenvalue lambda_R (docs/equations.md, Statics); RS is exact while it is positive.
    pub lambda_r: f64,
}

/// Relative step of the central difference in Delta (only the Jacobian uses it).
const DELTA_STEP: f64 = 1e-5;

impl StaticModel {
    /// Variance added to a cage's Gaussian tail at h -> -infinity by a soft core: the
    /// harmonic q decays like exp(-beta eps m^2 / c), of variance Delta + T/(2 eps).
    fn core_variance(&self, beta: f64) -> f64 {
        match self.interaction {
            Interaction::Soft(Potential::Harmonic { eps }) if beta.is_finite() => {
                0.5 / (beta * eps)
            }
            _ => 0.0,
        }
    }

    /// beta^2 f0_hat^2 (0 without random forces, also at T = 0).
    fn force_term(&self) -> f64 {
        if self.f0 == 0.0 {
            0.0
        } else {
            self.beta * self.beta * self.f0 * self.f0
        }
    }

    /// Evaluates G, the conditions of Eq. (33), their Jacobian, the stress and lambda_R.
    pub fn evaluate(&self, s: &State) -> Evaluation {
        let (delta, a, gamma) = (s.delta, s.a, s.gamma);
        let g2 = gamma * gamma;
        // q_gamma(A; h) = E_z q(A + gamma^2 F z^2; h): nodes carry s_k = F z_k^2.
        let mut zr = strain_disorder(a, g2 * self.variance);
        for n in zr.nodes.iter_mut() {
            *n *= self.variance;
        }
        let prep: Vec<(f64, f64, Cage)> = zr
            .nodes
            .iter()
            .zip(&zr.weights)
            .map(|(&sk, &wk)| (wk, sk, Cage::new(self.interaction, a + g2 * sk, self.beta0)))
            .collect();
        let bath = Cage::new(self.interaction, delta, self.beta);
        let bath_p = Cage::new(self.interaction, delta * (1.0 + DELTA_STEP), self.beta);
        let bath_m = Cage::new(self.interaction, delta * (1.0 - DELTA_STEP), self.beta);

        // Gap grid: every Gaussian tail out to H_SIGMAS standard deviations (weighted
        // nodes of the strain average shrink theirs), at H_POINTS_PER_SIGMA per the
        // narrowest.
        let cv_bath = self.core_variance(self.beta);
        let cv_prep = self.core_variance(self.beta0);
        let sd_bath = (delta + cv_bath).sqrt();
        let mut lo = 0.5 * delta - H_SIGMAS * sd_bath;
        for (&sk, &wk) in zr.nodes.iter().zip(&zr.weights) {
            let lw = wk.ln();
            if lw > -40.0 {
                let v = a + g2 * sk;
                let k = (2.0 * (40.0 + lw)).sqrt().max(H_SIGMAS);
                lo = lo.min(0.5 * v - k * (v + cv_prep).sqrt());
            }
        }
        let hi = self.interaction.edge() + 0.5 * delta + H_SIGMAS * delta.sqrt();
        let spacing = delta.min(a).sqrt() / H_POINTS_PER_SIGMA;
        let grid = uniform(lo, hi, spacing);

        let mut acc = [0.0f64; 11];
        for (&h, &wh) in grid.nodes.iter().zip(&grid.weights) {
            let (mut p, mut pa, mut q2a) = (0.0, 0.0, 0.0);
            for (wk, sk, cage) in &prep {
                let c = cage.eval(h);
                let q = c.q();
                let qa = q * c.d_delta();
                p += wk * q;
                pa += wk * qa;
                q2a += wk * sk * qa;
            }
            let eh = wh * h.exp();
            let b = bath.eval(h);
            let (l, b1, l2) = (b.log_q, b.d_delta(), b.d2_log());
            let k = 0.5 * (l2 + b.d1);
            let (bp, bm) = (bath_p.eval(h), bath_m.eval(h));
            let terms = [
                p * l,
                p * b1,
                pa * l,
                pa * b1,
                pa * k,
                q2a * b1,
                q2a * k,
                q2a * l,
                p * l2 * l2,
                p * (bp.d_delta() - bm.d_delta()),
                pa * (bp.log_q - bm.log_q),
            ];
            for (acc, t) in acc.iter_mut().zip(terms) {
                *acc += eh * t;
            }
        }
        let [i_pl, i_pb1, i_pal, i_pab1, i_pak, i_q2ab1, i_q2ak, i_q2al, i_pl2, d_pb1, d_pal] = acc;
        let phi = self.phi_hat;
        let inv = 1.0 / delta;
        let fd = 1.0 / (2.0 * DELTA_STEP * delta);
        Evaluation {
            g: 1.0
                + (std::f64::consts::PI * delta).ln()
                + a * inv
                + self.force_term() * delta
                + phi * i_pl,
            e: [
                inv - a * inv * inv + self.force_term() + phi * i_pb1,
                inv + phi * i_pal,
            ],
            jac: [
                [
                    -inv * inv + 2.0 * a * inv * inv * inv + phi * d_pb1 * fd,
                    -inv * inv + phi * i_pab1,
                    phi * i_q2ab1,
                ],
                [-inv * inv + phi * d_pal * fd, phi * i_pak, phi * i_q2ak],
            ],
            sigma: -phi * gamma * i_q2al,
            lambda_r: 1.0 - 0.5 * phi * delta * delta * i_pl2,
        }
    }

    /// The equilibrium cage function F1(Delta) = -Delta int dh e^h d_Delta q log q at the
    /// bath temperature (docs/equations.md.3); the glass at phi_hat solves F1(Delta) = 1/phi_hat.
    pub fn f1(&self, delta: f64) -> f64 {
        let eq = StaticModel {
            beta0: self.beta,
            f0: 0.0,
            phi_hat: 1.0,
            ..*self
        };
        let e = eq.evaluate(&State {
            delta,
            a: delta,
            gamma: 0.0,
        });
        // e[1] = 1/Delta + int e^h d_Delta q log q at phi_hat = 1.
        -delta * (e.e[1] - 1.0 / delta)
    }
}
