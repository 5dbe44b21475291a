//! JSON in and out, as `polc eval`, `polc grants` and `pol-server` share them, so that every
//! front end prints the same bytes for the same input.
//!
//! - [`parse_row`]: one row from JSON text (a JSON object), with an error that never quotes
//!   the data.
//! - [`SourceSession::mask_row`] and [`SourceSession::explain_row`]: a masked row as a JSON
//!   object (every declared top-level column in declaration order), and an explanation whose
//!   cell values are withheld when the row is hidden.
//! - [`Engine::record_key`]: a record key given as text, parsed as the key column's type.
//! - [`grant_json`] and [`GrantStatus`]: a stored grant as `polc grants list --format json`
//!   prints it.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};

use crate::engine::{Engine, SourceSession};
use crate::grants::{GrantEntry, RequestEntry, RequestState};
use crate::value::{ColumnType, Value};

/// Why a text is not a row. The message names the JSON kind or the syntax error's column,
/// never any of the text itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowError {
    /// Valid JSON, but not an object (the kind found: `null`, `a boolean`, `a number`, …).
    NotAnObject {
        /// The kind found, with its article.
        found: &'static str,
    },
    /// Not valid JSON.
    Syntax {
        /// What went wrong (`syntax error`, `unexpected end of the line`, …).
        what: &'static str,
        /// The 1-based column of the error.
        column: usize,
    },
}

impl RowError {
    /// A stable code: `row-not-an-object` or `row-not-json`.
    pub fn code(&self) -> &'static str {
        match self {
            RowError::NotAnObject { .. } => "row-not-an-object",
            RowError::Syntax { .. } => "row-not-json",
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowError::NotAnObject { found } => {
                write!(f, "a row must be a JSON object, found {found}")
            }
            RowError::Syntax { what, column } => {
                write!(f, "not valid JSON ({what} at column {column})")
            }
        }
    }
}

impl std::error::Error for RowError {}

/// The kind of a JSON value, with its article, as messages name it.
pub fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Parses one row: the text must be a JSON object.
pub fn parse_row(text: &str) -> Result<Map<String, Json>, RowError> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(other) => Err(RowError::NotAnObject {
            found: json_kind(&other),
        }),
        Err(e) => Err(RowError::Syntax {
            what: match e.classify() {
                serde_json::error::Category::Eof => "unexpected end of the line",
                serde_json::error::Category::Syntax => "syntax error",
                serde_json::error::Category::Data => "invalid data",
                serde_json::error::Category::Io => "read error",
            },
            column: e.column(),
        }),
    }
}

impl SourceSession<'_> {
    /// [`mask_json`](Self::mask_json) as one JSON object: `None` if the row rules hide the
    /// row, else every declared top-level column in declaration order (what `polc eval`
    /// prints, one object per line).
    pub fn mask_row(&self, row: &Map<String, Json>) -> Option<Map<String, Json>> {
        self.mask_json(row).map(|cells| cells.into_iter().collect())
    }

    /// [`mask_row`](Self::mask_row) written to `out` as compact JSON text, without building
    /// the object: exactly the bytes `serde_json::to_writer(out, &mask_row(row))` writes.
    /// Returns whether the row is shown (a hidden row writes nothing). For servers that write
    /// many rows into one response body.
    pub fn write_masked_row(
        &self,
        row: &Map<String, Json>,
        out: &mut Vec<u8>,
    ) -> Result<bool, serde_json::Error> {
        let Some(cells) = self.mask_json(row) else {
            return Ok(false);
        };
        out.push(b'{');
        for (i, (name, value)) in cells.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, name)?;
            out.push(b':');
            serde_json::to_writer(&mut *out, value)?;
        }
        out.push(b'}');
        Ok(true)
    }

    /// A row masked and explained, as `polc eval --explain` prints it (without its `line`):
    /// `{"shown": …, "row": {…} | null, "explanation": {…}}`. When the row is hidden, its
    /// cells' values are withheld from the explanation.
    pub fn explain_row(&self, row: &Map<String, Json>) -> Map<String, Json> {
        let masked = self.mask_row(row);
        let mut explanation = self.explain(row);
        if masked.is_none() {
            for c in &mut explanation.cells {
                c.value = None;
            }
        }
        let mut obj = Map::new();
        obj.insert("shown".into(), Json::Bool(masked.is_some()));
        obj.insert("row".into(), masked.map(Json::Object).unwrap_or(Json::Null));
        obj.insert(
            "explanation".into(),
            serde_json::to_value(&explanation).unwrap_or(Json::Null),
        );
        obj
    }
}

/// Why a record key given as text cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKeyError {
    /// The engine has no such source; the sources it has are listed.
    UnknownSource {
        /// The source asked for.
        source: String,
        /// The sources of the bundle.
        sources: Vec<String>,
    },
    /// The text is not of the key column's type.
    WrongType {
        /// The key as given.
        key: String,
        /// The source.
        source: String,
        /// The key column.
        column: String,
        /// The key column's type.
        ty: String,
    },
}

impl RecordKeyError {
    /// A stable code: `unknown-source` or `bad-key`.
    pub fn code(&self) -> &'static str {
        match self {
            RecordKeyError::UnknownSource { .. } => "unknown-source",
            RecordKeyError::WrongType { .. } => "bad-key",
        }
    }
}

impl fmt::Display for RecordKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordKeyError::UnknownSource { source, sources } => write!(
                f,
                "no source `{source}` in the policies (sources: {})",
                sources.join(", ")
            ),
            RecordKeyError::WrongType {
                key,
                source,
                column,
                ty,
            } => write!(
                f,
                "--key `{key}` is not of type {ty}, the type of `{source}.{column}`"
            ),
        }
    }
}

impl std::error::Error for RecordKeyError {}

impl Engine {
    /// A record key given as text, parsed as the key column's type of `source`: numbers and
    /// booleans as JSON, every other type from the text itself. A source without a key column
    /// takes the text (the policy then refuses a grant on it).
    pub fn record_key(&self, source: &str, key: &str) -> Result<Value, RecordKeyError> {
        let Some(plan) = self.bundle().sources.iter().find(|s| s.name == source) else {
            return Err(RecordKeyError::UnknownSource {
                source: source.to_owned(),
                sources: self.source_names().map(str::to_owned).collect(),
            });
        };
        let Some(col) = plan.key_column.and_then(|k| plan.columns.get(k as usize)) else {
            return Ok(Value::Text(key.to_owned()));
        };
        let json = match col.ty {
            ColumnType::Int | ColumnType::Decimal | ColumnType::Bool => {
                serde_json::from_str(key).unwrap_or_else(|_| Json::String(key.to_owned()))
            }
            _ => Json::String(key.to_owned()),
        };
        Value::from_json(&json, &col.ty).map_err(|_| RecordKeyError::WrongType {
            key: key.to_owned(),
            source: source.to_owned(),
            column: col.name.clone(),
            ty: col.ty.to_string(),
        })
    }
}

/// A grant's status at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantStatus {
    /// It holds.
    Active,
    /// It reached its expiry.
    Expired,
    /// It was revoked.
    Revoked,
}

impl GrantStatus {
    /// The status of `entry` at `now` (a revocation wins over an expiry).
    pub fn of(entry: &GrantEntry, now: DateTime<Utc>) -> GrantStatus {
        if entry.revoked.is_some() {
            GrantStatus::Revoked
        } else if entry.grant.expires <= now {
            GrantStatus::Expired
        } else {
            GrantStatus::Active
        }
    }

    /// `active`, `expired` or `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Active => "active",
            GrantStatus::Expired => "expired",
            GrantStatus::Revoked => "revoked",
        }
    }
}

/// An instant as grants and their listings print it (RFC 3339, UTC, `Z`, whole seconds unless
/// the instant has a fraction).
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A grant as `polc grants list --format json` prints it, with its status at `now`.
pub fn grant_json(entry: &GrantEntry, now: DateTime<Utc>) -> Json {
    let g = &entry.grant;
    let mut o = Map::new();
    o.insert("id".into(), Json::from(g.id.clone()));
    o.insert("source".into(), Json::from(g.source.clone()));
    o.insert("key".into(), Json::from(g.key.clone()));
    o.insert("granted_to".into(), Json::from(g.granted_to.clone()));
    o.insert("rule".into(), Json::from(g.rule.clone()));
    o.insert("granted_at".into(), Json::from(time_text(g.granted_at)));
    o.insert("expires".into(), Json::from(time_text(g.expires)));
    o.insert(
        "status".into(),
        Json::from(GrantStatus::of(entry, now).as_str()),
    );
    if let Some(r) = &entry.revoked {
        o.insert("revoked_at".into(), Json::from(time_text(r.revoked_at)));
        o.insert("revoked_by".into(), Json::from(r.revoked_by.clone()));
    }
    Json::Object(o)
}

/// A temporary unmask request as `polc grants list --requests --format json` prints it, with
/// its state (`pending`, `approved`, `denied`, `expired`) and, once answered, who answered when
/// (and the grant an approval gave).
pub fn request_json(entry: &RequestEntry) -> Json {
    let r = &entry.request;
    let mut o = Map::new();
    o.insert("id".into(), Json::from(r.id.clone()));
    o.insert("source".into(), Json::from(r.source.clone()));
    o.insert("key".into(), Json::from(r.key.clone()));
    o.insert("requested_by".into(), Json::from(r.requested_by.clone()));
    o.insert("rule".into(), Json::from(r.rule.clone()));
    o.insert("requested_at".into(), Json::from(time_text(r.requested_at)));
    o.insert("answer_by".into(), Json::from(time_text(r.answer_by)));
    o.insert("seconds".into(), Json::from(r.seconds));
    if let Some(reason) = &r.reason {
        o.insert("reason".into(), Json::from(reason.clone()));
    }
    o.insert("state".into(), Json::from(entry.state.as_str()));
    if let RequestState::Answered(a) = &entry.state {
        if !a.by.is_empty() {
            o.insert("answered_by".into(), Json::from(a.by.clone()));
        }
        o.insert("answered_at".into(), Json::from(time_text(a.at)));
        if let Some(g) = &a.grant {
            o.insert("grant".into(), Json::from(g.id.clone()));
            o.insert("expires".into(), Json::from(time_text(g.expires)));
        }
    }
    Json::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_objects_and_errors_quote_no_data() {
        assert!(parse_row(r#"{"a": 1}"#).is_ok());
        let e = parse_row(r#""secret""#).unwrap_err();
        assert_eq!(e.to_string(), "a row must be a JSON object, found a string");
        assert_eq!(e.code(), "row-not-an-object");
        let e = parse_row(r#"{"ssn": "123-45-6789""#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not valid JSON (unexpected end of the line at column 21)"
        );
        assert_eq!(e.code(), "row-not-json");
    }
}
