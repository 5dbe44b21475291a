//! Warnings that need the whole resolved policy set: sensitive columns left uncovered, policies
//! that never take effect, masked keys, and conditions that leak what they read.

mod findings;
mod leaks;

pub use findings::Findings;

use crate::conflicts::{has_where, Candidate, Resolution, RuleRef};
use crate::diagnostics::Diagnostic;
use crate::model::{MaskBody, Model, RuleId, SourceId};
use findings::Fate;

/// Runs every lint on the whole set.
pub fn run(model: &Model, res: &Resolution, diags: &mut Vec<Diagnostic>) {
    Findings::find_after(model, res, None).report(model, diags);
}

/// `allow detokenize column S.c` needs a rule that tokenizes `S.c`: the grants on source `s`,
/// against the mask rules matching a column of it (`rules`, staged ones included).
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn detokenize_targets(
    model: &Model,
    s: SourceId,
    grants: &[usize],
    rules: &[RuleId],
    diags: &mut Vec<Diagnostic>,
) {
    use crate::model::GrantKind;
    for &g in grants {
        let g = &model.grants[g];
        let GrantKind::Detokenize { source, column } = g.kind else {
            continue;
        };
        if source != s {
            continue;
        }
        let reversible = rules.iter().map(|&id| &model.mask_rules[id]).any(|r| {
            r.matches_column(source, column)
                && r.body.techniques().iter().any(|t| {
                    matches!(t.name.as_str(), "tokenize" | "format_preserving")
                        || t.by_level.iter().any(|(_, e)| {
                            matches!(e.name.as_str(), "tokenize" | "format_preserving")
                        })
                })
        });
        if !reversible {
            let src = &model.sources[source];
            let col = &src.columns[column];
            let name = format!("{}.{}", src.name, col.name);
            diags.push(Diagnostic::nothing_to_detokenize(g.loc, &name, col.loc));
        }
    }
}

/// Can the candidate at `index` decide for some user and row? Only if every one before it has a
/// `where` that can be false.
#[expect(
    clippy::indexing_slicing,
    reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
)]
pub fn reachable(model: &Model, list: &[Candidate], index: usize) -> bool {
    list[..index]
        .iter()
        .all(|c| c.rules.iter().all(|&r| has_where(model, r)))
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn sensitive_uncovered(model: &Model, res: &Resolution, s: SourceId, diags: &mut Vec<Diagnostic>) {
    if model.unread_rules {
        // The rule that covers a column may be the one that could not be read.
        return;
    }
    {
        let src = &model.sources[s];
        for (c, col) in src.columns.iter().enumerate() {
            let Some(sensitive) = col
                .tags
                .iter()
                .find_map(|&t| model.tags.sensitive_ancestor(t).map(|a| (t, a)))
            else {
                continue;
            };
            // Covered by a rule on the column or on a struct containing it.
            let mut node = Some(c);
            let mut covered = false;
            while let Some(n) = node {
                if !res.candidates(s, n).is_empty() {
                    covered = true;
                    break;
                }
                node = src.columns[n].parent;
            }
            if covered {
                continue;
            }
            let (tag, root) = sensitive;
            let tag_path = model.tags.path(tag);
            let root_path = model.tags.path(root);
            let how = if tag == root {
                format!("tagged `{tag_path}`, which is sensitive")
            } else {
                format!("tagged `{tag_path}`, under the sensitive tag `{root_path}`")
            };
            let name = format!("{}.{}", src.name, col.name);
            let sensitive_at = model.tags.nodes[root].loc;
            diags.push(Diagnostic::sensitive_uncovered(
                col.loc,
                &name,
                &how,
                sensitive_at,
                &tag_path,
            ));
        }
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
)]
fn never_takes_effect(model: &Model, res: &Resolution, s: SourceId, fates: &mut Vec<Fate>) {
    // For each rule: is it reachable on some column of `s`, and else who beats it first.
    let mut at: std::collections::HashMap<RuleId, usize> = std::collections::HashMap::new();
    let columns = model.sources.get(s).map_or(0, |src| src.columns.len());
    for c in 0..columns {
        let list = res.candidates(s, c);
        for (i, cand) in list.iter().enumerate() {
            let ok = reachable(model, list, i);
            for &r in &cand.rules {
                if let RuleRef::Mask(id) = r {
                    let k = *at.entry(id).or_insert_with(|| {
                        fates.push(Fate {
                            rule: id,
                            reached: false,
                            beaten: None,
                        });
                        fates.len() - 1
                    });
                    let fate = &mut fates[k];
                    if ok {
                        fate.reached = true;
                    } else if fate.beaten.is_none() {
                        let winner = list[..i]
                            .iter()
                            .find(|w| w.rules.iter().all(|&x| !has_where(model, x)))
                            .cloned();
                        if let Some(w) = winner {
                            fate.beaten = Some((w, cand.clone()));
                        }
                    }
                }
            }
        }
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn masked_keys(model: &Model, res: &Resolution, s: SourceId, diags: &mut Vec<Diagnostic>) {
    {
        let src = &model.sources[s];
        let Some(k) = src.key else { return };
        let list = res.candidates(s, k);
        for (i, cand) in list.iter().enumerate() {
            if !reachable(model, list, i) {
                break;
            }
            for &r in &cand.rules {
                let at = match r {
                    RuleRef::Mask(id) => {
                        if let MaskBody::Who(clauses, None) = &model.mask_rules[id].body {
                            if clauses.is_empty() {
                                continue;
                            }
                        }
                        model.mask_rules[id].target_loc
                    }
                    RuleRef::Accessible(..) => src.columns[k]
                        .accessible
                        .as_ref()
                        .map(|a| a.loc)
                        .unwrap_or(src.columns[k].loc),
                };
                let key = &src.columns[k];
                let name = format!("{}.{}", src.name, key.name);
                diags.push(Diagnostic::masked_key(at, &name, key.loc));
            }
        }
    }
}
