//! `expr(…)` techniques (issue 13, defects 2 and 4): the checker types the expression per
//! column type and source, a result that does not fit the column is an error in a direct rule
//! (E0042) and falls back in a tag rule (W0001), and `polc eval`, the reference evaluator and
//! the engine give the same cells.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support::polc::polc_words;
use chrono::{DateTime, Utc};
use pol_compiler::model::{TechArg, Ty};
use pol_compiler::reference::{Outcome, Reference};
use pol_compiler::source_map::SourceMap;
use pol_runtime::{Engine, KeyRing, MaskingKey};
use serde_json::{json, Map, Value};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid clock")
        .with_timezone(&Utc)
}

fn eval(policy: &str, rows: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.pol"), policy).expect("writes");
    std::fs::write(dir.path().join("rows.jsonl"), rows).expect("writes");
    std::fs::write(
        dir.path().join("u.json"),
        r#"{"login": "amy", "groups": ["ops"]}"#,
    )
    .expect("writes");
    polc_words(
        dir.path(),
        "eval p.pol --subject u.json --source visits --rows rows.jsonl --now 2026-01-01T00:00:00Z",
        &[],
    )
}

const ROW: &str = "{\"id\": 1, \"seen\": \"2024-03-01\", \"count\": 7, \"note\": \"hi\"}\n";

/// Defect 2: a text result written into int and date columns by a tag rule falls back to
/// null there (as any technique that does not apply); the text column gets the text.
#[test]
fn a_tag_rules_expr_of_another_type_falls_back_on_those_columns() {
    let (code, out, err) = eval(
        r#"tag PII;
source visits { id: int key, seen: date tagged PII, count: int tagged PII, note: text tagged PII, }
policy p { mask columns tagged PII using expr(concat("hidden", "")) for everyone }
"#,
        ROW,
    );
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "{\"id\":1,\"seen\":null,\"count\":null,\"note\":\"hidden\"}\n",
            ""
        )
    );
}

/// Defect 2: in a direct rule the same expression is a check-time error at the expression.
#[test]
fn a_direct_rules_expr_of_another_type_does_not_check() {
    let (code, out, err) = eval(
        r#"source visits { id: int key, seen: date, count: int, note: text, }
policy p on source visits {
  mask column visits.count using expr(concat("hidden", "")) for everyone
}
"#,
        ROW,
    );
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains(
            "error[E0042]: this `expr(…)` gives text, the column is int\n  --> p.pol:3:39\n"
        ),
        "{err}"
    );
}

/// An int result fits a decimal column, `null` fits every column, `value` keeps the type.
#[test]
fn results_that_fit_are_written() {
    let (code, out, err) = eval(
        r#"source visits { id: int key, seen: date, count: int, note: text, amount: decimal, }
policy a on source visits { mask column visits.count using expr(value + 1) for everyone }
policy b on source visits { mask column visits.seen using expr(null) for everyone }
policy c on source visits { mask column visits.amount using expr(3) for everyone }
policy d on source visits {
  mask column visits.note using expr(if user in group "ops" then upper(value) else "no") for everyone
}
"#,
        "{\"id\": 1, \"seen\": \"2024-03-01\", \"count\": 7, \"note\": \"hi\", \"amount\": 2.5}\n",
    );
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "{\"id\":1,\"seen\":null,\"count\":8,\"note\":\"HI\",\"amount\":3}\n",
            ""
        )
    );
}

const TWO_SOURCES: &str = r#"tag PII;
tag Country;
subject { department: text, }
source s0 { id: int key, name: text tagged PII, age: int tagged PII, }
source s1 { id: int key, name: text tagged PII, country: text tagged Country, }
policy names {
  mask columns tagged PII using expr(concat(row[tagged Country], ":", value, ":", user.department)) for everyone
}
"#;

/// Defect 4: the model carries the typed expression per column type and, as it reads the row,
/// per source; nothing after the checker types it again.
#[test]
fn the_model_holds_the_typed_expression_per_type_and_source() {
    let mut map = SourceMap::new();
    map.add("two.pol", TWO_SOURCES.to_string());
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let rule = &a.model.mask_rules[0];
    let t = rule.body.techniques()[0];
    let Some(TechArg::Expr(x)) = t.arg("expr") else {
        panic!("no typed expression: {t:?}");
    };
    let entries: Vec<(Ty, Option<usize>, Option<Ty>)> = x
        .typed
        .iter()
        .map(|e| {
            (
                e.ty.clone(),
                e.source,
                e.expr.as_ref().map(|c| c.ty.clone()),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (Ty::Text, None, Some(Ty::Text)),
            (Ty::Int, None, Some(Ty::Text)),
            // s0 has no column tagged Country: null there.
            (Ty::Text, Some(0), None),
            (Ty::Int, Some(0), None),
            (Ty::Text, Some(1), Some(Ty::Text)),
            // A text result does not fit s1's int column (`id`; no rule targets it).
            (Ty::Int, Some(1), None),
        ]
    );
    assert!(x.fits(&Ty::Text));
    assert!(!x.fits(&Ty::Int));
}

/// Defect 4: the reference evaluator evaluates `expr` (it refused it), and agrees with the
/// engine cell by cell: the row, the user and the cell are read; a source lacking the tag
/// gives null; an int column falls back to null.
#[test]
fn the_reference_evaluates_expr_as_the_engine_does() {
    let mut map = SourceMap::new();
    map.add("two.pol", TWO_SOURCES.to_string());
    let a = pol_compiler::check(&map);
    let keys = KeyRing::new(MaskingKey::from_bytes(&[9u8; 32]).expect("valid key"));
    let reference = Reference::new(&a.model, &a.resolution, Some(&[9u8; 32][..]), now());
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .expect("encodes");
    let engine = Engine::load(&bytes, Some(keys.clone())).expect("loads");
    let subject = json!({"login": "amy", "department": "ops"});
    let session = engine.session(&subject, now()).expect("a session");
    let obj = |v: Value| -> Map<String, Value> { v.as_object().cloned().expect("an object") };
    let cases = [
        (
            "s0",
            obj(json!({"id": 1, "name": "Ann", "age": 40})),
            obj(json!({"id": 1, "name": null, "age": null})),
        ),
        (
            "s1",
            obj(json!({"id": 2, "name": "Bo", "country": "FR"})),
            obj(json!({"id": 2, "name": "FR:Bo:ops", "country": "FR"})),
        ),
    ];
    for (source, row, expected) in cases {
        let want = Outcome::Shown(expected);
        let got = reference
            .mask_row(source, &subject, &row)
            .expect("evaluates");
        assert_eq!(got, want, "reference on {source}");
        let cells = session
            .source(source)
            .expect("the source")
            .mask_json(&row)
            .expect("shown");
        let engine_out = Outcome::Shown(cells.into_iter().collect());
        assert_eq!(engine_out, want, "engine on {source}");
    }
}
