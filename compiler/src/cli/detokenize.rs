//! `polc detokenize PATHS…|--bundle FILE --subject USER.json --source S --column C --key-file F
//! --value V [--audit FILE] [--reason TEXT] [--now TS]`: the original of a `tokenize` or
//! `format_preserving` value (§7) for a subject an `allow detokenize column S.C` rule permits.
//!
//! The original is printed on stdout (exit 0). A subject no rule permits is refused with the
//! reason on stderr (exit 1); so is a value that cannot be reversed (not a token, made under
//! another key, altered). With `--audit`, both outcomes are written to the audit file (the
//! original itself never is); an audit that cannot be written makes the command fail (exit 2)
//! without printing the original. Exit 2 also for usage and I/O errors.

use super::eval::open_engine;
use super::fail_usage;
use super::request_context::RequestContext;
use pol_runtime::audit::{AuditSink, MemorySink};
use pol_runtime::grants::{DetokenizeError, GrantService, GrantStore, ManualClock};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `polc detokenize`.
#[derive(clap::Args, Debug)]
pub struct DetokenizeArgs {
    /// The policies, the subject asking, the source of the value, and the clock.
    #[command(flatten)]
    pub request: RequestContext,
    /// The column of the value (a dotted path for a nested field).
    #[arg(long)]
    pub column: String,
    /// The masking key file the value was made with.
    #[arg(long)]
    pub key_file: PathBuf,
    /// The masked value (a `tok_…` token or a format-preserving ciphertext).
    #[arg(long)]
    pub value: String,
    /// An audit file (created if missing): the request, granted or refused, is written to it.
    #[arg(long)]
    pub audit: Option<PathBuf>,
    /// The justification, written to the audit file.
    #[arg(long, default_value = "")]
    pub reason: String,
}

/// Runs `polc detokenize`.
pub fn run(args: &DetokenizeArgs) -> ExitCode {
    match detokenize(args) {
        Ok(code) | Err(code) => code,
    }
}

fn detokenize(args: &DetokenizeArgs) -> Result<ExitCode, ExitCode> {
    let request = &args.request;
    let subject = request.read_subject()?;
    let now = request.now()?;
    let engine = open_engine(
        &request.paths,
        request.bundle.as_deref(),
        Some(&args.key_file),
    )?;
    if !engine.source_names().any(|s| s == request.source) {
        let names: Vec<&str> = engine.source_names().collect();
        return Err(fail_usage(format!(
            "no source `{}` in the policies (sources: {})",
            request.source,
            names.join(", ")
        )));
    }
    let audit: Arc<dyn AuditSink> = match &args.audit {
        Some(a) => super::target::open_audit(&super::target::Target::File(a.clone()), "pol")?,
        None => Arc::new(MemorySink::new()),
    };
    let service = GrantService::new(
        GrantStore::in_memory(),
        audit,
        Arc::new(ManualClock::new(now)),
    );
    match service.detokenize(
        &engine,
        &subject,
        &request.source,
        &args.column,
        &args.value,
        &args.reason,
    ) {
        Ok(original) => {
            println!("{original}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (DetokenizeError::Refused(_) | DetokenizeError::Failed(_))) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(DetokenizeError::Subject(e)) => Err(fail_usage(format!("the subject: {e}"))),
        Err(e @ DetokenizeError::Audit(_)) => Err(fail_usage(e)),
    }
}
