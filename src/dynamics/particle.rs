//! The single-particle response R, correlation C and MSD Delta_r (docs/equations.md (P1)).
//!
//! The particle displacement x obeys the linear process
//! zeta dx/dt = -kappa x + int_0^t M_R(t,s) x(s) ds + Xi_x, with
//! <Xi_x Xi_x> = T zeta delta + (G_C + M_C)/2. R(t, s) is the response of
//! [`super::response`] (docs/equations.md (N2)). The noise acts through its step averages
//! (docs/equations.md (N1)), so x(t_k) = dt sum_m S(k, m) xi_m with S(k, m) the response to
//! a force spread over step m: (R(k, m) + R(k, m+1))/2 in the trapezoid scheme, its own
//! column in the discrete scheme (docs/equations.md (N3)-(N4)); hence C = dt^2 S Sigma S^T with Sigma the covariance of the step averages of the noise,
//! T zeta/dt I + (N_m,m' + N_m+1,m' + N_m,m'+1 + N_m+1,m'+1)/8, N = G_C + M_C. C is positive
//! semi-definite by construction, and exact for the free particle with a constant G_C.

use ndarray::{s, Array1, Array2};

use super::response::{evolve_columns, Kick, LinearDynamics, ResponseWorkspace};
use super::scheme::{MemoryWeights, Scheme};
use super::{Grid, Kernels, Model};
use crate::linalg::{gemm_add_shaped, mirror_lower, Shape};

/// R, C and Delta_r on the leading `n` points of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    /// R(t_i, t_j) = delta <x(t_i)> / delta f(t_j), j <= i (per unit time; the diagonal
    /// holds the limit R(t_j+, t_j) = 1/zeta).
    pub r: Array2<f64>,
    /// C(t_i, t_j) = <x(t_i) x(t_j)>.
    pub c: Array2<f64>,
    /// Delta_r(t_i) = C(t_i, t_i).
    pub delta_r: Array1<f64>,
}

/// The response R(k, m), m <= k, of the linear process with friction `zeta`, local term
/// `kappa` and the memory M_R behind `memory`, on `n` points (docs/equations.md (N2)), with
/// R(m, m) = 1/zeta.
pub fn response_matrix<'a>(
    kappa: &'a [f64],
    memory: MemoryWeights<'a>,
    zeta: f64,
    dt: f64,
    n: usize,
) -> Array2<f64> {
    columns(kappa, memory, zeta, dt, n, Kick::Point)
}

/// The particle's response columns to a unit force at each point (`Kick::Point`) or over the
/// step before it (`Kick::Step`): `[[k, s]]` holds the column of source s at t_k.
fn columns<'a>(
    kappa: &'a [f64],
    memory: MemoryWeights<'a>,
    zeta: f64,
    dt: f64,
    n: usize,
    kick: Kick,
) -> Array2<f64> {
    let mut r = Array2::<f64>::zeros((n, n));
    let lin = LinearDynamics {
        kappa: &kappa[..n],
        memory,
        zeta,
        dt,
    };
    let zeros = vec![0.0; n];
    let mut ws = ResponseWorkspace::default();
    let first = usize::from(kick == Kick::Step);
    evolve_columns(
        &lin,
        &zeros,
        |m| if m >= first { 1.0 } else { 0.0 },
        kick,
        &mut ws,
        |k, sources, row| {
            for (&m, x) in sources.iter().zip(row) {
                r[[k, m]] = *x;
            }
        },
    );
    r
}

/// The responses of the step map on the leading `n` points: R(k, m) to a unit force at t_m
/// (R(m, m) = 1/zeta) and S(k, m) to a unit force spread over step m (`n` x `n - 1`), so
/// that x(t_k) = dt sum_m S(k, m) xi_m for the step averages xi_m of the force
/// (docs/equations.md (N1)-(N4)).
pub fn step_responses(
    model: &Model,
    grid: &Grid,
    kernels: &Kernels,
    n: usize,
) -> (Array2<f64>, Array2<f64>) {
    let dt = grid.dt;
    let zeta = model.zeta_hat;
    let memory = MemoryWeights::new(kernels.m_r.view(), grid.scheme);
    let kappa = kernels.kappa.as_slice().expect("contiguous");
    let steps = n - 1;
    if grid.scheme == Scheme::Discrete {
        // The step map's responses: S(k, m) to a force over step m is the column of a
        // force over the step before m + 1; a force at a point acts half in each step beside
        // it, so R(k, m) = (S(k, m - 1) + S(k, m))/2.
        let step = columns(kappa, memory, zeta, dt, n, Kick::Step);
        let s = step.slice(s![.., 1..]).to_owned();
        let r = Array2::from_shape_fn((n, n), |(k, m)| {
            let before = if m > 0 { s[[k, m - 1]] } else { 0.0 };
            let after = if m < steps { s[[k, m]] } else { 0.0 };
            0.5 * (before + after)
        });
        (r, s)
    } else {
        let r = response_matrix(kappa, memory, zeta, dt, n);
        // S(k, m): the response at t_k to a unit force spread over step m.
        let s = Array2::from_shape_fn((n, steps), |(k, m)| {
            if m < k {
                0.5 * (r[[k, m]] + r[[k, m + 1]])
            } else {
                0.0
            }
        });
        (r, s)
    }
}

/// Solves docs/equations.md (P1) on the leading `n` points with the given kernels.
pub fn solve_particle(model: &Model, grid: &Grid, kernels: &Kernels, n: usize) -> Particle {
    let dt = grid.dt;
    let zeta = model.zeta_hat;
    let steps = n - 1;
    let (r, s) = step_responses(model, grid, kernels, n);
    let noise = Array2::from_shape_fn((n, n), |(i, j)| {
        model.noise.g_c(grid.time(i), grid.time(j)) + kernels.m_c[[i, j]]
    });
    // Sigma = T zeta/dt I + (1/2) (step average of N = G_C + M_C), on the steps; below it
    // and S are padded to n x n with a zero last row and column, so that S^T is square and
    // strictly upper triangular (S(k, m) = 0 for m >= k).
    let sigma = Array2::from_shape_fn((n, n), |(i, j)| {
        if i == steps || j == steps {
            return 0.0;
        }
        let white = if i == j {
            model.temperature * zeta / dt
        } else {
            0.0
        };
        let avg = noise[[i, j]] + noise[[i + 1, j]] + noise[[i, j + 1]] + noise[[i + 1, j + 1]];
        white + 0.125 * avg
    });
    let mut s_square = Array2::zeros((n, n));
    s_square.slice_mut(s![.., ..steps]).assign(&s);
    // C = dt^2 S Sigma S^T: S Sigma as its transpose Sigma S^T, then the lower triangle of C.
    let mut s_sigma = Array2::zeros((n, n));
    gemm_add_shaped(
        s_sigma.view_mut().reversed_axes(),
        Shape::UpperFactor,
        1.0,
        sigma.view(),
        false,
        s_square.view(),
        true,
        true,
    );
    let mut c = Array2::zeros((n, n));
    gemm_add_shaped(
        c.view_mut(),
        Shape::LowerResult,
        dt * dt,
        s_sigma.view(),
        false,
        s_square.view(),
        true,
        true,
    );
    mirror_lower(&mut c);
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
        let grid = Grid::uniform(0.05, 40);
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
        let grid = Grid::uniform(0.05, 40);
        let m = model(0.3, ExternalNoise::Constant { f0: 0.8 });
        let p = solve_particle(&m, &grid, &Kernels::zeros(grid.len()), grid.len());
        for i in 0..grid.len() {
            let t = grid.time(i);
            let exact = 0.3 * t / 2.0 + 0.32 * (t / 2.0).powi(2);
            assert!((p.delta_r[i] - exact).abs() < 1e-12);
        }
    }

    /// A harmonic trap kappa with no memory: R(t, s) = e^{-kappa (t-s)/zeta}/zeta, to
    /// O(dt^2).
    #[test]
    fn trap_response_converges_at_second_order() {
        let err = |steps: usize| {
            let grid = Grid::uniform(2.0 / steps as f64, steps);
            let n = grid.len();
            let kappa = vec![1.5; n];
            let m_r = Array2::zeros((n, n));
            let r = response_matrix(
                &kappa,
                MemoryWeights::new(m_r.view(), grid.scheme),
                2.0,
                grid.dt,
                n,
            );
            let exact = (-1.5 * 1.0 / 2.0f64).exp() / 2.0;
            (r[[n - 1, n / 2]] - exact).abs()
        };
        let (e1, e2) = (err(100), err(200));
        assert!((e1 / e2 - 4.0).abs() < 0.1, "order: {e1} {e2}");
    }
}
