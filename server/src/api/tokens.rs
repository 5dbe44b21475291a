//! `POST /v1/sources/{source}/detokenize` and `…/tokenize`, `{"column": …, "values": [ … ],
//! "reason": …}` → `{"values": [ … ]}`: decided by the policy's `allow detokenize` rules for the
//! caller (who may reverse a column's values may make them) and audited
//! (`GrantService::detokenize` / `GrantService::tokenize`) before any value is returned.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use pol_runtime::grants::DetokenizeError;
use serde::Deserialize;
use serde_json::{json, Value};

use super::request::{blocking, json_body, subject, too_large};
use crate::error::ApiError;
use crate::state::{Grants, Shared};

/// The body of `detokenize`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetokenizeRequest {
    /// The column (a dotted path for a nested field).
    pub column: String,
    /// The masked values (tokens or format-preserving ciphertexts).
    pub values: Vec<String>,
    /// The justification, written to the audit trail.
    #[serde(default)]
    pub reason: String,
}

/// The grant service, or 503 when the server has no audit trail.
pub fn grants(state: &crate::state::AppState) -> Result<Arc<Grants>, ApiError> {
    state.grants.clone().ok_or_else(|| {
        ApiError::unavailable(
            "no-audit-trail",
            "this server has no audit trail (--audit): detokenize and grants are off",
        )
    })
}

/// `POST /v1/sources/{source}/detokenize`: the originals.
pub async fn detokenize(
    State(state): State<Shared>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    convert(state, source, headers, body, Direction::Detokenize).await
}

/// `POST /v1/sources/{source}/tokenize`: the tokens (as the column's masking makes them).
pub async fn tokenize(
    State(state): State<Shared>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    convert(state, source, headers, body, Direction::Tokenize).await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Tokenize,
    Detokenize,
}

async fn convert(
    state: Shared,
    source: String,
    headers: HeaderMap,
    body: Body,
    direction: Direction,
) -> Result<Json<Value>, ApiError> {
    let subject = subject(&state, &headers)?;
    let request: DetokenizeRequest = json_body(&state, body).await?;
    let grants = grants(&state)?;
    if request.values.len() > state.limits.max_rows {
        return Err(too_large(format!(
            "{} values; at most {} per request",
            request.values.len(),
            state.limits.max_rows
        )));
    }
    let loaded = state.bundle.current();
    if !loaded.engine.source_names().any(|s| s == source) {
        return Err(ApiError::unknown_source(&source));
    }
    let st = Arc::clone(&state);
    blocking(move || {
        let mut originals = Vec::with_capacity(request.values.len());
        for (i, v) in request.values.iter().enumerate() {
            let service = &grants.service;
            let (engine, column, reason) = (&loaded.engine, &request.column, &request.reason);
            let kind = match direction {
                Direction::Tokenize => "tokenize",
                Direction::Detokenize => "detokenize",
            };
            let answer = match direction {
                Direction::Tokenize => {
                    service.tokenize(engine, &subject, &source, column, v, reason)
                }
                Direction::Detokenize => {
                    service.detokenize(engine, &subject, &source, column, v, reason)
                }
            };
            match answer {
                Ok(o) => {
                    st.metrics.decisions(kind, "granted", 1);
                    originals.push(Value::from(o));
                }
                Err(DetokenizeError::Refused(m)) => {
                    st.metrics.decisions(kind, "refused", 1);
                    return Err(ApiError::refused(m));
                }
                Err(DetokenizeError::Failed(m)) => {
                    st.metrics.decisions(kind, "failed", 1);
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        match direction {
                            Direction::Tokenize => "cannot-tokenize",
                            Direction::Detokenize => "cannot-detokenize",
                        },
                        format!("values[{i}]: {m}"),
                    ));
                }
                Err(DetokenizeError::Audit(e)) => {
                    st.metrics.audit_failure();
                    tracing::error!(error = %e, "the audit trail cannot be written");
                    return Err(ApiError::unavailable(
                        "audit-failed",
                        "the audit trail cannot be written; nothing was revealed",
                    ));
                }
                Err(DetokenizeError::Subject(e)) => return Err(ApiError::internal(e)),
            }
        }
        Ok(json!({ "values": originals }))
    })
    .await
    .map(Json)
}
