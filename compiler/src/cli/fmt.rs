//! `polc fmt [--check] PATHS…`: rewrites `.pol` files in the canonical layout of
//! [`pol_grammar::format`].
//!
//! Exit codes: 0 when every file is (now) canonical; 1 with `--check` when some file would change
//! (each is listed with a short diff, nothing is written); 2 when a file does not parse (reported
//! like `polc check` reports it, and left untouched), cannot be read or written, or no `.pol` file
//! was found.

use super::fail_usage;
use crate::diagnostics::Code;
use pol_grammar::format::{format_source, FormatError};
use pol_grammar::SyntaxError;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// At most this many diff lines are shown per file with `--check`.
const DIFF_LINES: usize = 40;

/// What happened to one file.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Unchanged,
    Changed,
    Failed,
}

pub fn run(paths: &[PathBuf], check: bool) -> ExitCode {
    let mut files = Vec::new();
    for p in paths {
        if let Err(e) = collect(p, &mut files) {
            return fail_usage(e);
        }
    }
    if files.is_empty() {
        return fail_usage(format!(
            "no .pol files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut changed = 0usize;
    let mut failed = 0usize;
    for f in &files {
        match format_file(f, check, color) {
            Outcome::Unchanged => {}
            Outcome::Changed => changed += 1,
            Outcome::Failed => failed += 1,
        }
    }
    let n = files.len();
    let plural = |k: usize| if k == 1 { "" } else { "s" };
    if check {
        if changed > 0 {
            eprintln!("{changed} of {n} file{} would be reformatted", plural(n));
        } else if failed == 0 {
            eprintln!("{n} file{} already formatted", plural(n));
        }
    } else if failed == 0 || changed > 0 {
        eprintln!("formatted {n} file{} ({changed} changed)", plural(n));
    }
    if failed > 0 {
        eprintln!("{failed} file{} could not be formatted", plural(failed));
        ExitCode::from(2)
    } else if check && changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn format_file(path: &Path, check: bool, color: bool) -> Outcome {
    let name = path.display().to_string();
    let text = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            eprintln!(
                "error: {name}: not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            );
            return Outcome::Failed;
        }
        Err(e) => {
            eprintln!("error: {name}: {e}");
            return Outcome::Failed;
        }
    };
    let formatted = match format_source(&text) {
        Ok(f) => f,
        Err(FormatError::Syntax(e)) => {
            eprint!("{}", syntax_error(&name, &text, &e, color));
            return Outcome::Failed;
        }
        Err(e @ FormatError::Internal(_)) => {
            eprintln!("error: {name}: {e}; the file was left as it is");
            return Outcome::Failed;
        }
    };
    if formatted == text {
        return Outcome::Unchanged;
    }
    if check {
        print!("{}", short_diff(&name, &text, &formatted));
        return Outcome::Changed;
    }
    match std::fs::write(path, &formatted) {
        Ok(()) => {
            eprintln!("reformatted {name}");
            Outcome::Changed
        }
        Err(e) => {
            eprintln!("error: {name}: cannot write: {e}");
            Outcome::Failed
        }
    }
}

/// A syntax error rendered like `polc check` renders it (code E0001), with a note that the file
/// was left alone.
fn syntax_error(name: &str, text: &str, e: &SyntaxError, color: bool) -> String {
    use codespan_reporting::diagnostic::{Diagnostic, Label};
    use codespan_reporting::files::SimpleFile;
    use codespan_reporting::term::termcolor::{Ansi, NoColor};
    use codespan_reporting::term::{self, Chars, Config};
    let file = SimpleFile::new(name, text);
    let mut range = e.span.range();
    range.end = range.end.min(text.len());
    range.start = range.start.min(range.end);
    while !text.is_char_boundary(range.start) {
        range.start -= 1;
    }
    while !text.is_char_boundary(range.end) {
        range.end += 1;
    }
    let diag = Diagnostic::error()
        .with_code(Code::Syntax.as_str())
        .with_message(&e.message)
        .with_labels(vec![Label::primary((), range).with_message("here")])
        .with_notes(vec![format!("note: {name} was not formatted")]);
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    let bytes = if color {
        let mut w = Ansi::new(Vec::new());
        term::emit(&mut w, &config, &file, &diag).map(|()| w.into_inner())
    } else {
        let mut w = NoColor::new(Vec::new());
        term::emit(&mut w, &config, &file, &diag).map(|()| w.into_inner())
    };
    match bytes {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => format!("error[E0001]: {name}: {}\n", e.message),
    }
}

/// A unified diff (two lines of context) of at most [`DIFF_LINES`] lines, headed by the file name.
fn short_diff(name: &str, old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let full = diff
        .unified_diff()
        .context_radius(2)
        .header(name, &format!("{name} (formatted)"))
        .to_string();
    let mut out = format!("Would reformat {name}:\n");
    let lines: Vec<&str> = full.lines().collect();
    for l in lines.iter().take(DIFF_LINES) {
        out.push_str(l);
        out.push('\n');
    }
    if lines.len() > DIFF_LINES {
        out.push_str(&format!("… {} more diff lines\n", lines.len() - DIFF_LINES));
    }
    out
}

/// The `.pol` files named by `path`: the file itself, or a directory's `.pol` files, recursively,
/// sorted by path.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut found = Vec::new();
    walk(path, &mut found)?;
    found.sort();
    out.extend(found);
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let p = entry.path();
        let ty = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", p.display()))?;
        if ty.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "pol") {
            out.push(p);
        }
    }
    Ok(())
}
