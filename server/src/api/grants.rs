//! Temporary unmask grants over HTTP, as `polc grants` does: request (decided by the policy's
//! `allow temporary unmask` rules, audited), list, revoke (audited). On the file store or the
//! PostgreSQL store, at the server's clock.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use pol_runtime::audit::AuditError;
use pol_runtime::grants::{Requested, Revoke, RevokeError, StoreError, UnmaskError};
use pol_runtime::json::{grant_json, request_json, time_text, RecordKeyError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::request::{blocking, clock, json_body, subject};
use super::tokens::grants;
use crate::error::ApiError;
use crate::state::{AppState, Shared};

/// The body of a grant request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The record's key (text as `polc grants request --key` takes it, or a JSON number or
    /// boolean).
    pub key: Value,
    /// The justification, written to the audit trail.
    #[serde(default)]
    pub reason: String,
}

/// The body of a revocation: `{"id": …}` or `{"source": …, "key": …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The grant's id.
    #[serde(default)]
    pub id: Option<String>,
    /// Every grant of one record: its source …
    #[serde(default)]
    pub source: Option<String>,
    /// … and its key as `list` shows it.
    #[serde(default)]
    pub key: Option<Value>,
    /// The justification.
    #[serde(default)]
    pub reason: String,
}

/// The query of a listing.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Expired and revoked grants too.
    #[serde(default)]
    pub all: bool,
    /// The clock (only with `--allow-client-clock`).
    #[serde(default)]
    pub now: Option<String>,
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn audit_failed(state: &AppState, e: &AuditError) -> ApiError {
    state.metrics.audit_failure();
    tracing::error!(error = %e, "the audit trail cannot be written");
    ApiError::unavailable(
        "audit-failed",
        "the audit trail cannot be written; nothing was changed",
    )
}

pub(super) fn store_failed(e: &StoreError) -> ApiError {
    tracing::error!(error = %e, "the grant store failed");
    ApiError::unavailable(
        "grant-store-failed",
        "the grant store failed; the grant does not hold",
    )
}

/// `POST /v1/sources/{source}/grants` → 201 `{"grant": {…}}`, 202 `{"request": {…}}` when the
/// rule that allows the subject needs approval (nothing is unmasked until it is approved), or
/// 403 refused (audited).
pub async fn request(
    State(state): State<Shared>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let subject = subject(&state, &headers)?;
    let req: GrantRequest = json_body(&state, body).await?;
    let grants = grants(&state)?;
    let loaded = state.bundle.current();
    let key = loaded
        .engine
        .record_key(&source, &key_text(&req.key))
        .map_err(|e| match e {
            RecordKeyError::UnknownSource { .. } => ApiError::unknown_source(&source),
            e @ RecordKeyError::WrongType { .. } => ApiError::bad_request(e.code(), e.to_string()),
        })?;
    let st = Arc::clone(&state);
    blocking(move || {
        match grants
            .service
            .request(&loaded.engine, &subject, &source, &key, &req.reason)
        {
            Ok(Requested::Pending(r)) => {
                st.metrics.decisions("unmask", "pending", 1);
                let entry = pol_runtime::grants::RequestEntry {
                    request: r,
                    state: pol_runtime::grants::RequestState::Pending,
                };
                Ok((
                    StatusCode::ACCEPTED,
                    Json(json!({ "request": request_json(&entry) })),
                ))
            }
            Ok(Requested::Granted(g)) => {
                st.metrics.decisions("unmask", "granted", 1);
                Ok((
                    StatusCode::CREATED,
                    Json(json!({"grant": {
                        "id": g.id, "source": g.source, "key": g.key, "rule": g.rule,
                        "until": time_text(g.until),
                    }})),
                ))
            }
            Err(UnmaskError::Refused(m)) => {
                st.metrics.decisions("unmask", "refused", 1);
                Err(ApiError::refused(m))
            }
            Err(UnmaskError::Audit(e)) => Err(audit_failed(&st, &e)),
            Err(UnmaskError::Store(e)) => Err(store_failed(&e)),
            Err(UnmaskError::Subject(e)) => Err(ApiError::internal(e)),
            Err(e @ UnmaskError::AwaitsApproval(_)) => Err(ApiError::internal(e)),
        }
    })
    .await
}

/// `GET /v1/grants[?all=true]` → `{"grants": [ … ]}` as `polc grants list --format json`.
pub async fn list(
    State(state): State<Shared>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    subject(&state, &headers)?;
    let grants = grants(&state)?;
    let now = clock(&state, q.now.as_deref())?;
    blocking(move || {
        let entries = grants
            .service
            .store()
            .entries()
            .map_err(|e| store_failed(&e))?;
        let list: Vec<Value> = entries
            .iter()
            .map(|e| grant_json(e, now))
            .filter(|g| q.all || g.get("status") == Some(&Value::from("active")))
            .collect();
        Ok(Json(json!({ "grants": list })))
    })
    .await
}

/// `POST /v1/grants/revoke` → `{"revoked": [ … ]}`, or 404 when nothing holds (audited).
pub async fn revoke(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let subject = subject(&state, &headers)?;
    let req: RevokeRequest = json_body(&state, body).await?;
    let grants = grants(&state)?;
    let which = match (req.id, req.source, req.key) {
        (Some(id), None, None) => Revoke::Id(id),
        (None, Some(source), Some(key)) => Revoke::Record {
            source,
            key: key_text(&key),
        },
        _ => {
            return Err(ApiError::bad_request(
                "bad-revoke",
                "give `id`, or `source` and `key`",
            ))
        }
    };
    let st = Arc::clone(&state);
    blocking(
        move || match grants.service.revoke(&subject, &which, &req.reason) {
            Ok(revoked) => {
                st.metrics
                    .decisions("revoke", "revoked", revoked.len() as u64);
                let list: Vec<Value> = revoked
                    .iter()
                    .map(|g| {
                        json!({"id": g.id, "source": g.source, "key": g.key,
                           "granted_to": g.granted_to, "expires": time_text(g.expires)})
                    })
                    .collect();
                Ok(Json(json!({ "revoked": list })))
            }
            Err(RevokeError::NotFound(m)) => {
                st.metrics.decisions("revoke", "not-found", 1);
                Err(ApiError::new(StatusCode::NOT_FOUND, "no-grant", m))
            }
            Err(RevokeError::Audit(e)) => Err(audit_failed(&st, &e)),
            Err(RevokeError::Store(e)) => Err(store_failed(&e)),
            Err(RevokeError::Subject) => Err(ApiError::internal("the subject is not an object")),
        },
    )
    .await
}
