//! `polc explain`.
use std::process::ExitCode;
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {}
pub fn run(_a: &ExplainArgs) -> ExitCode {
    ExitCode::from(2)
}
