//! Source metadata: `source s (server: "db1", created: date("2024-01-05")) { … }`. Each value
//! is a literal; a key has one type across the policy set (so that a scope compares like with
//! like). Scopes read it in `policies/source_scope.rs`.

use super::exprs::{ExprCtx, RowCtx};
use super::Checker;
use crate::diagnostics::Diagnostic;
use crate::model::{CKind, Const, MetaEntry, Source, Ty};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast;
use std::collections::HashMap;

/// The name of a metadata value's type, for messages.
pub(super) fn const_type(c: &Const) -> &'static str {
    match c {
        Const::Null => "null",
        Const::Bool(_) => "a bool",
        Const::Int(_) | Const::Decimal(_) => "a number",
        Const::Text(_) => "text",
        Const::Date(_) => "a date",
        Const::Timestamp(_) => "a timestamp",
        Const::Duration(_) | Const::Months(_) => "a duration",
    }
}

impl Checker<'_> {
    /// A literal value of a metadata entry or of a scope's comparison; `None` (reported) when
    /// it is not one.
    pub(super) fn meta_literal(&mut self, e: &ast::Expr, file: FileId) -> Option<Const> {
        let mut ctx = ExprCtx::new(file, RowCtx::Forbidden("source metadata is a literal"));
        let typed = self.expr(e, &mut ctx);
        if typed.ty == Ty::Error {
            return None;
        }
        match typed.kind {
            CKind::Const(Const::Null | Const::Duration(_)) => {}
            CKind::Const(c) => return Some(c),
            CKind::Neg(inner) => match inner.kind {
                CKind::Const(Const::Int(i)) => return i.checked_neg().map(Const::Int),
                CKind::Const(Const::Decimal(x)) => return Some(Const::Decimal(-x)),
                _ => {}
            },
            _ => {}
        }
        self.diags
            .push(Diagnostic::metadata_not_literal(Loc::new(file, e.span)));
        None
    }

    /// The metadata of a source declaration.
    pub(super) fn declare_meta(
        &mut self,
        source: &mut Source,
        meta: &ast::SourceMeta,
        file: FileId,
    ) {
        for entry in &meta.entries {
            let at = Loc::new(file, entry.key.span);
            if let Some(first) = source.meta.iter().find(|m| m.key == entry.key.name) {
                let d = Diagnostic::metadata_duplicate(at, &entry.key.name, first.loc);
                self.diags.push(d);
                continue;
            }
            if let Some(value) = self.meta_literal(&entry.value, file) {
                source.meta.push(MetaEntry {
                    key: entry.key.name.clone(),
                    value,
                    loc: at,
                });
            }
        }
    }

    /// Every metadata key has one type across the policy set (numbers, int or decimal, are one
    /// type).
    pub(super) fn check_meta_types(&mut self) {
        let mut first: HashMap<&str, (&'static str, Loc)> = HashMap::new();
        let mut diags = Vec::new();
        for source in self.model.sources.iter() {
            for m in &source.meta {
                let ty = const_type(&m.value);
                match first.get(m.key.as_str()) {
                    Some(&(t, at)) if t != ty => {
                        diags.push(Diagnostic::metadata_type_differs(m.loc, &m.key, ty, at, t));
                    }
                    Some(_) => {}
                    None => {
                        first.insert(&m.key, (ty, m.loc));
                    }
                }
            }
        }
        self.diags.extend(diags);
    }
}
