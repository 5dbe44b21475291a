//! The bundle's debug section: where each op of each program came from in the policy text.
//!
//! Nothing here is used to evaluate: the engine never reads it, and a bundle without it
//! (hand-built, or written as format version 1) masks exactly the same. The disassembler
//! ([`crate::program::disasm`]) prints each op with its span. Spans are stored as line and
//! column numbers (1-based, columns in characters) so that the runtime needs no source text.
//!
//! The section is encoded after the bundle's tables (format version 2 and later) and verified
//! like them: every file index and op position must exist.
//!
//! **Append-only:** the types here are serialised with postcard, whose encoding of a struct is
//! its fields in order; fields and variants are only ever appended, with a format version bump.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where the programs of a bundle came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugInfo {
    /// The policy files, by the name the compiler read them under; [`SourceSpan::file`]
    /// indexes this list.
    pub files: Vec<String>,
    /// Per program, by the program's index into [`crate::bundle::Bundle::programs`]: the spans
    /// of its ops. Shorter than the program table (or empty) when some programs have none.
    pub programs: Vec<ProgramSpans>,
}

/// The spans of one program's ops, as runs: each run covers its first op up to the next
/// run's first op (or the end of the program).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramSpans {
    /// The runs, by strictly increasing `start`.
    pub runs: Vec<SpanRun>,
}

/// Ops from `start` on came from `span`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanRun {
    /// The first op of the run.
    pub start: u32,
    /// Where its ops came from.
    pub span: SourceSpan,
}

/// A range of a policy file, by line and column (1-based; columns count characters). The end
/// is exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSpan {
    /// The file's index into [`DebugInfo::files`].
    pub file: u32,
    /// The first line.
    pub line: u32,
    /// The first column.
    pub column: u32,
    /// The line of the end.
    pub end_line: u32,
    /// The column of the end (exclusive).
    pub end_column: u32,
}

impl ProgramSpans {
    /// The span of op `pc`: the last run starting at or before it.
    pub fn span_of(&self, pc: usize) -> Option<&SourceSpan> {
        let after = self.runs.partition_point(|r| r.start as usize <= pc);
        after
            .checked_sub(1)
            .and_then(|i| self.runs.get(i))
            .map(|r| &r.span)
    }

    /// Appends a run for op `pc` unless the previous run has the same span.
    pub fn note(&mut self, pc: u32, span: SourceSpan) {
        if self.runs.last().map(|r| r.span) != Some(span) {
            self.runs.push(SpanRun { start: pc, span });
        }
    }
}

impl DebugInfo {
    /// Whether the section holds nothing.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.programs.is_empty()
    }

    /// The spans of program `program`, if the section has any.
    pub fn program(&self, program: usize) -> Option<&ProgramSpans> {
        self.programs.get(program).filter(|p| !p.runs.is_empty())
    }

    /// `span` as `file:line:column-line:column` (`?` for a file the section does not name).
    pub fn describe<'d>(&'d self, span: &'d SourceSpan) -> SpanText<'d> {
        SpanText { debug: self, span }
    }
}

/// A span shown with its file name: `masking.pol:3:5-3:20`.
pub struct SpanText<'d> {
    debug: &'d DebugInfo,
    span: &'d SourceSpan,
}

impl fmt::Display for SpanText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.span;
        let file = self
            .debug
            .files
            .get(s.file as usize)
            .map(String::as_str)
            .unwrap_or("?");
        write!(
            f,
            "{file}:{}:{}-{}:{}",
            s.line, s.column, s.end_line, s.end_column
        )
    }
}
