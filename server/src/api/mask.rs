//! `POST /v1/sources/{source}/mask`, `…/explain` and `GET|POST …/visible-columns`: rows as
//! `polc eval` prints them for the caller's subject (`pol_runtime::json`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use pol_runtime::grants::SessionError;
use pol_runtime::json::json_kind;
use pol_runtime::{Session, SourceSession};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::links::{self, ParentRows};
use super::request::{bad_json, blocking, body_bytes, clock, json_body, subject, too_large};
use super::typed_rows::{self, InputColumns};
use super::written::ColumnKeys;
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
    /// Parent rows for linked visibility, grandparents first ([`links`]).
    #[serde(default)]
    pub link_rows: Vec<ParentRows>,
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
) -> Result<Response, ApiError> {
    let subject = subject(&state, &headers)?;
    let bytes = body_bytes(&state, body).await?;
    let loaded = state.bundle.current();
    let plan = loaded
        .engine
        .bundle()
        .sources
        .iter()
        .find(|s| s.name == source);
    // An unknown source decodes no cell; it is answered once the body is known to be valid.
    let columns = plan.map(InputColumns::of).unwrap_or_default();
    let max_rows = state.limits.max_rows;
    let body = typed_rows::decode(&bytes, &columns, max_rows).map_err(|e| bad_json(&e))?;
    if body.count > max_rows {
        return Err(too_large(format!(
            "{} rows; at most {max_rows} per request",
            body.count
        )));
    }
    too_many_parents(links::count(&body.link_rows), max_rows)?;
    let now = clock(&state, body.now.as_deref())?;
    if let Some((i, found)) = body.not_an_object {
        return Err(not_an_object(i, found));
    }
    let input = Input {
        rows: Rows::Typed(body.rows),
        links: body.link_rows,
    };
    respond(state, loaded, subject, now, source, input, Mode::Mask).await
}

/// `POST /v1/sources/{source}/explain` → `{"rows": [{"shown", "row", "explanation"}, …]}`.
pub async fn explain(
    State(state): State<Shared>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
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
) -> Result<Response, ApiError> {
    let subject = subject(&state, &headers)?;
    let request: RowsRequest = json_body(&state, body).await?;
    if request.rows.len() > state.limits.max_rows {
        return Err(too_large(format!(
            "{} rows; at most {} per request",
            request.rows.len(),
            state.limits.max_rows
        )));
    }
    too_many_parents(links::count(&request.link_rows), state.limits.max_rows)?;
    let now = clock(&state, request.now.as_deref())?;
    let input = Input {
        rows: Rows::Objects(objects(request.rows)?),
        links: request.link_rows,
    };
    let loaded = state.bundle.current();
    respond(state, loaded, subject, now, source, input, mode).await
}

/// 413 when the parent rows of a request are more than `--max-rows`.
fn too_many_parents(count: usize, max_rows: usize) -> Result<(), ApiError> {
    if count > max_rows {
        return Err(too_large(format!(
            "{count} parent rows in link_rows; at most {max_rows} per request"
        )));
    }
    Ok(())
}

/// A request's rows and the parent rows given with them.
struct Input {
    rows: Rows,
    links: Vec<ParentRows>,
}

/// The rows of a request: decoded for masking, or JSON objects for explanations.
enum Rows {
    /// Cells in the order of the source's input columns ([`typed_rows`]).
    Typed(Vec<Vec<pol_runtime::Value>>),
    /// JSON objects.
    Objects(Vec<Map<String, Value>>),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::Typed(r) => r.len(),
            Rows::Objects(r) => r.len(),
        }
    }
}

/// 400 `row-not-an-object`.
fn not_an_object(i: usize, found: &str) -> ApiError {
    ApiError::bad_request(
        "row-not-an-object",
        format!("rows[{i}]: a row must be a JSON object, found {found}"),
    )
}

/// Answers decoded rows: on the async worker, or off it when grants read the store.
async fn respond(
    state: Shared,
    loaded: Arc<Loaded>,
    subject: Value,
    now: DateTime<Utc>,
    source: String,
    input: Input,
    mode: Mode,
) -> Result<Response, ApiError> {
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
                    &input,
                    mode,
                )
            })
            .await
        }
        None => answer(&state, &loaded, None, &subject, now, &source, &input, mode),
    }
    .map(|body| ([(CONTENT_TYPE, "application/json")], body).into_response())
}

fn objects(rows: Vec<Value>) -> Result<Vec<Map<String, Value>>, ApiError> {
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Value::Object(m) => Ok(m),
            other => Err(not_an_object(i, json_kind(&other))),
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

/// Writes the shown rows of typed input, masked, comma-separated; returns how many were hidden.
/// The bytes are those of [`SourceSession::write_masked_row`] for the same rows as JSON objects.
fn write_masked(
    src: &SourceSession<'_>,
    rows: &[Vec<pol_runtime::Value>],
    body: &mut Vec<u8>,
) -> Result<u64, ApiError> {
    let keys = ColumnKeys::of(src).map_err(ApiError::internal)?;
    if src.k_anonymity().is_some() {
        // The request's rows are the batch made k-anonymous (one row alone: its
        // quasi-identifiers are null).
        let masked = src.mask_values_rows(rows);
        for (i, row) in masked.rows.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            keys.write_row(row, body).map_err(ApiError::internal)?;
        }
        return Ok((rows.len() - masked.rows.len()) as u64);
    }
    let mut hidden = 0u64;
    let mut written = 0u64;
    for row in rows {
        let Some(masked) = src.mask_values(row) else {
            hidden += 1;
            continue;
        };
        if written > 0 {
            body.push(b',');
        }
        keys.write_row(&masked, body).map_err(ApiError::internal)?;
        written += 1;
    }
    Ok(hidden)
}

/// Writes JSON-object rows, masked or explained; returns how many were hidden.
fn write_objects(
    src: &SourceSession<'_>,
    rows: &[Map<String, Value>],
    mode: Mode,
    body: &mut Vec<u8>,
) -> Result<u64, ApiError> {
    if mode == Mode::Mask && src.k_anonymity().is_some() {
        let masked = src.mask_rows(rows);
        for (i, row) in masked.rows.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            serde_json::to_writer(&mut *body, row).map_err(ApiError::internal)?;
        }
        return Ok((rows.len() - masked.rows.len()) as u64);
    }
    let mut hidden = 0u64;
    let mut written = 0u64;
    for row in rows {
        let mark = body.len();
        if written > 0 {
            body.push(b',');
        }
        let shown = match mode {
            Mode::Mask => src
                .write_masked_row(row, body)
                .map_err(ApiError::internal)?,
            Mode::Explain => {
                let e = src.explain_row(row);
                serde_json::to_writer(&mut *body, &e).map_err(ApiError::internal)?;
                e.get("shown") != Some(&Value::Bool(false))
            }
        };
        if mode == Mode::Mask && !shown {
            body.truncate(mark);
        } else {
            written += 1;
        }
        if !shown {
            hidden += 1;
        }
    }
    Ok(hidden)
}

/// The answer's body, written as it is computed (no JSON tree of the answer):
/// `{"rows":[…],"hidden":n}` and `"warnings":[…]` when the input did not match the
/// declarations.
#[allow(clippy::too_many_arguments)]
fn answer(
    state: &AppState,
    loaded: &Loaded,
    grants: Option<&Grants>,
    subject: &Value,
    now: DateTime<Utc>,
    source: &str,
    input: &Input,
    mode: Mode,
) -> Result<Vec<u8>, ApiError> {
    let mut session = open(loaded, grants, subject, now)?;
    links::give(&mut session, &input.links)?;
    let rows = &input.rows;
    let src = session
        .source(source)
        .ok_or_else(|| ApiError::unknown_source(source))?;
    let mut body = Vec::with_capacity(64 + rows.len() * 256);
    body.extend_from_slice(b"{\"rows\":[");
    let hidden = match rows {
        Rows::Typed(rows) => write_masked(&src, rows, &mut body)?,
        Rows::Objects(rows) => write_objects(&src, rows, mode, &mut body)?,
    };
    state
        .metrics
        .decisions("row", "shown", rows.len() as u64 - hidden);
    state.metrics.decisions("row", "hidden", hidden);
    body.extend_from_slice(format!("],\"hidden\":{hidden}").as_bytes());
    let warnings: Vec<String> = session.warnings().iter().map(|w| w.to_string()).collect();
    if !warnings.is_empty() {
        body.extend_from_slice(b",\"warnings\":");
        serde_json::to_writer(&mut body, &warnings).map_err(ApiError::internal)?;
    }
    body.push(b'}');
    Ok(body)
}
