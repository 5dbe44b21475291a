//! The formatter on every `.pol` file of the repository (`examples/` and `tests/`): each file that
//! parses formats to a fixed point, to the same syntax tree, with every comment kept; each file
//! that does not parse is refused with its first syntax error and left alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_grammar::format::{format_source, same_syntax, FormatError};
use pol_grammar::parse_file;
use std::path::{Path, PathBuf};

fn pol_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            pol_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "pol") {
            out.push(p);
        }
    }
}

fn corpus() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    pol_files(&root.join("examples"), &mut files);
    pol_files(&root.join("tests"), &mut files);
    assert!(files.len() >= 40, "found only {} .pol files", files.len());
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable .pol file");
            (p, text)
        })
        .collect()
}

#[test]
fn every_parsing_file_formats_to_a_fixed_point_with_the_same_tree_and_comments() {
    let mut formatted = 0;
    for (path, text) in corpus() {
        let parsed = parse_file(&text);
        if !parsed.errors.is_empty() {
            continue;
        }
        let out = format_source(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // (a) a fixed point
        let again =
            format_source(&out).unwrap_or_else(|e| panic!("{} (second pass): {e}", path.display()));
        assert_eq!(
            again,
            out,
            "{}: formatting is not idempotent",
            path.display()
        );
        // (b) the same syntax tree, spans aside
        let reparsed = parse_file(&out);
        assert!(
            reparsed.errors.is_empty(),
            "{}: {:?}",
            path.display(),
            reparsed.errors
        );
        if let Err(d) = same_syntax(&parsed, &reparsed) {
            panic!("{}: {d}", path.display());
        }
        // (c) every comment's text still there, in order
        let mut rest = out.as_str();
        for c in &parsed.comments {
            let t = c.text.trim_end();
            let at = rest
                .find(t)
                .unwrap_or_else(|| panic!("{}: comment {t:?} lost or moved", path.display()));
            rest = &rest[at + t.len()..];
        }
        formatted += 1;
    }
    assert!(formatted >= 40, "only {formatted} files formatted");
}

#[test]
fn every_broken_file_is_refused_with_its_first_syntax_error() {
    let mut refused = 0;
    for (path, text) in corpus() {
        let parsed = parse_file(&text);
        let Some(first) = parsed.errors.first() else {
            continue;
        };
        assert_eq!(
            format_source(&text),
            Err(FormatError::Syntax(first.clone())),
            "{}",
            path.display()
        );
        refused += 1;
    }
    assert!(
        refused >= 1,
        "the corpus has no broken file (tests/diagnostics/E0001-syntax.pol)"
    );
}

/// The examples are what users copy: every one is already in the canonical layout (`polc fmt
/// --check examples` passes). Test fixtures under `tests/` keep their hand-made tabular layout.
#[test]
fn every_example_is_canonical() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    pol_files(&root.join("examples"), &mut files);
    assert!(
        files.len() >= 20,
        "found only {} example files",
        files.len()
    );
    let mut changed = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read example");
        match format_source(&text) {
            Ok(out) if out == text => {}
            Ok(_) => changed.push(path.display().to_string()),
            Err(e) => changed.push(format!("{}: {e:?}", path.display())),
        }
    }
    assert!(changed.is_empty(), "run `polc fmt examples`: {changed:#?}");
}
