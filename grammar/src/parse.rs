//! From text to a [`SourceFile`]: lex, cut into pieces where a declaration must start, parse each
//! piece (with error recovery inside the grammar), attach doc comments.
//!
//! Layout never matters: a piece starts at a declaration keyword that follows a `;` or `}` at
//! brace depth 0, or at a keyword that can only start a declaration where it stands (`policy`,
//! `purpose`, `subject`, `exempt`, `settings`, `test` anywhere but after `.`; `source` but after
//! `.` or `on`; `tag` but after `.` or `any`). In a file that parses, the pieces are exactly its
//! declarations (or runs of them); in a broken one, the second kind re-synchronises after a
//! missing `}`. The grammar parses a piece as any number of declarations and recovers from
//! errors inside it (see `recovery.rs`); the cut only bounds what an error that ends a parse (a
//! construct nested too deep) can take with it: its own piece. A piece that ends with a block
//! still open is one error ("expected `}`") at its end, and is parsed as if closed there, so an
//! unclosed policy keeps its rules.

use crate::ast::*;
use crate::lexer::{lex, Tok};
use crate::nesting;
use crate::recovery::Sink;
use crate::span::Span;
use crate::{SyntaxError, SyntaxErrorKind};
use lalrpop_util::ParseError;

/// An error raised by a grammar action.
#[derive(Clone, Debug, PartialEq)]
pub struct UserError {
    pub message: String,
    pub span: Span,
    pub kind: SyntaxErrorKind,
}

impl UserError {
    pub fn new(message: String, span: Span) -> UserError {
        UserError {
            message,
            span,
            kind: SyntaxErrorKind::Syntax,
        }
    }
}

type ActionResult<T> = Result<T, ParseError<usize, Tok<'static>, UserError>>;

fn user_err<T>(message: String, span: Span) -> ActionResult<T> {
    Err(ParseError::User {
        error: UserError::new(message, span),
    })
}

fn too_deep<T>(what: &str, limit: usize, span: Span) -> ActionResult<T> {
    Err(ParseError::User {
        error: UserError {
            message: nesting::too_deep_message(what, limit),
            span,
            kind: SyntaxErrorKind::TooDeep,
        },
    })
}

/// The expression built by a grammar action, or an error if it nests beyond
/// [`nesting::MAX_NESTING`] (the tree is never built deeper).
pub fn nested_expr(e: Expr) -> ActionResult<Expr> {
    if nesting::expr_depth(&e) > nesting::MAX_NESTING {
        return too_deep("expression", nesting::MAX_NESTING, e.span);
    }
    Ok(e)
}

/// The type built by a grammar action, or an error if it nests beyond the limit.
pub fn nested_type(t: TypeExpr) -> ActionResult<TypeExpr> {
    if nesting::type_depth(&t) > nesting::MAX_TYPE_NESTING {
        return too_deep("type", nesting::MAX_TYPE_NESTING, t.span());
    }
    Ok(t)
}

/// The technique built by a grammar action, or an error if it nests beyond the limit.
pub fn nested_technique(t: Technique) -> ActionResult<Technique> {
    if nesting::technique_depth(&t) > nesting::MAX_NESTING {
        return too_deep("technique", nesting::MAX_NESTING, t.span);
    }
    Ok(t)
}

/// The source-metadata condition built by a grammar action, or an error if it nests beyond the
/// limit.
pub fn nested_cond(c: SourceCond) -> ActionResult<SourceCond> {
    if nesting::cond_depth(&c) > nesting::MAX_NESTING {
        return too_deep("condition", nesting::MAX_NESTING, c.span);
    }
    Ok(c)
}

/// `source.KEY between LOW and HIGH`; `between` is a word, not a keyword.
pub fn between_cond(
    key: Ident,
    kw: Ident,
    low: Expr,
    high: Expr,
    span: Span,
) -> ActionResult<SourceCond> {
    if kw.name != "between" || kw.quoted {
        return user_err(
            format!(
                "expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `matches`) or \
                 `between` after `source.{}`, found `{}`",
                key.name, kw.name
            ),
            kw.span,
        );
    }
    nested_cond(SourceCond {
        kind: SourceCondKind::Between { key, low, high },
        span,
    })
}

/// `k_anonymity K over a, b`; `over` is a word, not a keyword (a column may be named `over`).
pub fn k_anonymity_rule(
    k: (i64, Span),
    over: Ident,
    columns: Vec<Ident>,
    start: usize,
) -> ActionResult<Rule> {
    if over.name != "over" || over.quoted {
        return user_err(
            format!(
                "expected `over` and the quasi-identifier columns after `k_anonymity {}`, found `{}`",
                k.0, over.name
            ),
            over.span,
        );
    }
    let end = columns.last().map_or(over.span.end, |c| c.span.end) as usize;
    Ok(Rule::KAnonymity(KAnonymityRule {
        k,
        columns,
        span: Span::new(start, end),
    }))
}

/// One item of a column list: a column, or more tags for the column before it
/// (`tagged A, B` — the `B`).
pub enum ColItem {
    Column(ColumnDecl),
    MoreTags {
        path: Path,
        modifiers: Vec<Modifier>,
        span: Span,
    },
    /// A broken column the parser skipped (its error is reported).
    Error,
}

/// Builds an identifier from a label token (`name:` → `name`), `l` being its start.
pub fn label_ident(raw: &str, l: usize) -> Ident {
    let quoted = raw.starts_with('`');
    let name = if quoted && raw.len() >= 2 {
        &raw[1..raw.len() - 1]
    } else {
        raw
    };
    Ident {
        name: name.to_string(),
        span: Span::new(l, l + raw.len()),
        quoted,
    }
}

/// Folds tag continuations into the column before them.
pub fn build_struct(items: Vec<ColItem>) -> ActionResult<Vec<ColumnDecl>> {
    let mut columns: Vec<ColumnDecl> = Vec::with_capacity(items.len());
    for item in items {
        match item {
            ColItem::Column(c) => columns.push(c),
            // Reported when it was recovered from; the columns around it are kept.
            ColItem::Error => {}
            ColItem::MoreTags {
                path,
                modifiers,
                span,
            } => {
                let Some(prev) = columns.last_mut() else {
                    return user_err(
                        format!(
                            "expected a column (`name: type`), found `{}`",
                            path.dotted()
                        ),
                        path.span,
                    );
                };
                let prev_span = prev.span;
                let ColumnKind::Stored {
                    modifiers: mods, ..
                } = &mut prev.kind
                else {
                    return user_err(
                        format!(
                            "expected a column (`name: type`), found `{}`",
                            path.dotted()
                        ),
                        path.span,
                    );
                };
                match mods.last_mut() {
                    Some(Modifier::Tagged(tags, tspan)) => {
                        *tspan = tspan.to(path.span);
                        tags.push(path);
                    }
                    _ => {
                        return user_err(
                            format!(
                                "expected a column (`name: type`), found `{}`; a column's tags follow `tagged`",
                                path.dotted()
                            ),
                            path.span,
                        )
                    }
                }
                mods.extend(modifiers);
                prev.span = prev_span.to(span);
            }
        }
    }
    Ok(columns)
}

pub fn build_source(
    name: Ident,
    headers: Vec<(Vec<Path>, Option<SourceLevel>)>,
    items: Vec<ColItem>,
    span: Span,
) -> ActionResult<SourceDecl> {
    let mut tags = Vec::new();
    let mut level: Option<SourceLevel> = None;
    for (t, l) in headers {
        tags.extend(t);
        if let Some(l) = l {
            if level.is_some() {
                return user_err(
                    "a source has at most one `level … from …`".to_string(),
                    l.span,
                );
            }
            level = Some(l);
        }
    }
    Ok(SourceDecl {
        name,
        meta: None,
        tags,
        level,
        columns: build_struct(items)?,
        doc: None,
        span,
    })
}

/// Whether `tok`, after `prev`, can only start a declaration (in any file that parses).
fn only_starts_declaration(prev: &Tok, tok: &Tok, next: Option<&Tok>) -> bool {
    match tok {
        Tok::KwPolicy
        | Tok::KwPurpose
        | Tok::KwSubject
        | Tok::KwExempt
        | Tok::KwGuarantee
        | Tok::KwSettings
        | Tok::KwTest => !matches!(prev, Tok::Dot),
        // `source.key` in `on sources where …` is a metadata reference, not a declaration.
        Tok::KwSource => !matches!(prev, Tok::Dot | Tok::KwOn) && !matches!(next, Some(Tok::Dot)),
        Tok::KwTag => !matches!(prev, Tok::Dot | Tok::KwAny),
        Tok::KwTable => !matches!(prev, Tok::Dot | Tok::KwIn),
        _ => false,
    }
}

/// How many `{` of a piece are left open at its end (a piece ends where the next declaration
/// must start, so they can only be closed by a `}` that is missing).
fn unclosed_braces(piece: &[(usize, Tok, usize)]) -> usize {
    piece.iter().fold(0usize, |depth, (_, t, _)| match t {
        Tok::LBrace => depth + 1,
        Tok::RBrace => depth.saturating_sub(1),
        _ => depth,
    })
}

/// Where each piece starts (token indices; the first is 0).
fn cut_points(tokens: &[(usize, Tok, usize)]) -> Vec<usize> {
    let mut points = vec![0];
    let mut depth = 0usize;
    let mut prev: Option<&Tok> = None;
    for (i, (_, tok, _)) in tokens.iter().enumerate() {
        if let Some(prev) = prev {
            let after_end = depth == 0 && matches!(prev, Tok::Semi | Tok::RBrace);
            let next = tokens.get(i + 1).map(|(_, t, _)| t);
            if (after_end && tok.is_decl_keyword()) || only_starts_declaration(prev, tok, next) {
                points.push(i);
                // A declaration starts here, so any `{` left open before it was never closed.
                depth = 0;
            }
        }
        match tok {
            Tok::LBrace => depth += 1,
            Tok::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = Some(tok);
    }
    points
}

/// Parses one file. Never panics; every syntax error is in [`SourceFile::errors`].
pub fn parse_file(text: &str) -> SourceFile {
    let lexed = lex(text);
    let mut errors: Vec<SyntaxError> = lexed
        .errors
        .iter()
        .map(|e| SyntaxError::new(e.message.clone(), e.span))
        .collect();
    let tokens = lexed.tokens;
    let points = cut_points(&tokens);
    let parser = crate::grammar::DeclsParser::new();
    let mut decls = Vec::new();
    for (n, &start) in points.iter().enumerate() {
        let end = points.get(n + 1).copied().unwrap_or(tokens.len());
        let Some(piece) = tokens.get(start..end) else {
            continue;
        };
        let after = match tokens.get(end) {
            Some((l, t, r)) => (t.describe(), Span::new(*l, *r)),
            None => ("end of file".to_string(), Span::new(text.len(), text.len())),
        };
        let mut sink = Sink::new(after);
        let closing = unclosed_braces(piece);
        let end = piece.last().map_or(0, |(_, _, r)| *r);
        if closing > 0 {
            sink.missing_close(end);
        }
        let closed = piece
            .iter()
            .cloned()
            .chain(std::iter::repeat_n((end, Tok::RBrace, end), closing));
        let result = parser.parse(&mut sink, closed);
        match result {
            Ok(mut d) => decls.append(&mut d),
            Err(e) => {
                let fatal = sink.fatal(e);
                errors.push(fatal);
                // The whole piece is lost: an error node keeps its place.
                if let (Some((l, _, _)), Some((_, _, r))) = (piece.first(), piece.last()) {
                    decls.push(Decl::Error(Span::new(*l, *r)));
                }
            }
        }
        errors.append(&mut sink.into_errors());
    }
    errors.sort_by_key(|e| (e.span.start, e.span.end));
    crate::docs::attach_docs(&mut decls, &lexed.comments, text);
    SourceFile {
        decls: decls.into(),
        comments: lexed.comments.into(),
        errors,
    }
}
