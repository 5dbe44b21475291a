//! Syntax errors: what the parser expected, in words, and the errors it recovered from.
//!
//! The grammar's error rules (`!`) hand a recovered error to a [`Sink`] with the span of the
//! construct they replace by an error node; the productions for common slips (a missing `;`,
//! `:`, `,` or `}`) report what is missing at the place it belongs. Errors that end a parse
//! (an action's own error, such as a construct nested too deep) are converted by
//! [`Sink::fatal`].

use crate::ast::Ident;
use crate::lexer::Tok;
use crate::parse::UserError;
use crate::span::Span;
use crate::SyntaxError;
use lalrpop_util::{ErrorRecovery, ParseError};

/// A recovered error as LALRPOP hands it to an error rule.
pub type Recovered<'input> = ErrorRecovery<usize, Tok<'input>, UserError>;

/// Collects the syntax errors of one piece of a file.
pub struct Sink {
    errors: Vec<SyntaxError>,
    /// What follows the piece (the next piece's first token, or the end of the file), for an
    /// error found at the piece's end.
    after: (String, Span),
}

impl Sink {
    /// A sink for a piece followed by `after` (a description and its span).
    pub fn new(after: (String, Span)) -> Sink {
        Sink {
            errors: Vec::new(),
            after,
        }
    }

    /// The errors collected, in the order they were found.
    pub fn into_errors(self) -> Vec<SyntaxError> {
        self.errors
    }

    /// An error rule replaced a broken construct by an error node spanning `span`: reports
    /// what was expected where the parser stopped, and returns the span of the node.
    pub fn broken(&mut self, e: Recovered<'_>, span: Span) -> Span {
        let error = self.fatal(e.error);
        self.errors.push(error);
        span
    }

    /// A `token` that ends a construct (`purpose` says which, e.g. "to end the declaration") is
    /// missing at `at`. When the parser could go on right after it (no token had to be skipped),
    /// the error says so at that place; otherwise it is the usual "expected …, found …" at the
    /// token that does not fit. Returns `at`, where the construct ends.
    pub fn missing(&mut self, e: Recovered<'_>, at: usize, token: &str, purpose: &str) -> usize {
        let error = if e.dropped_tokens.is_empty() {
            let (found, _) = self.found(&e.error);
            SyntaxError::new(
                format!("expected `{token}` {purpose}, found {found}"),
                Span::new(at, at),
            )
            .with_fix(token)
        } else {
            self.fatal(e.error)
        };
        self.errors.push(error);
        at
    }

    /// `name type` without the `:` between them (the column or field is kept).
    pub fn missing_colon(&mut self, name: &Ident) {
        let at = name.span.end as usize;
        self.errors.push(
            SyntaxError::new(
                "expected `:` between the column name and its type".to_string(),
                Span::new(at, at),
            )
            .with_fix(":"),
        );
    }

    /// A block is not closed at `at`, the end of its piece: the parser closes it there (with as
    /// many `}` as are missing) and keeps what it holds.
    pub fn missing_close(&mut self, at: usize) {
        let (found, _) = &self.after;
        self.errors.push(
            SyntaxError::new(
                format!("expected `}}` to close the block, found {found}"),
                Span::new(at, at),
            )
            .with_fix("}"),
        );
    }

    /// Two columns without the `,` between them (both are kept).
    pub fn missing_comma(&mut self, at: usize) {
        self.errors.push(
            SyntaxError::new(
                "expected `,` between two columns".to_string(),
                Span::new(at, at),
            )
            .with_fix(","),
        );
    }

    /// The error that ended a parse, or the error a recovery started from.
    pub fn fatal(&self, e: ParseError<usize, Tok<'_>, UserError>) -> SyntaxError {
        match e {
            ParseError::UnrecognizedToken { ref expected, .. }
            | ParseError::UnrecognizedEof { ref expected, .. } => {
                let (found, span) = self.found(&e);
                let message = format!("expected {}, found {found}", describe_expected(expected));
                if let ParseError::UnrecognizedToken {
                    token: (_, Tok::Ident(word), _),
                    ..
                } = &e
                {
                    if let Some(keyword) = misspelled_keyword(word, expected) {
                        return SyntaxError::new(
                            format!("{message}; did you mean `{keyword}`?"),
                            span,
                        )
                        .with_fix(keyword);
                    }
                }
                SyntaxError::new(message, span)
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
                fix: None,
            },
        }
    }

    /// The token an error was found at, described, and its span.
    fn found(&self, e: &ParseError<usize, Tok<'_>, UserError>) -> (String, Span) {
        match e {
            ParseError::UnrecognizedToken {
                token: (l, t, r), ..
            }
            | ParseError::ExtraToken { token: (l, t, r) } => (t.describe(), Span::new(*l, *r)),
            _ => self.after.clone(),
        }
    }
}

/// The declaration keywords, as LALRPOP names their terminals.
const DECLARATION_STARTS: [&str; 9] = [
    "\"tag\"",
    "\"purpose\"",
    "\"subject\"",
    "\"source\"",
    "\"policy\"",
    "\"exempt\"",
    "\"level\"",
    "\"settings\"",
    "\"test\"",
];

/// The terminals that may start an expression besides identifiers and literals (an expected
/// set holding all of them is said "an expression").
const EXPRESSION_STARTS: [&str; 17] = [
    "identifier",
    "string",
    "integer",
    "decimal",
    "duration",
    "`(`",
    "`[`",
    "`{`",
    "`-`",
    "`not`",
    "`if`",
    "`user`",
    "`row`",
    "`value`",
    "`true`",
    "`false`",
    "`null`",
];

/// An expected set in words: "`;`", "one of `a`, `b` or `c`", "an expression or `)`", "a
/// declaration (…)".
pub fn describe_expected(expected: &[String]) -> String {
    let is_declaration = DECLARATION_STARTS
        .iter()
        .all(|d| expected.iter().any(|e| e == d));
    if is_declaration {
        return "a declaration (`tag`, `purpose`, `subject`, `source`, `policy`, `exempt`, \
                `level`, `settings` or `test`)"
            .to_string();
    }
    let mut items: Vec<String> = Vec::new();
    for e in expected {
        let d = match e.as_str() {
            "Ident" => "identifier".to_string(),
            "Quoted" | "RawStr" => continue,
            "Label" => "`name:`".to_string(),
            "Str" => "string".to_string(),
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
            .filter(|s| !EXPRESSION_STARTS.contains(&s.as_str()))
            .collect();
        if others.is_empty() {
            return "an expression".to_string();
        }
        let rest: Vec<String> = others.iter().map(|s| s.to_string()).collect();
        return format!("an expression or one of {}", rest.join(", "));
    }
    match items.split_last() {
        None => "nothing more".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, init)) if items.len() <= 8 => {
            format!("one of {} or {}", init.join(", "), last)
        }
        Some(_) => format!(
            "one of {} and {} others",
            items.iter().take(6).cloned().collect::<Vec<_>>().join(", "),
            items.len().saturating_sub(6)
        ),
    }
}

/// The expected keyword `word` is a misspelling of (one edit away, or two for long words), if
/// exactly one is.
fn misspelled_keyword<'a>(word: &str, expected: &'a [String]) -> Option<&'a str> {
    let budget = if word.chars().count() >= 6 { 2 } else { 1 };
    let mut close = expected
        .iter()
        .filter_map(|e| e.strip_prefix('"')?.strip_suffix('"'))
        .filter(|k| k.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .filter(|k| k.len() >= 3 && edit_distance(word, k) <= budget);
    match (close.next(), close.next()) {
        (Some(k), None) => Some(k),
        _ => None,
    }
}

/// The Levenshtein distance between two short words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(prev.len());
        cur.push(i + 1);
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev
                .get(j)
                .map_or(usize::MAX, |d| d + usize::from(ca != cb));
            let delete = prev.get(j + 1).map_or(usize::MAX, |d| d + 1);
            let insert = cur.last().map_or(usize::MAX, |d| d + 1);
            cur.push(substitute.min(delete).min(insert));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("usin", "using"), 1);
        assert_eq!(edit_distance("sensitve", "sensitive"), 1);
        assert_eq!(edit_distance("mask", "mask"), 0);
        assert_eq!(edit_distance("", "tag"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_misspelled_keyword_is_suggested_only_when_one_is_close() {
        let expected: Vec<String> = ["\".\"", "\"using\"", "\"where\""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(misspelled_keyword("usin", &expected), Some("using"));
        assert_eq!(misspelled_keyword("colour", &expected), None);
    }
}
