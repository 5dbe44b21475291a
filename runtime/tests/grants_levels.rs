//! Masking levels (§7), pinned on the contract's example:
//!
//! ```pol
//! level High > Medium > Low;
//! source participants level Medium from masking_level { id: int key, birth_date: date tagged PII.DOB, masking_level: text, }
//! policy birth { mask column participants.birth_date using by level { High: null, Medium: age_range(10, max: 70), Low: year_only } for everyone except user has role "ViewMaskedData" }
//! ```
//!
//! - the source's default level applies when the row's level column is null;
//! - a row's level column names its level (exactly, case included);
//! - a value that is not a declared level (or not text) means the highest level;
//! - `by level` picks the technique of the row's level, and a level with no entry uses the
//!   highest level's.
//!
//! The engine's clock is 2026-01-01: born 1990-06-01 is 35 years old.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use std::sync::Arc;

use engine_support::*;
use pol_runtime::audit::MemorySink;
use pol_runtime::bundle::{GrantAudience, GrantKind, GrantPlan, LevelPlan};
use pol_runtime::engine::CellAction;
use pol_runtime::grants::{GrantService, GrantStore, ManualClock};
use pol_runtime::{ColumnType as T, Engine, Technique, Value};
use serde_json::json;

const HIGH: u32 = 0;
const MEDIUM: u32 = 1;
const LOW: u32 = 2;

/// The contract's example; `entries` chooses which levels have an entry.
fn participants(entries: &[u32]) -> B {
    let mut b = B::new();
    b.b.levels = vec!["High".into(), "Medium".into(), "Low".into()];
    let s = b.source(
        "participants",
        &[
            ("id", T::Int),
            ("birth_date", T::Date),
            ("masking_level", T::Text),
        ],
    );
    b.src(s).key_column = Some(0);
    b.level(s, MEDIUM, Some("masking_level"));
    let null = b.tech(Technique::Null);
    let age = b.tech(Technique::AgeRange {
        size: 10,
        max: Some(70),
    });
    let year = b.tech(Technique::YearOnly { max: None });
    let all = [(HIGH, null), (MEDIUM, age), (LOW, year)];
    let chosen: Vec<(u32, u32)> = all
        .iter()
        .copied()
        .filter(|(l, _)| entries.contains(l))
        .collect();
    let lvl = b.by_level(&chosen);
    let viewer = b.prog(has_role("ViewMaskedData"));
    let r = b.rule("birth");
    b.add_candidate(s, "birth_date", r, None, except(viewer, lvl));
    b
}

fn birth(e: &Engine, born: &str, level: serde_json::Value) -> serde_json::Value {
    mask(
        e,
        anyone(),
        "participants",
        json!({"id": 1, "birth_date": born, "masking_level": level}),
    )
    .expect("shown")["birth_date"]
        .clone()
}

#[test]
fn each_level_uses_its_own_technique() {
    let e = participants(&[HIGH, MEDIUM, LOW]).engine();
    assert_eq!(birth(&e, "1990-06-01", json!("High")), json!(null));
    assert_eq!(birth(&e, "1990-06-01", json!("Medium")), json!("30-40"));
    assert_eq!(birth(&e, "1990-06-01", json!("Low")), json!("1990"));
    // Medium's own `max: 70`: 75 years old → null.
    assert_eq!(birth(&e, "1950-06-01", json!("Medium")), json!(null));
    assert_eq!(birth(&e, "1950-06-01", json!("Low")), json!("1950"));
}

#[test]
fn a_null_level_is_the_sources_default() {
    let e = participants(&[HIGH, MEDIUM, LOW]).engine();
    assert_eq!(birth(&e, "1990-06-01", json!(null)), json!("30-40"));
    // A row without the column at all: null too.
    let out = mask(
        &e,
        anyone(),
        "participants",
        json!({"id": 1, "birth_date": "1990-06-01"}),
    )
    .expect("shown");
    assert_eq!(out["birth_date"], json!("30-40"));
}

#[test]
fn an_undeclared_or_mistyped_level_is_the_highest() {
    let e = participants(&[HIGH, MEDIUM, LOW]).engine();
    for level in [json!("Bogus"), json!("low"), json!(" Low"), json!("")] {
        assert_eq!(
            birth(&e, "1990-06-01", level.clone()),
            json!(null),
            "{level}"
        );
    }
    // Not text: the cell is a type mismatch; it names no level, so the highest applies.
    for level in [json!(2), json!(["Low"]), json!({"level": "Low"})] {
        assert_eq!(
            birth(&e, "1990-06-01", level.clone()),
            json!(null),
            "{level}"
        );
    }
}

#[test]
fn a_level_without_an_entry_uses_the_highest_levels() {
    // Low has no entry: High's (null).
    let e = participants(&[HIGH, MEDIUM]).engine();
    assert_eq!(birth(&e, "1990-06-01", json!("Low")), json!(null));
    assert_eq!(birth(&e, "1990-06-01", json!("Medium")), json!("30-40"));
    // Medium (the default) has no entry: High's, for named and defaulted rows alike.
    let e = participants(&[HIGH, LOW]).engine();
    assert_eq!(birth(&e, "1990-06-01", json!("Medium")), json!(null));
    assert_eq!(birth(&e, "1990-06-01", json!(null)), json!(null));
    assert_eq!(birth(&e, "1990-06-01", json!("Low")), json!("1990"));
}

#[test]
fn the_highest_level_must_have_an_entry() {
    let b = participants(&[MEDIUM, LOW]);
    assert_eq!(
        b.b.verify().expect_err("invalid").to_string(),
        "technique 3: `by level` has no entry for the highest level"
    );
}

#[test]
fn rows_of_one_batch_keep_their_own_levels() {
    let e = participants(&[HIGH, MEDIUM, LOW]).engine();
    let session = e.session(&anyone(), t0()).expect("subject");
    let src = session.source("participants").expect("source");
    let date = Value::Date(chrono::NaiveDate::from_ymd_opt(1990, 6, 1).expect("date"));
    let out: Vec<Value> = ["Low", "High", "Medium", "Low"]
        .iter()
        .enumerate()
        .map(|(i, l)| {
            src.mask_values(&[Value::Int(i as i64), date.clone(), Value::Text((*l).into())])
                .expect("shown")[1]
                .clone()
        })
        .collect();
    assert_eq!(
        out,
        vec![
            Value::Text("1990".into()),
            Value::Null,
            Value::Text("30-40".into()),
            Value::Text("1990".into()),
        ]
    );
}

#[test]
fn the_exception_clears_whatever_the_level() {
    let e = participants(&[HIGH, MEDIUM, LOW]).engine();
    for level in ["High", "Medium", "Low"] {
        let out = mask(
            &e,
            json!({"roles": ["ViewMaskedData"]}),
            "participants",
            json!({"id": 1, "birth_date": "1990-06-01", "masking_level": level}),
        )
        .expect("shown");
        assert_eq!(out["birth_date"], json!("1990-06-01"));
    }
}

#[test]
fn without_a_level_column_the_default_applies_and_without_a_level_the_highest() {
    let mut b = participants(&[HIGH, MEDIUM, LOW]);
    b.b.sources[0].level = Some(LevelPlan {
        default: LOW,
        column: None,
    });
    let e = b.engine();
    // The column is not a level column any more: its value is ignored.
    assert_eq!(birth(&e, "1990-06-01", json!("High")), json!("1990"));
    let mut b = participants(&[HIGH, MEDIUM, LOW]);
    b.b.sources[0].level = None;
    let e = b.engine();
    assert_eq!(birth(&e, "1990-06-01", json!("Low")), json!(null));
}

#[test]
fn explain_names_the_by_level_technique() {
    let e = participants(&[HIGH, MEDIUM, LOW]).engine();
    let session = e.session(&anyone(), t0()).expect("subject");
    let src = session.source("participants").expect("source");
    let row = json!({"id": 1, "birth_date": "1990-06-01", "masking_level": "Low"});
    let ex = src.explain(row.as_object().expect("object"));
    let cell = &ex.cells[1];
    assert_eq!(cell.column, "birth_date");
    assert_eq!(
        cell.action,
        CellAction::Masked {
            technique: "by level".into()
        }
    );
    assert_eq!(cell.value, Some(json!("1990")));
}

#[test]
fn a_temporary_unmask_clears_the_record_at_every_level() {
    let mut b = participants(&[HIGH, MEDIUM, LOW]);
    let rule = b.rule("unmask_request");
    b.b.grants.push(GrantPlan {
        rule,
        kind: GrantKind::TemporaryUnmask {
            source: 0,
            seconds: 3_600,
        },
        audience: GrantAudience::Everyone,
    });
    let e = b.engine();
    let service = GrantService::new(
        GrantStore::in_memory(),
        Arc::new(MemorySink::new()),
        Arc::new(ManualClock::new(t0())),
    );
    service
        .request_unmask(&e, &anyone(), "participants", &Value::Int(1), "")
        .expect("granted");
    let session = service.session(&e, &anyone()).expect("subject");
    let src = session.source("participants").expect("source");
    let row = json!({"id": 1, "birth_date": "1990-06-01", "masking_level": "High"});
    let out = src
        .mask_json(row.as_object().expect("object"))
        .expect("shown");
    assert_eq!(out[1], ("birth_date".to_owned(), json!("1990-06-01")));
}
