//! Specialised plans shared across sessions (`session/shared_plans.rs`): a new session reuses
//! a source's plan when its user gives the same user-only values, and still reads its own
//! subject for everything that depends on the row; the outputs are those of an engine that
//! shares nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use engine_support::*;
use pol_runtime::bundle::{RowAudience, RowFilter};
use pol_runtime::techniques::Technique;
use pol_runtime::{ColumnType as T, Engine, Value};
use serde_json::json;

/// `s { id int, team text, salary int, bonus int }`: rows of the user's own team only, unless
/// a boss; salary null unless `hr`; bonus null unless the user's `team` is `"A"` (a user-only
/// condition reading a subject field); with `id_for_x`, id null unless `x`.
fn bundle(id_for_x: bool) -> B {
    let mut b = B::new();
    let team = b.subject_field("team", T::Text);
    let s = b.source(
        "s",
        &[
            ("id", T::Int),
            ("team", T::Text),
            ("salary", T::Int),
            ("bonus", T::Int),
        ],
    );
    let null = b.tech(Technique::Null);
    let rule = b.rule("r");
    let hr = b.prog(has_role("hr"));
    b.add_candidate(s, "salary", rule, None, except(hr, null));
    let not_a = b.prog(not(eq(E::UserField(team), text("A"))));
    b.add_candidate(s, "bonus", rule, Some(not_a), everyone(null));
    if id_for_x {
        let x = b.prog(has_role("x"));
        b.add_candidate(s, "id", rule, None, except(x, null));
    }
    let own = b.prog(eq(col(1), E::UserField(team)));
    let boss = b.prog(has_role("boss"));
    b.row_rule(s, rule, RowFilter::Where(own), RowAudience::Except(boss));
    b
}

fn rows() -> Vec<Vec<Value>> {
    ["A", "B", "C"]
        .iter()
        .enumerate()
        .map(|(i, team)| {
            vec![
                Value::Int(i as i64),
                Value::Text((*team).to_owned()),
                Value::Int(100 + i as i64),
                Value::Int(10 + i as i64),
            ]
        })
        .collect()
}

/// Every row masked for `subject` through a new session of `engine`.
fn masked(engine: &Engine, subject: &serde_json::Value) -> Vec<Option<Vec<Value>>> {
    let session = engine.session(subject, t0()).expect("an object");
    let source = session.source("s").expect("source");
    rows().iter().map(|r| source.mask_values(r)).collect()
}

fn user(login: &str, roles: &[&str], team: &str) -> serde_json::Value {
    json!({"login": login, "roles": roles, "team": team})
}

#[test]
fn sessions_with_the_same_user_only_values_share_a_plan_and_read_their_own_subject() {
    let e = bundle(false).engine();
    assert_eq!(e.shared_plans(), 0);
    let row = |i: i64, team: &str, salary: Option<i64>, bonus: Option<i64>| {
        Some(vec![
            Value::Int(i),
            Value::Text(team.to_owned()),
            salary.map_or(Value::Null, Value::Int),
            bonus.map_or(Value::Null, Value::Int),
        ])
    };
    // amy (team A, no role): her team's rows, salary null, bonus clear.
    assert_eq!(
        masked(&e, &user("amy", &[], "A")),
        vec![row(0, "A", None, Some(10)), None, None]
    );
    assert_eq!(e.shared_plans(), 1);
    // ann (team A, no role): the same user-only values, so amy's plan.
    assert_eq!(
        masked(&e, &user("ann", &[], "A")),
        vec![row(0, "A", None, Some(10)), None, None]
    );
    assert_eq!(e.shared_plans(), 1);
    // bob (team B, no role): `user.team == "A"` differs, a plan of his own; the row rule
    // compares rows with his own team.
    assert_eq!(
        masked(&e, &user("bob", &[], "B")),
        vec![None, row(1, "B", None, None), None]
    );
    assert_eq!(e.shared_plans(), 2);
    // hal (team A, hr): salary clear.
    assert_eq!(
        masked(&e, &user("hal", &["hr"], "A")),
        vec![row(0, "A", Some(100), Some(10)), None, None]
    );
    assert_eq!(e.shared_plans(), 3);
    // bea (team C, boss): every row, bonus null.
    assert_eq!(
        masked(&e, &user("bea", &["boss"], "C")),
        vec![
            row(0, "A", None, None),
            row(1, "B", None, None),
            row(2, "C", None, None)
        ]
    );
    assert_eq!(e.shared_plans(), 4);
    // cy (team C, boss): bea's plan, and the same rows.
    assert_eq!(
        masked(&e, &user("cy", &["boss"], "C")),
        masked(&e, &user("bea", &["boss"], "C"))
    );
    assert_eq!(e.shared_plans(), 4);
}

#[test]
fn more_users_than_plans_kept_mask_as_an_engine_that_shares_nothing() {
    let b = bundle(true);
    let shared = b.engine();
    let roles = ["hr", "boss", "x", "y"];
    let mut users = Vec::new();
    for team in ["A", "B", "C", "D"] {
        for mask in 0..16u32 {
            let held: Vec<&str> = roles
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, r)| *r)
                .collect();
            users.push(user("u", &held, team));
        }
    }
    // Twice over, so that the second round meets full slots.
    for _ in 0..2 {
        for u in &users {
            let fresh = b.engine();
            assert_eq!(masked(&shared, u), masked(&fresh, u), "user {u}");
        }
    }
    // `x`, `hr`, `boss` and whether the team is `A` are read: 16 combinations, of which the
    // first 8 are kept.
    assert_eq!(shared.shared_plans(), 8);
}
