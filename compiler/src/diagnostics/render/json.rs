//! One JSON document (pretty-printed, fields in a fixed order):
//!
//! ```json
//! {"version": 1,
//!  "diagnostics": [{"code": "E0003", "severity": "error", "message": "…",
//!                   "file": "a.pol", "span": {"start": 10, "end": 13},
//!                   "range": {"start": {"line": 1, "column": 11}, "end": {"line": 1, "column": 14}},
//!                   "label": "…",
//!                   "labels": [{"message": "…", "file": …, "span": …, "range": …}],
//!                   "help": ["…"], "notes": ["…"],
//!                   "fixes": [{"title": "…", "edits": [{"file": …, "span": …, "range": …, "replacement": "…"}]}]}],
//!  "summary": {"errors": 1, "warnings": 0}}
//! ```
//!
//! `span` is in bytes (clamped to the text), `range` one-based lines and columns in characters,
//! the end exclusive. `label` is the primary label's message; `labels` the secondary ones.

use super::{place, severity_name, Place, Position};
use crate::diagnostics::{count, Diagnostic};
use crate::source_map::{Loc, SourceMap};
use serde::Serialize;
use std::borrow::Cow;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    #[serde(flatten)]
    at: At<'a>,
    label: &'a str,
    labels: Vec<JsonLabel<'a>>,
    help: &'a [String],
    notes: &'a [String],
    fixes: Vec<JsonFix<'a>>,
}

#[derive(Serialize)]
struct At<'a> {
    file: Cow<'a, str>,
    span: JsonSpan,
    range: Range,
}

#[derive(Serialize)]
struct JsonSpan {
    start: u32,
    end: u32,
}

#[derive(Serialize)]
struct Range {
    start: Position,
    end: Position,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: &'a str,
    #[serde(flatten)]
    at: At<'a>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    #[serde(flatten)]
    at: At<'a>,
    replacement: &'a str,
}

fn at<'a>(files: &'a SourceMap, loc: Loc) -> At<'a> {
    let p: Place<'a> = place(files, loc);
    At {
        file: p.name,
        span: JsonSpan {
            start: p.span.start,
            end: p.span.end,
        },
        range: Range {
            start: p.start,
            end: p.end,
        },
    }
}

pub(super) fn render(diags: &[Diagnostic], files: &SourceMap) -> String {
    let (errors, warnings) = count(diags);
    let doc = Document {
        version: 1,
        diagnostics: diags
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code.as_str(),
                severity: severity_name(d.severity()),
                message: &d.message,
                at: at(files, d.primary.loc()),
                label: &d.primary.message,
                labels: d
                    .secondary
                    .iter()
                    .map(|l| JsonLabel {
                        message: &l.message,
                        at: at(files, l.loc()),
                    })
                    .collect(),
                help: &d.help,
                notes: &d.notes,
                fixes: d
                    .fixes
                    .iter()
                    .map(|f| JsonFix {
                        title: &f.title,
                        edits: f
                            .edits
                            .iter()
                            .map(|(loc, replacement)| JsonEdit {
                                at: at(files, *loc),
                                replacement,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        summary: Summary { errors, warnings },
    };
    // Plain data of strings and numbers: serialising it cannot fail, and if it ever did the
    // output says so rather than stopping the program.
    let mut out = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    out.push('\n');
    out
}
