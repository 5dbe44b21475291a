//! `polc who-can-see PATHS… SOURCE.COLUMN [--format human|json]`: for every possible subject,
//! the condition under which the column is shown clear and under which each technique applies;
//! `polc who-can-see PATHS… SOURCE`: who sees which rows. Row-dependent conditions and grants
//! are stated apart. Exit 0; 2 on usage or I/O errors or a policy set that does not check.

use super::build::load_for_running;
use super::fail_usage;
use crate::proof::{who_can_see_column, who_can_see_rows, ColumnReport, RowsReport, Set};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output format of `who-can-see`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Arguments of `polc who-can-see`.
#[derive(clap::Args, Debug)]
pub struct WhoCanSeeArgs {
    /// Policy files or directories, then `SOURCE.COLUMN` (a column) or `SOURCE` (its rows).
    #[arg(required = true, num_args = 2..)]
    pub args: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Runs `polc who-can-see`.
pub fn run(args: &WhoCanSeeArgs) -> ExitCode {
    let Some((target, paths)) = args.args.split_last() else {
        return fail_usage("give the policy paths, then SOURCE.COLUMN or SOURCE");
    };
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let checked = match load_for_running(&paths) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let set = Set {
        model: &checked.analysis.model,
        resolution: &checked.analysis.resolution,
        files: &checked.files,
    };
    let out = match target.split_once('.') {
        Some((source, column)) => {
            who_can_see_column(set, source, column).map(|r| match args.format {
                Format::Human => human_column(&r),
                Format::Json => json(&r),
            })
        }
        None => who_can_see_rows(set, target).map(|r| match args.format {
            Format::Human => human_rows(&r),
            Format::Json => json(&r),
        }),
    };
    match out {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail_usage(e),
    }
}

fn json<T: serde::Serialize>(r: &T) -> String {
    match serde_json::to_string_pretty(r) {
        Ok(s) => format!("{s}\n"),
        Err(e) => format!("{{\"error\": {:?}}}\n", e.to_string()),
    }
}

fn lines(out: &mut String, f: &crate::proof::formula::Formula) {
    for l in f.text() {
        out.push_str(&format!("    {l}\n"));
    }
}

/// The human report of a column.
pub fn human_column(r: &ColumnReport) -> String {
    let mut out = format!("{}.{} is clear for:\n", r.source, r.column);
    lines(&mut out, &r.clear);
    for e in &r.masked {
        out.push_str(&format!("{} for:\n", e.effect));
        lines(&mut out, &e.when);
    }
    if !r.grants.is_empty() {
        out.push_str("apart from these, grants:\n");
        for g in &r.grants {
            out.push_str(&format!("    {g}\n"));
        }
    }
    if !r.approval_grants.is_empty() {
        out.push_str("apart from these, grants that need approval:\n");
        for g in &r.approval_grants {
            out.push_str(&format!("    {g}\n"));
        }
    }
    apart(
        &mut out,
        "apart from these, detokenize grants:",
        &r.detokenize,
    );
    apart(&mut out, "apart from these, masking levels:", &r.levels);
    apart(
        &mut out,
        "apart from these, k-anonymity:",
        r.k_anonymity.as_slice(),
    );
    apart(&mut out, "depends on (not decided):", &r.depends_on);
    out
}

fn apart(out: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    out.push_str(title);
    out.push('\n');
    for i in items {
        out.push_str(&format!("    {i}\n"));
    }
}

/// The human report of a source's rows.
pub fn human_rows(r: &RowsReport) -> String {
    let mut out = format!("rows of {} are shown to:\n", r.source);
    lines(&mut out, &r.shown);
    if !r.exempt.no_one {
        out.push_str("every row (exempt) to:\n");
        lines(&mut out, &r.exempt);
    }
    for e in &r.rules {
        out.push_str(&format!("{} lets a row through for:\n", e.effect));
        lines(&mut out, &e.when);
    }
    apart(
        &mut out,
        "apart from these, k-anonymity:",
        r.k_anonymity.as_slice(),
    );
    apart(&mut out, "depends on (not decided):", &r.depends_on);
    out
}
