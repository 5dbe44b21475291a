//! `Session::warnings`: input that did not match the declarations, reported once per subject
//! field and per column with a count, while masking still fails closed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use engine_support::*;
use pol_runtime::{ColumnType as T, InputWarning, SubjectIssue, Value};
use serde_json::json;

#[test]
fn subject_fields_and_cells_of_the_wrong_type_are_counted_per_field_and_column() {
    let mut b = B::new();
    b.subject_field("region", T::Text);
    b.subject_field("level", T::Int);
    b.source(
        "people",
        &[("id", T::Int), ("age", T::Int), ("name", T::Text)],
    );
    let e = b.engine();
    let session = e
        .session(&json!({"login": 7, "region": "eu", "level": "high"}), t0())
        .expect("an object");
    let people = session.source("people").expect("source");
    for row in [
        json!({"id": 1, "age": "old", "name": "Ann"}),
        json!({"id": 2, "age": "older", "name": 5}),
        json!({"id": 3, "age": 40, "name": "Cy"}),
    ] {
        let masked = people
            .mask_json(row.as_object().expect("object"))
            .expect("shown");
        assert!(
            masked[1].1.is_number() || masked[1].1.is_null(),
            "a wrong cell is null"
        );
    }
    assert_eq!(
        people.mask_values(&[Value::Int(4), Value::Text("x".into()), Value::Null]),
        Some(vec![Value::Int(4), Value::Null, Value::Null])
    );
    assert_eq!(
        session.warnings(),
        vec![
            InputWarning::Subject(SubjectIssue {
                field: "login".into(),
                found: Some("number"),
                expected: "a text".into(),
            }),
            InputWarning::Subject(SubjectIssue {
                field: "level".into(),
                found: Some("string"),
                expected: "an int value".into(),
            }),
            InputWarning::Cells {
                source: "people".into(),
                column: "age".into(),
                expected: "int".into(),
                count: 3,
            },
            InputWarning::Cells {
                source: "people".into(),
                column: "name".into(),
                expected: "text".into(),
                count: 1,
            },
        ]
    );
    assert_eq!(
        session.warnings()[2].to_string(),
        "3 cells of `people.age` are not of type int: treated as null, so they reveal nothing"
    );
    // A session whose input matched reports nothing.
    let clean = e
        .session(&json!({"login": "amy", "region": "eu", "level": 2}), t0())
        .expect("an object");
    let people = clean.source("people").expect("source");
    people.mask_json(
        json!({"id": 1, "age": 3, "name": "A"})
            .as_object()
            .expect("object"),
    );
    assert_eq!(clean.warnings(), vec![]);
}

#[test]
fn sources_are_specialised_on_first_use_and_warn_in_source_order() {
    let mut b = B::new();
    b.source("a", &[("id", T::Int), ("n", T::Int)]);
    b.source("b", &[("id", T::Int), ("n", T::Int)]);
    b.source("c", &[("id", T::Int), ("n", T::Int)]);
    let e = b.engine();
    let session = e.session(&anyone(), t0()).expect("an object");
    assert_eq!(session.specialised_sources(), Vec::<&str>::new());
    let bad = [Value::Int(1), Value::Text("x".into())];
    let c = session.source("c").expect("source");
    assert_eq!(c.mask_values(&bad), Some(vec![Value::Int(1), Value::Null]));
    assert_eq!(session.specialised_sources(), vec!["c"]);
    let a = session.source("a").expect("source");
    assert_eq!(a.mask_values(&bad), Some(vec![Value::Int(1), Value::Null]));
    // Asking again reuses the plan (and its counters).
    let c = session.source("c").expect("source");
    assert_eq!(c.mask_values(&bad), Some(vec![Value::Int(1), Value::Null]));
    assert_eq!(session.specialised_sources(), vec!["a", "c"]);
    assert!(session.source("nope").is_none());
    let cells = |source: &str, count: u64| InputWarning::Cells {
        source: source.into(),
        column: "n".into(),
        expected: "int".into(),
        count,
    };
    assert_eq!(session.warnings(), vec![cells("a", 1), cells("c", 2)]);
}

#[test]
fn a_session_is_shared_between_threads_and_specialises_a_source_once() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let mut b = B::new();
    b.source("a", &[("id", T::Int), ("n", T::Int)]);
    let e = b.engine();
    let session = e.session(&anyone(), t0()).expect("an object");
    shareable(&session);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let a = session.source("a").expect("source");
                assert_eq!(
                    a.mask_values(&[Value::Int(1), Value::Text("x".into())]),
                    Some(vec![Value::Int(1), Value::Null])
                );
            });
        }
    });
    assert_eq!(session.specialised_sources(), vec!["a"]);
    assert_eq!(
        session.warnings(),
        vec![InputWarning::Cells {
            source: "a".into(),
            column: "n".into(),
            expected: "int".into(),
            count: 4,
        }]
    );
}
