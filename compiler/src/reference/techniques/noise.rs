//! `noise(scale)` and `randomize(rate)` (docs/language.md, "Noise and randomize"): keyed,
//! deterministic per row.
//!
//! The seed of a cell is HMAC-SHA256(noise sub-key, source, zero byte, column, zero byte, the
//! row key's canonical text). Its bytes 0–7 and 8–15, read as big-endian integers, are w₀ and
//! w₁; their top 53 bits give the uniform numbers.

use chrono::TimeDelta;
use pol_runtime::value::Value;

use super::canonical::canonical_text;
use super::keys::{hmac_sha256, Keys};

/// 2⁵³.
const TWO_TO_53: f64 = 9_007_199_254_740_992.0;
/// A whole shift of this size or more fails (no date, timestamp or int means anything there).
const SHIFT_LIMIT: f64 = 9.0e15;

/// Where a cell is: its source and column, and the row's key.
pub struct Place<'a> {
    pub source: &'a str,
    pub column: &'a str,
    pub row_key: Option<&'a Value>,
}

/// The seed's two words; `None` without a row key (or a null one).
fn words(keys: &Keys, place: &Place<'_>) -> Option<(u64, u64)> {
    let row_key = place.row_key.filter(|k| !matches!(k, Value::Null))?;
    let seed = hmac_sha256(
        &keys.noise,
        &[
            place.source.as_bytes(),
            b"\0",
            place.column.as_bytes(),
            b"\0",
            canonical_text(row_key).as_bytes(),
        ],
    )?;
    let w0 = u64::from_be_bytes(*seed.first_chunk::<8>()?);
    let w1 = u64::from_be_bytes(*seed.get(8..16)?.first_chunk::<8>()?);
    Some((w0, w1))
}

/// The Laplace(0, scale) draw of a cell: u = (⌊w₀/2¹¹⌋ + ½)/2⁵³, strictly inside (0, 1);
/// x = scale·ln(2u) below ½, −scale·ln(2(1−u)) from ½ on.
fn laplace(scale: f64, w0: u64) -> f64 {
    let u = ((w0 >> 11) as f64 + 0.5) / TWO_TO_53;
    if u < 0.5 {
        scale * (2.0 * u).ln()
    } else {
        -scale * (2.0 * (1.0 - u)).ln()
    }
}

/// x rounded to the nearest whole number (halves away from zero), if it is a usable shift.
fn whole(x: f64) -> Option<i64> {
    let r = x.round();
    (r.is_finite() && r.abs() < SHIFT_LIMIT).then_some(r as i64)
}

/// `noise(scale)`: ints plus the rounded draw, decimals plus the draw, dates plus the rounded
/// draw in days, timestamps plus the rounded draw in seconds.
pub fn noise(keys: &Keys, place: &Place<'_>, v: &Value, scale: f64) -> Option<Value> {
    if !matches!(
        v,
        Value::Int(_) | Value::Decimal(_) | Value::Date(_) | Value::Timestamp(_)
    ) {
        return None;
    }
    let (w0, _) = words(keys, place)?;
    let x = laplace(scale, w0);
    match v {
        Value::Int(i) => Some(Value::Int(i.checked_add(whole(x)?)?)),
        Value::Decimal(d) => {
            let sum = d + x;
            sum.is_finite().then_some(Value::Decimal(sum))
        }
        Value::Date(d) => Some(Value::Date(
            d.checked_add_signed(TimeDelta::try_days(whole(x)?)?)?,
        )),
        Value::Timestamp(t) => Some(Value::Timestamp(
            t.checked_add_signed(TimeDelta::try_seconds(whole(x)?)?)?,
        )),
        _ => None,
    }
}

/// `randomize(rate)` over the enum's domain: with u = ⌊w₀/2¹¹⌋/2⁵³ (in [0, 1)), the value is
/// kept when u ≥ rate; otherwise it becomes the (w₁ mod k)-th of the k other values of the
/// domain, in declaration order. A value outside the domain fails.
pub fn randomize(
    keys: &Keys,
    place: &Place<'_>,
    v: &str,
    rate: f64,
    domain: &[String],
) -> Option<Value> {
    if !domain.iter().any(|d| d == v) {
        return None;
    }
    let (w0, w1) = words(keys, place)?;
    let u = (w0 >> 11) as f64 / TWO_TO_53;
    let others: Vec<&String> = domain.iter().filter(|d| *d != v).collect();
    if u >= rate || others.is_empty() {
        return Some(Value::Text(v.to_string()));
    }
    let k = w1 % others.len() as u64;
    let chosen = others.get(usize::try_from(k).ok()?)?;
    Some(Value::Text((*chosen).clone()))
}
