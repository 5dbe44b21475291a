//! `polc`: the Pol command line.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = pol_compiler::cli::Cli::parse();
    pol_compiler::cli::run(cli)
}
