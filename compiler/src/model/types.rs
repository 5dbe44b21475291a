//! Types of columns, subject fields and expressions.

use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Bool,
    Int,
    Decimal,
    Text,
    /// Text with a known domain.
    Enum(Arc<Vec<String>>),
    Date,
    Timestamp,
    Duration,
    /// A calendar duration (`6mo`, `1y`): months, whose length depends on the date moved.
    Months,
    /// A declared purpose (hierarchical).
    Purpose,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    Struct(Arc<Vec<(String, Ty)>>),
    /// The type of the `null` literal.
    Null,
    /// The type of an expression that already has an error: never reported again.
    Error,
}

impl Ty {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Decimal)
    }

    pub fn is_textual(&self) -> bool {
        matches!(self, Ty::Text | Ty::Enum(_))
    }

    pub fn is_temporal(&self) -> bool {
        matches!(self, Ty::Date | Ty::Timestamp)
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }

    /// Can values of these two types be compared with `==`?
    pub fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (a, b) if a.is_textual() && b.is_textual() => true,
            (Ty::Purpose, b) | (b, Ty::Purpose) => matches!(b, Ty::Purpose | Ty::Text),
            (Ty::List(a), Ty::List(b))
            | (Ty::Set(a), Ty::Set(b))
            | (Ty::List(a), Ty::Set(b))
            | (Ty::Set(a), Ty::List(b)) => a.comparable(b),
            (Ty::Map(k1, v1), Ty::Map(k2, v2)) => k1.comparable(k2) && v1.comparable(v2),
            (a, b) => a == b,
        }
    }

    /// Can these be ordered with `<`?
    pub fn ordered(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (a, b) if a.is_textual() && b.is_textual() => true,
            (Ty::Date, Ty::Date)
            | (Ty::Timestamp, Ty::Timestamp)
            | (Ty::Duration, Ty::Duration)
            | (Ty::Months, Ty::Months) => true,
            (Ty::Date, Ty::Timestamp) | (Ty::Timestamp, Ty::Date) => true,
            _ => false,
        }
    }

    /// Is a value of type `self` accepted where `expected` is wanted (an int where a decimal is)?
    pub fn assignable_to(&self, expected: &Ty) -> bool {
        match (self, expected) {
            (Ty::Error, _) | (_, Ty::Error) | (Ty::Null, _) => true,
            (Ty::Int, Ty::Decimal) => true,
            (Ty::Text, Ty::Enum(_)) => true,
            (Ty::Enum(_), Ty::Text) => true,
            (Ty::Text, Ty::Purpose) => true,
            (Ty::List(a), Ty::List(b)) | (Ty::List(a), Ty::Set(b)) | (Ty::Set(a), Ty::Set(b)) => {
                a.assignable_to(b)
            }
            (Ty::Map(k1, v1), Ty::Map(k2, v2)) => k1.assignable_to(k2) && v1.assignable_to(v2),
            (Ty::Struct(a), Ty::Struct(b)) => a
                .iter()
                .all(|(n, t)| b.iter().any(|(m, u)| m == n && t.assignable_to(u))),
            (a, b) => a == b,
        }
    }

    /// The element type of a collection (list, set) or `None`.
    pub fn element(&self) -> Option<&Ty> {
        match self {
            Ty::List(t) | Ty::Set(t) => Some(t),
            _ => None,
        }
    }

    /// A short name for a type family, used to group columns in messages.
    pub fn family(&self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Decimal => "decimal",
            Ty::Text => "text",
            Ty::Enum(_) => "enum",
            Ty::Date => "date",
            Ty::Timestamp => "timestamp",
            Ty::Duration => "duration",
            Ty::Months => "calendar duration",
            Ty::Purpose => "purpose",
            Ty::List(_) => "list",
            Ty::Set(_) => "set",
            Ty::Map(_, _) => "map",
            Ty::Struct(_) => "struct",
            Ty::Null => "null",
            Ty::Error => "{error}",
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Enum(values) => {
                write!(f, "enum(")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v:?}")?;
                }
                write!(f, ")")
            }
            Ty::List(t) => write!(f, "list<{t}>"),
            Ty::Set(t) => write!(f, "set<{t}>"),
            Ty::Map(k, v) => write!(f, "map<{k}, {v}>"),
            Ty::Struct(fields) => {
                write!(f, "struct {{ ")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{n}: {t}")?;
                }
                write!(f, " }}")
            }
            other => f.write_str(other.family()),
        }
    }
}
