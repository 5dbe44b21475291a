//! `polc explain-code CODE`: the long explanation of a diagnostic code (`docs/codes/CODE.md`,
//! compiled into `polc`), with a failing example and the example fixed.
//!
//! Exit codes: 0 with the page on stdout; 2 for a code that does not exist (with the closest
//! code when one is near).

use super::fail_usage;
use crate::diagnostics::{retired_explanation, Code};
use std::process::ExitCode;

pub fn run(code: &str) -> ExitCode {
    let wanted = code.trim().to_ascii_uppercase();
    if let Some(code) = Code::from_code(&wanted) {
        print!("{}", code.explanation());
        println!("\nOnline: {}", code.help_uri());
        return ExitCode::SUCCESS;
    }
    if let Some(page) = retired_explanation(&wanted) {
        print!("{page}");
        return ExitCode::SUCCESS;
    }
    fail_usage(unknown_code(code))
}

/// The message for a code that does not exist, naming the closest existing one.
fn unknown_code(code: &str) -> String {
    let wanted = code.trim().to_ascii_uppercase();
    let closest = Code::ALL
        .iter()
        .map(|c| (strsim::levenshtein(c.as_str(), &wanted), c.as_str()))
        .filter(|(d, _)| *d <= 2)
        .min();
    match closest {
        Some((_, near)) => format!("unknown diagnostic code `{code}`: did you mean `{near}`?"),
        None => format!(
            "unknown diagnostic code `{code}`: errors run from `E0001` to `{}`, warnings from \
             `W0001` to `{}`",
            last_of('E'),
            last_of('W')
        ),
    }
}

/// The highest code of one kind (`E` errors, `W` warnings).
fn last_of(kind: char) -> &'static str {
    Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| c.starts_with(kind))
        .max()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::unknown_code;

    #[test]
    fn a_near_code_is_suggested() {
        assert_eq!(
            unknown_code("E003"),
            "unknown diagnostic code `E003`: did you mean `E0003`?"
        );
        let far = unknown_code("X1");
        assert!(
            far.starts_with("unknown diagnostic code `X1`: errors run from `E0001` to `E00"),
            "{far}"
        );
        assert!(far.contains("warnings from `W0001` to `W00"), "{far}");
    }
}
