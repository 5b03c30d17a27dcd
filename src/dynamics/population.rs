//! One pass over the population (docs/equations.md (E1), (K1)-(K3), (O1)-(O3)): integrate every member's effective
//! process with the current kernels and average into new kernels and observables.
//!
//! Members are processed in fixed blocks of [`BLOCK`] members, stored time-major
//! (`[time][member]`), so one time step over a block is a vector loop, the coloured noise is
//! a matrix product L Z and M_C is the matrix product F W F^T of the blocks' forces. Blocks
//! run in parallel in waves of [`WAVE`] and their partial sums are added in block order, so
//! the result is bit-identical for any thread count and memory does not grow with N.

use ndarray::{s, Array1, Array2, ArrayView2};
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::observables::{terms, Geometry, Observable, Terms};
use super::response::{accumulate_member, LinearDynamics, ResponseWorkspace};
use super::sampling::member_rng;
use super::{Kernels, Problem};
use crate::error::{Error, Result};
use crate::linalg::gemm_add;
use crate::potential::Potential;

/// Members per block (even, so that stratum pairs never straddle blocks).
pub const BLOCK: usize = 256;
/// Blocks per parallel wave.
pub const WAVE: usize = 16;
/// Most Newton iterations of one implicit step.
const NEWTON_ITERATIONS: usize = 50;

/// A one-time population average and its standard error, on the leading `n` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The weighted population mean.
    pub mean: Array1<f64>,
    /// Its standard error (from the stratum pairs).
    pub se: Array1<f64>,
}

/// Population averages of one pass, on the leading `n` points.
#[derive(Debug, Clone)]
pub struct Averages {
    /// New kernels (only the leading n x n block is filled).
    pub kernels: Kernels,
    /// Standard error of kappa(t).
    pub kappa_se: Array1<f64>,
    /// Standard error of M_C(t, t).
    pub m_c_diag_se: Array1<f64>,
    /// The stress sigma(t)/(d rho), work conjugate of the strain (see [`super::observables`]).
    pub stress: Estimate,
    /// The convected stress of paper Eq. (24), sigma + gamma P_c.
    pub stress_convected: Estimate,
    /// The pressure P(t)/(d rho) = -(phi_hat/2) E[v'(h)].
    pub pressure: Estimate,
    /// The pressure along the driving direction P_c(t)/(d rho) = -(phi_hat/2) E[c^2 v'(h)].
    pub pressure_c: Estimate,
    /// The energy e(t) = (phi_hat/2) E[v(h)].
    pub energy: Estimate,
    /// Sample trajectories h(t), `[time][sample]`.
    pub samples: Array2<f64>,
    /// Work counters of the pass (for benchmarks).
    pub work: Work,
}

/// Work counters of one pass, summed over blocks (thread time, not wall time).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Work {
    /// Multiply-adds of the exact response.
    pub response_flops: u64,
    /// Thread-seconds spent in the exact response.
    pub response_seconds: f64,
    /// Multiply-adds of the gap integration, noise and M_C products.
    pub kernel_flops: u64,
    /// Thread-seconds spent in the gap integration, noise and M_C products.
    pub kernel_seconds: f64,
}

impl Averages {
    /// The relative Monte-Carlo noise floor of the kernels: the largest standard error of
    /// kappa(t) and M_C(t, t) relative to the sup norm of that kernel.
    pub fn noise_floor(&self) -> f64 {
        let rel = |se: &Array1<f64>, k: f64| {
            let m = se.iter().cloned().fold(0.0, f64::max);
            if k > 0.0 {
                m / k
            } else {
                0.0
            }
        };
        let n = self.kappa_se.len();
        let kmax = self
            .kernels
            .kappa
            .iter()
            .take(n)
            .fold(0.0f64, |a, x| a.max(x.abs()));
        let cmax = (0..n).fold(0.0f64, |a, i| a.max(self.kernels.m_c[[i, i]].abs()));
        rel(&self.kappa_se, kmax).max(rel(&self.m_c_diag_se, cmax))
    }
}

/// Sums of one block (or of all blocks so far). `one_time[[o, t]]` holds the weighted sum of
/// observable `o` ([`Observable`] order) and `one_time_sq` the sum over stratum pairs
/// (members 2i, 2i+1, neighbours in h0) of the squared difference of their terms: with
/// stratified h0 the variance of the mean is sum_pairs (x_a - x_b)^2 / N^2, which the i.i.d.
/// formula would overestimate many times where the terms vary smoothly with h0.
struct Partial {
    one_time: Array2<f64>,
    one_time_sq: Array2<f64>,
    m_c: Array2<f64>,
    m_c_diag_sq: Array1<f64>,
    m_r: Array2<f64>,
    samples: Vec<(usize, Vec<f64>)>,
    work: Work,
}

impl Partial {
    fn zeros(n: usize) -> Self {
        let k = Observable::COUNT;
        Partial {
            one_time: Array2::zeros((k, n)),
            one_time_sq: Array2::zeros((k, n)),
            m_c: Array2::zeros((n, n)),
            m_c_diag_sq: Array1::zeros(n),
            m_r: Array2::zeros((n, n)),
            samples: Vec::new(),
            work: Work::default(),
        }
    }

    fn add(&mut self, o: Partial) {
        self.one_time += &o.one_time;
        self.one_time_sq += &o.one_time_sq;
        self.m_c += &o.m_c;
        self.m_c_diag_sq += &o.m_c_diag_sq;
        self.m_r += &o.m_r;
        self.samples.extend(o.samples);
        self.work.response_flops += o.work.response_flops;
        self.work.response_seconds += o.work.response_seconds;
        self.work.kernel_flops += o.work.kernel_flops;
        self.work.kernel_seconds += o.work.kernel_seconds;
    }

    /// Mean and standard error of observable `o` over `count` members.
    fn estimate(&self, o: Observable, count: f64) -> Estimate {
        Estimate {
            mean: self.one_time.row(o.index()).mapv(|x| x / count),
            se: self.one_time_sq.row(o.index()).mapv(|q| q.sqrt() / count),
        }
    }
}

/// Shared, read-only inputs of a pass.
struct PassInputs<'a> {
    problem: &'a Problem,
    kernels: &'a Kernels,
    delta_r: &'a [f64],
    /// Lower Cholesky factor of G_C + M_C on the window.
    chol: ArrayView2<'a, f64>,
    gamma_eff: Vec<f64>,
    n: usize,
    iteration: usize,
    sample_indices: Vec<usize>,
}

/// A poll for interruption between waves of blocks: an error stops the pass.
pub type Stop<'a> = &'a dyn Fn() -> Option<Error>;

/// Integrates the whole population on the leading `n` points with `kernels` and
/// `delta_r`, and returns its averages. `chol` is the lower Cholesky factor of
/// G_C + M_C on the window; `iteration` only labels errors; `stop` is polled between
/// waves of blocks.
pub fn average(
    problem: &Problem,
    kernels: &Kernels,
    delta_r: &[f64],
    chol: ArrayView2<f64>,
    n: usize,
    iteration: usize,
    stop: Stop,
) -> Result<Averages> {
    Ok(average_batched(problem, kernels, delta_r, chol, n, iteration, 1, stop)?.0)
}

/// The kernels of one batch of the population: the weighted sums of kappa, M_C and M_R
/// over its members (not divided), and the number of members.
#[derive(Debug, Clone)]
pub struct BatchSums {
    /// Sums on the leading n points.
    pub sums: Kernels,
    /// Members in the batch.
    pub members: usize,
}

/// [`average`], also returning the kernel sums of `batches` batches of the population
/// (member i belongs to batch i mod `batches`, so every batch is a systematic subsample of
/// all the h0 strata), for jackknife errors of what the kernels determine. With `batches`
/// = 1 no batch sums are kept and the pass is the ordinary one. The batched pass is for
/// kernel sums only: its stratum-pair errors and its block order differ from the
/// ordinary pass.
#[allow(clippy::too_many_arguments)]
pub fn average_batched(
    problem: &Problem,
    kernels: &Kernels,
    delta_r: &[f64],
    chol: ArrayView2<f64>,
    n: usize,
    iteration: usize,
    batches: usize,
    stop: Stop,
) -> Result<(Averages, Vec<BatchSums>)> {
    let grid = problem.grid;
    let inputs = PassInputs {
        problem,
        kernels,
        delta_r,
        chol,
        gamma_eff: (0..n)
            .map(|i| problem.model.gamma_eff(grid.time(i)))
            .collect(),
        n,
        iteration,
        sample_indices: problem.population.sample_indices(),
    };
    let size = problem.population.size;
    let mut total = Partial::zeros(n);
    let mut batch = Vec::new();
    // Batch b holds the members b, b + B, b + 2B, ...: every batch spans all h0 strata.
    let stride = batches.max(1);
    for b in 0..stride {
        let count = size.saturating_sub(b).div_ceil(stride);
        let mut sums = Partial::zeros(n);
        let blocks = count.div_ceil(BLOCK);
        for wave in (0..blocks).step_by(WAVE) {
            if let Some(e) = stop() {
                return Err(e);
            }
            let parts: Vec<Result<Partial>> = (wave..(wave + WAVE).min(blocks))
                .into_par_iter()
                .map(|k| {
                    // Block k of the batch: at most BLOCK members, memory independent of N.
                    let ids: Vec<usize> = (k * BLOCK..((k + 1) * BLOCK).min(count))
                        .map(|j| b + j * stride)
                        .collect();
                    block(&inputs, &ids)
                })
                .collect();
            for p in parts {
                sums.add(p?);
            }
        }
        if batches > 1 {
            batch.push(BatchSums {
                sums: Kernels {
                    kappa: sums.one_time.row(Observable::Kappa.index()).to_owned(),
                    m_c: sums.m_c.clone(),
                    m_r: sums.m_r.clone(),
                },
                members: count,
            });
        }
        total.add(sums);
    }
    Ok((finish(total, &inputs), batch))
}

fn finish(mut total: Partial, inputs: &PassInputs) -> Averages {
    let n = inputs.n;
    let count = inputs.problem.population.size as f64;
    let full = inputs.problem.grid.len();
    let mut kernels = Kernels::zeros(full);
    let kappa = total.estimate(Observable::Kappa, count);
    kernels.kappa.slice_mut(s![..n]).assign(&kappa.mean);
    kernels
        .m_c
        .slice_mut(s![..n, ..n])
        .assign(&(&total.m_c / count));
    kernels
        .m_r
        .slice_mut(s![..n, ..n])
        .assign(&(&total.m_r / count));
    let m_c_diag_se = total.m_c_diag_sq.mapv(|q| q.sqrt() / count);
    let mut samples = Array2::zeros((n, inputs.sample_indices.len()));
    let mut sorted = std::mem::take(&mut total.samples);
    sorted.sort_by_key(|(i, _)| *i);
    for (col, (_, h)) in sorted.into_iter().enumerate() {
        samples.column_mut(col).assign(&Array1::from(h));
    }
    Averages {
        kernels,
        kappa_se: kappa.se,
        m_c_diag_se,
        stress: total.estimate(Observable::Stress, count),
        stress_convected: total.estimate(Observable::StressConvected, count),
        pressure: total.estimate(Observable::Pressure, count),
        pressure_c: total.estimate(Observable::PressureC, count),
        energy: total.estimate(Observable::Energy, count),
        samples,
        work: total.work,
    }
}

/// Integrates the members with indices `ids` (one block) and returns their sums.
fn block(inp: &PassInputs, ids: &[usize]) -> Result<Partial> {
    let clock = std::time::Instant::now();
    let pb = inp.problem;
    let model = &pb.model;
    let (n, nb) = (inp.n, ids.len());
    let dt = pb.grid.dt;
    let zeta = model.zeta_hat;
    let white = (2.0 * model.temperature * zeta / dt).sqrt();
    // Members and their noise, drawn from each member's own stream in time order.
    let mut members = Vec::with_capacity(nb);
    let mut z_white = Array2::<f64>::zeros((n, nb));
    let mut z_col = Array2::<f64>::zeros((n, nb));
    for (b, &i) in ids.iter().enumerate() {
        let mut rng = member_rng(pb.population.seed, i);
        members.push(pb.population.draw(model, i, &mut rng));
        for t in 0..n {
            z_white[[t, b]] = rng.sample(StandardNormal);
            z_col[[t, b]] = rng.sample(StandardNormal);
        }
    }
    // Noise Xi = sqrt(2 T zeta/dt) z + L z' (docs/equations.md (E1)): z is the white part's
    // step average, L z' the coloured part on the grid points.
    let white = z_white * white;
    let mut coloured = Array2::<f64>::zeros((n, nb));
    gemm_add(
        coloured.view_mut(),
        1.0,
        inp.chol,
        false,
        z_col.view(),
        false,
    );

    let mut part = Partial::zeros(n);
    let mut y = Array2::<f64>::zeros((n, nb));
    let mut dv = Array2::<f64>::zeros((n, nb));
    let mut d2v = Array2::<f64>::zeros((n, nb));
    let mut hs = Array2::<f64>::zeros((n, nb));
    // memory[b]: dt times the trapezoidal int_0^t M_R(t, u) y(u) du at the current t.
    let mut memory = vec![0.0; nb];
    let mut explicit = vec![0.0; nb];
    let sqrt_f = model.stress_scale();
    let geometry: Vec<Geometry> = members
        .iter()
        .map(|m| Geometry {
            gc_cu: m.g_c * m.c_unit,
            cu2: m.c_unit * m.c_unit,
        })
        .collect();
    let weights: Vec<f64> = members.iter().map(|m| m.weight).collect();
    let lin = LinearDynamics {
        kappa: &inp.kernels.kappa.as_slice().expect("contiguous")[..n],
        m_r: inp.kernels.m_r.view(),
        zeta,
        dt,
    };
    // The gap without y: affine part plus Delta_r (docs/equations.md (E1)).
    let base = |t: usize, b: usize| {
        let (g, geo) = (inp.gamma_eff[t], geometry[b]);
        members[b].h0 + g * geo.gc_cu + 0.5 * g * g * geo.cu2 + inp.delta_r[t]
    };
    for t in 0..n {
        let g = inp.gamma_eff[t];
        let mut sums: Terms = [0.0; Observable::COUNT];
        let mut pair_sq: Terms = [0.0; Observable::COUNT];
        // Terms of the previous (even) member of the current stratum pair.
        let mut previous: Terms = [0.0; Observable::COUNT];
        for b in 0..nb {
            let h = base(t, b) + y[[t, b]];
            let pv = model.potential.eval(h);
            let w = weights[b];
            hs[[t, b]] = h;
            dv[[t, b]] = pv.dv;
            d2v[[t, b]] = pv.d2v;
            let x = terms(pv, geometry[b], g, sqrt_f).map(|x| w * x);
            let odd = ids[b] % 2 == 1;
            for o in 0..x.len() {
                sums[o] += x[o];
                if odd {
                    pair_sq[o] += (x[o] - previous[o]).powi(2);
                }
            }
            previous = x;
        }
        for o in 0..sums.len() {
            part.one_time[[o, t]] = sums[o];
            part.one_time_sq[[o, t]] = pair_sq[o];
        }
        if t + 1 == n {
            break;
        }
        // Explicit memory dt sum_{u=1}^{t} M_R(t+1, u) y_u (y_0 = 0), then the trapezoidal
        // step of docs/equations.md (N1), implicit in y_{t+1}.
        explicit.iter_mut().for_each(|m| *m = 0.0);
        for u in 1..=t {
            let coef = inp.kernels.m_r[[t + 1, u]] * dt;
            if coef != 0.0 {
                for (m, yu) in explicit.iter_mut().zip(y.row(u).iter()) {
                    *m += coef * yu;
                }
            }
        }
        let decay = lin.explicit(t, 0.0);
        let implicit = lin.implicit(t + 1, 0.0);
        let diag = lin.memory_diagonal(t + 1);
        for b in 0..nb {
            let yt = y[[t, b]];
            let noise = white[[t, b]] + 0.5 * (coloured[[t, b]] + coloured[[t + 1, b]]);
            let rhs = decay * yt + 0.5 * (memory[b] - dv[[t, b]] + explicit[b]) + noise;
            let next = implicit_step(&model.potential, implicit, base(t + 1, b), rhs, yt);
            let Some(next) = next else {
                return Err(Error::Diverged {
                    what: "gap h (implicit step without a solution: lower grid.dt)".into(),
                    step: t + 1,
                    time: pb.grid.time(t + 1),
                    iteration: inp.iteration,
                    member: ids[b].to_string(),
                });
            };
            y[[t + 1, b]] = next;
            memory[b] = explicit[b] + diag * next;
        }
    }
    // M_C += (F W) F^T and the second moments of its diagonal.
    let mut fw = dv.clone();
    for mut row in fw.rows_mut() {
        for (x, w) in row.iter_mut().zip(&weights) {
            *x *= w;
        }
    }
    gemm_add(part.m_c.view_mut(), 1.0, fw.view(), false, dv.view(), true);
    for t in 0..n {
        let terms: Vec<f64> = fw
            .row(t)
            .iter()
            .zip(dv.row(t))
            .map(|(a, b)| a * b)
            .collect();
        part.m_c_diag_sq[t] = terms.chunks_exact(2).map(|p| (p[1] - p[0]).powi(2)).sum();
    }
    // Noise L Z (n^2/2 nb), memory sums (n^2/2 nb), M_C (n^2 nb).
    part.work.kernel_flops = 2 * (n * n * nb) as u64;
    part.work.kernel_seconds = clock.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    // Exact response of every member in contact at some time.
    let mut ws = ResponseWorkspace::default();
    let mut col = vec![0.0; n];
    for (b, &w) in weights.iter().enumerate() {
        for (c, x) in col.iter_mut().zip(d2v.column(b)) {
            *c = *x;
        }
        part.work.response_flops += accumulate_member(&col, &lin, w, part.m_r.view_mut(), &mut ws);
    }
    part.work.response_seconds = clock.elapsed().as_secs_f64();
    for (b, i) in ids.iter().enumerate() {
        if inp.sample_indices.contains(i) {
            part.samples.push((*i, hs.column(b).to_vec()));
        }
    }
    Ok(part)
}

/// Solves the implicit trapezoidal step a y + v'(c + y)/2 = rhs for y (docs/equations.md
/// (N1)) by Newton's method from `start`: a y + v'(c + y)/2 is increasing and concave for the
/// harmonic and exponential potentials, where Newton converges from any start (in at most
/// three steps for the piecewise-linear harmonic force). None when the slope a + v''/2 is
/// not positive or Newton does not converge: dt too large for the potential's stiffness.
fn implicit_step(potential: &Potential, a: f64, c: f64, rhs: f64, start: f64) -> Option<f64> {
    let mut y = start;
    for _ in 0..NEWTON_ITERATIONS {
        let pv = potential.eval(c + y);
        let slope = a + 0.5 * pv.d2v;
        if slope.is_nan() || slope <= 0.0 {
            return None;
        }
        let step = (a * y + 0.5 * pv.dv - rhs) / slope;
        y -= step;
        if !y.is_finite() {
            return None;
        }
        if step.abs() <= 1e-14 * (1.0 + y.abs()) {
            return Some(y);
        }
    }
    None
}
