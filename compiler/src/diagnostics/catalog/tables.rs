//! Lookup tables (E0050–E0053): names that do not resolve, files that cannot be read or lie
//! outside the policy set, types a table cannot hold.

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use std::fmt::Display;

impl Diagnostic {
    /// E0050: `x in table T` with no table `T` declared.
    pub fn undeclared_table(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredTable,
            format!("undeclared lookup table `{name}`"),
            at,
            "not declared",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d.with_help(format!(
                "declare it: `table {name}: text from \"{name}.csv\";` or `table {name}: text supplied at run time;`"
            )),
        }
    }

    /// E0051: a table file that cannot be read, or whose text is not a table of its type
    /// (`file_line`: `FILE` or `FILE:LINE`).
    pub fn bad_table_file(at: Loc, file_line: &str, reason: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadTableFile,
            format!("lookup table file `{file_line}`: {reason}"),
            at,
            "read from here",
        )
    }

    /// E0051: a table file of neither format.
    pub fn table_file_format(at: Loc, path: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadTableFile,
            format!("lookup table file `{path}` is neither `.csv` nor `.json`"),
            at,
            "unknown format",
        )
        .with_help("a table is read from a CSV file with a header line, or a JSON array")
    }

    /// E0052: a table path that is absolute or leaves the declaring file's folder.
    pub fn table_outside(at: Loc, path: &str, why: &str) -> Diagnostic {
        Diagnostic::new(
            Code::TableOutsidePolicySet,
            format!("lookup table file `{path}` is outside the policy set: {why}"),
            at,
            "outside the policy set",
        )
        .with_help(
            "put the file beside the declaring `.pol` file or below its folder, and name it relative to that folder",
        )
    }

    /// E0053: a table of another type than `text` or `int`.
    pub fn table_type(at: Loc, ty: &dyn Display) -> Diagnostic {
        Diagnostic::new(
            Code::TableType,
            format!("a lookup table holds `text` or `int` values, not {ty}"),
            at,
            "not `text` or `int`",
        )
    }

    /// E0009: `x in table T` where `x` is not of the table's type.
    pub fn table_operand(at: Loc, table_at: Loc, operand: &dyn Display, kind: &str) -> Diagnostic {
        Diagnostic::new(
            Code::TypeMismatch,
            format!("cannot look for {operand} in a table of {kind} values"),
            at,
            format!("this is {operand}"),
        )
        .with_secondary(table_at, format!("declared `{kind}` here"))
    }
}
