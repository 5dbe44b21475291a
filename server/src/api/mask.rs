//! `POST /v1/sources/{source}/mask`, `…/explain` and `GET|POST …/visible-columns`: rows as
//! `polc eval` prints them for the caller's subject (`pol_runtime::json`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use pol_runtime::grants::SessionError;
use pol_runtime::json::json_kind;
use pol_runtime::Session;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::request::{blocking, clock, json_body, subject, too_large};
use crate::bundle_slot::Loaded;
use crate::error::ApiError;
use crate::state::{AppState, Grants, Shared};

/// The body of `mask` and `explain`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowsRequest {
    /// The rows, each a JSON object.
    pub rows: Vec<Value>,
    /// The clock (only with `--allow-client-clock`).
    #[serde(default)]
    pub now: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Mask,
    Explain,
}

/// `POST /v1/sources/{source}/mask` → `{"rows": [...], "hidden": n}` (+ `"warnings"` when the
/// input did not match the declarations).
pub async fn mask(
    State(state): State<Shared>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    rows(state, source, headers, body, Mode::Mask).await
}

/// `POST /v1/sources/{source}/explain` → `{"rows": [{"shown", "row", "explanation"}, …]}`.
pub async fn explain(
    State(state): State<Shared>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    rows(state, source, headers, body, Mode::Explain).await
}

/// `GET|POST /v1/sources/{source}/visible-columns` → `{"columns": [...], "exempt": bool}`.
pub async fn visible_columns(
    State(state): State<Shared>,
    Path(source): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let subject = subject(&state, &headers)?;
    let loaded = state.bundle.current();
    let session = open(
        &loaded,
        None,
        &subject,
        DateTime::<Utc>::from(std::time::SystemTime::now()),
    )?;
    let src = session
        .source(&source)
        .ok_or_else(|| ApiError::unknown_source(&source))?;
    Ok(Json(json!({
        "columns": src.visible_columns(),
        "exempt": src.is_exempt(),
    })))
}

async fn rows(
    state: Shared,
    source: String,
    headers: HeaderMap,
    body: Body,
    mode: Mode,
) -> Result<Json<Value>, ApiError> {
    let subject = subject(&state, &headers)?;
    let request: RowsRequest = json_body(&state, body).await?;
    if request.rows.len() > state.limits.max_rows {
        return Err(too_large(format!(
            "{} rows; at most {} per request",
            request.rows.len(),
            state.limits.max_rows
        )));
    }
    let now = clock(&state, request.now.as_deref())?;
    let rows = objects(request.rows)?;
    let loaded = state.bundle.current();
    match state.grants.clone().filter(|g| g.apply_to_masking) {
        // Grants read the store and audit reveals: blocking work.
        Some(grants) => {
            let st = Arc::clone(&state);
            blocking(move || {
                answer(
                    &st,
                    &loaded,
                    Some(&grants),
                    &subject,
                    now,
                    &source,
                    &rows,
                    mode,
                )
            })
            .await
        }
        None => answer(&state, &loaded, None, &subject, now, &source, &rows, mode),
    }
    .map(Json)
}

fn objects(rows: Vec<Value>) -> Result<Vec<Map<String, Value>>, ApiError> {
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Value::Object(m) => Ok(m),
            other => Err(ApiError::bad_request(
                "row-not-an-object",
                format!(
                    "rows[{i}]: a row must be a JSON object, found {}",
                    json_kind(&other)
                ),
            )),
        })
        .collect()
}

fn open<'e>(
    loaded: &'e Loaded,
    grants: Option<&Grants>,
    subject: &Value,
    now: DateTime<Utc>,
) -> Result<Session<'e>, ApiError> {
    match grants {
        None => loaded
            .engine
            .session(subject, now)
            .map_err(ApiError::internal),
        Some(g) => g
            .service
            .session_at(&loaded.engine, subject, now)
            .map_err(|e| match e {
                SessionError::Store(e) => {
                    tracing::error!(error = %e, "the grant store cannot be read");
                    ApiError::unavailable(
                        "grant-store-failed",
                        "the grant store cannot be read; nothing was revealed",
                    )
                }
                SessionError::Subject(e) => ApiError::internal(e),
            }),
    }
}

#[allow(clippy::too_many_arguments)]
fn answer(
    state: &AppState,
    loaded: &Loaded,
    grants: Option<&Grants>,
    subject: &Value,
    now: DateTime<Utc>,
    source: &str,
    rows: &[Map<String, Value>],
    mode: Mode,
) -> Result<Value, ApiError> {
    let session = open(loaded, grants, subject, now)?;
    let src = session
        .source(source)
        .ok_or_else(|| ApiError::unknown_source(source))?;
    let mut out = Vec::with_capacity(rows.len());
    let mut hidden = 0u64;
    for row in rows {
        match mode {
            Mode::Mask => match src.mask_row(row) {
                Some(m) => out.push(Value::Object(m)),
                None => hidden += 1,
            },
            Mode::Explain => {
                let e = src.explain_row(row);
                if e.get("shown") == Some(&Value::Bool(false)) {
                    hidden += 1;
                }
                out.push(Value::Object(e));
            }
        }
    }
    state
        .metrics
        .decisions("row", "shown", rows.len() as u64 - hidden);
    state.metrics.decisions("row", "hidden", hidden);
    let mut body = Map::new();
    body.insert("rows".into(), Value::Array(out));
    body.insert("hidden".into(), Value::from(hidden));
    let warnings: Vec<Value> = session
        .warnings()
        .iter()
        .map(|w| Value::from(w.to_string()))
        .collect();
    if !warnings.is_empty() {
        body.insert("warnings".into(), Value::Array(warnings));
    }
    Ok(Value::Object(body))
}
