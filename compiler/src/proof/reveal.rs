//! `polc diff --prove OLD NEW`: does NEW reveal anything OLD did not, for some subject and row?
//! A column reveals more where NEW's effect differs from OLD's, is not null, and OLD's was not
//! clear (clear where OLD masked, or another technique where OLD gave null or a different
//! technique: a different technique may reveal what the old one hid, so it counts); a row
//! reveals more where NEW shows it and OLD hid it. Sources and columns are matched by name; a
//! column or source that only NEW has is not compared (it is listed apart).

use serde::Serialize;

use super::atoms::Atoms;
use super::decision::{Decider, Decisions, Effect};
use super::witness::{witness, Witness};
use super::Set;

/// One thing NEW reveals that OLD did not, with a counter-example and the rules responsible.
#[derive(Clone, Debug, Serialize)]
pub struct Leak {
    /// `source.column` or `source` (its rows).
    pub key: String,
    /// What OLD and NEW give the counter-example.
    pub old: String,
    pub new: String,
    /// The rules that decide it in OLD and in NEW (`name (file:line)` is added by the CLI).
    pub old_rules: Vec<String>,
    pub new_rules: Vec<String>,
    pub witness: Witness,
}

fn decisions<'a>(set: Set<'a>) -> Decisions<'a> {
    Decisions::new(set.model, set.resolution, set.files)
}

fn names(d: &Decider) -> Vec<String> {
    match d {
        Decider::Rules(r) => r.iter().map(|(n, _)| format!("`{n}`")).collect(),
        Decider::Exempt(_) => vec!["an exempt".to_string()],
        Decider::Nothing => vec!["no rule (clear)".to_string()],
        Decider::Inputs => vec!["a masked input or struct".to_string()],
    }
}

/// Every column and row source where NEW reveals more than OLD, one counter-example each.
pub fn prove(old: Set<'_>, new: Set<'_>) -> Vec<Leak> {
    let mut out = Vec::new();
    let dold = decisions(old);
    let dnew = decisions(new);
    for (ns, nsrc) in new.model.sources.iter().enumerate() {
        let Some(os) = old.model.source(&nsrc.name) else {
            continue;
        };
        let Some(osrc) = old.model.sources.get(os) else {
            continue;
        };
        for (nc, col) in nsrc.columns.iter().enumerate() {
            let Some(oc) = osrc.column(&col.name) else {
                continue;
            };
            let mut atoms = Atoms::default();
            let od = dold.column(&mut atoms, os, oc);
            let nd = dnew.column(&mut atoms, ns, nc);
            let dom = atoms.domain();
            'found: for p in &nd.parts {
                if p.effect.reveals_nothing() {
                    continue;
                }
                for q in &od.parts {
                    if q.effect == p.effect || q.effect == Effect::Clear {
                        continue;
                    }
                    let both = atoms.bdd.and(p.when, q.when);
                    if let Some(w) = witness(&mut atoms, both, dom) {
                        out.push(Leak {
                            key: format!("{}.{}", nsrc.name, col.name),
                            old: q.effect.text(),
                            new: p.effect.text(),
                            old_rules: names(&q.decider),
                            new_rules: names(&p.decider),
                            witness: w,
                        });
                        break 'found;
                    }
                }
            }
        }
        let mut atoms = Atoms::default();
        let (oparts, oexempt) = dold.rows(&mut atoms, os);
        let (nparts, nexempt) = dnew.rows(&mut atoms, ns);
        let oall = atoms.bdd.all(oparts.iter().map(|p| p.passes));
        let oshown = atoms.bdd.or(oexempt, oall);
        let nall = atoms.bdd.all(nparts.iter().map(|p| p.passes));
        let nshown = atoms.bdd.or(nexempt, nall);
        let dom = atoms.domain();
        let leak = atoms.bdd.and_not(nshown, oshown);
        if let Some(w) = witness(&mut atoms, leak, dom) {
            let assignment: std::collections::HashMap<u32, bool> =
                w.assignment.iter().copied().collect();
            let value = |v: u32| assignment.get(&v).copied().unwrap_or(false);
            let hid: Vec<String> = oparts
                .iter()
                .filter(|p| !atoms.bdd.eval(p.passes, &value))
                .map(|p| format!("`{}`", p.rule))
                .collect();
            let lets: Vec<String> = nparts.iter().map(|p| format!("`{}`", p.rule)).collect();
            out.push(Leak {
                key: nsrc.name.clone(),
                old: "row hidden".to_string(),
                new: "row shown".to_string(),
                old_rules: hid,
                new_rules: lets,
                witness: w,
            });
        }
        if let Some(leak) = k_anonymity_leak(old, new, os, ns) {
            out.push(leak);
        }
    }
    out
}

/// NEW keeps less of OLD's k-anonymity on a source: none, a smaller k, or a quasi-identifier
/// OLD generalises that NEW does not. (The column decisions above ignore k-anonymity, which
/// only ever masks more; its removal is a leak of its own.)
fn k_anonymity_leak(old: Set<'_>, new: Set<'_>, os: usize, ns: usize) -> Option<Leak> {
    let kept = old.model.k_anonymity_of(os)?;
    let name = |set: Set<'_>, s: usize, c: usize| {
        set.model
            .sources
            .get(s)
            .and_then(|src| src.columns.get(c))
            .map(|col| col.name.clone())
            .unwrap_or_default()
    };
    let describe = |set: Set<'_>, s: usize, k: usize, cols: &[usize]| {
        let names: Vec<String> = cols.iter().map(|&c| name(set, s, c)).collect();
        format!("{k}-anonymous over {}", names.join(", "))
    };
    let old_text = describe(old, os, kept.k, &kept.columns);
    let new_req = new.model.k_anonymity_of(ns);
    let weaker = match &new_req {
        None => true,
        Some(n) => {
            let new_names: Vec<String> = n.columns.iter().map(|&c| name(new, ns, c)).collect();
            n.k < kept.k
                || kept
                    .columns
                    .iter()
                    .any(|&c| !new_names.contains(&name(old, os, c)))
        }
    };
    if !weaker {
        return None;
    }
    let mut atoms = Atoms::default();
    let dom = atoms.domain();
    let w = witness(&mut atoms, super::bdd::Bdd::TRUE, dom)?;
    let rule = |set: Set<'_>, s: usize| -> Vec<String> {
        set.model
            .k_anonymity
            .iter()
            .filter(|r| !r.staged && r.columns.iter().any(|(x, _)| *x == s))
            .filter_map(|r| set.model.policies.get(r.policy))
            .map(|p| format!("`{}`", p.name))
            .collect()
    };
    Some(Leak {
        key: name_of_source(new, ns),
        old: old_text,
        new: match &new_req {
            Some(n) => describe(new, ns, n.k, &n.columns),
            None => "no k-anonymity".to_string(),
        },
        old_rules: rule(old, os),
        new_rules: rule(new, ns),
        witness: w,
    })
}

fn name_of_source(set: Set<'_>, s: usize) -> String {
    set.model
        .sources
        .get(s)
        .map(|x| x.name.clone())
        .unwrap_or_default()
}
