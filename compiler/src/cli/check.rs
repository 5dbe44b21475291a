//! `polc check`.

use super::{fail_usage, OutputFormat};
use crate::diagnostics::{self, render, Severity};
use crate::source_map::SourceMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(paths: &[PathBuf], format: OutputFormat, deny_warnings: bool) -> ExitCode {
    let files = match SourceMap::load(paths) {
        Ok(f) => f,
        Err(e) => return fail_usage(e),
    };
    if files.is_empty() {
        return fail_usage(format!(
            "no .pol files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let analysis = crate::check(&files);
    let diags = &analysis.diagnostics;
    match format {
        OutputFormat::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let out = render::render(render::Format::Human { color }, diags, &files);
            eprint!("{out}");
            if diags.is_empty() {
                eprintln!(
                    "checked {} file{}: no problems",
                    files.len(),
                    if files.len() == 1 { "" } else { "s" }
                );
            }
        }
        OutputFormat::Json => print!("{}", render::render(render::Format::Json, diags, &files)),
        OutputFormat::Sarif => print!("{}", render::render(render::Format::Sarif, diags, &files)),
        OutputFormat::Github => print!("{}", render::render(render::Format::Github, diags, &files)),
    }
    let (errors, warnings) = diagnostics::count(diags);
    let _ = Severity::Error;
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
