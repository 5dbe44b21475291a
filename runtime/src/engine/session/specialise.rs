//! Specialising a source for a session's user: every decision that depends only on the user
//! (exemptions, visibility, column candidates, row rules) is taken once, leaving per row only
//! what reads the row.

use smallvec::{smallvec, SmallVec};
use std::cell::RefCell;

use super::memo::encode;
use super::shared_plans::Reads;
use super::{decide_body, Act, ColSpec, Decided, RuleCheck, Session, SourceSpec};
use crate::bundle::{Audience, ColumnPlan, RowAudience, RowFilter, RowOtherwise, SourcePlan};
use crate::engine::{Prepared, SourceMeta};
use crate::program::Tri;
use crate::techniques::Technique;

impl<'e> Session<'e> {
    /// The plan of source `s` for this session's user (see [`SourceSpec`]), and the user-only
    /// values it read (under which the engine may share it, see `shared_plans`).
    pub(super) fn specialise(&self, s: &SourcePlan, meta: &SourceMeta) -> (SourceSpec, Reads) {
        let specialiser = Specialiser {
            session: self,
            reads: RefCell::new(Reads::new()),
        };
        let spec = specialiser.specialise(s, meta);
        (spec, specialiser.reads.into_inner())
    }
}

/// A session specialising one source, recording each user-only value it reads.
struct Specialiser<'a, 'e> {
    session: &'a Session<'e>,
    reads: RefCell<Reads>,
}

impl Specialiser<'_, '_> {
    /// The user-only value of program `p` (`None`: not user-only), recorded on first read.
    fn user_tri(&self, p: u32) -> Option<Tri> {
        let t = self.session.user_tri(p);
        let mut reads = self.reads.borrow_mut();
        if !reads.iter().any(|(q, _)| *q == p) {
            reads.push((p, encode(t)));
        }
        t
    }

    fn is_user_only(&self, p: u32) -> bool {
        self.user_tri(p).is_some()
    }

    /// See [`Session::specialise`].
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    fn specialise(&self, s: &SourcePlan, meta: &SourceMeta) -> SourceSpec {
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
                checks: SmallVec::new(),
                plain: meta.plain_inputs && s.columns.iter().all(|c| c.derived.is_none()),
            };
        }
        let columns: Vec<ColSpec> = s
            .columns
            .iter()
            .map(|c| self.specialise_column(c))
            .collect();
        let mut hidden_by = None;
        let mut checks = SmallVec::new();
        for (ri, r) in s.row_rules.iter().enumerate() {
            let mut filters: Vec<&RowFilter> = Vec::new();
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
                        None => checks.push(RuleCheck::Filter(f.clone())),
                    },
                    _ => checks.push(RuleCheck::Filter(f.clone())),
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
        let dynamic = (0..columns.len() as u32)
            .filter(|&f| matches!(columns[f as usize], ColSpec::Dyn(_)))
            .collect();
        let final_clear_needed =
            s.columns.iter().enumerate().any(|(f, c)| {
                c.derived.is_some() && !null_derived.get(f).copied().unwrap_or(false)
            });
        let cells =
            Self::cell_plan(s, &columns, &null_derived).map(|c| self.fold_null_techniques(c));
        let plain = meta.plain_inputs
            && s.columns
                .iter()
                .enumerate()
                .all(|(f, c)| c.derived.is_none() || null_derived.get(f).copied().unwrap_or(false));
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
            plain,
        }
    }

    /// A cell masked by the built-in `null` technique is planned as [`CellPlan::Null`]: the
    /// technique gives null for any value, so masking a row need not call it.
    fn fold_null_techniques(&self, mut cells: Vec<CellPlan>) -> Vec<CellPlan> {
        let is_null = |t: u32| {
            matches!(
                self.session.engine.techniques.get(t as usize),
                Some(Prepared::Builtin(p)) if *p.technique() == Technique::Null
            )
        };
        for c in &mut cells {
            if let CellPlan::Mask(t) = *c {
                if is_null(t) {
                    *c = CellPlan::Null;
                }
            }
        }
        cells
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
    fn null_derived(s: &SourcePlan, meta: &SourceMeta, columns: &[ColSpec]) -> Vec<bool> {
        let never_clear = |c: u32| matches!(columns.get(c as usize), Some(ColSpec::Const(d)) if d.act != Act::Clear);
        if s.columns.iter().all(|c| c.derived.is_none()) {
            return Vec::new();
        }
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

/// What masking does to one top-level cell (see [`SourceSpec::cells`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum CellPlan {
    Clear,
    Null,
    Mask(u32),
    /// Decided per row: this flat column's remaining candidates.
    Dyn(u32),
}
