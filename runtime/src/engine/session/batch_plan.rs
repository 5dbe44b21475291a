//! What a session decides for a whole batch of rows at once: the hook the columnar path
//! ([`crate::arrow`]) reads, so that it applies column-at-a-time exactly the decisions that
//! [`SourceSession::mask_values`] would make on every row, and masks row by row only the
//! columns whose decision depends on the row.

use super::{Act, CellPlan, ColSpec, Derive, SourceSession};
use crate::engine::Prepared;
use crate::value::{ColumnType, Value};

/// What masking does to one top-level column on every row of this session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnTreatment {
    /// The raw value, on every row (a cell that does not conform to the type is still null).
    Clear,
    /// Null on every row.
    Null,
    /// This built-in technique on every row (a cell that does not conform is null; the
    /// technique is seeded by the row's key, see [`SourceSession::mask_cell`]).
    Mask(u32),
    /// Decided, masked or computed row by row (row-dependent decisions, expression and
    /// by-level techniques, derived columns, struct fields, grants): see
    /// [`SourceSession::mask_positions`].
    PerRow,
}

/// Which rows the row rules show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowTreatment {
    /// Every row (no row rule can hide one for this user).
    AllShown,
    /// No row (a rule hides every row for this user).
    AllHidden,
    /// Decided row by row.
    PerRow,
}

/// A session's batch-wide facts about one source.
#[derive(Clone, Debug)]
pub(crate) struct BatchPlan {
    /// Per top-level column (row position).
    pub columns: Vec<ColumnTreatment>,
    /// Per top-level column: whether some row-level evaluation reads its raw value (a program,
    /// the key, the event time or the masking level), so that the row path must be given it.
    pub read_per_row: Vec<bool>,
    /// Which rows are shown.
    pub rows: RowTreatment,
    /// The row position of the key column, if the source has one.
    pub key: Option<usize>,
}

impl SourceSession<'_> {
    /// The session's decisions that hold for every row of this source.
    pub(crate) fn batch_plan(&self) -> BatchPlan {
        let meta = self.meta;
        let spec = self.spec;
        let columns = meta
            .top
            .iter()
            .map(|&flat| self.treatment(flat as usize))
            .collect();
        let special = [meta.key_pos, meta.event_pos, meta.level_pos];
        let read_per_row = (0..meta.top.len())
            .map(|pos| {
                special.contains(&Some(pos))
                    || meta.paths.iter().enumerate().any(|(f, p)| {
                        p.top as usize == pos
                            && meta.read_by_program.get(f).copied().unwrap_or(true)
                    })
            })
            .collect();
        let rows = if spec.exempt {
            RowTreatment::AllShown
        } else if spec.hidden_by.is_some() {
            RowTreatment::AllHidden
        } else if spec.checks.is_empty() {
            RowTreatment::AllShown
        } else {
            RowTreatment::PerRow
        };
        BatchPlan {
            columns,
            read_per_row,
            rows,
            key: meta.key_pos,
        }
    }

    fn treatment(&self, f: usize) -> ColumnTreatment {
        let spec = self.spec;
        let col = &self.plan.columns[f];
        if self.session.grants.is_some() {
            // A granted row is revealed whatever the session decided.
            return ColumnTreatment::PerRow;
        }
        if col.derived.is_some() {
            return if !spec.exempt && spec.null_derived.get(f) == Some(&true) {
                ColumnTreatment::Null
            } else {
                ColumnTreatment::PerRow
            };
        }
        let Some(ColSpec::Const(d)) = spec.columns.get(f) else {
            return ColumnTreatment::PerRow;
        };
        match d.act {
            Act::Null => ColumnTreatment::Null,
            // A struct shown clear may still mask some of its fields.
            Act::Clear if self.meta.children[f].is_empty() => ColumnTreatment::Clear,
            Act::Mask(t)
                if matches!(
                    self.session.engine.techniques.get(t as usize),
                    Some(Prepared::Builtin(_))
                ) =>
            {
                ColumnTreatment::Mask(t)
            }
            _ => ColumnTreatment::PerRow,
        }
    }

    /// Built-in technique `t` applied to the (conforming) cell of top-level column `pos`, as
    /// the row path applies it: null if the technique fails.
    pub(crate) fn mask_cell(
        &self,
        t: u32,
        pos: usize,
        value: &Value,
        row_key: Option<&Value>,
    ) -> Value {
        let flat = self.meta.top.get(pos).copied().unwrap_or(0);
        match self.session.engine.techniques.get(t as usize) {
            Some(Prepared::Builtin(p)) => p
                .apply(value, &self.mask_context(flat, row_key))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// Built-in technique `t` applied to the (non-null) text `s` of a `text` column, appended
    /// to `out`, for the techniques that can write into a buffer: `false` (nothing written)
    /// for the others (see [`crate::PreparedTechnique::apply_text_into`]).
    pub(crate) fn mask_text_into(&self, t: u32, s: &str, out: &mut String) -> bool {
        match self.session.engine.techniques.get(t as usize) {
            Some(Prepared::Builtin(p)) => p.apply_text_into(s, out),
            _ => false,
        }
    }

    /// [`mask_values`](SourceSession::mask_values) computing only the top-level columns at
    /// `positions` (appended to `out`, in that order): `false` if the row is hidden.
    pub(crate) fn mask_positions(
        &self,
        row: &[Value],
        positions: &[usize],
        out: &mut Vec<Value>,
    ) -> bool {
        let state = self.decode_values(row, Derive::Needed);
        if !self.shown(&state, None) {
            return false;
        }
        let (None, Some(cells)) = (&self.session.grants, &self.spec.cells) else {
            let mut all = self.mask(&state, None, self.reveal(&state));
            for &pos in positions {
                out.push(
                    all.get_mut(pos)
                        .map_or(Value::Null, |v| std::mem::replace(v, Value::Null)),
                );
            }
            return true;
        };
        // The straight-line plan, as `mask_planned` runs it, for the asked positions only.
        let env = self.env(&state, None);
        let row_key = self.row_key(&state);
        for &pos in positions {
            let (Some(cell), Some(raw)) = (cells.get(pos), state.raw.get(pos)) else {
                out.push(Value::Null);
                continue;
            };
            if state.mismatch(pos).is_some() {
                out.push(Value::Null);
                continue;
            }
            let (act, flat) = match *cell {
                CellPlan::Clear => (Act::Clear, pos as u32),
                CellPlan::Null => (Act::Null, pos as u32),
                CellPlan::Mask(t) => (Act::Mask(t), pos as u32),
                CellPlan::Dyn(f) => (self.decide_row_dependent(f, &env).act, f),
            };
            out.push(match act {
                Act::Clear => raw.as_ref().clone(),
                Act::Null => Value::Null,
                Act::Mask(t) => match self.session.engine.techniques.get(t as usize) {
                    Some(Prepared::Builtin(p)) => p
                        .apply(raw, &self.mask_context(flat, row_key))
                        .unwrap_or(Value::Null),
                    _ => self.apply(t, raw, flat, &state).unwrap_or(Value::Null),
                },
            });
        }
        true
    }
}

/// A cell as [`SourceSession::mask_values`] decodes it: `None` if it does not conform to the
/// column's type (a mismatch: the cell is null whatever its decision); an int is accepted for
/// a decimal column.
pub(crate) fn conform_cell(v: Value, ty: &ColumnType) -> Option<Value> {
    super::conform(v, ty).ok()
}
