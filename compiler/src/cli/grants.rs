//! `polc grants`: temporary unmask grants (§7) from the command line, over a durable grant store
//! file and a durable audit file (both JSON lines, see `pol_runtime::grants` and
//! `pol_runtime::audit`).
//!
//! - `polc grants request PATHS…|--bundle FILE --subject USER.json --source S --key VALUE
//!   [--reason TEXT] --store FILE --audit FILE [--now TS]`: the subject asks to unmask one
//!   record. The policy's `allow temporary unmask` rules decide; the grant (if any) is written to
//!   the store, and the request, granted or refused, to the audit file. Exit 0 granted (the
//!   grant on stdout), 1 refused (the reason on stderr), 2 usage or input error (unreadable
//!   files, a bad subject or `--now`, an unknown source, a key that is not of the key column's
//!   type; nothing is audited then).
//!   When the rule that allows the subject needs approval (`with approval by C`), the request is
//!   stored as pending instead (exit 0, `pending: request r-…` on stdout) and nothing is
//!   unmasked until it is approved.
//! - `polc grants approve|deny PATHS…|--bundle FILE --subject USER.json --id R --store FILE
//!   --audit FILE [--reason TEXT] [--now TS]`: answers a pending request. The rule's approvers'
//!   condition decides who may (an approver never approves their own request; the requester may
//!   deny, i.e. withdraw, their own); a request answered or past its deadline cannot be
//!   answered. Exit 0 answered, 1 refused (audited), 2 usage or input error.
//! - `polc grants list --store FILE [--now TS] [--all] [--format human|json]`: the grants that
//!   hold at `--now`; with `--all`, expired and revoked ones too, marked so. With `--requests`,
//!   the requests pending at `--now` instead (with `--all`, answered and expired ones too).
//! - `polc grants revoke --store FILE --audit FILE --subject USER.json (--id ID | --source S
//!   --key KEY) [--reason TEXT] [--now TS]`: revokes a grant that holds, by id or every grant of
//!   one record (the key as `list` shows it); audited. Exit 1 when nothing holds to revoke.
//!
//! Each `--store` / `--audit` may instead be a `postgres://` URL: the `grants` and `audit`
//! tables of the `polc sql` schema `--schema` (default `pol`), shared with the masked views (see
//! `target.rs` and `pol_runtime::pg`).
//!
//! Deciding a request needs no masking key: without `--key-file`, keyed techniques are prepared
//! with the public test key (no value is masked by `request`).

use super::eval::{open_engine, parse_now, read_subject};
use super::fail_usage;
use super::request_context::RequestContext;
use super::target::{open_both, open_store, Target};
use crate::testing::TEST_KEY;
use chrono::{DateTime, Utc};
use pol_runtime::grants::{
    ApprovalError, GrantEntry, GrantService, ManualClock, RequestEntry, RequestState, Requested,
    Revoke, RevokeError, UnmaskError,
};
use pol_runtime::json::{grant_json, request_json, time_text, GrantStatus};
use pol_runtime::{Engine, KeyRing, MaskingKey, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `polc grants`.
#[derive(clap::Args, Debug)]
pub struct GrantsArgs {
    #[command(subcommand)]
    pub command: GrantsCommand,
}

/// The subcommands of `polc grants`.
#[derive(clap::Subcommand, Debug)]
pub enum GrantsCommand {
    /// Ask for a temporary unmask of one record; granted or refused by the policy, audited.
    Request(RequestArgs),
    /// List the grants of a store that hold at `--now`.
    List(ListArgs),
    /// Revoke a grant (by id, or every grant of one record); audited.
    Revoke(RevokeArgs),
    /// Approve a pending request (an approver of its rule, not its requester); audited.
    Approve(AnswerArgs),
    /// Deny a pending request (an approver of its rule, or its requester); audited.
    Deny(AnswerArgs),
}

/// Arguments of `polc grants approve` and `polc grants deny`.
#[derive(clap::Args, Debug)]
pub struct AnswerArgs {
    /// Policy files or directories (or give `--bundle`): their approvers' conditions decide.
    #[arg(required_unless_present = "bundle", conflicts_with = "bundle")]
    pub paths: Vec<PathBuf>,
    /// A bundle written by `polc build`.
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Who answers (user context) as a JSON file; its login goes to the audit file.
    #[arg(long)]
    pub subject: PathBuf,
    /// The request's id (as `polc grants request` printed it, or `list --requests` shows it).
    #[arg(long)]
    pub id: String,
    /// The justification, written to the audit file.
    #[arg(long, default_value = "")]
    pub reason: String,
    /// The grant store: a file or a `postgres://` URL.
    #[arg(long, value_parser = Target::parse)]
    pub store: Target,
    /// The audit trail: a file (created if missing) or a `postgres://` URL.
    #[arg(long, value_parser = Target::parse)]
    pub audit: Target,
    /// The schema of the `grants`, `requests` and `audit` tables in PostgreSQL (as `polc sql
    /// --schema`).
    #[arg(long, default_value = "pol")]
    pub schema: String,
    /// The clock, RFC 3339 (default: now).
    #[arg(long)]
    pub now: Option<String>,
    /// The masking key file (default: the public test key; answers mask no value).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
}

/// Arguments of `polc grants request`.
#[derive(clap::Args, Debug)]
pub struct RequestArgs {
    /// The policies, the subject asking, the record's source, and the clock.
    #[command(flatten)]
    pub request: RequestContext,
    /// The record's key value (parsed as the source's key column type).
    #[arg(long)]
    pub key: String,
    /// The justification, written to the audit file.
    #[arg(long, default_value = "")]
    pub reason: String,
    /// The grant store: a file (created if missing) or a `postgres://` URL.
    #[arg(long, value_parser = Target::parse)]
    pub store: Target,
    /// The audit trail: a file (created if missing) or a `postgres://` URL.
    #[arg(long, value_parser = Target::parse)]
    pub audit: Target,
    /// The schema of the `grants` and `audit` tables in PostgreSQL (as `polc sql --schema`).
    #[arg(long, default_value = "pol")]
    pub schema: String,
    /// The masking key file (default: the public test key; requests mask no value).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
}

/// How `polc grants list` prints.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ListFormat {
    /// An aligned table.
    Human,
    /// One JSON object per grant and line.
    Json,
}

/// Arguments of `polc grants list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// The grant store: a file or a `postgres://` URL.
    #[arg(long, value_parser = Target::parse)]
    pub store: Target,
    /// The schema of the `grants` table in PostgreSQL (as `polc sql --schema`).
    #[arg(long, default_value = "pol")]
    pub schema: String,
    /// The clock, RFC 3339 (default: now).
    #[arg(long)]
    pub now: Option<String>,
    /// List expired and revoked grants too, marked so (with `--requests`: answered and expired
    /// requests too).
    #[arg(long)]
    pub all: bool,
    /// List the requests that wait for approval instead of grants.
    #[arg(long)]
    pub requests: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
}

/// Arguments of `polc grants revoke`.
#[derive(clap::Args, Debug)]
pub struct RevokeArgs {
    /// The grant store: a file or a `postgres://` URL.
    #[arg(long, value_parser = Target::parse)]
    pub store: Target,
    /// The audit trail: a file (created if missing) or a `postgres://` URL.
    #[arg(long, value_parser = Target::parse)]
    pub audit: Target,
    /// The schema of the `grants` and `audit` tables in PostgreSQL (as `polc sql --schema`).
    #[arg(long, default_value = "pol")]
    pub schema: String,
    /// Who revokes (user context) as a JSON file; its login goes to the audit file.
    #[arg(long)]
    pub subject: PathBuf,
    /// The id of the grant to revoke (as `polc grants list` shows it).
    #[arg(long, required_unless_present = "source", conflicts_with_all = ["source", "key"])]
    pub id: Option<String>,
    /// Revoke every grant of one record: its source …
    #[arg(long, requires = "key")]
    pub source: Option<String>,
    /// … and its key, as `polc grants list` shows it.
    #[arg(long, requires = "source")]
    pub key: Option<String>,
    /// The justification, written to the audit file.
    #[arg(long, default_value = "")]
    pub reason: String,
    /// The clock, RFC 3339 (default: now).
    #[arg(long)]
    pub now: Option<String>,
}

/// Runs `polc grants`.
pub fn run(args: &GrantsArgs) -> ExitCode {
    let result = match &args.command {
        GrantsCommand::Request(a) => request(a),
        GrantsCommand::List(a) => list(a),
        GrantsCommand::Revoke(a) => revoke(a),
        GrantsCommand::Approve(a) => answer(a, true),
        GrantsCommand::Deny(a) => answer(a, false),
    };
    match result {
        Ok(code) | Err(code) => code,
    }
}

fn time(t: DateTime<Utc>) -> String {
    time_text(t)
}

/// The engine for a request: the given key, or the public test key (no value is masked).
fn request_engine(args: &RequestArgs) -> Result<Engine, ExitCode> {
    let request = &args.request;
    decision_engine(
        &request.paths,
        request.bundle.as_deref(),
        args.key_file.as_deref(),
    )
}

/// The engine that decides requests and answers: the given key, or the public test key (no
/// value is masked).
fn decision_engine(
    paths: &[PathBuf],
    bundle: Option<&std::path::Path>,
    key_file: Option<&std::path::Path>,
) -> Result<Engine, ExitCode> {
    if key_file.is_some() {
        return open_engine(paths, bundle, key_file);
    }
    let keys = MaskingKey::from_bytes(TEST_KEY)
        .map(KeyRing::new)
        .map_err(|e| fail_usage(format!("the test key: {e}")))?;
    let bytes = match bundle {
        Some(b) => std::fs::read(b)
            .map_err(|e| fail_usage(format!("cannot read the bundle {}: {e}", b.display())))?,
        None => super::build::load_for_running(paths)?
            .bundle()
            .to_bytes()
            .map_err(|e| fail_usage(format!("cannot encode the bundle: {e}")))?,
    };
    Engine::load(&bytes, Some(keys)).map_err(|e| match bundle {
        Some(b) => fail_usage(format!("cannot load the bundle {}: {e}", b.display())),
        None => fail_usage(format!("cannot load the policies: {e}")),
    })
}

/// Parses `--key` as the key column's type (`Engine::record_key`).
fn parse_key(engine: &Engine, source: &str, key: &str) -> Result<Value, ExitCode> {
    engine.record_key(source, key).map_err(fail_usage)
}

fn request(args: &RequestArgs) -> Result<ExitCode, ExitCode> {
    let subject = args.request.read_subject()?;
    let now = args.request.now()?;
    let engine = request_engine(args)?;
    let source = &args.request.source;
    let key = parse_key(&engine, source, &args.key)?;
    // Both targets are checked before anything is written to either.
    let (store, audit) = open_both(&args.store, &args.audit, &args.schema, false)?;
    let service = GrantService::new(store, audit, Arc::new(ManualClock::new(now)));
    match service.request(&engine, &subject, source, &key, &args.reason) {
        Ok(Requested::Pending(r)) => {
            println!(
                "pending: request {} of {} record {} waits for approval until {} (rule {}; \
                 nothing is unmasked until it is approved)",
                r.id,
                r.source,
                r.key,
                time(r.answer_by),
                r.rule
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Requested::Granted(g)) => {
            println!(
                "granted: {} record {} is clear for every user until {} (grant {}, rule {})",
                g.source,
                g.key,
                time(g.until),
                g.id,
                g.rule
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(UnmaskError::Refused(m)) => {
            eprintln!("refused: {m}");
            Ok(ExitCode::from(1))
        }
        Err(UnmaskError::Subject(e)) => Err(fail_usage(format!("the subject: {e}"))),
        Err(e @ (UnmaskError::Audit(_) | UnmaskError::Store(_))) => Err(fail_usage(e)),
        // `request` stores a pending request rather than answering this.
        Err(e @ UnmaskError::AwaitsApproval(_)) => Err(fail_usage(e)),
    }
}

/// `polc grants approve` (`approve`) or `polc grants deny`.
fn answer(args: &AnswerArgs, approve: bool) -> Result<ExitCode, ExitCode> {
    let subject = read_subject(&args.subject)?;
    let now = parse_now(args.now.as_deref())?;
    let engine = decision_engine(
        &args.paths,
        args.bundle.as_deref(),
        args.key_file.as_deref(),
    )?;
    let (store, audit) = open_both(&args.store, &args.audit, &args.schema, true)?;
    let service = GrantService::new(store, audit, Arc::new(ManualClock::new(now)));
    let answered = if approve {
        service
            .approve(&engine, &subject, &args.id, &args.reason)
            .map(|g| {
                format!(
                    "approved: request {}: {} record {} is clear for every user until {} (grant {}, rule {})",
                    args.id,
                    g.source,
                    g.key,
                    time(g.until),
                    g.id,
                    g.rule
                )
            })
    } else {
        service
            .deny(&engine, &subject, &args.id, &args.reason)
            .map(|r| {
                format!(
                    "denied: request {} of {} ({} record {})",
                    r.id, r.requested_by, r.source, r.key
                )
            })
    };
    match answered {
        Ok(line) => {
            println!("{line}");
            Ok(ExitCode::SUCCESS)
        }
        Err(ApprovalError::Refused(m)) => {
            eprintln!("refused: {m}");
            Ok(ExitCode::from(1))
        }
        Err(ApprovalError::Subject(e)) => Err(fail_usage(format!("the subject: {e}"))),
        Err(e @ (ApprovalError::Audit(_) | ApprovalError::Store(_))) => Err(fail_usage(e)),
    }
}

/// `polc grants list --requests`: the requests pending at `--now` (all with `--all`).
fn list_requests(args: &ListArgs, now: DateTime<Utc>) -> Result<ExitCode, ExitCode> {
    let store = open_store(&args.store, &args.schema, true)?;
    let entries: Vec<RequestEntry> = store
        .requests(now)
        .map_err(|e| fail_usage(format!("the grant store {}: {e}", args.store.describe())))?
        .into_iter()
        .filter(|e| args.all || e.state == RequestState::Pending)
        .collect();
    let text = match args.format {
        ListFormat::Json => entries
            .iter()
            .map(|e| format!("{}\n", request_json(e)))
            .collect::<String>(),
        ListFormat::Human if entries.is_empty() => format!(
            "no {}requests at {}\n",
            if args.all { "" } else { "pending " },
            time(now)
        ),
        ListFormat::Human => {
            let mut rows = vec![[
                "ID",
                "SOURCE",
                "KEY",
                "REQUESTED BY",
                "REQUESTED AT",
                "ANSWER BY",
                "RULE",
                "STATE",
            ]
            .map(String::from)];
            for e in &entries {
                let r = &e.request;
                rows.push([
                    r.id.clone(),
                    r.source.clone(),
                    r.key.clone(),
                    r.requested_by.clone(),
                    time(r.requested_at),
                    time(r.answer_by),
                    r.rule.clone(),
                    e.state.as_str().to_owned(),
                ]);
            }
            table(&rows)
        }
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// A grant's status at `now`.
fn status(e: &GrantEntry, now: DateTime<Utc>) -> &'static str {
    GrantStatus::of(e, now).as_str()
}

fn list(args: &ListArgs) -> Result<ExitCode, ExitCode> {
    let now = parse_now(args.now.as_deref())?;
    if args.requests {
        return list_requests(args, now);
    }
    let store = open_store(&args.store, &args.schema, true)?;
    let entries: Vec<GrantEntry> = store
        .entries()
        .map_err(|e| fail_usage(format!("the grant store {}: {e}", args.store.describe())))?
        .into_iter()
        .filter(|e| args.all || status(e, now) == "active")
        .collect();
    let text = match args.format {
        ListFormat::Json => entries
            .iter()
            .map(|e| format!("{}\n", grant_json(e, now)))
            .collect::<String>(),
        ListFormat::Human if entries.is_empty() => format!(
            "no {}grants at {}\n",
            if args.all { "" } else { "active " },
            time(now)
        ),
        ListFormat::Human => {
            let mut rows = vec![[
                "ID",
                "SOURCE",
                "KEY",
                "GRANTED TO",
                "GRANTED AT",
                "EXPIRES",
                "RULE",
                "STATUS",
            ]
            .map(String::from)];
            for e in &entries {
                let g = &e.grant;
                rows.push([
                    g.id.clone(),
                    g.source.clone(),
                    g.key.clone(),
                    g.granted_to.clone(),
                    time(g.granted_at),
                    time(g.expires),
                    g.rule.clone(),
                    status(e, now).to_owned(),
                ]);
            }
            table(&rows)
        }
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Left-aligned columns separated by two spaces, no trailing spaces.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, (c, width)) in r.iter().zip(widths).enumerate() {
            line.push_str(c);
            if i + 1 < N {
                line.push_str(&" ".repeat(width.saturating_sub(c.chars().count()) + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn revoke(args: &RevokeArgs) -> Result<ExitCode, ExitCode> {
    let subject = read_subject(&args.subject)?;
    let now = parse_now(args.now.as_deref())?;
    let which = match (&args.id, &args.source, &args.key) {
        (Some(id), _, _) => Revoke::Id(id.clone()),
        (None, Some(source), Some(key)) => Revoke::Record {
            source: source.clone(),
            key: key.clone(),
        },
        _ => return Err(fail_usage("give --id, or --source and --key")),
    };
    let (store, audit) = open_both(&args.store, &args.audit, &args.schema, true)?;
    let service = GrantService::new(store, audit, Arc::new(ManualClock::new(now)));
    match service.revoke(&subject, &which, &args.reason) {
        Ok(revoked) => {
            for g in revoked {
                println!(
                    "revoked: grant {} ({} record {}, given to {}, was until {})",
                    g.id,
                    g.source,
                    g.key,
                    g.granted_to,
                    time(g.expires)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ RevokeError::NotFound(_)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(fail_usage(e)),
    }
}
