//! Diagnostics: one type for every error and warning of the compiler, with a stable code, a
//! primary label on the exact span, secondary labels, help lines and an optional fix. They are
//! rendered in one place ([`render`]).

mod catalog;
mod codes;
pub mod render;

pub use catalog::{OperandMismatch, RoleModifier};
pub use codes::{retired_explanation, Code, Severity, DOCS_BASE_URI, RETIRED};

use crate::source_map::{FileId, Loc};
use pol_grammar::Span;
use serde::Serialize;

/// A labelled place in a file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(loc: Loc, message: impl Into<String>) -> Label {
        Label {
            file: loc.file,
            span: loc.span,
            message: message.into(),
        }
    }

    pub fn loc(&self) -> Loc {
        Loc::new(self.file, self.span)
    }
}

/// A machine-applicable fix: replace each span with its text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<(Loc, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Vec<String>,
    pub notes: Vec<String>,
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    pub fn new(
        code: Code,
        message: impl Into<String>,
        at: Loc,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label::new(at, label),
            secondary: Vec::new(),
            help: Vec::new(),
            notes: Vec::new(),
            fixes: Vec::new(),
        }
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn with_secondary(mut self, at: Loc, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label::new(at, message));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn with_fix(
        mut self,
        title: impl Into<String>,
        at: Loc,
        replacement: impl Into<String>,
    ) -> Diagnostic {
        self.fixes.push(Fix {
            title: title.into(),
            edits: vec![(at, replacement.into())],
        });
        self
    }
}

/// Sorts diagnostics by file, position, then code, and drops exact duplicates.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (
            a.primary.file,
            a.primary.span.start,
            a.primary.span.end,
            a.code,
        )
            .cmp(&(
                b.primary.file,
                b.primary.span.start,
                b.primary.span.end,
                b.code,
            ))
            .then_with(|| a.message.cmp(&b.message))
    });
    diags.dedup();
}

/// How many errors and warnings.
pub fn count(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}

/// A place in a file, for convenience in rules that know their file.
pub fn at(file: FileId, span: Span) -> Loc {
    Loc::new(file, span)
}
