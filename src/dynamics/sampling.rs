//! The population's random variables (docs/equations.md (E1)): initial gap h0 by importance sampling on a
//! window with weights, g_c and the unit relative displacement c, and each member's own
//! random stream (so results do not depend on threads).

use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::splitting::Splitting;
use super::{Grid, Model};
use crate::error::{Error, Result};
use crate::noise::ExternalNoise;
use crate::potential::Potential;

/// Number of cells of the tabulated h0 proposal.
const PROPOSAL_CELLS: usize = 4096;

/// How the population is drawn: size, seed, the h0 window and its proposal density.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationSpec {
    /// Number of members N.
    pub size: usize,
    /// Seed of the members' random streams.
    pub seed: u64,
    /// Lower end of the h0 window.
    pub h0_min: f64,
    /// Upper end of the h0 window.
    pub h0_max: f64,
    /// MSD reach d: the h0 proposal follows the contact measure up to it.
    pub reach: f64,
    /// Number of member trajectories h(t) kept as samples.
    pub samples: usize,
    /// Importance splitting of members as they move (None: every member is one pair for
    /// the whole run).
    pub splitting: Option<Splitting>,
    /// Cumulative probabilities at the cell edges of the piecewise-constant proposal.
    cdf: Vec<f64>,
    /// log of (phi_hat/2) times the proposal's normalisation: the target weight of gap h is
    /// exp(log_scale + log_tilt(h)).
    log_scale: f64,
}

/// One member's random variables and importance weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Member {
    /// Initial gap h0.
    pub h0: f64,
    /// g_c ~ N(0, 1).
    pub g_c: f64,
    /// Unit relative displacement c/sqrt(F) ~ N(0, 1).
    pub c_unit: f64,
    /// Weight w = (phi_hat/2) e^{h0} g_in(h0) / p(h0): population averages are
    /// (1/N) sum_i w_i f_i (the phi_hat/2 of Eq. (19) is included).
    pub weight: f64,
}

/// The random stream of member `index`: independent of threads and of the population size.
pub fn member_rng(seed: u64, index: usize) -> Xoshiro256PlusPlus {
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
        ^ (index as u64)
            .wrapping_add(1)
            .wrapping_mul(0xD1B5_4A32_D192_ED03);
    Xoshiro256PlusPlus::seed_from_u64(mixed)
}

/// The stream of copy `serial` (>= 1) of member `index` made by importance splitting, and
/// with `serial` = 0 the stream of the member's own splitting decisions: independent of the
/// member's noise stream [`member_rng`], of threads and of the population size.
pub fn lane_rng(seed: u64, index: usize, serial: u64) -> Xoshiro256PlusPlus {
    let mixed = seed.wrapping_mul(0x94D0_49BB_1331_11EB).rotate_left(29)
        ^ (index as u64)
            .wrapping_add(1)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ serial
            .wrapping_add(1)
            .wrapping_mul(0x2545_F491_4F6C_DD1D)
            .rotate_left(41);
    Xoshiro256PlusPlus::seed_from_u64(mixed)
}

/// Decay rate of e^h |v'(h)| beyond contact (0 for the harmonic potential, whose force
/// vanishes there): alpha - 1 for exponential spheres, 1 for Lennard-Jones.
fn force_decay(potential: &Potential) -> f64 {
    match *potential {
        Potential::Harmonic { .. } => 0.0,
        Potential::Exponential { alpha, .. } => alpha - 1.0,
        Potential::LennardJones { .. } => 1.0,
    }
}

/// log of the (unnormalised) proposal density of h0 for reach `d`:
/// log g_in(h) + h - log_tilt(h) = log g_in(h) + min(h, 0) - (h - d)_+^2/(8 d) - decay h_+/2.
///
/// A pair at gap h0 > 0 touches at a time when its MSD is about Delta with probability
/// ~ e^{-(h0 + Delta)^2/(4 Delta)}, so e^{h0} times that is largest, ~1, for Delta = h0: the
/// contact measure is flat in h0 up to the run's MSD reach d and falls as
/// e^{-(h0 - d)^2/(4 d)} beyond. The proposal follows the square root of that fall (a
/// defensive tail), and for soft potentials the square root of the force's decay.
fn log_proposal(model: &Model, d: f64, h: f64) -> f64 {
    model.log_g_in(h) + h - log_tilt(model, d, h)
}

/// log of the weight profile e^h g_in(h) / proposal(h), up to a constant:
/// h_+ (1 + decay/2) + (h - d)_+^2/(8 d). Flat in contact, e^h out to the reach, faster beyond.
fn log_tilt(model: &Model, d: f64, h: f64) -> f64 {
    let beyond = (h - d).max(0.0);
    h.max(0.0) * (1.0 + 0.5 * force_decay(&model.potential)) + beyond * beyond / (8.0 * d)
}

/// The default MSD reach of a run: a free-particle bound on how far pairs move,
/// T t_max/zeta + (f0 t_max/zeta)^2 + 2 gamma_eff_max^2, at least 0.25.
pub fn default_reach(model: &Model, grid: &Grid) -> f64 {
    let t_max = grid.time(grid.steps);
    let f0 = match model.noise {
        ExternalNoise::None => 0.0,
        ExternalNoise::Constant { f0 } | ExternalNoise::Active { f0, .. } => f0,
    };
    let g_max = (0..grid.len())
        .map(|i| model.gamma_eff(grid.time(i)).abs())
        .fold(0.0, f64::max);
    (model.temperature * t_max / model.zeta_hat
        + (f0 * t_max / model.zeta_hat).powi(2)
        + 2.0 * g_max * g_max)
        .max(0.25)
}

/// The default lower end of the window: where e^h g_in(h) has fallen 14 decades below its
/// value at h = 0.
pub fn default_h0_min(model: &Model) -> f64 {
    let log_rho = |h: f64| h + model.log_g_in(h);
    let floor = log_rho(0.0) - 14.0 * std::f64::consts::LN_10;
    let mut h = 0.0;
    while h > -60.0 && log_rho(h) > floor {
        h -= 0.01;
    }
    h
}

/// The default upper end of the window: reach + 12 sqrt(reach) (six widths of the
/// proposal's tail), plus 30/decay for soft potentials; at most 60.
pub fn default_h0_max(model: &Model, d: f64) -> f64 {
    let decay = force_decay(&model.potential);
    let soft = if decay > 0.0 { 30.0 / decay } else { 0.0 };
    (d + 12.0 * d.sqrt() + soft).min(60.0)
}

impl PopulationSpec {
    /// Builds the spec; `None` window ends and reach take the defaults above.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &Model,
        grid: &Grid,
        size: usize,
        seed: u64,
        h0_min: Option<f64>,
        h0_max: Option<f64>,
        reach: Option<f64>,
        samples: usize,
        splitting: Option<Splitting>,
    ) -> Result<Self> {
        let reach = reach.unwrap_or_else(|| default_reach(model, grid));
        let h0_min = h0_min.unwrap_or_else(|| default_h0_min(model));
        let h0_max = h0_max.unwrap_or_else(|| default_h0_max(model, reach));
        if h0_max <= h0_min {
            return Err(Error::config(
                "population.h0_max",
                format!("must exceed population.h0_min ({h0_min}), got {h0_max}"),
            ));
        }
        let dh = (h0_max - h0_min) / PROPOSAL_CELLS as f64;
        let logq: Vec<f64> = (0..PROPOSAL_CELLS)
            .map(|j| {
                let h = h0_min + (j as f64 + 0.5) * dh;
                log_proposal(model, reach, h)
            })
            .collect();
        let top = logq.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut cdf = Vec::with_capacity(PROPOSAL_CELLS + 1);
        cdf.push(0.0);
        let mut acc = 0.0;
        for l in &logq {
            acc += (l - top).exp();
            cdf.push(acc);
        }
        for c in cdf.iter_mut() {
            *c /= acc;
        }
        Ok(PopulationSpec {
            size,
            seed,
            h0_min,
            h0_max,
            reach,
            samples: samples.min(size),
            splitting,
            cdf,
            log_scale: (0.5 * model.phi_hat * acc * dh).ln() + top,
        })
    }

    /// The target weight w*(h) of a member at gap h (section "Importance splitting"): the
    /// weight a member drawn at h0 = h would carry, from the proposal's smooth profile
    /// (equal to the drawn weights up to the proposal's tabulation within a cell).
    pub fn target_weight(&self, model: &Model, h: f64) -> f64 {
        (self.log_scale + log_tilt(model, self.reach, h)).exp()
    }

    /// Draws member `index` (stratified in h0: its proposal quantile lies in
    /// [index/N, (index+1)/N)), consuming the first three numbers of `rng`.
    pub fn draw(&self, model: &Model, index: usize, rng: &mut Xoshiro256PlusPlus) -> Member {
        let u = (index as f64 + rng.random::<f64>()) / self.size as f64;
        let g_c: f64 = rng.sample(StandardNormal);
        let c_unit: f64 = rng.sample(StandardNormal);
        let cells = PROPOSAL_CELLS;
        let j = (self.cdf.partition_point(|&c| c <= u) - 1).min(cells - 1);
        let mass = self.cdf[j + 1] - self.cdf[j];
        let dh = (self.h0_max - self.h0_min) / cells as f64;
        let frac = if mass > 0.0 {
            (u - self.cdf[j]) / mass
        } else {
            0.5
        };
        let h0 = self.h0_min + (j as f64 + frac.clamp(0.0, 1.0)) * dh;
        let density = mass / dh;
        let weight = 0.5 * model.phi_hat * (h0 + model.log_g_in(h0)).exp() / density;
        Member {
            h0,
            g_c,
            c_unit,
            weight,
        }
    }

    /// Indices of the members whose trajectories are kept as samples (evenly spread).
    pub fn sample_indices(&self) -> Vec<usize> {
        (0..self.samples)
            .map(|s| (2 * s + 1) * self.size / (2 * self.samples))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driving::Driving;
    use crate::schedule::StrainSchedule;

    fn model(potential: Potential) -> Model {
        Model {
            potential,
            phi_hat: 2.0,
            zeta_hat: 1.0,
            temperature: 0.5,
            t0: 0.5,
            noise: ExternalNoise::None,
            driving: Driving::None,
            schedule: StrainSchedule::None,
        }
    }

    /// The weighted population integrates (phi_hat/2) int e^h g_in(h) f(h) dh without bias:
    /// compare with a fine quadrature, for f = 1 on the window and f = v'(h)^2.
    #[test]
    fn weights_are_unbiased() {
        for pot in [
            Potential::Harmonic { eps: 1.0 },
            Potential::Exponential {
                eps: 1.0,
                alpha: 3.0,
            },
            Potential::LennardJones { eps: 1.0 },
        ] {
            let m = model(pot);
            let grid = Grid {
                dt: 0.01,
                steps: 100,
            };
            let spec =
                PopulationSpec::new(&m, &grid, 20000, 7, None, Some(4.0), None, 0, None).unwrap();
            let f = |h: f64| pot.dv(h).powi(2);
            // Stratified estimate and its standard error from stratum pairs.
            let terms: Vec<f64> = (0..spec.size)
                .map(|i| {
                    let mut rng = member_rng(spec.seed, i);
                    let mem = spec.draw(&m, i, &mut rng);
                    // The splitting target is the drawn weight, up to the tabulation.
                    let ratio = mem.weight / spec.target_weight(&m, mem.h0);
                    assert!(
                        (ratio - 1.0).abs() < 0.02,
                        "{pot:?}: h0 {}: {ratio}",
                        mem.h0
                    );
                    mem.weight * f(mem.h0)
                })
                .collect();
            let n = spec.size as f64;
            let est = terms.iter().sum::<f64>() / n;
            let se = terms
                .chunks_exact(2)
                .map(|p| (p[1] - p[0]).powi(2))
                .sum::<f64>()
                .sqrt()
                / n;
            let k = 200_000;
            let dh = (spec.h0_max - spec.h0_min) / k as f64;
            let exact: f64 = (0..k)
                .map(|j| {
                    let h = spec.h0_min + (j as f64 + 0.5) * dh;
                    (h + m.log_g_in(h)).exp() * f(h) * dh
                })
                .sum::<f64>()
                * m.phi_hat
                / 2.0;
            // Stratification makes the naive standard error an overestimate; 4 of them is
            // still a tight check of a few per mille here.
            assert!(
                (est - exact).abs() < 4.0 * se,
                "{pot:?}: {est} vs {exact} (se {se})"
            );
            assert!(se / exact < 0.03, "{pot:?}: relative error {}", se / exact);
        }
    }

    #[test]
    fn streams_are_per_member() {
        let a: f64 = member_rng(3, 10).random();
        let b: f64 = member_rng(3, 10).random();
        let c: f64 = member_rng(3, 11).random();
        let d: f64 = member_rng(4, 10).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
