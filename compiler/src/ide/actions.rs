//! Code actions: the fixes diagnostics carry (did-you-mean, the missing `otherwise`) and
//! declaring an undeclared tag or purpose.

use super::{Ide, TextEdit};
use crate::diagnostics::Code;
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::Decl;
use pol_grammar::Span;

/// A quick fix.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CodeAction {
    pub title: String,
    pub edits: Vec<TextEdit>,
    /// The diagnostic it fixes (an index into [`Ide::diagnostics`]).
    pub diagnostic: Option<usize>,
    /// The fix to apply when the editor applies "the" fix.
    pub preferred: bool,
}

fn overlaps(a: Span, b: Span) -> bool {
    a.start <= b.end && b.start <= a.end
}

pub(super) fn code_actions(ide: &Ide, file: FileId, span: Span) -> Vec<CodeAction> {
    let mut out = Vec::new();
    for (i, d) in ide.diagnostics().iter().enumerate() {
        if d.primary.file != file || !overlaps(d.primary.span, span) {
            continue;
        }
        for (n, f) in d.fixes.iter().enumerate() {
            out.push(CodeAction {
                title: f.title.clone(),
                edits: f
                    .edits
                    .iter()
                    .map(|(loc, text)| TextEdit {
                        loc: *loc,
                        new_text: text.clone(),
                    })
                    .collect(),
                diagnostic: Some(i),
                preferred: n == 0,
            });
        }
        let keyword = match d.code {
            Code::UndeclaredTag => "tag",
            Code::UndeclaredPurpose => "purpose",
            _ => continue,
        };
        let name = ide.files.snippet(d.primary.loc()).to_string();
        if name.is_empty() {
            continue;
        }
        out.push(CodeAction {
            title: format!("declare {keyword} `{name}`"),
            edits: vec![declare(ide, file, keyword, &name)],
            diagnostic: Some(i),
            preferred: d.fixes.is_empty(),
        });
    }
    out
}

/// Inserts `tag NAME;` after the last declaration of that kind in the file, or at its start.
fn declare(ide: &Ide, file: FileId, keyword: &str, name: &str) -> TextEdit {
    let last = ide.ast(file).and_then(|ast| {
        ast.decls
            .iter()
            .filter(|d| match d {
                Decl::Tag(_) => keyword == "tag",
                Decl::Purpose(_) => keyword == "purpose",
                _ => false,
            })
            .map(|d| d.span().end)
            .max()
    });
    match last {
        Some(end) => TextEdit {
            loc: Loc::new(file, Span::new(end as usize, end as usize)),
            new_text: format!("\n{keyword} {name};"),
        },
        None => TextEdit {
            loc: Loc::new(file, Span::new(0, 0)),
            new_text: format!("{keyword} {name};\n"),
        },
    }
}
