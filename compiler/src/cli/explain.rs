//! `polc explain PATHS… --subject USER.json --source S [--staged] [--now TS]`: per column of a
//! source, for one subject: visible or not, the rule that wins, the rules it beat and why.
//!
//! Explanations are row-independent: a rule's `where` is reported as "depends on the row" (the
//! winner is the first rule in resolution order; where its `where` is false on a row, the next
//! one decides), and a condition that reads the row is evaluated as unknown, so the treatment
//! shown is the one that reveals least. With `--staged`, staged policies are enforced too.
//!
//! Under each column and row rule, the conditions that decided (the runtime's
//! [`ConditionExplanation`]s): each with its value and minimal deciding parts, and the subject's
//! values they read; a part that reads the row says it depends on the row. `--format json`
//! writes the same as one JSON object (its schema: `docs/language.md`, "Explanations").

use super::build::load_for_running;
use super::eval::{parse_now, read_subject};
use super::fail_usage;
use crate::conflicts::{self, rule_name, why_beats, Candidate, RuleRef};
use crate::model::Model;
use crate::source_map::{Loc, SourceMap};
use crate::testing::TEST_KEY;
use pol_runtime::engine::{CellAction, ConditionExplanation, Reason};
use pol_runtime::{Engine, KeyRing, MaskingKey};
use serde::Serialize;
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
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Output format of `polc explain`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// Lines for people.
    Human,
    /// One JSON object (schema in `docs/language.md`, "Explanations").
    Json,
}

/// What `polc explain` reports, in both formats.
#[derive(Debug, Serialize)]
struct Report {
    source: String,
    staged: bool,
    exempt: bool,
    exempt_why: Option<ConditionExplanation>,
    row_rules: Vec<RowRuleReport>,
    columns: Vec<ColumnReport>,
    /// The source's k-anonymity (a batch release constraint, stated apart; none for an
    /// exempt subject).
    #[serde(skip_serializing_if = "Option::is_none")]
    k_anonymity: Option<String>,
}

#[derive(Debug, Serialize)]
struct RowRuleReport {
    rule: pol_runtime::engine::RuleRef,
    applies: bool,
    why: Vec<ConditionExplanation>,
}

#[derive(Debug, Serialize)]
struct ColumnReport {
    column: String,
    visible: bool,
    action: CellAction,
    decided_by: Option<pol_runtime::engine::RuleRef>,
    reason: Reason,
    /// The winner's `where`, as written, when it depends on the row.
    where_depends_on_row: Option<String>,
    beats: Vec<Beat>,
    /// When no rule applies: the rules that target the column.
    targeted_by: Vec<String>,
    why: Vec<ConditionExplanation>,
}

#[derive(Debug, Serialize)]
struct Beat {
    rule: String,
    why: String,
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
    let bundle = crate::lower::lower_with_spans(model, &resolution, &checked.files);
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
    let mut ex = src.explain_without_row();
    crate::lower::written_texts(&mut ex, engine.bundle(), &checked.files);
    let files = &checked.files;
    let mut report = Report {
        source: args.source.clone(),
        staged: args.staged,
        exempt: ex.exempt,
        exempt_why: ex.exempt_why.clone(),
        row_rules: ex
            .row_rules
            .iter()
            .map(|r| RowRuleReport {
                rule: r.rule.clone(),
                applies: r.applies,
                why: r.why.clone(),
            })
            .collect(),
        columns: Vec::new(),
        k_anonymity: None,
    };
    if !ex.exempt {
        report.k_anonymity = crate::proof::k_anonymity(model, s).map(|k| k.text);
    }
    for cell in &ex.cells {
        let Some(c) = model.sources[s].column(&cell.column) else {
            continue;
        };
        let mut col = ColumnReport {
            column: cell.column.clone(),
            visible: cell.visible,
            action: cell.action.clone(),
            decided_by: cell.decided_by.clone(),
            reason: cell.reason.clone(),
            where_depends_on_row: None,
            beats: Vec::new(),
            targeted_by: Vec::new(),
            why: cell.why.clone(),
        };
        let candidates = resolution.candidates(s, c);
        let winner = cell.decided_by.as_ref().and_then(|d| {
            candidates
                .iter()
                .position(|k| candidate_name(model, k) == d.name)
        });
        if let Some(w) = winner {
            let win = &candidates[w];
            col.where_depends_on_row = where_text(model, files, win);
            col.beats = candidates[w + 1..]
                .iter()
                .map(|loser| Beat {
                    rule: candidate_name(model, loser),
                    why: why_beats(model, win, loser),
                })
                .collect();
        } else if !ex.exempt {
            col.targeted_by = candidates
                .iter()
                .map(|k| candidate_name(model, k))
                .collect();
        }
        report.columns.push(col);
    }
    Ok(match args.format {
        Format::Human => human(&report),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&report)
                .map_err(|e| fail_usage(format!("cannot write the report: {e}")))?;
            text.push('\n');
            text
        }
    })
}

/// The report as lines for people.
fn human(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "source {}{}{}",
        report.source,
        if report.exempt {
            ": the subject is exempt, every row shown and every cell clear"
        } else {
            ""
        },
        if report.staged {
            " (staged policies enforced)"
        } else {
            ""
        }
    );
    if let Some(e) = &report.exempt_why {
        let _ = writeln!(out, "  {e}");
    }
    if let Some(k) = &report.k_anonymity {
        let _ = writeln!(out, "  {k}");
    }
    for r in &report.row_rules {
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
        for c in &r.why {
            let _ = writeln!(out, "    {c}");
        }
    }
    for col in &report.columns {
        let treatment = match &col.action {
            CellAction::Clear => "clear".to_string(),
            CellAction::Masked { technique } => format!("masked with {technique}"),
            CellAction::Null => "null".to_string(),
        };
        let by = match &col.decided_by {
            Some(r) => format!(" by {r}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} [{}]: {treatment}{by}: {}",
            col.column,
            if col.visible {
                "visible"
            } else {
                "not visible"
            },
            col.reason
        );
        for c in &col.why {
            let _ = writeln!(out, "    {c}");
        }
        if let Some(text) = &col.where_depends_on_row {
            let _ = writeln!(
                out,
                "    its `where` depends on the row: {text}; where it is false the next rule decides"
            );
        }
        for b in &col.beats {
            let _ = writeln!(out, "    beats `{}`: {}", b.rule, b.why);
        }
        if !col.targeted_by.is_empty() {
            let names: Vec<String> = col.targeted_by.iter().map(|n| format!("`{n}`")).collect();
            let _ = writeln!(out, "    targeted by {} (none applies)", names.join(", "));
        }
    }
    out
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
