//! Why a batch could not be masked.

use std::fmt;

/// Why [`mask_batch`](crate::SourceSession::mask_batch) failed. Masking itself never fails (a
/// cell that cannot be masked is null); only assembling the output Arrow arrays can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// Arrow refused to build an output column (e.g. more than 2 GiB of text in one column).
    Build {
        /// The output column.
        column: String,
        /// Arrow's message.
        message: String,
    },
    /// Arrow refused to assemble the output batch.
    Assemble {
        /// Arrow's message.
        message: String,
    },
}

impl BatchError {
    /// A stable code for the error kind.
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::Build { .. } => "B0001",
            BatchError::Assemble { .. } => "B0002",
        }
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Build { column, message } => write!(
                f,
                "{}: cannot build the output column `{column}`: {message}",
                self.code()
            ),
            BatchError::Assemble { message } => {
                write!(
                    f,
                    "{}: cannot assemble the output batch: {message}",
                    self.code()
                )
            }
        }
    }
}

impl std::error::Error for BatchError {}
