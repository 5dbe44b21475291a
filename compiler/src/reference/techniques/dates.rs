//! Dates: `round(unit)`, `age_range`, `year_only`, `month_year`, `date_format`
//! (docs/language.md, "Dates and ages").
//!
//! A timestamp is read as its UTC date. The age is the number of whole years from the date to
//! the evaluation clock's UTC date: a birthday counts once its month and day are reached (29
//! February on 1 March of a common year). A date after the clock has no age: `age_range` fails,
//! and a `max:` cut-off does not hide it.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use pol_runtime::value::Value;

/// The English month names.
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

/// The date of a date, or of a timestamp in UTC.
pub fn date_of(v: &Value) -> Option<NaiveDate> {
    match v {
        Value::Date(d) => Some(*d),
        Value::Timestamp(t) => Some(t.date_naive()),
        _ => None,
    }
}

/// Whole years from `born` to `today` (negative when `born` is later).
pub fn age(born: NaiveDate, today: NaiveDate) -> i64 {
    let years = i64::from(today.year()) - i64::from(born.year());
    let reached = (today.month(), today.day()) >= (born.month(), born.day());
    if reached {
        years
    } else {
        years - 1
    }
}

/// `max: m` hides a date whose age is m or more.
fn hidden_by_max(date: NaiveDate, max: Option<i64>, now: DateTime<Utc>) -> bool {
    max.is_some_and(|m| age(date, now.date_naive()) >= m)
}

/// The unit of `round(unit)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    Minute,
    Hour,
    Day,
    Month,
    Year,
}

impl Unit {
    /// The unit a word names.
    pub fn named(word: &str) -> Option<Unit> {
        Some(match word {
            "minute" => Unit::Minute,
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            "month" => Unit::Month,
            "year" => Unit::Year,
            _ => return None,
        })
    }
}

/// `round(unit)`: the date or timestamp truncated to the start of its unit (UTC).
pub fn round_to(v: &Value, unit: Unit) -> Option<Value> {
    let first_day = |d: NaiveDate| match unit {
        Unit::Minute | Unit::Hour | Unit::Day => Some(d),
        Unit::Month => NaiveDate::from_ymd_opt(d.year(), d.month(), 1),
        Unit::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1),
    };
    match v {
        Value::Date(d) => Some(Value::Date(first_day(*d)?)),
        Value::Timestamp(t) => {
            let time = match unit {
                Unit::Minute => NaiveTime::from_hms_opt(t.hour(), t.minute(), 0)?,
                Unit::Hour => NaiveTime::from_hms_opt(t.hour(), 0, 0)?,
                Unit::Day | Unit::Month | Unit::Year => NaiveTime::MIN,
            };
            let day = first_day(t.date_naive())?;
            Some(Value::Timestamp(day.and_time(time).and_utc()))
        }
        _ => None,
    }
}

/// `age_range(size [, max: m])`: the text `lo-hi` of the age, lo = ⌊age/size⌋·size.
pub fn age_range(v: &Value, size: i64, max: Option<i64>, now: DateTime<Utc>) -> Option<Value> {
    let years = age(date_of(v)?, now.date_naive());
    if years < 0 || size <= 0 {
        return None;
    }
    if max.is_some_and(|m| years >= m) {
        return Some(Value::Null);
    }
    let lo = years / size * size;
    Some(Value::Text(format!("{lo}-{}", lo + size)))
}

/// `year_only([max: m])`: the year.
pub fn year_only(v: &Value, max: Option<i64>, now: DateTime<Utc>) -> Option<Value> {
    let date = date_of(v)?;
    if hidden_by_max(date, max, now) {
        return Some(Value::Null);
    }
    Some(Value::Text(date.year().to_string()))
}

/// `month_year([max: m])`: the English month name, a space, the year.
pub fn month_year(v: &Value, max: Option<i64>, now: DateTime<Utc>) -> Option<Value> {
    let date = date_of(v)?;
    if hidden_by_max(date, max, now) {
        return Some(Value::Null);
    }
    let month = MONTHS.get(date.month0() as usize)?;
    Some(Value::Text(format!("{month} {}", date.year())))
}

/// `date_format(pattern [, max: m])`: chrono's strftime; a pattern that does not parse, or that
/// asks a date for a time field, fails.
pub fn date_format(
    v: &Value,
    pattern: &str,
    max: Option<i64>,
    now: DateTime<Utc>,
) -> Option<Value> {
    let date = date_of(v)?;
    let items: Vec<Item<'_>> = StrftimeItems::new(pattern).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return None;
    }
    if hidden_by_max(date, max, now) {
        return Some(Value::Null);
    }
    let mut out = String::new();
    let written = match v {
        Value::Timestamp(t) => write!(out, "{}", t.format_with_items(items.iter())),
        _ => write!(out, "{}", date.format_with_items(items.iter())),
    };
    written.ok()?;
    Some(Value::Text(out))
}
