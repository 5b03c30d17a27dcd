//! The layout of the file written by `dmfe flow` (documented in README.md, "Flow curves").
//! Every rate shares dt, so the start-up transients share the time axis `t` of the longest
//! run and the steady kernels the lag axis `tau`; a shorter run's rows end in NaN.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

use super::provenance::{create_output, Provenance};
use super::run_file::model_attrs;
use crate::config::FlowConfig;
use crate::dynamics::Problem;
use crate::error::Result;
use crate::flow::{FlowPoint, Seeds, Steady};

/// Reads one steady observable of a flow point.
type SteadyOf = fn(&FlowPoint) -> Steady;

/// Writes the flow curve `points` (one per rate of `config` except the `skipped` ones, whose
/// runs did not converge; `problem` is the first point's) to `path` (temporary name, renamed
/// when complete).
pub fn write_flow(
    path: &Path,
    config: &FlowConfig,
    problem: &Problem,
    points: &[FlowPoint],
    skipped: &[f64],
    provenance: &Provenance,
) -> Result<PathBuf> {
    let w = create_output(
        path,
        "flow",
        &config.to_toml(),
        "Flow curve: start-up at constant rate to steady state, one run of the population \
         solver per rate (dmfe flow); docs/equations.md",
    )?;
    let dt = config.dt();
    let rates = Array1::from_iter(points.iter().map(|p| p.rate));
    let longest = points
        .iter()
        .map(|p| p.startup.stress.len())
        .max()
        .unwrap_or(0);
    let lags = points
        .iter()
        .map(|p| p.kernels.m_c.len())
        .max()
        .unwrap_or(0);
    w.dimension_scale(
        "rate",
        rates.view(),
        "eps/zeta_hat",
        "strain rate gamma_dot",
    )?;
    let t = Array1::from_shape_fn(longest, |i| i as f64 * dt);
    w.dimension_scale(
        "t",
        t.view(),
        "zeta_hat/eps",
        "time since the start of shearing",
    )?;
    let tau = Array1::from_shape_fn(lags, |k| k as f64 * dt);
    w.dimension_scale(
        "tau",
        tau.view(),
        "zeta_hat/eps",
        "time difference tau = t_end - t' of the steady kernels",
    )?;

    let per_rate = |name: &str, f: &dyn Fn(&FlowPoint) -> f64, units: &str, desc: &str| {
        let v = Array1::from_iter(points.iter().map(f));
        w.write_1d(&format!("flow/{name}"), v.view(), "rate", units, desc)
    };
    // A per-rate value and its standard error, as flow/NAME and flow/NAME_se.
    let with_se = |name: &str, f: &dyn Fn(&FlowPoint) -> (f64, f64), units, desc, se_desc| {
        per_rate(name, &|p| f(p).0, units, desc)?;
        per_rate(&format!("{name}_se"), &|p| f(p).1, units, se_desc)
    };
    let steady_sets: [(&str, SteadyOf, &str); 5] = [
        (
            "stress",
            |p| p.stress,
            "steady stress sigma/(d rho), the work conjugate of the strain (docs/equations.md (O1))",
        ),
        (
            "stress_convected",
            |p| p.stress_convected,
            "steady convected stress of paper Eq. (24), stress + gamma pressure_c (not the stress)",
        ),
        ("pressure", |p| p.pressure, "steady pressure P/(d rho) (Eq. (O3))"),
        (
            "pressure_c",
            |p| p.pressure_c,
            "steady pressure along the driving direction P_c/(d rho) (Eq. (O3))",
        ),
        ("energy", |p| p.energy, "steady energy e = (phi_hat/2) E[v(h)]"),
    ];
    for (name, get, desc) in steady_sets {
        per_rate(
            name,
            &|p| get(p).mean,
            "eps",
            &format!("{desc}: time average over the steady window"),
        )?;
        per_rate(
            &format!("{name}_se"),
            &|p| get(p).se,
            "eps",
            &format!("standard error of flow/{name} (stratum pairs, with the correlation in time)"),
        )?;
        per_rate(
            &format!("{name}_drift"),
            &|p| get(p).drift,
            "eps",
            &format!(
                "mean of flow/{name} over the second half of the window minus that over the first"
            ),
        )?;
        per_rate(
            &format!("{name}_drift_se"),
            &|p| get(p).drift_se,
            "eps",
            &format!("standard error of flow/{name}_drift"),
        )?;
    }
    with_se(
        "viscosity",
        &|p| p.viscosity(),
        "zeta_hat",
        "effective viscosity stress/(F gamma_dot); Newtonian limit beta int M_C (Eq. (L1))",
        "standard error of flow/viscosity",
    )?;
    per_rate(
        "diffusion",
        &|p| p.diffusion,
        "l^2 eps/(d zeta_hat)",
        "diffusion constant under flow, D = dDelta_r/dt over the steady window (Eq. (L2))",
    )?;
    per_rate(
        "diffusion_se",
        &|p| p.diffusion_se,
        "l^2 eps/(d zeta_hat)",
        "bound on the standard error of flow/diffusion: (se of Delta_r at the window's ends) \
         / window length",
    )?;
    let scatter = "standard error from the seeds' scatter (NaN for one seed): includes the \
                   noise of the self-consistent kernels";
    let scaled = |(m, e): (f64, f64), p: &FlowPoint| (m / (p.f * p.rate), e / (p.f * p.rate));
    with_se(
        "stress_over_seeds",
        &|p| Seeds::mean_se(&p.seeds.plain),
        "eps",
        "steady stress averaged over the flow.seeds independent seeds",
        scatter,
    )?;
    with_se(
        "stress_controlled",
        &|p| Seeds::mean_se(&p.seeds.controlled),
        "eps",
        "steady stress minus that of the unstrained control with the same members (zero on \
         average: an unbiased control variate), averaged over seeds",
        scatter,
    )?;
    with_se(
        "viscosity_controlled",
        &|p| scaled(Seeds::mean_se(&p.seeds.controlled), p),
        "zeta_hat",
        "flow/stress_controlled / (F gamma_dot)",
        scatter,
    )?;
    with_se(
        "eta_green_kubo",
        &|p| Seeds::mean_se(&p.seeds.eta_green_kubo),
        "zeta_hat",
        "beta int_0^{t_end} M_C0(t_end, t_end - tau) dtau of the controls (the Green-Kubo \
         viscosity truncated at the run's length), averaged over seeds",
        scatter,
    )?;
    per_rate(
        "stress_linear",
        &|p| Seeds::mean_se(&p.seeds.linear).0,
        "eps",
        "linear-response stress F beta sum_j dgamma_j (M_C0(t, t_j) + M_C0(t, t_{j-1}))/2 of \
         the start-up from the controls' kernels (docs/equations.md (L1)), averaged over the window and the seeds",
    )?;
    // Every seed's own values, rate by rate (seed 0 is the point's own run).
    let seeds = points
        .iter()
        .map(|p| p.seeds.plain.len())
        .max()
        .unwrap_or(0);
    w.dimension_scale(
        "seed",
        Array1::from_shape_fn(seeds, |k| k as f64).view(),
        "1",
        "index k of the independent seed (population.seed + k)",
    )?;
    let per_seed = |name: &str, f: &dyn Fn(&FlowPoint) -> &[f64], units: &str, desc: &str| {
        let v = Array2::from_shape_fn((points.len(), seeds), |(r, k)| {
            f(&points[r]).get(k).copied().unwrap_or(f64::NAN)
        });
        w.write_2d(
            &format!("seeds/{name}"),
            v.view(),
            ["rate", "seed"],
            units,
            desc,
        )
    };
    per_seed(
        "stress",
        &|p| &p.seeds.plain,
        "eps",
        "steady stress of each seed's start-up (flow/stress_over_seeds is their mean; NaN \
         past the rate's flow/seeds)",
    )?;
    per_seed(
        "heaviest_family",
        &|p| &p.seeds.heaviest_family,
        "1",
        "largest share of M_C(t,t) over t carried by one member family (a member and its \
         copies) in each seed's start-up: large where a seed rests on few members",
    )?;
    if config.flow.control {
        per_seed(
            "stress_controlled",
            &|p| &p.seeds.controlled,
            "eps",
            "each seed's steady stress minus its control's (flow/stress_controlled is their \
             mean)",
        )?;
        per_seed(
            "stress_linear",
            &|p| &p.seeds.linear,
            "eps",
            "each seed's linear-response stress from its control's kernels, over the window",
        )?;
        per_seed(
            "eta_green_kubo",
            &|p| &p.seeds.eta_green_kubo,
            "zeta_hat",
            "each seed's truncated Green-Kubo viscosity beta int M_C0 of its control",
        )?;
    }
    let tol = config.flow.drift_tolerance;
    per_rate(
        "steady",
        &|p| f64::from(u8::from(p.is_steady(tol))),
        "1",
        "1 if stress, pressure and energy drift by at most flow.drift_tolerance standard \
         errors over the window, else 0",
    )?;
    per_rate(
        "window_start",
        &|p| p.window_times().0,
        "zeta_hat/eps",
        "first time of the steady window",
    )?;
    per_rate(
        "window_end",
        &|p| p.window_times().1,
        "zeta_hat/eps",
        "last time of the steady window (the end of the run)",
    )?;
    per_rate(
        "strain_max",
        &|p| p.rate * p.window_times().1,
        "1",
        "strain reached at the end of the run",
    )?;
    for (name, get, units, desc) in [
        (
            "overshoot_stress",
            (|p: &FlowPoint| p.overshoot.stress) as fn(&FlowPoint) -> f64,
            "eps",
            "largest stress of the start-up",
        ),
        (
            "overshoot_stress_se",
            |p| p.overshoot.se,
            "eps",
            "standard error of flow/overshoot_stress",
        ),
        (
            "overshoot_strain",
            |p| p.overshoot.strain,
            "1",
            "strain at the largest stress",
        ),
        (
            "iterations",
            |p| p.convergence.iterations as f64,
            "1",
            "iterations of the solver",
        ),
        (
            "residual",
            |p| p.convergence.residual,
            "1",
            "final relative residual of the kernels",
        ),
        (
            "noise_floor",
            |p| p.convergence.noise_floor,
            "1",
            "final relative Monte-Carlo noise floor of the kernels",
        ),
        (
            "seconds",
            |p| p.convergence.seconds,
            "s",
            "wall time of seed 0's start-up",
        ),
        (
            "seconds_total",
            |p| p.seeds.seconds,
            "s",
            "wall time of all the rate's solves (every seed, and the controls)",
        ),
        (
            "seeds",
            |p| p.seeds.plain.len() as f64,
            "1",
            "independent seeds run at this rate (flow.seeds, or as many as \
             flow.target_error needed)",
        ),
    ] {
        per_rate(name, &get, units, desc)?;
    }

    // One row per rate (NaN past its own length), against the axis t or tau.
    let rows_2d =
        |path: &str, rows: &dyn Fn(&FlowPoint) -> &Array1<f64>, axis, units, desc: &str| {
            let len = if axis == "t" { longest } else { lags };
            let m = pad(points.iter().map(rows), points.len(), len);
            w.write_2d(path, m.view(), ["rate", axis], units, desc)
        };
    for (name, rows, units, desc) in [
        (
            "gamma",
            (|p: &FlowPoint| &p.startup.gamma) as fn(&FlowPoint) -> &Array1<f64>,
            "1",
            "strain gamma(t) = gamma_dot t",
        ),
        (
            "stress",
            |p| &p.startup.stress,
            "eps",
            "stress sigma(t)/(d rho) of the start-up",
        ),
        (
            "stress_se",
            |p| &p.startup.stress_se,
            "eps",
            "standard error of startup/stress",
        ),
        (
            "pressure",
            |p| &p.startup.pressure,
            "eps",
            "pressure P(t)/(d rho)",
        ),
        ("energy", |p| &p.startup.energy, "eps", "energy e(t)"),
        ("delta_r", |p| &p.startup.delta_r, "l^2/d", "MSD Delta_r(t)"),
    ] {
        rows_2d(
            &format!("startup/{name}"),
            &rows,
            "t",
            units,
            &format!("{desc} (NaN past the rate's run)"),
        )?;
    }
    if points.iter().all(|p| p.control.is_some()) {
        type ControlRow = fn(&crate::flow::Control) -> &Array1<f64>;
        let controls: [(&str, ControlRow, &str); 2] = [
            (
                "stress_control",
                |c| &c.stress_series,
                "stress of the unstrained control with the same members (seed 0)",
            ),
            (
                "stress_linear",
                |c| &c.linear,
                "linear-response stress F beta sum_j dgamma_j (M_C0(t, t_j) + M_C0(t, t_{j-1}))/2 \
                 of the start-up from the control's kernels (seed 0; docs/equations.md (L1))",
            ),
        ];
        for (name, row, desc) in controls {
            rows_2d(
                &format!("startup/{name}"),
                &|p| row(p.control.as_ref().expect("checked above")),
                "t",
                "eps",
                &format!("{desc} (NaN past the rate's run)"),
            )?;
        }
    }
    for (name, rows, units, desc) in [
        (
            "m_c",
            (|p: &FlowPoint| &p.kernels.m_c) as fn(&FlowPoint) -> &Array1<f64>,
            "eps^2",
            "M_C(t_end, t_end - tau)",
        ),
        (
            "m_r",
            |p| &p.kernels.m_r,
            "eps^2/zeta_hat",
            "M_R(t_end, t_end - tau) (zero at tau = 0)",
        ),
        ("c", |p| &p.kernels.c, "l^2/d", "C(t_end, t_end - tau)"),
        (
            "r",
            |p| &p.kernels.r,
            "1/zeta_hat",
            "R(t_end, t_end - tau) (zero at tau = 0)",
        ),
    ] {
        rows_2d(
            &format!("steady/{name}"),
            &rows,
            "tau",
            units,
            &format!(
                "{desc} at the end of the run, over the lags of the steady window (NaN beyond)"
            ),
        )?;
    }

    model_attrs(&w, &problem.model)?;
    let c = "config";
    w.attr_f64(c, "dt", dt)?;
    w.attr_u64(c, "population_size", problem.population.size as u64)?;
    w.attr_u64(c, "seed", problem.population.seed)?;
    w.attr_str(
        c,
        "splitting",
        if problem.population.splitting.is_some() {
            "weight windows"
        } else {
            "none"
        },
    )?;
    w.attr_str(
        c,
        "antithetic",
        if config.population.antithetic {
            "pairs on the rates sampled by the gap proposal"
        } else {
            "none"
        },
    )?;
    w.attr_str(c, "entrants", &problem.population.entrants())?;
    w.attr_f64(c, "strain", config.flow.strain)?;
    w.attr_f64(c, "t_min", config.flow.t_min)?;
    w.attr_f64(c, "t_max", config.grid.t_max)?;
    w.attr_f64(c, "steady_fraction", config.flow.steady_fraction)?;
    w.attr_f64(c, "drift_tolerance", tol)?;
    w.attr_u64(c, "seeds", config.flow.seeds as u64)?;
    if let Some(target) = config.flow.target_error {
        w.attr_f64(c, "target_error", target)?;
        w.attr_u64(c, "max_seeds", config.budget().max as u64)?;
    }
    let listed: Vec<String> = skipped.iter().map(|r| r.to_string()).collect();
    w.attr_str(c, "skipped_rates", &listed.join(", "))?;
    w.attr_str(
        c,
        "control",
        if config.flow.control { "true" } else { "false" },
    )?;
    provenance.write(&w)?;
    w.finish()
}

/// `count` rows of length `len`, each holding one of `rows` followed by NaN.
fn pad<'a>(rows: impl Iterator<Item = &'a Array1<f64>>, count: usize, len: usize) -> Array2<f64> {
    let mut m = Array2::from_elem((count, len), f64::NAN);
    for (i, r) in rows.enumerate() {
        m.row_mut(i).slice_mut(ndarray::s![..r.len()]).assign(r);
    }
    m
}
