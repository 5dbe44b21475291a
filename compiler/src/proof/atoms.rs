//! Atoms: the finitely many facts about a subject (and a row) that the conditions of a policy
//! set can tell apart, each a BDD variable, and the abstraction of a condition into two
//! functions over them — where it is *true* and where it is *false* (neither: *unknown*, §3's
//! three-valued logic).
//!
//! - membership: `user in group "g"`, `user has role "r"`, `user acting under P` (one atom per
//!   constant or purpose mentioned), `user has attribute "A"` and `… = "v"`;
//! - a subject field compared with constants: `user.clearance >= 3`, `user.login == "admin"`,
//!   plus "the field is present" (absent makes the comparison unknown). The constants cut the
//!   field's domain into finitely many regions (equal to one, between two, below, above, other
//!   text, absent); [`Atoms::domain`] allows exactly the combinations some region gives, and
//!   each region has a concrete witness value ([`Atoms::witness`]);
//! - everything else is *opaque*: a condition reading the row (`user.region == row.country`),
//!   the clock (`now()`), or a user expression the procedure does not look into. An opaque
//!   condition is two free atoms (holds, fails; never both) and is reported apart.
//!
//! Atoms are keyed by names (field, group, purpose path), never by model indices, so that one
//! atom table can hold the conditions of two policy sets (`polc diff --prove`).

use std::collections::HashMap;

use pol_grammar::ast::BinOp;

use super::bdd::{Bdd, F};
use crate::model::{Builtin, CExpr, CKind, Const, Model, Ty};
use crate::source_map::{FileId, Loc, SourceMap};

/// A comparison operator of a field with a constant (`!=` is `present and not ==`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn text(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Cmp::Eq => ord == Equal,
            Cmp::Lt => ord == Less,
            Cmp::Le => ord != Greater,
            Cmp::Gt => ord == Greater,
            Cmp::Ge => ord != Less,
        }
    }
}

/// A constant a field is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Num(f64),
    Text(String),
    Bool(bool),
}

impl Scalar {
    fn order(&self, other: &Scalar) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Scalar::Num(a), Scalar::Num(b)) => a.partial_cmp(b),
            (Scalar::Text(a), Scalar::Text(b)) => Some(a.cmp(b)),
            (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// As written in a policy.
    pub fn text(&self) -> String {
        match self {
            Scalar::Num(x) => x.to_string(),
            Scalar::Text(s) => format!("{s:?}"),
            Scalar::Bool(b) => b.to_string(),
        }
    }

    /// As a subject JSON value of a field of this kind.
    pub fn json(&self, int: bool) -> serde_json::Value {
        match self {
            Scalar::Num(x) if int => serde_json::Value::from(*x as i64),
            Scalar::Num(x) => serde_json::Value::from(*x),
            Scalar::Text(s) => serde_json::Value::from(s.clone()),
            Scalar::Bool(b) => serde_json::Value::from(*b),
        }
    }
}

/// The kind of a subject field the procedure compares.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    Int,
    Decimal,
    Text,
    Enum(Vec<String>),
    Bool,
}

/// What an opaque condition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opaque {
    /// It reads the row: stated apart, as a condition on the row.
    Row,
    /// It reads the clock.
    Time,
    /// It reads only the user, in a form the procedure does not decompose.
    User,
}

/// One atom (a BDD variable).
#[derive(Clone, Debug, PartialEq)]
pub enum Atom {
    Group(String),
    Role(String),
    /// Some purpose of the user is this one or below it.
    Purpose(String),
    AttrPresent(String),
    AttrValue(String, String),
    /// The subject field is present (not missing, not null).
    Present(String, FieldKind),
    Compare {
        field: String,
        kind: FieldKind,
        op: Cmp,
        value: Scalar,
    },
    /// An opaque condition holds (`holds`) or fails (`!holds`).
    Opaque {
        text: String,
        kind: Opaque,
        holds: bool,
    },
}

impl Atom {
    /// The atom as a predicate of the policy language.
    pub fn text(&self) -> String {
        match self {
            Atom::Group(g) => format!("user in group {g:?}"),
            Atom::Role(r) => format!("user has role {r:?}"),
            Atom::Purpose(p) => format!("user acting under {p}"),
            Atom::AttrPresent(a) => format!("user has attribute {a:?}"),
            Atom::AttrValue(a, v) => format!("user has attribute {a:?} = {v:?}"),
            Atom::Present(f, _) => format!("has({f})"),
            Atom::Compare {
                field, op, value, ..
            } => format!("{field} {} {}", op.text(), value.text()),
            Atom::Opaque { text, holds, .. } => {
                if *holds {
                    text.clone()
                } else {
                    format!("not ({text})")
                }
            }
        }
    }

    /// The negated atom as a predicate.
    pub fn negated_text(&self) -> String {
        match self {
            Atom::Present(f, _) => format!("not has({f})"),
            // Absent fields make neither hold: "not" says exactly "does not hold".
            Atom::Compare {
                field, op, value, ..
            } => format!("not {field} {} {}", op.text(), value.text()),
            Atom::Opaque { text, holds, .. } => {
                if *holds {
                    format!("({text}) does not hold")
                } else {
                    format!("({text}) is not false")
                }
            }
            other => format!("not {}", other.text()),
        }
    }

    /// Whether the atom is about the row or the clock (stated apart).
    pub fn apart(&self) -> Option<Opaque> {
        match self {
            Atom::Opaque { kind, .. } if *kind != Opaque::User => Some(*kind),
            Atom::Present(f, _) | Atom::Compare { field: f, .. } if f.starts_with("row.") => {
                Some(Opaque::Row)
            }
            _ => None,
        }
    }
}

/// A condition abstracted: where it is true and where it is false.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tri {
    pub t: F,
    pub f: F,
}

impl Tri {
    /// A constant condition.
    pub fn constant(b: bool) -> Tri {
        Tri {
            t: Bdd::constant(b),
            f: Bdd::constant(!b),
        }
    }
}

/// The atom table and the BDD arena of one analysis.
#[derive(Debug, Default)]
pub struct Atoms {
    pub bdd: Bdd,
    pub list: Vec<Atom>,
    index: HashMap<String, u32>,
}

/// The model and files a condition belongs to.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub files: &'a SourceMap,
}

impl Atoms {
    /// The variable of an atom (made on first use).
    pub fn atom(&mut self, atom: Atom) -> u32 {
        let key = format!("{atom:?}");
        if let Some(&v) = self.index.get(&key) {
            return v;
        }
        let v = self.list.len() as u32;
        self.list.push(atom);
        self.index.insert(key, v);
        v
    }

    fn var(&mut self, atom: Atom) -> F {
        let v = self.atom(atom);
        self.bdd.var(v)
    }

    /// A two-valued atom (never unknown).
    fn two(&mut self, atom: Atom) -> Tri {
        let t = self.var(atom);
        let f = self.bdd.not(t);
        Tri { t, f }
    }

    fn opaque(&mut self, cx: Ctx<'_>, e: &CExpr, file: FileId) -> Tri {
        let text = cx.files.snippet(Loc::new(file, e.span)).to_string();
        let text = if text.is_empty() {
            "a condition".to_string()
        } else {
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let kind = if e.reads_row() {
            Opaque::Row
        } else if reads_clock(e) {
            Opaque::Time
        } else {
            Opaque::User
        };
        let t = self.var(Atom::Opaque {
            text: text.clone(),
            kind,
            holds: true,
        });
        let f = self.var(Atom::Opaque {
            text,
            kind,
            holds: false,
        });
        Tri { t, f }
    }

    /// Abstracts a condition written in `file` of `cx`'s policy set.
    pub fn cond(&mut self, cx: Ctx<'_>, e: &CExpr, file: FileId) -> Tri {
        match &e.kind {
            CKind::Const(Const::Bool(b)) => Tri::constant(*b),
            CKind::Not(x) => {
                let x = self.cond(cx, x, file);
                Tri { t: x.f, f: x.t }
            }
            CKind::Binary(BinOp::And, a, b) => {
                let a = self.cond(cx, a, file);
                let b = self.cond(cx, b, file);
                Tri {
                    t: self.bdd.and(a.t, b.t),
                    f: self.bdd.or(a.f, b.f),
                }
            }
            CKind::Binary(BinOp::Or, a, b) => {
                let a = self.cond(cx, a, file);
                let b = self.cond(cx, b, file);
                Tri {
                    t: self.bdd.or(a.t, b.t),
                    f: self.bdd.and(a.f, b.f),
                }
            }
            _ => match self.atomic(cx, e) {
                Some(tri) => tri,
                None => self.opaque(cx, e, file),
            },
        }
    }

    /// A condition that is one atom (or a disjunction of equalities), if it is one.
    fn atomic(&mut self, cx: Ctx<'_>, e: &CExpr) -> Option<Tri> {
        let builtin = |x: &CExpr| match &x.kind {
            CKind::User(i) => cx
                .model
                .subject
                .get(*i)
                .filter(|f| f.loc.is_none())
                .map(|f| f.name.as_str()),
            _ => None,
        };
        let set_atom = |name: &str, item: String| match name {
            "groups" => Some(Atom::Group(item)),
            "roles" => Some(Atom::Role(item)),
            _ => None,
        };
        match &e.kind {
            CKind::InGroup(g) => Some(self.two(Atom::Group(const_text(g)?))),
            CKind::HasRole(r) => Some(self.two(Atom::Role(const_text(r)?))),
            CKind::HasAttribute(n, None) => Some(self.two(Atom::AttrPresent(const_text(n)?))),
            CKind::HasAttribute(n, Some(v)) => {
                let (n, v) = (const_text(n)?, const_text(v)?);
                self.atom(Atom::AttrPresent(n.clone()));
                Some(self.two(Atom::AttrValue(n, v)))
            }
            CKind::ActingUnder(p) => Some(self.two(Atom::Purpose(cx.model.purposes.path(*p)))),
            CKind::Under(x, p) if builtin(x) == Some("purposes") => {
                Some(self.two(Atom::Purpose(cx.model.purposes.path(*p))))
            }
            CKind::Binary(BinOp::In, a, b) => {
                if let (Some(item), Some(set)) = (const_text(a), builtin(b)) {
                    return Some(self.two(set_atom(set, item)?));
                }
                let CKind::List(items) = &b.kind else {
                    return None;
                };
                let mut out = Tri::constant(false);
                for item in items {
                    let eq = self.compare(cx, a, Cmp::Eq, item)?;
                    out = Tri {
                        t: self.bdd.or(out.t, eq.t),
                        f: self.bdd.and(out.f, eq.f),
                    };
                }
                Some(out)
            }
            CKind::Binary(BinOp::Contains, a, b) => {
                let (set, item) = (builtin(a)?, const_text(b)?);
                Some(self.two(set_atom(set, item)?))
            }
            CKind::Binary(op, a, b) => {
                let (cmp, flipped, negate) = match op {
                    BinOp::Eq => (Cmp::Eq, Cmp::Eq, false),
                    BinOp::Ne => (Cmp::Eq, Cmp::Eq, true),
                    BinOp::Lt => (Cmp::Lt, Cmp::Gt, false),
                    BinOp::Le => (Cmp::Le, Cmp::Ge, false),
                    BinOp::Gt => (Cmp::Gt, Cmp::Lt, false),
                    BinOp::Ge => (Cmp::Ge, Cmp::Le, false),
                    _ => return None,
                };
                let tri = self
                    .compare(cx, a, cmp, b)
                    .or_else(|| self.compare(cx, b, flipped, a))?;
                Some(if negate {
                    Tri { t: tri.f, f: tri.t }
                } else {
                    tri
                })
            }
            CKind::User(_) if e.ty == Ty::Bool => {
                let t = CExpr::new(CKind::Const(Const::Bool(true)), Ty::Bool, e.span);
                self.compare(cx, e, Cmp::Eq, &t)
            }
            CKind::Call(Builtin::Has, args) => match args.as_slice() {
                [x] => {
                    let (name, kind) = field_of(cx, x)?;
                    Some(self.two(Atom::Present(name, kind)))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// `field OP constant`, if `field` is a comparable subject field and `constant` a constant.
    fn compare(&mut self, cx: Ctx<'_>, field: &CExpr, op: Cmp, constant: &CExpr) -> Option<Tri> {
        let (name, kind) = field_of(cx, field)?;
        let value = match (&constant.kind, &kind) {
            (CKind::Const(Const::Int(i)), FieldKind::Int | FieldKind::Decimal) => {
                Scalar::Num(*i as f64)
            }
            (CKind::Const(Const::Decimal(x)), FieldKind::Int | FieldKind::Decimal) => {
                Scalar::Num(*x)
            }
            (CKind::Const(Const::Text(s)), FieldKind::Text | FieldKind::Enum(_))
                if op == Cmp::Eq =>
            {
                Scalar::Text(s.clone())
            }
            (CKind::Const(Const::Bool(b)), FieldKind::Bool) if op == Cmp::Eq => Scalar::Bool(*b),
            _ => return None,
        };
        let present = self.var(Atom::Present(name.clone(), kind.clone()));
        let t = self.var(Atom::Compare {
            field: name,
            kind,
            op,
            value,
        });
        let f = self.bdd.and_not(present, t);
        Some(Tri { t, f })
    }

    /// The combinations of atoms some concrete subject gives: every field in one region, an
    /// attribute value only with its attribute, a purpose below P only with P, an opaque
    /// condition never both true and false.
    pub fn domain(&mut self) -> F {
        let mut parts = Vec::new();
        let list = self.list.clone();
        for (v, atom) in list.iter().enumerate() {
            let v = v as u32;
            match atom {
                Atom::AttrValue(a, _) => {
                    let p = self.atom(Atom::AttrPresent(a.clone()));
                    let (x, px) = (self.bdd.var(v), self.bdd.var(p));
                    let nx = self.bdd.not(x);
                    parts.push(self.bdd.or(nx, px));
                }
                Atom::Purpose(p) => {
                    for (w, other) in list.iter().enumerate() {
                        if let Atom::Purpose(q) = other {
                            if q != p && q.starts_with(&format!("{p}.")) {
                                let (x, y) = (self.bdd.var(v), self.bdd.var(w as u32));
                                let ny = self.bdd.not(y);
                                parts.push(self.bdd.or(ny, x));
                            }
                        }
                    }
                }
                Atom::Opaque {
                    text,
                    kind,
                    holds: true,
                } => {
                    let w = self.atom(Atom::Opaque {
                        text: text.clone(),
                        kind: *kind,
                        holds: false,
                    });
                    let both = self.bdd.cube(&[(v, true), (w, true)]);
                    parts.push(self.bdd.not(both));
                }
                Atom::Present(field, kind) => {
                    let regions = self.regions(field, kind);
                    let f = self.bdd.any(regions.into_iter().map(|(_, r)| r));
                    parts.push(f);
                }
                _ => {}
            }
        }
        self.bdd.all(parts)
    }

    /// The comparison atoms of a field.
    fn compares_of(&self, field: &str) -> Vec<(u32, Cmp, Scalar)> {
        self.list
            .iter()
            .enumerate()
            .filter_map(|(v, a)| match a {
                Atom::Compare {
                    field: f,
                    op,
                    value,
                    ..
                } if f == field => Some((v as u32, *op, value.clone())),
                _ => None,
            })
            .collect()
    }

    /// The regions of a field: a witness (`None`: absent) and the cube of atoms it gives.
    fn regions(&mut self, field: &str, kind: &FieldKind) -> Vec<(Option<Scalar>, F)> {
        let present = self.atom(Atom::Present(field.to_string(), kind.clone()));
        let cmps = self.compares_of(field);
        let constants: Vec<Scalar> = cmps.iter().map(|(_, _, c)| c.clone()).collect();
        let mut out = Vec::new();
        let mut absent = vec![(present, false)];
        absent.extend(cmps.iter().map(|(v, _, _)| (*v, false)));
        out.push((None, self.bdd.cube(&absent)));
        for w in witnesses(kind, &constants) {
            let mut lits = vec![(present, true)];
            for (v, op, c) in &cmps {
                let holds = w.order(c).is_some_and(|o| op.holds(o));
                lits.push((*v, holds));
            }
            let cube = self.bdd.cube(&lits);
            out.push((Some(w), cube));
        }
        out
    }

    /// The witness value of `field` under an assignment (`None`: absent).
    pub fn witness(
        &mut self,
        field: &str,
        kind: &FieldKind,
        value: &dyn Fn(u32) -> bool,
    ) -> Option<Scalar> {
        let regions = self.regions(field, kind);
        regions
            .into_iter()
            .find(|(_, cube)| self.bdd.eval(*cube, value))
            .and_then(|(w, _)| w)
    }
}

/// One value in each region the constants cut: each constant, one between each two, one
/// below, one above (text: each constant and one other text; an enum: its whole domain).
fn witnesses(kind: &FieldKind, constants: &[Scalar]) -> Vec<Scalar> {
    match kind {
        FieldKind::Bool => vec![Scalar::Bool(true), Scalar::Bool(false)],
        FieldKind::Enum(domain) => domain.iter().map(|d| Scalar::Text(d.clone())).collect(),
        FieldKind::Text => {
            let mut out: Vec<Scalar> = Vec::new();
            for c in constants {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
            let mut other = "other".to_string();
            while out.contains(&Scalar::Text(other.clone())) {
                other.push('_');
            }
            out.push(Scalar::Text(other));
            out
        }
        FieldKind::Int | FieldKind::Decimal => {
            let int = *kind == FieldKind::Int;
            let mut cs: Vec<f64> = constants
                .iter()
                .filter_map(|c| match c {
                    Scalar::Num(x) if x.is_finite() => Some(*x),
                    _ => None,
                })
                .collect();
            cs.sort_by(|a, b| a.total_cmp(b));
            cs.dedup();
            let mut out = Vec::new();
            let (Some(&lo), Some(&hi)) = (cs.first(), cs.last()) else {
                return vec![Scalar::Num(0.0)];
            };
            out.push(if int { lo.ceil() - 1.0 } else { lo - 1.0 });
            for (i, &c) in cs.iter().enumerate() {
                if !int || c.fract() == 0.0 {
                    out.push(c);
                }
                if let Some(&next) = cs.get(i + 1) {
                    let w = if int {
                        c.floor() + 1.0
                    } else {
                        c + (next - c) / 2.0
                    };
                    if w > c && w < next {
                        out.push(w);
                    }
                }
            }
            out.push(if int { hi.floor() + 1.0 } else { hi + 1.0 });
            out.into_iter().map(Scalar::Num).collect()
        }
    }
}

fn const_text(e: &CExpr) -> Option<String> {
    match &e.kind {
        CKind::Const(Const::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

/// A declared (or the `login`) subject field, or a column of the row, that the procedure
/// compares with constants: its name as written (`user.clearance`, `row.region`) and kind.
fn field_of(cx: Ctx<'_>, e: &CExpr) -> Option<(String, FieldKind)> {
    let (name, ty) = match &e.kind {
        CKind::User(i) => {
            let field = cx.model.subject.get(*i)?;
            if field.loc.is_none() && field.name != "login" {
                return None;
            }
            (format!("user.{}", field.name), &field.ty)
        }
        CKind::Row(c) => (format!("row.{c}"), &e.ty),
        _ => return None,
    };
    let kind = match ty {
        Ty::Int => FieldKind::Int,
        Ty::Decimal => FieldKind::Decimal,
        Ty::Text => FieldKind::Text,
        Ty::Enum(d) => FieldKind::Enum(d.to_vec()),
        Ty::Bool => FieldKind::Bool,
        _ => return None,
    };
    Some((name, kind))
}

fn reads_clock(e: &CExpr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if matches!(x.kind, CKind::Call(Builtin::Now | Builtin::Today, _)) {
            found = true;
        }
    });
    found
}
