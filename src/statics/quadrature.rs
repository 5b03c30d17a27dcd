//! Quadrature rules of the static solver: the uniform gap grid for the h integrals, the
//! strain-disorder average over z (paper Eqs. (31)-(32)) and Gauss-Legendre panels for
//! potentials without a closed-form q.
//!
//! All integrands of docs/equations.md are analytic and decay like Gaussians, so the trapezoidal rule on
//! a uniform grid converges exponentially in the spacing (faster than Simpson's rule, which
//! the spec suggests); `tests/statics.rs` checks the convergence.

/// Nodes and weights of a one-dimensional quadrature rule.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// Abscissae.
    pub nodes: Vec<f64>,
    /// Weights.
    pub weights: Vec<f64>,
}

/// Points per standard deviation of the narrowest Gaussian in the h integrals.
pub const H_POINTS_PER_SIGMA: f64 = 6.0;

/// Half-widths (in standard deviations) kept around each Gaussian: e^{-9.5^2/2} ~ 2e-20.
pub const H_SIGMAS: f64 = 9.5;

/// Uniform trapezoidal grid on [lo, hi] with spacing at most `spacing`.
pub fn uniform(lo: f64, hi: f64, spacing: f64) -> Rule {
    let n = (((hi - lo) / spacing).ceil() as usize).max(2);
    let dh = (hi - lo) / n as f64;
    let nodes: Vec<f64> = (0..=n).map(|i| lo + dh * i as f64).collect();
    let mut weights = vec![dh; n + 1];
    weights[0] *= 0.5;
    weights[n] *= 0.5;
    Rule { nodes, weights }
}

/// Rule for the average over z ~ N(0, 1) of a function of `a + g2 z^2` (the strain
/// disorder of paper Eq. (31)), folded onto z >= 0.
///
/// With z = c sinh(u), c = sqrt(a / g2), the integrand varies on a scale of order one in u
/// whatever the ratio g2 / a, and the trapezoidal rule in u converges exponentially. Nodes
/// are z^2 values; g2 = 0 gives the single node z = 0.
pub fn strain_disorder(a: f64, g2: f64) -> Rule {
    if g2 <= 0.0 {
        return Rule {
            nodes: vec![0.0],
            weights: vec![1.0],
        };
    }
    const Z_MAX: f64 = 9.0;
    let c = (a / g2).sqrt();
    let u_max = (Z_MAX / c).asinh();
    let du = (0.4 / c).min(0.15);
    let n = ((u_max / du).ceil() as usize).max(8);
    let du = u_max / n as f64;
    let norm = (2.0 / std::f64::consts::PI).sqrt(); // 2 phi(z) on z >= 0
    let mut rule = Rule::default();
    for j in 0..=n {
        let u = du * j as f64;
        let z = c * u.sinh();
        let half = if j == 0 || j == n { 0.5 } else { 1.0 };
        rule.nodes.push(z * z);
        rule.weights
            .push(half * du * norm * (-0.5 * z * z).exp() * c * u.cosh());
    }
    rule
}

/// Gauss-Legendre rule with `n` nodes on [-1, 1] (Newton iteration on P_n).
pub fn gauss_legendre(n: usize) -> Rule {
    let mut rule = Rule {
        nodes: vec![0.0; n],
        weights: vec![0.0; n],
    };
    for i in 0..n.div_ceil(2) {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        let w = 2.0 / ((1.0 - x * x) * dp * dp);
        rule.nodes[i] = -x;
        rule.nodes[n - 1 - i] = x;
        rule.weights[i] = w;
        rule.weights[n - 1 - i] = w;
    }
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_integrates_polynomials_exactly() {
        let r = gauss_legendre(10);
        for k in 0..20 {
            let exact = if k % 2 == 0 {
                2.0 / (k + 1) as f64
            } else {
                0.0
            };
            let got: f64 = r
                .nodes
                .iter()
                .zip(&r.weights)
                .map(|(x, w)| w * x.powi(k))
                .sum();
            assert!((got - exact).abs() < 1e-14, "x^{k}: {got} vs {exact}");
        }
    }

    #[test]
    fn strain_disorder_rule_has_gaussian_moments() {
        // E[1] = 1, E[z^2] = 1, E[z^4] = 3, and E[exp(-s z^2)] = 1/sqrt(1 + 2 s), for any
        // ratio g2 / a.
        for &(a, g2) in &[(1.0, 1e-6), (0.1, 0.1), (1e-3, 1.0), (1e-4, 10.0)] {
            let r = strain_disorder(a, g2);
            let m = |f: &dyn Fn(f64) -> f64| -> f64 {
                r.nodes.iter().zip(&r.weights).map(|(s, w)| w * f(*s)).sum()
            };
            assert!((m(&|_| 1.0) - 1.0).abs() < 1e-12, "{a} {g2}");
            assert!((m(&|s| s) - 1.0).abs() < 1e-12);
            // The fourth moment weights the tail hardest: measured error 2e-11 (the physics
            // integrands grow at most like z^2).
            assert!((m(&|s| s * s) - 3.0).abs() < 5e-11, "{a} {g2}");
            let k = g2 / a;
            let want = 1.0 / (1.0 + 2.0 * k).sqrt();
            assert!((m(&|s| (-k * s).exp()) - want).abs() < 1e-12, "{a} {g2}");
        }
    }
}
