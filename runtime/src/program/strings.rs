//! The string functions of `expr` (docs/language.md, "String functions"): characters are
//! Unicode scalar values, positions count from 1, and a result that would exceed its limit
//! ([`MAX_PAD_LENGTH`], [`MAX_TEXT_RESULT`]) is `None` (unknown), never a large allocation.

use regex::Regex;

use super::{MAX_PAD_LENGTH, MAX_TEXT_RESULT};

/// `replace(s, from, to)`: every non-overlapping occurrence of `from`, left to right, replaced
/// by `to`; an empty `from` leaves `s` as it is.
pub fn replace(s: &str, from: &str, to: &str) -> Option<String> {
    if from.is_empty() {
        return Some(s.to_string());
    }
    // The result's exact length, before building it (the matches do not overlap, so they
    // hold `count` times `from`'s characters).
    let count = s.matches(from).count();
    let kept = s
        .chars()
        .count()
        .saturating_sub(count.saturating_mul(from.chars().count()));
    let length = kept.saturating_add(count.saturating_mul(to.chars().count()));
    if length > MAX_TEXT_RESULT {
        return None;
    }
    Some(s.replace(from, to))
}

/// `regex_replace(s, pattern, replacement)`: every match replaced, `$1` / `${name}` expanded
/// as the `regex` crate does.
pub fn regex_replace(re: &Regex, s: &str, replacement: &str) -> Option<String> {
    let out = re.replace_all(s, replacement);
    (out.chars().count() <= MAX_TEXT_RESULT).then(|| out.into_owned())
}

/// `substring(s, start[, len])`: the characters at positions `start` to `start + len - 1`
/// that exist (the first character is at 1); without `len`, to the end. A negative `len` is
/// `None`.
pub fn substring(s: &str, start: i64, len: Option<i64>) -> Option<String> {
    let first = i128::from(start).max(1);
    let last = match len {
        Some(l) if l < 0 => return None,
        Some(l) => i128::from(start) + i128::from(l) - 1,
        None => i128::MAX,
    };
    Some(
        s.chars()
            .zip(1i128..)
            .filter(|(_, p)| *p >= first && *p <= last)
            .map(|(c, _)| c)
            .collect(),
    )
}

/// `lpad(s, n, fill)` (`left`) and `rpad`: `s` cut to its first `n` characters, or filled to
/// `n` characters with `fill` repeated on that side (unchanged if `fill` is empty). `n` above
/// [`MAX_PAD_LENGTH`] is `None`; `n` below 1 gives the empty text.
pub fn pad(s: &str, n: i64, fill: &str, left: bool) -> Option<String> {
    if n > MAX_PAD_LENGTH {
        return None;
    }
    let n = usize::try_from(n).unwrap_or(0);
    let have = s.chars().count();
    if have >= n {
        return Some(s.chars().take(n).collect());
    }
    if fill.is_empty() {
        return Some(s.to_string());
    }
    let padding: String = fill.chars().cycle().take(n - have).collect();
    Some(if left {
        padding + s
    } else {
        s.to_string() + &padding
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_counts_characters_from_one() {
        assert_eq!(substring("héllo", 2, Some(3)).as_deref(), Some("éll"));
        assert_eq!(substring("hello", 0, Some(3)).as_deref(), Some("he"));
        assert_eq!(substring("hello", -5, None).as_deref(), Some("hello"));
        assert_eq!(substring("hello", 9, Some(2)).as_deref(), Some(""));
        assert_eq!(substring("hello", 2, Some(0)).as_deref(), Some(""));
        assert_eq!(
            substring("hello", i64::MAX, Some(i64::MAX)).as_deref(),
            Some("")
        );
        assert_eq!(
            substring("hello", i64::MIN, Some(i64::MAX)).as_deref(),
            Some("")
        );
        assert_eq!(substring("hello", 1, Some(-1)), None);
    }

    #[test]
    fn pad_cuts_fills_and_refuses_huge_lengths() {
        assert_eq!(pad("7", 3, "0", true).as_deref(), Some("007"));
        assert_eq!(pad("ab", 7, "xy", false).as_deref(), Some("abxyxyx"));
        assert_eq!(pad("hello", 2, "x", true).as_deref(), Some("he"));
        assert_eq!(pad("hello", 2, "x", false).as_deref(), Some("he"));
        assert_eq!(pad("ab", 5, "", true).as_deref(), Some("ab"));
        assert_eq!(pad("ab", -3, "x", true).as_deref(), Some(""));
        assert_eq!(pad("ab", MAX_PAD_LENGTH + 1, "x", true), None);
        assert_eq!(
            pad("", MAX_PAD_LENGTH, "é", true).map(|s| s.chars().count()),
            Some(10_000)
        );
    }

    #[test]
    fn replace_leaves_the_text_for_an_empty_pattern_and_bounds_growth() {
        assert_eq!(replace("a.b.c", ".", "::").as_deref(), Some("a::b::c"));
        assert_eq!(replace("abc", "", "x").as_deref(), Some("abc"));
        assert_eq!(replace("aaa", "aa", "b").as_deref(), Some("ba"));
        let big = "x".repeat(2_000);
        let fill = "y".repeat(1_000);
        assert_eq!(replace(&big, "x", &fill), None);
        // A text over the limit that shrinks under it is kept.
        let long = "ab".repeat(MAX_TEXT_RESULT);
        assert_eq!(
            replace(&long, "b", "").map(|s| s.len()),
            Some(MAX_TEXT_RESULT)
        );
        assert_eq!(replace(&long, "b", "c"), None);
    }
}
