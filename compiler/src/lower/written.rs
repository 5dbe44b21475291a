//! Explained conditions as they are written: the runtime names a condition and its deciding
//! parts by Pol text rebuilt from the bytecode (it has no source); where the policy set is at
//! hand, [`written_texts`] replaces each text by the policy's own (`row[tagged Geo.Country]`
//! rather than the column it reads), through the bundle's debug section.
//!
//! A part's text is the span of its last op (the operator, emitted with its expression's span)
//! when that span holds the spans of all its ops; otherwise (a condition built by the compiler
//! rather than written, such as combined exceptions) the rebuilt text stays. Programs are
//! interned by content, so a condition written twice shows the first place's writing.

use crate::source_map::{FileId, SourceMap};
use pol_runtime::bundle::{ProgramSpans, SourceSpan};
use pol_runtime::engine::{ConditionExplanation, RowExplanation};
use pol_runtime::Bundle;

/// Rewrites every condition text of `ex` as written in `files` (see the module doc); `bundle`
/// is the one `ex` was explained with, lowered with spans from `files`.
pub fn written_texts(ex: &mut RowExplanation, bundle: &Bundle, files: &SourceMap) {
    let conditions = ex
        .cells
        .iter_mut()
        .flat_map(|c| c.why.iter_mut())
        .chain(ex.row_rules.iter_mut().flat_map(|r| r.why.iter_mut()))
        .chain(ex.exempt_why.iter_mut());
    for c in conditions {
        written_condition(c, bundle, files);
    }
}

/// Rewrites one condition's texts.
pub fn written_condition(c: &mut ConditionExplanation, bundle: &Bundle, files: &SourceMap) {
    let Some(spans) = bundle.debug.program(c.program as usize) else {
        return;
    };
    let Some(len) = bundle
        .programs
        .get(c.program as usize)
        .map(|p| p.code.len())
    else {
        return;
    };
    for p in &mut c.deciding {
        if let Some(t) = text(spans, p.ops, files) {
            p.text = t;
        }
    }
    if let Some(t) = u32::try_from(len)
        .ok()
        .and_then(|n| text(spans, [0, n], files))
    {
        c.text = t;
    }
}

fn text(spans: &ProgramSpans, ops: [u32; 2], files: &SourceMap) -> Option<String> {
    let [start, end] = ops;
    let own = *spans.span_of(end.checked_sub(1)? as usize)?;
    for pc in start..end {
        let s = spans.span_of(pc as usize)?;
        if !holds(&own, s) {
            return None;
        }
    }
    let file = FileId(own.file);
    if own.file as usize >= files.len() {
        return None;
    }
    let from = offset(files, file, own.line, own.column)?;
    let to = offset(files, file, own.end_line, own.end_column)?;
    let t = files.get(file).text.get(from..to)?;
    Some(t.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Whether span `outer` holds span `inner` (same file, start and end within).
fn holds(outer: &SourceSpan, inner: &SourceSpan) -> bool {
    outer.file == inner.file
        && (outer.line, outer.column) <= (inner.line, inner.column)
        && (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)
}

/// The byte offset of a one-based line and character column.
fn offset(files: &SourceMap, file: FileId, line: u32, column: u32) -> Option<usize> {
    let f = files.get(file);
    let start = f.lines.line_start((line as usize).checked_sub(1)?)?;
    let rest = f.text.get(start..)?;
    let skip = (column as usize).checked_sub(1)?;
    match rest.char_indices().nth(skip) {
        Some((i, _)) => Some(start + i),
        None => Some(f.text.len()),
    }
}
