//! Explaining a row: which row rules applied, and for every column and nested field the
//! deciding rule, clause and reason (the same decisions as masking, with their traces).

use smallvec::smallvec;

use super::{Act, Decided, RowState, SourceSession, Why};
use crate::engine::explain::{
    tri_word, CellAction, CellExplanation, Reason, RowExplanation, RuleRef,
};

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
    pub(super) fn explain_state(&self, state: &RowState<'_>) -> RowExplanation {
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
