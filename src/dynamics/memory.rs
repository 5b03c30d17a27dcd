//! What a run needs in memory, estimated before solving, so a run that cannot fit is refused
//! at once instead of aborting on an allocation after minutes of work.
//!
//! At the last (full) window of an n-point grid the largest arrays are n x n matrices of
//! f64: the iterate's kernels M_C, M_R (2), the pass's new kernels and running sums (4),
//! the partial sums of the blocks of one parallel wave (2 per block), the particle's R and C
//! and the two-time MSD (3), the noise covariance and its Cholesky factor (2), and each
//! thread's response workspace (2 per thread); plus each running block's lanes (about 10
//! vectors of n per lane: BLOCK lanes, or up to `lanes_per_member` x BLOCK with importance
//! splitting) and its tally (7 x n per member for the family sums, 2 x n per buffered lane of
//! forces). Memory does not grow with the population size beyond one wave.

use super::population::{BLOCK, WAVE};
use super::tally::FORCE_BATCH;
use super::Problem;

/// Estimated peak memory of solving `problem` on `threads` threads, in bytes.
pub fn peak_bytes(problem: &Problem, threads: usize) -> u64 {
    let n = problem.grid.len() as u64;
    let blocks = problem.population.size.div_ceil(BLOCK) as u64;
    let wave = blocks.min(WAVE as u64);
    let threads = threads.max(1) as u64;
    let matrices = 11 + 2 * wave + 2 * threads;
    let lanes = problem
        .population
        .splitting
        .map_or(1, |s| s.lanes_per_member.max(1)) as u64
        * BLOCK as u64;
    let tally = 7 * BLOCK as u64 + 2 * FORCE_BATCH as u64;
    let block_arrays = (10 * lanes + tally) * threads.min(wave);
    8 * (matrices * n * n + block_arrays * n)
}

/// The memory the system reports as available (`MemAvailable` of /proc/meminfo), in bytes;
/// None where it cannot be read.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_memory_is_read_on_linux() {
        if std::path::Path::new("/proc/meminfo").exists() {
            assert!(available_bytes().is_some_and(|b| b > 1 << 20));
        }
    }
}
