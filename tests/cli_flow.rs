//! `dmfe flow` end to end: the file it writes, the exact AQRD-AQS mapping at finite rate
//! (paper Eq. (22)), and bad configurations (one line naming the key, exit code 2, no file).

mod common;

use common::{dmfe, read};

/// A small liquid flow curve: N = 1024 on t <= 4 (40 steps), `driving` and `flow` appended.
fn config(driving: &str, flow: &str) -> String {
    format!(
        "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\neps = 1.0\n\
         [driving]\n{driving}\n[grid]\nt_max = 4.0\nsteps = 40\n[population]\nsize = 1024\n\
         seed = 2\n[output]\npath = \"out.h5\"\n[flow]\n{flow}\n"
    )
}

fn flow(dir: &std::path::Path, text: &str, out: &str) {
    std::fs::write(dir.join("c.toml"), text).unwrap();
    let run = dmfe(dir, &["flow", "c.toml", "-q", "-o", out]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Each rate runs to flow.strain / rate within [t_min, grid.t_max] on the common dt; the
/// file holds the steady averages per rate and the transients padded with NaN.
#[test]
fn flow_writes_one_point_per_rate() {
    let dir = tempfile::tempdir().unwrap();
    flow(
        dir.path(),
        &config(
            "kind = \"shear\"",
            "rates = [0.5, 2.0]\nstrain = 4.0\nt_min = 1.0\nseeds = 2",
        ),
        "f.h5",
    );
    let path = dir.path().join("f.h5");
    assert_eq!(read(&path, "rate"), vec![0.5, 2.0]);
    // rate 0.5: strain 4 needs t = 8, capped at 4; rate 2: t = 2.
    assert_eq!(read(&path, "flow/window_end"), vec![4.0, 2.0]);
    assert_eq!(read(&path, "flow/strain_max"), vec![2.0, 4.0]);
    let stress = read(&path, "startup/stress");
    assert_eq!(stress.len(), 2 * 41);
    assert!(stress[..41].iter().all(|x| x.is_finite()));
    assert!(stress[41..41 + 21].iter().all(|x| x.is_finite()));
    assert!(stress[41 + 21..].iter().all(|x| x.is_nan()));
    for name in [
        "flow/stress",
        "flow/stress_se",
        "flow/pressure",
        "flow/energy_drift_se",
        "flow/viscosity",
        "flow/diffusion",
        "flow/overshoot_strain",
        "flow/stress_over_seeds_se",
        "flow/stress_controlled",
        "flow/stress_controlled_se",
        "flow/stress_linear",
        "flow/eta_green_kubo",
    ] {
        let v = read(&path, name);
        assert_eq!(v.len(), 2, "{name}");
        assert!(v.iter().all(|x| x.is_finite()), "{name}: {v:?}");
    }
    assert!(read(&path, "flow/stress_se").iter().all(|&s| s > 0.0));
    // Every seed's own values, rate by rate: their mean and scatter are the seeds' columns,
    // and seed 0 is the point's own run.
    assert_eq!(read(&path, "seed"), vec![0.0, 1.0]);
    let per_seed = read(&path, "seeds/stress");
    assert_eq!(per_seed.len(), 4);
    for (r, (&mean, &own)) in read(&path, "flow/stress_over_seeds")
        .iter()
        .zip(&read(&path, "flow/stress"))
        .enumerate()
    {
        let (a, b) = (per_seed[2 * r], per_seed[2 * r + 1]);
        assert!(
            (mean - 0.5 * (a + b)).abs() <= 1e-15 * mean.abs().max(1e-300),
            "rate {r}"
        );
        assert_eq!(a, own, "rate {r}: seed 0 is the point's run");
    }
    // Each seed's heaviest member family: a share of M_C(t, t).
    let heaviest = read(&path, "seeds/heaviest_family");
    assert!(
        heaviest.len() == 4 && heaviest.iter().all(|&x| x > 0.0 && x <= 1.0),
        "{heaviest:?}"
    );
    for name in [
        "seeds/stress_controlled",
        "seeds/stress_linear",
        "seeds/eta_green_kubo",
    ] {
        let v = read(&path, name);
        assert!(
            v.len() == 4 && v.iter().all(|x| x.is_finite()),
            "{name}: {v:?}"
        );
    }
    // The controlled stress is the seeds' mean of stress minus control; seed 0's control
    // and linear response are stored as transients.
    let control = read(&path, "startup/stress_control");
    let linear = read(&path, "startup/stress_linear");
    assert!(control[..41]
        .iter()
        .chain(&linear[..41])
        .all(|x| x.is_finite()));
    assert_eq!(linear[0], 0.0, "no strain, no linear stress at t = 0");
    assert!(read(&path, "flow/steady")
        .iter()
        .all(|&s| s == 0.0 || s == 1.0));
    let inspect = dmfe(dir.path(), &["inspect", "f.h5"]);
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(inspect.status.success(), "{text}");
    assert!(text.contains("flow"), "{text}");
}

/// With flow.target_error each rate adds seeds until the relative error of its mean stress
/// over the seeds meets the target or flow.max_seeds is reached: the fast rate (large
/// stress, small relative scatter) stops earlier than the slow one, the counts and the
/// NaN padding of seeds/stress say how many ran, and the mean and error over those seeds
/// are flow/stress_over_seeds.
#[test]
fn a_target_error_sets_the_seeds_of_each_rate() {
    let dir = tempfile::tempdir().unwrap();
    flow(
        dir.path(),
        &config(
            "kind = \"shear\"",
            "rates = [0.5, 2.0]\nstrain = 4.0\nseeds = 4\ntarget_error = 0.11\n\
             max_seeds = 16\ncontrol = false",
        ),
        "t.h5",
    );
    let path = dir.path().join("t.h5");
    let counts = read(&path, "flow/seeds");
    let width = read(&path, "seed").len();
    assert_eq!(width as f64, counts.iter().cloned().fold(0.0, f64::max));
    let per_seed = read(&path, "seeds/stress");
    let (mean, se) = (
        read(&path, "flow/stress_over_seeds"),
        read(&path, "flow/stress_over_seeds_se"),
    );
    for (r, &n) in counts.iter().enumerate() {
        let n = n as usize;
        assert!((4..=16).contains(&n), "rate {r}: {n} seeds");
        let row = &per_seed[r * width..(r + 1) * width];
        assert!(row[..n].iter().all(|x| x.is_finite()) && row[n..].iter().all(|x| x.is_nan()));
        let m = row[..n].iter().sum::<f64>() / n as f64;
        let var = row[..n].iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!((m - mean[r]).abs() <= 1e-14 * m.abs(), "rate {r}");
        assert!((var / n as f64).sqrt() - se[r] <= 1e-14 * se[r], "rate {r}");
        // Stopped at the target, or at the cap.
        assert!(
            se[r] <= 0.11 * m.abs() || n == 16,
            "rate {r}: {n} seeds, {m} +- {}",
            se[r]
        );
        // Not later than needed: one seed fewer (past the pilot) was not enough.
        if n > 4 {
            let (m1, s1) = dmfe::flow::Seeds::mean_se(&row[..n - 1]);
            assert!(
                s1 > 0.11 * m1.abs(),
                "rate {r}: {} seeds were enough",
                n - 1
            );
        }
    }
    assert!(
        counts[1] < counts[0],
        "the fast rate needs fewer seeds: {counts:?}"
    );
    let total = read(&path, "flow/seconds_total");
    let first = read(&path, "flow/seconds");
    assert!(
        total.iter().zip(&first).all(|(t, f)| t >= f),
        "{total:?} {first:?}"
    );
}

/// Paper Eq. (22) at finite rate: random displacements of variance F at rate gamma_dot are
/// global shear at rate sqrt(F) gamma_dot, stress times sqrt(F), the same effective
/// viscosity sigma / (F gamma_dot): equal to rounding, with the same members.
#[test]
fn aqrd_flow_is_aqs_flow_at_rate_times_sqrt_f() {
    let dir = tempfile::tempdir().unwrap();
    let flow_keys = "strain = 100.0\nt_min = 4.0";
    flow(
        dir.path(),
        &config(
            "kind = \"random_displacements\"\nf = 0.64",
            &format!("rates = [0.25, 1.0]\n{flow_keys}"),
        ),
        "rd.h5",
    );
    flow(
        dir.path(),
        &config(
            "kind = \"shear\"",
            &format!("rates = [0.2, 0.8]\n{flow_keys}"),
        ),
        "aqs.h5",
    );
    let (rd, aqs) = (dir.path().join("rd.h5"), dir.path().join("aqs.h5"));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * a.abs().max(b.abs()).max(1e-3);
    let (s_rd, s_aqs) = (read(&rd, "flow/stress"), read(&aqs, "flow/stress"));
    let (v_rd, v_aqs) = (read(&rd, "flow/viscosity"), read(&aqs, "flow/viscosity"));
    for i in 0..2 {
        assert!(
            close(s_rd[i], 0.8 * s_aqs[i]),
            "{} vs {}",
            s_rd[i],
            s_aqs[i]
        );
        assert!(close(v_rd[i], v_aqs[i]), "{} vs {}", v_rd[i], v_aqs[i]);
    }
    for name in ["flow/stress_controlled", "flow/stress_linear"] {
        let (a, b) = (read(&rd, name), read(&aqs, name));
        assert!(a.iter().zip(&b).all(|(x, y)| close(*x, 0.8 * y)), "{name}");
    }
    let (t_rd, t_aqs) = (read(&rd, "startup/stress"), read(&aqs, "startup/stress"));
    assert!(t_rd.iter().zip(&t_aqs).all(|(a, b)| close(*a, 0.8 * b)));
}

#[test]
fn bad_flow_configs_are_refused_with_the_key() {
    for (text, key) in [
        (config("kind = \"shear\"", "rates = []"), "flow.rates"),
        (
            config("kind = \"shear\"", "rates = [0.3, 0.1]"),
            "flow.rates",
        ),
        (config("kind = \"shear\"", "rates = [-1.0]"), "flow.rates"),
        (config("kind = \"none\"", "rates = [0.1]"), "driving.kind"),
        (
            config("kind = \"shear\"\ngamma_dot = 0.1", "rates = [0.1]"),
            "driving.gamma_dot",
        ),
        (
            config("kind = \"shear\"\nschedule = \"step\"", "rates = [0.1]"),
            "driving.schedule",
        ),
        (
            config("kind = \"shear\"", "rates = [0.1]\nt_min = 9.0"),
            "flow.t_min",
        ),
        (
            config("kind = \"shear\"", "rates = [0.1]\nsteady_fraction = 1.0"),
            "flow.steady_fraction",
        ),
        (
            config("kind = \"shear\"", "rates = [0.1]\nspeed = 1"),
            "flow.speed",
        ),
        (config("kind = \"shear\"", ""), "flow.rates"),
        (
            config("kind = \"shear\"", "rates = [0.1]\nseeds = 0"),
            "flow.seeds",
        ),
        (
            config(
                "kind = \"shear\"",
                "rates = [0.1]\nseeds = 4\ntarget_error = 0.0",
            ),
            "flow.target_error",
        ),
        (
            config(
                "kind = \"shear\"",
                "rates = [0.1]\nseeds = 2\ntarget_error = 0.05",
            ),
            "flow.seeds",
        ),
        (
            config(
                "kind = \"shear\"",
                "rates = [0.1]\nseeds = 4\nmax_seeds = 8",
            ),
            "flow.max_seeds",
        ),
        (
            config(
                "kind = \"shear\"",
                "rates = [0.1]\nseeds = 8\ntarget_error = 0.05\nmax_seeds = 4",
            ),
            "flow.max_seeds",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.toml"), &text).unwrap();
        let out = dmfe(dir.path(), &["flow", "c.toml"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(key), "message should name {key}: {err}");
        assert!(!dir.path().join("out.h5").exists());
    }
}

/// `dmfe config flow` prints a reference config that `dmfe flow` accepts.
#[test]
fn reference_flow_config_is_valid() {
    let value = toml::Value::Table(dmfe::config::FLOW_REFERENCE_CONFIG.parse().unwrap());
    let cfg: dmfe::config::FlowConfig = dmfe::config::from_value(value).unwrap();
    cfg.validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dmfe(dir.path(), &["config", "flow"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        dmfe::config::FLOW_REFERENCE_CONFIG
    );
}

/// Without interactions (phi_hat = 0) the particle diffuses freely under any shear:
/// D = dDelta_r/dt = T/zeta_hat over the window (exact in the scheme), zero stress.
#[test]
fn free_particles_diffuse_at_t_over_zeta_under_shear() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        config("kind = \"shear\"", "rates = [1.0]").replace("phi_hat = 2.0", "phi_hat = 0.0");
    flow(dir.path(), &text, "free.h5");
    let path = dir.path().join("free.h5");
    let d = read(&path, "flow/diffusion")[0];
    assert!((d - 0.5).abs() < 1e-12, "D = {d}, T/zeta_hat = 0.5");
    assert_eq!(read(&path, "flow/stress")[0], 0.0);
    assert_eq!(read(&path, "flow/steady")[0], 1.0);
}
