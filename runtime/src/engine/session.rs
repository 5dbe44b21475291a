//! Sessions: a bundle specialised for one user and one clock.

use chrono::{DateTime, NaiveTime, Utc};
use sha2::{Digest, Sha256};
use smallvec::{smallvec, SmallVec};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use super::explain::{
    tri_word, CellAction, CellExplanation, Reason, RowExplanation, RowRuleExplanation, RuleRef,
};
use super::subject::{Subject, SubjectError};
use super::{Decode, Engine, Prepared, SourceMeta};
use crate::bundle::{
    Audience, Candidate, ColumnPlan, RowAudience, RowFilter, RowOtherwise, RowRulePlan, SourcePlan,
};
use crate::grants::GrantView;
use crate::program::interp::{eq_tri, run, Comparison, Env, Eval, Operand};
use crate::program::Tri;
use crate::techniques::MaskContext;
use crate::value::{ColumnType, Value};

#[cfg(feature = "arrow")]
pub(crate) mod batch_conds;
#[cfg(feature = "arrow")]
pub(crate) mod batch_plan;
#[cfg(feature = "arrow")]
mod batch_reads;

/// What a decision does to a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    Clear,
    Mask(u32),
    Null,
}

/// Why (the string-free form of [`Reason`], cheap to copy per row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    Exempt,
    NoRule,
    Everyone,
    ExceptionHeld,
    ExceptionNotHeld(Tri),
    WhoHeld,
    WhoUnknown,
    Otherwise,
    OtherwiseUnmasked,
}

/// A column's decision for one user and row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decided {
    /// The deciding candidate's position in the column's list.
    candidate: Option<u32>,
    clause: Option<u32>,
    where_: Option<Tri>,
    why: Why,
    act: Act,
}

impl Decided {
    const NO_RULE: Decided = Decided {
        candidate: None,
        clause: None,
        where_: None,
        why: Why::NoRule,
        act: Act::Clear,
    };
    const EXEMPT: Decided = Decided {
        candidate: None,
        clause: None,
        where_: None,
        why: Why::Exempt,
        act: Act::Clear,
    };
}

#[derive(Clone, Debug)]
enum ColSpec {
    /// Decided for every row.
    Const(Decided),
    /// Decided per row by these candidates (positions in the column's list), in order; none
    /// deciding means clear.
    Dyn(Vec<u32>),
}

#[derive(Clone, Debug)]
enum RuleCheck<'e> {
    /// A row-dependent filter of a rule.
    Filter(&'e RowFilter),
    /// A rule whose audience reads the row: evaluated in full per row.
    Generic(usize),
}

#[derive(Clone, Debug)]
struct SourceSpec<'e> {
    exempt: bool,
    /// Per row position.
    visible: Vec<bool>,
    /// Per flat column.
    columns: Vec<ColSpec>,
    /// A rule that hides every row for this user.
    hidden_by: Option<usize>,
    /// Per flat column: a derived column that is null for this user on every row (its own
    /// decision is null, or clear with an input masked on every row) and that no program reads,
    /// so that masking a row need not compute it.
    null_derived: Vec<bool>,
    /// Per flat column: its decision when it is the same on every row (a placeholder for the
    /// others, listed in `dynamic`).
    base: Decisions,
    /// Flat columns decided per row.
    dynamic: Vec<u32>,
    /// Whether masking needs the final clear state of columns (some derived column that is not
    /// in `null_derived` reads them).
    final_clear_needed: bool,
    /// Per row position, what masking does when neither explanations nor grants are involved,
    /// if every column can be decided without the others (no struct fields, no derived column
    /// whose value may show): the straight-line plan of [`SourceSession::mask`].
    cells: Option<Vec<CellPlan>>,
    checks: Vec<RuleCheck<'e>>,
}

/// A bundle specialised for one user at one clock. Every user-only condition was evaluated
/// once, when the session was created; masking a row evaluates only what depends on the row.
#[derive(Debug)]
pub struct Session<'e> {
    engine: &'e Engine,
    subject: Subject,
    now: DateTime<Utc>,
    /// Per program: its value if it is user-only.
    user: Vec<Option<Tri>>,
    /// Per program that is a comparison with the row: its row-independent side, resolved for
    /// this session (`None` inside: missing or null, so the comparison is unknown).
    compared: Vec<Option<(Comparison, Option<Value>)>>,
    specs: Vec<SourceSpec<'e>>,
    /// Temporary unmask grants live at the session clock, if the session was opened through a
    /// [`GrantService`](crate::grants::GrantService).
    grants: Option<GrantView>,
    /// Per source, per top-level column: how many cells masked so far did not decode to the
    /// column's type (see [`Session::warnings`]).
    pub(super) mismatched: Vec<Vec<AtomicU64>>,
}

/// One source as seen by a session's user.
#[derive(Clone, Copy, Debug)]
pub struct SourceSession<'s> {
    session: &'s Session<'s>,
    index: usize,
    plan: &'s SourcePlan,
    meta: &'s SourceMeta,
    spec: &'s SourceSpec<'s>,
}

impl Engine {
    /// Opens a session for a subject (the user context, JSON per docs/language.md §8: missing
    /// built-ins are empty, a declared field of the wrong type counts as missing) at a clock.
    /// Fails only when the subject is not a JSON object.
    pub fn session(
        &self,
        subject: &serde_json::Value,
        clock: DateTime<Utc>,
    ) -> Result<Session<'_>, SubjectError> {
        let subject = Subject::from_json(subject, &self.bundle.subject_fields, &self.purposes)?;
        Ok(Session::new(self, subject, clock))
    }
}

impl<'e> Session<'e> {
    /// A session from an already decoded subject.
    pub fn new(engine: &'e Engine, subject: Subject, now: DateTime<Utc>) -> Session<'e> {
        let b = &engine.bundle;
        let mut user = Vec::with_capacity(b.programs.len());
        {
            let env = Env {
                row: &[],
                paths: &[],
                value: None,
                subject: &subject,
                now,
                strings: &b.strings,
                regexes: &engine.regexes,
                purposes: &engine.purposes,
            };
            for p in &b.programs {
                user.push(p.user_only.then(|| run(p, &env).truth()));
            }
        }
        let compared = if engine.comparisons.iter().any(Option::is_some) {
            engine
                .comparisons
                .iter()
                .zip(&b.programs)
                .map(|(c, p)| {
                    let c = (*c)?;
                    let operand = match c.operand {
                        Operand::Const(k) => p.consts.get(k as usize).cloned(),
                        Operand::UserField(f) => subject.fields.get(f as usize).cloned(),
                        Operand::Login => Some(subject.login.clone()),
                    };
                    Some((c, operand))
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut session = Session {
            engine,
            subject,
            now,
            user,
            compared,
            specs: Vec::new(),
            grants: None,
            mismatched: engine
                .sources
                .iter()
                .map(|m| m.top.iter().map(|_| AtomicU64::new(0)).collect())
                .collect(),
        };
        session.specs = b
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| session.specialise(s, engine.sources.get(i)))
            .collect();
        session
    }

    /// The subject.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// The session clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The engine.
    pub fn engine(&self) -> &'e Engine {
        self.engine
    }

    /// The source named `name`, as this session's user sees it.
    pub fn source(&self, name: &str) -> Option<SourceSession<'_>> {
        let index = *self.engine.source_index.get(name)?;
        Some(SourceSession {
            session: self,
            index,
            plan: self.engine.bundle.sources.get(index)?,
            meta: self.engine.sources.get(index)?,
            spec: self.specs.get(index)?,
        })
    }

    /// Attaches the temporary unmask grants that hold at the session clock.
    pub(crate) fn with_grants(mut self, grants: GrantView) -> Self {
        self.grants = Some(grants);
        self
    }

    /// The value of a user-only program for this session's user (unknown if it is not
    /// user-only or does not exist).
    pub(crate) fn user_condition(&self, p: u32) -> Tri {
        self.user_tri(p).unwrap_or(Tri::Unknown)
    }

    /// The user-only value of a program, if it is user-only.
    fn user_tri(&self, p: u32) -> Option<Tri> {
        self.user.get(p as usize).copied().flatten()
    }

    fn is_user_only(&self, p: u32) -> bool {
        self.user_tri(p).is_some()
    }

    fn specialise(&self, s: &'e SourcePlan, meta: Option<&SourceMeta>) -> SourceSpec<'e> {
        let exempt = s
            .exempts
            .iter()
            .any(|p| self.user_tri(*p) == Some(Tri::True));
        let visible = s
            .columns
            .iter()
            .filter(|c| c.parent.is_none())
            .map(|c| self.visible(c, exempt))
            .collect();
        if exempt {
            return SourceSpec {
                exempt,
                visible,
                columns: vec![ColSpec::Const(Decided::EXEMPT); s.columns.len()],
                hidden_by: None,
                null_derived: Vec::new(),
                base: smallvec![Decided::EXEMPT; s.columns.len()],
                dynamic: Vec::new(),
                final_clear_needed: s.columns.iter().any(|c| c.derived.is_some()),
                cells: None,
                checks: Vec::new(),
            };
        }
        let columns: Vec<ColSpec> = s
            .columns
            .iter()
            .map(|c| self.specialise_column(c))
            .collect();
        let mut hidden_by = None;
        let mut checks = Vec::new();
        for (ri, r) in s.row_rules.iter().enumerate() {
            let mut filters: Vec<&'e RowFilter> = Vec::new();
            match &r.audience {
                RowAudience::Everyone => filters.push(&r.filter),
                RowAudience::Except(c) => match self.user_tri(*c) {
                    Some(Tri::True) => {}
                    Some(_) => filters.push(&r.filter),
                    None => {
                        checks.push(RuleCheck::Generic(ri));
                        continue;
                    }
                },
                RowAudience::Who {
                    condition,
                    otherwise,
                } => {
                    let t = match self.user_tri(*condition) {
                        Some(t) => t,
                        None => {
                            checks.push(RuleCheck::Generic(ri));
                            continue;
                        }
                    };
                    if t != Tri::False {
                        filters.push(&r.filter);
                    }
                    if t != Tri::True {
                        if let RowOtherwise::Filter(f) = otherwise {
                            filters.push(f);
                        }
                    }
                }
            }
            for f in filters {
                match f {
                    RowFilter::Never => {
                        hidden_by.get_or_insert(ri);
                    }
                    RowFilter::Where(p) => match self.user_tri(*p) {
                        Some(Tri::True) => {}
                        Some(_) => {
                            hidden_by.get_or_insert(ri);
                        }
                        None => checks.push(RuleCheck::Filter(f)),
                    },
                    _ => checks.push(RuleCheck::Filter(f)),
                }
            }
        }
        let null_derived = Self::null_derived(s, meta, &columns);
        let base = columns
            .iter()
            .map(|c| match c {
                ColSpec::Const(d) => *d,
                ColSpec::Dyn(_) => Decided::NO_RULE,
            })
            .collect();
        let dynamic = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, ColSpec::Dyn(_)))
            .map(|(f, _)| f as u32)
            .collect();
        let final_clear_needed =
            s.columns.iter().enumerate().any(|(f, c)| {
                c.derived.is_some() && !null_derived.get(f).copied().unwrap_or(false)
            });
        let cells = Self::cell_plan(s, &columns, &null_derived);
        SourceSpec {
            exempt,
            visible,
            columns,
            hidden_by,
            null_derived,
            base,
            dynamic,
            final_clear_needed,
            cells,
            checks,
        }
    }

    /// See [`SourceSpec::cells`].
    fn cell_plan(
        s: &SourcePlan,
        columns: &[ColSpec],
        null_derived: &[bool],
    ) -> Option<Vec<CellPlan>> {
        let has_fields = s.columns.iter().any(|c| c.parent.is_some());
        if has_fields {
            return None;
        }
        s.columns
            .iter()
            .enumerate()
            .map(|(f, c)| {
                if c.derived.is_some() {
                    // A derived column whose value may show needs its inputs' final state.
                    return null_derived
                        .get(f)
                        .copied()
                        .unwrap_or(false)
                        .then_some(CellPlan::Null);
                }
                Some(match columns.get(f)? {
                    ColSpec::Const(d) => match d.act {
                        Act::Clear => CellPlan::Clear,
                        Act::Null => CellPlan::Null,
                        Act::Mask(t) => CellPlan::Mask(t),
                    },
                    ColSpec::Dyn(_) => CellPlan::Dyn(f as u32),
                })
            })
            .collect()
    }

    /// See [`SourceSpec::null_derived`].
    fn null_derived(s: &SourcePlan, meta: Option<&SourceMeta>, columns: &[ColSpec]) -> Vec<bool> {
        let Some(meta) = meta else {
            return Vec::new();
        };
        let never_clear = |c: u32| matches!(columns.get(c as usize), Some(ColSpec::Const(d)) if d.act != Act::Clear);
        s.columns
            .iter()
            .enumerate()
            .map(|(f, c)| {
                let Some(derived) = &c.derived else {
                    return false;
                };
                if meta.read_by_program.get(f).copied().unwrap_or(true) {
                    return false;
                }
                match columns.get(f) {
                    Some(ColSpec::Const(d)) => match d.act {
                        Act::Null => true,
                        Act::Clear => derived.reads.iter().any(|&r| never_clear(r)),
                        Act::Mask(_) => false,
                    },
                    _ => false,
                }
            })
            .collect()
    }

    fn visible(&self, c: &ColumnPlan, exempt: bool) -> bool {
        if let Some(v) = c.visible {
            return self.user_tri(v) == Some(Tri::True);
        }
        if let Some(a) = c.accessible {
            // Visible exactly when accessible: an exempt user reads it clear (§4, §6.1). A
            // row-dependent `accessible if` cannot make the column visible per user.
            return exempt || self.user_tri(a) == Some(Tri::True);
        }
        true
    }

    fn specialise_column(&self, c: &ColumnPlan) -> ColSpec {
        let mut remaining = Vec::new();
        for (k, cand) in c.candidates.iter().enumerate() {
            let w = match cand.where_ {
                None => None,
                Some(p) => match self.user_tri(p) {
                    Some(t) => Some(t),
                    None => {
                        // Depends on the row: it may or may not decide.
                        remaining.push(k as u32);
                        continue;
                    }
                },
            };
            if w == Some(Tri::False) {
                continue;
            }
            // This candidate decides whenever it is reached.
            let constant_body = cand.body.clauses.iter().all(|(a, _)| match a {
                Audience::Everyone => true,
                Audience::Except(p) | Audience::Who(p) => self.is_user_only(*p),
            });
            if remaining.is_empty() && constant_body {
                let d = decide_body(k as u32, cand, w, &mut |p| {
                    self.user_tri(p).unwrap_or(Tri::Unknown)
                });
                return ColSpec::Const(d);
            }
            remaining.push(k as u32);
            return ColSpec::Dyn(remaining);
        }
        if remaining.is_empty() {
            ColSpec::Const(Decided::NO_RULE)
        } else {
            ColSpec::Dyn(remaining)
        }
    }
}

/// Decides a candidate's body, `cond` giving each condition's value.
fn decide_body(
    k: u32,
    cand: &Candidate,
    w: Option<Tri>,
    cond: &mut dyn FnMut(u32) -> Tri,
) -> Decided {
    let d = |clause: Option<u32>, why: Why, act: Act| Decided {
        candidate: Some(k),
        clause,
        where_: w,
        why,
        act,
    };
    for (ci, (aud, t)) in cand.body.clauses.iter().enumerate() {
        let ci = Some(ci as u32);
        match aud {
            Audience::Everyone => return d(ci, Why::Everyone, Act::Mask(*t)),
            Audience::Except(p) => {
                let r = cond(*p);
                return if r == Tri::True {
                    d(ci, Why::ExceptionHeld, Act::Clear)
                } else {
                    d(ci, Why::ExceptionNotHeld(r), Act::Mask(*t))
                };
            }
            Audience::Who(p) => match cond(*p) {
                Tri::True => return d(ci, Why::WhoHeld, Act::Mask(*t)),
                Tri::Unknown => return d(ci, Why::WhoUnknown, Act::Null),
                Tri::False => {}
            },
        }
    }
    match cand.body.otherwise {
        Some(Some(t)) => d(None, Why::Otherwise, Act::Mask(t)),
        Some(None) => d(None, Why::OtherwiseUnmasked, Act::Clear),
        // The verifier requires an otherwise after `who` clauses; without clauses nothing masks.
        None => d(None, Why::NoRule, Act::Clear),
    }
}

/// What masking does to one top-level cell (see [`SourceSpec::cells`]).
#[derive(Clone, Copy, Debug)]
enum CellPlan {
    Clear,
    Null,
    Mask(u32),
    /// Decided per row: this flat column's remaining candidates.
    Dyn(u32),
}

/// Which derived columns a decoded row computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Derive {
    /// All of them (explanations report every value and mismatch).
    All,
    /// Those whose value can matter: not [`SourceSpec::null_derived`].
    Needed,
}

/// Per-row decisions, one per flat column (on the stack for common widths).
type Decisions = SmallVec<[Decided; 32]>;
/// Per-row flags, one per flat column.
type Flags = SmallVec<[bool; 64]>;

/// A decoded row: top-level raw values (derived ones computed) and type mismatches.
struct RowState<'r> {
    /// Borrowed from a typed input row when the value conforms as is; owned otherwise.
    raw: SmallVec<[Cow<'r, Value>; 24]>,
    /// Row positions whose value does not match the declared type, with the reason (rare).
    mismatches: SmallVec<[(usize, String); 1]>,
}

impl RowState<'_> {
    /// The raw value at a top-level position.
    #[inline]
    fn cell(&self, pos: usize) -> Option<&Value> {
        self.raw.get(pos).map(|c| &**c)
    }

    /// Why the value at a top-level position does not match its declared type, if it does not.
    fn mismatch(&self, pos: usize) -> Option<&String> {
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

/// Per-cell facts gathered when explaining.
#[derive(Clone, Debug, Default)]
struct CellTrace {
    skipped: Vec<u32>,
    reason: Option<Reason>,
    action: Option<CellAction>,
    technique_error: Option<String>,
}

impl<'s> SourceSession<'s> {
    /// The source's name.
    pub fn name(&self) -> &'s str {
        &self.plan.name
    }

    /// The declared type of a top-level column (derived ones included), by name.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn column_type(&self, name: &str) -> Option<&'s ColumnType> {
        self.meta
            .top
            .iter()
            .map(|f| &self.plan.columns[*f as usize])
            .find(|c| c.name == name)
            .map(|c| &c.ty)
    }

    /// Every top-level column (derived ones included), in declaration order: the columns of
    /// masked output rows.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn columns(&self) -> Vec<&'s str> {
        self.meta
            .top
            .iter()
            .map(|f| self.plan.columns[*f as usize].name.as_str())
            .collect()
    }

    /// The stored (non-derived) top-level columns, in declaration order: what
    /// [`mask_values`](Self::mask_values) takes.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn input_columns(&self) -> Vec<&'s str> {
        self.meta
            .inputs
            .iter()
            .map(|pos| {
                self.plan.columns[self.meta.top[*pos as usize] as usize]
                    .name
                    .as_str()
            })
            .collect()
    }

    /// The columns listed for this user (`visible if`, else `accessible if`, else visible), in
    /// declaration order. Visibility never changes a value.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn visible_columns(&self) -> Vec<&'s str> {
        self.meta
            .top
            .iter()
            .zip(&self.spec.visible)
            .filter(|(_, v)| **v)
            .map(|(f, _)| self.plan.columns[*f as usize].name.as_str())
            .collect()
    }

    /// Whether the user is exempt on this source (every row shown, every cell clear).
    pub fn is_exempt(&self) -> bool {
        self.spec.exempt
    }

    /// Masks a JSON row: `None` if the row rules hide it, else every declared top-level column
    /// (derived ones included) in declaration order, visible or not. Columns the source does not
    /// declare are dropped; a missing column is null; a cell that does not decode to its declared
    /// type is null.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn mask_json(
        &self,
        row: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<Vec<(String, serde_json::Value)>> {
        let state = self.decode_json(row, Derive::Needed);
        self.count_mismatches(&state);
        if !self.shown(&state, None) {
            return None;
        }
        let out = self.mask(&state, None, self.reveal(&state));
        Some(
            self.meta
                .top
                .iter()
                .zip(out)
                .map(|(f, v)| (self.plan.columns[*f as usize].name.clone(), v.to_json()))
                .collect(),
        )
    }

    /// Masks a typed row given in the order of [`input_columns`](Self::input_columns) (missing
    /// trailing values are null, extra ones ignored): `None` if hidden, else one value per
    /// top-level column in declaration order. A value that does not conform to its column's type
    /// is null (an int is accepted for a decimal column).
    pub fn mask_values(&self, row: &[Value]) -> Option<Vec<Value>> {
        let state = self.decode_values(row, Derive::Needed);
        self.count_mismatches(&state);
        if !self.shown(&state, None) {
            return None;
        }
        Some(self.mask(&state, None, self.reveal(&state)))
    }

    /// Whether the row rules show this JSON row to the user.
    pub fn row_shown(&self, row: &serde_json::Map<String, serde_json::Value>) -> bool {
        let state = self.decode_json(row, Derive::Needed);
        self.shown(&state, None)
    }

    /// Whether the row rules show this typed row (as for [`mask_values`](Self::mask_values)).
    pub fn row_shown_values(&self, row: &[Value]) -> bool {
        let state = self.decode_values(row, Derive::Needed);
        self.shown(&state, None)
    }

    /// Explains how a JSON row is treated: each row rule, and for every column and nested
    /// field the deciding rule, clause and reason. Cells are explained (with their output
    /// values) even when the row is hidden.
    pub fn explain(&self, row: &serde_json::Map<String, serde_json::Value>) -> RowExplanation {
        let state = self.decode_json(row, Derive::All);
        self.explain_state(&state)
    }

    /// [`explain`](Self::explain) for a typed row (as for [`mask_values`](Self::mask_values)).
    pub fn explain_values(&self, row: &[Value]) -> RowExplanation {
        let state = self.decode_values(row, Derive::All);
        self.explain_state(&state)
    }

    // ---- decoding ------------------------------------------------------------------------

    /// Counts the row's cells that did not decode to their column's type.
    fn count_mismatches(&self, state: &RowState<'_>) {
        let Some(counters) = self.session.mismatched.get(self.index) else {
            return;
        };
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
    fn decode_json(
        &self,
        row: &serde_json::Map<String, serde_json::Value>,
        derive: Derive,
    ) -> RowState<'static> {
        let n = self.meta.top.len();
        let mut state = RowState {
            raw: smallvec![Cow::Owned(Value::Null); n],
            mismatches: SmallVec::new(),
        };
        for &pos in &self.meta.inputs {
            let col = &self.plan.columns[self.meta.top[pos as usize] as usize];
            if let Some(j) = row.get(&col.name) {
                match Value::from_json(j, &col.ty) {
                    Ok(v) => state.raw[pos as usize] = Cow::Owned(v),
                    Err(e) => state.mismatches.push((pos as usize, e.to_string())),
                }
            }
        }
        self.derive(&mut state, derive);
        state
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    fn decode_values<'r>(&self, row: &'r [Value], derive: Derive) -> RowState<'r> {
        let mut state = RowState {
            raw: SmallVec::with_capacity(self.meta.top.len()),
            mismatches: SmallVec::new(),
        };
        // Stored top-level columns take the row's values in order; derived ones start null.
        let mut inputs = row.iter();
        for (pos, step) in self.meta.decode.iter().enumerate() {
            let (flat, input) = match *step {
                Decode::Derived => {
                    state.raw.push(Cow::Owned(Value::Null));
                    continue;
                }
                Decode::Simple(flat, simple) => match inputs.next() {
                    Some(v) if simple.admits(v) => {
                        state.raw.push(Cow::Borrowed(v));
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
                        state.mismatches.push((pos, e));
                        Cow::Owned(Value::Null)
                    }
                },
            };
            state.raw.push(cell);
        }
        self.derive(&mut state, derive);
        state
    }

    fn env<'a>(&'a self, state: &'a RowState<'_>, value: Option<&'a Value>) -> Env<'a> {
        let engine = self.session.engine;
        Env {
            row: &state.raw,
            paths: &self.meta.paths,
            value,
            subject: &self.session.subject,
            now: self.session.now,
            strings: &engine.bundle.strings,
            regexes: &engine.regexes,
            purposes: &engine.purposes,
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    fn derive(&self, state: &mut RowState<'_>, derive: Derive) {
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
                    Ok(v) => state.raw[pos] = Cow::Owned(v),
                    Err(e) => state.mismatches.push((pos, e)),
                },
                // An expression that cannot be evaluated is null (the cell, not a mismatch).
                Eval::Unknown => state.raw[pos] = Cow::Owned(Value::Null),
            }
        }
    }

    fn cond(&self, p: u32, env: &Env<'_>) -> Tri {
        if let Some(t) = self.session.user_tri(p) {
            return t;
        }
        if let Some(Some((c, operand))) = self.session.compared.get(p as usize) {
            // A top-level column compared with a value fixed for the session.
            if let Some(path) = env
                .paths
                .get(c.column as usize)
                .filter(|p| p.steps.is_empty())
            {
                let cell = env.row.get(path.top as usize).map(|v| &**v);
                let t = eq_tri(cell, operand.as_ref());
                return if c.negate { !t } else { t };
            }
        }
        match self.session.engine.bundle.programs.get(p as usize) {
            Some(prog) => run(prog, env).truth(),
            None => Tri::Unknown,
        }
    }

    // ---- row rules -----------------------------------------------------------------------

    fn filter(&self, f: &RowFilter, state: &RowState<'_>, env: &Env<'_>) -> Tri {
        let now = self.session.now;
        let event = || -> Option<DateTime<Utc>> {
            match state.cell(self.meta.event_pos?)? {
                Value::Timestamp(t) => Some(*t),
                Value::Date(d) => Some(d.and_time(NaiveTime::MIN).and_utc()),
                _ => None,
            }
        };
        let cutoff =
            |secs: i64| chrono::Duration::try_seconds(secs).and_then(|d| now.checked_sub_signed(d));
        match f {
            RowFilter::Where(p) => self.cond(*p, env),
            RowFilter::NewerThan(secs) => match (event(), cutoff(*secs)) {
                (Some(t), Some(c)) => Tri::from_bool(t > c),
                (Some(_), None) => Tri::True,
                _ => Tri::Unknown,
            },
            RowFilter::OlderThan(secs) => match (event(), cutoff(*secs)) {
                (Some(t), Some(c)) => Tri::from_bool(t < c),
                (Some(_), None) => Tri::False,
                _ => Tri::Unknown,
            },
            RowFilter::Sample(pct) => {
                let key = self.meta.key_pos.and_then(|k| state.cell(k));
                match key {
                    None | Some(Value::Null) => Tri::Unknown,
                    Some(k) => Tri::from_bool(sample_in(&self.plan.name, k, *pct)),
                }
            }
            RowFilter::Never => Tri::False,
        }
    }

    /// Evaluates one row rule in full: (applies, passed, detail).
    fn judge_rule(
        &self,
        r: &RowRulePlan,
        state: &RowState<'_>,
        env: &Env<'_>,
    ) -> (bool, bool, String) {
        let pass = |f: &RowFilter| self.filter(f, state, env);
        let verdict = |t: Tri| {
            if t == Tri::True {
                "the row passes".to_owned()
            } else {
                format!("the filter is {}, so the row is hidden", t.as_str())
            }
        };
        match &r.audience {
            RowAudience::Everyone => {
                let t = pass(&r.filter);
                (
                    true,
                    t.is_true(),
                    format!("applies to everyone; {}", verdict(t)),
                )
            }
            RowAudience::Except(c) => {
                let ct = self.cond(*c, env);
                if ct.is_true() {
                    (
                        false,
                        true,
                        "the exception holds: the rule does not apply".to_owned(),
                    )
                } else {
                    let t = pass(&r.filter);
                    (
                        true,
                        t.is_true(),
                        format!("the exception is {}; {}", ct.as_str(), verdict(t)),
                    )
                }
            }
            RowAudience::Who {
                condition,
                otherwise,
            } => {
                let ct = self.cond(*condition, env);
                let mut applies = false;
                let mut passed = Tri::True;
                if ct != Tri::False {
                    applies = true;
                    passed = passed.and(pass(&r.filter));
                }
                if ct != Tri::True {
                    if let RowOtherwise::Filter(f) = otherwise {
                        applies = true;
                        passed = passed.and(pass(f));
                    }
                }
                let which = match ct {
                    Tri::True => "the `who` condition holds: its filter applies",
                    Tri::False => "the `who` condition is false: the otherwise applies",
                    Tri::Unknown => {
                        "the `who` condition is unknown: both its filter and the otherwise apply"
                    }
                };
                (
                    applies,
                    passed.is_true(),
                    format!("{which}; {}", verdict(passed)),
                )
            }
        }
    }

    fn shown(&self, state: &RowState<'_>, mut trace: Option<&mut Vec<RowRuleExplanation>>) -> bool {
        if self.spec.exempt {
            return true;
        }
        if trace.is_none() {
            if self.spec.hidden_by.is_some() {
                return false;
            }
            let env = self.env(state, None);
            for check in &self.spec.checks {
                let ok = match check {
                    RuleCheck::Filter(f) => self.filter(f, state, &env).is_true(),
                    RuleCheck::Generic(ri) => match self.plan.row_rules.get(*ri) {
                        Some(r) => self.judge_rule(r, state, &env).1,
                        None => false,
                    },
                };
                if !ok {
                    return false;
                }
            }
            return true;
        }
        let env = self.env(state, None);
        let mut shown = true;
        for r in &self.plan.row_rules {
            let (applies, passed, detail) = self.judge_rule(r, state, &env);
            shown &= passed;
            if let Some(t) = trace.as_deref_mut() {
                t.push(RowRuleExplanation {
                    rule: self.rule_ref(r.rule),
                    applies,
                    passed,
                    detail,
                });
            }
        }
        shown
    }

    // ---- cells ---------------------------------------------------------------------------

    fn decide_dyn(
        &self,
        c: &ColumnPlan,
        which: &[u32],
        env: &Env<'_>,
        mut skipped: Option<&mut Vec<u32>>,
    ) -> Decided {
        for &k in which {
            let Some(cand) = c.candidates.get(k as usize) else {
                continue;
            };
            let w = cand.where_.map(|p| self.cond(p, env));
            if w == Some(Tri::False) {
                if let Some(s) = skipped.as_deref_mut() {
                    s.push(k);
                }
                continue;
            }
            return decide_body(k, cand, w, &mut |p| self.cond(p, env));
        }
        Decided::NO_RULE
    }

    /// The decision of flat column `f`, which the session left to each row (its remaining
    /// candidates); null if the session has no such plan for it.
    fn decide_row_dependent(&self, f: u32, env: &Env<'_>) -> Decided {
        match (
            self.spec.columns.get(f as usize),
            self.plan.columns.get(f as usize),
        ) {
            (Some(ColSpec::Dyn(which)), Some(c)) => self.decide_dyn(c, which, env, None),
            _ => Decided {
                act: Act::Null,
                ..Decided::NO_RULE
            },
        }
    }

    /// Every flat column's own decision for this row.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    fn decide_all(&self, state: &RowState<'_>, traces: Option<&mut Vec<CellTrace>>) -> Decisions {
        let env = self.env(state, None);
        match traces {
            None => {
                let mut out = self.spec.base.clone();
                for &f in &self.spec.dynamic {
                    if let Some(slot) = out.get_mut(f as usize) {
                        *slot = self.decide_row_dependent(f, &env);
                    }
                }
                out
            }
            Some(traces) => {
                // Explanations re-run the full candidate lists to name every skipped rule; the
                // outcome is the same as the specialised plan's.
                let all: Vec<Vec<u32>> = self
                    .plan
                    .columns
                    .iter()
                    .map(|c| (0..c.candidates.len() as u32).collect())
                    .collect();
                self.plan
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if self.spec.exempt {
                            return Decided::EXEMPT;
                        }
                        let mut skipped = Vec::new();
                        let d = self.decide_dyn(c, &all[i], &env, Some(&mut skipped));
                        if let Some(t) = traces.get_mut(i) {
                            t.skipped = skipped;
                        }
                        d
                    })
                    .collect()
            }
        }
    }

    fn level(&self, state: &RowState<'_>) -> usize {
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
    fn row_key<'a>(&self, state: &'a RowState<'_>) -> Option<&'a Value> {
        self.meta
            .key_pos
            .and_then(|k| state.cell(k))
            .filter(|v| !v.is_null())
    }

    /// What a built-in technique is told about the cell of flat column `flat`.
    fn mask_context<'a>(&'a self, flat: u32, row_key: Option<&'a Value>) -> MaskContext<'a> {
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
    fn apply(
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
    fn act(
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
    fn act_ref(
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
    fn mask_fields(
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
    fn mask_struct(
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
    fn mask(
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
            let raw = &state.raw[pos];
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
    fn reveal(&self, state: &RowState<'_>) -> Option<DateTime<Utc>> {
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
    fn mask_planned(&self, state: &RowState<'_>, cells: &[CellPlan]) -> Vec<Value> {
        let env = self.env(state, None);
        let no_mismatch = state.mismatches.is_empty();
        let engine = self.session.engine;
        let row_key = self.row_key(state);
        let mut out = Vec::with_capacity(cells.len());
        for (pos, (cell, raw)) in cells.iter().zip(&state.raw).enumerate() {
            if !no_mismatch && state.mismatch(pos).is_some() {
                out.push(Value::Null);
                continue;
            }
            let (act, flat) = match *cell {
                CellPlan::Clear => (Act::Clear, pos as u32),
                CellPlan::Null => (Act::Null, pos as u32),
                CellPlan::Mask(t) => (Act::Mask(t), pos as u32),
                CellPlan::Dyn(f) => {
                    let act = self.decide_row_dependent(f, &env).act;
                    (act, f)
                }
            };
            out.push(match act {
                Act::Clear => raw.as_ref().clone(),
                Act::Null => Value::Null,
                Act::Mask(t) => match engine.techniques.get(t as usize) {
                    // A built-in technique: applied directly (as `apply` does).
                    Some(Prepared::Builtin(p)) => p
                        .apply(raw, &self.mask_context(flat, row_key))
                        .unwrap_or(Value::Null),
                    _ => self.apply(t, raw, flat, state).unwrap_or(Value::Null),
                },
            });
        }
        out
    }

    /// Per flat column: whether its final decision is clear (its own, every enclosing struct's,
    /// every field below it, no type mismatch; for derived columns, all inputs clear too).
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    fn final_clear(&self, state: &RowState<'_>, decisions: &[Decided]) -> Flags {
        let meta = self.meta;
        let cols = &self.plan.columns;
        let n = cols.len();
        let mut own: Flags = decisions.iter().map(|d| d.act == Act::Clear).collect();
        for (ci, c) in cols.iter().enumerate() {
            if c.parent.is_none() && state.mismatch(meta.paths[ci].top as usize).is_some() {
                own[ci] = false;
            }
        }
        let mut anc = own.clone();
        for ci in 0..n {
            if let Some(p) = cols[ci].parent {
                anc[ci] = anc[ci] && anc[p as usize];
            }
        }
        let mut desc = own;
        for ci in (0..n).rev() {
            if let Some(p) = cols[ci].parent {
                let v = desc[ci];
                desc[p as usize] = desc[p as usize] && v;
            }
        }
        let mut fin: Flags = anc.iter().zip(&desc).map(|(a, d)| *a && *d).collect();
        for &f in &meta.derived_order {
            let inputs_clear = cols[f as usize].derived.as_ref().is_some_and(|d| {
                d.reads
                    .iter()
                    .all(|r| fin.get(*r as usize).copied().unwrap_or(false))
            });
            fin[f as usize] = fin[f as usize] && inputs_clear;
        }
        fin
    }

    // ---- explanations --------------------------------------------------------------------

    fn rule_ref(&self, rule: u32) -> RuleRef {
        let info = self.session.engine.bundle.rules.get(rule as usize);
        RuleRef {
            index: rule,
            name: info.map(|r| r.name.clone()).unwrap_or_default(),
            policy: info.map(|r| r.policy.clone()).unwrap_or_default(),
        }
    }

    fn technique_name(&self, t: u32) -> String {
        match self.session.engine.bundle.techniques.get(t as usize) {
            Some(crate::bundle::TechniquePlan::Builtin(t)) => t.name().to_owned(),
            Some(crate::bundle::TechniquePlan::Expr { .. }) => "expr".to_owned(),
            Some(crate::bundle::TechniquePlan::ByLevel { .. }) => "by level".to_owned(),
            None => "?".to_owned(),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    fn explain_state(&self, state: &RowState<'_>) -> RowExplanation {
        let mut rules = Vec::new();
        let shown = self.shown(state, Some(&mut rules));
        let n = self.plan.columns.len();
        let mut traces = vec![CellTrace::default(); n];
        let granted = self.reveal(state);
        let clear_all = self.spec.exempt || granted.is_some();
        let decisions = if clear_all {
            smallvec![Decided::EXEMPT; n]
        } else {
            self.decide_all(state, Some(&mut traces))
        };
        let out = self.mask(state, Some(&mut traces), granted);
        let mut cells = Vec::with_capacity(n);
        for (ci, c) in self.plan.columns.iter().enumerate() {
            let d = decisions[ci];
            let tr = &traces[ci];
            let pos = self.meta.paths[ci].top as usize;
            let top_flat = self.meta.top[pos] as usize;
            // A field inside a struct masked as a whole.
            let mut enclosing_mask = None;
            let mut cur = c.parent;
            while let Some(p) = cur {
                if !matches!(decisions[p as usize].act, Act::Clear)
                    || (p as usize == top_flat && state.mismatch(pos).is_some())
                {
                    enclosing_mask = Some(p);
                }
                cur = self.plan.columns[p as usize].parent;
            }
            let (mut action, mut reason, mut decided_by, mut clause, mut where_) = (
                match d.act {
                    Act::Clear => CellAction::Clear,
                    Act::Mask(t) => CellAction::Masked {
                        technique: self.technique_name(t),
                    },
                    Act::Null => CellAction::Null,
                },
                why_reason(d.why),
                d.candidate
                    .and_then(|k| c.candidates.get(k as usize))
                    .map(|cand| self.rule_ref(cand.rule)),
                d.clause,
                d.where_.map(tri_word),
            );
            if let Some(p) = enclosing_mask {
                reason = Reason::WithinMaskedParent {
                    parent: self.meta.full_names[p as usize].clone(),
                };
                action = CellAction::Null;
                if let Act::Mask(t) = decisions[p as usize].act {
                    action = CellAction::Masked {
                        technique: self.technique_name(t),
                    };
                }
                decided_by = None;
                clause = None;
                where_ = None;
            }
            if let (Some(until), false) = (granted, self.spec.exempt) {
                reason = Reason::TemporaryUnmask {
                    until: until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                };
            }
            if let Some(r) = &tr.reason {
                reason = r.clone();
                let derived_null = matches!(r, Reason::DerivedInputMasked { .. })
                    && tr.action == Some(CellAction::Null);
                if matches!(r, Reason::TypeMismatch { .. }) || derived_null {
                    decided_by = None;
                    clause = None;
                    where_ = None;
                }
            }
            if let Some(a) = &tr.action {
                action = a.clone();
            }
            let technique_error = tr.technique_error.clone();
            if technique_error.is_some() {
                action = CellAction::Null;
            }
            cells.push(CellExplanation {
                column: self.meta.full_names[ci].clone(),
                visible: self.spec.visible.get(pos).copied().unwrap_or(false),
                value: (c.parent.is_none()).then(|| out[pos].to_json()),
                action,
                decided_by,
                clause,
                where_,
                reason,
                skipped: tr
                    .skipped
                    .iter()
                    .filter_map(|k| c.candidates.get(*k as usize))
                    .map(|cand| self.rule_ref(cand.rule))
                    .collect(),
                technique_error,
            });
        }
        RowExplanation {
            source: self.plan.name.clone(),
            exempt: self.spec.exempt,
            shown,
            row_rules: rules,
            cells,
        }
    }

    /// The source's index in the bundle.
    pub fn index(&self) -> usize {
        self.index
    }
}

fn why_reason(w: Why) -> Reason {
    match w {
        Why::Exempt => Reason::Exempt,
        Why::NoRule => Reason::NoRule,
        Why::Everyone => Reason::Everyone,
        Why::ExceptionHeld => Reason::ExceptionHeld,
        Why::ExceptionNotHeld(t) => Reason::ExceptionNotHeld {
            condition: tri_word(t),
        },
        Why::WhoHeld => Reason::WhoHeld,
        Why::WhoUnknown => Reason::WhoUnknown,
        Why::Otherwise => Reason::Otherwise,
        Why::OtherwiseUnmasked => Reason::OtherwiseUnmasked,
    }
}

/// Whether a row with this key is in a `pct`% sample of `source`: the first 8 bytes of
/// SHA-256(source + "\0" + canonical key text), big-endian, mod 10000, below pct × 100. The same
/// rows for every user and every session.
pub fn sample_in(source: &str, key: &Value, pct: f64) -> bool {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update([0u8]);
    h.update(key.canonical_text().as_bytes());
    let digest = h.finalize();
    let first = digest.first_chunk::<8>().copied().unwrap_or_default();
    let bucket = u64::from_be_bytes(first) % 10_000;
    (bucket as f64) < pct * 100.0
}
