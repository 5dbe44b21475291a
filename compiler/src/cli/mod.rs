//! The `polc` commands. Exit codes: 0 success, 1 failure (errors, failed tests, or warnings with
//! `--deny-warnings`), 2 usage or I/O error.

mod build;
mod check;
mod detokenize;
mod diff;
mod eval;
mod explain;
mod explain_code;
mod fmt;
mod grants;
mod link_rows;
mod request_context;
mod sql;
mod target;
mod test;
mod who_can_see;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "polc",
    version,
    about = "The Pol policy compiler: check, build, evaluate and test data-masking policies"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check policy files and report every diagnostic.
    Check {
        /// Files or directories (their `.pol` files, recursively, sorted by path).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: OutputFormat,
        /// Fail (exit 1) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// Check each path as a policy set of its own (e.g. `polc check --each examples/*`)
        /// instead of all paths as one set.
        #[arg(long)]
        each: bool,
    },
    /// Show which (source, column, audience) decisions changed between two policy sets.
    Diff {
        /// The old policy set (a file or directory).
        old: PathBuf,
        /// The new policy set (a file or directory).
        new: PathBuf,
        /// Describe decisions for this subject (JSON, docs/language.md §8); repeat for several audiences.
        /// Without it, rules are compared as written.
        #[arg(long = "subject")]
        subjects: Vec<PathBuf>,
        /// Prove, for every subject and row, whether NEW reveals anything OLD did not (a column
        /// clear or masked differently where OLD masked it, a row shown that OLD hid); exit 1
        /// with a counter-example if it does.
        #[arg(long, conflicts_with = "subjects")]
        prove: bool,
    },
    /// Check policy files and write the binary bundle.
    Build {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The file to write (a bundle needs one; the listing goes to stdout without it).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// What to write: the binary bundle, or its disassembly (`asm`).
        #[arg(long, value_enum, default_value = "bundle")]
        emit: build::Emit,
    },
    /// Mask rows (JSON lines) for a subject.
    Eval(eval::EvalArgs),
    /// The original of a `tokenize` / `format_preserving` value, for a permitted subject.
    Detokenize(detokenize::DetokenizeArgs),
    /// Temporary unmask grants: request, list, revoke (over a grant store and an audit file).
    Grants(grants::GrantsArgs),
    /// The policy set as a PostgreSQL script: masked views, subjects, grants and audit.
    Sql(sql::SqlArgs),
    /// Explain, per column of a source, what a subject sees and which rule decides.
    Explain(explain::ExplainArgs),
    /// The long explanation of a diagnostic code, with a failing and a fixed example.
    ExplainCode {
        /// The code, e.g. `E0003` or `W0004`.
        code: String,
    },
    /// Who can see a column in clear (and who gets which technique), or which rows of a
    /// source, for every possible subject.
    WhoCanSee(who_can_see::WhoCanSeeArgs),
    /// Run the `test` blocks.
    Test {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The masking key for keyed techniques (default: the fixed, public test key).
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Rewrite policy files in the canonical layout (comments kept).
    Fmt {
        /// Files or directories (their `.pol` files, recursively, sorted by path).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write nothing: list the files that would change, with a short diff, and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
            each,
        } => check::run(&paths, format, deny_warnings, each),
        Command::Diff {
            old,
            new,
            subjects,
            prove,
        } => {
            if prove {
                diff::prove(&old, &new)
            } else {
                diff::run(&old, &new, &subjects)
            }
        }
        Command::Build {
            paths,
            output,
            emit,
        } => build::run(&paths, output.as_deref(), emit),
        Command::Eval(args) => eval::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::ExplainCode { code } => explain_code::run(&code),
        Command::WhoCanSee(args) => who_can_see::run(&args),
        Command::Sql(args) => sql::run(&args),
        Command::Grants(args) => grants::run(&args),
        Command::Detokenize(args) => detokenize::run(&args),
        Command::Test { paths, key_file } => test::run(&paths, key_file.as_deref()),
        Command::Fmt { paths, check } => fmt::run(&paths, check),
    }
}

/// Prints an I/O or usage error and returns exit code 2.
pub(crate) fn fail_usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The policy sets of `paths` (see [`crate::policy_sets`]): with `each`, each path is
/// partitioned alone. An unreadable path or an invalid `pol.toml` is a usage error (exit 2).
pub(crate) fn policy_sets(
    paths: &[PathBuf],
    each: bool,
) -> Result<Vec<crate::policy_sets::PolicySet>, ExitCode> {
    let groups: Vec<&[PathBuf]> = if each {
        paths.iter().map(std::slice::from_ref).collect()
    } else {
        vec![paths]
    };
    let mut sets = Vec::new();
    for g in groups {
        sets.extend(crate::policy_sets::partition(g).map_err(fail_usage)?);
    }
    Ok(sets)
}

/// The files of the one policy set that `paths` name, for the commands that work on one set
/// (`build`, `eval`, `explain`, `grants request`, `detokenize`, `diff`). Paths spanning several
/// policy-set roots are a usage error (exit 2) naming them.
pub(crate) fn one_set(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ExitCode> {
    let sets = policy_sets(paths, false)?;
    match sets.as_slice() {
        [] => Ok(paths.to_vec()),
        [one] => Ok(one.files.clone()),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|s| match &s.root {
                    Some(r) => r.display().to_string(),
                    None => "(files under no pol.toml)".to_string(),
                })
                .collect();
            Err(fail_usage(format!(
                "the paths hold {} policy sets ({}); give the paths of one (`polc check` and `polc test` take several)",
                many.len(),
                names.join(", ")
            )))
        }
    }
}
