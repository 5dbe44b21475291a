//! What every endpoint reads from a request: the subject (from the credentials, never the
//! body), the body as JSON within the limits, and the clock.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::error::ApiError;
use crate::state::AppState;

/// The subject of the request, or 401 (the cause is logged at debug level only).
pub fn subject(state: &AppState, headers: &HeaderMap) -> Result<Json, ApiError> {
    state.auth.subject(headers).map_err(|e| {
        tracing::debug!(cause = %e, "unauthenticated request");
        ApiError::unauthenticated()
    })
}

/// Reads the body (at most `max_body_bytes`, within `body_timeout`) as JSON of type `T`.
pub async fn json_body<T: DeserializeOwned>(state: &AppState, body: Body) -> Result<T, ApiError> {
    let bytes = body_bytes(state, body).await?;
    serde_json::from_slice(&bytes).map_err(|e| bad_json(&e))
}

/// Reads the body: at most `max_body_bytes` (413 beyond), within `body_timeout` (408).
pub async fn body_bytes(state: &AppState, body: Body) -> Result<Bytes, ApiError> {
    let limits = &state.limits;
    let collected = tokio::time::timeout(
        limits.body_timeout,
        Limited::new(body, limits.max_body_bytes).collect(),
    )
    .await;
    match collected {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            format!(
                "the body was not received within {} ms",
                limits.body_timeout.as_millis()
            ),
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(format!(
            "the body is larger than {} bytes",
            limits.max_body_bytes
        ))),
        Ok(Err(_)) => Err(ApiError::bad_request(
            "body-unreadable",
            "the body could not be read",
        )),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// 400 `bad-json`: the body is not JSON, or does not fit the endpoint.
pub fn bad_json(e: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "bad-json",
        match e.classify() {
            serde_json::error::Category::Data => {
                format!("the body does not fit this endpoint: {e}")
            }
            _ => format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        },
    )
}

/// 413 with a code.
pub fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", message)
}

/// The evaluation clock: the server's, or the body's `now` when `--allow-client-clock`.
pub fn clock(state: &AppState, now: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    match now {
        None => Ok(DateTime::<Utc>::from(std::time::SystemTime::now())),
        Some(_) if !state.allow_client_clock => Err(ApiError::bad_request(
            "client-clock-refused",
            "`now` is accepted only by a server started with --allow-client-clock",
        )),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                ApiError::bad_request(
                    "bad-now",
                    format!("`now` is not an RFC 3339 timestamp ({e}); e.g. 2024-05-01T10:00:00Z"),
                )
            }),
    }
}

/// Runs blocking work (files, fsync, PostgreSQL) off the async workers.
pub async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}
