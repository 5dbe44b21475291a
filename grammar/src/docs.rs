//! Attaches `///` doc comments to the declaration, column or field that follows them.

use crate::ast::*;

/// The doc text of the `///` comments directly before `start` (only whitespace between them).
fn doc_before(comments: &[Comment], text: &str, start: u32) -> Option<String> {
    let idx = comments.partition_point(|c| c.span.end <= start);
    let mut lines = Vec::new();
    let mut boundary = start as usize;
    for c in comments.iter().take(idx).rev() {
        let gap = text.get(c.span.end as usize..boundary)?;
        if c.kind != CommentKind::Doc || !gap.chars().all(char::is_whitespace) {
            break;
        }
        let body = c.text.trim_start_matches("///");
        lines.push(
            body.strip_prefix(' ')
                .unwrap_or(body)
                .trim_end()
                .to_string(),
        );
        boundary = c.span.start as usize;
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(lines.join("\n"))
}

fn attach_columns(columns: &mut [ColumnDecl], comments: &[Comment], text: &str) {
    for c in columns {
        c.doc = doc_before(comments, text, c.span.start);
        if let ColumnKind::Stored {
            ty: TypeExpr::Struct { fields, .. },
            ..
        } = &mut c.kind
        {
            attach_columns(fields, comments, text);
        }
    }
}

pub(crate) fn attach_docs(decls: &mut [Decl], comments: &[Comment], text: &str) {
    for d in decls {
        let doc = doc_before(comments, text, d.span().start);
        if let Some(slot) = d.doc_mut() {
            *slot = doc;
        }
        match d {
            Decl::Source(s) => attach_columns(&mut s.columns, comments, text),
            Decl::Subject(s) => {
                for f in &mut s.fields {
                    f.doc = doc_before(comments, text, f.span.start);
                }
            }
            _ => {}
        }
    }
}
