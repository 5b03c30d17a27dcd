//! The single-particle response R, correlation C and MSD Delta_r (docs/equations.md (P1)).
//!
//! The particle displacement x obeys the linear process
//! zeta dx/dt = -kappa x + int_0^t M_R(t,s) x(s) ds + Xi_x, with
//! <Xi_x Xi_x> = T zeta delta + (G_C + M_C)/2. Discretised by forward Euler with the
//! left-rectangle memory sum (the same scheme as the population, [`super::population`]),
//! x_n = sum_{m<n} dt R(n, m) xi_m exactly, so C = dt^2 R Sigma R^T with the discrete noise
//! covariance Sigma = T zeta/dt I + (G_C + M_C)/2: the C equation of docs/equations.md (P1) is solved
//! exactly for the discrete scheme, and C is positive semi-definite by construction.

use ndarray::{s, Array1, Array2};

use super::{Grid, Kernels, Model};
use crate::linalg::{gemm_add, matmul_new};

/// R, C and Delta_r on the leading `n` points of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// R(t_i, t_j) = delta <x(t_i)> / delta f(t_j), j < i (per unit time; R(t_j+, t_j) =
    /// 1/zeta).
    pub r: Array2<f64>,
    /// C(t_i, t_j) = <x(t_i) x(t_j)>.
    pub c: Array2<f64>,
    /// Delta_r(t_i) = C(t_i, t_i).
    pub delta_r: Array1<f64>,
}

/// The discrete response of the linear process with friction `zeta`, local term `a_n`
/// (kappa, plus v'' for a pair member) and memory M_R, on `n` points:
/// R(m+1, m) = 1/zeta and
/// R(k+1, m) = R(k, m) (1 - dt a_k/zeta) + dt^2/zeta sum_{j=m+1}^{k-1} M_R(k, j) R(j, m).
pub fn response_matrix(
    kappa: &[f64],
    m_r: &Array2<f64>,
    zeta: f64,
    dt: f64,
    n: usize,
) -> Array2<f64> {
    let mut r = Array2::<f64>::zeros((n, n));
    let c = dt * dt / zeta;
    let mut acc = vec![0.0; n];
    for k in 0..n.saturating_sub(1) {
        // Row k+1 from rows 1..k (row-oriented memory sum: axpy over source times m < j).
        acc[..k].iter_mut().for_each(|a| *a = 0.0);
        for j in 1..k {
            let coef = m_r[[k, j]];
            if coef != 0.0 {
                let row = r.slice(s![j, ..j]);
                for (a, x) in acc[..j].iter_mut().zip(row.iter()) {
                    *a += coef * x;
                }
            }
        }
        let decay = 1.0 - dt * kappa[k] / zeta;
        for m in 0..k {
            r[[k + 1, m]] = decay * r[[k, m]] + c * acc[m];
        }
        r[[k + 1, k]] = 1.0 / zeta;
    }
    r
}

/// Solves docs/equations.md (P1) on the leading `n` points with the given kernels.
pub fn solve_particle(model: &Model, grid: &Grid, kernels: &Kernels, n: usize) -> Particle {
    let dt = grid.dt;
    let zeta = model.zeta_hat;
    let r = response_matrix(
        kernels.kappa.as_slice().expect("contiguous"),
        &kernels.m_r,
        zeta,
        dt,
        n,
    );
    // Sigma = T zeta/dt I + (G_C + M_C)/2.
    let sigma = Array2::from_shape_fn((n, n), |(i, j)| {
        let white = if i == j {
            model.temperature * zeta / dt
        } else {
            0.0
        };
        white + 0.5 * (model.noise.g_c(grid.time(i), grid.time(j)) + kernels.m_c[[i, j]])
    });
    let r_sigma = matmul_new(r.view(), sigma.view());
    let mut c = Array2::zeros((n, n));
    gemm_add(c.view_mut(), dt * dt, r_sigma.view(), false, r.view(), true);
    // Symmetrise the rounding.
    let ct = c.t().to_owned();
    c = 0.5 * (c + ct);
    let delta_r = c.diag().to_owned();
    Particle { r, c, delta_r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driving::Driving;
    use crate::noise::ExternalNoise;
    use crate::potential::Potential;
    use crate::schedule::StrainSchedule;

    fn model(temperature: f64, noise: ExternalNoise) -> Model {
        Model {
            potential: Potential::Harmonic { eps: 1.0 },
            phi_hat: 0.0,
            zeta_hat: 2.0,
            temperature,
            t0: 1.0,
            noise,
            driving: Driving::None,
            schedule: StrainSchedule::None,
        }
    }

    /// Free particle: Delta_r = T t / zeta exactly for the discrete scheme (docs/equations.md, the free particle).
    #[test]
    fn free_diffusion() {
        let grid = Grid {
            dt: 0.05,
            steps: 40,
        };
        let m = model(0.7, ExternalNoise::None);
        let p = solve_particle(&m, &grid, &Kernels::zeros(grid.len()), grid.len());
        for i in 0..grid.len() {
            let exact = 0.7 * grid.time(i) / 2.0;
            assert!(
                (p.delta_r[i] - exact).abs() < 1e-12,
                "{i}: {}",
                p.delta_r[i]
            );
        }
    }

    /// Constant random force f0 on a free particle: x = f t/zeta with f ~ N(0, f0^2/2), so
    /// Delta_r = T t/zeta + (f0^2/2) (t/zeta)^2.
    #[test]
    fn constant_random_force() {
        let grid = Grid {
            dt: 0.05,
            steps: 40,
        };
        let m = model(0.3, ExternalNoise::Constant { f0: 0.8 });
        let p = solve_particle(&m, &grid, &Kernels::zeros(grid.len()), grid.len());
        for i in 0..grid.len() {
            let t = grid.time(i);
            let exact = 0.3 * t / 2.0 + 0.32 * (t / 2.0).powi(2);
            assert!((p.delta_r[i] - exact).abs() < 1e-12);
        }
    }

    /// A harmonic trap kappa with no memory: R(t, s) = e^{-kappa (t-s)/zeta}/zeta, to O(dt).
    #[test]
    fn trap_response_converges_at_first_order() {
        let err = |steps: usize| {
            let grid = Grid {
                dt: 2.0 / steps as f64,
                steps,
            };
            let n = grid.len();
            let kappa = vec![1.5; n];
            let r = response_matrix(&kappa, &Array2::zeros((n, n)), 2.0, grid.dt, n);
            let exact = (-1.5 * 1.0 / 2.0f64).exp() / 2.0;
            (r[[n - 1, n / 2]] - exact).abs()
        };
        let (e1, e2) = (err(100), err(200));
        assert!((e1 / e2 - 2.0).abs() < 0.1, "order: {e1} {e2}");
    }
}
