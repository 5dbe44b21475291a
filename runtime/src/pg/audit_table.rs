//! The audit sink on `<schema>.audit`: one row per [`AuditRecord`], in the order written (the
//! `seq` column).

use std::sync::Arc;

use postgres::GenericClient;

use super::{query_error, ts, Database, PgError};
use crate::audit::{AuditError, AuditRecord, AuditSink, RequestKind};

/// An [`AuditSink`] writing to `<schema>.audit`. A record is committed before
/// [`record`](AuditSink::record) returns — or, written during a grant store transaction of the
/// same [`Database`] (same thread), committed with that transaction.
#[derive(Debug, Clone)]
pub struct PostgresSink {
    db: Arc<Database>,
}

impl PostgresSink {
    /// A sink on the audit table of `db`.
    pub fn new(db: Arc<Database>) -> Self {
        PostgresSink { db }
    }

    /// The database.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }
}

fn request_name(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Unmask => "unmask",
        RequestKind::Detokenize => "detokenize",
        RequestKind::Tokenize => "tokenize",
    }
}

/// Inserts one record.
pub(super) fn insert(
    client: &mut impl GenericClient,
    table: &str,
    r: &AuditRecord,
) -> Result<(), PgError> {
    client
        .execute(
            &format!(
                "INSERT INTO {table} (time, subject, action, request, source, key, columns, \
                 expiry, reason, detail) VALUES ($1::text::timestamptz, $2, $3, $4, $5, $6, $7, \
                 $8::text::timestamptz, $9, $10)"
            ),
            &[
                &ts(r.time),
                &r.subject,
                &r.action.as_str(),
                &request_name(r.request),
                &r.source,
                &r.key,
                &r.columns,
                &r.expiry.map(ts),
                &r.reason,
                &r.detail,
            ],
        )
        .map_err(query_error)?;
    Ok(())
}

impl AuditSink for PostgresSink {
    fn record(&self, record: &AuditRecord) -> Result<(), AuditError> {
        if self.db.defer(record) {
            return Ok(());
        }
        let table = self.db.table("audit");
        insert(&mut *self.db.client(), &table, record).map_err(|e| AuditError::Other(e.to_string()))
    }
}
