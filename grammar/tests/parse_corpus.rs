//! The parser corpus: every `tests/parse/ok/*.pol` parses without errors, every
//! `tests/parse/err/*.pol` has errors, and each file's syntax tree and errors are pinned by a
//! snapshot (`tests/snapshots/main__parse_corpus__{ok,err}__NAME.snap`). The `err` cases are recovery
//! cases: the snapshot shows what the parser kept around each error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;
use pol_grammar::{parse_file, LineIndex, SyntaxError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use support::without_spans;

/// What a snapshot holds: the errors at `line:column` (1-based, bytes), then the declarations.
#[derive(Serialize)]
struct Parsed {
    errors: Vec<String>,
    decls: Vec<pol_grammar::ast::Decl>,
}

fn located(text: &str, e: &SyntaxError) -> String {
    let index = LineIndex::new(text);
    let at = |offset: u32| {
        let line = index.line(offset as usize);
        let start = index.line_start(line).unwrap_or(0);
        format!("{}:{}", line + 1, offset as usize - start + 1)
    };
    format!("{}-{}: {}", at(e.span.start), at(e.span.end), e.message)
}

fn cases(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/parse")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {}", dir.display());
    files
}

fn check(kind: &str, expect_errors: bool) {
    for path in cases(kind) {
        let text = std::fs::read_to_string(&path).expect("readable case");
        let file = parse_file(&text);
        let errors: Vec<String> = file.errors.iter().map(|e| located(&text, e)).collect();
        assert_eq!(
            !errors.is_empty(),
            expect_errors,
            "{}: {errors:#?}",
            path.display()
        );
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        insta::assert_yaml_snapshot!(
            format!("{kind}__{name}"),
            Parsed {
                errors,
                decls: file.decls.to_vec()
            }
        );
    }
}

#[test]
fn valid_files_parse_as_written() {
    check("ok", false);
}

#[test]
fn broken_files_report_their_errors_and_keep_the_rest() {
    check("err", true);
}

#[test]
fn a_construct_nested_too_deep_is_one_error_and_the_next_declaration_is_kept() {
    let deep = format!(
        "exempt {}true;\ntag PII;\n",
        "not ".repeat(pol_grammar::nesting::MAX_NESTING + 10)
    );
    let file = parse_file(&deep);
    let kinds: Vec<_> = file.errors.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [pol_grammar::SyntaxErrorKind::TooDeep]);
    assert!(matches!(
        file.decls.as_slice(),
        [
            pol_grammar::ast::Decl::Error(_),
            pol_grammar::ast::Decl::Tag(_)
        ]
    ));
}

#[test]
fn layout_never_changes_the_tree() {
    // The same declarations on one line, and with a line break after every token.
    for path in cases("ok") {
        let text = std::fs::read_to_string(&path).expect("readable case");
        let lexed = pol_grammar::lexer::lex(&text);
        let tokens: Vec<&str> = lexed.tokens.iter().map(|(l, _, r)| &text[*l..*r]).collect();
        let spaced = parse_file(&tokens.join(" "));
        let broken = parse_file(&tokens.join("\n"));
        assert!(
            spaced.errors.is_empty(),
            "{}: {:?}",
            path.display(),
            spaced.errors
        );
        assert!(
            broken.errors.is_empty(),
            "{}: {:?}",
            path.display(),
            broken.errors
        );
        assert_eq!(
            spaced.decls.len(),
            parse_file(&text).decls.len(),
            "{}",
            path.display()
        );
        assert_eq!(
            without_spans(&spaced.decls),
            without_spans(&broken.decls),
            "{}",
            path.display()
        );
    }
}
