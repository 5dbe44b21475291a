//! Terms and their joint values: the exact theory of comparisons (docs/ARCHITECTURE.md,
//! "Access review by proof").
//!
//! A *term* is something a condition compares: a subject field (`user.clearance`), a column of
//! the row (`row.country`) or the clock (`now()`). The atoms about terms are `has(t)`,
//! `t OP constant`, `t OP u + k` (two terms, `k` a fixed duration on timestamps, else 0) and
//! `t in table T` (a file table). Terms linked by a `t OP u` atom form a *component*; each
//! component's atoms can only take the combinations some concrete values give. Those are found
//! eagerly, by enumerating values: each term in turn takes a value from a finite candidate set —
//! every constant of the component (projected through the offsets), every value given to an
//! earlier term, and enough values in each gap between them (and below, above, absent) that any
//! order of the remaining terms fits. The combinations found are exactly the realisable ones
//! when every offset is 0, or the component has at most two terms; a component outside that, or
//! whose enumeration would pass [`MAX_TUPLES`], falls back to a sound over-approximation: each
//! term on its own, a two-term atom free apart from needing both terms present.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::atoms::{Atom, Atoms, Cmp, FieldKind, Scalar, Table, Term};
use super::bdd::F;

/// The most value tuples enumerated for one component before falling back.
pub const MAX_TUPLES: usize = 50_000;

/// The clock's value when nothing constrains it: 2026-01-01T00:00:00Z.
const EPOCH_2026: f64 = 1_767_225_600.0;

/// A term of a component.
#[derive(Clone, Debug)]
struct Slot {
    name: Term,
    kind: FieldKind,
    present: u32,
    /// Constants it is compared with (as the term's own value).
    constants: Vec<Scalar>,
    /// File tables it is tested against: (atom, values).
    tables: Vec<(u32, std::sync::Arc<Table>)>,
}

/// A two-term atom: `terms[l] OP terms[r] + k`.
#[derive(Clone, Debug)]
struct Edge {
    var: u32,
    l: usize,
    r: usize,
    op: Cmp,
    k: f64,
}

/// One value per term (`None`: absent), and the literals of the component's atoms it gives.
pub type Row = (Vec<Option<Scalar>>, Vec<(u32, bool)>);

/// A component: its terms, its edges, every atom about them, and the combinations found.
#[derive(Clone, Debug)]
pub struct Component {
    terms: Vec<Slot>,
    edges: Vec<Edge>,
    /// Comparison atoms: (var, term, op, constant).
    compares: Vec<(u32, usize, Cmp, Scalar)>,
    /// One value per term (`None`: absent) and the literals it gives, per combination.
    pub rows: Vec<Row>,
    /// Whether `rows` are exactly the realisable combinations (else: a fallback, whose row
    /// `n` is about term `owner[n]` alone).
    pub exact: bool,
    owner: Vec<usize>,
}

impl Component {
    /// The term names, in the order of each row's values.
    pub fn names(&self) -> impl Iterator<Item = (&Term, &FieldKind)> {
        self.terms.iter().map(|t| (&t.name, &t.kind))
    }
}

/// The components of every term of the atom table.
pub fn components(atoms: &Atoms) -> Vec<Component> {
    let mut index: BTreeMap<Term, usize> = BTreeMap::new();
    let mut terms: Vec<Slot> = Vec::new();
    for (v, a) in atoms.list.iter().enumerate() {
        if let Atom::Present(name, kind) = a {
            index.insert(name.clone(), terms.len());
            terms.push(Slot {
                name: name.clone(),
                kind: kind.clone(),
                present: v as u32,
                constants: match kind {
                    FieldKind::Enum(d) => d.iter().map(|x| Scalar::Text(x.clone())).collect(),
                    _ => Vec::new(),
                },
                tables: Vec::new(),
            });
        }
    }
    let mut edges = Vec::new();
    let mut compares = Vec::new();
    for (v, a) in atoms.list.iter().enumerate() {
        let v = v as u32;
        match a {
            Atom::Compare {
                field, op, value, ..
            } => {
                if let Some(t) = index
                    .get(field)
                    .and_then(|&i| terms.get_mut(i).map(|t| (i, t)))
                {
                    t.1.constants.push(value.clone());
                    compares.push((v, t.0, *op, value.clone()));
                }
            }
            Atom::Relate {
                left,
                op,
                right,
                offset,
                ..
            } => {
                if let (Some(&l), Some(&r)) = (index.get(left), index.get(right)) {
                    edges.push(Edge {
                        var: v,
                        l,
                        r,
                        op: *op,
                        k: *offset as f64,
                    });
                }
            }
            Atom::InTable { field, table, .. } => {
                if let (Some(t), Some(values)) = (
                    index.get(field).and_then(|&i| terms.get_mut(i)),
                    atoms.tables.get(*table),
                ) {
                    t.tables.push((v, values.clone()));
                }
            }
            _ => {}
        }
    }
    // Union-find over the edges.
    let mut parent: Vec<usize> = (0..terms.len()).collect();
    fn find(parent: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while let Some(&p) = parent.get(r) {
            if p == r {
                break;
            }
            r = p;
        }
        if let Some(p) = parent.get_mut(x) {
            *p = r;
        }
        r
    }
    for e in &edges {
        let (a, b) = (find(&mut parent, e.l), find(&mut parent, e.r));
        if let Some(p) = parent.get_mut(a) {
            *p = b;
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for t in 0..terms.len() {
        let root = find(&mut parent, t);
        groups.entry(root).or_default().push(t);
    }
    groups
        .into_values()
        .map(|members| component(&terms, &edges, &compares, &members))
        .collect()
}

fn component(
    all: &[Slot],
    edges: &[Edge],
    compares: &[(u32, usize, Cmp, Scalar)],
    members: &[usize],
) -> Component {
    let local: HashMap<usize, usize> = members.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    let terms: Vec<Slot> = members
        .iter()
        .filter_map(|&t| all.get(t).cloned())
        .collect();
    let edges: Vec<Edge> = edges
        .iter()
        .filter_map(|e| {
            Some(Edge {
                l: *local.get(&e.l)?,
                r: *local.get(&e.r)?,
                ..e.clone()
            })
        })
        .collect();
    let compares: Vec<(u32, usize, Cmp, Scalar)> = compares
        .iter()
        .filter_map(|(v, t, op, c)| Some((*v, *local.get(t)?, *op, c.clone())))
        .collect();
    let mut c = Component {
        terms,
        edges,
        compares,
        rows: Vec::new(),
        exact: true,
        owner: Vec::new(),
    };
    let offsets = c.edges.iter().any(|e| e.k != 0.0);
    if c.terms.len() > 2 && offsets || !c.enumerate() {
        c.exact = false;
        c.rows.clear();
        c.fallback();
    }
    c
}

impl Component {
    /// Where a constant of term `j` lies in term `i`'s frame, through each direct edge (the
    /// constant itself when the component has no offsets).
    fn projected(&self, i: usize, j: usize, c: f64) -> Vec<f64> {
        if i == j {
            return vec![c];
        }
        let mut out: Vec<f64> = self
            .edges
            .iter()
            .filter_map(|e| {
                if e.l == i && e.r == j {
                    Some(c + e.k)
                } else if e.l == j && e.r == i {
                    Some(c - e.k)
                } else {
                    None
                }
            })
            .collect();
        if out.is_empty() {
            out.push(c);
        }
        out
    }

    /// The points term `i` is placed against: every constant of the component and every value
    /// already given, in its frame.
    fn points(&self, i: usize, given: &[Option<Scalar>]) -> Vec<Scalar> {
        let mut out = Vec::new();
        for (j, t) in self.terms.iter().enumerate() {
            let mut push = |s: &Scalar| match s {
                Scalar::Num(x) => out.extend(self.projected(i, j, *x).into_iter().map(Scalar::Num)),
                other => out.push(other.clone()),
            };
            t.constants.iter().for_each(&mut push);
            for (_, table) in &t.tables {
                if matches!(t.kind, FieldKind::Int) {
                    table.list.iter().for_each(&mut push);
                }
            }
            if let Some(Some(v)) = given.get(j) {
                push(v);
            }
        }
        out
    }

    /// Enumerates every tuple; false when there are more than [`MAX_TUPLES`].
    fn enumerate(&mut self) -> bool {
        let mut seen: HashSet<Vec<(u32, bool)>> = HashSet::new();
        let mut rows = Vec::new();
        let mut budget = MAX_TUPLES;
        let mut given = vec![None; self.terms.len()];
        let ok = self.place(0, &mut given, &mut budget, &mut seen, &mut rows);
        self.rows = rows;
        ok
    }

    fn place(
        &self,
        i: usize,
        given: &mut Vec<Option<Scalar>>,
        budget: &mut usize,
        seen: &mut HashSet<Vec<(u32, bool)>>,
        rows: &mut Vec<Row>,
    ) -> bool {
        let Some(term) = self.terms.get(i) else {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            let lits = self.literals(given);
            if seen.insert(lits.clone()) {
                rows.push((given.clone(), lits));
            }
            return true;
        };
        let remaining = self.terms.len() - i;
        let points = self.points(i, given);
        let mut cands: Vec<Option<Scalar>> = candidates(&term.kind, &points, remaining, term)
            .into_iter()
            .map(Some)
            .collect();
        if !term.name.is_clock() {
            cands.push(None);
        }
        for c in cands {
            if let Some(slot) = given.get_mut(i) {
                *slot = c;
            }
            if !self.place(i + 1, given, budget, seen, rows) {
                return false;
            }
        }
        if let Some(slot) = given.get_mut(i) {
            *slot = None;
        }
        true
    }

    /// The literals of every atom of the component under one tuple.
    fn literals(&self, values: &[Option<Scalar>]) -> Vec<(u32, bool)> {
        let mut out = Vec::new();
        let value = |t: usize| values.get(t).and_then(|v| v.as_ref());
        for (t, term) in self.terms.iter().enumerate() {
            out.push((term.present, value(t).is_some()));
            for (v, table) in &term.tables {
                out.push((*v, value(t).is_some_and(|x| table.contains(x))));
            }
        }
        for (v, t, op, c) in &self.compares {
            let holds = value(*t)
                .and_then(|x| x.order(c))
                .is_some_and(|o| op.holds(o));
            out.push((*v, holds));
        }
        for e in &self.edges {
            let holds = match (value(e.l), value(e.r)) {
                (Some(a), Some(b)) => shifted(b, e.k)
                    .and_then(|b| a.order(&b))
                    .is_some_and(|o| e.op.holds(o)),
                _ => false,
            };
            out.push((e.var, holds));
        }
        out
    }

    /// Each term on its own (its own constants), every two-term atom free.
    fn fallback(&mut self) {
        // Encoded as rows of one term each; [`domain`] ANDs them and adds the edge clauses.
        for (i, term) in self.terms.iter().enumerate() {
            let points = self.points(i, &vec![None; self.terms.len()]);
            let mut cands: Vec<Option<Scalar>> = candidates(&term.kind, &points, 1, term)
                .into_iter()
                .map(Some)
                .collect();
            if !term.name.is_clock() {
                cands.push(None);
            }
            let mut seen = HashSet::new();
            for c in cands {
                let mut values = vec![None; self.terms.len()];
                if let Some(slot) = values.get_mut(i) {
                    *slot = c;
                }
                let own: Vec<(u32, bool)> = self
                    .literals(&values)
                    .into_iter()
                    .filter(|(v, _)| self.owned_by(*v) == Some(i))
                    .collect();
                if seen.insert(own.clone()) {
                    self.rows.push((values, own));
                    self.owner.push(i);
                }
            }
        }
    }

    /// The term an atom of one term belongs to.
    fn owned_by(&self, v: u32) -> Option<usize> {
        self.terms
            .iter()
            .position(|t| t.present == v || t.tables.iter().any(|(x, _)| *x == v))
            .or_else(|| {
                self.compares
                    .iter()
                    .find(|(x, ..)| *x == v)
                    .map(|(_, t, ..)| *t)
            })
    }

    /// The component's constraint.
    pub fn domain(&self, atoms: &mut Atoms) -> F {
        if self.exact {
            let cubes: Vec<F> = self.rows.iter().map(|(_, l)| atoms.bdd.cube(l)).collect();
            return atoms.bdd.any(cubes);
        }
        let mut parts = Vec::new();
        for i in 0..self.terms.len() {
            let cubes: Vec<F> = self
                .rows
                .iter()
                .zip(&self.owner)
                .filter(|(_, &o)| o == i)
                .map(|((_, l), _)| atoms.bdd.cube(l))
                .collect();
            parts.push(atoms.bdd.any(cubes));
        }
        for e in &self.edges {
            let (Some(l), Some(r)) = (self.terms.get(e.l), self.terms.get(e.r)) else {
                continue;
            };
            let x = atoms.bdd.var(e.var);
            let both = atoms.bdd.cube(&[(l.present, true), (r.present, true)]);
            let nx = atoms.bdd.not(x);
            parts.push(atoms.bdd.or(nx, both));
        }
        atoms.bdd.all(parts)
    }

    /// The values of the terms under an assignment within the domain.
    pub fn values(&self, value: &dyn Fn(u32) -> bool) -> Vec<Option<Scalar>> {
        if self.exact {
            return self
                .rows
                .iter()
                .find(|(_, l)| l.iter().all(|(v, b)| value(*v) == *b))
                .map(|(vals, _)| vals.clone())
                .unwrap_or_else(|| vec![None; self.terms.len()]);
        }
        let mut out = vec![None; self.terms.len()];
        for ((vals, lits), &i) in self.rows.iter().zip(&self.owner) {
            if lits.iter().all(|(v, b)| value(*v) == *b) {
                if let (Some(x), Some(slot)) = (vals.get(i), out.get_mut(i)) {
                    *slot = x.clone();
                }
            }
        }
        out
    }
}

fn shifted(s: &Scalar, k: f64) -> Option<Scalar> {
    match s {
        Scalar::Num(x) => Some(Scalar::Num(x + k)),
        other if k == 0.0 => Some(other.clone()),
        _ => None,
    }
}

/// The candidate values of a term placed against `points` with `remaining` terms (itself
/// included) still to place: the points, and in each gap between two (and below the first,
/// above the last) enough values for any order of the remaining terms.
fn candidates(kind: &FieldKind, points: &[Scalar], remaining: usize, term: &Slot) -> Vec<Scalar> {
    let r = remaining.max(1);
    match kind {
        FieldKind::Bool => vec![Scalar::Bool(true), Scalar::Bool(false)],
        FieldKind::Enum(domain) => domain.iter().map(|d| Scalar::Text(d.clone())).collect(),
        FieldKind::Text => {
            let mut out: Vec<Scalar> = Vec::new();
            for p in points {
                if matches!(p, Scalar::Text(_)) && !out.contains(p) {
                    out.push(p.clone());
                }
            }
            // Per table-membership signature, up to `r` values of the tables not yet listed.
            let mut by_sig: BTreeMap<Vec<bool>, usize> = BTreeMap::new();
            for (_, table) in &term.tables {
                for x in &table.list {
                    if out.contains(x) {
                        continue;
                    }
                    let sig: Vec<bool> = term.tables.iter().map(|(_, t)| t.contains(x)).collect();
                    let n = by_sig.entry(sig).or_default();
                    if *n < r {
                        *n += 1;
                        out.push(x.clone());
                    }
                }
            }
            let mut other = "other".to_string();
            for _ in 0..r {
                while out.contains(&Scalar::Text(other.clone()))
                    || term
                        .tables
                        .iter()
                        .any(|(_, t)| t.contains(&Scalar::Text(other.clone())))
                {
                    other.push('_');
                }
                out.push(Scalar::Text(other.clone()));
                other.push('_');
            }
            out
        }
        FieldKind::Int | FieldKind::Decimal | FieldKind::Time | FieldKind::Date => {
            // Timestamps are dense (nanoseconds): whole seconds where a gap allows, and evenly
            // spaced values too, for gaps a few seconds wide.
            let int = matches!(kind, FieldKind::Int | FieldKind::Date);
            let mut cs: Vec<f64> = points
                .iter()
                .filter_map(|c| match c {
                    Scalar::Num(x) if x.is_finite() => Some(*x),
                    _ => None,
                })
                .collect();
            cs.sort_by(|a, b| a.total_cmp(b));
            cs.dedup();
            let clock = *kind == FieldKind::Time;
            let mut out = numbers(&cs, r, int || clock, clock);
            if clock {
                out.extend(numbers(&cs, r, false, clock));
                out.sort_by(|a, b| a.total_cmp(b));
                out.dedup();
            }
            out.into_iter().map(Scalar::Num).collect()
        }
    }
}

/// Numbers around sorted points: each point (if it fits), `r` values at each end of each gap
/// (ints: the first and last `r` integers after and before; decimals: `r` evenly spaced), `r`
/// below and above. Every candidate is a concrete value, so a candidate that falls outside
/// its gap (a narrow one) is still a realisable value: only missing ones would be unsound.
fn numbers(cs: &[f64], r: usize, int: bool, clock: bool) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    let (Some(&lo), Some(&hi)) = (cs.first(), cs.last()) else {
        let base = if clock { EPOCH_2026 } else { 0.0 };
        return (0..r).map(|k| base + k as f64).collect();
    };
    let rf = r as f64;
    for k in 1..=r {
        let kf = k as f64;
        out.push(if int { lo.ceil() - kf } else { lo - kf });
        out.push(if int { hi.floor() + kf } else { hi + kf });
    }
    for (i, &c) in cs.iter().enumerate() {
        out.push(c);
        let Some(&next) = cs.get(i + 1) else {
            continue;
        };
        for k in 1..=r {
            let kf = k as f64;
            if int {
                out.push(c.floor() + kf);
                out.push(next.ceil() - kf);
            } else {
                out.push(c + (next - c) * kf / (rf + 1.0));
            }
        }
    }
    out.retain(|&w| w.is_finite() && (!int || w.fract() == 0.0));
    out.sort_by(|a, b| a.total_cmp(b));
    out.dedup();
    out
}
