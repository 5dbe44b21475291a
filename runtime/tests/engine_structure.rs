//! Nested fields (struct and list<struct>) and derived columns.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use engine_support::*;
use pol_runtime::bundle::{RowAudience, RowFilter};
use pol_runtime::program::Op;
use pol_runtime::{ColumnType as T, Technique};
use serde_json::json;

fn patient_type() -> T {
    T::Struct(vec![
        ("name".into(), T::Text),
        ("ssn".into(), T::Text),
        ("age".into(), T::Int),
    ])
}

fn nested_bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "customers",
        &[
            ("id", T::Int),
            ("country", T::Text),
            ("patient", patient_type()),
        ],
    );
    b.src(s).key_column = Some(0);
    b.expand_struct(s, "patient");
    let null = b.tech(Technique::Null);
    let initials = b.tech(Technique::Initials { delimiter: None });
    let doctors = b.prog(in_group("doctors"));
    let fr = b.prog(eq(col(1), text("FR")));
    let r_ssn = b.rule("null_ssn");
    let r_name = b.rule("initials_name");
    let r_fr = b.rule("fr_patients");
    b.add_candidate(s, "patient.ssn", r_ssn, None, everyone(null));
    b.add_candidate(s, "patient.name", r_name, None, except(doctors, initials));
    b.add_candidate(s, "patient", r_fr, Some(fr), everyone(null));
    b
}

#[test]
fn fields_are_masked_on_their_own() {
    let e = nested_bundle().engine();
    let row = json!({"id": 1, "country": "US", "patient": {"name": "John Smith", "ssn": "123", "age": 40}});
    assert_eq!(
        mask(&e, anyone(), "customers", row.clone()),
        Some(json!({"id": 1, "country": "US", "patient": {"name": "JS", "ssn": null, "age": 40}}))
    );
    assert_eq!(
        mask(&e, json!({"groups": ["doctors"]}), "customers", row),
        Some(
            json!({"id": 1, "country": "US", "patient": {"name": "John Smith", "ssn": null, "age": 40}})
        )
    );
}

#[test]
fn struct_masked_as_a_whole() {
    let e = nested_bundle().engine();
    let row = json!({"id": 1, "country": "FR", "patient": {"name": "John Smith", "ssn": "123", "age": 40}});
    assert_eq!(
        mask(&e, json!({"groups": ["doctors"]}), "customers", row),
        Some(json!({"id": 1, "country": "FR", "patient": null}))
    );
}

#[test]
fn struct_fields_decode_missing_and_undeclared() {
    let e = nested_bundle().engine();
    let row = json!({"id": 1, "country": "US", "patient": {"name": "Ann Lee", "extra": 1}});
    assert_eq!(
        mask(&e, json!({"groups": ["doctors"]}), "customers", row),
        Some(
            json!({"id": 1, "country": "US", "patient": {"name": "Ann Lee", "ssn": null, "age": null}})
        )
    );
    // A mistyped field makes the whole cell null.
    let row = json!({"id": 1, "country": "US", "patient": {"name": "Ann Lee", "age": "old"}});
    assert_eq!(
        mask(&e, json!({"groups": ["doctors"]}), "customers", row),
        Some(json!({"id": 1, "country": "US", "patient": null}))
    );
    // A null struct stays null (fields of nothing).
    let row = json!({"id": 1, "country": "US", "patient": null});
    assert_eq!(
        mask(&e, anyone(), "customers", row),
        Some(json!({"id": 1, "country": "US", "patient": null}))
    );
}

#[test]
fn struct_technique_applies_to_the_whole_value() {
    let mut b = nested_bundle();
    let s = 0;
    let t = b.expr_tech(E::Field(Box::new(E::Val), "age".into()));
    let r = b.rule("age_only");
    let idx = b.col_index(s, "patient");
    b.b.sources[s].columns[idx as usize].candidates.clear();
    b.add_candidate(s, "patient", r, None, everyone(t));
    let e = b.engine();
    let row = json!({"id": 1, "country": "US", "patient": {"name": "John Smith", "ssn": "123", "age": 40}});
    assert_eq!(
        mask(&e, anyone(), "customers", row),
        Some(json!({"id": 1, "country": "US", "patient": 40}))
    );
}

#[test]
fn list_of_structs_masks_every_element() {
    let mut b = B::new();
    let item = T::Struct(vec![("sku".into(), T::Text), ("price".into(), T::Decimal)]);
    let s = b.source(
        "orders",
        &[("id", T::Int), ("items", T::List(Box::new(item)))],
    );
    b.expand_struct(s, "items");
    let round = b.tech(Technique::Round(10.0));
    let r = b.rule("round_prices");
    b.add_candidate(s, "items.price", r, None, everyone(round));
    let e = b.engine();
    assert_eq!(
        mask(
            &e,
            anyone(),
            "orders",
            json!({"id": 1, "items": [{"sku": "a", "price": 12.5}, {"sku": "b", "price": 30}, {"sku": "c"}]})
        ),
        Some(
            json!({"id": 1, "items": [{"sku": "a", "price": 20.0}, {"sku": "b", "price": 30.0}, {"sku": "c", "price": null}]})
        )
    );
    assert_eq!(
        mask(&e, anyone(), "orders", json!({"id": 1, "items": []})),
        Some(json!({"id": 1, "items": []}))
    );
}

#[test]
fn nested_struct_in_struct() {
    let mut b = B::new();
    let addr = T::Struct(vec![("street".into(), T::Text), ("zip".into(), T::Text)]);
    let person = T::Struct(vec![("name".into(), T::Text), ("address".into(), addr)]);
    let s = b.source("p", &[("person", person)]);
    b.expand_struct(s, "person");
    b.expand_struct(s, "person.address");
    let stars = b.tech(Technique::Stars);
    let r = b.rule("zip");
    b.add_candidate(s, "person.address.zip", r, None, everyone(stars));
    let e = b.engine();
    assert_eq!(
        mask(
            &e,
            anyone(),
            "p",
            json!({"person": {"name": "A", "address": {"street": "Main", "zip": "12345"}}})
        ),
        Some(json!({"person": {"name": "A", "address": {"street": "Main", "zip": "*****"}}}))
    );
}

#[test]
fn field_where_reads_other_columns() {
    let mut b = nested_bundle();
    let s = 0;
    let young = b.prog(lt(col(b.col_index(s, "patient.age")), int(18)));
    let redact = b.tech(Technique::Redact);
    let r = b.rule("minors");
    let idx = b.col_index(s, "patient.name");
    b.b.sources[s].columns[idx as usize].candidates.insert(
        0,
        pol_runtime::bundle::Candidate {
            rule: r,
            where_: Some(young),
            body: everyone(redact),
        },
    );
    let e = b.engine();
    let row = |age: i64| json!({"id": 1, "country": "US", "patient": {"name": "John Smith", "ssn": "1", "age": age}});
    assert_eq!(
        mask(&e, json!({"groups": ["doctors"]}), "customers", row(12)).unwrap()["patient"]["name"],
        json!("*******")
    );
    assert_eq!(
        mask(&e, json!({"groups": ["doctors"]}), "customers", row(40)).unwrap()["patient"]["name"],
        json!("John Smith")
    );
}

// ---- 5. derived columns -----------------------------------------------------------------------

fn derived_bundle(own: Option<&str>) -> B {
    let mut b = B::new();
    let s = b.source(
        "customers",
        &[("id", T::Int), ("first", T::Text), ("last", T::Text)],
    );
    b.src(s).key_column = Some(0);
    b.derived(
        s,
        "full",
        T::Text,
        E::Concat(vec![col(1), text(" "), col(2)]),
        &["first", "last"],
    );
    let admin = b.prog(login_is("admin"));
    let null = b.tech(Technique::Null);
    let acc = b.rule("first accessible if");
    b.src(s).columns[1].accessible = Some(admin);
    b.add_candidate(s, "first", acc, None, except(admin, null));
    match own {
        None => {}
        Some("everyone") => {
            let t = b.tech(Technique::ShowFirst(2));
            let r = b.rule("full_rule");
            b.add_candidate(s, "full", r, None, everyone(t));
        }
        Some("except") => {
            let t = b.tech(Technique::ShowFirst(2));
            let r = b.rule("full_rule");
            let boss = b.prog(login_is("boss"));
            b.add_candidate(s, "full", r, None, except(boss, t));
        }
        Some("who") => {
            let t = b.tech(Technique::ShowFirst(2));
            let r = b.rule("full_rule");
            let boss = b.prog(login_is("boss"));
            b.add_candidate(s, "full", r, None, who(&[(boss, t)], Some(None)));
        }
        Some(other) => panic!("{other}"),
    }
    b
}

#[test]
fn derived_is_clear_only_if_inputs_are() {
    let e = derived_bundle(None).engine();
    let row = json!({"id": 1, "first": "Jo", "last": "Do"});
    assert_eq!(
        mask(&e, json!({"login": "admin"}), "customers", row.clone()),
        Some(json!({"id": 1, "first": "Jo", "last": "Do", "full": "Jo Do"}))
    );
    assert_eq!(
        mask(&e, json!({"login": "bob"}), "customers", row),
        Some(json!({"id": 1, "first": null, "last": "Do", "full": null}))
    );
}

#[test]
fn derived_own_rule_applies_to_the_computed_value() {
    let e = derived_bundle(Some("everyone")).engine();
    let row = json!({"id": 1, "first": "Jo", "last": "Do"});
    // Inputs clear: its own rule applies normally.
    assert_eq!(
        mask(&e, json!({"login": "admin"}), "customers", row.clone()).unwrap()["full"],
        json!("Jo*******")
    );
    // Input masked: its own technique still applies to the computed value.
    assert_eq!(
        mask(&e, json!({"login": "bob"}), "customers", row).unwrap()["full"],
        json!("Jo*******")
    );
}

#[test]
fn derived_clear_by_exception_with_masked_input_is_null() {
    let e = derived_bundle(Some("except")).engine();
    let row = json!({"id": 1, "first": "Jo", "last": "Do"});
    // boss: exception holds, but `first` is masked for him → null.
    assert_eq!(
        mask(&e, json!({"login": "boss"}), "customers", row.clone()).unwrap()["full"],
        json!(null)
    );
    // bob: masked by its own rule, applied to the computed value.
    assert_eq!(
        mask(&e, json!({"login": "bob"}), "customers", row.clone()).unwrap()["full"],
        json!("Jo*******")
    );
    // admin: inputs clear, exception does not hold → own technique.
    assert_eq!(
        mask(&e, json!({"login": "admin"}), "customers", row).unwrap()["full"],
        json!("Jo*******")
    );
}

#[test]
fn derived_otherwise_unmasked_with_masked_input_is_null() {
    let e = derived_bundle(Some("who")).engine();
    let row = json!({"id": 1, "first": "Jo", "last": "Do"});
    assert_eq!(
        mask(&e, json!({"login": "bob"}), "customers", row.clone()).unwrap()["full"],
        json!(null)
    );
    assert_eq!(
        mask(&e, json!({"login": "boss"}), "customers", row.clone()).unwrap()["full"],
        json!("Jo*******")
    );
    assert_eq!(
        mask(&e, json!({"login": "admin"}), "customers", row).unwrap()["full"],
        json!("Jo Do")
    );
}

#[test]
fn derived_chains_and_mistyped_inputs() {
    let mut b = derived_bundle(None);
    let s = 0;
    let full = b.col_index(s, "full");
    b.derived(
        s,
        "shout",
        T::Text,
        E::Un(Op::Upper, Box::new(col(full))),
        &["full"],
    );
    b.derived(
        s,
        "len",
        T::Int,
        E::Un(Op::Len, Box::new(col(2))),
        &["last"],
    );
    let e = b.engine();
    let row = json!({"id": 1, "first": "Jo", "last": "Do"});
    assert_eq!(
        mask(&e, json!({"login": "admin"}), "customers", row.clone()),
        Some(
            json!({"id": 1, "first": "Jo", "last": "Do", "full": "Jo Do", "shout": "JO DO", "len": 2})
        )
    );
    assert_eq!(
        mask(&e, json!({"login": "bob"}), "customers", row),
        Some(json!({"id": 1, "first": null, "last": "Do", "full": null, "shout": null, "len": 2}))
    );
    // A mistyped input is not clear: the derived column is null.
    assert_eq!(
        mask(
            &e,
            json!({"login": "admin"}),
            "customers",
            json!({"id": 1, "first": "Jo", "last": 5})
        ),
        Some(
            json!({"id": 1, "first": "Jo", "last": null, "full": null, "shout": null, "len": null})
        )
    );
}

#[test]
fn derived_of_the_wrong_type_is_null() {
    let mut b = B::new();
    let s = b.source("t", &[("a", T::Int)]);
    b.derived(s, "bad", T::Text, bin(Op::Add, col(0), int(1)), &["a"]);
    b.derived(s, "dec", T::Decimal, bin(Op::Add, col(0), int(1)), &["a"]);
    let e = b.engine();
    assert_eq!(
        mask(&e, anyone(), "t", json!({"a": 1})),
        Some(json!({"a": 1, "bad": null, "dec": 2.0}))
    );
}

#[test]
fn derived_reading_a_masked_field_is_masked() {
    let mut b = nested_bundle();
    let s = 0;
    let ssn = b.col_index(s, "patient.ssn");
    let age = b.col_index(s, "patient.age");
    let patient = b.col_index(s, "patient");
    b.derived(s, "ssn_copy", T::Text, col(ssn), &["patient.ssn"]);
    b.derived(s, "age_copy", T::Int, col(age), &["patient.age"]);
    b.derived(
        s,
        "whole",
        T::Int,
        E::Field(Box::new(col(patient)), "age".into()),
        &["patient"],
    );
    let e = b.engine();
    let row = json!({"id": 1, "country": "US", "patient": {"name": "John Smith", "ssn": "123", "age": 40}});
    let out = mask(&e, json!({"groups": ["doctors"]}), "customers", row.clone()).unwrap();
    assert_eq!(out["ssn_copy"], json!(null));
    assert_eq!(out["age_copy"], json!(40));
    // Reading the whole struct: one of its fields is masked, so the derived value is masked.
    assert_eq!(out["whole"], json!(null));
    // When the struct is masked as a whole (FR), even the clear field is masked for derivations.
    let fr = json!({"id": 1, "country": "FR", "patient": {"name": "John Smith", "ssn": "123", "age": 40}});
    assert_eq!(
        mask(&e, json!({"groups": ["doctors"]}), "customers", fr).unwrap()["age_copy"],
        json!(null)
    );
}

#[test]
fn row_rules_read_derived_values() {
    let mut b = B::new();
    let s = b.source("t", &[("a", T::Int), ("b", T::Int)]);
    b.derived(s, "sum", T::Int, bin(Op::Add, col(0), col(1)), &["a", "b"]);
    let big = b.prog(lt(int(10), col(2)));
    let r = b.rule("big_sums");
    b.row_rule(s, r, RowFilter::Where(big), RowAudience::Everyone);
    let e = b.engine();
    assert_eq!(
        mask(&e, anyone(), "t", json!({"a": 5, "b": 6})),
        Some(json!({"a": 5, "b": 6, "sum": 11}))
    );
    assert_eq!(mask(&e, anyone(), "t", json!({"a": 5, "b": 4})), None);
    assert_eq!(mask(&e, anyone(), "t", json!({"a": 5})), None);
}

/// The verifier checks a source in steps (column tree, struct fields, key / event-time
/// columns); each broken shape is refused with its place and reason.
#[test]
fn broken_source_shapes_are_refused_with_their_place() {
    type Break = fn(&mut B) -> String;
    let cases: [Break; 5] = [
        |b| {
            b.src(0).columns[1].name = "id".into();
            "source customers, column id: two columns have this name".into()
        },
        |b| {
            let c = &mut b.src(0).columns[3];
            c.parent = Some(3);
            format!(
                "source customers, column {}: its parent 3 does not come before it",
                c.name
            )
        },
        |b| {
            b.src(0).key_column = Some(3);
            "source customers, key column: must be a top-level column".into()
        },
        |b| {
            b.src(0).event_time_column = Some(1);
            "source customers: the event_time column is not a timestamp or date".into()
        },
        |b| {
            b.src(0).columns[2].ty = T::Text;
            "source customers, column patient: has fields but is not a struct".into()
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let mut b = nested_bundle();
        let expected = case(&mut b);
        let got = pol_runtime::bundle::verify::verify(&b.b).map(|_| ());
        assert_eq!(got.map_err(|e| e.to_string()), Err(expected), "case {i}");
    }
}
