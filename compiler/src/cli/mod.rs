//! The `polc` commands. Exit codes: 0 success, 1 failure (errors, failed tests, or warnings with
//! `--deny-warnings`), 2 usage or I/O error.

mod check;
mod fmt;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "polc",
    version,
    about = "The Pol policy compiler: check, build, evaluate and test data-masking policies"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check policy files and report every diagnostic.
    Check {
        /// Files or directories (their `.pol` files, recursively, sorted by path).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: OutputFormat,
        /// Fail (exit 1) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Rewrite policy files in the canonical layout (comments kept).
    Fmt {
        /// Files or directories (their `.pol` files, recursively, sorted by path).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write nothing: list the files that would change, with a short diff, and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => check::run(&paths, format, deny_warnings),
        Command::Fmt { paths, check } => fmt::run(&paths, check),
    }
}

/// Prints an I/O or usage error and returns exit code 2.
pub(crate) fn fail_usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
