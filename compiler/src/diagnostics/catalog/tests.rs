//! `test` blocks (E0025) and their literal values (E0028).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use std::fmt::Display;

impl Diagnostic {
    /// E0025: a test value that is not a constant.
    pub fn test_value_not_constant(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadTest,
            "test values are constants: literals, lists, records, `date(…)`, `timestamp(…)`",
            at,
            "not a constant",
        )
    }

    /// E0028: `date("…")`/`timestamp("…")` in a test whose text is not one (`what`).
    pub fn test_literal_invalid(at: Loc, text: &str, what: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadLiteral,
            format!("`{text}` is not a {what}"),
            at,
            "invalid",
        )
    }

    /// E0025: a `given user`/`given row` value that is not a record.
    pub fn test_not_a_record(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadTest,
            "expected a record `{ name: value, … }`",
            at,
            "not a record",
        )
    }

    /// E0025: a subject field given a value that does not fit its type.
    pub fn test_value_does_not_fit(at: Loc, field: &str, ty: &dyn Display) -> Diagnostic {
        Diagnostic::new(
            Code::BadTest,
            format!("`{field}` is {ty}; this value does not fit"),
            at,
            format!("expected {ty}"),
        )
    }

    /// E0025: `given now` with a value that is not a timestamp.
    pub fn test_clock_not_timestamp(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadTest,
            "the clock is a timestamp",
            at,
            "expected `timestamp(\"…\")`",
        )
    }

    /// E0025: a test without any `expect`.
    pub fn test_expects_nothing(at: Loc, name: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadTest,
            format!("test \"{name}\" expects nothing"),
            at,
            "no `expect`",
        )
    }

    /// E0025: `expect` before any `given row`.
    pub fn expect_without_row(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadTest,
            "`expect` needs a row",
            at,
            "no `given row` before it",
        )
        .with_help("add `given row SOURCE { … }` before the expectation")
    }
}
