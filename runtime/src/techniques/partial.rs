//! Partial and textual techniques: `stars`, `show_first`/`show_last`, `email_mask`,
//! `mask_first`/`mask_last` (and their percent forms), `initials` and `regex`.
//!
//! "Letters or digits" are Unicode alphanumeric characters (`char::is_alphanumeric`); everything
//! else is a separator. Lengths are counted in characters (Unicode scalar values), never bytes.
//! Null and empty inputs never reach these functions (the dispatcher turns them into `*******`).

use super::{Fill, REDACTED};

/// Which end of the value a technique works from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    First,
    Last,
}

fn shown(c: char) -> bool {
    c.is_alphanumeric()
}

fn count(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// `stars`: one `*` per character.
pub(crate) fn stars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    stars_into(s, &mut out);
    out
}

/// [`stars`], appended to `out`.
pub(crate) fn stars_into(s: &str, out: &mut String) {
    out.extend(s.chars().map(|_| '*'));
}

/// `show_last(n)`.
pub(crate) fn show_last(s: &str, n: u32) -> String {
    let mut out = String::new();
    show_last_into(s, n, &mut out);
    out
}

/// [`show_last`], appended to `out` (no intermediate allocation).
pub(crate) fn show_last_into(s: &str, n: u32, out: &mut String) {
    let total = s.chars().filter(|c| shown(*c)).count();
    let n = count(n);
    out.push_str(REDACTED);
    if total > n {
        out.extend(s.chars().filter(|c| shown(*c)).skip(total - n));
    }
}

/// `show_first(n)`.
pub(crate) fn show_first(s: &str, n: u32) -> String {
    let mut out = String::new();
    show_first_into(s, n, &mut out);
    out
}

/// [`show_first`], appended to `out` (no intermediate allocation).
pub(crate) fn show_first_into(s: &str, n: u32, out: &mut String) {
    let n = count(n);
    let total = s.chars().filter(|c| shown(*c)).count();
    if total > n {
        out.extend(s.chars().filter(|c| shown(*c)).take(n));
    }
    out.push_str(REDACTED);
}

/// `email_mask`.
pub(crate) fn email_mask(s: &str) -> String {
    let mut out = String::new();
    email_mask_into(s, &mut out);
    out
}

/// [`email_mask`], appended to `out`.
pub(crate) fn email_mask_into(s: &str, out: &mut String) {
    let suffix = s
        .rsplit_once('@')
        .and_then(|(_, domain)| domain.rsplit_once('.'))
        .map(|(_, suffix)| suffix)
        .filter(|suffix| !suffix.is_empty());
    out.push_str(REDACTED);
    if let Some(suffix) = suffix {
        out.push('.');
        out.push_str(suffix);
    }
}

/// `mask_first(n, fill)` / `mask_last(n, fill)`: masks n letters or digits from one end, keeping
/// separators. With a text fill each maximal run of masked characters becomes one copy of it.
pub(crate) fn mask_alnum(s: &str, n: u32, fill: &Fill, end: End) -> String {
    let mut out = String::with_capacity(s.len());
    mask_alnum_into(s, n, fill, end, &mut out);
    out
}

/// [`mask_alnum`], appended to `out` (no intermediate allocation).
pub(crate) fn mask_alnum_into(s: &str, n: u32, fill: &Fill, end: End, out: &mut String) {
    let n = count(n);
    let total = s.chars().filter(|c| shown(*c)).count();
    // Letters and digits with an index in [from, to) are masked.
    let (from, to) = match end {
        End::First => (0, n.min(total)),
        End::Last => (total.saturating_sub(n), total),
    };
    let mut index = 0usize;
    let mut in_run = false;
    for c in s.chars() {
        let masked = if shown(c) {
            let m = (from..to).contains(&index);
            index = index.saturating_add(1);
            m
        } else {
            false
        };
        if masked {
            match fill {
                Fill::Char(f) => out.push(*f),
                Fill::Text(t) => {
                    if !in_run {
                        out.push_str(t);
                    }
                }
            }
        } else {
            out.push(c);
        }
        in_run = masked;
    }
}

/// `mask_first_percent(p)` / `mask_last_percent(p)`: ⌈len·p/100⌉ characters → `*`.
pub(crate) fn mask_percent(s: &str, p: u8, end: End) -> String {
    let len = s.chars().count();
    let k = (len as u128 * u128::from(p)).div_ceil(100);
    let k = usize::try_from(k).unwrap_or(usize::MAX).min(len);
    let (from, to) = match end {
        End::First => (0, k),
        End::Last => (len - k, len),
    };
    s.chars()
        .enumerate()
        .map(|(i, c)| if (from..to).contains(&i) { '*' } else { c })
        .collect()
}

/// `mask_first_percent(p, fill)` / `mask_last_percent(p, fill)`: the ⌈len·p/100⌉ characters
/// from that end replaced: each by the character, or all of them (one run) by the text once.
pub(crate) fn mask_percent_fill(s: &str, p: u8, fill: &Fill, end: End) -> String {
    let len = s.chars().count();
    let k = (len as u128 * u128::from(p)).div_ceil(100);
    let k = usize::try_from(k).unwrap_or(usize::MAX).min(len);
    let (from, to) = match end {
        End::First => (0, k),
        End::Last => (len - k, len),
    };
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        if !(from..to).contains(&i) {
            out.push(c);
            continue;
        }
        match fill {
            Fill::Char(f) => out.push(*f),
            Fill::Text(t) if i == from => out.push_str(t),
            Fill::Text(_) => {}
        }
    }
    out
}

/// The stand-in of `show_first` / `show_last` with a replacement: seven copies of the
/// character, or the text once.
fn stand_in(fill: &Fill, out: &mut String) {
    match fill {
        Fill::Char(c) => out.extend(std::iter::repeat_n(*c, REDACTED.len())),
        Fill::Text(t) => out.push_str(t),
    }
}

/// `show_first(n, fill)` (`End::First`) / `show_last(n, fill)`: the shown letters or digits and
/// the stand-in; the stand-in alone for a value with n or fewer letters and digits.
pub(crate) fn show_fill(s: &str, n: u32, fill: &Fill, end: End) -> String {
    let n = count(n);
    let total = s.chars().filter(|c| shown(*c)).count();
    let mut out = String::new();
    if end == End::Last {
        stand_in(fill, &mut out);
    }
    if total > n {
        let skip = if end == End::Last { total - n } else { 0 };
        out.extend(s.chars().filter(|c| shown(*c)).skip(skip).take(n));
    }
    if end == End::First {
        stand_in(fill, &mut out);
    }
    out
}

/// `initials([delimiter])`.
pub(crate) fn initials(s: &str, delimiter: Option<&str>) -> String {
    let firsts: String = match delimiter {
        Some(d) if !d.is_empty() => s
            .split(d)
            .filter_map(|part| part.trim().chars().next())
            .collect(),
        _ => s
            .split_whitespace()
            .filter_map(|part| part.chars().next())
            .collect(),
    };
    if firsts.is_empty() {
        REDACTED.to_owned()
    } else {
        firsts
    }
}

/// `regex(pattern, replacement, global, …)` with a compiled pattern.
pub(crate) fn regex_replace(re: &regex::Regex, s: &str, replacement: &str, global: bool) -> String {
    if global {
        re.replace_all(s, replacement).into_owned()
    } else {
        re.replace(s, replacement).into_owned()
    }
}
