//! Duration literals (docs/language.md §1, "Durations"): an amount and the unit it is written
//! in. `s m h d w` are fixed lengths (seconds); `mo` and `y` are calendar months, whose length
//! depends on the date they move.

use serde::Serialize;

/// The most calendar months a literal may say (10,000 years): a date moved further than this
/// leaves every calendar.
pub const MAX_CALENDAR_MONTHS: i64 = 120_000;

/// The unit a duration literal is written in (`polc fmt` keeps it as written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum DurationUnit {
    /// `s`
    Seconds,
    /// `m`
    Minutes,
    /// `h`
    Hours,
    /// `d`
    Days,
    /// `w`: 7 days.
    Weeks,
    /// `mo`: calendar months.
    Months,
    /// `y`: 12 calendar months.
    Years,
}

impl DurationUnit {
    /// The unit's suffix as written.
    pub fn suffix(self) -> &'static str {
        match self {
            DurationUnit::Seconds => "s",
            DurationUnit::Minutes => "m",
            DurationUnit::Hours => "h",
            DurationUnit::Days => "d",
            DurationUnit::Weeks => "w",
            DurationUnit::Months => "mo",
            DurationUnit::Years => "y",
        }
    }

    fn from_suffix(s: &str) -> Option<DurationUnit> {
        Some(match s {
            "s" => DurationUnit::Seconds,
            "m" => DurationUnit::Minutes,
            "h" => DurationUnit::Hours,
            "d" => DurationUnit::Days,
            "w" => DurationUnit::Weeks,
            "mo" => DurationUnit::Months,
            "y" => DurationUnit::Years,
            _ => return None,
        })
    }
}

/// A duration's length: fixed seconds, or calendar months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum DurationValue {
    /// A fixed length in seconds (`90d`, `24h`, `2w`).
    Seconds(i64),
    /// Calendar months (`6mo`; `1y` is 12).
    Months(i64),
}

impl DurationValue {
    /// Is it a calendar duration (months or years)?
    pub fn is_calendar(self) -> bool {
        matches!(self, DurationValue::Months(_))
    }
}

impl std::fmt::Display for DurationValue {
    /// `90s`-style for fixed lengths, `6mo` for calendar ones.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurationValue::Seconds(s) => write!(f, "{s}s"),
            DurationValue::Months(m) => write!(f, "{m}mo"),
        }
    }
}

/// A duration token: its amount and unit, whose length is known to fit (the lexer refuses a
/// literal whose seconds overflow an `i64` or whose months exceed [`MAX_CALENDAR_MONTHS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DurationLit {
    /// The number as written.
    pub amount: i64,
    /// The unit as written.
    pub unit: DurationUnit,
}

impl DurationLit {
    /// Reads `90d`, `6mo`…: `None` if the unit is unknown or the length does not fit.
    pub fn parse(text: &str) -> Option<DurationLit> {
        let digits = text.find(|c: char| !c.is_ascii_digit())?;
        let (num, suffix) = text.split_at(digits);
        let amount: i64 = num.parse().ok()?;
        let unit = DurationUnit::from_suffix(suffix)?;
        let lit = DurationLit { amount, unit };
        lit.checked_value().map(|_| lit)
    }

    fn checked_value(self) -> Option<DurationValue> {
        let secs = |mult: i64| self.amount.checked_mul(mult).map(DurationValue::Seconds);
        let months = |mult: i64| {
            self.amount
                .checked_mul(mult)
                .filter(|m| *m <= MAX_CALENDAR_MONTHS)
                .map(DurationValue::Months)
        };
        match self.unit {
            DurationUnit::Seconds => secs(1),
            DurationUnit::Minutes => secs(60),
            DurationUnit::Hours => secs(3_600),
            DurationUnit::Days => secs(86_400),
            DurationUnit::Weeks => secs(7 * 86_400),
            DurationUnit::Months => months(1),
            DurationUnit::Years => months(12),
        }
    }

    /// The length (checked when the literal was read; an impossible overflow saturates).
    pub fn value(self) -> DurationValue {
        self.checked_value().unwrap_or(match self.unit {
            DurationUnit::Months | DurationUnit::Years => {
                DurationValue::Months(MAX_CALENDAR_MONTHS)
            }
            _ => DurationValue::Seconds(i64::MAX),
        })
    }
}

impl std::fmt::Display for DurationLit {
    /// As written: `6mo`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.suffix())
    }
}
