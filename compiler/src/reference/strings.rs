//! The string functions as docs/language.md ("String functions") states them, written apart
//! from the runtime's: a text is a sequence of characters (Unicode scalar values) numbered
//! from 1; `None` is unknown.

/// `lpad`/`rpad`: the longest result, in characters.
const MAX_PAD: i64 = 10_000;
/// `replace`/`regex_replace`: the longest result, in characters.
const MAX_RESULT: usize = 1_048_576;

fn limited(s: String) -> Option<String> {
    (s.chars().count() <= MAX_RESULT).then_some(s)
}

/// `replace(s, from, to)`: scan left to right; at each position where `from` starts, emit
/// `to` and skip past it. An empty `from` changes nothing.
pub fn replace(s: &str, from: &str, to: &str) -> Option<String> {
    if from.is_empty() {
        return Some(s.to_string());
    }
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(from) {
            out.push_str(to);
            rest = after;
            if out.len() > 4 * MAX_RESULT {
                return None;
            }
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    limited(out)
}

/// `regex_replace`: every match replaced, with the `regex` crate's expansion.
pub fn regex_replace(re: &regex::Regex, s: &str, replacement: &str) -> Option<String> {
    limited(re.replace_all(s, replacement).to_string())
}

/// `substring(s, start[, len])`: the characters whose position `p` satisfies
/// `start <= p < start + len` (no upper bound without `len`); a negative `len` is unknown.
pub fn substring(s: &str, start: i64, len: Option<i64>) -> Option<String> {
    if len.is_some_and(|l| l < 0) {
        return None;
    }
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        let p = i as i128 + 1;
        let after_start = p >= i128::from(start);
        let before_end = len.is_none_or(|l| p < i128::from(start) + i128::from(l));
        if after_start && before_end {
            out.push(c);
        }
    }
    Some(out)
}

/// `lpad`/`rpad(s, n, fill)`: a text of exactly `n` characters when it can be — `s` cut, or
/// `fill` repeated on one side — and `s` itself when it is shorter and `fill` is empty.
pub fn pad(s: &str, n: i64, fill: &str, left: bool) -> Option<String> {
    if n > MAX_PAD {
        return None;
    }
    let chars: Vec<char> = s.chars().collect();
    let n = n.max(0) as usize;
    if chars.len() >= n {
        return Some(chars.iter().take(n).collect());
    }
    let fill: Vec<char> = fill.chars().collect();
    if fill.is_empty() {
        return Some(s.to_string());
    }
    let missing = n - chars.len();
    let padding: String = (0..missing)
        .filter_map(|i| fill.get(i % fill.len()))
        .collect();
    Some(if left {
        format!("{padding}{s}")
    } else {
        format!("{s}{padding}")
    })
}
