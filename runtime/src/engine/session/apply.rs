//! Applying decisions: techniques (built-in, `expr(…)`, `by level`) on cells, struct fields,
//! derived columns whose inputs are masked, temporary unmask grants, and the straight-line plan.

use chrono::{DateTime, Utc};
use smallvec::smallvec;

use super::{Act, CellPlan, CellTrace, Decided, Flags, Raw, RowState, SourceSession};
use crate::engine::explain::{CellAction, Reason};
use crate::engine::Prepared;
use crate::program::interp::{run, Env, Eval};
use crate::techniques::MaskContext;
use crate::value::Value;

impl<'s> SourceSession<'s> {
    pub(super) fn level(&self, state: &RowState<'_>) -> usize {
        let Some(plan) = &self.plan.level else {
            return 0;
        };
        // A level cell that does not match its declared type names no level: the highest
        // applies, as for a text that is not a declared level (only null means the default).
        if self
            .meta
            .level_pos
            .and_then(|p| state.mismatch(p))
            .is_some()
        {
            return 0;
        }
        match self.meta.level_pos.and_then(|p| state.cell(p)) {
            Some(Value::Text(s)) => self
                .session
                .engine
                .bundle
                .levels
                .iter()
                .position(|l| l == s)
                .unwrap_or(0),
            _ => plan.default as usize,
        }
    }

    /// The row's key, if it has a non-null one (seeds keyed techniques, names granted records).
    pub(super) fn row_key<'a>(&self, state: &'a RowState<'_>) -> Option<&'a Value> {
        self.meta
            .key_pos
            .and_then(|k| state.cell(k))
            .filter(|v| !v.is_null())
    }

    /// What a built-in technique is told about the cell of flat column `flat`.
    pub(super) fn mask_context<'a>(
        &'a self,
        flat: u32,
        row_key: Option<&'a Value>,
    ) -> MaskContext<'a> {
        MaskContext {
            source: &self.plan.name,
            column: self
                .meta
                .full_names
                .get(flat as usize)
                .map_or("", String::as_str),
            row_key,
            now: self.session.now,
            keys: self.session.engine.keys.as_ref(),
        }
    }

    /// Applies technique `t` to `value` for flat column `flat`.
    pub(super) fn apply(
        &self,
        t: u32,
        value: &Value,
        flat: u32,
        state: &RowState<'_>,
    ) -> Result<Value, String> {
        let engine = self.session.engine;
        let mut t = t;
        for _ in 0..2 {
            match engine.techniques.get(t as usize) {
                Some(Prepared::Builtin(p)) => {
                    let ctx = self.mask_context(flat, self.row_key(state));
                    return p.apply(value, &ctx).map_err(|e| e.to_string());
                }
                Some(Prepared::Expr(prog)) => {
                    let Some(program) = engine.bundle.programs.get(*prog as usize) else {
                        return Err("the expression is missing".to_owned());
                    };
                    return match run(program, &self.env(state, Some(value))) {
                        Eval::Value(v) => Ok(v),
                        Eval::Unknown => Err("the expression could not be evaluated".to_owned()),
                    };
                }
                Some(Prepared::ByLevel(per_level)) => {
                    let level = self.level(state);
                    match per_level
                        .get(level)
                        .copied()
                        .flatten()
                        .or_else(|| per_level.first().copied().flatten())
                    {
                        Some(next) => t = next,
                        None => return Ok(Value::Null),
                    }
                }
                None => return Err("no such technique".to_owned()),
            }
        }
        Err("`by level` nests".to_owned())
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub(super) fn act(
        &self,
        act: Act,
        value: Value,
        flat: u32,
        state: &RowState<'_>,
        decisions: &[Decided],
        traces: &mut Option<&mut Vec<CellTrace>>,
    ) -> Value {
        match act {
            Act::Clear if !self.meta.children[flat as usize].is_empty() => {
                self.mask_fields(value, flat, state, decisions, traces)
            }
            Act::Clear => value,
            _ => self.act_ref(act, &value, flat, state, decisions, traces),
        }
    }

    /// [`act`](Self::act) on a borrowed cell: only a cell shown clear is copied.
    pub(super) fn act_ref(
        &self,
        act: Act,
        value: &Value,
        flat: u32,
        state: &RowState<'_>,
        decisions: &[Decided],
        traces: &mut Option<&mut Vec<CellTrace>>,
    ) -> Value {
        match act {
            Act::Null => Value::Null,
            Act::Mask(t) => match self.apply(t, value, flat, state) {
                Ok(v) => v,
                Err(e) => {
                    if let Some(tr) = traces.as_deref_mut().and_then(|t| t.get_mut(flat as usize)) {
                        tr.technique_error = Some(e);
                    }
                    Value::Null
                }
            },
            Act::Clear => self.act(act, value.clone(), flat, state, decisions, traces),
        }
    }

    /// Masks the fields of a struct (or of every struct in a list of structs) whose own
    /// decision did not mask it as a whole. Depth is bounded by the schema.
    pub(super) fn mask_fields(
        &self,
        value: Value,
        flat: u32,
        state: &RowState<'_>,
        decisions: &[Decided],
        traces: &mut Option<&mut Vec<CellTrace>>,
    ) -> Value {
        match value {
            Value::List(items) => Value::List(
                items
                    .into_iter()
                    .map(|item| self.mask_struct(item, flat, state, decisions, traces))
                    .collect(),
            ),
            other => self.mask_struct(other, flat, state, decisions, traces),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub(super) fn mask_struct(
        &self,
        value: Value,
        flat: u32,
        state: &RowState<'_>,
        decisions: &[Decided],
        traces: &mut Option<&mut Vec<CellTrace>>,
    ) -> Value {
        let Value::Struct(fields) = value else {
            return value;
        };
        let kids = &self.meta.children[flat as usize];
        Value::Struct(
            fields
                .into_iter()
                .enumerate()
                .map(|(j, (name, v))| match kids.get(j) {
                    Some(&k) => {
                        let act = decisions.get(k as usize).map_or(Act::Null, |d| d.act);
                        let out = self.act(act, v, k, state, decisions, traces);
                        (name, out)
                    }
                    None => (name, Value::Null),
                })
                .collect(),
        )
    }

    /// Masks every top-level cell of a decoded (and shown) row; `granted` is the expiry of a
    /// temporary unmask of the row (see [`reveal`](Self::reveal)).
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub(super) fn mask(
        &self,
        state: &RowState<'_>,
        mut traces: Option<&mut Vec<CellTrace>>,
        granted: Option<DateTime<Utc>>,
    ) -> Vec<Value> {
        if let (None, None, Some(cells)) = (&traces, granted, &self.spec.cells) {
            return self.mask_planned(state, cells);
        }
        let meta = self.meta;
        // Exempt: every decision is clear (the session specialised them so); a row unmasked by a
        // grant likewise. Cells that do not match their type are still null, and so is a derived
        // column reading one (§6.6, §6.9).
        let decisions = if granted.is_some() {
            smallvec![Decided::EXEMPT; self.plan.columns.len()]
        } else {
            self.decide_all(state, traces.as_deref_mut())
        };
        // Without explanations or a grant, the derived columns the session knows to be null are
        // not looked at (they were not computed either).
        let fast = traces.is_none() && granted.is_none();
        let final_clear = if meta.read_by_derived && (!fast || self.spec.final_clear_needed) {
            self.final_clear(state, &decisions)
        } else {
            Flags::new()
        };
        let mut out = Vec::with_capacity(meta.top.len());
        for (pos, &flat) in meta.top.iter().enumerate() {
            let col = &self.plan.columns[flat as usize];
            let raw = state.cell(pos).unwrap_or(&Value::Null);
            if let Some(m) = state.mismatch(pos) {
                if let Some(t) = traces.as_deref_mut().and_then(|t| t.get_mut(flat as usize)) {
                    t.reason = Some(Reason::TypeMismatch { message: m.clone() });
                    t.action = Some(CellAction::Null);
                }
                out.push(Value::Null);
                continue;
            }
            if fast && self.spec.null_derived.get(flat as usize) == Some(&true) {
                out.push(Value::Null);
                continue;
            }
            let d = decisions[flat as usize];
            if let Some(derived) = &col.derived {
                let blocked = derived
                    .reads
                    .iter()
                    .find(|r| !final_clear.get(**r as usize).copied().unwrap_or(false));
                if let Some(&input) = blocked {
                    if let Some(t) = traces.as_deref_mut().and_then(|t| t.get_mut(flat as usize)) {
                        t.reason = Some(Reason::DerivedInputMasked {
                            input: meta.full_names[input as usize].clone(),
                        });
                        if !matches!(d.act, Act::Mask(_)) {
                            t.action = Some(CellAction::Null);
                        }
                    }
                    let act = match d.act {
                        Act::Mask(t) => Act::Mask(t),
                        _ => Act::Null,
                    };
                    out.push(self.act_ref(act, raw, flat, state, &decisions, &mut traces));
                    continue;
                }
            }
            out.push(self.act_ref(d.act, raw, flat, state, &decisions, &mut traces));
        }
        out
    }

    /// The expiry of a temporary unmask grant of this row, if one holds at the session clock
    /// and the reveal was audited. The cells it reveals (those not clear for this user
    /// otherwise) are written to the audit sink once per session and record; if the sink
    /// fails, the grant is not applied (fail closed). Exempt users need no grant.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub(super) fn reveal(&self, state: &RowState<'_>) -> Option<DateTime<Utc>> {
        if self.spec.exempt {
            return None;
        }
        let view = self.session.grants.as_ref()?;
        let key = self.row_key(state)?.canonical_text();
        let until = view.until(self.index, &key)?;
        if until <= self.session.now {
            return None;
        }
        let decisions = self.decide_all(state, None);
        let clear = self.final_clear(state, &decisions);
        let revealed: Vec<String> = self
            .meta
            .top
            .iter()
            .enumerate()
            .filter(|(pos, f)| {
                state.mismatch(*pos).is_none() && !clear.get(**f as usize).copied().unwrap_or(false)
            })
            .map(|(_, f)| self.meta.full_names[*f as usize].clone())
            .collect();
        if revealed.is_empty()
            || view.audit_reveal(
                self.index,
                &self.plan.name,
                &key,
                revealed,
                until,
                self.session.now,
            )
        {
            Some(until)
        } else {
            None
        }
    }

    /// [`mask`](Self::mask) by the session's straight-line plan: top-level columns only, each
    /// decided alone (mismatched cells are null; derived ones in the plan are null).
    pub(super) fn mask_planned(&self, state: &RowState<'_>, cells: &[CellPlan]) -> Vec<Value> {
        let env = self.env(state, None);
        match &state.raw {
            Raw::Plain(values) => self.mask_cells(state, &env, cells, |pos| values.get(pos)),
            Raw::Cells(raw) => {
                self.mask_cells(state, &env, cells, |pos| raw.get(pos).map(|c| &**c))
            }
        }
    }

    /// [`mask_planned`](Self::mask_planned) on a typed row read in place, with the row's
    /// environment already built (the typed path builds it once for the row rules and the
    /// cells).
    #[inline]
    pub(super) fn mask_plain(
        &self,
        state: &RowState<'_>,
        env: &Env<'_>,
        cells: &[CellPlan],
        values: &[Value],
    ) -> Vec<Value> {
        self.mask_cells(state, env, cells, |pos| values.get(pos))
    }

    /// [`mask_planned`](Self::mask_planned) with `cell_at` reading the raw cell at a position
    /// (`None`: past the end, null).
    #[inline]
    fn mask_cells<'v>(
        &self,
        state: &RowState<'_>,
        env: &Env<'_>,
        cells: &[CellPlan],
        cell_at: impl Fn(usize) -> Option<&'v Value>,
    ) -> Vec<Value> {
        let no_mismatch = state.mismatches.is_empty();
        let engine = self.session.engine;
        let row_key = self.row_key(state);
        // One context for the row; each masked cell sets its column.
        let mut ctx = self.mask_context(0, row_key);
        let mut out = Vec::with_capacity(cells.len());
        for (pos, cell) in cells.iter().enumerate() {
            if !no_mismatch && state.mismatch(pos).is_some() {
                out.push(Value::Null);
                continue;
            }
            let (act, flat) = match *cell {
                CellPlan::Clear => (Act::Clear, pos as u32),
                CellPlan::Null => {
                    out.push(Value::Null);
                    continue;
                }
                CellPlan::Mask(t) => (Act::Mask(t), pos as u32),
                CellPlan::Dyn(f) => {
                    let act = self.decide_row_dependent(f, env).act;
                    (act, f)
                }
            };
            let raw = cell_at(pos).unwrap_or(&Value::Null);
            out.push(match act {
                Act::Clear => raw.clone(),
                Act::Null => Value::Null,
                Act::Mask(t) => match engine.techniques.get(t as usize) {
                    // A built-in technique: applied directly (as `apply` does).
                    Some(Prepared::Builtin(p)) => {
                        ctx.column = self
                            .meta
                            .full_names
                            .get(flat as usize)
                            .map_or("", String::as_str);
                        p.apply(raw, &ctx).unwrap_or(Value::Null)
                    }
                    _ => self.apply(t, raw, flat, state).unwrap_or(Value::Null),
                },
            });
        }
        out
    }
}
