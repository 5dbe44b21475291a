//! Differential test: for random valid policy sets, subjects and rows, the reference evaluator
//! (`pol_compiler::reference`) and the optimised path (`lower` → bundle bytes → `Engine::load`
//! → session → `mask_json`) give exactly the same outcome: hidden vs shown, every cell, and the
//! visible columns of every source. Where every cell of a row decodes to its column's type, the
//! typed path (`mask_values`) must give what `mask_json` gives.
//!
//! 256 cases by default; set `POL_DIFF_CASES` for a longer campaign, e.g.
//! `POL_DIFF_CASES=20000 cargo test --release -p pol-compiler --test main differential::`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;

use chrono::{DateTime, Utc};
use pol_compiler::reference::{Outcome, Reference};
use pol_runtime::{Engine, KeyRing, MaskingKey};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid clock")
        .with_timezone(&Utc)
}

/// The raw masking key: the engine gets it as a key ring, the reference derives its own sub-keys.
const KEY: [u8; 32] = [9u8; 32];

fn keys() -> KeyRing {
    KeyRing::new(MaskingKey::from_bytes(&KEY).expect("valid key"))
}

/// Compares both paths on one case; `Err` describes the first divergence.
fn compare(case: &support::gen::Case) -> Result<(), String> {
    let a = case.check();
    let keys = keys();
    let mut reference = Reference::new(&a.model, &a.resolution, Some(&KEY), now());
    // Linked visibility: the case's rows of each source are its parent rows (sources link
    // only to earlier ones, so this order gives parents first).
    for s in &case.sources {
        let rows = case.rows.iter().filter(|(n, _)| *n == s.name);
        reference
            .with_parent_rows(&s.name, rows.map(|(_, r)| r.clone()))
            .map_err(|e| e.to_string())?;
    }
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let bytes = bundle
        .to_bytes()
        .map_err(|e| format!("the bundle does not encode: {e}\n{}", case.text))?;
    let engine = Engine::load(&bytes, Some(keys.clone()))
        .map_err(|e| format!("the bundle does not load: {e}\n{}", case.text))?;
    // The lookup tables the case supplies, to both paths (the others stay unknown in both).
    for (name, values) in &case.tables {
        engine
            .set_table(name, values.clone())
            .map_err(|e| format!("the engine refuses table `{name}`: {e}"))?;
        if !reference.supply_table(name, values.clone()) {
            return Err(format!("the reference refuses table `{name}`"));
        }
    }
    for subject in &case.subjects {
        let mut session = engine
            .session(subject, now())
            .map_err(|e| format!("the engine refuses the subject {subject}: {e}"))?;
        for s in &case.sources {
            let rows = case.rows.iter().filter(|(n, _)| *n == s.name);
            session
                .link_rows(&s.name, rows.map(|(_, r)| r))
                .map_err(|e| e.to_string())?;
        }
        for s in &case.sources {
            let src = session
                .source(&s.name)
                .ok_or_else(|| format!("the bundle has no source `{}`", s.name))?;
            let engine_visible: Vec<String> = src
                .visible_columns()
                .iter()
                .map(|c| c.to_string())
                .collect();
            let reference_visible = reference
                .visible_columns(&s.name, subject)
                .map_err(|e| e.to_string())?;
            if engine_visible != reference_visible {
                return Err(format!(
                    "visible columns of `{}` differ for subject {subject}\n  reference: {reference_visible:?}\n  engine:    {engine_visible:?}\n{}",
                    s.name, case.text
                ));
            }
        }
        for (source, row) in &case.rows {
            let expected = reference
                .mask_row(source, subject, row)
                .map_err(|e| format!("the reference fails: {e}\n{}", case.text))?;
            let src = session
                .source(source)
                .ok_or_else(|| format!("the bundle has no source `{source}`"))?;
            let got = match src.mask_json(row) {
                None => Outcome::Hidden,
                Some(cells) => Outcome::Shown(cells.into_iter().collect::<Map<String, Value>>()),
            };
            if let Some(typed) = typed_row(&src, row) {
                let typed_got = typed_outcome(&src, &typed);
                if typed_got != got {
                    return Err(format!(
                        "mask_values and mask_json differ on `{source}`\n  subject: {subject}\n  row:     {}\n  json:    {}\n  values:  {}\n{}",
                        Value::Object(row.clone()),
                        show(&got),
                        show(&typed_got),
                        case.text
                    ));
                }
            }
            if got != expected {
                return Err(format!(
                    "outcomes differ on `{source}`\n  subject:   {subject}\n  row:       {}\n  reference: {}\n  engine:    {}\n  explain:   {:#?}\n{}",
                    Value::Object(row.clone()),
                    show(&expected),
                    show(&got),
                    src.explain(row),
                    case.text
                ));
            }
        }
    }
    Ok(())
}

/// The row as typed values in `input_columns` order (a missing cell is null), if every cell
/// decodes to its column's type (a mistyped JSON cell has no typed counterpart).
fn typed_row(
    src: &pol_runtime::SourceSession<'_>,
    row: &Map<String, Value>,
) -> Option<Vec<pol_runtime::Value>> {
    src.input_columns()
        .iter()
        .map(|c| match row.get(*c) {
            None => Some(pol_runtime::Value::Null),
            Some(j) => pol_runtime::Value::from_json(j, src.column_type(c)?).ok(),
        })
        .collect()
}

/// `mask_values` on a typed row, as an outcome keyed by column (as `mask_json` gives it).
fn typed_outcome(src: &pol_runtime::SourceSession<'_>, row: &[pol_runtime::Value]) -> Outcome {
    match src.mask_values(row) {
        None => Outcome::Hidden,
        Some(cells) => Outcome::Shown(
            src.columns()
                .iter()
                .zip(cells)
                .map(|(c, v)| (c.to_string(), v.to_json()))
                .collect(),
        ),
    }
}

fn show(o: &Outcome) -> String {
    match o {
        Outcome::Hidden => "hidden".to_string(),
        Outcome::Shown(m) => Value::Object(m.clone()).to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: support::cases(256),
        max_shrink_iters: 4096,
        .. ProptestConfig::default()
    })]

    #[test]
    fn reference_and_engine_agree(case in support::gen::case()) {
        if let Err(e) = compare(&case) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Issue 13, defect 1, as a fixed differential case: `row[tagged Country]` read by rules whose
/// scope has no column tagged `Country` at all (the comparison cannot be typed) and by rules
/// whose scope has one in another source. Both paths skip the rules on `s0` and agree.
#[test]
fn rules_reading_a_tag_the_source_lacks_are_skipped_by_both_paths() {
    let text = r#"tag PII sensitive;
tag PII.SSN;
tag Country;
source s0 { id: int key, ssn: text tagged PII.SSN, name: text tagged PII, }
source s1 { id: int key, ssn: text tagged PII.SSN, country: text tagged Country, }
policy a on source s0 {
  mask columns tagged PII.SSN where row[tagged Country] == "US" using null for everyone
}
policy b on source s0 {
  mask columns tagged PII using redact for everyone who row[tagged Country] == "FR" otherwise unmasked
}
policy c {
  mask columns tagged PII.SSN where row[tagged Country] == "FR" using stars for everyone except user in group "x"
}
policy d on source s0 {
  only show rows where row[tagged Country] == "US" for everyone
}
"#;
    let row = |v: Value| v.as_object().cloned().expect("an object");
    let s0 = row(serde_json::json!({"id": 1, "ssn": "123", "name": "Ann"}));
    let s1 = row(serde_json::json!({"id": 2, "ssn": "456", "country": "FR"}));
    let case = support::gen::Case {
        text: text.to_string(),
        sources: Vec::new(),
        subjects: vec![serde_json::json!({"login": "amy"})],
        rows: vec![("s0".to_string(), s0.clone()), ("s1".to_string(), s1)],
        tables: Vec::new(),
    };
    compare(&case).unwrap();
    let a = case.check();
    let reference = Reference::new(&a.model, &a.resolution, Some(&KEY), now());
    let got = reference
        .mask_row("s0", &case.subjects[0], &s0)
        .expect("evaluates");
    assert_eq!(got, Outcome::Shown(s0));
}
