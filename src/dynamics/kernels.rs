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
