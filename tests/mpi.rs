//! Issue 14: a run spread over MPI ranks gives, bit for bit, the output of one process, and
//! resumes on any number of ranks. Built only with the `mpi` feature and run by
//! `scripts/test_mpi.sh` (`cargo test --release --features mpi --test mpi`), which installs
//! MPICH; `mpirun` must be on PATH.
#![cfg(feature = "mpi")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{assert_same_results, dmfe};

/// A sheared liquid with importance splitting and sampled trajectories, 9000 members: 36
/// blocks in 3 waves, so that 2 ranks share them unevenly (one rank idles in the last round)
/// and 3 ranks take one wave each. Large enough for the jackknife errors (8 batches).
const CONFIG: &str = "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\n\
                      eps = 1.0\n[driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = 0.5\n\
                      [grid]\nt_max = 1.0\nsteps = 40\n[population]\nsize = 9000\nseed = 5\n\
                      splitting = true\n[output]\npath = \"out.h5\"\nsamples = 4\n";

/// `mpirun -n ranks dmfe args...` in `dir`, one thread per rank.
fn mpirun(dir: &Path, ranks: usize, args: &[&str]) -> Output {
    Command::new("mpirun")
        .current_dir(dir)
        .args(["-n", &ranks.to_string(), env!("CARGO_BIN_EXE_dmfe")])
        .args(args)
        .args(["--threads", "1", "--quiet"])
        .output()
        .expect("mpirun is on PATH")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One process without mpirun, and 1, 2 and 3 ranks, write the same results; the file
/// records the ranks. Also with entrants (their 16 blocks after the members' 36: 4 waves).
#[test]
fn any_number_of_ranks_gives_the_single_process_output() {
    let entering = CONFIG.replace("splitting = true\n", "splitting = true\nentrants = 100\n");
    assert_ne!(entering, CONFIG);
    for config in [CONFIG, &entering] {
        ranks_give_the_single_process_output(config);
    }
}

fn ranks_give_the_single_process_output(config: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    ok(&dmfe(
        dir.path(),
        &[
            "run",
            "c.toml",
            "-o",
            "alone.h5",
            "--quiet",
            "--threads",
            "2",
        ],
    ));
    for ranks in [1, 2, 3] {
        let name = format!("ranks{ranks}.h5");
        ok(&mpirun(dir.path(), ranks, &["run", "c.toml", "-o", &name]));
        assert_same_results(&dir.path().join("alone.h5"), &dir.path().join(&name));
        let f = hdf5::File::open(dir.path().join(&name)).unwrap();
        let recorded: u64 = f
            .group("provenance")
            .unwrap()
            .attr("ranks")
            .unwrap()
            .read_scalar()
            .unwrap();
        assert_eq!(recorded, ranks as u64);
        assert!(!dir.path().join(format!("{name}.ckpt")).exists());
    }
}

/// A run on 2 ranks that stops (max_iterations reached) keeps its checkpoint, says so once,
/// and resumed on 3 ranks gives the uninterrupted single-process output.
#[test]
fn a_checkpoint_resumes_on_another_number_of_ranks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), CONFIG).unwrap();
    ok(&dmfe(
        dir.path(),
        &[
            "run",
            "c.toml",
            "-o",
            "ref.h5",
            "--quiet",
            "--set",
            "solver.max_iterations=200",
        ],
    ));
    let stopped = mpirun(
        dir.path(),
        2,
        &["run", "c.toml", "--set", "solver.max_iterations=2"],
    );
    assert!(!stopped.status.success());
    let err = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(err.matches("not converged").count(), 1, "{err}");
    assert!(dir.path().join("out.h5.ckpt").exists());
    assert!(!dir.path().join("out.h5").exists());
    ok(&mpirun(
        dir.path(),
        3,
        &[
            "run",
            "--resume",
            "out.h5.ckpt",
            "--allow-change",
            "--set",
            "solver.max_iterations=200",
        ],
    ));
    assert_same_results(&dir.path().join("ref.h5"), &dir.path().join("out.h5"));
}

/// A flow curve (two rates, 4-6 seeds by flow.target_error, with unstrained controls and
/// antithetic pairs) on 2 ranks is the single-process curve bit for bit, seeds included; a
/// rate that does not converge is skipped on every rank (said once), and a curve with no
/// rate left fails on every rank without hanging.
#[test]
fn a_flow_curve_on_ranks_is_the_single_process_curve() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}[flow]\nrates = [0.5, 2.0]\nstrain = 2.0\nt_min = 1.0\nseeds = 4\n\
         target_error = 0.2\nmax_seeds = 6\n",
        CONFIG
            .replace(
                "[driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = 0.5\n",
                "[driving]\nkind = \"shear\"\n"
            )
            .replace(
                "splitting = true\n",
                "splitting = true\nantithetic = true\n"
            )
    );
    std::fs::write(dir.path().join("f.toml"), config).unwrap();
    ok(&dmfe(
        dir.path(),
        &[
            "flow",
            "f.toml",
            "-o",
            "alone.h5",
            "--quiet",
            "--threads",
            "2",
        ],
    ));
    ok(&mpirun(
        dir.path(),
        2,
        &["flow", "f.toml", "-o", "ranks2.h5"],
    ));
    assert_same_results(&dir.path().join("alone.h5"), &dir.path().join("ranks2.h5"));
    let failed = mpirun(
        dir.path(),
        2,
        &[
            "flow",
            "f.toml",
            "-o",
            "none.h5",
            "--set",
            "solver.max_iterations=1",
        ],
    );
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(err.matches("gamma_dot = 0.5 skipped").count(), 1, "{err}");
    assert_eq!(err.matches("no rate converged").count(), 1, "{err}");
    assert!(!dir.path().join("none.h5").exists());
}
