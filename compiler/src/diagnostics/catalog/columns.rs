//! Column modifiers (`key`, `event_time`, derived columns): E0034–E0038, which replace the
//! retired catch-all E0026.

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use std::fmt::Display;

/// A modifier that gives a column a role in its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleModifier {
    /// `key`: the row identity.
    Key,
    /// `event_time`: the time of the row, for time windows.
    EventTime,
}

impl RoleModifier {
    fn keyword(self) -> &'static str {
        match self {
            RoleModifier::Key => "key",
            RoleModifier::EventTime => "event_time",
        }
    }
}

impl Diagnostic {
    /// E0034: a struct field declared with `= …` (derived).
    pub fn derived_field(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::ModifierOnField,
            "a struct field cannot be derived",
            at,
            "derived field",
        )
        .with_help("declare the derived column at the top level of the source")
    }

    /// E0034: `key` or `event_time` on a struct field.
    pub fn role_on_field(at: Loc, role: RoleModifier) -> Diagnostic {
        let what = match role {
            RoleModifier::Key => "the key",
            RoleModifier::EventTime => "the event time",
        };
        Diagnostic::new(
            Code::ModifierOnField,
            format!("a struct field cannot be {what}"),
            at,
            format!("`{}` on a field", role.keyword()),
        )
    }

    /// E0035: `key` or `event_time` written twice on one column.
    pub fn repeated_modifier(at: Loc, role: RoleModifier) -> Diagnostic {
        let kw = role.keyword();
        Diagnostic::new(
            Code::RepeatedModifier,
            format!("`{kw}` is written twice on this column"),
            at,
            format!("repeated `{kw}`"),
        )
    }

    /// E0036: a second `key` or `event_time` column in one source.
    pub fn second_role_column(at: Loc, role: RoleModifier, source: &str, first: Loc) -> Diagnostic {
        let kw = role.keyword();
        let d = Diagnostic::new(
            Code::SecondSpecialColumn,
            format!("source `{source}` has two {kw} columns"),
            at,
            format!("second {kw}"),
        )
        .with_secondary(first, format!("first {kw} column"));
        match role {
            RoleModifier::Key => d.with_help("a source has one `key` column (the row identity)"),
            RoleModifier::EventTime => d,
        }
    }

    /// E0037: `key` on a column whose type is not a simple value.
    pub fn key_type(at: Loc, ty: &dyn Display) -> Diagnostic {
        Diagnostic::new(
            Code::KeyType,
            format!("a key column must be a simple value, found {ty}"),
            at,
            "`key` here",
        )
    }

    /// E0038: `event_time` on a column that is not a date or timestamp.
    pub fn event_time_type(at: Loc, ty: &dyn Display) -> Diagnostic {
        Diagnostic::new(
            Code::EventTimeType,
            format!("`event_time` needs a date or timestamp column, found {ty}"),
            at,
            "`event_time` here",
        )
    }
}
