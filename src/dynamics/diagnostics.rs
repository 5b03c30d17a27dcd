//! Residuals of the identities of docs/equations.md measured on a solution: equilibrium
//! time-translation invariance and FDT, and kappa = beta M_C(t, t).

use super::{Scheme, Solution};

/// Equilibrium residuals of a solution (meaningful for T0 = T, no strain, no G_C).
///
/// The relative residuals mix Monte-Carlo noise with the O(dt^2) bias of the scheme; the
/// `_se` fields measure each residual in units of its standard error, which separates them
/// ([`EquilibriumResiduals::verdicts`]).
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
    /// |int_s^t M_R(t,u) du - beta [M_C(t,t) - M_C(t,s)]| / (beta M_C(0,0)) (trapezoidal, the
    /// diagonal read as the limit M_R(t, t^-)),
    /// the integral of M_R(t,s) = beta d_s M_C(t,s) (no derivative of a noisy kernel).
    pub m_r_fdt: f64,
    /// The same in units of a standard error: max over s < t of the residual over
    /// beta (se M_C(t,t) + se M_C(t,s)), doubled for the noise of M_R itself (taken equal,
    /// as the FDT makes it in equilibrium); se M_C(t,s) is bounded by the diagonal errors
    /// (se M_C(t,t) + se M_C(s,s))/2. NaN without standard errors.
    pub m_r_fdt_se: f64,
    /// max |R(t,s) - beta Delta_r'(t-s)| / max R over s < t - 1.
    pub r_fdt: f64,
    /// The same in units of its summed jackknife standard error,
    /// se R(t,s) + beta se Delta_r'(t-s) (a bound: the two are correlated). NaN without them.
    pub r_fdt_se: f64,
    /// max |Delta(t,s) - Delta_r(t-s)| / max Delta_r: TTI of the MSD.
    pub delta_tti: f64,
    /// The same in units of its summed jackknife standard error,
    /// se C(t,t) + se C(s,s) + 2 se C(t,s) + se Delta_r(t-s) (a bound). NaN without them.
    pub delta_tti_se: f64,
    /// Number of (t, s) points the two-time identities are checked at (for
    /// [`noise_only_max_z`]).
    pub two_time_points: usize,
}

/// |residual| / se, NaN unless se is finite and positive: a running `f64::max` from NaN
/// then gives the largest z over the points with a standard error (NaN when none has one).
fn z(residual: f64, se: f64) -> f64 {
    if se.is_finite() && se > 0.0 {
        residual.abs() / se
    } else {
        f64::NAN
    }
}

/// Largest absolute value, at least the smallest positive normal (a safe divisor).
fn sup(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .fold(f64::MIN_POSITIVE, |a, x| a.max(x.abs()))
}

/// Measures [`EquilibriumResiduals`] for a solution at bath temperature `temperature` on a
/// grid of step `dt` solved with `scheme`.
pub fn equilibrium_residuals(
    sol: &Solution,
    temperature: f64,
    dt: f64,
    scheme: Scheme,
) -> EquilibriumResiduals {
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
    let c_se = &av.m_c_diag_se;
    let mut m_r_fdt = 0.0f64;
    let mut m_r_fdt_se = f64::NAN;
    for t in 1..n {
        // Trapezoidal int_s^t M_R(t, u) du, the diagonal read as M_R(t, t^-) (in the
        // discrete scheme it holds half of it, docs/equations.md (N4)).
        let end = match scheme {
            Scheme::Discrete => 2.0,
            Scheme::Trapezoid => 1.0,
        };
        let mut integral = 0.0;
        for s in (0..t).rev() {
            let upper = if s + 1 == t { end } else { 1.0 } * k.m_r[[t, s + 1]];
            integral += 0.5 * dt * (k.m_r[[t, s]] + upper);
            let rhs = beta * (k.m_c[[t, t]] - k.m_c[[t, s]]);
            m_r_fdt = m_r_fdt.max((integral - rhs).abs());
            let se = 2.0 * beta * (c_se[t] + 0.5 * (c_se[t] + c_se[s]));
            m_r_fdt_se = m_r_fdt_se.max(z(integral - rhs, se));
        }
    }
    let dr = &sol.particle.delta_r;
    let r = &sol.particle.r;
    let pse = &sol.particle_se;
    let mut r_fdt = 0.0f64;
    let mut r_fdt_se = f64::NAN;
    for t in 2..n {
        for s in 1..t - 1 {
            let lag = t - s;
            let d_lag = (dr[lag + 1] - dr[lag - 1]) / (2.0 * dt);
            let d_se = (pse.delta_r[lag + 1] + pse.delta_r[lag - 1]) / (2.0 * dt);
            let res = r[[t, s]] - beta * d_lag;
            r_fdt = r_fdt.max(res.abs());
            r_fdt_se = r_fdt_se.max(z(res, pse.r[[t, s]] + beta * d_se));
        }
    }
    let delta = sol.delta();
    let mut delta_tti = 0.0f64;
    let mut delta_tti_se = f64::NAN;
    for t in 0..n {
        for s in 0..t {
            let res = delta[[t, s]] - dr[t - s];
            delta_tti = delta_tti.max(res.abs());
            let se = pse.c[[t, t]] + pse.c[[s, s]] + 2.0 * pse.c[[t, s]] + pse.delta_r[t - s];
            delta_tti_se = delta_tti_se.max(z(res, se));
        }
    }
    EquilibriumResiduals {
        kappa_vs_m_c,
        kappa_vs_m_c_se,
        kappa_vs_m_c_mean,
        m_c_tti,
        m_c_tti_se,
        m_r_fdt: m_r_fdt / (beta * c0),
        m_r_fdt_se,
        r_fdt: r_fdt / sup(r.iter().copied()),
        r_fdt_se,
        delta_tti: delta_tti / sup(dr.iter().copied()),
        delta_tti_se,
        two_time_points: n * (n - 1) / 2,
    }
}

/// One identity's verdict: the largest |residual| / standard error against the largest
/// that noise alone reaches ([`noise_only_max_z`]), with the relative sup-norm residual.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// The identity, as docs/equations.md writes it.
    pub identity: &'static str,
    /// max |residual| / se (NaN when the file has no standard errors for it).
    pub max_z: f64,
    /// What noise alone reaches over the points checked.
    pub limit: f64,
    /// The relative sup-norm residual.
    pub relative: f64,
}

impl Verdict {
    /// Whether the identity holds within the noise; None without standard errors.
    pub fn holds(&self) -> Option<bool> {
        (!self.max_z.is_nan()).then_some(self.max_z <= self.limit)
    }
}

impl EquilibriumResiduals {
    /// The verdict on every identity, for a solution on `times` grid points.
    pub fn verdicts(&self, times: usize) -> Vec<Verdict> {
        let one = noise_only_max_z(times);
        let two = noise_only_max_z(self.two_time_points);
        let v = |identity, max_z, limit, relative| Verdict {
            identity,
            max_z,
            limit,
            relative,
        };
        vec![
            v(
                "kappa(t) = beta M_C(t,t)",
                self.kappa_vs_m_c_se,
                one,
                self.kappa_vs_m_c,
            ),
            v(
                "M_C(t,t) = M_C(0,0) (TTI)",
                self.m_c_tti_se,
                one,
                self.m_c_tti,
            ),
            v(
                "Delta(t,s) = Delta_r(t-s) (TTI)",
                self.delta_tti_se,
                two,
                self.delta_tti,
            ),
            v(
                "int_s^t M_R(t,u) du = beta [M_C(t,t) - M_C(t,s)] (kernel FDT)",
                self.m_r_fdt_se,
                two,
                self.m_r_fdt,
            ),
            v(
                "R(t,s) = beta Delta_r'(t-s) (particle FDT)",
                self.r_fdt_se,
                two,
                self.r_fdt,
            ),
        ]
    }
}

/// The largest |z| that `points` independent standard-normal residuals reach without a bias,
/// with a margin: sqrt(2 ln points) + 1.5 (4.5 for 100 points). A maximum over time of
/// |residual| / standard error above it means a bias beyond the Monte-Carlo noise.
pub fn noise_only_max_z(points: usize) -> f64 {
    (2.0 * (points.max(2) as f64).ln()).sqrt() + 1.5
}
