//! The grant store and audit trail (`--grants`, `--audit`): JSON-lines files or the `grants` /
//! `audit` tables of a `polc sql` schema in PostgreSQL, as `polc grants` opens them. The same
//! PostgreSQL URL for both gives them one connection, so that a grant and its audit record
//! commit together; several servers on one database share grants and one audit trail.

use std::sync::Arc;

use pol_runtime::audit::{AuditSink, FileSink};
use pol_runtime::grants::GrantStore;
use pol_runtime::pg::{Database, PostgresSink};

fn is_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// `target` as messages name it: a path, or a URL without its password.
pub fn describe(target: &str) -> String {
    if !is_url(target) {
        return target.to_owned();
    }
    let Some((scheme, rest)) = target.split_once("://") else {
        return target.to_owned();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => target.to_owned(),
        },
        None => target.to_owned(),
    }
}

fn connect(url: &str, schema: &str) -> Result<Arc<Database>, String> {
    Database::connect(url, schema).map_err(|e| format!("{}: {e}", describe(url)))
}

fn open_audit(target: &str, schema: &str) -> Result<Arc<dyn AuditSink>, String> {
    if is_url(target) {
        return Ok(Arc::new(PostgresSink::new(connect(target, schema)?)));
    }
    FileSink::open(target)
        .map(|(sink, _)| Arc::new(sink) as Arc<dyn AuditSink>)
        .map_err(|e| format!("the audit file {target}: {e}"))
}

fn open_store(target: &str, schema: &str) -> Result<GrantStore, String> {
    if is_url(target) {
        return Ok(GrantStore::postgres(connect(target, schema)?));
    }
    GrantStore::open(target).map_err(|e| format!("the grant store {target}: {e}"))
}

/// Opens the grant store (if any; in memory otherwise) and the audit trail. Blocking.
pub fn open(
    grants: Option<&str>,
    audit: &str,
    schema: &str,
) -> Result<(GrantStore, Arc<dyn AuditSink>), String> {
    if let Some(g) = grants {
        if is_url(g) && g == audit {
            let db = connect(g, schema)?;
            return Ok((
                GrantStore::postgres(Arc::clone(&db)),
                Arc::new(PostgresSink::new(db)),
            ));
        }
    }
    let sink = open_audit(audit, schema)?;
    let store = match grants {
        Some(g) => open_store(g, schema)?,
        None => GrantStore::in_memory(),
    };
    Ok((store, sink))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            describe("postgres://amy:s3cret@db:5432/app"),
            "postgres://amy:***@db:5432/app"
        );
        assert_eq!(describe("grants.jsonl"), "grants.jsonl");
    }
}
