//! `buckets(edges [, labels])` (docs/language.md, "Buckets"): bucket i holds the values from
//! edge i up to, not including, edge i + 1; the last bucket every value from the last edge up;
//! a value below the first edge is null. An int is compared as the nearest double; a date or
//! timestamp by its age in whole years at the clock (a date after the clock fails).

use chrono::{DateTime, Utc};
use pol_runtime::value::Value;

use super::dates;

/// The default labels: `lo-hi` for each bucket but the last, `lo+` for the last, each edge
/// written as its shortest decimal text without exponent, zero as `0`.
pub fn default_labels(edges: &[f64]) -> Vec<String> {
    let text = |x: f64| {
        if x == 0.0 {
            "0".to_string()
        } else {
            format!("{x}")
        }
    };
    let mut out = Vec::new();
    for (i, lo) in edges.iter().enumerate() {
        out.push(match edges.get(i + 1) {
            Some(hi) => format!("{}-{}", text(*lo), text(*hi)),
            None => format!("{}+", text(*lo)),
        });
    }
    out
}

/// The label of `v`'s bucket, null below the first edge; `None` when it fails.
pub fn bucket(v: &Value, edges: &[f64], labels: &[String], now: DateTime<Utc>) -> Option<Value> {
    let x = match v {
        Value::Int(i) => *i as f64,
        Value::Decimal(d) if d.is_finite() => *d,
        Value::Date(_) | Value::Timestamp(_) => {
            let years = dates::age(dates::date_of(v)?, now.date_naive());
            if years < 0 {
                return None;
            }
            years as f64
        }
        _ => return None,
    };
    if labels.len() != edges.len() {
        return None;
    }
    let mut found = None;
    for (edge, label) in edges.iter().zip(labels) {
        if *edge <= x {
            found = Some(label);
        }
    }
    Some(found.map_or(Value::Null, |l| Value::Text(l.clone())))
}
