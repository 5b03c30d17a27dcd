//! The exact linear response chi(t, s) = delta h(t)/delta P(s) of one member (docs/equations.md (K1)-(K3)) and
//! its contribution w v''(h(t)) chi(t, s) to M_R.
//!
//! Discretely (impulse P_m applied during step m, response per unit time):
//! chi(m+1, m) = v''_m/zeta and, for k > m,
//! chi(k+1, m) = chi(k, m) (1 - dt (kappa_k + v''_k)/zeta)
//!             + dt^2/zeta sum_{j=m+1}^{k-1} M_R(k, j) chi(j, m).
//! Only source times with v''_m != 0 give a non-zero column (the harmonic potential has
//! v'' = 0 out of contact), so the columns are stored compressed, row by row.

use ndarray::{ArrayView2, ArrayViewMut2};

/// Reusable buffers of the response of one member.
#[derive(Debug, Default)]
pub struct ResponseWorkspace {
    active: Vec<usize>,
    chi: Vec<f64>,
    acc: Vec<f64>,
}

/// The shared linear dynamics every member's response follows: current kernels, friction
/// and time step.
#[derive(Debug, Clone, Copy)]
pub struct LinearDynamics<'a> {
    /// kappa(t_k).
    pub kappa: &'a [f64],
    /// M_R(t_k, t_j).
    pub m_r: ArrayView2<'a, f64>,
    /// zeta_hat.
    pub zeta: f64,
    /// dt.
    pub dt: f64,
}

/// Adds `weight v''(t_k) chi(t_k, t_m)` of one member to `m_r_sum[[k, m]]` (k > m) on the
/// first `d2v.len()` points. `d2v` is the member's v''(h(t_k)). Returns the number of
/// multiply-adds done (for benchmarks).
pub fn accumulate_member(
    d2v: &[f64],
    lin: &LinearDynamics,
    weight: f64,
    mut m_r_sum: ArrayViewMut2<f64>,
    ws: &mut ResponseWorkspace,
) -> u64 {
    let LinearDynamics {
        kappa,
        m_r,
        zeta,
        dt,
    } = *lin;
    let n = d2v.len();
    ws.active.clear();
    ws.active
        .extend((0..n.saturating_sub(1)).filter(|&m| d2v[m] != 0.0));
    let na = ws.active.len();
    if na == 0 {
        return 0;
    }
    ws.chi.clear();
    ws.chi.resize(n * na, 0.0);
    ws.acc.clear();
    ws.acc.resize(na, 0.0);
    let chi = &mut ws.chi;
    let active = &ws.active;
    let acc = &mut ws.acc;
    let c = dt * dt / zeta;
    let mut flops = 0u64;
    // cnt(k) = number of active sources m < k: the valid columns of row k.
    let mut cnt = 0usize;
    for k in 0..n {
        // Row k is complete: accumulate it into M_R.
        let d2 = d2v[k];
        if d2 != 0.0 {
            let row = &chi[k * na..k * na + cnt];
            for (j, x) in row.iter().enumerate() {
                m_r_sum[[k, active[j]]] += weight * d2 * x;
            }
        }
        if k + 1 == n {
            break;
        }
        // Row k+1: decay of row k plus memory sum over rows j in (m, k).
        acc[..cnt].iter_mut().for_each(|a| *a = 0.0);
        let mut cj = 0usize;
        for j in 1..k {
            while cj < na && active[cj] < j {
                cj += 1;
            }
            let coef = m_r[[k, j]];
            if coef != 0.0 && cj > 0 {
                let row = &chi[j * na..j * na + cj];
                for (a, x) in acc[..cj].iter_mut().zip(row) {
                    *a += coef * x;
                }
                flops += cj as u64;
            }
        }
        let decay = 1.0 - dt * (kappa[k] + d2) / zeta;
        let (head, tail) = chi.split_at_mut((k + 1) * na);
        let prev = &head[k * na..k * na + cnt];
        let next = &mut tail[..na];
        for ((nx, px), a) in next[..cnt].iter_mut().zip(prev).zip(acc.iter()) {
            *nx = decay * px + c * a;
        }
        if cnt < na && active[cnt] == k {
            next[cnt] = d2 / zeta;
            cnt += 1;
        }
    }
    flops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::particle::response_matrix;
    use ndarray::Array2;

    /// With v'' constant, chi(t, s) = v'' R_a(t, s) where R_a is the response of the linear
    /// process with local term kappa + v'': compare with the dense particle recursion.
    #[test]
    fn matches_dense_response_with_memory() {
        let n = 30;
        let (zeta, dt) = (1.3, 0.05);
        let kappa: Vec<f64> = (0..n).map(|i| 0.4 + 0.01 * i as f64).collect();
        let m_r = Array2::from_shape_fn((n, n), |(i, j)| {
            if j < i {
                0.3 * (-((i - j) as f64) * dt).exp()
            } else {
                0.0
            }
        });
        let d2 = 0.7;
        let d2v = vec![d2; n];
        let mut sum = Array2::zeros((n, n));
        let mut ws = ResponseWorkspace::default();
        let lin = LinearDynamics {
            kappa: &kappa,
            m_r: m_r.view(),
            zeta,
            dt,
        };
        accumulate_member(&d2v, &lin, 1.0, sum.view_mut(), &mut ws);
        let shifted: Vec<f64> = kappa.iter().map(|k| k + d2).collect();
        let r = response_matrix(&shifted, &m_r, zeta, dt, n);
        for k in 0..n {
            for m in 0..n {
                let expect = d2 * d2 * r[[k, m]];
                assert!((sum[[k, m]] - expect).abs() < 1e-13, "{k} {m}");
            }
        }
    }

    /// A member out of contact part of the time: columns with v''_m = 0 vanish and rows with
    /// v''_k = 0 add nothing, while the others agree with a dense computation.
    #[test]
    fn intermittent_contact_matches_dense_member() {
        let n = 25;
        let (zeta, dt) = (1.0, 0.1);
        let kappa = vec![0.5; n];
        let m_r = Array2::from_shape_fn((n, n), |(i, j)| if j < i { 0.2 } else { 0.0 });
        let d2v: Vec<f64> = (0..n)
            .map(|i| if (i / 4) % 2 == 0 { 2.0 } else { 0.0 })
            .collect();
        let mut sum = Array2::zeros((n, n));
        let mut ws = ResponseWorkspace::default();
        let lin = LinearDynamics {
            kappa: &kappa,
            m_r: m_r.view(),
            zeta,
            dt,
        };
        accumulate_member(&d2v, &lin, 1.0, sum.view_mut(), &mut ws);
        // Dense reference: chi column by column.
        for m in 0..n - 1 {
            let mut chi = vec![0.0; n];
            chi[m + 1] = d2v[m] / zeta;
            for k in m + 1..n - 1 {
                let mem: f64 = (m + 1..k).map(|j| m_r[[k, j]] * chi[j]).sum();
                chi[k + 1] =
                    chi[k] * (1.0 - dt * (kappa[k] + d2v[k]) / zeta) + dt * dt / zeta * mem;
            }
            for k in m + 1..n {
                assert!((sum[[k, m]] - d2v[k] * chi[k]).abs() < 1e-13, "{k} {m}");
            }
        }
    }
}
