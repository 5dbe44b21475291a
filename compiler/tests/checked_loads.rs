//! Issue 13, defect 3, as a property: every argument the runtime validates is validated by the
//! checker. Random technique uses — every technique of the catalog, arguments drawn from a pool
//! of edge values whatever the parameter's kind, positional or labelled, in direct and tag
//! rules, under `by level` — on columns of every type: whenever the set checks without errors,
//! it lowers, encodes and loads into the engine. (`initials("")` used to check clean and then
//! fail to load.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;
use crate::support::gen::Tape;
use pol_compiler::source_map::SourceMap;
use pol_compiler::techniques::{Param, ParamSpec, CATALOG};
use pol_runtime::{Engine, KeyRing, MaskingKey};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Column types, one column of each in the source.
const COLUMNS: &[(&str, &str)] = &[
    ("t", "text"),
    ("i", "int"),
    ("d", "decimal"),
    ("dt", "date"),
    ("ts", "timestamp"),
    ("b", "bool"),
    ("e", "enum(\"MD\", \"VA\")"),
    ("l", "list<text>"),
];

/// Argument values at the edges of what parameters accept, whatever their kind.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "4",
    "100",
    "101",
    "4294967296",
    "9223372036854775807",
    "0.5",
    "1.5",
    "-2.5",
    "0.0",
    "\"\"",
    "\"x\"",
    "\"ab\"",
    "\" \"",
    "\"%m/%Y\"",
    "\"%Q\"",
    "\"%\"",
    "r\"\\d\"",
    "r\"(\"",
    "r\"^\"",
    "\"$1\"",
    "global",
    "source",
    "month",
    "day",
    "minute",
    "year",
    "true",
    "false",
    "null",
    "\"MD\"",
    "date(\"2020-01-01\")",
    "value",
    "upper(value)",
    "value + 1",
    "keep_domain",
];

/// Values at the edges of what a parameter of this kind accepts (both sides of each edge).
fn edges(kind: Param) -> Vec<String> {
    let strs = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    match kind {
        Param::Int { min, max } => {
            let mut v = vec![min - 1, min, min + 1, 4];
            if max != i64::MAX {
                v.extend([max - 1, max, max + 1]);
            } else {
                v.push(max);
            }
            v.iter().map(i64::to_string).collect()
        }
        Param::Number { .. } => strs(&["0", "0.5", "1", "1.5", "-1", "1000000"]),
        Param::SizeOrUnit => strs(&["0", "5", "2.5", "month", "hour", "minute", "week"]),
        Param::Text => strs(&["\"\"", "\"x\"", "\"$1\"", "\"[R]\""]),
        Param::NonEmptyText => strs(&["\"\"", "\"-\"", "\" \""]),
        Param::Char => strs(&["\"\"", "\"*\"", "\"ab\"", "\"é\"", "\"7\"", "\"½\""]),
        Param::Fill => strs(&["\"\"", "\"x\"", "\"[R]\"", "\"N1\"", "\"٣\""]),
        Param::Edges => strs(&[
            "[]",
            "[0]",
            "[0, 5, 18, 65]",
            "[5, 5]",
            "[18, 5]",
            "[-0.5, 0.25, 10000000000000000000.0]",
            "[\"a\"]",
            "5",
        ]),
        Param::Labels => strs(&[
            "[]",
            "[\"a\"]",
            "[\"a\", \"b\", \"c\", \"d\"]",
            "[\"\"]",
            "[1]",
            "\"a\"",
        ]),
        Param::Regex => strs(&["r\"\\d\"", "r\"(\"", "r\"^\"", "r\"\""]),
        Param::Strftime => strs(&["\"%m/%Y\"", "\"%Q\"", "\"%\"", "\"\""]),
        Param::Word(words) => {
            let mut v = strs(words);
            v.push("nope".to_string());
            v
        }
        Param::Flag => strs(&["true", "false"]),
        Param::Const => strs(&[
            "null",
            "1",
            "\"MD\"",
            "\"x\"",
            "1.5",
            "true",
            "date(\"2020-01-01\")",
        ]),
        Param::Expr => strs(&[
            "value",
            "null",
            "upper(value)",
            "value + 1",
            "concat(\"a\", \"\")",
        ]),
    }
}

/// An argument for `param`: mostly a value at its edges, sometimes any value of the pool.
fn argument(t: &mut Tape, param: &ParamSpec) -> String {
    let v = if t.one_in(6) {
        (*t.choose(VALUES)).to_string()
    } else {
        t.choose(&edges(param.kind)).clone()
    };
    if param.kind == Param::Flag && t.one_in(2) {
        return param.name.to_string();
    }
    if t.one_in(3) {
        format!("{}: {v}", param.name)
    } else {
        v
    }
}

fn technique(t: &mut Tape, depth: usize) -> String {
    if depth == 0 && t.one_in(8) {
        let a = technique(t, 1);
        let b = technique(t, 1);
        return format!("by level {{ High: {a}, Low: {b} }}");
    }
    let spec = t.choose(CATALOG);
    let mut args = Vec::new();
    for param in spec.params {
        if param.required || t.one_in(2) {
            args.push(argument(t, param));
        }
    }
    if t.one_in(10) {
        args.push((*t.choose(VALUES)).to_string());
    }
    if args.is_empty() && t.one_in(2) {
        spec.name.to_string()
    } else {
        format!("{}({})", spec.name, args.join(", "))
    }
}

fn policy_set(t: &mut Tape) -> String {
    let mut text = String::from(
        "tag PII;\nlevel High > Low;\nsource s level High from lvl {\n  id: int key,\n  lvl: text,\n",
    );
    for (name, ty) in COLUMNS {
        text.push_str(&format!("  {name}: {ty} tagged PII,\n"));
    }
    text.push_str("}\n");
    for p in 0..1 + usize::from(t.one_in(4)) {
        let target = if !t.one_in(4) {
            "columns tagged PII".to_string()
        } else {
            format!("column s.{}", t.choose(COLUMNS).0)
        };
        let tech = technique(t, 0);
        text.push_str(&format!(
            "policy p{p} {{ mask {target} using {tech} for everyone }}\n"
        ));
    }
    text
}

#[test]
fn every_generated_set_that_checks_clean_builds_and_loads() {
    let cases = support::cases(2048);
    let clean = AtomicUsize::new(0);
    let key = MaskingKey::from_bytes(&[7u8; 32]).expect("valid key");
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = proptest::collection::vec(any::<u32>(), 8..64);
    let result = runner.run(&strategy, |tape| {
        let text = policy_set(&mut Tape::new(tape));
        let mut map = SourceMap::new();
        map.add("gen.pol", text.clone());
        let a = pol_compiler::check(&map);
        if a.has_errors() {
            return Ok(());
        }
        clean.fetch_add(1, Ordering::SeqCst);
        let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
            .to_bytes()
            .map_err(|e| TestCaseError::fail(format!("does not encode: {e}\n{text}")))?;
        if let Err(e) = Engine::load(&bytes, Some(KeyRing::new(key.clone()))) {
            return Err(TestCaseError::fail(format!(
                "checks clean but does not load: {e}\n{text}"
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let n = clean.load(Ordering::SeqCst);
    assert!(
        n * 8 >= cases as usize,
        "only {n} of {cases} generated sets checked clean"
    );
}
