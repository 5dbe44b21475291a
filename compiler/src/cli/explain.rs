//! `polc explain PATHS… --subject USER.json --source S [--staged] [--now TS]`: per column of a
//! source, for one subject: visible or not, the rule that wins, the rules it beat and why.
//!
//! Explanations are row-independent: a rule's `where` is reported as "depends on the row" (the
//! winner is the first rule in resolution order; where its `where` is false on a row, the next
//! one decides), and a condition that reads the row is evaluated as unknown, so the treatment
//! shown is the one that reveals least. With `--staged`, staged policies are enforced too.

use super::build::load_for_running;
use super::eval::{parse_now, read_subject};
use super::fail_usage;
use crate::conflicts::{self, rule_name, why_beats, Candidate, RuleRef};
use crate::model::Model;
use crate::source_map::{Loc, SourceMap};
use crate::testing::TEST_KEY;
use pol_runtime::engine::CellAction;
use pol_runtime::{Engine, KeyRing, MaskingKey};
use serde_json::Map;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `polc explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Policy files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The subject (user context) as a JSON file.
    #[arg(long)]
    pub subject: PathBuf,
    /// The source to explain.
    #[arg(long)]
    pub source: String,
    /// Enforce staged policies too, to show their effect.
    #[arg(long)]
    pub staged: bool,
    /// The evaluation clock, RFC 3339 (default: now).
    #[arg(long)]
    pub now: Option<String>,
}

/// Runs `polc explain`.
pub fn run(args: &ExplainArgs) -> ExitCode {
    match explain(args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
)]
fn explain(args: &ExplainArgs) -> Result<String, ExitCode> {
    let subject = read_subject(&args.subject)?;
    let now = parse_now(args.now.as_deref())?;
    let checked = load_for_running(&args.paths)?;
    let model = &checked.analysis.model;
    let resolution = if args.staged {
        conflicts::resolve(model, true)
    } else {
        checked.analysis.resolution.clone()
    };
    let Some(s) = model.source(&args.source) else {
        let names: Vec<&str> = model.sources.iter().map(|s| s.name.as_str()).collect();
        return Err(fail_usage(format!(
            "no source `{}` in the policies (sources: {})",
            args.source,
            names.join(", ")
        )));
    };
    let bundle = crate::lower::lower(model, &resolution);
    // Explanations show no cell values, so keyed techniques run under the public test key.
    let keys = MaskingKey::from_bytes(TEST_KEY)
        .map(KeyRing::new)
        .map_err(|e| fail_usage(format!("the test key: {e}")))?;
    let engine = Engine::from_bundle(bundle, Some(keys))
        .map_err(|e| fail_usage(format!("cannot load the policies: {e}")))?;
    let session = engine
        .session(&subject, now)
        .map_err(|e| fail_usage(format!("the subject: {e}")))?;
    let Some(src) = session.source(&args.source) else {
        return Err(fail_usage(format!("no source `{}`", args.source)));
    };
    let ex = src.explain(&Map::new());
    let files = &checked.files;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "source {}{}{}",
        args.source,
        if ex.exempt {
            ": the subject is exempt, every row shown and every cell clear"
        } else {
            ""
        },
        if args.staged {
            " (staged policies enforced)"
        } else {
            ""
        }
    );
    for r in &ex.row_rules {
        let _ = writeln!(
            out,
            "  row rule {}: {}",
            r.rule,
            if r.applies {
                "applies to this subject"
            } else {
                "does not apply to this subject"
            }
        );
    }
    for cell in &ex.cells {
        let Some(c) = model.sources[s].column(&cell.column) else {
            continue;
        };
        let treatment = match &cell.action {
            CellAction::Clear => "clear".to_string(),
            CellAction::Masked { technique } => format!("masked with {technique}"),
            CellAction::Null => "null".to_string(),
        };
        let by = match &cell.decided_by {
            Some(r) => format!(" by {r}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} [{}]: {treatment}{by}: {}",
            cell.column,
            if cell.visible {
                "visible"
            } else {
                "not visible"
            },
            cell.reason
        );
        let candidates = resolution.candidates(s, c);
        let winner = cell.decided_by.as_ref().and_then(|d| {
            candidates
                .iter()
                .position(|k| candidate_name(model, k) == d.name)
        });
        if let Some(w) = winner {
            let win = &candidates[w];
            if let Some(text) = where_text(model, files, win) {
                let _ = writeln!(
                    out,
                    "    its `where` depends on the row: {text}; where it is false the next rule decides"
                );
            }
            for loser in &candidates[w + 1..] {
                let _ = writeln!(
                    out,
                    "    beats `{}`: {}",
                    candidate_name(model, loser),
                    why_beats(model, win, loser)
                );
            }
        } else if !candidates.is_empty() && !ex.exempt {
            let names: Vec<String> = candidates
                .iter()
                .map(|k| format!("`{}`", candidate_name(model, k)))
                .collect();
            let _ = writeln!(out, "    targeted by {} (none applies)", names.join(", "));
        }
    }
    Ok(out)
}

fn candidate_name(model: &Model, c: &Candidate) -> String {
    c.rules
        .iter()
        .map(|r| rule_name(model, *r))
        .collect::<Vec<_>>()
        .join(" + ")
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn where_text(model: &Model, files: &SourceMap, c: &Candidate) -> Option<String> {
    let [RuleRef::Mask(id)] = c.rules.as_slice() else {
        return None;
    };
    let rule = &model.mask_rules[*id];
    let w = rule.where_.as_ref()?;
    let text = files.snippet(Loc::new(rule.loc.file, w.span));
    Some(format!(
        "`{}`",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    ))
}
