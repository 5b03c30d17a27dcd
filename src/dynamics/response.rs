//! Linear responses of the linear Volterra process
//!
//! ```text
//! zeta dz/dt = -[kappa(t) + a(t)] z + int_s^t M_R(t,u) z(u) du,   z(s) = z_s,
//! ```
//!
//! by the trapezoidal step of docs/equations.md (N1)-(N2), column by column (one column per
//! source time s), with the memory sums and column starts of the run's scheme ((N3) or
//! (N4), [`super::scheme`]). With a = v''(h(t)) of a member and a force v''(h(s)) at s this
//! is the member's exact response chi(t, s) (docs/equations.md (K3)); with a = 0 and a unit
//! force it is the particle's R(t, s) (docs/equations.md (P1)).
//!
//! Only sources with z_s != 0 give a non-zero column (the harmonic potential has v'' = 0 out
//! of contact), so the columns are stored compressed, row by row: row k holds the columns
//! of the sources s <= k.

use ndarray::{s, ArrayView2, ArrayViewMut2};

use super::scheme::{MemoryWeights, Scheme};
use super::time_block;
use crate::linalg::gemm_add;

/// The far memory sums of a time block are products over the points before it in this many
/// groups of columns by source time, each from its first source on.
const SOURCE_GROUPS: usize = 4;

/// Reusable buffers of the response columns of one process.
#[derive(Debug, Default)]
pub struct ResponseWorkspace {
    active: Vec<usize>,
    z: Vec<f64>,
    acc: Vec<f64>,
    memory: Vec<f64>,
    /// The memory sums of a block of rows over the points before the block.
    far: Vec<f64>,
}

/// The shared linear dynamics every member's response follows: current kernels, friction
/// and time step.
#[derive(Debug, Clone, Copy)]
pub struct LinearDynamics<'a> {
    /// kappa(t_k).
    pub kappa: &'a [f64],
    /// The weights of the memory sums, from M_R (docs/equations.md (N3)).
    pub memory: MemoryWeights<'a>,
    /// zeta_hat.
    pub zeta: f64,
    /// dt.
    pub dt: f64,
}

impl LinearDynamics<'_> {
    /// The implicit coefficient of a trapezoidal step onto point k of a process with local
    /// term kappa + a: zeta/dt + (kappa_k + a)/2 - (memory weight of z(t_k))/2
    /// (docs/equations.md (N1)).
    pub fn implicit(&self, k: usize, a: f64) -> f64 {
        self.zeta / self.dt + 0.5 * (self.kappa[k] + a) - 0.5 * self.memory_diagonal(k)
    }

    /// The coefficient of z(t_k) in a trapezoidal step from point k of a process with local
    /// term kappa + a: zeta/dt - (kappa_k + a)/2.
    pub fn explicit(&self, k: usize, a: f64) -> f64 {
        self.zeta / self.dt - 0.5 * (self.kappa[k] + a)
    }

    /// The weight of z(t_k) in the memory sum up to t_k: dt M_R(t_k, t_k^-)/2 in the
    /// trapezoid scheme, dt M_R(t_k, t_k) (the response within the step) in the discrete one.
    pub fn memory_diagonal(&self, k: usize) -> f64 {
        self.dt * self.memory.diagonal(k)
    }
}

/// Where a unit force acts on a response column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kick {
    /// At the grid point t_s (the exact response chi(t, s), the particle's R(t, s)).
    Point,
    /// Over the step [t_(s-1), t_s] (the particle's response to its noise, discrete scheme).
    Step,
}

/// Evolves the response columns of the process with extra local term `extra[k]` to a unit
/// force times `force(s)`, acting as `kick` says, for the sources s with `force(s) != 0`, on
/// the first `extra.len()` points, and calls `visit(k, sources, row)` once row k is
/// complete: `row[j]` is z(t_k) of the column of source `sources[j]`, for every source <= k.
/// In the trapezoid scheme the column starts from its limit z(t_s^+) = force(s)/zeta (a
/// point kick); in the discrete scheme it is the response of the step map (docs/equations.md
/// (N4)): a point force enters the steps on both sides of t_s with half its weight each.
/// Returns the multiply-adds done.
pub fn evolve_columns(
    lin: &LinearDynamics,
    extra: &[f64],
    force: impl Fn(usize) -> f64,
    kick: Kick,
    ws: &mut ResponseWorkspace,
    mut visit: impl FnMut(usize, &[usize], &[f64]),
) -> u64 {
    let LinearDynamics {
        memory: weights,
        dt,
        zeta,
        ..
    } = *lin;
    let w = weights.interior();
    let discrete = weights.scheme == Scheme::Discrete;
    let n = extra.len();
    ws.active.clear();
    ws.active.extend((0..n).filter(|&m| force(m) != 0.0));
    let na = ws.active.len();
    if na == 0 {
        return 0;
    }
    ws.z.clear();
    ws.z.resize(n * na, 0.0);
    ws.acc.clear();
    ws.acc.resize(na, 0.0);
    // memory[j] = dt times the memory sum int_{s_j}^{t_k} M_R(t_k, u) z(u) du.
    ws.memory.clear();
    ws.memory.resize(na, 0.0);
    let (z, active, acc, memory, far) = (
        &mut ws.z,
        &ws.active,
        &mut ws.acc,
        &mut ws.memory,
        &mut ws.far,
    );
    let mut flops = 0u64;
    // cnt = number of sources <= k: the valid columns of row k; sources = number of
    // sources before the current time block (the columns of its far part).
    let mut cnt = 0usize;
    let mut sources = 0usize;
    // The second half of a point force at t_k, due in the step k -> k + 1 of the column that
    // opened at t_k (the newest, j = cnt - 1; discrete scheme).
    let mut pending = 0.0;
    for k in 0..n {
        if cnt < na && active[cnt] == k {
            let f = force(k);
            if discrete {
                // zeta z_s/dt = (1/2) (G_s + f/dt) for a point force (the step onto t_s
                // carries half of it), = G_s/2 + f/dt for a force over the step.
                // At t_0 there is no step onto the point (y(0) = 0 is given): only the half
                // in the step after it acts.
                let a = lin.implicit(k, extra[k]);
                let (share, next) = match kick {
                    Kick::Point if k == 0 => (0.0, 0.5 * f / dt),
                    Kick::Point => (0.5, 0.5 * f / dt),
                    Kick::Step => (1.0, 0.0),
                };
                let x = share * f / (dt * a);
                z[k * na + cnt] = x;
                memory[cnt] = lin.memory_diagonal(k) * x;
                pending = next;
            } else {
                z[k * na + cnt] = f / zeta;
                memory[cnt] = 0.0;
            }
            cnt += 1;
        }
        visit(k, &active[..cnt], &z[k * na..k * na + cnt]);
        if k + 1 == n {
            break;
        }
        // acc[j] = sum_{u = s_j}^{k} W(k + 1, u) z_j(u), the memory weights W of
        // docs/equations.md (N3)-(N4) less the step before s_j at u = s_j (z_j vanishes
        // before s_j; for the trapezoid W = M_R, and the start's weight is halved). The part
        // u < K of the rows k + 1 in [K, K + TIME_BLOCK) is
        // one matrix product at the start of the block, M_R[K.., ..K] Z[..K, ..], with the
        // columns of the sources before K; the rest is summed step by step.
        let (start, opens) = time_block(k + 1, n);
        if let Some(rows) = opens {
            far.clear();
            far.resize(rows * na, 0.0);
            sources = active.partition_point(|&s| s < start);
            if sources > 0 {
                let mut out =
                    ArrayViewMut2::from_shape((rows, na), &mut far[..]).expect("rows x na buffer");
                let zk = ArrayView2::from_shape((start, na), &z[..start * na])
                    .expect("start x na columns");
                // Columns in groups by source: a column is zero before its source, so the
                // group of sources from t_from on needs the points from t_from on only.
                let mut first = 0;
                for g in 1..=SOURCE_GROUPS {
                    let from = start * (g - 1) / SOURCE_GROUPS;
                    let last = if g == SOURCE_GROUPS {
                        sources
                    } else {
                        active.partition_point(|&s| s < start * g / SOURCE_GROUPS)
                    };
                    if last > first {
                        gemm_add(
                            out.slice_mut(s![.., first..last]),
                            1.0,
                            w.slice(s![start..start + rows, from..start]),
                            false,
                            zk.slice(s![from.., first..last]),
                            false,
                        );
                    }
                    first = last;
                }
                // Only the products with z_j(u) at u >= s_j count: the rest multiply zeros.
                let useful: usize = active[..sources].iter().map(|&s| start - s).sum();
                flops += (rows * useful) as u64;
            }
        }
        let row = k + 1 - start;
        acc[..cnt].copy_from_slice(&far[row * na..row * na + cnt]);
        let w_row = w.row(k + 1);
        let w_row = w_row.as_slice().expect("row-major weights");
        let mut cu = sources;
        for u in start..=k {
            while cu < na && active[cu] <= u {
                cu += 1;
            }
            let coef = w_row[u];
            if coef != 0.0 && cu > 0 {
                let row = &z[u * na..u * na + cu];
                for (a, x) in acc[..cu].iter_mut().zip(row) {
                    *a += coef * x;
                }
                flops += cu as u64;
            }
        }
        if discrete {
            acc[..cnt].iter_mut().for_each(|a| *a *= dt);
        } else {
            for (j, a) in acc[..cnt].iter_mut().enumerate() {
                let s = active[j];
                *a = dt * (*a - weights.start_lack(k + 1, s) * z[s * na + j]);
            }
        }
        let explicit = lin.explicit(k, extra[k]);
        let implicit = lin.implicit(k + 1, extra[k + 1]);
        let diag = lin.memory_diagonal(k + 1);
        let (head, tail) = z.split_at_mut((k + 1) * na);
        let prev = &head[k * na..k * na + cnt];
        let next = &mut tail[..cnt];
        for j in 0..cnt {
            let kick = if j + 1 == cnt { pending } else { 0.0 };
            let x = (explicit * prev[j] + 0.5 * (memory[j] + acc[j]) + kick) / implicit;
            next[j] = x;
            memory[j] = acc[j] + diag * x;
        }
        pending = 0.0;
    }
    flops
}

/// Adds `weight[k] v''(t_k) chi(t_k, t_m)` of one member to `m_r_sum[[k, m]]` (m <= k, the
/// diagonal being the limit v''(t_k)^2/zeta) on the first `d2v.len()` points. `d2v` is the
/// member's v''(h(t_k)); its weight may change in time (importance splitting), and the
/// response at (t_k, t_m) is weighted at the later time t_k, when the whole path it depends
/// on is known. Returns the number of multiply-adds done (for benchmarks).
pub fn accumulate_member(
    d2v: &[f64],
    lin: &LinearDynamics,
    weight: &[f64],
    mut m_r_sum: ArrayViewMut2<f64>,
    ws: &mut ResponseWorkspace,
) -> u64 {
    evolve_columns(
        lin,
        d2v,
        |m| d2v[m],
        Kick::Point,
        ws,
        |k, sources, row| {
            let wd = weight[k] * d2v[k];
            if wd != 0.0 {
                let mut out = m_r_sum.row_mut(k);
                let out = out.as_slice_mut().expect("row-major sums");
                for (&m, x) in sources.iter().zip(row) {
                    out[m] += wd * x;
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::particle::response_matrix;
    use ndarray::Array2;

    /// M_R(t_i, t_j) = b e^{-decay (i - j)} below the diagonal, `diagonal` on it.
    fn kernel(n: usize, b: f64, decay: f64, diagonal: f64) -> Array2<f64> {
        Array2::from_shape_fn((n, n), |(i, j)| match i.cmp(&j) {
            std::cmp::Ordering::Greater => b * (-decay * (i - j) as f64).exp(),
            std::cmp::Ordering::Equal => diagonal,
            std::cmp::Ordering::Less => 0.0,
        })
    }

    /// The linear dynamics of `scheme` with these kernels.
    fn linear<'a>(
        kappa: &'a [f64],
        m_r: &'a Array2<f64>,
        scheme: Scheme,
        zeta: f64,
        dt: f64,
    ) -> LinearDynamics<'a> {
        LinearDynamics {
            kappa,
            memory: MemoryWeights::new(m_r.view(), scheme),
            zeta,
            dt,
        }
    }

    /// With v'' constant, chi(t, s) = v'' R_a(t, s) where R_a is the response of the linear
    /// process with local term kappa + v'': compare with the particle's response matrix.
    #[test]
    fn matches_dense_response_with_memory() {
        // Several time blocks (TIME_BLOCK = 32): far and near memory parts both checked.
        let n = 100;
        let (zeta, dt) = (1.3, 0.05);
        let kappa: Vec<f64> = (0..n).map(|i| 0.4 + 0.01 * i as f64).collect();
        let m_r = kernel(n, 0.3, dt, 0.3);
        let d2 = 0.7;
        let d2v = vec![d2; n];
        let mut sum = Array2::zeros((n, n));
        let mut ws = ResponseWorkspace::default();
        let lin = linear(&kappa, &m_r, Scheme::Discrete, zeta, dt);
        accumulate_member(&d2v, &lin, &vec![1.0; n], sum.view_mut(), &mut ws);
        let shifted: Vec<f64> = kappa.iter().map(|k| k + d2).collect();
        let r = response_matrix(&shifted, lin.memory, zeta, dt, n);
        for k in 0..n {
            for m in 0..=k {
                let expect = d2 * d2 * r[[k, m]];
                assert!((sum[[k, m]] - expect).abs() < 1e-13, "{k} {m}");
            }
        }
    }

    /// The columns converge at second order to the exact response of a process with an
    /// exponential memory M_R(t,s) = b e^{-(t-s)}, in both schemes: the closed form of
    /// zeta z' = -a z + b int_0^t e^{-(t-u)} z(u) du, z(0) = 1, is
    /// z = (r1 + 1) e^{r1 t}/(r1 - r2) - (r2 + 1) e^{r2 t}/(r1 - r2) with r1, r2 the roots
    /// of zeta r^2 + (zeta + a) r + a - b = 0. The trapezoid's column of a point kick at 0 is
    /// z(t); the discrete scheme's column of a force over the first step is its average over
    /// the step, z(t - dt/2) + O(dt^2), with the kernel's diagonal the part inside a step,
    /// b/2 (docs/equations.md (N4)).
    #[test]
    fn second_order_against_closed_form() {
        let (zeta, a, b, t_max): (f64, f64, f64, f64) = (1.0, 2.0, 0.8, 2.0);
        let disc = ((zeta + a).powi(2) - 4.0 * zeta * (a - b)).sqrt();
        let (r1, r2) = (
            (-(zeta + a) + disc) / (2.0 * zeta),
            (-(zeta + a) - disc) / (2.0 * zeta),
        );
        let exact =
            |t: f64| ((r1 + 1.0) * (r1 * t).exp() - (r2 + 1.0) * (r2 * t).exp()) / (r1 - r2);
        let err = |steps: usize, scheme: Scheme| {
            let dt = t_max / steps as f64;
            let n = steps + 1;
            let kappa = vec![a; n];
            let diagonal = match scheme {
                Scheme::Trapezoid => b,
                Scheme::Discrete => 0.5 * b,
            };
            let m_r = kernel(n, b, dt, diagonal);
            let lin = linear(&kappa, &m_r, scheme, zeta, dt);
            let (source, kick, expect) = match scheme {
                Scheme::Trapezoid => (0, Kick::Point, exact(t_max)),
                Scheme::Discrete => (1, Kick::Step, exact(t_max - 0.5 * dt)),
            };
            let mut last = 0.0;
            evolve_columns(
                &lin,
                &vec![0.0; n],
                |m| if m == source { zeta } else { 0.0 },
                kick,
                &mut ResponseWorkspace::default(),
                |k, _, row| {
                    if k == n - 1 {
                        last = row[0];
                    }
                },
            );
            (last - expect).abs()
        };
        for scheme in [Scheme::Trapezoid, Scheme::Discrete] {
            let (e1, e2) = (err(50, scheme), err(100, scheme));
            println!("{scheme:?}: errors {e1:.3e} {e2:.3e}, ratio {}", e1 / e2);
            assert!((e1 / e2 - 4.0).abs() < 0.2, "{scheme:?} order: {e1} {e2}");
        }
    }

    /// A member out of contact part of the time: columns with v''_m = 0 vanish and rows with
    /// v''_k = 0 add nothing, while the others agree with a dense trapezoidal computation.
    #[test]
    fn intermittent_contact_matches_dense_member() {
        // Several time blocks, sources starting inside and before each of them.
        let n = 90;
        let (zeta, dt) = (1.0, 0.1);
        let kappa = vec![0.5; n];
        let m_r = kernel(n, 0.2, 0.0, 0.2);
        let d2v: Vec<f64> = (0..n)
            .map(|i| if (i / 4) % 2 == 0 { 2.0 } else { 0.0 })
            .collect();
        let mut sum = Array2::zeros((n, n));
        let mut ws = ResponseWorkspace::default();
        let lin = linear(&kappa, &m_r, Scheme::Trapezoid, zeta, dt);
        accumulate_member(&d2v, &lin, &vec![1.0; n], sum.view_mut(), &mut ws);
        // Dense reference: chi column by column, the trapezoid written out.
        for m in 0..n {
            let mut chi = vec![0.0; n];
            chi[m] = d2v[m] / zeta;
            let integral = |k: usize, chi: &[f64]| -> f64 {
                if k == m {
                    return 0.0;
                }
                let inner: f64 = (m + 1..k).map(|u| m_r[[k, u]] * chi[u]).sum();
                dt * (0.5 * m_r[[k, m]] * chi[m] + inner + 0.5 * m_r[[k, k]] * chi[k])
            };
            for k in m..n - 1 {
                // Fixed point of the implicit step (linear: iterate to convergence).
                let old = chi[k];
                let lhs =
                    zeta / dt * old - 0.5 * (kappa[k] + d2v[k]) * old + 0.5 * integral(k, &chi);
                let mut x = old;
                for _ in 0..200 {
                    chi[k + 1] = x;
                    let rhs =
                        lhs + 0.5 * integral(k + 1, &chi) - 0.5 * (kappa[k + 1] + d2v[k + 1]) * x;
                    x = rhs * dt / zeta;
                }
                chi[k + 1] = x;
            }
            for k in m..n {
                assert!(
                    (sum[[k, m]] - d2v[k] * chi[k]).abs() < 1e-12,
                    "{k} {m}: {} vs {}",
                    sum[[k, m]],
                    d2v[k] * chi[k]
                );
            }
        }
    }

    /// The discrete scheme's columns are the response of the step map itself
    /// (docs/equations.md (N4)): a dense solve of the linearised steps (N1) with the plain
    /// memory sum dt sum_{u <= k} M_R(k, u) z_u, perturbed by a unit force at the point t_j
    /// (in both steps beside it, dt/2 each) or over the step before t_j, divided by the
    /// impulse dt, equals `evolve_columns` for every source and time, across time blocks and
    /// with v'' switching on and off.
    #[test]
    fn discrete_columns_are_the_step_map_response() {
        let n = 75;
        let (zeta, dt) = (1.1, 0.1);
        let kappa: Vec<f64> = (0..n).map(|i| 0.5 + 0.003 * i as f64).collect();
        let m_r = kernel(n, 0.4, 0.3, 0.25);
        let d2v: Vec<f64> = (0..n)
            .map(|i| if (i / 5) % 3 != 1 { 2.0 } else { 0.0 })
            .collect();
        let lin = linear(&kappa, &m_r, Scheme::Discrete, zeta, dt);
        // Dense: z_0 = 0, force[k] the force acting at point k (Point) or in step k-1 -> k
        // (Step).
        let dense = |j: usize, kick: Kick| -> Vec<f64> {
            let mut z = vec![0.0; n];
            let g = |k: usize, z: &[f64]| -> f64 {
                let memory: f64 = (0..=k).map(|u| m_r[[k, u]] * z[u]).sum();
                -(kappa[k] + d2v[k]) * z[k] + dt * memory
            };
            for k in 0..n - 1 {
                let force = match kick {
                    Kick::Point => {
                        0.5 * d2v[j]
                            * (f64::from(u8::from(k == j)) + f64::from(u8::from(k + 1 == j)))
                    }
                    Kick::Step => f64::from(u8::from(k + 1 == j)),
                };
                let a =
                    zeta / dt + 0.5 * (kappa[k + 1] + d2v[k + 1]) - 0.5 * dt * m_r[[k + 1, k + 1]];
                let known: f64 = (0..=k).map(|u| m_r[[k + 1, u]] * z[u]).sum();
                z[k + 1] = (zeta / dt * z[k] + 0.5 * g(k, &z) + 0.5 * dt * known + force) / a;
            }
            z.iter().map(|x| x / dt).collect()
        };
        for kick in [Kick::Point, Kick::Step] {
            let first = usize::from(kick == Kick::Step);
            let mut got = Array2::<f64>::zeros((n, n));
            evolve_columns(
                &lin,
                &d2v,
                |m| match kick {
                    Kick::Point => d2v[m],
                    Kick::Step => f64::from(u8::from(m >= first)),
                },
                kick,
                &mut ResponseWorkspace::default(),
                |k, sources, row| {
                    for (&m, x) in sources.iter().zip(row) {
                        got[[k, m]] = *x;
                    }
                },
            );
            for j in first..n {
                let want = dense(j, kick);
                for k in 0..n {
                    assert!(
                        (got[[k, j]] - want[k]).abs() < 1e-12 * (1.0 + want[k].abs()),
                        "{kick:?} source {j}, t_{k}: {} vs {}",
                        got[[k, j]],
                        want[k]
                    );
                }
            }
        }
    }
}
