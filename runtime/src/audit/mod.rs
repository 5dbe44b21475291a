//! Auditing: every temporary-unmask request (granted or refused), every read of a record
//! through a grant, every revocation and every detokenization is written to an [`AuditSink`].
//!
//! The runtime ships two sinks:
//!
//! - [`FileSink`]: a durable, append-only file of JSON lines (one [`AuditRecord`] per line),
//!   each record written and fsynced before [`AuditSink::record`] returns; a torn last line
//!   left by a crash is truncated away on reopen (see [`journal`]). Opening reads only the
//!   file's tail, so its cost does not grow with the audit history; a target that is not a
//!   regular file (a directory, a FIFO, `/dev/full`) is refused at once.
//! - [`MemorySink`]: keeps records in memory, for tests and for applications that forward
//!   them elsewhere.
//!
//! A sink that fails makes the audited operation fail closed: a grant is not given, a token is
//! not detokenized, a granted record is shown masked.
//!
//! A record, as written by [`FileSink`] (one line; wrapped here):
//!
//! ```text
//! {"time":"2026-01-01T00:00:00Z","subject":"amy","action":"grant","request":"unmask",
//!  "source":"customers","key":"1","columns":[],"expiry":"2026-01-02T00:00:00Z",
//!  "reason":"ticket 4411","detail":"granted by unmask_request for 86400s"}
//! ```

pub mod journal;

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use journal::{JournalError, JsonLinesFile, Recovered, Section};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A temporary unmask of one record was granted (until [`AuditRecord::expiry`]).
    Grant,
    /// A request ([`AuditRecord::request`] says which) was refused; [`AuditRecord::detail`]
    /// says why.
    Refusal,
    /// A user was shown cells of a record in clear because of a temporary unmask grant, cells
    /// the policy would otherwise have masked for them ([`AuditRecord::columns`]). Written once
    /// per session, source and record.
    Unmask,
    /// A token or format-preserving ciphertext was reversed for a user.
    Detokenize,
    /// A temporary unmask grant was revoked before its expiry ([`AuditRecord::detail`] names
    /// the grant).
    Revoke,
    /// Values were tokenized for a user (`GrantService::tokenize`); the values are never
    /// written.
    Tokenize,
    /// A temporary unmask that needs approval was requested: it waits (until
    /// [`AuditRecord::expiry`]) for an approver; nothing is unmasked yet.
    Request,
    /// A pending request was approved ([`AuditRecord::subject`] is the approver): the grant
    /// holds until [`AuditRecord::expiry`].
    Approve,
    /// A pending request was denied ([`AuditRecord::subject`] is who denied it).
    Deny,
    /// A pending request expired unanswered.
    Expire,
}

impl AuditAction {
    /// The action's name as written in records (`grant`, `refusal`, `unmask`, `detokenize`,
    /// `revoke`, `tokenize`, `request`, `approve`, `deny`, `expire`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Grant => "grant",
            AuditAction::Refusal => "refusal",
            AuditAction::Unmask => "unmask",
            AuditAction::Detokenize => "detokenize",
            AuditAction::Revoke => "revoke",
            AuditAction::Tokenize => "tokenize",
            AuditAction::Request => "request",
            AuditAction::Approve => "approve",
            AuditAction::Deny => "deny",
            AuditAction::Expire => "expire",
        }
    }
}

/// Which kind of request a record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A temporary unmask of one record (§7).
    Unmask,
    /// Reversing a `tokenize` or `format_preserving` value (§7).
    Detokenize,
    /// Making a `tokenize` or `format_preserving` value of a column for a user allowed to
    /// detokenize it.
    Tokenize,
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When (the engine's clock).
    pub time: DateTime<Utc>,
    /// The user's login (empty if the subject has none).
    pub subject: String,
    /// What happened.
    pub action: AuditAction,
    /// The kind of request.
    pub request: RequestKind,
    /// The source.
    pub source: String,
    /// The record's key, as canonical text (for unmask requests and reads), if any.
    pub key: Option<String>,
    /// The columns concerned: the detokenized column, or the columns a grant revealed.
    pub columns: Vec<String>,
    /// Until when a temporary unmask holds.
    pub expiry: Option<DateTime<Utc>>,
    /// The justification the user gave, if any (an empty one is none).
    pub reason: Option<String>,
    /// The engine's account: which rule granted, or why the request was refused.
    pub detail: String,
}

impl AuditRecord {
    /// A refusal of `subject`'s `request` at `time`, with the justification given (an empty
    /// one is none) and nothing else yet: callers fill in the source, key, columns and detail
    /// they know, and change the action once the request succeeds.
    pub fn refusal(
        time: DateTime<Utc>,
        subject: String,
        request: RequestKind,
        reason: &str,
    ) -> Self {
        AuditRecord {
            time,
            subject,
            action: AuditAction::Refusal,
            request,
            source: String::new(),
            key: None,
            columns: Vec::new(),
            expiry: None,
            reason: (!reason.is_empty()).then(|| reason.to_owned()),
            detail: String::new(),
        }
    }
}

/// Why a record could not be written.
#[derive(Debug)]
pub enum AuditError {
    /// The file sink failed.
    Journal(JournalError),
    /// Another sink's failure, with its message.
    Other(String),
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Journal(e) => write!(f, "the audit record was not written: {e}"),
            AuditError::Other(m) => write!(f, "the audit record was not written: {m}"),
        }
    }
}

impl std::error::Error for AuditError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuditError::Journal(e) => Some(e),
            AuditError::Other(_) => None,
        }
    }
}

impl From<JournalError> for AuditError {
    fn from(e: JournalError) -> Self {
        AuditError::Journal(e)
    }
}

/// Where audit records go. `record` must return only once the record is as durable as the
/// sink promises; an error makes the audited operation fail closed.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Writes one record.
    fn record(&self, record: &AuditRecord) -> Result<(), AuditError>;
}

/// The durable, append-only JSON-lines file sink (see [`journal`] for the crash protocol).
#[derive(Debug)]
pub struct FileSink {
    file: JsonLinesFile<AuditRecord>,
}

impl FileSink {
    /// Opens (creating if needed) the audit file at `path`, truncating a torn last line away.
    /// Reads only the file's tail (see [`journal`]); returns the sink and what the repair did.
    pub fn open(path: impl AsRef<Path>) -> Result<(FileSink, Recovered), AuditError> {
        let (file, recovered) = JsonLinesFile::open(path)?;
        Ok((FileSink { file }, recovered))
    }

    /// Reads every complete record of an audit file (repairing a torn last line, as
    /// [`open`](Self::open) does). Its cost grows with the file, unlike `open`'s.
    pub fn read(path: impl AsRef<Path>) -> Result<Vec<AuditRecord>, AuditError> {
        FileSink::open(path)?.0.records()
    }

    /// Reads every complete record of the file, in order.
    pub fn records(&self) -> Result<Vec<AuditRecord>, AuditError> {
        Ok(self.file.read_all()?)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

impl AuditSink for FileSink {
    fn record(&self, record: &AuditRecord) -> Result<(), AuditError> {
        Ok(self.file.append(record)?)
    }
}

/// A sink that keeps records in memory.
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<AuditRecord>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// A copy of the records written so far, in order.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, record: &AuditRecord) -> Result<(), AuditError> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record.clone());
        Ok(())
    }
}

impl<S: AuditSink + ?Sized> AuditSink for std::sync::Arc<S> {
    fn record(&self, record: &AuditRecord) -> Result<(), AuditError> {
        (**self).record(record)
    }
}
