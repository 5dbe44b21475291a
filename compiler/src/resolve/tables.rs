//! Lookup tables: their declarations (the file read and checked here, so that a checked model
//! carries the values and a built bundle is self-contained) and `x in table T`.

use super::exprs::ExprCtx;
use super::suggest::did_you_mean;
use super::Checker;
use crate::diagnostics::Diagnostic;
use crate::model::{CExpr, CKind, LookupTable, TableOrigin, Ty};
use crate::source_map::{FileId, Loc};
use crate::table_file::{self, TableFormat, MAX_TABLE_FILE_BYTES};
use pol_grammar::ast::{Decl, Expr, Ident, StrLit, TableDecl, TypeExpr};
use pol_grammar::Span;
use pol_runtime::{LookupKind, LookupValues};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

impl Checker<'_> {
    /// Declares every `table` of the set, reading file tables.
    pub(super) fn declare_tables(&mut self) {
        let asts = self.asts;
        // Every name declared so far, even by a declaration with an error.
        let mut seen: HashMap<&str, Loc> = HashMap::new();
        for (fi, ast) in asts.iter().enumerate() {
            let file = FileId(fi as u32);
            for decl in &ast.decls {
                if let Decl::Table(t) = decl {
                    let at = Loc::new(file, t.name.span);
                    if let Some(&first) = seen.get(t.name.name.as_str()) {
                        self.duplicate("lookup table", &t.name.name, at, first);
                        continue;
                    }
                    seen.insert(&t.name.name, at);
                    self.declare_table(t, file);
                }
            }
        }
    }

    fn declare_table(&mut self, t: &TableDecl, file: FileId) {
        let at = Loc::new(file, t.name.span);
        // A declaration with an error declares nothing: its uses are not reported again.
        let Some(kind) = self.table_kind(&t.ty, file) else {
            return;
        };
        let origin = match &t.origin {
            pol_grammar::ast::TableOrigin::Supplied(_) => TableOrigin::Supplied,
            pol_grammar::ast::TableOrigin::File { path, column } => {
                let column = column.as_ref().map(|c| c.name.as_str());
                match self.read_table_file(path, column, kind, file) {
                    Some(values) => TableOrigin::File {
                        path: path.value.clone(),
                        values,
                    },
                    None => return,
                }
            }
        };
        self.model.tables.push(LookupTable {
            name: t.name.name.clone(),
            loc: at,
            decl: Loc::new(file, t.span),
            kind,
            origin,
            doc: t.doc.clone(),
        });
    }

    fn table_kind(&mut self, ty: &TypeExpr, file: FileId) -> Option<LookupKind> {
        let resolved = self.resolve_type(ty, file, &mut Vec::new(), None);
        match resolved {
            Ty::Text => Some(LookupKind::Text),
            Ty::Int => Some(LookupKind::Int),
            Ty::Error => None,
            other => {
                self.diags
                    .push(Diagnostic::table_type(Loc::new(file, ty.span()), &other));
                None
            }
        }
    }

    /// The values of a file table, or `None` after reporting why there are none.
    fn read_table_file(
        &mut self,
        path: &StrLit,
        column: Option<&str>,
        kind: LookupKind,
        file: FileId,
    ) -> Option<LookupValues> {
        let at = Loc::new(file, path.span);
        let base = Path::new(&self.files.get(file).name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let full = match inside(&base, &path.value) {
            Ok(full) => full,
            Err(why) => {
                self.diags
                    .push(Diagnostic::table_outside(at, &path.value, why));
                return None;
            }
        };
        let Some(format) = TableFormat::of(&path.value) else {
            self.diags
                .push(Diagnostic::table_file_format(at, &path.value));
            return None;
        };
        let text = match read_text(&base, &full) {
            Ok(text) => text,
            Err(Refused::Outside) => {
                self.diags.push(Diagnostic::table_outside(
                    at,
                    &path.value,
                    "a symbolic link leads out of the declaring file's folder",
                ));
                return None;
            }
            Err(Refused::Unreadable(reason)) => {
                self.diags
                    .push(Diagnostic::bad_table_file(at, &path.value, &reason));
                return None;
            }
        };
        match table_file::parse(&text, format, column, kind) {
            Ok(values) => Some(values),
            Err(e) => {
                let place = match e.line {
                    Some(line) => format!("{}:{line}", path.value),
                    None => path.value.clone(),
                };
                self.diags
                    .push(Diagnostic::bad_table_file(at, &place, &e.message));
                None
            }
        }
    }

    /// Types `e in table T`.
    pub(super) fn in_table(
        &mut self,
        e: &Expr,
        name: &Ident,
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        let operand = self.expr(e, ctx);
        let Some(id) = self.model.table(&name.name) else {
            // A table whose declaration had an error is declared no further: say nothing more.
            if !self.table_declared_with_error(&name.name) {
                let at = Loc::new(ctx.file, name.span);
                let suggestion = did_you_mean(
                    &name.name,
                    self.model.tables.iter().map(|t| t.name.as_str()),
                );
                self.diags
                    .push(Diagnostic::undeclared_table(at, &name.name, suggestion));
            }
            return CExpr::error(span);
        };
        let Some(table) = self.model.tables.get(id) else {
            return CExpr::error(span);
        };
        let fits = match table.kind {
            LookupKind::Text => operand.ty.is_textual(),
            LookupKind::Int => operand.ty == Ty::Int,
        };
        if !fits && !operand.ty.is_error() {
            let d = Diagnostic::table_operand(
                Loc::new(ctx.file, e.span),
                table.decl,
                &operand.ty,
                table.kind.name(),
            );
            self.diags.push(d);
            return CExpr::error(span);
        }
        CExpr::new(CKind::InTable(Box::new(operand), id), Ty::Bool, span)
    }

    /// Whether some file declares a table of this name (which the model lacks because its
    /// declaration has an error, already reported).
    fn table_declared_with_error(&self, name: &str) -> bool {
        self.asts.iter().any(|ast| {
            ast.decls
                .iter()
                .any(|d| matches!(d, Decl::Table(t) if t.name.name == name))
        })
    }
}

/// `path` joined to `base`, if it is relative and never goes up (`..`).
fn inside(base: &Path, path: &str) -> Result<PathBuf, &'static str> {
    let p = Path::new(path);
    if path.is_empty() {
        return Err("the path is empty");
    }
    if p.is_absolute() || p.has_root() || path.starts_with('\\') {
        return Err("the path is absolute");
    }
    for c in p.components() {
        match c {
            Component::ParentDir => return Err("`..` leaves the declaring file's folder"),
            Component::Prefix(_) | Component::RootDir => return Err("the path is absolute"),
            Component::CurDir | Component::Normal(_) => {}
        }
    }
    Ok(base.join(p))
}

enum Refused {
    Outside,
    Unreadable(String),
}

/// The file's text: a regular file below `base` once links are followed, at most
/// [`MAX_TABLE_FILE_BYTES`], UTF-8.
fn read_text(base: &Path, full: &Path) -> Result<String, Refused> {
    let unreadable = |e: std::io::Error| Refused::Unreadable(e.to_string());
    let base_dir = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let real_base = std::fs::canonicalize(base_dir).map_err(unreadable)?;
    let real = std::fs::canonicalize(full).map_err(unreadable)?;
    if !real.starts_with(&real_base) {
        return Err(Refused::Outside);
    }
    let meta = std::fs::metadata(&real).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(Refused::Unreadable("not a regular file".to_string()));
    }
    if meta.len() > MAX_TABLE_FILE_BYTES {
        return Err(Refused::Unreadable(format!(
            "{} bytes, more than a table file may have ({MAX_TABLE_FILE_BYTES})",
            meta.len()
        )));
    }
    let bytes = std::fs::read(&real).map_err(unreadable)?;
    String::from_utf8(bytes).map_err(|e| {
        Refused::Unreadable(format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}
