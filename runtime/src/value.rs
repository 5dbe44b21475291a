//! Runtime values, column types and their JSON encoding.
//!
//! A [`Value`] is one cell of a row as the runtime sees it. Rows arrive and leave as JSON; the
//! decoder [`Value::from_json`] is *typed*: it reads a JSON value against the [`ColumnType`]
//! declared for the column and reports a [`TypeMismatch`] rather than guessing. The caller masks a
//! mismatching cell with null (the language's "nothing fails open" rule).
//!
//! # JSON encoding ([`Value::to_json`])
//!
//! | value | JSON |
//! | --- | --- |
//! | `Null` | `null` |
//! | `Bool`, `Int`, `Text` | boolean, integer number, string |
//! | `Decimal` | a JSON *float* number, always: `25.0` prints as `25.0`, never `25` (see below); a non-finite decimal (NaN, ±∞) has no JSON form and prints as `null` |
//! | `Date` | `"YYYY-MM-DD"` |
//! | `Timestamp` | RFC 3339 in UTC with a `Z` suffix and only the sub-second digits needed: `"2024-05-01T10:00:00Z"` |
//! | `List` | array |
//! | `Struct` | object; fields are inserted in declaration order, which the JSON text keeps only when `serde_json`'s `preserve_order` feature is on (a workspace-wide choice; otherwise keys come out sorted) |
//!
//! **Decimals keep their fraction.** An integral decimal is printed as a float (`25.0`) rather than
//! collapsed to an integer: it is lossless (the shortest representation that round-trips to the
//! same `f64`), and a reader can still tell a decimal column from an int column. Readers that
//! want `25` can strip it themselves; the decoder accepts both forms for decimal columns.

use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// One cell value.
///
/// Enum columns hold [`Value::Text`]; the enum's domain lives in the [`ColumnType`].
///
/// Serialised in bundles (postcard: the variant's index): variants are append-only (see
/// [`Bundle`](crate::bundle::Bundle)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// The absent value; every column may hold it.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A binary64 decimal.
    Decimal(f64),
    /// UTF-8 text (also the value of an enum column).
    Text(String),
    /// A calendar date without time zone.
    Date(NaiveDate),
    /// An instant, in UTC.
    Timestamp(DateTime<Utc>),
    /// A list of values of one element type.
    List(Vec<Value>),
    /// A record: named fields in declaration order.
    Struct(Vec<(String, Value)>),
}

/// The declared type of a column (or of a struct field / list element).
///
/// Serialised in bundles (postcard: the variant's index): variants are append-only (see
/// [`Bundle`](crate::bundle::Bundle)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnType {
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `decimal`
    Decimal,
    /// `text`
    Text,
    /// `enum("a", …)`: text restricted to the listed domain.
    Enum(Vec<String>),
    /// `date`
    Date,
    /// `timestamp`
    Timestamp,
    /// `list<T>`
    List(Box<ColumnType>),
    /// `struct { name: T, … }`
    Struct(Vec<(String, ColumnType)>),
}

/// The column types a value conforms to by its kind alone (every type but `enum`, `list` and
/// `struct`).
///
/// Each variant's number is the [`kind`](Value::kind) of the values it admits besides null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Simple {
    Bool = 1,
    Int = 2,
    Decimal = 3,
    Text = 4,
    Date = 5,
    Timestamp = 6,
}

impl Simple {
    /// The simple type `ty` is, if it is one.
    pub(crate) fn of(ty: &ColumnType) -> Option<Simple> {
        Some(match ty {
            ColumnType::Bool => Simple::Bool,
            ColumnType::Int => Simple::Int,
            ColumnType::Decimal => Simple::Decimal,
            ColumnType::Text => Simple::Text,
            ColumnType::Date => Simple::Date,
            ColumnType::Timestamp => Simple::Timestamp,
            _ => return None,
        })
    }

    /// Whether `v` conforms as it is (null conforms to every type): one comparison of kinds
    /// (the typed row path checks every cell of a row with it).
    #[inline]
    pub(crate) fn admits(self, v: &Value) -> bool {
        let kind = v.kind();
        kind == NULL_KIND || kind == self as u8
    }
}

/// The [`kind`](Value::kind) of null.
const NULL_KIND: u8 = 0;

impl Value {
    /// The value's kind as a small number: null 0, then the [`Simple`] types' numbers, then 7
    /// for lists and structs (which no simple type admits).
    #[inline]
    fn kind(&self) -> u8 {
        match self {
            Value::Null => NULL_KIND,
            Value::Bool(_) => Simple::Bool as u8,
            Value::Int(_) => Simple::Int as u8,
            Value::Decimal(_) => Simple::Decimal as u8,
            Value::Text(_) => Simple::Text as u8,
            Value::Date(_) => Simple::Date as u8,
            Value::Timestamp(_) => Simple::Timestamp as u8,
            Value::List(_) | Value::Struct(_) => 7,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Bool => f.write_str("bool"),
            ColumnType::Int => f.write_str("int"),
            ColumnType::Decimal => f.write_str("decimal"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Enum(domain) => {
                f.write_str("enum(")?;
                for (i, d) in domain.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{d:?}")?;
                }
                f.write_str(")")
            }
            ColumnType::Date => f.write_str("date"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::List(elem) => write!(f, "list<{elem}>"),
            ColumnType::Struct(fields) => {
                f.write_str("struct { ")?;
                for (name, ty) in fields {
                    write!(f, "{name}: {ty}, ")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// A JSON value that does not fit the declared [`ColumnType`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeMismatch {
    /// Where in the value the mismatch is: empty for the value itself, then `.field` and `[index]`
    /// steps into structs and lists, e.g. `.patient.ssn` or `[2]`.
    pub path: String,
    /// The expected type, rendered as in the language (`int`, `enum("MD", "VA")`, `list<text>`).
    pub expected: String,
    /// What was found: a JSON kind (`string`, `number`, …) or, for a text outside an enum's
    /// domain, `text outside the enum's domain`.
    pub found: String,
}

impl fmt::Display for TypeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "expected {}, found {}", self.expected, self.found)
        } else {
            write!(
                f,
                "at `{}`: expected {}, found {}",
                self.path, self.expected, self.found
            )
        }
    }
}

impl std::error::Error for TypeMismatch {}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_f64() => "non-integer number",
        serde_json::Value::Number(_) => "integer number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

impl Value {
    /// The name of the value's type as the language spells it (`null`, `bool`, `int`,
    /// `decimal`, `text`, `date`, `timestamp`, `list`, `struct`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Decimal(_) => "decimal",
            Value::Text(_) => "text",
            Value::Date(_) => "date",
            Value::Timestamp(_) => "timestamp",
            Value::List(_) => "list",
            Value::Struct(_) => "struct",
        }
    }

    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Encodes the value as JSON (see the [module documentation](self) for the exact forms).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Decimal(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
            Value::Text(s) => J::String(s.clone()),
            Value::Date(d) => J::String(d.to_string()),
            Value::Timestamp(t) => J::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Struct(fields) => J::Object(
                fields
                    .iter()
                    .map(|(name, v)| (name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The canonical text form of a value, used wherever a technique needs bytes of a non-text
    /// value (hashing an int, seeding noise by a row key, `digits` on a number):
    ///
    /// - text: itself; bool: `true`/`false`; int: decimal digits with a leading `-` if negative;
    /// - decimal: the JSON number text (`25.0`, `0.1`, `1e300`); NaN and infinities as `NaN`,
    ///   `inf`, `-inf`;
    /// - date and timestamp: their JSON strings without quotes (`1988-07-14`,
    ///   `2024-05-01T10:00:00Z`);
    /// - null: `null`; list and struct: their compact JSON text.
    pub fn canonical_text(&self) -> String {
        match self {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Decimal(x) => match serde_json::Number::from_f64(*x) {
                Some(n) => n.to_string(),
                None => x.to_string(),
            },
            Value::Text(s) => s.clone(),
            Value::Date(d) => d.to_string(),
            Value::Timestamp(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            Value::List(_) | Value::Struct(_) => self.to_json().to_string(),
        }
    }

    /// Whether the value conforms to `ty`: null conforms to every type, an int does *not* conform
    /// to decimal (decoding converts it), a text conforms to an enum only if it is in the domain,
    /// and a struct must have exactly the declared fields in declaration order.
    pub fn conforms_to(&self, ty: &ColumnType) -> bool {
        if let Some(simple) = Simple::of(ty) {
            return simple.admits(self);
        }
        match (self, ty) {
            (Value::Null, _) => true,
            (Value::Text(s), ColumnType::Enum(domain)) => domain.iter().any(|d| d == s),
            (Value::List(items), ColumnType::List(elem)) => {
                items.iter().all(|item| item.conforms_to(elem))
            }
            (Value::Struct(fields), ColumnType::Struct(decl)) => {
                fields.len() == decl.len()
                    && fields
                        .iter()
                        .zip(decl)
                        .all(|((n, v), (dn, dt))| n == dn && v.conforms_to(dt))
            }
            _ => false,
        }
    }

    /// Decodes a JSON value against the declared type.
    ///
    /// - JSON `null` is [`Value::Null`] for every type.
    /// - `int` takes an integer JSON number within `i64`; `decimal` takes any JSON number (an
    ///   integer one included); `bool` and `text` take booleans and strings.
    /// - `enum(…)` takes a string of its domain; any other string is a mismatch.
    /// - `date` takes `"YYYY-MM-DD"`; `timestamp` takes an RFC 3339 string with any offset,
    ///   converted to UTC.
    /// - `list<T>` takes an array whose elements decode as `T`.
    /// - `struct {…}` takes an object: declared fields in declaration order, a missing field is
    ///   null, undeclared fields are dropped.
    pub fn from_json(v: &serde_json::Value, ty: &ColumnType) -> Result<Value, TypeMismatch> {
        let mut path = String::new();
        decode(v, ty, &mut path)
    }
}

fn decode(
    v: &serde_json::Value,
    ty: &ColumnType,
    path: &mut String,
) -> Result<Value, TypeMismatch> {
    use serde_json::Value as J;
    let mismatch = |path: &String, found: &str| TypeMismatch {
        path: path.clone(),
        expected: ty.to_string(),
        found: found.to_owned(),
    };
    match (v, ty) {
        (J::Null, _) => Ok(Value::Null),
        (J::Bool(b), ColumnType::Bool) => Ok(Value::Bool(*b)),
        (J::Number(n), ColumnType::Int) => match n.as_i64() {
            Some(i) => Ok(Value::Int(i)),
            None if n.is_u64() => Err(mismatch(path, "integer outside the int range")),
            None => Err(mismatch(path, json_kind(v))),
        },
        (J::Number(n), ColumnType::Decimal) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(Value::Decimal(x)),
            _ => Err(mismatch(path, "number outside the decimal range")),
        },
        (J::String(s), ColumnType::Text) => Ok(Value::Text(s.clone())),
        (J::String(s), ColumnType::Enum(domain)) => {
            if domain.iter().any(|d| d == s) {
                Ok(Value::Text(s.clone()))
            } else {
                Err(mismatch(path, "text outside the enum's domain"))
            }
        }
        (J::String(s), ColumnType::Date) => s
            .parse::<NaiveDate>()
            .map(Value::Date)
            .map_err(|_| mismatch(path, "string that is not a YYYY-MM-DD date")),
        (J::String(s), ColumnType::Timestamp) => DateTime::parse_from_rfc3339(s)
            .map(|t| Value::Timestamp(t.with_timezone(&Utc)))
            .map_err(|_| mismatch(path, "string that is not an RFC 3339 timestamp")),
        (J::Array(items), ColumnType::List(elem)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let decoded = decode(item, elem, path);
                path.truncate(len);
                out.push(decoded?);
            }
            Ok(Value::List(out))
        }
        (J::Object(map), ColumnType::Struct(fields)) => {
            let mut out = Vec::with_capacity(fields.len());
            for (name, fty) in fields {
                let decoded = match map.get(name) {
                    None => Value::Null,
                    Some(fv) => {
                        let len = path.len();
                        path.push('.');
                        path.push_str(name);
                        let decoded = decode(fv, fty, path);
                        path.truncate(len);
                        decoded?
                    }
                };
                out.push((name.clone(), decoded));
            }
            Ok(Value::Struct(out))
        }
        _ => Err(mismatch(path, json_kind(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn a_simple_type_admits_null_and_its_own_kind_only() {
        let t = DateTime::parse_from_rfc3339("2024-05-01T12:00:00+02:00")
            .expect("valid")
            .with_timezone(&Utc);
        let values = [
            Value::Null,
            Value::Bool(false),
            Value::Int(1),
            Value::Decimal(1.5),
            Value::Text("a".into()),
            Value::Date(date(2024, 5, 1)),
            Value::Timestamp(t),
            Value::List(vec![Value::Int(1)]),
            Value::Struct(vec![("a".into(), Value::Null)]),
        ];
        let types = [
            (Simple::Bool, ColumnType::Bool),
            (Simple::Int, ColumnType::Int),
            (Simple::Decimal, ColumnType::Decimal),
            (Simple::Text, ColumnType::Text),
            (Simple::Date, ColumnType::Date),
            (Simple::Timestamp, ColumnType::Timestamp),
        ];
        let mut admitted = Vec::new();
        for (simple, ty) in &types {
            for v in &values {
                if simple.admits(v) {
                    admitted.push(format!("{ty} {}", v.type_name()));
                }
                // The kind comparison agrees with the declared type's own check.
                let declared = matches!(
                    (v, ty),
                    (Value::Null, _)
                        | (Value::Bool(_), ColumnType::Bool)
                        | (Value::Int(_), ColumnType::Int)
                        | (Value::Decimal(_), ColumnType::Decimal)
                        | (Value::Text(_), ColumnType::Text)
                        | (Value::Date(_), ColumnType::Date)
                        | (Value::Timestamp(_), ColumnType::Timestamp)
                );
                assert_eq!(simple.admits(v), declared, "{ty} and {v:?}");
            }
        }
        assert_eq!(admitted.len(), 12, "{admitted:?}");
    }

    #[test]
    fn to_json_forms() {
        assert_eq!(Value::Null.to_json(), json!(null));
        assert_eq!(Value::Bool(true).to_json(), json!(true));
        assert_eq!(Value::Int(-3).to_json(), json!(-3));
        assert_eq!(Value::Decimal(3.5).to_json(), json!(3.5));
        assert_eq!(Value::Decimal(25.0).to_json().to_string(), "25.0");
        assert_eq!(Value::Decimal(f64::NAN).to_json(), json!(null));
        assert_eq!(Value::Text("a".into()).to_json(), json!("a"));
        assert_eq!(
            Value::Date(date(1988, 7, 14)).to_json(),
            json!("1988-07-14")
        );
        let t = DateTime::parse_from_rfc3339("2024-05-01T12:00:00+02:00")
            .expect("valid")
            .with_timezone(&Utc);
        assert_eq!(Value::Timestamp(t).to_json(), json!("2024-05-01T10:00:00Z"));
        let v = Value::Struct(vec![
            ("b".into(), Value::Int(1)),
            (
                "a".into(),
                Value::List(vec![Value::Null, Value::Text("x".into())]),
            ),
        ]);
        assert_eq!(v.to_json(), json!({"b": 1, "a": [null, "x"]}));
    }

    #[test]
    fn canonical_text_forms() {
        assert_eq!(Value::Int(-42).canonical_text(), "-42");
        assert_eq!(Value::Decimal(25.0).canonical_text(), "25.0");
        assert_eq!(Value::Decimal(0.1).canonical_text(), "0.1");
        assert_eq!(
            Value::Date(date(1988, 7, 14)).canonical_text(),
            "1988-07-14"
        );
        assert_eq!(Value::Bool(false).canonical_text(), "false");
    }

    #[test]
    fn decode_scalars() {
        assert_eq!(
            Value::from_json(&json!(null), &ColumnType::Int),
            Ok(Value::Null)
        );
        assert_eq!(
            Value::from_json(&json!(5), &ColumnType::Int),
            Ok(Value::Int(5))
        );
        assert_eq!(
            Value::from_json(&json!(5), &ColumnType::Decimal),
            Ok(Value::Decimal(5.0))
        );
        assert!(Value::from_json(&json!(5.5), &ColumnType::Int).is_err());
        assert!(Value::from_json(&json!(u64::MAX), &ColumnType::Int).is_err());
        assert!(Value::from_json(&json!("5"), &ColumnType::Int).is_err());
        assert_eq!(
            Value::from_json(&json!("1988-07-14"), &ColumnType::Date),
            Ok(Value::Date(date(1988, 7, 14)))
        );
        assert!(Value::from_json(&json!("1988-13-14"), &ColumnType::Date).is_err());
        let ts = Value::from_json(&json!("2024-05-01T12:00:00+02:00"), &ColumnType::Timestamp)
            .expect("valid timestamp");
        assert_eq!(ts.to_json(), json!("2024-05-01T10:00:00Z"));
        assert_eq!(
            Value::from_json(&json!(true), &ColumnType::Bool),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn decode_enum_domain() {
        let ty = ColumnType::Enum(vec!["MD".into(), "VA".into()]);
        assert_eq!(
            Value::from_json(&json!("VA"), &ty),
            Ok(Value::Text("VA".into()))
        );
        let err = Value::from_json(&json!("DE"), &ty).expect_err("outside domain");
        assert_eq!(err.expected, r#"enum("MD", "VA")"#);
        assert_eq!(err.found, "text outside the enum's domain");
    }

    #[test]
    fn decode_struct_and_list() {
        let ty = ColumnType::Struct(vec![
            ("name".into(), ColumnType::Text),
            ("ssn".into(), ColumnType::Text),
            ("tags".into(), ColumnType::List(Box::new(ColumnType::Int))),
        ]);
        let v = Value::from_json(&json!({"extra": 1, "tags": [1, null], "name": "x"}), &ty)
            .expect("decodes");
        assert_eq!(
            v,
            Value::Struct(vec![
                ("name".into(), Value::Text("x".into())),
                ("ssn".into(), Value::Null),
                ("tags".into(), Value::List(vec![Value::Int(1), Value::Null])),
            ])
        );
        assert!(v.conforms_to(&ty));
        let err = Value::from_json(&json!({"tags": [1, "a"]}), &ty).expect_err("bad element");
        assert_eq!(err.path, ".tags[1]");
        assert_eq!(err.to_string(), "at `.tags[1]`: expected int, found string");
    }

    #[test]
    fn serde_round_trip() {
        let v = Value::List(vec![
            Value::Date(date(2000, 1, 2)),
            Value::Decimal(1.5),
            Value::Struct(vec![("a".into(), Value::Null)]),
        ]);
        let s = serde_json::to_string(&v).expect("serializes");
        let back: Value = serde_json::from_str(&s).expect("deserializes");
        assert_eq!(v, back);
        let ty = ColumnType::List(Box::new(ColumnType::Enum(vec!["a".into()])));
        let s = serde_json::to_string(&ty).expect("serializes");
        assert_eq!(
            serde_json::from_str::<ColumnType>(&s).expect("deserializes"),
            ty
        );
    }
}
