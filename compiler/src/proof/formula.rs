//! A function as a short disjunction of conjunctions of the policy's own predicates: the
//! BDD's paths, each literal dropped where the rest still implies the function (within the
//! domain), conjunctions another one covers dropped, then conjunctions the others cover.

use serde::Serialize;

use super::atoms::{Atoms, Opaque};
use super::bdd::{Bdd, F};

/// The most conjunctions listed before "…".
const MAX_TERMS: usize = 64;

/// A conjunction: what it asks of the user, of the row and of the clock.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Term {
    pub user: Vec<String>,
    pub row: Vec<String>,
    pub time: Vec<String>,
}

impl Term {
    /// As one line: `user in group "hr" and user.region == row.country`.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = self.user.clone();
        if parts.is_empty() {
            parts.push("anyone".to_string());
        }
        let mut out = parts.join(" and ");
        if !self.row.is_empty() {
            out.push_str(&format!(", on rows where {}", self.row.join(" and ")));
        }
        if !self.time.is_empty() {
            out.push_str(&format!(", while {}", self.time.join(" and ")));
        }
        out
    }
}

/// A function of the atoms, simplified and stated with the policy's predicates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Formula {
    /// Holds for every subject and row.
    pub everyone: bool,
    /// Holds for no subject and row.
    pub no_one: bool,
    /// The disjunction (empty for `everyone` and `no_one`).
    pub terms: Vec<Term>,
    /// More conjunctions than were listed.
    pub truncated: bool,
}

impl Formula {
    /// One line per conjunction, or `everyone` / `no one`.
    pub fn text(&self) -> Vec<String> {
        if self.everyone {
            return vec!["everyone".to_string()];
        }
        if self.no_one {
            return vec!["no one".to_string()];
        }
        let mut out: Vec<String> = self.terms.iter().map(Term::text).collect();
        if self.truncated {
            out.push("… (more conjunctions not listed)".to_string());
        }
        out
    }
}

/// States `f` within `domain`.
pub fn formula(atoms: &mut Atoms, f: F, domain: F) -> Formula {
    let fd = atoms.bdd.and(f, domain);
    if fd == Bdd::FALSE {
        return Formula {
            no_one: true,
            ..Formula::default()
        };
    }
    if fd == domain {
        return Formula {
            everyone: true,
            ..Formula::default()
        };
    }
    let (paths, truncated) = atoms.bdd.paths(f, MAX_TERMS * 4);
    let mut cubes: Vec<Vec<(u32, bool)>> = Vec::new();
    for path in paths {
        let c = atoms.bdd.cube(&path);
        let cd = atoms.bdd.and(c, domain);
        if cd == Bdd::FALSE {
            continue;
        }
        cubes.push(shrink(atoms, path, fd, domain));
    }
    cubes.sort();
    cubes.dedup();
    // Drop a conjunction that another one's literals are a subset of.
    let mut kept: Vec<Vec<(u32, bool)>> = Vec::new();
    for (i, c) in cubes.iter().enumerate() {
        let covered = cubes.iter().enumerate().any(|(j, d)| {
            j != i
                && d.len() <= c.len()
                && d.iter().all(|l| c.contains(l))
                && (d.len() < c.len() || j < i)
        });
        if !covered {
            kept.push(c.clone());
        }
    }
    // Drop a conjunction the others cover within the domain.
    let mut i = 0;
    while i < kept.len() && kept.len() > 1 {
        let others: Vec<F> = kept
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| c.clone())
            .collect::<Vec<_>>()
            .iter()
            .map(|c| atoms.bdd.cube(c))
            .collect();
        let rest = atoms.bdd.any(others);
        let rest = atoms.bdd.and(rest, domain);
        let me = kept.get(i).map(|c| atoms.bdd.cube(c)).unwrap_or(Bdd::FALSE);
        let me = atoms.bdd.and(me, domain);
        if atoms.bdd.implies(me, rest) {
            kept.remove(i);
        } else {
            i += 1;
        }
    }
    let more = truncated || kept.len() > MAX_TERMS;
    kept.truncate(MAX_TERMS);
    Formula {
        everyone: false,
        no_one: false,
        terms: kept.iter().map(|c| term(atoms, c)).collect(),
        truncated: more,
    }
}

/// Drops each literal whose absence keeps the conjunction inside `fd` (within the domain).
fn shrink(atoms: &mut Atoms, mut cube: Vec<(u32, bool)>, fd: F, domain: F) -> Vec<(u32, bool)> {
    let mut i = 0;
    while i < cube.len() {
        let mut without = cube.clone();
        without.remove(i);
        let c = atoms.bdd.cube(&without);
        let cd = atoms.bdd.and(c, domain);
        if atoms.bdd.implies(cd, fd) {
            cube = without;
        } else {
            i += 1;
        }
    }
    cube
}

fn term(atoms: &Atoms, cube: &[(u32, bool)]) -> Term {
    let mut t = Term::default();
    for &(v, b) in cube {
        let Some(a) = atoms.list.get(v as usize) else {
            continue;
        };
        let text = if b { a.text() } else { a.negated_text() };
        match a.apart() {
            Some(Opaque::Row) => t.row.push(text),
            Some(Opaque::Time) => t.time.push(text),
            _ => t.user.push(text),
        }
    }
    t
}
