//! The JSON errors of the API: `{"error": {"code": "…", "message": "…"}}` with a stable code
//! and an HTTP status. An internal error says only that it happened (details go to the log),
//! and never carries a cell, a token's original or a claim.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One API error: a stable code, an HTTP status and a message meant for the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (`unauthenticated`, `unknown-source`, …).
    pub code: &'static str,
    /// What went wrong, for the caller (no data from rows or tokens).
    pub message: String,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: the caller is not authenticated. The message is the same for every cause.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid bearer token is required",
        )
    }

    /// 403: the policy refuses; the message says why (from the runtime, without data).
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "refused", message)
    }

    /// 404: no such source.
    pub fn unknown_source(source: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown-source",
            format!("no source `{source}` in the policies"),
        )
    }

    /// 500: logged with its detail, answered without it.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; nothing was revealed",
        )
    }

    /// 503: the service cannot take the request now.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            if let Ok(v) = axum::http::HeaderValue::from_str("Bearer") {
                r.headers_mut()
                    .insert(axum::http::header::WWW_AUTHENTICATE, v);
            }
        }
        r
    }
}
