//! Linked visibility: the parent rows a session was given, as the set of their keys shown to
//! its subject.
//!
//! A child source's rule `only show rows linked to shown P` (`RowFilter::Linked`) passes a row
//! only if the parent row its link column names was given to the session
//! ([`Session::link_rows`] / [`Session::link_values`]) and is shown to the same subject. The
//! parent's own row rules decide that, linked ones included: give a grandparent's rows before
//! its children's, and so on up a chain. Everything that is not known to be shown hides:
//!
//! - a null link key, or a key of the wrong type, hides the row (unknown);
//! - a parent source whose rows were never given hides every row that follows it (unknown);
//! - a key that no given parent row has (dangling) hides the row (false);
//! - a key held by several given parent rows is shown only if every one of them is shown.

use ahash::AHashMap as HashMap;
use chrono::{DateTime, NaiveDate, Utc};

use super::decode::Derive;
use super::{Session, SourceSession};
use crate::program::Tri;
use crate::value::Value;

/// A key value as the link lookup compares it: the simple values a `key` column may hold.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum LinkKey {
    Int(i64),
    /// The bits of a decimal (with -0.0 read as 0.0).
    Decimal(u64),
    Text(Box<str>),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
}

impl LinkKey {
    /// The key of a cell; none for null and for values a key cannot hold.
    fn of(v: &Value) -> Option<LinkKey> {
        Some(match v {
            Value::Int(i) => LinkKey::Int(*i),
            Value::Decimal(d) if d.is_finite() => LinkKey::Decimal((d + 0.0).to_bits()),
            Value::Text(t) => LinkKey::Text(t.as_str().into()),
            Value::Date(d) => LinkKey::Date(*d),
            Value::Timestamp(t) => LinkKey::Timestamp(*t),
            _ => return None,
        })
    }
}

/// Per parent source (bundle index): each given key, and whether every given row with that key
/// is shown. A list (a session links to a few parents at most), so that a session that links
/// nothing costs nothing to open.
#[derive(Debug, Default)]
pub(super) struct Links {
    parents: Vec<(u32, HashMap<LinkKey, bool>)>,
}

impl Links {
    /// Whether the parent row `key` of source `parent` is shown: unknown if the parent's rows
    /// were never given or the key is null, false if no given row has the key.
    pub(super) fn shown(&self, parent: u32, key: Option<&Value>) -> Tri {
        let Some((_, keys)) = self.parents.iter().find(|(p, _)| *p == parent) else {
            return Tri::Unknown;
        };
        match key.and_then(LinkKey::of) {
            None => Tri::Unknown,
            Some(k) => Tri::from_bool(keys.get(&k).copied().unwrap_or(false)),
        }
    }
}

/// Why parent rows could not be given to a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// No source of that name in the bundle.
    UnknownSource(String),
    /// The source has no `key` column, so no row of it can be a parent.
    NoKey(String),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::UnknownSource(s) => write!(f, "no source `{s}` in the bundle"),
            LinkError::NoKey(s) => {
                write!(
                    f,
                    "source `{s}` has no key column: its rows cannot be parents"
                )
            }
        }
    }
}

impl std::error::Error for LinkError {}

impl SourceSession<'_> {
    /// The key of a decoded row and whether the row rules show it to the session's subject.
    fn keyed(&self, state: &super::RowState<'_>) -> Option<(LinkKey, bool)> {
        let key = LinkKey::of(state.cell(self.meta.key_pos?)?)?;
        Some((key, self.shown(state, None)))
    }
}

impl Session<'_> {
    /// Gives the session rows of source `parent` (JSON objects, as for
    /// [`SourceSession::mask_json`]), so that rows of its child sources that follow it
    /// (`only show rows linked to shown parent`) may be shown: a child row passes if the parent
    /// row its link names is among the rows given here (in any call) and every given row with
    /// that key is shown to this subject. Rows with a null key are ignored. Give a chain from
    /// the top: a parent's own linked rules read the rows given for its parent before this
    /// call. Returns how many of the given rows are shown.
    pub fn link_rows<'r>(
        &mut self,
        parent: &str,
        rows: impl IntoIterator<Item = &'r serde_json::Map<String, serde_json::Value>>,
    ) -> Result<usize, LinkError> {
        let (index, keyed) = {
            let source = self.parent_source(parent)?;
            let keyed: Vec<(LinkKey, bool)> = rows
                .into_iter()
                .filter_map(|row| source.keyed(&source.decode_json(row, Derive::Needed)))
                .collect();
            (source.index as u32, keyed)
        };
        Ok(self.record(index, keyed))
    }

    /// [`link_rows`](Self::link_rows) for typed rows (in the order of
    /// [`SourceSession::input_columns`], as for [`SourceSession::mask_values`]).
    pub fn link_values<'r>(
        &mut self,
        parent: &str,
        rows: impl IntoIterator<Item = &'r [Value]>,
    ) -> Result<usize, LinkError> {
        let (index, keyed) = {
            let source = self.parent_source(parent)?;
            let keyed: Vec<(LinkKey, bool)> = rows
                .into_iter()
                .filter_map(|row| source.keyed(&source.decode_values(row, Derive::Needed)))
                .collect();
            (source.index as u32, keyed)
        };
        Ok(self.record(index, keyed))
    }

    fn parent_source(&self, parent: &str) -> Result<SourceSession<'_>, LinkError> {
        let source = self
            .source(parent)
            .ok_or_else(|| LinkError::UnknownSource(parent.to_owned()))?;
        if source.meta.key_pos.is_none() {
            return Err(LinkError::NoKey(parent.to_owned()));
        }
        Ok(source)
    }

    fn record(&mut self, parent: u32, keyed: Vec<(LinkKey, bool)>) -> usize {
        let shown = keyed.iter().filter(|(_, s)| *s).count();
        let parents = &mut self.links.parents;
        let at = match parents.iter().position(|(p, _)| *p == parent) {
            Some(i) => i,
            None => {
                parents.push((parent, HashMap::default()));
                parents.len() - 1
            }
        };
        let Some((_, keys)) = parents.get_mut(at) else {
            return shown;
        };
        for (k, s) in keyed {
            keys.entry(k).and_modify(|x| *x &= s).or_insert(s);
        }
        shown
    }
}
