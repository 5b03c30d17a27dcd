//! The layout of the file written by `dmfe static` (documented in README.md, "Quasistatic branches").

use std::path::{Path, PathBuf};

use ndarray::Array1;

use super::provenance::{create_output, Provenance};
use crate::config::StaticConfig;
use crate::error::Result;
use crate::statics::{Branch, BranchPoint, Interaction, StaticModel};

/// Writes `branch` of `model` (configured by `config`) to `path` (temporary name, renamed
/// when complete). Absent summary strains (no Gardner point, no fold, no jamming) are NaN.
pub fn write_static(
    path: &Path,
    config: &StaticConfig,
    model: &StaticModel,
    branch: &Branch,
    provenance: &Provenance,
) -> Result<PathBuf> {
    let w = create_output(
        path,
        "static",
        &config.to_toml(),
        "Replica-symmetric state-following branch of an equilibrium glass under strain (dmfe static); docs/equations.md",
    )?;

    let sqrt_f = model.variance.sqrt();
    let col = |f: &dyn Fn(&BranchPoint) -> f64| Array1::from_iter(branch.points.iter().map(f));
    // The shared coordinate of the branch: the point index (gamma itself is not monotonic
    // past the fold, A is; both are variables along it).
    let index = Array1::from_iter((0..branch.points.len()).map(|i| i as f64));
    w.dimension_scale(
        "point",
        index.view(),
        "1",
        "index of the point along the branch, in order of increasing A",
    )?;
    let one = |name: &str, f: &dyn Fn(&BranchPoint) -> f64, units: &str, desc: &str| {
        w.write_1d(name, col(f).view(), "point", units, desc)
    };
    one(
        "branch/gamma",
        &|p| p.state.gamma,
        "1",
        "strain gamma (the AQRD random strain when F != 1)",
    )?;
    one(
        "branch/gamma_eff",
        &|p| p.state.gamma * sqrt_f,
        "1",
        "effective shear strain gamma sqrt(F), paper Eq. (36)",
    )?;
    one(
        "branch/sigma_hat",
        &|p| p.eval.sigma,
        "1",
        "stress sigma_hat = beta sigma/(d rho) = -(1/2) dG/dgamma, paper Eq. (34)",
    )?;
    one(
        "branch/delta",
        &|p| p.state.delta,
        "l^2/d",
        "cage size Delta (MSD between two replicas of the strained glass), Eq. (26)",
    )?;
    one(
        "branch/a",
        &|p| p.state.a,
        "l^2/d",
        "A = 2 Delta_r - Delta, Eq. (26)",
    )?;
    one(
        "branch/delta_r",
        &|p| p.state.delta_r(),
        "l^2/d",
        "MSD Delta_r between the strained and the reference glass, Eq. (26)",
    )?;
    one(
        "branch/lambda_r",
        &|p| p.eval.lambda_r,
        "1",
        "replicon eigenvalue lambda_R; RS is exact while > 0 (docs/equations.md, Statics)",
    )?;
    one(
        "branch/rs_stable",
        &|p| f64::from(u8::from(p.eval.lambda_r > 0.0)),
        "1",
        "1 while lambda_R > 0; 0 past the Gardner point, where the RS values are approximations",
    )?;
    one(
        "branch/g",
        &|p| p.eval.g,
        "1",
        "state-following free energy G(Delta, A; gamma), docs/equations.md (S1)",
    )?;

    let s = &branch.summary;
    let nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
    let sm = "summary";
    w.attr_f64(sm, "delta_eq", s.delta_eq)?;
    w.attr_f64(sm, "mu", s.mu)?;
    w.attr_f64(sm, "sigma_max", s.sigma_max)?;
    w.attr_f64(sm, "gamma_sigma_max", s.gamma_sigma_max)?;
    w.attr_f64(sm, "gamma_g", nan(s.gamma_g))?;
    w.attr_f64(sm, "gamma_y", nan(s.gamma_y))?;
    w.attr_f64(sm, "gamma_j", nan(s.gamma_j))?;

    let c = "config";
    w.attr_str(c, "potential", model.interaction.name())?;
    w.attr_f64(c, "phi_hat", model.phi_hat)?;
    // Hard spheres have no temperature: T and eps are absent from their files.
    if let Interaction::Soft(p) = model.interaction {
        w.attr_f64(c, "eps", p.eps())?;
        w.attr_f64(c, "T", 1.0 / model.beta)?;
        w.attr_f64(c, "T0", 1.0 / model.beta0)?;
    }
    w.attr_f64(c, "f0", model.f0)?;
    let driving = config.driving.resolve()?;
    w.attr_str(c, "driving", driving.name())?;
    w.attr_f64(c, "F", model.variance)?;

    provenance.write(&w)?;
    w.attr_u64("provenance", "points", branch.points.len() as u64)?;
    w.finish()
}
