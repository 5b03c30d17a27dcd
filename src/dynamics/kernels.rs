//! The self-consistent kernels kappa(t), M_C(t, t') and M_R(t, s) (docs/equations.md (K1)-(K3), paper
//! Eq. (19)) on the two-time grid, with the iteration's residual and damping.

use ndarray::{s, Array1, Array2};

/// Kernels on the full grid; only the leading window is meaningful during the iteration.
/// `m_r[[i, j]]` is M_R(t_i, t_j) for j < i (zero on and above the diagonal); `m_c` is
/// symmetric.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernels {
    /// kappa(t_i) = (phi_hat/2) E[v''(h) + v'(h)].
    pub kappa: Array1<f64>,
    /// M_C(t_i, t_j) = (phi_hat/2) E[v'(h(t_i)) v'(h(t_j))].
    pub m_c: Array2<f64>,
    /// M_R(t_i, t_j) = (phi_hat/2) E[v''(h(t_i)) chi(t_i, t_j)], j < i.
    pub m_r: Array2<f64>,
}

fn sup(a: ndarray::ArrayView<f64, impl ndarray::Dimension>) -> f64 {
    a.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn sup_diff(
    a: ndarray::ArrayView<f64, impl ndarray::Dimension>,
    b: ndarray::ArrayView<f64, impl ndarray::Dimension>,
) -> f64 {
    a.iter()
        .zip(b.iter())
        .fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

fn relative(diff: f64, scale: f64) -> f64 {
    if scale > 0.0 {
        diff / scale
    } else {
        diff
    }
}

impl Kernels {
    /// All kernels zero on a grid of `n` points (the free particle).
    pub fn zeros(n: usize) -> Self {
        Kernels {
            kappa: Array1::zeros(n),
            m_c: Array2::zeros((n, n)),
            m_r: Array2::zeros((n, n)),
        }
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.kappa.len()
    }

    /// True for an empty grid.
    pub fn is_empty(&self) -> bool {
        self.kappa.is_empty()
    }

    /// The residual of one iteration on the leading `n` points: the largest relative
    /// sup-norm change of kappa, M_C and M_R (each relative to the sup norm of `new`).
    pub fn residual(&self, new: &Kernels, n: usize) -> f64 {
        let k = relative(
            sup_diff(self.kappa.slice(s![..n]), new.kappa.slice(s![..n])),
            sup(new.kappa.slice(s![..n])),
        );
        let c = relative(
            sup_diff(self.m_c.slice(s![..n, ..n]), new.m_c.slice(s![..n, ..n])),
            sup(new.m_c.slice(s![..n, ..n])),
        );
        let r = relative(
            sup_diff(self.m_r.slice(s![..n, ..n]), new.m_r.slice(s![..n, ..n])),
            sup(new.m_r.slice(s![..n, ..n])),
        );
        k.max(c).max(r)
    }

    /// Takes kappa on the leading `k` points and M_C, M_R on the leading k x k block from
    /// `from` (the kernels of a converged window, which the iteration no longer changes).
    pub fn keep_prefix(&mut self, from: &Kernels, k: usize) {
        self.kappa
            .slice_mut(s![..k])
            .assign(&from.kappa.slice(s![..k]));
        self.m_c
            .slice_mut(s![..k, ..k])
            .assign(&from.m_c.slice(s![..k, ..k]));
        self.m_r
            .slice_mut(s![..k, ..k])
            .assign(&from.m_r.slice(s![..k, ..k]));
    }

    /// Fills the points [k, m) of a window grown from the leading `k` points (1 <= m - k <= k)
    /// with an initial guess for the next pass, which re-estimates every new point.
    /// kappa and M_R continue the last row along the diagonals: kappa(t_i) = kappa(t_{k-1}),
    /// M_R(t_i, t_j) = M_R(t_{k-1}, t_{k-1} - (i - j)) (zero beyond the lags it knows),
    /// exact for kernels that depend on the time difference only. M_C, which must stay a
    /// covariance for the noise to be drawn from it, gets on the new points the block of the
    /// last m - k points before them, M_C(t_i, t_j) = M_C(t_{i-s}, t_{j-s}) with s = m - k,
    /// and no correlation with the old points: a principal block of a covariance beside it,
    /// so positive semi-definite by construction (continued along the diagonals instead, as
    /// kappa and M_R are, it need not be, and a noisy M_C was not even factorisable with a
    /// diagonal shift).
    pub fn continue_rows(&mut self, k: usize, m: usize) {
        assert!(
            k >= 1 && m > k && m - k <= k,
            "a window grows by at most its length"
        );
        let (last, shift) = (k - 1, m - k);
        let kappa = self.kappa[last];
        self.kappa.slice_mut(s![k..m]).fill(kappa);
        let r_row = self.m_r.row(last).to_owned();
        for i in k..m {
            for j in 0..=i {
                let lag = i - j;
                self.m_r[[i, j]] = if lag <= last { r_row[last - lag] } else { 0.0 };
            }
        }
        let block = self.m_c.slice(s![k - shift..k, k - shift..k]).to_owned();
        self.m_c.slice_mut(s![..k, k..m]).fill(0.0);
        self.m_c.slice_mut(s![k..m, ..k]).fill(0.0);
        self.m_c.slice_mut(s![k..m, k..m]).assign(&block);
    }

    /// Damped update on the leading `n` points: self += damping (new - self).
    pub fn mix(&mut self, new: &Kernels, damping: f64, n: usize) {
        let upd = |old: &mut f64, new: &f64| *old += damping * (new - *old);
        self.kappa
            .slice_mut(s![..n])
            .zip_mut_with(&new.kappa.slice(s![..n]), upd);
        self.m_c
            .slice_mut(s![..n, ..n])
            .zip_mut_with(&new.m_c.slice(s![..n, ..n]), upd);
        self.m_r
            .slice_mut(s![..n, ..n])
            .zip_mut_with(&new.m_r.slice(s![..n, ..n]), upd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kernels that depend on the time difference only, on `n` points.
    fn stationary(n: usize) -> Kernels {
        let mut k = Kernels::zeros(n);
        k.kappa.fill(0.6);
        for i in 0..n {
            for j in 0..n {
                let lag = i.abs_diff(j) as f64;
                k.m_c[[i, j]] = 0.3 * (-0.2 * lag).exp();
                if j <= i {
                    k.m_r[[i, j]] = 0.5 / (1.0 + lag);
                }
            }
        }
        k
    }

    /// The guess reproduces stationary kappa and M_R wherever the last row knows the lag
    /// (zero M_R beyond), gives M_C on the new points the block of the points before them
    /// and no correlation with the old ones, and leaves the prefix untouched.
    #[test]
    fn continued_rows_are_the_stationary_guess() {
        let (k, m) = (8, 15);
        let exact = stationary(m);
        let mut grown = Kernels::zeros(m);
        grown.keep_prefix(&exact, k);
        grown.continue_rows(k, m);
        for i in 0..m {
            assert_eq!(grown.kappa[i], exact.kappa[i]);
            for j in 0..m {
                let old = i < k && j < k;
                let r = if j <= i && (old || i - j < k) {
                    exact.m_r[[i, j]]
                } else {
                    0.0
                };
                let c = if old || (i >= k && j >= k) {
                    exact.m_c[[i, j]]
                } else {
                    0.0
                };
                assert_eq!(grown.m_r[[i, j]], r, "M_R({i}, {j})");
                assert_eq!(grown.m_c[[i, j]], c, "M_C({i}, {j})");
            }
        }
    }
}
