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
//! - two terms compared (`user.region == row.country`, `row.placed > now() - 30d`, a row's
//!   event time in `only show rows newer than 30d`) and a term in a file table
//!   (`row.country in table eu`): [`super::terms`] allows exactly the combinations concrete
//!   values give, across every atom about the same terms;
//! - everything else is *opaque*: `matches`, arithmetic, `row[tagged T]`, linked rules,
//!   calendar windows, tables supplied at run time, or a user expression the procedure does
//!   not look into. An opaque condition is two free atoms (holds, fails; never both) and is
//!   reported apart.
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

    /// The operator with its sides swapped (`<` becomes `>`).
    pub fn flipped(self) -> Cmp {
        match self {
            Cmp::Eq => Cmp::Eq,
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
        }
    }

    /// Does the operator hold for this order of its sides?
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
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
    /// As written in a policy, for a term of `kind` (`timestamp("…")`, `date("…")`).
    pub fn text_as(&self, kind: &FieldKind) -> String {
        match (self, kind) {
            (Scalar::Num(x), FieldKind::Time) => format!("timestamp({:?})", timestamp_text(*x)),
            (Scalar::Num(x), FieldKind::Date) => format!("date({:?})", date_text(*x)),
            _ => self.text(),
        }
    }

    /// The order of two values of one kind (`None`: not comparable).
    pub fn order(&self, other: &Scalar) -> Option<std::cmp::Ordering> {
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
    pub fn json(&self, kind: &FieldKind) -> serde_json::Value {
        match self {
            Scalar::Num(x) if *kind == FieldKind::Time => {
                serde_json::Value::from(timestamp_text(*x))
            }
            Scalar::Num(x) if *kind == FieldKind::Date => serde_json::Value::from(date_text(*x)),
            Scalar::Num(x) if *kind == FieldKind::Int => serde_json::Value::from(*x as i64),
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
    /// A timestamp, in seconds since 1970 (UTC).
    Time,
    /// A date, in days since 1970-01-01.
    Date,
}

/// A timestamp in seconds as RFC 3339 (`2026-01-01T00:00:00Z`).
pub fn timestamp_text(secs: f64) -> String {
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round().clamp(0.0, 999_999_999.0) as u32;
    chrono::DateTime::<chrono::Utc>::from_timestamp(whole as i64, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| format!("{secs}s"))
}

/// A date in days as `YYYY-MM-DD`.
pub fn date_text(days: f64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(days as i64 * 86_400, 0)
        .map(|t| t.date_naive().to_string())
        .unwrap_or_else(|| format!("{days}d"))
}

/// A duration in seconds as a policy writes it (`30d`, `90m`, `45s`).
fn duration_text(secs: i64) -> String {
    let a = secs.unsigned_abs();
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if a.is_multiple_of(n) && a >= n {
            return format!("{}{unit}", a / n);
        }
    }
    format!("{a}s")
}

/// A file table's values, for membership.
#[derive(Debug, Default)]
pub struct Table {
    pub name: String,
    pub list: Vec<Scalar>,
    set: std::collections::HashSet<String>,
    /// The address of the model's values it was read from (one model's table is read once).
    origin: usize,
}

impl Table {
    /// A table of these values.
    pub fn new(name: &str, list: Vec<Scalar>, origin: usize) -> Table {
        let set = list.iter().map(Scalar::text).collect();
        Table {
            name: name.to_string(),
            list,
            set,
            origin,
        }
    }

    /// Does it hold `x`?
    pub fn contains(&self, x: &Scalar) -> bool {
        self.set.contains(&x.text())
    }
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

/// A term a condition compares: a subject field, a column of the row, the clock, or today's
/// date. The order is the one of the sides of a [`Atom::Relate`]: the user first, then the
/// clock, then the row, by name within each.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    /// `user.NAME`.
    User(String),
    /// `now()`.
    Now,
    /// `today()`.
    Today,
    /// `row.NAME` (a full dotted column name).
    Row(String),
}

impl Term {
    /// Does it read the row?
    pub fn is_row(&self) -> bool {
        matches!(self, Term::Row(_))
    }

    /// Is it the clock (`now()`)?
    pub fn is_clock(&self) -> bool {
        matches!(self, Term::Now)
    }
}

impl std::fmt::Display for Term {
    /// As written in a policy.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Term::User(n) => write!(f, "user.{n}"),
            Term::Now => f.write_str("now()"),
            Term::Today => f.write_str("today()"),
            Term::Row(c) => write!(f, "row.{c}"),
        }
    }
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
    Present(Term, FieldKind),
    Compare {
        field: Term,
        kind: FieldKind,
        op: Cmp,
        value: Scalar,
    },
    /// `left OP right + offset` (`offset` in seconds, on timestamps; else 0); false when
    /// either side is absent. `left` comes before `right` in [`Term`]'s order.
    Relate {
        left: Term,
        op: Cmp,
        right: Term,
        offset: i64,
        kind: FieldKind,
    },
    /// The term is one of the values of the file table [`Atoms::tables`]`[table]`.
    InTable {
        field: Term,
        table: usize,
        name: String,
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
                field,
                op,
                value,
                kind,
            } => format!("{field} {} {}", op.text(), value.text_as(kind)),
            Atom::Relate {
                left,
                op,
                right,
                offset,
                ..
            } => {
                // The row's time first: `row.at > now() - 7d` rather than `now() < row.at + 7d`.
                let (l, op, r, k) = if left.is_clock() && right.is_row() {
                    (right, op.flipped(), left, offset.saturating_neg())
                } else {
                    (left, *op, right, *offset)
                };
                match k {
                    0 => format!("{l} {} {r}", op.text()),
                    k if k > 0 => format!("{l} {} {r} + {}", op.text(), duration_text(k)),
                    k => format!("{l} {} {r} - {}", op.text(), duration_text(k)),
                }
            }
            Atom::InTable { field, name, .. } => format!("{field} in table {name}"),
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
            Atom::Compare { .. } | Atom::Relate { .. } | Atom::InTable { .. } => {
                format!("not {}", self.text())
            }
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
            Atom::Present(f, _)
            | Atom::Compare { field: f, .. }
            | Atom::InTable { field: f, .. }
                if f.is_row() =>
            {
                Some(Opaque::Row)
            }
            Atom::Relate { left, right, .. } if left.is_row() || right.is_row() => {
                Some(Opaque::Row)
            }
            Atom::Present(f, _) | Atom::Compare { field: f, .. } if f.is_clock() => {
                Some(Opaque::Time)
            }
            Atom::Relate { left, right, .. } if left.is_clock() || right.is_clock() => {
                Some(Opaque::Time)
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
    /// The file tables membership atoms read (by name and content: two policy sets may
    /// declare one name with other values).
    pub tables: Vec<std::sync::Arc<Table>>,
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
            CKind::InTable(x, t) => self.in_table(cx, x, *t),
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
                    let t = term_of(cx, x)?;
                    Some(self.two(Atom::Present(t.name, t.kind)))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// `a OP b` where `a` is a term and `b` a constant or another term (`None`: neither).
    fn compare(&mut self, cx: Ctx<'_>, a: &CExpr, op: Cmp, b: &CExpr) -> Option<Tri> {
        let ta = term_of(cx, a)?;
        if ta.name == Term::Today {
            return self.today(op, b);
        }
        if let Some(value) = constant_as(b, &ta.kind, op) {
            // a + k OP c  ⇔  a OP c - k
            let value = match value {
                Scalar::Num(c) => Scalar::Num(c - ta.offset as f64),
                other => other,
            };
            let present = self.var(Atom::Present(ta.name.clone(), ta.kind.clone()));
            let t = self.var(Atom::Compare {
                field: ta.name,
                kind: ta.kind,
                op,
                value,
            });
            let f = self.bdd.and_not(present, t);
            return Some(Tri { t, f });
        }
        let tb = term_of(cx, b)?;
        if tb.name == Term::Today || !comparable(&ta.kind, &tb.kind, op) {
            return None;
        }
        let pa = self.var(Atom::Present(ta.name.clone(), ta.kind.clone()));
        let pb = self.var(Atom::Present(tb.name.clone(), tb.kind.clone()));
        let both = self.bdd.and(pa, pb);
        // a + ka OP b + kb  ⇔  a OP b + (kb - ka)
        let k = tb.offset.checked_sub(ta.offset)?;
        let t = match ta.name.cmp(&tb.name) {
            std::cmp::Ordering::Equal => Bdd::constant(op.holds(0.cmp(&k))),
            std::cmp::Ordering::Less => self.var(Atom::Relate {
                left: ta.name,
                op,
                right: tb.name,
                offset: k,
                kind: ta.kind,
            }),
            std::cmp::Ordering::Greater => self.var(Atom::Relate {
                left: tb.name,
                op: op.flipped(),
                right: ta.name,
                offset: k.checked_neg()?,
                kind: tb.kind,
            }),
        };
        let t = self.bdd.and(both, t);
        let f = self.bdd.and_not(both, t);
        Some(Tri { t, f })
    }

    /// `only show rows newer (older) than D` with a fixed D on a timestamp event column:
    /// `row.E > now() - D` (`<`), i.e. `now() < row.E + D` (`>`); false where E is null.
    pub fn window(&mut self, column: &str, newer: bool, secs: i64) -> F {
        let row = Term::Row(column.to_string());
        let pr = self.var(Atom::Present(row.clone(), FieldKind::Time));
        self.atom(Atom::Present(Term::Now, FieldKind::Time));
        let t = self.var(Atom::Relate {
            left: Term::Now,
            op: if newer { Cmp::Lt } else { Cmp::Gt },
            right: row,
            offset: secs,
            kind: FieldKind::Time,
        });
        self.bdd.and(pr, t)
    }

    /// `today() OP date` as conditions on `now()` (exact: today is now's UTC date).
    fn today(&mut self, op: Cmp, b: &CExpr) -> Option<Tri> {
        let Some(Scalar::Num(d)) = constant_as(b, &FieldKind::Date, op) else {
            return None;
        };
        let (start, end) = (d * 86_400.0, (d + 1.0) * 86_400.0);
        let mut at = |op: Cmp, secs: f64| {
            self.var(Atom::Compare {
                field: Term::Now,
                kind: FieldKind::Time,
                op,
                value: Scalar::Num(secs),
            })
        };
        let t = match op {
            Cmp::Eq => {
                let a = at(Cmp::Ge, start);
                let b = at(Cmp::Lt, end);
                self.bdd.and(a, b)
            }
            Cmp::Lt => at(Cmp::Lt, start),
            Cmp::Le => at(Cmp::Lt, end),
            Cmp::Gt => at(Cmp::Ge, end),
            Cmp::Ge => at(Cmp::Ge, start),
        };
        self.atom(Atom::Present(Term::Now, FieldKind::Time));
        let f = self.bdd.not(t);
        Some(Tri { t, f })
    }

    /// `x in table T` with T read from a file and x a term: exact membership.
    fn in_table(&mut self, cx: Ctx<'_>, x: &CExpr, table: usize) -> Option<Tri> {
        let t = cx.model.tables.get(table)?;
        let crate::model::TableOrigin::File { values, .. } = &t.origin else {
            return None;
        };
        let term = term_of(cx, x)?;
        if term.offset != 0 {
            return None;
        }
        // The same model's table is read once (conditions repeat it); another model's table of
        // the same name is another table, even with the same values (sound and still exact).
        let origin = std::ptr::from_ref(values) as usize;
        if let Some(index) = self
            .tables
            .iter()
            .position(|x| x.name == t.name && x.origin == origin)
        {
            return Some(self.membership(term, index, &t.name));
        }
        let list: Vec<Scalar> = match (values, &term.kind) {
            (pol_runtime::LookupValues::Text(v), FieldKind::Text | FieldKind::Enum(_)) => {
                v.iter().map(|x| Scalar::Text(x.clone())).collect()
            }
            // Int tables become points of the order (terms::candidates): kept small.
            (pol_runtime::LookupValues::Int(v), FieldKind::Int) if v.len() <= MAX_INT_TABLE => {
                v.iter().map(|x| Scalar::Num(*x as f64)).collect()
            }
            _ => return None,
        };
        self.tables
            .push(std::sync::Arc::new(Table::new(&t.name, list, origin)));
        let index = self.tables.len() - 1;
        Some(self.membership(term, index, &t.name))
    }

    fn membership(&mut self, term: TermRef, index: usize, name: &str) -> Tri {
        let present = self.var(Atom::Present(term.name.clone(), term.kind.clone()));
        let tv = self.var(Atom::InTable {
            field: term.name,
            table: index,
            name: name.to_string(),
        });
        let f = self.bdd.and_not(present, tv);
        Tri { t: tv, f }
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
                            if purpose_below(q, p) {
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
                _ => {}
            }
        }
        for c in super::terms::components(self) {
            parts.push(c.domain(self));
        }
        self.bdd.all(parts)
    }
}

fn const_text(e: &CExpr) -> Option<String> {
    match &e.kind {
        CKind::Const(Const::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The most values of an int file table read exactly (each is a point of the order).
pub const MAX_INT_TABLE: usize = 256;

/// A term (`user.clearance`, `row.region`, `now()`), its kind and offset (`now() - 30d`:
/// -2592000).
struct TermRef {
    name: Term,
    kind: FieldKind,
    offset: i64,
}

/// A declared (or the `login`) subject field, a column of the row, the clock, or a timestamp
/// term plus or minus a fixed duration.
fn term_of(cx: Ctx<'_>, e: &CExpr) -> Option<TermRef> {
    let (name, ty) = match &e.kind {
        CKind::User(i) => {
            let field = cx.model.subject.get(*i)?;
            if field.loc.is_none() && field.name != "login" {
                return None;
            }
            (Term::User(field.name.clone()), &field.ty)
        }
        CKind::Row(c) => (Term::Row(c.clone()), &e.ty),
        CKind::Call(Builtin::Now, args) if args.is_empty() => (Term::Now, &Ty::Timestamp),
        CKind::Call(Builtin::Today, args) if args.is_empty() => (Term::Today, &Ty::Date),
        CKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
            let (t, d) = match (&a.kind, &b.kind) {
                (_, CKind::Const(Const::Duration(d))) => (a, *d),
                (CKind::Const(Const::Duration(d)), _) if *op == BinOp::Add => (b, *d),
                _ => return None,
            };
            let inner = term_of(cx, t)?;
            if inner.kind != FieldKind::Time {
                return None;
            }
            let d = if *op == BinOp::Sub {
                d.checked_neg()?
            } else {
                d
            };
            return Some(TermRef {
                offset: inner.offset.checked_add(d)?,
                ..inner
            });
        }
        _ => return None,
    };
    let kind = match ty {
        Ty::Int => FieldKind::Int,
        Ty::Decimal => FieldKind::Decimal,
        Ty::Text => FieldKind::Text,
        Ty::Enum(d) => FieldKind::Enum(d.to_vec()),
        Ty::Bool => FieldKind::Bool,
        Ty::Timestamp => FieldKind::Time,
        Ty::Date => FieldKind::Date,
        _ => return None,
    };
    Some(TermRef {
        name,
        kind,
        offset: 0,
    })
}

/// A constant as a value a term of `kind` is compared with by `op` (text, enum and bool:
/// `==` only).
fn constant_as(e: &CExpr, kind: &FieldKind, op: Cmp) -> Option<Scalar> {
    let CKind::Const(c) = &e.kind else {
        return None;
    };
    Some(match (c, kind) {
        (Const::Int(i), FieldKind::Int | FieldKind::Decimal) => Scalar::Num(*i as f64),
        (Const::Decimal(x), FieldKind::Int | FieldKind::Decimal) => Scalar::Num(*x),
        (Const::Text(s), FieldKind::Text | FieldKind::Enum(_)) if op == Cmp::Eq => {
            Scalar::Text(s.clone())
        }
        (Const::Bool(b), FieldKind::Bool) if op == Cmp::Eq => Scalar::Bool(*b),
        (Const::Timestamp(t), FieldKind::Time) => Scalar::Num(t.timestamp() as f64),
        (Const::Date(d), FieldKind::Date) => {
            Scalar::Num((*d - chrono::NaiveDate::default()).num_days() as f64)
        }
        _ => return None,
    })
}

/// Is purpose `q` strictly below purpose `p` (`Research.Marketing` below `Research`)? Purposes
/// are atoms by their declared dotted path: a path's segments, compared one by one.
pub fn purpose_below(q: &str, p: &str) -> bool {
    let (mut q, mut p) = (q.split('.'), p.split('.'));
    loop {
        match (q.next(), p.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), None) => return true,
            _ => return false,
        }
    }
}

/// Can terms of these kinds be compared by `op` in the theory? (Numbers with numbers,
/// timestamps with timestamps, dates with dates in any order; texts, enums and bools by `==`.)
fn comparable(a: &FieldKind, b: &FieldKind, op: Cmp) -> bool {
    use FieldKind::*;
    match (a, b) {
        (Int | Decimal, Int | Decimal) | (Time, Time) | (Date, Date) => true,
        (Text | Enum(_), Text | Enum(_)) | (Bool, Bool) => op == Cmp::Eq,
        _ => false,
    }
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
