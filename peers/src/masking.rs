//! Masking 1,024 rows of the 20-column `customers` source (the runtime bench's fixture,
//! `compiler/benches/fixture/customers.rs`) through Pol and by hand, typed and as JSON text.
//!
//! - typed: `SourceSession::mask_values` against `HandWritten::mask` (the same policy for the
//!   same user hard-coded in Rust, calling the same technique primitives);
//! - JSON: JSON text → `serde_json` object → `mask_json` → JSON text, against JSON text →
//!   `serde_json` object → each column decoded to its declared type → `HandWritten::mask` →
//!   JSON text. Both sides parse and print with `serde_json`.
//!
//! [`Masking::cross_check`] compares every row of each pair before anything is timed.

use pol_runtime::{ColumnType, Engine, SourceSession, Value};

use crate::customers::{engine_for, now, row, subject, HandWritten, COLUMNS, POLICY};

/// The fixture's engine, rows (typed and as JSON text) and hand-written function.
pub struct Masking {
    /// The engine of the fixture's policy.
    pub engine: Engine,
    /// 1,024 typed rows.
    pub rows: Vec<Vec<Value>>,
    /// The same rows as JSON objects, printed.
    pub texts: Vec<String>,
    /// The hand-written policy.
    pub hand: HandWritten,
}

impl Masking {
    /// The fixture, with `n` rows.
    pub fn new(n: i64) -> Self {
        let engine = engine_for(&[("bench.pol".to_owned(), POLICY.to_owned())]);
        let rows: Vec<Vec<Value>> = (0..n).map(row).collect();
        let texts = rows
            .iter()
            .map(|r| {
                let object: serde_json::Map<String, serde_json::Value> = COLUMNS
                    .iter()
                    .zip(r)
                    .map(|(c, v)| ((*c).to_owned(), v.to_json()))
                    .collect();
                serde_json::Value::Object(object).to_string()
            })
            .collect();
        Masking {
            engine,
            rows,
            texts,
            hand: HandWritten::new(),
        }
    }

    /// Checks that Pol and the hand-written function agree on every row, typed and JSON.
    pub fn cross_check(
        &self,
        source: &SourceSession<'_>,
        types: &[ColumnType],
    ) -> Result<(), String> {
        let names = source.columns();
        for (i, (r, text)) in self.rows.iter().zip(&self.texts).enumerate() {
            if source.mask_values(r) != self.hand.mask(r) {
                return Err(format!(
                    "typed row {i}: Pol and the hand-written function differ"
                ));
            }
            let pol = pol_json(source, text);
            let hand = hand_json(&self.hand, types, &names, text);
            if pol != hand {
                return Err(format!("JSON row {i}: Pol gives {pol:?}, by hand {hand:?}"));
            }
        }
        Ok(())
    }
}

/// The declared types of the fixture's input columns, in input order.
pub fn input_types(source: &SourceSession<'_>) -> Vec<ColumnType> {
    COLUMNS
        .iter()
        .map(|c| source.column_type(c).cloned().unwrap_or(ColumnType::Text))
        .collect()
}

/// The fixture's session for its user (`support`, team `A`).
pub fn session(engine: &Engine) -> Option<pol_runtime::Session<'_>> {
    engine.session(&subject(), now()).ok()
}

/// Pol on one JSON row: parse, `mask_json`, print (`None`: unparsable or hidden).
pub fn pol_json(source: &SourceSession<'_>, text: &str) -> Option<String> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).ok()?;
    let masked = source.mask_json(&object)?;
    let out: serde_json::Map<String, serde_json::Value> = masked.into_iter().collect();
    serde_json::to_string(&out).ok()
}

/// By hand on one JSON row: parse, decode each input column to its type (a missing column is
/// null, a mistyped one is null), mask, print.
pub fn hand_json(
    hand: &HandWritten,
    types: &[ColumnType],
    names: &[&str],
    text: &str,
) -> Option<String> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).ok()?;
    let row: Vec<Value> = COLUMNS
        .iter()
        .zip(types)
        .map(|(c, ty)| {
            object
                .get(*c)
                .and_then(|j| Value::from_json(j, ty).ok())
                .unwrap_or(Value::Null)
        })
        .collect();
    let masked = hand.mask(&row)?;
    let out: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(&masked)
        .map(|(n, v)| ((*n).to_owned(), v.to_json()))
        .collect();
    serde_json::to_string(&out).ok()
}
