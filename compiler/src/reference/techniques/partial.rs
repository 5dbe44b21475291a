//! The partial masks: `redact`, `stars`, `show_first`/`show_last`, `mask_first`/`mask_last`
//! (and their percent forms) and `initials`. "Letters or digits" are the characters Unicode
//! calls alphanumeric; every other character is a separator. Lengths count characters.
//! Null and empty values never get here (they give `*******`, see the module above).

/// The text that stands for a hidden value.
pub const REDACTED: &str = "*******";

fn is_letter_or_digit(c: char) -> bool {
    c.is_alphanumeric()
}

fn letters_and_digits(s: &str) -> Vec<char> {
    s.chars().filter(|c| is_letter_or_digit(*c)).collect()
}

/// `stars`: one `*` per character.
pub fn stars(s: &str) -> String {
    s.chars().map(|_| '*').collect()
}

/// The stand-in for the hidden part of `show_first` / `show_last`: `*******`; with `char: c`
/// seven `c`; with `text: t`, `t`.
fn stand_in(fill: Option<&Fill>) -> String {
    match fill {
        None => REDACTED.to_string(),
        Some(Fill::Char(c)) => std::iter::repeat_n(*c, 7).collect(),
        Some(Fill::Text(t)) => t.clone(),
    }
}

/// `show_last(n)`: the stand-in and the last n letters or digits; the stand-in alone when the
/// value has n or fewer (showing them would show it all).
pub fn show_last(s: &str, n: usize, fill: Option<&Fill>) -> String {
    let shown = letters_and_digits(s);
    if shown.len() <= n {
        return stand_in(fill);
    }
    let tail: String = shown.iter().skip(shown.len() - n).collect();
    format!("{}{tail}", stand_in(fill))
}

/// `show_first(n)`: the first n letters or digits and the stand-in; the stand-in alone when
/// the value has n or fewer.
pub fn show_first(s: &str, n: usize, fill: Option<&Fill>) -> String {
    let shown = letters_and_digits(s);
    if shown.len() <= n {
        return stand_in(fill);
    }
    let head: String = shown.iter().take(n).collect();
    format!("{head}{}", stand_in(fill))
}

/// What replaces the masked letters and digits of `mask_first` / `mask_last`.
#[derive(Clone, Debug, PartialEq)]
pub enum Fill {
    /// Each masked character becomes this character.
    Char(char),
    /// Each maximal run of consecutive masked characters becomes this text, once.
    Text(String),
}

/// `mask_first(n, fill)` (`from_start`) or `mask_last(n, fill)`: the first (last) n letters or
/// digits replaced, separators kept.
pub fn mask_n(s: &str, n: usize, fill: &Fill, from_start: bool) -> String {
    let total = letters_and_digits(s).len();
    let masked_index = |i: usize| {
        if from_start {
            i < n
        } else {
            i + n >= total
        }
    };
    // Each character with whether it is masked.
    let mut index = 0;
    let mut marked: Vec<(char, bool)> = Vec::new();
    for c in s.chars() {
        if is_letter_or_digit(c) {
            marked.push((c, masked_index(index)));
            index += 1;
        } else {
            marked.push((c, false));
        }
    }
    let mut out = String::new();
    let mut previous_masked = false;
    for (c, masked) in marked {
        match (masked, fill) {
            (false, _) => out.push(c),
            (true, Fill::Char(f)) => out.push(*f),
            (true, Fill::Text(t)) => {
                if !previous_masked {
                    out.push_str(t);
                }
            }
        }
        previous_masked = masked;
    }
    out
}

/// `mask_first_percent(p)` (`from_start`) / `mask_last_percent(p)`: ⌈len·p/100⌉ characters of
/// any kind, from that end, replaced: each by the fill character, or all of them (one run) by
/// the fill text once.
pub fn mask_percent(s: &str, p: u32, fill: &Fill, from_start: bool) -> String {
    let len = s.chars().count();
    let k = (len * p as usize).div_ceil(100).min(len);
    let masked = |i: usize| if from_start { i < k } else { i >= len - k };
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        match (masked(i), fill) {
            (false, _) => out.push(c),
            (true, Fill::Char(f)) => out.push(*f),
            // The masked characters are one run: its first gets the text.
            (true, Fill::Text(t)) if i == 0 || !masked(i - 1) => out.push_str(t),
            (true, Fill::Text(_)) => {}
        }
    }
    out
}

/// `initials([delimiter])`: the first character of each part; parts are split on whitespace,
/// or on the delimiter and then trimmed of whitespace; empty parts are skipped; no part at all
/// gives `*******`.
pub fn initials(s: &str, delimiter: Option<&str>) -> String {
    let parts: Vec<&str> = match delimiter {
        Some(d) if !d.is_empty() => s.split(d).map(str::trim).collect(),
        _ => s.split_whitespace().collect(),
    };
    let firsts: String = parts.iter().filter_map(|p| p.chars().next()).collect();
    if firsts.is_empty() {
        REDACTED.to_string()
    } else {
        firsts
    }
}
