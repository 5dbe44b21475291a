//! Expressions and conditions (docs/language.md §3), evaluated by walking the typed tree.
//!
//! Three-valued: besides values, an expression can be *unknown* — a null operand, a missing
//! subject field, a column the source does not have, values of different types, an overflow.
//! Unknown propagates; `and`, `or`, `not` follow Kleene's logic; a condition holds only when it
//! is the boolean `true`. Each decision point (in [`super`]) says which side unknown falls to.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;

use super::Subject;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use pol_grammar::ast::BinOp;
use pol_runtime::value::Value;

use super::strings;
use crate::model::{Builtin, CExpr, CKind, Const, Model, NodeId};

/// The result of evaluating an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Ev {
    /// Cannot be evaluated.
    Unknown,
    /// A value (possibly null).
    Val(Value),
    /// A duration in seconds (`90d`, `timestamp - timestamp`); never a cell value.
    Dur(i64),
    /// A calendar duration, in months.
    Months(i64),
}

/// A three-valued truth value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    pub fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    /// Kleene conjunction: false wins, then unknown.
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    /// Kleene disjunction: true wins, then unknown.
    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }
}

impl std::ops::Not for Truth {
    type Output = Truth;

    /// Kleene negation.
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl Ev {
    /// As a condition: only the boolean `true` holds, only `false` fails.
    pub fn truth(&self) -> Truth {
        match self {
            Ev::Val(Value::Bool(b)) => Truth::from_bool(*b),
            _ => Truth::Unknown,
        }
    }

    fn from_truth(t: Truth) -> Ev {
        match t {
            Truth::True => Ev::Val(Value::Bool(true)),
            Truth::False => Ev::Val(Value::Bool(false)),
            Truth::Unknown => Ev::Unknown,
        }
    }

    /// A non-null value.
    fn present(&self) -> Option<&Value> {
        match self {
            Ev::Val(v) if !v.is_null() => Some(v),
            _ => None,
        }
    }

    /// As a cell value: unknown (and a duration) is null.
    pub fn into_value(self) -> Value {
        match self {
            Ev::Val(v) => v,
            _ => Value::Null,
        }
    }
}

/// What `row` is while evaluating: the raw values of the current source's columns.
pub trait RowView {
    /// The raw value of the column with this full dotted name; `None` if the source has no
    /// such column.
    fn column(&self, name: &str) -> Option<Value>;
    /// The raw value of the column tagged `tag` (or below it); `None` if there is none.
    fn tagged(&self, tag: NodeId) -> Option<Value>;
}

/// Everything an expression can read.
pub struct Env<'a> {
    pub model: &'a Model,
    pub subject: &'a Subject,
    pub now: DateTime<Utc>,
    /// `None` where the row cannot be read (user-only conditions).
    pub row: Option<&'a dyn RowView>,
    /// The cell an `expr(…)` technique masks (`value`); `None` elsewhere.
    pub value: Option<&'a Value>,
    /// Compiled `matches` patterns, by pattern text.
    pub regexes: &'a RefCell<HashMap<String, Option<regex::Regex>>>,
    /// The values of the tables supplied at run time (file tables' values are in the model).
    pub supplied: &'a Supplied,
}

/// The values of the lookup tables supplied at run time, by table id; a table absent here is
/// not supplied yet.
pub type Supplied = HashMap<crate::model::TableId, pol_runtime::LookupValues>;

/// `x in table`: unknown for null and for a value of another type than the table's.
fn table_holds(values: &pol_runtime::LookupValues, x: &Value) -> Truth {
    match (values, x) {
        (pol_runtime::LookupValues::Text(vs), Value::Text(t)) => {
            Truth::from_bool(vs.iter().any(|v| v == t))
        }
        (pol_runtime::LookupValues::Int(vs), Value::Int(i)) => {
            Truth::from_bool(vs.iter().any(|v| v == i))
        }
        _ => Truth::Unknown,
    }
}

impl Env<'_> {
    /// Evaluates a condition.
    pub fn truth(&self, e: &CExpr) -> Truth {
        self.eval(e).truth()
    }

    /// Evaluates an expression.
    pub fn eval(&self, e: &CExpr) -> Ev {
        match &e.kind {
            CKind::Const(c) => constant(c),
            CKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.eval(item) {
                        Ev::Val(v) => out.push(v),
                        _ => return Ev::Unknown,
                    }
                }
                Ev::Val(Value::List(out))
            }
            CKind::User(i) => self.user_field(*i),
            CKind::Row(name) => match self.row.and_then(|r| r.column(name)) {
                Some(v) => Ev::Val(v),
                None => Ev::Unknown,
            },
            CKind::RowTagged(tag) => match self.row.and_then(|r| r.tagged(*tag)) {
                Some(v) => Ev::Val(v),
                None => Ev::Unknown,
            },
            CKind::Value => self.value.map_or(Ev::Unknown, |v| Ev::Val(v.clone())),
            CKind::Field(base, name) => match self.eval(base) {
                Ev::Val(Value::Struct(fields)) => fields
                    .into_iter()
                    .find(|(n, _)| n == name)
                    .map_or(Ev::Unknown, |(_, v)| Ev::Val(v)),
                Ev::Val(Value::Null) => Ev::Val(Value::Null),
                _ => Ev::Unknown,
            },
            CKind::Index(base, key) => index(self.eval(base), self.eval(key)),
            CKind::Call(f, args) => self.call(*f, args),
            CKind::Neg(inner) => match self.eval(inner) {
                Ev::Dur(d) => d.checked_neg().map_or(Ev::Unknown, Ev::Dur),
                Ev::Months(m) => m.checked_neg().map_or(Ev::Unknown, Ev::Months),
                Ev::Val(Value::Int(i)) => i
                    .checked_neg()
                    .map_or(Ev::Unknown, |i| Ev::Val(Value::Int(i))),
                Ev::Val(Value::Decimal(x)) => Ev::Val(Value::Decimal(-x)),
                _ => Ev::Unknown,
            },
            CKind::Not(inner) => Ev::from_truth(!self.truth(inner)),
            CKind::Binary(op, a, b) => self.binary(*op, a, b),
            CKind::Under(inner, p) => {
                let v = self.eval(inner);
                let t = match v.present() {
                    Some(Value::List(items)) => items.iter().fold(Truth::False, |acc, item| {
                        acc.or(self.purpose_under(item, *p))
                    }),
                    Some(other) => self.purpose_under(other, *p),
                    None => Truth::Unknown,
                };
                Ev::from_truth(t)
            }
            CKind::InTable(inner, table) => {
                let x = self.eval(inner);
                let values = match self.model.tables.get(*table).map(|t| &t.origin) {
                    Some(crate::model::TableOrigin::File { values, .. }) => Some(values),
                    Some(crate::model::TableOrigin::Supplied) => self.supplied.get(table),
                    None => None,
                };
                match (x.present(), values) {
                    (Some(x), Some(values)) => Ev::from_truth(table_holds(values, x)),
                    _ => Ev::Unknown,
                }
            }
            CKind::If(c, a, b) => match self.truth(c) {
                Truth::True => self.eval(a),
                Truth::False => self.eval(b),
                Truth::Unknown => Ev::Unknown,
            },
            CKind::InGroup(g) => Ev::from_truth(self.in_set(&self.subject.groups, g)),
            CKind::HasRole(r) => Ev::from_truth(self.in_set(&self.subject.roles, r)),
            CKind::HasAttribute(name, value) => {
                Ev::from_truth(self.has_attribute(name, value.as_deref()))
            }
            CKind::ActingUnder(p) => Ev::from_truth(match &self.subject.purposes {
                Value::List(items) => items.iter().fold(Truth::False, |acc, item| {
                    acc.or(self.purpose_under(item, *p))
                }),
                _ => Truth::Unknown,
            }),
            CKind::Matches(inner, pattern) => {
                let v = self.eval(inner);
                let Some(Value::Text(s)) = v.present() else {
                    return Ev::Unknown;
                };
                let mut cache = self.regexes.borrow_mut();
                let re = cache
                    .entry(pattern.clone())
                    .or_insert_with(|| regex::Regex::new(pattern).ok());
                match re {
                    Some(re) => Ev::from_truth(Truth::from_bool(re.is_match(s))),
                    None => Ev::Unknown,
                }
            }
        }
    }

    /// A subject field: the built-ins by name, the declared fields by their position among
    /// the declared ones. Absent or mistyped, unknown.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn user_field(&self, i: usize) -> Ev {
        let Some(field) = self.model.subject.get(i) else {
            return Ev::Unknown;
        };
        let v = if field.loc.is_none() {
            match field.name.as_str() {
                "login" => &self.subject.login,
                "groups" => &self.subject.groups,
                "roles" => &self.subject.roles,
                "attributes" => &self.subject.attributes,
                "purposes" => &self.subject.purposes,
                _ => return Ev::Unknown,
            }
        } else {
            let declared = self.model.subject[..i]
                .iter()
                .filter(|f| f.loc.is_some())
                .count();
            match self.subject.fields.get(declared) {
                Some(v) => v,
                None => return Ev::Unknown,
            }
        };
        if v.is_null() {
            Ev::Unknown
        } else {
            Ev::Val(v.clone())
        }
    }

    fn purpose_under(&self, v: &Value, p: NodeId) -> Truth {
        match v {
            Value::Text(name) => match self.model.purposes.get(name) {
                Some(a) => Truth::from_bool(self.model.purposes.is_under(a, p)),
                None => Truth::Unknown,
            },
            _ => Truth::Unknown,
        }
    }

    /// `user in group g` / `user has role r`: is the text in the subject's set?
    fn in_set(&self, set: &Value, item: &CExpr) -> Truth {
        let item = self.eval(item);
        let Some(Value::Text(name)) = item.present() else {
            return Truth::Unknown;
        };
        text_list_contains(set, name)
    }

    /// `user has attribute A` (the subject lists A) / `… = V` (A's values include V).
    fn has_attribute(&self, name: &CExpr, value: Option<&CExpr>) -> Truth {
        let name = self.eval(name);
        let Some(Value::Text(name)) = name.present() else {
            return Truth::Unknown;
        };
        let Value::Struct(attrs) = &self.subject.attributes else {
            return Truth::Unknown;
        };
        let found = attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        match (found, value) {
            (None, _) => Truth::False,
            (Some(Value::List(_)), None) => Truth::True,
            (Some(_), None) => Truth::Unknown,
            (Some(values), Some(v)) => {
                let v = self.eval(v);
                match v.present() {
                    Some(Value::Text(v)) => text_list_contains(values, v),
                    _ => Truth::Unknown,
                }
            }
        }
    }

    fn call(&self, f: Builtin, args: &[CExpr]) -> Ev {
        let arg = |i: usize| args.get(i).map_or(Ev::Unknown, |a| self.eval(a));
        match f {
            Builtin::Lower | Builtin::Upper => match arg(0).present() {
                Some(Value::Text(s)) => Ev::Val(Value::Text(if f == Builtin::Lower {
                    s.to_lowercase()
                } else {
                    s.to_uppercase()
                })),
                _ => Ev::Unknown,
            },
            Builtin::Len => match arg(0).present() {
                Some(Value::Text(s)) => Ev::Val(Value::Int(s.chars().count() as i64)),
                Some(Value::List(items)) => Ev::Val(Value::Int(items.len() as i64)),
                _ => Ev::Unknown,
            },
            Builtin::Concat => {
                // Texts as they are, other values by their canonical text, nulls skipped.
                let mut out = String::new();
                for a in args {
                    match self.eval(a) {
                        Ev::Val(Value::Null) => {}
                        Ev::Val(Value::Text(s)) => out.push_str(&s),
                        Ev::Val(other) => out.push_str(&super::techniques::canonical_text(&other)),
                        _ => return Ev::Unknown,
                    }
                }
                Ev::Val(Value::Text(out))
            }
            Builtin::StartsWith | Builtin::EndsWith => match (arg(0).present(), arg(1).present()) {
                (Some(Value::Text(s)), Some(Value::Text(p))) => {
                    Ev::from_truth(Truth::from_bool(if f == Builtin::StartsWith {
                        s.starts_with(p.as_str())
                    } else {
                        s.ends_with(p.as_str())
                    }))
                }
                _ => Ev::Unknown,
            },
            Builtin::Now => Ev::Val(Value::Timestamp(self.now)),
            Builtin::Today => Ev::Val(Value::Date(self.now.date_naive())),
            Builtin::Age => {
                let today = self.now.date_naive();
                match arg(0).present() {
                    Some(Value::Date(d)) => Ev::Val(Value::Int(whole_years(*d, today))),
                    Some(Value::Timestamp(t)) => {
                        Ev::Val(Value::Int(whole_years(t.date_naive(), today)))
                    }
                    _ => Ev::Unknown,
                }
            }
            Builtin::Replace
            | Builtin::RegexReplace
            | Builtin::Substring
            | Builtin::Length
            | Builtin::Lpad
            | Builtin::Rpad => self.string_function(f, args),
            // The first argument that is a value other than null.
            Builtin::Coalesce => args
                .iter()
                .map(|a| self.eval(a))
                .find(|v| v.present().is_some())
                .unwrap_or(Ev::Val(Value::Null)),
            // Never unknown itself: present means neither null nor unknown.
            Builtin::Has => {
                let v = arg(0);
                Ev::from_truth(Truth::from_bool(
                    v.present().is_some() || matches!(v, Ev::Dur(_) | Ev::Months(_)),
                ))
            }
        }
    }

    /// The string functions: every argument must be present, of its type; otherwise unknown.
    fn string_function(&self, f: Builtin, args: &[CExpr]) -> Ev {
        let values: Vec<Ev> = args.iter().map(|a| self.eval(a)).collect();
        let text = |i: usize| match values.get(i).and_then(Ev::present) {
            Some(Value::Text(s)) => Some(s.as_str()),
            _ => None,
        };
        let int = |i: usize| match values.get(i).and_then(Ev::present) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        };
        let out = match f {
            Builtin::Replace => (|| strings::replace(text(0)?, text(1)?, text(2)?))(),
            Builtin::RegexReplace => (|| {
                let (s, pattern, rep) = (text(0)?, text(1)?, text(2)?);
                let mut cache = self.regexes.borrow_mut();
                let re = cache
                    .entry(pattern.to_string())
                    .or_insert_with(|| regex::Regex::new(pattern).ok())
                    .as_ref()?;
                strings::regex_replace(re, s, rep)
            })(),
            Builtin::Substring => (|| {
                let len = match args.len() {
                    3 => Some(int(2)?),
                    _ => None,
                };
                strings::substring(text(0)?, int(1)?, len)
            })(),
            Builtin::Length => {
                return text(0).map_or(Ev::Unknown, |s| {
                    Ev::Val(Value::Int(s.chars().count() as i64))
                })
            }
            Builtin::Lpad | Builtin::Rpad => {
                (|| strings::pad(text(0)?, int(1)?, text(2)?, f == Builtin::Lpad))()
            }
            _ => None,
        };
        out.map_or(Ev::Unknown, |s| Ev::Val(Value::Text(s)))
    }

    fn binary(&self, op: BinOp, a: &CExpr, b: &CExpr) -> Ev {
        match op {
            BinOp::And => return Ev::from_truth(self.truth(a).and(self.truth(b))),
            BinOp::Or => return Ev::from_truth(self.truth(a).or(self.truth(b))),
            _ => {}
        }
        let (x, y) = (self.eval(a), self.eval(b));
        match op {
            BinOp::Eq | BinOp::Ne => {
                let t = match equal(&x, &y) {
                    Some(e) => Truth::from_bool(e),
                    None => Truth::Unknown,
                };
                Ev::from_truth(if op == BinOp::Eq { t } else { !t })
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                Ev::from_truth(match compare(&x, &y) {
                    Some(o) => Truth::from_bool(match op {
                        BinOp::Lt => o == Ordering::Less,
                        BinOp::Le => o != Ordering::Greater,
                        BinOp::Gt => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    }),
                    None => Truth::Unknown,
                })
            }
            BinOp::In => Ev::from_truth(membership(&x, &y)),
            BinOp::Contains => Ev::from_truth(membership(&y, &x)),
            BinOp::Add => arith(&x, &y, false),
            BinOp::Sub => arith(&x, &y, true),
            // `matches` is its own node; `and`/`or` are handled above.
            BinOp::Matches | BinOp::And | BinOp::Or => Ev::Unknown,
        }
    }
}

fn constant(c: &Const) -> Ev {
    match c {
        Const::Duration(s) => Ev::Dur(*s),
        Const::Months(m) => Ev::Months(*m),
        other => Ev::Val(crate::techniques::const_value(other)),
    }
}

fn text_list_contains(set: &Value, name: &str) -> Truth {
    match set {
        Value::List(items) => Truth::from_bool(
            items
                .iter()
                .any(|e| matches!(e, Value::Text(s) if s == name)),
        ),
        _ => Truth::Unknown,
    }
}

fn index(base: Ev, key: Ev) -> Ev {
    let Some(k) = key.present() else {
        return Ev::Unknown;
    };
    match (base, k) {
        (Ev::Val(Value::List(items)), Value::Int(i)) => Ev::Val(
            usize::try_from(*i)
                .ok()
                .and_then(|i| items.into_iter().nth(i))
                .unwrap_or(Value::Null),
        ),
        // A map (`user.attributes`) is a struct value read by field name; absent keys are null.
        (Ev::Val(Value::Struct(fields)), Value::Text(name)) => Ev::Val(
            fields
                .into_iter()
                .find(|(n, _)| n == name)
                .map_or(Value::Null, |(_, v)| v),
        ),
        (Ev::Val(Value::Null), _) => Ev::Val(Value::Null),
        _ => Ev::Unknown,
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Decimal(x) => Some(*x),
        _ => None,
    }
}

/// Ordering of two non-null scalars of comparable types (ints and decimals as numbers).
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Timestamp(x), Value::Timestamp(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => num(a)?.partial_cmp(&num(b)?),
    }
}

/// Equality of two operands; `None` is unknown (a null, an unknown, different types).
fn equal(a: &Ev, b: &Ev) -> Option<bool> {
    if let (Ev::Dur(x), Ev::Dur(y)) | (Ev::Months(x), Ev::Months(y)) = (a, b) {
        return Some(x == y);
    }
    match (a.present()?, b.present()?) {
        (Value::List(x), Value::List(y)) => Some(x == y),
        (Value::Struct(x), Value::Struct(y)) => Some(x == y),
        (x, y) => order(x, y).map(|o| o == Ordering::Equal),
    }
}

fn equal_values(a: &Value, b: &Value) -> Option<bool> {
    equal(&Ev::Val(a.clone()), &Ev::Val(b.clone()))
}

fn compare(a: &Ev, b: &Ev) -> Option<Ordering> {
    if let (Ev::Dur(x), Ev::Dur(y)) | (Ev::Months(x), Ev::Months(y)) = (a, b) {
        return Some(x.cmp(y));
    }
    order(a.present()?, b.present()?)
}

/// `x in xs`: a list holds an element equal to `x` (null elements are skipped; an element of
/// another type makes the answer unknown unless some element is equal); a text holds `x` as a
/// substring.
fn membership(item: &Ev, container: &Ev) -> Truth {
    let (Some(x), Some(xs)) = (item.present(), container.present()) else {
        return Truth::Unknown;
    };
    match xs {
        Value::List(items) => {
            let mut unknown = false;
            for e in items.iter().filter(|e| !e.is_null()) {
                match equal_values(x, e) {
                    Some(true) => return Truth::True,
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            if unknown {
                Truth::Unknown
            } else {
                Truth::False
            }
        }
        Value::Text(hay) => match x {
            Value::Text(needle) => Truth::from_bool(hay.contains(needle.as_str())),
            _ => Truth::Unknown,
        },
        _ => Truth::Unknown,
    }
}

fn arith(a: &Ev, b: &Ev, subtract: bool) -> Ev {
    let sign = |x: i64| if subtract { x.checked_neg() } else { Some(x) };
    match (a, b) {
        (Ev::Dur(x), Ev::Dur(y)) => sign(*y)
            .and_then(|y| x.checked_add(y))
            .map_or(Ev::Unknown, Ev::Dur),
        (Ev::Months(x), Ev::Months(y)) => sign(*y)
            .and_then(|y| x.checked_add(y))
            .map_or(Ev::Unknown, Ev::Months),
        // Calendar months: the same day of the month reached, or its last day if shorter.
        (Ev::Val(Value::Timestamp(t)), Ev::Months(m)) => sign(*m)
            .and_then(|m| shift_months(t.date_naive(), m))
            .map_or(Ev::Unknown, |d| {
                Ev::Val(Value::Timestamp(d.and_time(t.time()).and_utc()))
            }),
        (Ev::Val(Value::Date(d)), Ev::Months(m)) => sign(*m)
            .and_then(|m| shift_months(*d, m))
            .map_or(Ev::Unknown, |d| Ev::Val(Value::Date(d))),
        (Ev::Val(Value::Timestamp(t)), Ev::Dur(secs)) => sign(*secs)
            .and_then(chrono::Duration::try_seconds)
            .and_then(|d| t.checked_add_signed(d))
            .map_or(Ev::Unknown, |t| Ev::Val(Value::Timestamp(t))),
        // A date moves by whole days.
        (Ev::Val(Value::Date(d)), Ev::Dur(secs)) => sign(*secs)
            .and_then(|s| chrono::Duration::try_days(s / 86_400))
            .and_then(|days| d.checked_add_signed(days))
            .map_or(Ev::Unknown, |d| Ev::Val(Value::Date(d))),
        (Ev::Val(Value::Int(x)), Ev::Val(Value::Int(y))) => if subtract {
            x.checked_sub(*y)
        } else {
            x.checked_add(*y)
        }
        .map_or(Ev::Unknown, |i| Ev::Val(Value::Int(i))),
        (Ev::Val(Value::Timestamp(x)), Ev::Val(Value::Timestamp(y))) if subtract => {
            Ev::Dur(x.signed_duration_since(*y).num_seconds())
        }
        (Ev::Val(Value::Date(x)), Ev::Val(Value::Date(y))) if subtract => x
            .signed_duration_since(*y)
            .num_days()
            .checked_mul(86_400)
            .map_or(Ev::Unknown, Ev::Dur),
        (Ev::Val(x), Ev::Val(y)) => match (num(x), num(y)) {
            (Some(p), Some(q)) => {
                let r = if subtract { p - q } else { p + q };
                if r.is_finite() {
                    Ev::Val(Value::Decimal(r))
                } else {
                    Ev::Unknown
                }
            }
            _ => Ev::Unknown,
        },
        _ => Ev::Unknown,
    }
}

/// `d` moved by `months` calendar months: year and month counted on, the day kept or, when
/// the month reached is shorter, its last day.
pub fn shift_months(d: NaiveDate, months: i64) -> Option<NaiveDate> {
    let index = i64::from(d.year()) * 12 + i64::from(d.month0()) + months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    (1..=d.day())
        .rev()
        .find_map(|day| NaiveDate::from_ymd_opt(year, month, day))
}

fn whole_years(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut years = i64::from(to.year()) - i64::from(from.year());
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years
}

/// An event time as an instant: a timestamp, or a date at midnight UTC.
pub fn instant(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Timestamp(t) => Some(*t),
        Value::Date(d) => Some(d.and_time(NaiveTime::MIN).and_utc()),
        _ => None,
    }
}
