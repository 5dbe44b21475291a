//! String functions in `expr` (issue 13, item 3): `replace`, `regex_replace`, `substring`,
//! `length`, `lpad`/`rpad` and `coalesce` give the values docs/language.md states, the same in
//! the engine and the reference evaluator (the PostgreSQL views are compared in
//! `sql_postgres::string_functions_equal_the_runtime_on_awkward_values`); calendar durations
//! (item 6) likewise.

use chrono::{DateTime, Utc};
use pol_compiler::reference::{Outcome, Reference};
use pol_compiler::source_map::SourceMap;
use pol_runtime::{Engine, KeyRing, MaskingKey};
use serde_json::{json, Map, Value};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid clock")
        .with_timezone(&Utc)
}

/// One derived column `out = EXPR` over a row `{s, n, m, f}`: the engine's and the reference's
/// value of `out`, which must agree.
fn value_of(expr: &str, row: &Value) -> Value {
    value_in("s: text, n: int, m: int, f: text", expr, row)
}

/// As [`value_of`], over a row of the columns declared by `columns`.
fn value_in(columns: &str, expr: &str, row: &Value) -> Value {
    let policy = format!("source t {{ id: int key, {columns}, out = {expr}, }}\n");
    let mut map = SourceMap::new();
    map.add("t.pol", policy);
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{expr}: {:?}", a.diagnostics);
    let keys = KeyRing::new(MaskingKey::from_bytes(&[9u8; 32]).expect("valid key"));
    let reference = Reference::new(&a.model, &a.resolution, Some(&[9u8; 32][..]), now());
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .expect("encodes");
    let engine = Engine::load(&bytes, Some(keys)).expect("loads");
    let subject = json!({"login": "amy"});
    let session = engine.session(&subject, now()).expect("a session");
    let mut row: Map<String, Value> = row.as_object().cloned().expect("an object");
    row.insert("id".into(), json!(1));
    let cells = session
        .source("t")
        .expect("the source")
        .mask_json(&row)
        .expect("shown");
    let engine_out = cells
        .into_iter()
        .find(|(name, _)| name == "out")
        .map(|(_, v)| v)
        .expect("out");
    let Outcome::Shown(cells) = reference.mask_row("t", &subject, &row).expect("evaluates") else {
        panic!("hidden")
    };
    assert_eq!(cells.get("out"), Some(&engine_out), "{expr} on {row:?}");
    engine_out
}

#[test]
fn replace_replaces_every_occurrence_and_leaves_an_empty_pattern_alone() {
    let row = json!({"s": "a.b..c", "f": "é"});
    assert_eq!(
        value_of("replace(s, \".\", \"::\")", &row),
        json!("a::b::::c")
    );
    assert_eq!(value_of("replace(s, \"..\", \"-\")", &row), json!("a.b-c"));
    assert_eq!(value_of("replace(s, \"\", \"x\")", &row), json!("a.b..c"));
    assert_eq!(value_of("replace(s, \".\", f)", &row), json!("aébééc"));
    assert_eq!(
        value_of("replace(s, \".\", f)", &json!({"s": "a.b"})),
        json!(null)
    );
}

#[test]
fn replace_past_the_result_limit_is_null() {
    let row = json!({"s": "x".repeat(2_000), "n": 1_000});
    assert_eq!(
        value_of("replace(s, \"x\", lpad(\"\", n, \"y\"))", &row),
        json!(null)
    );
    assert_eq!(
        value_of("length(replace(s, \"x\", lpad(\"\", 500, \"y\")))", &row),
        json!(1_000_000)
    );
}

#[test]
fn regex_replace_replaces_every_match_with_groups() {
    let row = json!({"s": "tel 555-0123, fax 555-9876"});
    assert_eq!(
        value_of(
            "regex_replace(s, r\"([0-9]{3})-([0-9]{4})\", \"$1-****\")",
            &row
        ),
        json!("tel 555-****, fax 555-****")
    );
    assert_eq!(
        value_of(
            "regex_replace(s, r\"(?P<d>[0-9])\", \"<${d}>\")",
            &json!({"s": "a1é2"})
        ),
        json!("a<1>é<2>")
    );
    assert_eq!(
        value_of("regex_replace(s, r\"x\", \"y\")", &json!({})),
        json!(null)
    );
}

#[test]
fn substring_counts_characters_from_one_and_clips_to_the_text() {
    let cases = [
        ("substring(s, 2)", json!({"s": "héllo"}), json!("éllo")),
        ("substring(s, 2, 3)", json!({"s": "héllo"}), json!("éll")),
        ("substring(s, 0, 3)", json!({"s": "hello"}), json!("he")),
        ("substring(s, -10, 12)", json!({"s": "hello"}), json!("h")),
        ("substring(s, 4, 99)", json!({"s": "hello"}), json!("lo")),
        ("substring(s, 9)", json!({"s": "hello"}), json!("")),
        ("substring(s, 2, 0)", json!({"s": "hello"}), json!("")),
        (
            "substring(s, n, m)",
            json!({"s": "hello", "n": 1, "m": -1}),
            json!(null),
        ),
        (
            "substring(s, n, m)",
            json!({"s": "hello", "n": 2}),
            json!(null),
        ),
        (
            "substring(s, n, m)",
            json!({"s": "hello", "n": i64::MAX, "m": i64::MAX}),
            json!(""),
        ),
        (
            "substring(s, n, m)",
            json!({"s": "hello", "n": i64::MIN, "m": i64::MAX}),
            json!(""),
        ),
        (
            "substring(s, n)",
            json!({"s": "hello", "n": i64::MIN}),
            json!("hello"),
        ),
    ];
    for (expr, row, want) in cases {
        assert_eq!(value_of(expr, &row), want, "{expr} on {row}");
    }
}

#[test]
fn length_counts_unicode_scalar_values() {
    assert_eq!(
        value_of("length(s)", &json!({"s": "é👍e\u{301}"})),
        json!(4)
    );
    assert_eq!(value_of("length(s)", &json!({"s": ""})), json!(0));
    assert_eq!(value_of("length(s)", &json!({})), json!(null));
}

#[test]
fn pads_fill_cut_and_refuse_lengths_over_the_limit() {
    let cases = [
        ("lpad(s, 6, \"0\")", json!({"s": "42"}), json!("000042")),
        ("rpad(s, 7, \"ab\")", json!({"s": "x"}), json!("xababab")),
        ("lpad(s, 3, \"ab\")", json!({"s": "héllo"}), json!("hél")),
        ("rpad(s, 3, \"ab\")", json!({"s": "héllo"}), json!("hél")),
        ("lpad(s, 5, \"\")", json!({"s": "ab"}), json!("ab")),
        ("lpad(s, n, \"x\")", json!({"s": "ab", "n": -4}), json!("")),
        (
            "lpad(s, n, \"x\")",
            json!({"s": "ab", "n": 10_001}),
            json!(null),
        ),
        (
            "length(rpad(s, n, \"é\"))",
            json!({"s": "", "n": 10_000}),
            json!(10_000),
        ),
        ("lpad(s, n, f)", json!({"s": "ab", "n": 4}), json!(null)),
    ];
    for (expr, row, want) in cases {
        assert_eq!(value_of(expr, &row), want, "{expr} on {row}");
    }
}

#[test]
fn coalesce_gives_the_first_value_that_is_not_null() {
    let cases = [
        ("coalesce(f, s, \"none\")", json!({"s": "b"}), json!("b")),
        (
            "coalesce(f, s, \"none\")",
            json!({"f": "a", "s": "b"}),
            json!("a"),
        ),
        ("coalesce(f, s, \"none\")", json!({}), json!("none")),
        ("coalesce(f, s)", json!({}), json!(null)),
        ("coalesce(n, m, 0) + 1", json!({"m": 4}), json!(5)),
        // An unknown argument (a division of types, a missing field) is skipped like null.
        (
            "coalesce(substring(s, 1, m), \"?\")",
            json!({"s": "abc", "m": -1}),
            json!("?"),
        ),
    ];
    for (expr, row, want) in cases {
        assert_eq!(value_of(expr, &row), want, "{expr} on {row}");
    }
}

/// Issue 13, item 6: months move the calendar, the day clamped to the month's last, a
/// timestamp keeping its time of day; out of the calendar's range the value is null.
#[test]
fn calendar_months_clamp_to_the_last_day_in_engine_and_reference() {
    let cols = "d: date, at: timestamp";
    let cases = [
        ("d + 1mo", json!({"d": "2024-01-31"}), json!("2024-02-29")),
        ("d + 1y", json!({"d": "2024-02-29"}), json!("2025-02-28")),
        ("d - 1mo", json!({"d": "2024-03-31"}), json!("2024-02-29")),
        (
            "d + (1y + 1mo)",
            json!({"d": "2023-01-31"}),
            json!("2024-02-29"),
        ),
        ("d - -6mo", json!({"d": "2023-08-31"}), json!("2024-02-29")),
        (
            "d + 10000y",
            json!({"d": "2024-01-01"}),
            json!("+12024-01-01"),
        ),
        (
            "at + 6mo",
            json!({"at": "2024-08-31T23:59:59Z"}),
            json!("2025-02-28T23:59:59Z"),
        ),
        ("at - 1y", json!({"at": null}), json!(null)),
        (
            "if 1y == 12mo and 6mo < 1y then d else null",
            json!({"d": "2024-05-05"}),
            json!("2024-05-05"),
        ),
    ];
    for (expr, row, want) in cases {
        assert_eq!(value_in(cols, expr, &row), want, "{expr} on {row}");
    }
}

/// `polc sql` refuses a `regex_replace` pattern PostgreSQL would read differently (an
/// alternation: leftmost-first in Rust, leftmost-longest in PostgreSQL), naming the column and
/// the reason, and writes nothing.
#[test]
fn polc_sql_refuses_a_regex_replace_postgres_reads_differently() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("q.pol"),
        "source t { id: int key, s: text, alt = regex_replace(s, r\"ab|cd\", \"x\"), }\n",
    )
    .expect("writes");
    let (code, out, err) =
        crate::support::polc::polc_words(dir.path(), "sql q.pol --dialect postgres", &[]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "q.pol:1:34: error[S0003]: `t.alt`: `regex_replace` with r\"ab|cd\" (an alternation (`|`)) cannot be evaluated exactly in SQL\nerror: 1 part of the policy set cannot be enforced exactly in SQL; nothing was written\n"
    );
}
