//! Exact spans: each diagnostic's primary label, and its secondary labels, cover exactly the
//! text they name (byte ranges computed from the source, not copied from the output).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::diagnostics::{Code, Diagnostic};
use pol_compiler::source_map::SourceMap;

/// Checks one file and returns its diagnostics with the text.
fn check(text: &str) -> (SourceMap, Vec<Diagnostic>) {
    let mut map = SourceMap::new();
    map.add("spans.pol", text);
    let analysis = pol_compiler::check(&map);
    let diags = analysis.diagnostics;
    (map, diags)
}

/// The byte range of the `nth` (0-based) occurrence of `needle`.
fn range(text: &str, needle: &str, nth: usize) -> (u32, u32) {
    let start = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` occurs fewer than {} times", nth + 1))
        .0;
    (start as u32, (start + needle.len()) as u32)
}

fn only(diags: &[Diagnostic], code: Code) -> &Diagnostic {
    let found: Vec<&Diagnostic> = diags.iter().filter(|d| d.code == code).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {}, got {:?}",
        code.as_str(),
        diags
            .iter()
            .map(|d| (d.code.as_str(), &d.message))
            .collect::<Vec<_>>()
    );
    found[0]
}

fn span_of(d: &Diagnostic) -> (u32, u32) {
    (d.primary.span.start, d.primary.span.end)
}

const BASE: &str = "tag PII sensitive;\ntag PII.Contact;\nsource customers {\n  id: int key,\n  email: text tagged PII.Contact,\n  age: int,\n}\n";

#[test]
fn undeclared_tag_points_at_the_path() {
    let text =
        format!("{BASE}policy p {{ mask columns tagged PII.Contcat using null for everyone }}\n");
    let (_, diags) = check(&text);
    let d = only(&diags, Code::UndeclaredTag);
    assert_eq!(span_of(d), range(&text, "PII.Contcat", 0));
    assert!(
        d.help.iter().any(|h| h.contains("PII.Contact")),
        "{:?}",
        d.help
    );
}

#[test]
fn duplicate_source_points_at_the_second_name_and_the_first() {
    let text = format!("{BASE}source customers {{ id: int key }}\n");
    let (_, diags) = check(&text);
    let d = only(&diags, Code::Duplicate);
    assert_eq!(span_of(d), range(&text, "customers", 1));
    assert_eq!(d.secondary.len(), 1);
    let first = &d.secondary[0].span;
    assert_eq!((first.start, first.end), range(&text, "customers", 0));
}

#[test]
fn type_mismatch_points_at_the_right_operand() {
    let text = format!(
        "{BASE}policy p {{ mask column customers.email where row.age > \"ten\" using null for everyone }}\n"
    );
    let (_, diags) = check(&text);
    let d = only(&diags, Code::TypeMismatch);
    assert_eq!(span_of(d), range(&text, "\"ten\"", 0));
}

#[test]
fn missing_otherwise_points_at_the_who_clause() {
    let text = format!(
        "{BASE}policy p {{ mask column customers.email using null for everyone who user.login == \"x\" }}\n"
    );
    let (_, diags) = check(&text);
    let d = only(&diags, Code::MissingOtherwise);
    let (start, end) = span_of(d);
    assert!(
        text[start as usize..end as usize].starts_with("using null for everyone who"),
        "{:?}",
        &text[start as usize..end as usize]
    );
    assert!(text[start as usize..end as usize].ends_with("\"x\""));
}

#[test]
fn syntax_error_points_at_the_unexpected_token() {
    let text = "source s { id: int key, name: text oops }\n";
    let (_, diags) = check(text);
    let d = only(&diags, Code::Syntax);
    assert_eq!(span_of(d), range(text, "oops", 0));
    assert!(d.message.starts_with("expected"), "{}", d.message);
    assert!(
        d.message.ends_with("found identifier `oops`"),
        "{}",
        d.message
    );
}

#[test]
fn masking_a_key_points_at_the_target() {
    let text = format!("{BASE}policy p {{ mask column customers.id using null for everyone }}\n");
    let (_, diags) = check(&text);
    let d = only(&diags, Code::MaskedKey);
    assert_eq!(span_of(d), range(&text, "column customers.id", 0));
}
