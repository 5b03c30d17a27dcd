//! `dmfe`: the command-line front end (see `dmfe --help`).

mod cli;

fn main() {
    std::process::exit(cli::main());
}
