//! Residuals of the identities of docs/equations.md measured on a solution: equilibrium
//! time-translation invariance and FDT, and kappa = beta M_C(t, t).

use super::Solution;

/// Equilibrium residuals of a solution (meaningful for T0 = T, no strain, no G_C).
///
/// The relative residuals mix Monte-Carlo noise with the O(dt^2) bias of the scheme;
/// [`EquilibriumResiduals::kappa_vs_m_c_se`] separates them for the one identity whose
/// standard error the population pass measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EquilibriumResiduals {
    /// max_t |kappa(t) - beta M_C(t,t)| / max |kappa|.
    pub kappa_vs_m_c: f64,
    /// max_t |kappa(t) - beta M_C(t,t)| / (se kappa(t) + beta se M_C(t,t)), over t > 0: the
    /// same residual in units of its standard error (about 2-3 for pure noise over a few
    /// hundred times; much larger means a bias).
    pub kappa_vs_m_c_se: f64,
    /// mean_t (beta M_C(t,t) - kappa(t)) / kappa(0) over t > 0: the signed, time-averaged
    /// gap, in which noise averages out and the O(dt) bias remains.
    pub kappa_vs_m_c_mean: f64,
    /// max |M_C(t,t) - M_C(0,0)| / M_C(0,0): time-translation invariance of the diagonal.
    pub m_c_tti: f64,
    /// max over t > 0 of |M_C(t,t) - M_C(0,0)| / (se M_C(t,t) + se M_C(0,0)): the same in
    /// units of its standard error.
    pub m_c_tti_se: f64,
    /// Integrated kernel FDT: max over s < t of
    /// |int_s^t M_R(t,u) du - beta [M_C(t,t) - M_C(t,s)]| / (beta M_C(0,0)) (trapezoidal),
    /// the integral of M_R(t,s) = beta d_s M_C(t,s) (no derivative of a noisy kernel).
    pub m_r_fdt: f64,
    /// max |R(t,s) - beta Delta_r'(t-s)| / max R over s < t - 1.
    pub r_fdt: f64,
    /// max |Delta(t,s) - Delta_r(t-s)| / max Delta_r: TTI of the MSD.
    pub delta_tti: f64,
}

/// Largest absolute value, at least the smallest positive normal (a safe divisor).
fn sup(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .fold(f64::MIN_POSITIVE, |a, x| a.max(x.abs()))
}

/// Measures [`EquilibriumResiduals`] for a solution at bath temperature `temperature`.
pub fn equilibrium_residuals(sol: &Solution, temperature: f64, dt: f64) -> EquilibriumResiduals {
    let beta = 1.0 / temperature;
    let k = &sol.kernels;
    let av = &sol.averages;
    let n = sol.particle.delta_r.len();
    let gap = |i: usize| beta * k.m_c[[i, i]] - k.kappa[i];
    let kappa_vs_m_c = sup((0..n).map(gap)) / sup(k.kappa.iter().copied());
    let kappa_vs_m_c_se = (1..n)
        .filter_map(|i| {
            let se = av.kappa_se[i] + beta * av.m_c_diag_se[i];
            (se > 0.0).then(|| gap(i).abs() / se)
        })
        .fold(0.0, f64::max);
    let kappa_vs_m_c_mean = if n > 1 {
        (1..n).map(gap).sum::<f64>() / (n - 1) as f64 / k.kappa[0].abs().max(f64::MIN_POSITIVE)
    } else {
        0.0
    };
    let c0 = k.m_c[[0, 0]].max(f64::MIN_POSITIVE);
    let m_c_tti = sup((0..n).map(|i| k.m_c[[i, i]] - c0)) / c0;
    let m_c_tti_se = (1..n)
        .filter_map(|i| {
            let se = av.m_c_diag_se[i] + av.m_c_diag_se[0];
            (se > 0.0).then(|| (k.m_c[[i, i]] - k.m_c[[0, 0]]).abs() / se)
        })
        .fold(0.0, f64::max);
    let mut m_r_fdt = 0.0f64;
    for t in 1..n {
        // Trapezoidal int_s^t M_R(t, u) du, the diagonal holding M_R(t, t^-).
        let mut integral = 0.0;
        for s in (0..t).rev() {
            integral += 0.5 * dt * (k.m_r[[t, s]] + k.m_r[[t, s + 1]]);
            let rhs = beta * (k.m_c[[t, t]] - k.m_c[[t, s]]);
            m_r_fdt = m_r_fdt.max((integral - rhs).abs());
        }
    }
    let dr = &sol.particle.delta_r;
    let r = &sol.particle.r;
    let mut r_fdt = 0.0f64;
    for t in 2..n {
        for s in 1..t - 1 {
            let lag = t - s;
            let d_lag = (dr[lag + 1] - dr[lag - 1]) / (2.0 * dt);
            r_fdt = r_fdt.max((r[[t, s]] - beta * d_lag).abs());
        }
    }
    let delta = sol.delta();
    let mut delta_tti = 0.0f64;
    for t in 0..n {
        for s in 0..t {
            delta_tti = delta_tti.max((delta[[t, s]] - dr[t - s]).abs());
        }
    }
    EquilibriumResiduals {
        kappa_vs_m_c,
        kappa_vs_m_c_se,
        kappa_vs_m_c_mean,
        m_c_tti,
        m_c_tti_se,
        m_r_fdt: m_r_fdt / (beta * c0),
        r_fdt: r_fdt / sup(r.iter().copied()),
        delta_tti: delta_tti / sup(dr.iter().copied()),
    }
}

/// The largest |z| that `points` independent standard-normal residuals reach without a bias,
/// with a margin: sqrt(2 ln points) + 1.5 (4.5 for 100 points). A maximum over time of
/// |residual| / standard error above it means a bias beyond the Monte-Carlo noise.
pub fn noise_only_max_z(points: usize) -> f64 {
    (2.0 * (points.max(2) as f64).ln()).sqrt() + 1.5
}
