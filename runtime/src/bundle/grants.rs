//! The grants table of a bundle (docs/language.md §7): who may ask for a temporary unmask of a
//! record, and who may detokenize a column. Staged grants are not lowered.

use serde::{Deserialize, Serialize};

/// The shortest temporary unmask, in seconds (1h).
pub const MIN_UNMASK_SECONDS: i64 = 3_600;
/// The longest temporary unmask, in seconds (72h).
pub const MAX_UNMASK_SECONDS: i64 = 72 * 3_600;

/// The shortest time a request may wait for approval, in seconds (5 minutes).
pub const MIN_APPROVAL_SECONDS: i64 = 300;
/// The longest time a request may wait for approval, in seconds (72h).
pub const MAX_APPROVAL_SECONDS: i64 = 72 * 3_600;
/// How long a request waits for approval when the rule does not say (`within`), in seconds (4h).
pub const DEFAULT_APPROVAL_SECONDS: i64 = 4 * 3_600;

/// One `allow …` rule, for one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantPlan {
    /// The rule, for audit records and explanations ([`Bundle::rules`](super::Bundle::rules)).
    pub rule: u32,
    /// What it allows.
    pub kind: GrantKind,
    /// Whom it allows.
    pub audience: GrantAudience,
}

/// What a grant allows.
///
/// Serialised in bundles (postcard: the variant's index): variants are append-only (see
/// [`Bundle`](crate::bundle::Bundle)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantKind {
    /// `allow temporary unmask for D`: a permitted user may unmask one record of the source for
    /// `seconds` (from [`MIN_UNMASK_SECONDS`] to [`MAX_UNMASK_SECONDS`]). A policy scoped to
    /// several sources gives one plan per source.
    TemporaryUnmask {
        /// The source's index.
        source: u32,
        /// How long a grant lasts.
        seconds: i64,
    },
    /// `allow detokenize column S.c`.
    Detokenize {
        /// The source's index.
        source: u32,
        /// The column's flat index in the source (a nested field is allowed).
        column: u32,
    },
    /// `allow temporary unmask for D … with approval by C within W`: a permitted user's request
    /// waits (up to `window` seconds) until a user for whom the program `approvers` is true —
    /// never the requester — approves it; the grant then lasts `seconds` from the approval.
    ApprovedUnmask {
        /// The source's index.
        source: u32,
        /// How long a grant lasts, from its approval.
        seconds: i64,
        /// The approvers' condition (a user-only program; unknown never approves).
        approvers: u32,
        /// How long a request waits for an answer, in seconds.
        window: i64,
    },
}

/// Whom a grant allows. Conditions are user-only programs; an unknown condition never allows.
///
/// Serialised in bundles (postcard: the variant's index): variants are append-only (see
/// [`Bundle`](crate::bundle::Bundle)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantAudience {
    /// `for everyone`.
    Everyone,
    /// `for everyone except C`: allowed when C is false (true or unknown → refused).
    Except(u32),
    /// `for everyone who C`: allowed when C is true.
    Who(u32),
}

impl GrantKind {
    /// The source the grant is about.
    pub fn source(&self) -> u32 {
        match self {
            GrantKind::TemporaryUnmask { source, .. }
            | GrantKind::Detokenize { source, .. }
            | GrantKind::ApprovedUnmask { source, .. } => *source,
        }
    }
}
