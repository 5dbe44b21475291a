//! Typed expressions: the checker's output for every condition and derived column.

use super::{NodeId, Ty};
use pol_grammar::ast::BinOp;
use pol_grammar::Span;

/// A constant value.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Decimal(f64),
    Text(String),
    Date(chrono::NaiveDate),
    Timestamp(chrono::DateTime<chrono::Utc>),
    /// A fixed duration, in seconds.
    Duration(i64),
    /// A calendar duration, in months (`6mo`, `1y`).
    Months(i64),
}

/// Built-in functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Lower,
    Upper,
    Len,
    Concat,
    StartsWith,
    EndsWith,
    Now,
    Today,
    Age,
    Has,
    /// `replace(s, from, to)`.
    Replace,
    /// `regex_replace(s, r"pattern", "replacement")`: pattern and replacement are text
    /// constants (checked and compiled by the checker).
    RegexReplace,
    /// `substring(s, start[, len])`.
    Substring,
    /// `length(s)`: characters of a text.
    Length,
    /// `lpad(s, n, fill)`.
    Lpad,
    /// `rpad(s, n, fill)`.
    Rpad,
    /// `coalesce(a, b, …)`: the first argument that is neither null nor unknown.
    Coalesce,
}

impl Builtin {
    pub const ALL: &'static [(&'static str, Builtin)] = &[
        ("lower", Builtin::Lower),
        ("upper", Builtin::Upper),
        ("len", Builtin::Len),
        ("concat", Builtin::Concat),
        ("starts_with", Builtin::StartsWith),
        ("ends_with", Builtin::EndsWith),
        ("now", Builtin::Now),
        ("today", Builtin::Today),
        ("age", Builtin::Age),
        ("has", Builtin::Has),
        ("replace", Builtin::Replace),
        ("regex_replace", Builtin::RegexReplace),
        ("substring", Builtin::Substring),
        ("length", Builtin::Length),
        ("lpad", Builtin::Lpad),
        ("rpad", Builtin::Rpad),
        ("coalesce", Builtin::Coalesce),
    ];

    pub fn name(self) -> &'static str {
        Builtin::ALL
            .iter()
            .find(|(_, b)| *b == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CExpr {
    pub kind: CKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CKind {
    Const(Const),
    List(Vec<CExpr>),
    /// A subject field by index into [`super::Model::subject`].
    User(usize),
    /// A column of the row being evaluated, by full dotted name; resolved per source when lowered.
    Row(String),
    /// `row[tagged T]`: resolved per source.
    RowTagged(NodeId),
    /// `value` inside `expr(…)`.
    Value,
    Field(Box<CExpr>, String),
    Index(Box<CExpr>, Box<CExpr>),
    Call(Builtin, Vec<CExpr>),
    Neg(Box<CExpr>),
    Not(Box<CExpr>),
    Binary(BinOp, Box<CExpr>, Box<CExpr>),
    /// `e under P` (purpose `P`).
    Under(Box<CExpr>, NodeId),
    If(Box<CExpr>, Box<CExpr>, Box<CExpr>),
    InGroup(Box<CExpr>),
    HasRole(Box<CExpr>),
    HasAttribute(Box<CExpr>, Option<Box<CExpr>>),
    ActingUnder(NodeId),
    /// `matches` with a precompiled pattern (the right operand).
    Matches(Box<CExpr>, String),
    /// `e in table T`: lookup table `T` by index into [`super::Model::tables`].
    InTable(Box<CExpr>, super::TableId),
}

impl CExpr {
    pub fn new(kind: CKind, ty: Ty, span: Span) -> CExpr {
        CExpr { kind, ty, span }
    }

    pub fn error(span: Span) -> CExpr {
        CExpr::new(CKind::Const(Const::Null), Ty::Error, span)
    }

    /// Calls `f` on this expression and every sub-expression.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a CExpr)) {
        f(self);
        match &self.kind {
            CKind::Const(_)
            | CKind::User(_)
            | CKind::Row(_)
            | CKind::RowTagged(_)
            | CKind::Value
            | CKind::ActingUnder(_) => {}
            CKind::List(items) | CKind::Call(_, items) => items.iter().for_each(|e| e.walk(f)),
            CKind::Field(e, _)
            | CKind::Neg(e)
            | CKind::Not(e)
            | CKind::Under(e, _)
            | CKind::InGroup(e)
            | CKind::HasRole(e)
            | CKind::Matches(e, _)
            | CKind::InTable(e, _) => e.walk(f),
            CKind::Index(a, b) | CKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            CKind::If(a, b, c) => {
                a.walk(f);
                b.walk(f);
                c.walk(f);
            }
            CKind::HasAttribute(a, b) => {
                a.walk(f);
                if let Some(b) = b {
                    b.walk(f);
                }
            }
        }
    }

    /// Does the expression read the row (or the cell's `value`)?
    pub fn reads_row(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(e.kind, CKind::Row(_) | CKind::RowTagged(_) | CKind::Value) {
                found = true;
            }
        });
        found
    }

    /// Does the expression read the row (`row.x`, `row[tagged T]`; `value` does not count)?
    pub fn reads_row_itself(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(e.kind, CKind::Row(_) | CKind::RowTagged(_)) {
                found = true;
            }
        });
        found
    }

    /// Column names it reads with `row.x`, with the span of each reference.
    pub fn row_refs(&self) -> Vec<(&str, Span)> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let CKind::Row(name) = &e.kind {
                out.push((name.as_str(), e.span));
            }
        });
        out
    }

    /// Tags it reads with `row[tagged T]`.
    pub fn tagged_refs(&self) -> Vec<(NodeId, Span)> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let CKind::RowTagged(t) = &e.kind {
                out.push((*t, e.span));
            }
        });
        out
    }
}
