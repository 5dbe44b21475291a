//! rustc-like text through `codespan-reporting`:
//!
//! ```text
//! error[E0003]: undeclared tag `pii`
//!   --> policies/a.pol:3:12
//!    |
//!  3 |   mask tagged pii with redact
//!    |               ^^^ not declared
//!    = help: declare it with `tag pii`
//! ```
//!
//! then one summary line: `error: could not check: 2 errors, 1 warning emitted`, or
//! `warning: 1 warning emitted` when there are only warnings, or nothing when there is no
//! diagnostic. Help lines (and fix titles, when a diagnostic has no help line) are shown as `= help: …`, notes as `= note: …`; a label
//! in a file the source map does not hold as `= note: <unknown file N>: label`.

use super::{place, plural, severity_name, window};
use crate::diagnostics::{count, Diagnostic, Severity};
use crate::source_map::SourceMap;
use codespan_reporting::diagnostic::{
    Diagnostic as CsDiagnostic, Label as CsLabel, Severity as CsSeverity,
};
use codespan_reporting::term::termcolor::{Ansi, ColorSpec, NoColor, WriteColor};
use codespan_reporting::term::{self, Chars, Config};
use std::io::Write;

pub(super) fn render(diags: &[Diagnostic], files: &SourceMap, color: bool) -> String {
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    let mut out = String::new();
    let long = if diags.is_empty() {
        Vec::new()
    } else {
        window::long_line_files(files)
    };
    for d in diags {
        out.push_str(&emit_one(d, files, &long, &config, color));
    }
    out.push_str(&summary(diags, &config, color));
    out
}

/// One diagnostic, without the summary line.
pub(super) fn render_one(d: &Diagnostic, files: &SourceMap, color: bool) -> String {
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    emit_one(d, files, &window::long_line_files(files), &config, color)
}

fn to_codespan(d: &Diagnostic, files: &SourceMap) -> CsDiagnostic<crate::source_map::FileId> {
    let severity = match d.severity() {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
    };
    // Labels in a file the source map does not hold cannot be shown as snippets: they become
    // notes after the others (`note: <unknown file N>: message`).
    let mut labels = Vec::new();
    let mut unknown = Vec::new();
    let primary = place(files, d.primary.loc());
    match primary.file {
        Some(file) => labels
            .push(CsLabel::primary(file, primary.span.range()).with_message(&d.primary.message)),
        None => unknown.push(format!("note: {}: {}", primary.name, d.primary.message)),
    }
    for s in &d.secondary {
        let p = place(files, s.loc());
        match p.file {
            Some(file) => {
                labels.push(CsLabel::secondary(file, p.span.range()).with_message(&s.message))
            }
            None => unknown.push(format!("note: {}: {}", p.name, s.message)),
        }
    }
    let mut notes: Vec<String> = d.help.iter().map(|h| format!("help: {h}")).collect();
    // Fixes are for editors; their titles are shown only when no help line already says it.
    for fix in &d.fixes {
        if d.help.is_empty() && !d.help.contains(&fix.title) {
            notes.push(format!("help: {}", fix.title));
        }
    }
    notes.extend(d.notes.iter().map(|n| format!("note: {n}")));
    notes.extend(unknown);
    CsDiagnostic::new(severity)
        .with_code(d.code.as_str())
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// One diagnostic, ending with a blank line. Should codespan fail (it cannot once spans are
/// clamped and unknown files dropped), the header line alone is shown.
/// A line longer than [`window::MAX_COLUMNS`] characters is shown as a window around the labels.
fn emit_one(
    d: &Diagnostic,
    files: &SourceMap,
    long: &[bool],
    config: &Config,
    color: bool,
) -> String {
    let mut cs = to_codespan(d, files);
    let shown = window::Windowed::new(files, long, &mut cs);
    let bytes = if color {
        let mut w = Ansi::new(Vec::new());
        term::emit(&mut w, config, &shown, &cs)
            .ok()
            .map(|()| w.into_inner())
    } else {
        let mut w = NoColor::new(Vec::new());
        term::emit(&mut w, config, &shown, &cs)
            .ok()
            .map(|()| w.into_inner())
    };
    match bytes {
        Some(b) => String::from_utf8_lossy(&b).into_owned(),
        None => format!(
            "{}[{}]: {}\n\n",
            severity_name(d.severity()),
            d.code.as_str(),
            d.message
        ),
    }
}

fn summary(diags: &[Diagnostic], config: &Config, color: bool) -> String {
    let (errors, warnings) = count(diags);
    let (severity, text) = if errors > 0 {
        let mut text = format!("could not check: {}", plural(errors, "error"));
        if warnings > 0 {
            text.push_str(&format!(", {}", plural(warnings, "warning")));
        }
        text.push_str(" emitted");
        (CsSeverity::Error, text)
    } else if warnings > 0 {
        (
            CsSeverity::Warning,
            format!("{} emitted", plural(warnings, "warning")),
        )
    } else {
        return String::new();
    };
    let name = if severity == CsSeverity::Error {
        "error"
    } else {
        "warning"
    };
    if !color {
        return format!("{name}: {text}\n");
    }
    let mut w = Ansi::new(Vec::new());
    let _ = write_styled(&mut w, config.styles.header(severity), name);
    let _ = write_styled(&mut w, &config.styles.header_message, &format!(": {text}"));
    let _ = writeln!(w);
    String::from_utf8_lossy(&w.into_inner()).into_owned()
}

fn write_styled(w: &mut dyn WriteColor, spec: &ColorSpec, text: &str) -> std::io::Result<()> {
    w.set_color(spec)?;
    write!(w, "{text}")?;
    w.reset()
}
