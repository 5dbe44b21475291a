//! The bytecode interpreter.
//!
//! [`run`] evaluates one [`Program`] against an [`Env`]: the row being evaluated (if any), the
//! cell being masked (in `expr(…)` techniques), the session's subject and clock, and the bundle's
//! string, regex and purpose tables. It never panics and never recurses on data: a malformed
//! program (which the verifier rejects anyway) or any evaluation error yields
//! [`Eval::Unknown`]. The stack is a vector bounded by the verifier's static depth.

use smallvec::SmallVec;
use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use regex::Regex;

use super::{calendar, strings, Op, Program, MAX_STACK};
use crate::engine::subject::Subject;
use crate::lookup::TableSnapshot;
use crate::value::Value;

/// A three-valued truth value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tri {
    /// Definitely true.
    True,
    /// Definitely false.
    False,
    /// Cannot be evaluated (null operand, missing field, type mismatch, error).
    Unknown,
}

impl std::ops::Not for Tri {
    type Output = Tri;

    /// Kleene negation.
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

impl Tri {
    /// Kleene conjunction: false wins, then unknown.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    /// Kleene disjunction: true wins, then unknown.
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }

    /// `true` only for [`Tri::True`].
    pub fn is_true(self) -> bool {
        self == Tri::True
    }

    /// `true` only for [`Tri::False`].
    pub fn is_false(self) -> bool {
        self == Tri::False
    }

    /// From a boolean.
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }

    /// The language's spelling: `true`, `false`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tri::True => "true",
            Tri::False => "false",
            Tri::Unknown => "unknown",
        }
    }
}

/// The result of running a program.
#[derive(Clone, Debug, PartialEq)]
pub enum Eval {
    /// A value (possibly null).
    Value(Value),
    /// The program could not be evaluated (or produced a duration, which is not a value).
    Unknown,
}

impl Eval {
    /// As a condition: true only for the boolean `true`, false only for `false`, else unknown.
    pub fn truth(&self) -> Tri {
        match self {
            Eval::Value(Value::Bool(b)) => Tri::from_bool(*b),
            _ => Tri::Unknown,
        }
    }

    /// As a value: unknown becomes null.
    pub fn into_value(self) -> Value {
        match self {
            Eval::Value(v) => v,
            Eval::Unknown => Value::Null,
        }
    }
}

/// Where a flat column's value sits in a row: the top-level column and the field positions
/// below it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnPath {
    /// Index of the top-level column in the row.
    pub top: u32,
    /// Field positions inside the (struct or list-of-struct) value, outermost first.
    pub steps: Vec<u32>,
}

/// The purpose hierarchy of a bundle.
#[derive(Clone, Debug, Default)]
pub struct PurposeTree {
    names: Vec<String>,
    parents: Vec<Option<u32>>,
}

impl PurposeTree {
    /// Builds the tree; `parents[i]` must be `< i` (the verifier checks this).
    pub fn new(names: Vec<String>, parents: Vec<Option<u32>>) -> Self {
        PurposeTree { names, parents }
    }

    /// The purpose with this full name.
    pub fn find(&self, name: &str) -> Option<u32> {
        self.names.iter().position(|n| n == name).map(|i| i as u32)
    }

    /// The full name of purpose `i`.
    pub fn name(&self, i: u32) -> Option<&str> {
        self.names.get(i as usize).map(String::as_str)
    }

    /// Whether purpose `a` is `p` or below it. Walks at most as many steps as there are purposes.
    pub fn is_under(&self, a: u32, p: u32) -> bool {
        let mut cur = Some(a);
        for _ in 0..=self.parents.len() {
            match cur {
                Some(c) if c == p => return true,
                Some(c) => cur = self.parents.get(c as usize).copied().flatten(),
                None => return false,
            }
        }
        false
    }
}

/// Everything a program can read.
#[derive(Clone, Copy, Debug)]
pub struct Env<'a> {
    /// The row's top-level raw values in declaration order (empty for user-only evaluation),
    /// borrowed from the caller's row where they need no conversion.
    pub row: Row<'a>,
    /// For each flat column of the source, where its value sits in `row`.
    pub paths: &'a [ColumnPath],
    /// The cell being masked (`expr(…)` techniques only).
    pub value: Option<&'a Value>,
    /// The session's subject.
    pub subject: &'a Subject,
    /// The session clock.
    pub now: DateTime<Utc>,
    /// The bundle's string table.
    pub strings: &'a [String],
    /// The bundle's compiled regexes.
    pub regexes: &'a [Regex],
    /// The bundle's purposes.
    pub purposes: &'a PurposeTree,
    /// The lookup tables as the session sees them.
    pub tables: &'a TableSnapshot,
}

/// The top-level cells of a row as programs read them.
#[derive(Clone, Copy, Debug)]
pub enum Row<'a> {
    /// Decoded cells, one per top-level position.
    Cells(&'a [Cow<'a, Value>]),
    /// A typed row read as it is: position `p` is the row's value `p`, and a position past its
    /// end is null (the session uses it when every stored column precedes the derived ones
    /// and no derived value is computed).
    Plain(&'a [Value]),
}

/// The null a [`Row::Plain`] reads past its end.
static NULL: Value = Value::Null;

impl<'a> Row<'a> {
    /// No cells (user-only evaluation).
    pub const EMPTY: Row<'static> = Row::Cells(&[]);

    /// The cell at a top-level position (`None` past the end of decoded cells).
    #[inline]
    pub fn get(&self, pos: usize) -> Option<&'a Value> {
        match *self {
            Row::Cells(cells) => cells.get(pos).map(|c| &**c),
            Row::Plain(values) => Some(values.get(pos).unwrap_or(&NULL)),
        }
    }
}

enum Slot<'a> {
    Unknown,
    Val(Cow<'a, Value>),
    Dur(i64),
    /// A calendar duration, in months.
    Months(i64),
}

impl<'a> Slot<'a> {
    fn owned(v: Value) -> Slot<'a> {
        Slot::Val(Cow::Owned(v))
    }
    fn boolean(b: bool) -> Slot<'a> {
        Slot::Val(Cow::Owned(Value::Bool(b)))
    }
    fn tri(t: Tri) -> Slot<'a> {
        match t {
            Tri::True => Slot::boolean(true),
            Tri::False => Slot::boolean(false),
            Tri::Unknown => Slot::Unknown,
        }
    }
    fn truth(&self) -> Tri {
        match self {
            Slot::Val(v) => match v.as_ref() {
                Value::Bool(b) => Tri::from_bool(*b),
                _ => Tri::Unknown,
            },
            _ => Tri::Unknown,
        }
    }
    /// The value if it is a non-null value.
    fn present(&self) -> Option<&Value> {
        match self {
            Slot::Val(v) if !v.is_null() => Some(v.as_ref()),
            _ => None,
        }
    }
}

/// A string function's result: `None` (an argument out of range, a result over its limit) is
/// unknown.
fn text_slot<'a>(out: Option<String>) -> Slot<'a> {
    out.map_or(Slot::Unknown, |s| Slot::owned(Value::Text(s)))
}

/// Loads the value at `steps` below `v`: struct fields by position, mapping over lists.
/// Bounded by the schema's nesting depth, not by the data.
pub fn load_path<'v>(v: &'v Value, steps: &[u32]) -> Cow<'v, Value> {
    let Some((&first, rest)) = steps.split_first() else {
        return Cow::Borrowed(v);
    };
    match v {
        Value::Struct(fields) => match fields.get(first as usize) {
            Some((_, f)) => load_path(f, rest),
            None => Cow::Owned(Value::Null),
        },
        Value::List(items) => Cow::Owned(Value::List(
            items
                .iter()
                .map(|item| load_path(item, steps).into_owned())
                .collect(),
        )),
        _ => Cow::Owned(Value::Null),
    }
}

fn num_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Decimal(y)) => (*x as f64).partial_cmp(y),
        (Value::Decimal(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Decimal(x), Value::Decimal(y)) => x.partial_cmp(y),
        _ => None,
    }
}

/// Ordering of two non-null scalar values of comparable types; `None` is unknown.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Timestamp(x), Value::Timestamp(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => num_cmp(a, b),
    }
}

/// Equality of two non-null values; `None` is unknown (types differ).
/// A program of the shape `column == operand` or `column != operand` (either order), which a
/// session evaluates without the interpreter, with the interpreter's exact semantics
/// ([`eq_tri`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Comparison {
    /// The flat column (`Op::Column`).
    pub column: u32,
    /// The other side.
    pub operand: Operand,
    /// `!=` rather than `==`.
    pub negate: bool,
}

/// The side of a [`Comparison`] that does not depend on the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operand {
    Const(u32),
    UserField(u32),
    Login,
}

/// The comparison a program is, if it is exactly one.
pub(crate) fn comparison(p: &Program) -> Option<Comparison> {
    let operand = |op: &Op| match *op {
        Op::Const(k) => Some(Operand::Const(k)),
        Op::UserField(f) => Some(Operand::UserField(f)),
        Op::Login => Some(Operand::Login),
        _ => None,
    };
    let [a, b, cmp] = p.code.as_slice() else {
        return None;
    };
    let negate = match cmp {
        Op::Eq => false,
        Op::Ne => true,
        _ => return None,
    };
    let (column, other) = match (a, b) {
        (Op::Column(c), other) | (other, Op::Column(c)) => (*c, other),
        _ => return None,
    };
    Some(Comparison {
        column,
        operand: operand(other)?,
        negate,
    })
}

/// `a == b` as `Op::Eq` computes it: unknown when a side is missing or null (`None`) or the
/// values cannot be compared.
#[inline]
pub(crate) fn eq_tri(a: Option<&Value>, b: Option<&Value>) -> Tri {
    match (a.filter(|v| !v.is_null()), b.filter(|v| !v.is_null())) {
        // Texts, the common case (`row.team == user.team`): equal as `order` finds them.
        (Some(Value::Text(a)), Some(Value::Text(b))) => Tri::from_bool(a == b),
        (Some(a), Some(b)) => match equal(a, b) {
            Some(e) => Tri::from_bool(e),
            None => Tri::Unknown,
        },
        _ => Tri::Unknown,
    }
}

fn equal(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::List(x), Value::List(y)) => Some(x == y),
        (Value::Struct(x), Value::Struct(y)) => Some(x == y),
        _ => order(a, b).map(|o| o == Ordering::Equal),
    }
}

fn slot_cmp(a: &Slot<'_>, b: &Slot<'_>) -> Option<Ordering> {
    match (a, b) {
        (Slot::Dur(x), Slot::Dur(y)) | (Slot::Months(x), Slot::Months(y)) => Some(x.cmp(y)),
        _ => order(a.present()?, b.present()?),
    }
}

fn slot_eq(a: &Slot<'_>, b: &Slot<'_>) -> Option<bool> {
    match (a, b) {
        (Slot::Dur(x), Slot::Dur(y)) | (Slot::Months(x), Slot::Months(y)) => Some(x == y),
        _ => equal(a.present()?, b.present()?),
    }
}

fn membership(item: &Slot<'_>, container: &Slot<'_>) -> Tri {
    let (Some(x), Some(xs)) = (item.present(), container.present()) else {
        return Tri::Unknown;
    };
    match xs {
        Value::List(items) => {
            let mut saw_unknown = false;
            for e in items {
                if e.is_null() {
                    continue;
                }
                match equal(x, e) {
                    Some(true) => return Tri::True,
                    Some(false) => {}
                    None => saw_unknown = true,
                }
            }
            if saw_unknown {
                Tri::Unknown
            } else {
                Tri::False
            }
        }
        Value::Text(hay) => match x {
            Value::Text(needle) => Tri::from_bool(hay.contains(needle.as_str())),
            _ => Tri::Unknown,
        },
        _ => Tri::Unknown,
    }
}

fn add_days(d: NaiveDate, secs: i64) -> Option<NaiveDate> {
    let days = secs / 86_400;
    d.checked_add_signed(Duration::try_days(days)?)
}

fn arith<'a>(a: &Slot<'a>, b: &Slot<'a>, subtract: bool) -> Slot<'a> {
    let sign = |x: i64| if subtract { x.checked_neg() } else { Some(x) };
    let out = match (a, b) {
        (Slot::Dur(x), Slot::Dur(y)) => {
            return match sign(*y).and_then(|y| x.checked_add(y)) {
                Some(d) => Slot::Dur(d),
                None => Slot::Unknown,
            }
        }
        (Slot::Months(x), Slot::Months(y)) => {
            return match sign(*y).and_then(|y| x.checked_add(y)) {
                Some(m) => Slot::Months(m),
                None => Slot::Unknown,
            }
        }
        (Slot::Val(v), Slot::Months(m)) => match v.as_ref() {
            Value::Timestamp(t) => sign(*m)
                .and_then(|m| calendar::add_months(*t, m))
                .map(Value::Timestamp),
            Value::Date(d) => sign(*m)
                .and_then(|m| calendar::add_months_to_date(*d, m))
                .map(Value::Date),
            _ => None,
        },
        (Slot::Val(v), Slot::Dur(secs)) => match v.as_ref() {
            Value::Timestamp(t) => sign(*secs)
                .and_then(Duration::try_seconds)
                .and_then(|d| t.checked_add_signed(d))
                .map(Value::Timestamp),
            Value::Date(d) => sign(*secs).and_then(|s| add_days(*d, s)).map(Value::Date),
            _ => None,
        },
        (Slot::Val(x), Slot::Val(y)) => match (x.as_ref(), y.as_ref()) {
            (Value::Int(x), Value::Int(y)) => if subtract {
                x.checked_sub(*y)
            } else {
                x.checked_add(*y)
            }
            .map(Value::Int),
            (Value::Timestamp(x), Value::Timestamp(y)) if subtract => {
                return Slot::Dur(x.signed_duration_since(*y).num_seconds())
            }
            (Value::Date(x), Value::Date(y)) if subtract => {
                return match x.signed_duration_since(*y).num_days().checked_mul(86_400) {
                    Some(s) => Slot::Dur(s),
                    None => Slot::Unknown,
                }
            }
            (x, y) => {
                let fx = match x {
                    Value::Int(i) => Some(*i as f64),
                    Value::Decimal(f) => Some(*f),
                    _ => None,
                };
                let fy = match y {
                    Value::Int(i) => Some(*i as f64),
                    Value::Decimal(f) => Some(*f),
                    _ => None,
                };
                match (fx, fy) {
                    (Some(p), Some(q)) => {
                        let r = if subtract { p - q } else { p + q };
                        r.is_finite().then_some(Value::Decimal(r))
                    }
                    _ => None,
                }
            }
        },
        _ => None,
    };
    match out {
        Some(v) => Slot::owned(v),
        None => Slot::Unknown,
    }
}

fn whole_years(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut years = i64::from(to.year()) - i64::from(from.year());
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years
}

fn text_list_contains(v: &Value, needle: &str) -> Tri {
    match v {
        Value::List(items) => Tri::from_bool(
            items
                .iter()
                .any(|e| matches!(e, Value::Text(s) if s == needle)),
        ),
        _ => Tri::Unknown,
    }
}

/// A program that is one `has role` or `in group` test, evaluated without the stack machine
/// (the value of [`run`]'s truth on it); `None` for any other program.
/// It reads only the subject and the string table, so that a session asks it before building
/// an [`Env`].
#[inline]
pub(crate) fn role_or_group(
    program: &Program,
    subject: &Subject,
    strings: &[String],
) -> Option<Tri> {
    let (set, s) = match program.code.as_slice() {
        [Op::HasRole(s)] => (&subject.roles, *s),
        [Op::InGroup(s)] => (&subject.groups, *s),
        _ => return None,
    };
    Some(match strings.get(s as usize) {
        Some(name) => text_list_contains(set, name),
        None => Tri::Unknown,
    })
}

fn attribute<'v>(attrs: &'v Value, name: &str) -> Option<&'v Value> {
    match attrs {
        Value::Struct(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
        _ => None,
    }
}

/// Runs `program` in `env`.
pub fn run(program: &Program, env: &Env<'_>) -> Eval {
    let code = &program.code;
    let mut stack: SmallVec<[Slot<'_>; 8]> = SmallVec::new();
    let mut pc = 0usize;
    // Forward-only jumps bound the number of steps by the length; the counter guards against a
    // program that was never verified.
    let mut budget = code.len() + 1;

    macro_rules! pop {
        () => {
            match stack.pop() {
                Some(s) => s,
                None => return Eval::Unknown,
            }
        };
    }
    macro_rules! push {
        ($e:expr) => {{
            if stack.len() >= MAX_STACK as usize {
                return Eval::Unknown;
            }
            stack.push($e)
        }};
    }

    while let Some(&op) = code.get(pc) {
        if budget == 0 {
            return Eval::Unknown;
        }
        budget -= 1;
        pc += 1;
        match op {
            Op::Const(i) => match program.consts.get(i as usize) {
                Some(v) => push!(Slot::Val(Cow::Borrowed(v))),
                None => return Eval::Unknown,
            },
            Op::Duration(secs) => push!(Slot::Dur(secs)),
            Op::Months(m) => push!(Slot::Months(m)),
            Op::Column(i) => {
                let slot = env
                    .paths
                    .get(i as usize)
                    .and_then(|p| env.row.get(p.top as usize).map(|v| load_path(v, &p.steps)));
                match slot {
                    Some(v) => push!(Slot::Val(v)),
                    None => push!(Slot::Unknown),
                }
            }
            Op::Value => match env.value {
                Some(v) => push!(Slot::Val(Cow::Borrowed(v))),
                None => push!(Slot::Unknown),
            },
            Op::UserField(i) => match env.subject.fields.get(i as usize) {
                Some(Value::Null) | None => push!(Slot::Unknown),
                Some(v) => push!(Slot::Val(Cow::Borrowed(v))),
            },
            Op::Login => push!(nonnull(&env.subject.login)),
            Op::Groups => push!(nonnull(&env.subject.groups)),
            Op::Roles => push!(nonnull(&env.subject.roles)),
            Op::Attributes => push!(nonnull(&env.subject.attributes)),
            Op::Purposes => push!(nonnull(&env.subject.purposes)),
            Op::Now => push!(Slot::owned(Value::Timestamp(env.now))),
            Op::Today => push!(Slot::owned(Value::Date(env.now.date_naive()))),
            Op::Field(s) => {
                let v = pop!();
                let name = match env.strings.get(s as usize) {
                    Some(n) => n,
                    None => return Eval::Unknown,
                };
                push!(match v {
                    Slot::Val(Cow::Borrowed(Value::Struct(fields))) => {
                        match fields.iter().find(|(n, _)| n == name) {
                            Some((_, f)) => Slot::Val(Cow::Borrowed(f)),
                            None => Slot::Unknown,
                        }
                    }
                    Slot::Val(Cow::Owned(Value::Struct(fields))) => {
                        match fields.into_iter().find(|(n, _)| n == name) {
                            Some((_, f)) => Slot::owned(f),
                            None => Slot::Unknown,
                        }
                    }
                    Slot::Val(v) if v.is_null() => Slot::owned(Value::Null),
                    _ => Slot::Unknown,
                })
            }
            Op::Index => {
                let key = pop!();
                let container = pop!();
                push!(index(container, &key))
            }
            Op::Eq | Op::Ne => {
                let b = pop!();
                let a = pop!();
                let t = match slot_eq(&a, &b) {
                    Some(e) => Tri::from_bool(e),
                    None => Tri::Unknown,
                };
                push!(Slot::tri(if op == Op::Eq { t } else { !t }))
            }
            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                let b = pop!();
                let a = pop!();
                let t = match slot_cmp(&a, &b) {
                    Some(o) => Tri::from_bool(match op {
                        Op::Lt => o == Ordering::Less,
                        Op::Le => o != Ordering::Greater,
                        Op::Gt => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    }),
                    None => Tri::Unknown,
                };
                push!(Slot::tri(t))
            }
            Op::In => {
                let xs = pop!();
                let x = pop!();
                push!(Slot::tri(membership(&x, &xs)))
            }
            Op::Contains => {
                let x = pop!();
                let xs = pop!();
                push!(Slot::tri(membership(&x, &xs)))
            }
            Op::Matches(r) => {
                let v = pop!();
                let t = match (v.present(), env.regexes.get(r as usize)) {
                    (Some(Value::Text(s)), Some(re)) => Tri::from_bool(re.is_match(s)),
                    _ => Tri::Unknown,
                };
                push!(Slot::tri(t))
            }
            Op::Under(p) => {
                let v = pop!();
                let under_name = |n: &Value| -> Tri {
                    match n {
                        Value::Text(s) => match env.purposes.find(s) {
                            Some(a) => Tri::from_bool(env.purposes.is_under(a, p)),
                            None => Tri::Unknown,
                        },
                        _ => Tri::Unknown,
                    }
                };
                let t = match v.present() {
                    Some(Value::List(items)) => items
                        .iter()
                        .fold(Tri::False, |acc, item| acc.or(under_name(item))),
                    Some(other) => under_name(other),
                    None => Tri::Unknown,
                };
                push!(Slot::tri(t))
            }
            Op::Add | Op::Sub => {
                let b = pop!();
                let a = pop!();
                push!(arith(&a, &b, op == Op::Sub))
            }
            Op::Neg => {
                let a = pop!();
                push!(match a {
                    Slot::Dur(d) => d.checked_neg().map_or(Slot::Unknown, Slot::Dur),
                    Slot::Months(m) => m.checked_neg().map_or(Slot::Unknown, Slot::Months),
                    Slot::Val(v) => match v.as_ref() {
                        Value::Int(i) => i
                            .checked_neg()
                            .map_or(Slot::Unknown, |i| Slot::owned(Value::Int(i))),
                        Value::Decimal(f) => Slot::owned(Value::Decimal(-f)),
                        _ => Slot::Unknown,
                    },
                    Slot::Unknown => Slot::Unknown,
                })
            }
            Op::Not => {
                let a = pop!();
                push!(Slot::tri(!a.truth()))
            }
            Op::And | Op::Or => {
                let b = pop!();
                let a = pop!();
                let t = if op == Op::And {
                    a.truth().and(b.truth())
                } else {
                    a.truth().or(b.truth())
                };
                push!(Slot::tri(t))
            }
            Op::JumpIfFalse(t) | Op::JumpIfTrue(t) => {
                let want = if matches!(op, Op::JumpIfFalse(_)) {
                    Tri::False
                } else {
                    Tri::True
                };
                let jump = match stack.last() {
                    Some(top) => top.truth() == want,
                    None => return Eval::Unknown,
                };
                if jump {
                    if (t as usize) < pc {
                        return Eval::Unknown;
                    }
                    pc = t as usize;
                }
            }
            Op::Branch { else_, end } => {
                let c = pop!();
                let target = match c.truth() {
                    Tri::True => None,
                    Tri::False => Some(else_),
                    Tri::Unknown => {
                        push!(Slot::Unknown);
                        Some(end)
                    }
                };
                if let Some(t) = target {
                    if (t as usize) < pc {
                        return Eval::Unknown;
                    }
                    pc = t as usize;
                }
            }
            Op::Jump(t) => {
                if (t as usize) < pc {
                    return Eval::Unknown;
                }
                pc = t as usize;
            }
            Op::Lower | Op::Upper => {
                let v = pop!();
                push!(match v.present() {
                    Some(Value::Text(s)) => Slot::owned(Value::Text(if op == Op::Lower {
                        s.to_lowercase()
                    } else {
                        s.to_uppercase()
                    })),
                    _ => Slot::Unknown,
                })
            }
            Op::Len => {
                let v = pop!();
                push!(match v.present() {
                    Some(Value::Text(s)) => Slot::owned(Value::Int(s.chars().count() as i64)),
                    Some(Value::List(items)) => Slot::owned(Value::Int(items.len() as i64)),
                    _ => Slot::Unknown,
                })
            }
            Op::Concat(n) => {
                let n = n as usize;
                if n > stack.len() {
                    return Eval::Unknown;
                }
                let args: SmallVec<[Slot<'_>; 8]> = stack.drain(stack.len() - n..).collect();
                let mut out = String::new();
                let mut unknown = false;
                for a in &args {
                    match a {
                        Slot::Val(v) => match v.as_ref() {
                            Value::Null => {}
                            Value::Text(s) => out.push_str(s),
                            other => out.push_str(&other.canonical_text()),
                        },
                        _ => unknown = true,
                    }
                }
                push!(if unknown {
                    Slot::Unknown
                } else {
                    Slot::owned(Value::Text(out))
                })
            }
            Op::Replace => {
                let to = pop!();
                let from = pop!();
                let s = pop!();
                push!(match (s.present(), from.present(), to.present()) {
                    (Some(Value::Text(s)), Some(Value::Text(f)), Some(Value::Text(t))) => {
                        text_slot(strings::replace(s, f, t))
                    }
                    _ => Slot::Unknown,
                })
            }
            Op::RegexReplace { regex, replacement } => {
                let s = pop!();
                let (Some(re), Some(rep)) = (
                    env.regexes.get(regex as usize),
                    env.strings.get(replacement as usize),
                ) else {
                    return Eval::Unknown;
                };
                push!(match s.present() {
                    Some(Value::Text(s)) => text_slot(strings::regex_replace(re, s, rep)),
                    _ => Slot::Unknown,
                })
            }
            Op::Substring | Op::SubstringFor => {
                let len = if op == Op::SubstringFor {
                    Some(pop!())
                } else {
                    None
                };
                let start = pop!();
                let s = pop!();
                // `Some(None)`: no length given; `None`: a length that is not an int.
                let len = match &len {
                    None => Some(None),
                    Some(l) => match l.present() {
                        Some(Value::Int(l)) => Some(Some(*l)),
                        _ => None,
                    },
                };
                push!(match (s.present(), start.present(), len) {
                    (Some(Value::Text(s)), Some(Value::Int(start)), Some(len)) => {
                        text_slot(strings::substring(s, *start, len))
                    }
                    _ => Slot::Unknown,
                })
            }
            Op::Lpad | Op::Rpad => {
                let fill = pop!();
                let n = pop!();
                let s = pop!();
                push!(match (s.present(), n.present(), fill.present()) {
                    (Some(Value::Text(s)), Some(Value::Int(n)), Some(Value::Text(f))) => {
                        text_slot(strings::pad(s, *n, f, op == Op::Lpad))
                    }
                    _ => Slot::Unknown,
                })
            }
            Op::Coalesce(n) => {
                let n = n as usize;
                if n > stack.len() {
                    return Eval::Unknown;
                }
                let args: SmallVec<[Slot<'_>; 8]> = stack.drain(stack.len() - n..).collect();
                let first = args
                    .into_iter()
                    .find(|a| a.present().is_some())
                    .unwrap_or(Slot::owned(Value::Null));
                push!(first)
            }
            Op::StartsWith | Op::EndsWith => {
                let b = pop!();
                let a = pop!();
                let t = match (a.present(), b.present()) {
                    (Some(Value::Text(s)), Some(Value::Text(p))) => {
                        Tri::from_bool(if op == Op::StartsWith {
                            s.starts_with(p.as_str())
                        } else {
                            s.ends_with(p.as_str())
                        })
                    }
                    _ => Tri::Unknown,
                };
                push!(Slot::tri(t))
            }
            Op::Age => {
                let v = pop!();
                let today = env.now.date_naive();
                push!(match v.present() {
                    Some(Value::Date(d)) => Slot::owned(Value::Int(whole_years(*d, today))),
                    Some(Value::Timestamp(t)) => {
                        Slot::owned(Value::Int(whole_years(t.date_naive(), today)))
                    }
                    _ => Slot::Unknown,
                })
            }
            Op::Has => {
                let v = pop!();
                push!(Slot::boolean(
                    v.present().is_some() || matches!(v, Slot::Dur(_) | Slot::Months(_))
                ))
            }
            Op::InGroup(s) | Op::HasRole(s) => {
                let Some(name) = env.strings.get(s as usize) else {
                    return Eval::Unknown;
                };
                let set = if matches!(op, Op::InGroup(_)) {
                    &env.subject.groups
                } else {
                    &env.subject.roles
                };
                push!(Slot::tri(text_list_contains(set, name)))
            }
            Op::HasAttribute(s) => {
                let Some(name) = env.strings.get(s as usize) else {
                    return Eval::Unknown;
                };
                let t = match &env.subject.attributes {
                    Value::Struct(_) => match attribute(&env.subject.attributes, name) {
                        Some(Value::List(_)) => Tri::True,
                        Some(_) => Tri::Unknown,
                        None => Tri::False,
                    },
                    _ => Tri::Unknown,
                };
                push!(Slot::tri(t))
            }
            Op::HasAttributeValue { name, value } => {
                let (Some(name), Some(value)) = (
                    env.strings.get(name as usize),
                    env.strings.get(value as usize),
                ) else {
                    return Eval::Unknown;
                };
                let t = match &env.subject.attributes {
                    Value::Struct(_) => match attribute(&env.subject.attributes, name) {
                        Some(vals) => text_list_contains(vals, value),
                        None => Tri::False,
                    },
                    _ => Tri::Unknown,
                };
                push!(Slot::tri(t))
            }
            Op::InTable(t) => {
                let v = pop!();
                push!(match v.present() {
                    Some(x) => Slot::tri(env.tables.contains(t, x)),
                    None => Slot::Unknown,
                })
            }
            Op::ActingUnder(p) => {
                let t = match &env.subject.purpose_ids {
                    Some(ids) => Tri::from_bool(ids.iter().any(|a| env.purposes.is_under(*a, p))),
                    None => Tri::Unknown,
                };
                push!(Slot::tri(t))
            }
        }
    }
    if stack.len() != 1 {
        return Eval::Unknown;
    }
    match stack.pop() {
        Some(Slot::Val(v)) => Eval::Value(v.into_owned()),
        _ => Eval::Unknown,
    }
}

fn nonnull(v: &Value) -> Slot<'_> {
    if v.is_null() {
        Slot::Unknown
    } else {
        Slot::Val(Cow::Borrowed(v))
    }
}

fn index<'a>(container: Slot<'a>, key: &Slot<'_>) -> Slot<'a> {
    let Some(k) = key.present() else {
        return Slot::Unknown;
    };
    match container {
        Slot::Val(Cow::Borrowed(c)) => match (c, k) {
            (Value::List(items), Value::Int(i)) => match usize::try_from(*i) {
                Ok(i) => items
                    .get(i)
                    .map_or(Slot::owned(Value::Null), |v| Slot::Val(Cow::Borrowed(v))),
                Err(_) => Slot::owned(Value::Null),
            },
            (Value::Struct(fields), Value::Text(name)) => fields
                .iter()
                .find(|(n, _)| n == name)
                .map_or(Slot::owned(Value::Null), |(_, v)| {
                    Slot::Val(Cow::Borrowed(v))
                }),
            (Value::Null, _) => Slot::owned(Value::Null),
            _ => Slot::Unknown,
        },
        Slot::Val(Cow::Owned(c)) => match (c, k) {
            (Value::List(items), Value::Int(i)) => match usize::try_from(*i) {
                Ok(i) => Slot::owned(items.into_iter().nth(i).unwrap_or(Value::Null)),
                Err(_) => Slot::owned(Value::Null),
            },
            (Value::Struct(fields), Value::Text(name)) => Slot::owned(
                fields
                    .into_iter()
                    .find(|(n, _)| n == name)
                    .map_or(Value::Null, |(_, v)| v),
            ),
            (Value::Null, _) => Slot::owned(Value::Null),
            _ => Slot::Unknown,
        },
        _ => Slot::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_are_recognised_in_either_order_and_nothing_else() {
        let p = |code: Vec<Op>| Program::new(code, vec![Value::Text("US".into())]);
        assert_eq!(
            comparison(&p(vec![Op::Column(3), Op::Const(0), Op::Eq])),
            Some(Comparison {
                column: 3,
                operand: Operand::Const(0),
                negate: false
            })
        );
        assert_eq!(
            comparison(&p(vec![Op::UserField(1), Op::Column(2), Op::Ne])),
            Some(Comparison {
                column: 2,
                operand: Operand::UserField(1),
                negate: true
            })
        );
        assert_eq!(
            comparison(&p(vec![Op::Login, Op::Column(0), Op::Eq])),
            Some(Comparison {
                column: 0,
                operand: Operand::Login,
                negate: false
            })
        );
        assert_eq!(
            comparison(&p(vec![Op::Column(3), Op::Const(0), Op::Lt])),
            None
        );
        assert_eq!(
            comparison(&p(vec![Op::Column(3), Op::Column(4), Op::Eq])),
            None
        );
        assert_eq!(
            comparison(&p(vec![Op::Column(3), Op::Const(0), Op::Eq, Op::Not])),
            None
        );
    }

    #[test]
    fn role_or_group_is_the_interpreter_on_one_op_programs_and_nothing_else() {
        let strings = vec!["hr".to_owned()];
        let tables = crate::lookup::TableSnapshot::of_bundle(&[]);
        let purposes = PurposeTree::default();
        let subject = |roles: Value, groups: Value| crate::engine::Subject {
            login: Value::Null,
            groups,
            roles,
            attributes: Value::Struct(Vec::new()),
            purposes: Value::List(Vec::new()),
            purpose_ids: Some(Vec::new()),
            fields: Vec::new(),
            issues: Vec::new(),
        };
        let hr = || Value::List(vec![Value::Text("hr".into())]);
        let subjects = [
            subject(hr(), Value::List(Vec::new())),
            subject(Value::List(Vec::new()), hr()),
            subject(Value::Null, Value::Null),
        ];
        let programs = [
            vec![Op::HasRole(0)],
            vec![Op::InGroup(0)],
            vec![Op::HasRole(7)],
            vec![Op::InGroup(7)],
        ];
        let mut seen = Vec::new();
        for subject in &subjects {
            let env = Env {
                row: Row::EMPTY,
                paths: &[],
                value: None,
                subject,
                now: chrono::DateTime::UNIX_EPOCH,
                strings: &strings,
                regexes: &[],
                purposes: &purposes,
                tables: &tables,
            };
            for code in &programs {
                let p = Program::new(code.clone(), Vec::new());
                let direct = role_or_group(&p, subject, &strings);
                assert_eq!(direct, Some(run(&p, &env).truth()), "{code:?}");
                seen.extend(direct);
            }
            let two = Program::new(vec![Op::HasRole(0), Op::Not], Vec::new());
            assert_eq!(role_or_group(&two, subject, &strings), None);
        }
        assert!(seen.contains(&Tri::True) && seen.contains(&Tri::False));
        assert!(seen.contains(&Tri::Unknown));
    }

    #[test]
    fn eq_tri_is_unknown_for_null_missing_and_incomparable_values() {
        let us = Value::Text("US".into());
        assert_eq!(
            eq_tri(Some(&us), Some(&Value::Text("US".into()))),
            Tri::True
        );
        assert_eq!(
            eq_tri(Some(&us), Some(&Value::Text("FR".into()))),
            Tri::False
        );
        assert_eq!(
            eq_tri(Some(&Value::Int(2)), Some(&Value::Decimal(2.0))),
            Tri::True
        );
        assert_eq!(eq_tri(Some(&Value::Null), Some(&us)), Tri::Unknown);
        assert_eq!(eq_tri(None, Some(&us)), Tri::Unknown);
        assert_eq!(eq_tri(Some(&us), Some(&Value::Int(1))), Tri::Unknown);
    }
}
