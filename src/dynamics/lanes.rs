//! Lanes: the paths a block of the population integrates. A lane is a member's effective
//! process (docs/equations.md (E1)) or a copy of it made by importance splitting
//! ([`super::splitting`]); a copy holds its parent's whole path up to the split and continues
//! with noise of its own, so every lane's path starts at t = 0 and the memory terms and the
//! exact response of a copy are those of its own full path.

use ndarray::{s, ArrayView2, ArrayViewMut2};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::entry::FreeMap;
use crate::linalg::{dot, gemm_add};

/// One lane and its path on the window's n points.
#[derive(Debug, Clone)]
pub struct Lane {
    /// Position in the block of the member it descends from.
    pub member: usize,
    /// 0 for the member itself, k for its k-th copy.
    pub serial: u64,
    /// The weight it carries now.
    pub weight: f64,
    /// The weight it carried at each time: 0 before it existed and after it was dropped.
    pub w: Vec<f64>,
    /// The non-affine part y(t) of the gap.
    pub y: Vec<f64>,
    /// The gap h(t).
    pub h: Vec<f64>,
    /// v'(h(t)).
    pub dv: Vec<f64>,
    /// v''(h(t)).
    pub d2v: Vec<f64>,
    /// The coloured noise X(t_k) = sum_j L_kj z_j on the grid points.
    pub x: Vec<f64>,
    /// The normals z_k behind the coloured noise.
    pub z: Vec<f64>,
    /// The white-noise force of the step k -> k + 1.
    pub white: Vec<f64>,
    /// The memory sum at the current t: dt sum_u W(t, u) y(u) (docs/equations.md (N3)-(N4)).
    pub memory: f64,
    /// sum_{1 <= u < K} M_R(t, u) y(u) for the rows t of the current time block [K, K + b)
    /// ([`far_memory`]).
    pub far: Vec<f64>,
    /// Kept running with zero weight after a drop, because its path is a sample.
    pub tracer: bool,
    /// Points that may carry weight: n, or one past the time it was dropped.
    pub weighted: usize,
    /// The stream of its splitting decisions (and, for a copy, of its noise).
    pub rng: Xoshiro256PlusPlus,
    /// Its free fluctuation Y(t) ([`FreeMap`]) when the members hand weight over to
    /// entrants (empty otherwise).
    pub free: Vec<f64>,
    /// Whether it hands weight over where its free gap is at or below the entry level (a
    /// member and its copies; an entrant's lineage does not).
    pub hands_over: bool,
    /// The point at which it starts carrying weight (0 for a member, its step for an
    /// entrant) and the weight it carries from then on.
    pub enters: (usize, f64),
    /// The weight for which `keep` was computed, and the open interval of gaps (minus the
    /// affine approach) where weight windows surely keep the lane
    /// ([`super::sampling::PopulationSpec::keep_interval`]).
    pub keep: (f64, f64, f64),
}

impl Lane {
    /// A member of weight `weight` with its white-noise forces `white`, coloured noise `x`
    /// and normals `z`; `tracer` when its path is a sample.
    pub fn member(
        member: usize,
        weight: f64,
        white: Vec<f64>,
        x: Vec<f64>,
        z: Vec<f64>,
        rng: Xoshiro256PlusPlus,
        tracer: bool,
    ) -> Lane {
        let n = white.len();
        Lane {
            member,
            serial: 0,
            weight,
            w: vec![0.0; n],
            y: vec![0.0; n],
            h: vec![0.0; n],
            dv: vec![0.0; n],
            d2v: vec![0.0; n],
            x,
            z,
            white,
            memory: 0.0,
            far: Vec::new(),
            tracer,
            weighted: n,
            rng,
            free: Vec::new(),
            hands_over: false,
            enters: (0, weight),
            keep: (f64::NAN, f64::NAN, f64::NAN),
        }
    }

    /// Makes the lane an entrant of step `step` that carries `weight` from t_step on (none
    /// before).
    pub fn enter_at(&mut self, step: usize, weight: f64) {
        self.weight = 0.0;
        self.enters = (step, weight);
    }

    /// A copy made at point t, carrying this lane's weight from t + 1 on: the path and the noise up
    /// to t are this lane's; the white noise from step t on and the normals from t + 1 on are
    /// drawn from `rng`, and the coloured noise after t is recomputed from the lower Cholesky
    /// factor `chol` (X = L z is causal, so the copy's noise after t has the right law given
    /// the shared past). A lane that hands weight over has its free fluctuation after t
    /// updated by `free`.
    #[allow(clippy::too_many_arguments)]
    pub fn copy_at(
        &self,
        t: usize,
        serial: u64,
        mut rng: Xoshiro256PlusPlus,
        white_scale: f64,
        chol: ArrayView2<f64>,
        free: Option<&FreeMap>,
    ) -> Lane {
        let n = self.y.len();
        let prefix = |v: &[f64]| {
            let mut out = vec![0.0; n];
            out[..=t].copy_from_slice(&v[..=t]);
            out
        };
        let (mut white, mut z, mut x) = (prefix(&self.white), prefix(&self.z), prefix(&self.x));
        for k in t..n {
            white[k] = white_scale * rng.sample::<f64, _>(StandardNormal);
            if k + 1 < n {
                z[k + 1] = rng.sample(StandardNormal);
            }
        }
        for k in t + 1..n {
            let row = chol.row(k);
            x[k] = dot(&row.as_slice().expect("row-major factor")[..=k], &z[..=k]);
        }
        let mut path = self.free.clone();
        if let (Some(map), true) = (free, self.hands_over) {
            let d_white: Vec<f64> = white.iter().zip(&self.white).map(|(a, b)| a - b).collect();
            let d_z: Vec<f64> = z.iter().zip(&self.z).map(|(a, b)| a - b).collect();
            map.update_after(t, &mut path, &d_white, &d_z);
        }
        Lane {
            member: self.member,
            serial,
            weight: self.weight,
            w: vec![0.0; n],
            y: prefix(&self.y),
            h: prefix(&self.h),
            dv: prefix(&self.dv),
            d2v: prefix(&self.d2v),
            x,
            z,
            white,
            memory: self.memory,
            far: self.far.clone(),
            tracer: false,
            weighted: n,
            rng,
            free: path,
            hands_over: self.hands_over,
            enters: self.enters,
            keep: (f64::NAN, f64::NAN, f64::NAN),
        }
    }

    /// Drops the lane after point t: no weight from t + 1 on. A tracer keeps running.
    pub fn drop_after(&mut self, t: usize) {
        self.weight = 0.0;
        self.weighted = t + 1;
    }

    /// Still integrated: not dropped, or a tracer.
    pub fn is_running(&self) -> bool {
        self.tracer || self.weighted == self.y.len()
    }
}

/// Sets each lane's `far` to sum_{1 <= u < start} W(t, u) y(u) for the `rows` rows
/// t = start, start + 1, ... of a time block: one product of the lanes' paths (gathered
/// into `paths`, lanes x (start - 1)) with the transposed block of M_R. A copy made inside
/// the block shares its parent's path before `start`, hence its `far`.
pub fn far_memory(
    lanes: &mut [Lane],
    m_r: ArrayView2<f64>,
    start: usize,
    rows: usize,
    paths: &mut Vec<f64>,
    out: &mut Vec<f64>,
) {
    let (nl, width) = (lanes.len(), start.saturating_sub(1));
    out.clear();
    out.resize(nl * rows, 0.0);
    if width > 0 && nl > 0 {
        paths.clear();
        for lane in lanes.iter() {
            paths.extend_from_slice(&lane.y[1..start]);
        }
        let y = ArrayView2::from_shape((nl, width), &paths[..]).expect("lanes x width paths");
        let sums = ArrayViewMut2::from_shape((nl, rows), &mut out[..]).expect("lanes x rows");
        let block = m_r.slice(s![start..start + rows, 1..start]);
        gemm_add(sums, 1.0, y, false, block, true);
    }
    for (lane, sums) in lanes.iter_mut().zip(out.chunks_exact(rows)) {
        lane.far.clear();
        lane.far.extend_from_slice(sums);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::SeedableRng;

    /// The blocked memory equals the sum written out, for every lane and row of the block,
    /// and a copy made inside the block carries its parent's.
    #[test]
    fn far_memory_is_the_sum_over_the_points_before_the_block() {
        let (n, start, rows) = (100, 64, 32);
        let m_r = Array2::from_shape_fn((n, n), |(i, j)| {
            if j <= i {
                ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.4
            } else {
                0.0
            }
        });
        let rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut lanes: Vec<Lane> = (0..5)
            .map(|l| {
                let mut lane = Lane::member(
                    l,
                    1.0,
                    vec![0.0; n],
                    vec![0.0; n],
                    vec![0.0; n],
                    rng.clone(),
                    false,
                );
                for (t, y) in lane.y.iter_mut().enumerate() {
                    *y = ((t * (l + 2)) % 13) as f64 / 13.0 - 0.5;
                }
                lane
            })
            .collect();
        let (mut paths, mut out) = (Vec::new(), Vec::new());
        far_memory(&mut lanes, m_r.view(), start, rows, &mut paths, &mut out);
        for lane in &lanes {
            for r in 0..rows {
                let direct: f64 = (1..start).map(|u| m_r[[start + r, u]] * lane.y[u]).sum();
                assert!((lane.far[r] - direct).abs() < 1e-12, "row {r}");
            }
        }
        let chol = Array2::eye(n);
        let copy = lanes[2].copy_at(start + 5, 1, rng, 1.0, chol.view(), None);
        assert_eq!(copy.far, lanes[2].far);
    }
}
