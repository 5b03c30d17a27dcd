//! One-time observables of the population (docs/equations.md, section "Observables"; paper
//! Eqs. (19), (24)): the per-member terms whose weighted population averages are kappa(t),
//! the stress, the convected stress of the paper's Eq. (24), the pressures and the energy.
//!
//! **The stress is the work conjugate of the strain.** It is dU/dgamma at fixed non-affine
//! coordinates: the pair force projected on the pair's *current* direction. At d -> infinity
//! that projection is (g_c c + gamma c^2)/d, so
//!
//!   sigma(t)/(d rho) = E_w[(d h_aff/d gamma) v'(h(t))]
//!                    = sqrt(F) E_w[(g_c c_u + gamma_eff(t) c_u^2) v'(h(t))],
//!
//! with h_aff = h0 + gamma_eff g_c c_u + gamma_eff^2 c_u^2/2 the affine gap and c = sqrt(F) c_u.
//! The paper's Eq. (24) keeps only g_c c_u (the force along the pair's *initial* direction):
//! that is the convected component sigma_24 = sigma + gamma P_c, with the pressure along the
//! driving direction P_c(t)/(d rho) = -F E_w[c_u^2 v'(h(t))]. Both are reported.

use crate::potential::PotentialValues;

/// The one-time population averages; their discriminants are the storage order of [`Terms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observable {
    /// kappa(t) = (phi_hat/2) E[v'' + v'] (paper Eq. (19)).
    Kappa,
    /// The stress sigma(t)/(d rho), the work conjugate of the strain.
    Stress,
    /// The convected stress of paper Eq. (24), sigma + gamma P_c.
    StressConvected,
    /// The (interaction) pressure P(t)/(d rho) = -(phi_hat/2) E[v'].
    Pressure,
    /// The pressure along the driving direction P_c(t)/(d rho) = -(phi_hat/2) E[c^2 v'].
    PressureC,
    /// The energy per particle over d, e(t) = (phi_hat/2) E[v(h)].
    Energy,
}

impl Observable {
    /// Number of observables (the last one is [`Observable::Energy`]).
    pub const COUNT: usize = 6;

    /// Position in storage order.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The per-member terms of every observable, in storage order, before the weight.
pub type Terms = [f64; Observable::COUNT];

/// A member's affine geometry (paper Eq. (18)): the products of its Gaussian numbers that the
/// affine gap h0 + gamma_eff g_c c_u + gamma_eff^2 c_u^2/2 and the observables involve.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// g_c c_u.
    pub gc_cu: f64,
    /// c_u^2.
    pub cu2: f64,
}

/// The terms of one member at one time: the potential at its gap, its geometry, the
/// effective strain gamma_eff(t) and sqrt(F) (1 without driving: the stress is then the
/// unstrained shear-stress fluctuation, zero on average, and P_c = P on average).
#[inline]
pub fn terms(pv: PotentialValues, geo: Geometry, gamma_eff: f64, sqrt_f: f64) -> Terms {
    let shear = sqrt_f * geo.gc_cu * pv.dv;
    [
        pv.d2v + pv.dv,
        shear + sqrt_f * gamma_eff * geo.cu2 * pv.dv,
        shear,
        -pv.dv,
        -sqrt_f * sqrt_f * geo.cu2 * pv.dv,
        pv.v,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sigma_24 = sigma + gamma P_c term by term, with gamma = gamma_eff / sqrt(F).
    #[test]
    fn convected_stress_is_stress_plus_gamma_p_c() {
        let pv = PotentialValues {
            v: 0.3,
            dv: -1.1,
            d2v: 2.0,
        };
        let geo = Geometry {
            gc_cu: 0.7,
            cu2: 1.9,
        };
        let (gamma, sqrt_f) = (0.37, 0.8);
        let x = terms(pv, geo, gamma * sqrt_f, sqrt_f);
        let (s, s24, p_c) = (
            x[Observable::Stress.index()],
            x[Observable::StressConvected.index()],
            x[Observable::PressureC.index()],
        );
        assert!((s24 - (s + gamma * p_c)).abs() < 1e-15);
        assert_eq!(x[Observable::Pressure.index()], 1.1);
        assert_eq!(x[Observable::Kappa.index()], 2.0 - 1.1);
        assert_eq!(x[Observable::Energy.index()], 0.3);
        assert_eq!(Observable::Energy.index() + 1, Observable::COUNT);
    }
}
