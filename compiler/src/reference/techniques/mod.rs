//! The reference's own techniques (docs/language.md §5 and "Techniques, byte by byte"), one
//! small module per family, written from the language reference rather than taken from the
//! runtime, so that the differential tests compare two implementations of every technique.
//! Only the cryptographic primitives (HMAC, SHA-256, HKDF, AES-SIV, FF1) and chrono's strftime
//! and the `regex` crate come from the same crates as the runtime's.
//!
//! [`apply`] masks one non-`expr`, non-`by level` technique use on one value; `None` means the
//! technique failed (a key, a row key or an argument is missing, the value is out of range),
//! which the caller turns into null: nothing fails open.

mod buckets;
mod canonical;
mod constants;
mod dates;
mod email;
mod generalize;
mod hash;
mod keys;
mod noise;
mod partial;
mod regex;
mod tokens;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use pol_runtime::value::Value;

use crate::model::{TechArg, TechniqueUse, Ty};

pub use canonical::canonical_text;
pub use keys::Keys;
pub use noise::Place;

use partial::{Fill, REDACTED};

/// Everything a technique may read besides the value.
pub struct Cell<'a> {
    /// Where the cell is (`noise`, `randomize` and `format_preserving` read it; `hash` reads
    /// the source).
    pub place: Place<'a>,
    /// The column's declared type (`randomize` reads an enum's domain).
    pub ty: &'a Ty,
    /// The evaluation clock (ages).
    pub now: DateTime<Utc>,
    /// The masking key's sub-keys, when the reference was given a key.
    pub keys: Option<&'a Keys>,
}

/// The techniques for which a null or empty value gives `*******`.
const PARTIAL: &[&str] = &[
    "show_first",
    "show_last",
    "email_mask",
    "mask_first",
    "mask_last",
    "mask_first_percent",
    "mask_last_percent",
    "initials",
];

/// Masks `v` with `t` (neither `expr` nor `by level`); `None` when the technique fails.
pub fn apply(t: &TechniqueUse, v: &Value, cell: &Cell<'_>) -> Option<Value> {
    let name = t.name.as_str();
    if name == "null" {
        return Some(Value::Null);
    }
    if PARTIAL.contains(&name) {
        match v {
            Value::Null => return Some(Value::Text(REDACTED.to_string())),
            Value::Text(s) if s.is_empty() => return Some(Value::Text(REDACTED.to_string())),
            _ => {}
        }
    } else if matches!(v, Value::Null) {
        return Some(Value::Null);
    }
    match name {
        "constant" => match t.arg("value") {
            Some(TechArg::Const(c)) => Some(constants::constant(c, cell.ty)),
            _ => None,
        },
        "hash" | "noise" | "randomize" | "tokenize" | "format_preserving" => {
            keyed(t, v, cell, cell.keys?)
        }
        "range" => generalize::range(v, t.num_arg("size")?),
        "round" => match t.arg("size") {
            Some(TechArg::Word(w)) => dates::round_to(v, dates::Unit::named(w)?),
            _ => generalize::round(v, t.num_arg("size")?),
        },
        "digits" => match t.text_arg("text") {
            Some(text) if one_char(t, "char").is_none() => generalize::digit_runs(v, &text),
            _ => generalize::digits(v, one_char(t, "char").unwrap_or('*')),
        },
        "age_range" | "year_only" | "month_year" | "date_format" => aged(t, v, cell),
        "constant_text" => {
            dates::date_of(v)?;
            t.text_arg("text").map(Value::Text)
        }
        "buckets" => {
            let edges = t.numbers_arg("edges")?;
            let labels = match t.texts_arg("labels") {
                Some(labels) => labels.to_vec(),
                None => buckets::default_labels(edges),
            };
            buckets::bucket(v, edges, &labels, cell.now)
        }
        _ => textual(t, text_of(v)?).map(Value::Text),
    }
}

/// The date techniques with a `max:` cut-off: at or above it, the `above:` text (or null).
fn aged(t: &TechniqueUse, v: &Value, cell: &Cell<'_>) -> Option<Value> {
    let max = t.int_arg("max");
    if let (Some(above), Some(m)) = (t.text_arg("above"), max) {
        let date = dates::date_of(v)?;
        if dates::age(date, cell.now.date_naive()) >= m {
            return Some(Value::Text(above));
        }
    }
    match t.name.as_str() {
        "age_range" => dates::age_range(v, t.int_arg("size")?, max, cell.now),
        "year_only" => dates::year_only(v, max, cell.now),
        "month_year" => dates::month_year(v, max, cell.now),
        _ => dates::date_format(v, &t.text_arg("pattern")?, max, cell.now),
    }
}

/// The techniques that take a text and give a text.
fn textual(t: &TechniqueUse, s: &str) -> Option<String> {
    let count = |name: &str| t.int_arg(name).and_then(|n| usize::try_from(n).ok());
    Some(match t.name.as_str() {
        "redact" => REDACTED.to_string(),
        "stars" => partial::stars(s),
        "show_last" => partial::show_last(s, count("n")?, given_fill(t).as_ref()),
        "show_first" => partial::show_first(s, count("n")?, given_fill(t).as_ref()),
        "email_mask" => email::email_mask(s),
        "mask_first" => partial::mask_n(s, count("n")?, &fill(t), true),
        "mask_last" => partial::mask_n(s, count("n")?, &fill(t), false),
        "mask_first_percent" => partial::mask_percent(s, percent(t)?, &fill(t), true),
        "mask_last_percent" => partial::mask_percent(s, percent(t)?, &fill(t), false),
        "initials" => partial::initials(s, t.text_arg("delimiter").as_deref()),
        "regex" => regex::replace(
            s,
            &t.text_arg("pattern")?,
            &t.text_arg("replacement")?,
            t.flag_arg("global"),
            t.flag_arg("ignore_case"),
        )?,
        _ => return None,
    })
}

/// The techniques that need the masking key.
fn keyed(t: &TechniqueUse, v: &Value, cell: &Cell<'_>, keys: &Keys) -> Option<Value> {
    let place = &cell.place;
    match t.name.as_str() {
        "hash" => {
            let global = matches!(t.arg("scope"), Some(TechArg::Word(w)) if w == "global");
            let text = canonical_text(v);
            hash::hash(keys, place.source, global, &text).map(Value::Text)
        }
        "noise" => noise::noise(keys, place, v, t.num_arg("scale")?),
        "randomize" => {
            let Ty::Enum(domain) = cell.ty else {
                return None;
            };
            noise::randomize(keys, place, text_of(v)?, t.num_arg("rate")?, domain)
        }
        "tokenize" => tokens::tokenize(keys, text_of(v)?).map(Value::Text),
        "format_preserving" => match v {
            Value::Int(i) => {
                tokens::format_preserving_int(keys, place.source, place.column, *i).map(Value::Int)
            }
            _ => tokens::format_preserving(keys, place.source, place.column, text_of(v)?)
                .map(Value::Text),
        },
        _ => None,
    }
}

fn text_of(v: &Value) -> Option<&str> {
    match v {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

fn one_char(t: &TechniqueUse, name: &str) -> Option<char> {
    t.text_arg(name).and_then(|s| s.chars().next())
}

/// `char: "c"` (first), else `text: "t"`, else `*`.
fn fill(t: &TechniqueUse) -> Fill {
    given_fill(t).unwrap_or(Fill::Char('*'))
}

/// `char: "c"` (first), else `text: "t"`, if either is written.
fn given_fill(t: &TechniqueUse) -> Option<Fill> {
    match (one_char(t, "char"), t.text_arg("text")) {
        (Some(c), _) => Some(Fill::Char(c)),
        (None, Some(text)) => Some(Fill::Text(text)),
        (None, None) => None,
    }
}

/// A percentage in 1..=100.
fn percent(t: &TechniqueUse) -> Option<u32> {
    t.int_arg("p")
        .and_then(|p| u32::try_from(p).ok())
        .filter(|p| (1..=100).contains(p))
}
