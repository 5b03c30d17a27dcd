//! The self-consistent kernels kappa(t), M_C(t, t') and M_R(t, s) (docs/equations.md (K1)-(K3), paper
//! Eq. (19)) on the two-time grid, with the iteration's residual and damping.

use crate::linalg::complete_psd;
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
    /// with an initial guess for the next pass, which re-estimates every new point: all three
    /// kernels continue the last row along the diagonals, kappa(t_i) = kappa(t_{k-1}),
    /// K(t_i, t_j) = K(t_{k-1}, t_{k-1} - (i - j)) for K = M_R, M_C (a lag longer than the
    /// last row knows holds its longest, K(t_{k-1}, t_0)), exact for kernels that depend on
    /// the time difference only. M_C must stay a
    /// covariance for the noise to be drawn from it, and its continuation need not be one
    /// (with a noisy population it was not even factorisable with a diagonal shift): its
    /// block on the new points is then completed to a positive semi-definite matrix
    /// ([`complete_psd`]: the part of the new points' covariance not explained by the old
    /// points loses its negative eigenvalues), leaving the old points and their correlation
    /// with the new ones as continued.
    pub fn continue_rows(&mut self, k: usize, m: usize) {
        assert!(
            k >= 1 && m > k && m - k <= k,
            "a window grows by at most its length"
        );
        let last = k - 1;
        let kappa = self.kappa[last];
        self.kappa.slice_mut(s![k..m]).fill(kappa);
        let r_row = self.m_r.row(last).to_owned();
        let c_row = self.m_c.row(last).to_owned();
        let lagged = |row: &Array1<f64>, lag: usize| row[last - lag.min(last)];
        for i in k..m {
            for j in 0..=i {
                self.m_r[[i, j]] = lagged(&r_row, i - j);
                let c = lagged(&c_row, i - j);
                self.m_c[[i, j]] = c;
                self.m_c[[j, i]] = c;
            }
        }
        // Not finite (a diverging pass): left as it is, for the next factorisation to report.
        let _ = complete_psd(self.m_c.slice_mut(s![..m, ..m]), k);
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

    /// The guess reproduces stationary kernels wherever the last row knows the lag and
    /// holds the last known lag's value beyond it, leaves the prefix untouched, and keeps
    /// M_C a covariance: here the continuation already is one, so the completion leaves it
    /// (to rounding); a continuation that is none (a non-stationary old block) is made one.
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
                let lag = i.abs_diff(j);
                // The lag the guess reads: its own inside the old block or where the last row
                // knows it, else the last row's longest.
                let read = if (i < k && j < k) || lag < k {
                    lag
                } else {
                    k - 1
                };
                let (at, of) = if i >= j {
                    (k - 1, k - 1 - read)
                } else {
                    (k - 1 - read, k - 1)
                };
                let (at, of) = if i < k && j < k { (i, j) } else { (at, of) };
                let r = if j <= i { exact.m_r[[at, of]] } else { 0.0 };
                assert_eq!(grown.m_r[[i, j]], r, "M_R({i}, {j})");
                let c = exact.m_c[[at, of]];
                if i < k && j < k {
                    assert_eq!(grown.m_c[[i, j]], c, "M_C({i}, {j})");
                } else {
                    assert!((grown.m_c[[i, j]] - c).abs() < 1e-12, "M_C({i}, {j})");
                }
            }
        }
        // A continuation that is no covariance: a non-stationary old block X X^T.
        let x = Array2::from_shape_fn((k, 3), |(i, j)| ((i * 5 + j * 3) % 7) as f64 - 3.0);
        let mut moving = Kernels::zeros(m);
        let block = x.dot(&x.t());
        moving.m_c.slice_mut(s![..k, ..k]).assign(&block);
        moving.continue_rows(k, m);
        let lagged = |i: usize, j: usize| block[[k - 1, k - 1 - i.abs_diff(j).min(k - 1)]];
        assert_eq!(moving.m_c.slice(s![..k, ..k]), block);
        let changed = (k..m).any(|i| (k..m).any(|j| moving.m_c[[i, j]] != lagged(i, j)));
        assert!(changed, "the continuation itself is no covariance here");
        let lowest = faer::Mat::from_fn(m, m, |i, j| moving.m_c[[i, j]])
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .unwrap()[0];
        assert!(lowest > -1e-9, "lowest eigenvalue {lowest}");
    }
}
