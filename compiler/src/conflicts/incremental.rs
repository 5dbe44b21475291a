//! Conflict resolution after an edit of policies only (the declarations kept): a source no
//! policy of a changed file can meet (in its old or new version) keeps its ordered candidates,
//! their rule ids renumbered to where those rules now are; the others are ordered again.
//! Invariant: the result equals [`super::resolve`]'s (property-tested by `ide::host`'s tests).

use super::{resolve_source, rules_by_source, Candidate, Resolution, RuleRef};
use crate::model::Model;
use crate::resolve::memo::Changes;
use std::sync::Arc;

/// [`super::resolve`] after an edit: `previous` is the resolution of the earlier version and how
/// its policies changed since (from [`crate::resolve::memo::Memo::changes_since`]).
pub fn resolve_after(
    model: &Model,
    include_staged: bool,
    previous: Option<(&Resolution, &Changes)>,
) -> Resolution {
    let Some((old, changes)) = previous.filter(|(old, c)| {
        old.include_staged == include_staged && c.touched.len() == model.sources.len()
    }) else {
        return super::resolve(model, include_staged);
    };
    let mut kept: Vec<Option<Arc<Vec<Vec<Candidate>>>>> = (0..model.sources.len())
        .map(|s| {
            let untouched = !changes.touched.get(s).copied().unwrap_or(true);
            untouched
                .then(|| old.columns.get(s).and_then(|c| renumbered(c, changes)))
                .flatten()
        })
        .collect();
    let wanted: Vec<bool> = kept.iter().map(Option::is_none).collect();
    let rules = rules_by_source(model, include_staged, Some(&wanted));
    let columns = kept
        .iter_mut()
        .enumerate()
        .map(|(s, k)| match k.take() {
            Some(columns) => columns,
            None => Arc::new(resolve_source(
                model,
                s,
                rules.get(s).map_or(&[][..], Vec::as_slice),
            )),
        })
        .collect();
    Resolution {
        columns,
        include_staged,
    }
}

/// A source's candidates with their rule ids renumbered (shared when none moved); `None` when
/// a rule is no longer there (the source must be ordered again).
fn renumbered(
    columns: &Arc<Vec<Vec<Candidate>>>,
    changes: &Changes,
) -> Option<Arc<Vec<Vec<Candidate>>>> {
    let moved = |r: &RuleRef| match *r {
        RuleRef::Mask(id) => changes.rule_id(id).map(|new| new != id),
        RuleRef::Accessible(..) => Some(false),
    };
    let mut any = false;
    for list in columns.iter() {
        for cand in list {
            for r in &cand.rules {
                any |= moved(r)?;
            }
        }
    }
    if !any {
        return Some(columns.clone());
    }
    let mut out: Vec<Vec<Candidate>> = columns.as_ref().clone();
    for cand in out.iter_mut().flatten() {
        for r in cand.rules.iter_mut() {
            if let RuleRef::Mask(id) = r {
                *id = changes.rule_id(*id)?;
            }
        }
    }
    Some(Arc::new(out))
}
