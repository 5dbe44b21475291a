//! Requests that wait for approval (`allow temporary unmask … with approval by C`) over HTTP, as
//! `polc grants list --requests|approve|deny` do: list, approve, deny. The answering subject is
//! the caller's JWT subject; the rule's approvers' condition (in the bundle being served) decides
//! whether they may answer; an approver never approves their own request. Every answer, given or
//! refused, is audited. At the server's clock.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use pol_runtime::grants::{ApprovalError, RequestState, UnmaskError};
use pol_runtime::json::{request_json, time_text};
use serde::Deserialize;
use serde_json::{json, Value};

use super::grants::{audit_failed, store_failed};
use super::request::{blocking, body_bytes, json_body, subject};
use super::tokens::grants;
use crate::error::ApiError;
use crate::state::{AppState, Shared};

/// The body of an answer (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The justification, written to the audit trail.
    #[serde(default)]
    pub reason: String,
}

/// The query of a listing.
#[derive(Debug, Deserialize)]
pub struct RequestsQuery {
    /// Answered and expired requests too.
    #[serde(default)]
    pub all: bool,
}

fn answer_failed(state: &AppState, verb: &'static str, e: ApprovalError) -> ApiError {
    match e {
        ApprovalError::Refused(m) => {
            state.metrics.decisions(verb, "refused", 1);
            ApiError::refused(m)
        }
        ApprovalError::Audit(e) => audit_failed(state, &e),
        ApprovalError::Store(e) => store_failed(&e),
        ApprovalError::Subject(e) => ApiError::internal(e),
    }
}

/// The answer's body: empty, or `{"reason": …}` (limited as every body is).
async fn answer_body(state: &Shared, body: Body) -> Result<AnswerBody, ApiError> {
    let bytes = body_bytes(state, body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(AnswerBody::default());
    }
    json_body(state, Body::from(bytes)).await
}

/// `GET /v1/requests[?all=true]` → `{"requests": [ … ]}`: the pending requests (all with
/// `all=true`) as `polc grants list --requests --format json` prints them; expiries found are
/// recorded and audited first.
pub async fn list(
    State(state): State<Shared>,
    Query(q): Query<RequestsQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    subject(&state, &headers)?;
    let grants = grants(&state)?;
    let st = Arc::clone(&state);
    blocking(move || {
        let entries = grants.service.requests().map_err(|e| match e {
            UnmaskError::Audit(e) => audit_failed(&st, &e),
            UnmaskError::Store(e) => store_failed(&e),
            other => ApiError::internal(other),
        })?;
        let list: Vec<Value> = entries
            .iter()
            .filter(|e| q.all || e.state == RequestState::Pending)
            .map(request_json)
            .collect();
        Ok(Json(json!({ "requests": list })))
    })
    .await
}

/// `POST /v1/requests/{id}/approve` → 201 `{"grant": {…}}`, or 403 refused (audited).
pub async fn approve(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let subject = subject(&state, &headers)?;
    let req = answer_body(&state, body).await?;
    let grants = grants(&state)?;
    let loaded = state.bundle.current();
    let st = Arc::clone(&state);
    blocking(move || {
        let g = grants
            .service
            .approve(&loaded.engine, &subject, &id, &req.reason)
            .map_err(|e| answer_failed(&st, "approve", e))?;
        st.metrics.decisions("approve", "approved", 1);
        Ok((
            StatusCode::CREATED,
            Json(json!({"grant": {
                "id": g.id, "source": g.source, "key": g.key, "rule": g.rule,
                "until": time_text(g.until), "request": id,
            }})),
        ))
    })
    .await
}

/// `POST /v1/requests/{id}/deny` → 200 `{"denied": {…}}`, or 403 refused (audited).
pub async fn deny(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let subject = subject(&state, &headers)?;
    let req = answer_body(&state, body).await?;
    let grants = grants(&state)?;
    let loaded = state.bundle.current();
    let st = Arc::clone(&state);
    blocking(move || {
        let r = grants
            .service
            .deny(&loaded.engine, &subject, &id, &req.reason)
            .map_err(|e| answer_failed(&st, "deny", e))?;
        st.metrics.decisions("deny", "denied", 1);
        Ok(Json(json!({"denied": {
            "id": r.id, "source": r.source, "key": r.key, "requested_by": r.requested_by,
        }})))
    })
    .await
}
