//! Standard errors of what the kernels determine: the single-particle Delta_r, C and R.
//!
//! They are not population averages, so the stratum-pair errors of the pass do not apply.
//! At the converged kernels K, one more population pass is split into B batches, sampling
//! unit i (a member, or an antithetic pair) in batch i mod B, so that every batch spans all
//! the h0 strata;
//! the leave-one-batch-out kernels K_(-b) shift the converged ones by K_(-b) - K_all, the
//! particle equations are solved with each shifted set, and the jackknife variance
//! (B - 1)/B sum_b (x_(-b) - mean)^2 is the squared standard error of every x among
//! Delta_r(t), C(t,t'), R(t,s). It measures the Monte-Carlo noise of one pass carried
//! through the particle equations (not the O(dt) bias).

use ndarray::{Array, Array1, Array2, Dimension, Zip};

use super::particle::{solve_particle, Particle};
use super::population::{average_batched, BatchSums, PassControl};
use super::solver::noise_factor;
use super::{Kernels, Problem};
use crate::error::Result;

/// Batches of the jackknife: sampling unit i belongs to batch i mod BATCHES.
pub const BATCHES: usize = 8;

/// Fewest members per batch for a jackknife (below, the errors are NaN).
const MIN_PER_BATCH: usize = 8;

/// Standard errors of the particle's R, C and Delta_r (NaN when the population has fewer
/// than 64 members, too few to split).
#[derive(Debug, Clone, PartialEq)]
pub struct ParticleErrors {
    /// Standard error of R(t, s).
    pub r: Array2<f64>,
    /// Standard error of C(t, t').
    pub c: Array2<f64>,
    /// Standard error of Delta_r(t).
    pub delta_r: Array1<f64>,
}

/// Jackknife standard errors of the particle solution at the converged `kernels`, whose
/// MSD is `delta_r`; `control` runs the extra population pass.
pub fn particle_errors(
    problem: &Problem,
    kernels: &Kernels,
    delta_r: &[f64],
    control: PassControl,
) -> Result<ParticleErrors> {
    let len = problem.grid.len();
    let batches = BATCHES;
    if problem.population.size < batches * MIN_PER_BATCH {
        return Ok(ParticleErrors {
            r: Array2::from_elem((len, len), f64::NAN),
            c: Array2::from_elem((len, len), f64::NAN),
            delta_r: Array1::from_elem(len, f64::NAN),
        });
    }
    let (chol, _) = noise_factor(problem, kernels, len, 0)?;
    let (_, sums) = average_batched(
        problem,
        kernels,
        delta_r,
        chol.view(),
        len,
        0,
        batches,
        control,
    )?;
    let total = sum_batches(&sums, len);
    let size = problem.population.size as f64;
    let mut moments = Moments::new(len);
    for b in &sums {
        let rest = (size - b.members as f64).max(1.0);
        // K + (K_(-b) - K_all), with K_(-b) = (S - S_b)/(N - N_b) and K_all = S/N.
        let shifted = Kernels {
            kappa: leave_out(&kernels.kappa, &total.kappa, &b.sums.kappa, rest, size),
            m_c: leave_out(&kernels.m_c, &total.m_c, &b.sums.m_c, rest, size),
            m_r: leave_out(&kernels.m_r, &total.m_r, &b.sums.m_r, rest, size),
        };
        moments.add(&solve_particle(
            &problem.model,
            &problem.grid,
            &shifted,
            len,
        ));
    }
    Ok(moments.jackknife(sums.len()))
}

/// k + (total - part)/rest - total/size: kernel `k` shifted by the change of the population
/// average when a batch of sums `part` is left out of `total` (`size` members, `rest` left).
fn leave_out<D: Dimension>(
    k: &Array<f64, D>,
    total: &Array<f64, D>,
    part: &Array<f64, D>,
    rest: f64,
    size: f64,
) -> Array<f64, D> {
    let mut out = k.clone();
    Zip::from(&mut out)
        .and(total)
        .and(part)
        .for_each(|o, &t, &p| *o += (t - p) / rest - t / size);
    out
}

/// The sum of the batches' kernel sums.
fn sum_batches(sums: &[BatchSums], n: usize) -> Kernels {
    let mut total = Kernels::zeros(n);
    for b in sums {
        total.kappa += &b.sums.kappa;
        total.m_c += &b.sums.m_c;
        total.m_r += &b.sums.m_r;
    }
    total
}

/// Running sums and sums of squares of the leave-one-out particle solutions.
struct Moments {
    sum: Particle,
    sq: Particle,
}

impl Moments {
    fn new(n: usize) -> Self {
        let zero = || Particle {
            r: Array2::zeros((n, n)),
            c: Array2::zeros((n, n)),
            delta_r: Array1::zeros(n),
        };
        Moments {
            sum: zero(),
            sq: zero(),
        }
    }

    fn add(&mut self, p: &Particle) {
        self.sum.r += &p.r;
        self.sum.c += &p.c;
        self.sum.delta_r += &p.delta_r;
        self.sq.r += &p.r.mapv(|x| x * x);
        self.sq.c += &p.c.mapv(|x| x * x);
        self.sq.delta_r += &p.delta_r.mapv(|x| x * x);
    }

    /// sqrt((B - 1)/B sum_b (x_b - mean)^2) = sqrt((B - 1) (mean(x^2) - mean^2)).
    fn jackknife(self, batches: usize) -> ParticleErrors {
        let b = batches as f64;
        let se = |sum: f64, sq: f64| {
            let mean = sum / b;
            ((b - 1.0) * (sq / b - mean * mean)).max(0.0).sqrt()
        };
        ParticleErrors {
            r: Zip::from(&self.sum.r)
                .and(&self.sq.r)
                .map_collect(|&s, &q| se(s, q)),
            c: Zip::from(&self.sum.c)
                .and(&self.sq.c)
                .map_collect(|&s, &q| se(s, q)),
            delta_r: Zip::from(&self.sum.delta_r)
                .and(&self.sq.delta_r)
                .map_collect(|&s, &q| se(s, q)),
        }
    }
}
