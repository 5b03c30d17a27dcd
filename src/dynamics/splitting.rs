//! Importance splitting of the population by weight windows (docs/equations.md, section
//! "Importance splitting").
//!
//! A member's weight at t = 0 is the target weight w*(h0) of its gap (the initial weights of
//! [`super::sampling`]). As the member moves, its weight is compared with the target weight
//! w*(h(t)) of its *current* gap: a member whose weight exceeds `ratio` times the target is
//! split into k copies of weight w/k (k ~ w/w*, rounded at random), one whose weight is
//! below 1/`ratio` of it plays Russian roulette: it survives with probability w/w* and
//! then carries w*, otherwise it is dropped. Either way the expected total weight of a
//! member's descendants is its own weight, for every future of the member, so every
//! population average stays unbiased.
//!
//! In equilibrium the weighted distribution of the gap is stationary, so with w* fixed the
//! number of members per gap interval stays what it was at t = 0: members that reach contact
//! late in a run are as many as those in contact early, instead of a vanishing fraction.

/// The weight-window rule: how far a weight may stray from its target before the member
/// is split or played Russian roulette.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Splitting {
    /// Window ratio c > 1: split above c w*, roulette below w*/c.
    pub ratio: f64,
    /// Most running lanes (members and their copies) per member of a block: caps memory
    /// and work; splitting is skipped when the cap is reached (still unbiased).
    pub lanes_per_member: usize,
}

/// Most copies made from one member in one step.
pub const MAX_COPIES: usize = 16;

/// What the window does to a member at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Keep the member as it is.
    Keep,
    /// Split into this many copies (>= 2, the member included), each of weight w/k.
    Split(usize),
    /// The member survived the roulette: its weight becomes this value.
    Survive(f64),
    /// The member is dropped: it carries no weight from now on.
    Drop,
}

impl Splitting {
    /// The decision for a member of weight `weight` whose current gap has target weight
    /// `target`, with `u` uniform on [0, 1) and at most `room` new copies allowed.
    pub fn decide(&self, weight: f64, target: f64, u: f64, room: usize) -> Decision {
        if weight <= 0.0 || target.is_nan() || target <= 0.0 {
            return Decision::Keep;
        }
        let r = weight / target;
        if r > self.ratio {
            let k = ((r + u).floor() as usize).min(MAX_COPIES).min(room + 1);
            if k >= 2 {
                Decision::Split(k)
            } else {
                Decision::Keep
            }
        } else if r * self.ratio < 1.0 {
            if u < r {
                Decision::Survive(target)
            } else {
                Decision::Drop
            }
        } else {
            Decision::Keep
        }
    }
}

impl Decision {
    /// The weight after this decision of a lane of weight `own` decided as part of a unit
    /// (an antithetic pair) of weight `unit` ([`unit_weight`]): a survivor's weight is
    /// divided by the unit's survival probability, a split lane's by the number of copies,
    /// so that each lane's expected weight is its own.
    pub fn weight_of(self, unit: f64, own: f64) -> f64 {
        match self {
            Decision::Keep => own,
            Decision::Split(k) => own / k as f64,
            Decision::Survive(w) if own == unit => w,
            Decision::Survive(w) => own * (w / unit),
            Decision::Drop => 0.0,
        }
    }
}

/// The weight on which weight windows decide a unit of lanes that move together (the twins
/// of an antithetic pair, docs/equations.md "Antithetic pairs"): the arithmetic mean of
/// their weights, which is their weight when they are equal. After a decision on it neither
/// twin carries more than 2 max(ratio, 2) times the target (unless the copies are capped),
/// whatever the spread of their weights; a geometric mean would let a light twin send a heavy
/// one through the roulette and multiply its weight by up to the ratio of the two.
pub fn unit_weight(weights: impl IntoIterator<Item = f64>) -> f64 {
    let mut weights = weights.into_iter();
    let first = weights.next().unwrap_or(0.0);
    let (mut sum, mut count, mut equal) = (first, 1.0, true);
    for w in weights {
        sum += w;
        count += 1.0;
        equal &= w == first;
    }
    if equal {
        first
    } else {
        sum / count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected total weight after a decision equals the weight before, for weights
    /// below, inside and above the window (exact average over a fine grid of u).
    #[test]
    fn decisions_conserve_weight_on_average() {
        let s = Splitting {
            ratio: 2.0,
            lanes_per_member: 8,
        };
        let m = 100_000;
        for &(w, target) in &[(0.1, 1.0), (0.45, 1.0), (1.3, 1.0), (3.7, 1.0), (40.0, 1.0)] {
            let mut total = 0.0;
            for j in 0..m {
                let u = (j as f64 + 0.5) / m as f64;
                total += match s.decide(w, target, u, 100) {
                    Decision::Keep => w,
                    Decision::Split(k) => k as f64 * (w / k as f64),
                    Decision::Survive(x) => x,
                    Decision::Drop => 0.0,
                };
            }
            let mean = total / m as f64;
            assert!((mean - w).abs() < 1e-4 * w, "w = {w}: mean {mean}");
        }
        // Splitting and roulette happen only outside the window.
        assert_eq!(s.decide(1.9, 1.0, 0.99, 100), Decision::Keep);
        assert_eq!(s.decide(0.51, 1.0, 0.99, 100), Decision::Keep);
        assert_eq!(s.decide(3.7, 1.0, 0.5, 100), Decision::Split(4));
        assert_eq!(s.decide(3.7, 1.0, 0.5, 1), Decision::Split(2));
        assert_eq!(s.decide(3.7, 1.0, 0.5, 0), Decision::Keep);
        assert_eq!(s.decide(0.1, 1.0, 0.05, 0), Decision::Survive(1.0));
        assert_eq!(s.decide(0.1, 1.0, 0.5, 0), Decision::Drop);
    }

    /// Twins of unequal weights decided on their unit weight: each twin keeps its expected
    /// weight, and no twin comes out of a decision heavier than 2 max(ratio, 2) x target =
    /// 4 x target here (the geometric mean gave 73 x 40/0.85 = 3400 for the first pair).
    #[test]
    fn twins_of_unequal_weight_keep_their_weights_and_stay_bounded() {
        let s = Splitting {
            ratio: 2.0,
            lanes_per_member: 8,
        };
        let m = 100_000;
        for &(pair, target) in &[
            ([73.0, 0.01], 40.0),
            ([73.0, 0.01], 5.0),
            ([0.3, 0.0], 1.0),
            ([1.0, 1.0], 0.1),
            ([2.5, 0.6], 1.0),
        ] {
            let unit = unit_weight(pair);
            let mut total = [0.0; 2];
            for j in 0..m {
                let u = (j as f64 + 0.5) / m as f64;
                let decision = s.decide(unit, target, u, 100);
                let lanes = match decision {
                    Decision::Split(k) => k as f64,
                    _ => 1.0,
                };
                for (t, &own) in total.iter_mut().zip(&pair) {
                    let after = decision.weight_of(unit, own);
                    assert!(
                        after <= 2.0 * s.ratio * target,
                        "{pair:?}, target {target}: {decision:?} gives {after}"
                    );
                    *t += lanes * after;
                }
            }
            for (t, &own) in total.iter().zip(&pair) {
                let mean = t / m as f64;
                assert!(
                    (mean - own).abs() <= 1e-4 * own,
                    "{pair:?}: {mean} for {own}"
                );
            }
        }
        assert_eq!(unit_weight([0.7, 0.7]), 0.7);
        assert_eq!(unit_weight([0.7]), 0.7);
    }
}
