//! Deep input (issue 9, item 1): every stage after the parser handles any depth the parser
//! accepts. A construct deeper than `pol_grammar::nesting::MAX_NESTING` is refused with one
//! `E0033` at the construct; a construct at the limit goes through every stage — on a thread with
//! a 2 MiB stack, the default of a spawned thread and of the language server's workers, so that a
//! stage that starts recursing harder (or a tree built deeper) is caught here as a crash.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::diagnostics::Code;
use pol_compiler::ide::Ide;
use pol_compiler::reference::Reference;
use pol_compiler::source_map::{FileId, SourceMap};
use pol_grammar::nesting::MAX_NESTING;
use std::process::Command;

/// The constructs that nest, each written `n` deep by [`deep_policy`].
const KINDS: &[&str] = &[
    "and",
    "or",
    "add",
    "sub",
    "not",
    "neg",
    "parens",
    "list_lit",
    "call",
    "field",
    "index",
    "if",
    "list_type",
    "struct_type",
    "by_level",
];

/// The condition of the mask rule for `kind`, `n` deep (the same as `scripts/gen_deep.py`).
fn condition(kind: &str, n: usize) -> String {
    let rep = |s: &str, k: usize| s.repeat(k);
    let chain = |op: &str| vec!["row.b"; n].join(op);
    let numeric = |op: &str| format!("{} > 0", vec!["row.n"; n].join(op));
    match kind {
        "and" => chain(" and "),
        "or" => chain(" or "),
        "add" => numeric(" + "),
        "sub" => numeric(" - "),
        "not" => format!("{}row.b", rep("not ", n)),
        "neg" => format!("{}row.n > 0", rep("-", n)),
        "parens" => format!("{}row.b{}", rep("(", n), rep(")", n)),
        "list_lit" => format!("row.n in {}1{}", rep("[", n), rep("]", n)),
        "call" => format!("{}row.b{}", rep("has(", n), rep(")", n)),
        "field" => format!("user.b{}", rep(".x", n)),
        "index" => format!("row.b{}", rep("[0]", n)),
        "if" => format!("{}true{}", rep("if row.b then ", n), rep(" else false", n)),
        _ => "row.b".to_string(),
    }
}

/// A policy set whose one construct of `kind` is `n` deep.
fn deep_policy(kind: &str, n: usize) -> String {
    let ty = match kind {
        "list_type" => format!("{}int{}", "list<".repeat(n), ">".repeat(n)),
        "struct_type" => format!("{}int{}", "struct { x: ".repeat(n), " }".repeat(n)),
        _ => "bool".to_string(),
    };
    let technique = match kind {
        "by_level" => format!("{}null{}", "by level { Low: ".repeat(n), " }".repeat(n)),
        _ => "null".to_string(),
    };
    let (levels, level, level_column) = match kind {
        "by_level" => (
            "level High > Low;\n",
            " level Low from lvl",
            "  lvl: text,\n",
        ),
        _ => ("", "", ""),
    };
    format!(
        "tag PII sensitive;\nsubject {{ n: int, b: bool }}\n{levels}\
         source s{level} {{\n  id: int key,\n  n: int,\n  b: bool,\n  deep: {ty},\n{level_column}  e: text tagged PII,\n}}\n\
         policy p on source s {{\n  mask columns tagged PII where {} using {technique} for everyone\n}}\n\
         test \"deep\" {{\n  given user {{ n: 1, b: true }}\n  given row s {{ id: 1, n: 1, b: true, e: \"x\" }}\n  expect row {{ e: null }}\n}}\n",
        condition(kind, n)
    )
}

/// Runs `f` on a thread with an 8 MiB stack ([`pol_compiler::MIN_STACK`]); a stack overflow there
/// aborts the test binary.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(pol_compiler::MIN_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

fn map_of(text: String) -> SourceMap {
    let mut map = SourceMap::new();
    map.add("deep.pol", text);
    map
}

/// Every editor question at `offset` and on the whole file; returns the hover text if any.
fn ask_everything(ide: &Ide, offset: usize) -> Option<String> {
    let file = FileId(0);
    let hover = ide.hover(file, offset).map(|h| format!("{h:?}"));
    let _ = ide.completions(file, offset);
    let _ = ide.definition(file, offset);
    let _ = ide.references(file, offset, true);
    let _ = ide.prepare_rename(file, offset);
    let _ = ide.document_symbols(file);
    let _ = ide.folding_ranges(file);
    let _ = ide.highlight(file);
    let _ = ide.inlay_hints(file);
    let _ = ide.format(file);
    let _ = ide.code_actions(file, pol_grammar::Span::new(offset, offset + 1));
    hover
}

/// The offset of the middle of the deep condition (inside the deep construct).
fn middle_of_condition(text: &str) -> usize {
    let start = text.find("where ").map_or(0, |i| i + 6);
    let end = text[start..]
        .find(" using ")
        .map_or(text.len(), |i| start + i);
    let mut mid = (start + end) / 2;
    while !text.is_char_boundary(mid) {
        mid -= 1;
    }
    mid
}

#[test]
fn a_hundred_thousand_deep_is_one_error_at_the_construct() {
    for kind in KINDS {
        // 100k for the operators and parentheses; 20k for the other constructs (they nest
        // through the same grammar actions, and the test runs in a debug build).
        let n = match *kind {
            "and" | "or" | "add" | "sub" | "not" | "neg" | "parens" => 100_000,
            _ => 20_000,
        };
        let text = deep_policy(kind, n);
        let outcome = on_small_stack(move || {
            let ast = pol_grammar::parse_file(&text);
            let json = serde_json::to_string(&ast).map(|s| s.len());
            let formatted = pol_grammar::format::format_source(&text).is_ok();
            let offset = middle_of_condition(&text);
            let ide = Ide::new(map_of(text));
            let _ = ask_everything(&ide, offset);
            let codes: Vec<(Code, u32)> = ide
                .diagnostics()
                .iter()
                .map(|d| (d.code, d.primary.span.start))
                .collect();
            drop(ast);
            (codes, json.is_ok(), formatted)
        });
        let (codes, serialised, formatted) = outcome;
        if *kind == "parens" {
            // Parentheses build no node: a million of them are one leaf.
            assert!(
                codes.iter().all(|(c, _)| *c != Code::TooDeep),
                "{kind}: {codes:?}"
            );
            continue;
        }
        let deep: Vec<_> = codes.iter().filter(|(c, _)| *c == Code::TooDeep).collect();
        assert_eq!(deep.len(), 1, "{kind}: {codes:?}");
        assert!(serialised, "{kind}");
        assert!(
            !formatted,
            "{kind}: a file that does not parse is not formatted"
        );
    }
}

#[test]
fn the_error_names_the_limit_and_the_construct() {
    let text = deep_policy("and", 100_000);
    let analysis = on_small_stack(move || {
        let map = map_of(text);
        let a = pol_compiler::check(&map);
        let out = pol_compiler::diagnostics::render::render(
            pol_compiler::diagnostics::render::Format::Json,
            &a.diagnostics,
            &map,
        );
        (a.diagnostics.len(), out)
    });
    let (_, json) = analysis;
    let v: serde_json::Value = serde_json::from_str(json.trim()).expect("json");
    // One error; the policy it was in is lost (an error node of the tree), so no warning says its
    // sensitive column is uncovered (W0004): the unread policy may cover it.
    assert_eq!(v["summary"]["errors"], 1, "{json}");
    assert_eq!(v["summary"]["warnings"], 0, "{json}");
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E0033", "{json}");
    assert_eq!(
        d["message"],
        "this expression nests more than 256 levels deep, the limit; split it into smaller parts \
         (for many alternatives, `x in [a, b, …]` does not nest)"
    );
    // The span is the first 257 terms of the chain: line 11, from the `where` condition.
    assert_eq!(d["range"]["start"]["line"], 11, "{json}");
}

/// The boundary: a chain of 256 terms is 256 deep and accepted, 257 terms are refused.
#[test]
fn the_limit_is_exact() {
    let codes = |n: usize| {
        let text = deep_policy("and", n);
        on_small_stack(move || {
            pol_compiler::check(&map_of(text))
                .diagnostics
                .iter()
                .filter(|d| d.code.severity() == pol_compiler::diagnostics::Severity::Error)
                .map(|d| d.code)
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(MAX_NESTING, 256);
    assert_eq!(codes(256), vec![]);
    assert_eq!(codes(257), vec![Code::TooDeep]);
}

/// At the limit, every stage runs on a stack of `MIN_STACK`: check, lints, lowering, the bundle and the
/// runtime, the `test` blocks, the reference evaluator, the formatter, the syntax tree's
/// serialisation, and every IDE question inside the deep construct.
#[test]
fn every_stage_runs_at_the_limit_on_a_small_stack() {
    for kind in KINDS {
        // `n` such that the deepest node is exactly at (or just under) the limit.
        let n = match *kind {
            "and" | "or" | "parens" => MAX_NESTING,
            // The runtime's limit on struct fields (`MAX_FIELD_DEPTH`) is lower.
            "struct_type" => pol_runtime::bundle::verify::MAX_FIELD_DEPTH,
            "field" | "index" => MAX_NESTING - 1,
            "list_type" => pol_grammar::nesting::MAX_TYPE_NESTING - 2,
            _ => MAX_NESTING - 2,
        };
        let text = deep_policy(kind, n);
        let kind = kind.to_string();
        on_small_stack(move || at_the_limit(&kind, text));
    }
}

fn at_the_limit(kind: &str, text: String) {
    let ast = pol_grammar::parse_file(&text);
    assert_eq!(ast.errors, vec![], "{kind}");
    assert!(serde_json::to_string(&ast).is_ok());
    let formatted = pol_grammar::format::format_source(&text).expect("formats");
    assert_eq!(
        pol_grammar::format::format_source(&formatted).as_deref(),
        Ok(formatted.as_str()),
        "{kind}: formatting is idempotent"
    );
    let map = map_of(text.clone());
    let a = pol_compiler::check(&map);
    assert!(
        a.diagnostics.iter().all(|d| d.code != Code::TooDeep),
        "{kind}"
    );
    if !a.has_errors() {
        let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
        let bytes = bundle.to_bytes().expect("encodes");
        let key =
            pol_runtime::MaskingKey::from_bytes(pol_compiler::testing::TEST_KEY).expect("test key");
        let engine =
            pol_runtime::Engine::load(&bytes, Some(pol_runtime::KeyRing::new(key))).expect("loads");
        let evaluator = pol_compiler::testing::EngineEvaluator { engine };
        let results = pol_compiler::testing::run_all(&a.model, &evaluator);
        assert_eq!(results.len(), 1, "{kind}");
        let reference = Reference::new(
            &a.model,
            &a.resolution,
            None,
            pol_compiler::testing::default_clock(),
        );
        let subject = serde_json::json!({ "n": 1, "b": true });
        let row = serde_json::json!({ "id": 1, "n": 1, "b": true, "e": "x", "lvl": "Low" });
        let row = row.as_object().cloned().unwrap_or_default();
        assert!(reference.mask_row("s", &subject, &row).is_ok(), "{kind}");
    }
    let offset = middle_of_condition(&text);
    let ide = Ide::new(map);
    let _ = ask_everything(&ide, offset);
    // Inside the deep type or technique too.
    for needle in ["deep: ", "by level"] {
        if let Some(at) = text.find(needle) {
            let _ = ask_everything(&ide, at + needle.len() + 40);
        }
    }
}

/// Struct fields deeper than the runtime accepts are refused by the checker (not by the
/// runtime when the bundle loads): one E0033 at the first field too deep.
#[test]
fn struct_fields_deeper_than_the_runtime_accepts_are_an_error() {
    let limit = pol_runtime::bundle::verify::MAX_FIELD_DEPTH;
    assert_eq!(limit, 32);
    let errors = |n: usize| {
        let text = deep_policy("struct_type", n);
        on_small_stack(move || {
            let map = map_of(text.clone());
            pol_compiler::check(&map)
                .diagnostics
                .iter()
                .filter(|d| d.code.severity() == pol_compiler::diagnostics::Severity::Error)
                .map(|d| (d.code, d.message.clone(), d.primary.span.start as usize))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(errors(limit), vec![]);
    let text = deep_policy("struct_type", limit + 1);
    let field_33 = text.match_indices("x: ").nth(limit).map(|(i, _)| i);
    assert_eq!(
        errors(limit + 1),
        vec![(
            Code::TooDeep,
            "struct fields nest more than 32 levels deep, the limit of the runtime; flatten the \
             struct"
                .to_string(),
            field_33.unwrap_or(0)
        )]
    );
}

/// The `polc` binary on 100k-deep input: a clean exit with E0033, never a signal.
#[test]
fn polc_commands_exit_cleanly_on_deep_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("subject.json"), r#"{"n": 1, "b": true}"#).expect("write");
    std::fs::write(
        dir.path().join("rows.jsonl"),
        "{\"id\": 1, \"n\": 1, \"b\": true, \"e\": \"x\"}\n",
    )
    .expect("write");
    for kind in ["and", "or", "add", "not", "list_type", "struct_type"] {
        let n = if kind.ends_with("_type") {
            10_000
        } else {
            100_000
        };
        let file = dir.path().join(format!("{kind}.pol"));
        std::fs::write(&file, deep_policy(kind, n)).expect("write");
        let f = file.to_string_lossy().to_string();
        let bundle = dir.path().join("out.polb").to_string_lossy().to_string();
        let commands: Vec<Vec<&str>> = vec![
            vec!["check", &f],
            vec!["build", &f, "-o", &bundle],
            vec!["test", &f],
            vec!["fmt", "--check", &f],
            vec![
                "eval",
                &f,
                "--subject",
                "subject.json",
                "--source",
                "s",
                "--rows",
                "rows.jsonl",
            ],
        ];
        for args in commands {
            let out = Command::new(env!("CARGO_BIN_EXE_polc"))
                .current_dir(dir.path())
                .args(&args)
                .output()
                .expect("polc runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                matches!(out.status.code(), Some(1) | Some(2)),
                "{kind} {args:?}: {:?}\n{stderr}",
                out.status
            );
            let all = format!("{stdout}{stderr}");
            assert_eq!(all.matches("E0033").count(), 1, "{kind} {args:?}: {all}");
            assert!(all.len() < 20_000, "{kind} {args:?}: output is bounded");
        }
    }
}

/// A source whose derived columns read each other in a chain of `n` (the first reads the second,
/// …, the last reads a stored column), and a test that reads the first.
fn derived_chain(n: usize) -> String {
    let columns: String = (0..n - 1)
        .map(|i| format!("  d{i} = row.d{} + 1,\n", i + 1))
        .collect();
    format!(
        "source s {{\n  id: int key,\n{columns}  d{last}: int,\n}}\n\
         test \"chain\" {{\n  given user {{}}\n  given row s {{ id: 1, d{last}: 0 }}\n  expect row {{ d0: {expected} }}\n}}\n",
        last = n - 1,
        expected = n - 1
    )
}

/// Dependencies between derived columns nest too: a chain of 20,000 is one E0033 at the first
/// column beyond the limit (the checker, the reference evaluator and the runtime all order derived
/// columns by their dependencies); a chain at the limit goes through every stage.
#[test]
fn derived_column_chains_are_limited_too() {
    let text = derived_chain(20_000);
    let errors = on_small_stack(move || {
        let ide = Ide::new(map_of(text));
        let _ = ask_everything(&ide, 40);
        ide.diagnostics()
            .iter()
            .map(|d| (d.code, d.message.clone()))
            .collect::<Vec<_>>()
    });
    assert_eq!(
        errors,
        vec![(
            Code::TooDeep,
            "this derived column reads through more than 256 derived columns, the limit; compute \
             part of the chain in the source"
                .to_string()
        )]
    );
    let at_limit = derived_chain(MAX_NESTING);
    on_small_stack(move || at_the_limit("derived chain", at_limit));
}
