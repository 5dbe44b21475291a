//! `polc eval`.
use std::process::ExitCode;
#[derive(clap::Args, Debug)]
pub struct EvalArgs {}
pub fn run(_a: &EvalArgs) -> ExitCode {
    ExitCode::from(2)
}
