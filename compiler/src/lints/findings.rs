//! The lints source by source. Every lint reads one source at a time: its columns' ordered
//! candidates, the mask rules matching a column of it, the row rules whose scope covers it and
//! the grants on it. What they find on a source ([`Found`]) is kept per source, so that after an
//! edit of policies only (the declarations kept) a source no changed policy can meet keeps its
//! findings ([`Findings::find_after`]); [`Findings::report`] then gathers every source's into
//! diagnostics: the leaks deduplicated per rule and column name, and each mask rule that is
//! reachable on no column reported once. Invariant: equal to a run from scratch.

use super::{detokenize_targets, leaks, masked_keys, never_takes_effect, sensitive_uncovered};
use crate::conflicts::incremental::{moved, renumber};
use crate::conflicts::{rule_name, rules_by_source, why_beats, Candidate, Resolution};
use crate::diagnostics::Diagnostic;
use crate::model::{Model, RuleId, SourceId};
use crate::resolve::memo::Changes;
use crate::source_map::Loc;
use std::collections::HashSet;
use std::sync::Arc;

/// What identifies a leak report for deduplication: the kind of rule (0 mask, 1 row), the rule
/// (by where it is written) and the column's name.
pub(super) type LeakKey = (u8, Loc, String);

/// A mask rule's fate on one source: whether some candidate of it there can decide, else the
/// first candidate (and its own) that beats it whatever the row.
#[derive(Clone, Debug)]
pub(super) struct Fate {
    pub rule: RuleId,
    pub reached: bool,
    pub beaten: Option<(Candidate, Candidate)>,
}

/// What the lints find on one source.
#[derive(Clone, Debug, Default)]
pub(super) struct Found {
    diags: Vec<Diagnostic>,
    leaks: Vec<(LeakKey, Diagnostic)>,
    fates: Vec<Fate>,
}

/// What the lints found on every source of a set; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    sources: Vec<Arc<Found>>,
    unread_rules: bool,
}

impl Findings {
    /// Runs the lints on every source, keeping from `previous` (the findings of an earlier
    /// version and how its policies changed since) those of the sources no change can meet.
    pub fn find_after(
        model: &Model,
        res: &Resolution,
        previous: Option<(&Findings, &Changes)>,
    ) -> Findings {
        let n = model.sources.len();
        let previous = previous.filter(|(f, c)| {
            f.unread_rules == model.unread_rules && f.sources.len() == n && c.touched.len() == n
        });
        let mut kept: Vec<Option<Arc<Found>>> = (0..n)
            .map(|s| {
                let (old, changes) = previous?;
                if changes.touched.get(s).copied().unwrap_or(true) {
                    return None;
                }
                old.sources.get(s)?.renumbered(changes)
            })
            .collect();
        let wanted: Vec<bool> = kept.iter().map(Option::is_none).collect();
        let rules = rules_by_source(model, true, Some(&wanted));
        let (row_rules, grants) = row_rules_and_grants(model, &wanted);
        let empty = Vec::new();
        let sources = kept
            .iter_mut()
            .enumerate()
            .map(|(s, k)| match k.take() {
                Some(found) => found,
                None => Arc::new(Found::on(
                    model,
                    res,
                    s,
                    rules.get(s).unwrap_or(&empty),
                    row_rules.get(s).unwrap_or(&empty),
                    grants.get(s).unwrap_or(&empty),
                )),
            })
            .collect();
        Findings {
            sources,
            unread_rules: model.unread_rules,
        }
    }

    /// The diagnostics of every finding.
    pub fn report(&self, model: &Model, diags: &mut Vec<Diagnostic>) {
        let mut seen: HashSet<&LeakKey> = HashSet::new();
        let mut reached = vec![false; model.mask_rules.len()];
        let mut beaten_by: Vec<Option<&(Candidate, Candidate)>> =
            vec![None; model.mask_rules.len()];
        for found in &self.sources {
            diags.extend(found.diags.iter().cloned());
            for (key, d) in &found.leaks {
                if seen.insert(key) {
                    diags.push(d.clone());
                }
            }
            for fate in &found.fates {
                if let Some(r) = reached.get_mut(fate.rule) {
                    *r |= fate.reached;
                }
                if let Some(b) = beaten_by.get_mut(fate.rule) {
                    if b.is_none() {
                        *b = fate.beaten.as_ref();
                    }
                }
            }
        }
        for (id, rule) in model.mask_rules.iter().enumerate() {
            if rule.staged || rule.matches.is_empty() || reached.get(id).copied().unwrap_or(true) {
                continue;
            }
            let policy = model.policy_of(id);
            let winner = beaten_by
                .get(id)
                .copied()
                .flatten()
                .and_then(|(winner, loser)| {
                    let w = *winner.rules.first()?;
                    let why = why_beats(model, winner, loser);
                    Some((
                        rule_name(model, w),
                        crate::conflicts::authored(model, w),
                        why,
                    ))
                });
            diags.push(Diagnostic::policy_always_loses(
                rule.target_loc,
                &policy.name,
                rule.matches.len(),
                winner
                    .as_ref()
                    .map(|(name, loc, why)| (name.as_str(), *loc, why.as_str())),
            ));
        }
    }
}

impl Found {
    /// Runs the lints on source `s`, given the mask rules matching a column of it (staged
    /// included), the row rules whose scope covers it and the grants on it, each in id order.
    fn on(
        model: &Model,
        res: &Resolution,
        s: SourceId,
        rules: &[RuleId],
        row_rules: &[usize],
        grants: &[usize],
    ) -> Found {
        let mut found = Found::default();
        sensitive_uncovered(model, res, s, &mut found.diags);
        never_takes_effect(model, res, s, &mut found.fates);
        masked_keys(model, res, s, &mut found.diags);
        leaks::dichotomy(model, res, s, rules, row_rules, &mut found.leaks);
        detokenize_targets(model, s, grants, rules, &mut found.diags);
        found
    }

    /// These findings with their rule ids renumbered (shared when none moved); `None` when a
    /// rule is no longer there.
    fn renumbered(self: &Arc<Found>, changes: &Changes) -> Option<Arc<Found>> {
        let mut any = false;
        for f in &self.fates {
            any |= changes.rule_id(f.rule)? != f.rule;
            if let Some((w, l)) = &f.beaten {
                any |= moved(w, changes)? | moved(l, changes)?;
            }
        }
        if !any {
            return Some(self.clone());
        }
        let mut out = Found::clone(self);
        for f in out.fates.iter_mut() {
            f.rule = changes.rule_id(f.rule)?;
            if let Some((w, l)) = &mut f.beaten {
                renumber(w, changes)?;
                renumber(l, changes)?;
            }
        }
        Some(Arc::new(out))
    }
}

/// The row rules whose policy's scope covers each wanted source, and the grants on it, in id
/// order.
fn row_rules_and_grants(model: &Model, wanted: &[bool]) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let n = model.sources.len();
    let is_wanted = |s: SourceId| wanted.get(s).copied().unwrap_or(false);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (id, rule) in model.row_rules.iter().enumerate() {
        let Some(policy) = model.policies.get(rule.policy) else {
            continue;
        };
        for &s in &policy.scope.sources {
            if let Some(ids) = rows.get_mut(s).filter(|_| is_wanted(s)) {
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        }
    }
    let mut grants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (id, g) in model.grants.iter().enumerate() {
        if let crate::model::GrantKind::Detokenize { source, .. } = g.kind {
            if let Some(ids) = grants.get_mut(source).filter(|_| is_wanted(source)) {
                ids.push(id);
            }
        }
    }
    (rows, grants)
}
