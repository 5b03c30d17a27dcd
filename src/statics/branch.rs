//! Following the glass in strain: the stationary point of G (paper Eq. (33)) from gamma = 0
//! to the fold gamma_Y, parametrised by A where continuation in gamma fails (docs/equations.md, Statics).

use super::free_energy::{Evaluation, State, StaticModel};
use super::transition::equilibrium_cage;
use crate::error::{Error, Result};

/// Newton tolerance on Delta * max|dG/dDelta|, |dG/dA| (dimensionless).
const NEWTON_TOL: f64 = 1e-11;
/// Newton iterations allowed per solve.
const NEWTON_MAX: usize = 60;
/// The branch stops as shear-jammed when Delta falls below this fraction of Delta_eq.
const JAMMING_FRACTION: f64 = 1e-3;

/// Numerical settings of a branch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BranchSpec {
    /// Largest strain step between stored points (default: 0.01 sqrt(Delta_eq / F)).
    pub dgamma: Option<f64>,
    /// Stop at this strain even before the fold.
    pub gamma_max: Option<f64>,
    /// Largest number of points.
    pub max_points: usize,
}

impl Default for BranchSpec {
    fn default() -> Self {
        BranchSpec {
            dgamma: None,
            gamma_max: None,
            max_points: 5000,
        }
    }
}

/// One stationary point of the branch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BranchPoint {
    /// (Delta, A, gamma).
    pub state: State,
    /// G, conditions, stress and lambda_R there.
    pub eval: Evaluation,
}

/// The values a physicist reads first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Equilibrium cage size Delta_eq at (phi_hat, T0).
    pub delta_eq: f64,
    /// Shear modulus mu_hat = d sigma_hat / d gamma at gamma = 0 (PUZ 10.18).
    pub mu: f64,
    /// Stress overshoot: the largest stress on the branch.
    pub sigma_max: f64,
    /// Strain of the overshoot.
    pub gamma_sigma_max: f64,
    /// Gardner strain where lambda_R first vanishes (None if RS stays stable).
    pub gamma_g: Option<f64>,
    /// Yield (spinodal) strain of the fold (None if the branch stopped before it).
    pub gamma_y: Option<f64>,
    /// Shear-jamming strain: where the cage closed, Delta < 1e-3 Delta_eq (dense hard
    /// spheres jam under shear instead of yielding; None if the cage did not close).
    pub gamma_j: Option<f64>,
}

/// A stress-strain branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// Points in order of increasing A; the last is the fold when one was found.
    pub points: Vec<BranchPoint>,
    /// Summary values.
    pub summary: Summary,
}

/// Which pair of unknowns Newton solves for.
#[derive(Debug, Clone, Copy)]
enum Fixed {
    /// Unknowns (Delta, A) at fixed strain.
    Gamma(f64),
    /// Unknowns (Delta, gamma^2) at fixed A: regular through the fold.
    A(f64),
}

impl Fixed {
    fn state(self, x: [f64; 2]) -> State {
        match self {
            Fixed::Gamma(gamma) => State {
                delta: x[0],
                a: x[1],
                gamma,
            },
            Fixed::A(a) => State {
                delta: x[0],
                a,
                gamma: x[1].max(0.0).sqrt(),
            },
        }
    }

    fn column(self) -> usize {
        match self {
            Fixed::Gamma(_) => 1,
            Fixed::A(_) => 2,
        }
    }
}

fn residual(x: [f64; 2], e: &Evaluation) -> f64 {
    x[0] * e.e[0].abs().max(e.e[1].abs())
}

/// Newton's method with backtracking on the 2x2 system of Eq. (33).
fn newton(
    model: &StaticModel,
    fixed: Fixed,
    mut x: [f64; 2],
) -> std::result::Result<BranchPoint, String> {
    let mut e = model.evaluate(&fixed.state(x));
    let mut r = residual(x, &e);
    for _ in 0..NEWTON_MAX {
        if r < NEWTON_TOL {
            return Ok(BranchPoint {
                state: fixed.state(x),
                eval: e,
            });
        }
        let c = fixed.column();
        let (a, b, cc, d) = (e.jac[0][0], e.jac[0][c], e.jac[1][0], e.jac[1][c]);
        let det = a * d - b * cc;
        if det == 0.0 || !det.is_finite() {
            return Err(format!("singular Jacobian at {:?}", fixed.state(x)));
        }
        let dx = [
            -(d * e.e[0] - b * e.e[1]) / det,
            -(-cc * e.e[0] + a * e.e[1]) / det,
        ];
        let mut lambda = 1.0;
        loop {
            let mut y = [x[0] + lambda * dx[0], x[1] + lambda * dx[1]];
            if let Fixed::A(_) = fixed {
                y[1] = y[1].max(0.0);
            }
            if y[0] > 0.0 && y[1] >= 0.0 {
                let ey = model.evaluate(&fixed.state(y));
                let ry = residual(y, &ey);
                if ry.is_finite() && (ry < r || lambda < 1e-3) {
                    x = y;
                    e = ey;
                    r = ry;
                    break;
                }
            }
            lambda *= 0.5;
            if lambda < 1e-4 {
                return Err(format!(
                    "no descent from {:?} (residual {r:.2e})",
                    fixed.state(x)
                ));
            }
        }
    }
    Err(format!(
        "Newton did not converge at {:?} (residual {r:.2e})",
        fixed.state(x)
    ))
}

/// The stationary point at fixed strain `gamma`, from the guess (Delta, A).
pub fn solve_at_gamma(model: &StaticModel, gamma: f64, guess: (f64, f64)) -> Result<BranchPoint> {
    newton(model, Fixed::Gamma(gamma), [guess.0, guess.1]).map_err(Error::Static)
}

/// The stationary point at fixed A, from the guess (Delta, gamma^2).
pub fn solve_at_a(model: &StaticModel, a: f64, guess: (f64, f64)) -> Result<BranchPoint> {
    newton(model, Fixed::A(a), [guess.0, guess.1]).map_err(Error::Static)
}

/// The glass at gamma = 0 and the bath (T, f0): the equilibrium glass itself when T = T0
/// and f0 = 0, otherwise reached by continuation in (T, f0) from it.
fn unstrained(model: &StaticModel, delta_eq: f64) -> Result<BranchPoint> {
    let temp = |beta: f64| 1.0 / beta;
    let (t0, t1) = (temp(model.beta0), temp(model.beta));
    let at = |s: f64| StaticModel {
        beta: 1.0 / (t0 + s * (t1 - t0)),
        f0: s * model.f0,
        ..*model
    };
    let mut point = solve_at_gamma(&at(0.0), 0.0, (delta_eq, delta_eq))?;
    let (mut s, mut ds) = (0.0f64, 0.25f64);
    while s < 1.0 {
        let next = (s + ds).min(1.0);
        let guess = (point.state.delta, point.state.a);
        match solve_at_gamma(&at(next), 0.0, guess) {
            Ok(p) => {
                point = p;
                s = next;
            }
            Err(e) => {
                ds *= 0.5;
                if ds < 1e-3 {
                    return Err(Error::Static(format!(
                        "no glass at the bath temperature/forces: continuation from T0 failed at T = {}, f0 = {} ({e})",
                        temp(at(next).beta),
                        at(next).f0
                    )));
                }
            }
        }
    }
    Ok(point)
}

/// Follows the glass of `model` from gamma = 0 through the stress overshoot to the fold.
pub fn solve_branch(model: &StaticModel, spec: &BranchSpec) -> Result<Branch> {
    let delta_eq = equilibrium_cage(model)?;
    let start = unstrained(model, delta_eq)?;
    let guess0 = (start.state.delta, start.state.a);
    let sqrt_f = model.variance.sqrt();
    let dgamma = spec
        .dgamma
        .unwrap_or(0.01 * (start.state.delta / model.variance).sqrt());

    // Shear modulus: sigma is odd in gamma, so Richardson on sigma/gamma removes O(gamma^2).
    let gs = 1e-3 * start.state.delta.sqrt() / sqrt_f;
    let slope = |g: f64| -> Result<f64> { Ok(solve_at_gamma(model, g, guess0)?.eval.sigma / g) };
    let mu = (4.0 * slope(0.5 * gs)? - slope(gs)?) / 3.0;

    let mut points = vec![start, solve_at_gamma(model, dgamma, guess0)?];
    let g2 = |p: &BranchPoint| p.state.gamma * p.state.gamma;
    let mut da = points[1].state.a - points[0].state.a;
    let mut fold = false;
    let mut jammed = false;
    while points.len() < spec.max_points {
        let (p0, p1) = (&points[points.len() - 2], &points[points.len() - 1]);
        let span = p1.state.a - p0.state.a;
        let slope_delta = (p1.state.delta - p0.state.delta) / span;
        let slope_g2 = (g2(p1) - g2(p0)) / span;
        // Aim at a strain step dgamma: d(gamma^2) = 2 gamma dgamma.
        let want = if slope_g2 > 0.0 {
            2.0 * p1.state.gamma * dgamma / slope_g2
        } else {
            da
        };
        da = want.clamp(0.25 * da, 2.0 * da);
        let base = *p1;
        let mut next = None;
        for _ in 0..12 {
            let a = base.state.a + da;
            let guess = (
                base.state.delta + slope_delta * da,
                (g2(&base) + slope_g2 * da).max(0.0),
            );
            match solve_at_a(model, a, guess) {
                Ok(p) => {
                    next = Some(p);
                    break;
                }
                Err(_) => da *= 0.5,
            }
        }
        let Some(p) = next else {
            break;
        };
        if g2(&p) < g2(&base) {
            let lo = points[points.len() - 2];
            points.push(maximise(model, &lo, &p, &base, |q| g2(q))?);
            points.remove(points.len() - 2);
            fold = true;
            break;
        }
        points.push(p);
        if p.state.delta < JAMMING_FRACTION * delta_eq {
            jammed = true;
            break;
        }
        if spec.gamma_max.is_some_and(|gm| p.state.gamma >= gm) {
            break;
        }
    }

    // The stress maximum and the Gardner point, located on the branch between its points
    // (by golden section, resp. false position, in A), so they do not depend on the step.
    let imax = (0..points.len())
        .max_by(|&i, &j| points[i].eval.sigma.total_cmp(&points[j].eval.sigma))
        .expect("at least two points");
    let peak = if imax == 0 {
        points[0]
    } else {
        let hi = points[(imax + 1).min(points.len() - 1)];
        maximise(model, &points[imax - 1], &hi, &points[imax], |p| {
            p.eval.sigma
        })?
    };
    let gamma_g = if start.eval.lambda_r <= 0.0 {
        Some(0.0)
    } else {
        match points
            .windows(2)
            .find(|w| w[0].eval.lambda_r > 0.0 && w[1].eval.lambda_r <= 0.0)
        {
            Some(w) => Some(gardner(model, &w[0], &w[1])?),
            None => None,
        }
    };
    let summary = Summary {
        delta_eq,
        mu,
        sigma_max: peak.eval.sigma,
        gamma_sigma_max: peak.state.gamma,
        gamma_g,
        gamma_y: fold.then(|| points[points.len() - 1].state.gamma),
        gamma_j: jammed.then(|| points[points.len() - 1].state.gamma),
    };
    Ok(Branch { points, summary })
}

/// The point of the branch between `lo` and `hi` (in A) where `key` is largest, by golden
/// section in A to a relative width of 1e-10, each point solved at fixed A from its
/// neighbour; `near` is a point of the bracket (kept if nothing beats it). With
/// key = gamma^2 this is the fold gamma_Y, with key = sigma the stress maximum.
fn maximise(
    model: &StaticModel,
    lo: &BranchPoint,
    hi: &BranchPoint,
    near: &BranchPoint,
    key: impl Fn(&BranchPoint) -> f64,
) -> Result<BranchPoint> {
    let g2 = |p: &BranchPoint| p.state.gamma * p.state.gamma;
    let solve = |x: f64, near: &BranchPoint| solve_at_a(model, x, (near.state.delta, g2(near)));
    let (mut lo, mut hi) = (lo.state.a, hi.state.a);
    let mut best = *near;
    let r = 0.5 * (5f64.sqrt() - 1.0);
    let (mut x1, mut x2) = (hi - r * (hi - lo), lo + r * (hi - lo));
    let (mut p1, mut p2) = (solve(x1, near)?, solve(x2, near)?);
    for _ in 0..80 {
        if key(&p1) > key(&p2) {
            hi = x2;
            x2 = x1;
            p2 = p1;
            x1 = hi - r * (hi - lo);
            p1 = solve(x1, &p2)?;
        } else {
            lo = x1;
            x1 = x2;
            p1 = p2;
            x2 = lo + r * (hi - lo);
            p2 = solve(x2, &p1)?;
        }
        if hi - lo < 1e-10 * hi {
            break;
        }
    }
    for p in [p1, p2] {
        if key(&p) > key(&best) {
            best = p;
        }
    }
    Ok(best)
}

/// The Gardner strain between `a` (lambda_R > 0) and `b` (lambda_R <= 0): the root of
/// lambda_R(A) on the branch by false position (Illinois), to 1e-12 in A.
fn gardner(model: &StaticModel, a: &BranchPoint, b: &BranchPoint) -> Result<f64> {
    let g2 = |p: &BranchPoint| p.state.gamma * p.state.gamma;
    let (mut lo, mut hi) = (*a, *b);
    let (mut f_lo, mut f_hi) = (lo.eval.lambda_r, hi.eval.lambda_r);
    let mut side = 0i32;
    let mut root = lo;
    for _ in 0..100 {
        let x = (lo.state.a * f_hi - hi.state.a * f_lo) / (f_hi - f_lo);
        let p = solve_at_a(model, x, (lo.state.delta, g2(&lo)))?;
        root = p;
        let f = p.eval.lambda_r;
        if f == 0.0 || (hi.state.a - lo.state.a).abs() < 1e-12 * hi.state.a {
            break;
        }
        if f > 0.0 {
            lo = p;
            f_lo = f;
            if side == 1 {
                f_hi *= 0.5;
            }
            side = 1;
        } else {
            hi = p;
            f_hi = f;
            if side == -1 {
                f_lo *= 0.5;
            }
            side = -1;
        }
    }
    Ok(root.state.gamma)
}
