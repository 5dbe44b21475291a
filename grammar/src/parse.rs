//! From text to a [`SourceFile`]: lex, split into declarations, parse each, attach doc comments.
//!
//! A file is split before every declaration keyword (`tag`, `purpose`, `subject`, `source`,
//! `policy`, `exempt`, `level`, `settings`, `test`) that follows a `;` or `}`, or that starts a line
//! (except where the keyword continues a header, as in `on source`). Each piece is parsed alone, so
//! a broken declaration reports its own error and the ones after it are still parsed and checked.

use crate::ast::*;
use crate::lexer::{lex, Tok};
use crate::nesting;
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

/// One item of a column list: a column, or more tags for the column before it
/// (`tagged A, B` — the `B`).
pub enum ColItem {
    Column(ColumnDecl),
    MoreTags {
        path: Path,
        modifiers: Vec<Modifier>,
        span: Span,
    },
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
    let mut columns: Vec<ColumnDecl> = Vec::new();
    for item in items {
        match item {
            ColItem::Column(c) => columns.push(c),
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
        tags,
        level,
        columns: build_struct(items)?,
        doc: None,
        span,
    })
}

fn is_decl_keyword(t: &Tok) -> bool {
    matches!(
        t,
        Tok::KwTag
            | Tok::KwPurpose
            | Tok::KwSubject
            | Tok::KwSource
            | Tok::KwPolicy
            | Tok::KwExempt
            | Tok::KwLevel
            | Tok::KwSettings
            | Tok::KwTest
    )
}

/// Where each declaration starts (token indices).
fn split_points(text: &str, tokens: &[(usize, Tok, usize)]) -> Vec<usize> {
    let mut points = vec![0];
    for i in 1..tokens.len() {
        let (start, tok, _) = &tokens[i];
        if !is_decl_keyword(tok) {
            continue;
        }
        let (_, prev, prev_end) = &tokens[i - 1];
        let after_end = matches!(prev, Tok::Semi | Tok::RBrace);
        let line_start = text[*prev_end..*start].contains('\n')
            && !matches!(tok, Tok::KwLevel)
            && !matches!(prev, Tok::KwOn | Tok::Comma | Tok::Dot);
        if after_end || line_start {
            points.push(i);
        }
    }
    points
}

fn describe_expected(expected: &[String]) -> String {
    let mut items: Vec<String> = Vec::new();
    for e in expected {
        let d = match e.as_str() {
            "Ident" => "identifier".to_string(),
            "Quoted" => continue,
            "Label" => "`name:`".to_string(),
            "Str" => "string".to_string(),
            "RawStr" => continue,
            "Int" => "integer".to_string(),
            "Decimal" => "decimal".to_string(),
            "Duration" => "duration".to_string(),
            other => format!("`{}`", other.trim_matches('"')),
        };
        if !items.contains(&d) {
            items.push(d);
        }
    }
    let is_expr = expected.iter().any(|e| e == "Int") && expected.iter().any(|e| e == "\"(\"");
    if is_expr && items.len() > 6 {
        let others: Vec<&String> = items
            .iter()
            .filter(|s| {
                !matches!(
                    s.as_str(),
                    "identifier"
                        | "string"
                        | "integer"
                        | "decimal"
                        | "duration"
                        | "`(`"
                        | "`[`"
                        | "`{`"
                        | "`-`"
                        | "`not`"
                        | "`if`"
                        | "`user`"
                        | "`row`"
                        | "`value`"
                        | "`true`"
                        | "`false`"
                        | "`null`"
                )
            })
            .collect();
        if others.is_empty() {
            return "an expression".to_string();
        }
        let rest: Vec<String> = others.iter().map(|s| s.to_string()).collect();
        return format!("an expression or one of {}", rest.join(", "));
    }
    match items.len() {
        0 => "nothing more".to_string(),
        1 => items[0].clone(),
        n if n <= 8 => {
            let (last, init) = items.split_last().expect("n >= 2");
            format!("one of {} or {}", init.join(", "), last)
        }
        n => format!("one of {} and {} others", items[..6].join(", "), n - 6),
    }
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
    let points = split_points(text, &tokens);
    let parser = crate::grammar::DeclParser::new();
    let mut decls = Vec::new();
    for (n, &start) in points.iter().enumerate() {
        let end = points.get(n + 1).copied().unwrap_or(tokens.len());
        if start >= end {
            continue;
        }
        let chunk = &tokens[start..end];
        if !is_decl_keyword(&chunk[0].1) {
            let (l, t, r) = &chunk[0];
            errors.push(SyntaxError::new(
                format!(
                    "expected a declaration (`tag`, `purpose`, `subject`, `source`, `policy`, `exempt`, `level`, `settings` or `test`), found {}",
                    t.describe()
                ),
                Span::new(*l, *r),
            ));
            continue;
        }
        let next = tokens.get(end);
        let result = parser.parse(chunk.iter().cloned());
        match result {
            Ok(decl) => decls.push(decl),
            Err(e) => errors.push(convert_error(e, next, text.len())),
        }
    }
    let mut file = SourceFile {
        decls,
        comments: lexed.comments,
        errors,
    };
    file.errors.sort_by_key(|e| (e.span.start, e.span.end));
    crate::docs::attach_docs(&mut file, text);
    file
}

fn convert_error(
    e: ParseError<usize, Tok<'_>, UserError>,
    next: Option<&(usize, Tok<'_>, usize)>,
    text_len: usize,
) -> SyntaxError {
    match e {
        ParseError::UnrecognizedToken {
            token: (l, t, r),
            expected,
        } => SyntaxError::new(
            format!(
                "expected {}, found {}",
                describe_expected(&expected),
                t.describe()
            ),
            Span::new(l, r),
        ),
        ParseError::UnrecognizedEof { location, expected } => {
            let (found, span) = match next {
                Some((l, t, r)) => (t.describe(), Span::new(*l, *r)),
                None => ("end of file".to_string(), Span::new(text_len, text_len)),
            };
            let _ = location;
            SyntaxError::new(
                format!("expected {}, found {}", describe_expected(&expected), found),
                span,
            )
        }
        ParseError::ExtraToken { token: (l, t, r) } => {
            SyntaxError::new(format!("unexpected {}", t.describe()), Span::new(l, r))
        }
        ParseError::InvalidToken { location } => SyntaxError::new(
            "invalid token".to_string(),
            Span::new(location, location + 1),
        ),
        ParseError::User { error } => SyntaxError {
            message: error.message,
            span: error.span,
            kind: error.kind,
        },
    }
}
