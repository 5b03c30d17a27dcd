//! `dmfe inspect`: a summary of a run or static file, a row slice of a two-time dataset,
//! a one-dimensional dataset or a whole group as columns or CSV.
//!
//! Reading is [`crate::output::OutputFile`]'s; this module only formats: [`summary`]
//! (what run this is, whether it converged, key numbers with errors, and for equilibrium
//! runs the verdicts of [`crate::dynamics::diagnostics`]), [`table`] (datasets and groups
//! as columns), and the number formatting of [`format`]. Everything is read generically
//! from the file (attributes of `config/`, `provenance/`, `summary/`; datasets and their
//! `DIMENSION_LABELS`), so files of both solvers and of older or newer layouts are shown
//! with what they hold.

/// Appends a line to a `String` (writing to a `String` cannot fail).
macro_rules! line {
    ($s:expr) => { $s.push('\n') };
    ($s:expr, $($arg:tt)*) => {{
        let _ = writeln!($s, $($arg)*);
    }};
}

pub mod format;
mod summary;
mod table;

pub use crate::output::{AttrValue, OutputFile};
pub use summary::summary;
pub use table::table;
