//! `regex(pattern, replacement [, global] [, ignore_case])`: the first (or every) match of the
//! pattern (the `regex` crate's syntax, unanchored) replaced, the replacement expanded as that
//! crate does (`$1`, `$name`, `${name}`, `$$`).

/// The value with the pattern replaced; `None` when the pattern does not compile.
pub fn replace(
    s: &str,
    pattern: &str,
    replacement: &str,
    global: bool,
    ignore_case: bool,
) -> Option<String> {
    let re = regex::RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .build()
        .ok()?;
    Some(if global {
        re.replace_all(s, replacement).into_owned()
    } else {
        re.replace(s, replacement).into_owned()
    })
}
