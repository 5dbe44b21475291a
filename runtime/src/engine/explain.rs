//! Explanations: which rule decided each cell and row, and why.

use std::fmt;

use serde::Serialize;

use super::deciding::ConditionExplanation;
use crate::program::Tri;

/// A rule named by an explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// The rule's index in the bundle.
    pub index: u32,
    /// The rule's name.
    pub name: String,
    /// The policy it comes from.
    pub policy: String,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.policy.is_empty() || self.policy == self.name {
            write!(f, "`{}`", self.name)
        } else {
            write!(f, "`{}` (policy `{}`)", self.name, self.policy)
        }
    }
}

/// What happened to a cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CellAction {
    /// The raw value is shown.
    Clear,
    /// Masked with a technique.
    Masked {
        /// The technique's name (`hash`, `by level`, `expr`, …).
        technique: String,
    },
    /// Replaced by null without a technique (unknown `who` condition, type mismatch, derived
    /// column with a masked input and no mask rule of its own).
    Null,
}

/// Why a cell got its treatment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// An `exempt` condition holds for the user: nothing is masked.
    Exempt,
    /// No mask rule decides the cell (none targets it, or every `where` was false).
    NoRule,
    /// `for everyone`.
    Everyone,
    /// `for everyone except C` and C holds: clear.
    ExceptionHeld,
    /// `for everyone except C` and C is false or unknown: masked.
    ExceptionNotHeld {
        /// `false` or `unknown`.
        condition: String,
    },
    /// The `who` clause's condition holds.
    WhoHeld,
    /// A `who` condition is unknown: masked with null, no later clause considered.
    WhoUnknown,
    /// Every `who` condition is false: `otherwise using …`.
    Otherwise,
    /// Every `who` condition is false: `otherwise unmasked`.
    OtherwiseUnmasked,
    /// The cell does not match its declared type: null, whatever the rules say.
    TypeMismatch {
        /// What did not match.
        message: String,
    },
    /// A derived column one of whose inputs is not clear for this user and row: null, or the
    /// derived column's own mask technique.
    DerivedInputMasked {
        /// The first input that is not clear.
        input: String,
    },
    /// A nested field of a struct that is masked as a whole.
    WithinMaskedParent {
        /// The enclosing column masked as a whole.
        parent: String,
    },
    /// The record is unmasked for every user by a temporary unmask grant (§7).
    TemporaryUnmask {
        /// When the grant expires (RFC 3339).
        until: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Exempt => f.write_str("the user is exempt"),
            Reason::NoRule => f.write_str("no mask rule applies"),
            Reason::Everyone => f.write_str("for everyone"),
            Reason::ExceptionHeld => f.write_str("the exception holds"),
            Reason::ExceptionNotHeld { condition } => {
                write!(f, "the exception does not hold (it is {condition})")
            }
            Reason::WhoHeld => f.write_str("the `who` condition holds"),
            Reason::WhoUnknown => {
                f.write_str("the `who` condition is unknown, so the cell is null")
            }
            Reason::Otherwise => f.write_str("no `who` condition holds: otherwise"),
            Reason::OtherwiseUnmasked => {
                f.write_str("no `who` condition holds: otherwise unmasked")
            }
            Reason::TypeMismatch { message } => {
                write!(f, "the value does not match the declared type ({message})")
            }
            Reason::DerivedInputMasked { input } => {
                write!(f, "its input `{input}` is not clear for this user")
            }
            Reason::WithinMaskedParent { parent } => {
                write!(f, "`{parent}` is masked as a whole")
            }
            Reason::TemporaryUnmask { until } => {
                write!(f, "the record is temporarily unmasked until {until}")
            }
        }
    }
}

/// How one cell (or nested field) was decided.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellExplanation {
    /// The column's name; nested fields as dotted paths (`patient.ssn`).
    pub column: String,
    /// Whether the column is listed for the user (a field inherits its column's visibility).
    pub visible: bool,
    /// The cell's output value (top-level columns only).
    pub value: Option<serde_json::Value>,
    /// What was done.
    pub action: CellAction,
    /// The rule that decided, if one did.
    pub decided_by: Option<RuleRef>,
    /// The deciding clause's position in the rule's audience (`who` clauses count from 0).
    pub clause: Option<u32>,
    /// The deciding rule's `where`: `true`, `unknown`, or `None` when it has none.
    #[serde(rename = "where")]
    pub where_: Option<String>,
    /// Why.
    pub reason: Reason,
    /// Rules that target the column but did not apply because their `where` was false, in
    /// resolution order.
    pub skipped: Vec<RuleRef>,
    /// A technique failure (the cell is then null).
    pub technique_error: Option<String>,
    /// Which conditions decided, with their deciding parts (see [`super::deciding`]): the
    /// `where` of each rule skipped, then the deciding rule's `where` and the audience
    /// conditions it evaluated. Empty when no rule's condition was involved.
    pub why: Vec<ConditionExplanation>,
}

impl fmt::Display for CellExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.column)?;
        match &self.action {
            CellAction::Clear => f.write_str("clear")?,
            CellAction::Masked { technique } => write!(f, "masked with {technique}")?,
            CellAction::Null => f.write_str("null")?,
        }
        if let Some(r) = &self.decided_by {
            write!(f, " by {r}")?;
            if let Some(c) = self.clause {
                write!(f, ", clause {c}")?;
            }
        }
        write!(f, ": {}", self.reason)?;
        if let Some(w) = &self.where_ {
            write!(f, " (its `where` is {w})")?;
        }
        if !self.skipped.is_empty() {
            f.write_str("; not applying (`where` false): ")?;
            for (i, r) in self.skipped.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{r}")?;
            }
        }
        if let Some(e) = &self.technique_error {
            write!(f, "; the technique failed ({e}), so the cell is null")?;
        }
        if !self.visible {
            f.write_str(" [not visible]")?;
        }
        for c in &self.why {
            write!(f, "\n    {c}")?;
        }
        Ok(())
    }
}

/// How one row rule judged a row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowRuleExplanation {
    /// The rule.
    pub rule: RuleRef,
    /// Whether the rule applies to the user (`false`: the exception holds, or a `who` rule's
    /// otherwise is `all rows`).
    pub applies: bool,
    /// Whether the row passed this rule.
    pub passed: bool,
    /// In words.
    pub detail: String,
    /// The conditions evaluated (audience, then filters), with their deciding parts.
    pub why: Vec<ConditionExplanation>,
}

/// How a whole row was decided.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowExplanation {
    /// The source.
    pub source: String,
    /// Whether an `exempt` condition holds (every row shown, every cell clear).
    pub exempt: bool,
    /// When exempt: the `exempt` condition that holds, with its deciding parts.
    pub exempt_why: Option<ConditionExplanation>,
    /// Whether the row is shown.
    pub shown: bool,
    /// One entry per row rule (none when exempt).
    pub row_rules: Vec<RowRuleExplanation>,
    /// One entry per column and nested field, in declaration order.
    pub cells: Vec<CellExplanation>,
}

impl fmt::Display for RowExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "row of {}: {}{}",
            self.source,
            if self.shown { "shown" } else { "hidden" },
            if self.exempt { " (exempt)" } else { "" }
        )?;
        if let Some(e) = &self.exempt_why {
            writeln!(f, "  {e}")?;
        }
        for r in &self.row_rules {
            writeln!(f, "  rule {}: {}", r.rule, r.detail)?;
            for c in &r.why {
                writeln!(f, "    {c}")?;
            }
        }
        for c in &self.cells {
            writeln!(f, "  {c}")?;
        }
        Ok(())
    }
}

pub(crate) fn tri_word(t: Tri) -> String {
    t.as_str().to_owned()
}
