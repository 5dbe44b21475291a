//! `polc eval --link-rows SOURCE=FILE` (repeatable): the rows of parent sources, for linked
//! visibility (`only show rows linked to shown SOURCE`). Each file holds JSON lines, as
//! `--rows`; they are given to the session in the order written (`Session::link_rows`), so a
//! grandparent's rows come before its children's. A line that is not a JSON object is
//! reported with its file and line number and skipped (its key is then unknown: the child rows
//! naming it are hidden), and the command exits 1 after the rows.

use super::fail_usage;
use pol_runtime::Session;
use serde_json::{Map, Value as Json};
use std::path::PathBuf;
use std::process::ExitCode;

/// One `--link-rows SOURCE=FILE`.
#[derive(Clone, Debug)]
pub struct LinkRows {
    /// The parent source.
    pub source: String,
    /// Its rows, one JSON object per line.
    pub file: PathBuf,
}

impl LinkRows {
    /// Parses `SOURCE=FILE`.
    pub fn parse(s: &str) -> Result<LinkRows, String> {
        match s.split_once('=') {
            Some((source, file)) if !source.is_empty() && !file.is_empty() => Ok(LinkRows {
                source: source.to_owned(),
                file: PathBuf::from(file),
            }),
            _ => Err(format!("`{s}` is not SOURCE=FILE")),
        }
    }
}

/// Gives every `--link-rows` file to the session, in order; returns how many lines were
/// skipped. Unreadable files and unknown sources are usage errors (exit 2).
pub fn give(session: &mut Session<'_>, links: &[LinkRows]) -> Result<usize, ExitCode> {
    let mut bad = 0;
    for l in links {
        let text = std::fs::read(&l.file).map_err(|e| {
            fail_usage(format!(
                "cannot read the rows of `{}` {}: {e}",
                l.source,
                l.file.display()
            ))
        })?;
        let mut rows: Vec<Map<String, Json>> = Vec::new();
        for (i, line) in text.split(|b| *b == b'\n').enumerate() {
            let parsed = std::str::from_utf8(line)
                .map_err(|_| "not valid UTF-8".to_owned())
                .and_then(|t| {
                    let t = t.trim();
                    if t.is_empty() {
                        Ok(None)
                    } else {
                        pol_runtime::json::parse_row(t)
                            .map(Some)
                            .map_err(|e| e.to_string())
                    }
                });
            match parsed {
                Ok(Some(row)) => rows.push(row),
                Ok(None) => {}
                Err(msg) => {
                    eprintln!(
                        "error: {} line {}: {msg}; the row is skipped",
                        l.file.display(),
                        i + 1
                    );
                    bad += 1;
                }
            }
        }
        session
            .link_rows(&l.source, &rows)
            .map_err(|e| fail_usage(format!("--link-rows {}: {e}", l.source)))?;
    }
    Ok(bad)
}
