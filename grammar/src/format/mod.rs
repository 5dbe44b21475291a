//! The canonical formatter of `.pol` files.
//!
//! [`format_source`] turns a file that parses into its one canonical layout, and refuses (with the
//! first syntax error) a file that does not: a broken file is never rewritten. The result is
//! checked before it is returned: it must parse to the same syntax tree (spans aside, see
//! [`same_syntax`]) and hold the same comments in the same order, or formatting fails with
//! [`FormatError::Internal`] rather than hand back a changed policy.
//!
//! # The canonical layout
//!
//! - Indentation is two spaces per level; lines end without trailing blanks; the file ends with
//!   one line break (an empty file stays empty).
//! - **Declarations** are separated by one blank line, except consecutive declarations of the same
//!   one-line kind (`tag`, `purpose`, `exempt`, `level`), which may follow each other directly: a
//!   blank line between them is kept only when the source has one. Every declaration starts on a
//!   line of its own.
//! - `tag`, `purpose`, `exempt` and `level` declarations are written on one line.
//! - **Blocks** (`source`, `subject`, `struct`, `settings`, `policy`, `test`) open with `{` at the
//!   end of the header line and put each item (column, field, setting, rule, statement) on a line
//!   of its own, one level deeper, closing with `}` on a line of its own. Columns, fields and
//!   settings all end with a comma, the last one included. An empty block is `{}`. One blank line
//!   the source has between two items is kept (never more than one, never right after `{` or
//!   before `}`).
//! - Column types are not aligned: `name: type modifiers`, one space everywhere.
//! - **Rules** (inside `policy`): a rule goes on one line when it has no comment inside, at most one
//!   `using` clause, and fits in [`MAX_WIDTH`] columns. Otherwise it is broken before each part
//!   that decides the audience, each continuation one level deeper:
//!
//!   ```text
//!   mask columns tagged PII.Email where has(row.email)
//!     using hash for everyone who user acting under Research
//!     using email_mask for everyone who user has role "agent"
//!     otherwise using null
//!   only show rows where row.region == user.region
//!     for everyone who user has role "analyst"
//!     otherwise all rows
//!   allow temporary unmask for 24h
//!     for everyone who user has role "TemporarilyUnmask"
//!   ```
//! - **Test statements** go on one line when they fit and hold no comment; otherwise the record of
//!   `given user`, `given row` or `expect row` gets one entry per line, each ending with a comma.
//! - **Expressions** are never broken by the formatter (only a comment inside one breaks it, onto
//!   a continuation line one level deeper). One space around binary operators, keywords and `=`,
//!   after `,` and `:`; none inside `( )` and `[ ]`, around `.`, or in `list<T>`; inline records
//!   and `by level` maps are written `{ a: 1, b: 2 }`. Inline lists, argument lists and records
//!   drop a trailing comma.
//! - Parentheses are kept as written, and literals are written exactly as in the source (string
//!   escapes, number spellings), so formatting never changes what a policy means.
//! - **Comments** are all kept, in order. A comment on the same line as the code before it stays
//!   at the end of that line (a comment written before a `,` or `;` moves after it); any other
//!   comment gets a line of its own at the indentation of what follows it (inside a block, at the
//!   items' indentation). A comment that ends its line in the source ends its line in the output.
//!   Line comments lose trailing blanks; block comments are written verbatim.
//!
//! The layout depends only on the syntax tree, the comments and where the source has blank lines
//! and line-ending comments, so formatting is idempotent: `format(format(x)) == format(x)`.

mod equiv;
mod layout;
mod printer;

pub use equiv::same_syntax;
pub use printer::MAX_WIDTH;

use crate::{lexer, parse_file, SyntaxError};
use printer::Printer;

/// Why a file was not formatted.
#[derive(Clone, Debug, PartialEq)]
pub enum FormatError {
    /// The file does not parse; the first syntax error (lexing errors included), by position.
    Syntax(SyntaxError),
    /// The formatter could not produce an equivalent file (a bug in the formatter); the input is
    /// left as it is.
    Internal(String),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Syntax(e) => write!(
                f,
                "syntax error at bytes {}..{}: {}",
                e.span.start, e.span.end, e.message
            ),
            FormatError::Internal(m) => write!(f, "internal formatter error: {m}"),
        }
    }
}

impl std::error::Error for FormatError {}

/// Formats one `.pol` file in the canonical layout (see the module docs).
///
/// Pure: reads nothing but `text`. Fails with the first syntax error when the file does not parse.
pub fn format_source(text: &str) -> Result<String, FormatError> {
    let file = parse_file(text);
    if let Some(e) = file.errors.first() {
        return Err(FormatError::Syntax(e.clone()));
    }
    let lexed = lexer::lex(text);
    let mut printer = Printer::new(text, &lexed.tokens, &file.comments);
    printer.file(&file.decls);
    let out = printer.finish().map_err(FormatError::Internal)?;
    let again = parse_file(&out);
    if let Some(e) = again.errors.first() {
        return Err(FormatError::Internal(format!(
            "the formatted text does not parse: {} at bytes {}..{}",
            e.message, e.span.start, e.span.end
        )));
    }
    same_syntax(&file, &again).map_err(|d| {
        FormatError::Internal(format!("the formatted text means something else: {d}"))
    })?;
    Ok(out)
}
