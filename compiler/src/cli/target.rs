//! Where `polc grants` and `polc eval --grants` keep grants and audit records: a JSON-lines
//! file, or the `grants` / `audit` tables of a `polc sql` schema in PostgreSQL (an argument
//! starting with `postgres://` or `postgresql://`).
//!
//! A store and an audit trail given the same connection string share one connection, so each
//! grant (or revocation) commits in one transaction with its audit record.

use super::fail_usage;
use pol_runtime::audit::{AuditSink, FileSink};
use pol_runtime::grants::GrantStore;
use pol_runtime::pg::{Database, PostgresSink};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// A grant store or an audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A JSON-lines file.
    File(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl Target {
    /// Parses a command-line argument (never fails: what is not a PostgreSQL URL is a path).
    pub fn parse(arg: &str) -> Result<Target, String> {
        if arg.starts_with("postgres://") || arg.starts_with("postgresql://") {
            Ok(Target::Postgres(arg.to_owned()))
        } else {
            Ok(Target::File(PathBuf::from(arg)))
        }
    }

    /// The target as messages name it: the path, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Postgres(url) => redact(url),
        }
    }
}

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

fn connect(url: &str, schema: &str, what: &str) -> Result<Arc<Database>, ExitCode> {
    Database::connect(url, schema)
        .map_err(|e| fail_usage(format!("the {what} {}: {e}", redact(url))))
}

/// Opens a grant store; `must_exist` refuses a missing file (a database's tables must exist).
pub fn open_store(target: &Target, schema: &str, must_exist: bool) -> Result<GrantStore, ExitCode> {
    match target {
        Target::File(path) => {
            if must_exist && !path.exists() {
                return Err(fail_usage(format!(
                    "the grant store {} does not exist",
                    path.display()
                )));
            }
            GrantStore::open(path)
                .map_err(|e| fail_usage(format!("the grant store {}: {e}", path.display())))
        }
        Target::Postgres(url) => Ok(GrantStore::postgres(connect(url, schema, "grant store")?)),
    }
}

/// Opens an audit trail.
pub fn open_audit(target: &Target, schema: &str) -> Result<Arc<dyn AuditSink>, ExitCode> {
    match target {
        Target::File(path) => FileSink::open(path)
            .map(|(sink, _)| Arc::new(sink) as Arc<dyn AuditSink>)
            .map_err(|e| fail_usage(format!("the audit file {}: {e}", path.display()))),
        Target::Postgres(url) => Ok(Arc::new(PostgresSink::new(connect(
            url,
            schema,
            "audit trail",
        )?))),
    }
}

/// Opens an audit trail and a grant store (the audit first: both are checked before anything
/// is written); the same PostgreSQL URL for both gives them one connection, so that a grant
/// and its audit record commit together.
pub fn open_both(
    store: &Target,
    audit: &Target,
    schema: &str,
    must_exist: bool,
) -> Result<(GrantStore, Arc<dyn AuditSink>), ExitCode> {
    if let (Target::Postgres(s), Target::Postgres(a)) = (store, audit) {
        if s == a {
            let db = connect(s, schema, "grant store")?;
            return Ok((
                GrantStore::postgres(Arc::clone(&db)),
                Arc::new(PostgresSink::new(db)),
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
    }
}
