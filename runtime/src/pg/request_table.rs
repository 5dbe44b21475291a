//! The grant store's requests that wait for approval, on `<schema>.requests` (one row per
//! request; its answer fills `outcome`, `answered_by`, `answered_at` and, for an approval,
//! `grant_id`, whose grant is inserted into `<schema>.grants` in the same transaction). Every
//! operation runs in [`Database::write`] (the grants table's writer lock), so answers given at
//! once are decided one after the other: the second finds the request no longer pending.

use chrono::{DateTime, Utc};
use postgres::{GenericClient, Row};

use super::{grant_table, parse_ts, query_error, ts, ts_column, Database, PgError};
use crate::audit::AuditError;
use crate::grants::{
    Answer, AnswerError, AuditedError, Event, Outcome, RequestEntry, RequestState, StoreError,
    UnmaskRequest,
};

fn columns() -> String {
    format!(
        "id, source, record_key, requested_by, rule, {}, {}, seconds, reason, outcome, \
         answered_by, {}, grant_id",
        ts_column("requested_at"),
        ts_column("answer_by"),
        ts_column("answered_at")
    )
}

/// A row: the request and its stored answer (without the grant, which is in `grants`).
fn row(r: &Row) -> Result<(UnmaskRequest, Option<Answer>), PgError> {
    let bad = |e: postgres::Error| PgError::BadRow(e.to_string());
    let request = UnmaskRequest {
        id: r.try_get(0).map_err(bad)?,
        source: r.try_get(1).map_err(bad)?,
        key: r.try_get(2).map_err(bad)?,
        requested_by: r.try_get(3).map_err(bad)?,
        rule: r.try_get(4).map_err(bad)?,
        requested_at: parse_ts(r.try_get(5).map_err(bad)?)?,
        answer_by: parse_ts(r.try_get(6).map_err(bad)?)?,
        seconds: r.try_get(7).map_err(bad)?,
        reason: r.try_get(8).map_err(bad)?,
    };
    let outcome: Option<&str> = r.try_get(9).map_err(bad)?;
    let answer = match outcome {
        None => None,
        Some(o) => {
            let outcome = match o {
                "approved" => Outcome::Approved,
                "denied" => Outcome::Denied,
                "expired" => Outcome::Expired,
                other => return Err(PgError::BadRow(format!("request outcome `{other}`"))),
            };
            let at: Option<&str> = r.try_get(11).map_err(bad)?;
            Some(Answer {
                request: request.id.clone(),
                outcome,
                by: r
                    .try_get::<_, Option<String>>(10)
                    .map_err(bad)?
                    .unwrap_or_default(),
                at: parse_ts(at.unwrap_or_default())?,
                grant: None,
            })
        }
    };
    Ok((request, answer))
}

fn select(
    tx: &mut impl GenericClient,
    db: &Database,
    filter: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<(UnmaskRequest, Option<Answer>)>, PgError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {} FROM {} {filter} ORDER BY requested_at, id",
                columns(),
                db.table("requests")
            ),
            params,
        )
        .map_err(query_error)?;
    rows.iter().map(row).collect()
}

fn store_answer(tx: &mut impl GenericClient, db: &Database, a: &Answer) -> Result<(), PgError> {
    if let Some(g) = &a.grant {
        grant_table::insert(tx, db, g)?;
    }
    let n = tx
        .execute(
            &format!(
                "UPDATE {} SET outcome = $2, answered_by = $3, \
                 answered_at = $4::text::timestamptz, grant_id = $5 \
                 WHERE id = $1 AND outcome IS NULL",
                db.table("requests")
            ),
            &[
                &a.request,
                &a.outcome.as_str(),
                &a.by,
                &ts(a.at),
                &a.grant.as_ref().map(|g| g.id.clone()),
            ],
        )
        .map_err(query_error)?;
    if n == 1 {
        Ok(())
    } else {
        Err(PgError::BadRow(format!(
            "request `{}` was answered meanwhile",
            a.request
        )))
    }
}

/// Records (audited) the expiry of the requests unanswered at `now`.
fn settle(
    tx: &mut impl GenericClient,
    db: &Database,
    now: DateTime<Utc>,
    audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
) -> Result<Vec<UnmaskRequest>, AuditedError> {
    let expired = select(
        tx,
        db,
        "WHERE outcome IS NULL AND answer_by <= $1::text::timestamptz",
        &[&ts(now)],
    )
    .map_err(|e| AuditedError::Store(e.into()))?;
    let mut out = Vec::new();
    for (r, _) in expired {
        let answer = Answer {
            request: r.id.clone(),
            outcome: Outcome::Expired,
            by: String::new(),
            at: now,
            grant: None,
        };
        audit(Event::Answered(&r, &answer)).map_err(AuditedError::Audit)?;
        store_answer(tx, db, &answer).map_err(|e| AuditedError::Store(e.into()))?;
        out.push(r);
    }
    Ok(out)
}

/// Stores a request (after settling expiries and auditing it), in one transaction.
pub(crate) fn submit(
    db: &Database,
    request: UnmaskRequest,
    audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
) -> Result<UnmaskRequest, AuditedError> {
    db.write(|tx| {
        settle(tx, db, request.requested_at, audit)?;
        audit(Event::Requested(&request)).map_err(AuditedError::Audit)?;
        tx.execute(
            &format!(
                "INSERT INTO {} (id, source, record_key, requested_by, rule, requested_at, \
                 answer_by, seconds, reason) VALUES ($1, $2, $3, $4, $5, \
                 $6::text::timestamptz, $7::text::timestamptz, $8, $9)",
                db.table("requests")
            ),
            &[
                &request.id,
                &request.source,
                &request.key,
                &request.requested_by,
                &request.rule,
                &ts(request.requested_at),
                &ts(request.answer_by),
                &request.seconds,
                &request.reason,
            ],
        )
        .map_err(|e| AuditedError::Store(query_error(e).into()))?;
        Ok(request)
    })
}

/// Answers a request in one transaction (see `GrantStore::answer`).
pub(crate) fn answer(
    db: &Database,
    id: &str,
    now: DateTime<Utc>,
    decide: &dyn Fn(&UnmaskRequest) -> Result<Answer, String>,
    audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
) -> Result<(UnmaskRequest, Answer), AnswerError> {
    let pg = |e: PgError| AnswerError::Store(StoreError::Postgres(e));
    db.write(|tx| {
        settle(tx, db, now, audit)?;
        let found = select(tx, db, "WHERE id = $1", &[&id]).map_err(pg)?;
        let (request, stored) = found.into_iter().next().ok_or(AnswerError::Unknown)?;
        if now < request.requested_at {
            return Err(AnswerError::ClockSkew(Box::new(request)));
        }
        let state = crate::grants::request_state_at(&request, stored.as_ref(), now);
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
        audit(Event::Answered(&request, &answer)).map_err(AnswerError::Audit)?;
        store_answer(tx, db, &answer).map_err(pg)?;
        Ok((request, answer))
    })
}

/// Records (audited) the expiry of the requests unanswered at `now`.
pub(crate) fn settle_expired(
    db: &Database,
    now: DateTime<Utc>,
    audit: &mut dyn FnMut(Event<'_>) -> Result<(), AuditError>,
) -> Result<Vec<UnmaskRequest>, AuditedError> {
    db.write(|tx| settle(tx, db, now, audit))
}

/// Every request with its state at `now`.
pub(crate) fn all(db: &Database, now: DateTime<Utc>) -> Result<Vec<RequestEntry>, StoreError> {
    let rows = select(&mut *db.client(), db, "", &[])?;
    Ok(rows
        .into_iter()
        .map(|(request, answer)| {
            let state = crate::grants::request_state_at(&request, answer.as_ref(), now);
            RequestEntry { request, state }
        })
        .collect())
}
