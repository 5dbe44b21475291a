//! The small runtime APIs the Python package and Spark stand on: `Bundle::link_parents` (the
//! linked row rules' graph), `k_anonymize_json` (masked JSON rows by column name and type) and
//! `typed_cell` (a JSON cell as its column's typed value, or a mismatch).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support::{in_group, B};
use pol_runtime::bundle::{RowAudience, RowFilter, RowOtherwise};
use pol_runtime::{
    k_anonymize_json, typed_cell, ColumnType, KAnonymity, KAnonymityError, KAnonymityReport, Value,
};
use serde_json::{json, Map, Value as Json};

#[test]
fn link_parents_are_the_sources_a_sources_linked_rules_follow() {
    let mut b = B::new();
    let int_key = [("id", ColumnType::Int), ("up", ColumnType::Int)];
    let customers = b.source("customers", &int_key);
    let orders = b.source("orders", &int_key);
    let regions = b.source("regions", &int_key);
    let lines = b.source("lines", &int_key);
    for s in [customers, orders, regions, lines] {
        b.b.sources[s].key_column = Some(0);
    }
    let linked = |parent: usize| RowFilter::Linked {
        column: 1,
        parent: parent as u32,
    };
    let rule = b.rule("follow");
    b.row_rule(orders, rule, linked(customers), RowAudience::Everyone);
    // A parent named twice (and once in a `who … otherwise` filter) is listed once, in rule order.
    let legal = b.prog(in_group("Legal"));
    b.row_rule(
        lines,
        rule,
        linked(orders),
        RowAudience::Who {
            condition: legal,
            otherwise: RowOtherwise::Filter(linked(regions)),
        },
    );
    b.row_rule(lines, rule, linked(orders), RowAudience::Everyone);
    let engine = b.engine();
    let bundle = engine.bundle();
    assert_eq!(bundle.link_parents(lines), vec![orders, regions]);
    assert_eq!(bundle.link_parents(orders), vec![customers]);
    assert_eq!(bundle.link_parents(customers), Vec::<usize>::new());
    assert_eq!(bundle.link_parents(99), Vec::<usize>::new());
}

fn rows(cells: &[(i64, Json, Json)]) -> Vec<Map<String, Json>> {
    cells
        .iter()
        .map(|(id, zip, age)| {
            json!({"id": id, "zip": zip, "age": age, "note": "*"})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect()
}

#[test]
fn k_anonymize_json_generalises_named_columns_by_their_types() {
    let mut input = rows(&[
        (1, json!("10001"), json!(31)),
        (2, json!("10002"), json!(32)),
        (3, json!("10003"), json!(33)),
        (4, json!("20001"), json!(41)),
        (5, json!("20002"), json!(42)),
        (6, json!("20003"), json!(44)),
        (7, json!("99999"), json!(90)),
    ]);
    let columns = [
        ("zip".to_owned(), ColumnType::Text),
        ("age".to_owned(), ColumnType::Int),
    ];
    let report = k_anonymize_json(&mut input, &KAnonymity::new(2), &columns).unwrap();
    // As `polc eval --k-anonymize 2 --quasi-identifiers zip,age` (compiler/tests/eval_k_anonymize.rs).
    assert_eq!(
        report,
        KAnonymityReport {
            levels: vec![60, 1],
            suppressed: vec![6]
        }
    );
    let shown: Vec<Json> = input.into_iter().map(Json::Object).collect();
    assert_eq!(
        shown[0],
        json!({"id": 1, "zip": "1000*", "age": "30-35", "note": "*"})
    );
    assert_eq!(
        shown[5],
        json!({"id": 6, "zip": "2000*", "age": "40-45", "note": "*"})
    );
    assert_eq!(
        shown[6],
        json!({"id": 7, "zip": null, "age": null, "note": "*"})
    );
}

#[test]
fn k_anonymize_json_takes_masked_cells_as_they_are_and_refuses_duplicates() {
    // A masked age is text (a range): it is a value of its own, nulled from level 1 on.
    let mut input = rows(&[
        (1, json!("1"), json!("30-40")),
        (2, json!("1"), json!("30-40")),
        (3, json!("1"), json!(null)),
    ]);
    let columns = [("age".to_owned(), ColumnType::Int)];
    let report = k_anonymize_json(&mut input, &KAnonymity::new(2), &columns).unwrap();
    assert_eq!(report.levels, vec![0]);
    assert_eq!(input[0]["age"], json!("30-40"));
    let twice = [
        ("age".to_owned(), ColumnType::Int),
        ("age".to_owned(), ColumnType::Int),
    ];
    assert_eq!(
        k_anonymize_json(&mut input, &KAnonymity::new(2), &twice),
        Err(KAnonymityError::DuplicateColumn(1))
    );
}

#[test]
fn typed_cell_decodes_by_type_or_gives_a_mismatch() {
    assert_eq!(
        typed_cell(&json!(3), &ColumnType::Decimal),
        Value::Decimal(3.0)
    );
    assert_eq!(
        typed_cell(&json!("2026-05-01"), &ColumnType::Date),
        Value::Date(chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap())
    );
    // A value of another type conforms to no column of the declared type.
    assert_eq!(typed_cell(&json!(3), &ColumnType::Text), Value::Bool(false));
    assert_eq!(
        typed_cell(&json!("x"), &ColumnType::Bool),
        Value::Text(String::new())
    );
    assert_eq!(typed_cell(&json!(null), &ColumnType::Int), Value::Null);
}
