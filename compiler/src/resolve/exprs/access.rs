//! Reading inside a value: fields of records (`user.address.city`) and indexing of maps and
//! lists (`user.attributes["team"]`), docs/language.md §3.

use super::ExprCtx;
use crate::diagnostics::Diagnostic;
use crate::model::{CExpr, CKind, Ty};
use crate::resolve::Checker;
use crate::source_map::Loc;
use pol_grammar::ast::{Expr, Ident};
use pol_grammar::Span;

impl Checker<'_> {
    /// `base.field`: a field of a record-typed value.
    pub(super) fn field(
        &mut self,
        base: &Expr,
        field: &Ident,
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        let b = self.expr(base, ctx);
        let Ty::Struct(fields) = &b.ty else {
            if b.ty.is_error() {
                return CExpr::error(span);
            }
            let t = b.ty.clone();
            let at = self.loc(ctx, field.span);
            return self.type_error(Diagnostic::no_fields(at, &t, &field.name), field.span);
        };
        let Some((_, t)) = fields.iter().find(|(n, _)| *n == field.name) else {
            let names = fields.iter().map(|(n, _)| n.as_str()).collect();
            return self.no_field(ctx, field, names);
        };
        let kind = match &b.kind {
            CKind::Row(name) => CKind::Row(format!("{name}.{}", field.name)),
            _ => CKind::Field(Box::new(b.clone()), field.name.clone()),
        };
        CExpr::new(kind, t.clone(), span)
    }

    /// `base[index]`: a map read by key or a list read by int position.
    pub(super) fn index(
        &mut self,
        base: &Expr,
        idx: &Expr,
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        let b = self.expr(base, ctx);
        let i = self.expr(idx, ctx);
        let (key, elem) = match &b.ty {
            Ty::Error => return CExpr::error(span),
            Ty::Map(k, v) => ((**k).clone(), (**v).clone()),
            Ty::List(t) => (Ty::Int, (**t).clone()),
            t => {
                let t = t.clone();
                let at = self.loc(ctx, span);
                return self.type_error(Diagnostic::not_indexable(at, &t), span);
            }
        };
        let at = self.loc(ctx, idx.span);
        if let Some(d) = index_mismatch(at, &b.ty, &key, &i.ty) {
            return self.type_error(d, idx.span);
        }
        CExpr::new(CKind::Index(Box::new(b), Box::new(i)), elem, span)
    }
}

/// Why an index of type `index` (at `at`) cannot read `base` (whose keys have type `key`), if
/// it cannot.
fn index_mismatch(at: Loc, base: &Ty, key: &Ty, index: &Ty) -> Option<Diagnostic> {
    match base {
        Ty::Map(..) if !index.assignable_to(key) => Some(Diagnostic::map_key_type(at, key, index)),
        Ty::List(_) if !matches!(index, Ty::Int | Ty::Error) => {
            Some(Diagnostic::list_index_type(at, index))
        }
        _ => None,
    }
}
