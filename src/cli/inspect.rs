//! `dmfe inspect`: a summary or a slice of an output file (formatting in `dmfe::inspect`).

use std::io::Write;
use std::path::PathBuf;

use dmfe::inspect::{summary, table, OutputFile};

/// What `dmfe inspect` was asked to do.
pub struct InspectArgs {
    /// The output file.
    pub file: PathBuf,
    /// A dataset or group; none for the summary.
    pub dataset: Option<String>,
    /// For a two-time dataset: the row at the time nearest this.
    pub at: Option<f64>,
    /// CSV instead of aligned columns.
    pub csv: bool,
}

/// Runs `dmfe inspect` and returns the exit code: 0, 2 for a bad input (missing file, not
/// written by dmfe, unknown dataset, wrong request), 1 for anything else.
pub fn run(args: InspectArgs) -> i32 {
    match text(&args) {
        Ok(s) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => 0,
                // `dmfe inspect ... | head` is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    eprintln!("error: writing to stdout: {e}");
                    1
                }
            }
        }
        Err(e) => {
            match &e {
                // The message names the file and is a complete sentence.
                dmfe::Error::Format { message, .. } => eprintln!("error: {message}"),
                other => eprintln!("error: {other}"),
            }
            match e {
                dmfe::Error::Format { .. } | dmfe::Error::Config { .. } => super::EXIT_CONFIG,
                _ => 1,
            }
        }
    }
}

fn text(args: &InspectArgs) -> dmfe::Result<String> {
    let file = OutputFile::open(&args.file)?;
    if let Some(at) = args.at.filter(|t| !t.is_finite()) {
        return Err(dmfe::Error::config(
            "--at",
            format!("must be a finite time, got {at}"),
        ));
    }
    match &args.dataset {
        Some(name) => table(&file, name, args.at, args.csv),
        None if args.at.is_some() || args.csv => Err(dmfe::Error::config(
            "inspect",
            "--at and --csv need a dataset or group, e.g. `dmfe inspect FILE observables --csv`",
        )),
        None => summary(&file),
    }
}
