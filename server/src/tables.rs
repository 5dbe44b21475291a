//! Lookup tables the server supplies (`--table NAME=FILE[#COLUMN]`, repeatable; `table = […]`
//! in the config file): each names a table the bundle declares `supplied at run time` and a
//! CSV or JSON file of its values, read with the compiler's rules for `from "FILE"` tables
//! ([`pol_runtime::table_file`]).
//!
//! The files are read, and the tables set, on the engine of every bundle loaded — at start and
//! at each reload, aside, before the swap — so a reload keeps the tables (and re-reads their
//! files: a changed file is picked up). A table keeps the type it had when it was first
//! supplied: a new bundle that declares it with another type fails the reload (the old bundle
//! keeps serving); a new bundle that no longer declares it, or reads it from a file, drops it
//! with a log line. At start, a `--table` the bundle does not declare `supplied at run time` is
//! an error. A table declared `supplied at run time` that no `--table` gives stays unknown:
//! its conditions mask (logged as a warning).

use std::fmt;
use std::path::{Path, PathBuf};

use pol_runtime::table_file::{self, TableFormat, MAX_TABLE_FILE_BYTES};
use pol_runtime::{Engine, LookupKind, TableError};

/// One `--table NAME=FILE[#COLUMN]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableFile {
    /// The table's declared name.
    pub name: String,
    /// The CSV or JSON file of its values.
    pub path: PathBuf,
    /// The CSV column or JSON field holding the values (none: the file's only column, or a
    /// JSON array of values).
    pub column: Option<String>,
}

impl TableFile {
    /// Parses `NAME=FILE` or `NAME=FILE#COLUMN`.
    pub fn parse(s: &str) -> Result<TableFile, String> {
        let (name, rest) = s
            .split_once('=')
            .filter(|(n, p)| !n.is_empty() && !p.is_empty())
            .ok_or_else(|| format!("--table `{s}`: give NAME=FILE or NAME=FILE#COLUMN"))?;
        let (path, column) = match rest.rsplit_once('#') {
            Some((p, c)) if !p.is_empty() && !c.is_empty() => (p, Some(c.to_owned())),
            Some(_) => return Err(format!("--table `{s}`: give NAME=FILE or NAME=FILE#COLUMN")),
            None => (rest, None),
        };
        Ok(TableFile {
            name: name.to_owned(),
            path: PathBuf::from(path),
            column,
        })
    }
}

/// A table a loaded engine was given: its name and the type of its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supplied {
    /// The table's name.
    pub name: String,
    /// The type of the values the server supplies.
    pub kind: LookupKind,
}

/// Why the tables could not be supplied to a new engine (it is then not served).
#[derive(Debug, PartialEq, Eq)]
pub enum SupplyError {
    /// The file cannot be read, or is not a table of the declared type.
    File {
        /// The table.
        name: String,
        /// Its file.
        path: PathBuf,
        /// What is wrong (with the file's line when known).
        reason: String,
    },
    /// The bundle refuses the values (at start: an undeclared table, or a file table).
    Refused {
        /// The table.
        name: String,
        /// The runtime's refusal, with its code.
        reason: String,
    },
    /// A reloaded bundle declares a supplied table with another type than the values the
    /// server supplies.
    TypeChanged {
        /// The table.
        name: String,
        /// The type of the values the server supplies.
        supplied: LookupKind,
        /// The type the new bundle declares.
        declared: LookupKind,
    },
}

impl fmt::Display for SupplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupplyError::File { name, path, reason } => write!(
                f,
                "lookup table `{name}` (--table): {}: {reason}",
                path.display()
            ),
            SupplyError::Refused { name, reason } => {
                write!(f, "lookup table `{name}` (--table): {reason}")
            }
            SupplyError::TypeChanged {
                name,
                supplied,
                declared,
            } => write!(
                f,
                "lookup table `{name}` is declared with {} values in the new bundle, and the \
                 server supplies {} values (--table): restart the server to change a table's type",
                declared.name(),
                supplied.name()
            ),
        }
    }
}

impl std::error::Error for SupplyError {}

/// Reads the tables' files and sets them on `engine`. `previous` is what the engine serving
/// now was given (`None` at start, where every `--table` must name a table the bundle declares
/// `supplied at run time`). Returns the tables supplied.
pub fn supply(
    engine: &Engine,
    files: &[TableFile],
    previous: Option<&[Supplied]>,
) -> Result<Vec<Supplied>, SupplyError> {
    let mut supplied = Vec::with_capacity(files.len());
    for file in files {
        let declared = engine
            .tables()
            .find(|(n, _, _)| *n == file.name)
            .map(|(_, kind, at_run_time)| (kind, at_run_time));
        let held = previous.and_then(|p| p.iter().find(|s| s.name == file.name));
        let kind = match (declared, previous) {
            (Some((kind, true)), _) => kind,
            // At start, the runtime's refusal (undeclared, or a file table) stops the server.
            (_, None) => {
                let e = match declared {
                    None => TableError::Unknown {
                        name: file.name.clone(),
                    },
                    Some(_) => TableError::NotSupplied {
                        name: file.name.clone(),
                    },
                };
                return Err(SupplyError::Refused {
                    name: file.name.clone(),
                    reason: format!("{}: {e}", e.code()),
                });
            }
            (None, Some(_)) => {
                tracing::warn!(table = %file.name, "the new bundle declares no lookup table of this name: the server no longer supplies it");
                continue;
            }
            (Some((_, false)), Some(_)) => {
                tracing::warn!(table = %file.name, "the new bundle reads this lookup table from a file: the server no longer supplies it");
                continue;
            }
        };
        if let Some(held) = held.filter(|h| h.kind != kind) {
            return Err(SupplyError::TypeChanged {
                name: file.name.clone(),
                supplied: held.kind,
                declared: kind,
            });
        }
        let values = read(file, kind)?;
        let count = values.len();
        engine
            .set_table(&file.name, values)
            .map_err(|e| SupplyError::Refused {
                name: file.name.clone(),
                reason: format!("{}: {e}", e.code()),
            })?;
        tracing::info!(table = %file.name, values = count, file = %file.path.display(), "lookup table supplied");
        supplied.push(Supplied {
            name: file.name.clone(),
            kind,
        });
    }
    for (name, _, at_run_time) in engine.tables() {
        if at_run_time && !supplied.iter().any(|s| s.name == name) {
            tracing::warn!(table = %name, "lookup table supplied at run time and not given by --table: its conditions are unknown and mask");
        }
    }
    Ok(supplied)
}

/// Reads a table file as values of `kind`.
fn read(file: &TableFile, kind: LookupKind) -> Result<pol_runtime::LookupValues, SupplyError> {
    let fail = |reason: String| SupplyError::File {
        name: file.name.clone(),
        path: file.path.clone(),
        reason,
    };
    let shown = file.path.to_string_lossy();
    let format =
        TableFormat::of(&shown).ok_or_else(|| fail("the file must be .csv or .json".to_owned()))?;
    let text = read_text(&file.path).map_err(fail)?;
    table_file::parse(&text, format, file.column.as_deref(), kind).map_err(|e| match e.line {
        Some(line) => fail(format!("line {line}: {}", e.message)),
        None => fail(e.message),
    })
}

/// A table file's text: at most [`MAX_TABLE_FILE_BYTES`], UTF-8.
fn read_text(path: &Path) -> Result<String, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the file: {e}"))?
        .len();
    if len > MAX_TABLE_FILE_BYTES {
        return Err(format!(
            "the file is larger than {MAX_TABLE_FILE_BYTES} bytes"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_options_name_a_file_and_maybe_a_column() {
        assert_eq!(
            TableFile::parse("eu=tables/eu.csv#code").unwrap(),
            TableFile {
                name: "eu".into(),
                path: "tables/eu.csv".into(),
                column: Some("code".into())
            }
        );
        assert_eq!(TableFile::parse("ids=ids.json").unwrap().column, None);
        for bad in ["eu", "=x.csv", "eu=", "eu=x.csv#", "eu=#c"] {
            assert_eq!(
                TableFile::parse(bad).unwrap_err(),
                format!("--table `{bad}`: give NAME=FILE or NAME=FILE#COLUMN")
            );
        }
    }
}
