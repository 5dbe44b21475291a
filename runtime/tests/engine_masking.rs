//! Column decisions: exemptions, candidate lists, audiences, masking, visibility, levels,
//! `expr(…)` techniques and technique contexts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use engine_support::*;
use pol_runtime::bundle::{RowAudience, RowFilter};
use pol_runtime::{ColumnType as T, Technique, Value};
use serde_json::json;

// ---- 1. exempt --------------------------------------------------------------------------

fn exempt_bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "claims",
        &[("id", T::Int), ("ssn", T::Text), ("amount", T::Decimal)],
    );
    b.src(s).key_column = Some(0);
    let auditors = b.prog(in_group("auditors"));
    let clearance = b.subject_field("clearance", T::Int);
    let cleared = b.prog(bin(
        pol_runtime::program::Op::Gt,
        E::UserField(clearance),
        int(3),
    ));
    b.src(s).exempts = vec![auditors, cleared];
    let null = b.tech(Technique::Null);
    let r = b.rule("null_ssn");
    b.add_candidate(s, "ssn", r, None, everyone(null));
    let r2 = b.rule("lock");
    b.row_rule(s, r2, RowFilter::Never, RowAudience::Everyone);
    b
}

#[test]
fn exempt_user_sees_every_row_in_clear() {
    let e = exempt_bundle().engine();
    let row = json!({"id": 1, "ssn": "123-45-6789", "amount": 10.5});
    assert_masks(
        &e,
        "claims",
        &[
            (
                json!({"groups": ["auditors"]}),
                row.clone(),
                Some(json!({"id": 1, "ssn": "123-45-6789", "amount": 10.5})),
            ),
            // Any exempt condition suffices.
            (
                json!({"clearance": 5}),
                row.clone(),
                Some(json!({"id": 1, "ssn": "123-45-6789", "amount": 10.5})),
            ),
        ],
    );
}

#[test]
fn not_exempt_when_conditions_false_or_unknown() {
    let e = exempt_bundle().engine();
    let row = json!({"id": 1, "ssn": "123-45-6789"});
    assert_masks(
        &e,
        "claims",
        &[
            (json!({"groups": ["staff"]}), row.clone(), None),
            // clearance missing → unknown → not exempt.
            (json!({}), row.clone(), None),
            // clearance of the wrong type counts as missing.
            (json!({"clearance": "high"}), row.clone(), None),
            (json!({"clearance": 2}), row, None),
        ],
    );
}

#[test]
fn exempt_user_still_gets_null_for_mistyped_cells() {
    let e = exempt_bundle().engine();
    assert_eq!(
        mask(
            &e,
            json!({"groups": ["auditors"]}),
            "claims",
            json!({"id": "one", "ssn": 5})
        ),
        Some(json!({"id": null, "ssn": null, "amount": null}))
    );
}

// ---- 2. candidate lists ------------------------------------------------------------------

/// The contract's §4/§6 example: `null_pii` (PII → null) and `hash_us_ssn` (PII.SSN where
/// country == "US" → hash, except admins); PII.SSN is deeper, so `hash_us_ssn` comes first.
fn ssn_bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "customers",
        &[
            ("id", T::Int),
            ("ssn", T::Text),
            ("country", T::Text),
            ("name", T::Text),
        ],
    );
    b.src(s).key_column = Some(0);
    let hash = b.tech(Technique::Hash { global: false });
    let null = b.tech(Technique::Null);
    let us = b.prog(eq(col(2), text("US")));
    let admins = b.prog(in_group("admins"));
    let hash_us = b.rule("hash_us_ssn");
    let null_pii = b.rule("null_pii");
    b.add_candidate(s, "ssn", hash_us, Some(us), except(admins, hash));
    b.add_candidate(s, "ssn", null_pii, None, everyone(null));
    b.add_candidate(s, "name", null_pii, None, everyone(null));
    b
}

fn is_hex64(v: &serde_json::Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 64
            && s.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    })
}

#[test]
fn where_false_passes_to_the_next_rule() {
    let e = ssn_bundle().engine();
    let out = mask(
        &e,
        anyone(),
        "customers",
        json!({"id": 1, "ssn": "123-45-6789", "country": "FR", "name": "Jo"}),
    );
    assert_eq!(
        out,
        Some(json!({"id": 1, "ssn": null, "country": "FR", "name": null}))
    );
    // Admins get no exception from null_pii.
    let out = mask(
        &e,
        json!({"groups": ["admins"]}),
        "customers",
        json!({"id": 1, "ssn": "123-45-6789", "country": "FR"}),
    );
    assert_eq!(
        out,
        Some(json!({"id": 1, "ssn": null, "country": "FR", "name": null}))
    );
}

#[test]
fn where_true_lets_the_rule_decide() {
    let e = ssn_bundle().engine();
    let out = mask(
        &e,
        anyone(),
        "customers",
        json!({"id": 1, "ssn": "123-45-6789", "country": "US"}),
    )
    .unwrap();
    assert!(is_hex64(&out["ssn"]), "{out}");
    let admin = mask(
        &e,
        json!({"groups": ["admins"]}),
        "customers",
        json!({"id": 1, "ssn": "123-45-6789", "country": "US"}),
    );
    assert_eq!(
        admin,
        Some(json!({"id": 1, "ssn": "123-45-6789", "country": "US", "name": null}))
    );
}

#[test]
fn where_unknown_lets_the_rule_decide() {
    let e = ssn_bundle().engine();
    // country null → where unknown → hash_us_ssn decides (hash for non-admins, clear for admins).
    let out = mask(
        &e,
        anyone(),
        "customers",
        json!({"id": 1, "ssn": "123-45-6789", "country": null}),
    )
    .unwrap();
    assert!(is_hex64(&out["ssn"]));
    let out = mask(
        &e,
        json!({"groups": ["admins"]}),
        "customers",
        json!({"id": 1, "ssn": "1"}),
    )
    .unwrap();
    assert_eq!(out["ssn"], json!("1"));
}

#[test]
fn hash_is_deterministic_per_source() {
    let e = ssn_bundle().engine();
    let a = mask(
        &e,
        anyone(),
        "customers",
        json!({"id": 1, "ssn": "123-45-6789", "country": "US"}),
    )
    .unwrap();
    let b = mask(
        &e,
        json!({"login": "other"}),
        "customers",
        json!({"id": 2, "ssn": "123-45-6789", "country": "US"}),
    )
    .unwrap();
    assert_eq!(a["ssn"], b["ssn"]);
}

#[test]
fn except_condition_unknown_masks() {
    let mut b = B::new();
    let s = b.source("t", &[("a", T::Text)]);
    let clearance = b.subject_field("clearance", T::Int);
    let cleared = b.prog(bin(
        pol_runtime::program::Op::Ge,
        E::UserField(clearance),
        int(3),
    ));
    let redact = b.tech(Technique::Redact);
    let r = b.rule("r");
    b.add_candidate(s, "a", r, None, except(cleared, redact));
    let e = b.engine();
    assert_masks(
        &e,
        "t",
        &[
            (
                json!({"clearance": 3}),
                json!({"a": "x"}),
                Some(json!({"a": "x"})),
            ),
            (
                json!({"clearance": 1}),
                json!({"a": "x"}),
                Some(json!({"a": "*******"})),
            ),
            (json!({}), json!({"a": "x"}), Some(json!({"a": "*******"}))),
            (
                json!({"clearance": null}),
                json!({"a": "x"}),
                Some(json!({"a": "*******"})),
            ),
        ],
    );
}

/// `research_email` from §4: who acting under Research → hash; who has role agent →
/// email_mask; otherwise null.
fn who_bundle(otherwise: Option<Option<Technique>>) -> B {
    let mut b = B::new();
    let s = b.source("customers", &[("id", T::Int), ("email", T::Text)]);
    b.src(s).key_column = Some(0);
    b.purpose("Research.Marketing");
    let hash = b.tech(Technique::Hash { global: false });
    let email = b.tech(Technique::EmailMask);
    let research = b.prog(E::ActingUnder("Research".into()));
    let agent = b.prog(has_role("agent"));
    let otherwise = otherwise.map(|o| o.map(|t| b.tech(t)));
    let r = b.rule("research_email");
    b.add_candidate(
        s,
        "email",
        r,
        None,
        who(&[(research, hash), (agent, email)], otherwise),
    );
    b
}

#[test]
fn who_clauses_first_true_wins() {
    let e = who_bundle(Some(Some(Technique::Null))).engine();
    let row = json!({"id": 1, "email": "jenny@example.com"});
    let agent = mask(&e, json!({"roles": ["agent"]}), "customers", row.clone());
    assert_eq!(agent, Some(json!({"id": 1, "email": "*******.com"})));
    let both = mask(
        &e,
        json!({"roles": ["agent"], "purposes": ["Research.Marketing"]}),
        "customers",
        row.clone(),
    )
    .unwrap();
    assert!(is_hex64(&both["email"]));
    let research = mask(
        &e,
        json!({"purposes": ["Research"]}),
        "customers",
        row.clone(),
    )
    .unwrap();
    assert_eq!(research["email"], both["email"]);
    let none = mask(&e, json!({"roles": ["clerk"]}), "customers", row);
    assert_eq!(none, Some(json!({"id": 1, "email": null})));
}

#[test]
fn who_otherwise_unmasked_and_otherwise_technique() {
    let e = who_bundle(Some(None)).engine();
    let row = json!({"id": 1, "email": "jenny@example.com"});
    assert_eq!(
        mask(&e, json!({}), "customers", row.clone()),
        Some(json!({"id": 1, "email": "jenny@example.com"}))
    );
    let e = who_bundle(Some(Some(Technique::Redact))).engine();
    assert_eq!(
        mask(&e, json!({}), "customers", row),
        Some(json!({"id": 1, "email": "*******"}))
    );
}

#[test]
fn who_unknown_masks_with_null_and_stops() {
    let mut b = B::new();
    let s = b.source("t", &[("email", T::Text)]);
    let clearance = b.subject_field("clearance", T::Int);
    let cleared = b.prog(bin(
        pol_runtime::program::Op::Gt,
        E::UserField(clearance),
        int(3),
    ));
    let agent = b.prog(has_role("agent"));
    let stars = b.tech(Technique::Stars);
    let email = b.tech(Technique::EmailMask);
    let r = b.rule("r");
    b.add_candidate(
        s,
        "email",
        r,
        None,
        who(&[(cleared, stars), (agent, email)], Some(None)),
    );
    let e = b.engine();
    let row = json!({"email": "jenny@example.com"});
    // First clause unknown: null, even though the second clause holds and otherwise is clear.
    assert_masks(
        &e,
        "t",
        &[
            (
                json!({"roles": ["agent"]}),
                row.clone(),
                Some(json!({"email": null})),
            ),
            (json!({}), row.clone(), Some(json!({"email": null}))),
            // First clause false: the second decides.
            (
                json!({"clearance": 1, "roles": ["agent"]}),
                row.clone(),
                Some(json!({"email": "*******.com"})),
            ),
            (
                json!({"clearance": 1}),
                row.clone(),
                Some(json!({"email": "jenny@example.com"})),
            ),
            (
                json!({"clearance": 9}),
                row,
                Some(json!({"email": "*****************"})),
            ),
        ],
    );
}

#[test]
fn no_candidate_or_all_where_false_is_clear() {
    let mut b = B::new();
    let s = b.source("t", &[("a", T::Text), ("b", T::Text), ("flag", T::Bool)]);
    let null = b.tech(Technique::Null);
    let w1 = b.prog(eq(col(2), boolean(true)));
    let w2 = b.prog(eq(col(0), text("secret")));
    let r1 = b.rule("r1");
    let r2 = b.rule("r2");
    b.add_candidate(s, "b", r1, Some(w1), everyone(null));
    b.add_candidate(s, "b", r2, Some(w2), everyone(null));
    let e = b.engine();
    assert_masks(
        &e,
        "t",
        &[
            (
                anyone(),
                json!({"a": "x", "b": "y", "flag": false}),
                Some(json!({"a": "x", "b": "y", "flag": false})),
            ),
            (
                anyone(),
                json!({"a": "x", "b": "y", "flag": true}),
                Some(json!({"a": "x", "b": null, "flag": true})),
            ),
            (
                anyone(),
                json!({"a": "secret", "b": "y", "flag": false}),
                Some(json!({"a": "secret", "b": null, "flag": false})),
            ),
            // flag null → first where unknown → decides.
            (
                anyone(),
                json!({"a": "x", "b": "y"}),
                Some(json!({"a": "x", "b": null, "flag": null})),
            ),
        ],
    );
}

#[test]
fn user_only_where_is_specialised_like_a_row_where() {
    // A `where` reading only the user: false skips, true decides.
    let mut b = B::new();
    let s = b.source("t", &[("a", T::Text)]);
    let w = b.prog(in_group("eu"));
    let stars = b.tech(Technique::Stars);
    let null = b.tech(Technique::Null);
    let r1 = b.rule("r1");
    let r2 = b.rule("r2");
    b.add_candidate(s, "a", r1, Some(w), everyone(stars));
    b.add_candidate(s, "a", r2, None, everyone(null));
    let e = b.engine();
    assert_masks(
        &e,
        "t",
        &[
            (
                json!({"groups": ["eu"]}),
                json!({"a": "abc"}),
                Some(json!({"a": "***"})),
            ),
            (
                json!({"groups": []}),
                json!({"a": "abc"}),
                Some(json!({"a": null})),
            ),
        ],
    );
}

#[test]
fn row_dependent_audience() {
    // `for everyone except row.owner == user.login`.
    let mut b = B::new();
    let s = b.source("notes", &[("owner", T::Text), ("body", T::Text)]);
    let own = b.prog(eq(col(0), E::Login));
    let redact = b.tech(Technique::Redact);
    let r = b.rule("own_notes");
    b.add_candidate(s, "body", r, None, except(own, redact));
    let e = b.engine();
    assert_masks(
        &e,
        "notes",
        &[
            (
                json!({"login": "amy"}),
                json!({"owner": "amy", "body": "hi"}),
                Some(json!({"owner": "amy", "body": "hi"})),
            ),
            (
                json!({"login": "bob"}),
                json!({"owner": "amy", "body": "hi"}),
                Some(json!({"owner": "amy", "body": "*******"})),
            ),
            // No login: unknown → masked.
            (
                json!({}),
                json!({"owner": "amy", "body": "hi"}),
                Some(json!({"owner": "amy", "body": "*******"})),
            ),
        ],
    );
}

// ---- 3. masking, type mismatches, dropped and missing columns, order ----------------------

#[test]
fn technique_error_masks_with_null() {
    let mut b = B::new();
    let s = b.source("t", &[("n", T::Int), ("s", T::Text)]);
    let show = b.tech(Technique::ShowLast(2));
    let round = b.tech(Technique::Round(5.0));
    let r = b.rule("r");
    b.add_candidate(s, "n", r, None, everyone(show)); // show_last on an int fails
    b.add_candidate(s, "s", r, None, everyone(round)); // round on a text fails
    let e = b.engine();
    assert_eq!(
        mask(&e, anyone(), "t", json!({"n": 1234, "s": "abc"})),
        Some(json!({"n": null, "s": null}))
    );
}

#[test]
fn mistyped_cells_are_null_whatever_the_rules() {
    let mut b = B::new();
    let s = b.source(
        "t",
        &[
            ("i", T::Int),
            ("d", T::Date),
            ("e", T::Enum(vec!["MD".into(), "VA".into()])),
            ("x", T::Decimal),
        ],
    );
    let _ = s;
    let e = b.engine();
    assert_masks(
        &e,
        "t",
        &[
            (
                anyone(),
                json!({"i": 1.5, "d": "yesterday", "e": "TX", "x": 3}),
                Some(json!({"i": null, "d": null, "e": null, "x": 3.0})),
            ),
            (
                anyone(),
                json!({"i": 7, "d": "1988-07-14", "e": "VA", "x": "3"}),
                Some(json!({"i": 7, "d": "1988-07-14", "e": "VA", "x": null})),
            ),
        ],
    );
}

#[test]
fn undeclared_columns_dropped_missing_null_declaration_order() {
    let mut b = B::new();
    let s = b.source("t", &[("b", T::Text), ("a", T::Int), ("c", T::Bool)]);
    b.derived(
        s,
        "ab",
        T::Text,
        E::Concat(vec![col(0), text("-"), col(1)]),
        &["b", "a"],
    );
    let e = b.engine();
    let out = mask_pairs(
        &e,
        anyone(),
        "t",
        json!({"zzz": 1, "a": 2, "b": "x", "ab": "forged"}),
    )
    .unwrap();
    assert_eq!(
        out,
        vec![
            ("b".to_owned(), json!("x")),
            ("a".to_owned(), json!(2)),
            ("c".to_owned(), json!(null)),
            ("ab".to_owned(), json!("x-2")),
        ]
    );
}

#[test]
fn mask_values_takes_stored_columns_and_returns_all() {
    let mut b = B::new();
    let s = b.source("t", &[("a", T::Text), ("n", T::Decimal)]);
    b.derived(
        s,
        "up",
        T::Text,
        E::Un(pol_runtime::program::Op::Upper, Box::new(col(0))),
        &["a"],
    );
    let stars = b.tech(Technique::Stars);
    let r = b.rule("r");
    b.add_candidate(s, "a", r, None, everyone(stars));
    let e = b.engine();
    let session = e.session(&anyone(), t0()).unwrap();
    let src = session.source("t").unwrap();
    assert_eq!(src.input_columns(), vec!["a", "n"]);
    assert_eq!(src.columns(), vec!["a", "n", "up"]);
    assert_eq!(
        src.mask_values(&[Value::Text("ab".into()), Value::Int(2)]),
        Some(vec![
            Value::Text("**".into()),
            Value::Decimal(2.0),
            Value::Null
        ])
    );
    // A value of the wrong type is null; missing trailing values are null.
    assert_eq!(
        src.mask_values(&[Value::Int(1)]),
        Some(vec![Value::Null, Value::Null, Value::Null])
    );
}

/// Typed rows whose values all conform are read in place (no decoding); every other row is
/// decoded. Both give what the JSON path gives: hidden rows, masked cells, missing trailing
/// values null, extra values ignored, mismatched values null, and the derived column null.
#[test]
fn typed_rows_read_in_place_mask_like_decoded_rows() {
    let mut b = B::new();
    let s = b.source("t", &[("a", T::Text), ("n", T::Int), ("k", T::Text)]);
    b.derived(
        s,
        "up",
        T::Text,
        E::Un(pol_runtime::program::Op::Upper, Box::new(col(0))),
        &["a"],
    );
    let stars = b.tech(Technique::Stars);
    let null = b.tech(Technique::Null);
    let small = b.prog(lt(col(1), int(5)));
    let r = b.rule("small_a");
    b.add_candidate(s, "a", r, Some(small), everyone(stars));
    let r = b.rule("no_up");
    b.add_candidate(s, "up", r, None, everyone(null));
    let only_x = b.prog(eq(col(2), text("x")));
    let r = b.rule("only_x");
    b.row_rule(s, r, RowFilter::Where(only_x), RowAudience::Everyone);
    let e = b.engine();
    let session = e.session(&anyone(), t0()).unwrap();
    let src = session.source("t").unwrap();
    let t = |s: &str| Value::Text(s.into());
    let rows = [
        vec![t("ab"), Value::Int(2), t("x")],
        vec![t("ab"), Value::Int(9), t("x")],
        vec![t("ab"), Value::Int(9), t("y")],
        vec![t("ab"), Value::Int(9)],
        vec![t("ab"), Value::Int(2), t("x"), t("extra"), Value::Int(1)],
        vec![Value::Int(1), Value::Int(9), t("x")],
        vec![t("ab"), t("2"), t("x")],
        vec![Value::Null, Value::Null, t("x")],
        vec![],
    ];
    let expected = [
        Some(vec![t("**"), Value::Int(2), t("x"), Value::Null]),
        Some(vec![t("ab"), Value::Int(9), t("x"), Value::Null]),
        None,
        None,
        Some(vec![t("**"), Value::Int(2), t("x"), Value::Null]),
        Some(vec![Value::Null, Value::Int(9), t("x"), Value::Null]),
        // `n` does not conform: null, and the `where` reading it is unknown, so the rule masks.
        Some(vec![t("**"), Value::Null, t("x"), Value::Null]),
        Some(vec![Value::Null, Value::Null, t("x"), Value::Null]),
        None,
    ];
    for (row, want) in rows.iter().zip(expected) {
        let got = src.mask_values(row);
        assert_eq!(got, want, "{row:?}");
        assert_eq!(src.row_shown_values(row), want.is_some(), "{row:?}");
        let object: serde_json::Map<String, serde_json::Value> = ["a", "n", "k"]
            .iter()
            .zip(row)
            .map(|(c, v)| ((*c).to_owned(), v.to_json()))
            .collect();
        let json = src
            .mask_json(&object)
            .map(|cells| cells.into_iter().map(|(_, v)| v).collect::<Vec<_>>());
        let typed = got.map(|cells| cells.iter().map(Value::to_json).collect::<Vec<_>>());
        assert_eq!(typed, json, "{row:?}");
        assert_eq!(src.row_shown(&object), want.is_some(), "{row:?}");
    }
}

// ---- 4. visibility -------------------------------------------------------------------------

#[test]
fn visibility_rules() {
    let mut b = B::new();
    let s = b.source(
        "customers",
        &[
            ("id", T::Int),
            ("first", T::Text),
            ("last", T::Text),
            ("both", T::Text),
            ("plain", T::Text),
            ("unk", T::Text),
        ],
    );
    let admin = b.prog(login_is("admin"));
    let staff = b.prog(in_group("staff"));
    let clearance = b.subject_field("clearance", T::Int);
    let cleared = b.prog(bin(
        pol_runtime::program::Op::Gt,
        E::UserField(clearance),
        int(1),
    ));
    let null = b.tech(Technique::Null);
    let acc = b.rule("customers.first accessible if");
    {
        let src = b.src(s);
        src.columns[1].accessible = Some(admin);
        src.columns[2].visible = Some(admin);
        src.columns[3].visible = Some(staff);
        src.columns[3].accessible = Some(admin);
        src.columns[5].visible = Some(cleared);
    }
    b.add_candidate(s, "first", acc, None, except(admin, null));
    let e = b.engine();
    let vis = |subject: serde_json::Value| {
        let session = e.session(&subject, t0()).unwrap();
        let src = session.source("customers").unwrap();
        src.visible_columns()
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        vis(json!({"login": "admin"})),
        vec!["id", "first", "last", "plain"]
    );
    assert_eq!(
        vis(json!({"login": "bob", "groups": ["staff"]})),
        vec!["id", "both", "plain"]
    );
    assert_eq!(
        vis(json!({"login": "bob", "clearance": 2})),
        vec!["id", "plain", "unk"]
    );
    // clearance missing → unknown → not visible.
    assert_eq!(vis(json!({})), vec!["id", "plain"]);
    // Visibility never changes a value: `last` is invisible to bob but still output clear,
    // `first` is masked by its accessible-if rule.
    assert_eq!(
        mask(
            &e,
            json!({"login": "bob"}),
            "customers",
            json!({"id": 1, "first": "Jo", "last": "Do", "unk": "u"})
        ),
        Some(
            json!({"id": 1, "first": null, "last": "Do", "both": null, "plain": null, "unk": "u"})
        )
    );
}

// ---- 8. masking levels ---------------------------------------------------------------------

fn level_bundle(with_low: bool) -> B {
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
    b.level(s, 1, Some("masking_level"));
    let null = b.tech(Technique::Null);
    let age = b.tech(Technique::AgeRange {
        size: 10,
        max: Some(70),
    });
    let year = b.tech(Technique::YearOnly { max: None });
    let mut entries = vec![(0, null), (1, age)];
    if with_low {
        entries.push((2, year));
    }
    let lvl = b.by_level(&entries);
    let viewer = b.prog(has_role("ViewMaskedData"));
    let r = b.rule("birth");
    b.add_candidate(s, "birth_date", r, None, except(viewer, lvl));
    b
}

/// The masked `birth_date` of participant 1 (born 1990-06-01) at masking level `level`.
fn birth_date_at(
    e: &pol_runtime::Engine,
    subject: serde_json::Value,
    level: serde_json::Value,
) -> serde_json::Value {
    let row = json!({"id": 1, "birth_date": "1990-06-01", "masking_level": level});
    mask(e, subject, "participants", row).expect("shown")["birth_date"].clone()
}

#[test]
fn by_level_picks_the_rows_level() {
    let e = level_bundle(true).engine();
    let cases = [
        (json!("Low"), json!("1990")),
        (json!("Medium"), json!("30-40")),
        (json!("High"), json!(null)),
        // Null → the source's default level (Medium).
        (json!(null), json!("30-40")),
        // Not a declared level → the highest.
        (json!("Bogus"), json!(null)),
    ];
    for (level, expected) in cases {
        assert_eq!(
            birth_date_at(&e, anyone(), level.clone()),
            expected,
            "{level}"
        );
    }
    // Exception holds → clear.
    let viewer = json!({"roles": ["ViewMaskedData"]});
    assert_eq!(
        birth_date_at(&e, viewer, json!("High")),
        json!("1990-06-01")
    );
}

#[test]
fn by_level_missing_entry_uses_the_highest() {
    let e = level_bundle(false).engine();
    assert_eq!(birth_date_at(&e, anyone(), json!("Low")), json!(null));
}

#[test]
fn by_level_without_level_column_uses_default_or_highest() {
    // No level column: the default level (Low), or without a level plan the highest.
    let default_low = Some(pol_runtime::bundle::LevelPlan {
        default: 2,
        column: None,
    });
    for (plan, level, expected) in [
        (default_low, json!("High"), json!("1990")),
        (None, json!("Low"), json!(null)),
    ] {
        let mut b = level_bundle(true);
        b.b.sources[0].level = plan;
        assert_eq!(birth_date_at(&b.engine(), anyone(), level), expected);
    }
}

// ---- 9. expr(…) techniques ------------------------------------------------------------------

#[test]
fn expr_technique_sees_value_row_and_user() {
    let mut b = B::new();
    let s = b.source("t", &[("a", T::Text), ("country", T::Text), ("n", T::Int)]);
    let t1 = b.expr_tech(E::Concat(vec![
        E::Val,
        text("/"),
        col(1),
        text("/"),
        E::Login,
    ]));
    let t2 = b.expr_tech(bin(pol_runtime::program::Op::Add, E::Val, int(1)));
    let t3 = b.expr_tech(if_(lt(E::Val, int(10)), text("small"), text("big")));
    let r = b.rule("r");
    b.add_candidate(s, "a", r, None, everyone(t1));
    b.add_candidate(s, "country", r, None, everyone(t2)); // text + 1: error → null
    b.add_candidate(s, "n", r, None, everyone(t3));
    let e = b.engine();
    assert_masks(
        &e,
        "t",
        &[
            (
                json!({"login": "amy"}),
                json!({"a": "x", "country": "FR", "n": 3}),
                Some(json!({"a": "x/FR/amy", "country": null, "n": "small"})),
            ),
            (
                json!({"login": "amy"}),
                json!({"a": "x", "country": "FR", "n": 30}),
                Some(json!({"a": "x/FR/amy", "country": null, "n": "big"})),
            ),
            // No login: the concatenation is unknown → null; value null → `null < 10` is unknown, so
            // the whole `if` is unknown → null.
            (
                json!({}),
                json!({"a": "x"}),
                Some(json!({"a": null, "country": null, "n": null})),
            ),
        ],
    );
}

// ---- 10. technique contexts ---------------------------------------------------------------------

#[test]
fn hash_differs_across_sources_noise_is_seeded_by_row() {
    let mut b = B::new();
    let s1 = b.source("one", &[("id", T::Int), ("v", T::Text), ("x", T::Decimal)]);
    let s2 = b.source("two", &[("id", T::Int), ("v", T::Text), ("x", T::Decimal)]);
    let hash = b.tech(Technique::Hash { global: false });
    let global = b.tech(Technique::Hash { global: true });
    let noise = b.tech(Technique::Noise(5.0));
    let r = b.rule("r");
    for s in [s1, s2] {
        b.src(s).key_column = Some(0);
        b.add_candidate(s, "v", r, None, everyone(hash));
        b.add_candidate(s, "x", r, None, everyone(noise));
    }
    let s3 = b.source("three", &[("v", T::Text)]);
    b.add_candidate(s3, "v", r, None, everyone(global));
    let s4 = b.source("four", &[("v", T::Text)]);
    b.add_candidate(s4, "v", r, None, everyone(global));
    let e = b.engine();
    let row = json!({"id": 7, "v": "same", "x": 100.0});
    let a = mask(&e, anyone(), "one", row.clone()).unwrap();
    let b2 = mask(&e, json!({"login": "x"}), "two", row.clone()).unwrap();
    assert_ne!(a["v"], b2["v"]);
    let again = mask(&e, json!({"login": "y"}), "one", row.clone()).unwrap();
    assert_eq!(a, again, "same row, same noise and hash, whoever asks");
    let other_row = mask(
        &e,
        anyone(),
        "one",
        json!({"id": 8, "v": "same", "x": 100.0}),
    )
    .unwrap();
    assert_eq!(other_row["v"], a["v"]);
    assert_ne!(other_row["x"], a["x"]);
    let g3 = mask(&e, anyone(), "three", json!({"v": "same"})).unwrap();
    let g4 = mask(&e, anyone(), "four", json!({"v": "same"})).unwrap();
    assert_eq!(g3["v"], g4["v"]);
    // No key value: noise cannot be seeded → null.
    let nokey = mask(&e, anyone(), "one", json!({"v": "same", "x": 100.0})).unwrap();
    assert_eq!(nokey["x"], json!(null));
}

#[test]
fn keyed_techniques_need_a_key_at_load() {
    let b = ssn_bundle();
    let bytes = b.b.to_bytes().unwrap();
    let err = pol_runtime::Engine::load(&bytes, None).unwrap_err();
    assert!(
        matches!(err, pol_runtime::LoadError::MissingKey { name: "hash", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("needs a masking key"), "{err}");
    // Without keyed techniques no key is needed.
    let b = who_bundle(Some(None));
    let mut plain = b.b.clone();
    plain.techniques[0] = pol_runtime::bundle::TechniquePlan::Builtin(Technique::Redact);
    assert!(pol_runtime::Engine::load(&plain.to_bytes().unwrap(), None).is_ok());
}

#[test]
fn subject_must_be_an_object() {
    let e = ssn_bundle().engine();
    let err = e.session(&json!([1]), t0()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the subject must be a JSON object, found array"
    );
    assert!(e
        .session(&json!({}), t0())
        .unwrap()
        .source("nope")
        .is_none());
}
