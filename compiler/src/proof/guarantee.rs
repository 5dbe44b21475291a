//! `guarantee` declarations, checked for every subject: a guarantee that some subject (and
//! row) breaks is an error (E0043) at the guarantee, with a related note at the rule (or
//! exempt, or column) that makes the leak and a concrete counter-example.

use super::atoms::Atoms;
use super::bdd::{Bdd, F};
use super::decision::{Decider, Effect};
use super::witness::{witness, Witness};
use super::{ctx, Set};
use crate::diagnostics::Diagnostic;
use crate::model::{Guarantee, GuaranteeKind};
use crate::source_map::Loc;

/// A broken guarantee: what leaks, where, and for whom.
#[derive(Clone, Debug)]
pub struct Broken {
    pub guarantee: Loc,
    /// `customers.ssn is clear` / `a row of claims where … is shown`.
    pub what: String,
    /// The source the leak is in.
    pub source: String,
    pub culprit: Loc,
    pub why: String,
    pub witness: Witness,
}

/// The diagnostics of every guarantee that does not hold.
pub fn check(set: Set<'_>) -> Vec<Diagnostic> {
    broken(set)
        .into_iter()
        .map(|b| {
            Diagnostic::guarantee_broken(
                b.guarantee,
                &b.what,
                b.culprit,
                &b.why,
                &example(&b.witness),
            )
        })
        .collect()
}

/// A counter-example in words: the subject's JSON, then the row and clock conditions.
pub fn example(w: &Witness) -> String {
    let mut out = format!("the subject {}", w.subject);
    if !w.user.is_empty() {
        out.push_str(&format!(" for which {}", w.user.join(" and ")));
    }
    if !w.row.is_empty() {
        out.push_str(&format!(", on a row where {}", w.row.join(" and ")));
    }
    if !w.time.is_empty() {
        out.push_str(&format!(", while {}", w.time.join(" and ")));
    }
    if !w.depends_on.is_empty() {
        out.push_str(&format!(
            " (depends on: {}, not decided by the proof)",
            w.depends_on.join("; ")
        ));
    }
    out
}

/// Every guarantee that does not hold, with its first counter-example.
pub fn broken(set: Set<'_>) -> Vec<Broken> {
    set.model
        .guarantees
        .iter()
        .filter_map(|g| one(set, g))
        .collect()
}

fn except(set: Set<'_>, atoms: &mut Atoms, g: &Guarantee) -> F {
    match &g.except {
        Some(e) => atoms.cond(ctx(set), e, g.loc.file).t,
        None => Bdd::FALSE,
    }
}

fn one(set: Set<'_>, g: &Guarantee) -> Option<Broken> {
    let d = set.decisions();
    match &g.kind {
        GuaranteeKind::Unmasked { matches } => {
            // One atom table for every matched column: conditions repeat across columns.
            let mut atoms = Atoms::default();
            let exc = except(set, &mut atoms, g);
            let mut bad = Vec::new();
            for &(s, c) in matches {
                let decision = d.column(&mut atoms, s, c);
                for part in decision
                    .parts
                    .into_iter()
                    .filter(|p| p.effect == Effect::Clear)
                {
                    let f = atoms.bdd.and_not(part.when, exc);
                    if f != Bdd::FALSE {
                        bad.push((s, c, f, part.decider));
                    }
                }
            }
            if bad.is_empty() {
                return None;
            }
            let dom = atoms.domain();
            for (s, c, f, decider) in bad {
                let Some(w) = witness(&mut atoms, f, dom) else {
                    continue;
                };
                let src = set.model.sources.get(s)?;
                let col = src.columns.get(c)?;
                let (culprit, why) = match &decider {
                    Decider::Rules(rules) => match rules.first() {
                        Some((name, loc)) => {
                            (*loc, format!("`{name}` leaves it clear for that subject"))
                        }
                        None => (col.loc, "no rule masks it for that subject".to_string()),
                    },
                    Decider::Exempt(loc) => (
                        *loc,
                        "this exempt makes it clear for that subject".to_string(),
                    ),
                    Decider::Nothing | Decider::Inputs => (
                        col.loc,
                        "no rule masks this column for that subject".to_string(),
                    ),
                };
                return Some(Broken {
                    guarantee: g.loc,
                    what: format!("`{}.{}` is clear", src.name, col.name),
                    source: src.name.clone(),
                    culprit,
                    why,
                    witness: w,
                });
            }
            None
        }
        GuaranteeKind::Rows { source, cond } => {
            let mut atoms = Atoms::default();
            let (parts, exempt) = d.rows(&mut atoms, *source);
            let all = atoms.bdd.all(parts.iter().map(|p| p.passes));
            let shown = atoms.bdd.or(exempt, all);
            let c = atoms.cond(ctx(set), cond, g.loc.file).t;
            let exc = except(set, &mut atoms, g);
            let dom = atoms.domain();
            let bad = atoms.bdd.and(shown, c);
            let bad = atoms.bdd.and_not(bad, exc);
            let w = witness(&mut atoms, bad, dom)?;
            let src = set.model.sources.get(*source)?;
            let assignment: std::collections::HashMap<u32, bool> =
                w.assignment.iter().copied().collect();
            let value = |v: u32| assignment.get(&v).copied().unwrap_or(false);
            let (culprit, why) = if atoms.bdd.eval(exempt, &value) {
                let loc = set
                    .model
                    .exempts
                    .iter()
                    .find(|e| e.scope.sources.contains(source))
                    .map(|e| e.loc)
                    .unwrap_or(src.loc);
                (loc, "an exempt shows every row to that subject".to_string())
            } else {
                match parts.first() {
                    Some(p) => (
                        p.loc,
                        format!("`{}` lets that row through for that subject", p.rule),
                    ),
                    None => (src.loc, "no row rule covers this source".to_string()),
                }
            };
            Some(Broken {
                guarantee: g.loc,
                what: format!("a row of `{}` it excludes is shown", src.name),
                source: src.name.clone(),
                culprit,
                why,
                witness: w,
            })
        }
    }
}
