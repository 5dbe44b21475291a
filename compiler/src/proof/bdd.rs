//! A small reduced ordered binary decision diagram (ROBDD) package: hash-consed nodes in one
//! arena, `ite` with a memo table, satisfying assignments and cube tests. Variables are `u32`,
//! ordered by number (the atom table hands them out in first-mention order).
//!
//! Written here rather than taken from a crate: the procedure needs a few hundred variables at
//! most, `and`/`or`/`not`, one satisfying assignment and an implication test, and the crates on
//! crates.io either pull in a large solver or are unmaintained (docs/ARCHITECTURE.md).

use std::collections::HashMap;

/// A function, as a node of its [`Bdd`] arena. [`Bdd::FALSE`] and [`Bdd::TRUE`] are the constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct F(u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Node {
    var: u32,
    lo: F,
    hi: F,
}

/// The arena of every function built by one analysis.
#[derive(Debug)]
pub struct Bdd {
    nodes: Vec<Node>,
    unique: HashMap<Node, F>,
    ite_memo: HashMap<(F, F, F), F>,
}

/// A variable id of the terminals (above every real variable in the order).
const TERMINAL: u32 = u32::MAX;

impl Default for Bdd {
    fn default() -> Self {
        Bdd::new()
    }
}

impl Bdd {
    /// The constant false.
    pub const FALSE: F = F(0);
    /// The constant true.
    pub const TRUE: F = F(1);

    /// An arena holding only the constants.
    pub fn new() -> Bdd {
        let terminal = |b| Node {
            var: TERMINAL,
            lo: F(b),
            hi: F(b),
        };
        Bdd {
            nodes: vec![terminal(0), terminal(1)],
            unique: HashMap::new(),
            ite_memo: HashMap::new(),
        }
    }

    /// How many nodes the arena holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the arena holds only the constants.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 2
    }

    fn node(&self, f: F) -> Node {
        self.nodes.get(f.0 as usize).copied().unwrap_or(Node {
            var: TERMINAL,
            lo: Bdd::FALSE,
            hi: Bdd::FALSE,
        })
    }

    fn make(&mut self, var: u32, lo: F, hi: F) -> F {
        if lo == hi {
            return lo;
        }
        let n = Node { var, lo, hi };
        if let Some(&f) = self.unique.get(&n) {
            return f;
        }
        let f = F(self.nodes.len() as u32);
        self.nodes.push(n);
        self.unique.insert(n, f);
        f
    }

    /// The function of one variable.
    pub fn var(&mut self, v: u32) -> F {
        self.make(v, Bdd::FALSE, Bdd::TRUE)
    }

    /// A constant.
    pub fn constant(b: bool) -> F {
        if b {
            Bdd::TRUE
        } else {
            Bdd::FALSE
        }
    }

    fn cofactors(&self, f: F, var: u32) -> (F, F) {
        let n = self.node(f);
        if n.var == var {
            (n.lo, n.hi)
        } else {
            (f, f)
        }
    }

    /// If-then-else: `(c ∧ t) ∨ (¬c ∧ e)`.
    pub fn ite(&mut self, c: F, t: F, e: F) -> F {
        if c == Bdd::TRUE {
            return t;
        }
        if c == Bdd::FALSE {
            return e;
        }
        if t == e {
            return t;
        }
        if t == Bdd::TRUE && e == Bdd::FALSE {
            return c;
        }
        if let Some(&r) = self.ite_memo.get(&(c, t, e)) {
            return r;
        }
        let var = self.node(c).var.min(self.node(t).var).min(self.node(e).var);
        let (c0, c1) = self.cofactors(c, var);
        let (t0, t1) = self.cofactors(t, var);
        let (e0, e1) = self.cofactors(e, var);
        let lo = self.ite(c0, t0, e0);
        let hi = self.ite(c1, t1, e1);
        let r = self.make(var, lo, hi);
        self.ite_memo.insert((c, t, e), r);
        r
    }

    /// Negation.
    pub fn not(&mut self, f: F) -> F {
        self.ite(f, Bdd::FALSE, Bdd::TRUE)
    }

    /// Conjunction.
    pub fn and(&mut self, a: F, b: F) -> F {
        self.ite(a, b, Bdd::FALSE)
    }

    /// Disjunction.
    pub fn or(&mut self, a: F, b: F) -> F {
        self.ite(a, Bdd::TRUE, b)
    }

    /// `a ∧ ¬b`.
    pub fn and_not(&mut self, a: F, b: F) -> F {
        let nb = self.not(b);
        self.and(a, nb)
    }

    /// Conjunction of many.
    pub fn all(&mut self, fs: impl IntoIterator<Item = F>) -> F {
        fs.into_iter().fold(Bdd::TRUE, |acc, f| self.and(acc, f))
    }

    /// Disjunction of many.
    pub fn any(&mut self, fs: impl IntoIterator<Item = F>) -> F {
        fs.into_iter().fold(Bdd::FALSE, |acc, f| self.or(acc, f))
    }

    /// The conjunction of literals `(var, value)`.
    pub fn cube(&mut self, lits: &[(u32, bool)]) -> F {
        let mut f = Bdd::TRUE;
        for &(v, b) in lits {
            let x = self.var(v);
            let l = if b { x } else { self.not(x) };
            f = self.and(f, l);
        }
        f
    }

    /// Does `a` imply `b`?
    pub fn implies(&mut self, a: F, b: F) -> bool {
        self.and_not(a, b) == Bdd::FALSE
    }

    /// One satisfying path: the literals on it (variables not on it may take any value).
    pub fn sat_one(&self, f: F) -> Option<Vec<(u32, bool)>> {
        if f == Bdd::FALSE {
            return None;
        }
        let mut out = Vec::new();
        let mut cur = f;
        while cur != Bdd::TRUE {
            let n = self.node(cur);
            if n.lo != Bdd::FALSE {
                out.push((n.var, false));
                cur = n.lo;
            } else {
                out.push((n.var, true));
                cur = n.hi;
            }
        }
        Some(out)
    }

    /// Every path to true, as cubes; stops after `limit` cubes (the rest are dropped and the
    /// second value says so).
    pub fn paths(&self, f: F, limit: usize) -> (Vec<Vec<(u32, bool)>>, bool) {
        let mut out = Vec::new();
        let mut stack: Vec<(F, Vec<(u32, bool)>)> = vec![(f, Vec::new())];
        let mut cut = false;
        while let Some((g, lits)) = stack.pop() {
            if g == Bdd::FALSE {
                continue;
            }
            if g == Bdd::TRUE {
                if out.len() >= limit {
                    cut = true;
                    break;
                }
                out.push(lits);
                continue;
            }
            let n = self.node(g);
            let mut hi = lits.clone();
            hi.push((n.var, true));
            let mut lo = lits;
            lo.push((n.var, false));
            stack.push((n.lo, lo));
            stack.push((n.hi, hi));
        }
        (out, cut)
    }

    /// `f` with the variables `value` knows replaced by constants.
    pub fn restrict(&mut self, f: F, value: &dyn Fn(u32) -> Option<bool>) -> F {
        let mut memo = HashMap::new();
        self.restrict_in(f, value, &mut memo)
    }

    fn restrict_in(
        &mut self,
        f: F,
        value: &dyn Fn(u32) -> Option<bool>,
        memo: &mut HashMap<F, F>,
    ) -> F {
        if f == Bdd::TRUE || f == Bdd::FALSE {
            return f;
        }
        if let Some(&r) = memo.get(&f) {
            return r;
        }
        let n = self.node(f);
        let r = match value(n.var) {
            Some(true) => self.restrict_in(n.hi, value, memo),
            Some(false) => self.restrict_in(n.lo, value, memo),
            None => {
                let lo = self.restrict_in(n.lo, value, memo);
                let hi = self.restrict_in(n.hi, value, memo);
                self.make(n.var, lo, hi)
            }
        };
        memo.insert(f, r);
        r
    }

    /// Evaluates `f` under a full assignment (variables missing from it are false).
    pub fn eval(&self, f: F, value: &dyn Fn(u32) -> bool) -> bool {
        let mut cur = f;
        loop {
            if cur == Bdd::TRUE {
                return true;
            }
            if cur == Bdd::FALSE {
                return false;
            }
            let n = self.node(cur);
            cur = if value(n.var) { n.hi } else { n.lo };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laws_hold_and_nodes_are_shared() {
        let mut b = Bdd::new();
        let x = b.var(0);
        let y = b.var(1);
        let xy = b.and(x, y);
        let yx = b.and(y, x);
        assert_eq!(xy, yx);
        let nx = b.not(x);
        let ny = b.not(y);
        let or = b.or(nx, ny);
        let nxy = b.not(xy);
        assert_eq!(or, nxy);
        let t = b.or(x, nx);
        assert_eq!(t, Bdd::TRUE);
        assert!(b.implies(xy, x));
        assert!(!b.implies(x, xy));
        let path = b.sat_one(xy).unwrap_or_default();
        assert_eq!(path, vec![(0, true), (1, true)]);
        assert!(b.eval(xy, &|_| true));
        assert!(!b.eval(xy, &|v| v == 0));
        let (paths, cut) = b.paths(or, 10);
        assert_eq!(paths.len(), 2);
        assert!(!cut);
    }
}
