//! `dmfe inspect` end to end on a small strained run: the summary shows the stress, the
//! convected stress of Eq. (24), the pressures and the energy, each with its standard error;
//! slices of the observables and the config attributes; bad requests fail with one line and exit code 2.

mod common;

use common::dmfe;

use std::process::Output;

const STEP: &str = "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\n\
                    eps = 1.0\n[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = 0.3\n\
                    t_step = 0.1\nramp = 0.05\n[grid]\nt_max = 0.4\nsteps = 20\n\
                    [population]\nsize = 1000\n[output]\npath = \"out.h5\"\n";

fn refused(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{what}: one line: {err}");
}

#[test]
fn summary_slices_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), STEP).unwrap();
    let out = dmfe(dir.path(), &["run", "c.toml", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = dmfe(dir.path(), &["inspect", "out.h5"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for label in [
        "stress (work conjugate of gamma)(t = 0.4) = ",
        "convected stress, paper Eq. (24)(t = 0.4) = ",
        "pressure P(t = 0.4) = ",
        "pressure along the driving P_c(t = 0.4) = ",
        "energy(t = 0.4) = ",
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("no line '{label}' in\n{text}"));
        assert!(line.contains(" +- "), "no standard error: {line}");
    }

    let out = dmfe(dir.path(), &["inspect", "out.h5", "observables", "--csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8_lossy(&out.stdout);
    let header = csv.lines().find(|l| !l.starts_with('#')).unwrap();
    for column in ["stress", "stress_convected", "pressure", "pressure_c_se"] {
        assert!(
            header.split(',').any(|c| c == column),
            "{column} missing: {header}"
        );
    }
    assert_eq!(csv.lines().filter(|l| !l.starts_with('#')).count(), 22);

    let out = dmfe(dir.path(), &["inspect", "out.h5", "config"]);
    assert!(out.status.success());
    let config = String::from_utf8_lossy(&out.stdout);
    for line in ["phi_hat = 2", "schedule = step", "population_size = 1000"] {
        assert!(
            config.lines().any(|l| l == line),
            "'{line}' missing:\n{config}"
        );
    }

    for at in ["nan", "inf", "-inf"] {
        let arg = format!("--at={at}");
        refused(
            &dmfe(dir.path(), &["inspect", "out.h5", "kernels/m_c", &arg]),
            &format!("--at {at}"),
        );
    }
    refused(
        &dmfe(dir.path(), &["inspect", "out.h5", "no/such"]),
        "missing dataset",
    );
    std::fs::write(dir.path().join("junk.h5"), "not hdf5").unwrap();
    refused(
        &dmfe(dir.path(), &["inspect", "junk.h5"]),
        "not an HDF5 file",
    );
}

/// An equilibrium run gets the identities with a verdict: kappa = beta M_C(t,t) and the TTI
/// of M_C(t,t) in standard errors (they hold within the noise at this size), the others
/// marked as having no standard error.
#[test]
fn equilibrium_identities_have_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let eq = STEP.replace(
        "[driving]\nkind = \"shear\"\nschedule = \"step\"\ngamma0 = 0.3\n\
         t_step = 0.1\nramp = 0.05\n",
        "",
    );
    assert!(!eq.contains("driving"));
    std::fs::write(dir.path().join("c.toml"), eq).unwrap();
    assert!(dmfe(dir.path(), &["run", "c.toml", "--quiet"])
        .status
        .success());
    let out = dmfe(dir.path(), &["inspect", "out.h5"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for start in [
        "  kappa(t) = beta M_C(t,t): at most ",
        "  M_C(t,t) = M_C(0,0) (TTI): at most ",
        "  Delta(t,s) = Delta_r(t-s) (TTI): at most ",
        "  int_s^t M_R(t,u) du = beta [M_C(t,t) - M_C(t,s)] (kernel FDT): at most ",
        "  R(t,s) = beta Delta_r'(t-s) (particle FDT): at most ",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no '{start}' in\n{text}"));
        assert!(line.contains("holds within the noise"), "{line}");
    }
    assert!(
        text.contains("time-averaged (beta M_C(t,t) - kappa(t))/kappa(0)"),
        "{text}"
    );
}

/// The typed reader gives back, bit for bit, the solution `dmfe run` wrote (kernels,
/// particle, their errors, the observables), and the equilibrium verdicts it feeds can fail:
/// the particle's R scaled by 1.2 violates R(t,s) = beta Delta_r'(t-s) by many standard
/// errors, and kappa shifted by 20% violates kappa = beta M_C(t,t), while the solution as
/// solved passes both.
#[test]
fn typed_reader_round_trip_and_failing_verdicts() {
    use dmfe::dynamics::diagnostics::equilibrium_residuals;
    use dmfe::inspect::OutputFile;
    let text = common::liquid("", 20_000, 30, 0.6).replace("unused.h5", "out.h5");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), &text).unwrap();
    assert!(dmfe(dir.path(), &["run", "c.toml", "--quiet"])
        .status
        .success());
    let read = OutputFile::open(&dir.path().join("out.h5"))
        .unwrap()
        .solution()
        .expect("a run file holds a solution");
    let solved = common::run(&text);
    assert_eq!(read.kernels, solved.kernels);
    assert_eq!(read.particle, solved.particle);
    assert_eq!(read.particle_se, solved.particle_se);
    assert_eq!(read.averages.stress, solved.averages.stress);
    assert_eq!(read.averages.energy, solved.averages.energy);
    assert_eq!(read.averages.kappa_se, solved.averages.kappa_se);

    let n = solved.kernels.kappa.len();
    let holds = |sol: &dmfe::dynamics::Solution, identity: &str| {
        equilibrium_residuals(sol, 0.5, 0.02, dmfe::dynamics::Scheme::Discrete)
            .verdicts(n)
            .into_iter()
            .find(|v| v.identity.starts_with(identity))
            .and_then(|v| v.holds())
            .expect("standard errors present")
    };
    assert!(holds(&solved, "R(t,s)"));
    assert!(holds(&solved, "kappa(t)"));
    let mut bad_r = read.clone();
    bad_r.particle.r *= 1.2;
    assert!(!holds(&bad_r, "R(t,s)"));
    let mut bad_kappa = read;
    bad_kappa.kernels.kappa *= 1.2;
    assert!(!holds(&bad_kappa, "kappa(t)"));
}
