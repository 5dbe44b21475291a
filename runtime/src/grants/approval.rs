//! The approval workflow of temporary unmask (`allow temporary unmask for D … with approval by C
//! within W`): [`GrantService::request`] stores a pending request when the rule that lets the
//! user ask needs approval; [`GrantService::approve`] and [`GrantService::deny`] answer it;
//! [`GrantService::requests`] lists requests (recording the expiry of those nobody answered in
//! time). Every step is audited: `request`, `approve` (with the grant's expiry), `deny`,
//! `expire`, and a `refusal` for every answer refused; a grant's use is audited as any grant's
//! (`unmask`).
//!
//! Who may answer is the rule's approvers' condition, evaluated for the answering subject with
//! the engine at hand (unknown never approves). An approver may never approve their own request
//! (same login); a requester may deny (withdraw) their own request, since denying only takes
//! access away. A request is pending from its instant until its deadline (`within`, 4h by
//! default); a denied or expired request can never be approved. The grant lasts the rule's
//! duration from the approval (the shorter of the duration at the request and now, should the
//! policy have changed). Fail closed: a clock before the request's instant, a rule no longer in
//! the bundle, a store or audit failure — nothing is granted.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use super::request::{Answer, Outcome, RequestEntry, UnmaskRequest};
use super::store::{AnswerError, AuditedError, Event, StoreError, StoredGrant};
use super::{login, new_grant_id, rfc3339, GrantService, Granted, UnmaskError};
use crate::audit::{AuditAction, AuditError, AuditRecord, RequestKind};
use crate::bundle::GrantKind;
use crate::engine::{Engine, Session, SubjectError};
use crate::program::Tri;
use crate::value::Value;

/// What a temporary unmask request gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requested {
    /// Granted at once (a rule without approval allowed it).
    Granted(Granted),
    /// Stored as pending: it waits for an approver until [`UnmaskRequest::answer_by`].
    Pending(UnmaskRequest),
}

/// Why an answer (approval or denial) was not given.
#[derive(Debug)]
pub enum ApprovalError {
    /// Refused: no such request, not pending, not an approver, the approver's own request, clock
    /// skew, or the rule is gone. Audited as a refusal.
    Refused(String),
    /// The subject is not a JSON object.
    Subject(SubjectError),
    /// The audit sink failed: nothing was answered.
    Audit(AuditError),
    /// The store failed: nothing was answered.
    Store(StoreError),
}

impl fmt::Display for ApprovalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApprovalError::Refused(m) => write!(f, "refused: {m}"),
            ApprovalError::Subject(e) => e.fmt(f),
            ApprovalError::Audit(e) => write!(f, "not answered: {e}"),
            ApprovalError::Store(e) => write!(f, "not answered: the store failed: {e}"),
        }
    }
}

impl std::error::Error for ApprovalError {}

/// Approve or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Approve,
    Deny,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Approve => "approve",
            Verb::Deny => "deny",
        }
    }
}

/// The approvers' program and grant duration of the rule named `rule` on `source`, if the
/// bundle still has it as an approval rule.
fn approval_rule(engine: &Engine, source: &str, rule: &str) -> Option<(u32, i64)> {
    let bundle = engine.bundle();
    let si = *engine.source_index.get(source)?;
    bundle.grants.iter().find_map(|g| match g.kind {
        GrantKind::ApprovedUnmask {
            source,
            seconds,
            approvers,
            ..
        } if source as usize == si
            && bundle.rules.get(g.rule as usize).map(|r| r.name.as_str()) == Some(rule) =>
        {
            Some((approvers, seconds))
        }
        _ => None,
    })
}

impl GrantService {
    /// Asks for a temporary unmask of one record: decided as
    /// [`request_unmask`](Self::request_unmask), except that when the first rule allowing the
    /// user needs approval, the request is stored as pending (audited `request`) and nothing is
    /// unmasked until an approver approves it. A request that needs approval must name its
    /// requester (a non-empty `login`), so that nobody approves their own.
    pub fn request(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        source: &str,
        key: &Value,
        reason: &str,
    ) -> Result<Requested, UnmaskError> {
        let now = self.clock.now();
        let session = engine.session(subject, now).map_err(UnmaskError::Subject)?;
        let decision = self.decide_unmask(engine, &session, source, key);
        let Ok((key_text, rule, seconds, Some(window))) = decision else {
            return self
                .grant_at_once(engine, subject, source, key, reason)
                .map(Requested::Granted);
        };
        let mut refusal = AuditRecord {
            source: source.to_owned(),
            key: Some(key_text.clone()),
            ..AuditRecord::refusal(now, login(session.subject()), RequestKind::Unmask, reason)
        };
        let answer_by = TimeDelta::try_seconds(window).and_then(|d| now.checked_add_signed(d));
        let refuse = |detail: &str, mut record: AuditRecord| {
            record.detail = detail.to_owned();
            self.audit.record(&record).map_err(UnmaskError::Audit)?;
            Err(UnmaskError::Refused(detail.to_owned()))
        };
        if refusal.subject.is_empty() {
            return refuse(
                "a request that needs approval must name its requester (`login`)",
                refusal,
            );
        }
        let Some(answer_by) = answer_by else {
            return refuse("the approval deadline is out of range", refusal);
        };
        let request = UnmaskRequest {
            id: String::new(),
            source: source.to_owned(),
            key: key_text,
            requested_by: refusal.subject.clone(),
            rule,
            requested_at: now,
            answer_by,
            seconds,
            reason: refusal.reason.clone(),
        };
        let mut audit = |event: Event<'_>| match event {
            Event::Requested(r) => {
                let mut record = refusal.clone();
                record.action = AuditAction::Request;
                record.expiry = Some(r.answer_by);
                record.detail = format!(
                    "request {} waits for approval by {} until {} (a grant of {}s once approved)",
                    r.id,
                    r.rule,
                    rfc3339(r.answer_by),
                    r.seconds
                );
                self.audit.record(&record)
            }
            other => self.audit_recovery(other, now),
        };
        match self.store.submit(request, &mut audit) {
            Ok(r) => Ok(Requested::Pending(r)),
            Err(AuditedError::Audit(e)) => Err(UnmaskError::Audit(e)),
            Err(AuditedError::Store(e)) => {
                refusal.detail = format!("the request could not be stored: {e}");
                let _ = self.audit.record(&refusal);
                Err(UnmaskError::Store(e))
            }
        }
    }

    /// Approves the pending request `id` for `subject`, an approver of its rule who did not
    /// make it: the record is clear for every user from now for the rule's duration. Audited
    /// (`approve`, or a `refusal` saying why not).
    pub fn approve(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        id: &str,
        reason: &str,
    ) -> Result<Granted, ApprovalError> {
        let (request, answer) = self.answer(engine, subject, id, reason, Verb::Approve)?;
        let grant = answer
            .grant
            .ok_or_else(|| ApprovalError::Refused("the approval holds no grant".to_owned()))?;
        Ok(Granted {
            id: grant.id,
            source: request.source,
            key: request.key,
            rule: request.rule,
            until: grant.expires,
        })
    }

    /// Denies the pending request `id`: `subject` is an approver of its rule, or the requester
    /// withdrawing it. Audited (`deny`, or a `refusal`). A denied request is never approved.
    pub fn deny(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        id: &str,
        reason: &str,
    ) -> Result<UnmaskRequest, ApprovalError> {
        self.answer(engine, subject, id, reason, Verb::Deny)
            .map(|(r, _)| r)
    }

    /// Every request of the store with its state at the clock's now, after recording (audited
    /// `expire`) the expiry of those nobody answered in time.
    pub fn requests(&self) -> Result<Vec<RequestEntry>, UnmaskError> {
        let now = self.clock.now();
        let mut audit = |event: Event<'_>| self.audit_recovery(event, now);
        self.store
            .settle_expired(now, &mut audit)
            .map_err(|e| match e {
                AuditedError::Audit(e) => UnmaskError::Audit(e),
                AuditedError::Store(e) => UnmaskError::Store(e),
            })?;
        self.store.requests(now).map_err(UnmaskError::Store)
    }

    fn answer(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        id: &str,
        reason: &str,
        verb: Verb,
    ) -> Result<(UnmaskRequest, Answer), ApprovalError> {
        let now = self.clock.now();
        let session = engine
            .session(subject, now)
            .map_err(ApprovalError::Subject)?;
        let by = login(session.subject());
        let record = AuditRecord::refusal(now, by.clone(), RequestKind::Unmask, reason);
        let decide = |r: &UnmaskRequest| decide(engine, &session, &by, r, verb, now);
        let mut audit = |event: Event<'_>| match event {
            Event::Answered(r, a) if a.outcome != Outcome::Expired => {
                let mut rec = record.clone();
                rec.source = r.source.clone();
                rec.key = Some(r.key.clone());
                match &a.grant {
                    Some(g) => {
                        rec.action = AuditAction::Approve;
                        rec.expiry = Some(g.expires);
                        rec.detail = format!(
                            "request {} of {} approved: grant {} by {} for {}s",
                            r.id,
                            r.requested_by,
                            g.id,
                            r.rule,
                            (g.expires - g.granted_at).num_seconds()
                        );
                    }
                    None => {
                        rec.action = AuditAction::Deny;
                        rec.detail = format!("request {} of {} denied", r.id, r.requested_by);
                    }
                }
                self.audit.record(&rec)
            }
            other => self.audit_recovery(other, now),
        };
        let refused = |message: String, request: Option<&UnmaskRequest>| {
            let mut rec = record.clone();
            if let Some(r) = request {
                rec.source = r.source.clone();
                rec.key = Some(r.key.clone());
            }
            rec.detail = format!("{}: {message}", verb.as_str());
            self.audit.record(&rec).map_err(ApprovalError::Audit)?;
            Err(ApprovalError::Refused(message))
        };
        match self.store.answer(id, now, &decide, &mut audit) {
            Ok(done) => Ok(done),
            Err(AnswerError::Unknown) => refused(format!("there is no request `{id}`"), None),
            Err(AnswerError::NotPending(e)) => refused(
                format!("request `{id}` is {}, no longer pending", e.state.as_str()),
                Some(&e.request),
            ),
            Err(AnswerError::ClockSkew(r)) => refused(
                format!(
                    "the clock reads {}, before request `{id}` was made ({}): nothing is decided",
                    rfc3339(now),
                    rfc3339(r.requested_at)
                ),
                Some(&r),
            ),
            Err(AnswerError::Refused(r, m)) => refused(m, Some(&r)),
            Err(AnswerError::Audit(e)) => Err(ApprovalError::Audit(e)),
            Err(AnswerError::Store(e)) => Err(ApprovalError::Store(e)),
        }
    }

    /// The audit record of an expiry or of an interrupted answer (other events are those of
    /// grants and revocations).
    pub(super) fn audit_request_event(
        &self,
        event: Event<'_>,
        now: DateTime<Utc>,
    ) -> Option<Result<(), AuditError>> {
        let (subject, action, source, key, detail) = match event {
            Event::Answered(r, a) => (
                a.by.clone(),
                AuditAction::Expire,
                r.source.clone(),
                Some(r.key.clone()),
                format!(
                    "request {} of {} expired unanswered at {}",
                    r.id,
                    r.requested_by,
                    rfc3339(r.answer_by)
                ),
            ),
            Event::AnswerAbandoned(a) => (
                a.by.clone(),
                AuditAction::Refusal,
                a.grant
                    .as_ref()
                    .map(|g| g.source.clone())
                    .unwrap_or_default(),
                a.grant.as_ref().map(|g| g.key.clone()),
                format!(
                    "the answer ({}) to request {} did not take effect: it was interrupted \
                     before it was stored; the request is as it was",
                    a.outcome.as_str(),
                    a.request
                ),
            ),
            Event::Requested(r) => (
                r.requested_by.clone(),
                AuditAction::Request,
                r.source.clone(),
                Some(r.key.clone()),
                format!("request {} waits for approval", r.id),
            ),
            _ => return None,
        };
        Some(self.audit.record(&AuditRecord {
            time: now,
            subject,
            action,
            request: RequestKind::Unmask,
            source,
            key,
            columns: Vec::new(),
            expiry: None,
            reason: None,
            detail,
        }))
    }
}

/// The answer `by` gives to `r`, or why it may not.
fn decide(
    engine: &Engine,
    session: &Session<'_>,
    by: &str,
    r: &UnmaskRequest,
    verb: Verb,
    now: DateTime<Utc>,
) -> Result<Answer, String> {
    let (approvers, seconds) = approval_rule(engine, &r.source, &r.rule).ok_or_else(|| {
        format!(
            "the policy no longer has rule `{}` approving requests on `{}`",
            r.rule, r.source
        )
    })?;
    if by.is_empty() {
        return Err("the answering subject has no `login`".to_owned());
    }
    let approver = session.user_condition(approvers) == Tri::True;
    let own = by == r.requested_by;
    let grant = match verb {
        Verb::Approve if own => {
            return Err(format!(
                "`{by}` made request `{}` and may not approve it",
                r.id
            ))
        }
        Verb::Approve if approver => {
            let seconds = seconds.min(r.seconds);
            let expires = TimeDelta::try_seconds(seconds)
                .and_then(|d| now.checked_add_signed(d))
                .ok_or_else(|| "the expiry is out of range".to_owned())?;
            Some(StoredGrant {
                id: new_grant_id().map_err(|e| e.to_string())?,
                source: r.source.clone(),
                key: r.key.clone(),
                granted_to: r.requested_by.clone(),
                rule: r.rule.clone(),
                granted_at: now,
                expires,
            })
        }
        Verb::Deny if approver || own => None,
        _ => {
            return Err(format!(
                "`{by}` is not an approver of rule `{}` (its approvers' condition does not hold)",
                r.rule
            ))
        }
    };
    Ok(Answer {
        request: r.id.clone(),
        outcome: if grant.is_some() {
            Outcome::Approved
        } else {
            Outcome::Denied
        },
        by: by.to_owned(),
        at: now,
        grant,
    })
}
