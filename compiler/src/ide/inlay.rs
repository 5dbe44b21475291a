//! Inlay hints: after each column of a source, the rule that decides it
//! (`hash_us_ssn · hash unless admins`).

use super::effective::effective_summary;
use super::Ide;
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{self, Decl};

/// A hint shown at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InlayHint {
    pub offset: usize,
    pub label: String,
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub(super) fn inlay_hints(ide: &Ide, file: FileId) -> Vec<InlayHint> {
    let model = &ide.analysis.model;
    let Some(ast) = ide.ast(file) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in &ast.decls {
        let Decl::Source(s) = d else { continue };
        let Some(sid) = model.source(&s.name.name) else {
            continue;
        };
        // A duplicate declaration is not the one the model holds.
        if model.sources[sid].loc != Loc::new(file, s.name.span) {
            continue;
        }
        let mut stack: Vec<(String, &[ast::ColumnDecl])> = vec![(String::new(), &s.columns)];
        while let Some((prefix, cols)) = stack.pop() {
            for c in cols {
                let full = format!("{prefix}{}", c.name.name);
                if let Some(cid) = model.sources[sid].column(&full) {
                    out.push(InlayHint {
                        offset: c.span.end as usize,
                        label: effective_summary(
                            model,
                            &ide.analysis.resolution,
                            &ide.files,
                            sid,
                            cid,
                        ),
                    });
                }
                if let ast::ColumnKind::Stored {
                    ty: ast::TypeExpr::Struct { fields, .. },
                    ..
                } = &c.kind
                {
                    stack.push((format!("{full}."), fields));
                }
            }
        }
    }
    out.sort_by_key(|h| h.offset);
    out
}
