//! Explaining a row: which row rules applied, and for every column and nested field the
//! deciding rule, clause and reason (the same decisions as masking, with their traces).

use smallvec::smallvec;

use super::{Act, Decided, RowState, SourceSession, Why};
use crate::bundle::{Audience, ColumnPlan, RowAudience, RowFilter, RowOtherwise, RowRulePlan};
use crate::engine::deciding::{
    explain_condition, CellAccess, ConditionExplanation, ConditionRole, Names, Reading,
};
use crate::engine::explain::{
    tri_word, CellAction, CellExplanation, Reason, RowExplanation, RuleRef,
};
use crate::program::Tri;

/// Per-cell facts gathered when explaining.
#[derive(Clone, Debug, Default)]
pub(super) struct CellTrace {
    pub(super) skipped: Vec<u32>,
    pub(super) reason: Option<Reason>,
    pub(super) action: Option<CellAction>,
    pub(super) technique_error: Option<String>,
}

impl<'s> SourceSession<'s> {
    // ---- explanations --------------------------------------------------------------------

    pub(super) fn rule_ref(&self, rule: u32) -> RuleRef {
        let info = self.session.engine.bundle.rules.get(rule as usize);
        RuleRef {
            index: rule,
            name: info.map(|r| r.name.clone()).unwrap_or_default(),
            policy: info.map(|r| r.policy.clone()).unwrap_or_default(),
        }
    }

    pub(super) fn technique_name(&self, t: u32) -> String {
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
    pub(super) fn explain_state(&self, state: &RowState<'_>, no_row: bool) -> RowExplanation {
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
        let clear = self.final_clear(state, &decisions);
        let env = self.env(state, None);
        let reading = Reading {
            env: &env,
            names: Names {
                bundle: &self.session.engine.bundle,
                columns: &self.meta.full_names,
            },
            cells: if no_row {
                CellAccess::NoRow
            } else if shown {
                CellAccess::Clear(&clear)
            } else {
                CellAccess::RowHidden
            },
        };
        for (r, ex) in self.plan.row_rules.iter().zip(rules.iter_mut()) {
            ex.why = self.row_rule_why(&reading, r);
        }
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
            let why = if decided_by.is_some() || !tr.skipped.is_empty() {
                let own = Decided {
                    candidate: d.candidate.filter(|_| decided_by.is_some()),
                    ..d
                };
                self.cell_why(&reading, c, &tr.skipped, own)
            } else {
                Vec::new()
            };
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
                why,
            });
        }
        RowExplanation {
            source: self.plan.name.clone(),
            exempt: self.spec.exempt,
            exempt_why: self.exempt_why(&reading),
            shown,
            row_rules: rules,
            cells,
        }
    }
}

pub(super) fn why_reason(w: Why) -> Reason {
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

impl SourceSession<'_> {
    fn condition(
        &self,
        reading: &Reading<'_>,
        program: u32,
        rule: Option<RuleRef>,
        role: ConditionRole,
    ) -> Option<ConditionExplanation> {
        let p = self.session.engine.bundle.programs.get(program as usize)?;
        Some(explain_condition(reading, program, p, rule, role))
    }

    /// The conditions behind a cell's decision: each skipped rule's `where`, then the deciding
    /// rule's `where` and the audience conditions evaluated up to the deciding clause.
    fn cell_why(
        &self,
        reading: &Reading<'_>,
        c: &ColumnPlan,
        skipped: &[u32],
        d: Decided,
    ) -> Vec<ConditionExplanation> {
        let mut out = Vec::new();
        for cand in skipped.iter().filter_map(|k| c.candidates.get(*k as usize)) {
            let rule = Some(self.rule_ref(cand.rule));
            if let Some(w) = cand.where_ {
                out.extend(self.condition(reading, w, rule, ConditionRole::Where));
            }
        }
        let Some(cand) = d.candidate.and_then(|k| c.candidates.get(k as usize)) else {
            return out;
        };
        let rule = Some(self.rule_ref(cand.rule));
        if let Some(w) = cand.where_ {
            out.extend(self.condition(reading, w, rule.clone(), ConditionRole::Where));
        }
        for (ci, (aud, _)) in cand.body.clauses.iter().enumerate() {
            let clause = ci as u32;
            if d.clause.is_some_and(|k| clause > k) {
                break;
            }
            match aud {
                Audience::Everyone => break,
                Audience::Except(p) => {
                    out.extend(self.condition(reading, *p, rule.clone(), ConditionRole::Except));
                    break;
                }
                Audience::Who(p) => {
                    let role = ConditionRole::Who { clause };
                    out.extend(self.condition(reading, *p, rule.clone(), role));
                }
            }
        }
        out
    }

    /// The conditions a row rule evaluated: its audience, then the filters that applied.
    fn row_rule_why(&self, reading: &Reading<'_>, r: &RowRulePlan) -> Vec<ConditionExplanation> {
        if self.spec.exempt {
            return Vec::new();
        }
        let rule = Some(self.rule_ref(r.rule));
        let mut out = Vec::new();
        let filter = |f: &RowFilter, out: &mut Vec<ConditionExplanation>| {
            if let RowFilter::Where(p) = f {
                out.extend(self.condition(reading, *p, rule.clone(), ConditionRole::Filter));
            }
        };
        let audience = |p: u32, out: &mut Vec<ConditionExplanation>| {
            let c = self.condition(reading, p, rule.clone(), ConditionRole::Audience);
            let t = match c.as_ref().map(|c| c.value.as_str()) {
                Some("true") => Tri::True,
                Some("false") => Tri::False,
                _ => Tri::Unknown,
            };
            out.extend(c);
            t
        };
        match &r.audience {
            RowAudience::Everyone => filter(&r.filter, &mut out),
            RowAudience::Except(p) => {
                if audience(*p, &mut out) != Tri::True {
                    filter(&r.filter, &mut out);
                }
            }
            RowAudience::Who {
                condition,
                otherwise,
            } => {
                let t = audience(*condition, &mut out);
                if t != Tri::False {
                    filter(&r.filter, &mut out);
                }
                if let (true, RowOtherwise::Filter(f)) = (t != Tri::True, otherwise) {
                    filter(f, &mut out);
                }
            }
        }
        out
    }

    /// The first `exempt` condition that holds, when the user is exempt.
    fn exempt_why(&self, reading: &Reading<'_>) -> Option<ConditionExplanation> {
        if !self.spec.exempt {
            return None;
        }
        self.plan
            .exempts
            .iter()
            .filter_map(|p| self.condition(reading, *p, None, ConditionRole::Exempt))
            .find(|c| c.value == "true")
    }
}
