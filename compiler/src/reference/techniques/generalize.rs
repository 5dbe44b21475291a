//! Numeric generalisation: `range(size)`, `round(size)`, `digits([char])`
//! (docs/language.md, "Numbers").
//!
//! An int with a whole-number size is computed exactly (a result out of the int range fails).
//! Otherwise the arithmetic is binary floating point, with a quotient v/size within 1e-9
//! (relative, at least absolute) of a whole number taken as that whole number, and results
//! written (`range`) or rounded (`round`) to as many decimals as the size has.

use pol_runtime::value::Value;

use super::canonical::canonical_text;

/// The size as a whole number that an int can be divided by exactly, if it is one.
fn whole_size(size: f64) -> Option<i64> {
    // 2^63 is the first whole f64 that does not fit an i64.
    if size > 0.0 && size.fract() == 0.0 && size < 9_223_372_036_854_775_808.0 {
        Some(size as i64)
    } else {
        None
    }
}

/// The number of decimals of `size` as its shortest text writes it, at most 15.
fn decimals_of(size: f64) -> usize {
    let text = format!("{size}");
    match text.split_once('.') {
        Some((_, fraction)) => fraction.len().min(15),
        None => 0,
    }
}

/// A quotient within 1e-9 of a whole number is that whole number.
fn snapped(q: f64) -> f64 {
    let nearest = q.round();
    let tolerance = 1e-9 * nearest.abs().max(1.0);
    if (q - nearest).abs() <= tolerance {
        nearest
    } else {
        q
    }
}

/// `x` with `decimals` decimals, trailing zeros (and a trailing point) dropped, `-0` as `0`.
fn write_decimal(x: f64, decimals: usize) -> String {
    let mut text = format!("{x:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if text == "-0" {
        text = "0".to_string();
    }
    text
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// `range(size)`: the text `lo-hi`, lo = ⌊v/size⌋·size, hi = lo + size.
pub fn range(v: &Value, size: f64) -> Option<Value> {
    let x = match v {
        Value::Int(i) => match whole_size(size) {
            Some(s) => {
                let lo = i.div_euclid(s).checked_mul(s)?;
                let hi = lo.checked_add(s)?;
                return Some(Value::Text(format!("{lo}-{hi}")));
            }
            None => *i as f64,
        },
        Value::Decimal(x) => finite(*x)?,
        _ => return None,
    };
    let lo = finite(snapped(x / size).floor() * size)?;
    let hi = finite(lo + size)?;
    let d = decimals_of(size);
    Some(Value::Text(format!(
        "{}-{}",
        write_decimal(lo, d),
        write_decimal(hi, d)
    )))
}

/// `round(size)`: the smallest multiple of size at or above the value, of the value's type (an
/// int only with a whole-number size).
pub fn round(v: &Value, size: f64) -> Option<Value> {
    match v {
        Value::Int(i) => {
            let s = whole_size(size)?;
            let mut multiples = i.div_euclid(s);
            if i.rem_euclid(s) != 0 {
                multiples = multiples.checked_add(1)?;
            }
            Some(Value::Int(multiples.checked_mul(s)?))
        }
        Value::Decimal(x) => {
            let up = finite(snapped(finite(*x)? / size).ceil() * size)?;
            if size.fract() == 0.0 {
                return Some(Value::Decimal(up));
            }
            let d = decimals_of(size);
            let tidy: f64 = format!("{up:.d$}").parse().ok()?;
            Some(Value::Decimal(if tidy.is_finite() { tidy } else { up }))
        }
        _ => None,
    }
}

/// `digits([char])`: the text (an int or decimal by its canonical text) with every numeric
/// character replaced by `fill`.
pub fn digits(v: &Value, fill: char) -> Option<Value> {
    let text = match v {
        Value::Text(s) => s.clone(),
        Value::Int(_) | Value::Decimal(_) => canonical_text(v),
        _ => return None,
    };
    Some(Value::Text(
        text.chars()
            .map(|c| if c.is_numeric() { fill } else { c })
            .collect(),
    ))
}

/// `digits(text: t)`: every maximal run of digits (characters Unicode calls numeric) replaced
/// by one copy of `t`, after writing an int or decimal as its canonical text.
pub fn digit_runs(v: &Value, fill: &str) -> Option<Value> {
    let text = match v {
        Value::Text(s) => s.clone(),
        Value::Int(_) | Value::Decimal(_) => canonical_text(v),
        _ => return None,
    };
    let mut out = String::new();
    let mut previous_digit = false;
    for c in text.chars() {
        let digit = c.is_numeric();
        if !digit {
            out.push(c);
        } else if !previous_digit {
            out.push_str(fill);
        }
        previous_digit = digit;
    }
    Some(Value::Text(out))
}
