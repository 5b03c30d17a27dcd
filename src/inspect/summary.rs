//! The summary of a dmfe file (`dmfe inspect FILE`).

use std::fmt::Write as _;

use ndarray::Array1;

use super::format::{argmax, num, wrap};
use crate::dynamics::diagnostics::equilibrium_residuals;
use crate::dynamics::Scheme;
use crate::error::Result;
use crate::output::{AttrValue, OutputFile, FORMAT_TAG};

/// A human-readable summary: what run this is, whether it converged, key numbers.
pub fn summary(file: &OutputFile) -> Result<String> {
    let mut s = String::new();
    let solver = file.solver();
    let version = file
        .root_attr("crate_version")
        .map(|v| v.to_string())
        .unwrap_or_else(|| "?".into());
    line!(
        s,
        "{}: dmfe {} output (dmfe_format {FORMAT_TAG}, written by dmfe {version})",
        file.path().display(),
        solver.as_deref().unwrap_or("(unknown solver)")
    );
    line!(s, "solver:      {}", solver.as_deref().unwrap_or("?"));
    if let Some(d) = file.attr_str("/", "description") {
        line!(s, "description: {d}");
    }
    attr_block(
        file,
        &mut s,
        "config",
        "config:",
        &[
            "potential",
            "phi_hat",
            "T",
            "T0",
            "driving",
            "F",
            "schedule",
            "noise",
            "eps",
            "zeta_hat",
        ],
    );
    match solver.as_deref() {
        Some("static") => summary_static(file, &mut s)?,
        Some("flow") => summary_flow(file, &mut s),
        _ => summary_dynamics(file, &mut s)?,
    }
    attr_block(
        file,
        &mut s,
        "provenance",
        "provenance:",
        &["crate_version", "git_commit", "threads", "wall_seconds"],
    );
    let mut groups: Vec<(String, usize)> = Vec::new();
    for (n, _) in file.datasets() {
        let g = n.split_once('/').map_or("/", |(g, _)| g).to_string();
        match groups.iter_mut().find(|(x, _)| *x == g) {
            Some((_, c)) => *c += 1,
            None => groups.push((g, 1)),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(g, c)| match g.as_str() {
            "/" => format!("/ ({c} dimension scales)"),
            _ => format!("{g}/ ({c})"),
        })
        .collect();
    line!(s, "datasets:    {}", parts.join(", "));
    Ok(s)
}

/// The attributes of `path`, `first` keys in order then the rest, wrapped.
fn attr_block(file: &OutputFile, s: &mut String, path: &str, title: &str, first: &[&str]) {
    let attrs = file.attrs(path);
    if attrs.is_empty() {
        return;
    }
    let mut items: Vec<String> = Vec::new();
    for k in first {
        if let Some((_, v)) = attrs.iter().find(|(n, _)| n == k) {
            items.push(format!("{k} = {v}"));
        }
    }
    for (k, v) in &attrs {
        if !first.contains(&k.as_str()) && k != "DIMENSION_LABELS" {
            items.push(format!("{k} = {v}"));
        }
    }
    wrap(s, title, &items);
}

fn summary_dynamics(file: &OutputFile, s: &mut String) -> Result<()> {
    let t = file.opt_1d("grid/t");
    let steps = file.attr_f64("grid", "steps");
    let dt = file.attr_f64("grid", "dt");
    if let Some(t) = &t {
        let mut items = vec![format!("t_max = {}", num(t.last().copied().unwrap_or(0.0)))];
        items.push(format!(
            "steps = {}",
            steps.map_or((t.len().saturating_sub(1)).to_string(), num)
        ));
        if let Some(dt) = dt {
            items.push(format!("dt = {}", num(dt)));
        }
        wrap(s, "grid:", &items);
    }
    let size = file.attr("config", "population_size");
    let seed = file.attr("config", "seed");
    if size.is_some() || seed.is_some() {
        let show = |v: Option<AttrValue>| v.map_or("?".to_string(), |v| v.to_string());
        line!(
            s,
            "population:  size = {}, seed = {}",
            show(size),
            show(seed)
        );
    }
    // Convergence.
    let residual = file.opt_1d("convergence/residual");
    let floor = file.opt_1d("convergence/noise_floor");
    let target = file.opt_1d("convergence/target");
    let iterations = file
        .attr_f64("provenance", "iterations")
        .or_else(|| residual.as_ref().map(|r| r.len() as f64));
    let last = |v: &Option<Array1<f64>>| v.as_ref().and_then(|v| v.last().copied());
    let res = last(&residual).or_else(|| file.attr_f64("provenance", "final_residual"));
    let nf = last(&floor).or_else(|| file.attr_f64("provenance", "final_noise_floor"));
    let tg = last(&target);
    if let Some(res) = res {
        let mut line = format!(
            "convergence: {} iterations, final residual {}",
            iterations.map_or("?".into(), num),
            num(res)
        );
        if let Some(nf) = nf {
            let _ = write!(
                line,
                " vs Monte-Carlo noise floor {} (ratio {})",
                num(nf),
                num(res / nf)
            );
        }
        if let Some(tg) = tg {
            // A run file exists only for an accepted solution: below the target, or stalled
            // (the residual stopped falling within the noise floor; docs: solver.tolerance).
            let verdict = if res <= tg {
                "converged"
            } else {
                "converged by the stall rule (the residual stopped falling within the noise)"
            };
            let _ = write!(line, "; target {}: {verdict}", num(tg));
        }
        line!(s, "{line}");
    }
    // Key numbers.
    let Some(t) = t else {
        return Ok(());
    };
    let n = t.len();
    if n == 0 {
        return Ok(());
    }
    let tf = t[n - 1];
    line!(s, "results:");
    if let Some(dr) = file.opt_1d("observables/delta_r").filter(|v| v.len() == n) {
        line!(s, "  Delta_r(t = {}) = {}", num(tf), num(dr[n - 1]));
    }
    let gamma = file.opt_1d("grid/gamma").filter(|v| v.len() == n);
    let with_se = |name: &str, i: usize| -> Option<String> {
        let v = file.opt_1d(name).filter(|v| v.len() == n)?;
        let se = file.opt_1d(&format!("{name}_se")).filter(|v| v.len() == n);
        Some(match se {
            Some(se) => format!("{} +- {}", num(v[i]), num(se[i])),
            None => num(v[i]),
        })
    };
    if let Some(st) = file.opt_1d("observables/stress").filter(|v| v.len() == n) {
        let i = argmax(&st);
        let mut line = format!(
            "  stress max = {} at t = {}",
            with_se("observables/stress", i).unwrap_or_default(),
            num(t[i])
        );
        if let Some(g) = &gamma {
            let _ = write!(line, ", gamma = {}", num(g[i]));
        }
        line!(s, "{line}");
    }
    for (name, label) in [
        ("stress", "stress (work conjugate of gamma)"),
        ("stress_convected", "convected stress, paper Eq. (24)"),
        ("pressure", "pressure P"),
        ("pressure_c", "pressure along the driving P_c"),
        ("energy", "energy"),
    ] {
        if let Some(v) = with_se(&format!("observables/{name}"), n - 1) {
            line!(s, "  {label}(t = {}) = {v}", num(tf));
        }
    }
    if let Some(k) = file.opt_1d("kernels/kappa").filter(|v| v.len() == n) {
        line!(s, "  kappa(t = {}) = {}", num(tf), num(k[n - 1]));
    }
    if let Some(g) = &gamma {
        if g.iter().any(|x| *x != 0.0) {
            line!(s, "  strain gamma(t = {}) = {}", num(tf), num(g[n - 1]));
        }
    }
    summary_equilibrium(file, s, &t)
}

/// For an equilibrium run (T = T0 > 0, no driving, no external noise): the verdict on each
/// identity of docs/equations.md ([`crate::dynamics::diagnostics`]), with its standard
/// errors.
fn summary_equilibrium(file: &OutputFile, s: &mut String, t: &Array1<f64>) -> Result<()> {
    let temp = file.attr_f64("config", "T");
    let t0 = file.attr_f64("config", "T0");
    let driving = file.attr_str("config", "driving");
    let noise = file.attr_str("config", "noise");
    let (Some(temp), Some(t0)) = (temp, t0) else {
        return Ok(());
    };
    let equilibrium = temp > 0.0
        && (temp - t0).abs() <= 1e-12 * temp.abs().max(t0.abs())
        && driving.as_deref().is_none_or(|d| d == "none")
        && noise.as_deref().is_none_or(|d| d == "none");
    let n = t.len();
    if !equilibrium || n < 3 {
        return Ok(());
    }
    let Some(sol) = file.solution() else {
        return Ok(());
    };
    let dt = file.attr_f64("grid", "dt").unwrap_or_else(|| t[1] - t[0]);
    // Files written before the scheme was recorded used the trapezoid.
    let scheme = file
        .attr_str("config", "scheme")
        .and_then(|name| Scheme::from_name(&name))
        .unwrap_or(Scheme::Trapezoid);
    let r = equilibrium_residuals(&sol, temp, dt, scheme);
    line!(
        s,
        "equilibrium (T = T0, no driving, no external noise): identities of docs/equations.md"
    );
    for v in r.verdicts(n) {
        let verdict = match v.holds() {
            Some(true) => format!(
                "at most {} standard errors: holds within the noise (noise alone reaches about {})",
                num(v.max_z),
                num(v.limit)
            ),
            Some(false) => format!(
                "at most {} standard errors: VIOLATED beyond the noise (which alone reaches about {})",
                num(v.max_z),
                num(v.limit)
            ),
            None => "no standard errors in the file".to_string(),
        };
        line!(
            s,
            "  {}: {verdict}; relative {}",
            v.identity,
            num(v.relative)
        );
    }
    line!(
        s,
        "  time-averaged (beta M_C(t,t) - kappa(t))/kappa(0) = {} (noise correlated in t, and \
         the O(dt^2) bias)",
        num(r.kappa_vs_m_c_mean)
    );
    Ok(())
}

/// One line per rate of a `dmfe flow` file: steady stress and viscosity (over the seeds when
/// there are several), pressure, energy and diffusion with standard errors, the overshoot,
/// and the steady-state verdict.
fn summary_flow(file: &OutputFile, s: &mut String) {
    let Some(rates) = file.opt_1d("rate") else {
        line!(s, "flow:        no rate axis");
        return;
    };
    let n = rates.len();
    let col = |name: &str| {
        file.opt_1d(&format!("flow/{name}"))
            .filter(|v| v.len() == n)
            .unwrap_or_else(|| Array1::from_elem(n, f64::NAN))
    };
    let pm = |name: &str, i: usize| {
        format!(
            "{} +- {}",
            num(col(name)[i]),
            num(col(&format!("{name}_se"))[i])
        )
    };
    let config = file.attrs("config");
    let tol = config
        .iter()
        .find(|(k, _)| k == "drift_tolerance")
        .and_then(|(_, v)| v.as_f64())
        .unwrap_or(f64::NAN);
    line!(
        s,
        "flow:        {n} rates; steady state judged over [window_start, window_end] within {}          standard errors of drift",
        num(tol)
    );
    // Seeds per rate: flow/seeds, or (files before flow.target_error) config/seeds.
    let fixed = config
        .iter()
        .find(|(k, _)| k == "seeds")
        .and_then(|(_, v)| v.as_f64())
        .unwrap_or(1.0);
    let seeds = col("seeds").mapv(|k| if k.is_finite() { k } else { fixed });
    let big_f = config
        .iter()
        .find(|(k, _)| k == "F")
        .and_then(|(_, v)| v.as_f64())
        .unwrap_or(f64::NAN);
    for i in 0..n {
        // Over the seeds when there are several (the viscosity from their mean), else seed 0.
        let stress = if seeds[i] >= 2.0 {
            let (m, e) = (col("stress_over_seeds")[i], col("stress_over_seeds_se")[i]);
            let scale = big_f * rates[i];
            format!(
                "stress = {} +- {} over {} seeds (seed 0: {}), viscosity = {} +- {}",
                num(m),
                num(e),
                seeds[i],
                pm("stress", i),
                num(m / scale),
                num(e / scale)
            )
        } else {
            format!(
                "stress = {}, viscosity = {}",
                pm("stress", i),
                pm("viscosity", i)
            )
        };
        let steady = if col("steady")[i] > 0.5 {
            "steady"
        } else {
            "NOT steady"
        };
        line!(
            s,
            "  gamma_dot = {}: {stress}, pressure = {}, energy = {},              D = {}; overshoot {} at gamma = {}; t = {}-{} (strain {}), {steady}",
            num(rates[i]),
            pm("pressure", i),
            pm("energy", i),
            pm("diffusion", i),
            pm("overshoot_stress", i),
            num(col("overshoot_strain")[i]),
            num(col("window_start")[i]),
            num(col("window_end")[i]),
            num(col("strain_max")[i])
        );
    }
}

fn summary_static(file: &OutputFile, s: &mut String) -> Result<()> {
    let gamma = file.opt_1d("branch/gamma");
    if let Some(g) = &gamma {
        let n = g.len();
        let mut line = format!("branch:      {n} points");
        if n > 0 {
            let _ = write!(line, ", gamma from {} to {}", num(g[0]), num(g[n - 1]));
        }
        if let Some(st) = file.opt_1d("branch/rs_stable").filter(|v| v.len() == n) {
            let k = st.iter().filter(|x| **x > 0.5).count();
            let _ = write!(line, "; replica-symmetric stable at {k} of them");
        }
        line!(s, "{line}");
        if let Some(sig) = file.opt_1d("branch/sigma_hat").filter(|v| v.len() == n) {
            if n > 0 {
                let i = argmax(&sig);
                line!(
                    s,
                    "             sigma_hat max = {} at gamma = {}; final sigma_hat = {}",
                    num(sig[i]),
                    num(g[i]),
                    num(sig[n - 1])
                );
            }
        }
    }
    let attrs = file.attrs("summary");
    if !attrs.is_empty() {
        let order = [
            "delta_eq",
            "mu",
            "sigma_max",
            "gamma_sigma_max",
            "gamma_g",
            "gamma_y",
            "f_variance",
        ];
        let show = |k: &str, v: &AttrValue| match (k, v.as_f64()) {
            ("gamma_g", Some(x)) if x.is_nan() => {
                "gamma_g = none (lambda_r stays > 0 on the branch)".to_string()
            }
            _ => format!("{k} = {v}"),
        };
        let mut items: Vec<String> = Vec::new();
        for k in order {
            if let Some((_, v)) = attrs.iter().find(|(n, _)| n == k) {
                items.push(show(k, v));
            }
        }
        for (k, v) in &attrs {
            if !order.contains(&k.as_str()) {
                items.push(show(k, v));
            }
        }
        wrap(s, "summary:", &items);
    }
    Ok(())
}
