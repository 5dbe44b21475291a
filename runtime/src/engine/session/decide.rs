//! Deciding: conditions (user-only, compared with a session value, or run by the
//! interpreter), row rules, and each column's decision for a row.

use chrono::{DateTime, NaiveTime, Utc};
use sha2::{Digest, Sha256};

use super::{
    Act, CellTrace, ColSpec, Decided, Decisions, Flags, RowState, RuleCheck, SourceSession, Why,
};
use crate::bundle::{
    Audience, Candidate, ColumnPlan, RowAudience, RowFilter, RowOtherwise, RowRulePlan,
};
use crate::engine::explain::RowRuleExplanation;
use crate::program::interp::{eq_tri, run, Env};
use crate::program::{calendar, Tri};
use crate::value::Value;

/// Decides a candidate's body, `cond` giving each condition's value.
pub(super) fn decide_body(
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

impl<'s> SourceSession<'s> {
    pub(super) fn cond(&self, p: u32, env: &Env<'_>) -> Tri {
        let compared = &self.session.compared;
        // A comparison with the row is never user-only (the engine keeps none for a user-only
        // program): on a row it is asked first, and the user-only memo only for the others.
        if let Some((c, operand)) = compared.comparison(p) {
            // A top-level column compared with a value fixed for the session.
            if let Some(path) = env
                .paths
                .get(c.column as usize)
                .filter(|p| p.steps.is_empty())
            {
                let cell = env.row.get(path.top as usize);
                let t = eq_tri(cell, operand);
                return if c.negate { !t } else { t };
            }
        } else if let Some(t) = compared.user(p) {
            return t;
        }
        match self.session.engine.bundle.programs.get(p as usize) {
            Some(prog) => run(prog, env).truth(),
            None => Tri::Unknown,
        }
    }

    // ---- row rules -----------------------------------------------------------------------

    pub(super) fn filter(&self, f: &RowFilter, state: &RowState<'_>, env: &Env<'_>) -> Tri {
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
        let newer = |cut: Option<DateTime<Utc>>| match (event(), cut) {
            (Some(t), Some(c)) => Tri::from_bool(t > c),
            (Some(_), None) => Tri::True,
            _ => Tri::Unknown,
        };
        let older = |cut: Option<DateTime<Utc>>| match (event(), cut) {
            (Some(t), Some(c)) => Tri::from_bool(t < c),
            (Some(_), None) => Tri::False,
            _ => Tri::Unknown,
        };
        match f {
            RowFilter::Where(p) => self.cond(*p, env),
            RowFilter::NewerThan(secs) => newer(cutoff(*secs)),
            RowFilter::OlderThan(secs) => older(cutoff(*secs)),
            RowFilter::NewerThanMonths(m) => newer(calendar::add_months(now, -*m)),
            RowFilter::OlderThanMonths(m) => older(calendar::add_months(now, -*m)),
            RowFilter::Sample(pct) => {
                let key = self.meta.key_pos.and_then(|k| state.cell(k));
                match key {
                    None | Some(Value::Null) => Tri::Unknown,
                    Some(k) => Tri::from_bool(sample_in(&self.plan.name, k, *pct)),
                }
            }
            RowFilter::Never => Tri::False,
            RowFilter::Linked { column, parent } => {
                let key = self
                    .meta
                    .paths
                    .get(*column as usize)
                    .filter(|p| p.steps.is_empty())
                    .and_then(|p| state.cell(p.top as usize));
                self.session.links.shown(*parent, key)
            }
        }
    }

    /// Evaluates one row rule in full: (applies, passed, detail).
    pub(super) fn judge_rule(
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

    pub(super) fn shown(
        &self,
        state: &RowState<'_>,
        mut trace: Option<&mut Vec<RowRuleExplanation>>,
    ) -> bool {
        if self.spec.exempt {
            return true;
        }
        let env = self.env(state, None);
        if trace.is_none() {
            return self.passes(state, &env);
        }
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
                    why: Vec::new(),
                });
            }
        }
        shown
    }

    /// Whether the row rules show the row ([`shown`](Self::shown) without explanations), with
    /// the row's environment already built.
    #[inline]
    pub(super) fn passes(&self, state: &RowState<'_>, env: &Env<'_>) -> bool {
        if self.spec.exempt {
            return true;
        }
        if self.spec.hidden_by.is_some() {
            return false;
        }
        for check in &self.spec.checks {
            let ok = match check {
                RuleCheck::Filter(f) => self.filter(f, state, env).is_true(),
                RuleCheck::Generic(ri) => match self.plan.row_rules.get(*ri) {
                    Some(r) => self.judge_rule(r, state, env).1,
                    None => false,
                },
            };
            if !ok {
                return false;
            }
        }
        true
    }

    // ---- cells ---------------------------------------------------------------------------

    pub(super) fn decide_dyn(
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
    pub(super) fn decide_row_dependent(&self, f: u32, env: &Env<'_>) -> Decided {
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
    pub(super) fn decide_all(
        &self,
        state: &RowState<'_>,
        traces: Option<&mut Vec<CellTrace>>,
    ) -> Decisions {
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

    /// Per flat column: whether its final decision is clear (its own, every enclosing struct's,
    /// every field below it, no type mismatch; for derived columns, all inputs clear too).
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub(super) fn final_clear(&self, state: &RowState<'_>, decisions: &[Decided]) -> Flags {
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
}

/// Whether a row with this key is in a `pct`% sample of `source`: the first 8 bytes of
/// SHA-256(source + "\0" + canonical key text), big-endian, mod 10000, below pct × 100. The same
/// rows for every user and every session.
#[expect(
    clippy::indexing_slicing,
    reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
)]
pub(super) fn sample_in(source: &str, key: &Value, pct: f64) -> bool {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update([0u8]);
    h.update(key.canonical_text().as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let bucket = u64::from_be_bytes(first) % 10_000;
    (bucket as f64) < pct * 100.0
}
