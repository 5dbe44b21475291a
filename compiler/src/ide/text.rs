//! Small helpers over source text.

/// The text of a span, cut to `max` characters with `…`, on one line.
pub fn one_line(text: &str, max: usize) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        collapsed
    } else {
        let mut s: String = collapsed.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Is `name` a plain identifier (no backquotes needed) that is not a keyword?
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && pol_grammar::lexer::keyword(name).is_none()
}

/// The byte offset clamped into the text and moved back to a character boundary.
pub fn clamp(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}
