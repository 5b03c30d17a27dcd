//! One pass over the population (docs/equations.md (E1), (K1)-(K3), (O1)-(O3)): integrate every member's effective
//! process with the current kernels and average into new kernels and observables.
//!
//! Members are processed in fixed blocks of [`BLOCK`] members. Each member is a lane
//! ([`super::lanes`]); with importance splitting ([`super::splitting`]) a member's family
//! also holds its copies, which live in the member's block, so the block's content does not
//! depend on threads. The coloured noise of a block is one matrix product Z L^T and M_C is
//! accumulated as matrix products of the lanes' forces ([`super::tally`]). Blocks run in
//! parallel in waves of [`WAVE`] and their partial sums are added in block order, so the
//! result is bit-identical for any thread count and memory does not grow with N.

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::entry::{is_entrant, AtStep, FreeMap, ENTRANT_BASE};
use super::lanes::{far_memory, Lane};
use super::observables::{Geometry, Observable};
use super::particle::step_responses;
use super::pool::Pool;
use super::response::LinearDynamics;
use super::sampling::{lane_rng, member_rng};
use super::scheme::MemoryWeights;
use super::splitting::{unit_weight, Decision};
use super::tally::{Partial, Tally, TallyContext};
use super::{time_block, Kernels, Problem, TIME_BLOCK};
use crate::error::{Error, Result};
use crate::linalg::{dot, gemm_add_shaped, mirror_lower, Shape};
use crate::potential::Potential;
use crate::ranks::{agree, OneProcess, Ranks};

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
    /// Covariance of the mean's sums over time blocks of [`TIME_BLOCK`] points (block a
    /// holds the points [a TIME_BLOCK, (a + 1) TIME_BLOCK)), from the same stratum pairs;
    /// empty when unknown (a file read back).
    pub block_cov: Array2<f64>,
}

impl Estimate {
    /// The linear combination sum_a c_a S_a of the mean's sums S_a over the time blocks a
    /// (`c` has one coefficient per block), and its standard error c^T block_cov c, exact for
    /// the stratified population (NaN without `block_cov`). A time average over a set of
    /// blocks has c_a = 1/points there; the difference of two such averages, +- their own.
    pub fn combination(&self, c: &[f64]) -> (f64, f64) {
        let n = self.mean.len();
        let value = c
            .iter()
            .enumerate()
            .map(|(a, ca)| {
                ca * self
                    .mean
                    .slice(s![a * TIME_BLOCK..n.min((a + 1) * TIME_BLOCK)])
                    .sum()
            })
            .sum();
        if self.block_cov.dim() != (c.len(), c.len()) {
            return (value, f64::NAN);
        }
        let c = ArrayView1::from(c);
        let var = c.dot(&self.block_cov.dot(&c));
        (value, var.max(0.0).sqrt())
    }
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
    /// The share of M_C(t, t) carried by its heaviest member family (a member and its
    /// copies); 0 where M_C(t, t) is 0. Of order one over the families in contact when the
    /// weights are light-tailed; a share that does not fall with N means errors resting on a
    /// few heavy members.
    pub m_c_diag_heaviest: Array1<f64>,
    /// The number of member families contributing to M_C(t, t): in contact at t.
    pub m_c_diag_families: Array1<f64>,
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
    /// Lanes integrated: members plus the copies importance splitting made.
    pub lanes: u64,
}

impl Averages {
    /// The largest share of M_C(t, t) that one member family carries, and the point t
    /// where it does (None without points).
    pub fn heaviest_family(&self) -> Option<(f64, usize)> {
        self.m_c_diag_heaviest
            .iter()
            .enumerate()
            .map(|(t, &share)| (share, t))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }

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

/// Shared, read-only inputs of a pass.
struct PassInputs<'a> {
    problem: &'a Problem,
    kernels: &'a Kernels,
    delta_r: &'a [f64],
    /// Lower Cholesky factor of G_C + M_C on the window.
    chol: ArrayView2<'a, f64>,
    /// gamma_eff(t) on the whole grid (the splitting's lookahead reaches past the window).
    gamma_eff: Vec<f64>,
    n: usize,
    iteration: usize,
    sample_indices: Vec<usize>,
    /// The map from a lane's noise to its free fluctuation, with entrants.
    free: Option<FreeMap>,
    /// Buffers reused by the blocks.
    pool: Pool,
}

/// A poll for interruption between waves of blocks: an error stops the pass.
pub type Stop<'a> = &'a dyn Fn() -> Option<Error>;

/// How a pass runs, apart from what it computes: the processes it is spread over and the
/// poll for interruption between its waves.
#[derive(Clone, Copy)]
pub struct PassControl<'a> {
    /// The ranks of the run ([`crate::ranks::OneProcess`] for an ordinary run).
    pub ranks: &'a dyn Ranks,
    /// Polled before each round of waves.
    pub stop: Stop<'a>,
}

impl PassControl<'static> {
    /// One process, never interrupted.
    pub fn alone() -> Self {
        PassControl {
            ranks: &OneProcess,
            stop: &|| None,
        }
    }
}

/// Integrates the whole population on the leading `n` points with `kernels` and
/// `delta_r`, and returns its averages. `chol` is the lower Cholesky factor of
/// G_C + M_C on the window; `iteration` only labels errors; `control` spreads the pass over
/// the run's ranks and polls for interruption.
pub fn average(
    problem: &Problem,
    kernels: &Kernels,
    delta_r: &[f64],
    chol: ArrayView2<f64>,
    n: usize,
    iteration: usize,
    control: PassControl,
) -> Result<Averages> {
    Ok(average_batched(problem, kernels, delta_r, chol, n, iteration, 1, control)?.0)
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
/// (sampling unit i, a member or an antithetic pair, belongs to batch i mod `batches`, so
/// every batch is a systematic subsample of all the h0 strata), for jackknife errors of what
/// the kernels determine. With `batches` = 1 no batch sums are kept and the pass is the ordinary one. The batched pass is for
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
    control: PassControl,
) -> Result<(Averages, Vec<BatchSums>)> {
    let grid = problem.grid;
    let inputs = PassInputs {
        problem,
        kernels,
        delta_r,
        chol,
        gamma_eff: (0..grid.len())
            .map(|i| problem.model.gamma_eff(grid.time(i)))
            .collect(),
        n,
        iteration,
        sample_indices: problem.population.sample_indices(),
        free: problem.population.entry.map(|_| {
            let model = &problem.model;
            let (_, s) = step_responses(model, &grid, kernels, n);
            let white = (2.0 * model.temperature * model.zeta_hat / grid.dt).sqrt();
            FreeMap::new(s.view(), chol, grid.dt, white)
        }),
        pool: Pool::default(),
    };
    let size = problem.population.size;
    let unit = problem.population.unit();
    let mut total = None;
    let mut batch = Vec::new();
    // Batch b holds the sampling units (members, or antithetic pairs) b, b + B, b + 2B, ...:
    // every batch spans all h0 strata, and a block never splits a unit.
    let stride = batches.max(1);
    for b in 0..stride {
        let count = unit * size.div_ceil(unit).saturating_sub(b).div_ceil(stride);
        // The batch's entrants (whole pairs), after its members in blocks of their own.
        let entrants: Vec<usize> = problem.population.entry.map_or(Vec::new(), |e| {
            (0..e.count(n))
                .filter(|k| (k / 2) % stride == b)
                .map(|k| ENTRANT_BASE + k)
                .collect()
        });
        let member_blocks = count.div_ceil(BLOCK);
        let blocks = member_blocks + entrants.len().div_ceil(BLOCK);
        let wave = |w: usize| -> Result<Partial> {
            let parts: Vec<Result<Partial>> = (w * WAVE..((w + 1) * WAVE).min(blocks))
                .into_par_iter()
                .map(|k| {
                    // Block k of the batch: at most BLOCK members, memory independent of N.
                    let ids: Vec<usize> = if k < member_blocks {
                        (k * BLOCK..((k + 1) * BLOCK).min(count))
                            .map(|j| (b + j / unit * stride) * unit + j % unit)
                            .collect()
                    } else {
                        let e = k - member_blocks;
                        entrants[e * BLOCK..((e + 1) * BLOCK).min(entrants.len())].to_vec()
                    };
                    block(&inputs, &ids)
                })
                .collect();
            let mut sums = None;
            for p in parts {
                if let Some(added) = Partial::accumulate(&mut sums, p?) {
                    inputs.pool.give_array(added.m_c);
                    inputs.pool.give_array(added.m_r);
                }
            }
            Ok(sums.unwrap_or_else(|| Partial::zeros(n)))
        };
        let mut sums = sum_waves(control, blocks.div_ceil(WAVE), n, wave)?;
        // The blocks summed M_C on and below the diagonal only.
        mirror_lower(&mut sums.m_c);
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
        Partial::accumulate(&mut total, sums);
    }
    let total = total.unwrap_or_else(|| Partial::zeros(n));
    Ok((finish(total, &inputs), batch))
}

/// The sum of the `waves` waves' sums in wave order, on every rank: wave c is integrated by
/// rank c mod R ([`crate::ranks`]) and rank 0 adds them, so the sum does not depend on R.
/// The stop poll runs before each round of R waves, and a stop or an error on any rank stops
/// every rank.
fn sum_waves(
    control: PassControl,
    waves: usize,
    n: usize,
    wave: impl Fn(usize) -> Result<Partial>,
) -> Result<Partial> {
    let ranks = control.ranks;
    let (me, count) = (ranks.rank(), ranks.count());
    let mut total = None;
    for round in 0..waves.div_ceil(count) {
        let mine = match (control.stop)() {
            Some(e) => Err(e),
            None => {
                let c = round * count + me;
                (c < waves).then(|| wave(c)).transpose()
            }
        };
        match agree(ranks, mine)? {
            Some(p) if me == 0 => {
                Partial::accumulate(&mut total, p);
                for k in (1..count).filter(|k| round * count + k < waves) {
                    let p = Partial::from_message(n, &ranks.receive_from(k));
                    Partial::accumulate(&mut total, p);
                }
            }
            Some(p) => ranks.send_to_root(&p.to_message()),
            None => {}
        }
    }
    let mut total = total.unwrap_or_else(|| Partial::zeros(n));
    if count > 1 {
        let mut m = total.to_message();
        ranks.broadcast(&mut m);
        total = Partial::from_message(n, &m);
    }
    Ok(total)
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
    let m_c_diag_heaviest = Array1::from_shape_fn(n, |t| {
        let sum = total.m_c[[t, t]];
        if sum > 0.0 {
            total.m_c_diag_max[t] / sum
        } else {
            0.0
        }
    });
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
        m_c_diag_heaviest,
        m_c_diag_families: std::mem::take(&mut total.m_c_diag_families),
        stress: total.estimate(Observable::Stress, count),
        stress_convected: total.estimate(Observable::StressConvected, count),
        pressure: total.estimate(Observable::Pressure, count),
        pressure_c: total.estimate(Observable::PressureC, count),
        energy: total.estimate(Observable::Energy, count),
        samples,
        work: total.work,
    }
}

/// Integrates the members with indices `ids` (one block), with their copies when the
/// population splits, and returns their sums.
fn block(inp: &PassInputs, ids: &[usize]) -> Result<Partial> {
    let clock = std::time::Instant::now();
    let pb = inp.problem;
    let model = &pb.model;
    let (n, nb) = (inp.n, ids.len());
    let dt = pb.grid.dt;
    let zeta = model.zeta_hat;
    let white = (2.0 * model.temperature * zeta / dt).sqrt();
    let seed = pb.population.seed;
    // Members and their noise, drawn from each member's own stream in time order.
    let mut members = Vec::with_capacity(nb);
    let mut whites = Vec::with_capacity(nb);
    let mut z = inp.pool.matrix((nb, n));
    // An entrant's step and the free fluctuation its normals are conditioned on there.
    let mut entering = vec![None; nb];
    for (b, &i) in ids.iter().enumerate() {
        let mut rng = member_rng(seed, pb.population.stream(i));
        let member = match (pb.population.entry, &inp.free) {
            (Some(e), Some(map)) if is_entrant(i) => {
                let j = e.step(i);
                let at = AtStep {
                    gamma: inp.gamma_eff[j],
                    delta_r: inp.delta_r[j],
                    variance: map.variance(j),
                };
                let d = e.draw(
                    at,
                    pb.population.size,
                    0.5 * model.phi_hat,
                    |h| model.log_g_in(h),
                    pb.population.antithetic && i % 2 == 1,
                    &mut rng,
                );
                entering[b] = Some((j, d.target));
                d.member
            }
            _ => pb.population.draw(model, i, &mut rng),
        };
        members.push(member);
        let mut w = vec![0.0; n];
        for t in 0..n {
            w[t] = white * rng.sample::<f64, _>(StandardNormal);
            z[[b, t]] = rng.sample(StandardNormal);
        }
        if let (Some((j, target)), Some(map)) = (entering[b], &inp.free) {
            let row = z.row_mut(b).into_slice().expect("row-major normals");
            map.condition(j, target, &mut w, row);
        }
        whites.push(w);
    }
    // The free fluctuations of the block's lanes (with entrants).
    let free_paths = inp.free.as_ref().map(|map| {
        let mut wm = inp.pool.matrix((nb, n));
        for (mut row, w) in wm.rows_mut().into_iter().zip(&whites) {
            row.assign(&ArrayView1::from(&w[..]));
        }
        let mut out = inp.pool.matrix((nb, n));
        map.paths(wm.view(), z.view(), out.view_mut());
        inp.pool.give_array(wm);
        out
    });
    // Noise Xi = sqrt(2 T zeta/dt) z + X, X = L z' (docs/equations.md (E1)): the white
    // part is the step average, the coloured part X is on the grid points.
    let mut x = inp.pool.matrix((nb, n));
    gemm_add_shaped(
        x.view_mut(),
        Shape::UpperFactor,
        1.0,
        z.view(),
        false,
        inp.chol,
        true,
        false,
    );
    let mut lanes: Vec<Lane> = whites
        .into_iter()
        .enumerate()
        .map(|(b, w)| {
            Lane::member(
                b,
                members[b].weight,
                w,
                x.row(b).to_vec(),
                z.row(b).to_vec(),
                lane_rng(seed, pb.population.stream(ids[b]), 0),
                inp.sample_indices.contains(&ids[b]),
            )
        })
        .collect();
    let splitting = pb.population.splitting;
    let lane_cap = splitting.map_or(nb, |s| nb * s.lanes_per_member.max(1));
    let mut copies = vec![0u64; nb];

    let sqrt_f = model.stress_scale();
    let geometry: Vec<Geometry> = members
        .iter()
        .map(|m| Geometry {
            gc_cu: m.g_c * m.c_unit,
            cu2: m.c_unit * m.c_unit,
        })
        .collect();
    let lin = LinearDynamics {
        kappa: &inp.kernels.kappa.as_slice().expect("contiguous")[..n],
        memory: MemoryWeights::new(inp.kernels.m_r.view(), pb.grid.scheme),
        zeta,
        dt,
    };
    // The affine approach still to come on the whole grid, h_aff(t) - min_{t' >= t}
    // h_aff(t') (zero without strain): the splitting target is taken at the gap minus it,
    // the closest the strain alone will bring the lane (docs/equations.md, "Importance
    // splitting"). Over the grid, not the window, so that the decisions on a window do not
    // depend on how far the iteration has got (its converged windows stay converged).
    let strained = inp.gamma_eff.iter().any(|&g| g != 0.0);
    let approach: Vec<Vec<f64>> = if splitting.is_some() && strained {
        geometry
            .iter()
            .map(|geo| {
                let affine = |t: usize| {
                    let g = inp.gamma_eff[t];
                    g * geo.gc_cu + 0.5 * g * g * geo.cu2
                };
                let mut ahead = vec![0.0; n];
                let mut lowest = f64::INFINITY;
                for t in (0..inp.gamma_eff.len()).rev() {
                    lowest = lowest.min(affine(t));
                    if t < n {
                        ahead[t] = affine(t) - lowest;
                    }
                }
                ahead
            })
            .collect()
    } else {
        Vec::new()
    };
    // The gap without y: affine part plus Delta_r (docs/equations.md (E1)).
    let base = |t: usize, b: usize| {
        let (g, geo) = (inp.gamma_eff[t], geometry[b]);
        members[b].h0 + g * geo.gc_cu + 0.5 * g * g * geo.cu2 + inp.delta_r[t]
    };
    inp.pool.give_array(z);
    inp.pool.give_array(x);
    // With entrants: every lane knows its free fluctuation; a member hands weight over, an
    // entrant carries from its step on the weight handed over to it, lambda_j times the
    // part its own path kept before t_j (module `entry`).
    if let (Some(e), Some(paths)) = (pb.population.entry, free_paths) {
        for (b, lane) in lanes.iter_mut().enumerate() {
            lane.free = paths.row(b).to_vec();
            match entering[b] {
                Some((j, _)) => {
                    let kept: f64 = (1..j)
                        .map(|k| e.keep(dt, k, base(k, b) + lane.free[k]))
                        .product();
                    let handed = e.handed(dt, j, base(j, b) + lane.free[j]);
                    lane.enter_at(j, members[b].weight * handed * kept);
                }
                None => lane.hands_over = true,
            }
        }
        inp.pool.give_array(paths);
    }
    let mut tally = Tally::new(
        TallyContext {
            geometry: &geometry,
            gamma_eff: &inp.gamma_eff[..n],
            sqrt_f,
            potential: model.potential,
            lin,
        },
        &inp.pool,
        nb,
        n,
    );
    // Evaluates a lane at point t: its gap and the potential there.
    let entry = pb.population.entry;
    let evaluate = |lane: &mut Lane, t: usize| {
        if t > 0 {
            if let (true, Some(e)) = (lane.hands_over, entry) {
                lane.weight *= e.keep(dt, t, base(t, lane.member) + lane.free[t]);
            }
            if t == lane.enters.0 {
                lane.weight = lane.enters.1;
            }
        }
        let h = base(t, lane.member) + lane.y[t];
        let pv = model.potential.eval(h);
        lane.h[t] = h;
        lane.dv[t] = pv.dv;
        lane.d2v[t] = pv.d2v;
        lane.w[t] = lane.weight;
    };
    // Steps a lane from t to t + 1: the memory dt sum_{u=1}^{t} W(t+1, u) y_u (y_0 = 0; W
    // the weights of docs/equations.md (N3)-(N4)), then the trapezoidal step (N1), implicit
    // in y_{t+1}. The part
    // u < K of the rows in the time block [K, K + TIME_BLOCK) is the lane's `far`, one
    // product at the block's start (`far_memory`).
    // The step's coefficients from t to t + 1, the same for every lane: decay of y_t,
    // implicit coefficient and memory diagonal of y_{t+1}.
    let coefficients: Vec<(f64, f64, f64)> = (0..n.saturating_sub(1))
        .map(|t| {
            let (decay, implicit) = (lin.explicit(t, 0.0), lin.implicit(t + 1, 0.0));
            (decay, implicit, lin.memory_diagonal(t + 1))
        })
        .collect();
    let interior = lin.memory.interior();
    let step = |lane: &mut Lane, t: usize| -> Result<()> {
        let (decay, implicit, diag) = coefficients[t];
        let (start, _) = time_block(t + 1, n);
        let near = start.max(1);
        let w_row = interior.row(t + 1);
        let w_row = &w_row.as_slice().expect("row-major weights")[near..=t];
        let far = lane.far[t + 1 - start];
        let explicit = dt * (far + dot(w_row, &lane.y[near..=t]));
        let yt = lane.y[t];
        let noise = lane.white[t] + 0.5 * (lane.x[t] + lane.x[t + 1]);
        let rhs = decay * yt + 0.5 * (lane.memory - lane.dv[t] + explicit) + noise;
        let next = implicit_step(
            &model.potential,
            implicit,
            base(t + 1, lane.member),
            rhs,
            yt,
        );
        let Some(next) = next else {
            let id = ids[lane.member];
            return Err(Error::Diverged {
                what: "gap h (implicit step without a solution: lower grid.dt)".into(),
                step: t + 1,
                time: pb.grid.time(t + 1),
                iteration: inp.iteration,
                member: match (is_entrant(id), lane.serial) {
                    (true, 0) => format!("entrant {}", id - ENTRANT_BASE),
                    (true, s) => format!("entrant {} (copy {s})", id - ENTRANT_BASE),
                    (false, 0) => id.to_string(),
                    (false, s) => format!("{id} (copy {s})"),
                },
            });
        };
        lane.y[t + 1] = next;
        lane.memory = explicit + diag * next;
        Ok(())
    };
    let (mut paths, mut sums) = (Vec::new(), Vec::new());
    for lane in lanes.iter_mut() {
        evaluate(lane, 0);
    }
    match splitting {
        // Without splitting the lanes are independent within a time block: each runs
        // through the block alone, its arrays streamed in order (all lanes point by point
        // would touch a cache line of every lane's every array at each point). Every
        // member has one lane, so the tally's sums are added in the same order either way.
        None => {
            let mut row = 1;
            while row < n {
                let (start, rows) = time_block(row, n);
                let rows = rows.expect("a step opens each time block");
                far_memory(&mut lanes, interior, start, rows, &mut paths, &mut sums);
                for lane in lanes.iter_mut() {
                    for r in row..start + rows {
                        step(lane, r - 1)?;
                        evaluate(lane, r);
                    }
                }
                row = start + rows;
            }
        }
        Some(rule) => {
            // Weight windows at t (docs/equations.md, "Importance splitting"); a dropped
            // lane is tallied now and leaves the block (a sample keeps running as a tracer).
            // The range is fixed first: copies made at t are not decided again at t. The
            // twins of an antithetic pair (adjacent lanes: the pair's members, then each
            // copy of the first followed by the same copy of the second) are decided
            // together, on their unit weight (the arithmetic mean of their weights) and the
            // geometric mean of their targets, with one draw of their shared stream, so they
            // split, survive and drop alike and stay adjacent. Their weights differ once they
            // hand weight over to entrants (and entrant twins differ by g_in(h0) and their
            // hand-over); `Decision::weight_of` keeps each twin's expected weight.
            let twins = pb.population.unit();
            let mut weight_windows = |lanes: &mut Vec<Lane>, t: usize, tally: &mut Tally| {
                let end = lanes.len();
                for l in (0..end).step_by(twins) {
                    let room = lane_cap.saturating_sub(lanes.len()) / twins;
                    let weight = unit_weight(lanes[l..l + twins].iter().map(|x| x.weight));
                    if weight == 0.0 {
                        continue;
                    }
                    let (mut target, mut u) = (1.0, 0.0);
                    if twins == 1 {
                        // A lane inside the interval its weight is surely kept in is kept
                        // (the same decision, without the exponential of the target).
                        let lane = &mut lanes[l];
                        let g = lane.h[t] - approach.get(lane.member).map_or(0.0, |a| a[t]);
                        u = lane.rng.random();
                        if lane.keep.0 != weight {
                            let (lo, hi) = pb.population.keep_interval(model, weight, rule.ratio);
                            lane.keep = (weight, lo, hi);
                        }
                        if g > lane.keep.1 && g < lane.keep.2 {
                            continue;
                        }
                        target = pb.population.target_weight(model, g);
                    } else {
                        for lane in &mut lanes[l..l + twins] {
                            let ahead = approach.get(lane.member).map_or(0.0, |a| a[t]);
                            target *= pb.population.target_weight(model, lane.h[t] - ahead);
                            u = lane.rng.random();
                        }
                        target = target.sqrt();
                    }
                    let decision = rule.decide(weight, target, u, room);
                    if let Decision::Survive(_) | Decision::Split(_) = decision {
                        for lane in &mut lanes[l..l + twins] {
                            lane.weight = decision.weight_of(weight, lane.weight);
                        }
                    }
                    match decision {
                        Decision::Keep | Decision::Survive(_) => {}
                        Decision::Drop => {
                            for lane in &mut lanes[l..l + twins] {
                                lane.drop_after(t);
                                tally.add(lane);
                            }
                        }
                        Decision::Split(k) => {
                            for _ in 1..k {
                                for j in l..l + twins {
                                    let b = lanes[j].member;
                                    copies[b] += 1;
                                    let stream = pb.population.stream(ids[b]);
                                    let rng = lane_rng(seed, stream, copies[b]);
                                    let copy = lanes[j].copy_at(
                                        t,
                                        copies[b],
                                        rng,
                                        white,
                                        inp.chol,
                                        inp.free.as_ref(),
                                    );
                                    lanes.push(copy);
                                }
                            }
                        }
                    }
                }
            };
            let mut keep = Vec::new();
            for t in 0..n - 1 {
                weight_windows(&mut lanes, t, &mut tally);
                // Twins leave together: a dropped twin of a tracer keeps running, weightless.
                keep.clear();
                keep.extend(
                    lanes
                        .chunks(twins)
                        .flat_map(|g| std::iter::repeat_n(g.iter().any(Lane::is_running), g.len())),
                );
                let mut kept = keep.iter();
                lanes.retain(|_| kept.next().copied().unwrap_or(false));
                let (start, opens) = time_block(t + 1, n);
                if let Some(rows) = opens {
                    far_memory(&mut lanes, interior, start, rows, &mut paths, &mut sums);
                }
                for lane in lanes.iter_mut() {
                    step(lane, t)?;
                    evaluate(lane, t + 1);
                }
            }
        }
    }
    let mut samples = Vec::new();
    for lane in &lanes {
        if lane.tracer {
            samples.push((ids[lane.member], lane.h.clone()));
        }
        // Lanes dropped earlier (tracers) were tallied then.
        if lane.weighted == n {
            tally.add(lane);
        }
    }
    let mut part = tally.finish(ids, pb.population.unit());
    part.samples = samples;
    // Gap integration and noise: about n^2 multiply-adds per lane (on top of M_C).
    part.work.kernel_flops += (n * n) as u64 * part.work.lanes;
    part.work.kernel_seconds = clock.elapsed().as_secs_f64() - part.work.response_seconds;
    Ok(part)
}

/// Solves the implicit trapezoidal step a y + v'(c + y)/2 = rhs for y (docs/equations.md
/// (N1)). The left side is increasing (a > 0, v'' >= 0 where it matters). For the harmonic
/// force, piecewise linear, the root is on the branch that the kink's value -a c selects:
/// out of contact y = rhs/a, in contact y = (rhs - eps c)/(a + eps). Otherwise Newton's
/// method from `start`, which converges from any start for the exponential potential
/// (increasing and concave). None when the slope a + v''/2 is not positive or Newton does not
/// converge: dt too large for the potential's stiffness.
fn implicit_step(potential: &Potential, a: f64, c: f64, rhs: f64, start: f64) -> Option<f64> {
    if let Potential::Harmonic { eps } = *potential {
        if a <= 0.0 {
            return None;
        }
        let y = if rhs >= -a * c {
            rhs / a
        } else {
            (rhs - eps * c) / (a + eps)
        };
        return y.is_finite().then_some(y);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The harmonic closed form solves the step on both branches and at the kink, as
    /// Newton's method does for a smooth potential.
    #[test]
    fn implicit_step_solves_the_step() {
        let harmonic = Potential::Harmonic { eps: 1.3 };
        let exponential = Potential::Exponential {
            eps: 0.5,
            alpha: 3.0,
        };
        for potential in [harmonic, exponential] {
            for (a, c, rhs) in [
                (4.0, 0.2, 1.0),
                (4.0, 0.2, -3.0),
                (2.5, -0.4, 0.7),
                (10.0, 0.1, -0.4),
            ] {
                let y = implicit_step(&potential, a, c, rhs, 0.0).expect("a root");
                let residual = a * y + 0.5 * potential.eval(c + y).dv - rhs;
                assert!(
                    residual.abs() < 1e-12,
                    "{potential:?} {a} {c} {rhs}: {residual}"
                );
            }
        }
        // At the kink exactly: y = -c on both branches.
        let y = implicit_step(&harmonic, 4.0, 0.25, -1.0, 0.0).unwrap();
        assert!((y + 0.25).abs() < 1e-15);
        assert!(implicit_step(&harmonic, 0.0, 0.1, 1.0, 0.0).is_none());
    }
}
