//! Row rules: filters, audiences, time windows against a fixed clock, deterministic sampling.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use engine_support::*;
use pol_runtime::bundle::{RowAudience, RowFilter, RowOtherwise};
use pol_runtime::{ColumnType as T, Engine};
use serde_json::json;
use sha2::{Digest, Sha256};

fn shown(e: &Engine, subject: serde_json::Value, source: &str, row: serde_json::Value) -> bool {
    let session = e.session(&subject, t0()).unwrap();
    let src = session.source(source).unwrap();
    let m = row.as_object().unwrap().clone();
    let a = src.row_shown(&m);
    assert_eq!(a, src.mask_json(&m).is_some());
    assert_eq!(a, src.explain(&m).shown);
    a
}

/// Checks [`shown`] for each (subject, row, shown or hidden) case on `source`; a failure names
/// the case.
fn assert_shown(e: &Engine, source: &str, cases: &[(serde_json::Value, serde_json::Value, bool)]) {
    for (i, (subject, row, expected)) in cases.iter().enumerate() {
        assert_eq!(
            shown(e, subject.clone(), source, row.clone()),
            *expected,
            "case {i}: subject {subject}, row {row}"
        );
    }
}

fn office_bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "claims",
        &[("id", T::Int), ("state", T::Text), ("amount", T::Decimal)],
    );
    b.src(s).key_column = Some(0);
    let office = b.prog(bin(
        pol_runtime::program::Op::In,
        col(1),
        E::Index(Box::new(E::Attrs), Box::new(text("Office Location"))),
    ));
    let legal = b.prog(in_group("Legal"));
    let r = b.rule("office_rows");
    b.row_rule(s, r, RowFilter::Where(office), RowAudience::Except(legal));
    b
}

#[test]
fn where_filter_with_exception() {
    let e = office_bundle().engine();
    let va = json!({"attributes": {"Office Location": ["VA", "MD"]}});
    assert_shown(
        &e,
        "claims",
        &[
            (va.clone(), json!({"id": 1, "state": "VA"}), true),
            (va.clone(), json!({"id": 1, "state": "MD"}), true),
            (va.clone(), json!({"id": 1, "state": "MO"}), false),
            // Null state → unknown → hidden.
            (va, json!({"id": 1}), false),
            // §8: "others see their office's claims".
            (
                json!({"attributes": {"Office Location": ["VA"]}}),
                json!({"id": 3, "state": "MO"}),
                false,
            ),
            // No such attribute → unknown → hidden.
            (json!({}), json!({"id": 1, "state": "VA"}), false),
            // Legal sees every claim.
            (
                json!({"groups": ["Legal"]}),
                json!({"id": 2, "state": "MO"}),
                true,
            ),
            (json!({"groups": ["Legal"]}), json!({"id": 2}), true),
        ],
    );
}

fn taxi_bundle(event: T) -> B {
    let mut b = B::new();
    let s = b.source(
        "taxis",
        &[
            ("id", T::Int),
            ("passenger_count", T::Int),
            ("pickup", event),
        ],
    );
    b.src(s).key_column = Some(0);
    b.src(s).event_time_column = Some(2);
    b
}

#[test]
fn newer_and_older_than() {
    let mut b = taxi_bundle(T::Timestamp);
    let r = b.rule("recent");
    b.row_rule(
        0,
        r,
        RowFilter::NewerThan(90 * 86_400),
        RowAudience::Everyone,
    );
    let e = b.engine();
    // Clock: 2026-01-01T00:00:00Z; cutoff 2025-10-03T00:00:00Z.
    assert_shown(
        &e,
        "taxis",
        &[
            (
                anyone(),
                json!({"id": 1, "pickup": "2025-12-01T10:00:00Z"}),
                true,
            ),
            (
                anyone(),
                json!({"id": 1, "pickup": "2025-10-03T00:00:01Z"}),
                true,
            ),
            (
                anyone(),
                json!({"id": 1, "pickup": "2025-10-03T00:00:00Z"}),
                false,
            ),
            (
                anyone(),
                json!({"id": 1, "pickup": "2025-09-01T00:00:00Z"}),
                false,
            ),
            (anyone(), json!({"id": 1, "pickup": null}), false),
            (anyone(), json!({"id": 1, "pickup": "not a time"}), false),
        ],
    );

    let mut b = taxi_bundle(T::Date);
    let r = b.rule("old");
    b.row_rule(
        0,
        r,
        RowFilter::OlderThan(30 * 86_400),
        RowAudience::Everyone,
    );
    let e = b.engine();
    assert_shown(
        &e,
        "taxis",
        &[
            (anyone(), json!({"id": 1, "pickup": "2025-11-01"}), true),
            (anyone(), json!({"id": 1, "pickup": "2025-12-15"}), false),
            (anyone(), json!({"id": 1}), false),
        ],
    );
}

#[test]
fn rules_are_anded() {
    let mut b = taxi_bundle(T::Timestamp);
    let small = b.prog(lt(col(1), int(2)));
    let admins = b.prog(in_group("Admins"));
    let r1 = b.rule("taxis_small");
    let r2 = b.rule("recent");
    b.row_rule(0, r1, RowFilter::Where(small), RowAudience::Except(admins));
    b.row_rule(
        0,
        r2,
        RowFilter::NewerThan(90 * 86_400),
        RowAudience::Everyone,
    );
    let e = b.engine();
    let row = |n: i64, t: &str| json!({"id": 1, "passenger_count": n, "pickup": t});
    assert_shown(
        &e,
        "taxis",
        &[
            (anyone(), row(1, "2025-12-01T00:00:00Z"), true),
            (anyone(), row(3, "2025-12-01T00:00:00Z"), false),
            (anyone(), row(1, "2024-12-01T00:00:00Z"), false),
        ],
    );
    let admin = json!({"groups": ["Admins"]});
    assert_shown(
        &e,
        "taxis",
        &[
            (admin.clone(), row(3, "2025-12-01T00:00:00Z"), true),
            (admin, row(3, "2024-12-01T00:00:00Z"), false),
        ],
    );
}

#[test]
fn never_show_rows_except_owner() {
    let mut b = B::new();
    let s = b.source("vault", &[("id", T::Int), ("secret", T::Text)]);
    let owner = b.prog(has_role("owner"));
    let r = b.rule("lock");
    b.row_rule(s, r, RowFilter::Never, RowAudience::Except(owner));
    let e = b.engine();
    assert_shown(
        &e,
        "vault",
        &[
            (anyone(), json!({"id": 1, "secret": "s"}), false),
            (
                json!({"roles": ["owner"]}),
                json!({"id": 1, "secret": "s"}),
                true,
            ),
        ],
    );
}

#[test]
fn who_otherwise_audiences() {
    let mut b = taxi_bundle(T::Timestamp);
    let analysts = b.prog(in_group("analysts"));
    let clearance = b.subject_field("clearance", T::Int);
    let cleared = b.prog(bin(
        pol_runtime::program::Op::Gt,
        E::UserField(clearance),
        int(2),
    ));
    let small = b.prog(lt(col(1), int(2)));
    let r1 = b.rule("analysts_recent_else_all");
    let r2 = b.rule("cleared_all_else_small");
    // analysts: only recent rows; others: all rows.
    b.row_rule(
        0,
        r1,
        RowFilter::NewerThan(90 * 86_400),
        row_who(analysts, RowOtherwise::AllRows),
    );
    // cleared: all small rows... inverted: cleared → newer than 365d; otherwise only small rows.
    b.row_rule(
        0,
        r2,
        RowFilter::NewerThan(365 * 86_400),
        row_who(cleared, RowOtherwise::Filter(RowFilter::Where(small))),
    );
    let e = b.engine();
    let old_big = json!({"id": 1, "passenger_count": 4, "pickup": "2025-06-01T00:00:00Z"});
    let old_small = json!({"id": 1, "passenger_count": 1, "pickup": "2025-06-01T00:00:00Z"});
    let new_big = json!({"id": 1, "passenger_count": 4, "pickup": "2025-12-01T00:00:00Z"});
    let new_small = json!({"id": 1, "passenger_count": 1, "pickup": "2025-12-01T00:00:00Z"});
    // Not an analyst (rule 1: all rows), clearance 1 (rule 2: only small rows).
    let plain = json!({"clearance": 1});
    assert_shown(
        &e,
        "taxis",
        &[
            (plain.clone(), old_big.clone(), false),
            (plain.clone(), old_small.clone(), true),
        ],
    );
    // Clearance 3: rule 2 → newer than 365d: both old (June 2025) and new pass.
    let cleared_user = json!({"clearance": 3});
    assert!(shown(&e, cleared_user.clone(), "taxis", old_big.clone()));
    // Analyst with clearance 3: rule 1 → only recent.
    let analyst = json!({"clearance": 3, "groups": ["analysts"]});
    assert_shown(
        &e,
        "taxis",
        &[
            (analyst.clone(), old_big.clone(), false),
            (analyst, new_big.clone(), true),
        ],
    );
    // Clearance unknown: both the filter (newer than 365d) and the otherwise (small) apply.
    let unknown = json!({});
    assert_shown(
        &e,
        "taxis",
        &[
            (unknown.clone(), new_small, true),
            (unknown.clone(), old_small, true),
            (unknown.clone(), new_big, false),
            (
                unknown,
                json!({"id": 1, "passenger_count": 1, "pickup": "2024-06-01T00:00:00Z"}),
                false,
            ),
        ],
    );
}

#[test]
fn row_dependent_audience_is_evaluated_per_row() {
    let mut b = B::new();
    let s = b.source("notes", &[("id", T::Int), ("owner", T::Text)]);
    let own = b.prog(eq(col(1), E::Login));
    let r = b.rule("own_rows");
    b.row_rule(s, r, RowFilter::Never, RowAudience::Except(own));
    let e = b.engine();
    assert_shown(
        &e,
        "notes",
        &[
            (
                json!({"login": "amy"}),
                json!({"id": 1, "owner": "amy"}),
                true,
            ),
            (
                json!({"login": "amy"}),
                json!({"id": 1, "owner": "bob"}),
                false,
            ),
            (json!({}), json!({"id": 1, "owner": "bob"}), false),
        ],
    );
}

#[test]
fn user_only_where_filter_hides_everything_or_nothing() {
    let mut b = B::new();
    let s = b.source("t", &[("id", T::Int)]);
    let staff = b.prog(in_group("staff"));
    let r = b.rule("staff_only");
    b.row_rule(s, r, RowFilter::Where(staff), RowAudience::Everyone);
    let e = b.engine();
    assert_shown(
        &e,
        "t",
        &[
            (json!({"groups": ["staff"]}), json!({"id": 1}), true),
            (json!({"groups": ["x"]}), json!({"id": 1}), false),
            // groups of the wrong type → unknown → hidden.
            (json!({"groups": "staff"}), json!({"id": 1}), false),
        ],
    );
}

fn sample_bundle(pct: f64) -> Engine {
    let mut b = taxi_bundle(T::Timestamp);
    let admins = b.prog(in_group("Admins"));
    let r = b.rule("sample");
    b.row_rule(0, r, RowFilter::Sample(pct), RowAudience::Except(admins));
    b.engine()
}

#[test]
fn sampling_is_deterministic_and_roughly_n_percent() {
    let e = sample_bundle(10.0);
    let a = e.session(&json!({"login": "amy"}), t0()).unwrap();
    let b = e
        .session(&json!({"login": "bob", "groups": ["x"]}), t0())
        .unwrap();
    let admin = e.session(&json!({"groups": ["Admins"]}), t0()).unwrap();
    let (sa, sb, sadm) = (
        a.source("taxis").unwrap(),
        b.source("taxis").unwrap(),
        admin.source("taxis").unwrap(),
    );
    let mut count = 0;
    let n = 4000;
    for id in 0..n {
        let row = json!({"id": id, "passenger_count": 1})
            .as_object()
            .unwrap()
            .clone();
        let x = sa.row_shown(&row);
        assert_eq!(x, sb.row_shown(&row), "the same rows for every user");
        assert!(sadm.row_shown(&row));
        // The documented formula.
        let digest = Sha256::digest(format!("taxis\0{id}").as_bytes());
        let bucket = u64::from_be_bytes(digest[..8].try_into().unwrap()) % 10_000;
        assert_eq!(x, bucket < 1000, "row {id}");
        count += usize::from(x);
    }
    let pct = count as f64 * 100.0 / n as f64;
    assert!((8.0..12.0).contains(&pct), "sampled {pct}%");
    // A null key is hidden.
    assert!(!sa.row_shown(json!({"passenger_count": 1}).as_object().unwrap()));
    // Another session later sees the same sample.
    let later = e
        .session(&json!({"login": "amy"}), t0() + chrono::Duration::days(30))
        .unwrap();
    let sl = later.source("taxis").unwrap();
    for id in 0..200 {
        let row = json!({"id": id}).as_object().unwrap().clone();
        assert_eq!(sa.row_shown(&row), sl.row_shown(&row));
    }
}

#[test]
fn sampling_extremes() {
    let none = sample_bundle(0.0);
    let all = sample_bundle(100.0);
    let sn = none.session(&anyone(), t0()).unwrap();
    let sa = all.session(&anyone(), t0()).unwrap();
    for id in 0..300 {
        let row = json!({"id": id}).as_object().unwrap().clone();
        assert!(!sn.source("taxis").unwrap().row_shown(&row));
        assert!(sa.source("taxis").unwrap().row_shown(&row));
    }
}

/// Any JSON value of a few kinds a row may hold (strings with escapes and non-ASCII text,
/// integers, decimals, nested values).
fn any_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-z\"\\\\\u{0}-\u{1f}é€😀 ]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// `write_masked_row` writes exactly the bytes of `mask_row` serialized (what `polc eval`
    /// prints and pol-server answers), and nothing for a hidden row.
    #[test]
    fn written_rows_are_the_bytes_of_mask_row(
        id in any_json(),
        state in any_json(),
        amount in any_json(),
        extra in any_json(),
        legal in proptest::bool::ANY,
    ) {
        let e = office_bundle().engine();
        let groups = if legal { json!(["Legal"]) } else { json!([]) };
        let subject = json!({"login": "amy", "groups": groups, "attributes": {"Office Location": "NY"}});
        let session = e.session(&subject, t0()).unwrap();
        let src = session.source("claims").unwrap();
        let row = json!({"id": id, "state": state, "amount": amount, "extra": extra});
        let row = row.as_object().unwrap();
        let mut out = b"[".to_vec();
        let shown = src.write_masked_row(row, &mut out).unwrap();
        match src.mask_row(row) {
            Some(m) => {
                proptest::prop_assert!(shown);
                let mut expected = b"[".to_vec();
                serde_json::to_writer(&mut expected, &m).unwrap();
                proptest::prop_assert_eq!(
                    String::from_utf8(out).unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
            None => {
                proptest::prop_assert!(!shown);
                proptest::prop_assert_eq!(out, b"[".to_vec());
            }
        }
    }
}
