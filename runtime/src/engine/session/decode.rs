//! Decoding rows: a JSON object or a typed row into the raw top-level values of a source
//! (borrowed where a typed cell conforms), type mismatches, and the derived columns.

use smallvec::{smallvec, SmallVec};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use super::SourceSession;
use crate::engine::Decode;
use crate::program::interp::{run, Env, Eval, Row};
use crate::value::{ColumnType, Value};

/// Which derived columns a decoded row computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Derive {
    /// All of them (explanations report every value and mismatch).
    All,
    /// Those whose value can matter: not [`SourceSpec::null_derived`].
    Needed,
}

/// A decoded row: top-level raw values (derived ones computed) and type mismatches.
pub(super) struct RowState<'r> {
    pub(super) raw: Raw<'r>,
    /// Row positions whose value does not match the declared type, with the reason (rare).
    pub(super) mismatches: SmallVec<[(usize, String); 1]>,
}

/// A row's top-level raw values.
#[expect(
    clippy::large_enum_variant,
    reason = "a row state lives on the stack for one row; boxing the cells would allocate per row, which the inline cells avoid"
)]
pub(super) enum Raw<'r> {
    /// One cell per top-level position: borrowed from a typed input row when the value
    /// conforms as is, owned otherwise.
    Cells(SmallVec<[Cow<'r, Value>; 24]>),
    /// A typed row read in place (see [`SourceSession::plain`]): position `p` is input `p`,
    /// and the positions past the inputs (derived columns nothing computes) are null.
    Plain(&'r [Value]),
}

impl<'r> RowState<'r> {
    /// The raw value at a top-level position.
    #[inline]
    pub(super) fn cell(&self, pos: usize) -> Option<&Value> {
        self.row().get(pos)
    }

    /// The raw values as programs read them.
    #[inline]
    pub(super) fn row(&self) -> Row<'_> {
        match &self.raw {
            Raw::Cells(cells) => Row::Cells(cells),
            Raw::Plain(values) => Row::Plain(values),
        }
    }

    /// The cell at a top-level position to write a derived value to (decoded rows only).
    fn slot(&mut self, pos: usize) -> Option<&mut Cow<'r, Value>> {
        match &mut self.raw {
            Raw::Cells(cells) => cells.get_mut(pos),
            Raw::Plain(_) => None,
        }
    }

    /// Why the value at a top-level position does not match its declared type, if it does not.
    pub(super) fn mismatch(&self, pos: usize) -> Option<&String> {
        self.mismatches
            .iter()
            .find(|(p, _)| *p == pos)
            .map(|(_, m)| m)
    }
}

pub(crate) fn conform(v: Value, ty: &ColumnType) -> Result<Value, String> {
    let v = match (v, ty) {
        (Value::Int(i), ColumnType::Decimal) => Value::Decimal(i as f64),
        (v, _) => v,
    };
    if v.conforms_to(ty) {
        Ok(v)
    } else {
        Err(format!("expected {ty}, found a {} value", v.type_name()))
    }
}

impl<'s> SourceSession<'s> {
    // ---- decoding ------------------------------------------------------------------------

    /// Counts the row's cells that did not decode to their column's type.
    pub(super) fn count_mismatches(&self, state: &RowState<'_>) {
        if state.mismatches.is_empty() {
            return;
        }
        let counters = self
            .mismatched
            .get_or_init(|| self.meta.top.iter().map(|_| AtomicU64::new(0)).collect());
        for (pos, _) in &state.mismatches {
            if let Some(c) = counters.get(*pos) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub(super) fn decode_json(
        &self,
        row: &serde_json::Map<String, serde_json::Value>,
        derive: Derive,
    ) -> RowState<'static> {
        let n = self.meta.top.len();
        let mut raw: SmallVec<[Cow<'static, Value>; 24]> = smallvec![Cow::Owned(Value::Null); n];
        let mut mismatches = SmallVec::new();
        // Rows usually list their columns in declaration order: the next entry is tried first,
        // and only a column not found there is looked up by name (the same entry either way,
        // since an object's names are unique).
        let mut entries = row.iter().peekable();
        for &pos in &self.meta.inputs {
            let col = &self.plan.columns[self.meta.top[pos as usize] as usize];
            let found = match entries.next_if(|(name, _)| **name == col.name) {
                Some((_, j)) => Some(j),
                None => row.get(&col.name),
            };
            if let Some(j) = found {
                match Value::from_json(j, &col.ty) {
                    Ok(v) => raw[pos as usize] = Cow::Owned(v),
                    Err(e) => mismatches.push((pos as usize, e.to_string())),
                }
            }
        }
        let mut state = RowState {
            raw: Raw::Cells(raw),
            mismatches,
        };
        self.derive(&mut state, derive);
        state
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub(super) fn decode_values<'r>(&self, row: &'r [Value], derive: Derive) -> RowState<'r> {
        let mut raw: SmallVec<[Cow<'r, Value>; 24]> = SmallVec::with_capacity(self.meta.top.len());
        let mut mismatches = SmallVec::new();
        // Stored top-level columns take the row's values in order; derived ones start null.
        let mut inputs = row.iter();
        for (pos, step) in self.meta.decode.iter().enumerate() {
            let (flat, input) = match *step {
                Decode::Derived => {
                    raw.push(Cow::Owned(Value::Null));
                    continue;
                }
                Decode::Simple(flat, simple) => match inputs.next() {
                    Some(v) if simple.admits(v) => {
                        raw.push(Cow::Borrowed(v));
                        continue;
                    }
                    other => (flat, other),
                },
                Decode::Complex(flat) => (flat, inputs.next()),
            };
            let ty = &self.plan.columns[flat as usize].ty;
            let cell = match input {
                None => Cow::Owned(Value::Null),
                Some(v) if v.conforms_to(ty) => Cow::Borrowed(v),
                Some(v) => match conform(v.clone(), ty) {
                    Ok(v) => Cow::Owned(v),
                    Err(e) => {
                        mismatches.push((pos, e));
                        Cow::Owned(Value::Null)
                    }
                },
            };
            raw.push(cell);
        }
        let mut state = RowState {
            raw: Raw::Cells(raw),
            mismatches,
        };
        self.derive(&mut state, derive);
        state
    }

    /// A typed row as a [`Raw::Plain`] state, when decoding would only borrow it: the
    /// source's stored columns all come before its derived ones and have simple types, every
    /// derived column is one the session knows to be null (so none is computed), no grant is
    /// attached, and every value given conforms as it is. `None`: decode it.
    #[inline]
    pub(super) fn plain<'r>(&self, row: &'r [Value]) -> Option<RowState<'r>> {
        if !self.spec.plain || self.session.grants.is_some() {
            return None;
        }
        // `plain` implies `plain_inputs`: one simple type per input, in input order.
        let kinds = &self.meta.plain_kinds;
        let row = row.get(..row.len().min(kinds.len()))?;
        let conforms = row.iter().zip(kinds).all(|(v, kind)| kind.admits(v));
        conforms.then_some(RowState {
            raw: Raw::Plain(row),
            mismatches: SmallVec::new(),
        })
    }

    pub(super) fn env<'a>(&'a self, state: &'a RowState<'_>, value: Option<&'a Value>) -> Env<'a> {
        let engine = self.session.engine;
        Env {
            row: state.row(),
            paths: &self.meta.paths,
            value,
            subject: self.session.subject(),
            now: self.session.now,
            strings: &engine.bundle.strings,
            regexes: &engine.regexes,
            purposes: &engine.purposes,
            tables: &self.session.compared.tables,
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub(super) fn derive(&self, state: &mut RowState<'_>, derive: Derive) {
        for &f in &self.meta.derived_order {
            // A row a grant unmasks needs every derived value: with grants, compute them all.
            if derive == Derive::Needed
                && self.session.grants.is_none()
                && self.spec.null_derived.get(f as usize) == Some(&true)
            {
                continue;
            }
            let col = &self.plan.columns[f as usize];
            let Some(d) = &col.derived else { continue };
            let pos = self.meta.paths[f as usize].top as usize;
            let result = match self.session.engine.bundle.programs.get(d.program as usize) {
                Some(p) => run(p, &self.env(state, None)),
                None => Eval::Unknown,
            };
            match result {
                Eval::Value(v) => match conform(v, &col.ty) {
                    Ok(v) => {
                        if let Some(slot) = state.slot(pos) {
                            *slot = Cow::Owned(v);
                        }
                    }
                    Err(e) => state.mismatches.push((pos, e)),
                },
                // An expression that cannot be evaluated is null (the cell, not a mismatch).
                Eval::Unknown => {
                    if let Some(slot) = state.slot(pos) {
                        *slot = Cow::Owned(Value::Null);
                    }
                }
            }
        }
    }
}
