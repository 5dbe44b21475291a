//! Date generalisation: `round(unit)`, `age_range`, `year_only`, `month_year`, `date_format`.
//!
//! Ages are whole years between the value's (UTC) date and the evaluation clock's UTC date: a
//! birthday counts once its month and day are reached (a 29 February birthday is reached on
//! 1 March in common years). A value after the clock has no age: `age_range` then fails, and the
//! `max:` checks treat it as younger than any maximum.

use std::fmt::Write as _;

use chrono::format::Item;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

use super::{unsupported, TechniqueError, TimeUnit};
use crate::value::Value;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(crate) fn date_of(value: &Value, technique: &'static str) -> Result<NaiveDate, TechniqueError> {
    match value {
        Value::Date(d) => Ok(*d),
        Value::Timestamp(t) => Ok(t.date_naive()),
        other => Err(TechniqueError::TypeMismatch {
            technique,
            found: other.type_name(),
        }),
    }
}

/// Whole years from `birth` to `now`; negative if `birth` is after `now`.
pub(crate) fn age_years(birth: NaiveDate, now: NaiveDate) -> i64 {
    let mut age = i64::from(now.year()) - i64::from(birth.year());
    if (now.month(), now.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Whether the `max:` cut-off hides this date (age ≥ max).
pub(crate) fn too_old(date: NaiveDate, max: Option<u32>, now: DateTime<Utc>) -> bool {
    match max {
        Some(m) => age_years(date, now.date_naive()) >= i64::from(m),
        None => false,
    }
}

/// `round(unit)` on a date or timestamp.
pub(crate) fn round_time(value: &Value, unit: TimeUnit) -> Result<Value, TechniqueError> {
    const NAME: &str = "round";
    let out_of_range = || unsupported(NAME, "the result is out of range");
    let day_of = |d: NaiveDate| -> Result<NaiveDate, TechniqueError> {
        match unit {
            TimeUnit::Minute | TimeUnit::Hour | TimeUnit::Day => Ok(d),
            TimeUnit::Month => {
                NaiveDate::from_ymd_opt(d.year(), d.month(), 1).ok_or_else(out_of_range)
            }
            TimeUnit::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1).ok_or_else(out_of_range),
        }
    };
    match value {
        Value::Date(d) => Ok(Value::Date(day_of(*d)?)),
        Value::Timestamp(t) => {
            let naive = t.naive_utc();
            let time = match unit {
                TimeUnit::Minute => NaiveTime::from_hms_opt(naive.hour(), naive.minute(), 0),
                TimeUnit::Hour => NaiveTime::from_hms_opt(naive.hour(), 0, 0),
                TimeUnit::Day | TimeUnit::Month | TimeUnit::Year => {
                    NaiveTime::from_hms_opt(0, 0, 0)
                }
            }
            .ok_or_else(out_of_range)?;
            let date = day_of(naive.date())?;
            Ok(Value::Timestamp(date.and_time(time).and_utc()))
        }
        other => Err(TechniqueError::TypeMismatch {
            technique: NAME,
            found: other.type_name(),
        }),
    }
}

/// `age_range(size [, max])`.
pub(crate) fn age_range(
    value: &Value,
    size: u32,
    max: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Value, TechniqueError> {
    const NAME: &str = "age_range";
    let date = date_of(value, NAME)?;
    let age = age_years(date, now.date_naive());
    if age < 0 {
        return Err(unsupported(NAME, "the date is after the evaluation clock"));
    }
    if let Some(m) = max {
        if age >= i64::from(m) {
            return Ok(Value::Null);
        }
    }
    if size == 0 {
        return Err(super::invalid(NAME, "size must be greater than 0"));
    }
    let size = i64::from(size);
    let lo = (age / size) * size;
    let hi = lo + size;
    Ok(Value::Text(format!("{lo}-{hi}")))
}

/// `year_only([max])`.
pub(crate) fn year_only(
    value: &Value,
    max: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Value, TechniqueError> {
    let date = date_of(value, "year_only")?;
    if too_old(date, max, now) {
        return Ok(Value::Null);
    }
    Ok(Value::Text(date.year().to_string()))
}

/// `month_year([max])`: English month name, a space, the year.
pub(crate) fn month_year(
    value: &Value,
    max: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Value, TechniqueError> {
    let date = date_of(value, "month_year")?;
    if too_old(date, max, now) {
        return Ok(Value::Null);
    }
    let month = MONTHS.get(date.month0() as usize).copied().unwrap_or("?");
    Ok(Value::Text(format!("{month} {}", date.year())))
}

/// `date_format(pattern [, max])` with the pattern parsed once.
pub(crate) fn date_format(
    value: &Value,
    items: &[Item<'static>],
    max: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Value, TechniqueError> {
    const NAME: &str = "date_format";
    let date = date_of(value, NAME)?;
    if too_old(date, max, now) {
        return Ok(Value::Null);
    }
    let mut out = String::new();
    // Formatting reports (rather than panics on) fields the value lacks, e.g. `%H` on a date,
    // as long as we write through `write!` and never through `to_string()`.
    let written = match value {
        Value::Timestamp(t) => write!(out, "{}", t.format_with_items(items.iter())),
        _ => write!(out, "{}", date.format_with_items(items.iter())),
    };
    written.map_err(|_| {
        unsupported(
            NAME,
            "the pattern asks for a field this value does not have",
        )
    })?;
    Ok(Value::Text(out))
}
