//! Expressions (docs/language.md §3): what may be read where (E0011, E0020, E0021, E0027),
//! literals (E0028), patterns (E0018) and `under` (E0019).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use std::fmt::Display;

/// The reason of an error: the `regex` crate's errors are multi-line with a caret diagram, the
/// last non-empty line says why.
fn reason(error: &dyn Display) -> String {
    let s = error.to_string();
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(&s)
        .trim()
        .to_string()
}

impl Diagnostic {
    /// E0011: `row` read where only the subject may be (`why` says where that is).
    pub fn row_in_user_condition(at: Loc, why: &str) -> Diagnostic {
        Diagnostic::new(
            Code::RowInUserCondition,
            format!("`row` cannot be read here: {why}"),
            at,
            "reads the row",
        )
        .with_help(
            "conditions on rows belong in `where` or in row rules (`only show rows where …`)",
        )
    }

    /// E0018: a pattern the `regex` crate rejects; the label is its error's first line.
    pub fn invalid_regex(at: Loc, error: &dyn Display) -> Diagnostic {
        Diagnostic::new(
            Code::BadRegex,
            "invalid regular expression",
            at,
            reason(error),
        )
    }

    /// E0018: `matches` with a pattern that is not a string literal.
    pub fn pattern_not_literal(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadRegex,
            "`matches` needs a string literal pattern",
            at,
            "not a literal",
        )
        .with_help("patterns are compiled when the policy is checked; write it as `r\"…\"`")
    }

    /// E0019: `under` on a value that is not a purpose.
    pub fn not_hierarchical(at: Loc, ty: &dyn Display) -> Diagnostic {
        Diagnostic::new(
            Code::NotHierarchical,
            format!("`under` needs a hierarchical value (a purpose), found {ty}"),
            at,
            format!("this is {ty}"),
        )
        .with_help("`under` compares purposes, e.g. `user.purposes under Research`")
    }

    /// E0020: a record `{ … }` outside a `test` block.
    pub fn record_outside_test(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadExpression,
            "a record `{ … }` is only allowed in `test` blocks",
            at,
            "record here",
        )
    }

    /// E0020: a bare name where a value is expected; the fix when it names a subject field.
    pub fn bare_name(at: Loc, name: &str, is_subject_field: bool) -> Diagnostic {
        let d = Diagnostic::new(
            Code::BadExpression,
            format!("`{name}` is not a value here"),
            at,
            "bare name",
        )
        .with_help(format!(
            "columns are read as `row.{name}`, subject fields as `user.{name}`"
        ));
        if is_subject_field {
            d.with_fix(format!("write `user.{name}`"), at, format!("user.{name}"))
        } else {
            d
        }
    }

    /// E0020: `value` outside an `expr(…)` technique.
    pub fn value_outside_expr(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadExpression,
            "`value` is only defined inside an `expr(…)` technique",
            at,
            "not inside `expr(…)`",
        )
    }

    /// E0021: a condition that is not a bool.
    pub fn not_a_condition(at: Loc, ty: &dyn Display) -> Diagnostic {
        Diagnostic::new(
            Code::NotACondition,
            format!("expected a condition (bool), found {ty}"),
            at,
            format!("this is {ty}"),
        )
        .with_help("compare it with something, e.g. `… == \"value\"`")
    }

    /// E0027: `row[tagged T]` where source `source` has several columns tagged `T`.
    pub fn ambiguous_tagged_column(
        at: Loc,
        tag: &str,
        source: &str,
        columns: &[&str],
        second: Option<Loc>,
    ) -> Diagnostic {
        let cols: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
        let d = Diagnostic::new(
            Code::AmbiguousTaggedColumn,
            format!(
                "`row[tagged {tag}]` is ambiguous in source `{source}`: columns {} are tagged {tag}",
                cols.join(", ")
            ),
            at,
            "ambiguous",
        )
        .with_help(
            "read the column by name (`row.x`), or scope the rule to sources with one such column",
        );
        match second {
            Some(l) => d.with_secondary(l, "another column tagged here"),
            None => d,
        }
    }

    /// E0028: `date(…)`/`timestamp(…)` given something other than one string literal.
    pub fn literal_call_arguments(at: Loc, function: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadLiteral,
            format!("`{function}(…)` takes one string literal"),
            at,
            "expected e.g. `date(\"1988-07-14\")`",
        )
    }

    /// E0028: text that is not a date.
    pub fn not_a_date(at: Loc, text: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadLiteral,
            format!("`{text}` is not a date"),
            at,
            "expected `YYYY-MM-DD`",
        )
    }

    /// E0028: text that is not an RFC 3339 timestamp.
    pub fn not_a_timestamp(at: Loc, text: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadLiteral,
            format!("`{text}` is not a timestamp"),
            at,
            "expected RFC 3339, e.g. `2024-05-01T10:00:00Z`",
        )
    }
}

impl Diagnostic {
    /// E0010: a function that is not a built-in.
    pub fn unknown_function(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::BadCall,
            format!("unknown function `{name}`"),
            at,
            "not a built-in function",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d,
        }
    }

    /// E0010: a built-in called with arguments of the wrong number or types (`signature` says
    /// what it takes, `found` the types given).
    pub fn wrong_arguments(at: Loc, name: &str, signature: &str, found: &[String]) -> Diagnostic {
        Diagnostic::new(
            Code::BadCall,
            format!("`{name}` {signature}, found ({})", found.join(", ")),
            at,
            "wrong arguments",
        )
    }

    /// E0029: `x == null` / `x != null`; the fix is `fix` (`has(x)` or `not has(x)`).
    pub fn null_comparison(at: Loc, fix: &str) -> Diagnostic {
        Diagnostic::new(
            Code::NullComparison,
            "comparing with `null` is never true",
            at,
            "a null operand makes the condition unknown",
        )
        .with_help(format!("test for presence with `{fix}`"))
        .with_fix(format!("use `{fix}`"), at, fix.to_string())
    }

    /// E0009: a date moved by a duration that is not whole days.
    pub fn date_moves_by_days(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::TypeMismatch,
            "a date moves by whole days",
            at,
            "not a whole number of days",
        )
    }
}
