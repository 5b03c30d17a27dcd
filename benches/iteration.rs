//! Benchmark of one solver iteration: the population pass (gap integration, coloured
//! noise, M_C products: the "kernel" part; exact per-member response: the "response" part)
//! at realistic kernels (taken from a converged short solve, extended to the grid).
//!
//! Each size also times a one-thread dense GEMM at the shape of a block's M_C product and
//! prints both parts as percentages of it (the roofline this machine reaches).
//!
//! `cargo bench` runs N = 4096, Nt = 256 and N = 10000, Nt = 1024; set
//! `DMFE_BENCH="N:STEPS,N:STEPS"` to choose other sizes.

use std::time::Instant;

use dmfe::config::{from_value, RunConfig};
use dmfe::dynamics::particle::solve_particle;
use dmfe::dynamics::population::{average, PassControl};
use dmfe::dynamics::solve;
use dmfe::linalg::{cholesky_regularised, gemm_add};
use ndarray::Array2;

fn config(size: usize, steps: usize) -> RunConfig {
    let text = format!(
        "[model]\nphi_hat = 2.0\nT = 0.5\nT0 = 0.5\n[potential]\nkind = \"harmonic\"\neps = 1.0\n\
         [grid]\nt_max = {}\nsteps = {steps}\n[population]\nsize = {size}\n[solver]\n\
         max_iterations = 200\n[output]\npath = \"bench.h5\"\n",
        0.01 * steps as f64
    );
    from_value(toml::Value::Table(text.parse().unwrap())).unwrap()
}

fn bench(size: usize, steps: usize) {
    let cfg = config(size, steps);
    let (problem, _) = cfg.problem().unwrap();
    // Realistic kernels: a converged solve on a short grid, extended along diagonals (M_C
    // as the exponential through its converged values at lags 0 and m/2, a positive-definite
    // Toeplitz matrix: the noisy converged row itself need not be).
    let short = config(4000, 100);
    let (sp, ss) = short.problem().unwrap();
    let sol = solve(&sp, &ss, &mut []).unwrap();
    let n = problem.grid.len();
    let ks = &sol.kernels;
    let m = ks.kappa.len();
    let mut kernels = dmfe::dynamics::Kernels::zeros(n);
    let c0 = ks.m_c[[m - 1, m - 1]];
    let c_half = ks.m_c[[m - 1, m - 1 - m / 2]].clamp(1e-3 * c0, 0.999 * c0);
    let decay = (c0 / c_half).ln() / (m / 2) as f64;
    for i in 0..n {
        kernels.kappa[i] = ks.kappa[i.min(m - 1)];
        for j in 0..n {
            let lag = i.abs_diff(j);
            kernels.m_c[[i, j]] = c0 * (-decay * lag as f64).exp();
            if j <= i {
                kernels.m_r[[i, j]] = ks.m_r[[m - 1, m - 1 - lag.min(m - 1)]];
            }
        }
    }
    let wall = Instant::now();
    let particle = solve_particle(&problem.model, &problem.grid, &kernels, n);
    let cov: Array2<f64> = kernels.m_c.clone();
    let (chol, _) = cholesky_regularised(cov.view()).expect("a covariance");
    let avg = average(
        &problem,
        &kernels,
        particle.delta_r.as_slice().unwrap(),
        chol.view(),
        n,
        1,
        PassControl::alone(),
    )
    .unwrap();
    let secs = wall.elapsed().as_secs_f64();
    let w = avg.work;
    let threads = rayon::current_num_threads();
    let kernel = 2.0 * w.kernel_flops as f64 / w.kernel_seconds / 1e9;
    let response = 2.0 * w.response_flops as f64 / w.response_seconds.max(1e-12) / 1e9;
    let gemm = gemm_speed(n);
    println!(
        "N = {size:6}, Nt = {n:5}: one iteration {secs:8.3} s wall on {threads} threads, \
         {:7.1} ns per member-step; kernel part {kernel:5.2} GFLOP/s per thread ({:.3} \
         thread-s), response part {response:5.2} GFLOP/s per thread ({:.3} thread-s, {:.2e} \
         multiply-adds); one-thread GEMM of the block's M_C shape ({n} x 256 x {n}) \
         {gemm:5.2} GFLOP/s: kernel part at {:.1}% and response part at {:.1}% of it",
        secs * 1e9 / (size * n) as f64,
        w.kernel_seconds,
        w.response_seconds,
        w.response_flops as f64,
        100.0 * kernel / gemm,
        100.0 * response / gemm,
    );
}

/// GFLOP/s of one thread's dense GEMM at the shape of a block's M_C product (Nt x 256
/// forces times their transpose), the best of a few repetitions.
fn gemm_speed(n: usize) -> f64 {
    let lanes = 256;
    let a = Array2::from_shape_fn((lanes, n), |(i, j)| ((i * 7 + j * 13) % 17) as f64 - 8.0);
    let mut c = Array2::<f64>::zeros((n, n));
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let clock = Instant::now();
        gemm_add(c.view_mut(), 1.0, a.view(), true, a.view(), false);
        best = best.min(clock.elapsed().as_secs_f64());
    }
    2.0 * (n * n * lanes) as f64 / best / 1e9
}

fn main() {
    let sizes = std::env::var("DMFE_BENCH").unwrap_or_else(|_| "4096:255,10000:1023".into());
    for pair in sizes.split(',') {
        let (n, s) = pair.split_once(':').expect("N:STEPS");
        bench(n.parse().unwrap(), s.parse().unwrap());
    }
}
