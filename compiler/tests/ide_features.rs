//! The editor questions of `pol_compiler::ide`, asked of a small two-file policy set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support::ide_fixture::{DECLS, FILES, POLICIES};
use pol_compiler::ide::{CompletionKind, Ide, Symbol};
use pol_compiler::source_map::{FileId, Loc, SourceMap};
use pol_grammar::Span;

fn ide_with(decls: &str, policies: &str) -> Ide {
    let mut map = SourceMap::new();
    map.add("a.pol", decls);
    map.add("b.pol", policies);
    Ide::new(map)
}

fn ide() -> Ide {
    let mut map = SourceMap::new();
    for (name, text) in FILES {
        map.add(name, text);
    }
    Ide::new(map)
}

const A: FileId = FileId(0);
const B: FileId = FileId(1);

/// The offset of the `n`th (0-based) occurrence of `needle` in `text`, plus `delta`.
fn at(text: &str, needle: &str, n: usize, delta: usize) -> usize {
    text.match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("`{needle}` #{n} not in the text"))
        .0
        + delta
}

fn snippet(ide: &Ide, loc: Loc) -> String {
    format!("{}@{}", ide.files().snippet(loc), loc.file.0)
}

#[test]
fn diagnostics_are_exactly_polc_checks() {
    let mut map = SourceMap::new();
    map.add("a.pol", DECLS);
    map.add(
        "b.pol",
        "policy p { mask columns tagged PII.Emial using hash for everyone }",
    );
    let ide = Ide::new(map.clone());
    let check = pol_compiler::check(&map);
    assert_eq!(ide.diagnostics(), check.diagnostics.as_slice());
    let codes: Vec<&str> = ide.diagnostics().iter().map(|d| d.code.as_str()).collect();
    // The typo leaves the sensitive columns of a.pol uncovered (W0004) besides the E0003.
    assert_eq!(codes, ["W0004", "W0004", "W0004", "E0003"]);
    assert_eq!(ide.file_diagnostics(A).len(), 3);
    assert_eq!(ide.file_diagnostics(B).len(), 1);
}

#[test]
fn hover_on_a_tag_shows_hierarchy_columns_and_policies() {
    let ide = ide();
    let h = ide.hover(B, at(POLICIES, "PII.SSN", 0, 5)).expect("hover");
    assert_eq!(snippet(&ide, h.loc), "SSN@1");
    insta::assert_snapshot!(h.markdown, @r#"
    **tag** `PII.SSN`

    "Social security numbers"

    *Hierarchy:* `PII` › `PII.SSN`

    Sensitive through `PII`: its columns must be covered by a mask rule.

    *Columns it marks (2):* `customers.ssn`, `customers.patient.ssn`

    *Policies targeting it:* `hash_us_ssn`

    *Policies targeting a tag above it:* `null_pii` (through `PII`)
    "#);
    // The first segment of the same path is the tag `PII`, with its doc comment.
    let h = ide.hover(B, at(POLICIES, "PII.SSN", 0, 1)).expect("hover");
    assert!(
        h.markdown
            .starts_with("**tag** `PII` — sensitive\n\nPersonally identifiable information."),
        "{}",
        h.markdown
    );
}

#[test]
fn hover_on_a_column_shows_its_effective_rule() {
    let ide = ide();
    let h = ide.hover(A, at(DECLS, "ssn:", 0, 1)).expect("hover");
    assert_eq!(snippet(&ide, h.loc), "ssn@0");
    insta::assert_snapshot!(h.markdown, @r#"
    **column** `customers.ssn`: `text`

    tagged `PII.SSN`

    *Effective rule:* hash_us_ssn · hash unless admins where row[tagged Country] == "US"; else null_pii · null

    *Clear for:* user in group "admins", on rows where (row[tagged Country] == "US") is not false

    *Depends on (not decided):* row[tagged Country] == "US"

    *Rules in resolution order:*
    1. `hash_us_ssn` — hash unless admins (a tag of depth 2), where `row[tagged Country] == "US"`
    2. `null_pii` — null (a tag of depth 1); after #1: deeper tag: `PII.SSN` (depth 2) beats `PII` (depth 1)
    "#);
}

#[test]
fn hover_on_technique_keyword_policy_purpose_and_subject_field() {
    let ide = ide();
    let h = ide
        .hover(B, at(POLICIES, "using hash", 0, 7))
        .expect("technique");
    insta::assert_snapshot!(h.markdown, @r#"
    **technique** `hash([scope])`

    Lowercase hex HMAC-SHA256 under the engine's key, per source (or `scope: global` to join across sources).

    *Applies to:* text, enum

    *Example:* `jenny@example.com` → `3f1c…`
    "#);
    let h = ide.hover(B, at(POLICIES, "mask", 0, 2)).expect("keyword");
    assert_eq!(
        h.markdown,
        "**keyword** `mask`\n\n`mask TARGET [where EXPR] using X for …`: a mask rule."
    );
    let h = ide
        .hover(B, at(POLICIES, "null_pii", 0, 0))
        .expect("policy");
    insta::assert_snapshot!(h.markdown, @r#"
    **policy** `null_pii`

    "PII is nulled unless a more specific rule applies"

    *Scope:* `on all sources` (1 sources)

    *Rules:*
    - `columns tagged PII`: null

    *Covers 3 column(s); first in resolution order on 0 of them.*
    "#);
    let h = ide
        .hover(B, at(POLICIES, "Research", 0, 0))
        .expect("purpose");
    assert_eq!(
        h.markdown,
        "**purpose** `Research`\n\n*Hierarchy:* `Research`\n\n*Below:* `Research.Marketing`"
    );
    let h = ide
        .hover(B, at(POLICIES, "clearance", 0, 0))
        .expect("subject field");
    assert_eq!(
        h.markdown,
        "**subject field** `user.clearance`: `int`\n\nDeclared in `subject { … }`."
    );
    assert_eq!(ide.hover(B, POLICIES.find("\"US\"").unwrap() + 1), None);
}

fn labels(ide: &Ide, file: FileId, offset: usize) -> Vec<String> {
    ide.completions(file, offset)
        .into_iter()
        .map(|c| c.label)
        .collect()
}

/// Completions at the end of `policies` appended after the base policy file.
fn complete_at_end(extra: &str) -> Vec<pol_compiler::ide::CompletionItem> {
    let text = format!("{POLICIES}{extra}");
    let ide = ide_with(DECLS, &text);
    ide.completions(B, text.len())
}

#[test]
fn completion_by_context() {
    let names = |items: Vec<pol_compiler::ide::CompletionItem>| -> Vec<String> {
        items.into_iter().map(|c| c.label).collect()
    };
    assert_eq!(
        names(complete_at_end("policy p { mask columns tagged ")),
        ["PII", "PII.SSN", "PII.Email", "Country"]
    );
    assert_eq!(
        names(complete_at_end("policy p { mask columns tagged PII.")),
        ["SSN", "Email"]
    );
    assert_eq!(
        names(complete_at_end("policy p { mask columns tagged PII.E")),
        ["Email"]
    );
    assert_eq!(
        names(complete_at_end("policy p { mask columns tagged Country, P")),
        ["PII", "PII.SSN", "PII.Email"]
    );
    assert_eq!(
        names(complete_at_end(
            "policy p on source customers { only show rows where row."
        )),
        ["id", "email", "ssn", "country", "birth", "patient"]
    );
    assert_eq!(
        names(complete_at_end(
            "policy p on source customers { only show rows where row.patient."
        )),
        ["ssn"]
    );
    assert_eq!(
        names(complete_at_end("policy p { mask column ")),
        ["customers"]
    );
    assert_eq!(
        names(complete_at_end("policy p { mask column customers.b")),
        ["birth"]
    );
    assert_eq!(
        names(complete_at_end("exempt user.")),
        [
            "login",
            "groups",
            "roles",
            "attributes",
            "purposes",
            "clearance"
        ]
    );
    assert_eq!(
        names(complete_at_end("exempt user acting under ")),
        ["Research", "Research.Marketing"]
    );
    assert_eq!(
        names(complete_at_end("exempt user in group \"x\" on source c")),
        ["customers"]
    );
    let top = complete_at_end("");
    assert_eq!(top[0].label, "policy");
    assert_eq!(top[0].kind, CompletionKind::Snippet);
    assert_eq!(
        top[0].insert_text.as_deref(),
        Some("policy ${1:name} {\n  mask columns tagged ${2:Tag} using ${3:null} for everyone\n}")
    );
    assert_eq!(top[1].label, "source");
    assert_eq!(top[1].kind, CompletionKind::Snippet);
    // Completion filters by prefix: the `policy` snippet and keyword.
    assert_eq!(names(complete_at_end("po")), ["policy", "policy"]);
    assert_eq!(names(complete_at_end("pu")), ["purpose"]);
    // Inside a rule: keywords.
    let inner = names(complete_at_end("policy p { mask columns tagged PII fo"));
    assert_eq!(inner, ["for"]);
}

#[test]
fn techniques_applicable_to_the_target_come_first() {
    let text_first = complete_at_end("policy p { mask columns tagged PII.Email using ");
    let first: Vec<&str> = text_first
        .iter()
        .take(4)
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(first, ["null", "constant", "hash", "redact"]);
    let date_first = complete_at_end("policy p { mask column customers.birth using ");
    let first: Vec<&str> = date_first
        .iter()
        .take(8)
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(
        first,
        [
            "null",
            "constant",
            "round",
            "age_range",
            "year_only",
            "month_year",
            "date_format",
            "noise"
        ]
    );
    let show_last = date_first.iter().find(|c| c.label == "show_last").unwrap();
    assert_eq!(show_last.insert_text.as_deref(), Some("show_last(${1:n})"));
    assert!(show_last.is_snippet);
    assert_eq!(show_last.kind, CompletionKind::Technique);
}

#[test]
fn column_types_after_a_column_label() {
    let ide = ide_with("source s {\n  a: ", "");
    assert_eq!(
        labels(&ide, A, "source s {\n  a: ".len()),
        [
            "bool",
            "int",
            "decimal",
            "text",
            "date",
            "timestamp",
            "enum",
            "struct",
            "list"
        ]
    );
}

#[test]
fn definition_and_references() {
    let ide = ide();
    // `PII` in `tagged PII.SSN` (policies) → its declaration in a.pol.
    let defs = ide.definition(B, at(POLICIES, "PII.SSN", 0, 0));
    assert_eq!(
        defs.iter().map(|l| snippet(&ide, *l)).collect::<Vec<_>>(),
        ["PII@0"]
    );
    assert_eq!(
        defs[0].span,
        Span::new(
            at(DECLS, "PII sensitive", 0, 0),
            at(DECLS, "PII sensitive", 0, 3)
        )
    );
    // `row.country` → the column.
    let defs = ide.definition(B, at(POLICIES, "row.country", 0, 5));
    assert_eq!(
        defs,
        [Loc::new(
            A,
            Span::new(at(DECLS, "country:", 0, 0), at(DECLS, "country:", 0, 7))
        )]
    );
    let refs = ide.references(A, at(DECLS, "PII.SSN", 0, 5), true);
    assert_eq!(
        refs,
        [
            Loc::new(
                A,
                Span::new(at(DECLS, "PII.SSN", 0, 4), at(DECLS, "PII.SSN", 0, 7))
            ),
            Loc::new(
                A,
                Span::new(at(DECLS, "PII.SSN", 1, 4), at(DECLS, "PII.SSN", 1, 7))
            ),
            Loc::new(
                A,
                Span::new(at(DECLS, "PII.SSN", 2, 4), at(DECLS, "PII.SSN", 2, 7))
            ),
            Loc::new(
                B,
                Span::new(at(POLICIES, "PII.SSN", 0, 4), at(POLICIES, "PII.SSN", 0, 7))
            ),
        ]
    );
    let without_decl = ide.references(A, at(DECLS, "PII.SSN", 0, 5), false);
    assert_eq!(without_decl.len(), 3);
    // The source `customers`: its declaration and `on source customers`.
    let refs = ide.references(B, at(POLICIES, "customers", 0, 2), true);
    assert_eq!(
        refs.iter().map(|l| snippet(&ide, *l)).collect::<Vec<_>>(),
        ["customers@0", "customers@1"]
    );
    assert!(ide
        .definition(B, at(POLICIES, "for everyone", 0, 1))
        .is_empty());
}

fn apply(ide: &Ide, edits: &[pol_compiler::ide::TextEdit], file: FileId) -> String {
    let mut text = ide.files().get(file).text.clone();
    let mut mine: Vec<_> = edits.iter().filter(|e| e.loc.file == file).collect();
    mine.sort_by_key(|e| std::cmp::Reverse(e.loc.span.start));
    for e in mine {
        text.replace_range(e.loc.span.range(), &e.new_text);
    }
    text
}

#[test]
fn rename_tags_columns_sources_and_refuses_bad_names() {
    let ide = ide();
    let edits = ide
        .rename(B, at(POLICIES, "PII.SSN", 0, 5), "TaxId")
        .expect("rename");
    let a = apply(&ide, &edits, A);
    let b = apply(&ide, &edits, B);
    assert_eq!(a.matches("PII.TaxId").count(), 3);
    assert_eq!(b.matches("PII.TaxId").count(), 1);
    assert!(!a.contains("SSN") && !b.contains("SSN"));
    // The renamed set checks as cleanly as the original.
    let mut map = SourceMap::new();
    map.add("a.pol", a);
    map.add("b.pol", b);
    assert_eq!(Ide::new(map).diagnostics().len(), ide.diagnostics().len());

    let edits = ide
        .rename(A, at(DECLS, "country:", 0, 1), "nation")
        .expect("rename column");
    assert_eq!(edits.len(), 2);
    assert!(apply(&ide, &edits, B).contains("row.nation == \"US\""));

    let edits = ide
        .rename(B, at(POLICIES, "customers", 0, 0), "clients")
        .expect("rename source");
    assert!(apply(&ide, &edits, A).contains("source clients {"));
    assert!(apply(&ide, &edits, B).contains("on source clients {"));

    let refuse = |name: &str| {
        ide.rename(B, at(POLICIES, "PII.SSN", 0, 5), name)
            .unwrap_err()
            .message
    };
    assert_eq!(
        refuse("policy"),
        "`policy` is not a valid name: it is a keyword"
    );
    assert_eq!(
        refuse("1st"),
        "`1st` is not a valid name: a name is letters, digits and `_`, not starting with a digit"
    );
    assert_eq!(
        refuse("A.B"),
        "`A.B` is not one name: a rename changes one segment of a dotted path"
    );
    assert_eq!(refuse("Email"), "a tag named `PII.Email` already exists");
    assert_eq!(
        ide.rename(B, at(POLICIES, "user.clearance", 0, 0), "x").unwrap_err().message,
        "nothing to rename here: put the cursor on a tag, purpose, source, column, subject field, policy or level"
    );
    assert_eq!(
        ide.prepare_rename(B, at(POLICIES, "hash_us_ssn", 0, 3))
            .map(|l| snippet(&ide, l)),
        Some("hash_us_ssn@1".to_string())
    );
}

#[test]
fn outline_and_workspace_symbols() {
    let ide = ide();
    let symbols = ide.document_symbols(A);
    let names: Vec<String> = symbols
        .iter()
        .map(|s| format!("{:?} {}", s.kind, s.name))
        .collect();
    assert_eq!(
        names,
        [
            "Tag PII",
            "Tag PII.SSN",
            "Tag PII.Email",
            "Tag Country",
            "Purpose Research.Marketing",
            "Subject subject",
            "Source customers"
        ]
    );
    let customers = &symbols[6];
    let cols: Vec<String> = customers
        .children
        .iter()
        .map(|c| format!("{} {}", c.name, c.detail.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        cols,
        [
            "id int",
            "email text",
            "ssn text",
            "country text",
            "birth date",
            "patient struct"
        ]
    );
    assert_eq!(customers.children[5].children[0].name, "ssn");
    let ws: Vec<String> = ide
        .workspace_symbols("ssn")
        .iter()
        .map(|s| format!("{:?} {} {:?}", s.kind, s.name, s.container))
        .collect();
    assert_eq!(
        ws,
        [
            "Tag PII.SSN None",
            "Column ssn Some(\"customers\")",
            "Column patient.ssn Some(\"customers\")",
            "Policy hash_us_ssn None"
        ]
    );
}

#[test]
fn folding_ranges_cover_declarations_and_rules() {
    let ide = ide();
    let folds: Vec<String> = ide
        .folding_ranges(B)
        .iter()
        .map(|s| POLICIES[s.range()].lines().next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        folds,
        [
            "policy null_pii \"PII is nulled unless a more specific rule applies\" {",
            "mask columns tagged PII using null for everyone",
            "policy hash_us_ssn {",
            "mask columns tagged PII.SSN where row[tagged Country] == \"US\"",
            "policy research_email {",
            "mask columns tagged PII.Email",
            "policy country_rows on source customers {",
            "only show rows where row.country == \"US\" for everyone except user.clearance > 2",
        ]
    );
}

#[test]
fn highlighting_classifies_names_by_what_they_resolve_to() {
    let ide = ide();
    let line = "policy country_rows on source customers {\n  only show rows where row.country == \"US\" for everyone except user.clearance > 2\n}";
    let start = POLICIES.find(line).unwrap();
    let tokens: Vec<String> = ide
        .highlight(B)
        .iter()
        .filter(|t| t.span.start as usize >= start)
        .map(|t| format!("{:?} {}", t.kind, &POLICIES[t.span.range()]))
        .collect();
    assert_eq!(
        tokens,
        [
            "Keyword policy",
            "Policy country_rows",
            "Keyword on",
            "Keyword source",
            "Source customers",
            "Keyword only",
            "Keyword show",
            "Keyword rows",
            "Keyword where",
            "Keyword row",
            "Column country",
            "String \"US\"",
            "Keyword for",
            "Keyword everyone",
            "Keyword except",
            "Keyword user",
            "SubjectField clearance",
            "Number 2",
        ]
    );
    let a: Vec<String> = ide
        .highlight(A)
        .iter()
        .take(6)
        .map(|t| format!("{:?} {}", t.kind, &DECLS[t.span.range()]))
        .collect();
    assert_eq!(
        a,
        [
            "DocComment /// Personally identifiable information.",
            "Keyword tag",
            "Tag PII",
            "Keyword sensitive",
            "Keyword tag",
            "Tag PII",
        ]
    );
}

#[test]
fn code_actions_fix_typos_add_otherwise_and_declare_tags() {
    // (A rule whose target does not resolve is not checked further, so the missing `otherwise`
    // is on a rule of its own.)
    let policies = "policy p { mask columns tagged PII.Emial using hash for everyone }\npolicy q { mask columns tagged Secret using hash for everyone }\npolicy r { mask columns tagged PII using hash for everyone who user has role \"x\" }\n";
    let ide = ide_with(DECLS, policies);
    let typo = at(policies, "Emial", 0, 0);
    let actions = ide.code_actions(B, Span::new(typo, typo));
    let titles: Vec<(&str, bool)> = actions
        .iter()
        .map(|a| (a.title.as_str(), a.preferred))
        .collect();
    assert_eq!(
        titles,
        [
            ("replace with `PII.Email`", true),
            ("declare tag `PII.Emial`", false)
        ]
    );
    assert_eq!(
        apply(&ide, &actions[0].edits, B).lines().next().unwrap(),
        "policy p { mask columns tagged PII.Email using hash for everyone }"
    );
    assert!(apply(&ide, &actions[1].edits, A)
        .contains("tag Country \"Pays 🌍\";\ntag PII.Emial;\npurpose"));

    let secret = at(policies, "Secret", 0, 0);
    let actions = ide.code_actions(B, Span::new(secret, secret + 6));
    let titles: Vec<&str> = actions.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["declare tag `Secret`"]);

    let who = at(policies, "who", 0, 0);
    let actions = ide.code_actions(B, Span::new(who, who));
    let titles: Vec<&str> = actions.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(
        titles,
        ["add `otherwise using null`", "add `otherwise unmasked`"]
    );
    let fixed = apply(&ide, &actions[0].edits, B);
    assert!(
        fixed.contains("who user has role \"x\"\n  otherwise using null }"),
        "{fixed}"
    );
    assert!(ide.code_actions(A, Span::new(0, 3)).is_empty());
}

#[test]
fn inlay_hints_show_each_columns_effective_rule() {
    let ide = ide();
    let hints: Vec<String> = ide
        .inlay_hints(A)
        .iter()
        .map(|h| {
            format!(
                "{} => {}",
                DECLS[..h.offset].lines().last().unwrap_or("").trim(),
                h.label
            )
        })
        .collect();
    assert_eq!(
        hints,
        [
            "id: int key => clear",
            "email: text tagged PII.Email => research_email · hash if acting under Research, else null",
            "ssn: text tagged PII.SSN => hash_us_ssn · hash unless admins where row[tagged Country] == \"US\"; else null_pii · null",
            "country: text tagged Country => clear",
            "birth: date => clear",
            "ssn: text tagged PII.SSN => hash_us_ssn · hash unless admins where row[tagged Country] == \"US\"; else null_pii · null",
            "patient: struct {\n    ssn: text tagged PII.SSN,\n  } => clear",
        ]
        .map(|s| s.lines().last().unwrap().trim().to_string())
    );
}

#[test]
fn formatting_gives_the_canonical_layout_or_an_error() {
    let ide = ide_with(
        "tag   PII ;",
        "policy p {mask columns tagged PII using null for everyone}",
    );
    let edits = ide.format(A).expect("formats");
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].new_text, "tag PII;\n");
    assert_eq!(edits[0].loc.span, Span::new(0, 11));
    let formatted = ide_with("tag PII;\n", "");
    assert_eq!(formatted.format(A), Ok(Vec::new()));
    let broken = ide_with("tag ;", "");
    assert!(broken
        .format(A)
        .unwrap_err()
        .starts_with("syntax error at bytes 4..5"));
}

#[test]
fn garbage_and_out_of_range_positions_answer_nothing_without_panicking() {
    let texts = [
        "",
        "policy",
        "policy p { mask columns tagged",
        "source s { a: struct { b: ",
        "\u{1F600}`unterminated",
        "policy p on source { only show rows where row. }",
        "{{{{ }}}} ;;; user. row. column x.y. using",
    ];
    for t in texts {
        let ide = ide_with(t, t);
        for offset in 0..=t.len() + 2 {
            let _ = ide.hover(A, offset);
            let _ = ide.completions(A, offset);
            let _ = ide.definition(A, offset);
            let _ = ide.references(A, offset, true);
            let _ = ide.rename(A, offset, "x");
        }
        let _ = ide.highlight(A);
        let _ = ide.inlay_hints(A);
        let _ = ide.folding_ranges(A);
        let _ = ide.code_actions(A, Span::new(0, t.len()));
        let _ = ide.format(A);
        assert_eq!(ide.hover(FileId(9), 0), None);
        assert!(ide.completions(FileId(9), 0).is_empty());
    }
    let _ = Symbol::Tag(String::new());
}

#[test]
fn completion_reads_a_newer_text_than_the_analysis() {
    // The editor's text has a half-typed rule the analysis has not seen yet.
    let ide = ide();
    let newer = format!("{POLICIES}policy p {{ mask columns tagged PII.");
    let labels: Vec<String> = ide
        .completions_in(&newer, newer.len())
        .into_iter()
        .map(|c| c.label)
        .collect();
    assert_eq!(labels, ["SSN", "Email"]);
    assert!(ide
        .completions_in("", 10)
        .iter()
        .any(|c| c.label == "policy"));
}

/// Block comments (issue 9, item 8) in the editor: a multi-line one is highlighted line by line
/// and folds; `/** … */` is a plain comment, not a doc comment (hover shows no documentation).
#[test]
fn block_comments_are_highlighted_per_line_and_fold() {
    let decls =
        "/** not a doc comment */\ntag PII sensitive;\n/*\n  several\n  lines\n*/\ntag PII.SSN;\n";
    let ide = ide_with(decls, "");
    let comments: Vec<String> = ide
        .highlight(A)
        .iter()
        .filter(|t| format!("{:?}", t.kind).contains("Comment"))
        .map(|t| format!("{:?} {}", t.kind, &decls[t.span.range()]))
        .collect();
    assert_eq!(
        comments,
        [
            "Comment /** not a doc comment */",
            "Comment /*",
            "Comment   several",
            "Comment   lines",
            "Comment */",
        ]
    );
    let folds: Vec<&str> = ide
        .folding_ranges(A)
        .iter()
        .map(|s| &decls[s.range()])
        .collect();
    assert!(folds.contains(&"/*\n  several\n  lines\n*/"), "{folds:?}");
    assert!(ide.diagnostics().iter().all(|d| d.code.as_str() != "E0001"));
    let hover = ide
        .hover(A, decls.find("PII sensitive").unwrap_or(0) + 1)
        .map(|h| format!("{h:?}"))
        .unwrap_or_default();
    assert!(!hover.contains("not a doc comment"), "{hover}");
}

/// A tag 20,000 segments deep (issue 9, item 2) in the editor: completion offers at most 8
/// segments below what is typed, and hover shows the root and the last 7 ancestors, so neither
/// spells 20,000 paths.
#[test]
fn a_very_deep_tag_is_completed_and_hovered_in_linear_space() {
    let path: Vec<String> = (0..20_000).map(|i| format!("s{i}")).collect();
    let path = path.join(".");
    let decls = format!("tag {path};\nsource s {{\n  id: int key,\n  e: text tagged \n}}\n");
    let ide = ide_with(&decls, "");
    let after_tagged = decls.find("tagged ").unwrap_or(0) + "tagged ".len();
    let labels: Vec<String> = ide
        .completions_in(&decls, after_tagged)
        .into_iter()
        .filter(|c| c.kind == CompletionKind::Tag)
        .map(|c| c.label)
        .collect();
    assert_eq!(
        labels,
        [
            "s0",
            "s0.s1",
            "s0.s1.s2",
            "s0.s1.s2.s3",
            "s0.s1.s2.s3.s4",
            "s0.s1.s2.s3.s4.s5",
            "s0.s1.s2.s3.s4.s5.s6",
            "s0.s1.s2.s3.s4.s5.s6.s7",
        ]
    );
    let typed = format!(
        "{}\n  e: text tagged s0.s1.",
        &decls[..decls.find("\n  e:").unwrap_or(0)]
    );
    let below: Vec<String> = ide
        .completions_in(&typed, typed.len())
        .into_iter()
        .filter(|c| c.kind == CompletionKind::Tag)
        .map(|c| c.label)
        .collect();
    assert_eq!(below.first().map(String::as_str), Some("s2"));
    assert_eq!(below.len(), 8);
    let last = decls.find(".s19999;").map_or(0, |i| i + 2);
    let hover = ide
        .hover(A, last)
        .map(|h| format!("{h:?}"))
        .unwrap_or_default();
    assert!(hover.contains("…"), "{}", &hover[..hover.len().min(300)]);
    assert!(hover.len() < 9 * 20_000 * 8, "{} bytes", hover.len());
}

/// Completion reads the partial syntax tree: a policy whose other rule is broken, or whose `}`
/// is not typed yet, is still in the model, so `row.` offers the columns of its scope only.
#[test]
fn completion_inside_a_policy_whose_other_rule_is_broken() {
    let decls = "tag Crm;\n\
                 source customers tagged Crm { id: int key, country: text }\n\
                 source orders { id: int key, total: int }\n";
    let header = "policy scoped on sources tagged Crm {\n  \
                  mask column customers.country usin null for everyone\n  \
                  only show rows where row.";
    let mut expected = vec!["country".to_string(), "id".to_string()];
    expected.sort();
    // The rule being typed is followed by the rest of the policy, or by nothing yet.
    for rest in [" == 1 for everyone\n}\n", ""] {
        let text = format!("{header}{rest}");
        let ide = ide_with(decls, &text);
        let mut got = labels(&ide, B, header.len());
        got.sort();
        assert_eq!(got, expected, "with {rest:?} after the cursor");
    }
}

/// Issue 13's techniques are completed where they apply (a date column: `constant_text` and
/// `buckets` among the applicable ones, before the text techniques) and hovered from the catalog.
#[test]
fn new_techniques_are_completed_and_hovered() {
    let items = complete_at_end("policy p { mask column customers.birth using ");
    let labels: Vec<&str> = items.iter().map(|c| c.label.as_str()).collect();
    let pos = |name: &str| labels.iter().position(|l| *l == name).unwrap();
    assert!(pos("constant_text") < pos("show_last"), "{labels:?}");
    assert!(pos("buckets") < pos("show_last"), "{labels:?}");
    let buckets = items.iter().find(|c| c.label == "buckets").unwrap();
    assert_eq!(buckets.insert_text.as_deref(), Some("buckets(${1:edges})"));
    let text = format!(
        "{POLICIES}policy p9 {{ mask column customers.birth using buckets([0, 18], labels: [\"minor\", \"adult\"]) for everyone }}\n"
    );
    let ide = ide_with(DECLS, &text);
    let h = ide
        .hover(B, at(&text, "buckets(", 0, 2))
        .expect("technique");
    insta::assert_snapshot!(h.markdown, @r#"
    **technique** `buckets(edges, [labels])`

    The label of the bucket from the last edge at or below the value (for dates, the age) up to the next edge; null below the first edge; default labels `lo-hi` and `lo+`.

    *Applies to:* int, decimal, date, timestamp (the age)

    *Example:* 17 with `buckets([0, 5, 18, 65], labels: ["under 5", "5-17", "18-64", "65 and over"])` → `5-17`
    "#);
}

/// `with approval by C within D`: the keywords are documented on hover and completed, and the
/// approvers' condition is hovered and indexed like any condition.
#[test]
fn the_approval_of_a_temporary_unmask_is_hovered_and_completed() {
    let policies = "policy reversible on source customers {\n  allow temporary unmask for 8h for everyone\n    with approval by user.clearance > 3 within 4h\n}\n";
    let ide = ide_with(DECLS, policies);
    assert!(
        ide.file_diagnostics(B).is_empty(),
        "{:?}",
        ide.file_diagnostics(B)
    );
    let h = ide
        .hover(B, at(policies, "approval", 0, 1))
        .expect("keyword");
    assert!(
        h.markdown
            .starts_with("**keyword** `approval`\n\n`allow temporary unmask for 8h"),
        "{}",
        h.markdown
    );
    let h = ide.hover(B, at(policies, "within", 0, 1)).expect("keyword");
    assert!(h.markdown.contains("5m–72h, default 4h"), "{}", h.markdown);
    let h = ide
        .hover(B, at(policies, "clearance", 0, 0))
        .expect("subject field in the approvers' condition");
    assert_eq!(
        h.markdown,
        "**subject field** `user.clearance`: `int`\n\nDeclared in `subject { … }`."
    );
    let text =
        "policy p on source customers {\n  allow temporary unmask for 8h for everyone with appr";
    let ide = ide_with(DECLS, text);
    assert_eq!(labels(&ide, B, text.len()), ["approval"]);
}

/// Issue 13, item 3: the string functions are completed where an expression goes (with their
/// documentation and a snippet opening the call) and hovered.
#[test]
fn string_functions_are_completed_and_hovered() {
    let items = complete_at_end("policy p on source customers { only show rows where sub");
    let subs: Vec<(&str, CompletionKind, Option<&str>)> = items
        .iter()
        .map(|i| (i.label.as_str(), i.kind, i.insert_text.as_deref()))
        .collect();
    assert_eq!(
        subs,
        [
            ("subject", CompletionKind::Keyword, None),
            ("substring", CompletionKind::Function, Some("substring($0)"))
        ]
    );
    let items = complete_at_end("policy p on source customers { only show rows where co");
    let coalesce = items
        .iter()
        .find(|i| i.label == "coalesce")
        .expect("coalesce is proposed");
    assert_eq!(
        coalesce.documentation.as_deref(),
        Some(
            "`coalesce(a, b, …)`: the first argument that is not null (nor unknown); null if none."
        )
    );
    let text = "source t { id: int key, s: text, short = lpad(s, 4, \"0\"), }\n";
    let ide = ide_with(text, "");
    let h = ide.hover(A, at(text, "lpad", 0, 1)).expect("function");
    assert_eq!(
        h.markdown,
        "**function** `lpad`\n\n`lpad(text, n, fill) -> text`: filled on the left with `fill` to `n` characters, or cut to its first `n` (n at most 10000)."
    );
}
