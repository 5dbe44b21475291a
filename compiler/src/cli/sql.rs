//! `polc sql PATHS… --dialect postgres [--key-file F] [--schema pol] [--base-schema public]
//! [--emit script|tables] [-o FILE]`: the policy set as a PostgreSQL script (masked views,
//! subjects, grants and audit), or the `CREATE TABLE`s of its sources for a new database.
//! Exit 0 written, 1 check errors or a part SQL cannot enforce exactly (each refusal printed
//! with its location), 2 usage or I/O error.

use super::build::load_checked;
use super::fail_usage;
use crate::source_map::SourceMap;
use crate::sql::{self, Options, SqlError};
use clap::{Args, ValueEnum};
use pol_runtime::MaskingKey;
use std::path::PathBuf;
use std::process::ExitCode;

/// The SQL dialects `polc sql` writes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Dialect {
    /// PostgreSQL 14 or later.
    Postgres,
}

/// What `polc sql` writes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Emit {
    /// The enforcement script (views, subjects, grants, audit).
    Script,
    /// `CREATE TABLE` of each source's base table.
    Tables,
}

#[derive(Args, Debug)]
pub struct SqlArgs {
    /// Files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The SQL dialect.
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// The masking key: its `hash` sub-key is stored where only the views read it.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// The schema of the views, subjects, grants and audit.
    #[arg(long, default_value = "pol")]
    pub schema: String,
    /// The schema of the base tables.
    #[arg(long, default_value = "public")]
    pub base_schema: String,
    /// What to write.
    #[arg(long, value_enum, default_value = "script")]
    pub emit: Emit,
    /// The file to write (default: standard output).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

fn refused(errors: &[SqlError], files: &SourceMap) -> ExitCode {
    for e in errors {
        eprintln!("{}", e.render(files));
    }
    eprintln!(
        "error: {} part{} of the policy set cannot be enforced exactly in SQL; nothing was written",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    ExitCode::from(1)
}

/// Runs `polc sql`.
pub fn run(args: &SqlArgs) -> ExitCode {
    let Dialect::Postgres = args.dialect;
    for name in [&args.schema, &args.base_schema] {
        if name.is_empty() || name.len() > 63 || name.contains('\0') {
            return fail_usage(format!("`{name}` is not a valid schema name"));
        }
    }
    let checked = match load_checked(&args.paths, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let hash_key = match &args.key_file {
        Some(path) => match MaskingKey::from_file(path) {
            Ok(k) => Some(k.export_hash_key()),
            Err(e) => return fail_usage(format!("key file {}: {e}", path.display())),
        },
        None => None,
    };
    let opts = Options {
        schema: args.schema.clone(),
        base_schema: args.base_schema.clone(),
        hash_key,
    };
    let model = &checked.analysis.model;
    let text = match args.emit {
        Emit::Tables => sql::tables(model, &opts),
        Emit::Script => sql::generate(model, &checked.analysis.resolution, &opts).script(),
    };
    let text = match text {
        Ok(t) => t,
        Err(errors) => return refused(&errors, &checked.files),
    };
    match &args.output {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail_usage(format!("cannot write {}: {e}", path.display())),
        },
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}
