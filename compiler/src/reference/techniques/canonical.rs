//! The canonical text of a value (docs/language.md, "Canonical text"), which `hash`, `digits`,
//! the `noise` seed and the row sample read: ints in decimal, decimals as JSON writes them (the
//! shortest text that reads back as the same number, `25.0`, `0.1`, `1e+20`), dates
//! `YYYY-MM-DD`, timestamps RFC 3339 in UTC with `Z` and 0, 3, 6 or 9 fractional digits, lists
//! and structs as their JSON text.

use chrono::SecondsFormat;
use pol_runtime::value::Value;

/// The canonical text of `v`.
pub fn canonical_text(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Decimal(x) => {
            serde_json::Number::from_f64(*x).map_or_else(|| x.to_string(), |n| n.to_string())
        }
        Value::Text(s) => s.clone(),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::Timestamp(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        Value::List(_) | Value::Struct(_) => v.to_json().to_string(),
    }
}
