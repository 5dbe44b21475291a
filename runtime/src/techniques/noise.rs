//! `noise(scale)` and `randomize(rate)`: deterministic, keyed randomness per row.
//!
//! The seed of a cell is HMAC-SHA256(noise sub-key, source + `"\0"` + column + `"\0"` + the row
//! key's [canonical text](Value::canonical_text)): the same row always gets the same result, and
//! nobody without the key can recompute (and subtract) the noise. Uniform numbers are taken from
//! the seed's bytes: the first 8 bytes (big-endian, top 53 bits) give `u`, the next 8 the index
//! of a replacement value. A missing or null row key is an error (the caller masks with null).
//!
//! - noise: Laplace(0, scale) by inverse transform, `x = scale·ln(2u)` for `u < ½` and
//!   `x = −scale·ln(2(1−u))` otherwise, with `u` strictly inside (0, 1). Ints get `round(x)`,
//!   dates `round(x)` days, timestamps `round(x)` seconds (sub-seconds kept), decimals `x`.
//!   Results out of range are errors.
//! - randomize: the value changes iff `u < rate` (`u` in [0, 1)), to `others[k mod len]` where
//!   `others` is the domain without the value, in domain order, and `k` the second 8 bytes (the
//!   modulo bias is below 2⁻⁵⁰ for any domain that fits in memory). A domain of one value cannot
//!   change. A value outside the domain is a type mismatch.

use chrono::TimeDelta;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{invalid, unsupported, MaskContext, TechniqueError};
use crate::keys::MaskingKey;
use crate::value::Value;

/// 2^53, the number of distinct values of the uniform draws.
const TWO_POW_53: f64 = 9_007_199_254_740_992.0;
/// Values this large (in days or seconds or units) cannot be added to anything meaningfully.
const MAX_SHIFT: f64 = 9.0e15;

/// The 32-byte seed of a cell.
pub(crate) fn seed(
    key: &MaskingKey,
    ctx: &MaskContext<'_>,
    technique: &'static str,
) -> Result<[u8; 32], TechniqueError> {
    let row_key = match ctx.row_key {
        Some(v) if !v.is_null() => v,
        _ => return Err(TechniqueError::MissingRowKey { technique }),
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.noise_key())
        .map_err(|_| invalid(technique, "bad key length"))?;
    mac.update(ctx.source.as_bytes());
    mac.update(b"\0");
    mac.update(ctx.column.as_bytes());
    mac.update(b"\0");
    mac.update(row_key.canonical_text().as_bytes());
    Ok(mac.finalize().into_bytes().into())
}

fn word(seed: &[u8; 32], index: usize) -> u64 {
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = seed.get(index * 8 + i).copied().unwrap_or(0);
    }
    u64::from_be_bytes(bytes)
}

/// Uniform in [0, 1).
fn unit_closed_open(w: u64) -> f64 {
    (w >> 11) as f64 / TWO_POW_53
}

/// Uniform strictly inside (0, 1).
fn unit_open(w: u64) -> f64 {
    ((w >> 11) as f64 + 0.5) / TWO_POW_53
}

/// A Laplace(0, scale) draw from a uniform `u` in (0, 1).
pub(crate) fn laplace(scale: f64, u: f64) -> f64 {
    if u < 0.5 {
        scale * (2.0 * u).ln()
    } else {
        -scale * (2.0 * (1.0 - u)).ln()
    }
}

fn whole_shift(technique: &'static str, x: f64) -> Result<i64, TechniqueError> {
    let r = x.round();
    if r.is_finite() && r.abs() < MAX_SHIFT {
        Ok(r as i64)
    } else {
        Err(unsupported(technique, "the noise is out of range"))
    }
}

/// `noise(scale)`.
pub(crate) fn noise(
    key: &MaskingKey,
    ctx: &MaskContext<'_>,
    value: &Value,
    scale: f64,
) -> Result<Value, TechniqueError> {
    const NAME: &str = "noise";
    // Check the type before the row key, so a type error is reported as such.
    if !matches!(
        value,
        Value::Int(_) | Value::Decimal(_) | Value::Date(_) | Value::Timestamp(_)
    ) {
        return Err(TechniqueError::TypeMismatch {
            technique: NAME,
            found: value.type_name(),
        });
    }
    let s = seed(key, ctx, NAME)?;
    let x = laplace(scale, unit_open(word(&s, 0)));
    let out_of_range = || unsupported(NAME, "the result is out of range");
    match value {
        Value::Int(i) => i
            .checked_add(whole_shift(NAME, x)?)
            .map(Value::Int)
            .ok_or_else(out_of_range),
        Value::Decimal(v) => {
            let r = v + x;
            if r.is_finite() {
                Ok(Value::Decimal(r))
            } else {
                Err(out_of_range())
            }
        }
        Value::Date(d) => TimeDelta::try_days(whole_shift(NAME, x)?)
            .and_then(|delta| d.checked_add_signed(delta))
            .map(Value::Date)
            .ok_or_else(out_of_range),
        Value::Timestamp(t) => TimeDelta::try_seconds(whole_shift(NAME, x)?)
            .and_then(|delta| t.checked_add_signed(delta))
            .map(Value::Timestamp)
            .ok_or_else(out_of_range),
        other => Err(TechniqueError::TypeMismatch {
            technique: NAME,
            found: other.type_name(),
        }),
    }
}

/// `randomize(rate)` over `domain`.
pub(crate) fn randomize(
    key: &MaskingKey,
    ctx: &MaskContext<'_>,
    value: &str,
    rate: f64,
    domain: &[String],
) -> Result<Value, TechniqueError> {
    const NAME: &str = "randomize";
    if !domain.iter().any(|d| d == value) {
        return Err(TechniqueError::TypeMismatch {
            technique: NAME,
            found: "text outside the enum's domain",
        });
    }
    let s = seed(key, ctx, NAME)?;
    if unit_closed_open(word(&s, 0)) >= rate {
        return Ok(Value::Text(value.to_owned()));
    }
    let others: Vec<&String> = domain.iter().filter(|d| *d != value).collect();
    let len = u64::try_from(others.len()).unwrap_or(u64::MAX);
    if len == 0 {
        return Ok(Value::Text(value.to_owned()));
    }
    let k = usize::try_from(word(&s, 1) % len).unwrap_or(0);
    Ok(Value::Text(
        others
            .get(k)
            .map_or_else(|| value.to_owned(), |v| (*v).clone()),
    ))
}
