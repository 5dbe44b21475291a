//! `polc eval PATHS…|--bundle FILE --subject USER.json --source S [--rows ROWS.jsonl] [--now TS]
//! [--key-file F] [--explain] [--grants STORE [--audit FILE]]`.
//!
//! Reads rows as JSON lines (stdin by default) and writes the shown rows, masked, as JSON lines
//! holding every declared column (derived ones included) in declaration order; hidden rows are
//! omitted. With `--explain`, every input row gives one JSON line
//! `{"line": N, "shown": …, "row": {…} | null, "explanation": {…}}`; a hidden row is marked
//! `"shown": false` with `"row": null`, and its cells' values are withheld from the explanation.
//!
//! A line that is not a JSON object (or not UTF-8 text) is reported on stderr with its line
//! number (never its content), no output is written for it, and the command exits 1 after the
//! other lines.
//! With `--grants` (a grant store written by `polc grants request`), a record with a temporary
//! unmask grant that holds at `--now` is clear for every user, exactly as for an exempt user
//! (row rules still apply; expired and revoked grants are ignored). With `--audit`, each record
//! shown clear under a grant (cells the user would otherwise see masked) is written to the audit
//! file once; without it, such reads are not recorded anywhere.
//!
//! Input that does not match the policy's declarations still fails closed, and is reported
//! after the rows, once per field or column (`Session::warnings`): a subject field missing or of
//! the wrong type, the number of cells of each column not of its type (`warning: …` on stderr;
//! the exit status is unchanged).
//!
//! A policy set that does not check is refused as `polc diff` refuses it: `error: PATHS does
//! not check; fix it first:` and the diagnostics, exit 2.
//!
//! Exit 2: usage or I/O errors (unreadable files, a bad subject, a corrupted bundle, a missing
//! or short key, an unknown source).

use super::build::{load_for_running, read_key};
use super::fail_usage;
use super::request_context::RequestContext;
use super::target::{open_both, open_store, Target};
use chrono::{DateTime, Utc};
use pol_runtime::audit::{AuditSink, MemorySink};
use pol_runtime::engine::SourceSession;
use pol_runtime::grants::{GrantService, ManualClock, SessionError};
use pol_runtime::{k_anonymize_json, ColumnType, Engine, KAnonymity, KAnonymityReport, KeyRing};
use serde_json::{Map, Value as Json};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `polc eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The policies, the subject, the source the rows belong to, and the clock.
    #[command(flatten)]
    pub request: RequestContext,
    /// The rows, one JSON object per line (default: stdin).
    #[arg(long)]
    pub rows: Option<PathBuf>,
    /// The rows of a parent source, `SOURCE=FILE` (JSON lines), for the rows that follow it
    /// (`only show rows linked to shown SOURCE`); repeatable, a grandparent's before its
    /// children's. Without them, rows that follow SOURCE are hidden.
    #[arg(long, value_name = "SOURCE=FILE", value_parser = super::link_rows::LinkRows::parse)]
    pub link_rows: Vec<super::link_rows::LinkRows>,
    /// The masking key file (needed by hash, tokenize, format_preserving, noise, randomize).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Explain which rule decided each cell and row.
    #[arg(long)]
    pub explain: bool,
    /// A grant store (`polc grants request`): records with a grant that holds at `--now` are
    /// clear for every user (row rules still apply).
    /// A file or a `postgres://` URL.
    #[arg(long, value_parser = Target::parse)]
    pub grants: Option<Target>,
    /// An audit trail (a file or a `postgres://` URL): records shown clear under a grant are
    /// written to it.
    #[arg(long, requires = "grants", value_parser = Target::parse)]
    pub audit: Option<Target>,
    /// The schema of the `grants` and `audit` tables in PostgreSQL (as `polc sql --schema`).
    #[arg(long, default_value = "pol", requires = "grants")]
    pub schema: String,
    /// Makes the shown rows k-anonymous over `--quasi-identifiers`: the whole input is read
    /// first, then every combination of their values left occurs in at least K rows (values
    /// generalised or nulled; `pol_runtime::k_anonymize`).
    #[arg(
        long,
        value_name = "K",
        requires = "quasi_identifiers",
        conflicts_with = "explain"
    )]
    pub k_anonymize: Option<usize>,
    /// The quasi-identifier columns for `--k-anonymize`, comma-separated.
    #[arg(long, value_delimiter = ',', requires = "k_anonymize")]
    pub quasi_identifiers: Vec<String>,
}

/// Builds the engine from policy files (checked and lowered) or a bundle file.
pub(crate) fn open_engine(
    paths: &[PathBuf],
    bundle: Option<&Path>,
    key_file: Option<&Path>,
) -> Result<Engine, ExitCode> {
    let keys: Option<KeyRing> = key_file.map(read_key).transpose()?;
    let bytes = match bundle {
        Some(b) => std::fs::read(b)
            .map_err(|e| fail_usage(format!("cannot read the bundle {}: {e}", b.display())))?,
        None => {
            let checked = load_for_running(paths)?;
            checked
                .bundle()
                .to_bytes()
                .map_err(|e| fail_usage(format!("cannot encode the bundle: {e}")))?
        }
    };
    Engine::load(&bytes, keys).map_err(|e| match bundle {
        Some(b) => fail_usage(format!("cannot load the bundle {}: {e}", b.display())),
        None => fail_usage(format!("cannot load the policies: {e}")),
    })
}

/// Reads and parses the subject file; a usage error (exit 2) when it is unreadable, not JSON
/// or not an object.
pub(crate) fn read_subject(path: &Path) -> Result<Json, ExitCode> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail_usage(format!("cannot read the subject {}: {e}", path.display())))?;
    let json: Json = serde_json::from_str(&text).map_err(|e| {
        fail_usage(format!(
            "the subject {} is not valid JSON: {e}",
            path.display()
        ))
    })?;
    if !json.is_object() {
        return Err(fail_usage(format!(
            "the subject {} must be a JSON object",
            path.display()
        )));
    }
    Ok(json)
}

/// Parses `--now` (default: the current time).
pub(crate) fn parse_now(now: Option<&str>) -> Result<DateTime<Utc>, ExitCode> {
    match now {
        None => Ok(DateTime::<Utc>::from(std::time::SystemTime::now())),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                fail_usage(format!(
                    "--now `{s}` is not an RFC 3339 timestamp ({e}); e.g. 2024-05-01T10:00:00Z"
                ))
            }),
    }
}

/// A row line's text without its line ending, or why it is not text (a line that is not
/// UTF-8 is skipped like a line that is not JSON).
fn row_text(bytes: &[u8]) -> Result<&str, String> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    std::str::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 (at byte {})", e.valid_up_to() + 1))
}

/// Runs `polc eval`.
pub fn run(args: &EvalArgs) -> ExitCode {
    match eval(args) {
        Ok(code) | Err(code) => code,
    }
}

fn eval(args: &EvalArgs) -> Result<ExitCode, ExitCode> {
    let request = &args.request;
    let subject = request.read_subject()?;
    let now = request.now()?;
    let engine = open_engine(
        &request.paths,
        request.bundle.as_deref(),
        args.key_file.as_deref(),
    )?;
    let mut session = match &args.grants {
        None => engine
            .session(&subject, now)
            .map_err(|e| fail_usage(format!("the subject: {e}")))?,
        Some(target) => {
            let (store, audit): (_, Arc<dyn AuditSink>) = match &args.audit {
                Some(a) => open_both(target, a, &args.schema, true)?,
                None => (
                    open_store(target, &args.schema, true)?,
                    Arc::new(MemorySink::new()),
                ),
            };
            GrantService::new(store, audit, Arc::new(ManualClock::new(now)))
                .session(&engine, &subject)
                .map_err(|e| match e {
                    SessionError::Subject(e) => fail_usage(format!("the subject: {e}")),
                    SessionError::Store(e) => {
                        fail_usage(format!("the grant store {}: {e}", target.describe()))
                    }
                })?
        }
    };
    let bad_links = super::link_rows::give(&mut session, &args.link_rows)?;
    let Some(source) = session.source(&request.source) else {
        let names: Vec<&str> = engine.source_names().collect();
        return Err(fail_usage(format!(
            "no source `{}` in the policies (sources: {})",
            request.source,
            names.join(", ")
        )));
    };
    let input: Box<dyn BufRead> = match &args.rows {
        Some(p) => Box::new(std::io::BufReader::new(std::fs::File::open(p).map_err(
            |e| fail_usage(format!("cannot read the rows {}: {e}", p.display())),
        )?)),
        None => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    let batch = match args.k_anonymize {
        Some(k) => Some(KBatch::new(&source, k, &args.quasi_identifiers)?),
        None => None,
    };
    // A source that declares k-anonymity is masked as one batch (the whole input); with
    // `--explain` each row is explained alone, its quasi-identifiers null.
    let policy_k = source.k_anonymity().filter(|_| !args.explain);
    let whole_input = batch.is_some() || policy_k.is_some();
    let mut batch_rows: Vec<Map<String, Json>> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad_lines = bad_links;
    let mut input = input;
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        n += 1;
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let _ = out.flush();
                return Err(fail_usage(format!("cannot read line {n}: {e}")));
            }
        }
        let line = match row_text(&buf) {
            Ok(l) => l,
            Err(msg) => {
                let _ = out.flush();
                eprintln!("error: line {n}: {msg}; the row is skipped");
                bad_lines += 1;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let row = match pol_runtime::json::parse_row(line) {
            Ok(r) => r,
            Err(msg) => {
                let _ = out.flush();
                eprintln!("error: line {n}: {msg}; the row is skipped");
                bad_lines += 1;
                continue;
            }
        };
        if whole_input {
            batch_rows.push(row);
            continue;
        }
        let text = if args.explain {
            let mut obj = Map::new();
            obj.insert("line".into(), Json::from(n));
            obj.extend(source.explain_row(&row));
            Some(Json::Object(obj).to_string())
        } else {
            source.mask_row(&row).map(|m| Json::Object(m).to_string())
        };
        if let Some(text) = text {
            if writeln!(out, "{text}").is_err() {
                return Err(fail_usage("cannot write to stdout"));
            }
        }
    }
    if whole_input {
        let masked = source.mask_rows(&batch_rows);
        let mut rows = masked.rows;
        if let (Some((k, names)), Some(report)) = (&policy_k, &masked.k_anonymity) {
            eprintln!("{}", policy_report(*k, names, rows.len(), report));
        }
        let report = match &batch {
            Some(batch) => Some(batch.apply(&mut rows)?),
            None => None,
        };
        for row in rows {
            if writeln!(out, "{}", Json::Object(row)).is_err() {
                return Err(fail_usage("cannot write to stdout"));
            }
        }
        if let Some(report) = report {
            eprintln!("{report}");
        }
    }
    if out.flush().is_err() {
        return Err(fail_usage("cannot write to stdout"));
    }
    for w in session.warnings() {
        eprintln!("warning: {w}");
    }
    if bad_lines > 0 {
        eprintln!(
            "error: {bad_lines} input line{} could not be read as rows",
            if bad_lines == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--k-anonymize K --quasi-identifiers a,b`: the shown rows, masked, made k-anonymous as one
/// batch.
struct KBatch {
    params: KAnonymity,
    /// Per quasi-identifier: its column name and declared type.
    columns: Vec<(String, ColumnType)>,
}

impl KBatch {
    fn new(source: &SourceSession<'_>, k: usize, names: &[String]) -> Result<KBatch, ExitCode> {
        if k == 0 {
            return Err(fail_usage("--k-anonymize must be at least 1"));
        }
        let mut columns = Vec::new();
        for name in names {
            let Some(ty) = source.column_type(name) else {
                return Err(fail_usage(format!(
                    "--quasi-identifiers: no column `{name}` in source `{}` (columns: {})",
                    source.name(),
                    source.columns().join(", ")
                )));
            };
            if columns
                .iter()
                .any(|(n, _): &(String, ColumnType)| n == name)
            {
                return Err(fail_usage(format!(
                    "--quasi-identifiers: `{name}` is listed twice"
                )));
            }
            columns.push((name.clone(), ty.clone()));
        }
        Ok(KBatch {
            params: KAnonymity::new(k),
            columns,
        })
    }

    /// Generalises or nulls the quasi-identifiers of `rows` in place; returns a one-line report.
    fn apply(&self, rows: &mut [Map<String, Json>]) -> Result<String, ExitCode> {
        let report = k_anonymize_json(rows, &self.params, &self.columns)
            .map_err(|e| fail_usage(format!("--k-anonymize: {e}")))?;
        let levels: Vec<String> = self
            .columns
            .iter()
            .zip(&report.levels)
            .map(|((name, _), l)| format!("{name} at level {l}"))
            .collect();
        Ok(format!(
            "k-anonymity (k = {}) over {} row{}: {}; {} row{} suppressed",
            self.params.k,
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            levels.join(", "),
            report.suppressed.len(),
            if report.suppressed.len() == 1 {
                ""
            } else {
                "s"
            }
        ))
    }
}

/// The stderr line of the policy's k-anonymity over the input (as `--k-anonymize` reports).
fn policy_report(k: usize, names: &[&str], rows: usize, report: &KAnonymityReport) -> String {
    let levels: Vec<String> = names
        .iter()
        .zip(&report.levels)
        .map(|(name, l)| format!("{name} at level {l}"))
        .collect();
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "k-anonymity of the policy (k = {k}) over {rows} row{}: {}; {} row{} suppressed",
        s(rows),
        levels.join(", "),
        report.suppressed.len(),
        s(report.suppressed.len())
    )
}
