//! Document outline, workspace symbols and folding ranges.

use super::Ide;
use crate::source_map::Loc;
use pol_grammar::ast::{self, CommentKind, Decl};
use pol_grammar::Span;

/// What an outline entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum SymbolKind {
    Tag,
    Purpose,
    Subject,
    SubjectField,
    Source,
    Column,
    Policy,
    Rule,
    Exempt,
    Level,
    Settings,
    Test,
    /// A lookup table.
    Table,
}

/// An entry of a file's outline.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DocumentSymbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole declaration.
    pub span: Span,
    /// Its name.
    pub selection: Span,
    pub children: Vec<DocumentSymbol>,
}

/// A declaration found by a workspace search.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WorkspaceSymbol {
    pub name: String,
    pub kind: SymbolKind,
    pub loc: Loc,
    /// The source of a column.
    pub container: Option<String>,
}

fn sym(name: String, kind: SymbolKind, span: Span, selection: Span) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail: None,
        kind,
        span,
        selection,
        children: Vec::new(),
    }
}

fn type_text(ty: &ast::TypeExpr) -> String {
    match ty {
        ast::TypeExpr::Named(i) => i.name.clone(),
        ast::TypeExpr::Enum { .. } => "enum".to_string(),
        ast::TypeExpr::Struct { .. } => "struct".to_string(),
        ast::TypeExpr::Generic { name, .. } => format!("{}<…>", name.name),
    }
}

fn columns(cols: &[ast::ColumnDecl]) -> Vec<DocumentSymbol> {
    cols.iter()
        .map(|c| {
            let mut s = sym(c.name.name.clone(), SymbolKind::Column, c.span, c.name.span);
            match &c.kind {
                ast::ColumnKind::Stored { ty, .. } => {
                    s.detail = Some(type_text(ty));
                    if let ast::TypeExpr::Struct { fields, .. } = ty {
                        s.children = columns(fields);
                    }
                }
                ast::ColumnKind::Derived { .. } => s.detail = Some("derived".to_string()),
            }
            s
        })
        .collect()
}

fn rule_name(r: &ast::Rule) -> &'static str {
    match r {
        ast::Rule::Mask(_) => "mask",
        ast::Rule::Row(_) => "rows",
        ast::Rule::TemporaryUnmask(_) => "temporary unmask",
        ast::Rule::Detokenize(_) => "detokenize",
        ast::Rule::KAnonymity(_) => "k-anonymity",
        ast::Rule::Error(_) => "(syntax error)",
    }
}

pub(super) fn document_symbols(file: &ast::SourceFile) -> Vec<DocumentSymbol> {
    let mut out = Vec::new();
    for d in &file.decls {
        let s = match d {
            Decl::Tag(t) => {
                let mut s = sym(t.path.dotted(), SymbolKind::Tag, t.span, t.path.span);
                s.detail = t.description.as_ref().map(|d| d.value.clone());
                s
            }
            Decl::Purpose(p) => sym(p.path.dotted(), SymbolKind::Purpose, p.span, p.path.span),
            Decl::Subject(sd) => {
                let mut s = sym("subject".to_string(), SymbolKind::Subject, sd.span, sd.span);
                s.children = sd
                    .fields
                    .iter()
                    .map(|f| {
                        let mut c = sym(
                            f.name.name.clone(),
                            SymbolKind::SubjectField,
                            f.span,
                            f.name.span,
                        );
                        c.detail = Some(type_text(&f.ty));
                        c
                    })
                    .collect();
                s
            }
            Decl::Source(src) => {
                let mut s = sym(
                    src.name.name.clone(),
                    SymbolKind::Source,
                    src.span,
                    src.name.span,
                );
                s.children = columns(&src.columns);
                s
            }
            Decl::Policy(p) => {
                let mut s = sym(p.name.name.clone(), SymbolKind::Policy, p.span, p.name.span);
                s.detail = p.rationale.as_ref().map(|r| r.value.clone());
                s.children = p
                    .rules
                    .iter()
                    .filter(|r| !matches!(r, ast::Rule::Error(_)))
                    .map(|r| {
                        sym(
                            rule_name(r).to_string(),
                            SymbolKind::Rule,
                            r.span(),
                            r.span(),
                        )
                    })
                    .collect();
                s
            }
            Decl::Guarantee(g) => sym("guarantee".to_string(), SymbolKind::Exempt, g.span, g.span),
            Decl::Exempt(e) => sym(
                "exempt".to_string(),
                SymbolKind::Exempt,
                e.span,
                e.cond.span,
            ),
            Decl::Level(l) => {
                let names: Vec<&str> = l.levels.iter().map(|i| i.name.as_str()).collect();
                sym(
                    format!("level {}", names.join(" > ")),
                    SymbolKind::Level,
                    l.span,
                    l.span,
                )
            }
            Decl::Settings(s) => sym("settings".to_string(), SymbolKind::Settings, s.span, s.span),
            Decl::Test(t) => sym(t.name.value.clone(), SymbolKind::Test, t.span, t.name.span),
            Decl::Table(t) => {
                let mut s = sym(t.name.name.clone(), SymbolKind::Table, t.span, t.name.span);
                s.detail = Some(type_text(&t.ty));
                s
            }
            // Not a symbol: its syntax error is reported.
            Decl::Error(_) => continue,
        };
        out.push(s);
    }
    out
}

pub(super) fn workspace_symbols(ide: &Ide, query: &str) -> Vec<WorkspaceSymbol> {
    let model = &ide.analysis.model;
    let q = query.to_lowercase();
    let matches = |name: &str| name.to_lowercase().contains(&q);
    let mut out = Vec::new();
    let mut push = |name: String, kind, loc, container: Option<String>| {
        if matches(&name) {
            out.push(WorkspaceSymbol {
                name,
                kind,
                loc,
                container,
            });
        }
    };
    for (id, n) in model
        .tags
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.explicit)
    {
        push(model.tags.path(id), SymbolKind::Tag, n.loc, None);
    }
    for (id, n) in model
        .purposes
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.explicit)
    {
        push(model.purposes.path(id), SymbolKind::Purpose, n.loc, None);
    }
    for f in &model.subject {
        if let Some(loc) = f.loc {
            push(
                f.name.clone(),
                SymbolKind::SubjectField,
                loc,
                Some("subject".to_string()),
            );
        }
    }
    for s in model.sources.iter() {
        push(s.name.clone(), SymbolKind::Source, s.loc, None);
        for c in &s.columns {
            push(
                c.name.clone(),
                SymbolKind::Column,
                c.loc,
                Some(s.name.clone()),
            );
        }
    }
    for p in &model.policies {
        push(p.name.clone(), SymbolKind::Policy, p.loc, None);
    }
    out
}

pub(super) fn folding_ranges(file: &ast::SourceFile, text: &str) -> Vec<Span> {
    fn cols(cs: &[ast::ColumnDecl], out: &mut Vec<Span>) {
        for c in cs {
            if let ast::ColumnKind::Stored {
                ty: ast::TypeExpr::Struct { fields, span },
                ..
            } = &c.kind
            {
                out.push(*span);
                cols(fields, out);
            }
        }
    }
    let mut out = Vec::new();
    for d in &file.decls {
        out.push(d.span());
        match d {
            Decl::Source(s) => cols(&s.columns, &mut out),
            Decl::Policy(p) => out.extend(p.rules.iter().map(|r| r.span())),
            Decl::Test(t) => out.extend(t.stmts.iter().map(|s| s.span())),
            _ => {}
        }
    }
    // Runs of line comments (only whitespace between them) and block comments.
    let mut run: Option<Span> = None;
    for c in &file.comments {
        if c.kind == CommentKind::Block {
            out.push(c.span);
            continue;
        }
        run = match run {
            Some(r)
                if text
                    .get(r.end as usize..c.span.start as usize)
                    .is_some_and(|g| {
                        g.chars().all(char::is_whitespace) && g.matches('\n').count() <= 1
                    }) =>
            {
                Some(r.to(c.span))
            }
            Some(r) => {
                out.push(r);
                Some(c.span)
            }
            None => Some(c.span),
        };
    }
    if let Some(r) = run {
        out.push(r);
    }
    out.sort();
    out.dedup();
    out
}
