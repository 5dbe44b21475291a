//! Names that do not resolve (E0002–E0007), each with its did-you-mean when a declared name is
//! close.

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use pol_grammar::Span;

impl Diagnostic {
    /// Adds "did you mean `shown`?" and a fix replacing `at` with `replacement`.
    pub(super) fn suggest(self, at: Loc, shown: &str, replacement: &str) -> Diagnostic {
        self.with_help(format!("did you mean `{shown}`?")).with_fix(
            format!("replace with `{replacement}`"),
            at,
            replacement.to_string(),
        )
    }

    /// E0002: a name declared twice.
    pub fn duplicate(what: &str, name: &str, at: Loc, first: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::Duplicate,
            format!("{what} `{name}` is declared twice"),
            at,
            "declared again here",
        )
        .with_secondary(first, "first declared here")
    }

    /// E0003: an undeclared tag, with the closest declared tag if any, and a fix declaring it.
    pub fn undeclared_tag(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredTag,
            format!("undeclared tag `{name}`"),
            at,
            "not declared",
        );
        let d = match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d.with_help(format!("declare it: `tag {name};`")),
        };
        d.with_fix(
            format!("declare tag `{name}`"),
            Loc::new(at.file, Span::new(0, 0)),
            format!("tag {name};\n"),
        )
    }

    /// E0004: an undeclared purpose.
    pub fn undeclared_purpose(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredPurpose,
            format!("undeclared purpose `{name}`"),
            at,
            "not declared",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d.with_help(format!("declare it: `purpose {name};`")),
        }
    }

    /// E0005: an undeclared source.
    pub fn undeclared_source(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredSource,
            format!("undeclared source `{name}`"),
            at,
            "not declared",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d,
        }
    }

    /// E0006: `source.column` naming no column of `source` (declared at `source_loc`).
    pub fn unknown_column(
        at: Loc,
        name: &str,
        source: &str,
        source_loc: Loc,
        suggestion: Option<&str>,
    ) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredColumn,
            format!("no column `{name}` in source `{source}`"),
            at,
            "undeclared column",
        )
        .with_secondary(source_loc, "source declared here");
        match suggestion {
            Some(s) => d.suggest(at, &format!("{source}.{s}"), s),
            None => d,
        }
    }

    /// E0006: a column of a test row naming no column of its source.
    pub fn unknown_test_column(
        at: Loc,
        name: &str,
        source: &str,
        source_loc: Loc,
        suggestion: Option<&str>,
    ) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredColumn,
            format!("no column `{name}` in source `{source}`"),
            at,
            "undeclared column",
        )
        .with_secondary(source_loc, "source declared here");
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d,
        }
    }

    /// E0006: a target path with no column part.
    pub fn not_a_column_path(at: Loc, path: &str) -> Diagnostic {
        Diagnostic::new(
            Code::UndeclaredColumn,
            format!("`{path}` does not name a column"),
            at,
            "expected `source.column`",
        )
        .with_help("name a column with its source: `column customers.email`")
    }

    /// E0006: `row.x` (written with `prefix`) naming a column of none of `whose`.
    pub fn unknown_row_column(
        at: Loc,
        name: &str,
        whose: &str,
        prefix: &str,
        suggestion: Option<&str>,
    ) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredColumn,
            format!("no column `{name}` in {whose}"),
            at,
            "undeclared column",
        );
        match suggestion {
            Some(s) => d.suggest(at, &format!("{prefix}{s}"), s),
            None => d,
        }
    }

    /// E0006: a field that a record type does not have.
    pub fn unknown_field(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredColumn,
            format!("no field `{name}`"),
            at,
            "unknown field",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d,
        }
    }

    /// E0007: `user.x` with no subject field `x`.
    pub fn undeclared_subject_field(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredSubjectField,
            format!("undeclared subject field `{name}`"),
            at,
            "not a field of `user`",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d.with_help(format!("declare it: `subject {{ {name}: text }}`")),
        }
    }

    /// E0007: a test's `given user` naming no subject field (no declaration hint: the test
    /// is what is wrong).
    pub fn undeclared_test_subject_field(
        at: Loc,
        name: &str,
        suggestion: Option<&str>,
    ) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredSubjectField,
            format!("undeclared subject field `{name}`"),
            at,
            "not a field of `user`",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d,
        }
    }
}
