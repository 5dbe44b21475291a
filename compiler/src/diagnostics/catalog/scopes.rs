//! Source metadata and the scopes that read it (E0057, E0058), and k-anonymity rules (E0059,
//! W0015).

use crate::diagnostics::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::source_map::Loc;

impl Diagnostic {
    /// E0057: `source.KEY` in a scope, where no source declares `KEY`.
    pub fn undeclared_metadata_key(at: Loc, key: &str, suggestion: Option<&str>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::UndeclaredMetadataKey,
            format!("no source declares the metadata key `{key}`"),
            at,
            "undeclared metadata key",
        );
        match suggestion {
            Some(s) => d.suggest(at, s, s),
            None => d.with_help(
                "declare it on the sources it describes: `source s (KEY: \"value\") { … }`",
            ),
        }
    }

    /// E0058: a metadata value that is not a literal.
    pub fn metadata_not_literal(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::InvalidSourceMetadata,
            "a metadata value must be a literal",
            at,
            "not a literal",
        )
        .with_help("write text, a number, `true`/`false`, `date(\"…\")` or `timestamp(\"…\")`")
    }

    /// E0058: a metadata key given twice on one source.
    pub fn metadata_duplicate(at: Loc, key: &str, first: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::InvalidSourceMetadata,
            format!("the metadata key `{key}` is given twice"),
            at,
            "given again here",
        )
        .with_secondary(first, "first given here")
    }

    /// E0058: a metadata key whose values have different types on different sources.
    pub fn metadata_type_differs(
        at: Loc,
        key: &str,
        ty: &str,
        first: Loc,
        first_ty: &str,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::InvalidSourceMetadata,
            format!("the metadata key `{key}` is {ty} here and {first_ty} on another source"),
            at,
            format!("{ty} here"),
        )
        .with_secondary(first, format!("{first_ty} here"))
        .with_help(
            "a key has one type across the policy set, so that scopes compare like with like",
        )
    }

    /// E0058: a scope comparing a metadata key with a value it cannot be compared with.
    pub fn metadata_comparison(at: Loc, key: &str, ty: &str, why: &str) -> Diagnostic {
        Diagnostic::new(
            Code::InvalidSourceMetadata,
            format!("`source.{key}` ({ty}) cannot be compared here: {why}"),
            at,
            "invalid comparison",
        )
    }

    /// E0059: `k_anonymity K` with K below 2.
    pub fn k_too_small(at: Loc, k: i64) -> Diagnostic {
        Diagnostic::new(
            Code::InvalidKAnonymity,
            format!("k-anonymity needs k of at least 2, found {k}"),
            at,
            "k < 2",
        )
        .with_help("every row is already in a group of 1; remove the rule or raise k")
    }

    /// E0059: a quasi-identifier that cannot be one (a struct or list column), or one listed
    /// twice.
    pub fn k_bad_column(at: Loc, column: &str, why: &str) -> Diagnostic {
        Diagnostic::new(
            Code::InvalidKAnonymity,
            format!("`{column}` cannot be a quasi-identifier: {why}"),
            at,
            "invalid quasi-identifier",
        )
    }

    /// W0015: two enforced k-anonymity rules on one source; both hold (the greater k over the
    /// union of their quasi-identifiers).
    pub fn k_combined(at: Loc, source: &str, other: Loc, k: usize, columns: &str) -> Diagnostic {
        Diagnostic::new(
            Code::KAnonymityCombined,
            format!("source `{source}` has two k-anonymity rules; both are enforced together"),
            at,
            "second k-anonymity rule here",
        )
        .with_secondary(other, "first k-anonymity rule here")
        .with_note(format!(
            "`{source}` is made {k}-anonymous over {columns}: the greater k over every \
             quasi-identifier of both rules satisfies each rule"
        ))
        .with_help("declare k-anonymity once per source, in one policy")
    }
}
