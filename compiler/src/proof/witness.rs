//! A concrete counter-example: a subject (as the JSON `polc eval --subject` reads) and the row
//! and clock conditions under which a function holds, from one of its satisfying assignments
//! within the domain.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::atoms::{purpose_below, Atom, Atoms, Opaque, Term};
use super::bdd::F;

/// A subject, and what the row and the clock must satisfy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Witness {
    /// The satisfying assignment it was made from (atom, value); atoms not listed are false.
    #[serde(skip)]
    pub assignment: Vec<(u32, bool)>,
    pub subject: serde_json::Value,
    /// Values of the row's columns that the conditions compare with constants.
    pub row_values: serde_json::Map<String, serde_json::Value>,
    /// Conditions on the row (`row.country == user.region`), as the policy writes them.
    pub row: Vec<String>,
    /// Conditions on the clock.
    pub time: Vec<String>,
    /// Conditions on the user the procedure does not decompose (opaque).
    pub user: Vec<String>,
    /// The clock the counter-example needs (RFC 3339, for `polc eval --now`), when a
    /// condition reads it.
    pub now: Option<String>,
    /// The opaque conditions it depends on (`matches`, arithmetic, linked rules, …): the
    /// counter-example holds for some truth of them.
    pub depends_on: Vec<String>,
}

/// A witness of `f ∧ domain`, if it is satisfiable.
pub fn witness(atoms: &mut Atoms, f: F, domain: F) -> Option<Witness> {
    let g = atoms.bdd.and(f, domain);
    let path = atoms.bdd.sat_one(g)?;
    let set: HashMap<u32, bool> = path.iter().copied().collect();
    let value = |v: u32| set.get(&v).copied().unwrap_or(false);
    let mut groups = BTreeSet::new();
    let mut roles = BTreeSet::new();
    let mut purposes: Vec<String> = Vec::new();
    let mut attrs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut w = Witness {
        assignment: path,
        subject: serde_json::Value::Null,
        row_values: serde_json::Map::new(),
        row: Vec::new(),
        time: Vec::new(),
        user: Vec::new(),
        now: None,
        depends_on: Vec::new(),
    };
    let list = atoms.list.clone();
    for (v, atom) in list.iter().enumerate() {
        let on = value(v as u32);
        match atom {
            Atom::Group(g) if on => {
                groups.insert(g.clone());
            }
            Atom::Role(r) if on => {
                roles.insert(r.clone());
            }
            Atom::Purpose(p) if on => {
                // The deepest true purposes: a purpose below P that is false must not be held.
                let below_true = list.iter().enumerate().any(|(u, a)| {
                    matches!(a, Atom::Purpose(q) if purpose_below(q, p) && value(u as u32))
                });
                if !below_true {
                    purposes.push(p.clone());
                }
            }
            Atom::AttrPresent(a) if on => {
                attrs.entry(a.clone()).or_default();
            }
            Atom::AttrValue(a, x) if on => attrs.entry(a.clone()).or_default().push(x.clone()),
            // Each opaque condition once, from its "holds" atom: true, false or unknown.
            Atom::Opaque {
                kind,
                holds: true,
                text,
            } => {
                let fails = atoms_index(&list, text, *kind).is_some_and(value);
                let told = set.contains_key(&(v as u32))
                    || atoms_index(&list, text, *kind).is_some_and(|u| set.contains_key(&u));
                if !told {
                    continue;
                }
                w.depends_on.push(text.clone());
                let text = if on || (!fails && !set.contains_key(&(v as u32))) {
                    text.clone()
                } else if fails {
                    format!("not ({text})")
                } else {
                    format!("({text}) is unknown")
                };
                match kind {
                    Opaque::Row => w.row.push(text),
                    Opaque::Time => w.time.push(text),
                    Opaque::User => w.user.push(text),
                }
            }
            _ => {}
        }
    }
    let mut subject = serde_json::Map::new();
    subject.insert("login".into(), "someone".into());
    subject.insert(
        "groups".into(),
        groups.into_iter().collect::<Vec<_>>().into(),
    );
    subject.insert("roles".into(), roles.into_iter().collect::<Vec<_>>().into());
    let mut amap = serde_json::Map::new();
    for (a, mut vals) in attrs {
        if vals.is_empty() {
            // Present, but with none of the values the policy names.
            let mut other = "other".to_string();
            while list
                .iter()
                .any(|x| matches!(x, Atom::AttrValue(n, y) if *n == a && *y == other))
            {
                other.push('_');
            }
            vals.push(other);
        }
        amap.insert(a, vals.into());
    }
    subject.insert("attributes".into(), amap.into());
    subject.insert("purposes".into(), purposes.into());
    for c in super::terms::components(atoms) {
        let values = c.values(&value);
        for ((f, k), x) in c.names().zip(values) {
            match f {
                Term::Row(col) => {
                    let v = x.map_or(serde_json::Value::Null, |x| x.json(k));
                    w.row.push(format!("{f} is {v}"));
                    w.row_values.insert(col.clone(), v);
                }
                Term::User(name) => match x {
                    Some(x) => {
                        subject.insert(name.clone(), x.json(k));
                    }
                    None => {
                        subject.remove(name);
                    }
                },
                Term::Now => {
                    if let Some(x) = x {
                        let v = x.json(k);
                        w.time.push(format!("{f} is {v}"));
                        w.now = v.as_str().map(String::from);
                    }
                }
                Term::Today => {}
            }
        }
    }
    w.subject = serde_json::Value::Object(subject);
    Some(w)
}

/// The "fails" atom of an opaque condition.
fn atoms_index(list: &[Atom], text: &str, kind: Opaque) -> Option<u32> {
    list.iter()
        .position(|a| {
            matches!(a, Atom::Opaque { text: t, kind: k, holds: false } if t == text && *k == kind)
        })
        .map(|i| i as u32)
}
