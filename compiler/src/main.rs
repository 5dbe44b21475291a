//! `polc`: the Pol command line.

use clap::Parser;
use std::process::ExitCode;

/// The stack of the thread that runs a command: well above [`pol_compiler::MIN_STACK`], whatever
/// the main thread's size (`ulimit -s`) is.
const COMMAND_STACK: usize = 64 * 1024 * 1024;

fn main() -> ExitCode {
    let cli = pol_compiler::cli::Cli::parse();
    let worker = std::thread::Builder::new()
        .name("polc".to_owned())
        .stack_size(COMMAND_STACK)
        .spawn(move || pol_compiler::cli::run(cli));
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => {
            eprintln!("error: internal error: the command stopped unexpectedly");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: cannot start the command's thread: {e}");
            ExitCode::from(2)
        }
    }
}
