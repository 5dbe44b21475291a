//! Rust regular expressions as PostgreSQL ones, only where both find the same match.
//!
//! The `regex` crate finds the leftmost-first match; PostgreSQL's ARE engine the leftmost-
//! longest. They agree on a pattern without alternation with at most one repetition of
//! variable length, which is greedy (at one start position, both then take the most
//! repetitions the rest allows). Classes (`\d`, `\w`, `.`, `[…]`) are translated through
//! `regex-syntax`'s Unicode tables into explicit code point ranges, because PostgreSQL's
//! classes depend on the locale. Only `^` and `$` at the ends are kept (text anchors in both);
//! a pattern that can match the empty text is refused (the engines iterate over empty matches
//! differently). Everything else is refused with the reason.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// The PostgreSQL ARE for a Rust pattern, or why there is none that matches the same.
pub fn translate(pattern: &str, ignore_case: bool) -> Result<String, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(ignore_case)
        .build()
        .parse(pattern)
        .map_err(|e| format!("the pattern does not parse: {e}"))?;
    if hir.properties().minimum_len() == Some(0) || hir.properties().minimum_len().is_none() {
        return Err("the pattern can match the empty text".into());
    }
    let items: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(items) => items.iter().collect(),
        _ => vec![&hir],
    };
    let mut variable = 0;
    let mut out = String::new();
    let last = items.len().saturating_sub(1);
    for (i, item) in items.iter().enumerate() {
        match item.kind() {
            HirKind::Look(Look::Start) if i == 0 => out.push('^'),
            HirKind::Look(Look::End) if i == last => out.push('$'),
            _ => emit(item, &mut variable, &mut out)?,
        }
    }
    if variable > 1 {
        return Err("more than one repetition of variable length".into());
    }
    Ok(out)
}

fn emit(hir: &Hir, variable: &mut usize, out: &mut String) -> Result<(), String> {
    match hir.kind() {
        HirKind::Empty => Ok(()),
        HirKind::Literal(lit) => {
            let s = std::str::from_utf8(&lit.0).map_err(|_| "a non-UTF-8 literal".to_string())?;
            for c in s.chars() {
                out.push_str(&char_escape(c));
            }
            Ok(())
        }
        HirKind::Class(class) => {
            out.push_str(&bracket(class)?);
            Ok(())
        }
        HirKind::Look(_) => Err("an anchor or word boundary inside the pattern".into()),
        HirKind::Repetition(rep) => {
            if !rep.greedy {
                return Err("a lazy repetition".into());
            }
            if rep.max != Some(rep.min) {
                *variable += 1;
            }
            if !matches!(rep.sub.kind(), HirKind::Literal(_) | HirKind::Class(_)) {
                return Err("a repetition of a group".into());
            }
            if rep.min > 255 || rep.max.is_some_and(|m| m > 255) {
                return Err("a repetition count above 255".into());
            }
            out.push_str("(?:");
            emit(&rep.sub, variable, out)?;
            out.push(')');
            match rep.max {
                Some(max) if max == rep.min => out.push_str(&format!("{{{max}}}")),
                Some(max) => out.push_str(&format!("{{{},{max}}}", rep.min)),
                None => out.push_str(&format!("{{{},}}", rep.min)),
            }
            Ok(())
        }
        HirKind::Capture(cap) => {
            out.push('(');
            emit_group(&cap.sub, variable, out)?;
            out.push(')');
            Ok(())
        }
        HirKind::Concat(items) => {
            for item in items {
                emit(item, variable, out)?;
            }
            Ok(())
        }
        HirKind::Alternation(_) => Err("an alternation (`|`)".into()),
    }
}

fn emit_group(hir: &Hir, variable: &mut usize, out: &mut String) -> Result<(), String> {
    emit(hir, variable, out)
}

/// One character outside brackets.
fn char_escape(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else {
        format!("\\U{:08X}", c as u32)
    }
}

fn bracket(class: &Class) -> Result<String, String> {
    let ranges: Vec<(u32, u32)> = match class {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        Class::Bytes(_) => return Err("a byte class".into()),
    };
    if ranges.is_empty() {
        return Err("an empty class".into());
    }
    Ok(ranges_bracket(&ranges))
}

/// A bracket expression of code point ranges, every endpoint written as `\U…`.
pub fn ranges_bracket(ranges: &[(u32, u32)]) -> String {
    let mut out = String::from("[");
    out.push_str(&ranges_body(ranges));
    out.push(']');
    out
}

/// The inside of a bracket expression of code point ranges.
pub fn ranges_body(ranges: &[(u32, u32)]) -> String {
    let mut out = String::new();
    for &(lo, hi) in ranges {
        if lo == hi {
            out.push_str(&format!("\\U{lo:08X}"));
        } else {
            out.push_str(&format!("\\U{lo:08X}-\\U{hi:08X}"));
        }
    }
    out
}

/// The code point ranges of the characters a predicate holds for (`char::is_alphanumeric`…).
pub fn char_ranges(pred: impl Fn(char) -> bool) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for cp in 0..=0x10FFFFu32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        if !pred(c) {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.1 + 1 == cp => last.1 = cp,
            _ => out.push((cp, cp)),
        }
    }
    out
}

/// A `regex` crate replacement (`$1`, `${name}`, `$$`) as a PostgreSQL one (`\1`, `\&`), with
/// the pattern's group names; `None` when it names a group above 9.
pub fn replacement(rep: &str, names: &[Option<String>]) -> Result<String, String> {
    let bytes = rep.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let literal = |out: &mut String, s: &str| {
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '&' => out.push_str("\\&"),
                c => out.push(c),
            }
        }
    };
    while i < bytes.len() {
        let Some(off) = rep[i..].find('$') else {
            literal(&mut out, &rep[i..]);
            break;
        };
        literal(&mut out, &rep[i..i + off]);
        i += off;
        if bytes.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        let Some((name, end)) = cap_ref(rep, i) else {
            out.push('$');
            i += 1;
            continue;
        };
        i = end;
        let index = match name.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => names.iter().position(|n| n.as_deref() == Some(name)),
        };
        match index {
            Some(0) => out.push_str("\\&"),
            Some(n) if n < names.len() => {
                if n > 9 {
                    return Err("a replacement naming a group above 9".into());
                }
                out.push_str(&format!("\\{n}"));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The `regex` crate's capture reference at `$` (byte `i`): the name and where it ends.
#[expect(
    clippy::indexing_slicing,
    reason = "byte positions are checked against the replacement's length (or come from the capture list) just before they are read"
)]
fn cap_ref(rep: &str, i: usize) -> Option<(&str, usize)> {
    let bytes = rep.as_bytes();
    if bytes.len() <= i + 1 {
        return None;
    }
    if bytes[i + 1] == b'{' {
        let start = i + 2;
        let close = rep[start..].find('}')? + start;
        return Some((&rep[start..close], close + 1));
    }
    let start = i + 1;
    let mut end = start;
    while bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        end += 1;
    }
    if end == start {
        return None;
    }
    Some((&rep[start..end], end))
}

/// The capture group names of a pattern by index (index 0, the whole match, has none).
pub fn group_names(pattern: &str, ignore_case: bool) -> Result<Vec<Option<String>>, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(ignore_case)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    let mut names = vec![None];
    collect_names(&hir, &mut names);
    Ok(names)
}

#[expect(
    clippy::indexing_slicing,
    reason = "byte positions are checked against the replacement's length (or come from the capture list) just before they are read"
)]
fn collect_names(hir: &Hir, names: &mut Vec<Option<String>>) {
    match hir.kind() {
        HirKind::Capture(c) => {
            let i = c.index as usize;
            if names.len() <= i {
                names.resize(i + 1, None);
            }
            names[i] = c.name.as_ref().map(|n| n.to_string());
            collect_names(&c.sub, names);
        }
        HirKind::Repetition(r) => collect_names(&r.sub, names),
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            items.iter().for_each(|h| collect_names(h, names))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_the_safe_subset() {
        assert_eq!(translate("^J", false).unwrap(), "^J");
        assert!(translate(r"\d+$", false).unwrap().ends_with("{1,}$"));
        assert!(translate("ab|cd", false).is_err());
        // A one-character alternation is a class: the same in both engines.
        assert!(translate("a|b", false).is_ok());
        assert!(translate("a*", false).is_err());
        assert!(translate("a+?", false).is_err());
        assert!(translate(r"a+b+", false).is_err());
        assert!(translate(r"\bx", false).is_err());
    }

    #[test]
    fn replacements_follow_the_regex_crate() {
        let names = vec![None, Some("y".to_string())];
        assert_eq!(
            replacement("$1-$$-${y}&\\", &names).unwrap(),
            "\\1-$-\\1\\&\\\\"
        );
        assert_eq!(replacement("$1a", &names).unwrap(), "");
        assert_eq!(replacement("$", &names).unwrap(), "$");
        assert_eq!(replacement("${0}", &names).unwrap(), "\\&");
    }
}
