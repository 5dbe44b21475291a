//! One row of one source as the reference reads it: decoded against the declared types, with
//! the derived columns computed (§2, §6.9).

use std::cell::RefCell;
use std::collections::HashMap;

use super::Subject;
use chrono::{DateTime, Utc};
use pol_runtime::value::{ColumnType, Value};

use super::eval::{Env, RowView, Supplied};
use super::values;
use crate::model::{ColumnId, Model, NodeId, Source, SourceId};
use crate::techniques::column_type;

/// What evaluating a derived column shares with the whole reference: the compiled `matches`
/// patterns and the tables supplied at run time.
pub(super) type Caches<'a> = (
    &'a RefCell<HashMap<String, Option<regex::Regex>>>,
    &'a Supplied,
);

/// A decoded row: per column id, the raw value of every top-level column (derived ones
/// computed) and whether it failed to decode as its declared type.
pub struct Row<'a> {
    pub model: &'a Model,
    pub source: SourceId,
    /// Per column id; only top-level entries are used (fields are read through their parent).
    pub raw: Vec<Value>,
    /// Per column id: the top-level cell did not match its declared type (§6.9: it is null).
    pub mismatch: Vec<bool>,
}

impl<'a> Row<'a> {
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn src(&self) -> &'a Source {
        &self.model.sources[self.source]
    }

    /// Decodes the stored columns of `json` (undeclared ones are dropped, missing ones are
    /// null, a value of the wrong type is null and marked), then computes the derived columns
    /// from the raw row.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn decode(
        model: &'a Model,
        source: SourceId,
        json: &serde_json::Map<String, serde_json::Value>,
        subject: &Subject,
        now: DateTime<Utc>,
        caches: Caches<'_>,
    ) -> Row<'a> {
        let src = &model.sources[source];
        let n = src.columns.len();
        let mut row = Row {
            model,
            source,
            raw: vec![Value::Null; n],
            mismatch: vec![false; n],
        };
        for (c, col) in src.top_columns() {
            if col.derived.is_some() {
                continue;
            }
            let Some(j) = json.get(&col.name) else {
                continue;
            };
            match column_type(&col.ty).and_then(|ty| values::decode(j, &ty)) {
                Some(v) => row.raw[c] = v,
                None => row.mismatch[c] = true,
            }
        }
        // Derived columns, each after the derived columns it reads.
        let mut state = vec![0u8; n];
        for (c, col) in src.top_columns() {
            if col.derived.is_some() {
                row.derive(c, &mut state, subject, now, caches);
            }
        }
        row
    }

    /// Computes the derived column `root` after the derived columns it reads, depth first with
    /// an explicit stack (a chain of derived columns may be tens of thousands long).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn derive(
        &mut self,
        root: ColumnId,
        state: &mut [u8],
        subject: &Subject,
        now: DateTime<Utc>,
        caches: Caches<'_>,
    ) {
        if state[root] != 0 {
            // Done, or a cycle (the checker rejects those): leave it null.
            return;
        }
        let model = self.model;
        let src = &model.sources[self.source];
        state[root] = 1;
        // (column, index of the next column it reads to visit)
        let mut stack: Vec<(ColumnId, usize)> = vec![(root, 0)];
        while let Some((c, next)) = stack.last_mut() {
            let c = *c;
            let reads = src.columns[c]
                .derived
                .as_ref()
                .map_or(&[][..], |d| &d.reads[..]);
            if let Some(&r) = reads.get(*next) {
                *next += 1;
                let top = top_of(src, r);
                if src.columns[top].derived.is_some() && state[top] == 0 {
                    state[top] = 1;
                    stack.push((top, 0));
                }
                continue;
            }
            stack.pop();
            self.compute_derived(c, subject, now, caches);
            state[c] = 2;
        }
    }

    /// Computes one derived column whose inputs are computed.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn compute_derived(
        &mut self,
        c: ColumnId,
        subject: &Subject,
        now: DateTime<Utc>,
        caches: Caches<'_>,
    ) {
        let model = self.model;
        let col = &model.sources[self.source].columns[c];
        let Some(d) = &col.derived else { return };
        let ev = Env {
            model,
            subject,
            now,
            row: Some(&*self),
            value: None,
            regexes: caches.0,
            supplied: caches.1,
        }
        .eval(&d.expr);
        let v = conform(ev.into_value(), column_type(&col.ty).as_ref());
        match v {
            Some(v) => self.raw[c] = v,
            None => self.mismatch[c] = true,
        }
    }

    /// The raw value of any column (a field is read through its enclosing columns; a field of
    /// a list of structs is the list of that field's values).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn value(&self, c: ColumnId) -> Value {
        let src = self.src();
        let mut chain = vec![c];
        while let Some(p) = src.columns[*chain.last().unwrap_or(&c)].parent {
            chain.push(p);
        }
        let top = chain.pop().unwrap_or(c);
        let mut v = self.raw.get(top).cloned().unwrap_or(Value::Null);
        while let Some(f) = chain.pop() {
            v = field(&v, field_name(src, f));
        }
        v
    }
}

/// The top-level column enclosing `c` (itself if top-level).
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn top_of(src: &Source, mut c: ColumnId) -> ColumnId {
    while let Some(p) = src.columns[c].parent {
        c = p;
    }
    c
}

/// A field's own name (`ssn` for `patient.ssn`).
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn field_name(src: &Source, c: ColumnId) -> &str {
    let col = &src.columns[c];
    match col.parent {
        Some(p) => col
            .name
            .strip_prefix(src.columns[p].name.as_str())
            .and_then(|s| s.strip_prefix('.'))
            .unwrap_or(&col.name),
        None => &col.name,
    }
}

fn field(v: &Value, name: &str) -> Value {
    match v {
        Value::Struct(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Value::Null, |(_, f)| f.clone()),
        Value::List(items) => Value::List(items.iter().map(|i| field(i, name)).collect()),
        _ => Value::Null,
    }
}

/// A computed value against the declared type: an int is accepted for a decimal; `None` when it
/// does not fit.
fn conform(v: Value, ty: Option<&ColumnType>) -> Option<Value> {
    let Some(ty) = ty else {
        return Some(v);
    };
    let v = match (v, ty) {
        (Value::Int(i), ColumnType::Decimal) => Value::Decimal(i as f64),
        (v, _) => v,
    };
    values::has_type(&v, ty).then_some(v)
}

impl RowView for Row<'_> {
    fn column(&self, name: &str) -> Option<Value> {
        self.src().column(name).map(|c| self.value(c))
    }

    fn tagged(&self, tag: NodeId) -> Option<Value> {
        let tags = &self.model.tags;
        self.src()
            .columns
            .iter()
            .position(|c| c.tags.iter().any(|&t| tags.is_under(t, tag)))
            .map(|c| self.value(c))
    }
}
