//! Data-driven diagnostics: every file `tests/diagnostics/CODE-name.pol` must produce its code,
//! and its rendered diagnostics are reviewed as a snapshot.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::diagnostics::render::{render, Format};
use pol_compiler::diagnostics::Code;
use pol_compiler::source_map::SourceMap;
use std::path::PathBuf;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/diagnostics");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/diagnostics exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_code_has_a_case_that_produces_it() {
    let files = corpus();
    for code in Code::ALL {
        let prefix = format!("{}-", code.as_str());
        let case = files
            .iter()
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&prefix)
            })
            .unwrap_or_else(|| panic!("no case in tests/diagnostics for {}", code.as_str()));
        let text = std::fs::read_to_string(case).unwrap();
        let mut map = SourceMap::new();
        map.add(
            case.file_name().unwrap().to_string_lossy().to_string(),
            text,
        );
        let analysis = pol_compiler::check(&map);
        assert!(
            analysis.diagnostics.iter().any(|d| d.code == *code),
            "{} does not produce {}; it produces {:?}",
            case.display(),
            code.as_str(),
            analysis
                .diagnostics
                .iter()
                .map(|d| d.code.as_str())
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn rendered_diagnostics_snapshots() {
    for case in corpus() {
        let name = case.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&case).unwrap();
        let mut map = SourceMap::new();
        map.add(format!("{name}.pol"), text);
        let analysis = pol_compiler::check(&map);
        let out = render(Format::Human { color: false }, &analysis.diagnostics, &map);
        insta::with_settings!({ snapshot_path => "snapshots/diagnostics", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, out);
        });
    }
}

fn codes(text: &str) -> Vec<&'static str> {
    let mut map = SourceMap::new();
    map.add("layout.pol".to_string(), text.to_string());
    pol_compiler::check(&map)
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

/// Layout never changes meaning: `tag` on the line after `mask columns with any` continues the
/// target (it used to start a declaration: "expected `tag`, found `tag`" and a false W0004).
#[test]
fn a_target_split_across_lines_checks_like_one_line() {
    let decls = "tag PII sensitive;\nsource s {\n  id: int key,\n  email: text tagged PII,\n}\n";
    let one_line =
        format!("{decls}policy p {{ mask columns with any tag using null for everyone }}\n");
    let split = format!(
        "{decls}policy p {{\n  mask columns with any\n    tag using null for everyone\n}}\n"
    );
    assert_eq!(codes(&one_line), Vec::<&str>::new());
    assert_eq!(codes(&split), Vec::<&str>::new());
}

/// A broken rule is one syntax error; the other rules of its policy are still resolved, and no
/// column is said to be uncovered (W0004) because of the rule that could not be read.
#[test]
fn a_broken_rule_keeps_its_policy_and_hides_no_errors() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/diagnostics/E0001-broken-rule-keeps-its-policy.pol"),
    )
    .expect("the case exists");
    let mut got = codes(&text);
    got.sort();
    assert_eq!(got, ["E0001", "E0003", "E0006"]);
    let fixed = text.replace("usin null", "using null");
    let mut got = codes(&fixed);
    got.sort();
    assert_eq!(got, ["E0003", "E0006"]);
}

/// A missing `;` after `tag PII sensitive` is one error where it belongs, and the tag is kept:
/// its uses resolve (no E0003).
#[test]
fn a_missing_semicolon_is_one_error_and_keeps_the_declaration() {
    let text = "tag PII sensitive\ntag PII.Email;\nsource s {\n  id: int key,\n  \
                email: text tagged PII.Email,\n}\n\
                policy p { mask columns tagged PII using null for everyone }\n";
    assert_eq!(codes(text), ["E0001"]);
    let mut map = SourceMap::new();
    map.add("layout.pol".to_string(), text.to_string());
    let d = pol_compiler::check(&map).diagnostics;
    assert_eq!(
        d[0].message,
        "expected `;` to end the declaration, found `tag`"
    );
    assert_eq!(d[0].primary.span, pol_grammar::Span::new(17, 17));
    // The quick fix inserts the `;` there.
    assert_eq!(d[0].fixes.len(), 1);
    assert_eq!(d[0].fixes[0].title, "insert `;`");
    let edits: Vec<(pol_grammar::Span, &str)> = d[0].fixes[0]
        .edits
        .iter()
        .map(|(at, text)| (at.span, text.as_str()))
        .collect();
    assert_eq!(edits, [(pol_grammar::Span::new(17, 17), ";")]);
}

/// docs/language.md's code list names every code of the registry, and every retired code as
/// retired (a code is never reused).
#[test]
fn the_language_reference_lists_every_code() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md"),
    )
    .expect("docs/language.md exists");
    for code in Code::ALL {
        let row = format!("| {} | ", code.as_str());
        assert!(
            doc.contains(&row),
            "docs/language.md does not list {}",
            code.as_str()
        );
    }
    for retired in pol_compiler::diagnostics::RETIRED {
        let row = format!("| {retired} | retired |");
        assert!(
            doc.contains(&row),
            "docs/language.md does not list {retired} as retired"
        );
    }
}

/// Issue 13, defect 3: `initials("")` used to check clean and then fail to load ("the delimiter
/// must not be empty"). The checker refuses it with a located E0014; a non-empty delimiter
/// checks clean, builds and loads.
#[test]
fn an_empty_initials_delimiter_is_refused_where_it_is_written() {
    let set = |d: &str| {
        format!(
            "source customers {{ id: int key, name: text, }}\n\
             policy p {{ mask column customers.name using initials(\"{d}\") for everyone }}\n"
        )
    };
    let mut map = SourceMap::new();
    map.add("empty.pol".to_string(), set(""));
    let a = pol_compiler::check(&map);
    let got: Vec<(&str, u32)> = a
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.primary.span.start))
        .collect();
    let at = set("").find("\"\"").expect("the delimiter is in the text") as u32;
    assert_eq!(got, [("E0014", at)]);

    let mut map = SourceMap::new();
    map.add("dash.pol".to_string(), set("-"));
    let a = pol_compiler::check(&map);
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .expect("encodes");
    assert!(pol_runtime::Engine::load(&bytes, None).is_ok());
}
