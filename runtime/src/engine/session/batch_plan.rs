//! What a session decides for a whole batch of rows at once: the hook the columnar path
//! ([`crate::arrow`]) reads, so that it applies column-at-a-time exactly the decisions that
//! [`SourceSession::mask_values`] would make on every row, and masks row by row only the
//! columns whose decision depends on the row.

pub(crate) use super::Act;
use super::{ColSpec, Derive, RowState, SourceSession};
use crate::engine::Prepared;
use crate::program::interp::Env;
use crate::value::{ColumnType, Value};
use smallvec::SmallVec;

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
    /// Decided row by row from batch conditions only (see
    /// [`SourceSession::decision_conds`]): clear, null or a built-in technique per row,
    /// computed down the column without the row path. The flat column.
    Decide(u32),
    /// Decided, masked or computed row by row (row-dependent decisions, expression and
    /// by-level techniques, derived columns, struct fields, grants): see
    /// [`SourceSession::mask_positions`].
    PerRow,
}

/// How one top-level column is computed row by row (see [`BatchPlan::cells`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BatchCell {
    /// Decided for every row: this act on the raw cell.
    Const(Act),
    /// Decided row by row: this flat column's remaining candidates.
    Dyn(u32),
    /// A derived column (flat index): its own decision, unless a column it reads is not clear
    /// on the row, in which case it is masked by its own technique or null.
    Derived(u32),
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
    /// Per top-level column, how [`SourceSession::mask_positions`] computes it row by row
    /// without the full row mask: `None` when a grant or a struct field needs the full row.
    pub cells: Option<Vec<BatchCell>>,
    /// Which rows are shown.
    pub rows: RowTreatment,
    /// When `rows` is [`RowTreatment::PerRow`]: the row filters' programs, if all of them are
    /// batch conditions (see [`SourceSession::row_conds`]), so that the shown rows are
    /// computed column-at-a-time.
    pub row_conds: Option<Vec<u32>>,
    /// The row position of the key column, if the source has one.
    pub key: Option<usize>,
}

impl SourceSession<'_> {
    /// The session's decisions that hold for every row of this source.
    pub(crate) fn batch_plan(&self) -> BatchPlan {
        let meta = self.meta;
        let spec = self.spec;
        let columns: Vec<ColumnTreatment> = meta
            .top
            .iter()
            .map(|&flat| self.treatment(flat as usize))
            .collect();
        let cells = self.batch_cells();
        let read_per_row = match cells {
            Some(_) => self.per_row_reads(&columns),
            None => self.program_reads(),
        };
        let rows = if spec.exempt {
            RowTreatment::AllShown
        } else if spec.hidden_by.is_some() {
            RowTreatment::AllHidden
        } else if spec.checks.is_empty() {
            RowTreatment::AllShown
        } else {
            RowTreatment::PerRow
        };
        let row_conds = if rows == RowTreatment::PerRow {
            self.row_conds()
        } else {
            None
        };
        BatchPlan {
            columns,
            read_per_row,
            cells,
            rows,
            row_conds,
            key: meta.key_pos,
        }
    }

    /// Per top-level column: whether any program of the source, the key, the event time or the
    /// level reads it (what the full row mask may read).
    fn program_reads(&self) -> Vec<bool> {
        let meta = self.meta;
        let special = [meta.key_pos, meta.event_pos, meta.level_pos];
        (0..meta.top.len())
            .map(|pos| {
                special.contains(&Some(pos))
                    || meta.paths.iter().enumerate().any(|(f, p)| {
                        p.top as usize == pos
                            && meta.read_by_program.get(f).copied().unwrap_or(true)
                    })
            })
            .collect()
    }

    /// See [`BatchPlan::cells`].
    fn batch_cells(&self) -> Option<Vec<BatchCell>> {
        let has_fields = self.plan.columns.iter().any(|c| c.parent.is_some());
        if self.session.grants.is_some() || has_fields {
            return None;
        }
        self.meta
            .top
            .iter()
            .map(|&f| {
                if self.plan.columns.get(f as usize)?.derived.is_some() {
                    return Some(BatchCell::Derived(f));
                }
                Some(match self.spec.columns.get(f as usize)? {
                    ColSpec::Const(d) => BatchCell::Const(d.act),
                    ColSpec::Dyn(_) => BatchCell::Dyn(f),
                })
            })
            .collect()
    }

    fn treatment(&self, f: usize) -> ColumnTreatment {
        let spec = self.spec;
        let Some(col) = self.plan.columns.get(f) else {
            return ColumnTreatment::PerRow;
        };
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
        let d = match spec.columns.get(f) {
            Some(ColSpec::Const(d)) => d,
            Some(ColSpec::Dyn(_)) if self.decision_conds(f as u32).is_some() => {
                return ColumnTreatment::Decide(f as u32)
            }
            _ => return ColumnTreatment::PerRow,
        };
        match d.act {
            Act::Null => ColumnTreatment::Null,
            // The `null` technique gives null whatever the cell.
            Act::Mask(t) if self.is_null_technique(t) => ColumnTreatment::Null,
            // A struct shown clear may still mask some of its fields.
            Act::Clear if self.meta.children.get(f).is_some_and(Vec::is_empty) => {
                ColumnTreatment::Clear
            }
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

    /// Whether technique `t` is the built-in `null`.
    fn is_null_technique(&self, t: u32) -> bool {
        matches!(
            self.session.engine.techniques.get(t as usize),
            Some(Prepared::Builtin(p)) if matches!(p.technique(), crate::techniques::Technique::Null)
        )
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

    /// Whether built-in technique `t` reads the row's key (`noise`, `randomize`): the others
    /// are given none by the batch, which then reads no key column.
    pub(crate) fn reads_row_key(&self, t: u32) -> bool {
        use crate::techniques::Technique;
        match self.session.engine.techniques.get(t as usize) {
            Some(Prepared::Builtin(p)) => {
                matches!(
                    p.technique(),
                    Technique::Noise(_) | Technique::Randomize { .. }
                )
            }
            _ => true,
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
    /// `positions` (appended to `out`, in that order): `false` if the row is hidden. `row`
    /// holds at least the cells `plan.read_per_row` marks.
    pub(crate) fn mask_positions(
        &self,
        plan: &BatchPlan,
        row: &[Value],
        positions: &[usize],
        out: &mut Vec<Value>,
    ) -> bool {
        let state = self.decode_values(row, Derive::Needed);
        if !self.shown(&state, None) {
            return false;
        }
        let Some(cells) = &plan.cells else {
            let mut all = self.mask(&state, None, self.reveal(&state));
            for &pos in positions {
                out.push(
                    all.get_mut(pos)
                        .map_or(Value::Null, |v| std::mem::replace(v, Value::Null)),
                );
            }
            return true;
        };
        // The straight-line plan, for the asked positions only; a derived column looks at the
        // decisions of the columns it reads on this row.
        let env = self.env(&state, None);
        let row_key = self.row_key(&state);
        let mut memo: Memo = SmallVec::new();
        for &pos in positions {
            let (Some(cell), Some(raw)) = (cells.get(pos), state.cell(pos)) else {
                out.push(Value::Null);
                continue;
            };
            if state.mismatch(pos).is_some() {
                out.push(Value::Null);
                continue;
            }
            let (act, flat) = match *cell {
                BatchCell::Const(act) => (act, self.meta.top.get(pos).copied().unwrap_or(0)),
                BatchCell::Dyn(f) => (self.decide_row_dependent(f, &env).act, f),
                BatchCell::Derived(f) => {
                    if memo.is_empty() {
                        memo.resize(self.plan.columns.len(), Clear::Unknown);
                    }
                    (self.derived_act(f, &state, &env, &mut memo), f)
                }
            };
            out.push(match act {
                Act::Clear => raw.clone(),
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

    /// The own decision of flat column `f` on this row (constant or row-dependent).
    fn own_act(&self, f: u32, env: &Env<'_>) -> Act {
        match self.spec.columns.get(f as usize) {
            Some(ColSpec::Const(d)) => d.act,
            Some(ColSpec::Dyn(_)) => self.decide_row_dependent(f, env).act,
            None => Act::Null,
        }
    }

    /// What masking does to derived column `f` on this row, as [`SourceSession::mask`] decides
    /// it: its own decision if every column it reads is clear on the row, else its own
    /// technique if it masks, else null. In a source without struct fields; `memo` holds the
    /// row's clear-or-not verdicts per flat column (see [`Clear`]).
    fn derived_act(&self, f: u32, state: &RowState<'_>, env: &Env<'_>, memo: &mut Memo) -> Act {
        let own = self.own_act(f, env);
        if self.inputs_clear(f, state, env, memo, 0) {
            return own;
        }
        match own {
            Act::Mask(t) => Act::Mask(t),
            _ => Act::Null,
        }
    }

    /// Whether every column derived column `f` reads is clear on this row (see
    /// [`final_clear`](SourceSession::final_clear)). `depth` bounds the walk (the verifier
    /// bounds chains of derived columns; past the bound the answer is "not clear").
    fn inputs_clear(
        &self,
        f: u32,
        state: &RowState<'_>,
        env: &Env<'_>,
        memo: &mut Memo,
        depth: usize,
    ) -> bool {
        let Some(d) = self
            .plan
            .columns
            .get(f as usize)
            .and_then(|c| c.derived.as_ref())
        else {
            return true;
        };
        if depth > MAX_DERIVED_DEPTH {
            return false;
        }
        d.reads
            .iter()
            .all(|&r| self.final_clear_on_row(r, state, env, memo, depth + 1))
    }

    /// Whether flat column `r` (top-level) is clear on this row: its decision clear, its cell
    /// of the declared type and, for a derived column, every column it reads clear.
    fn final_clear_on_row(
        &self,
        r: u32,
        state: &RowState<'_>,
        env: &Env<'_>,
        memo: &mut Memo,
        depth: usize,
    ) -> bool {
        match memo.get(r as usize) {
            Some(Clear::Yes) => return true,
            Some(Clear::No) => return false,
            Some(Clear::Unknown) => {}
            None => return false,
        }
        let pos = self.meta.paths.get(r as usize).map(|p| p.top as usize);
        let clear = pos.is_some_and(|pos| state.mismatch(pos).is_none())
            && self.own_act(r, env) == Act::Clear
            && self.inputs_clear(r, state, env, memo, depth);
        if let Some(slot) = memo.get_mut(r as usize) {
            *slot = if clear { Clear::Yes } else { Clear::No };
        }
        clear
    }
}

/// Whether a column is clear on the row being masked, once known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Clear {
    Unknown,
    Yes,
    No,
}

/// Per flat column, its [`Clear`] verdict on one row.
type Memo = SmallVec<[Clear; 64]>;

/// How deep [`SourceSession::inputs_clear`] follows derived columns reading derived columns
/// before it fails closed (the verifier allows chains of 256).
const MAX_DERIVED_DEPTH: usize = 1024;

/// A cell as [`SourceSession::mask_values`] decodes it: `None` if it does not conform to the
/// column's type (a mismatch: the cell is null whatever its decision); an int is accepted for
/// a decimal column.
pub(crate) fn conform_cell(v: Value, ty: &ColumnType) -> Option<Value> {
    super::conform(v, ty).ok()
}
