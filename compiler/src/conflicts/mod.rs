//! Conflict resolution (docs/language.md §6.2–6.4): for every source and column, the ordered list of
//! mask rules that can decide it, with the reason for every ordering.
//!
//! Order: specificity first (direct target > deeper tag > shallower tag > broad target), then
//! authored order (file order, then position). With `settings { combine_exceptions = true }`,
//! tied rules that all use `for everyone except` with the same technique combine into one
//! candidate whose exceptions are OR'ed.

use crate::model::{ColumnId, MaskBody, Model, RuleId, SourceId, Specificity, TechniqueUse};
use crate::source_map::Loc;
use std::sync::Arc;

pub mod incremental;

/// A rule that can decide a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleRef {
    Mask(RuleId),
    /// The `accessible if` of this column.
    Accessible(SourceId, ColumnId),
}

/// One entry of a column's ordered list: a rule, or several combined (`combine_exceptions`).
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub rules: Vec<RuleRef>,
    pub specificity: Specificity,
    /// Where it was authored (the first rule's), for the tie-break.
    pub authored: Loc,
    /// For tag targets, the tag that matched.
    pub tag: Option<usize>,
}

/// The ordered candidates of every column: `columns[source][column]`, each source's shared (an
/// incremental analysis keeps the sources an edit cannot reach, see [`incremental`]).
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    pub columns: Vec<Arc<Vec<Vec<Candidate>>>>,
    pub include_staged: bool,
}

impl Resolution {
    pub fn candidates(&self, s: SourceId, c: ColumnId) -> &[Candidate] {
        self.columns
            .get(s)
            .and_then(|v| v.get(c))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }
}

/// Where a rule was authored.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn authored(model: &Model, r: RuleRef) -> Loc {
    match r {
        RuleRef::Mask(id) => model.mask_rules[id].loc,
        RuleRef::Accessible(s, c) => model.sources[s].columns[c]
            .accessible
            .as_ref()
            .map(|a| a.loc)
            .unwrap_or(model.sources[s].columns[c].loc),
    }
}

/// Whether rule `r` applies on source `s`: the checker's one answer (§6.8, a `row[tagged T]`
/// the source lacks), which lowering, the reference evaluator, the SQL views and the proofs ask
/// instead of re-testing the rule's expressions.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn applies_on(model: &Model, r: RuleRef, s: SourceId) -> bool {
    match r {
        RuleRef::Mask(id) => model.mask_rules[id].applies_on(s),
        RuleRef::Accessible(cs, cc) => {
            cs == s
                && model.sources[cs].columns[cc]
                    .accessible
                    .as_ref()
                    .is_some_and(|a| a.applies)
        }
    }
}

/// The `where` of a rule, if it has one.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn has_where(model: &Model, r: RuleRef) -> bool {
    match r {
        RuleRef::Mask(id) => model.mask_rules[id].where_.is_some(),
        RuleRef::Accessible(..) => false,
    }
}

/// A human name for a rule: its policy's name, or `accessible if` of a column.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn rule_name(model: &Model, r: RuleRef) -> String {
    match r {
        RuleRef::Mask(id) => model.policy_of(id).name.clone(),
        RuleRef::Accessible(s, c) => format!(
            "{}.{} accessible if",
            model.sources[s].name, model.sources[s].columns[c].name
        ),
    }
}

/// Why `winner` is ordered before `loser` (both candidates of one column).
pub fn why_beats(model: &Model, winner: &Candidate, loser: &Candidate) -> String {
    match (winner.specificity, loser.specificity) {
        (a, b) if a == b => "authored first (same specificity)".to_string(),
        (Specificity::Direct, _) => {
            "a direct column target beats any tag or broad target".to_string()
        }
        (Specificity::Tag(d1), Specificity::Tag(d2)) => {
            let t1 = winner.tag.map(|t| model.tags.path(t)).unwrap_or_default();
            let t2 = loser.tag.map(|t| model.tags.path(t)).unwrap_or_default();
            format!("deeper tag: `{t1}` (depth {d1}) beats `{t2}` (depth {d2})")
        }
        (Specificity::Tag(_), Specificity::Broad) => {
            "a tag target beats a broad target".to_string()
        }
        _ => "more specific".to_string(),
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn single_except(model: &Model, r: RuleRef) -> Option<&TechniqueUse> {
    match r {
        RuleRef::Mask(id) => {
            let rule = &model.mask_rules[id];
            if rule.where_.is_some() {
                return None;
            }
            match &rule.body {
                MaskBody::Except(t, _) => Some(t),
                _ => None,
            }
        }
        RuleRef::Accessible(s, c) => model.sources[s].columns[c]
            .accessible
            .as_ref()
            .map(|a| &a.technique),
    }
}

fn same_technique(a: &TechniqueUse, b: &TechniqueUse) -> bool {
    a.name == b.name
        && a.args == b.args
        && a.by_level.len() == b.by_level.len()
        && a.display() == b.display()
}

/// Orders the candidates of every column.
pub fn resolve(model: &Model, include_staged: bool) -> Resolution {
    let rules = rules_by_source(model, include_staged, None);
    Resolution {
        columns: rules
            .iter()
            .enumerate()
            .map(|(s, ids)| Arc::new(resolve_source(model, s, ids)))
            .collect(),
        include_staged,
    }
}

/// The ids of the mask rules with a candidate on each source (`wanted[s]`, when given, says
/// which sources are asked; the others get no list), in id order, each once. Staged rules only
/// when they are included.
pub fn rules_by_source(
    model: &Model,
    include_staged: bool,
    wanted: Option<&[bool]>,
) -> Vec<Vec<RuleId>> {
    let mut by_source: Vec<Vec<RuleId>> = vec![Vec::new(); model.sources.len()];
    for (id, rule) in model.mask_rules.iter().enumerate() {
        if rule.staged && !include_staged {
            continue;
        }
        for m in &rule.matches {
            if wanted.is_some_and(|w| !w.get(m.source).copied().unwrap_or(false)) {
                continue;
            }
            if let Some(ids) = by_source.get_mut(m.source) {
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        }
    }
    by_source
}

/// The ordered candidates of every column of source `s`, from the mask rules with a candidate on
/// it (`rules`, in id order, as [`rules_by_source`] gives them) and its columns' `accessible if`.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn resolve_source(model: &Model, s: SourceId, rules: &[RuleId]) -> Vec<Vec<Candidate>> {
    let Some(src) = model.sources.get(s) else {
        return Vec::new();
    };
    // Each column's list is allocated once at its final size (lists grown push by push kept
    // up to three quarters of their capacity unused: a tenth of a 1M-line check's memory).
    let mut sizes: Vec<u32> = src
        .columns
        .iter()
        .map(|c| u32::from(c.accessible.is_some()))
        .collect();
    for &id in rules {
        for m in model.mask_rules[id].matches_on(s) {
            if let Some(n) = sizes.get_mut(m.column) {
                *n += 1;
            }
        }
    }
    let mut columns: Vec<Vec<Candidate>> = sizes
        .iter()
        .map(|&n| Vec::with_capacity(n as usize))
        .collect();
    drop(sizes);
    for &id in rules {
        let rule = &model.mask_rules[id];
        for m in rule.matches_on(s) {
            if let Some(list) = columns.get_mut(m.column) {
                list.push(Candidate {
                    rules: vec![RuleRef::Mask(id)],
                    specificity: m.specificity,
                    authored: rule.loc,
                    tag: m.tag,
                });
            }
        }
    }
    for (c, col) in src.columns.iter().enumerate() {
        if let Some(a) = &col.accessible {
            columns[c].push(Candidate {
                rules: vec![RuleRef::Accessible(s, c)],
                specificity: Specificity::Direct,
                authored: a.loc,
                tag: None,
            });
        }
    }
    for list in columns.iter_mut() {
        list.sort_by(|a, b| {
            b.specificity
                .cmp(&a.specificity)
                .then(a.authored.cmp(&b.authored))
        });
        if model.settings.combine_exceptions && list.len() > 1 {
            *list = combine(model, std::mem::take(list));
        }
    }
    columns
}

/// Merges runs of tied `for everyone except` candidates with the same technique.
#[expect(
    clippy::indexing_slicing,
    reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
)]
fn combine(model: &Model, list: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let mut j = i + 1;
        while j < list.len() && list[j].specificity == list[i].specificity {
            j += 1;
        }
        let group = &list[i..j];
        let techniques: Option<Vec<&TechniqueUse>> = group
            .iter()
            .map(|c| single_except(model, c.rules[0]))
            .collect();
        let combinable = group.len() > 1
            && techniques
                .as_ref()
                .is_some_and(|ts| ts.iter().all(|t| same_technique(t, ts[0])));
        if combinable {
            let mut merged = group[0].clone();
            merged.rules = group.iter().map(|c| c.rules[0]).collect();
            out.push(merged);
        } else {
            out.extend(group.iter().cloned());
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod applies_on_tests {
    use super::{applies_on, RuleRef};
    use crate::source_map::SourceMap;

    /// The checker decides, per (rule, source), whether a rule reading `row[tagged T]` applies:
    /// one scope, three sources, a column tagged T, one tagged below T, and none.
    #[test]
    fn a_rule_applies_on_the_sources_of_its_scope_that_carry_the_tag() {
        let text = r#"
tag Scope;
tag Owner;
tag Owner.Primary;
tag Note;
source a tagged Scope { id: int key, owner: text tagged Owner, note: text tagged Note, }
source b tagged Scope { id: int key, note: text tagged Note, }
source c tagged Scope { id: int key, holder: text tagged Owner.Primary, note: text tagged Note, }
source d { id: int key, owner: text tagged Owner, secret: text accessible if row[tagged Owner] == user.login, }
source e { id: int key, other: text accessible if row[tagged Owner] == user.login, }
policy notes on sources tagged Scope {
  mask columns tagged Note using redact for everyone except row[tagged Owner] == user.login
}
policy own_rows on sources tagged Scope {
  only show rows where row[tagged Owner] == user.login for everyone
}
"#;
        let mut map = SourceMap::new();
        map.add("a.pol", text.to_string());
        let analysis = crate::check(&map);
        assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
        let m = &analysis.model;
        let id = |n: &str| m.sources.iter().position(|s| s.name == n).unwrap();
        let (a, b, c, d, e) = (id("a"), id("b"), id("c"), id("d"), id("e"));
        let mask = &m.mask_rules[0];
        assert_eq!(mask.skipped, vec![b]);
        let on: Vec<bool> = [a, b, c].iter().map(|&s| mask.applies_on(s)).collect();
        assert_eq!(on, [true, false, true]);
        assert!(applies_on(m, RuleRef::Mask(0), a));
        assert!(!applies_on(m, RuleRef::Mask(0), b));
        let row = &m.row_rules[0];
        assert_eq!(row.skipped, vec![b]);
        let on: Vec<bool> = [a, b, c].iter().map(|&s| row.applies_on(s)).collect();
        assert_eq!(on, [true, false, true]);
        let secret = m.sources[d].column("secret").unwrap();
        let other = m.sources[e].column("other").unwrap();
        assert!(applies_on(m, RuleRef::Accessible(d, secret), d));
        assert!(!applies_on(m, RuleRef::Accessible(e, other), e));
        // An `accessible if` decides its own source's column only.
        assert!(!applies_on(m, RuleRef::Accessible(d, secret), a));
    }
}
