//! Declarations: subject fields, levels and settings (E0002, E0023, E0024), enum values,
//! level columns, and the limits of struct nesting and derived chains (E0022, E0033).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use pol_grammar::nesting::MAX_NESTING;
use pol_runtime::bundle::verify::MAX_FIELD_DEPTH;
use std::fmt::Display;

impl Diagnostic {
    /// E0002: a subject field named like a built-in one.
    pub fn builtin_subject_field(at: Loc, name: &str) -> Diagnostic {
        Diagnostic::new(
            Code::Duplicate,
            format!("`{name}` is a built-in subject field"),
            at,
            "already defined",
        )
        .with_note("the built-ins are `login`, `groups`, `roles`, `attributes` and `purposes`")
    }

    /// E0002: an enum value listed twice.
    pub fn enum_value_twice(at: Loc, value: &str) -> Diagnostic {
        Diagnostic::new(
            Code::Duplicate,
            format!("enum value \"{value}\" is listed twice"),
            at,
            "listed again",
        )
    }

    /// E0023: a second `level` declaration.
    pub fn levels_twice(at: Loc, first: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadLevel,
            "masking levels are declared twice",
            at,
            "declared again here",
        )
        .with_secondary(first, "first declared here")
        .with_help("declare every level in one `level A > B > C;`")
    }

    /// E0023: a level column that is not text.
    pub fn level_column_not_text(
        at: Loc,
        column: &str,
        ty: &dyn Display,
        declared: Loc,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::BadLevel,
            format!("the level column `{column}` must be text, found {ty}"),
            at,
            "not text",
        )
        .with_secondary(declared, "declared here")
    }

    /// E0006: a level column that is not a column of its source (help only).
    pub fn unknown_level_column(
        at: Loc,
        column: &str,
        source: &str,
        suggestion: Option<&str>,
    ) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredColumn,
            format!("no column `{column}` in source `{source}`"),
            at,
            "the level column must be a column of this source",
        );
        match suggestion {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d,
        }
    }

    /// E0024: a second `settings` block.
    pub fn settings_twice(at: Loc, first: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadSetting,
            "`settings` is declared twice",
            at,
            "declared again here",
        )
        .with_secondary(first, "first declared here")
    }

    /// E0024: `combine_exceptions` given something other than a bool.
    pub fn combine_exceptions_not_bool(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadSetting,
            "`combine_exceptions` takes `true` or `false`",
            at,
            "expected a bool",
        )
    }

    /// E0024: a setting that does not exist.
    pub fn unknown_setting(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::BadSetting,
            format!("unknown setting `{name}`"),
            at,
            "unknown",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d.with_note("the settings are: `combine_exceptions`"),
        }
    }

    /// E0022: derived columns reading each other (`cycle` names them in order).
    pub fn derived_cycle(at: Loc, cycle: &[String]) -> Diagnostic {
        Diagnostic::new(
            Code::DerivedCycle,
            format!(
                "derived columns depend on each other: {}",
                cycle.join(" → ")
            ),
            at,
            "part of the cycle",
        )
        .with_help(
            "a derived column may read stored columns and derived columns that do not read it back",
        )
    }

    /// E0033: struct fields nested beyond the runtime's limit.
    pub fn struct_too_deep(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::TooDeep,
            format!(
                "struct fields nest more than {MAX_FIELD_DEPTH} levels deep, the limit of the \
                 runtime; flatten the struct"
            ),
            at,
            "too deep",
        )
    }

    /// E0033: a chain of derived columns longer than the limit.
    pub fn derived_chain_too_deep(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::TooDeep,
            format!(
                "this derived column reads through more than {MAX_NESTING} derived \
                 columns, the limit; compute part of the chain in the source"
            ),
            at,
            "too deep",
        )
    }
}
