//! HDF5 output: a self-describing file writer (this module) and the layouts written by the
//! dynamical and static solvers.

mod provenance;
mod run_file;
mod static_file;
mod writer;

pub use provenance::Provenance;
pub use run_file::write_run;
pub use static_file::write_static;
pub use writer::H5Writer;

/// Value of the root attribute `dmfe_format` that marks files written by this program.
pub const FORMAT_TAG: &str = "dmfe-1";
