//! The processes a run is spread over, and the few collective operations the solver needs.
//!
//! A population pass is a sum over waves of member blocks (`dynamics::population`). With
//! several processes (MPI ranks, cargo feature `mpi`), wave c is integrated by rank c mod R,
//! rank 0 adds the waves' sums in wave order, and every rank receives the total. The waves
//! and their order do not depend on R, so the sums, and hence the whole run, are
//! bit-identical for any number of ranks (and of threads within each). Everything else the
//! solver does (particle equations, Cholesky factors, convergence decisions) is repeated on
//! every rank on identical data, so all ranks take the same decisions without talking.
//! [`OneProcess`] is the ordinary, single-process run.

#[cfg(feature = "mpi")]
mod world;

use crate::error::{Error, Result};

#[cfg(feature = "mpi")]
pub use world::World;

/// The processes of a run and their collective operations. Every rank calls each collective
/// operation at the same point of the computation.
pub trait Ranks: Sync {
    /// This process's rank, 0 for the one that writes files.
    fn rank(&self) -> usize;
    /// The number of processes R.
    fn count(&self) -> usize;
    /// On every rank: the lowest rank that passed `flag` = true, if any.
    fn first_flagged(&self, flag: bool) -> Option<usize>;
    /// Sends `data` to rank 0 (called on ranks other than 0).
    fn send_to_root(&self, data: &[f64]);
    /// Receives the next message `rank` sent to rank 0 (called on rank 0).
    fn receive_from(&self, rank: usize) -> Vec<f64>;
    /// Replaces `data` on every rank by rank 0's `data`.
    fn broadcast(&self, data: &mut Vec<f64>);

    /// True on the process that writes output, checkpoints and progress.
    fn is_root(&self) -> bool {
        self.rank() == 0
    }
}

/// Which rank reports a failure: collectively, the lowest rank whose error is its `own`
/// (not an [`Error::OtherRank`] relayed from elsewhere), when that is another rank than this
/// one; None when it is this one or no rank failed.
pub fn reporter_elsewhere(ranks: &dyn Ranks, own: bool) -> Option<usize> {
    ranks
        .first_flagged(own)
        .filter(|&rank| rank != ranks.rank())
}

/// The same outcome on every rank: when some ranks fail, the lowest of them keeps its error
/// and every other rank gets [`Error::OtherRank`] naming it, so that each cause is reported
/// once (by rank 0 for what all ranks share, such as a run that does not converge).
pub fn agree<T>(ranks: &dyn Ranks, result: Result<T>) -> Result<T> {
    let own = matches!(&result, Err(e) if !matches!(e, Error::OtherRank { .. }));
    match reporter_elsewhere(ranks, own) {
        Some(rank) => Err(Error::OtherRank { rank }),
        None => result,
    }
}

/// A run in one process: no messages, every collective operation is the identity.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneProcess;

impl Ranks for OneProcess {
    fn rank(&self) -> usize {
        0
    }

    fn count(&self) -> usize {
        1
    }

    fn first_flagged(&self, flag: bool) -> Option<usize> {
        flag.then_some(0)
    }

    fn send_to_root(&self, _data: &[f64]) {
        unreachable!("a single process sends nothing: it is rank 0")
    }

    fn receive_from(&self, rank: usize) -> Vec<f64> {
        unreachable!("a single process has no rank {rank} to receive from")
    }

    fn broadcast(&self, _data: &mut Vec<f64>) {}
}
