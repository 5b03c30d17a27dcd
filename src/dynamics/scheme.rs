//! The time-discrete scheme: what the memory sums int_s^{t_k} M_R(t_k, u) z(u) du and the
//! responses mean on the grid (docs/equations.md, "Time stepping", (N3)-(N4)).
//!
//! Every process is stepped by the same implicit trapezoidal step (N1)-(N2). Two readings of
//! the kernels go with it:
//! - [`Scheme::Discrete`] (default): the mean-field theory *of the time-discrete dynamics*.
//!   A force acting at a grid point t_j enters the two steps beside t_j with weight dt/2
//!   each, exactly as the pair force does. M_R(t_k, t_j) is the response of a member's
//!   discrete step map to such a force (its value at k = j, about v''^2/(2 zeta), is the part
//!   of the response inside the step onto t_j), and the memory is the plain sum
//!   dt sum_{j <= k} M_R(t_k, t_j) z(t_j). This is the exact large-d limit of the particles'
//!   trapezoidal dynamics, so the equilibrium of the discrete dynamics is kept to the
//!   accuracy of the one-particle step, also where M_R(t, s) varies within a step.
//! - [`Scheme::Trapezoid`]: the continuum equations with every memory integral taken by the
//!   trapezoidal rule and M_R(t, t^-) the continuum limit v''^2/zeta. Second order for smooth
//!   kernels, but in a glass M_R(t, t - tau) falls as 1 - c sqrt(tau) within a step (pairs
//!   leave contact), which the rule misses: the cage is off by several percent at dt = 0.1.

use ndarray::ArrayView2;

/// The time-discrete scheme (config key `grid.scheme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// The mean-field theory of the discrete dynamics (docs/equations.md (N4)).
    #[default]
    Discrete,
    /// The continuum equations with trapezoidal memory integrals (docs/equations.md (N3)).
    Trapezoid,
}

impl Scheme {
    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Discrete => "discrete",
            Scheme::Trapezoid => "trapezoid",
        }
    }

    /// The scheme of a config name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "discrete" => Some(Scheme::Discrete),
            "trapezoid" => Some(Scheme::Trapezoid),
            _ => None,
        }
    }
}

/// The weights of every memory sum on a grid, per unit dt, read off M_R (whose diagonal holds
/// M_R(t_k, t_k)): z(t_u) weighs M_R(k, u) in row k for a column that started before t_u,
/// less [`MemoryWeights::start_lack`] at its start, and z(t_k) weighs
/// [`MemoryWeights::diagonal`].
#[derive(Debug, Clone, Copy)]
pub struct MemoryWeights<'a> {
    m_r: ArrayView2<'a, f64>,
    /// The scheme they belong to.
    pub scheme: Scheme,
}

impl<'a> MemoryWeights<'a> {
    /// The weights of `scheme` from M_R.
    pub fn new(m_r: ArrayView2<'a, f64>, scheme: Scheme) -> Self {
        MemoryWeights { m_r, scheme }
    }

    /// The weights of the points after a column's start: M_R itself, in both schemes.
    pub fn interior(&self) -> ArrayView2<'a, f64> {
        self.m_r
    }

    /// The weight of z(t_k) in row k (the implicit part of a step onto t_k): M_R(t_k, t_k^-)/2
    /// for the trapezoid, M_R(t_k, t_k) (the response within the step) in the discrete scheme.
    pub fn diagonal(&self, k: usize) -> f64 {
        match self.scheme {
            Scheme::Discrete => self.m_r[[k, k]],
            Scheme::Trapezoid => 0.5 * self.m_r[[k, k]],
        }
    }

    /// What a column starting at t_s (s < k) lacks of M_R(k, s): half of it for the
    /// trapezoid (the step before its start); nothing in the discrete scheme, whose columns
    /// carry their start's half step themselves.
    pub fn start_lack(&self, k: usize, s: usize) -> f64 {
        match self.scheme {
            Scheme::Discrete => 0.0,
            Scheme::Trapezoid => 0.5 * self.m_r[[k, s]],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use ndarray::Array2;

    /// The trapezoid halves the diagonal and a column's start; the discrete scheme keeps M_R
    /// whole.
    #[test]
    fn weights_of_both_schemes() {
        let n = 5;
        let m_r = Array2::from_shape_fn((n, n), |(i, j)| {
            if j <= i {
                1.0 + (i + 3 * j) as f64
            } else {
                0.0
            }
        });
        let t = MemoryWeights::new(m_r.view(), Scheme::Trapezoid);
        let d = MemoryWeights::new(m_r.view(), Scheme::Discrete);
        assert_eq!(t.diagonal(3), 0.5 * m_r[[3, 3]]);
        assert_eq!(t.start_lack(3, 1), 0.5 * m_r[[3, 1]]);
        assert_eq!(t.start_lack(3, 0), 0.5 * m_r[[3, 0]]);
        assert_eq!(d.diagonal(3), m_r[[3, 3]]);
        assert_eq!(d.start_lack(3, 1), 0.0);
        assert_eq!(t.interior(), m_r.view());
        for name in ["discrete", "trapezoid"] {
            assert_eq!(Scheme::from_name(name).unwrap().name(), name);
        }
        assert!(Scheme::from_name("euler").is_none());
    }
}
