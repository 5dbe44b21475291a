//! `polc fmt [--check] PATHS…`: rewrites `.pol` files in the canonical layout of
//! [`pol_grammar::format`].
//!
//! Exit codes: 0 when every file is (now) canonical; 1 with `--check` when some file would change
//! (each is listed with a short diff, nothing is written); 2 when a file does not parse (reported
//! like `polc check` reports it, and left untouched), cannot be read or written, or no `.pol` file
//! was found.

use super::fail_usage;
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

/// A syntax error rendered like `polc check` renders it (code E0001, or E0033 for a construct
/// nested too deeply), with a note that the file was left alone.
fn syntax_error(name: &str, text: &str, e: &SyntaxError, color: bool) -> String {
    let mut files = crate::source_map::SourceMap::new();
    let file = files.add(name, text);
    let d = crate::diagnostics::Diagnostic::new(
        crate::analysis::syntax_code(e.kind),
        e.message.clone(),
        crate::source_map::Loc::new(file, e.span),
        "here",
    )
    .with_note(format!("{name} was not formatted"));
    crate::diagnostics::render::render_one_human(&d, &files, color)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A fresh directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("polc-fmt-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("nested")).expect("temp dir");
        dir
    }

    const MESSY: &str = "tag A;tag B;\npolicy p{mask columns tagged A using null for everyone}\n";
    const CANONICAL: &str =
        "tag A;\ntag B;\n\npolicy p {\n  mask columns tagged A using null for everyone\n}\n";

    #[test]
    fn check_reports_without_writing_then_fmt_rewrites_in_place() {
        let dir = scratch("check");
        let messy = dir.join("nested/messy.pol");
        let fine = dir.join("fine.pol");
        let other = dir.join("notes.txt");
        fs::write(&messy, MESSY).unwrap();
        fs::write(&fine, CANONICAL).unwrap();
        fs::write(&other, MESSY).unwrap();

        assert_eq!(run(std::slice::from_ref(&dir), true), ExitCode::from(1));
        assert_eq!(fs::read_to_string(&messy).unwrap(), MESSY);

        assert_eq!(run(std::slice::from_ref(&dir), false), ExitCode::SUCCESS);
        assert_eq!(fs::read_to_string(&messy).unwrap(), CANONICAL);
        assert_eq!(fs::read_to_string(&fine).unwrap(), CANONICAL);
        assert_eq!(
            fs::read_to_string(&other).unwrap(),
            MESSY,
            "only .pol files"
        );

        assert_eq!(run(std::slice::from_ref(&dir), true), ExitCode::SUCCESS);
        // A file named directly is formatted whatever its extension.
        assert_eq!(run(std::slice::from_ref(&other), true), ExitCode::from(1));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_does_not_parse_is_left_alone_and_exits_2() {
        let dir = scratch("broken");
        let broken = dir.join("broken.pol");
        let messy = dir.join("nested/messy.pol");
        fs::write(&broken, "tag A\ntag B;\n").unwrap();
        fs::write(&messy, MESSY).unwrap();
        assert_eq!(run(std::slice::from_ref(&dir), true), ExitCode::from(2));
        assert_eq!(run(std::slice::from_ref(&dir), false), ExitCode::from(2));
        assert_eq!(fs::read_to_string(&broken).unwrap(), "tag A\ntag B;\n");
        // The other files are still formatted.
        assert_eq!(fs::read_to_string(&messy).unwrap(), CANONICAL);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_paths_and_empty_directories_are_usage_errors() {
        let dir = scratch("empty");
        assert_eq!(run(&[dir.join("nested")], false), ExitCode::from(2));
        assert_eq!(run(&[dir.join("absent.pol")], true), ExitCode::from(2));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn syntax_errors_are_rendered_like_polc_check() {
        let e = format_source("tag A\ntag B;\n").unwrap_err();
        let FormatError::Syntax(e) = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            syntax_error("a.pol", "tag A\ntag B;\n", &e, false),
            "error[E0001]: expected `;` to end the declaration, found `tag`\n  \
             --> a.pol:1:6\n  |\n1 | tag A\n  |      ^ here\n  |\n  = note: a.pol was not formatted\n\n"
        );
    }

    #[test]
    fn the_diff_is_unified_with_two_lines_of_context_and_cut_after_40_lines() {
        assert_eq!(
            short_diff("a.pol", MESSY, CANONICAL),
            "Would reformat a.pol:\n--- a.pol\n+++ a.pol (formatted)\n@@ -1,2 +1,6 @@\n\
             -tag A;tag B;\n-policy p{mask columns tagged A using null for everyone}\n\
             +tag A;\n+tag B;\n+\n+policy p {\n+  mask columns tagged A using null for everyone\n+}\n"
        );
        let old: String = (0..60).map(|i| format!("tag T{i};")).collect();
        let new: String = (0..60).map(|i| format!("tag T{i};\n")).collect();
        let diff = short_diff("b.pol", &old, &new);
        // 3 header lines, the old line, "\\ No newline at end of file" and 60 added lines: 65.
        assert_eq!(diff.lines().count(), 1 + DIFF_LINES + 1);
        assert!(diff.ends_with("\n… 25 more diff lines\n"), "{diff}");
    }
}
