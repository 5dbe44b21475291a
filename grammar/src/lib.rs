//! The front of the Pol toolchain: lexer, parser and syntax tree with spans.
//!
//! `parse_file(text)` never fails and never panics: it returns the declarations it could read, the
//! comments, and every syntax error with its span.

pub mod ast;
mod docs;
pub mod format;
pub mod lexer;
mod parse;
pub mod span;

#[allow(clippy::all, unused_parens, dead_code)]
mod grammar {
    include!(concat!(env!("OUT_DIR"), "/parser.rs"));
}

pub use parse::parse_file;
pub use span::{LineIndex, Span};

/// A syntax error: what was expected and what was found, at a span.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

/// Parses one expression alone (for tools and tests). Returns the first error.
pub fn parse_expr(text: &str) -> Result<ast::Expr, SyntaxError> {
    let lexed = lexer::lex(text);
    if let Some(e) = lexed.errors.first() {
        return Err(SyntaxError {
            message: e.message.clone(),
            span: e.span,
        });
    }
    let n = lexed.tokens.len();
    grammar::ExprParser::new()
        .parse(lexed.tokens)
        .map_err(|e| match e {
            lalrpop_util::ParseError::UnrecognizedToken {
                token: (l, t, r), ..
            } => SyntaxError {
                message: format!("unexpected {}", t.describe()),
                span: Span::new(l, r),
            },
            lalrpop_util::ParseError::User { error } => SyntaxError {
                message: error.message,
                span: error.span,
            },
            other => SyntaxError {
                message: format!("{other:?}").chars().take(200).collect(),
                span: Span::new(text.len(), text.len()),
            },
        })
        .inspect(|_| {
            let _ = n;
        })
}
