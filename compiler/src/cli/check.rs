//! `polc check`.

use super::{fail_usage, OutputFormat};
use crate::diagnostics::{self, render, Diagnostic};
use crate::source_map::{FileId, SourceMap};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Loads one policy set, or says why not.
fn load(paths: &[PathBuf]) -> Result<SourceMap, String> {
    let files = SourceMap::load(paths).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!(
            "no .pol files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(files)
}

/// Moves a diagnostic's places into a combined source map whose files start at `base`.
fn shift(d: &mut Diagnostic, base: u32) {
    let f = |file: &mut FileId| file.0 += base;
    f(&mut d.primary.file);
    d.secondary.iter_mut().for_each(|l| f(&mut l.file));
    for fix in &mut d.fixes {
        fix.edits.iter_mut().for_each(|(loc, _)| f(&mut loc.file));
    }
}

pub fn run(paths: &[PathBuf], format: OutputFormat, deny_warnings: bool, each: bool) -> ExitCode {
    // One policy set per `pol.toml` root (and one for the files under none), or (`--each`) the
    // same per path: each checked alone, all reported together.
    let sets: Vec<Vec<PathBuf>> = match super::policy_sets(paths, each) {
        Ok(sets) if !sets.is_empty() => sets.into_iter().map(|s| s.files).collect(),
        Ok(_) => vec![paths.to_vec()],
        Err(code) => return code,
    };
    let mut files = SourceMap::new();
    let mut all: Vec<Diagnostic> = Vec::new();
    for set in &sets {
        let set_files = match load(set) {
            Ok(f) => f,
            Err(e) => return fail_usage(e),
        };
        let base = files.len() as u32;
        let analysis = crate::check(&set_files);
        let mut diags = analysis.diagnostics;
        // `polc check` exits after reporting: the syntax trees and the model are left to the
        // process's end instead of being torn down node by node (8% of a 1M-line check).
        std::mem::forget((analysis.asts, analysis.model, analysis.resolution));
        diags.iter_mut().for_each(|d| shift(d, base));
        all.append(&mut diags);
        files.append(set_files);
    }
    let diags = &all;
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
    if errors == 0 && deny_warnings && warnings > 0 {
        eprintln!(
            "error: {warnings} warning{} denied by --deny-warnings",
            if warnings == 1 { " was" } else { "s were" }
        );
    }
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
