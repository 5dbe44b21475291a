//! Rules that cannot apply as written on some sources: W0002 (a column the rule reads is
//! missing there), W0003 (no column carries the tag `row[tagged T]` reads), and the row rules
//! that need a column a source lacks (E0030, W0002), or an `otherwise` (E0015).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;

impl Diagnostic {
    /// W0002: `row.name` missing from `count` covered sources (`sources` lists some of them,
    /// `consequence` says what the rule does there).
    pub fn column_lockout(
        at: Loc,
        name: &str,
        count: usize,
        sources: &str,
        consequence: &str,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::Lockout,
            format!("`row.{name}` does not exist in {count} of the sources this rule covers"),
            at,
            "read here",
        )
        .with_note(format!("missing from {sources}: {consequence}"))
        .with_help("narrow the scope (`on sources with columns tagged …`) or read the column by tag (`row[tagged T]`)")
    }

    /// W0003: no column tagged `tag` in `count` covered sources: the rule skips them.
    pub fn tagged_column_skip(at: Loc, tag: &str, count: usize, sources: &str) -> Diagnostic {
        Diagnostic::new(
            Code::TaggedColumnSkip,
            format!("no column tagged `{tag}` in {count} of the sources this rule covers: the rule does not apply there"),
            at,
            "read here",
        )
        .with_note(format!("skipped: {sources}"))
    }

    /// W0002: a row rule needing `what` (a key, an event time) on a source without it.
    pub fn row_rule_lockout(at: Loc, source: &str, what: &str) -> Diagnostic {
        Diagnostic::new(
            Code::Lockout,
            format!("source `{source}` has no {what}: this rule shows none of its rows to anyone it applies to"),
            at,
            "here",
        )
    }

    /// E0030: a row rule on one source that lacks the column the filter needs.
    pub fn row_rule_needs(
        at: Loc,
        source: &str,
        what: &str,
        label: &str,
        source_loc: Loc,
        help: &str,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::BadRowRule,
            format!("source `{source}` {what}"),
            at,
            label,
        )
        .with_secondary(source_loc, "source declared here")
        .with_help(help)
    }

    /// E0015: row `who` clauses without `otherwise`; the fix inserts one at `end`.
    pub fn row_missing_otherwise(at: Loc, end: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::MissingOtherwise,
            "`for everyone who …` needs an `otherwise`",
            at,
            "everyone else is not decided",
        )
        .with_help("say what everyone else sees: `otherwise all rows` or `otherwise only show rows where …`")
        .with_fix("add `otherwise all rows`", end, " otherwise all rows")
    }
}
