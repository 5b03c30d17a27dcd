//! The MPI ranks of `mpirun -n R dmfe ...` (cargo feature `mpi`, the rsmpi crate).

use std::sync::Mutex;

use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Threading;

use super::Ranks;

/// MPI_COMM_WORLD, initialised with MPI_THREAD_SERIALIZED: the solver calls MPI from one
/// thread at a time (the one running the iteration, a pool thread), never from the
/// population's worker threads. MPI is finalised when the `World` is dropped.
pub struct World {
    comm: Mutex<Comm>,
    rank: usize,
    count: usize,
    _universe: Universe,
}

/// The communicator handle, only ever used under the `World`'s mutex.
struct Comm(SimpleCommunicator);

// SAFETY: MPI was initialised with MPI_THREAD_SERIALIZED, which allows calls from any
// thread provided no two are concurrent; the mutex around `Comm` serialises them.
unsafe impl Send for Comm {}

impl World {
    /// Initialises MPI (a process started without `mpirun` is a world of one rank), or
    /// None when MPI cannot be initialised with serialised threading.
    pub fn initialize() -> Option<World> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)?;
        if threading < Threading::Serialized {
            return None;
        }
        let comm = universe.world();
        let (rank, count) = (comm.rank() as usize, comm.size() as usize);
        Some(World {
            comm: Mutex::new(Comm(comm)),
            rank,
            count,
            _universe: universe,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&SimpleCommunicator) -> T) -> T {
        let comm = self.comm.lock().expect("no MPI call panicked");
        f(&comm.0)
    }
}

impl Ranks for World {
    fn rank(&self) -> usize {
        self.rank
    }

    fn count(&self) -> usize {
        self.count
    }

    fn first_flagged(&self, flag: bool) -> Option<usize> {
        let mine = if flag { self.rank } else { self.count } as u64;
        let mut lowest = 0u64;
        self.with(|c| c.all_reduce_into(&mine, &mut lowest, SystemOperation::min()));
        ((lowest as usize) < self.count).then_some(lowest as usize)
    }

    fn send_to_root(&self, data: &[f64]) {
        self.with(|c| c.process_at_rank(0).send(data));
    }

    fn receive_from(&self, rank: usize) -> Vec<f64> {
        self.with(|c| c.process_at_rank(rank as i32).receive_vec::<f64>().0)
    }

    fn broadcast(&self, data: &mut Vec<f64>) {
        self.with(|c| {
            let root = c.process_at_rank(0);
            let mut len = data.len() as u64;
            root.broadcast_into(&mut len);
            data.resize(len as usize, 0.0);
            root.broadcast_into(&mut data[..]);
        });
    }
}
