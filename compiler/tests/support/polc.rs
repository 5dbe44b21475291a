//! Running the built `polc` binary in a directory, as the command-line tests do.

use std::path::Path;
use std::process::Command;

/// What a `polc` run gave: (exit code, -1 when killed by a signal; stdout; stderr).
pub type Outcome = (i32, String, String);

/// Runs `polc ARGS` in `dir` with `NO_COLOR=1`. Its output must be UTF-8.
pub fn polc(dir: &Path, args: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_polc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs polc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

/// Runs `polc` in `dir` with the words of `line` (split at white space), then `extra`.
pub fn polc_words(dir: &Path, line: &str, extra: &[&str]) -> Outcome {
    let args: Vec<&str> = line
        .split_whitespace()
        .chain(extra.iter().copied())
        .collect();
    polc(dir, &args)
}
