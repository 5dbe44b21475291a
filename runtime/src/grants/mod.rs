//! Grants (docs/language.md §7): temporary unmask of one record, and detokenization.
//!
//! The [`Engine`] is immutable; grants are state. A [`GrantService`] holds that state — a
//! [`GrantStore`] of temporary unmask grants (durable in a file, or in memory), an
//! [`AuditSink`] and a [`Clock`] — and is shared by every user of an application:
//!
//! ```text
//! GrantService::new(store, audit, clock)
//!   ├─ request_unmask(engine, subject, source, key, reason)   → Granted | refused (audited)
//!   ├─ revoke(subject, which, reason)  → the grants revoked (audited)
//!   ├─ session(engine, subject)       → a Session at the clock, with the live grants applied
//!   └─ detokenize(engine, subject, source, column, masked, reason) → original (audited)
//! ```
//!
//! # Temporary unmask
//!
//! A user asks to unmask one record (source + key value). The bundle's `allow temporary
//! unmask for D …` rules for that source decide, in authored order: the first whose audience
//! allows the user grants it for `D` (1h to 72h) from the clock's now. An audience condition
//! that is unknown never allows. Every request, granted or refused, is audited *before* the
//! answer is returned; if the audit sink fails, nothing is granted.
//!
//! While a grant holds, the record's cells are clear **for every user** in sessions opened
//! with [`GrantService::session`]: exactly as for an exempt user (cells that do not match
//! their declared type stay null), except that **row rules still apply** — a grant never shows
//! a row that a user's row rules hide. A session sees the grants that hold at its own clock
//! (taken when it was opened): open a new session to see new grants or expiries. The first
//! time a session reveals a granted record (cells this user would otherwise see masked), an
//! [`AuditAction::Unmask`] record is written; if that fails, the record is masked as usual.
//! Asking again while a grant holds gives a new grant (the latest expiry counts).
//!
//! # Detokenize
//!
//! See [`GrantService::detokenize`].

mod approval;
mod clock;
mod detokenize;
mod request;
mod store;
pub mod target;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::{AuditAction, AuditError, AuditRecord, AuditSink, RequestKind};
use crate::bundle::{GrantAudience, GrantKind};
use crate::engine::{Engine, Session, Subject, SubjectError};
use crate::program::Tri;
use crate::value::{ColumnType, Value};

pub use approval::{ApprovalError, Requested};
pub use clock::{Clock, ManualClock, SystemClock};
pub use detokenize::DetokenizeError;
#[cfg(feature = "postgres")]
pub(crate) use request::state_at as request_state_at;
pub use request::{new_request_id, Answer, Outcome, RequestEntry, RequestState, UnmaskRequest};
pub use store::{
    new_grant_id, AnswerError, AuditedError, Event, GrantEntry, GrantStore, Revocation, StoreError,
    StoredGrant,
};

/// Why a temporary unmask was not granted.
#[derive(Debug)]
pub enum UnmaskError {
    /// The policy does not allow it (or the request names no record); the message says why.
    /// The refusal was audited.
    Refused(String),
    /// The subject is not a JSON object (nothing could be audited about whom).
    Subject(SubjectError),
    /// The audit sink failed: nothing was granted.
    Audit(AuditError),
    /// The grant store failed (before or after the grant was audited): it does not hold.
    Store(StoreError),
    /// The rule that allows the user needs approval: the request was stored as pending
    /// (audited) and nothing is unmasked until an approver approves it (see
    /// [`GrantService::request`]).
    AwaitsApproval(Box<UnmaskRequest>),
}

impl fmt::Display for UnmaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnmaskError::Refused(m) => write!(f, "temporary unmask refused: {m}"),
            UnmaskError::Subject(e) => e.fmt(f),
            UnmaskError::Audit(e) => write!(f, "temporary unmask not granted: {e}"),
            UnmaskError::Store(e) => {
                write!(
                    f,
                    "temporary unmask not granted: the grant was not stored: {e}"
                )
            }
            UnmaskError::AwaitsApproval(r) => write!(
                f,
                "temporary unmask not granted yet: request {} waits for approval until {}",
                r.id,
                rfc3339(r.answer_by)
            ),
        }
    }
}

impl std::error::Error for UnmaskError {}

/// Which grants [`GrantService::revoke`] revokes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoke {
    /// The grant with this id.
    Id(String),
    /// Every grant of this record (source name, key as canonical text).
    Record {
        /// The source's name.
        source: String,
        /// The record's key, as canonical text.
        key: String,
    },
}

/// Why nothing (or not everything) was revoked.
#[derive(Debug)]
pub enum RevokeError {
    /// No grant matching the request holds now; the message says which. Audited as a refusal.
    NotFound(String),
    /// The subject is not a JSON object.
    Subject,
    /// The audit sink failed: the grant being revoked was not revoked (earlier ones were).
    Audit(AuditError),
    /// The store failed (the revocation being stored, if any, was audited): the grant still
    /// holds.
    Store(StoreError),
}

impl fmt::Display for RevokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevokeError::NotFound(m) => write!(f, "nothing revoked: {m}"),
            RevokeError::Subject => write!(f, "the subject must be a JSON object"),
            RevokeError::Audit(e) => write!(f, "not revoked: {e}"),
            RevokeError::Store(e) => write!(f, "not revoked: the revocation was not stored: {e}"),
        }
    }
}

impl std::error::Error for RevokeError {}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Why [`GrantService::session`] opened no session.
#[derive(Debug)]
pub enum SessionError {
    /// The subject is not a JSON object.
    Subject(SubjectError),
    /// The grant store could not be read.
    Store(StoreError),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Subject(e) => e.fmt(f),
            SessionError::Store(e) => write!(f, "the grant store cannot be read: {e}"),
        }
    }
}

impl std::error::Error for SessionError {}

/// A temporary unmask that was granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Granted {
    /// The grant's id (for [`GrantService::revoke`]).
    pub id: String,
    /// The source.
    pub source: String,
    /// The record's key, as canonical text.
    pub key: String,
    /// The rule that allowed it.
    pub rule: String,
    /// When it expires.
    pub until: DateTime<Utc>,
}

/// Holds the grant state of an application: grants, audit sink and clock. See the [module
/// documentation](self).
#[derive(Debug)]
pub struct GrantService {
    store: GrantStore,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
}

/// What a session needs to know about grants (built by [`GrantService::session`]).
#[derive(Debug)]
pub(crate) struct GrantView {
    /// Per source index: record key (canonical text) → the latest expiry.
    records: Vec<HashMap<String, DateTime<Utc>>>,
    audit: Arc<dyn AuditSink>,
    subject: String,
    /// (source index, key) already audited as revealed by this session.
    audited: Mutex<HashSet<(usize, String)>>,
}

impl GrantView {
    /// The expiry of the grant of this record, if any.
    pub(crate) fn until(&self, source: usize, key: &str) -> Option<DateTime<Utc>> {
        self.records.get(source)?.get(key).copied()
    }

    /// Audits the reveal of a granted record, once per session and record; false if the sink
    /// failed (the caller then masks as usual).
    pub(crate) fn audit_reveal(
        &self,
        source: usize,
        source_name: &str,
        key: &str,
        columns: Vec<String>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        let mut audited = self.audited.lock().unwrap_or_else(|p| p.into_inner());
        if audited.contains(&(source, key.to_owned())) {
            return true;
        }
        let record = AuditRecord {
            time: now,
            subject: self.subject.clone(),
            action: AuditAction::Unmask,
            request: RequestKind::Unmask,
            source: source_name.to_owned(),
            key: Some(key.to_owned()),
            columns,
            expiry: Some(until),
            reason: None,
            detail: "the record is shown clear under a temporary unmask grant".to_owned(),
        };
        if self.audit.record(&record).is_ok() {
            audited.insert((source, key.to_owned()));
            true
        } else {
            false
        }
    }
}

/// Whether a grant's audience allows the session's user: an unknown condition never does.
fn allows(session: &Session<'_>, audience: GrantAudience) -> bool {
    match audience {
        GrantAudience::Everyone => true,
        GrantAudience::Except(c) => session.user_condition(c) == Tri::False,
        GrantAudience::Who(c) => session.user_condition(c) == Tri::True,
    }
}

/// The subject's login for audit records (empty when it has none).
fn login(subject: &Subject) -> String {
    match &subject.login {
        Value::Text(s) => s.clone(),
        _ => String::new(),
    }
}

impl GrantService {
    /// A service over a grant store, an audit sink and a clock.
    pub fn new(store: GrantStore, audit: Arc<dyn AuditSink>, clock: Arc<dyn Clock>) -> Self {
        GrantService {
            store,
            audit,
            clock,
        }
    }

    /// The service's clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The grant store.
    pub fn store(&self) -> &GrantStore {
        &self.store
    }

    /// Mutable access to the grant store (e.g. to [`compact`](GrantStore::compact) it).
    pub fn store_mut(&mut self) -> &mut GrantStore {
        &mut self.store
    }

    /// Opens a session for `subject` at the clock's now, with the temporary unmask grants
    /// that hold then.
    pub fn session<'e>(
        &self,
        engine: &'e Engine,
        subject: &serde_json::Value,
    ) -> Result<Session<'e>, SessionError> {
        self.session_at(engine, subject, self.clock.now())
    }

    /// Opens a session for `subject` at `now` (rather than the clock's now), with the
    /// temporary unmask grants that hold then: for a service whose callers evaluate at a
    /// clock of their own, as `polc eval --grants --now` does.
    pub fn session_at<'e>(
        &self,
        engine: &'e Engine,
        subject: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<Session<'e>, SessionError> {
        let session = engine
            .session(subject, now)
            .map_err(SessionError::Subject)?;
        let mut records = vec![HashMap::new(); engine.bundle().sources.len()];
        for g in self.store.active(now).map_err(SessionError::Store)? {
            let source = engine.source_index.get(&g.source);
            if let Some(records) = source.and_then(|&si| records.get_mut(si)) {
                let slot: &mut DateTime<Utc> = records.entry(g.key).or_insert(g.expires);
                *slot = (*slot).max(g.expires);
            }
        }
        let subject = login(session.subject());
        Ok(session.with_grants(GrantView {
            records,
            audit: Arc::clone(&self.audit),
            subject,
            audited: Mutex::new(HashSet::new()),
        }))
    }

    /// Asks for a temporary unmask of the record of `source` whose key is `key`, for
    /// `subject`, with a justification. Granted if an `allow temporary unmask` rule of the
    /// source allows the user; audited either way (see the [module documentation](self)).
    ///
    /// The key must have the key column's type (an int is accepted for a decimal key). A source
    /// without a key column cannot have records unmasked. When the rule that allows the user
    /// needs approval, the request is stored as pending and the answer is
    /// [`UnmaskError::AwaitsApproval`] (see [`request`](Self::request)).
    pub fn request_unmask(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        source: &str,
        key: &Value,
        reason: &str,
    ) -> Result<Granted, UnmaskError> {
        match self.request(engine, subject, source, key, reason)? {
            Requested::Granted(g) => Ok(g),
            Requested::Pending(r) => Err(UnmaskError::AwaitsApproval(Box::new(r))),
        }
    }

    /// A request decided by a rule without approval: granted at once or refused (audited).
    fn grant_at_once(
        &self,
        engine: &Engine,
        subject: &serde_json::Value,
        source: &str,
        key: &Value,
        reason: &str,
    ) -> Result<Granted, UnmaskError> {
        let now = self.clock.now();
        let session = engine.session(subject, now).map_err(UnmaskError::Subject)?;
        let mut record = AuditRecord {
            source: source.to_owned(),
            key: (!key.is_null()).then(|| key.canonical_text()),
            ..AuditRecord::refusal(now, login(session.subject()), RequestKind::Unmask, reason)
        };
        let decision = self.decide_unmask(engine, &session, source, key);
        let (key_text, rule, seconds) = match decision {
            Ok((k, r, s, None)) => (k, r, s),
            // `request` stores these; never granted here (fail closed).
            Ok((_, r, _, Some(_))) => {
                let message = format!("rule `{r}` needs approval");
                record.detail = message.clone();
                self.audit.record(&record).map_err(UnmaskError::Audit)?;
                return Err(UnmaskError::Refused(message));
            }
            Err(message) => {
                record.detail = message.clone();
                self.audit.record(&record).map_err(UnmaskError::Audit)?;
                return Err(UnmaskError::Refused(message));
            }
        };
        let until = TimeDelta::try_seconds(seconds)
            .and_then(|d| now.checked_add_signed(d))
            .ok_or_else(|| UnmaskError::Refused("the expiry is out of range".to_owned()));
        let until = match until {
            Ok(u) => u,
            Err(e) => {
                record.detail = "the expiry is out of range".to_owned();
                self.audit.record(&record).map_err(UnmaskError::Audit)?;
                return Err(e);
            }
        };
        let stored = StoredGrant {
            id: String::new(),
            source: source.to_owned(),
            key: key_text.clone(),
            granted_to: record.subject.clone(),
            rule: rule.clone(),
            granted_at: now,
            expires: until,
        };
        let mut audit = |event: Event<'_>| match event {
            Event::Granted(g) => {
                let mut granted = record.clone();
                granted.action = AuditAction::Grant;
                granted.key = Some(g.key.clone());
                granted.expiry = Some(g.expires);
                granted.detail = format!("granted by {} for {seconds}s as grant {}", g.rule, g.id);
                self.audit.record(&granted)
            }
            other => self.audit_recovery(other, now),
        };
        let granted = match self.store.grant(stored, &mut audit) {
            Ok(g) => g,
            Err(AuditedError::Audit(e)) => return Err(UnmaskError::Audit(e)),
            Err(AuditedError::Store(e)) => {
                // Whether or not the grant was audited, it does not hold: say so in the audit
                // trail (best effort: the error returned is the store's).
                record.detail = format!("the grant could not be stored: {e}");
                let _ = self.audit.record(&record);
                return Err(UnmaskError::Store(e));
            }
        };
        Ok(Granted {
            id: granted.id,
            source: source.to_owned(),
            key: key_text,
            rule,
            until,
        })
    }

    /// The audit record of a recovery: an interrupted grant or revocation did not take effect.
    fn audit_recovery(&self, event: Event<'_>, now: DateTime<Utc>) -> Result<(), AuditError> {
        if let Some(done) = self.audit_request_event(event, now) {
            return done;
        }
        let (g, subject, what) = match event {
            Event::RevocationAbandoned(g, by) => (
                g,
                by.to_owned(),
                format!(
                    "the revocation of grant {} did not take effect (the grant still holds): \
                     it was interrupted before the revocation was stored",
                    g.id
                ),
            ),
            // Audited by `audit_request_event` above.
            Event::Requested(_) | Event::Answered(..) | Event::AnswerAbandoned(_) => return Ok(()),
            Event::Abandoned(g) | Event::Granted(g) | Event::Revoked(g) => (
                g,
                g.granted_to.clone(),
                format!(
                    "grant {} did not take effect: its request was interrupted before the \
                     grant was stored",
                    g.id
                ),
            ),
        };
        self.audit.record(&AuditRecord {
            source: g.source.clone(),
            key: Some(g.key.clone()),
            detail: what,
            ..AuditRecord::refusal(now, subject, RequestKind::Unmask, "")
        })
    }

    /// Finishes an interrupted grant request or revocation, if the store ends with one: audits
    /// that it did not take effect (an [`AuditAction::Refusal`] naming the grant) and marks it
    /// abandoned in the store. [`request_unmask`](Self::request_unmask) and [`revoke`](Self::revoke) do
    /// this first; call it after a crash to settle the audit trail without a request. Returns
    /// the id of the abandoned grant, if any.
    pub fn recover(&self) -> Result<Option<String>, UnmaskError> {
        let now = self.clock.now();
        match self
            .store
            .recover(&mut |event| self.audit_recovery(event, now))
        {
            Ok(g) => Ok(g.map(|g| g.id)),
            Err(AuditedError::Audit(e)) => Err(UnmaskError::Audit(e)),
            Err(AuditedError::Store(e)) => Err(UnmaskError::Store(e)),
        }
    }

    /// Revokes temporary unmask grants that hold at the clock's now: the one with a given id,
    /// or every grant of one record. Revoking only takes access away, so no policy rule is
    /// consulted: whoever may write the store may revoke. Each revocation is audited (an
    /// [`AuditAction::Revoke`] record naming the grant) before it is stored; if the audit
    /// fails, that grant is not revoked. Returns the grants revoked, in the order given;
    /// revoking nothing is an error ([`RevokeError::NotFound`]), audited as a refusal.
    pub fn revoke(
        &self,
        subject: &serde_json::Value,
        which: &Revoke,
        reason: &str,
    ) -> Result<Vec<StoredGrant>, RevokeError> {
        let now = self.clock.now();
        let by = match subject {
            serde_json::Value::Object(m) => match m.get("login") {
                Some(serde_json::Value::String(s)) => s.clone(),
                _ => String::new(),
            },
            _ => return Err(RevokeError::Subject),
        };
        let mut record = AuditRecord::refusal(now, by.clone(), RequestKind::Unmask, reason);
        let matches = |g: &StoredGrant| match which {
            Revoke::Id(id) => &g.id == id,
            Revoke::Record { source, key } => &g.source == source && &g.key == key,
        };
        let mut audit = |event: Event<'_>| match event {
            Event::Revoked(g) => {
                let mut revoked = record.clone();
                revoked.action = AuditAction::Revoke;
                revoked.source = g.source.clone();
                revoked.key = Some(g.key.clone());
                revoked.expiry = Some(g.expires);
                revoked.detail = format!(
                    "grant {} (given to {} by {}) revoked",
                    g.id, g.granted_to, g.rule
                );
                self.audit.record(&revoked)
            }
            other => self.audit_recovery(other, now),
        };
        let revoked = self
            .store
            .revoke_matching(now, &by, &matches, &mut audit)
            .map_err(|e| match e {
                AuditedError::Audit(e) => RevokeError::Audit(e),
                AuditedError::Store(e) => RevokeError::Store(e),
            })?;
        if revoked.is_empty() {
            let message = match which {
                Revoke::Id(id) => format!("no grant `{id}` holds at {}", rfc3339(now)),
                Revoke::Record { source, key } => format!(
                    "no grant of `{source}` record `{key}` holds at {}",
                    rfc3339(now)
                ),
            };
            if let Revoke::Record { source, key } = which {
                record.source = source.clone();
                record.key = Some(key.clone());
            }
            record.detail = format!("revoke: {message}");
            self.audit.record(&record).map_err(RevokeError::Audit)?;
            return Err(RevokeError::NotFound(message));
        }
        Ok(revoked)
    }

    /// (key text, rule name, seconds, the approval window if the rule needs approval) or the
    /// refusal's message.
    fn decide_unmask(
        &self,
        engine: &Engine,
        session: &Session<'_>,
        source: &str,
        key: &Value,
    ) -> Result<(String, String, i64, Option<i64>), String> {
        let bundle = engine.bundle();
        let si = *engine
            .source_index
            .get(source)
            .ok_or_else(|| format!("there is no source `{source}`"))?;
        let plan = bundle
            .sources
            .get(si)
            .ok_or_else(|| format!("there is no source `{source}`"))?;
        let key_col = plan
            .key_column
            .and_then(|k| plan.columns.get(k as usize))
            .ok_or_else(|| {
                format!("source `{source}` has no key column, so no record can be named")
            })?;
        let key = match (key, &key_col.ty) {
            (Value::Int(i), ColumnType::Decimal) => Value::Decimal(*i as f64),
            (k, _) => k.clone(),
        };
        if key.is_null() {
            return Err("the key is null".to_owned());
        }
        if !key.conforms_to(&key_col.ty) {
            return Err(format!(
                "the key of `{source}` is {}, not a {} value",
                key_col.ty,
                key.type_name()
            ));
        }
        let mut any_rule = false;
        for g in &bundle.grants {
            let (gs, seconds, window) = match g.kind {
                GrantKind::TemporaryUnmask { source, seconds } => (source, seconds, None),
                GrantKind::ApprovedUnmask {
                    source,
                    seconds,
                    window,
                    ..
                } => (source, seconds, Some(window)),
                GrantKind::Detokenize { .. } => continue,
            };
            if gs as usize != si {
                continue;
            }
            any_rule = true;
            if allows(session, g.audience) {
                let rule = bundle
                    .rules
                    .get(g.rule as usize)
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                return Ok((key.canonical_text(), rule, seconds, window));
            }
        }
        Err(if any_rule {
            format!("no `allow temporary unmask` rule of `{source}` allows this user")
        } else {
            format!("no policy allows temporary unmask on `{source}`")
        })
    }
}
