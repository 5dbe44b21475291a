//! JSON cells read against their declared types (docs/language.md, "Reading JSON cells"), and
//! whether a computed value has its column's type — written here rather than borrowed from the
//! runtime's decoder, so that the differential tests compare two readings of every row.

use chrono::{DateTime, NaiveDate, Utc};
use pol_runtime::value::{ColumnType, Value};
use serde_json::Value as Json;

/// The value of a JSON cell of type `ty`; `None` when it is not of that type.
pub fn decode(json: &Json, ty: &ColumnType) -> Option<Value> {
    Some(match (json, ty) {
        (Json::Null, _) => Value::Null,
        (Json::Bool(b), ColumnType::Bool) => Value::Bool(*b),
        (Json::Number(n), ColumnType::Int) => Value::Int(n.as_i64()?),
        (Json::Number(n), ColumnType::Decimal) => {
            Value::Decimal(n.as_f64().filter(|x| x.is_finite())?)
        }
        (Json::String(s), ColumnType::Text) => Value::Text(s.clone()),
        (Json::String(s), ColumnType::Enum(domain)) if domain.contains(s) => Value::Text(s.clone()),
        (Json::String(s), ColumnType::Date) => Value::Date(s.parse::<NaiveDate>().ok()?),
        (Json::String(s), ColumnType::Timestamp) => {
            Value::Timestamp(DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc))
        }
        (Json::Array(items), ColumnType::List(element)) => Value::List(
            items
                .iter()
                .map(|item| decode(item, element))
                .collect::<Option<_>>()?,
        ),
        (Json::Object(map), ColumnType::Struct(fields)) => Value::Struct(
            fields
                .iter()
                .map(|(name, field_ty)| {
                    let v = match map.get(name) {
                        Some(j) => decode(j, field_ty)?,
                        None => Value::Null,
                    };
                    Some((name.clone(), v))
                })
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// Whether `v` has type `ty`: null has every type; a text has an enum type when the enum
/// declares it; a struct has exactly the declared fields, in order.
pub fn has_type(v: &Value, ty: &ColumnType) -> bool {
    match (v, ty) {
        (Value::Null, _) => true,
        (Value::Bool(_), ColumnType::Bool)
        | (Value::Int(_), ColumnType::Int)
        | (Value::Decimal(_), ColumnType::Decimal)
        | (Value::Text(_), ColumnType::Text)
        | (Value::Date(_), ColumnType::Date)
        | (Value::Timestamp(_), ColumnType::Timestamp) => true,
        (Value::Text(s), ColumnType::Enum(domain)) => domain.contains(s),
        (Value::List(items), ColumnType::List(element)) => {
            items.iter().all(|item| has_type(item, element))
        }
        (Value::Struct(fields), ColumnType::Struct(declared)) => {
            fields.len() == declared.len()
                && fields
                    .iter()
                    .zip(declared)
                    .all(|((n, v), (dn, dt))| n == dn && has_type(v, dt))
        }
        _ => false,
    }
}
