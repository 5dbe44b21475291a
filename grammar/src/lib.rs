//! The front of the Pol toolchain: lexer, parser and syntax tree with spans.
//!
//! `parse_file(text)` never fails and never panics: it returns the declarations it could read, the
//! comments, and every syntax error with its span.

pub mod ast;
mod docs;
pub mod format;
pub mod lexer;
pub mod nesting;
mod parse;
mod recovery;
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
    /// Which kind of error (the compiler gives each its own diagnostic code).
    #[serde(skip_serializing_if = "SyntaxErrorKind::is_syntax")]
    pub kind: SyntaxErrorKind,
    /// The text that fixes the error when it replaces [`SyntaxError::span`] (an insertion when
    /// the span is empty: the `;` that is missing), when the parser knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl SyntaxError {
    /// A plain syntax error.
    pub fn new(message: String, span: Span) -> SyntaxError {
        SyntaxError {
            message,
            span,
            kind: SyntaxErrorKind::Syntax,
            fix: None,
        }
    }

    /// The same error, fixed by writing `text` in place of its span.
    pub fn with_fix(mut self, text: impl Into<String>) -> SyntaxError {
        self.fix = Some(text.into());
        self
    }
}

/// What a [`SyntaxError`] is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub enum SyntaxErrorKind {
    /// The text does not follow the grammar (compiler code `E0001`).
    #[default]
    Syntax,
    /// A construct nests deeper than [`nesting::MAX_NESTING`] (compiler code `E0033`).
    TooDeep,
}

impl SyntaxErrorKind {
    fn is_syntax(&self) -> bool {
        *self == SyntaxErrorKind::Syntax
    }
}

/// Parses one expression alone (for tools and tests). Returns the first error.
pub fn parse_expr(text: &str) -> Result<ast::Expr, SyntaxError> {
    let lexed = lexer::lex(text);
    if let Some(e) = lexed.errors.first() {
        return Err(SyntaxError::new(e.message.clone(), e.span));
    }
    let end = Span::new(text.len(), text.len());
    let mut sink = recovery::Sink::new(("end of input".to_string(), end));
    grammar::ExprParser::new()
        .parse(&mut sink, lexed.tokens)
        .map_err(|e| sink.fatal(e))
}
