//! Parent rows for linked visibility (`only show rows linked to shown P`, docs/language.md §13):
//! the `"link_rows"` field of the `/mask` and `/explain` bodies,
//! `[{"source": "orders", "rows": [{…}, …]}, …]`, grandparents first. The server decides each
//! parent row's visibility for the caller's subject (`Session::link_rows`), exactly as
//! `polc eval --link-rows` does; a caller never states which parents are shown. Without them,
//! a row that follows a parent is hidden (fail closed).

use axum::http::StatusCode;
use pol_runtime::{LinkError, Session};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The rows of one parent source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentRows {
    /// The parent source.
    pub source: String,
    /// Its rows, JSON objects as in `rows`.
    pub rows: Vec<Map<String, Value>>,
}

/// How many parent rows a request gives in all.
pub fn count(links: &[ParentRows]) -> usize {
    links.iter().map(|p| p.rows.len()).sum()
}

/// Gives the session each parent's rows, in the order of the request.
pub fn give(session: &mut Session<'_>, links: &[ParentRows]) -> Result<(), ApiError> {
    for parent in links {
        session
            .link_rows(&parent.source, &parent.rows)
            .map_err(|e| match e {
                LinkError::UnknownSource(s) => ApiError::unknown_source(&s),
                LinkError::NoKey(_) => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "not-a-parent",
                    format!("link_rows: {e}"),
                ),
            })?;
    }
    Ok(())
}
