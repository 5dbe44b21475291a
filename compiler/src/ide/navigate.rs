//! Go to definition, find references and rename.

use super::index::Symbol;
use super::text::is_plain_identifier;
use super::{Ide, TextEdit};
use crate::source_map::{FileId, Loc};

/// Why a rename was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameError {
    pub message: String,
}

impl std::fmt::Display for RenameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenameError {}

fn refuse(message: impl Into<String>) -> RenameError {
    RenameError {
        message: message.into(),
    }
}

fn symbols_at(ide: &Ide, file: FileId, offset: usize) -> Vec<Symbol> {
    let mut out: Vec<Symbol> = Vec::new();
    for o in ide.index.at(file, offset) {
        if !out.contains(&o.symbol) {
            out.push(o.symbol.clone());
        }
    }
    out
}

/// Where a symbol is declared: its declaring occurrences, else (a tag or purpose declared only as
/// the prefix of a longer path) where the hierarchy first named it.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub(super) fn declarations(ide: &Ide, symbol: &Symbol) -> Vec<Loc> {
    let defs: Vec<Loc> = ide
        .index
        .of(symbol)
        .filter(|o| o.is_def)
        .map(|o| o.loc)
        .collect();
    if !defs.is_empty() {
        return defs;
    }
    let model = &ide.analysis.model;
    let node = match symbol {
        Symbol::Tag(p) => model.tags.get(p).map(|n| &model.tags.nodes[n]),
        Symbol::Purpose(p) => model.purposes.get(p).map(|n| &model.purposes.nodes[n]),
        _ => None,
    };
    match node {
        // The first segment occurrence of the path prefix inside the declaring path.
        Some(n) => ide
            .index
            .of(symbol)
            .find(|o| o.loc.file == n.loc.file && n.loc.span.contains(o.loc.span.start as usize))
            .map(|o| vec![o.loc])
            .unwrap_or_else(|| vec![n.loc]),
        None => Vec::new(),
    }
}

pub(super) fn definition(ide: &Ide, file: FileId, offset: usize) -> Vec<Loc> {
    let mut out = Vec::new();
    for s in symbols_at(ide, file, offset) {
        for l in declarations(ide, &s) {
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    out
}

pub(super) fn references(ide: &Ide, file: FileId, offset: usize, include_decl: bool) -> Vec<Loc> {
    let mut out = Vec::new();
    for s in symbols_at(ide, file, offset) {
        for o in ide.index.of(&s) {
            if (include_decl || !o.is_def) && !out.contains(&o.loc) {
                out.push(o.loc);
            }
        }
    }
    out.sort();
    out
}

pub(super) fn prepare_rename(ide: &Ide, file: FileId, offset: usize) -> Option<Loc> {
    ide.index.at(file, offset).first().map(|o| o.loc)
}

/// The symbol `old` would become when its last segment is renamed to `new_name`.
fn renamed(old: &Symbol, new_name: &str) -> Symbol {
    let replace_last = |p: &str| match p.rfind('.') {
        Some(i) => format!("{}.{new_name}", &p[..i]),
        None => new_name.to_string(),
    };
    match old {
        Symbol::Tag(p) => Symbol::Tag(replace_last(p)),
        Symbol::Purpose(p) => Symbol::Purpose(replace_last(p)),
        Symbol::Source(_) => Symbol::Source(new_name.to_string()),
        Symbol::Column { source, column } => Symbol::Column {
            source: source.clone(),
            column: replace_last(column),
        },
        Symbol::SubjectField(_) => Symbol::SubjectField(new_name.to_string()),
        Symbol::Policy(_) => Symbol::Policy(new_name.to_string()),
        Symbol::Level(_) => Symbol::Level(new_name.to_string()),
        Symbol::Table(_) => Symbol::Table(new_name.to_string()),
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn exists(ide: &Ide, symbol: &Symbol) -> bool {
    let model = &ide.analysis.model;
    match symbol {
        Symbol::Tag(p) => model.tags.get(p).is_some(),
        Symbol::Purpose(p) => model.purposes.get(p).is_some(),
        Symbol::Source(s) => model.source(s).is_some(),
        Symbol::Column { source, column } => model
            .source(source)
            .is_some_and(|s| model.sources[s].column(column).is_some()),
        Symbol::SubjectField(f) => model.subject_field(f).is_some(),
        Symbol::Policy(p) => model.policies.iter().any(|x| &x.name == p),
        Symbol::Level(l) => model.levels.iter().any(|x| &x.name == l),
        Symbol::Table(t) => model.table(t).is_some(),
    }
}

const BUILTIN_SUBJECT_FIELDS: &[&str] = &["login", "groups", "roles", "attributes", "purposes"];

pub(super) fn rename(
    ide: &Ide,
    file: FileId,
    offset: usize,
    new_name: &str,
) -> Result<Vec<TextEdit>, RenameError> {
    let symbols = symbols_at(ide, file, offset);
    if symbols.is_empty() {
        return Err(refuse(
            "nothing to rename here: put the cursor on a tag, purpose, source, column, subject field, policy or level",
        ));
    }
    if new_name.contains('.') {
        return Err(refuse(format!(
            "`{new_name}` is not one name: a rename changes one segment of a dotted path"
        )));
    }
    if !is_plain_identifier(new_name) {
        let why = if pol_grammar::lexer::keyword(new_name).is_some() {
            "it is a keyword"
        } else {
            "a name is letters, digits and `_`, not starting with a digit"
        };
        return Err(refuse(format!("`{new_name}` is not a valid name: {why}")));
    }
    let mut edits: Vec<TextEdit> = Vec::new();
    for old in &symbols {
        if let Symbol::SubjectField(f) = old {
            if BUILTIN_SUBJECT_FIELDS.contains(&f.as_str()) {
                return Err(refuse(format!(
                    "`user.{f}` is a built-in subject field and cannot be renamed"
                )));
            }
        }
        let new = renamed(old, new_name);
        if &new == old {
            continue;
        }
        if exists(ide, &new) {
            return Err(refuse(format!(
                "a {} named `{}` already exists",
                new.kind_name(),
                new.display()
            )));
        }
        for o in ide.index.of(old) {
            let written = ide.files.snippet(o.loc);
            let new_text = if written.starts_with('"') {
                format!("{new_name:?}")
            } else {
                new_name.to_string()
            };
            let edit = TextEdit {
                loc: o.loc,
                new_text,
            };
            if !edits.iter().any(|e| e.loc == edit.loc) {
                edits.push(edit);
            }
        }
    }
    edits.sort_by_key(|e| e.loc);
    Ok(edits)
}
