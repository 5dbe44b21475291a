//! Why `polc sql` refuses part of a policy set: an error with a stable code, the source and
//! column it concerns, and the place in the policy text.

use std::fmt;

use crate::source_map::{Loc, SourceMap};

/// What cannot be enforced in SQL exactly as the runtime enforces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqlErrorKind {
    /// `S0001`: a technique whose output SQL cannot reproduce byte for byte.
    Technique {
        /// The technique as written (`noise(2)`).
        technique: String,
        /// Why it is refused.
        reason: String,
    },
    /// `S0002`: a column type the views do not support (lists, structs).
    ColumnType {
        /// The type as written.
        ty: String,
    },
    /// `S0003`: a condition or derived expression SQL cannot evaluate exactly.
    Expression {
        /// What part of the expression, and why.
        reason: String,
    },
    /// `S0004`: a name PostgreSQL cannot hold (longer than 63 bytes, or a NUL character).
    Name {
        /// The name.
        name: String,
    },
}

impl SqlErrorKind {
    /// The stable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            SqlErrorKind::Technique { .. } => "S0001",
            SqlErrorKind::ColumnType { .. } => "S0002",
            SqlErrorKind::Expression { .. } => "S0003",
            SqlErrorKind::Name { .. } => "S0004",
        }
    }
}

/// One refusal of `polc sql`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    /// What is refused.
    pub kind: SqlErrorKind,
    /// The source whose view cannot be generated.
    pub source: String,
    /// The column concerned, when there is one.
    pub column: Option<String>,
    /// Where in the policy text (the technique, the expression, or the column).
    pub loc: Loc,
}

impl SqlError {
    /// The stable code (`S0001`…).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The message, without location.
    pub fn message(&self) -> String {
        let what = match &self.column {
            Some(c) => format!("`{}.{c}`", self.source),
            None => format!("source `{}`", self.source),
        };
        match &self.kind {
            SqlErrorKind::Technique { technique, reason } => format!(
                "{what}: the technique `{technique}` cannot be computed exactly in SQL ({reason})"
            ),
            SqlErrorKind::ColumnType { ty } => {
                format!("{what}: columns of type `{ty}` are not supported in SQL views")
            }
            SqlErrorKind::Expression { reason } => {
                format!("{what}: {reason} cannot be evaluated exactly in SQL")
            }
            SqlErrorKind::Name { name } => {
                format!("{what}: the name `{name}` is not a valid PostgreSQL identifier (at most 63 bytes, no NUL)")
            }
        }
    }

    /// `file:line:col: error[S0001]: message`.
    pub fn render(&self, files: &SourceMap) -> String {
        let (line, col) = files.line_col(self.loc.file, self.loc.span.start);
        format!(
            "{}:{line}:{col}: error[{}]: {}",
            files.get(self.loc.file).name,
            self.code(),
            self.message()
        )
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.code(), self.message())
    }
}

impl std::error::Error for SqlError {}
