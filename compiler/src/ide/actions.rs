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
        let declaring = matches!(d.code, Code::UndeclaredTag | Code::UndeclaredPurpose);
        // The checker's own "declare" fix inserts at the top of the file that names the tag; the
        // action below puts the declaration beside the others of its kind instead.
        let fixes = d
            .fixes
            .iter()
            .filter(|f| !(declaring && f.title.starts_with("declare ")));
        for (n, f) in fixes.enumerate() {
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
            preferred: !d.fixes.iter().any(|f| !f.title.starts_with("declare ")),
        });
    }
    out
}

/// The path a tag or purpose declaration declares.
fn declared(d: &Decl, keyword: &str) -> Option<String> {
    match d {
        Decl::Tag(t) if keyword == "tag" => Some(t.path.dotted()),
        Decl::Purpose(p) if keyword == "purpose" => Some(p.path.dotted()),
        _ => None,
    }
}

/// The file to declare `name` in: the one declaring its longest declared prefix (`PII` for
/// `PII.Emial`), else the first declaring anything of that kind, else `file` itself.
fn home_file(ide: &Ide, file: FileId, keyword: &str, name: &str) -> FileId {
    let mut best: Option<(usize, FileId)> = None;
    for (id, _) in ide.files.files() {
        let Some(ast) = ide.ast(id) else { continue };
        for d in &ast.decls {
            let Some(path) = declared(d, keyword) else {
                continue;
            };
            let shared = path
                .split('.')
                .zip(name.split('.'))
                .take_while(|(a, b)| a == b)
                .count();
            if best.is_none_or(|(n, _)| shared > n) {
                best = Some((shared, id));
            }
        }
    }
    best.map_or(file, |(_, id)| id)
}

/// Inserts `tag NAME;` after the last declaration of that kind in its home file, or at the start
/// of `file` when there is none.
fn declare(ide: &Ide, file: FileId, keyword: &str, name: &str) -> TextEdit {
    let home = home_file(ide, file, keyword, name);
    let last = ide.ast(home).and_then(|ast| {
        ast.decls
            .iter()
            .filter(|d| declared(d, keyword).is_some())
            .map(|d| d.span().end)
            .max()
    });
    let file = home;
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
