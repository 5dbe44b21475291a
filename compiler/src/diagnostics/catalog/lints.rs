//! Warnings about what a policy set does as a whole (W0004–W0009) and the detokenize grant
//! with nothing to detokenize (E0031).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;

impl Diagnostic {
    /// E0031: `allow detokenize` on a column no policy tokenizes.
    pub fn nothing_to_detokenize(at: Loc, column: &str, column_loc: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadGrant,
            format!("nothing tokenizes `{column}`: there is nothing to detokenize"),
            at,
            "detokenize grant",
        )
        .with_secondary(column_loc, "the column")
        .with_help("mask the column `using tokenize` (or `format_preserving`) in some policy")
    }

    /// W0004: a sensitive column (`how` it is) that no mask rule covers.
    pub fn sensitive_uncovered(
        at: Loc,
        column: &str,
        how: &str,
        sensitive_at: Loc,
        tag_path: &str,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::SensitiveUncovered,
            format!("column `{column}` is {how}, but no mask rule covers it"),
            at,
            "never masked",
        )
        .with_secondary(sensitive_at, "declared sensitive here")
        .with_help(format!(
            "add a rule, e.g. `policy mask_{} {{ mask columns tagged {tag_path} using null for everyone }}`",
            tag_path.replace('.', "_").to_lowercase()
        ))
    }

    /// W0005: a broad or tag target matching no column in its scope.
    pub fn policy_matches_nothing(at: Loc, policy: &str, policy_loc: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::PolicyMatchesNothing,
            format!("policy `{policy}` matches no column"),
            at,
            "no column in scope matches this target",
        )
        .with_secondary(policy_loc, "this policy never takes effect")
    }

    /// W0007: a rule masking the source's key column.
    pub fn masked_key(at: Loc, column: &str, key_loc: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::MaskedKey,
            format!("this rule masks `{column}`, the key column: joins on it break"),
            at,
            "masks the key",
        )
        .with_secondary(key_loc, "the key column")
        .with_help(
            "use a technique that keeps equality (`hash`, `tokenize`) or exclude the key from the target",
        )
    }

    /// W0008: a condition (`what`) reading a column that `masker` masks for its audience.
    pub fn leak_by_dichotomy(
        at: Loc,
        what: &str,
        column: &str,
        masker: &str,
        masker_loc: Loc,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::LeakByDichotomy,
            format!("this {what} reads `{column}`, which `{masker}` masks for users it applies to"),
            at,
            "reads a masked column",
        )
        .with_secondary(masker_loc, "masked by this rule")
        .with_note("by comparing what they see, those users learn whether the condition holds on a value they cannot read")
        .with_help("condition on a column the audience may read, or apply the rule only to users who may read it")
    }

    /// W0009: `hash(scope: global)`.
    pub fn global_hash(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::GlobalHash,
            "`hash(scope: global)` makes pseudonyms join across sources",
            at,
            "same value, same hash in every source",
        )
        .with_help("keep the default per-source scope unless joining across sources is intended")
    }
}

impl Diagnostic {
    /// W0006: a policy whose rule loses on each of the `columns` it matches; `winner` (name,
    /// place and why) when one rule always beats it.
    pub fn policy_always_loses(
        at: Loc,
        policy: &str,
        columns: usize,
        winner: Option<(&str, Loc, &str)>,
    ) -> Diagnostic {
        let message = if columns == 1 {
            format!("policy `{policy}` never takes effect: on the one column it matches, another rule always decides first")
        } else {
            format!("policy `{policy}` never takes effect: on each of the {columns} columns it matches, another rule always decides first")
        };
        let d = Diagnostic::new(
            Code::PolicyAlwaysLoses,
            message,
            at,
            "this target always loses",
        );
        match winner {
            Some((name, loc, why)) => d
                .with_secondary(loc, format!("`{name}` wins: {why}"))
                .with_help("make its target more specific than the winner's, or remove it"),
            None => d,
        }
    }
}
