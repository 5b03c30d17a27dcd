//! The layout of the file written by `dmfe run` (documented in README.md, "Output file").

use std::path::{Path, PathBuf};

use ndarray::{Array1, ArrayView1};

use super::provenance::{create_output, Provenance};
use super::H5Writer;
use crate::config::RunConfig;
use crate::dynamics::{Model, Problem, Solution, TIME_BLOCK};
use crate::error::Result;

/// Writes the solution of `problem` (configured by `config`) to `path` (temporary name,
/// renamed when complete).
pub fn write_run(
    path: &Path,
    config: &RunConfig,
    problem: &Problem,
    solution: &Solution,
    provenance: &Provenance,
) -> Result<PathBuf> {
    let w = create_output(
        path,
        "dynamics",
        &config.to_toml(),
        "Population solution of the dynamical mean-field equations (dmfe run); docs/equations.md",
    )?;
    let grid = problem.grid;
    let model = &problem.model;
    let n = grid.len();
    let t = Array1::from_shape_fn(n, |i| grid.time(i));
    let time = "t";
    let (tt, ts) = (["t", "t_prime"], ["t", "s"]);

    // Root-level dimension scales: the shared coordinates of every dataset below.
    for (name, what) in [
        ("t", "time t of one-time and two-time functions"),
        ("t_prime", "second time t' of two-time correlations"),
        ("s", "earlier time s of responses, s < t"),
    ] {
        w.dimension_scale(name, t.view(), "zeta_hat/eps", what)?;
    }
    let samples = Array1::from_iter(
        problem
            .population
            .sample_indices()
            .iter()
            .map(|&i| i as f64),
    );
    w.dimension_scale(
        "sample",
        samples.view(),
        "1",
        "population index of each sampled member",
    )?;
    let iterations = Array1::from_iter((1..=solution.history.len()).map(|i| i as f64));
    w.dimension_scale("iteration", iterations.view(), "1", "iteration number")?;
    let blocks = Array1::from_iter((0..n.div_ceil(TIME_BLOCK)).map(|a| grid.time(a * TIME_BLOCK)));
    for name in ["block", "block_prime"] {
        w.dimension_scale(
            name,
            blocks.view(),
            "zeta_hat/eps",
            "first time of each time block of the observables' block covariances",
        )?;
    }
    w.write_1d(
        "grid/t",
        t.view(),
        time,
        "zeta_hat/eps",
        "time grid t_i = i dt",
    )?;
    let gamma = t.mapv(|x| model.gamma(x));
    let gamma_eff = t.mapv(|x| model.gamma_eff(x));
    w.write_1d(
        "grid/gamma",
        gamma.view(),
        time,
        "1",
        "accumulated strain gamma(t)",
    )?;
    w.write_1d(
        "grid/gamma_eff",
        gamma_eff.view(),
        time,
        "1",
        "effective shear strain gamma(t) sqrt(F), paper Eq. (22)",
    )?;
    w.attr_f64("grid", "dt", grid.dt)?;
    w.attr_u64("grid", "steps", grid.steps as u64)?;

    let p = &solution.particle;
    let av = &solution.averages;
    let k = &solution.kernels;
    let one = |name: &str, d: ArrayView1<f64>, units: &str, desc: &str| {
        w.write_1d(name, d, time, units, desc)
    };
    one(
        "observables/delta_r",
        p.delta_r.view(),
        "l^2/d",
        "MSD Delta_r(t) = C(t,t), docs/equations.md (P1)",
    )?;
    one(
        "observables/delta_r_se",
        solution.particle_se.delta_r.view(),
        "l^2/d",
        "standard error of Delta_r(t): jackknife over 8 batches of the population at the \
         converged kernels (NaN below 64 members)",
    )?;
    let observables = [
        (
            "stress",
            &av.stress,
            "stress sigma(t)/(d rho) = (phi_hat/2) E[(g_c c + gamma c^2) v'(h)], the work \
             conjugate of the strain (docs/equations.md, Eq. (O1)); times beta: sigma_hat of \
             dmfe static",
        ),
        (
            "stress_convected",
            &av.stress_convected,
            "convected stress of paper Eq. (24), (phi_hat/2) E[g_c c v'(h)] \
             = stress + gamma pressure_c (docs/equations.md, Eq. (O2)); not the stress",
        ),
        (
            "pressure",
            &av.pressure,
            "interaction pressure P(t)/(d rho) = -(phi_hat/2) E[v'(h)]; times beta: the \
             reduced pressure p/d (docs/equations.md, Eq. (O3))",
        ),
        (
            "pressure_c",
            &av.pressure_c,
            "pressure along the driving direction P_c(t)/(d rho) = -(phi_hat/2) E[c^2 v'(h)] \
             (docs/equations.md, Eq. (O3))",
        ),
        (
            "energy",
            &av.energy,
            "interaction energy per particle over d, e(t) = (phi_hat/2) E[v(h)]",
        ),
    ];
    for (name, est, desc) in observables {
        one(&format!("observables/{name}"), est.mean.view(), "eps", desc)?;
        one(
            &format!("observables/{name}_se"),
            est.se.view(),
            "eps",
            &format!("standard error of observables/{name}"),
        )?;
        w.write_2d(
            &format!("observables/{name}_block_cov"),
            est.block_cov.view(),
            ["block", "block_prime"],
            "eps^2",
            &format!(
                "covariance of the sums of observables/{name} over the time blocks of                  {TIME_BLOCK} points (stratum pairs): the error of any average over whole blocks"
            ),
        )?;
    }
    one(
        "kernels/kappa",
        k.kappa.view(),
        "eps",
        "kappa(t) = (phi_hat/2) E[v''(h) + v'(h)], paper Eq. (19)",
    )?;
    one(
        "kernels/kappa_se",
        av.kappa_se.view(),
        "eps",
        "standard error of kappa(t) (last population pass)",
    )?;
    one(
        "kernels/m_c_diag_se",
        av.m_c_diag_se.view(),
        "eps^2",
        "standard error of the diagonal M_C(t,t) (last population pass)",
    )?;
    one(
        "kernels/m_c_diag_heaviest",
        av.m_c_diag_heaviest.view(),
        "1",
        "share of M_C(t,t) carried by the heaviest member family (a member and its copies; \
         last population pass): about one over the families in contact when the weights are \
         light-tailed",
    )?;
    one(
        "kernels/m_c_diag_families",
        av.m_c_diag_families.view(),
        "1",
        "number of member families contributing to M_C(t,t) (in contact at t; last \
         population pass)",
    )?;
    w.write_2d(
        "kernels/m_c",
        k.m_c.view(),
        tt,
        "eps^2",
        "M_C(t,t') = (phi_hat/2) E[v'(h(t)) v'(h(t'))], paper Eq. (19)",
    )?;
    w.write_2d(
        "kernels/m_r",
        k.m_r.view(),
        ts,
        "eps^2/zeta_hat",
        "M_R(t,s) = (phi_hat/2) E[v''(h(t)) chi(t,s)] for s < t (zero for s >= t), docs/equations.md (K1)-(K3)",
    )?;
    w.write_2d(
        "correlations/c",
        p.c.view(),
        tt,
        "l^2/d",
        "C(t,t') = <x(t) x(t')>, docs/equations.md (P1)",
    )?;
    w.write_2d(
        "correlations/r",
        p.r.view(),
        ts,
        "1/zeta_hat",
        "R(t,s) = delta<x(t)>/delta f(s) per unit time, s < t, docs/equations.md (P1)",
    )?;
    w.write_2d(
        "correlations/c_se",
        solution.particle_se.c.view(),
        tt,
        "l^2/d",
        "standard error of C(t,t') (jackknife, as observables/delta_r_se)",
    )?;
    w.write_2d(
        "correlations/r_se",
        solution.particle_se.r.view(),
        ts,
        "1/zeta_hat",
        "standard error of R(t,s) (jackknife, as observables/delta_r_se)",
    )?;
    w.write_2d(
        "correlations/delta",
        solution.delta().view(),
        tt,
        "l^2/d",
        "two-time MSD Delta(t,t') = C(t,t) + C(t',t') - 2 C(t,t')",
    )?;
    w.write_2d(
        "samples/h",
        av.samples.view(),
        ["t", "sample"],
        "l/d",
        "gap trajectories h(t) of a few population members (evenly spread over the h0 quantiles)",
    )?;

    let hist = &solution.history;
    let col = |f: &dyn Fn(&crate::dynamics::IterationReport) -> f64| {
        Array1::from_iter(hist.iter().map(f))
    };
    let it = "iteration";
    w.write_1d(
        "convergence/residual",
        col(&|r| r.residual).view(),
        it,
        "1",
        "relative sup-norm change of the kernels per iteration",
    )?;
    w.write_1d(
        "convergence/noise_floor",
        col(&|r| r.noise_floor).view(),
        it,
        "1",
        "relative Monte-Carlo standard error of kappa and M_C(t,t)",
    )?;
    w.write_1d(
        "convergence/target",
        col(&|r| r.target).view(),
        it,
        "1",
        "residual counted as converged: max(tolerance, noise_floor/10)",
    )?;
    w.write_1d(
        "convergence/window",
        col(&|r| r.window as f64).view(),
        it,
        "1",
        "grid points of the causal time window",
    )?;
    w.write_1d(
        "convergence/population",
        col(&|r| r.population as f64).view(),
        it,
        "1",
        "members of the population used (fewer during a presolve, solver.presolve)",
    )?;
    w.write_1d(
        "convergence/regularisation",
        col(&|r| r.regularisation).view(),
        it,
        "eps^2",
        "diagonal shift added to G_C + M_C for its Cholesky factor",
    )?;
    w.write_1d(
        "convergence/seconds",
        col(&|r| r.seconds).view(),
        it,
        "s",
        "wall time per iteration",
    )?;

    let c = "config";
    model_attrs(&w, model)?;
    w.attr_str(c, "schedule", model.schedule.name())?;
    w.attr_f64(c, "t_max", grid.time(grid.steps))?;
    w.attr_str(c, "scheme", grid.scheme.name())?;
    w.attr_u64(c, "population_size", problem.population.size as u64)?;
    w.attr_u64(c, "seed", problem.population.seed)?;
    w.attr_f64(c, "h0_min", problem.population.h0_min)?;
    w.attr_f64(c, "h0_max", problem.population.h0_max)?;
    w.attr_f64(c, "reach", problem.population.reach)?;
    let split = problem.population.splitting;
    w.attr_str(
        c,
        "splitting",
        if split.is_some() {
            "weight windows"
        } else {
            "none"
        },
    )?;
    w.attr_str(
        c,
        "antithetic",
        if problem.population.antithetic {
            "pairs"
        } else {
            "none"
        },
    )?;
    w.attr_str(c, "entrants", &problem.population.entrants())?;
    w.attr_f64(c, "split_ratio", split.map_or(0.0, |s| s.ratio))?;
    w.attr_u64(
        c,
        "lanes_per_member",
        split.map_or(0, |s| s.lanes_per_member as u64),
    )?;

    provenance.write(&w)?;
    let pr = "provenance";
    w.attr_u64(pr, "iterations", hist.len() as u64)?;
    let last = hist.last().expect("at least one iteration");
    w.attr_f64(pr, "final_residual", last.residual)?;
    w.attr_f64(pr, "final_noise_floor", last.noise_floor)?;
    w.attr_u64(pr, "lanes", solution.averages.work.lanes)?;
    w.finish()
}

/// The model's attributes of `/config`: potential, eps, phi_hat, zeta_hat, T, T0, noise,
/// driving and F.
pub(super) fn model_attrs(w: &H5Writer, model: &Model) -> Result<()> {
    let c = "config";
    w.attr_str(c, "potential", model.potential.name())?;
    w.attr_f64(c, "eps", model.potential.eps())?;
    w.attr_f64(c, "phi_hat", model.phi_hat)?;
    w.attr_f64(c, "zeta_hat", model.zeta_hat)?;
    w.attr_f64(c, "T", model.temperature)?;
    w.attr_f64(c, "T0", model.t0)?;
    w.attr_str(c, "noise", model.noise.name())?;
    w.attr_str(c, "driving", model.driving.name())?;
    w.attr_f64(c, "F", model.driving.variance())
}
