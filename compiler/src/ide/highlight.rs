//! Semantic highlighting: every token of a file classified, names by what they resolve to.

use super::hover::{function_spans, technique_spans};
use super::index::Symbol;
use super::Ide;
use crate::source_map::FileId;
use pol_grammar::ast::{self, CommentKind, Decl};
use pol_grammar::lexer::{lex, Tok};
use pol_grammar::Span;
use std::collections::{HashMap, HashSet};

/// The class of a highlighted token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum HighlightKind {
    Keyword,
    Comment,
    DocComment,
    String,
    Number,
    Type,
    Tag,
    Purpose,
    Source,
    Column,
    SubjectField,
    Policy,
    Level,
    Technique,
    Function,
}

impl HighlightKind {
    /// Every kind, in a fixed order (the server's token legend).
    pub const ALL: &'static [HighlightKind] = &[
        HighlightKind::Keyword,
        HighlightKind::Comment,
        HighlightKind::DocComment,
        HighlightKind::String,
        HighlightKind::Number,
        HighlightKind::Type,
        HighlightKind::Tag,
        HighlightKind::Purpose,
        HighlightKind::Source,
        HighlightKind::Column,
        HighlightKind::SubjectField,
        HighlightKind::Policy,
        HighlightKind::Level,
        HighlightKind::Technique,
        HighlightKind::Function,
    ];
}

/// A classified token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HighlightToken {
    pub span: Span,
    pub kind: HighlightKind,
}

fn symbol_kind(s: &Symbol) -> HighlightKind {
    match s {
        Symbol::Tag(_) => HighlightKind::Tag,
        Symbol::Purpose(_) => HighlightKind::Purpose,
        Symbol::Source(_) => HighlightKind::Source,
        Symbol::Column { .. } => HighlightKind::Column,
        Symbol::SubjectField(_) => HighlightKind::SubjectField,
        Symbol::Policy(_) => HighlightKind::Policy,
        Symbol::Level(_) => HighlightKind::Level,
        // Reference data, highlighted as the sources are.
        Symbol::Table(_) => HighlightKind::Source,
    }
}

fn type_spans(file: &ast::SourceFile) -> Vec<Span> {
    fn ty(t: &ast::TypeExpr, out: &mut Vec<Span>) {
        match t {
            ast::TypeExpr::Named(i) => out.push(i.span),
            ast::TypeExpr::Enum { .. } => {}
            ast::TypeExpr::Struct { fields, .. } => cols(fields, out),
            ast::TypeExpr::Generic { name, args, .. } => {
                out.push(name.span);
                args.iter().for_each(|a| ty(a, out));
            }
        }
    }
    fn cols(cs: &[ast::ColumnDecl], out: &mut Vec<Span>) {
        for c in cs {
            if let ast::ColumnKind::Stored { ty: t, .. } = &c.kind {
                ty(t, out);
            }
        }
    }
    let mut out = Vec::new();
    for d in &file.decls {
        match d {
            Decl::Source(s) => cols(&s.columns, &mut out),
            Decl::Subject(s) => s.fields.iter().for_each(|f| ty(&f.ty, &mut out)),
            _ => {}
        }
    }
    out
}

pub(super) fn highlight(ide: &Ide, file: FileId) -> Vec<HighlightToken> {
    let text = ide.text(file);
    let lexed = lex(text);
    let names: HashMap<u32, (Span, HighlightKind)> = ide
        .index
        .in_file(file)
        .map(|o| (o.loc.span.start, (o.loc.span, symbol_kind(&o.symbol))))
        .collect();
    let (techniques, functions, types): (HashSet<Span>, HashSet<Span>, HashSet<Span>) =
        match ide.ast(file) {
            Some(ast) => (
                technique_spans(ast).into_iter().collect(),
                function_spans(ast).into_iter().collect(),
                type_spans(ast).into_iter().collect(),
            ),
            None => Default::default(),
        };
    let mut out = Vec::with_capacity(lexed.tokens.len() + lexed.comments.len());
    for (l, t, r) in &lexed.tokens {
        let span = Span::new(*l, *r);
        if let Some((s, k)) = names.get(&(*l as u32)) {
            out.push(HighlightToken { span: *s, kind: *k });
            continue;
        }
        let kind = if techniques.contains(&span) {
            Some(HighlightKind::Technique)
        } else if functions.contains(&span) {
            Some(HighlightKind::Function)
        } else if types.contains(&span) {
            Some(HighlightKind::Type)
        } else {
            match t {
                Tok::Str(_) | Tok::RawStr(_) => Some(HighlightKind::String),
                Tok::Int(_) | Tok::Decimal(_) | Tok::Duration(_) => Some(HighlightKind::Number),
                t if t.is_keyword() => Some(HighlightKind::Keyword),
                _ => None,
            }
        };
        if let Some(kind) = kind {
            out.push(HighlightToken { span, kind });
        }
    }
    for c in &lexed.comments {
        let kind = if c.kind == CommentKind::Doc {
            HighlightKind::DocComment
        } else {
            HighlightKind::Comment
        };
        // A block comment over several lines is one token per line (semantic tokens are
        // single-line for most clients).
        let mut start = c.span.start as usize;
        for line in c.text.split('\n') {
            let end = start + line.len();
            if !line.is_empty() {
                out.push(HighlightToken {
                    span: Span::new(start, end),
                    kind,
                });
            }
            start = end + 1;
        }
    }
    out.sort_by_key(|t| (t.span.start, t.span.end));
    // Never overlapping: keep the first of overlapping tokens.
    let mut result: Vec<HighlightToken> = Vec::with_capacity(out.len());
    for t in out {
        if result.last().is_some_and(|p| p.span.end > t.span.start) {
            continue;
        }
        result.push(t);
    }
    result
}
