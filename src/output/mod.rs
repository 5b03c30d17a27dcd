//! HDF5 output: a self-describing file writer, the layouts written by the dynamical, flow
//! and static solvers, the lock that keeps two runs off one output, and the typed reader of
//! all of them.

mod flow_file;
mod lock;
mod provenance;
mod reader;
mod run_file;
mod scales;
mod static_file;
mod writer;

pub use flow_file::write_flow;
pub use lock::OutputLock;
pub use provenance::Provenance;
pub use reader::{is_numeric, read_attr, AttrValue, OutputFile};
pub use run_file::write_run;
pub use static_file::write_static;
pub use writer::{same_file, H5Writer};

/// Value of the root attribute `dmfe_format` that marks files written by this program.
pub const FORMAT_TAG: &str = "dmfe-1";
