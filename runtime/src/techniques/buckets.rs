//! `buckets(edges [, labels])`: custom bucket edges with labels.
//!
//! Bucket i holds the values v with `edges[i] ≤ v < edges[i + 1]`; the last bucket has no upper
//! edge. A value below the first edge is in no bucket and gives null. The value is the number
//! itself for an int or a decimal (an int is compared as the nearest IEEE double) and the age in
//! whole years at the evaluation clock for a date or a timestamp (a date after the clock has no
//! age and fails, like `age_range`).

use chrono::{DateTime, Utc};

use super::{unsupported, TechniqueError};
use crate::value::Value;

const NAME: &str = "buckets";

/// Checks the arguments: at least one edge, every edge finite, strictly increasing, one
/// non-empty label per edge.
pub(crate) fn validate(edges: &[f64], labels: &[String]) -> Result<(), String> {
    if edges.is_empty() {
        return Err("at least one edge is needed".into());
    }
    if edges.iter().any(|e| !e.is_finite()) {
        return Err("every edge must be a finite number".into());
    }
    if edges.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err("the edges must be strictly increasing".into());
    }
    if labels.len() != edges.len() {
        return Err(format!(
            "{} labels for {} edges: one label per edge is needed",
            labels.len(),
            edges.len()
        ));
    }
    if labels.iter().any(String::is_empty) {
        return Err("a label must not be empty".into());
    }
    Ok(())
}

/// The number a value is bucketed by: itself, or its age.
fn measure(value: &Value, now: DateTime<Utc>) -> Result<f64, TechniqueError> {
    match value {
        Value::Int(i) => Ok(*i as f64),
        Value::Decimal(x) if x.is_finite() => Ok(*x),
        Value::Decimal(_) => Err(unsupported(NAME, "not a finite number")),
        Value::Date(_) | Value::Timestamp(_) => {
            let date = super::dates::date_of(value, NAME)?;
            let age = super::dates::age_years(date, now.date_naive());
            if age < 0 {
                return Err(unsupported(NAME, "the date is after the evaluation clock"));
            }
            Ok(age as f64)
        }
        other => Err(TechniqueError::TypeMismatch {
            technique: NAME,
            found: other.type_name(),
        }),
    }
}

/// The label of the bucket holding `value`, or null below the first edge.
pub(crate) fn bucket(
    value: &Value,
    edges: &[f64],
    labels: &[String],
    now: DateTime<Utc>,
) -> Result<Value, TechniqueError> {
    let x = measure(value, now)?;
    let below = edges.iter().take_while(|e| **e <= x).count();
    match below.checked_sub(1) {
        None => Ok(Value::Null),
        Some(i) => labels
            .get(i)
            .map(|l| Value::Text(l.clone()))
            .ok_or_else(|| unsupported(NAME, "a bucket has no label")),
    }
}
