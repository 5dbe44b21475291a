//! Numeric generalisation: `range(size)`, `round(size)` and `digits([char] | text: t)`.
//!
//! Ints with a whole-number size use exact integer arithmetic (overflow is an error, never a
//! panic). Decimals, and ints with a fractional `range` size, use binary floating point with two
//! safeguards against its representation error:
//!
//! - a quotient `v / size` within 1e-9 (relative) of a whole number counts as that whole number,
//!   so `0.3` with size `0.1` falls in `0.3-0.4`, not `0.2-0.3`;
//! - results are printed (`range`) or rounded (`round`) to the number of decimals of `size`
//!   (`0.1` → 1 decimal) with trailing zeros dropped, so no `0.30000000000000004` appears.

use super::{unsupported, Fill, TechniqueError};
use crate::value::Value;

/// The largest whole `f64` that converts to `i64` exactly (2^63 itself does not fit).
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// The size as an `i64` if it is a whole number that fits.
fn whole(size: f64) -> Option<i64> {
    if size.fract() == 0.0 && size > 0.0 && size < I64_BOUND {
        Some(size as i64)
    } else {
        None
    }
}

/// Decimals in the shortest representation of `size` (at most 15; 0 for whole numbers).
fn decimals(size: f64) -> usize {
    let s = size.to_string();
    s.split_once('.').map_or(0, |(_, frac)| frac.len().min(15))
}

fn snap(q: f64) -> f64 {
    let r = q.round();
    if (q - r).abs() <= 1e-9 * r.abs().max(1.0) {
        r
    } else {
        q
    }
}

fn fmt_decimal(x: f64, decimals: usize) -> String {
    let mut s = format!("{x:.decimals$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".to_owned();
    }
    s
}

fn overflow(technique: &'static str) -> TechniqueError {
    unsupported(technique, "the result is out of range")
}

fn finite(technique: &'static str, x: f64) -> Result<f64, TechniqueError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(unsupported(technique, "not a finite number"))
    }
}

/// `range(size)`.
pub(crate) fn range(value: &Value, size: f64) -> Result<Value, TechniqueError> {
    const NAME: &str = "range";
    let x = match value {
        Value::Int(i) => {
            if let Some(s) = whole(size) {
                let lo = i
                    .div_euclid(s)
                    .checked_mul(s)
                    .ok_or_else(|| overflow(NAME))?;
                let hi = lo.checked_add(s).ok_or_else(|| overflow(NAME))?;
                return Ok(Value::Text(format!("{lo}-{hi}")));
            }
            *i as f64
        }
        Value::Decimal(x) => finite(NAME, *x)?,
        other => {
            return Err(TechniqueError::TypeMismatch {
                technique: NAME,
                found: other.type_name(),
            })
        }
    };
    let d = decimals(size);
    let lo = finite(NAME, snap(x / size).floor() * size)?;
    let hi = finite(NAME, lo + size)?;
    Ok(Value::Text(format!(
        "{}-{}",
        fmt_decimal(lo, d),
        fmt_decimal(hi, d)
    )))
}

/// `round(size)`: the ceiling to a multiple of size.
pub(crate) fn round(value: &Value, size: f64) -> Result<Value, TechniqueError> {
    const NAME: &str = "round";
    match value {
        Value::Int(i) => {
            let s = whole(size).ok_or_else(|| {
                unsupported(NAME, "an int can only be rounded to a whole-number size")
            })?;
            let mut q = i.div_euclid(s);
            if i.rem_euclid(s) != 0 {
                q = q.checked_add(1).ok_or_else(|| overflow(NAME))?;
            }
            let r = q.checked_mul(s).ok_or_else(|| overflow(NAME))?;
            Ok(Value::Int(r))
        }
        Value::Decimal(x) => {
            let x = finite(NAME, *x)?;
            let r = finite(NAME, snap(x / size).ceil() * size)?;
            if size.fract() == 0.0 {
                // A multiple of a whole size is a whole number: nothing to tidy.
                return Ok(Value::Decimal(r));
            }
            let d = decimals(size);
            let tidy = format!("{r:.d$}").parse::<f64>().unwrap_or(r);
            Ok(Value::Decimal(if tidy.is_finite() { tidy } else { r }))
        }
        other => Err(TechniqueError::TypeMismatch {
            technique: NAME,
            found: other.type_name(),
        }),
    }
}

/// `digits([char])`: every digit (any Unicode numeric character) replaced. Ints and decimals
/// are first written in their canonical text form (`25.5` → `**.*`, `-42` → `-**`).
pub(crate) fn digits(value: &Value, fill: char) -> Result<Value, TechniqueError> {
    let text = match value {
        Value::Text(s) => s.clone(),
        Value::Int(_) | Value::Decimal(_) => value.canonical_text(),
        other => {
            return Err(TechniqueError::TypeMismatch {
                technique: "digits",
                found: other.type_name(),
            })
        }
    };
    Ok(Value::Text(
        text.chars()
            .map(|c| if c.is_numeric() { fill } else { c })
            .collect(),
    ))
}

/// `digits(text: t)` (or a [`Fill::Char`], as [`digits`]): every maximal run of digits (any
/// Unicode numeric character) replaced by one copy of the text.
pub(crate) fn digits_fill(value: &Value, fill: &Fill) -> Result<Value, TechniqueError> {
    let text = match value {
        Value::Text(s) => s.clone(),
        Value::Int(_) | Value::Decimal(_) => value.canonical_text(),
        other => {
            return Err(TechniqueError::TypeMismatch {
                technique: "digits",
                found: other.type_name(),
            })
        }
    };
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        let digit = c.is_numeric();
        match (digit, fill) {
            (false, _) => out.push(c),
            (true, Fill::Char(f)) => out.push(*f),
            (true, Fill::Text(t)) if !in_run => out.push_str(t),
            (true, Fill::Text(_)) => {}
        }
        in_run = digit;
    }
    Ok(Value::Text(out))
}
