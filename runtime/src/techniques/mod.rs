//! Masking techniques (§5 of the language contract), except `expr(…)` and `by level`, which the
//! evaluator handles.
//!
//! A [`Technique`] is the serialisable description found in a bundle. Before masking rows, build a
//! [`PreparedTechnique`] once ([`Technique::prepare`]): it validates the arguments and compiles
//! what needs compiling (regexes, strftime patterns), so masking a row never recompiles anything.
//! [`Technique::apply`] is a convenience that prepares on every call.
//!
//! Masking never panics. A technique that cannot produce a value returns a [`TechniqueError`];
//! the caller then masks the cell with null (fail closed).
//!
//! # Nulls and empties
//!
//! The *partial* techniques (`show_first`, `show_last`, `email_mask`, `mask_first`, `mask_last`,
//! `mask_first_percent`, `mask_last_percent`, `initials`) turn a null or empty text into
//! `*******`. Every other technique keeps null as null — `constant(v)` included, which follows the
//! contract's general rule ("for every other technique null stays null").
//!
//! # Keys
//!
//! `hash`, `tokenize`, `format_preserving`, `noise` and `randomize` need a key
//! ([`Technique::needs_key`]); with no [`KeyRing`] in the [`MaskContext`] they return
//! [`TechniqueError::MissingKey`]. They all use the ring's *active* key. `noise` and `randomize`
//! needing a key is a deliberate tightening of the contract: unkeyed noise seeded by public data
//! could be recomputed and subtracted by anyone.

mod buckets;
mod dates;
mod fpe;
mod generalize;
mod hash;
pub mod k_anonymity;
pub mod k_anonymity_json;
mod noise;
mod partial;
mod token;

#[cfg(test)]
mod tests;

use std::fmt;

use chrono::format::Item;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::keys::{KeyRing, MaskingKey};
use crate::value::{ColumnType, Value};

pub use fpe::{
    format_preserving_decrypt, format_preserving_decrypt_int, format_preserving_decrypt_int_with,
    format_preserving_decrypt_with,
};
pub use token::detokenize;

/// The text that stands for a hidden value: seven stars.
pub const REDACTED: &str = "*******";

/// What replaces the masked characters of `mask_first` / `mask_last`.
///
/// Serialised in bundles (postcard: the variant's index): variants are append-only (see
/// [`Bundle`](crate::bundle::Bundle)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Fill {
    /// `char: "c"`: every masked character becomes this character.
    Char(char),
    /// `text: "t"`: every maximal run of consecutive masked characters becomes one copy of this
    /// text (`555-123-4567` with `mask_last(4, text: "[Restricted]")` → `555-123-[Restricted]`;
    /// `123-45-6789` with `mask_first(5, text: "X")` → `X-X-6789`).
    Text(String),
}

impl Fill {
    /// Whether the replacement writes nothing (an empty `text:`), which the language refuses.
    pub fn is_empty(&self) -> bool {
        matches!(self, Fill::Text(t) if t.is_empty())
    }

    /// Whether the replacement holds a character Unicode calls numeric (refused under `digits`:
    /// a masked digit must not read as a digit).
    pub fn has_digit(&self) -> bool {
        match self {
            Fill::Char(c) => c.is_numeric(),
            Fill::Text(t) => t.chars().any(char::is_numeric),
        }
    }
}

impl Default for Fill {
    /// `*`, the language's default fill.
    fn default() -> Self {
        Fill::Char('*')
    }
}

/// The unit of `round(minute | hour | day | month | year)`.
///
/// Serialised in bundles (postcard: the variant's index): variants are append-only (see
/// [`Bundle`](crate::bundle::Bundle)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeUnit {
    /// Seconds and below set to zero.
    Minute,
    /// Minutes and below set to zero.
    Hour,
    /// The start of the (UTC) day.
    Day,
    /// The first day of the month.
    Month,
    /// The first of January.
    Year,
}

/// A masking technique with its arguments, as stored in a bundle.
///
/// Serialised in bundles (postcard: the variant's index): variants are append-only (see
/// [`Bundle`](crate::bundle::Bundle)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Technique {
    /// `null`: any value → null.
    Null,
    /// `constant(v)`: any non-null value → `v` (the compiler checks `v` against the column type).
    Constant(Value),
    /// `hash([scope: source | global])`: lowercase hex of HMAC-SHA256(hash key, source + `"\0"` +
    /// value); `global: true` drops the source name and the `"\0"`. Non-text values are hashed by
    /// their [canonical text](Value::canonical_text) (the int `42` hashes like the text `"42"`).
    Hash {
        /// `scope: global`: pseudonyms join across sources.
        global: bool,
    },
    /// `redact`: text → `*******`.
    Redact,
    /// `stars`: every character of a text → `*` (same number of characters).
    Stars,
    /// `show_last(n)`: `*******` followed by the last n letters or digits, separators dropped.
    /// A value with n or fewer letters and digits gives `*******` (showing it would show it all).
    ShowLast(u32),
    /// `show_first(n)`: the first n letters or digits followed by `*******`; same rule for short
    /// values as `ShowLast`.
    ShowFirst(u32),
    /// `email_mask`: `*******` + the domain's last dot-suffix (`*******.com`); `*******` when there
    /// is no `@`, no dot in the domain, or nothing after the dot.
    EmailMask,
    /// `mask_first(n [, char: c | text: t])`: the first n letters or digits masked, separators kept.
    MaskFirst {
        /// How many letters or digits to mask.
        n: u32,
        /// What replaces them.
        fill: Fill,
    },
    /// `mask_last(n [, char: c | text: t])`: the last n letters or digits masked, separators kept.
    MaskLast {
        /// How many letters or digits to mask.
        n: u32,
        /// What replaces them.
        fill: Fill,
    },
    /// `mask_first_percent(p)`: the first ⌈len·p/100⌉ characters (of any kind) → `*`.
    MaskFirstPercent(u8),
    /// `mask_last_percent(p)`: the last ⌈len·p/100⌉ characters (of any kind) → `*`.
    MaskLastPercent(u8),
    /// `initials([delimiter])`: the first character of each part, parts split on whitespace (or on
    /// the delimiter, each part then trimmed of whitespace), empty parts skipped.
    Initials {
        /// The separator between parts; whitespace when absent.
        delimiter: Option<String>,
    },
    /// `regex(pattern, replacement [, global] [, ignore_case])`: replaces the first (or every)
    /// match. The replacement uses the `regex` crate's expansion: `$1`, `$name`, `${name}`, and
    /// `$$` for a literal `$` (note `$1a` names the group `1a`: write `${1}a`).
    Regex {
        /// The pattern (the `regex` crate's syntax, linear time).
        pattern: String,
        /// The replacement, with `$` expansion.
        replacement: String,
        /// Replace every match rather than the first.
        global: bool,
        /// Match case-insensitively.
        ignore_case: bool,
    },
    /// `range(size)`: int or decimal → text `lo-hi`, lo = ⌊v/size⌋·size, hi = lo + size.
    Range(f64),
    /// `round(size)`: int or decimal → the ceiling to a multiple of size, same type (an int needs a
    /// whole-number size).
    Round(f64),
    /// `round(unit)`: date or timestamp truncated to the unit, same type.
    RoundTime(TimeUnit),
    /// `digits([char])`: text, int or decimal → text with every digit replaced by the character.
    Digits(char),
    /// `age_range(size [, max: m])`: date or timestamp → text range of the age in whole years at
    /// the evaluation clock; an age ≥ m gives null.
    AgeRange {
        /// Width of each range, in years.
        size: u32,
        /// Ages at or above this give null.
        max: Option<u32>,
    },
    /// `year_only([max: m])`: date or timestamp → text `1988`; an age ≥ m gives null.
    YearOnly {
        /// Ages at or above this give null.
        max: Option<u32>,
    },
    /// `month_year([max: m])`: date or timestamp → text `July 1988`; an age ≥ m gives null.
    MonthYear {
        /// Ages at or above this give null.
        max: Option<u32>,
    },
    /// `date_format(pattern [, max: m])`: date or timestamp → text by a strftime pattern; an age
    /// ≥ m gives null. A date has no time: a pattern that asks for one fails on dates.
    DateFormat {
        /// The strftime pattern (chrono's syntax).
        pattern: String,
        /// Ages at or above this give null.
        max: Option<u32>,
    },
    /// `noise(scale)`: int, decimal, date or timestamp plus Laplace(0, scale) noise, seeded by
    /// the row; ints round to whole numbers, dates move by whole days, timestamps by whole seconds.
    Noise(f64),
    /// `randomize(rate)`: an enum value is replaced, with probability `rate`, by another value of
    /// the domain chosen uniformly; seeded by the row.
    Randomize {
        /// Probability of replacement, 0 ≤ rate ≤ 1.
        rate: f64,
        /// The enum's domain (filled in by the compiler from the column type).
        domain: Vec<String>,
    },
    /// `tokenize`: text → reversible deterministic token `tok_<keyid>_<base64url>`.
    Tokenize,
    /// `format_preserving`: text → FF1 encryption of its letters and digits, separators kept;
    /// int → an int of the same sign and number of digits (see [`fpe`](self) notes: values of
    /// fewer than 7 digits fail).
    FormatPreserving,
    /// `mask_first_percent(p, char: c | text: t)`: as [`MaskFirstPercent`](Self::MaskFirstPercent)
    /// with a replacement: each masked character becomes `c`, or the masked run becomes `t` once.
    MaskFirstPercentFill {
        /// The percentage, 1 ≤ p ≤ 100.
        p: u8,
        /// What replaces the masked characters.
        fill: Fill,
    },
    /// `mask_last_percent(p, char: c | text: t)`: the last ⌈len·p/100⌉ characters replaced.
    MaskLastPercentFill {
        /// The percentage, 1 ≤ p ≤ 100.
        p: u8,
        /// What replaces the masked characters.
        fill: Fill,
    },
    /// `show_first(n, char: c | text: t)`: the first n letters or digits followed by the stand-in
    /// (seven `c`, or `t`); the stand-in alone for a value with n or fewer.
    ShowFirstFill {
        /// How many letters or digits to show.
        n: u32,
        /// The stand-in for the hidden part.
        fill: Fill,
    },
    /// `show_last(n, char: c | text: t)`: the stand-in followed by the last n letters or digits.
    ShowLastFill {
        /// How many letters or digits to show.
        n: u32,
        /// The stand-in for the hidden part.
        fill: Fill,
    },
    /// `digits(text: t)`: every maximal run of digits replaced by one copy of `t`
    /// (`digits(char)` is [`Digits`](Self::Digits)).
    DigitsFill(Fill),
    /// `constant_text(t)`: a date or timestamp → the text `t` (null stays null).
    ConstantText(String),
    /// `buckets(edges [, labels])`: int, decimal (the value) or date, timestamp (the age in whole
    /// years) → the label of the last edge at or below it; null below the first edge. Edges are
    /// strictly increasing; `labels` has one label per edge (the compiler writes the default
    /// `lo-hi` / `lo+` labels).
    Buckets {
        /// The lower edge of each bucket, strictly increasing.
        edges: Vec<f64>,
        /// The label of each bucket, as many as edges.
        labels: Vec<String>,
    },
    /// `age_range(…)`, `year_only(…)`, `month_year(…)` or `date_format(…)` with `max: m, above:
    /// t`: an age ≥ `max` gives the text `t` instead of null; younger values are masked by
    /// `technique` (written without `max`).
    AboveMax {
        /// The age at and above which `above` is shown.
        max: u32,
        /// The text shown then.
        above: String,
        /// The date technique for younger values.
        technique: Box<Technique>,
    },
}

/// Everything a technique may need besides the value.
///
/// `row_key` is the row's `key` column value (needed by `noise` and `randomize`); `now` is the
/// evaluation clock (used by the age-based date techniques); `keys` is the engine's key ring.
#[derive(Clone, Copy, Debug)]
pub struct MaskContext<'a> {
    /// The source (table) name.
    pub source: &'a str,
    /// The column's name (a nested field as its dotted path, e.g. `patient.ssn`).
    pub column: &'a str,
    /// The value of the row's key column, if the source has one.
    pub row_key: Option<&'a Value>,
    /// The evaluation clock.
    pub now: DateTime<Utc>,
    /// The engine's keys, if it was given any.
    pub keys: Option<&'a KeyRing>,
}

impl<'a> MaskContext<'a> {
    /// A context with no row key and no keys.
    pub fn new(source: &'a str, column: &'a str, now: DateTime<Utc>) -> Self {
        MaskContext {
            source,
            column,
            row_key: None,
            now,
            keys: None,
        }
    }

    /// The same context with this row key.
    pub fn with_row_key(self, row_key: &'a Value) -> Self {
        MaskContext {
            row_key: Some(row_key),
            ..self
        }
    }

    /// The same context with this key ring.
    pub fn with_keys(self, keys: &'a KeyRing) -> Self {
        MaskContext {
            keys: Some(keys),
            ..self
        }
    }

    fn active_key(&self, technique: &'static str) -> Result<&'a MaskingKey, TechniqueError> {
        self.keys
            .map(KeyRing::active)
            .ok_or(TechniqueError::MissingKey { technique })
    }
}

/// Why a technique produced no value. The caller masks the cell with null.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TechniqueError {
    /// The technique does not apply to a value of this type.
    TypeMismatch {
        /// The technique's name.
        technique: &'static str,
        /// The value's type ([`Value::type_name`]).
        found: &'static str,
    },
    /// An argument is out of its allowed range or does not compile.
    InvalidArgument {
        /// The technique's name.
        technique: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The technique needs a key and the engine has none.
    MissingKey {
        /// The technique's name.
        technique: &'static str,
    },
    /// The technique is seeded by the row's key and the row has none (or it is null).
    MissingRowKey {
        /// The technique's name.
        technique: &'static str,
    },
    /// The value is of the right type but the technique cannot handle it (e.g. a format-preserving
    /// input too short for FF1, an age in the future, an arithmetic overflow).
    UnsupportedValue {
        /// The technique's name.
        technique: &'static str,
        /// Why.
        message: String,
    },
    /// A token or ciphertext is not well formed.
    MalformedToken,
    /// A token names a key the ring does not hold.
    UnknownKey(String),
    /// A token or ciphertext does not decrypt (wrong key, tampered, or not made by this engine).
    DecryptionFailed,
}

impl fmt::Display for TechniqueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TechniqueError::TypeMismatch { technique, found } => {
                write!(f, "`{technique}` does not apply to a value of type {found}")
            }
            TechniqueError::InvalidArgument { technique, message } => {
                write!(f, "invalid argument to `{technique}`: {message}")
            }
            TechniqueError::MissingKey { technique } => write!(
                f,
                "`{technique}` needs a masking key and the engine was given none"
            ),
            TechniqueError::MissingRowKey { technique } => {
                write!(
                    f,
                    "`{technique}` is seeded by the row's key and the row has none"
                )
            }
            TechniqueError::UnsupportedValue { technique, message } => {
                write!(f, "`{technique}` cannot mask this value: {message}")
            }
            TechniqueError::MalformedToken => f.write_str("malformed token"),
            TechniqueError::UnknownKey(id) => {
                write!(
                    f,
                    "the token was made with key `{id}`, which the key ring does not hold"
                )
            }
            TechniqueError::DecryptionFailed => f.write_str("the token does not decrypt"),
        }
    }
}

impl std::error::Error for TechniqueError {}

fn invalid(technique: &'static str, message: impl Into<String>) -> TechniqueError {
    TechniqueError::InvalidArgument {
        technique,
        message: message.into(),
    }
}

fn unsupported(technique: &'static str, message: impl Into<String>) -> TechniqueError {
    TechniqueError::UnsupportedValue {
        technique,
        message: message.into(),
    }
}

fn check_max(technique: &'static str, max: Option<u32>) -> Result<(), TechniqueError> {
    match max {
        Some(0) => Err(invalid(technique, "max must be greater than 0")),
        _ => Ok(()),
    }
}

fn fill_without_digits(technique: &'static str, fill: &Fill) -> Result<(), TechniqueError> {
    if fill.is_empty() {
        Err(invalid(technique, "the replacement must not be empty"))
    } else if fill.has_digit() {
        Err(invalid(technique, "the replacement must not hold a digit"))
    } else {
        Ok(())
    }
}

fn check_size(technique: &'static str, size: f64) -> Result<(), TechniqueError> {
    if size.is_finite() && size > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            technique,
            "size must be a finite number greater than 0",
        ))
    }
}

impl Technique {
    /// The technique's name as the language spells it (`show_last`, `round`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Technique::Null => "null",
            Technique::Constant(_) => "constant",
            Technique::Hash { .. } => "hash",
            Technique::Redact => "redact",
            Technique::Stars => "stars",
            Technique::ShowLast(_) => "show_last",
            Technique::ShowFirst(_) => "show_first",
            Technique::EmailMask => "email_mask",
            Technique::MaskFirst { .. } => "mask_first",
            Technique::MaskLast { .. } => "mask_last",
            Technique::MaskFirstPercent(_) => "mask_first_percent",
            Technique::MaskLastPercent(_) => "mask_last_percent",
            Technique::Initials { .. } => "initials",
            Technique::Regex { .. } => "regex",
            Technique::Range(_) => "range",
            Technique::Round(_) | Technique::RoundTime(_) => "round",
            Technique::Digits(_) => "digits",
            Technique::AgeRange { .. } => "age_range",
            Technique::YearOnly { .. } => "year_only",
            Technique::MonthYear { .. } => "month_year",
            Technique::DateFormat { .. } => "date_format",
            Technique::Noise(_) => "noise",
            Technique::Randomize { .. } => "randomize",
            Technique::Tokenize => "tokenize",
            Technique::FormatPreserving => "format_preserving",
            Technique::MaskFirstPercentFill { .. } => "mask_first_percent",
            Technique::MaskLastPercentFill { .. } => "mask_last_percent",
            Technique::ShowFirstFill { .. } => "show_first",
            Technique::ShowLastFill { .. } => "show_last",
            Technique::DigitsFill(_) => "digits",
            Technique::ConstantText(_) => "constant_text",
            Technique::Buckets { .. } => "buckets",
            Technique::AboveMax { technique, .. } => technique.name(),
        }
    }

    /// Whether the technique needs a masking key (`hash`, `tokenize`, `format_preserving`,
    /// `noise`, `randomize`).
    pub fn needs_key(&self) -> bool {
        matches!(
            self,
            Technique::Hash { .. }
                | Technique::Tokenize
                | Technique::FormatPreserving
                | Technique::Noise(_)
                | Technique::Randomize { .. }
        )
    }

    /// Whether the technique applies to a column of this type, per the §5 table (`null` and
    /// `constant` apply to any type; the compiler checks a constant's type separately). This is
    /// the static table behind the contract's type fallback; at run time [`apply`](Self::apply)
    /// is more lenient in places (an enum value is a text, `hash` hashes any value's canonical
    /// text) and reports the rest as [`TechniqueError::TypeMismatch`].
    pub fn applies_to(&self, ty: &ColumnType) -> bool {
        use ColumnType as T;
        match self {
            Technique::Null | Technique::Constant(_) => true,
            Technique::Hash { .. } => matches!(ty, T::Text | T::Enum(_)),
            Technique::Redact
            | Technique::Stars
            | Technique::ShowLast(_)
            | Technique::ShowFirst(_)
            | Technique::EmailMask
            | Technique::MaskFirst { .. }
            | Technique::MaskLast { .. }
            | Technique::MaskFirstPercent(_)
            | Technique::MaskLastPercent(_)
            | Technique::Initials { .. }
            | Technique::Regex { .. }
            | Technique::Tokenize
            | Technique::MaskFirstPercentFill { .. }
            | Technique::MaskLastPercentFill { .. }
            | Technique::ShowFirstFill { .. }
            | Technique::ShowLastFill { .. } => matches!(ty, T::Text),
            Technique::FormatPreserving => matches!(ty, T::Text | T::Int),
            Technique::Range(_) | Technique::Round(_) => matches!(ty, T::Int | T::Decimal),
            Technique::Digits(_) | Technique::DigitsFill(_) => {
                matches!(ty, T::Text | T::Int | T::Decimal)
            }
            Technique::ConstantText(_) | Technique::AboveMax { .. } => {
                matches!(ty, T::Date | T::Timestamp)
            }
            Technique::Buckets { .. } => {
                matches!(ty, T::Int | T::Decimal | T::Date | T::Timestamp)
            }
            Technique::RoundTime(_)
            | Technique::AgeRange { .. }
            | Technique::YearOnly { .. }
            | Technique::MonthYear { .. }
            | Technique::DateFormat { .. } => matches!(ty, T::Date | T::Timestamp),
            Technique::Noise(_) => matches!(ty, T::Int | T::Decimal | T::Date | T::Timestamp),
            Technique::Randomize { .. } => matches!(ty, T::Enum(_)),
        }
    }

    /// Whether the technique is *partial* (null and empty text give `*******`).
    pub fn is_partial(&self) -> bool {
        matches!(
            self,
            Technique::ShowLast(_)
                | Technique::ShowFirst(_)
                | Technique::EmailMask
                | Technique::MaskFirst { .. }
                | Technique::MaskLast { .. }
                | Technique::MaskFirstPercent(_)
                | Technique::MaskLastPercent(_)
                | Technique::Initials { .. }
                | Technique::MaskFirstPercentFill { .. }
                | Technique::MaskLastPercentFill { .. }
                | Technique::ShowFirstFill { .. }
                | Technique::ShowLastFill { .. }
        )
    }

    /// Checks the arguments, as the compiler and a bundle verifier both must: counts, sizes and
    /// `max` greater than 0, 1 ≤ p ≤ 100, scale and size finite, 0 ≤ rate ≤ 1 with a non-empty
    /// domain without duplicates, a non-empty `initials` delimiter, a regex that compiles and a
    /// valid strftime pattern.
    pub fn validate(&self) -> Result<(), TechniqueError> {
        self.prepare().map(|_| ())
    }

    /// Validates the arguments and compiles what needs compiling, once.
    pub fn prepare(&self) -> Result<PreparedTechnique, TechniqueError> {
        let name = self.name();
        let compiled = match self {
            Technique::ShowLast(0)
            | Technique::ShowFirst(0)
            | Technique::MaskFirst { n: 0, .. }
            | Technique::MaskLast { n: 0, .. } => {
                return Err(invalid(name, "the count must be greater than 0"))
            }
            Technique::ShowFirstFill { n: 0, .. } | Technique::ShowLastFill { n: 0, .. } => {
                return Err(invalid(name, "the count must be greater than 0"))
            }
            Technique::MaskFirstPercent(p)
            | Technique::MaskLastPercent(p)
            | Technique::MaskFirstPercentFill { p, .. }
            | Technique::MaskLastPercentFill { p, .. }
                if !(1..=100).contains(p) =>
            {
                return Err(invalid(name, "the percentage must be between 1 and 100"))
            }
            // `MaskFirst` / `MaskLast` and `Digits` keep what bundles made before issue 13
            // loading (an empty text or a digit there reveals nothing); the checker refuses both.
            Technique::MaskFirstPercentFill { fill, .. }
            | Technique::MaskLastPercentFill { fill, .. }
            | Technique::ShowFirstFill { fill, .. }
            | Technique::ShowLastFill { fill, .. }
                if fill.is_empty() =>
            {
                return Err(invalid(name, "the replacement must not be empty"))
            }
            Technique::DigitsFill(fill) => {
                fill_without_digits(name, fill)?;
                Compiled::None
            }
            Technique::Buckets { edges, labels } => {
                buckets::validate(edges, labels).map_err(|m| invalid(name, m))?;
                Compiled::None
            }
            Technique::AboveMax {
                max,
                above,
                technique,
            } => {
                check_max(name, Some(*max))?;
                if above.is_empty() {
                    return Err(invalid(name, "the `above` text must not be empty"));
                }
                let younger_only = matches!(
                    technique.as_ref(),
                    Technique::AgeRange { max: None, .. }
                        | Technique::YearOnly { max: None }
                        | Technique::MonthYear { max: None }
                        | Technique::DateFormat { max: None, .. }
                );
                if !younger_only {
                    return Err(invalid(
                        name,
                        "`above` applies to age_range, year_only, month_year or date_format \
                         written without `max`",
                    ));
                }
                Compiled::Above(Box::new(technique.prepare()?))
            }
            Technique::Initials { delimiter: Some(d) } if d.is_empty() => {
                return Err(invalid(name, "the delimiter must not be empty"))
            }
            Technique::Regex {
                pattern,
                ignore_case,
                ..
            } => {
                let re = regex::RegexBuilder::new(pattern)
                    .case_insensitive(*ignore_case)
                    .build()
                    .map_err(|e| invalid(name, e.to_string()))?;
                Compiled::Regex(re)
            }
            Technique::Range(size) | Technique::Round(size) => {
                check_size(name, *size)?;
                Compiled::None
            }
            Technique::AgeRange { size: 0, .. } => {
                return Err(invalid(name, "size must be greater than 0"))
            }
            Technique::AgeRange { max, .. }
            | Technique::YearOnly { max }
            | Technique::MonthYear { max } => {
                check_max(name, *max)?;
                Compiled::None
            }
            Technique::DateFormat { pattern, max } => {
                check_max(name, *max)?;
                let items = chrono::format::StrftimeItems::new(pattern)
                    .parse_to_owned()
                    .map_err(|_| invalid(name, "not a valid strftime pattern"))?;
                if items.iter().any(|i| matches!(i, Item::Error)) {
                    return Err(invalid(name, "not a valid strftime pattern"));
                }
                Compiled::Strftime(items)
            }
            Technique::Noise(scale) if !(scale.is_finite() && *scale > 0.0) => {
                return Err(invalid(
                    name,
                    "scale must be a finite number greater than 0",
                ))
            }
            Technique::Randomize { rate, domain } => {
                if !(0.0..=1.0).contains(rate) {
                    return Err(invalid(name, "rate must be between 0 and 1"));
                }
                if domain.is_empty() {
                    return Err(invalid(name, "the domain must not be empty"));
                }
                for (i, d) in domain.iter().enumerate() {
                    if domain.iter().take(i).any(|e| e == d) {
                        return Err(invalid(name, format!("the domain lists {d:?} twice")));
                    }
                }
                Compiled::None
            }
            _ => Compiled::None,
        };
        Ok(PreparedTechnique {
            technique: self.clone(),
            compiled,
        })
    }

    /// Prepares and applies in one call. This recompiles regexes and strftime patterns every
    /// time: for masking many rows use [`prepare`](Self::prepare) once and
    /// [`PreparedTechnique::apply`].
    pub fn apply(&self, value: &Value, ctx: &MaskContext<'_>) -> Result<Value, TechniqueError> {
        self.prepare()?.apply(value, ctx)
    }
}

#[derive(Clone, Debug)]
enum Compiled {
    None,
    Regex(regex::Regex),
    Strftime(Vec<Item<'static>>),
    /// The date technique of [`Technique::AboveMax`], prepared.
    Above(Box<PreparedTechnique>),
}

/// A validated technique with its compiled parts, ready to mask any number of values.
#[derive(Clone, Debug)]
pub struct PreparedTechnique {
    technique: Technique,
    compiled: Compiled,
}

impl PreparedTechnique {
    /// Same as [`Technique::prepare`].
    pub fn new(technique: &Technique) -> Result<Self, TechniqueError> {
        technique.prepare()
    }

    /// The technique this was prepared from.
    pub fn technique(&self) -> &Technique {
        &self.technique
    }

    /// Masks a text value by appending the result to `out`, as [`apply`](Self::apply) on
    /// `Value::Text(s)` would give it, for the techniques that need no key and always give a
    /// text (`stars`, `redact`, `show_first`, `show_last`, `email_mask`, `mask_first`,
    /// `mask_last`; an empty text only for the first three partial ones): `false` (and `out`
    /// untouched) for every other technique, which the caller then applies with `apply`.
    pub fn apply_text_into(&self, s: &str, out: &mut String) -> bool {
        let t = &self.technique;
        if t.is_partial() && s.is_empty() {
            if !matches!(
                t,
                Technique::ShowLast(_) | Technique::ShowFirst(_) | Technique::EmailMask
            ) {
                return false;
            }
            out.push_str(REDACTED);
            return true;
        }
        match t {
            Technique::Redact => out.push_str(REDACTED),
            Technique::Stars => partial::stars_into(s, out),
            Technique::ShowLast(n) => partial::show_last_into(s, *n, out),
            Technique::ShowFirst(n) => partial::show_first_into(s, *n, out),
            Technique::EmailMask => partial::email_mask_into(s, out),
            Technique::MaskFirst { n, fill } => {
                partial::mask_alnum_into(s, *n, fill, partial::End::First, out)
            }
            Technique::MaskLast { n, fill } => {
                partial::mask_alnum_into(s, *n, fill, partial::End::Last, out)
            }
            _ => return false,
        }
        true
    }

    /// Masks one value. Never panics; an error means "mask with null".
    pub fn apply(&self, value: &Value, ctx: &MaskContext<'_>) -> Result<Value, TechniqueError> {
        let t = &self.technique;
        let name = t.name();
        if matches!(t, Technique::Null) {
            return Ok(Value::Null);
        }
        if t.is_partial() {
            match value {
                Value::Null => return Ok(Value::Text(REDACTED.to_owned())),
                Value::Text(s) if s.is_empty() => return Ok(Value::Text(REDACTED.to_owned())),
                _ => {}
            }
        } else if value.is_null() {
            return Ok(Value::Null);
        }
        let text = || match value {
            Value::Text(s) => Ok(s.as_str()),
            other => Err(TechniqueError::TypeMismatch {
                technique: name,
                found: other.type_name(),
            }),
        };
        let out =
            match t {
                Technique::Null => Value::Null,
                Technique::Constant(v) => v.clone(),
                Technique::Hash { global } => {
                    let key = ctx.active_key(name)?;
                    let digest = match value {
                        Value::Text(s) => hash::hash(key, ctx.source, *global, s)?,
                        other => hash::hash(key, ctx.source, *global, &other.canonical_text())?,
                    };
                    Value::Text(digest)
                }
                Technique::Redact => {
                    text()?;
                    Value::Text(REDACTED.to_owned())
                }
                Technique::Stars => Value::Text(partial::stars(text()?)),
                Technique::ShowLast(n) => Value::Text(partial::show_last(text()?, *n)),
                Technique::ShowFirst(n) => Value::Text(partial::show_first(text()?, *n)),
                Technique::EmailMask => Value::Text(partial::email_mask(text()?)),
                Technique::MaskFirst { n, fill } => {
                    Value::Text(partial::mask_alnum(text()?, *n, fill, partial::End::First))
                }
                Technique::MaskLast { n, fill } => {
                    Value::Text(partial::mask_alnum(text()?, *n, fill, partial::End::Last))
                }
                Technique::MaskFirstPercent(p) => {
                    Value::Text(partial::mask_percent(text()?, *p, partial::End::First))
                }
                Technique::MaskLastPercent(p) => {
                    Value::Text(partial::mask_percent(text()?, *p, partial::End::Last))
                }
                Technique::Initials { delimiter } => {
                    Value::Text(partial::initials(text()?, delimiter.as_deref()))
                }
                Technique::Regex {
                    replacement,
                    global,
                    ..
                } => {
                    let s = text()?;
                    match &self.compiled {
                        Compiled::Regex(re) => {
                            Value::Text(partial::regex_replace(re, s, replacement, *global))
                        }
                        _ => return Err(invalid(name, "regex was not prepared")),
                    }
                }
                Technique::Range(size) => generalize::range(value, *size)?,
                Technique::Round(size) => generalize::round(value, *size)?,
                Technique::RoundTime(unit) => dates::round_time(value, *unit)?,
                Technique::Digits(c) => generalize::digits(value, *c)?,
                Technique::AgeRange { size, max } => dates::age_range(value, *size, *max, ctx.now)?,
                Technique::YearOnly { max } => dates::year_only(value, *max, ctx.now)?,
                Technique::MonthYear { max } => dates::month_year(value, *max, ctx.now)?,
                Technique::DateFormat { max, .. } => match &self.compiled {
                    Compiled::Strftime(items) => dates::date_format(value, items, *max, ctx.now)?,
                    _ => return Err(invalid(name, "pattern was not prepared")),
                },
                Technique::Noise(scale) => {
                    let key = ctx.active_key(name)?;
                    noise::noise(key, ctx, value, *scale)?
                }
                Technique::Randomize { rate, domain } => {
                    let key = ctx.active_key(name)?;
                    let s = text()?;
                    noise::randomize(key, ctx, s, *rate, domain)?
                }
                Technique::Tokenize => {
                    let key = ctx.active_key(name)?;
                    Value::Text(token::tokenize(key, text()?)?)
                }
                Technique::FormatPreserving => {
                    let key = ctx.active_key(name)?;
                    match value {
                        Value::Int(i) => {
                            Value::Int(fpe::encrypt_int(key, ctx.source, ctx.column, *i)?)
                        }
                        _ => Value::Text(fpe::encrypt(key, ctx.source, ctx.column, text()?)?),
                    }
                }
                Technique::MaskFirstPercentFill { p, fill } => Value::Text(
                    partial::mask_percent_fill(text()?, *p, fill, partial::End::First),
                ),
                Technique::MaskLastPercentFill { p, fill } => Value::Text(
                    partial::mask_percent_fill(text()?, *p, fill, partial::End::Last),
                ),
                Technique::ShowFirstFill { n, fill } => {
                    Value::Text(partial::show_fill(text()?, *n, fill, partial::End::First))
                }
                Technique::ShowLastFill { n, fill } => {
                    Value::Text(partial::show_fill(text()?, *n, fill, partial::End::Last))
                }
                Technique::DigitsFill(fill) => generalize::digits_fill(value, fill)?,
                Technique::ConstantText(t) => {
                    dates::date_of(value, name)?;
                    Value::Text(t.clone())
                }
                Technique::Buckets { edges, labels } => {
                    buckets::bucket(value, edges, labels, ctx.now)?
                }
                Technique::AboveMax { max, above, .. } => match &self.compiled {
                    Compiled::Above(inner) => {
                        if dates::too_old(dates::date_of(value, name)?, Some(*max), ctx.now) {
                            Value::Text(above.clone())
                        } else {
                            inner.apply(value, ctx)?
                        }
                    }
                    _ => return Err(invalid(name, "the date technique was not prepared")),
                },
            };
        Ok(out)
    }
}
