//! What a block's lanes add to the population sums (docs/equations.md (K1)-(K3), (O1)-(O3)):
//! one-time observables per member family with stratum-pair errors (added as each lane is
//! evaluated), M_C as batched matrix products, and the exact response (added once per lane,
//! when it is dropped or at the end of the window, so a block holds only its running lanes).

use ndarray::{s, Array1, Array2, Array3, Axis};

use super::lanes::Lane;
use super::observables::{terms, Geometry, Observable};
use super::pool::Pool;
use super::population::{Estimate, Work};
use super::response::{accumulate_member, LinearDynamics, ResponseWorkspace};
use super::TIME_BLOCK;
use crate::linalg::{add_lower_parallel, gemm_add_shaped, Shape};
use crate::potential::Potential;

/// Lanes whose forces are buffered before one matrix product adds them to M_C.
pub const FORCE_BATCH: usize = 256;
/// A lane in contact at no more than 1/SPARSE_FORCES of the points adds its M_C products
/// entry by entry (about (n/SPARSE_FORCES)^2/2 scattered multiply-adds against n^2/2 in the
/// matrix product).
const SPARSE_FORCES: usize = 4;

/// Sums of one block (or of all blocks so far). `one_time[[o, t]]` holds the weighted sum of
/// observable `o` ([`Observable`] order) and `one_time_sq` the sum over stratum pairs
/// (sampling units 2i, 2i+1, neighbours in h0; a unit is a member, or an antithetic pair)
/// of the squared difference of their families' sums:
/// with stratified h0 the variance of the mean is sum_pairs (x_a - x_b)^2 / N^2, which the
/// i.i.d. formula would overestimate many times where the terms vary smoothly with h0.
/// `block_sq[[o, a, b]]` is the same sum over stratum pairs of the products of those
/// differences summed over the time blocks a and b ([`time_blocks`]): the covariance of
/// block sums, from which the error of any average over whole blocks follows exactly.
/// `m_c_diag_max[t]` is the largest single family's sum of w v'^2 at t, the heaviest
/// contribution to M_C(t,t) (a maximum over families: it does not depend on the order in
/// which blocks or ranks are combined), and `m_c_diag_families[t]` the number of families
/// contributing to it (in contact at t).
/// `m_c` and `m_r` hold their sums on and below the diagonal only (M_C is mirrored once
/// per pass; M_R is causal), and only that part is added.
pub struct Partial {
    pub one_time: Array2<f64>,
    pub one_time_sq: Array2<f64>,
    pub block_sq: Array3<f64>,
    pub m_c: Array2<f64>,
    pub m_c_diag_sq: Array1<f64>,
    pub m_c_diag_max: Array1<f64>,
    pub m_c_diag_families: Array1<f64>,
    pub m_r: Array2<f64>,
    pub samples: Vec<(usize, Vec<f64>)>,
    pub work: Work,
}

impl Partial {
    pub fn zeros(n: usize) -> Self {
        let k = Observable::COUNT;
        Partial {
            one_time: Array2::zeros((k, n)),
            one_time_sq: Array2::zeros((k, n)),
            block_sq: Array3::zeros((k, time_blocks(n), time_blocks(n))),
            m_c: Array2::zeros((n, n)),
            m_c_diag_sq: Array1::zeros(n),
            m_c_diag_max: Array1::zeros(n),
            m_c_diag_families: Array1::zeros(n),
            m_r: Array2::zeros((n, n)),
            samples: Vec::new(),
            work: Work::default(),
        }
    }

    pub fn add(&mut self, o: &Partial) {
        self.one_time += &o.one_time;
        self.one_time_sq += &o.one_time_sq;
        self.block_sq += &o.block_sq;
        add_lower_parallel(&mut self.m_c, &o.m_c);
        self.m_c_diag_sq += &o.m_c_diag_sq;
        self.m_c_diag_max
            .zip_mut_with(&o.m_c_diag_max, |a, &b| *a = a.max(b));
        self.m_c_diag_families += &o.m_c_diag_families;
        add_lower_parallel(&mut self.m_r, &o.m_r);
        self.samples.extend(o.samples.iter().cloned());
        self.work.response_flops += o.work.response_flops;
        self.work.response_seconds += o.work.response_seconds;
        self.work.kernel_flops += o.work.kernel_flops;
        self.work.kernel_seconds += o.work.kernel_seconds;
        self.work.lanes += o.work.lanes;
    }

    /// Adds `p` to `total`, or makes `p` the total when there is none yet (0 + x = x: the
    /// same sum, without a pass over zeros); returns `p` when it was added, so that its
    /// buffers can be reused.
    pub fn accumulate(total: &mut Option<Partial>, p: Partial) -> Option<Partial> {
        match total {
            Some(t) => {
                t.add(&p);
                Some(p)
            }
            None => {
                *total = Some(p);
                None
            }
        }
    }

    /// The sums as one flat message (for the ranks of a run, [`crate::ranks`]):
    /// one_time, one_time_sq, m_c, block_sq, m_c_diag_sq, m_c_diag_max, m_c_diag_families, m_r,
    /// the work counters, then the samples
    /// (their number, and each one's member index followed by its n values). Every count
    /// is far below 2^53, so it is exact as an f64.
    pub fn to_message(&self) -> Vec<f64> {
        let mut m: Vec<f64> = [
            self.one_time.view(),
            self.one_time_sq.view(),
            self.m_c.view(),
        ]
        .iter()
        .flat_map(|a| a.iter().copied())
        .chain(self.block_sq.iter().copied())
        .chain(self.m_c_diag_sq.iter().copied())
        .chain(self.m_c_diag_max.iter().copied())
        .chain(self.m_c_diag_families.iter().copied())
        .chain(self.m_r.iter().copied())
        .collect();
        let w = &self.work;
        m.extend([
            w.response_flops as f64,
            w.response_seconds,
            w.kernel_flops as f64,
            w.kernel_seconds,
            w.lanes as f64,
            self.samples.len() as f64,
        ]);
        for (i, h) in &self.samples {
            m.push(*i as f64);
            m.extend_from_slice(h);
        }
        m
    }

    /// The sums on `n` points that [`Partial::to_message`] wrote into `m`.
    pub fn from_message(n: usize, m: &[f64]) -> Self {
        let mut at = 0;
        let mut take = |len: usize| {
            let part = &m[at..at + len];
            at += len;
            part.to_vec()
        };
        let k = Observable::COUNT;
        let matrix = |v: Vec<f64>, rows: usize| {
            Array2::from_shape_vec((rows, n), v).expect("message of the right length")
        };
        let one_time = matrix(take(k * n), k);
        let one_time_sq = matrix(take(k * n), k);
        let m_c = matrix(take(n * n), n);
        let nb = time_blocks(n);
        let block_sq = Array3::from_shape_vec((k, nb, nb), take(k * nb * nb))
            .expect("message of the right length");
        let m_c_diag_sq = Array1::from(take(n));
        let m_c_diag_max = Array1::from(take(n));
        let m_c_diag_families = Array1::from(take(n));
        let m_r = matrix(take(n * n), n);
        let c = take(6);
        let work = Work {
            response_flops: c[0] as u64,
            response_seconds: c[1],
            kernel_flops: c[2] as u64,
            kernel_seconds: c[3],
            lanes: c[4] as u64,
        };
        let samples = (0..c[5] as usize)
            .map(|_| {
                let i = take(1)[0] as usize;
                (i, take(n))
            })
            .collect();
        Partial {
            one_time,
            one_time_sq,
            block_sq,
            m_c,
            m_c_diag_sq,
            m_c_diag_max,
            m_c_diag_families,
            m_r,
            samples,
            work,
        }
    }

    /// Mean and standard error of observable `o` over `count` members.
    pub fn estimate(&self, o: Observable, count: f64) -> Estimate {
        Estimate {
            mean: self.one_time.row(o.index()).mapv(|x| x / count),
            se: self.one_time_sq.row(o.index()).mapv(|q| q.sqrt() / count),
            block_cov: self
                .block_sq
                .index_axis(ndarray::Axis(0), o.index())
                .mapv(|q| q / (count * count)),
        }
    }
}

/// Number of time blocks of [`TIME_BLOCK`] points on `n` points (the last one may be short).
pub fn time_blocks(n: usize) -> usize {
    n.div_ceil(TIME_BLOCK)
}

/// `block_sq[[o, a, b]] += D_o(a) D_o(b)`, with D_o(a) the sum of `d[[o, t]]` over the points
/// t of time block a.
fn add_block_products(block_sq: &mut Array3<f64>, d: &Array2<f64>) {
    let nb = block_sq.dim().1;
    for (o, row) in d.outer_iter().enumerate() {
        let n = row.len();
        let sums: Vec<f64> = (0..nb)
            .map(|a| {
                (a * TIME_BLOCK..n.min((a + 1) * TIME_BLOCK))
                    .map(|t| row[t])
                    .sum()
            })
            .collect();
        for a in 0..nb {
            for b in 0..nb {
                block_sq[[o, a, b]] += sums[a] * sums[b];
            }
        }
    }
}

/// The block's fixed context of a tally.
pub struct TallyContext<'a> {
    /// The members' affine geometry, by position in the block.
    pub geometry: &'a [Geometry],
    /// gamma_eff(t) on the window.
    pub gamma_eff: &'a [f64],
    /// sqrt(F), the scale of the stress terms.
    pub sqrt_f: f64,
    /// The pair potential.
    pub potential: Potential,
    /// The linear dynamics of the responses.
    pub lin: LinearDynamics<'a>,
}

/// The running sums of one block.
pub struct Tally<'a> {
    ctx: TallyContext<'a>,
    pool: &'a Pool,
    n: usize,
    /// Per member family: `[member][observable][t]` and the family's sum of w v'^2.
    family: Array3<f64>,
    family_diag: Array2<f64>,
    /// Buffered forces f = v' and weighted forces w v' of tallied lanes, `[lane][t]`.
    forces: Array2<f64>,
    weighted_forces: Array2<f64>,
    buffered: usize,
    /// The points in contact of the lane being tallied.
    contacts: Vec<usize>,
    m_c: Array2<f64>,
    m_r: Array2<f64>,
    ws: ResponseWorkspace,
    work: Work,
}

impl<'a> Tally<'a> {
    /// Empty sums for `members` families on `n` points, in buffers from `pool`.
    pub fn new(ctx: TallyContext<'a>, pool: &'a Pool, members: usize, n: usize) -> Self {
        let batch = FORCE_BATCH;
        Tally {
            ctx,
            pool,
            n,
            family: pool.array3((members, Observable::COUNT, n)),
            family_diag: pool.matrix((members, n)),
            forces: pool.matrix((batch, n)),
            weighted_forces: pool.matrix((batch, n)),
            buffered: 0,
            contacts: Vec::new(),
            m_c: pool.matrix((n, n)),
            m_r: pool.matrix((n, n)),
            ws: ResponseWorkspace::default(),
            work: Work::default(),
        }
    }

    /// Adds the two-time sums of `lane` (M_C and its exact response, on its points before
    /// `lane.weighted`), once its path is complete: dropped, or at the end of the window.
    pub fn add(&mut self, lane: &Lane) {
        let end = lane.weighted;
        // One-time terms at each point where the lane carried weight.
        let geometry = self.ctx.geometry[lane.member];
        let mut family = self.family.index_axis_mut(Axis(0), lane.member);
        let mut diag = self.family_diag.row_mut(lane.member);
        for t in 0..end {
            let w = lane.w[t];
            if w == 0.0 {
                continue;
            }
            let pv = self.ctx.potential.eval(lane.h[t]);
            let x = terms(pv, geometry, self.ctx.gamma_eff[t], self.ctx.sqrt_f);
            for (o, xo) in x.iter().enumerate() {
                family[[o, t]] += w * xo;
            }
            diag[t] += w * pv.dv * pv.dv;
        }
        // M_C: a lane in contact at few points adds its products at those points directly;
        // the others are buffered for one matrix product.
        self.contacts.clear();
        self.contacts
            .extend((0..end).filter(|&t| lane.dv[t] != 0.0));
        if self.contacts.len() * SPARSE_FORCES <= self.n {
            self.add_sparse_forces(lane);
        } else {
            let row = self.buffered;
            for t in 0..self.n {
                let f = if t < end { lane.dv[t] } else { 0.0 };
                self.forces[[row, t]] = f;
                self.weighted_forces[[row, t]] = lane.w[t] * f;
            }
            self.buffered += 1;
            if self.buffered == FORCE_BATCH {
                self.flush_forces();
            }
        }
        let clock = std::time::Instant::now();
        self.work.response_flops += accumulate_member(
            &lane.d2v[..end],
            &self.ctx.lin,
            &lane.w[..end],
            self.m_r.view_mut(),
            &mut self.ws,
        );
        self.work.response_seconds += clock.elapsed().as_secs_f64();
        self.work.lanes += 1;
    }

    /// M_C(t, t') += w(t) v'(t) v'(t') of `lane` for t >= t' at its points in contact
    /// (`contacts`, where v' != 0; a copy's t' may precede its existence, where it shares
    /// its parent's path): the entries its force products fill, without the zeros of a
    /// matrix product.
    fn add_sparse_forces(&mut self, lane: &Lane) {
        let c = &self.contacts;
        for (i, &t) in c.iter().enumerate() {
            let wf = lane.w[t] * lane.dv[t];
            if wf == 0.0 {
                continue;
            }
            let mut row = self.m_c.row_mut(t);
            let row = row.as_slice_mut().expect("row-major sums");
            for &u in &c[..=i] {
                row[u] += wf * lane.dv[u];
            }
        }
        self.work.kernel_flops += (c.len() * (c.len() + 1) / 2) as u64;
    }

    /// M_C(t, t') += sum over buffered lanes of w(t) v'(t) v'(t') for t >= t' (the weight
    /// at the later time, when the lane's path up to it is known); the upper triangle is
    /// left to the pass, which mirrors the sum of all blocks.
    fn flush_forces(&mut self) {
        let k = self.buffered;
        if k == 0 {
            return;
        }
        gemm_add_shaped(
            self.m_c.view_mut(),
            Shape::LowerResult,
            1.0,
            self.weighted_forces.slice(s![..k, ..]),
            true,
            self.forces.slice(s![..k, ..]),
            false,
            false,
        );
        // M_C products: n (n + 1)/2 multiply-adds per lane.
        self.work.kernel_flops += (self.n * (self.n + 1) / 2 * k) as u64;
        self.buffered = 0;
    }

    /// The block's sums: family sums added in member order, stratum-pair differences of
    /// the sampling units' family sums (units of `unit` members by population index `ids`:
    /// a member, or an antithetic pair sharing a stratum; pairs of units (2j, 2j + 1)), M_C
    /// on and below the diagonal.
    pub fn finish(mut self, ids: &[usize], unit: usize) -> Partial {
        self.flush_forces();
        let n = self.n;
        let k = Observable::COUNT;
        let mut part = Partial {
            one_time: Array2::zeros((k, n)),
            one_time_sq: Array2::zeros((k, n)),
            block_sq: Array3::zeros((k, time_blocks(n), time_blocks(n))),
            m_c: self.m_c,
            m_c_diag_sq: Array1::zeros(n),
            m_c_diag_max: Array1::zeros(n),
            m_c_diag_families: Array1::zeros(n),
            m_r: self.m_r,
            samples: Vec::new(),
            work: self.work,
        };
        // The running unit's sums, and those of the even unit waiting for its odd partner.
        let (mut current, mut current_diag) = (Array2::zeros((k, n)), Array1::zeros(n));
        let (mut even, mut even_diag) = (Array2::zeros((k, n)), Array1::zeros(n));
        let mut waiting = false;
        for (b, &id) in ids.iter().enumerate() {
            let family = self.family.index_axis(Axis(0), b);
            part.one_time += &family;
            let diag = self.family_diag.row(b);
            part.m_c_diag_max.zip_mut_with(&diag, |a, &x| *a = a.max(x));
            part.m_c_diag_families
                .zip_mut_with(&diag, |c, &x| *c += f64::from(u8::from(x > 0.0)));
            current += &family;
            current_diag += &diag;
            if id % unit + 1 < unit {
                continue;
            }
            if (id / unit).is_multiple_of(2) {
                std::mem::swap(&mut current, &mut even);
                std::mem::swap(&mut current_diag, &mut even_diag);
                waiting = true;
            } else if waiting {
                let d = &current - &even;
                part.one_time_sq.zip_mut_with(&d, |q, x| *q += x * x);
                add_block_products(&mut part.block_sq, &d);
                let d = &current_diag - &even_diag;
                part.m_c_diag_sq.zip_mut_with(&d, |q, x| *q += x * x);
                waiting = false;
            }
            current.fill(0.0);
            current_diag.fill(0.0);
        }
        for buffer in [self.family_diag, self.forces, self.weighted_forces] {
            self.pool.give_array(buffer);
        }
        self.pool.give_array(self.family);
        part
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::scheme::{MemoryWeights, Scheme};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Blocks combine the heaviest family's M_C(t,t) by its maximum and the families in
    /// contact by their sum, in any order, and both survive a rank's message.
    #[test]
    fn heaviest_family_and_contacts_combine() {
        let (mut a, mut b) = (Partial::zeros(3), Partial::zeros(3));
        a.m_c_diag_max = Array1::from(vec![1.0, 5.0, 0.0]);
        a.m_c_diag_families = Array1::from(vec![2.0, 1.0, 0.0]);
        b.m_c_diag_max = Array1::from(vec![3.0, 2.0, 0.5]);
        b.m_c_diag_families = Array1::from(vec![1.0, 4.0, 1.0]);
        let mut ab = Partial::from_message(3, &a.to_message());
        ab.add(&b);
        b.add(&a);
        for p in [&ab, &b] {
            assert_eq!(p.m_c_diag_max, Array1::from(vec![3.0, 5.0, 0.5]));
            assert_eq!(p.m_c_diag_families, Array1::from(vec![3.0, 5.0, 1.0]));
        }
    }

    /// M_C is the weighted sum of the lanes' force products at the later time whichever
    /// way a lane adds it: entry by entry (few contacts; also a copy whose weight starts
    /// late, with contacts before) or through the buffered matrix product (many contacts).
    #[test]
    fn force_products_sparse_and_dense() {
        let n = 64;
        let (kappa, m_r) = (vec![1.0; n], Array2::zeros((n, n)));
        let geometry = vec![
            Geometry {
                gc_cu: 0.0,
                cu2: 1.0
            };
            3
        ];
        let gamma_eff = vec![0.0; n];
        let pool = Pool::default();
        let ctx = TallyContext {
            geometry: &geometry,
            gamma_eff: &gamma_eff,
            sqrt_f: 1.0,
            potential: Potential::Harmonic { eps: 1.0 },
            lin: LinearDynamics {
                kappa: &kappa,
                memory: MemoryWeights::new(m_r.view(), Scheme::Discrete),
                zeta: 1.0,
                dt: 0.1,
            },
        };
        let mut tally = Tally::new(ctx, &pool, 3, n);
        let lane =
            |member: usize, contact: &dyn Fn(usize) -> bool, weight: &dyn Fn(usize) -> f64| {
                let rng = Xoshiro256PlusPlus::seed_from_u64(member as u64);
                let mut l = Lane::member(
                    member,
                    1.0,
                    vec![0.0; n],
                    vec![0.0; n],
                    vec![0.0; n],
                    rng,
                    false,
                );
                for t in 0..n {
                    let h = if contact(t) {
                        -0.1 - 0.01 * ((t * 7 + member) % 5) as f64
                    } else {
                        0.5
                    };
                    l.h[t] = h;
                    l.dv[t] = 2.0 * h.min(0.0);
                    l.w[t] = weight(t);
                }
                l
            };
        let lanes = [
            lane(0, &|t| t % 3 != 0, &|_| 0.8),
            lane(1, &|t| [3, 9, 10, 40, 63].contains(&t), &|_| 1.3),
            lane(2, &|t| [10, 15, 30, 40].contains(&t), &|t| {
                if t >= 20 {
                    0.5
                } else {
                    0.0
                }
            }),
        ];
        for l in &lanes {
            tally.add(l);
        }
        let part = tally.finish(&[0, 1, 2], 1);
        for t in 0..n {
            for u in 0..=t {
                let want: f64 = lanes.iter().map(|l| l.w[t] * l.dv[t] * l.dv[u]).sum();
                assert!(
                    (part.m_c[[t, u]] - want).abs() < 1e-14,
                    "({t}, {u}): {} vs {want}",
                    part.m_c[[t, u]]
                );
            }
        }
        assert!(part.m_c[[40, 10]] != 0.0 && part.m_c[[30, 15]] != 0.0);
    }
}
