//! Policies: scopes (W0010, E0032), audiences (E0015, E0016), grants (E0017), row rules
//! (E0030) and empty policies (W0005).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;

impl Diagnostic {
    /// W0010: a scope covering no source of a non-empty set.
    pub fn scope_matches_nothing(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::ScopeMatchesNothing,
            "this scope covers no source",
            at,
            "matches no source",
        )
        .with_help("check the tags or the pattern; a rule with an empty scope never applies")
    }

    /// E0043: a `guarantee` that some subject (and row) breaks; `culprit` is the rule (or
    /// exempt, or column) that makes the leak, `example` the counter-example.
    pub fn guarantee_broken(
        at: Loc,
        what: &str,
        culprit: Loc,
        why: &str,
        example: &str,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::GuaranteeBroken,
            format!("this guarantee does not hold: {what}"),
            at,
            "does not hold for some subject",
        )
        .with_secondary(culprit, why)
        .with_note(format!("counter-example: {example}"))
    }

    /// W0005: a policy without rules.
    pub fn empty_policy(at: Loc, policy: &str) -> Diagnostic {
        Diagnostic::new(
            Code::PolicyMatchesNothing,
            format!("policy `{policy}` has no rule"),
            at,
            "empty policy",
        )
    }

    /// E0017: a temporary unmask shorter than 1h or longer than 72h.
    pub fn unmask_duration(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::UnmaskDuration,
            "a temporary unmask lasts from 1h to 72h",
            at,
            "out of range",
        )
        .with_help("grant at most `72h`; ask again when it expires")
    }

    /// E0032: `column s.c` where `s` is outside the policy's scope.
    pub fn target_outside_scope(at: Loc, source: &str, scope: Option<Loc>) -> Diagnostic {
        let d = Diagnostic::new(
            Code::TargetOutsideScope,
            format!("`{source}` is not in the policy's scope"),
            at,
            "outside the scope",
        );
        match scope {
            Some(l) => d.with_secondary(l, "the scope"),
            None => d,
        }
    }

    /// E0016: a clause after one that already decides for everyone.
    pub fn clause_after_everyone(at: Loc, first: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadAudience,
            "only `for everyone who …` clauses can follow one another",
            at,
            "a second clause",
        )
        .with_secondary(first, "this clause already decides for everyone")
        .with_help("write one `using X for everyone [except C]`, or several `using X for everyone who C` closed by `otherwise`")
    }

    /// E0016: `otherwise` after a clause that is not `for everyone who …`.
    pub fn otherwise_without_who(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadAudience,
            "`otherwise` only closes `for everyone who …` clauses",
            at,
            "nothing to close",
        )
        .with_fix("remove it", at, "")
    }

    /// E0016: `who` clauses mixed with `for everyone` or `except`.
    pub fn mixed_audiences(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadAudience,
            "`for everyone who …` clauses cannot be mixed with `for everyone` or `except`",
            at,
            "this clause",
        )
        .with_help("close the `who` clauses with `otherwise using X` instead")
    }

    /// E0015: mask `who` clauses without `otherwise`; the fixes insert one at `end`.
    pub fn mask_missing_otherwise(at: Loc, end: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::MissingOtherwise,
            "`for everyone who …` needs an `otherwise`",
            at,
            "everyone else is not decided",
        )
        .with_help("say what everyone else gets: `otherwise using null` or `otherwise unmasked`")
        .with_fix(
            "add `otherwise using null`",
            end,
            "\n  otherwise using null",
        )
        .with_fix("add `otherwise unmasked`", end, "\n  otherwise unmasked")
    }

    /// E0030: a time window that is not positive.
    pub fn window_not_positive(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadRowRule,
            "the duration must be positive",
            at,
            "not positive",
        )
    }

    /// E0030: a sample outside 1%..=100%.
    pub fn sample_out_of_range(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadRowRule,
            "a sample is 1% to 100% of rows",
            at,
            "out of range",
        )
    }
}
