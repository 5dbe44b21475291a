//! Calendar durations (`6mo`, `1y`): moving a date or a timestamp by whole months in UTC, the
//! day clamped to the last day of the month reached (`2024-01-31 + 1mo` is `2024-02-29`), the
//! time of day kept. `None` when the result leaves chrono's range.

use chrono::{DateTime, Months, NaiveDate, Utc};

/// `d + months` (negative `months` moves back).
pub fn add_months_to_date(d: NaiveDate, months: i64) -> Option<NaiveDate> {
    let n = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        d.checked_add_months(n)
    } else {
        d.checked_sub_months(n)
    }
}

/// `t + months` in UTC (negative `months` moves back).
pub fn add_months(t: DateTime<Utc>, months: i64) -> Option<DateTime<Utc>> {
    let n = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        t.checked_add_months(n)
    } else {
        t.checked_sub_months(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn months_clamp_to_the_last_day() {
        assert_eq!(
            add_months_to_date(date("2024-01-31"), 1),
            Some(date("2024-02-29"))
        );
        assert_eq!(
            add_months_to_date(date("2023-01-31"), 1),
            Some(date("2023-02-28"))
        );
        assert_eq!(
            add_months_to_date(date("2024-03-31"), -1),
            Some(date("2024-02-29"))
        );
        assert_eq!(
            add_months_to_date(date("2024-02-29"), 12),
            Some(date("2025-02-28"))
        );
        assert_eq!(
            add_months_to_date(date("2024-05-15"), -6),
            Some(date("2023-11-15"))
        );
        assert_eq!(add_months_to_date(date("2024-05-15"), i64::MIN), None);
    }
}
