//! Temporary unmask requests that wait for approval (`allow temporary unmask … with approval by
//! C within W`), as stored, and their state machine:
//!
//! ```text
//! pending ──approve──▶ approved (a grant: active until it expires or is revoked)
//!    │  └───deny────▶ denied
//!    └──(no answer by `answer_by`)──▶ expired
//! ```
//!
//! A request is answered once: the answer is decided inside the store's exclusive section, so of
//! two approvers (or an approver and a denier) answering at once, exactly one answer is stored;
//! the other finds the request no longer pending. A request whose deadline has passed is expired
//! whether or not its expiry was recorded yet: it can never be approved.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::{StoreError, StoredGrant};

/// A temporary unmask request waiting for (or given) an answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmaskRequest {
    /// The request's id: `r-` and 32 hex digits of 128 random bits ([`new_request_id`]).
    pub id: String,
    /// The source's name.
    pub source: String,
    /// The record's key, as canonical text.
    pub key: String,
    /// The login of the user who asked.
    pub requested_by: String,
    /// The rule that lets the user ask (its approvers decide).
    pub rule: String,
    /// When it was asked.
    pub requested_at: DateTime<Utc>,
    /// When it expires if nobody answers (the rule's `within` after `requested_at`).
    pub answer_by: DateTime<Utc>,
    /// How long the grant lasts from its approval, in seconds.
    pub seconds: i64,
    /// The requester's justification, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How a request was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Approved: [`Answer::grant`] holds the grant.
    Approved,
    /// Denied.
    Denied,
    /// Nobody answered before the deadline.
    Expired,
}

impl Outcome {
    /// `approved`, `denied` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Denied => "denied",
            Outcome::Expired => "expired",
        }
    }
}

/// The answer to a request, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The id of the request answered.
    pub request: String,
    /// Approved, denied or expired.
    pub outcome: Outcome,
    /// The login of who answered (empty for an expiry).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The grant an approval gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<StoredGrant>,
}

/// Where a request stands at some instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestState {
    /// Waiting for an answer until its deadline.
    Pending,
    /// Answered (or its expiry recorded).
    Answered(Box<Answer>),
    /// Its deadline passed unanswered (the expiry is not recorded yet).
    Expired,
}

impl RequestState {
    /// `pending`, `approved`, `denied` or `expired`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Answered(a) => a.outcome.as_str(),
            RequestState::Expired => "expired",
        }
    }
}

/// A request and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestEntry {
    /// The request.
    pub request: UnmaskRequest,
    /// Its state at the instant asked for.
    pub state: RequestState,
}

/// The state of `request` at `now`, given its stored answer (if any).
pub(crate) fn state_at(
    request: &UnmaskRequest,
    answer: Option<&Answer>,
    now: DateTime<Utc>,
) -> RequestState {
    match answer {
        Some(a) => RequestState::Answered(Box::new(a.clone())),
        None if now >= request.answer_by => RequestState::Expired,
        None => RequestState::Pending,
    }
}

/// A fresh request id: `r-` and 32 hex digits of 128 bits from the operating system's random
/// source.
pub fn new_request_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(format!("r-{}", hex::encode(bytes)))
}
