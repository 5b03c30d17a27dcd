//! Residuals of the identities of spec 1.8 measured on a solution: equilibrium
//! time-translation invariance and FDT, and kappa = beta M_C(t, t).

use super::Solution;

/// Equilibrium residuals of a solution (meaningful for T0 = T, no strain, no G_C).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EquilibriumResiduals {
    /// max_t |kappa(t) - beta M_C(t,t)| / max |kappa|.
    pub kappa_vs_m_c: f64,
    /// max |M_C(t,t) - M_C(0,0)| / M_C(0,0): time-translation invariance of the diagonal.
    pub m_c_tti: f64,
    /// max |M_R(t,s) - beta d_s M_C(t,s)| / max |M_R| over s < t - 1 (centred differences).
    pub m_r_fdt: f64,
    /// max |R(t,s) - beta Delta_r'(t-s)| / max R over s < t - 1.
    pub r_fdt: f64,
    /// max |Delta(t,s) - Delta_r(t-s)| / max Delta_r: TTI of the MSD.
    pub delta_tti: f64,
}

/// Measures [`EquilibriumResiduals`] for a solution at bath temperature `temperature`.
pub fn equilibrium_residuals(sol: &Solution, temperature: f64, dt: f64) -> EquilibriumResiduals {
    let beta = 1.0 / temperature;
    let k = &sol.kernels;
    let n = sol.particle.delta_r.len();
    let kmax = k
        .kappa
        .iter()
        .fold(0.0f64, |a, x| a.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    let kappa_vs_m_c = (0..n)
        .map(|i| (k.kappa[i] - beta * k.m_c[[i, i]]).abs())
        .fold(0.0, f64::max)
        / kmax;
    let c0 = k.m_c[[0, 0]].max(f64::MIN_POSITIVE);
    let m_c_tti = (0..n)
        .map(|i| (k.m_c[[i, i]] - c0).abs())
        .fold(0.0, f64::max)
        / c0;
    let rmax = k
        .m_r
        .iter()
        .fold(0.0f64, |a, x| a.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    let mut m_r_fdt = 0.0f64;
    let mut r_fdt = 0.0f64;
    let dr = &sol.particle.delta_r;
    let r = &sol.particle.r;
    let rpmax = r
        .iter()
        .fold(0.0f64, |a, x| a.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    for t in 2..n {
        for s in 1..t - 1 {
            let d_s = (k.m_c[[t, s + 1]] - k.m_c[[t, s - 1]]) / (2.0 * dt);
            m_r_fdt = m_r_fdt.max((k.m_r[[t, s]] - beta * d_s).abs());
            let lag = t - s;
            let d_lag = (dr[lag + 1] - dr[lag - 1]) / (2.0 * dt);
            r_fdt = r_fdt.max((r[[t, s]] - beta * d_lag).abs());
        }
    }
    let delta = sol.delta();
    let dmax = dr
        .iter()
        .fold(0.0f64, |a, x| a.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    let mut delta_tti = 0.0f64;
    for t in 0..n {
        for s in 0..t {
            delta_tti = delta_tti.max((delta[[t, s]] - dr[t - s]).abs());
        }
    }
    EquilibriumResiduals {
        kappa_vs_m_c,
        m_c_tti,
        m_r_fdt: m_r_fdt / rmax,
        r_fdt: r_fdt / rpmax,
        delta_tti: delta_tti / dmax,
    }
}
