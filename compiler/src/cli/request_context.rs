//! The arguments that `polc eval`, `polc detokenize` and `polc grants request` share: which
//! policies (files or a bundle), who asks (the subject), about which source, and when (the
//! clock). One struct, flattened into each command, so the three spell and document them alike.

use super::eval::{parse_now, read_subject};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::process::ExitCode;

/// The policies, subject, source and clock of a request (`#[command(flatten)]`).
#[derive(clap::Args, Debug)]
pub struct RequestContext {
    /// Policy files or directories (or give `--bundle`).
    #[arg(required_unless_present = "bundle", conflicts_with = "bundle")]
    pub paths: Vec<PathBuf>,
    /// A bundle written by `polc build`.
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// The subject asking (user context) as a JSON file.
    #[arg(long)]
    pub subject: PathBuf,
    /// The source (of the rows, the value or the record).
    #[arg(long)]
    pub source: String,
    /// The clock, RFC 3339 (default: now).
    #[arg(long)]
    pub now: Option<String>,
}

impl RequestContext {
    /// The subject file, read and checked to be a JSON object (exit 2 otherwise).
    pub fn read_subject(&self) -> Result<Json, ExitCode> {
        read_subject(&self.subject)
    }

    /// `--now`, or the system clock without it (exit 2 for a timestamp that is not RFC 3339).
    pub fn now(&self) -> Result<DateTime<Utc>, ExitCode> {
        parse_now(self.now.as_deref())
    }
}
