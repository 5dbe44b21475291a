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
    let mut any = false;
    for cand in columns.iter().flatten() {
        any |= moved(cand, changes)?;
    }
    if !any {
        return Some(columns.clone());
    }
    let mut out: Vec<Vec<Candidate>> = columns.as_ref().clone();
    for cand in out.iter_mut().flatten() {
        renumber(cand, changes)?;
    }
    Some(Arc::new(out))
}

/// Whether a rule of candidate `c` has another id now; `None` when one is no longer there.
pub(crate) fn moved(c: &Candidate, changes: &Changes) -> Option<bool> {
    let mut any = false;
    for r in &c.rules {
        if let RuleRef::Mask(id) = *r {
            any |= changes.rule_id(id)? != id;
        }
    }
    Some(any)
}

/// Gives the rules of candidate `c` their ids now; `None` when one is no longer there.
pub(crate) fn renumber(c: &mut Candidate, changes: &Changes) -> Option<()> {
    for r in c.rules.iter_mut() {
        if let RuleRef::Mask(id) = r {
            *id = changes.rule_id(*id)?;
        }
    }
    Some(())
}
