//! Techniques and their arguments (E0012–E0014), `by level` (E0023) and its levels (E0041),
//! `expr(…)` results that do not fit the column (E0042), replacements (E0044), bucket edges and
//! labels (E0045), `above:` without `max:` (E0046).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use std::fmt::Display;

impl Diagnostic {
    /// E0012: a technique name not in the catalog.
    pub fn unknown_technique(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UnknownTechnique,
            format!("unknown technique `{name}`"),
            at,
            "not a technique",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d.with_note("see docs/language.md §5 for the techniques"),
        }
    }

    /// E0013: in a direct rule, a technique that does not apply to the column's type.
    pub fn technique_not_applicable(
        at: Loc,
        technique: &str,
        ty: &dyn Display,
        applies: &str,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::TechniqueNotApplicable,
            format!("`{technique}` does not apply to {ty}"),
            at,
            format!("`{technique}` applies to {applies}"),
        )
        .with_help("choose a technique for this type, e.g. `null`, or target the column with a tag to fall back automatically")
    }

    /// E0014: a labelled argument naming no parameter of the technique.
    pub fn unknown_parameter(at: Loc, technique: &str, label: &str, params: &[&str]) -> Diagnostic {
        let d = Diagnostic::new(
            Code::BadTechniqueArgument,
            format!("`{technique}` has no parameter `{label}`"),
            at,
            "unknown parameter",
        );
        if params.is_empty() {
            d.with_note(format!("`{technique}` takes no arguments"))
        } else {
            d.with_note(format!("its parameters are: {}", params.join(", ")))
        }
    }

    /// E0014: more positional arguments than the technique has parameters.
    pub fn extra_argument(at: Loc, technique: &str, takes: usize) -> Diagnostic {
        let plural = if takes == 1 { "" } else { "s" };
        Diagnostic::new(
            Code::BadTechniqueArgument,
            format!("`{technique}` takes {takes} argument{plural}"),
            at,
            "extra argument",
        )
    }

    /// E0014: a parameter given twice.
    pub fn argument_twice(at: Loc, param: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadTechniqueArgument,
            format!("`{param}` is given twice"),
            at,
            "given again",
        )
    }

    /// E0014: a required parameter not given.
    pub fn missing_argument(at: Loc, technique: &str, param: &str, example: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadTechniqueArgument,
            format!("`{technique}` needs its `{param}` argument"),
            at,
            "missing argument",
        )
        .with_note(format!("example: {example}"))
    }

    /// E0014: `mask_…(char: …, text: …)`.
    pub fn char_and_text(at: Loc, technique: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadTechniqueArgument,
            format!("`{technique}` takes either `char:` or `text:`, not both"),
            at,
            "both given",
        )
    }

    /// E0014: an argument value the parameter does not accept, and why.
    pub fn bad_argument(at: Loc, technique: &str, param: &str, what: String) -> Diagnostic {
        Diagnostic::new(
            Code::BadTechniqueArgument,
            format!("invalid `{param}` for `{technique}`: {what}"),
            at,
            what,
        )
    }

    /// E0042: in a direct rule, an `expr(…)` whose result is not of the column's type.
    pub fn expr_result_type(at: Loc, result: &dyn Display, column: &dyn Display) -> Diagnostic {
        Diagnostic::new(
            Code::ExprResultType,
            format!("this `expr(…)` gives {result}, the column is {column}"),
            at,
            format!("gives {result}"),
        )
        .with_help(format!(
            "make the expression give {column} (or `null`), or choose another technique"
        ))
    }

    /// E0023: `by level` in a set that declares no levels.
    pub fn no_levels(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadLevel,
            "`by level` needs masking levels",
            at,
            "no levels are declared",
        )
        .with_help("declare them, highest first: `level High > Medium > Low;`")
    }

    /// E0041: a level name in `by level` that is not declared.
    pub fn undeclared_level(at: Loc, name: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredLevel,
            format!("undeclared masking level `{name}`"),
            at,
            "not a declared level",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d,
        }
    }

    /// E0041: a source's default level that is not declared (help only: the fix is the
    /// author's choice of level).
    pub fn undeclared_default_level(
        at: Loc,
        name: &str,
        no_levels: bool,
        suggestion: Option<&str>,
    ) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredLevel,
            format!("undeclared masking level `{name}`"),
            at,
            "not a declared level",
        );
        match suggestion {
            _ if no_levels => {
                d.with_help("declare the levels, highest first: `level High > Medium > Low;`")
            }
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d,
        }
    }

    /// E0023: two entries of one `by level` for the same level.
    pub fn level_twice(at: Loc, name: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadLevel,
            format!("level `{name}` has two entries"),
            at,
            "second entry",
        )
    }

    /// E0023: `by level` inside `by level`.
    pub fn nested_by_level(at: Loc) -> Diagnostic {
        Diagnostic::new(Code::BadLevel, "`by level` cannot be nested", at, "nested")
    }
}

impl Diagnostic {
    /// W0001: in a tag or broad rule, a technique that does not apply to `count` of the
    /// columns it targets; `groups` lists them by type family and fallback (at most five names
    /// shown per group), `example` is the first one.
    pub fn type_fallback(
        at: Loc,
        technique: &str,
        count: usize,
        example: Loc,
        groups: &[(String, Vec<String>)],
    ) -> Diagnostic {
        let mut d = Diagnostic::new(
            Code::TypeFallback,
            format!("`{technique}` does not apply to {count} of the columns this rule targets"),
            at,
            "falls back on some columns",
        )
        .with_secondary(example, "e.g. this column");
        for (group, cols) in groups {
            let shown: Vec<&str> = cols.iter().take(5).map(String::as_str).collect();
            let more = if cols.len() > 5 {
                format!(" and {} more", cols.len() - 5)
            } else {
                String::new()
            };
            d = d.with_note(format!("{group}: {}{more}", shown.join(", ")));
        }
        d.with_help("the fallback never reveals more than the technique asked for; target those columns with a rule of their own to choose")
    }

    /// E0044: a replacement (`char:`, `text:`, `digits`' character, `constant_text`, `above:`)
    /// that is empty, or holds a digit where digits are being masked.
    pub fn bad_replacement(at: Loc, technique: &str, param: &str, what: &str) -> Diagnostic {
        Diagnostic::new(
            Code::BadReplacement,
            format!("invalid `{param}` for `{technique}`: {what}"),
            at,
            what.to_string(),
        )
    }

    /// E0045: `buckets` edges or labels that do not make buckets.
    pub fn bad_buckets(at: Loc, what: String, help: Option<String>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::BadBuckets,
            format!("invalid buckets: {what}"),
            at,
            what,
        );
        match help {
            Some(h) => d.with_help(h),
            None => d,
        }
    }

    /// E0046: `above:` given without the `max:` it labels.
    pub fn above_without_max(at: Loc, technique: &str) -> Diagnostic {
        Diagnostic::new(
            Code::AboveWithoutMax,
            format!("`above:` of `{technique}` needs `max:`"),
            at,
            "shown for ages at or above `max:`, which is not given",
        )
        .with_help(format!(
            "give the age from which it is shown: `{technique}(…, max: 90, above: \"90 or older\")`"
        ))
    }
}
