//! Entrants: members drawn at the time they come near contact (docs/equations.md,
//! "Entrants"; `population.entrants`).
//!
//! A pair's free gap g(t) = h_aff(t) + Delta_r(t) + Y(t) (docs/equations.md (J1)) is its gap without its own contact
//! forces: Y is the response of the linear part of (E1) to the noise alone, a linear function
//! of the member's normals, Gaussian with variance v(t). Each point t_k >= t_1 where a pair's
//! free gap is at or below the entry level L hands a fraction lambda = `rate` dt of the
//! pair's weight over to the entrants of step k: the members' weights carry
//! prod_{k <= t} (1 - lambda_k), and an entrant of step j carries lambda_j prod_{k < j}
//! (1 - lambda_k) from t_j on. These factors add up to one at every t and depend only on the
//! path up to t, so the members and the entrants of steps j <= t together estimate every
//! average at t without bias, and weight windows (splitting) stay valid.
//!
//! An entrant of step j is drawn with its free gap at t_j below L: g_j = L + ln U, then
//! h0 ~ N(c + v_j, v_j) with c = g_j - a_j - Delta_r(t_j) (a_j its affine gap at t_j, with
//! g_c ~ N(-gamma_j c_u, 1)), and its normals conditioned on Y_j = c - h0. The target law
//! (phi_hat/2) e^{h0} g_in(h0) phi(g_c) phi(c_u) phi(normals) over this proposal is then the
//! constant (phi_hat/2) g_in(h0) e^{L - Delta_r(t_j) + v_j/2}: no heavy weights, however far
//! the run has diffused.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::sampling::Member;
use crate::error::{Error, Result};
use crate::linalg::{dot, gemm_add};

/// The first index of the entrants: ids below it are members, so an entrant's streams do not
/// depend on the population size.
pub const ENTRANT_BASE: usize = 1 << 48;

/// How entrants are drawn and how the members hand their weight over to them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// Entrants drawn at each step (even: consecutive entrants are the error's pairs).
    pub per_step: usize,
    /// Entry level L: a free gap at or below it hands weight over.
    pub level: f64,
    /// Hand-over rate (per unit time) while the free gap is at or below L - width.
    pub rate: f64,
    /// Width of the ramp below L over which the hand-over rate rises from 0 to `rate`
    /// (0: a step at L).
    pub width: f64,
    /// The number of steps (>= 1) over which the hand-over rate rises linearly from 0 to
    /// `rate`, from step 0 on.
    pub ramp: f64,
}

impl Entry {
    /// Checks the keys against the time step `dt`.
    pub fn validate(&self, dt: f64) -> Result<()> {
        if self.per_step < 2 || !self.per_step.is_multiple_of(2) {
            return Err(Error::config(
                "population.entrants",
                format!("must be an even number >= 2, got {}", self.per_step),
            ));
        }
        if !self.level.is_finite() {
            return Err(Error::config("population.entry_level", "must be finite"));
        }
        if !(self.width >= 0.0 && self.width.is_finite()) {
            return Err(Error::config(
                "population.entry_width",
                format!("must be finite and >= 0, got {}", self.width),
            ));
        }
        if !(self.rate > 0.0 && self.rate * dt <= 1.0) {
            return Err(Error::config(
                "population.entry_rate",
                format!(
                    "must be positive and at most 1/grid.dt = {}, got {}",
                    1.0 / dt,
                    self.rate
                ),
            ));
        }
        Ok(())
    }

    /// The share of the full hand-over rate at free gap `g`: 1 at or below L - width, 0
    /// above L, linear between (a step at L for width 0).
    fn share(&self, g: f64) -> f64 {
        if g > self.level {
            0.0
        } else if g <= self.level - self.width {
            1.0
        } else {
            (self.level - g) / self.width
        }
    }

    /// The fraction lambda = rate dt share(g) min(1, k/ramp) of the weight handed over at
    /// point k where the free gap is `g`.
    pub fn handed(&self, dt: f64, k: usize, g: f64) -> f64 {
        self.rate * dt * self.share(g) * (k as f64 / self.ramp).min(1.0)
    }

    /// The factor 1 - lambda a weight keeps at point k where the free gap is `g`.
    pub fn keep(&self, dt: f64, k: usize, g: f64) -> f64 {
        1.0 - self.handed(dt, k, g)
    }

    /// The step at which entrant `id` enters (>= 1).
    pub fn step(&self, id: usize) -> usize {
        1 + (id - ENTRANT_BASE) / self.per_step
    }

    /// How many entrants enter on the leading `n` points (steps 1 to n - 1).
    pub fn count(&self, n: usize) -> usize {
        n.saturating_sub(1) * self.per_step
    }
}

impl std::fmt::Display for Entry {
    /// The settings as the output files record them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} per step, entry_level = {}, entry_rate = {}, entry_width = {}, entry_ramp = {} steps",
            self.per_step, self.level, self.rate, self.width, self.ramp
        )
    }
}

/// Whether `id` is an entrant.
pub fn is_entrant(id: usize) -> bool {
    id >= ENTRANT_BASE
}

/// The linear map from a lane's noise to its free fluctuation Y (docs/equations.md (E1)
/// without v'): Y(t_k) = sum_m dt S(k, m) white_m + sum_l B(k, l) z_l, with S the step
/// responses of the particle ([`super::particle::step_responses`]), white_m the white force
/// of step m and z the normals of the coloured noise X = L z, whose step average
/// (X_m + X_{m+1})/2 gives B = (dt/2) S (L_{m,.} + L_{m+1,.}).
#[derive(Debug, Clone)]
pub struct FreeMap {
    /// dt S(k, m), n x n (the last column, a step that does not exist, is zero).
    white: Array2<f64>,
    /// B(k, l), n x n.
    coloured: Array2<f64>,
    /// Variance of Y(t_k) under the noise: (white scale)^2 |dt S_k|^2 + |B_k|^2.
    variance: Vec<f64>,
    /// Standard deviation of a white force, sqrt(2 T zeta/dt).
    white_scale: f64,
}

impl FreeMap {
    /// The map from the step responses `s` (n x (n - 1)), the lower Cholesky factor `chol`
    /// of the coloured noise's covariance, the step `dt` and the white scale.
    pub fn new(s: ArrayView2<f64>, chol: ArrayView2<f64>, dt: f64, white_scale: f64) -> Self {
        let n = s.nrows();
        let steps = s.ncols();
        let mut white = Array2::zeros((n, n));
        white.slice_mut(s![.., ..steps]).assign(&s.mapv(|x| dt * x));
        let ends = &chol.slice(s![..steps, ..n]) + &chol.slice(s![1..=steps, ..n]);
        let mut coloured = Array2::zeros((n, n));
        gemm_add(coloured.view_mut(), 0.5 * dt, s, false, ends.view(), false);
        let variance = (0..n)
            .map(|k| {
                let w = white.row(k);
                let b = coloured.row(k);
                white_scale * white_scale * w.dot(&w) + b.dot(&b)
            })
            .collect();
        FreeMap {
            white,
            coloured,
            variance,
            white_scale,
        }
    }

    /// Variance of the free fluctuation at point k.
    pub fn variance(&self, k: usize) -> f64 {
        self.variance[k]
    }

    /// The free fluctuations of a block of lanes (rows): `out` += white S^T dt + z B^T.
    pub fn paths(&self, white: ArrayView2<f64>, z: ArrayView2<f64>, out: ArrayViewMut2<f64>) {
        let mut out = out;
        gemm_add(out.view_mut(), 1.0, white, false, self.white.view(), true);
        gemm_add(out, 1.0, z, false, self.coloured.view(), true);
    }

    /// The free fluctuation at point k of one lane's white forces and normals.
    pub fn at(&self, k: usize, white: &[f64], z: &[f64]) -> f64 {
        let (w, b) = (self.white.row(k), self.coloured.row(k));
        dot(w.as_slice().expect("row-major"), white) + dot(b.as_slice().expect("row-major"), z)
    }

    /// Moves the normals along the gradient of Y(t_j) so that Y(t_j) = `target` (the
    /// Gaussian conditional law of the normals given Y(t_j) when they were drawn
    /// unconditioned). Nothing to do where the variance is zero.
    pub fn condition(&self, j: usize, target: f64, white: &mut [f64], z: &mut [f64]) {
        let v = self.variance[j];
        if v <= 0.0 {
            return;
        }
        let delta = (target - self.at(j, white, z)) / v;
        let ws2 = self.white_scale * self.white_scale;
        for (x, &g) in white.iter_mut().zip(self.white.row(j)) {
            *x += ws2 * g * delta;
        }
        for (x, &g) in z.iter_mut().zip(self.coloured.row(j)) {
            *x += g * delta;
        }
    }

    /// A copy's free fluctuations after its split at point t, from its parent's `free` and
    /// the changes of the white forces (steps >= t) and normals (points > t) it drew anew.
    pub fn update_after(&self, t: usize, free: &mut [f64], d_white: &[f64], d_z: &[f64]) {
        for (k, y) in free.iter_mut().enumerate().skip(t + 1) {
            let w = self.white.row(k);
            let b = self.coloured.row(k);
            let w = &w.as_slice().expect("row-major")[t..k];
            let b = &b.as_slice().expect("row-major")[t + 1..=k];
            *y += dot(w, &d_white[t..k]) + dot(b, &d_z[t + 1..=k]);
        }
    }
}

/// One entrant's draw (before its normals): the member it is, with its weight before the
/// hand-over factor ((phi_hat/2) g_in(h0) e^{L - Delta_r(t_j) + v_j/2}, times N/per_step:
/// population averages divide by the N members; g_c is drawn around the sweep
/// -gamma_j c_u), and the free fluctuation Y(t_j) its normals are conditioned on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// The entrant's gap variables and weight.
    pub member: Member,
    /// The free fluctuation Y(t_j) the normals are conditioned on.
    pub target: f64,
}

/// What an entrant's draw needs to know about its step j.
#[derive(Debug, Clone, Copy)]
pub struct AtStep {
    /// gamma_eff(t_j).
    pub gamma: f64,
    /// Delta_r(t_j).
    pub delta_r: f64,
    /// v_j, the variance of the free fluctuation.
    pub variance: f64,
}

impl Entry {
    /// Draws an entrant's gap variables from its stream (before its noise). `members` is the
    /// population size N, `half_phi` = phi_hat/2 and `log_g_in` the log of the initial gap
    /// distribution's factor g_in.
    ///
    /// With `mirror` the draw is the antithetic twin of the one the same stream gives without
    /// it (docs/equations.md, "Antithetic pairs"): c_u -> -c_u with the same offset
    /// w = g_c + gamma_j c_u from the sweep, the same free gap g_j and the same Y(t_j), so the
    /// twins have the same gap and free gap at t_j, and their affine gaps at other strains
    /// differ by 2 w c_u (gamma_j - gamma). The map leaves the proposal invariant (c_u and w
    /// are independent standard normals), so the twin is an entrant like any other, with
    /// the weight of its own h0.
    pub fn draw(
        &self,
        at: AtStep,
        members: usize,
        half_phi: f64,
        log_g_in: impl Fn(f64) -> f64,
        mirror: bool,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Draw {
        let c_unit: f64 = rng.sample(StandardNormal);
        let c_unit = if mirror { -c_unit } else { c_unit };
        let g_c = -at.gamma * c_unit + rng.sample::<f64, _>(StandardNormal);
        let u: f64 = 1.0 - rng.random::<f64>();
        let g = self.level + u.ln();
        let affine = at.gamma * g_c * c_unit + 0.5 * at.gamma * at.gamma * c_unit * c_unit;
        let c = g - affine - at.delta_r;
        let v = at.variance;
        let h0 = c + v + v.sqrt() * rng.sample::<f64, _>(StandardNormal);
        let log_w = log_g_in(h0) + self.level - at.delta_r + 0.5 * v;
        Draw {
            member: Member {
                h0,
                g_c,
                c_unit,
                weight: half_phi * (members as f64 / self.per_step as f64) * log_w.exp(),
            },
            target: c - h0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn map(n: usize) -> FreeMap {
        let s = Array2::from_shape_fn((n, n - 1), |(k, m)| {
            if m < k {
                (-(0.3 * (k - m) as f64)).exp()
            } else {
                0.0
            }
        });
        let cov = Array2::from_shape_fn((n, n), |(i, j)| {
            0.2 * (-(0.1 * i.abs_diff(j) as f64)).exp() + if i == j { 0.01 } else { 0.0 }
        });
        let (chol, _) = crate::linalg::cholesky_regularised(cov.view()).unwrap();
        FreeMap::new(s.view(), chol.view(), 0.1, 0.7)
    }

    /// The conditioned normals give the asked free fluctuation, the block product equals the
    /// lane-by-lane one, and a copy's updated tail equals its path computed afresh.
    #[test]
    fn free_paths_condition_and_update() {
        let n = 30;
        let m = map(n);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut normals = |k: usize, scale: f64| -> Vec<f64> {
            (0..k)
                .map(|_| scale * rng.sample::<f64, _>(StandardNormal))
                .collect()
        };
        let (mut white, mut z) = (normals(n, 0.7), normals(n, 1.0));
        m.condition(17, -1.25, &mut white, &mut z);
        assert!((m.at(17, &white, &z) + 1.25).abs() < 1e-12);
        let wm = Array2::from_shape_vec((1, n), white.clone()).unwrap();
        let zm = Array2::from_shape_vec((1, n), z.clone()).unwrap();
        let mut out = Array2::zeros((1, n));
        m.paths(wm.view(), zm.view(), out.view_mut());
        let mut free: Vec<f64> = (0..n).map(|k| m.at(k, &white, &z)).collect();
        for k in 0..n {
            assert!((out[[0, k]] - free[k]).abs() < 1e-12);
        }
        let t = 11;
        let (mut white2, mut z2) = (white.clone(), z.clone());
        let (fresh_w, fresh_z) = (normals(n, 0.7), normals(n, 1.0));
        white2[t..].copy_from_slice(&fresh_w[t..]);
        z2[t + 1..].copy_from_slice(&fresh_z[t + 1..]);
        let d_w: Vec<f64> = white2.iter().zip(&white).map(|(a, b)| a - b).collect();
        let d_z: Vec<f64> = z2.iter().zip(&z).map(|(a, b)| a - b).collect();
        m.update_after(t, &mut free, &d_w, &d_z);
        for (k, y) in free.iter().enumerate() {
            assert!((y - m.at(k, &white2, &z2)).abs() < 1e-12, "{k}");
        }
    }

    /// The hand-over ramps from nothing at L to the full rate at L - width, and is a step at
    /// L for width 0.
    #[test]
    fn hand_over_ramps_below_the_level() {
        let ramp = Entry {
            per_step: 4,
            level: 1.0,
            rate: 5.0,
            width: 1.0,
            ramp: 1.0,
        };
        let dt = 0.1;
        for (g, keep) in [(2.0, 1.0), (1.0, 1.0), (0.5, 0.75), (0.0, 0.5), (-3.0, 0.5)] {
            assert!((ramp.keep(dt, 1, g) - keep).abs() < 1e-15, "{g}");
        }
        let step = Entry { width: 0.0, ..ramp };
        assert_eq!(step.keep(dt, 1, 1.0), 0.5);
        assert_eq!(step.keep(dt, 1, 1.0 + 1e-12), 1.0);
        let late = Entry { ramp: 4.0, ..ramp };
        assert_eq!(late.keep(dt, 2, -3.0), 0.75);
        assert_eq!(late.keep(dt, 4, -3.0), 0.5);
        assert_eq!(late.keep(dt, 9, -3.0), 0.5);
        assert!(Entry {
            width: -1.0,
            ..ramp
        }
        .validate(dt)
        .is_err());
    }

    /// An antithetic twin, drawn from its partner's stream, has the opposite c_u, the same
    /// offset from the sweep g_c + gamma_j c_u, the same free fluctuation Y(t_j) and the same
    /// free gap at t_j.
    #[test]
    fn twins_mirror_c_u_at_their_step() {
        let entry = Entry {
            per_step: 4,
            level: 1.0,
            rate: 5.0,
            width: 1.0,
            ramp: 1.0,
        };
        let at = AtStep {
            gamma: 1.3,
            delta_r: 0.7,
            variance: 1.4,
        };
        let free_gap = |d: &Draw| {
            let m = d.member;
            m.h0 + at.gamma * m.g_c * m.c_unit
                + 0.5 * (at.gamma * m.c_unit).powi(2)
                + at.delta_r
                + d.target
        };
        for seed in 0..20 {
            let draw = |mirror| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                entry.draw(at, 100, 1.0, |h| -h.min(0.0).powi(2), mirror, &mut rng)
            };
            let (a, b) = (draw(false), draw(true));
            let (ma, mb) = (a.member, b.member);
            assert_eq!(ma.c_unit, -mb.c_unit);
            let offset = |m: Member| m.g_c + at.gamma * m.c_unit;
            assert!((offset(ma) - offset(mb)).abs() < 1e-12);
            assert!((a.target - b.target).abs() < 1e-12);
            assert!((free_gap(&a) - free_gap(&b)).abs() < 1e-12);
            assert!(free_gap(&a) <= entry.level + 1e-12);
        }
    }

    /// The entrant's weight is the target law over the proposal, also for antithetic twins:
    /// for a function of h0 and of the free gap at t_j, F = e^{-h0^2/2} 1{g <= L}, the
    /// entrants' weighted mean equals the target integral, estimated independently by
    /// drawing h0 ~ N(0, 1), g_c, c_u and Y from their laws (within 4 combined standard
    /// errors; sheared, with a g_in that suppresses h0 < 0).
    #[test]
    fn entrant_weights_follow_the_target() {
        let entry = Entry {
            per_step: 2,
            level: 0.4,
            rate: 1.0,
            width: 0.0,
            ramp: 1.0,
        };
        let at = AtStep {
            gamma: 0.8,
            delta_r: 0.9,
            variance: 1.7,
        };
        let log_g_in = |h: f64| -2.0 * h.min(0.0).powi(2);
        let m = 400_000;
        let stats = |xs: &mut dyn Iterator<Item = f64>| {
            let (mut s, mut q) = (0.0, 0.0);
            for x in xs {
                s += x;
                q += x * x;
            }
            let mean = s / m as f64;
            (mean, ((q / m as f64 - mean * mean) / m as f64).sqrt())
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(10);
        let (direct, se_d) = stats(&mut (0..m).map(|_| {
            let mut normal = || rng.sample::<f64, _>(StandardNormal);
            let (h0, g_c, c) = (normal(), normal(), normal());
            let y = at.variance.sqrt() * normal();
            let g = h0 + at.gamma * g_c * c + 0.5 * (at.gamma * c).powi(2) + at.delta_r + y;
            let w = (2.0 * std::f64::consts::PI).sqrt() * (h0 + log_g_in(h0)).exp();
            if g <= entry.level {
                w
            } else {
                0.0
            }
        }));
        for mirror in [false, true] {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
            let (entrants, se_e) = stats(&mut (0..m).map(|_| {
                let Draw { member: d, target } = entry.draw(at, 2, 1.0, log_g_in, mirror, &mut rng);
                let a = at.gamma * d.g_c * d.c_unit + 0.5 * (at.gamma * d.c_unit).powi(2);
                let g = d.h0 + a + at.delta_r + target;
                assert!(g <= entry.level + 1e-12);
                d.weight * (-0.5 * d.h0 * d.h0).exp()
            }));
            let z = (entrants - direct) / (se_e * se_e + se_d * se_d).sqrt();
            assert!(
                z.abs() < 4.0,
                "mirror {mirror}: {entrants} +- {se_e} against {direct} +- {se_d}"
            );
            assert!(se_e < se_d, "{se_e} {se_d}");
        }
    }
}
