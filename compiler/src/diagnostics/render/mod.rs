//! Rendering diagnostics for people and tools: `polc check --format human|json|sarif|github`.
//!
//! Every renderer takes the diagnostics in the order given (callers sort them with
//! [`super::sort`]) and never panics: a span past the end of its file, inside a multi-byte
//! character or backwards is clamped to the text, and a label in a file the [`SourceMap`] does
//! not hold is shown at `1:1` of `<unknown file N>` (the human renderer, which cannot show a
//! snippet of it, turns it into a note).
//!
//! Positions are one-based lines and one-based columns counted in characters (Unicode scalar
//! values); an end position is exclusive (it names the character after the span).

mod github;
mod human;
mod json;
mod sarif;
mod window;

use super::{Diagnostic, Severity};
use crate::source_map::{FileId, Loc, SourceMap};
use pol_grammar::Span;
use serde::Serialize;
use std::borrow::Cow;

/// An output format of `polc check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// rustc-like text with source snippets; ANSI colors only when `color` is set.
    Human { color: bool },
    /// One JSON document: `{"version": 1, "diagnostics": […], "summary": {…}}`.
    Json,
    /// SARIF 2.1.0, as GitHub code scanning accepts it.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::message`), one per diagnostic.
    Github,
}

impl Format {
    /// The names accepted by `--format`, in documentation order.
    pub const NAMES: &'static [&'static str] = &["human", "json", "sarif", "github"];

    /// The format named `name` (one of [`Format::NAMES`]); `color` applies to `human` only.
    pub fn from_name(name: &str, color: bool) -> Option<Format> {
        match name {
            "human" => Some(Format::Human { color }),
            "json" => Some(Format::Json),
            "sarif" => Some(Format::Sarif),
            "github" => Some(Format::Github),
            _ => None,
        }
    }

    /// The `--format` name of this format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human { .. } => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

/// Renders `diags` (in the order given) in `format`. The text ends with a newline unless it is
/// empty (human and github output of no diagnostics).
pub fn render(format: Format, diags: &[Diagnostic], files: &SourceMap) -> String {
    match format {
        Format::Human { color } => human::render(diags, files, color),
        Format::Json => json::render(diags, files),
        Format::Sarif => sarif::render(diags, files),
        Format::Github => github::render(diags, files),
    }
}

/// One diagnostic as the human format shows it (without the summary line), ending with a blank
/// line; long lines are windowed as in [`render`].
pub fn render_one_human(d: &Diagnostic, files: &SourceMap, color: bool) -> String {
    human::render_one(d, files, color)
}

/// A one-based line and one-based column in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Position {
    pub line: usize,
    pub column: usize,
}

/// A place resolved against the source map, every offset clamped to the text.
#[derive(Clone, Debug)]
pub(crate) struct Place<'a> {
    /// The file, when the source map holds it.
    pub file: Option<FileId>,
    /// The file's name as given (or `<unknown file N>`).
    pub name: Cow<'a, str>,
    /// The span, clamped: `start <= end <= len`, both on character boundaries.
    pub span: Span,
    pub start: Position,
    pub end: Position,
}

/// Resolves a place: clamps its span (ends past the text go to the end, an offset inside a
/// character to that character's start, or its end for the end of a span, and a backwards span
/// is put in order) and computes its positions.
pub(crate) fn place(files: &SourceMap, loc: Loc) -> Place<'_> {
    let lo = loc.span.start.min(loc.span.end) as usize;
    let hi = loc.span.start.max(loc.span.end) as usize;
    if (loc.file.0 as usize) >= files.len() {
        let origin = Position { line: 1, column: 1 };
        return Place {
            file: None,
            name: Cow::Owned(format!("<unknown file {}>", loc.file.0)),
            span: Span::new(0, 0),
            start: origin,
            end: origin,
        };
    }
    let f = files.get(loc.file);
    let start = floor_char_boundary(&f.text, lo);
    let end = ceil_char_boundary(&f.text, hi).max(start);
    let position = |offset: usize| {
        let (line, column) = files.line_col(loc.file, offset as u32);
        Position { line, column }
    };
    Place {
        file: Some(loc.file),
        name: Cow::Borrowed(f.name.as_str()),
        span: Span::new(start, end),
        start: position(start),
        end: position(end),
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// `error` or `warning`.
pub(crate) fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `1 error`, `2 warnings`.
pub(crate) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}
