//! Differential test of the techniques alone: every technique of §5 (with varied arguments,
//! `by level` aside) on every column type, through a tag-targeted rule (so a technique that does
//! not apply falls back), on edge values — the reference evaluator's own techniques
//! (`reference/techniques/`) against the engine's, cell by cell.
//!
//! 256 cases by default; `POL_DIFF_CASES` sets more.

use chrono::{DateTime, Utc};
use pol_compiler::reference::{Outcome, Reference};
use pol_runtime::{Engine, KeyRing, MaskingKey};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::support;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

/// Every technique, with arguments chosen to reach the edges of its definition.
const TECHNIQUES: &[&str] = &[
    "null",
    "constant(\"n/a\")",
    "constant(2)",
    "constant(1.5)",
    "constant(\"VA\")",
    "constant(true)",
    "hash",
    "hash(scope: global)",
    "redact",
    "stars",
    "show_last(4)",
    "show_last(1)",
    "show_first(3)",
    "email_mask",
    "mask_first(5)",
    "mask_last(4, text: \"[Restricted]\")",
    "mask_first(5, text: \"X\")",
    "mask_last(2, char: \"#\")",
    "mask_first_percent(30)",
    "mask_last_percent(34)",
    "mask_last_percent(100)",
    "initials",
    "initials(\",\")",
    "regex(r\"\\d+$\", \"XXX\")",
    "regex(r\"\\d\", \"#\", global)",
    "regex(\"ab\", \"X\", ignore_case)",
    "regex(r\"(\\w+)@(\\w+)\", \"$2 at $1\")",
    "range(10)",
    "range(2.5)",
    "range(0.1)",
    "range(1000)",
    "round(5)",
    "round(0.1)",
    "round(2.5)",
    "round(minute)",
    "round(hour)",
    "round(day)",
    "round(month)",
    "round(year)",
    "digits",
    "digits(\"#\")",
    "age_range(10)",
    "age_range(5, max: 30)",
    "year_only",
    "year_only(max: 37)",
    "month_year",
    "month_year(max: 60)",
    "date_format(\"%m/%Y\")",
    "date_format(\"%d %B %y %H:%M\")",
    "date_format(\"%s %j %a\")",
    "noise(1000)",
    "noise(2.5)",
    "noise(30)",
    "randomize(0.5)",
    "randomize(1)",
    "randomize(0)",
    "tokenize",
    "format_preserving",
    "mask_first_percent(30, char: \"#\")",
    "mask_last_percent(34, text: \"[x]\")",
    "mask_first_percent(100, text: \"…\")",
    "show_last(4, text: \"XXX-XX-\")",
    "show_first(3, char: \"#\")",
    "show_last(1, char: \"·\")",
    "digits(text: \"N\")",
    "digits(char: \"x\")",
    "constant_text(\"Date withheld\")",
    "buckets([0, 5, 18, 65], labels: [\"under 5\", \"5-17\", \"18-64\", \"65 and over\"])",
    "buckets([-0.5, 0.25, 25, 10000000000000000000.0])",
    "buckets([30])",
    "age_range(10, max: 70, above: \"Over 70\")",
    "year_only(max: 37, above: \"old\")",
    "month_year(max: 1, above: \"not this year\")",
    "date_format(\"%m/%Y\", max: 60, above: \"60+\")",
];

/// Column types with edge values (JSON) for each.
fn kinds() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            "text",
            vec![
                json!("jenny@example.com"),
                json!("a@b@mail.co.uk"),
                json!("123-45-6789"),
                json!("555-867-5309"),
                json!("AB-1234567"),
                json!("4111-1111-1111-1111"),
                json!("Zx9-81q"),
                json!("John  Smith"),
                json!("Smith, John ,, Ann"),
                json!("Ünïcode 42"),
                json!(""),
                json!("x"),
                json!("   "),
                json!("é1234567"),
                json!("٣٤٥ 12"),
                json!("xABy 1"),
            ],
        ),
        (
            "int",
            vec![
                json!(0),
                json!(25),
                json!(-21),
                json!(7),
                json!(52000),
                json!(i64::MAX),
                json!(i64::MIN),
                json!(1_000_000),
                json!(-999_999),
                json!(-4_111_111_111_i64),
                json!(-i64::MAX),
                json!(1_000_000_000_000_000_000_i64),
            ],
        ),
        (
            "decimal",
            vec![
                json!(0.3),
                json!(0.21),
                json!(-0.05),
                json!(2.75),
                json!(1e20),
                json!(52000.5),
                json!(5),
                json!(-1e300),
            ],
        ),
        (
            "date",
            vec![
                json!("1990-06-01"),
                json!("2000-02-29"),
                json!("2026-06-01"),
                json!("1988-07-14"),
                json!("0001-01-01"),
                json!("9999-12-31"),
            ],
        ),
        (
            "timestamp",
            vec![
                json!("2026-03-15T13:45:30.5Z"),
                json!("1988-07-14T23:59:59+02:00"),
                json!("2030-01-01T00:00:00Z"),
                json!("2025-12-31T23:59:59.999999999Z"),
            ],
        ),
        (
            "enum(\"MD\", \"VA\", \"DE\", \"PA\")",
            vec![json!("MD"), json!("VA"), json!("DE"), json!("PA")],
        ),
        ("bool", vec![json!(true), json!(false)]),
    ]
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid clock")
        .with_timezone(&Utc)
}

/// One case: a technique on a column type, and rows of (value index or null, row key).
fn compare(
    technique: &str,
    kind: usize,
    rows: &[(Option<usize>, Option<i64>)],
) -> Result<(), String> {
    let kinds = kinds();
    let (ty, values) = &kinds[kind % kinds.len()];
    let text = format!(
        "tag T;\nsource s {{ id: int key, c: {ty} tagged T, }}\n\
         policy p {{ mask columns tagged T using {technique} for everyone }}\n"
    );
    let mut map = pol_compiler::source_map::SourceMap::new();
    map.add("t.pol", text.clone());
    let a = pol_compiler::check(&map);
    if a.has_errors() {
        return Err(format!("does not check:\n{text}\n{:?}", a.diagnostics));
    }
    let reference = Reference::new(&a.model, &a.resolution, Some(KEY), now());
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .map_err(|e| e.to_string())?;
    let keys = KeyRing::new(MaskingKey::from_bytes(KEY).expect("valid key"));
    let engine = Engine::load(&bytes, Some(keys)).map_err(|e| format!("{e}\n{text}"))?;
    let subject = json!({"login": "amy"});
    let session = engine.session(&subject, now()).map_err(|e| e.to_string())?;
    let src = session.source("s").ok_or("no source s")?;
    for (value, key) in rows {
        let mut row = Map::new();
        row.insert("id".into(), key.map_or(Value::Null, |k| json!(k)));
        let cell = value.map_or(Value::Null, |i| values[i % values.len()].clone());
        row.insert("c".into(), cell);
        let expected = reference
            .mask_row("s", &subject, &row)
            .map_err(|e| e.to_string())?;
        let got = match src.mask_json(&row) {
            None => Outcome::Hidden,
            Some(cells) => Outcome::Shown(cells.into_iter().collect()),
        };
        if got != expected {
            return Err(format!(
                "`{technique}` on {ty} differs\n  row:       {}\n  reference: {expected:?}\n  engine:    {got:?}",
                Value::Object(row)
            ));
        }
    }
    Ok(())
}

#[test]
fn every_technique_on_every_value_agrees() {
    let kinds = kinds().len();
    let mut failures = Vec::new();
    for technique in TECHNIQUES {
        for kind in 0..kinds {
            for i in 0..16 {
                let rows = [(Some(i), Some(i as i64)), (None, Some(1)), (Some(i), None)];
                if let Err(e) = compare(technique, kind, &rows) {
                    failures.push(e);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: support::cases(256), .. ProptestConfig::default() })]

    #[test]
    fn techniques_agree_on_random_rows(
        technique in 0..TECHNIQUES.len(),
        kind in 0..7usize,
        rows in proptest::collection::vec(
            (proptest::option::weighted(0.9, 0..16usize), proptest::option::weighted(0.9, -1000i64..1000)),
            1..8,
        ),
    ) {
        let result = compare(TECHNIQUES[technique], kind, &rows);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}

/// §5 `constant(v)`: `v` of the column's type. The engine gave the int `2` on a decimal column
/// (the lowering kept the literal's type); found by this module's differential test.
#[test]
fn an_int_constant_on_a_decimal_column_is_a_decimal() {
    let text = "tag T;\nsource s { id: int key, c: decimal tagged T, d: decimal, }\n\
                policy p { mask columns tagged T using constant(2) for everyone }\n\
                policy q { mask column s.d using constant(3) for everyone }\n";
    let mut map = pol_compiler::source_map::SourceMap::new();
    map.add("t.pol", text.to_string());
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .unwrap();
    let engine = Engine::load(&bytes, None).unwrap();
    let session = engine.session(&json!({}), now()).unwrap();
    let row = json!({"id": 1, "c": 0.5, "d": 7.25});
    let Value::Object(row) = row else {
        unreachable!()
    };
    let out = session.source("s").unwrap().mask_json(&row).unwrap();
    let out: Map<String, Value> = out.into_iter().collect();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"id":1,"c":2.0,"d":3.0}"#
    );
}
