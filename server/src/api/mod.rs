//! The HTTP API: routes, and the guard every request passes (metrics, the cap on concurrent
//! requests, the request timeout).

mod approvals;
mod grants;
mod links;
mod mask;
mod request;
mod tokens;
pub mod typed_rows;
pub mod written;

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::error::ApiError;
use crate::state::Shared;

/// Routes exempt from the concurrency cap (probes must answer under load).
const PROBES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Every route pattern, as metrics label them (`unmatched` for any other path).
const ROUTES: [&str; 14] = [
    "/v1/sources/{source}/mask",
    "/v1/sources/{source}/explain",
    "/v1/sources/{source}/visible-columns",
    "/v1/sources/{source}/detokenize",
    "/v1/sources/{source}/tokenize",
    "/v1/sources/{source}/grants",
    "/v1/grants",
    "/v1/grants/revoke",
    "/v1/requests",
    "/v1/requests/{id}/approve",
    "/v1/requests/{id}/deny",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// The router of every endpoint.
pub fn router(state: Shared) -> Router {
    let [mask_r, explain_r, visible_r, detokenize_r, tokenize_r, grant_r, list_r, revoke_r, requests_r, approve_r, deny_r, health_r, ready_r, metrics_r] =
        ROUTES;
    Router::new()
        .route(mask_r, post(mask::mask))
        .route(explain_r, post(mask::explain))
        .route(
            visible_r,
            get(mask::visible_columns).post(mask::visible_columns),
        )
        .route(detokenize_r, post(tokens::detokenize))
        .route(tokenize_r, post(tokens::tokenize))
        .route(grant_r, post(grants::request))
        .route(list_r, get(grants::list))
        .route(revoke_r, post(grants::revoke))
        .route(requests_r, get(approvals::list))
        .route(approve_r, post(approvals::approve))
        .route(deny_r, post(approvals::deny))
        .route(health_r, get(healthz))
        .route(ready_r, get(readyz))
        .route(metrics_r, get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

async fn guard(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route: &'static str = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| ROUTES.iter().find(|r| **r == p.as_str()).copied())
        .unwrap_or("unmatched");
    let response = if PROBES.contains(&route) {
        next.run(req).await
    } else {
        match state.in_flight.clone().try_acquire_owned() {
            Err(_) => ApiError::unavailable(
                "overloaded",
                format!(
                    "more than {} requests at once; retry later",
                    state.limits.max_concurrent
                ),
            )
            .into_response(),
            Ok(_permit) => {
                match tokio::time::timeout(state.limits.request_timeout, next.run(req)).await {
                    Ok(r) => r,
                    Err(_) => ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request-timeout",
                        format!(
                            "the request took longer than {} ms",
                            state.limits.request_timeout.as_millis()
                        ),
                    )
                    .into_response(),
                }
            }
        }
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state.metrics.request(route, status, elapsed.as_secs_f64());
    tracing::debug!(route = %route, status, micros = elapsed.as_micros() as u64, "request");
    response
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "alive"}))
}

async fn readyz(State(state): State<Shared>) -> Response {
    if state.stopping.load(Ordering::Relaxed) {
        return ApiError::unavailable("stopping", "the server is shutting down").into_response();
    }
    let loaded = state.bundle.current();
    Json(json!({"status": "ready", "bundle": loaded.version})).into_response()
}

async fn metrics(State(state): State<Shared>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this endpoint does not take this method",
    )
}
