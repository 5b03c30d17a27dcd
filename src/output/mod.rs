//! HDF5 output: a self-describing file writer (this module), the layouts written by the
//! dynamical and static solvers, and the lock that keeps two runs off one output.

mod lock;
mod provenance;
mod run_file;
mod scales;
mod static_file;
mod writer;

pub use lock::OutputLock;
pub use provenance::Provenance;
pub use run_file::write_run;
pub use static_file::write_static;
pub use writer::{same_file, H5Writer};

/// Value of the root attribute `dmfe_format` that marks files written by this program.
pub const FORMAT_TAG: &str = "dmfe-1";
