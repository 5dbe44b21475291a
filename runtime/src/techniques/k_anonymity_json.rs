//! [`k_anonymize`] over masked rows given as JSON objects (what `mask_json`/`mask_rows` return,
//! `polc eval --k-anonymize` reads, and the Python package's `k_anonymize` takes): each named
//! quasi-identifier is read with its declared type and generalised with that type's default
//! [`Hierarchy`].

use serde_json::{Map, Value as Json};

use super::k_anonymity::{
    k_anonymize, Hierarchy, KAnonymity, KAnonymityError, KAnonymityReport, QuasiIdentifier,
};
use crate::value::{ColumnType, Value};

/// Generalises or nulls the cells of the quasi-identifier `columns` (name and declared type,
/// in the order of the report's levels) of JSON rows in place; every other cell is left as it
/// is, and no row is added or removed. A missing cell is null. A masked cell may no longer have
/// its declared type (a `range` is text): it is then taken as the JSON value it is, and a
/// hierarchy that cannot generalise it nulls it from level 1 on. A name listed twice is
/// [`KAnonymityError::DuplicateColumn`] (its second position).
pub fn k_anonymize_json(
    rows: &mut [Map<String, Json>],
    params: &KAnonymity,
    columns: &[(String, ColumnType)],
) -> Result<KAnonymityReport, KAnonymityError> {
    for (i, (name, _)) in columns.iter().enumerate() {
        if columns.iter().take(i).any(|(n, _)| n == name) {
            return Err(KAnonymityError::DuplicateColumn(i));
        }
    }
    let mut values: Vec<Vec<Value>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|(name, ty)| {
                    let cell = row.get(name).unwrap_or(&Json::Null);
                    Value::from_json(cell, ty).unwrap_or_else(|_| untyped(cell))
                })
                .collect()
        })
        .collect();
    let quasi: Vec<QuasiIdentifier> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| QuasiIdentifier::new(i, Hierarchy::for_type(ty)))
        .collect();
    let report = k_anonymize(&mut values, params, &quasi)?;
    for (row, cells) in rows.iter_mut().zip(values) {
        for ((name, _), v) in columns.iter().zip(cells) {
            row.insert(name.clone(), v.to_json());
        }
    }
    Ok(report)
}

/// A JSON cell as the value it is, without a declared type.
fn untyped(cell: &Json) -> Value {
    match cell {
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .unwrap_or_else(|| Value::Decimal(n.as_f64().unwrap_or(f64::NAN))),
        Json::String(s) => Value::Text(s.clone()),
        Json::Null => Value::Null,
        other => Value::Text(other.to_string()),
    }
}
