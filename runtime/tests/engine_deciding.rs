//! Which condition decided: each explained condition's value, its minimal deciding parts and
//! the values they read (issue 13 item 11), with cells withheld where the subject does not see
//! them clear.

use crate::engine_support;

use engine_support::*;
use pol_runtime::bundle::{RowAudience, RowFilter, RowOtherwise};
use pol_runtime::engine::{
    CellExplanation, ConditionExplanation, ConditionRole, Reason, RowExplanation,
};
use pol_runtime::program::shape::{NodeKind, Shape};
use pol_runtime::program::{Op, Program, Tri};
use pol_runtime::{ColumnType as T, Technique, Value};
use proptest::prelude::*;
use serde_json::json;

fn explain(b: &B, subject: serde_json::Value, row: serde_json::Value) -> RowExplanation {
    let e = b.engine();
    let session = e.session(&subject, t0()).unwrap();
    let src = session.source("customers").unwrap();
    src.explain(row.as_object().unwrap())
}

fn cell<'a>(ex: &'a RowExplanation, column: &str) -> &'a CellExplanation {
    ex.cells.iter().find(|c| c.column == column).unwrap()
}

/// customers { id, ssn, country, region }: `ssn` hashed where `row.country == "US" and
/// row.region != "west"`, except for privacy officers and HR; else null; `region` null except
/// for auditors; rows hidden unless `row.country in ["US", "FR"]` for everyone except auditors.
fn bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "customers",
        &[
            ("id", T::Int),
            ("ssn", T::Text),
            ("country", T::Text),
            ("region", T::Text),
        ],
    );
    b.src(s).key_column = Some(0);
    let hash = b.tech(Technique::Hash { global: false });
    let null = b.tech(Technique::Null);
    let us = b.prog(and(eq(col(2), text("US")), ne(col(3), text("west"))));
    let officers = b.prog(or(has_role("privacy_officer"), in_group("hr")));
    let r1 = b.rule("hash_us_ssn");
    let r2 = b.rule("null_pii");
    b.add_candidate(s, "ssn", r1, Some(us), except(officers, hash));
    b.add_candidate(s, "ssn", r2, None, everyone(null));
    let auditors = b.prog(in_group("auditors"));
    b.add_candidate(s, "region", r2, None, except(auditors, null));
    let listed = b.prog(E::Bin(
        Op::In,
        Box::new(col(2)),
        Box::new(E::Const(Value::List(vec![
            Value::Text("US".into()),
            Value::Text("FR".into()),
        ]))),
    ));
    let rr = b.rule("listed_countries");
    b.row_rule(
        s,
        rr,
        RowFilter::Where(listed),
        RowAudience::Except(auditors),
    );
    b
}

fn agent() -> serde_json::Value {
    json!({"login": "amy", "roles": ["support", "regional_analyst"], "groups": ["agents"]})
}

#[test]
fn an_exception_reports_its_false_disjuncts_with_the_users_roles_and_groups() {
    let ex = explain(
        &bundle(),
        agent(),
        json!({"id": 1, "ssn": "123-45-6789", "country": "US", "region": "east"}),
    );
    insta::assert_snapshot!(ex.to_string());
    let why = &cell(&ex, "ssn").why;
    let except = why
        .iter()
        .find(|c| c.role == ConditionRole::Except)
        .unwrap();
    assert_eq!(except.value, "false");
    let parts: Vec<(&str, &str)> = except
        .deciding
        .iter()
        .map(|p| (p.text.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        parts,
        vec![
            ("user has role \"privacy_officer\"", "false"),
            ("user in group \"hr\"", "false"),
        ]
    );
    assert_eq!(
        except.deciding[0].facts[0].text,
        "the user's roles are support, regional_analyst"
    );
}

#[test]
fn a_false_conjunction_is_decided_by_its_first_false_conjunct_alone() {
    // Auditors see every cell the `where` reads clear.
    let ex = explain(
        &bundle(),
        json!({"groups": ["auditors"]}),
        json!({"id": 1, "ssn": "123-45-6789", "country": "FR", "region": "west"}),
    );
    let ssn = cell(&ex, "ssn");
    assert_eq!(ssn.reason, Reason::Everyone);
    let skipped = &ssn.why[0];
    assert_eq!(skipped.role, ConditionRole::Where);
    assert_eq!(skipped.rule.as_ref().unwrap().name, "hash_us_ssn");
    assert_eq!(
        skipped.text,
        "row.country == \"US\" and row.region != \"west\""
    );
    assert_eq!(skipped.deciding.len(), 1);
    assert_eq!(skipped.deciding[0].text, "row.country == \"US\"");
    assert_eq!(skipped.deciding[0].value, "false");
    // `country` is clear for this user: its value is shown.
    assert_eq!(skipped.deciding[0].facts[0].text, "row.country is \"FR\"");
    assert_eq!(skipped.deciding[0].facts[0].value, Some(json!("FR")));
}

#[test]
fn a_condition_reading_a_masked_cell_is_reported_whole_without_its_value() {
    // `row.region` is masked for agents: the `where` reading it is not taken apart (its
    // conjunct `row.region != "west"` alone being false would say the region is west).
    let ex = explain(
        &bundle(),
        agent(),
        json!({"id": 1, "ssn": "1", "country": "US", "region": "west"}),
    );
    let ssn = cell(&ex, "ssn");
    let w = ssn
        .why
        .iter()
        .find(|c| c.role == ConditionRole::Where)
        .unwrap();
    let json = serde_json::to_value(w).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&json).unwrap());
    assert_eq!(w.deciding.len(), 1);
    assert_eq!(w.deciding[0].text, w.text);
    let text = ex.to_string();
    assert!(
        !text.contains("\"west\" is") && !text.contains("region is \""),
        "{text}"
    );
}

#[test]
fn an_unknown_part_says_which_cell_is_null() {
    // Auditors see `region` clear; a null country makes the first conjunct unknown.
    let ex = explain(
        &bundle(),
        json!({"groups": ["auditors"]}),
        json!({"id": 1, "ssn": "1", "country": null, "region": "east"}),
    );
    let w = &cell(&ex, "ssn").why[0];
    assert_eq!(w.value, "unknown");
    assert_eq!(w.deciding.len(), 1);
    assert_eq!(w.deciding[0].text, "row.country == \"US\"");
    assert_eq!(
        w.deciding[0].unknown_because.as_deref(),
        Some("row.country is null")
    );
}

#[test]
fn a_hidden_row_withholds_every_cell() {
    let ex = explain(
        &bundle(),
        agent(),
        json!({"id": 1, "ssn": "1", "country": "DE", "region": "north"}),
    );
    assert!(!ex.shown);
    let rule = &ex.row_rules[0];
    let filter = rule
        .why
        .iter()
        .find(|c| c.role == ConditionRole::Filter)
        .unwrap();
    assert_eq!(filter.value, "false");
    assert_eq!(
        filter.deciding[0].facts[0].text,
        "row.country is withheld (the row is hidden from this user)"
    );
    assert_eq!(filter.deciding[0].facts[0].value, None);
    assert!(filter.deciding[0].facts[0].withheld);
    let text = ex.to_string();
    assert!(!text.contains("DE"), "{text}");
    assert!(!text.contains("north"), "{text}");
}

#[test]
fn who_clauses_otherwise_and_the_clock_are_explained() {
    let mut b = B::new();
    let s = b.source("customers", &[("id", T::Int), ("note", T::Text)]);
    b.src(s).key_column = Some(0);
    let null = b.tech(Technique::Null);
    let hash = b.tech(Technique::Hash { global: false });
    let late = b.prog(E::Bin(
        Op::Gt,
        Box::new(E::Now),
        Box::new(E::Const(Value::Timestamp(t0() + chrono::Duration::days(1)))),
    ));
    let region = b.subject_field("region", T::Text);
    let west = b.prog(eq(E::UserField(region), text("west")));
    let r = b.rule("notes");
    b.add_candidate(
        s,
        "note",
        r,
        None,
        who(&[(late, hash), (west, null)], Some(None)),
    );
    let ex = explain(&b, json!({}), json!({"id": 1, "note": "n"}));
    insta::assert_snapshot!(ex.to_string());
    let note = cell(&ex, "note");
    assert_eq!(note.reason, Reason::WhoUnknown);
    let roles: Vec<&ConditionRole> = note.why.iter().map(|c| &c.role).collect();
    assert_eq!(
        roles,
        vec![
            &ConditionRole::Who { clause: 0 },
            &ConditionRole::Who { clause: 1 }
        ]
    );
    assert_eq!(
        note.why[1].deciding[0].unknown_because.as_deref(),
        Some("the subject has no field `region` (a text value expected)")
    );
}

#[test]
fn an_exempt_subject_names_the_exempt_condition() {
    let mut b = bundle();
    let p = b.prog(login_is("root"));
    b.src(0).exempts.push(p);
    let ex = explain(&b, json!({"login": "root"}), json!({"id": 1}));
    let e: &ConditionExplanation = ex.exempt_why.as_ref().unwrap();
    assert_eq!(e.text, "user.login == \"root\"");
    assert_eq!(e.value, "true");
    assert_eq!(e.deciding[0].facts[0].text, "user.login is \"root\"");
    assert!(ex.row_rules.iter().all(|r| r.why.is_empty()));
}

#[test]
fn a_row_rules_who_and_otherwise_filters_are_explained() {
    let mut b = B::new();
    let s = b.source("customers", &[("id", T::Int), ("country", T::Text)]);
    b.src(s).key_column = Some(0);
    let fr = b.prog(eq(col(1), text("FR")));
    let us = b.prog(eq(col(1), text("US")));
    let eu = b.prog(has_role("eu_agent"));
    let r = b.rule("regional");
    b.row_rule(
        s,
        r,
        RowFilter::Where(fr),
        row_who(eu, RowOtherwise::Filter(RowFilter::Where(us))),
    );
    let ex = explain(&b, agent(), json!({"id": 1, "country": "US"}));
    assert!(ex.shown);
    let why: Vec<(String, String)> = ex.row_rules[0]
        .why
        .iter()
        .map(|c| (c.role.to_string(), format!("{} = {}", c.text, c.value)))
        .collect();
    assert_eq!(
        why,
        vec![
            (
                "audience".to_owned(),
                "user has role \"eu_agent\" = false".to_owned()
            ),
            (
                "filter".to_owned(),
                "row.country == \"US\" = true".to_owned()
            ),
        ]
    );
}

// ---- the deciding parts decide --------------------------------------------------------------

fn leaf() -> impl Strategy<Value = E> {
    prop_oneof![
        prop::sample::select(vec!["a", "b"]).prop_map(in_group),
        prop::sample::select(vec!["x", "y"]).prop_map(has_role),
        prop::sample::select(vec!["FR", "US"]).prop_map(|c| eq(col(1), text(c))),
        Just(null()),
        any::<bool>().prop_map(boolean),
    ]
}

fn condition() -> impl Strategy<Value = E> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| and(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| or(a, b)),
            inner.prop_map(not),
        ]
    })
}

fn subject() -> impl Strategy<Value = serde_json::Value> {
    (
        prop::sample::subsequence(vec!["a", "b"], 0..=2),
        prop::sample::subsequence(vec!["x", "y"], 0..=2),
        any::<bool>(),
    )
        .prop_map(|(g, r, malformed)| {
            if malformed {
                json!({"groups": "a", "roles": r})
            } else {
                json!({"groups": g, "roles": r})
            }
        })
}

/// `secret` masked with hash except where `p` holds; `country` clear.
/// `b` holds the strings `p` names.
fn except_bundle(mut b: B, p: Program) -> B {
    let s = b.source(
        "customers",
        &[("id", T::Int), ("country", T::Text), ("secret", T::Text)],
    );
    b.src(s).key_column = Some(0);
    let hash = b.tech(Technique::Hash { global: false });
    b.b.programs.push(p);
    let p = (b.b.programs.len() - 1) as u32;
    let r = b.rule("secret_rule");
    b.add_candidate(s, "secret", r, None, except(p, hash));
    b
}

fn tri(s: &str) -> Tri {
    match s {
        "true" => Tri::True,
        "false" => Tri::False,
        _ => Tri::Unknown,
    }
}

/// The value of node `i` when the deciding parts (by op range) have their reported values and
/// every other part is unknown (Kleene logic).
fn with_only(shape: &Shape, i: usize, parts: &[([u32; 2], Tri)]) -> Tri {
    let node = shape.node(i).unwrap();
    let range = [node.start as u32, node.end as u32];
    if let Some((_, t)) = parts.iter().find(|(r, _)| *r == range) {
        return *t;
    }
    let kid = |k: usize| with_only(shape, node.children[k], parts);
    match node.kind {
        NodeKind::Op(Op::And) => kid(0).and(kid(1)),
        NodeKind::Op(Op::Or) => kid(0).or(kid(1)),
        NodeKind::Op(Op::Not) => !kid(0),
        _ => Tri::Unknown,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The outcome reported is the rule's; each deciding part, evaluated alone by the engine,
    /// has the value reported; and the parts alone (everything else unknown) give the outcome.
    #[test]
    fn the_deciding_parts_alone_give_the_rules_outcome(
        e in condition(),
        s in subject(),
        country in prop::sample::select(vec![json!("FR"), json!("US"), json!(null)]),
    ) {
        let strings = || {
            let mut b = B::new();
            let p = b.compile(&e);
            (b, p)
        };
        let (b, program) = strings();
        let row = json!({"id": 1, "country": country, "secret": "s"});
        let ex = explain(&except_bundle(b, program.clone()), s.clone(), row.clone());
        let secret = cell(&ex, "secret");
        let c = &secret.why[0];
        prop_assert_eq!(c.role.clone(), ConditionRole::Except);
        let outcome = if secret.reason == Reason::ExceptionHeld { Tri::True } else {
            match &secret.reason {
                Reason::ExceptionNotHeld { condition } => tri(condition),
                other => panic!("{other:?}"),
            }
        };
        prop_assert_eq!(tri(&c.value), outcome);
        prop_assert!(!c.deciding.is_empty());
        let shape = Shape::of(&program).unwrap();
        let mut parts = Vec::new();
        for part in &c.deciding {
            // Alone: the part's ops as the exception of a bundle of their own.
            let root = shape
                .nodes
                .iter()
                .position(|n| [n.start as u32, n.end as u32] == part.ops)
                .unwrap();
            let alone = shape.program_of(&program, root).unwrap();
            let ex = explain(&except_bundle(strings().0, alone), s.clone(), row.clone());
            let again = &cell(&ex, "secret").why[0];
            prop_assert_eq!(&again.value, &part.value, "part {}", part.text);
            prop_assert_eq!(tri(&part.value) == Tri::Unknown, part.unknown_because.is_some());
            parts.push((part.ops, tri(&part.value)));
        }
        prop_assert_eq!(with_only(&shape, shape.root(), &parts), outcome);
    }
}

// ---- shapes of any program ------------------------------------------------------------------

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u32..3).prop_map(Op::Const),
        Just(Op::Roles),
        (0u32..2).prop_map(Op::InGroup),
        Just(Op::Eq),
        Just(Op::And),
        Just(Op::Or),
        Just(Op::Not),
        Just(Op::In),
        (0u32..12).prop_map(Op::JumpIfFalse),
        (0u32..12).prop_map(Op::JumpIfTrue),
        (0u32..12).prop_map(Op::Jump),
        (0u32..12, 0u32..12).prop_map(|(else_, end)| Op::Branch { else_, end }),
        (1u32..3).prop_map(Op::Concat),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any program, valid or not: taking it apart never panics, and a shape it has nests (each
    /// node's ops hold its children's, in order, and the root's are the whole program), each
    /// node's ops forming a program of their own.
    #[test]
    fn shapes_never_panic_and_nest(code in prop::collection::vec(any_op(), 1..12)) {
        let p = Program::new(code, vec![Value::Bool(true), Value::Null, Value::Text("a".into())]);
        let Some(shape) = Shape::of(&p) else { return Ok(()) };
        let root = shape.node(shape.root()).unwrap();
        prop_assert_eq!((root.start, root.end), (0, p.code.len()));
        for (i, n) in shape.nodes.iter().enumerate() {
            let mut at = n.start;
            for c in &n.children {
                let c = shape.node(*c).unwrap();
                prop_assert!(at <= c.start && c.end <= n.end);
                at = c.end;
            }
            let _ = shape.program_of(&p, i);
        }
    }
}
