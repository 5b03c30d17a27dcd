//! The population's random variables (docs/equations.md (E1)): initial gap h0 by importance sampling on a
//! window with weights, g_c and the unit relative displacement c, and each member's own
//! random stream (so results do not depend on threads).

use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::entry::Entry;
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
    /// Strain reach gamma_s of the affine proposal (0: g_c ~ N(0, 1), the gap proposal
    /// alone); see [`PopulationSpec::draw`].
    pub strain_reach: f64,
    /// Half-width a of the band of g_c around the affine sweep that the affine proposal
    /// covers uniformly (docs/equations.md, "Sampling").
    pub margin: f64,
    /// Antithetic pairs (docs/equations.md, "Antithetic pairs"): members 2k and 2k + 1 share
    /// their stratum, h0, g_c and noise, and have opposite c_u.
    pub antithetic: bool,
    /// Entrants (docs/equations.md, "Entrants"): members drawn as they come near contact,
    /// to whom the members hand their weight over (None: off).
    pub entry: Option<Entry>,
    /// Cumulative probabilities at the cell edges of the piecewise-constant proposal.
    cdf: Vec<f64>,
    /// log of (phi_hat/2) times the proposal's normalisation: the target weight of gap h is
    /// exp(log_scale + log_tilt(h)).
    log_scale: f64,
    /// Factor of the affine proposal's typical weight over that target (1 for the gap
    /// proposal; see [`PopulationSpec::target_weight`]).
    band: f64,
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
///
/// The affine proposal draws u = h0 - g_c^2/2 instead of h0 (see [`PopulationSpec::draw`]):
/// a pair at u < 0 is in contact at t = 0 when g_c^2/2 < -u, so g_in does not suppress
/// negative u there; its proposal keeps only e^{min(u, 0)} and the same tail.
fn log_proposal(model: &Model, d: f64, h: f64, affine: bool) -> f64 {
    let prior = if affine { 0.0 } else { model.log_g_in(h) };
    prior + h - log_tilt(model, d, h)
}

/// log of the weight profile e^h g_in(h) / proposal(h), up to a constant:
/// h_+ (1 + decay/2) + (h - d)_+^2/(8 d). Flat in contact, e^h out to the reach, faster beyond.
fn log_tilt(model: &Model, d: f64, h: f64) -> f64 {
    let beyond = (h - d).max(0.0);
    h.max(0.0) * (1.0 + 0.5 * force_decay(&model.potential)) + beyond * beyond / (8.0 * d)
}

/// Fraction of the affine proposal of g_c that is the standard normal (a defensive
/// component: the rest is uniform on the band of the affine sweep).
const AFFINE_NORMAL: f64 = 0.1;

/// Largest |gamma_eff(t)| over the grid.
pub fn largest_strain(model: &Model, grid: &Grid) -> f64 {
    (0..grid.len())
        .map(|i| model.gamma_eff(grid.time(i)).abs())
        .fold(0.0, f64::max)
}

/// The default MSD reach of a run: a free-particle bound on how far pairs move,
/// T t_max/zeta + (f0 t_max/zeta)^2, plus 2 gamma_eff_max^2 when the strain is left to the
/// gap proposal (`strain_reach` = 0); at least 0.25.
pub fn default_reach(model: &Model, grid: &Grid, strain_reach: f64) -> f64 {
    let t_max = grid.time(grid.steps);
    let f0 = match model.noise {
        ExternalNoise::None => 0.0,
        ExternalNoise::Constant { f0 } | ExternalNoise::Active { f0, .. } => f0,
    };
    let g_max = if strain_reach > 0.0 {
        0.0
    } else {
        largest_strain(model, grid)
    };
    (model.temperature * t_max / model.zeta_hat
        + (f0 * t_max / model.zeta_hat).powi(2)
        + 2.0 * g_max * g_max)
        .max(0.25)
}

/// The default lower end of the window: where e^h g_in(h) has fallen 14 decades below its
/// value at h = 0 (for the affine proposal's u, where e^u has).
pub fn default_h0_min(model: &Model, affine: bool) -> f64 {
    let log_rho = |h: f64| h + if affine { 0.0 } else { model.log_g_in(h) };
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
        strain_reach: Option<f64>,
        samples: usize,
        splitting: Option<Splitting>,
    ) -> Result<Self> {
        let strain_reach = strain_reach.unwrap_or(0.0);
        let reach = reach.unwrap_or_else(|| default_reach(model, grid, strain_reach));
        let affine = strain_reach > 0.0;
        let h0_min = h0_min.unwrap_or_else(|| default_h0_min(model, affine));
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
                log_proposal(model, reach, h, affine)
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
        let margin = (2.0 * h0_max.max(0.5)).sqrt();
        let band = if affine {
            let width = strain_reach * (2.0 / std::f64::consts::PI).sqrt() + 2.0 * margin;
            width / ((1.0 - AFFINE_NORMAL) * (2.0 * std::f64::consts::PI).sqrt())
        } else {
            1.0
        };
        Ok(PopulationSpec {
            size,
            seed,
            h0_min,
            h0_max,
            reach,
            samples: samples.min(size),
            splitting,
            strain_reach,
            margin,
            antithetic: false,
            entry: None,
            cdf,
            log_scale: (0.5 * model.phi_hat * acc * dh).ln() + top,
            band,
        })
    }

    /// The spec with antithetic pairs on or off. They need the gap proposal: under the affine
    /// proposal g_c lies near the sweep -gamma c_u, and the partner with -c_u would never be
    /// swept to contact.
    pub fn with_antithetic(mut self, antithetic: bool) -> Result<Self> {
        if antithetic && self.strain_reach > 0.0 {
            return Err(Error::config(
                "population.antithetic",
                "needs the gap proposal: unset population.strain_reach (or set it to 0)",
            ));
        }
        self.antithetic = antithetic;
        Ok(self)
    }

    /// The spec with entrants, checked against the time step `dt`. With antithetic pairs
    /// the entrants come in twins too (consecutive entrants, mirrored at their step), and
    /// the error's pairs are pairs of twins of the same step: the count per step must be a
    /// multiple of 4.
    pub fn with_entry(mut self, entry: Option<Entry>, dt: f64) -> Result<Self> {
        if let Some(e) = entry {
            e.validate(dt)?;
            if self.antithetic && !e.per_step.is_multiple_of(4) {
                return Err(Error::config(
                    "population.entrants",
                    format!(
                        "must be a multiple of 4 with population.antithetic, got {}",
                        e.per_step
                    ),
                ));
            }
        }
        self.entry = entry;
        Ok(self)
    }

    /// The entrants as the output files record them: their settings, or "none".
    pub fn entrants(&self) -> String {
        self.entry.map_or("none".into(), |e| e.to_string())
    }

    /// Members per sampling unit: 2 with antithetic pairs (a pair shares a stratum, and
    /// errors and jackknife batches treat it as one draw), else 1.
    pub fn unit(&self) -> usize {
        if self.antithetic {
            2
        } else {
            1
        }
    }

    /// The member whose streams member `index` uses ([`member_rng`], [`lane_rng`]): the
    /// first of its antithetic pair, else itself.
    pub fn stream(&self, index: usize) -> usize {
        index - index % self.unit()
    }

    /// The target weight w*(h) of a member at gap h (section "Importance splitting"): the
    /// weight a member drawn at h0 = h would carry, from the proposal's smooth profile
    /// (equal to the drawn weights up to the proposal's tabulation within a cell; with the
    /// affine proposal, its typical weight, the band's mean width over c_u replacing its
    /// width).
    pub fn target_weight(&self, model: &Model, h: f64) -> f64 {
        self.band * (self.log_scale + log_tilt(model, self.reach, h)).exp()
    }

    /// The open interval of gaps h where a lane of weight `weight` is surely kept by weight
    /// windows of ratio `ratio`: there w/ratio < w*(h) < w ratio with a margin of 1e-9 in the
    /// logarithm, far above rounding, so the exact decision is Keep too. It spares the
    /// exponential of w*(h) at the steps where a lane stays inside its window (log_tilt is
    /// nondecreasing: zero in contact, linear, then quadratic beyond the reach). Empty when no
    /// gap qualifies.
    pub fn keep_interval(&self, model: &Model, weight: f64, ratio: f64) -> (f64, f64) {
        const MARGIN: f64 = 1e-9;
        let c = self.band.ln() + self.log_scale;
        let (lo, hi) = (
            weight.ln() - ratio.ln() + MARGIN - c,
            weight.ln() + ratio.ln() - MARGIN - c,
        );
        if !(hi >= 0.0 && lo < hi) {
            return (f64::NAN, f64::NAN);
        }
        let slope = 1.0 + 0.5 * force_decay(&model.potential);
        let d = self.reach;
        // The gap where log_tilt reaches a >= 0.
        let inverse = |a: f64| {
            if a <= slope * d {
                a / slope
            } else {
                d + 4.0 * d * (-slope + (slope * slope + (a - slope * d) / (2.0 * d)).sqrt())
            }
        };
        let low = if lo <= 0.0 {
            f64::NEG_INFINITY
        } else {
            inverse(lo)
        };
        (low, inverse(hi))
    }

    /// Draws member `index` (stratified in its proposal quantile, which lies in
    /// [index/N, (index+1)/N), or for antithetic pairs in [k/(N/2), (k+1)/(N/2)) for the
    /// pair k = index/2), consuming the first three numbers of `rng` (five with the affine
    /// proposal). The second member of an antithetic pair, drawn from the first one's
    /// stream ([`PopulationSpec::stream`]), is its mirror image: c_u -> -c_u. The map is an
    /// involution that leaves the target law of (h0, g_c, c_u) invariant, so the mirror
    /// carries the same weight and every average stays unbiased.
    ///
    /// Gap proposal (`strain_reach` = 0): h0 from the tabulated proposal, g_c and c_u
    /// standard normal. Affine proposal (docs/equations.md, "Sampling"): the affine gap is
    /// h0 + gamma g_c c_u + gamma^2 c_u^2/2 = u + (g_c + gamma c_u)^2/2 with u = h0 - g_c^2/2,
    /// so a pair can touch during the run only if u is within the MSD reach and g_c lies
    /// within the margin a of the sweep -gamma c_u, gamma in [0, gamma_s]. Then u is drawn from
    /// the gap proposal, c_u standard normal, g_c from the mixture
    /// 0.1 N(0, 1) + 0.9 U(band), and h0 = u + g_c^2/2; the weight is
    /// (phi_hat/2) e^{h0} g_in(h0) phi(g_c) / (p(u) q(g_c | c_u)), where e^{h0} phi(g_c) =
    /// e^u / sqrt(2 pi) keeps it finite for any g_c.
    pub fn draw(&self, model: &Model, index: usize, rng: &mut Xoshiro256PlusPlus) -> Member {
        let unit = self.unit();
        let strata = self.size.div_ceil(unit) as f64;
        let q = ((index / unit) as f64 + rng.random::<f64>()) / strata;
        let normal: f64 = rng.sample(StandardNormal);
        let c_unit: f64 = rng.sample(StandardNormal);
        let c_unit = if index % unit == 1 { -c_unit } else { c_unit };
        let cells = PROPOSAL_CELLS;
        let j = (self.cdf.partition_point(|&c| c <= q) - 1).min(cells - 1);
        let mass = self.cdf[j + 1] - self.cdf[j];
        let dh = (self.h0_max - self.h0_min) / cells as f64;
        let frac = if mass > 0.0 {
            (q - self.cdf[j]) / mass
        } else {
            0.5
        };
        let u = self.h0_min + (j as f64 + frac.clamp(0.0, 1.0)) * dh;
        let density = mass / dh;
        let half_phi = 0.5 * model.phi_hat;
        if self.strain_reach <= 0.0 {
            return Member {
                h0: u,
                g_c: normal,
                c_unit,
                weight: half_phi * (u + model.log_g_in(u)).exp() / density,
            };
        }
        let sweep = -self.strain_reach * c_unit;
        let (lo, hi) = (sweep.min(0.0) - self.margin, sweep.max(0.0) + self.margin);
        let pick: f64 = rng.random();
        let spot: f64 = rng.random();
        let g_c = if pick < AFFINE_NORMAL {
            normal
        } else {
            lo + spot * (hi - lo)
        };
        let root_2pi = (2.0 * std::f64::consts::PI).sqrt();
        let in_band = if (lo..=hi).contains(&g_c) {
            (1.0 - AFFINE_NORMAL) / (hi - lo)
        } else {
            0.0
        };
        let q_g = AFFINE_NORMAL * (-0.5 * g_c * g_c).exp() / root_2pi + in_band;
        let h0 = u + 0.5 * g_c * g_c;
        let weight = half_phi * (u + model.log_g_in(h0)).exp() / (root_2pi * density * q_g);
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
    use crate::dynamics::splitting::Decision;
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

    /// Mean of stratified terms and its standard error from the stratum pairs (2i, 2i+1).
    fn stratified_mean_se(terms: &[f64]) -> (f64, f64) {
        let n = terms.len() as f64;
        let pairs: f64 = terms.chunks_exact(2).map(|p| (p[1] - p[0]).powi(2)).sum();
        (terms.iter().sum::<f64>() / n, pairs.sqrt() / n)
    }

    /// Inside the keep interval the weight windows keep the lane, and the interval is as
    /// wide as the window allows: just outside it (beyond the margin) they do not, for
    /// weights whose interval starts in contact, on the linear part and beyond the reach.
    #[test]
    fn keep_interval_is_the_window() {
        let splitting = Splitting {
            ratio: 2.0,
            lanes_per_member: 8,
        };
        for pot in [
            Potential::Harmonic { eps: 1.0 },
            Potential::Exponential {
                eps: 1.0,
                alpha: 3.0,
            },
        ] {
            let m = model(pot);
            let grid = Grid::uniform(0.01, 100);
            let spec =
                PopulationSpec::new(&m, &grid, 2000, 7, None, None, Some(1.5), None, 0, None)
                    .unwrap();
            let mut checked = 0;
            for &h in &[-1.0, 0.3, 1.2, 2.5, 6.0] {
                let weight = spec.target_weight(&m, h);
                let (lo, hi) = spec.keep_interval(&m, weight, splitting.ratio);
                assert!(lo < h && h < hi, "{h}: ({lo}, {hi})");
                let decide = |g: f64| splitting.decide(weight, spec.target_weight(&m, g), 0.5, 9);
                for k in 0..=200 {
                    let g = lo.max(-3.0) + (hi - lo.max(-3.0)) * k as f64 / 200.0;
                    if g > lo && g < hi {
                        assert_eq!(decide(g), Decision::Keep, "{h}: {g}");
                        checked += 1;
                    }
                }
                assert_ne!(decide(hi + 1e-6), Decision::Keep, "{h}: just above {hi}");
                if lo.is_finite() {
                    assert_ne!(decide(lo - 1e-6), Decision::Keep, "{h}: just below {lo}");
                }
            }
            assert!(checked > 900);
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
            let grid = Grid::uniform(0.01, 100);
            let spec =
                PopulationSpec::new(&m, &grid, 20000, 7, None, Some(4.0), None, None, 0, None)
                    .unwrap();
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
            let (est, se) = stratified_mean_se(&terms);
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

    /// The affine proposal integrates the same measure as the gap proposal:
    /// (phi_hat/2) E_{g_c, c_u} int e^{h0} g_in(h0) v'(h_aff)^2 dh0 with h_aff = h0 + gamma g_c
    /// c_u + gamma^2 c_u^2/2, at gamma = 0 (the initial state) and at gamma = 3 (inside the
    /// band swept up to strain_reach = 4), against a quadrature over (c_u, g_c, h0).
    #[test]
    fn affine_proposal_is_unbiased() {
        let pot = Potential::Harmonic { eps: 1.0 };
        let m = model(pot);
        let grid = Grid::uniform(0.01, 100);
        let spec = PopulationSpec::new(
            &m,
            &grid,
            200_000,
            5,
            None,
            None,
            Some(1.0),
            Some(4.0),
            0,
            None,
        )
        .unwrap();
        let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        for gamma in [0.0, 3.0] {
            let f = |mem: &Member| {
                let h = mem.h0 + gamma * mem.g_c * mem.c_unit + 0.5 * (gamma * mem.c_unit).powi(2);
                pot.dv(h).powi(2)
            };
            let terms: Vec<f64> = (0..spec.size)
                .map(|i| {
                    let mem = spec.draw(&m, i, &mut member_rng(spec.seed, i));
                    mem.weight * f(&mem)
                })
                .collect();
            let (est, se) = stratified_mean_se(&terms);
            // Quadrature: for each (c, g) the shift b = gamma g c + gamma^2 c^2/2, and
            // int_{-8}^{-b} e^{h} g_in(h) 4 (h + b)^2 dh; g around the peak -gamma c of
            // e^{-b} phi(g).
            let (kc, kg, kh) = (160, 160, 400);
            let mut exact = 0.0;
            for ic in 0..kc {
                let c = -6.0 + 12.0 * (ic as f64 + 0.5) / kc as f64;
                let mut inner_c = 0.0;
                for ig in 0..kg {
                    let g = -gamma * c - 9.0 + 18.0 * (ig as f64 + 0.5) / kg as f64;
                    let b = gamma * g * c + 0.5 * (gamma * c).powi(2);
                    let top = -b;
                    if top <= -8.0 {
                        continue;
                    }
                    let dh = (top + 8.0) / kh as f64;
                    let inner: f64 = (0..kh)
                        .map(|j| {
                            let h = -8.0 + (j as f64 + 0.5) * dh;
                            (h + m.log_g_in(h)).exp() * pot.dv(h + b).powi(2) * dh
                        })
                        .sum();
                    inner_c += phi(g) * inner * 18.0 / kg as f64;
                }
                exact += phi(c) * inner_c * 12.0 / kc as f64;
            }
            exact *= 0.5 * m.phi_hat;
            eprintln!("gamma = {gamma}: population {est} +- {se}, quadrature {exact}");
            assert!(
                (est - exact).abs() < 4.0 * se,
                "gamma = {gamma}: {est} vs {exact} (se {se})"
            );
            assert!(
                se / exact < 0.05,
                "gamma = {gamma}: relative error {}",
                se / exact
            );
        }
    }

    /// The twins of an antithetic pair share the pair's stream, stratum, h0, g_c and weight
    /// and have opposite c_u; the pairs cover the strata of N/2 in order, so the weighted
    /// population still integrates the target (the mirror map leaves it invariant); the
    /// affine proposal refuses them.
    #[test]
    fn antithetic_twins_mirror_each_other() {
        let m = model(Potential::Harmonic { eps: 1.0 });
        let grid = Grid::uniform(0.01, 100);
        let new = |strain_reach| {
            PopulationSpec::new(&m, &grid, 1000, 9, None, None, None, strain_reach, 0, None)
                .unwrap()
        };
        let spec = new(None).with_antithetic(true).unwrap();
        assert_eq!(spec.unit(), 2);
        let quantile = |h0: f64| {
            let j =
                ((h0 - spec.h0_min) / (spec.h0_max - spec.h0_min) * PROPOSAL_CELLS as f64) as usize;
            spec.cdf[j.min(PROPOSAL_CELLS - 1)]
        };
        let mut last_quantile = 0.0;
        for k in 0..spec.size / 2 {
            assert_eq!(spec.stream(2 * k), 2 * k);
            assert_eq!(spec.stream(2 * k + 1), 2 * k);
            let a = spec.draw(&m, 2 * k, &mut member_rng(9, spec.stream(2 * k)));
            let b = spec.draw(&m, 2 * k + 1, &mut member_rng(9, spec.stream(2 * k + 1)));
            assert_eq!((a.h0, a.g_c, a.weight), (b.h0, b.g_c, b.weight));
            assert_eq!(a.c_unit, -b.c_unit);
            // Stratum k of N/2: the proposal quantile of h0 grows with the pair.
            let q = quantile(a.h0);
            assert!(q >= last_quantile - 1e-9 && q <= (k + 1) as f64 / 500.0 + 1e-9);
            last_quantile = q;
        }
        let plain = new(None);
        assert_eq!((plain.unit(), plain.stream(7)), (1, 7));
        assert!(new(Some(2.0)).with_antithetic(true).is_err());
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
