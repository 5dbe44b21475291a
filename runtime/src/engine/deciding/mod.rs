//! Which condition decided: for each condition an explanation names (a rule's `where`, its
//! exception or `who` clauses, a row rule's audience and filter, an `exempt`), its value and
//! the minimal parts of it that decided that value, each with the values it read.
//!
//! The minimal deciding parts of a condition of value v (Kleene logic, see
//! [`crate::program`]): for `a and b and …` false, the first false conjunct; true, every
//! conjunct; unknown, every unknown conjunct. `or` is the dual (true: the first true disjunct).
//! `not a` decides by `a`'s parts. Any other expression is a part of its own. So the parts,
//! with every other part of the condition taken as unknown, give the condition's value
//! (tested in `runtime/tests/engine_deciding.rs`). Each part is evaluated alone by the
//! interpreter on its own ops ([`crate::program::shape`]).
//!
//! **What is shown (explanations may be given to the subject they explain, as the server's
//! `/explain` does).** The subject's own values (roles, groups, attributes, purposes, fields,
//! login) and the clock are shown. A row cell is shown only when the explanation's subject sees
//! that cell clear in that row and the row is shown; otherwise its value is withheld and the
//! fact says so. A condition that reads a withheld cell is not taken apart: it is reported
//! whole, with its value — which the decision already shows (a `where` true or false, an
//! exception that holds or not, the `who` clause chosen, a row passing a filter) — so that an
//! explanation never says more about a withheld value than the masking decision itself does.

use std::fmt;

use serde::Serialize;

use super::explain::RuleRef;

mod text;
mod walk;

pub(crate) use text::Names;
pub(crate) use walk::{explain_condition, CellAccess, Reading};

/// Which condition of a rule an explanation is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConditionRole {
    /// A mask rule's `where`.
    Where,
    /// `for everyone except C`: C.
    Except,
    /// `for everyone who C …`: the C of clause `clause` (from 0).
    Who {
        /// The clause's position.
        clause: u32,
    },
    /// A row rule's `except` or `who` condition.
    Audience,
    /// A row rule's `where` filter (or the filter of its `otherwise`).
    Filter,
    /// An `exempt` declaration's condition.
    Exempt,
}

impl fmt::Display for ConditionRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionRole::Where => f.write_str("where"),
            ConditionRole::Except => f.write_str("except"),
            ConditionRole::Who { clause } => write!(f, "who (clause {clause})"),
            ConditionRole::Audience => f.write_str("audience"),
            ConditionRole::Filter => f.write_str("filter"),
            ConditionRole::Exempt => f.write_str("exempt"),
        }
    }
}

/// One condition, its value, and the parts that decided it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConditionExplanation {
    /// The rule the condition belongs to (`None` for an `exempt` declaration).
    pub rule: Option<RuleRef>,
    /// Which of the rule's conditions it is.
    pub role: ConditionRole,
    /// The condition's program (its index in the bundle's program table).
    pub program: u32,
    /// The condition, written back as Pol from the bundle (`user has role "x" or row.a == 1`).
    pub text: String,
    /// `true`, `false` or `unknown`.
    pub value: String,
    /// Its minimal deciding parts (see the module doc), in the order they are written; empty
    /// when the condition's ops could not be taken apart (then the condition is one part).
    pub deciding: Vec<DecidingPart>,
}

/// A minimal part of a condition that decided its value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecidingPart {
    /// The part, written as Pol.
    pub text: String,
    /// The part's ops in the condition's program, `[start, end)`: a program of their own
    /// ([`crate::program::shape::Shape::program_of`]), and the key to the bundle's debug
    /// section, which maps them to the policy text.
    pub ops: [u32; 2],
    /// Its value alone: `true`, `false` or `unknown`.
    pub value: String,
    /// What it read from the subject, the row and the clock.
    pub facts: Vec<Fact>,
    /// For an unknown part: why (a missing subject field, a null cell…).
    pub unknown_because: Option<String>,
}

/// One value a part read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fact {
    /// What was read: `user.roles`, `user.attributes["Office"]`, `row.country`, `now()`.
    pub read: String,
    /// Its value; `None` when withheld.
    pub value: Option<serde_json::Value>,
    /// Whether the value is withheld (a cell the subject does not see clear, or of a hidden
    /// row).
    pub withheld: bool,
    /// In words: `the user's roles are support, regional_analyst`.
    pub text: String,
}

impl fmt::Display for ConditionExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(rule) => write!(f, "{} of {rule}", self.role)?,
            None => write!(f, "{}", self.role)?,
        }
        write!(f, ": `{}` is {}", self.text, self.value)?;
        if let [only] = self.deciding.as_slice() {
            if only.text == self.text {
                return write!(f, "{}", Because(only));
            }
        }
        for part in &self.deciding {
            write!(f, "; `{}`: {}{}", part.text, part.value, Because(part))?;
        }
        Ok(())
    }
}

/// ` — fact, fact` (or nothing when the part read nothing).
struct Because<'a>(&'a DecidingPart);

impl fmt::Display for Because<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        let mut first = true;
        for fact in &p.facts {
            f.write_str(if first { " — " } else { ", " })?;
            f.write_str(&fact.text)?;
            first = false;
        }
        if let Some(u) = &p.unknown_because {
            if p.facts.iter().all(|x| &x.text != u) {
                f.write_str(if first { " — " } else { ", " })?;
                f.write_str(u)?;
            }
        }
        Ok(())
    }
}
