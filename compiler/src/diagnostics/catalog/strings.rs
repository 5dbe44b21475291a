//! String functions and calendar durations (docs/language.md, "String functions" and
//! "Durations"): arguments out of range (E0047), a calendar duration where only a fixed one is
//! allowed (E0048), and the literal arguments of `regex_replace` (E0018).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;

impl Diagnostic {
    /// E0018: `regex_replace`'s pattern or replacement is not a string literal.
    pub fn regex_replace_not_literal(at: Loc, what: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadRegex,
            format!("`regex_replace` needs a string literal {what}"),
            at,
            "not a literal",
        )
        .with_help("patterns are compiled when the policy is checked; write it as `r\"…\"`")
    }

    /// E0047: a constant pad length above the limit (or another constant argument out of
    /// range); `limit` says the range.
    pub fn string_argument(at: Loc, function: &str, limit: &str) -> Diagnostic {
        Diagnostic::new(
            Code::StringArgument,
            format!("`{function}`: {limit}"),
            at,
            "out of range",
        )
    }

    /// E0048: a calendar duration (`mo`, `y`) where only a fixed duration is allowed (`why`
    /// says where that is).
    pub fn calendar_duration(at: Loc, why: &str) -> Diagnostic {
        Diagnostic::new(
            Code::CalendarDuration,
            format!("a calendar duration cannot be used here: {why}"),
            at,
            "months or years",
        )
        .with_help("months and years have no fixed length; write the duration in days (`d`) or weeks (`w`)")
    }
}
