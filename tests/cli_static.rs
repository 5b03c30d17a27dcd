//! `dmfe static` end to end: the example configs, the file they write, `--transition`, and
//! bad configurations (one line naming the key, exit code 2, no output file).

mod common;

use common::dmfe;
use dmfe::statics::{solve_branch, BranchSpec, Interaction, StaticModel};

const HS: &str = "[model]\nphi_hat = 6.0\n[potential]\nkind = \"hard_sphere\"\n\
                  [output]\npath = \"out.h5\"\n";

fn bad(config: &str, extra: &[&str], key: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    let mut args = vec!["static", "c.toml"];
    args.extend_from_slice(extra);
    let out = dmfe(dir.path(), &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "config {config:?} {extra:?}: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(key), "message should name {key}: {err}");
    assert!(!dir.path().join("out.h5").exists());
}

#[test]
fn bad_static_configs_are_refused_with_the_key() {
    bad(HS, &["--set", "model.phi_hat=-1"], "model.phi_hat");
    bad(
        HS,
        &["--set", "model.phi_hat=4.5"],
        "below the dynamical transition",
    );
    bad(HS, &["--set", "model.T=0.1"], "model.T");
    bad(HS, &["--set", "potential.eps=1"], "potential.eps");
    bad(
        HS,
        &[
            "--set",
            "potential.kind=harmonic",
            "--set",
            "potential.eps=1",
        ],
        "model.T",
    );
    bad(HS, &["--set", "driving.kind=none"], "driving.kind");
    bad(
        HS,
        &["--set", "driving.kind=shear", "--set", "driving.xi=0.7"],
        "driving.xi",
    );
    bad(
        HS,
        &["--set", "driving.xi=0.7", "--set", "driving.f=0.7"],
        "driving.f",
    );
    bad(HS, &["--set", "driving.xi=-1"], "driving.xi");
    bad(
        HS,
        &[
            "--set",
            "noise.kind=active",
            "--set",
            "noise.f0=1",
            "--set",
            "noise.tau=1",
        ],
        "noise.kind",
    );
    bad(HS, &["--set", "branch.dgamma=0"], "branch.dgamma");
    bad(HS, &["--set", "branch.steps=3"], "branch.steps");
    bad(
        &HS.replace("[output]\npath = \"out.h5\"\n", ""),
        &[],
        "output",
    );
}

#[test]
fn example_writes_the_branch_of_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let cfg = format!("{root}/runs/static-hs.toml");
    let out = dmfe(
        dir.path(),
        &["static", &cfg, "-o", "s.h5", "--set", "driving.xi=0.7"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("gamma_Y") && text.contains("RS approx."),
        "{text}"
    );

    let f = hdf5::File::open(dir.path().join("s.h5")).unwrap();
    let attr_f = |g: &str, k: &str| {
        f.group(g)
            .unwrap()
            .attr(k)
            .unwrap()
            .read_scalar::<f64>()
            .unwrap()
    };
    let variance = dmfe::driving::variance_from_correlation(0.7, 1.0);
    assert_eq!(attr_f("config", "F"), variance);
    let model = StaticModel {
        interaction: Interaction::HardSphere,
        phi_hat: 6.0,
        beta: 1.0,
        beta0: 1.0,
        f0: 0.0,
        variance,
    };
    let branch = solve_branch(&model, &BranchSpec::default()).unwrap();
    let s = branch.summary;
    assert_eq!(attr_f("summary", "mu"), s.mu);
    assert_eq!(attr_f("summary", "gamma_y"), s.gamma_y.unwrap());
    assert!(attr_f("summary", "gamma_j").is_nan());
    let sigma: Vec<f64> = f.dataset("branch/sigma_hat").unwrap().read_raw().unwrap();
    let stable: Vec<f64> = f.dataset("branch/rs_stable").unwrap().read_raw().unwrap();
    assert_eq!(sigma.len(), branch.points.len());
    for (k, p) in branch.points.iter().enumerate() {
        assert_eq!(sigma[k], p.eval.sigma);
        assert_eq!(stable[k], if p.eval.lambda_r > 0.0 { 1.0 } else { 0.0 });
    }
    for name in [
        "gamma",
        "gamma_eff",
        "delta",
        "a",
        "delta_r",
        "lambda_r",
        "g",
    ] {
        let d = f.dataset(&format!("branch/{name}")).unwrap();
        assert_eq!(d.shape(), vec![branch.points.len()], "{name}");
    }
}

#[test]
fn transition_is_printed_without_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), HS).unwrap();
    let out = dmfe(dir.path(), &["static", "--transition", "c.toml"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("phi_hat_d = 4.8067787"), "{text}");
    assert!(!dir.path().join("out.h5").exists());
}

#[test]
fn reference_static_config_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dmfe(dir.path(), &["config", "static"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        dmfe::config::STATIC_REFERENCE_CONFIG
    );
}

/// An output that another run is writing (its lock held) is refused at once, as for
/// `dmfe run`, and nothing is written.
#[test]
fn a_locked_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), HS).unwrap();
    let lock = dmfe::output::OutputLock::acquire(&dir.path().join("out.h5")).unwrap();
    let out = dmfe(dir.path(), &["static", "c.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("another dmfe run is writing out.h5"), "{err}");
    assert!(!dir.path().join("out.h5").exists());
    drop(lock);
    assert!(dmfe(dir.path(), &["static", "c.toml", "-q"])
        .status
        .success());
}
