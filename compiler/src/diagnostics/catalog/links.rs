//! Linked visibility (`links PARENT.KEY`, `only show rows linked to shown PARENT`): E0054 (a
//! link that cannot name one parent row) and E0055 (links that form a cycle or a chain longer
//! than the limit).

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use std::fmt::Display;

impl Diagnostic {
    /// E0054: `links P.c` where `c` is not the key column of `P` (`key` is P's key, if any).
    pub fn link_not_key(
        at: Loc,
        parent: &str,
        column: &str,
        key: Option<(&str, Loc)>,
    ) -> Diagnostic {
        let d = Diagnostic::new(
            Code::BadLink,
            format!("`{parent}.{column}` is not the key of `{parent}`"),
            at,
            "a link names the parent's `key` column",
        );
        match key {
            Some((k, loc)) => d.with_secondary(loc, "the key of the parent").suggest(
                at,
                &format!("links {parent}.{k}"),
                k,
            ),
            None => d.with_help(format!(
                "mark the row identity column of `{parent}` `key`, so that a key names one row"
            )),
        }
    }

    /// E0054: the linking column's type differs from the parent key's.
    pub fn link_type(
        at: Loc,
        ty: &dyn Display,
        parent_key: &str,
        key_ty: &dyn Display,
        key_loc: Loc,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::BadLink,
            format!("this column is {ty} but `{parent_key}` is {key_ty}"),
            at,
            "mismatched link type",
        )
        .with_secondary(key_loc, "the parent key")
        .with_help("a link column has the type of the parent's key")
    }

    /// E0054: `links` on a struct field.
    pub fn link_on_field(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadLink,
            "`links` on a struct field",
            at,
            "links are top-level columns",
        )
        .with_help("declare the linking column at the top level of the source")
    }

    /// E0054: a second link from one source to the same parent (or a second `links` on one
    /// column): `linked to shown P` must name one column.
    pub fn link_repeated(at: Loc, source: &str, parent: &str, first: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::BadLink,
            format!("source `{source}` already links to `{parent}`"),
            at,
            "second link",
        )
        .with_secondary(first, "first link")
        .with_help("a source links to a parent through one column; remove one of the two")
    }

    /// E0055: the links of `path` (source names, the first repeated at the end) form a cycle.
    pub fn link_cycle(at: Loc, path: &[&str]) -> Diagnostic {
        Diagnostic::new(
            Code::LinkCycle,
            format!("links form a cycle: {}", path.join(" → ")),
            at,
            "closes the cycle",
        )
        .with_help("a row's visibility may follow its parent's, never its own: remove one link")
    }

    /// E0055: a chain of links longer than `limit` sources.
    pub fn link_chain_too_long(at: Loc, path: &[&str], limit: usize) -> Diagnostic {
        Diagnostic::new(
            Code::LinkCycle,
            format!("a chain of links longer than {limit}: {}", path.join(" → ")),
            at,
            "too deep",
        )
        .with_help(format!(
            "a row follows at most {limit} ancestors; link to a nearer ancestor"
        ))
    }
}
