//! One access decision asked of Pol, Cedar and regorus: may this user see this row?
//!
//! The rule, in words: a user sees the rows of their own team, a supervisor every team's; an
//! archived row is hidden unless the user is an auditor. Pol states it as two row rules, Cedar as
//! two `permit`s and a `forbid … unless`, Rego as an `allow` rule. Every (user, row) pair of
//! [`USERS`] × [`ROWS`] is asked of each engine and the answers compared before anything is
//! timed ([`Peers::cross_check`]).

use std::cell::RefCell;
use std::str::FromStr;

use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use chrono::{DateTime, Utc};
use pol_runtime::{Engine, Value};

/// The question in Pol.
pub const POL: &str = r#"
subject { team: text }

source records {
  id:     int key,
  team:   text,
  status: text,
}

policy own_team on source records {
  only show rows where row.team == user.team for everyone except user has role "supervisor"
}

policy archived on source records {
  only show rows where row.status != "archived" for everyone except user has role "auditor"
}
"#;

/// The question in Cedar.
pub const CEDAR: &str = r#"
permit(principal, action == Action::"view", resource) when { resource.team == principal.team };
permit(principal, action == Action::"view", resource) when { principal.roles.contains("supervisor") };
forbid(principal, action == Action::"view", resource) when { resource.status == "archived" }
  unless { principal.roles.contains("auditor") };
"#;

/// The question in Rego (v1 syntax).
pub const REGO: &str = r#"
package pol

default allow := false

allow if {
  team_ok
  not archived_hidden
}

team_ok if input.row.team == input.user.team

team_ok if "supervisor" in input.user.roles

archived_hidden if {
  input.row.status == "archived"
  not "auditor" in input.user.roles
}
"#;

/// The Rego rule asked.
pub const RULE: &str = "data.pol.allow";

/// Users: login, roles, team.
pub const USERS: [(&str, &[&str], &str); 4] = [
    ("amy", &["support"], "A"),
    ("bob", &["supervisor"], "B"),
    ("cat", &["auditor"], "A"),
    ("dan", &["supervisor", "auditor"], "C"),
];

/// Rows: id, team, status.
pub const ROWS: [(i64, &str, &str); 5] = [
    (1, "A", "active"),
    (2, "A", "archived"),
    (3, "B", "active"),
    (4, "B", "archived"),
    (5, "C", "active"),
];

/// The question loaded in each engine, with every request prepared.
pub struct Peers {
    /// Pol's engine (bundle loaded and verified).
    pub pol: Engine,
    /// Per user, the subject as an application passes it to [`Engine::session`].
    pub subjects: Vec<serde_json::Value>,
    /// Per row, its typed values.
    pub rows: Vec<Vec<Value>>,
    /// Cedar's policies.
    pub cedar: PolicySet,
    /// Every user and row as Cedar entities.
    pub entities: Entities,
    /// Per (user, row), in user-major order, Cedar's request.
    pub requests: Vec<Request>,
    /// regorus with the policy added.
    pub rego: RefCell<regorus::Engine>,
    /// regorus's policy compiled for the `allow` entry point (its interpreter on a compiled policy).
    pub rego_compiled: regorus::CompiledPolicy,
    /// regorus's bytecode VM with that policy's program loaded.
    pub rvm: RefCell<regorus::rvm::RegoVM>,
    /// Per (user, row), in user-major order, the Rego input.
    pub inputs: Vec<regorus::Value>,
    /// The session clock.
    pub now: DateTime<Utc>,
}

/// A setup failure (a policy that does not parse, an engine error).
pub type Error = Box<dyn std::error::Error>;

impl Peers {
    /// Loads the question in every engine and prepares every request.
    pub fn new(now: DateTime<Utc>) -> Result<Self, Error> {
        let pol = crate::customers::engine_for(&[("records.pol".to_owned(), POL.to_owned())]);
        let subjects = USERS
            .iter()
            .map(|(login, roles, team)| {
                serde_json::json!({ "login": login, "roles": roles, "groups": [], "team": team })
            })
            .collect();
        let rows = ROWS
            .iter()
            .map(|(id, team, status)| {
                vec![
                    Value::Int(*id),
                    Value::Text((*team).to_owned()),
                    Value::Text((*status).to_owned()),
                ]
            })
            .collect();
        let cedar = PolicySet::from_str(CEDAR)?;
        let mut entities = Vec::new();
        for (login, roles, team) in USERS {
            entities.push(serde_json::json!({
                "uid": { "type": "User", "id": login },
                "attrs": { "roles": roles, "team": team },
                "parents": []
            }));
        }
        for (id, team, status) in ROWS {
            entities.push(serde_json::json!({
                "uid": { "type": "Row", "id": id.to_string() },
                "attrs": { "team": team, "status": status },
                "parents": []
            }));
        }
        let entities = Entities::from_json_value(serde_json::Value::Array(entities), None)?;
        let action = EntityUid::from_str(r#"Action::"view""#)?;
        let mut requests = Vec::new();
        let mut inputs = Vec::new();
        for (login, roles, team) in USERS {
            for (id, row_team, status) in ROWS {
                requests.push(Request::new(
                    EntityUid::from_str(&format!("User::\"{login}\""))?,
                    action.clone(),
                    EntityUid::from_str(&format!("Row::\"{id}\""))?,
                    Context::empty(),
                    None,
                )?);
                let input = serde_json::json!({
                    "user": { "login": login, "roles": roles, "team": team },
                    "row": { "id": id, "team": row_team, "status": status }
                });
                inputs.push(
                    regorus::Value::from_json_str(&input.to_string()).map_err(|e| e.to_string())?,
                );
            }
        }
        let mut rego = regorus::Engine::new();
        rego.add_policy("pol.rego".to_owned(), REGO.to_owned())
            .map_err(|e| e.to_string())?;
        let entry: regorus::Rc<str> = regorus::Rc::from(RULE);
        let rego_compiled = rego
            .compile_with_entrypoint(&entry)
            .map_err(|e| e.to_string())?;
        let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
            &rego_compiled,
            &[RULE],
        )?;
        let mut rvm = regorus::rvm::RegoVM::new_with_policy(rego_compiled.clone());
        rvm.load_program(program);
        rvm.set_data(regorus::Value::new_object())?;
        Ok(Peers {
            pol,
            subjects,
            rows,
            cedar,
            entities,
            requests,
            rego: RefCell::new(rego),
            rego_compiled,
            rvm: RefCell::new(rvm),
            inputs,
            now,
        })
    }

    /// Pol, a new session for the decision: open a session for user `u`, specialise the source,
    /// decide row `r`. `None` if the session or source cannot be had.
    pub fn pol_new_session(&self, u: usize, r: usize) -> Option<bool> {
        let session = self.pol.session(self.subjects.get(u)?, self.now).ok()?;
        let source = session.source("records")?;
        Some(source.row_shown_values(self.rows.get(r)?))
    }

    /// Cedar: one `is_authorized` on a prepared request and entity store.
    pub fn cedar(&self, u: usize, r: usize) -> Option<bool> {
        let request = self.requests.get(u * ROWS.len() + r)?;
        let answer = Authorizer::new().is_authorized(request, &self.cedar, &self.entities);
        Some(answer.decision() == Decision::Allow)
    }

    /// regorus's interpreter: set the input, evaluate `allow`.
    pub fn rego(&self, u: usize, r: usize) -> Option<bool> {
        let input = self.inputs.get(u * ROWS.len() + r)?.clone();
        let mut rego = self.rego.try_borrow_mut().ok()?;
        rego.set_input(input);
        let answer = rego.eval_rule(RULE.to_owned()).ok()?;
        boolean(&answer)
    }

    /// regorus's interpreter on the policy compiled for `allow`.
    pub fn rego_compiled(&self, u: usize, r: usize) -> Option<bool> {
        let input = self.inputs.get(u * ROWS.len() + r)?.clone();
        boolean(&self.rego_compiled.eval_with_input(input).ok()?)
    }

    /// regorus's bytecode VM: set the input, run the `allow` entry point.
    pub fn rvm(&self, u: usize, r: usize) -> Option<bool> {
        let input = self.inputs.get(u * ROWS.len() + r)?.clone();
        let mut rvm = self.rvm.try_borrow_mut().ok()?;
        rvm.set_input(input);
        let answer = rvm.execute_entry_point_by_name(RULE).ok()?;
        boolean(&answer)
    }

    /// Asks every (user, row) pair of every engine; an error names the first disagreement.
    /// Returns the answers (user-major), which the caller may compare with the expected ones.
    pub fn cross_check(&self) -> Result<Vec<bool>, String> {
        let mut answers = Vec::new();
        for u in 0..USERS.len() {
            let session = self
                .pol
                .session(self.subjects.get(u).ok_or("no subject")?, self.now)
                .map_err(|e| e.to_string())?;
            let source = session.source("records").ok_or("no source `records`")?;
            for r in 0..ROWS.len() {
                let row = self.rows.get(r).ok_or("no row")?;
                let reused = source.row_shown_values(row);
                let all = [
                    ("Pol, new session", self.pol_new_session(u, r)),
                    ("Cedar", self.cedar(u, r)),
                    ("regorus", self.rego(u, r)),
                    ("regorus, compiled policy", self.rego_compiled(u, r)),
                    ("regorus VM", self.rvm(u, r)),
                ];
                for (name, answer) in all {
                    if answer != Some(reused) {
                        return Err(format!(
                            "user {u}, row {r}: Pol (reused session) says {reused}, {name} says {answer:?}"
                        ));
                    }
                }
                answers.push(reused);
            }
        }
        Ok(answers)
    }
}

/// A Rego boolean (`None` for any other value).
fn boolean(v: &regorus::Value) -> Option<bool> {
    match v {
        regorus::Value::Bool(b) => Some(*b),
        _ => None,
    }
}
