//! Where grants and audit records are kept, as a command-line argument or a configuration
//! value names it: a JSON-lines file, or the `grants` / `audit` tables of a `polc sql` schema
//! in PostgreSQL (a value starting with `postgres://` or `postgresql://`).
//!
//! `polc grants`, `polc eval --grants` and `pol-server --grants/--audit` open their stores
//! here, so that one value means the same store everywhere:
//!
//! ```text
//! Target::parse(arg)                         → File(path) | Postgres(url)
//! open_store(&target, schema, must_exist)     → GrantStore
//! open_audit(&target, schema)                 → Arc<dyn AuditSink>
//! open_both(&store, &audit, schema, must_exist) → (GrantStore, Arc<dyn AuditSink>)
//! ```
//!
//! A store and an audit trail given the same connection string share one connection, so each
//! grant (or revocation) commits in one transaction with its audit record. Messages never show
//! a connection string's password ([`Target::describe`]). Without the `postgres` feature a
//! PostgreSQL target parses but does not open ([`TargetError::NoPostgres`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::audit::{AuditError, AuditSink, FileSink, JournalError};
use crate::grants::GrantStore;

/// A grant store or an audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A JSON-lines file.
    File(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl Target {
    /// Parses a command-line argument (never fails: what is not a PostgreSQL URL is a path;
    /// the `Result` fits `clap`'s value parsers).
    pub fn parse(arg: &str) -> Result<Target, String> {
        Ok(Target::from(arg))
    }

    /// The target as messages name it: the path, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Postgres(url) => redact(url),
        }
    }
}

impl From<&str> for Target {
    /// A PostgreSQL URL, or else a path.
    fn from(arg: &str) -> Target {
        if arg.starts_with("postgres://") || arg.starts_with("postgresql://") {
            Target::Postgres(arg.to_owned())
        } else {
            Target::File(PathBuf::from(arg))
        }
    }
}

/// Why a grant store or an audit trail did not open. Messages name the target (never a
/// password).
#[derive(Debug)]
pub enum TargetError {
    /// `T0001`: the grant store file does not exist (and had to).
    MissingStore(PathBuf),
    /// `T0002`: the grant store file cannot be opened or read.
    Store(PathBuf, JournalError),
    /// `T0003`: the audit file cannot be opened or read.
    Audit(PathBuf, AuditError),
    /// `T0004`: the PostgreSQL database cannot be used (the URL, the connection, the tables).
    Database {
        /// `grant store` or `audit trail`.
        what: &'static str,
        /// The URL without its password.
        url: String,
        /// What went wrong.
        error: String,
    },
    /// `T0005`: a PostgreSQL target, in a build without the `postgres` feature.
    NoPostgres(String),
}

impl TargetError {
    /// The error's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            TargetError::MissingStore(_) => "T0001",
            TargetError::Store(..) => "T0002",
            TargetError::Audit(..) => "T0003",
            TargetError::Database { .. } => "T0004",
            TargetError::NoPostgres(_) => "T0005",
        }
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::MissingStore(p) => {
                write!(f, "the grant store {} does not exist", p.display())
            }
            TargetError::Store(p, e) => write!(f, "the grant store {}: {e}", p.display()),
            TargetError::Audit(p, e) => write!(f, "the audit file {}: {e}", p.display()),
            TargetError::Database { what, url, error } => write!(f, "the {what} {url}: {error}"),
            TargetError::NoPostgres(url) => write!(
                f,
                "{url}: this build has no PostgreSQL support (the `postgres` feature)"
            ),
        }
    }
}

impl std::error::Error for TargetError {}

/// `url` with the password of its user info (if any) replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(feature = "postgres")]
fn connect(
    url: &str,
    schema: &str,
    what: &'static str,
) -> Result<Arc<crate::pg::Database>, TargetError> {
    crate::pg::Database::connect(url, schema).map_err(|e| TargetError::Database {
        what,
        url: redact(url),
        error: e.to_string(),
    })
}

/// Opens a grant store; `must_exist` refuses a missing file (a database's tables must exist
/// in any case). Blocking.
pub fn open_store(
    target: &Target,
    schema: &str,
    must_exist: bool,
) -> Result<GrantStore, TargetError> {
    match target {
        Target::File(path) => {
            if must_exist && !path.exists() {
                return Err(TargetError::MissingStore(path.clone()));
            }
            GrantStore::open(path).map_err(|e| TargetError::Store(path.clone(), e))
        }
        #[cfg(feature = "postgres")]
        Target::Postgres(url) => Ok(GrantStore::postgres(connect(url, schema, "grant store")?)),
        #[cfg(not(feature = "postgres"))]
        Target::Postgres(url) => {
            let _ = schema;
            Err(TargetError::NoPostgres(redact(url)))
        }
    }
}

/// Opens an audit trail. Blocking.
pub fn open_audit(target: &Target, schema: &str) -> Result<Arc<dyn AuditSink>, TargetError> {
    match target {
        Target::File(path) => FileSink::open(path)
            .map(|(sink, _)| Arc::new(sink) as Arc<dyn AuditSink>)
            .map_err(|e| TargetError::Audit(path.clone(), e)),
        #[cfg(feature = "postgres")]
        Target::Postgres(url) => Ok(Arc::new(crate::pg::PostgresSink::new(connect(
            url,
            schema,
            "audit trail",
        )?))),
        #[cfg(not(feature = "postgres"))]
        Target::Postgres(url) => {
            let _ = schema;
            Err(TargetError::NoPostgres(redact(url)))
        }
    }
}

/// Opens an audit trail and a grant store (the audit first: both are checked before anything
/// is written); the same PostgreSQL URL for both gives them one connection, so that a grant
/// and its audit record commit together. Blocking.
pub fn open_both(
    store: &Target,
    audit: &Target,
    schema: &str,
    must_exist: bool,
) -> Result<(GrantStore, Arc<dyn AuditSink>), TargetError> {
    #[cfg(feature = "postgres")]
    if let (Target::Postgres(s), Target::Postgres(a)) = (store, audit) {
        if s == a {
            let db = connect(s, schema, "grant store")?;
            return Ok((
                GrantStore::postgres(Arc::clone(&db)),
                Arc::new(crate::pg::PostgresSink::new(db)),
            ));
        }
    }
    let sink = open_audit(audit, schema)?;
    let store = open_store(store, schema, must_exist)?;
    Ok((store, sink))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_the_rest_are_paths() {
        assert_eq!(
            Target::parse("postgres:///db?host=/tmp/x"),
            Ok(Target::Postgres("postgres:///db?host=/tmp/x".into()))
        );
        assert_eq!(
            Target::parse("postgresql://u@h/db"),
            Ok(Target::Postgres("postgresql://u@h/db".into()))
        );
        assert_eq!(
            Target::parse("grants.jsonl"),
            Ok(Target::File("grants.jsonl".into()))
        );
    }

    #[test]
    fn messages_never_show_a_password() {
        assert_eq!(
            redact("postgres://amy:s3cret@db.example:5432/app?sslmode=disable"),
            "postgres://amy:***@db.example:5432/app?sslmode=disable"
        );
        assert_eq!(redact("postgres://amy@db/app"), "postgres://amy@db/app");
        assert_eq!(
            redact("postgres:///app?host=/tmp"),
            "postgres:///app?host=/tmp"
        );
        assert_eq!(
            Target::parse("postgres://amy:s3cret@db:5432/app")
                .map(|t| t.describe())
                .as_deref(),
            Ok("postgres://amy:***@db:5432/app")
        );
    }

    #[test]
    fn a_missing_store_is_refused_only_when_it_must_exist() {
        let dir = std::env::temp_dir().join(format!("pol-target-{}", std::process::id()));
        let path = dir.join("grants.jsonl");
        let target = Target::File(path.clone());
        let err = open_store(&target, "pol", true).err();
        assert_eq!(err.as_ref().map(TargetError::code), Some("T0001"));
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(format!("the grant store {} does not exist", path.display()))
        );
        let _ = std::fs::create_dir_all(&dir);
        assert!(open_store(&target, "pol", false).is_ok());
        assert!(path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
