//! A source's k-anonymity in the bundle (format version 3): encoded and verified, enforced on
//! batches (`mask_rows`, `mask_values_rows`), and on a single row the quasi-identifiers null.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support::{t0, B};
use pol_runtime::bundle::{Bundle, BundleError, KAnonymityPlan};
use pol_runtime::{ColumnType, Value};
use serde_json::{json, Map, Value as Json};

/// `people { id: int, zip: text, age: int, tags: list<text> }`, k = 2 over zip and age.
fn bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "people",
        &[
            ("id", ColumnType::Int),
            ("zip", ColumnType::Text),
            ("age", ColumnType::Int),
            ("tags", ColumnType::List(Box::new(ColumnType::Text))),
        ],
    );
    b.b.k_anonymity.push(KAnonymityPlan {
        source: s as u32,
        k: 2,
        columns: vec![1, 2],
    });
    b
}

fn row(id: i64, zip: &str, age: i64) -> Map<String, Json> {
    json!({"id": id, "zip": zip, "age": age})
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn the_plan_survives_the_binary_form_and_an_older_version_cannot_hold_it() {
    let b = bundle();
    let bytes = b.b.to_bytes().unwrap();
    let back = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(back.k_anonymity, b.b.k_anonymity);
    let mut v2 = b.b.clone();
    v2.format_version = 2;
    assert!(matches!(v2.to_bytes(), Err(BundleError::Encode(_))));
    v2.k_anonymity.clear();
    assert_eq!(
        Bundle::from_bytes(&v2.to_bytes().unwrap())
            .unwrap()
            .k_anonymity,
        vec![]
    );
}

#[test]
fn the_verifier_refuses_a_broken_plan() {
    let cases: Vec<(KAnonymityPlan, &str)> = vec![
        (
            KAnonymityPlan {
                source: 0,
                k: 1,
                columns: vec![1],
            },
            "k must be at least 2",
        ),
        (
            KAnonymityPlan {
                source: 0,
                k: 2,
                columns: vec![],
            },
            "no quasi-identifier",
        ),
        (
            KAnonymityPlan {
                source: 0,
                k: 2,
                columns: vec![1, 1],
            },
            "listed twice",
        ),
        (
            KAnonymityPlan {
                source: 0,
                k: 2,
                columns: vec![3],
            },
            "a struct or a list",
        ),
        (
            KAnonymityPlan {
                source: 0,
                k: 2,
                columns: vec![9],
            },
            "out of range",
        ),
        (
            KAnonymityPlan {
                source: 4,
                k: 2,
                columns: vec![1],
            },
            "out of range",
        ),
    ];
    for (plan, message) in cases {
        let mut b = bundle();
        b.b.k_anonymity = vec![plan.clone()];
        let err = b.b.verify().expect_err("refused").to_string();
        assert!(err.contains(message), "{plan:?}: {err}");
    }
    let mut b = bundle();
    let again = b.b.k_anonymity[0].clone();
    b.b.k_anonymity.push(again);
    let err = b.b.verify().expect_err("refused").to_string();
    assert!(err.contains("second k-anonymity plan"), "{err}");
}

#[test]
fn a_batch_is_k_anonymous_and_a_single_row_shows_its_quasi_identifiers_null() {
    let engine = bundle().engine();
    let session = engine.session(&json!({"login": "a"}), t0()).unwrap();
    let src = session.source("people").unwrap();
    assert_eq!(src.k_anonymity(), Some((2, vec!["zip", "age"])));
    let rows = vec![
        row(1, "10001", 31),
        row(2, "10002", 33),
        row(3, "20001", 52),
    ];
    let batch = src.mask_rows(&rows);
    let cells: Vec<(Json, Json, Json)> = batch
        .rows
        .iter()
        .map(|r| (r["id"].clone(), r["zip"].clone(), r["age"].clone()))
        .collect();
    assert_eq!(
        cells,
        vec![
            (json!(1), json!("1000*"), json!("30-35")),
            (json!(2), json!("1000*"), json!("30-35")),
            (json!(3), Json::Null, Json::Null),
        ]
    );
    assert_eq!(batch.k_anonymity.unwrap().suppressed, vec![2]);
    let one = src.mask_row(&rows[0]).unwrap();
    assert_eq!(
        (&one["id"], &one["zip"], &one["age"]),
        (&json!(1), &Json::Null, &Json::Null)
    );
    let typed = src
        .mask_values(&[Value::Int(1), Value::Text("10001".into()), Value::Int(31)])
        .unwrap();
    assert_eq!(typed[1..3], [Value::Null, Value::Null]);
    let typed_batch = src.mask_values_rows(&[
        vec![Value::Int(1), Value::Text("10001".into()), Value::Int(31)],
        vec![Value::Int(2), Value::Text("10001".into()), Value::Int(31)],
    ]);
    assert_eq!(typed_batch.rows[0][1], Value::Text("10001".into()));
    assert_eq!(typed_batch.k_anonymity.unwrap().levels, vec![0, 0]);
}
