//! Quoting names and constants for PostgreSQL.

use std::fmt::Write as _;

/// A quoted identifier: `"name"` (an embedded `"` doubled).
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether PostgreSQL keeps this identifier as written (≤ 63 bytes, no NUL).
pub fn ident_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= 63 && !name.contains('\0')
}

/// A text literal (standard-conforming: only `'` is special). `None` for a NUL character,
/// which a PostgreSQL text cannot hold.
pub fn text(s: &str) -> Option<String> {
    if s.contains('\0') {
        return None;
    }
    Some(format!("'{}'", s.replace('\'', "''")))
}

/// A `bytea` literal.
pub fn bytea(bytes: &[u8]) -> String {
    let mut out = String::from("'\\x");
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out.push_str("'::bytea");
    out
}

/// A `double precision` literal that reads back as exactly this (finite) value.
pub fn float(x: f64) -> String {
    format!("'{x:?}'::double precision")
}
