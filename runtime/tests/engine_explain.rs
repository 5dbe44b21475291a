//! Explanations: which rule decided each cell and row, and why.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use engine_support::*;
use pol_runtime::bundle::{RowAudience, RowFilter};
use pol_runtime::engine::{CellAction, CellExplanation, Reason, RowExplanation};
use pol_runtime::{ColumnType as T, Technique};
use serde_json::json;

fn explain(
    b: &B,
    subject: serde_json::Value,
    source: &str,
    row: serde_json::Value,
) -> RowExplanation {
    let e = b.engine();
    let session = e.session(&subject, t0()).unwrap();
    let src = session.source(source).unwrap();
    src.explain(row.as_object().unwrap())
}

fn cell<'a>(ex: &'a RowExplanation, column: &str) -> &'a CellExplanation {
    ex.cells
        .iter()
        .find(|c| c.column == column)
        .unwrap_or_else(|| panic!("no cell {column}"))
}

fn ssn_bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "customers",
        &[
            ("id", T::Int),
            ("ssn", T::Text),
            ("country", T::Text),
            ("note", T::Text),
        ],
    );
    b.src(s).key_column = Some(0);
    let hash = b.tech(Technique::Hash { global: false });
    let null = b.tech(Technique::Null);
    let us = b.prog(eq(col(2), text("US")));
    let admins = b.prog(in_group("admins"));
    let r1 = b.rule("hash_us_ssn");
    let r2 = b.rule("null_pii");
    b.add_candidate(s, "ssn", r1, Some(us), except(admins, hash));
    b.add_candidate(s, "ssn", r2, None, everyone(null));
    b
}

#[test]
fn explains_the_deciding_rule_and_skipped_ones() {
    let b = ssn_bundle();
    let ex = explain(
        &b,
        anyone(),
        "customers",
        json!({"id": 1, "ssn": "1", "country": "FR"}),
    );
    assert!(ex.shown && !ex.exempt);
    let c = cell(&ex, "ssn");
    assert_eq!(c.decided_by.as_ref().unwrap().name, "null_pii");
    assert_eq!(c.reason, Reason::Everyone);
    assert_eq!(
        c.action,
        CellAction::Masked {
            technique: "null".into()
        }
    );
    assert_eq!(
        c.skipped
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        vec!["hash_us_ssn"]
    );
    assert_eq!(c.value, Some(json!(null)));
    assert_eq!(c.clause, Some(0));
    assert_eq!(c.where_, None);

    let ex = explain(
        &b,
        anyone(),
        "customers",
        json!({"id": 1, "ssn": "1", "country": "US"}),
    );
    let c = cell(&ex, "ssn");
    assert_eq!(c.decided_by.as_ref().unwrap().name, "hash_us_ssn");
    assert_eq!(
        c.reason,
        Reason::ExceptionNotHeld {
            condition: "false".into()
        }
    );
    assert_eq!(c.where_.as_deref(), Some("true"));
    assert!(c.skipped.is_empty());
    assert_eq!(
        c.action,
        CellAction::Masked {
            technique: "hash".into()
        }
    );

    let ex = explain(
        &b,
        json!({"groups": ["admins"]}),
        "customers",
        json!({"id": 1, "ssn": "1"}),
    );
    let c = cell(&ex, "ssn");
    assert_eq!(c.reason, Reason::ExceptionHeld);
    assert_eq!(c.action, CellAction::Clear);
    assert_eq!(c.where_.as_deref(), Some("unknown"));
    assert_eq!(c.value, Some(json!("1")));
    let text = c.to_string();
    assert!(text.contains("clear by `hash_us_ssn`"), "{text}");
    assert!(text.contains("the exception holds"), "{text}");
    assert!(text.contains("its `where` is unknown"), "{text}");

    let note = cell(&ex, "note");
    assert_eq!(note.reason, Reason::NoRule);
    assert!(note.decided_by.is_none());
}

#[test]
fn explains_type_mismatch_and_technique_errors() {
    let mut b = ssn_bundle();
    let show = b.tech(Technique::ShowLast(2));
    let r = b.rule("ids");
    b.add_candidate(0, "id", r, None, everyone(show));
    let ex = explain(
        &b,
        anyone(),
        "customers",
        json!({"id": 5, "ssn": 12, "country": "US"}),
    );
    let ssn = cell(&ex, "ssn");
    assert!(
        matches!(&ssn.reason, Reason::TypeMismatch { message } if message.contains("expected text"))
    );
    assert_eq!(ssn.action, CellAction::Null);
    assert!(ssn.decided_by.is_none());
    let id = cell(&ex, "id");
    assert!(id.technique_error.as_deref().unwrap().contains("show_last"));
    assert_eq!(id.action, CellAction::Null);
    assert_eq!(id.value, Some(json!(null)));
}

#[test]
fn explains_who_unknown_exempt_and_row_rules() {
    let mut b = B::new();
    let s = b.source("t", &[("id", T::Int), ("email", T::Text)]);
    b.src(s).key_column = Some(0);
    let clearance = b.subject_field("clearance", T::Int);
    let cleared = b.prog(lt(int(2), E::UserField(clearance)));
    let stars = b.tech(Technique::Stars);
    let r = b.rule("emails");
    b.add_candidate(s, "email", r, None, who(&[(cleared, stars)], Some(None)));
    let auditors = b.prog(in_group("auditors"));
    b.src(s).exempts.push(auditors);
    let small = b.prog(lt(col(0), int(10)));
    let legal = b.prog(in_group("legal"));
    let r2 = b.rule("small_ids");
    b.row_rule(s, r2, RowFilter::Where(small), RowAudience::Except(legal));

    let ex = explain(&b, json!({}), "t", json!({"id": 50, "email": "a@b.c"}));
    assert!(!ex.shown);
    assert_eq!(ex.row_rules.len(), 1);
    assert!(!ex.row_rules[0].passed && ex.row_rules[0].applies);
    assert!(
        ex.row_rules[0].detail.contains("the filter is false"),
        "{}",
        ex.row_rules[0].detail
    );
    let c = cell(&ex, "email");
    assert_eq!(c.reason, Reason::WhoUnknown);
    assert_eq!(c.action, CellAction::Null);

    let ex = explain(
        &b,
        json!({"groups": ["legal"], "clearance": 1}),
        "t",
        json!({"id": 50, "email": "a@b.c"}),
    );
    assert!(ex.shown);
    assert!(!ex.row_rules[0].applies);
    assert_eq!(cell(&ex, "email").reason, Reason::OtherwiseUnmasked);

    let ex = explain(
        &b,
        json!({"groups": ["auditors"]}),
        "t",
        json!({"id": 50, "email": "a@b.c"}),
    );
    assert!(ex.shown && ex.exempt && ex.row_rules.is_empty());
    assert!(ex
        .cells
        .iter()
        .all(|c| c.reason == Reason::Exempt && c.action == CellAction::Clear));
    let text = ex.to_string();
    assert!(text.starts_with("row of t: shown (exempt)"), "{text}");
    // Explanations serialise to JSON for `polc eval --explain`.
    let j = serde_json::to_value(&ex).unwrap();
    assert_eq!(j["cells"][1]["reason"]["kind"], json!("exempt"));
}

#[test]
fn explains_derived_and_nested_cells() {
    let mut b = B::new();
    let patient = T::Struct(vec![("name".into(), T::Text), ("ssn".into(), T::Text)]);
    let s = b.source(
        "c",
        &[
            ("first", T::Text),
            ("last", T::Text),
            ("patient", patient),
            ("country", T::Text),
        ],
    );
    b.expand_struct(s, "patient");
    b.derived(
        s,
        "full",
        T::Text,
        E::Concat(vec![col(0), text(" "), col(1)]),
        &["first", "last"],
    );
    let null = b.tech(Technique::Null);
    let stars = b.tech(Technique::Stars);
    let r1 = b.rule("null_first");
    let r2 = b.rule("fr_patient");
    let r3 = b.rule("ssn_stars");
    let fr = b.prog(eq(col(3), text("FR")));
    b.add_candidate(s, "first", r1, None, everyone(null));
    b.add_candidate(s, "patient", r2, Some(fr), everyone(null));
    b.add_candidate(s, "patient.ssn", r3, None, everyone(stars));
    let ex = explain(
        &b,
        anyone(),
        "c",
        json!({"first": "Jo", "last": "Do", "patient": {"name": "N", "ssn": "12"}, "country": "FR"}),
    );
    let full = cell(&ex, "full");
    assert_eq!(
        full.reason,
        Reason::DerivedInputMasked {
            input: "first".into()
        }
    );
    assert_eq!(full.action, CellAction::Null);
    let ssn = cell(&ex, "patient.ssn");
    assert_eq!(
        ssn.reason,
        Reason::WithinMaskedParent {
            parent: "patient".into()
        }
    );
    assert_eq!(ssn.value, None);
    let patient = cell(&ex, "patient");
    assert_eq!(patient.value, Some(json!(null)));
    assert_eq!(patient.where_.as_deref(), Some("true"));
    // Not FR: the struct is clear and the field decides for itself.
    let ex = explain(
        &b,
        anyone(),
        "c",
        json!({"first": "Jo", "patient": {"name": "N", "ssn": "12"}, "country": "US"}),
    );
    assert_eq!(
        cell(&ex, "patient").value,
        Some(json!({"name": "N", "ssn": "**"}))
    );
    assert_eq!(cell(&ex, "patient").skipped.len(), 1);
    assert_eq!(
        cell(&ex, "patient.ssn").decided_by.as_ref().unwrap().name,
        "ssn_stars"
    );
    assert_eq!(cell(&ex, "patient.name").reason, Reason::NoRule);
}
