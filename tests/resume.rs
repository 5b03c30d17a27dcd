//! Issue #5: checkpoints, resume, interruption, hostile input.

mod common;

use common::{assert_same_results, dmfe};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const CONFIG: &str = "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\n\
                      eps = 1.0\n[driving]\nkind = \"shear\"\nschedule = \"rate\"\ngamma_dot = 0.2\n\
                      [grid]\nt_max = 1.5\nsteps = 75\n[population]\nsize = 40000\n\
                      [output]\npath = \"out.h5\"\n";

/// Starts `dmfe run c.toml --quiet` in `dir` in the background, its stderr piped.
fn spawn_run(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dmfe"))
        .current_dir(dir)
        .args(["run", "c.toml", "--quiet"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the checkpoint holds at least two iterations' worth of time, then returns.
fn wait_for(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < limit, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
}

/// SIGKILL part-way and resume: every dataset equals the uninterrupted run's, for the plain
/// population and for a split one with entrants.
#[test]
fn sigkill_then_resume_is_bit_identical() {
    let entering = CONFIG.replace(
        "size = 40000\n",
        "size = 40000\nsplitting = true\nentrants = 40\n",
    );
    assert_ne!(entering, CONFIG);
    for config in [CONFIG, &entering] {
        sigkill_then_resume(config);
    }
}

fn sigkill_then_resume(config: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    let reference = dmfe(dir.path(), &["run", "c.toml", "-o", "ref.h5", "--quiet"]);
    assert!(
        reference.status.success(),
        "{}",
        String::from_utf8_lossy(&reference.stderr)
    );
    let mut child = spawn_run(dir.path());
    wait_for(&dir.path().join("out.h5.ckpt"), Duration::from_secs(60));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!dir.path().join("out.h5").exists(), "killed before the end");
    let resumed = dmfe(dir.path(), &["run", "--resume", "out.h5.ckpt", "--quiet"]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        !dir.path().join("out.h5.ckpt").exists(),
        "checkpoint removed at the end"
    );
    assert_same_results(&dir.path().join("ref.h5"), &dir.path().join("out.h5"));
}

#[test]
fn sigint_keeps_checkpoint_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), CONFIG).unwrap();
    let child = spawn_run(dir.path());
    wait_for(&dir.path().join("out.h5.ckpt"), Duration::from_secs(60));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("dmfe run --resume"), "{err}");
    assert!(dir.path().join("out.h5.ckpt").exists());
    assert!(!dir.path().join("out.h5").exists());
    // Resuming with a config that changes the physics is refused, naming the key.
    let changed = dmfe(
        dir.path(),
        &[
            "run",
            "--resume",
            "out.h5.ckpt",
            "--set",
            "model.phi_hat=2.5",
        ],
    );
    let err = String::from_utf8_lossy(&changed.stderr);
    assert_eq!(changed.status.code(), Some(2), "{err}");
    assert!(err.contains("model.phi_hat"), "{err}");
    // A safe key needs --allow-change.
    let safe = [
        "run",
        "--resume",
        "out.h5.ckpt",
        "--set",
        "solver.max_iterations=90",
        "--quiet",
    ];
    let refused = dmfe(dir.path(), &safe);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-change"));
    let mut allowed = safe.to_vec();
    allowed.push("--allow-change");
    let ok = dmfe(dir.path(), &allowed);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(dir.path().join("out.h5").exists());
}

#[test]
fn output_problems_are_reported_before_solving_and_never_destroy_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), CONFIG).unwrap();
    let start = Instant::now();
    let out = dmfe(dir.path(), &["run", "c.toml", "-o", "no/such/dir/x.h5"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no/such/dir/x.h5"), "{err}");
    assert!(
        err.contains("output directory no/such/dir does not exist") && err.lines().count() == 1,
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "failed only after solving"
    );
    // A run that fails (no convergence in 1 iteration) leaves an existing file untouched.
    std::fs::write(dir.path().join("keep.h5"), b"precious").unwrap();
    let out = dmfe(
        dir.path(),
        &[
            "run",
            "c.toml",
            "-o",
            "keep.h5",
            "--set",
            "solver.max_iterations=1",
            "--quiet",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not converged"));
    assert_eq!(
        std::fs::read(dir.path().join("keep.h5")).unwrap(),
        b"precious"
    );
    assert!(!dir.path().join("keep.h5.tmp").exists());
}

/// The config loader never panics: 3000 random mutations of a valid config (bytes changed,
/// lines dropped or duplicated, values replaced by odd ones) all give Ok or a config error.
#[test]
fn config_loader_never_panics_on_mutated_input() {
    use rand::{RngExt, SeedableRng};
    let base = dmfe::config::REFERENCE_CONFIG;
    let lines: Vec<&str> = base.lines().collect();
    let odd = [
        "-1",
        "0",
        "1e400",
        "nan",
        "inf",
        "\"x\"",
        "[]",
        "[1, \"a\"]",
        "{}",
        "true",
        "99999999999999999999",
        "-0.0",
        "",
    ];
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.toml");
    for case in 0..3000 {
        let mut ls: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..ls.len());
            match rng.random_range(0..4) {
                0 => {
                    ls.remove(i);
                }
                1 => {
                    let l = ls[i].clone();
                    ls.insert(i, l);
                }
                2 => {
                    if let Some((k, _)) = ls[i].clone().split_once('=') {
                        ls[i] = format!("{k}= {}", odd[rng.random_range(0..odd.len())]);
                    }
                }
                _ => {
                    let mut bytes = ls[i].clone().into_bytes();
                    if !bytes.is_empty() {
                        let j = rng.random_range(0..bytes.len());
                        bytes[j] = rng.random_range(32u8..127);
                    }
                    ls[i] = String::from_utf8_lossy(&bytes).into_owned();
                }
            }
        }
        std::fs::write(&path, ls.join("\n")).unwrap();
        let result = std::panic::catch_unwind(|| dmfe::config::RunConfig::load(&path, &[]));
        match result {
            Ok(Ok(_)) | Ok(Err(dmfe::Error::Config { .. })) => {}
            Ok(Err(e)) => panic!("case {case}: unexpected error kind {e}"),
            Err(_) => panic!("case {case}: the loader panicked on:\n{}", ls.join("\n")),
        }
    }
}

/// Raises `flag` during the final iteration (the converged one on the whole grid), before
/// the checkpointer that follows it in the observer list sees it.
struct InterruptFinal<'a>(&'a std::sync::atomic::AtomicBool);

impl dmfe::dynamics::Observer for InterruptFinal<'_> {
    fn observe(
        &mut self,
        r: &dmfe::dynamics::IterationReport,
        _: &dmfe::dynamics::SolverState,
    ) -> dmfe::Result<()> {
        if r.residual <= r.target && r.window == r.grid_points {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }
}

/// A checkpoint taken during the final iteration (an interrupt then, or a full disk while
/// the output is written) resumes to the same file as the uninterrupted run.
#[test]
fn checkpoint_of_the_final_iteration_resumes_bit_identically() {
    use dmfe::checkpoint::{self, Checkpointer};
    use dmfe::config::RunConfig;
    use dmfe::dynamics::{solve, solve_from};
    use dmfe::output::{write_run, Provenance};
    use dmfe::ranks::OneProcess;
    use std::sync::atomic::AtomicBool;

    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("c.toml");
    std::fs::write(&config_path, CONFIG.replace("size = 40000", "size = 10000")).unwrap();
    let config = RunConfig::load(&config_path, &[]).unwrap();
    let (problem, spec) = config.problem().unwrap();
    let provenance = Provenance {
        ranks: 1,
        threads: 1,
        wall_seconds: 0.0,
        git_commit: None,
    };
    let reference = solve(&problem, &spec, &mut []).unwrap();
    let ref_path = dir.path().join("ref.h5");
    write_run(&ref_path, &config, &problem, &reference, &provenance).unwrap();

    let interrupt = AtomicBool::new(false);
    let ckpt = dir.path().join("out.h5.ckpt");
    let mut checkpointer = Checkpointer {
        path: ckpt.clone(),
        config_toml: config.to_toml(),
        wall_before: 0.0,
        started: Instant::now(),
        interrupt: &interrupt,
        saved_iteration: 0,
    };
    let stopped = solve(
        &problem,
        &spec,
        &mut [&mut InterruptFinal(&interrupt), &mut checkpointer],
    );
    match stopped {
        Err(dmfe::Error::Interrupted { iteration, .. }) => {
            // Stopped at the final iteration, whose checkpoint holds the state before it:
            // the message names the iterations that state has done.
            assert_eq!(
                iteration,
                reference.history.len() - 1,
                "stopped at the final iteration"
            )
        }
        other => panic!("expected an interruption, got {:?}", other.map(|_| ())),
    }
    let saved = checkpoint::read(&ckpt).unwrap();
    let resumed = solve_from(&problem, &spec, saved.state, &mut [], &OneProcess).unwrap();
    assert_eq!(
        resumed.history.len(),
        reference.history.len(),
        "no extra iterations"
    );
    let out = dir.path().join("out.h5");
    write_run(&out, &config, &problem, &resumed, &provenance).unwrap();
    assert_same_results(&ref_path, &out);
}

/// Flips one byte of the stored data of dataset `name` in the HDF5 file at `path`.
fn flip_data_byte(path: &Path, name: &str) {
    let addr = {
        let f = hdf5::File::open(path).unwrap();
        let ds = f.dataset(name).unwrap();
        ds.chunk_info(0).expect("chunked, so checksummed").addr
    };
    let mut bytes = std::fs::read(path).unwrap();
    bytes[addr as usize + 8] ^= 0x10;
    std::fs::write(path, bytes).unwrap();
}

/// A damaged byte in a checkpoint or a run file fails the read with one line, instead of
/// being resumed from or printed. Both files are written and read by dmfe processes: an
/// HDF5 file this process wrote could be locked by a child another test spawned meanwhile
/// (HDF5 does not open its files close-on-exec).
#[test]
fn a_flipped_byte_is_caught_by_the_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let small = CONFIG
        .replace("size = 40000", "size = 2000")
        .replace("steps = 75", "steps = 10");
    std::fs::write(dir.path().join("s.toml"), small).unwrap();
    // A run stopped by the iteration limit keeps its checkpoint.
    let args = ["run", "s.toml", "-o", "x.h5", "--quiet"];
    let stopped = dmfe(
        dir.path(),
        &[&args[..], &["--set", "solver.max_iterations=1"]].concat(),
    );
    assert_eq!(stopped.status.code(), Some(1));
    flip_data_byte(&dir.path().join("x.h5.ckpt"), "kernels/m_c");
    let out = dmfe(dir.path(), &["run", "--resume", "x.h5.ckpt", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("checkpoint: {err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("x.h5.ckpt") && err.contains("checksum"),
        "{err}"
    );
    assert!(!dir.path().join("x.h5").exists());

    let out = dmfe(dir.path(), &["run", "s.toml", "-o", "run.h5", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    flip_data_byte(&dir.path().join("run.h5"), "kernels/kappa");
    let out = dmfe(dir.path(), &["inspect", "run.h5", "kernels/kappa"]);
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("run file: {err}");
    assert!(!out.status.success());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("run.h5") && err.contains("checksum"), "{err}");
}

fn signal(child: &std::process::Child, name: &str) {
    let kill = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}

/// Two runs never write one output: the second is refused while the first holds the lock;
/// a new run does not overwrite another run's checkpoint, nor write over the checkpoint it
/// resumes; the wall time of a resumed run counts every segment.
#[test]
fn runs_never_clobber_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.toml"), CONFIG).unwrap();
    let child = spawn_run(d);
    wait_for(&d.join("out.h5.ckpt"), Duration::from_secs(60));
    assert!(d.join("out.h5.lock").exists());
    let missing = dmfe(d, &["run", "--resume", "gone.h5.ckpt"]);
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("gone.h5.ckpt: no such checkpoint"), "{err}");
    for args in [
        vec!["run", "c.toml", "--quiet"],
        vec![
            "run",
            "c.toml",
            "-o",
            "out.h5",
            "--set",
            "model.phi_hat=3.0",
        ],
    ] {
        let second = dmfe(d, &args);
        let err = String::from_utf8_lossy(&second.stderr);
        assert_eq!(second.status.code(), Some(2), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("another dmfe run is writing out.h5"), "{err}");
    }
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(
        !d.join("out.h5.lock").exists(),
        "lock file removed at the end"
    );
    let before = std::fs::read(d.join("out.h5.ckpt")).unwrap();

    // Another run's checkpoint is kept, and the message says how to resume it; so is a file
    // that is no checkpoint.
    let other = dmfe(
        d,
        &["run", "c.toml", "--set", "model.phi_hat=3.0", "--quiet"],
    );
    let err = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("model.phi_hat") && err.contains("dmfe run --resume out.h5.ckpt"),
        "{err}"
    );
    std::fs::write(d.join("junk.h5.ckpt"), b"junk").unwrap();
    let junk = dmfe(d, &["run", "c.toml", "-o", "junk.h5", "--quiet"]);
    let err = String::from_utf8_lossy(&junk.stderr);
    assert_eq!(junk.status.code(), Some(2), "{err}");
    assert!(err.contains("not a readable checkpoint"), "{err}");
    assert_eq!(std::fs::read(d.join("junk.h5.ckpt")).unwrap(), b"junk");
    // The checkpoint being resumed is no output.
    let onto = dmfe(d, &["run", "--resume", "out.h5.ckpt", "-o", "out.h5.ckpt"]);
    let err = String::from_utf8_lossy(&onto.stderr);
    assert_eq!(onto.status.code(), Some(2), "{err}");
    assert!(
        err.contains("output.path") && err.contains("input"),
        "{err}"
    );
    assert_eq!(std::fs::read(d.join("out.h5.ckpt")).unwrap(), before);

    // Resumed: the wall time is that of both segments.
    let saved = dmfe::checkpoint::read(&d.join("out.h5.ckpt")).unwrap();
    assert!(saved.wall_seconds > 0.0);
    let resumed = dmfe(d, &["run", "--resume", "out.h5.ckpt", "--quiet"]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let f = hdf5::File::open(d.join("out.h5")).unwrap();
    let wall: f64 = f
        .group("provenance")
        .unwrap()
        .attr("wall_seconds")
        .unwrap()
        .read_scalar()
        .unwrap();
    let seconds = f
        .dataset("convergence/seconds")
        .unwrap()
        .read_raw::<f64>()
        .unwrap();
    let second_segment: f64 = seconds[saved.state.history.len()..].iter().sum();
    assert!(
        wall >= saved.wall_seconds + second_segment,
        "wall {wall} < first segment {} + iterations of the second {second_segment}",
        saved.wall_seconds
    );
}

/// A SIGINT is seen between waves of population blocks: the run stops within a small
/// fraction of an iteration (it used to finish the iteration first), with exit code 130, the
/// resume command, and a checkpoint that stays usable. (A second signal exits at once even
/// where no poll happens, e.g. while the output is written.)
#[test]
fn a_signal_stops_the_run_within_an_iteration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("c.toml"),
        CONFIG.replace("size = 40000", "size = 1000000"),
    )
    .unwrap();
    let child = spawn_run(d);
    wait_for(&d.join("out.h5.ckpt"), Duration::from_secs(120));
    let first = dmfe::checkpoint::read(&d.join("out.h5.ckpt")).unwrap();
    signal(&child, "-INT");
    let sent = Instant::now();
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted after iteration") && err.contains("--resume"),
        "{err}"
    );
    let iteration = first.state.history[0].seconds;
    assert!(
        took.as_secs_f64() < 0.5 * iteration,
        "exited {took:?} after the signal; an iteration takes {iteration} s"
    );
    assert!(dmfe::checkpoint::read(&d.join("out.h5.ckpt")).is_ok());
}
