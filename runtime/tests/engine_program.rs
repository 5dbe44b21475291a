//! The bytecode interpreter: three-valued logic, operators, built-ins, subject predicates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use chrono::{NaiveDate, TimeZone, Utc};
use engine_support::*;
use pol_runtime::engine::Subject;
use pol_runtime::program::interp::{run, ColumnPath, Env, Eval, PurposeTree, Row};
use pol_runtime::program::{stack_depth, Op, Program, Tri};
use pol_runtime::{ColumnType as T, Value};
use proptest::prelude::*;
use serde_json::json;

fn eval_in(b: &mut B, e: E, subject: serde_json::Value, row: &[Value]) -> Eval {
    let p = b.compile(&e);
    stack_depth(&p.code).expect("well-formed program");
    let regexes: Vec<_> =
        b.b.regexes
            .iter()
            .map(|r| regex::Regex::new(r).unwrap())
            .collect();
    let purposes = PurposeTree::new(
        b.b.purposes.iter().map(|p| p.name.clone()).collect(),
        b.b.purposes.iter().map(|p| p.parent).collect(),
    );
    let subject = Subject::from_json(&subject, &b.b.subject_fields, &purposes).unwrap();
    let paths: Vec<_> = (0..row.len())
        .map(|i| ColumnPath {
            top: i as u32,
            steps: Vec::new(),
        })
        .collect();
    let row: Vec<std::borrow::Cow<'_, Value>> =
        row.iter().map(std::borrow::Cow::Borrowed).collect();
    let env = Env {
        row: Row::Cells(&row),
        paths: &paths,
        value: None,
        subject: &subject,
        now: t0(),
        strings: &b.b.strings,
        regexes: &regexes,
        purposes: &purposes,
        tables: &pol_runtime::lookup::TableSnapshot::default(),
    };
    run(&p, &env)
}

fn ev(e: E) -> Eval {
    eval_in(&mut B::new(), e, json!({}), &[])
}

fn tri(e: E) -> Tri {
    ev(e).truth()
}

fn val(e: E) -> Value {
    match ev(e) {
        Eval::Value(v) => v,
        Eval::Unknown => panic!("unknown"),
    }
}

fn lit(t: Tri) -> E {
    match t {
        Tri::True => boolean(true),
        Tri::False => boolean(false),
        // A null operand is unknown.
        Tri::Unknown => eq(null(), int(1)),
    }
}

const ALL: [Tri; 3] = [Tri::True, Tri::False, Tri::Unknown];

#[test]
fn kleene_tables() {
    use Tri::*;
    let and_table = [
        (True, True, True),
        (True, False, False),
        (True, Unknown, Unknown),
        (False, True, False),
        (False, False, False),
        (False, Unknown, False),
        (Unknown, True, Unknown),
        (Unknown, False, False),
        (Unknown, Unknown, Unknown),
    ];
    let or_table = [
        (True, True, True),
        (True, False, True),
        (True, Unknown, True),
        (False, True, True),
        (False, False, False),
        (False, Unknown, Unknown),
        (Unknown, True, True),
        (Unknown, False, Unknown),
        (Unknown, Unknown, Unknown),
    ];
    for (a, b, want) in and_table {
        assert_eq!(a.and(b), want);
        // Short-circuit form and strict op agree.
        assert_eq!(tri(and(lit(a), lit(b))), want, "{a:?} and {b:?}");
        assert_eq!(tri(bin(Op::And, lit(a), lit(b))), want);
    }
    for (a, b, want) in or_table {
        assert_eq!(a.or(b), want);
        assert_eq!(tri(or(lit(a), lit(b))), want, "{a:?} or {b:?}");
        assert_eq!(tri(bin(Op::Or, lit(a), lit(b))), want);
    }
    for (a, want) in [(True, False), (False, True), (Unknown, Unknown)] {
        assert_eq!(tri(not(lit(a))), want);
    }
    // De Morgan holds in Kleene logic.
    for a in ALL {
        for b in ALL {
            assert_eq!(
                tri(not(and(lit(a), lit(b)))),
                tri(or(not(lit(a)), not(lit(b))))
            );
        }
    }
    // Non-boolean operands are unknown.
    assert_eq!(tri(and(int(1), boolean(true))), Unknown);
    assert_eq!(tri(not(text("x"))), Unknown);
}

#[test]
fn comparisons() {
    assert_eq!(tri(eq(int(2), E::Const(Value::Decimal(2.0)))), Tri::True);
    assert_eq!(tri(lt(int(2), E::Const(Value::Decimal(2.5)))), Tri::True);
    assert_eq!(tri(lt(text("a"), text("b"))), Tri::True);
    assert_eq!(tri(bin(Op::Ge, text("a"), text("b"))), Tri::False);
    let d = |s: &str| E::Const(Value::Date(s.parse::<NaiveDate>().unwrap()));
    assert_eq!(tri(lt(d("1988-07-14"), d("1990-01-01"))), Tri::True);
    assert_eq!(
        tri(bin(Op::Le, d("1990-01-01"), d("1990-01-01"))),
        Tri::True
    );
    // Mismatched types and nulls are unknown; `!=` of unknown is unknown.
    assert_eq!(tri(eq(int(1), text("1"))), Tri::Unknown);
    assert_eq!(tri(ne(int(1), text("1"))), Tri::Unknown);
    assert_eq!(tri(eq(null(), null())), Tri::Unknown);
    assert_eq!(tri(ne(null(), int(1))), Tri::Unknown);
    assert_eq!(tri(ne(int(1), int(2))), Tri::True);
    assert_eq!(tri(lt(boolean(false), boolean(true))), Tri::True);
    // NaN compares as unknown.
    assert_eq!(
        tri(eq(E::Const(Value::Decimal(f64::NAN)), int(1))),
        Tri::Unknown
    );
}

fn list(items: &[&str]) -> E {
    E::Const(Value::List(
        items.iter().map(|s| Value::Text((*s).into())).collect(),
    ))
}

#[test]
fn membership_and_matching() {
    assert_eq!(tri(bin(Op::In, text("a"), list(&["a", "b"]))), Tri::True);
    assert_eq!(tri(bin(Op::In, text("c"), list(&["a", "b"]))), Tri::False);
    assert_eq!(
        tri(bin(Op::Contains, list(&["a", "b"]), text("b"))),
        Tri::True
    );
    assert_eq!(tri(bin(Op::In, text("c"), null())), Tri::Unknown);
    assert_eq!(tri(bin(Op::In, null(), list(&["a"]))), Tri::Unknown);
    assert_eq!(tri(bin(Op::In, int(1), list(&["a"]))), Tri::Unknown);
    assert_eq!(
        tri(bin(Op::Contains, text("hello"), text("ell"))),
        Tri::True
    );
    let mut b = B::new();
    let m = E::Matches(Box::new(text("10.1.2.3")), r"^10\.".into());
    assert_eq!(eval_in(&mut b, m, json!({}), &[]).truth(), Tri::True);
    let m = E::Matches(Box::new(text("192.168.0.1")), r"^10\.".into());
    assert_eq!(eval_in(&mut b, m, json!({}), &[]).truth(), Tri::False);
    let m = E::Matches(Box::new(null()), r"^10\.".into());
    assert_eq!(eval_in(&mut b, m, json!({}), &[]).truth(), Tri::Unknown);
}

#[test]
fn arithmetic() {
    assert_eq!(val(bin(Op::Add, int(2), int(3))), Value::Int(5));
    assert_eq!(
        val(bin(Op::Sub, int(2), E::Const(Value::Decimal(0.5)))),
        Value::Decimal(1.5)
    );
    assert_eq!(ev(bin(Op::Add, int(i64::MAX), int(1))), Eval::Unknown);
    assert_eq!(ev(bin(Op::Add, text("a"), int(1))), Eval::Unknown);
    assert_eq!(ev(bin(Op::Add, null(), int(1))), Eval::Unknown);
    assert_eq!(val(E::Un(Op::Neg, Box::new(int(4)))), Value::Int(-4));
    // timestamp ± duration, date ± duration.
    let ninety = E::Dur(90 * 86_400);
    let ts = val(bin(Op::Sub, E::Now, ninety.clone()));
    assert_eq!(
        ts,
        Value::Timestamp(Utc.with_ymd_and_hms(2025, 10, 3, 0, 0, 0).unwrap())
    );
    let date = val(bin(Op::Add, E::Today, E::Dur(2 * 86_400 + 3600)));
    assert_eq!(
        date,
        Value::Date(NaiveDate::from_ymd_opt(2026, 1, 3).unwrap())
    );
    // now() - created > 90d.
    let created = E::Const(Value::Timestamp(
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
    ));
    assert_eq!(
        tri(bin(Op::Gt, bin(Op::Sub, E::Now, created), ninety.clone())),
        Tri::True
    );
    // A duration is not a value.
    assert_eq!(ev(ninety), Eval::Unknown);
}

#[test]
fn builtins() {
    assert_eq!(
        val(E::Un(Op::Lower, Box::new(text("AbC")))),
        Value::Text("abc".into())
    );
    assert_eq!(
        val(E::Un(Op::Upper, Box::new(text("AbC")))),
        Value::Text("ABC".into())
    );
    assert_eq!(val(E::Un(Op::Len, Box::new(text("héllo")))), Value::Int(5));
    assert_eq!(
        val(E::Un(Op::Len, Box::new(list(&["a", "b"])))),
        Value::Int(2)
    );
    assert_eq!(ev(E::Un(Op::Len, Box::new(null()))), Eval::Unknown);
    assert_eq!(
        val(E::Concat(vec![text("a"), null(), int(1), text("-")])),
        Value::Text("a1-".into())
    );
    assert_eq!(ev(E::Concat(vec![text("a"), E::Login])), Eval::Unknown);
    assert_eq!(
        tri(bin(Op::StartsWith, text("hello"), text("he"))),
        Tri::True
    );
    assert_eq!(
        tri(bin(Op::EndsWith, text("hello"), text("he"))),
        Tri::False
    );
    assert_eq!(tri(bin(Op::EndsWith, null(), text("he"))), Tri::Unknown);
    assert_eq!(val(E::Now), Value::Timestamp(t0()));
    assert_eq!(
        val(E::Today),
        Value::Date(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
    );
    let born = |s: &str| E::Const(Value::Date(s.parse().unwrap()));
    assert_eq!(
        val(E::Un(Op::Age, Box::new(born("1990-06-01")))),
        Value::Int(35)
    );
    assert_eq!(
        val(E::Un(Op::Age, Box::new(born("1990-01-01")))),
        Value::Int(36)
    );
    assert_eq!(
        val(E::Un(Op::Age, Box::new(born("1990-01-02")))),
        Value::Int(35)
    );
    // has() is never unknown.
    assert_eq!(tri(E::Un(Op::Has, Box::new(null()))), Tri::False);
    assert_eq!(tri(E::Un(Op::Has, Box::new(E::Login))), Tri::False);
    assert_eq!(tri(E::Un(Op::Has, Box::new(int(0)))), Tri::True);
}

#[test]
fn if_then_else() {
    assert_eq!(val(if_(boolean(true), int(1), int(2))), Value::Int(1));
    assert_eq!(val(if_(boolean(false), int(1), int(2))), Value::Int(2));
    assert_eq!(ev(if_(null(), int(1), int(2))), Eval::Unknown);
    // Nested, inside a comparison.
    let e = eq(
        if_(
            lt(int(1), int(2)),
            if_(boolean(false), text("a"), text("b")),
            text("c"),
        ),
        text("b"),
    );
    assert_eq!(tri(e), Tri::True);
}

#[test]
fn fields_and_indexes() {
    let s = E::Const(Value::Struct(vec![
        ("a".into(), Value::Int(1)),
        ("b".into(), Value::Null),
    ]));
    let mut b = B::new();
    assert_eq!(
        eval_in(
            &mut b,
            E::Field(Box::new(s.clone()), "a".into()),
            json!({}),
            &[]
        ),
        Eval::Value(Value::Int(1))
    );
    assert_eq!(
        eval_in(
            &mut b,
            E::Field(Box::new(s.clone()), "zz".into()),
            json!({}),
            &[]
        ),
        Eval::Unknown
    );
    assert_eq!(
        eval_in(
            &mut b,
            E::Index(Box::new(list(&["x", "y"])), Box::new(int(1))),
            json!({}),
            &[]
        ),
        Eval::Value(Value::Text("y".into()))
    );
    assert_eq!(
        eval_in(
            &mut b,
            E::Index(Box::new(list(&["x"])), Box::new(int(5))),
            json!({}),
            &[]
        ),
        Eval::Value(Value::Null)
    );
    assert_eq!(
        eval_in(
            &mut b,
            E::Index(Box::new(list(&["x"])), Box::new(int(-1))),
            json!({}),
            &[]
        ),
        Eval::Value(Value::Null)
    );
    assert_eq!(
        eval_in(
            &mut b,
            E::Index(Box::new(s), Box::new(text("a"))),
            json!({}),
            &[]
        ),
        Eval::Value(Value::Int(1))
    );
    // Row columns.
    let row = [Value::Text("US".into()), Value::Null];
    assert_eq!(
        eval_in(&mut b, eq(col(0), text("US")), json!({}), &row).truth(),
        Tri::True
    );
    assert_eq!(
        eval_in(&mut b, eq(col(1), text("US")), json!({}), &row).truth(),
        Tri::Unknown
    );
}

#[test]
fn subject_predicates() {
    let mut b = B::new();
    b.purpose("Research.Marketing");
    b.purpose("Billing");
    let subject = json!({
        "login": "amy", "groups": ["agents"], "roles": ["agent"],
        "attributes": {"Office Location": ["Missouri"], "Single": "x", "Bad": 3},
        "purposes": ["Research.Marketing", "Undeclared"], "clearance": 3
    });
    let clearance = b.subject_field("clearance", T::Int);
    let dept = b.subject_field("department", T::Text);
    let mut t = |e: E| eval_in(&mut b, e, subject.clone(), &[]).truth();
    assert_eq!(t(in_group("agents")), Tri::True);
    assert_eq!(t(in_group("admins")), Tri::False);
    assert_eq!(t(has_role("agent")), Tri::True);
    assert_eq!(t(E::HasAttr("Office Location".into())), Tri::True);
    assert_eq!(t(E::HasAttr("Elsewhere".into())), Tri::False);
    assert_eq!(
        t(E::HasAttrVal("Office Location".into(), "Missouri".into())),
        Tri::True
    );
    assert_eq!(
        t(E::HasAttrVal("Office Location".into(), "Texas".into())),
        Tri::False
    );
    assert_eq!(t(E::HasAttrVal("Single".into(), "x".into())), Tri::True);
    assert_eq!(t(E::HasAttrVal("Bad".into(), "3".into())), Tri::Unknown);
    assert_eq!(t(E::ActingUnder("Research".into())), Tri::True);
    assert_eq!(t(E::ActingUnder("Research.Marketing".into())), Tri::True);
    assert_eq!(t(E::ActingUnder("Billing".into())), Tri::False);
    assert_eq!(
        t(E::Under(
            Box::new(text("Research.Marketing")),
            "Research".into()
        )),
        Tri::True
    );
    assert_eq!(
        t(E::Under(
            Box::new(text("Research")),
            "Research.Marketing".into()
        )),
        Tri::False
    );
    assert_eq!(
        t(E::Under(Box::new(text("Nope")), "Research".into())),
        Tri::Unknown
    );
    assert_eq!(
        t(E::Under(Box::new(E::Purposes), "Research".into())),
        Tri::True
    );
    assert_eq!(t(login_is("amy")), Tri::True);
    assert_eq!(t(eq(E::UserField(clearance), int(3))), Tri::True);
    assert_eq!(t(eq(E::UserField(dept), text("x"))), Tri::Unknown);
    assert_eq!(
        t(bin(
            Op::In,
            text("Missouri"),
            E::Index(Box::new(E::Attrs), Box::new(text("Office Location")))
        )),
        Tri::True
    );

    // Missing built-ins are empty; login missing is unknown.
    let empty = json!({});
    let mut t = |e: E| eval_in(&mut b, e, empty.clone(), &[]).truth();
    assert_eq!(t(in_group("agents")), Tri::False);
    assert_eq!(t(has_role("agent")), Tri::False);
    assert_eq!(t(E::HasAttr("Office Location".into())), Tri::False);
    assert_eq!(t(E::ActingUnder("Research".into())), Tri::False);
    assert_eq!(t(login_is("amy")), Tri::Unknown);
    assert_eq!(t(ne(E::Login, text("amy"))), Tri::Unknown);

    // A built-in of the wrong type counts as missing: unknown.
    let wrong = json!({"groups": "agents", "roles": [1], "attributes": [], "purposes": "Billing", "login": 5});
    let mut t = |e: E| eval_in(&mut b, e, wrong.clone(), &[]).truth();
    assert_eq!(t(in_group("agents")), Tri::Unknown);
    assert_eq!(t(not(in_group("agents"))), Tri::Unknown);
    assert_eq!(t(has_role("agent")), Tri::Unknown);
    assert_eq!(t(E::HasAttr("x".into())), Tri::Unknown);
    assert_eq!(t(E::ActingUnder("Billing".into())), Tri::Unknown);
    assert_eq!(t(login_is("amy")), Tri::Unknown);
}

#[test]
fn user_only_flag_follows_the_code() {
    let mut b = B::new();
    assert!(b.compile(&in_group("x")).user_only);
    assert!(!b.compile(&eq(col(0), int(1))).user_only);
    assert!(!b.compile(&E::Val).user_only);
    assert!(b.compile(&eq(E::Now, E::Now)).user_only);
}

/// A subject with more declared fields than the one-pass decoder takes looks each name up;
/// both ways decode the same values and report the same issues, in the bundle's order.
#[test]
fn subject_fields_decode_alike_with_few_and_many_declared_fields() {
    let json = json!({
        "f3": "three", "login": "amy", "f0": 7, "roles": ["r"], "f1": "not an int",
        "groups": "not a list", "attributes": {"site": "lyon"}, "zzz": 1
    });
    let few: Vec<(String, T)> = vec![
        ("f0".into(), T::Int),
        ("f1".into(), T::Int),
        ("f2".into(), T::Text),
        ("f3".into(), T::Text),
    ];
    let many: Vec<(String, T)> = few
        .iter()
        .cloned()
        .chain((4..12).map(|i| (format!("f{i}"), T::Text)))
        .collect();
    let purposes = PurposeTree::default();
    let a = Subject::from_json(&json, &few, &purposes).unwrap();
    let b = Subject::from_json(&json, &many, &purposes).unwrap();
    let expected = [
        Value::Int(7),
        Value::Null,
        Value::Null,
        Value::Text("three".into()),
    ];
    assert_eq!(a.fields, expected);
    assert_eq!(&b.fields[..4], &expected);
    assert!(b.fields[4..].iter().all(Value::is_null));
    assert_eq!(a.login, Value::Text("amy".into()));
    assert_eq!(a.roles, Value::List(vec![Value::Text("r".into())]));
    assert_eq!(a.groups, Value::Null);
    assert_eq!(
        (&a.login, &a.roles, &a.groups, &a.attributes),
        (&b.login, &b.roles, &b.groups, &b.attributes)
    );
    let issues = |s: &Subject| s.issues.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        issues(&a),
        [
            "the subject's field `groups` is a string, not a list of texts",
            "the subject's field `f1` is a string, not an int value",
            "the subject has no field `f2` (a text value expected)",
        ]
    );
    assert_eq!(&issues(&b)[..3], &issues(&a)[..]);
    assert_eq!(issues(&b).len(), 3 + 8);
}

#[test]
fn unverified_programs_never_panic() {
    // Out-of-range indices, underflow and backward jumps give unknown.
    let subject = Subject::from_json(&json!({}), &[], &PurposeTree::default()).unwrap();
    let env = Env {
        row: Row::EMPTY,
        paths: &[],
        value: None,
        subject: &subject,
        now: t0(),
        strings: &[],
        regexes: &[],
        purposes: &PurposeTree::default(),
        tables: &pol_runtime::lookup::TableSnapshot::default(),
    };
    for code in [
        vec![Op::Const(3)],
        vec![Op::Eq],
        vec![Op::Column(9)],
        vec![Op::Field(4)],
        vec![Op::Now, Op::Jump(0)],
        vec![Op::Now, Op::Branch { else_: 0, end: 0 }],
        vec![Op::Concat(9)],
        vec![Op::UserField(2)],
        vec![Op::Matches(1)],
        vec![],
        vec![Op::Now, Op::Now],
    ] {
        let p = Program::new(code.clone(), vec![]);
        assert_eq!(run(&p, &env), Eval::Unknown, "{code:?}");
    }
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u32..4).prop_map(Op::Const),
        any::<i64>().prop_map(Op::Duration),
        (0u32..4).prop_map(Op::Column),
        Just(Op::Value),
        Just(Op::Login),
        Just(Op::Groups),
        Just(Op::Attributes),
        Just(Op::Now),
        Just(Op::Today),
        (0u32..3).prop_map(Op::Field),
        Just(Op::Index),
        Just(Op::Eq),
        Just(Op::Lt),
        Just(Op::In),
        Just(Op::Contains),
        (0u32..2).prop_map(Op::Matches),
        (0u32..3).prop_map(Op::Under),
        Just(Op::Add),
        Just(Op::Sub),
        Just(Op::Neg),
        Just(Op::Not),
        Just(Op::And),
        Just(Op::Or),
        (0u32..20).prop_map(Op::JumpIfFalse),
        (0u32..20).prop_map(Op::JumpIfTrue),
        ((0u32..20), (0u32..20)).prop_map(|(else_, end)| Op::Branch { else_, end }),
        (0u32..20).prop_map(Op::Jump),
        Just(Op::Lower),
        Just(Op::Len),
        (0u32..5).prop_map(Op::Concat),
        Just(Op::StartsWith),
        Just(Op::Age),
        Just(Op::Has),
        (0u32..3).prop_map(Op::InGroup),
        (0u32..3).prop_map(|v| Op::HasAttributeValue { name: 0, value: v }),
        (0u32..3).prop_map(Op::ActingUnder),
        // String functions and calendar months (issue 13).
        Just(Op::Replace),
        ((0u32..2), (0u32..3))
            .prop_map(|(regex, replacement)| Op::RegexReplace { regex, replacement }),
        Just(Op::Substring),
        Just(Op::SubstringFor),
        Just(Op::Lpad),
        Just(Op::Rpad),
        (0u32..5).prop_map(Op::Coalesce),
        any::<i64>().prop_map(Op::Months),
    ]
}

proptest! {
    #[test]
    fn random_programs_never_panic(code in proptest::collection::vec(arb_op(), 0..20)) {
        let purposes = PurposeTree::new(vec!["A".into(), "A.B".into()], vec![None, Some(0)]);
        let subject = Subject::from_json(&json!({"login": "x", "groups": ["g"], "purposes": ["A.B"]}), &[], &purposes).unwrap();
        let row = [Value::Int(1), Value::Text("a".into()), Value::Null, Value::List(vec![Value::Int(1)])];
        let paths: Vec<_> = (0..4).map(|i| ColumnPath { top: i, steps: vec![] }).collect();
        let strings = vec!["g".to_owned(), "a".to_owned()];
        let regexes = vec![regex::Regex::new("a").unwrap()];
        let consts = vec![Value::Int(i64::MAX), Value::Text("A.B".into()), Value::Decimal(1.5), Value::Struct(vec![("g".into(), Value::Int(1))])];
        let p = Program::new(code.clone(), consts);
        let v = Value::Text("val".into());
        let row: Vec<std::borrow::Cow<'_, Value>> = row.iter().map(std::borrow::Cow::Borrowed).collect();
        let env = Env { row: Row::Cells(&row), paths: &paths, value: Some(&v), subject: &subject, now: t0(), strings: &strings, regexes: &regexes, purposes: &purposes, tables: &pol_runtime::lookup::TableSnapshot::default() };
        let result = run(&p, &env);
        // A program the verifier accepts yields a value or unknown; either way, no panic.
        if stack_depth(&code).is_ok() {
            let _ = result.truth();
        }
    }
}
