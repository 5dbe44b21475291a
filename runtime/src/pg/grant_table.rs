//! The grant store's operations on `<schema>.grants` (one row per grant; a revocation sets
//! `revoked_at` and `revoked_by`). See the [protocol](super).

use chrono::{DateTime, Utc};
use postgres::Row;

use super::{parse_ts, query_error, ts, ts_column, Database, PgError};
use crate::audit::AuditError;
use crate::grants::{AuditedError, Event, GrantEntry, Revocation, StoreError, StoredGrant};

/// The columns read, timestamps as text.
fn columns() -> String {
    format!(
        "id, source, record_key, granted_to, rule, {}, {}, {}, revoked_by",
        ts_column("granted_at"),
        ts_column("expires"),
        ts_column("revoked_at")
    )
}

fn entry(row: &Row) -> Result<GrantEntry, PgError> {
    let bad = |e: postgres::Error| PgError::BadRow(e.to_string());
    let grant = StoredGrant {
        id: row.try_get(0).map_err(bad)?,
        source: row.try_get(1).map_err(bad)?,
        key: row.try_get(2).map_err(bad)?,
        granted_to: row.try_get(3).map_err(bad)?,
        rule: row.try_get(4).map_err(bad)?,
        granted_at: parse_ts(row.try_get(5).map_err(bad)?)?,
        expires: parse_ts(row.try_get(6).map_err(bad)?)?,
    };
    let revoked_at = match row.try_get::<_, Option<&str>>(7).map_err(bad)? {
        Some(t) => Some(parse_ts(t)?),
        None => None,
    };
    let revoked_by: Option<String> = row.try_get(8).map_err(bad)?;
    let revoked = revoked_at.map(|at| Revocation {
        revoke: grant.id.clone(),
        revoked_at: at,
        revoked_by: revoked_by.unwrap_or_default(),
    });
    Ok(GrantEntry { grant, revoked })
}

fn entries(rows: &[Row]) -> Result<Vec<GrantEntry>, PgError> {
    rows.iter().map(entry).collect()
}

pub(crate) fn insert(
    tx: &mut impl postgres::GenericClient,
    db: &Database,
    g: &StoredGrant,
) -> Result<(), PgError> {
    tx.execute(
        &format!(
            "INSERT INTO {} (id, source, record_key, granted_to, rule, granted_at, expires) \
             VALUES ($1, $2, $3, $4, $5, $6::text::timestamptz, $7::text::timestamptz)",
            db.table("grants")
        ),
        &[
            &g.id,
            &g.source,
            &g.key,
            &g.granted_to,
            &g.rule,
            &ts(g.granted_at),
            &ts(g.expires),
        ],
    )
    .map_err(query_error)?;
    Ok(())
}

/// Adds a grant, unaudited.
pub(crate) fn add(db: &Database, g: &StoredGrant) -> Result<(), StoreError> {
    db.write(|tx| insert(tx, db, g).map_err(StoreError::from))
}

/// Audits and stores a grant, in one transaction.
pub(crate) fn grant(
    db: &Database,
    g: StoredGrant,
    audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
) -> Result<StoredGrant, AuditedError> {
    db.write(|tx| {
        audit(Event::Granted(&g)).map_err(AuditedError::Audit)?;
        insert(tx, db, &g).map_err(|e| AuditedError::Store(e.into()))?;
        Ok(g)
    })
}

/// Revokes (and audits), in one transaction, every grant that holds at `now` and matches.
pub(crate) fn revoke_matching(
    db: &Database,
    now: DateTime<Utc>,
    by: &str,
    matches: &dyn Fn(&StoredGrant) -> bool,
    audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
) -> Result<Vec<StoredGrant>, AuditedError> {
    let table = db.table("grants");
    db.write(|tx| {
        let rows = tx
            .query(
                &format!(
                    "SELECT {} FROM {table} WHERE expires > $1::text::timestamptz \
                     AND revoked_at IS NULL ORDER BY granted_at, id",
                    columns()
                ),
                &[&ts(now)],
            )
            .map_err(|e| AuditedError::Store(query_error(e).into()))?;
        let targets: Vec<StoredGrant> = entries(&rows)
            .map_err(|e| AuditedError::Store(e.into()))?
            .into_iter()
            .map(|e| e.grant)
            .filter(|g| !g.id.is_empty() && matches(g))
            .collect();
        for g in &targets {
            audit(Event::Revoked(g)).map_err(AuditedError::Audit)?;
            tx.execute(
                &format!(
                    "UPDATE {table} SET revoked_at = $2::text::timestamptz, revoked_by = $3 \
                     WHERE id = $1 AND revoked_at IS NULL"
                ),
                &[&g.id, &ts(now), &by],
            )
            .map_err(|e| AuditedError::Store(query_error(e).into()))?;
        }
        Ok(targets)
    })
}

/// Revokes one grant by id, unaudited; false when no grant has this id or it is revoked.
pub(crate) fn revoke(
    db: &Database,
    id: &str,
    at: DateTime<Utc>,
    by: &str,
) -> Result<bool, StoreError> {
    let table = db.table("grants");
    db.write(|tx| {
        let n = tx
            .execute(
                &format!(
                    "UPDATE {table} SET revoked_at = $2::text::timestamptz, revoked_by = $3 \
                     WHERE id = $1 AND revoked_at IS NULL"
                ),
                &[&id, &ts(at), &by],
            )
            .map_err(query_error)?;
        Ok(n > 0)
    })
}

/// Every grant, with its revocation, in the order given.
pub(crate) fn all(db: &Database) -> Result<Vec<GrantEntry>, StoreError> {
    let rows = db
        .client()
        .query(
            &format!(
                "SELECT {} FROM {} ORDER BY granted_at, id",
                columns(),
                db.table("grants")
            ),
            &[],
        )
        .map_err(query_error)?;
    Ok(entries(&rows)?)
}

/// The grants that hold at `now`, in the order given.
pub(crate) fn active(db: &Database, now: DateTime<Utc>) -> Result<Vec<StoredGrant>, StoreError> {
    let rows = db
        .client()
        .query(
            &format!(
                "SELECT {} FROM {} WHERE expires > $1::text::timestamptz \
                 AND revoked_at IS NULL ORDER BY granted_at, id",
                columns(),
                db.table("grants")
            ),
            &[&ts(now)],
        )
        .map_err(query_error)?;
    Ok(entries(&rows)?.into_iter().map(|e| e.grant).collect())
}

/// Deletes the grants that no longer hold at `now`.
pub(crate) fn compact(db: &Database, now: DateTime<Utc>) -> Result<(), StoreError> {
    let table = db.table("grants");
    db.write(|tx| {
        tx.execute(
            &format!(
                "DELETE FROM {table} \
                 WHERE NOT (expires > $1::text::timestamptz AND revoked_at IS NULL)"
            ),
            &[&ts(now)],
        )
        .map_err(query_error)?;
        Ok(())
    })
}
