//! `k_anonymize`: the k-anonymity property holds on arbitrary batches (proptest), and easy
//! inputs are not over-generalised or over-suppressed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::collections::HashMap;

use pol_runtime::{
    k_anonymize, ColumnType, Hierarchy, KAnonymity, KAnonymityError, KAnonymityReport,
    QuasiIdentifier, Value,
};
use proptest::prelude::*;

fn t(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// Rows: (name, age, zip, sex); quasi-identifiers age, zip, sex.
fn qis() -> Vec<QuasiIdentifier> {
    vec![
        QuasiIdentifier::new(1, Hierarchy::Ranges(vec![10.0, 20.0, 50.0])),
        QuasiIdentifier::new(2, Hierarchy::Prefixes(vec![4, 3, 2, 1])),
        QuasiIdentifier::new(3, Hierarchy::Suppress),
    ]
}

fn row(name: &str, age: i64, zip: &str, sex: &str) -> Vec<Value> {
    vec![t(name), Value::Int(age), t(zip), t(sex)]
}

/// The property: every row's quasi-identifier tuple is all null or occurs at least k times.
fn assert_k_anonymous(rows: &[Vec<Value>], k: usize, columns: &[usize]) {
    let key = |r: &Vec<Value>| -> Vec<String> {
        columns.iter().map(|c| format!("{:?}", r[*c])).collect()
    };
    let mut counts: HashMap<Vec<String>, usize> = HashMap::new();
    for r in rows {
        *counts.entry(key(r)).or_default() += 1;
    }
    for r in rows {
        let all_null = columns.iter().all(|c| r[*c].is_null());
        assert!(
            all_null || counts[&key(r)] >= k,
            "{r:?} occurs {} times, fewer than {k}",
            counts[&key(r)]
        );
    }
}

#[test]
fn an_already_anonymous_batch_is_unchanged() {
    let mut rows = vec![
        row("a", 30, "20814", "F"),
        row("b", 30, "20814", "F"),
        row("c", 41, "20815", "M"),
        row("d", 41, "20815", "M"),
    ];
    let before = rows.clone();
    let report = k_anonymize(&mut rows, &KAnonymity::new(2), &qis()).expect("runs");
    assert_eq!(
        report,
        KAnonymityReport {
            levels: vec![0, 0, 0],
            suppressed: vec![]
        }
    );
    assert_eq!(rows, before);
}

#[test]
fn one_generalisation_step_is_enough_when_it_suffices() {
    // Ages differ, but fall in two decades of three rows each; zip and sex already agree.
    let mut rows = vec![
        row("a", 21, "20814", "F"),
        row("b", 24, "20814", "F"),
        row("c", 29, "20814", "F"),
        row("d", 31, "20815", "M"),
        row("e", 35, "20815", "M"),
        row("f", 38, "20815", "M"),
    ];
    let report = k_anonymize(
        &mut rows,
        &KAnonymity {
            k: 3,
            max_suppressed: 0,
        },
        &qis(),
    )
    .expect("runs");
    assert_eq!(report.levels, vec![1, 0, 0]);
    assert_eq!(report.suppressed, Vec::<usize>::new());
    assert_eq!(
        rows,
        vec![
            row("a", 0, "20814", "F"),
            row("b", 0, "20814", "F"),
            row("c", 0, "20814", "F"),
            row("d", 0, "20815", "M"),
            row("e", 0, "20815", "M"),
            row("f", 0, "20815", "M"),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r[1] = t(if i < 3 { "20-30" } else { "30-40" });
            r
        })
        .collect::<Vec<_>>()
    );
}

#[test]
fn a_lone_outlier_is_suppressed_rather_than_generalising_everyone() {
    let mut rows: Vec<Vec<Value>> = (0..10)
        .map(|i| row(&format!("p{i}"), 30 + (i % 2) * 10, "20814", "F"))
        .collect();
    rows.push(row("odd", 77, "99999", "M"));
    let before = rows.clone();
    let report = k_anonymize(&mut rows, &KAnonymity::new(3), &qis()).expect("runs");
    assert_eq!(report.levels, vec![0, 0, 0]);
    assert_eq!(report.suppressed, vec![10]);
    assert_eq!(&rows[..10], &before[..10]);
    assert_eq!(
        rows[10],
        vec![t("odd"), Value::Null, Value::Null, Value::Null]
    );
}

#[test]
fn zip_prefixes_generalise_text() {
    let mut rows = vec![
        row("a", 30, "20814", "F"),
        row("b", 30, "20815", "F"),
        row("c", 30, "20816", "F"),
        row("d", 30, "20911", "F"),
        row("e", 30, "20912", "F"),
        row("f", 30, "20913", "F"),
        row("g", 30, "20900", "F"),
    ];
    let report = k_anonymize(
        &mut rows,
        &KAnonymity {
            k: 3,
            max_suppressed: 0,
        },
        &qis(),
    )
    .expect("runs");
    // "20900" differs from the other 209s at the fourth digit: one level is not enough.
    assert_eq!(report.levels, vec![0, 2, 0]);
    let zips: Vec<Value> = rows.iter().map(|r| r[2].clone()).collect();
    assert_eq!(
        zips,
        vec![
            t("208**"),
            t("208**"),
            t("208**"),
            t("209**"),
            t("209**"),
            t("209**"),
            t("209**")
        ]
    );
}

#[test]
fn dates_generalise_to_month_year_decade() {
    let d = |s: &str| Value::Date(s.parse().expect("date"));
    let qi = [QuasiIdentifier::new(0, Hierarchy::Dates)];
    let mut rows = vec![
        vec![d("1988-07-14")],
        vec![d("1988-07-02")],
        vec![d("1989-01-30")],
        vec![d("1983-05-01")],
    ];
    let report = k_anonymize(
        &mut rows,
        &KAnonymity {
            k: 2,
            max_suppressed: 0,
        },
        &qi,
    )
    .expect("runs");
    assert_eq!(report.levels, vec![3]);
    assert!(rows.iter().all(|r| r[0] == t("1980-1990")));
    let mut rows = vec![vec![d("1988-07-14")], vec![d("1988-07-02")]];
    k_anonymize(&mut rows, &KAnonymity::new(2), &qi).expect("runs");
    assert_eq!(rows, vec![vec![t("1988-07")], vec![t("1988-07")]]);
}

#[test]
fn a_batch_smaller_than_k_shows_no_quasi_identifier() {
    let mut rows = vec![row("a", 30, "20814", "F"), row("b", 30, "20814", "F")];
    let report = k_anonymize(&mut rows, &KAnonymity::new(3), &qis()).expect("runs");
    // Both rows are outliers (not a minority): generalised to the null level.
    assert_eq!(report.levels, vec![4, 5, 1]);
    assert_eq!(report.suppressed, Vec::<usize>::new());
    assert!(rows.iter().all(|r| r[1..].iter().all(Value::is_null)));
    assert_eq!(rows[0][0], t("a"));
}

#[test]
fn errors_are_values() {
    let mut rows = vec![row("a", 30, "20814", "F")];
    assert_eq!(
        k_anonymize(&mut rows, &KAnonymity::new(0), &qis()),
        Err(KAnonymityError::ZeroK)
    );
    let qi = [QuasiIdentifier::new(9, Hierarchy::Suppress)];
    let err = k_anonymize(&mut rows, &KAnonymity::new(2), &qi).expect_err("no column");
    assert_eq!(
        err.to_string(),
        "quasi-identifier column 9 is past the end of row 0"
    );
    let qi = [
        QuasiIdentifier::new(1, Hierarchy::Suppress),
        QuasiIdentifier::new(1, Hierarchy::Suppress),
    ];
    assert_eq!(
        k_anonymize(&mut rows, &KAnonymity::new(2), &qi),
        Err(KAnonymityError::DuplicateColumn(1))
    );
    // An empty batch is trivially anonymous.
    let mut none: Vec<Vec<Value>> = vec![];
    assert_eq!(
        k_anonymize(&mut none, &KAnonymity::new(5), &qis()).map(|r| r.suppressed),
        Ok(vec![])
    );
}

#[test]
fn default_hierarchies() {
    assert_eq!(
        Hierarchy::for_type(&ColumnType::Int),
        Hierarchy::Ranges(vec![5.0, 10.0, 20.0, 50.0, 100.0, 1000.0])
    );
    assert_eq!(Hierarchy::for_type(&ColumnType::Date), Hierarchy::Dates);
    assert_eq!(Hierarchy::for_type(&ColumnType::Bool), Hierarchy::Suppress);
    match Hierarchy::for_type(&ColumnType::Text) {
        Hierarchy::Prefixes(p) => {
            assert_eq!(p.first(), Some(&63));
            assert_eq!(p.last(), Some(&1));
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => (0i64..100).prop_map(Value::Int),
        1 => Just(Value::Null),
        1 => "[a-c]{1,3}".prop_map(Value::Text),
    ]
}

fn arb_row() -> impl Strategy<Value = Vec<Value>> {
    (
        arb_value(),
        prop_oneof![
            6 => prop::sample::select(vec!["20814", "20815", "20816", "21001", "30301"]).prop_map(t),
            1 => Just(Value::Null),
        ],
        prop_oneof![
            4 => prop::sample::select(vec!["F", "M", "X"]).prop_map(t),
            1 => Just(Value::Null),
        ],
        any::<u16>(),
    )
        .prop_map(|(age, zip, sex, id)| vec![Value::Int(id as i64), age, zip, sex])
}

proptest! {
    #[test]
    fn every_shown_combination_occurs_at_least_k_times(
        rows in prop::collection::vec(arb_row(), 0..80),
        k in 1usize..7,
        budget in 0usize..5,
    ) {
        let mut out = rows.clone();
        let params = KAnonymity { k, max_suppressed: budget };
        let report = k_anonymize(&mut out, &params, &qis()).expect("runs");
        assert_k_anonymous(&out, k, &[1, 2, 3]);
        // Rows are neither added nor removed; other columns are untouched.
        prop_assert_eq!(out.len(), rows.len());
        for (a, b) in out.iter().zip(&rows) {
            prop_assert_eq!(&a[0], &b[0]);
        }
        prop_assert!(report.suppressed.len() <= budget);
        // A suppressed row has every quasi-identifier null.
        for r in &report.suppressed {
            prop_assert!(out[*r][1..].iter().all(Value::is_null));
        }
        // Level 0 columns are unchanged except in suppressed rows.
        for (qi, level) in report.levels.iter().enumerate() {
            if *level == 0 {
                for (i, (a, b)) in out.iter().zip(&rows).enumerate() {
                    if !report.suppressed.contains(&i) {
                        prop_assert_eq!(&a[qi + 1], &b[qi + 1]);
                    }
                }
            }
        }
    }

    #[test]
    fn k_copies_of_anything_are_left_alone(
        base in prop::collection::vec(arb_row(), 1..10),
        k in 1usize..5,
    ) {
        // Each tuple repeated k times: already k-anonymous, so nothing changes.
        let rows: Vec<Vec<Value>> = base
            .iter()
            .flat_map(|r| std::iter::repeat_n(r.clone(), k))
            .collect();
        let mut out = rows.clone();
        let report = k_anonymize(&mut out, &KAnonymity::new(k), &qis()).expect("runs");
        prop_assert_eq!(report.levels, vec![0, 0, 0]);
        prop_assert_eq!(report.suppressed, Vec::<usize>::new());
        prop_assert_eq!(out, rows);
    }
}
