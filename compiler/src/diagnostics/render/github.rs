//! GitHub Actions workflow commands, one line per diagnostic:
//!
//! ```text
//! ::error file=a.pol,line=3,col=12,endLine=3,endColumn=15,title=E0003 undeclared tag::undeclared tag `pii`%0Ahelp: declare it
//! ```
//!
//! Positions are those of the JSON output (one-based, columns in characters, `endColumn`
//! exclusive). The message is followed by one line per help (`help: …`), note (`note: …`) and
//! secondary label (`note: FILE:LINE:COLUMN: message`). In the message `%`, `\r` and `\n` are
//! escaped as `%25`, `%0D`, `%0A`; in property values `:` and `,` also (`%3A`, `%2C`). A
//! diagnostic in a file the source map does not hold gets no `file`/`line` properties.

use super::place;
use crate::diagnostics::{Diagnostic, Severity};
use crate::source_map::SourceMap;

/// Escapes the message of a workflow command.
pub(crate) fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value of a workflow command.
pub(crate) fn escape_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(diags: &[Diagnostic], files: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        let command = match d.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let p = place(files, d.primary.loc());
        let mut props = Vec::new();
        if p.file.is_some() {
            props.push(format!("file={}", escape_property(&p.name)));
            props.push(format!("line={}", p.start.line));
            props.push(format!("col={}", p.start.column));
            props.push(format!("endLine={}", p.end.line));
            props.push(format!("endColumn={}", p.end.column));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("{} {}", d.code.as_str(), d.code.title()))
        ));
        let mut message = d.message.clone();
        for h in &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        for n in &d.notes {
            message.push_str("\nnote: ");
            message.push_str(n);
        }
        for s in &d.secondary {
            let sp = place(files, s.loc());
            message.push_str(&format!(
                "\nnote: {}:{}:{}: {}",
                sp.name, sp.start.line, sp.start.column, s.message
            ));
        }
        out.push_str(&format!(
            "::{command} {}::{}\n",
            props.join(","),
            escape_data(&message)
        ));
    }
    out
}
