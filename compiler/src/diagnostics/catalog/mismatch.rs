//! Mismatched types (E0009): each message says what was expected and what was found; the label
//! says what the marked expression is.

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use std::fmt::Display;

/// What a binary operator could not do with its operands' types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandMismatch {
    /// `==`, `!=`.
    Compare,
    /// `<`, `<=`, `>`, `>=`.
    Order,
    /// `x in xs`.
    LookIn,
    /// `xs contains x`.
    Contain,
    /// Arithmetic, with the operator's symbol.
    Apply(&'static str),
}

fn mismatch(at: Loc, message: String, label: String) -> Diagnostic {
    Diagnostic::new(Code::TypeMismatch, message, at, label)
}

impl Diagnostic {
    /// E0009: a binary operator's operands (the right one at `at`, the left one at `left_at`).
    pub fn operand_mismatch(
        at: Loc,
        left_at: Loc,
        op: OperandMismatch,
        lt: &dyn Display,
        rt: &dyn Display,
    ) -> Diagnostic {
        let message = match op {
            OperandMismatch::Compare => format!("cannot compare {lt} with {rt}"),
            OperandMismatch::Order => format!("cannot order {lt} and {rt}"),
            OperandMismatch::LookIn => format!("cannot look for {lt} in {rt}"),
            OperandMismatch::Contain => format!("{lt} cannot contain {rt}"),
            OperandMismatch::Apply(sym) => format!("cannot apply `{sym}` to {lt} and {rt}"),
        };
        mismatch(at, message, format!("this is {rt}"))
            .with_secondary(left_at, format!("this is {lt}"))
    }

    /// E0009: a text literal that is not a value of the enum it is compared with (`label`:
    /// "never matches" or "never equal").
    pub fn not_an_enum_value(at: Loc, text: &str, ty: &dyn Display, label: &str) -> Diagnostic {
        mismatch(
            at,
            format!("\"{text}\" is not a value of {ty}"),
            label.to_string(),
        )
    }

    /// E0009: text expected.
    pub fn expected_text(at: Loc, found: &dyn Display) -> Diagnostic {
        mismatch(
            at,
            format!("expected text, found {found}"),
            format!("this is {found}"),
        )
    }

    /// E0009: `matches` on a value that is not text.
    pub fn matches_needs_text(at: Loc, found: &dyn Display) -> Diagnostic {
        mismatch(
            at,
            format!("`matches` needs text on its left, found {found}"),
            format!("this is {found}"),
        )
    }

    /// E0009: `row.x` (or `row[tagged T]`, as `what`) of different types in two covered sources.
    pub fn row_types_differ(
        at: Loc,
        what: &str,
        first: (&dyn Display, &str),
        other: (&dyn Display, &str),
    ) -> Diagnostic {
        let ((t, s1), (u, s2)) = (first, other);
        mismatch(
            at,
            format!("`{what}` has different types in the sources this rule covers: {t} in `{s1}`, {u} in `{s2}`"),
            "read here".to_string(),
        )
    }

    /// E0009: `row[tagged T]` of different types across the sources it reads.
    pub fn tagged_types_differ(
        at: Loc,
        tag: &str,
        first: &dyn Display,
        other: &dyn Display,
        source: &str,
    ) -> Diagnostic {
        mismatch(
            at,
            format!("`row[tagged {tag}]` has different types across the sources it reads: {first} and {other} (in `{source}`)"),
            "read here".to_string(),
        )
    }

    /// E0009: list elements of different types.
    pub fn list_elements_differ(at: Loc, first: &dyn Display, other: &dyn Display) -> Diagnostic {
        mismatch(
            at,
            format!("list elements have different types: {first} and {other}"),
            format!("this is {other}"),
        )
    }

    /// E0009: a field read on a value that has no fields.
    pub fn no_fields(at: Loc, ty: &dyn Display, field: &str) -> Diagnostic {
        mismatch(
            at,
            format!("{ty} has no field `{field}`"),
            "no such field".to_string(),
        )
    }

    /// E0009: a map read with a key of the wrong type.
    pub fn map_key_type(at: Loc, key: &dyn Display, found: &dyn Display) -> Diagnostic {
        mismatch(
            at,
            format!("expected a key of type {key}, found {found}"),
            format!("this is {found}"),
        )
    }

    /// E0009: a list index that is not an int.
    pub fn list_index_type(at: Loc, found: &dyn Display) -> Diagnostic {
        mismatch(
            at,
            format!("a list index must be an int, found {found}"),
            format!("this is {found}"),
        )
    }

    /// E0009: indexing a value that is neither a map nor a list.
    pub fn not_indexable(at: Loc, ty: &dyn Display) -> Diagnostic {
        mismatch(
            at,
            format!("{ty} cannot be indexed"),
            "indexed here".to_string(),
        )
    }

    /// E0009: `-x` on a value that is not a number or duration.
    pub fn cannot_negate(at: Loc, ty: &dyn Display) -> Diagnostic {
        mismatch(at, format!("cannot negate {ty}"), format!("this is {ty}"))
    }

    /// E0009: `if` branches of different types.
    pub fn if_branches_differ(at: Loc, then: &dyn Display, other: &dyn Display) -> Diagnostic {
        mismatch(
            at,
            format!("`if` branches have different types: {then} and {other}"),
            format!("this is {other}"),
        )
    }
}
