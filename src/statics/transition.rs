//! The equilibrium glass and the dynamical transition (docs/equations.md.3): the cage equation
//! 1/phi_hat = F1(Delta), its smaller root Delta_eq, phi_hat_d = 1/max F1 for hard spheres
//! and T_d(phi_hat) for soft potentials.

use super::cage::Interaction;
use super::free_energy::{State, StaticModel};
use crate::error::{Error, Result};

/// Golden-section iterations of the maximisation of F1 over log Delta.
const GOLDEN_STEPS: usize = 80;
/// Coarse log-grid of Delta where F1 is scanned first.
const SCAN: (f64, f64, usize) = (1e-4, 20.0, 40);

/// What [`transition`] located.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionKind {
    /// phi_hat_d (hard spheres: temperature plays no role).
    PackingFraction,
    /// T_d at the model's phi_hat (soft potentials).
    Temperature,
}

/// The dynamical transition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// What was solved for.
    pub kind: TransitionKind,
    /// phi_hat_d (or the given phi_hat).
    pub phi_hat: f64,
    /// T_d (or the given temperature; irrelevant for hard spheres).
    pub temperature: f64,
    /// Cage size at the transition, Delta_d = argmax F1.
    pub delta: f64,
    /// lambda_R at the transition (0 in exact arithmetic, docs/equations.md, Statics).
    pub lambda_r: f64,
}

/// The maximum of F1 over Delta at the model's bath temperature: (Delta_d, max F1).
pub fn max_f1(model: &StaticModel) -> (f64, f64) {
    let f = |x: f64| model.f1(x.exp());
    let (lo, hi, n) = (SCAN.0.ln(), SCAN.1.ln(), SCAN.2);
    let step = (hi - lo) / (n - 1) as f64;
    let values: Vec<f64> = (0..n).map(|i| f(lo + step * i as f64)).collect();
    let best = (0..n)
        .max_by(|&i, &j| values[i].total_cmp(&values[j]))
        .expect("non-empty scan");
    let (mut a, mut b) = (
        lo + step * best.saturating_sub(1) as f64,
        lo + step * (best + 1).min(n - 1) as f64,
    );
    let r = 0.5 * (5f64.sqrt() - 1.0);
    let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..GOLDEN_STEPS {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    let x = 0.5 * (a + b);
    (x.exp(), f(x))
}

/// The equilibrium cage size Delta_eq at (phi_hat, beta0): the smaller root of
/// F1(Delta) = 1/phi_hat (docs/equations.md.3). Errors when no glass exists there.
pub fn equilibrium_cage(model: &StaticModel) -> Result<f64> {
    let eq = StaticModel {
        beta: model.beta0,
        ..*model
    };
    let target = 1.0 / model.phi_hat;
    let g = |delta: f64| eq.f1(delta) - target;
    let (delta_d, f_max) = max_f1(&eq);
    if f_max < target {
        return Err(Error::config(
            "model.phi_hat",
            match model.interaction {
                Interaction::HardSphere => format!(
                    "no glass: phi_hat = {} is below the dynamical transition phi_hat_d = {:.6} (raise phi_hat)",
                    model.phi_hat,
                    1.0 / f_max
                ),
                Interaction::Soft(_) => format!(
                    "no glass: phi_hat = {} is below the dynamical transition phi_hat_d = {:.6} at T0 = {} (raise phi_hat or lower T0)",
                    model.phi_hat,
                    1.0 / f_max,
                    1.0 / model.beta0
                ),
            },
        ));
    }
    // Bracket the smaller root below Delta_d.
    let mut lo = delta_d;
    while g(lo) >= 0.0 {
        lo *= 0.5;
        if lo < 1e-14 {
            return Err(Error::Static(format!(
                "cage equation: no root below Delta_d = {delta_d}"
            )));
        }
    }
    let (mut a, mut b) = (lo.ln(), delta_d.ln());
    for _ in 0..100 {
        let m = 0.5 * (a + b);
        if g(m.exp()) < 0.0 {
            a = m;
        } else {
            b = m;
        }
        if b - a < 1e-14 {
            break;
        }
    }
    Ok((0.5 * (a + b)).exp())
}

/// The dynamical transition: phi_hat_d for hard spheres (or a harmonic potential at T = 0);
/// T_d at the model's phi_hat for soft potentials (docs/equations.md.3).
pub fn transition(model: &StaticModel) -> Result<Transition> {
    let lambda_at = |m: &StaticModel, delta: f64, phi: f64| {
        StaticModel {
            phi_hat: phi,
            beta0: m.beta,
            f0: 0.0,
            ..*m
        }
        .evaluate(&State {
            delta,
            a: delta,
            gamma: 0.0,
        })
        .lambda_r
    };
    let athermal = matches!(model.interaction, Interaction::HardSphere) || model.beta.is_infinite();
    if athermal {
        let (delta, f) = max_f1(model);
        let phi = 1.0 / f;
        return Ok(Transition {
            kind: TransitionKind::PackingFraction,
            phi_hat: phi,
            temperature: 1.0 / model.beta,
            delta,
            lambda_r: lambda_at(model, delta, phi),
        });
    }
    let target = 1.0 / model.phi_hat;
    let at = |t: f64| StaticModel {
        beta: 1.0 / t,
        ..*model
    };
    let excess = |t: f64| max_f1(&at(t)).1 - target;
    let (mut lo, mut hi) = (1e-6f64, 1.0f64);
    if excess(lo) < 0.0 {
        let hs = max_f1(&StaticModel {
            interaction: Interaction::HardSphere,
            ..*model
        });
        return Err(Error::config(
            "model.phi_hat",
            format!(
                "no glass at any temperature: phi_hat = {} is below the hard-sphere phi_hat_d = {:.6}",
                model.phi_hat,
                1.0 / hs.1
            ),
        ));
    }
    while excess(hi) > 0.0 {
        lo = hi;
        hi *= 4.0;
        if hi > 1e6 {
            return Err(Error::Static("T_d above 1e6: no transition found".into()));
        }
    }
    let (mut a, mut b) = (lo.ln(), hi.ln());
    while b - a > 1e-12 {
        let m = 0.5 * (a + b);
        if excess(m.exp()) > 0.0 {
            a = m;
        } else {
            b = m;
        }
    }
    let t = (0.5 * (a + b)).exp();
    let m = at(t);
    let (delta, _) = max_f1(&m);
    Ok(Transition {
        kind: TransitionKind::Temperature,
        phi_hat: model.phi_hat,
        temperature: t,
        delta,
        lambda_r: lambda_at(&m, delta, model.phi_hat),
    })
}
