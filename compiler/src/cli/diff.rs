//! `polc diff OLD NEW [--subject USER.json]…`: which (source, column, audience) decisions changed
//! between two policy sets. Exit 0 when nothing changed, 1 when something did, 2 on usage or
//! I/O errors or when either set does not check.

use super::fail_usage;
use crate::diagnostics::render;
use crate::diff::{changes, decisions, Audience, Change, PolicySet};
use crate::source_map::SourceMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn load(path: &Path) -> Result<(SourceMap, crate::Analysis), String> {
    let set = super::one_set(&[path.to_path_buf()])
        .map_err(|_| format!("{} is not one policy set", path.display()))?;
    let files = SourceMap::load(&set).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!("no .pol files in {}", path.display()));
    }
    let analysis = crate::check(&files);
    if analysis.has_errors() {
        let out = render::render(
            render::Format::Human { color: false },
            &analysis.diagnostics,
            &files,
        );
        return Err(super::build::does_not_check(
            &path.display().to_string(),
            &out,
        ));
    }
    Ok((files, analysis))
}

fn read_subject(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read subject {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("subject {}: invalid JSON: {e}", path.display()))
}

/// Renders the changes for one audience.
pub fn render_changes(audience: &str, changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        out.push_str(&format!("{} [{audience}]\n", c.key));
        match &c.old {
            Some(o) => out.push_str(&format!("  - {o}\n")),
            None => out.push_str("  - (absent)\n"),
        }
        match &c.new {
            Some(n) => out.push_str(&format!("  + {n}\n")),
            None => out.push_str("  + (absent)\n"),
        }
    }
    out
}

/// `polc diff --prove OLD NEW`: every leak with its counter-example; exit 1 if any.
pub fn prove(old: &Path, new: &Path) -> ExitCode {
    let (old_files, old_a) = match load(old) {
        Ok(x) => x,
        Err(e) => return fail_usage(e),
    };
    let (new_files, new_a) = match load(new) {
        Ok(x) => x,
        Err(e) => return fail_usage(e),
    };
    let old_set = crate::proof::Set {
        model: &old_a.model,
        resolution: &old_a.resolution,
        files: &old_files,
    };
    let new_set = crate::proof::Set {
        model: &new_a.model,
        resolution: &new_a.resolution,
        files: &new_files,
    };
    let leaks = crate::proof::reveal::prove(old_set, new_set);
    print!("{}", render_leaks(&leaks));
    if leaks.is_empty() {
        eprintln!("proved: the new policy set reveals nothing the old one did not, to any subject");
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{} leak{}: the new policy set reveals more",
            leaks.len(),
            if leaks.len() == 1 { "" } else { "s" }
        );
        ExitCode::from(1)
    }
}

/// Renders the leaks of `diff --prove`.
pub fn render_leaks(leaks: &[crate::proof::reveal::Leak]) -> String {
    let mut out = String::new();
    for l in leaks {
        out.push_str(&format!(
            "{}: {} (was {})
",
            l.key, l.new, l.old
        ));
        out.push_str(&format!(
            "  for: {}
",
            crate::proof::guarantee::example(&l.witness)
        ));
        out.push_str(&format!(
            "  old: {}
",
            l.old_rules.join(", ")
        ));
        out.push_str(&format!(
            "  new: {}
",
            l.new_rules.join(", ")
        ));
    }
    out
}

pub fn run(old: &Path, new: &Path, subjects: &[PathBuf]) -> ExitCode {
    let (old_files, old_a) = match load(old) {
        Ok(x) => x,
        Err(e) => return fail_usage(e),
    };
    let (new_files, new_a) = match load(new) {
        Ok(x) => x,
        Err(e) => return fail_usage(e),
    };
    let old_set = PolicySet {
        files: &old_files,
        model: &old_a.model,
        resolution: &old_a.resolution,
    };
    let new_set = PolicySet {
        files: &new_files,
        model: &new_a.model,
        resolution: &new_a.resolution,
    };
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let mut audiences: Vec<(String, Option<serde_json::Value>)> = Vec::new();
    if subjects.is_empty() {
        audiences.push(("as written".to_string(), None));
    }
    for path in subjects {
        match read_subject(path) {
            Ok(v) => audiences.push((path.display().to_string(), Some(v))),
            Err(e) => return fail_usage(e),
        }
    }
    let mut total = 0;
    for (name, subject) in &audiences {
        let audience = match subject {
            Some(v) => Audience::Subject(v),
            None => Audience::Everyone,
        };
        let tables = decisions(&old_set, &audience, now)
            .and_then(|o| decisions(&new_set, &audience, now).map(|n| (o, n)));
        let (o, n) = match tables {
            Ok(t) => t,
            Err(e) => return fail_usage(e),
        };
        let changed = changes(&o, &n);
        total += changed.len();
        print!("{}", render_changes(name, &changed));
    }
    if total == 0 {
        eprintln!("no decision changed");
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{total} decision{} changed",
            if total == 1 { "" } else { "s" }
        );
        ExitCode::from(1)
    }
}
