//! Helpers shared by the integration tests: configs from TOML text, solving, the reference
//! equilibrium liquid (harmonic spheres, phi_hat = 2, T = T0 = 0.5), and running the binary.

#![allow(dead_code)] // each test crate uses its own subset

pub mod fixed;

use std::path::Path;
use std::process::{Command, Output};

use dmfe::config::{from_value, RunConfig};
use dmfe::dynamics::{solve, Problem, Solution, SolverSpec};

/// The problem and solver settings of a `dmfe run` config given as TOML text.
pub fn problem(toml_text: &str) -> (Problem, SolverSpec) {
    let value = toml::Value::Table(toml_text.parse().expect("valid TOML"));
    let cfg: RunConfig = from_value(value).expect("valid config");
    cfg.problem().expect("valid problem")
}

/// Solves a `dmfe run` config given as TOML text.
pub fn run(toml_text: &str) -> Solution {
    let (p, s) = problem(toml_text);
    solve(&p, &s, &mut []).expect("converges")
}

/// The equilibrium liquid of the examples with `extra` TOML appended (e.g. a `[driving]`
/// table), on `steps` steps to `t_max`, `size` members, seed 11.
pub fn liquid(extra: &str, size: usize, steps: usize, t_max: f64) -> String {
    liquid_seeded(extra, size, steps, t_max, 11)
}

/// [`liquid`] with a given seed.
pub fn liquid_seeded(extra: &str, size: usize, steps: usize, t_max: f64, seed: u64) -> String {
    format!(
        "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\neps = 1.0\n\
         [grid]\nt_max = {t_max}\nsteps = {steps}\n[population]\nsize = {size}\nseed = {seed}\n\
         [output]\npath = \"unused.h5\"\n{extra}"
    )
}

/// Mean and standard error of the mean of independent samples.
pub fn mean_se(x: &[f64]) -> (f64, f64) {
    dmfe::flow::Seeds::mean_se(x)
}

/// The values of dataset `name` of the HDF5 file at `path`, flattened.
pub fn read(path: &Path, name: &str) -> Vec<f64> {
    let f = hdf5::File::open(path).unwrap();
    f.dataset(name).unwrap().read_raw::<f64>().unwrap()
}

/// Runs the `dmfe` binary in `dir` with `args` and returns its output.
pub fn dmfe(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmfe"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs")
}

/// Every dataset of two output files (`dmfe run` or `dmfe flow`), in every group, is
/// identical bit for bit, except the wall times (datasets named `seconds...`).
pub fn assert_same_results(a: &Path, b: &Path) {
    fn names(g: &hdf5::Group, out: &mut Vec<String>) {
        for d in g.datasets().unwrap() {
            out.push(d.name());
        }
        for sub in g.groups().unwrap() {
            names(&sub, out);
        }
    }
    let (fa, fb) = (hdf5::File::open(a).unwrap(), hdf5::File::open(b).unwrap());
    let (mut in_a, mut in_b) = (Vec::new(), Vec::new());
    names(&fa, &mut in_a);
    names(&fb, &mut in_b);
    assert_eq!(in_a, in_b, "the files hold different datasets");
    let mut compared = 0;
    let wall_time = |p: &str| {
        p.rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with("seconds"))
    };
    for path in in_a.iter().filter(|p| !wall_time(p)) {
        let bits = |f: &hdf5::File| -> Vec<u64> {
            let x = f.dataset(path).unwrap().read_raw::<f64>().unwrap();
            x.iter().map(|v| v.to_bits()).collect()
        };
        assert!(bits(&fa) == bits(&fb), "{path} differs");
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} datasets compared");
}
