//! Population passes with fixed input kernels: not self-consistent, every population sees
//! the same ones, so two ways of sampling the same averages can be compared seed by seed.

use dmfe::dynamics::particle::solve_particle;
use dmfe::dynamics::population::{average, Averages, PassControl};
use dmfe::dynamics::Kernels;
use dmfe::linalg::cholesky_regularised;

/// Fixed input kernels.
#[derive(Clone, Copy)]
pub enum Inputs {
    /// kappa = 0.6 exceeds int M_R = 0.15: the particle is caged, members stay near contact
    /// and the plain population is reliable, so it checks the others.
    Cage,
    /// kappa = beta M_C(0), M_C = 0.3 e^{-2 tau} and M_R = -beta dM_C/dtau obey the equilibrium
    /// identities and kappa = int M_R leaves the particle diffusing: members drift away from
    /// contact as in a liquid, where splitting is needed.
    Liquid,
}

/// The kernels on a grid of step `dt`; M_R's diagonal is the part of the response inside
/// the step onto t_k in the discrete scheme (half the limit M_R(t, t^-), docs/equations.md
/// (N4)).
pub fn kernels(inputs: Inputs, n: usize, dt: f64) -> Kernels {
    let (c0, c_rate, r0, r_rate) = match inputs {
        Inputs::Cage => (0.3, 1.0, 0.3, 2.0),
        Inputs::Liquid => (0.3, 2.0, 1.2, 2.0),
    };
    let mut k = Kernels::zeros(n);
    for i in 0..n {
        k.kappa[i] = 0.6;
        for j in 0..n {
            let lag = i.abs_diff(j) as f64 * dt;
            k.m_c[[i, j]] = c0 * (-c_rate * lag).exp();
            if j < i {
                k.m_r[[i, j]] = r0 * (-r_rate * lag).exp();
            } else if j == i {
                k.m_r[[i, j]] = 0.5 * r0;
            }
        }
    }
    k
}

/// One population pass of the `dmfe run` config `toml_text` on its whole grid with the
/// fixed `inputs` (and the particle's Delta_r at them).
pub fn pass(toml_text: &str, inputs: Inputs) -> Averages {
    let (problem, _) = super::problem(toml_text);
    let n = problem.grid.len();
    let k = kernels(inputs, n, problem.grid.dt);
    let particle = solve_particle(&problem.model, &problem.grid, &k, n);
    let (chol, _) = cholesky_regularised(k.m_c.view()).expect("a covariance");
    average(
        &problem,
        &k,
        particle.delta_r.as_slice().unwrap(),
        chol.view(),
        n,
        0,
        PassControl::alone(),
    )
    .unwrap()
}

/// One pass's statistics that the sampling comparisons look at, on a grid of `steps` steps:
/// the energy early, midway and late, kappa late, M_C on and off the diagonal, M_R at a short
/// and a long lag, and the stress late.
pub fn statistics(a: &Averages, steps: usize) -> Vec<(&'static str, f64)> {
    let (late, mid, early) = (steps, steps / 2, steps / 8);
    let k = &a.kernels;
    vec![
        ("e(early)", a.energy.mean[early]),
        ("e(mid)", a.energy.mean[mid]),
        ("e(late)", a.energy.mean[late]),
        ("kappa(late)", k.kappa[late]),
        ("M_C(mid, mid)", k.m_c[[mid, mid]]),
        ("M_C(late, late)", k.m_c[[late, late]]),
        ("M_C(late, mid)", k.m_c[[late, mid]]),
        ("M_R(late, late - 1)", k.m_r[[late, late - 1]]),
        ("M_R(late, mid)", k.m_r[[late, mid]]),
        ("stress(late)", a.stress.mean[late]),
    ]
}

/// Each of the [`statistics`]' mean and standard error over the seeds of two ways of
/// sampling, `first` and `second` (one pass per seed).
pub fn compare(
    first: &[Averages],
    second: &[Averages],
    steps: usize,
) -> Vec<(&'static str, [(f64, f64); 2])> {
    let column = |set: &[Averages], i: usize| -> (f64, f64) {
        super::mean_se(
            &set.iter()
                .map(|a| statistics(a, steps)[i].1)
                .collect::<Vec<_>>(),
        )
    };
    statistics(&first[0], steps)
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (*name, [column(first, i), column(second, i)]))
        .collect()
}
