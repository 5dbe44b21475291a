//! PostgreSQL (feature `postgres`): a grant store and an audit sink on the `grants` and `audit`
//! tables that `polc sql` creates in its schema, so that any number of application instances —
//! and the masked views — share one set of grants and one audit trail.
//!
//! # Transaction protocol
//!
//! A [`Database`] is one connection (the synchronous `postgres` client) to one database and
//! the name of the schema holding the tables. Every change of the grants runs in one
//! transaction that first takes `LOCK TABLE <schema>.grants IN SHARE ROW EXCLUSIVE MODE`:
//! writers (of every process) run one at a time, while readers — the views, [`active`] — are
//! never blocked (they take `ACCESS SHARE`). Audit records written by a [`PostgresSink`] *of
//! the same [`Database`]* during that transaction, by the same thread, join the transaction:
//! they are inserted just before `COMMIT`. So a grant (or revocation) and its audit record are
//! committed together or not at all — there is no intent to recover, a crash anywhere leaves
//! neither. (With an audit sink elsewhere — a file, another database — the record is written
//! before the transaction commits: a crash in between leaves an audit record of a grant that
//! never held, never the reverse.)
//!
//! A revocation decides its targets inside the locked transaction, reading the grants
//! committed by every writer before it, so concurrent revocations revoke (and audit) each
//! grant once.
//!
//! Timestamps are `timestamptz`: PostgreSQL keeps microseconds, finer digits are dropped.
//!
//! [`active`]: crate::grants::GrantStore::active

mod audit_table;
pub(crate) mod grant_table;
pub(crate) mod request_table;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use postgres::{Client, Config, NoTls, Transaction};

use crate::audit::AuditRecord;

pub use audit_table::PostgresSink;

/// Why the database could not be used. Each variant has a stable code ([`PgError::code`]).
#[derive(Debug)]
pub enum PgError {
    /// `P0001`: the connection string does not parse.
    Url(String),
    /// `P0002`: no connection could be made (server down, socket missing, authentication).
    Connect(String),
    /// `P0003`: the schema lacks a table (the `polc sql` script was not applied).
    MissingTable(String),
    /// `P0004`: a statement failed.
    Query(String),
    /// `P0005`: a row of the grants table does not describe a grant.
    BadRow(String),
}

impl PgError {
    /// The error's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PgError::Url(_) => "P0001",
            PgError::Connect(_) => "P0002",
            PgError::MissingTable(_) => "P0003",
            PgError::Query(_) => "P0004",
            PgError::BadRow(_) => "P0005",
        }
    }
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgError::Url(m) => write!(f, "not a PostgreSQL connection string: {m}"),
            PgError::Connect(m) => write!(f, "cannot connect to PostgreSQL: {m}"),
            PgError::MissingTable(t) => write!(
                f,
                "the table {t} does not exist (apply the script of `polc sql` to this database first)"
            ),
            PgError::Query(m) => write!(f, "PostgreSQL: {m}"),
            PgError::BadRow(m) => write!(f, "a grant row cannot be read: {m}"),
        }
    }
}

impl std::error::Error for PgError {}

/// The message of a client error, with the server's detail when there is one.
pub(crate) fn query_error(e: postgres::Error) -> PgError {
    match e.as_db_error() {
        Some(db) => PgError::Query(format!("{} ({})", db.message(), db.code().code())),
        None => PgError::Query(e.to_string()),
    }
}

/// A timestamp as the text PostgreSQL reads (`$n::text::timestamptz`).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The SQL reading a `timestamptz` column as RFC 3339 text in UTC (parsed by [`parse_ts`]).
pub(crate) fn ts_column(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
}

/// Parses what [`ts_column`] reads.
pub(crate) fn parse_ts(text: &str) -> Result<DateTime<Utc>, PgError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| PgError::BadRow(format!("timestamp `{text}`: {e}")))
}

/// One connection to a database holding the tables of a `polc sql` schema (see the [module
/// documentation](self)). Shared (`Arc`) by a grant store and an audit sink, their changes
/// commit together.
pub struct Database {
    client: Mutex<Client>,
    schema: String,
    /// Audit records written during an open transaction, by thread: inserted before it commits.
    pending: Mutex<HashMap<ThreadId, Vec<AuditRecord>>>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// `name` as a quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Database {
    /// Connects to `url` (a `postgres://` / `postgresql://` URL or a `key=value` string; a
    /// `host` that is a directory path, e.g. `postgres:///db?host=/run/postgresql` or
    /// `postgres://user@%2Frun%2Fpostgresql/db`, is a Unix-socket directory) and checks that
    /// `schema` holds the `grants` and `audit` tables. Without TLS.
    pub fn connect(url: &str, schema: &str) -> Result<Arc<Database>, PgError> {
        let mut config: Config = url
            .parse()
            .map_err(|e: postgres::Error| PgError::Url(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let mut client = config
            .connect(NoTls)
            .map_err(|e| PgError::Connect(e.to_string()))?;
        for table in ["grants", "audit"] {
            let name = format!("{}.{}", ident(schema), ident(table));
            let row = client
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
                .map_err(query_error)?;
            let exists: bool = row.try_get(0).map_err(query_error)?;
            if !exists {
                return Err(PgError::MissingTable(format!("{schema}.{table}")));
            }
        }
        Ok(Arc::new(Database {
            client: Mutex::new(client),
            schema: schema.to_owned(),
            pending: Mutex::new(HashMap::new()),
        }))
    }

    /// The schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// `<schema>.<table>`, quoted.
    pub(crate) fn table(&self, table: &str) -> String {
        format!("{}.{}", ident(&self.schema), ident(table))
    }

    pub(crate) fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<ThreadId, Vec<AuditRecord>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one transaction holding the grants table's writer lock; audit records this
    /// thread writes to a sink of this database meanwhile are inserted before the commit. An
    /// error of `f` (or of the commit) rolls everything back.
    pub(crate) fn write<R, E: From<PgError>>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(query_error)?;
        tx.batch_execute(&format!(
            "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
            self.table("grants")
        ))
        .map_err(query_error)?;
        let thread = std::thread::current().id();
        self.pending().insert(thread, Vec::new());
        let result = f(&mut tx);
        let records = self.pending().remove(&thread).unwrap_or_default();
        let value = result?;
        for record in &records {
            audit_table::insert(&mut tx, &self.table("audit"), record)?;
        }
        tx.commit().map_err(query_error)?;
        Ok(value)
    }

    /// Defers `record` to the transaction this thread has open, if any; gives it back
    /// otherwise.
    fn defer(&self, record: &AuditRecord) -> bool {
        match self.pending().get_mut(&std::thread::current().id()) {
            Some(records) => {
                records.push(record.clone());
                true
            }
            None => false,
        }
    }
}
