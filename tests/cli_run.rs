//! `dmfe run` end to end: bad configurations fail with one line naming the key, exit code 2
//! and no output file; a good one writes a file with every documented dataset.

mod common;

use common::{dmfe, read};
use std::path::Path;

const GOOD: &str = "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\n\
                    eps = 1.0\n[grid]\nt_max = 0.5\nsteps = 20\n[population]\nsize = 1000\n\
                    [output]\npath = \"out.h5\"\n";

fn bad(config: &str, key: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    let out = dmfe(dir.path(), &["run", "c.toml", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "config {config:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(key), "message should name {key}: {err}");
    assert!(!dir.path().join("out.h5").exists());
    assert!(!dir.path().join("out.h5.tmp").exists());
}

#[test]
fn bad_inputs_are_refused_with_the_key() {
    bad(
        &GOOD.replace("phi_hat = 2.0", "phi_hat = -1.0"),
        "model.phi_hat",
    );
    bad(&GOOD.replace("T = 0.5", "T = -0.1"), "model.T");
    bad(&GOOD.replace("T0 = 0.5", "T0 = 0.0"), "model.T0");
    bad(&GOOD.replace("steps = 20", "steps = 0"), "grid.steps");
    bad(
        &GOOD.replace("steps = 20", "steps = 20\nscheme = \"euler\""),
        "grid.scheme",
    );
    // Finite inputs whose derived scales are hopeless (they used to "converge" to zeros).
    bad(&GOOD.replace("T = 0.5", "T = 1e300"), "model.T");
    bad(
        &format!("{GOOD}[driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = 1e200\n"),
        "driving.gamma_dot",
    );
    bad(
        &format!("{GOOD}[noise]\nkind = \"constant\"\nf0 = 1e150\n"),
        "noise.f0",
    );
    bad(&GOOD.replace("t_max = 0.5", "t_max = -2.0"), "grid.t_max");
    bad(&GOOD.replace("size = 1000", "size = 1"), "population.size");
    bad(
        &GOOD.replace("size = 1000", "size = 1001\nantithetic = true"),
        "population.size",
    );
    bad(
        &GOOD.replace(
            "size = 1000",
            "size = 1000\nantithetic = true\nstrain_reach = 1.0",
        ),
        "population.antithetic",
    );
    bad(
        &GOOD.replace("size = 1000", "size = 1000\nentrants = 3"),
        "population.entrants",
    );
    bad(
        &GOOD.replace(
            "size = 1000",
            "size = 1000\nentrants = 2\nantithetic = true",
        ),
        "population.entrants",
    );
    bad(
        &GOOD.replace(
            "size = 1000",
            "size = 1000\nentrants = 2\nentry_width = -0.5",
        ),
        "population.entry_width",
    );
    bad(
        &GOOD.replace(
            "size = 1000",
            "size = 1000\nentrants = 2\nentry_ramp = -1.0",
        ),
        "population.entry_ramp",
    );
    // dt = 0.025: a hand-over rate above 1/dt = 40 would hand over more than the weight.
    bad(
        &GOOD.replace(
            "size = 1000",
            "size = 1000\nentrants = 2\nentry_rate = 41.0",
        ),
        "population.entry_rate",
    );
    bad(
        &GOOD.replace(
            "size = 1000",
            "size = 1000\nentrants = 2\nentry_level = nan",
        ),
        "population.entry_level",
    );
    bad(
        &GOOD.replace("eps = 1.0", "eps = 1.0\nepsilon = 2.0"),
        "potential",
    );
    bad(&GOOD.replace("[grid]", "[grid]\ndt = 0.1"), "grid.dt");
    bad(
        &GOOD.replace("phi_hat = 2.0", "phi_hat = \"dense\""),
        "model.phi_hat",
    );
    bad(
        &GOOD.replace("phi_hat = 2.0", "phi_hat = 2.0 ="),
        "TOML syntax",
    );
    bad(
        &GOOD.replace("kind = \"harmonic\"", "kind = \"square_well\""),
        "potential",
    );
    let table = "[driving]\nkind = \"shear\"\nschedule = \"table\"\ntimes = []\nstrains = []\n";
    bad(&format!("{GOOD}{table}"), "driving.times");
    let step = "[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = 0.1\nt_step = 9.0\n";
    bad(&format!("{GOOD}{step}"), "driving.t_step");
    let rd = "[driving]\nkind = \"random_displacements\"\nschedule = \"rate\"\ngamma_dot = 0.1\n";
    bad(&format!("{GOOD}{rd}"), "driving.f");
    // A missing file.
    let dir = tempfile::tempdir().unwrap();
    let out = dmfe(dir.path(), &["run", "missing.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[test]
fn output_file_holds_every_dataset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), GOOD).unwrap();
    let out = dmfe(dir.path(), &["run", "c.toml", "-o", "res.h5", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = hdf5::File::open(dir.path().join("res.h5")).unwrap();
    let n = 21;
    for (name, shape) in [
        ("grid/t", vec![n]),
        ("grid/gamma", vec![n]),
        ("grid/gamma_eff", vec![n]),
        ("observables/delta_r", vec![n]),
        ("observables/delta_r_se", vec![n]),
        ("observables/stress", vec![n]),
        ("observables/stress_se", vec![n]),
        ("observables/stress_convected", vec![n]),
        ("observables/stress_convected_se", vec![n]),
        ("observables/pressure", vec![n]),
        ("observables/pressure_se", vec![n]),
        ("observables/pressure_c", vec![n]),
        ("observables/pressure_c_se", vec![n]),
        ("correlations/c_se", vec![n, n]),
        ("correlations/r_se", vec![n, n]),
        ("observables/energy", vec![n]),
        ("observables/energy_se", vec![n]),
        ("kernels/kappa", vec![n]),
        ("kernels/kappa_se", vec![n]),
        ("kernels/m_c_diag_se", vec![n]),
        ("kernels/m_c", vec![n, n]),
        ("kernels/m_r", vec![n, n]),
        ("correlations/c", vec![n, n]),
        ("correlations/r", vec![n, n]),
        ("correlations/delta", vec![n, n]),
        ("samples/h", vec![n, 8]),
    ] {
        let ds = f.dataset(name).unwrap_or_else(|_| panic!("missing {name}"));
        assert_eq!(ds.shape(), shape, "{name}");
        for attr in ["description", "units", "DIMENSION_LABELS"] {
            assert!(ds.attr(attr).is_ok(), "{name} lacks {attr}");
        }
    }
    for name in [
        "convergence/residual",
        "convergence/noise_floor",
        "convergence/window",
    ] {
        assert!(f.dataset(name).is_ok(), "missing {name}");
    }
    for attr in ["dmfe_format", "solver", "config_toml", "crate_version"] {
        assert!(f.attr(attr).is_ok(), "root lacks {attr}");
    }
    for attr in ["threads", "wall_seconds", "git_commit", "iterations"] {
        assert!(
            f.group("provenance").unwrap().attr(attr).is_ok(),
            "provenance lacks {attr}"
        );
    }
    for attr in ["phi_hat", "T", "T0", "F", "seed", "population_size"] {
        assert!(
            f.group("config").unwrap().attr(attr).is_ok(),
            "config lacks {attr}"
        );
    }
}

#[test]
fn config_command_prints_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = dmfe(dir.path(), &["config"]);
    assert!(out.status.success());
    std::fs::write(dir.path().join("ref.toml"), &out.stdout).unwrap();
    let run = dmfe(
        dir.path(),
        &[
            "run",
            "ref.toml",
            "--set",
            "population.size=500",
            "--set",
            "grid.steps=10",
            "--quiet",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(dir.path().join("out.h5").exists());
}

/// Runs `args` on the GOOD config with a population that would take minutes to solve, and
/// checks the refusal: exit code `code`, one line naming `key`, within a second.
fn refused_before_solving(dir: &Path, args: &[&str], code: i32, key: &str) {
    let start = std::time::Instant::now();
    let mut all = vec!["run", "c.toml", "--set", "population.size=5000000"];
    all.extend_from_slice(args);
    let out = dmfe(dir, &all);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(key), "{args:?} should name {key}: {err}");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(1),
        "{args:?} failed only after solving"
    );
}

#[test]
fn the_output_path_is_checked_whole_before_solving() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.toml"), GOOD).unwrap();
    // -o onto the config file.
    refused_before_solving(d, &["-o", "c.toml"], 2, "output.path");
    refused_before_solving(d, &["-o", "./c.toml"], 2, "output.path");
    assert_eq!(std::fs::read_to_string(d.join("c.toml")).unwrap(), GOOD);
    // A path that names no file.
    refused_before_solving(d, &["--set", "output.path=\"\""], 2, "output.path");
    refused_before_solving(d, &["-o", "."], 2, "output.path");
    // A directory where the temporary file or the checkpoint must go.
    for taken in ["out.h5.tmp", "out.h5.ckpt", "out.h5.ckpt.tmp"] {
        std::fs::create_dir(d.join(taken)).unwrap();
        refused_before_solving(d, &[], 1, taken);
        std::fs::remove_dir(d.join(taken)).unwrap();
    }
    // Thread counts that are not sane.
    refused_before_solving(d, &["--threads", "0"], 2, "--threads");
    refused_before_solving(d, &["--threads", "100000"], 2, "--threads");
    let mut left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["c.toml"], "nothing written");
}

/// A grid whose kernels cannot fit in the available memory is refused before solving, with
/// one line naming grid.steps (15000 steps on 8 threads: about 52 GiB; skipped on a machine
/// that has that much available).
#[test]
fn a_run_that_cannot_fit_is_refused_before_solving() {
    let available = dmfe::dynamics::memory::available_bytes().unwrap_or(u64::MAX);
    if available > 60 << 30 {
        println!("skipped: {available} bytes available");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        GOOD.replace("steps = 20", "steps = 15000"),
    )
    .unwrap();
    let start = std::time::Instant::now();
    let out = dmfe(dir.path(), &["run", "c.toml", "--quiet", "--threads", "8"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("grid.steps") && err.contains("GiB"), "{err}");
    assert!(
        start.elapsed().as_secs_f64() < 5.0,
        "refused only after solving"
    );
    assert!(!dir.path().join("out.h5").exists());
}

/// Runs `GOOD` with `size` members and then with 20000, both with --quiet (the second
/// into `big.h5`), in `dir`; returns the two runs' standard error streams. The first must
/// succeed.
fn warnings_at(dir: &Path, size: usize) -> (String, String) {
    std::fs::write(
        dir.join("c.toml"),
        GOOD.replace("size = 1000", &format!("size = {size}")),
    )
    .unwrap();
    let out = dmfe(dir, &["run", "c.toml", "--quiet"]);
    let small = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{small}");
    let args = ["run", "c.toml", "--quiet", "-o", "big.h5"];
    let out = dmfe(
        dir,
        &[&args[..], &["--set", "population.size=20000"]].concat(),
    );
    (small, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Antithetic pairs on a run strained beyond where they pay are flagged before solving,
/// even with --quiet, naming the key; on a small strain they are not.
#[test]
fn antithetic_pairs_at_large_strain_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let sheared = |rate: f64| {
        format!(
            "{}[driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = {rate}\n",
            GOOD.replace("size = 1000", "size = 1000\nantithetic = true")
        )
    };
    for (rate, flagged) in [(2.0, true), (0.2, false)] {
        std::fs::write(dir.path().join("c.toml"), sheared(rate)).unwrap();
        let out = dmfe(
            dir.path(),
            &["run", "c.toml", "--quiet", "-o", &format!("{rate}.h5")],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert_eq!(
            err.contains("warning: population.antithetic with a strain up to gamma_eff = 1.000"),
            flagged,
            "{err}"
        );
    }
}

/// Entrants with members on the gap proposal beyond gamma_eff = 2 are flagged before
/// solving, naming the key to set; with the affine proposal, or at a small strain, they are
/// not.
#[test]
fn entrants_with_the_gap_proposal_at_large_strain_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let sheared = |rate: f64, sampling: &str| {
        format!(
            "{}[driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = {rate}\n",
            GOOD.replace(
                "size = 1000",
                &format!("size = 1000\nentrants = 2\n{sampling}")
            )
        )
    };
    let reach = "strain_reach = 3.0";
    for (rate, sampling, flagged) in [(5.0, "", true), (5.0, reach, false), (2.0, "", false)] {
        std::fs::write(dir.path().join("c.toml"), sheared(rate, sampling)).unwrap();
        let out = dmfe(
            dir.path(),
            &[
                "run",
                "c.toml",
                "--quiet",
                "-o",
                &format!("{rate}{flagged}.h5"),
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert_eq!(
            err.contains(
                "warning: population.entrants with the gap proposal up to gamma_eff = 2.500"
            ) && err.contains("population.strain_reach"),
            flagged,
            "{rate} {sampling}: {err}"
        );
    }
}

/// A run that converges onto its own noise says so, even with --quiet, and names the key.
#[test]
fn a_noise_dominated_run_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let (err, big) = warnings_at(dir.path(), 2);
    assert!(
        err.contains("warning: the Monte-Carlo noise floor") && err.contains("population.size"),
        "{err}"
    );
    assert!(!big.contains("noise floor"));
}

/// A run whose M_C(t,t) rests on few member families says so (one family above 5% of it:
/// here 50 members), even with --quiet; the same run with 20000 members does not.
#[test]
fn a_run_resting_on_few_members_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let (err, big) = warnings_at(dir.path(), 50);
    assert!(
        err.contains("warning: one member family carries") && err.contains("population.size"),
        "{err}"
    );
    let out = dir.path().join("out.h5");
    let share = read(&out, "kernels/m_c_diag_heaviest");
    let families = read(&out, "kernels/m_c_diag_families");
    assert!(share.iter().all(|&s| (0.0..=1.0).contains(&s)), "{share:?}");
    assert!(families.iter().all(|&n| n <= 50.0), "{families:?}");
    assert!(share
        .iter()
        .zip(&families)
        .all(|(&s, &n)| n == 0.0 || s >= 1.0 / n - 1e-12));
    assert!(!big.contains("member family"));
}
