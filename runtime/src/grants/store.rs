//! The durable store of temporary unmask grants.
//!
//! # Backends
//!
//! A [`GrantStore`] is one of several backends behind one API: in memory (forgotten when
//! dropped), a durable file, or (feature `postgres`) the grants table of a PostgreSQL schema,
//! whose transactions replace the intent protocol below (see [`crate::pg`]). Every operation goes through [`GrantStore::exclusive`]-style sections of
//! the backend: a section sees the latest state of the store (other processes' writes
//! included) and nothing else writes meanwhile. A further backend (a database table, say)
//! fits as a third [`Backend`] variant that provides the same four things: an exclusive section
//! (a transaction), reading the entries added since the last read, reading the last entry, and
//! appending an entry durably.
//!
//! # The file
//!
//! Each grant is one line of a [`JsonLinesFile`] (the same durable, append-only format as the
//! audit file: written and fsynced before the grant is reported, a torn last line truncated),
//! so an application that restarts keeps its grants until they expire. Grants are identified by
//! source *name* and the record key's canonical text, so they survive a new bundle as long as
//! the source keeps its name. Expired grants are ignored when read; the file keeps them (it is
//! append-only) until [`GrantStore::compact`] rewrites it.
//!
//! Besides grants, the file holds three kinds of lines:
//!
//! - a revocation, `{"revoke":"g-…","revoked_at":…,"revoked_by":…}`: from then on the grant
//!   with that id no longer holds;
//! - an intent, `{"intent":{…the grant…}}`, written before the grant is audited, and a
//!   revocation intent, `{"revoking":{…the grant…},"revoked_by":…}`, written before a
//!   revocation is audited;
//! - an abandonment, `{"abandon":"g-…"}`: the intent of that id never took effect;
//! - a request waiting for approval, `{"request":{…}}` ([`UnmaskRequest`]); the intent of an
//!   answer, `{"answering":{…}}`, written before the answer is audited; and the answer,
//!   `{"answer":{"request":"r-…","outcome":"approved"|"denied"|"expired",…}}` — an approval
//!   carries its grant, which holds from the approval on (see [`super::request`]).
//!
//! # Cost
//!
//! Opening reads only the file's tail (the torn line, the last line). Giving a grant reads only
//! the last line (to recover an interrupted grant) and appends: its cost is independent of the
//! history. Reading the grants that hold ([`active`](GrantStore::active), for sessions and
//! revocations) reads the file once per store and then only what other writers appended since:
//! its cost is the store's size, which [`compact`](GrantStore::compact) bounds by the grants
//! that hold.
//!
//! # Crash safety of a grant
//!
//! [`GrantStore::grant`] writes, inside one exclusive section: the intent (fsynced), then the
//! grant's audit record (the caller's callback; fsynced by a file sink), then the grant
//! (fsynced). A process killed at any instant leaves either nothing, or an intent not followed
//! by its grant — always the store's last line, since every writer first recovers: the next
//! [`grant`](GrantStore::grant), [`revoke_matching`](GrantStore::revoke_matching) or
//! [`recover`](GrantStore::recover) audits that the intent's grant did not take effect (the
//! callback gets [`Event::Abandoned`]) and appends the abandonment. So every audit record of a
//! grant names a grant of the store, or is followed by a record saying it did not take effect.
//! Revocations follow the same protocol (revocation intent, audit, revocation;
//! [`Event::RevocationAbandoned`] on recovery).

// Without the `postgres` feature the backend has one variant: the per-operation dispatch is then
// an infallible match.
#![cfg_attr(
    not(feature = "postgres"),
    allow(clippy::infallible_destructuring_match)
)]

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::request::{state_at, Answer, Outcome, RequestEntry, RequestState, UnmaskRequest};
use crate::audit::{AuditError, JournalError, JsonLinesFile, Section};

/// One temporary unmask grant as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// The grant's id: `g-` and 32 hex digits, 128 random bits ([`new_grant_id`]); empty in
    /// files written before ids existed (such grants hold but cannot be revoked by id).
    #[serde(default)]
    pub id: String,
    /// The source's name.
    pub source: String,
    /// The record's key, as canonical text.
    pub key: String,
    /// The login of the user who asked for it.
    pub granted_to: String,
    /// The rule that allowed it.
    pub rule: String,
    /// When it was granted.
    pub granted_at: DateTime<Utc>,
    /// When it expires (the record is masked again from this instant on).
    pub expires: DateTime<Utc>,
}

/// A fresh grant id: `g-` and 32 hex digits of 128 bits from the operating system's random
/// source, so two grants never share an id (whatever their content and instant).
pub fn new_grant_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(format!("g-{}", hex::encode(bytes)))
}

/// The revocation of a grant, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// The id of the revoked grant.
    pub revoke: String,
    /// When it was revoked.
    pub revoked_at: DateTime<Utc>,
    /// The login of the user who revoked it.
    pub revoked_by: String,
}

/// One line of a store file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Entry {
    Revocation(Revocation),
    Intent {
        intent: StoredGrant,
    },
    RevokeIntent {
        revoking: StoredGrant,
        revoked_by: String,
    },
    Abandon {
        abandon: String,
    },
    /// A request waiting for approval.
    Request {
        request: Box<UnmaskRequest>,
    },
    /// The intent of an answer (written before it is audited).
    Answering {
        answering: Box<Answer>,
    },
    /// The answer to a request (an approval carries its grant).
    Answer {
        answer: Box<Answer>,
    },
    Grant(StoredGrant),
}

/// A grant and, if it was revoked, its revocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantEntry {
    /// The grant.
    pub grant: StoredGrant,
    /// Its revocation, if any.
    pub revoked: Option<Revocation>,
}

/// Why the store could not be read or written.
#[derive(Debug)]
pub enum StoreError {
    /// The store's file failed.
    Journal(JournalError),
    /// The operating system's random source failed (no grant id could be drawn).
    Random(String),
    /// The PostgreSQL store failed.
    #[cfg(feature = "postgres")]
    Postgres(crate::pg::PgError),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Journal(e) => e.fmt(f),
            StoreError::Random(m) => write!(f, "cannot draw a random grant id: {m}"),
            #[cfg(feature = "postgres")]
            StoreError::Postgres(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Journal(e) => Some(e),
            StoreError::Random(_) => None,
            #[cfg(feature = "postgres")]
            StoreError::Postgres(e) => Some(e),
        }
    }
}

impl From<JournalError> for StoreError {
    fn from(e: JournalError) -> Self {
        StoreError::Journal(e)
    }
}

/// What an audited store operation reports to its audit callback, before the change it
/// describes is stored.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// An interrupted grant (its intent was stored, the grant never was) did not take effect.
    Abandoned(&'a StoredGrant),
    /// An interrupted revocation of this grant, by this login (its intent was stored, the
    /// revocation never was) did not take effect: the grant still holds.
    RevocationAbandoned(&'a StoredGrant, &'a str),
    /// This grant is about to be stored.
    Granted(&'a StoredGrant),
    /// This grant is about to be revoked.
    Revoked(&'a StoredGrant),
    /// This request (waiting for approval) is about to be stored.
    Requested(&'a UnmaskRequest),
    /// This answer to this request is about to be stored (an expiry included).
    Answered(&'a UnmaskRequest, &'a Answer),
    /// An interrupted answer (its intent was stored, the answer never was) did not take effect:
    /// the request is as it was.
    AnswerAbandoned(&'a Answer),
}

/// Why a request was not answered.
#[derive(Debug)]
pub enum AnswerError {
    /// No request has this id.
    Unknown,
    /// The request is no longer pending (answered, or its deadline passed).
    NotPending(Box<RequestEntry>),
    /// The clock reads an instant before the request was made: nothing is decided.
    ClockSkew(Box<UnmaskRequest>),
    /// The answer was refused (the message says why).
    Refused(Box<UnmaskRequest>, String),
    /// The audit callback failed: the answer was not stored.
    Audit(AuditError),
    /// The store failed.
    Store(StoreError),
}

impl From<JournalError> for AnswerError {
    fn from(e: JournalError) -> Self {
        AnswerError::Store(StoreError::Journal(e))
    }
}

#[cfg(feature = "postgres")]
impl From<crate::pg::PgError> for AnswerError {
    fn from(e: crate::pg::PgError) -> Self {
        AnswerError::Store(StoreError::Postgres(e))
    }
}

impl From<AuditedError> for AnswerError {
    fn from(e: AuditedError) -> Self {
        match e {
            AuditedError::Audit(e) => AnswerError::Audit(e),
            AuditedError::Store(e) => AnswerError::Store(e),
        }
    }
}

/// Why an audited store operation failed.
#[derive(Debug)]
pub enum AuditedError {
    /// The audit callback failed: the change it described was not stored.
    Audit(AuditError),
    /// The store failed.
    Store(StoreError),
}

#[cfg(feature = "postgres")]
impl From<crate::pg::PgError> for StoreError {
    fn from(e: crate::pg::PgError) -> Self {
        StoreError::Postgres(e)
    }
}

#[cfg(feature = "postgres")]
impl From<crate::pg::PgError> for AuditedError {
    fn from(e: crate::pg::PgError) -> Self {
        AuditedError::Store(StoreError::Postgres(e))
    }
}

impl From<JournalError> for AuditedError {
    fn from(e: JournalError) -> Self {
        AuditedError::Store(StoreError::Journal(e))
    }
}

/// The store's contents as read so far.
#[derive(Debug, Default)]
struct State {
    grants: Vec<StoredGrant>,
    revocations: HashMap<String, Revocation>,
    /// Requests waiting for (or given) approval, in the order asked.
    requests: Vec<UnmaskRequest>,
    /// Request id → its first stored answer.
    answers: HashMap<String, Answer>,
    /// The ids of grants given by approvals (they hold only from their approval on).
    approved: HashSet<String>,
    /// For a file: the byte offset and line number up to which the file was read.
    offset: u64,
    next_line: usize,
}

impl State {
    fn push(&mut self, entry: Entry) {
        match entry {
            Entry::Grant(g) => self.grants.push(g),
            Entry::Revocation(r) => {
                self.revocations.entry(r.revoke.clone()).or_insert(r);
            }
            Entry::Request { request } => self.requests.push(*request),
            Entry::Answer { answer } => {
                if !self.answers.contains_key(&answer.request) {
                    if let (Outcome::Approved, Some(g)) = (answer.outcome, &answer.grant) {
                        self.approved.insert(g.id.clone());
                        self.grants.push(g.clone());
                    }
                    self.answers.insert(answer.request.clone(), *answer);
                }
            }
            Entry::Intent { .. }
            | Entry::RevokeIntent { .. }
            | Entry::Abandon { .. }
            | Entry::Answering { .. } => {}
        }
    }

    fn request(&self, id: &str) -> Option<&UnmaskRequest> {
        self.requests.iter().find(|r| r.id == id)
    }

    fn request_entries(&self, now: DateTime<Utc>) -> Vec<RequestEntry> {
        self.requests
            .iter()
            .map(|r| RequestEntry {
                request: r.clone(),
                state: state_at(r, self.answers.get(&r.id), now),
            })
            .collect()
    }

    fn revocation(&self, g: &StoredGrant) -> Option<&Revocation> {
        if g.id.is_empty() {
            return None;
        }
        self.revocations.get(&g.id)
    }

    /// An approved grant holds only from its approval on (a clock behind the approver's sees
    /// nothing unmasked).
    fn holds(&self, g: &StoredGrant, now: DateTime<Utc>) -> bool {
        g.expires > now
            && self.revocation(g).is_none()
            && (g.granted_at <= now || !self.approved.contains(&g.id))
    }

    fn active(&self, now: DateTime<Utc>) -> Vec<StoredGrant> {
        self.grants
            .iter()
            .filter(|g| self.holds(g, now))
            .cloned()
            .collect()
    }
}

/// Where a store keeps its grants.
#[derive(Debug)]
enum Backend {
    /// A journal of entries, in memory or in a file (the protocol of this module).
    Journal(Journal),
    /// The grants table of a PostgreSQL schema (the protocol of [`crate::pg`]).
    #[cfg(feature = "postgres")]
    Postgres(std::sync::Arc<crate::pg::Database>),
}

/// Where a journal keeps its entries.
#[derive(Debug)]
enum Journal {
    /// Nowhere: the entries live in the state.
    Memory { last: Mutex<Option<Entry>> },
    /// A durable JSON-lines file.
    File(JsonLinesFile<Entry>),
}

/// Exclusive access to a store's backend and its state (see [`GrantStore::section`]).
struct Txn<'s, 'f> {
    state: &'s mut State,
    backend: TxnBackend<'s, 'f>,
}

enum TxnBackend<'s, 'f> {
    Memory(&'s mut Option<Entry>),
    File(&'s mut Section<'f, Entry>),
}

impl Txn<'_, '_> {
    /// Reads what was appended since the last read (by any process).
    fn refresh(&mut self) -> Result<(), JournalError> {
        if let TxnBackend::File(section) = &mut self.backend {
            let state = &mut *self.state;
            let mut entries = Vec::new();
            let (offset, next_line) =
                section.read_from(state.offset, state.next_line, |e| entries.push(e))?;
            entries.into_iter().for_each(|e| state.push(e));
            state.offset = offset;
            state.next_line = next_line;
        }
        Ok(())
    }

    fn last(&mut self) -> Result<Option<Entry>, JournalError> {
        match &mut self.backend {
            TxnBackend::Memory(last) => Ok((*last).clone()),
            TxnBackend::File(section) => section.last(),
        }
    }

    /// Appends durably; the state learns the entry at the next refresh (file) or now (memory).
    fn append(&mut self, entry: Entry) -> Result<(), JournalError> {
        match &mut self.backend {
            TxnBackend::Memory(last) => {
                **last = Some(entry.clone());
                self.state.push(entry);
                Ok(())
            }
            TxnBackend::File(section) => section.append(&entry),
        }
    }

    /// Abandons an interrupted grant left as the last entry, auditing it first.
    fn recover(
        &mut self,
        audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
    ) -> Result<Option<StoredGrant>, AuditedError> {
        let grant = match self.last()? {
            Some(Entry::Intent { intent }) => {
                audit(Event::Abandoned(&intent)).map_err(AuditedError::Audit)?;
                intent
            }
            Some(Entry::RevokeIntent {
                revoking,
                revoked_by,
            }) => {
                audit(Event::RevocationAbandoned(&revoking, &revoked_by))
                    .map_err(AuditedError::Audit)?;
                revoking
            }
            Some(Entry::Answering { answering }) => {
                audit(Event::AnswerAbandoned(&answering)).map_err(AuditedError::Audit)?;
                self.append(Entry::Abandon {
                    abandon: answering.request.clone(),
                })?;
                return Ok(None);
            }
            _ => return Ok(None),
        };
        self.append(Entry::Abandon {
            abandon: grant.id.clone(),
        })?;
        Ok(Some(grant))
    }
}

impl Txn<'_, '_> {
    /// Records (audited) the expiry of every request whose deadline passed unanswered.
    fn settle(
        &mut self,
        now: DateTime<Utc>,
        audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
    ) -> Result<Vec<UnmaskRequest>, AuditedError> {
        self.refresh()?;
        let expired: Vec<UnmaskRequest> = self
            .state
            .requests
            .iter()
            .filter(|r| !self.state.answers.contains_key(&r.id) && now >= r.answer_by)
            .cloned()
            .collect();
        for r in &expired {
            let answer = Answer {
                request: r.id.clone(),
                outcome: Outcome::Expired,
                by: String::new(),
                at: now,
                grant: None,
            };
            // The deadline decides, not this line: audited first (a crash before the line
            // only repeats the expiry's audit record at the next settlement).
            audit(Event::Answered(r, &answer)).map_err(AuditedError::Audit)?;
            self.append(Entry::Answer {
                answer: Box::new(answer),
            })?;
        }
        Ok(expired)
    }
}

/// Temporary unmask grants, in memory or durable in a file.
#[derive(Debug)]
pub struct GrantStore {
    backend: Backend,
    state: Mutex<State>,
}

impl GrantStore {
    /// A store that forgets its grants when dropped.
    pub fn in_memory() -> Self {
        GrantStore {
            backend: Backend::Journal(Journal::Memory {
                last: Mutex::new(None),
            }),
            state: Mutex::new(State::default()),
        }
    }

    /// Opens (creating if needed) the durable store at `path`. Reads only the file's tail
    /// (see the [module documentation](self)); a target that is not a regular file is an
    /// error.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let (file, _) = JsonLinesFile::open(path)?;
        Ok(GrantStore {
            backend: Backend::Journal(Journal::File(file)),
            state: Mutex::new(State {
                next_line: 1,
                ..State::default()
            }),
        })
    }

    /// A store on the `grants` table of a PostgreSQL schema (see [`crate::pg`]); give the same
    /// `Database` to a [`PostgresSink`](crate::pg::PostgresSink) and each grant commits with
    /// its audit record.
    #[cfg(feature = "postgres")]
    pub fn postgres(db: std::sync::Arc<crate::pg::Database>) -> Self {
        GrantStore {
            backend: Backend::Postgres(db),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with exclusive access to the store (against other threads and, for a file,
    /// other processes).
    fn section<R, E: From<JournalError>>(
        &self,
        journal: &Journal,
        f: impl FnOnce(&mut Txn<'_, '_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut state = self.lock();
        match journal {
            Journal::Memory { last } => {
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut Txn {
                    state: &mut state,
                    backend: TxnBackend::Memory(&mut last),
                })
            }
            Journal::File(file) => file
                .exclusive(|section| {
                    f(&mut Txn {
                        state: &mut state,
                        backend: TxnBackend::File(section),
                    })
                })
                .map_err(E::from)?,
        }
    }

    /// Adds a grant as it is, without an audit record or an intent (for imports and tests;
    /// [`grant`](Self::grant) is the audited way). A grant without an id is given a
    /// [fresh one](new_grant_id). Durable (in a file store) before this returns.
    pub fn add(&self, mut grant: StoredGrant) -> Result<StoredGrant, StoreError> {
        if grant.id.is_empty() {
            grant.id = new_grant_id()?;
        }
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => {
                crate::pg::grant_table::add(db, &grant)?;
                return Ok(grant);
            }
        };
        let entry = Entry::Grant(grant.clone());
        self.section(journal, |txn| txn.append(entry).map_err(StoreError::from))?;
        Ok(grant)
    }

    /// Gives a grant, crash-safely (see the [module documentation](self)): first recovers an
    /// interrupted grant (`audit` gets [`Event::Abandoned`]), then stores the intent, calls
    /// `audit` with [`Event::Granted`] and stores the grant. If the audit fails, nothing holds
    /// (the intent is abandoned). A grant without an id is given a [fresh one](new_grant_id).
    pub fn grant(
        &self,
        mut grant: StoredGrant,
        audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
    ) -> Result<StoredGrant, AuditedError> {
        if grant.id.is_empty() {
            grant.id = new_grant_id().map_err(AuditedError::Store)?;
        }
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => return crate::pg::grant_table::grant(db, grant, audit),
        };
        self.section(journal, |txn| {
            txn.recover(audit)?;
            txn.append(Entry::Intent {
                intent: grant.clone(),
            })?;
            if let Err(e) = audit(Event::Granted(&grant)) {
                // Best effort: if this fails too, the next writer abandons the intent.
                let _ = txn.append(Entry::Abandon {
                    abandon: grant.id.clone(),
                });
                return Err(AuditedError::Audit(e));
            }
            txn.append(Entry::Grant(grant.clone()))?;
            Ok(grant)
        })
    }

    /// Abandons an interrupted grant or revocation, if the store ends with one: `audit` gets
    /// [`Event::Abandoned`] or [`Event::RevocationAbandoned`] before the abandonment is stored.
    /// Returns the grant concerned.
    pub fn recover(
        &self,
        audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
    ) -> Result<Option<StoredGrant>, AuditedError> {
        match &self.backend {
            Backend::Journal(j) => self.section(j, |txn| txn.recover(audit)),
            // Transactions leave nothing to recover.
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => Ok(None),
        }
    }

    /// Revokes, in one exclusive section, every grant that holds at `now` and that `matches`:
    /// for each, an intent is stored, the revocation audited ([`Event::Revoked`]) and then
    /// stored — so after a crash an audited revocation is stored or settled by recovery, as for
    /// grants. A grant revoked by
    /// another process meanwhile is not revoked (nor audited) twice. Returns the grants
    /// revoked, in the order given; on an error, the ones before it stay revoked.
    pub fn revoke_matching(
        &self,
        now: DateTime<Utc>,
        by: &str,
        matches: &dyn Fn(&StoredGrant) -> bool,
        audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
    ) -> Result<Vec<StoredGrant>, AuditedError> {
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => {
                return crate::pg::grant_table::revoke_matching(db, now, by, matches, audit)
            }
        };
        self.section(journal, |txn| {
            txn.recover(audit)?;
            txn.refresh()?;
            let targets: Vec<StoredGrant> = txn
                .state
                .active(now)
                .into_iter()
                .filter(|g| !g.id.is_empty() && matches(g))
                .collect();
            for g in &targets {
                txn.append(Entry::RevokeIntent {
                    revoking: g.clone(),
                    revoked_by: by.to_owned(),
                })?;
                if let Err(e) = audit(Event::Revoked(g)) {
                    // Best effort: if this fails too, the next writer abandons the intent.
                    let _ = txn.append(Entry::Abandon {
                        abandon: g.id.clone(),
                    });
                    return Err(AuditedError::Audit(e));
                }
                txn.append(Entry::Revocation(Revocation {
                    revoke: g.id.clone(),
                    revoked_at: now,
                    revoked_by: by.to_owned(),
                }))?;
            }
            Ok(targets)
        })
    }

    /// Revokes the grant with this id without auditing: durable before this returns. Returns
    /// false (and writes nothing) when no grant has this id or it is already revoked.
    pub fn revoke(&self, id: &str, at: DateTime<Utc>, by: &str) -> Result<bool, StoreError> {
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => return crate::pg::grant_table::revoke(db, id, at, by),
        };
        self.section(journal, |txn| {
            txn.refresh()?;
            let known = txn.state.grants.iter().any(|g| g.id == id);
            if id.is_empty() || !known || txn.state.revocations.contains_key(id) {
                return Ok(false);
            }
            txn.append(Entry::Revocation(Revocation {
                revoke: id.to_owned(),
                revoked_at: at,
                revoked_by: by.to_owned(),
            }))?;
            Ok(true)
        })
    }

    /// Stores a request that waits for approval: first settles an interrupted operation and
    /// the requests expired at its instant, then `audit` gets [`Event::Requested`], then the
    /// request is stored. If the audit fails, nothing is stored. A request without an id is
    /// given a [fresh one](super::new_request_id).
    pub fn submit(
        &self,
        mut request: UnmaskRequest,
        audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
    ) -> Result<UnmaskRequest, AuditedError> {
        if request.id.is_empty() {
            request.id = super::request::new_request_id().map_err(AuditedError::Store)?;
        }
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => return crate::pg::request_table::submit(db, request, audit),
        };
        self.section(journal, |txn| {
            txn.recover(audit)?;
            txn.settle(request.requested_at, audit)?;
            audit(Event::Requested(&request)).map_err(AuditedError::Audit)?;
            txn.append(Entry::Request {
                request: Box::new(request.clone()),
            })?;
            Ok(request)
        })
    }

    /// Answers the request `id` at `now`, in one exclusive section: settles an interrupted
    /// operation and the expired requests, checks that the request is pending (and that `now`
    /// is not before it was made), asks `decide` for the answer, stores its intent, audits it
    /// ([`Event::Answered`]) and stores it. So of two processes answering at once, one stores
    /// its answer and the other gets [`AnswerError::NotPending`].
    pub fn answer(
        &self,
        id: &str,
        now: DateTime<Utc>,
        decide: &dyn Fn(&UnmaskRequest) -> Result<Answer, String>,
        audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
    ) -> Result<(UnmaskRequest, Answer), AnswerError> {
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => {
                return crate::pg::request_table::answer(db, id, now, decide, audit)
            }
        };
        self.section(journal, |txn| {
            txn.recover(audit)?;
            txn.settle(now, audit)?;
            let request = txn.state.request(id).cloned().ok_or(AnswerError::Unknown)?;
            if now < request.requested_at {
                return Err(AnswerError::ClockSkew(Box::new(request)));
            }
            let state = state_at(&request, txn.state.answers.get(id), now);
            if state != RequestState::Pending {
                return Err(AnswerError::NotPending(Box::new(RequestEntry {
                    request,
                    state,
                })));
            }
            let answer = match decide(&request) {
                Ok(a) => a,
                Err(m) => return Err(AnswerError::Refused(Box::new(request), m)),
            };
            txn.append(Entry::Answering {
                answering: Box::new(answer.clone()),
            })?;
            if let Err(e) = audit(Event::Answered(&request, &answer)) {
                // Best effort: if this fails too, the next writer abandons the intent.
                let _ = txn.append(Entry::Abandon {
                    abandon: id.to_owned(),
                });
                return Err(AnswerError::Audit(e));
            }
            txn.append(Entry::Answer {
                answer: Box::new(answer.clone()),
            })?;
            Ok((request, answer))
        })
    }

    /// Records (audited, [`Event::Answered`] with [`Outcome::Expired`]) the expiry of every
    /// request whose deadline passed unanswered at `now`; returns them.
    pub fn settle_expired(
        &self,
        now: DateTime<Utc>,
        audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
    ) -> Result<Vec<UnmaskRequest>, AuditedError> {
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => {
                return crate::pg::request_table::settle_expired(db, now, audit)
            }
        };
        self.section(journal, |txn| {
            txn.recover(audit)?;
            txn.settle(now, audit)
        })
    }

    /// Every request of the store, in the order asked, each with its state at `now`.
    pub fn requests(&self, now: DateTime<Utc>) -> Result<Vec<RequestEntry>, StoreError> {
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => return crate::pg::request_table::all(db, now),
        };
        self.section(journal, |txn| {
            txn.refresh()?;
            Ok(txn.state.request_entries(now))
        })
    }

    /// The grants that hold at `now` (expiry strictly after `now`, not revoked), in the order
    /// they were given.
    pub fn active(&self, now: DateTime<Utc>) -> Result<Vec<StoredGrant>, StoreError> {
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => return crate::pg::grant_table::active(db, now),
        };
        self.section(journal, |txn| {
            txn.refresh()?;
            Ok(txn.state.active(now))
        })
    }

    /// Every grant of the store (expired and revoked ones included), in the order given, each
    /// with its revocation if any.
    pub fn entries(&self) -> Result<Vec<GrantEntry>, StoreError> {
        let journal = match &self.backend {
            Backend::Journal(j) => j,
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => return crate::pg::grant_table::all(db),
        };
        self.section(journal, |txn| {
            txn.refresh()?;
            let state = &*txn.state;
            Ok(state
                .grants
                .iter()
                .map(|g| GrantEntry {
                    grant: g.clone(),
                    revoked: state.revocation(g).cloned(),
                })
                .collect())
        })
    }

    /// Rewrites the file with only the grants that hold at `now` (a no-op for an in-memory
    /// store apart from forgetting expired grants). The new content is written to a temporary
    /// file beside the store, fsynced, and renamed over it, so a crash leaves either the old
    /// file or the new one. Other processes must not use the store meanwhile.
    pub fn compact(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        #[cfg(feature = "postgres")]
        if let Backend::Postgres(db) = &self.backend {
            return crate::pg::grant_table::compact(db, now);
        }
        let live = self.active(now)?;
        let pending: Vec<UnmaskRequest> = match &self.backend {
            Backend::Journal(_) => self
                .requests(now)?
                .into_iter()
                .filter(|r| r.state == RequestState::Pending)
                .map(|r| r.request)
                .collect(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => Vec::new(),
        };
        if let Backend::Journal(Journal::File(file)) = &self.backend {
            let path = file.path().to_owned();
            rewrite(&path, &live, &pending)?;
            let (file, _) = JsonLinesFile::open(&path)?;
            self.backend = Backend::Journal(Journal::File(file));
        }
        *self.lock() = match self.backend {
            // The file is read again from its start at the next refresh.
            Backend::Journal(Journal::File(_)) => State {
                next_line: 1,
                ..State::default()
            },
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => State::default(),
            Backend::Journal(Journal::Memory { .. }) => State {
                grants: live,
                requests: pending,
                ..State::default()
            },
        };
        Ok(())
    }
}

/// Writes `live` and the `pending` requests as the whole content of the store at `path`,
/// atomically (temporary file, fsync, rename, directory fsync).
fn rewrite(
    path: &Path,
    live: &[StoredGrant],
    pending: &[UnmaskRequest],
) -> Result<(), JournalError> {
    let tmp = tmp_path(path);
    let io = |action: &'static str| {
        let path = path.to_owned();
        move |error| JournalError::Io {
            path,
            action,
            error,
        }
    };
    let mut bytes = Vec::new();
    for g in live {
        serde_json::to_writer(&mut bytes, &Entry::Grant(g.clone()))
            .map_err(|e| JournalError::Encode(e.to_string()))?;
        bytes.push(b'\n');
    }
    for r in pending {
        let entry = Entry::Request {
            request: Box::new(r.clone()),
        };
        serde_json::to_writer(&mut bytes, &entry)
            .map_err(|e| JournalError::Encode(e.to_string()))?;
        bytes.push(b'\n');
    }
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io("create the compacted copy of"))?;
    out.write_all(&bytes)
        .and_then(|()| out.sync_all())
        .map_err(io("write the compacted copy of"))?;
    std::fs::rename(&tmp, path).map_err(io("replace"))?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if cfg!(unix) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io("sync the directory of"))?;
        }
    }
    Ok(())
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_owned()).unwrap_or_default();
    name.push(".compact");
    path.with_file_name(name)
}
