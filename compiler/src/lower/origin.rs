//! Where lowered expressions come from: the source spans of the bundle's debug section.
//!
//! A span is stored as line and column numbers ([`SourceSpan`]), computed here from the
//! [`SourceMap`] the model was checked from, so that the runtime (which has no source text)
//! can show them. A program shared by several places (programs are interned by content)
//! carries the spans of the first place lowered.

use crate::source_map::{FileId, SourceMap};
use pol_grammar::Span;
use pol_runtime::bundle::SourceSpan;

/// One file of a policy set, for the spans of the expressions read from it.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    /// The files of the policy set.
    pub files: &'a SourceMap,
    /// The file the expression being lowered was read from.
    pub file: FileId,
}

impl Origin<'_> {
    /// `span` of this origin's file as lines and columns.
    pub fn span(&self, span: Span) -> SourceSpan {
        let (line, column) = self.files.line_col(self.file, span.start);
        let (end_line, end_column) = self.files.line_col(self.file, span.end);
        SourceSpan {
            file: self.file.0,
            line: to_u32(line),
            column: to_u32(column),
            end_line: to_u32(end_line),
            end_column: to_u32(end_column),
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The file names of the debug section, by [`FileId`].
pub fn file_names(files: &SourceMap) -> Vec<String> {
    files.files().map(|(_, f)| f.name.clone()).collect()
}
