//! Input that did not match the policy's declarations: masking failed closed on it (an unknown
//! condition, a null cell), and an application may want to log why.
//!
//! A session collects two kinds: the subject's fields that were missing or of the wrong type
//! (decided once, when the session was opened), and, per column, how many cells masked through
//! [`SourceSession::mask_json`](super::SourceSession::mask_json) or
//! [`mask_values`](super::SourceSession::mask_values) did not decode to the column's type
//! (counted as rows are masked; safe to read from any thread). [`Session::warnings`] reports
//! both, one entry per field or column.

use std::fmt;
use std::sync::atomic::Ordering;

use super::session::Session;
use super::subject::SubjectIssue;

/// One field or column whose input a session treated as unknown or null.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputWarning {
    /// A subject field was missing or of the wrong type: conditions on it are unknown.
    Subject(SubjectIssue),
    /// Cells of a column did not decode to its declared type: they were treated as null.
    Cells {
        /// The source's name.
        source: String,
        /// The column's name.
        column: String,
        /// The column's declared type.
        expected: String,
        /// How many cells (one per row) so far.
        count: u64,
    },
}

impl fmt::Display for InputWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputWarning::Subject(issue) => write!(
                f,
                "{issue}: conditions on it are unknown, so they reveal nothing"
            ),
            InputWarning::Cells {
                source,
                column,
                expected,
                count,
            } => write!(
                f,
                "{count} cell{} of `{source}.{column}` {} not of type {expected}: treated as \
                 null, so {} nothing",
                if *count == 1 { "" } else { "s" },
                if *count == 1 { "is" } else { "are" },
                if *count == 1 {
                    "it reveals"
                } else {
                    "they reveal"
                },
            ),
        }
    }
}

impl Session<'_> {
    /// The input this session treated as unknown or null so far: first the subject's fields
    /// (missing or of the wrong type), then per source and column (in declaration order) the
    /// number of cells of the wrong type among the rows masked so far. Empty when every input
    /// matched its declaration. Masking already failed closed on each; this is for logging.
    pub fn warnings(&self) -> Vec<InputWarning> {
        let mut out: Vec<InputWarning> = self
            .subject()
            .issues
            .iter()
            .cloned()
            .map(InputWarning::Subject)
            .collect();
        let engine = self.engine();
        for (index, counters) in self.mismatch_counts() {
            let (Some(plan), Some(meta)) = (
                engine.bundle().sources.get(index),
                engine.sources.get(index),
            ) else {
                continue;
            };
            for (flat, counter) in meta.top.iter().zip(counters) {
                let count = counter.load(Ordering::Relaxed);
                let Some(col) = plan.columns.get(*flat as usize) else {
                    continue;
                };
                if count > 0 {
                    out.push(InputWarning::Cells {
                        source: plan.name.clone(),
                        column: col.name.clone(),
                        expected: col.ty.to_string(),
                        count,
                    });
                }
            }
        }
        out
    }
}
