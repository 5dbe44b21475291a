//! Unary operators, `under`, `if … then … else …` and the subject predicates (`in group`,
//! `has role`, `has attribute`, `acting under`), docs/language.md §3.

use super::ExprCtx;
use crate::diagnostics::Diagnostic;
use crate::model::{CExpr, CKind, Ty};
use crate::resolve::Checker;
use pol_grammar::ast::{Expr, Path};
use pol_grammar::Span;

impl Checker<'_> {
    /// `-x`: numbers and durations only.
    pub(super) fn negate(&mut self, inner: &Expr, span: Span, ctx: &mut ExprCtx) -> CExpr {
        let c = self.expr(inner, ctx);
        match c.ty {
            Ty::Int | Ty::Decimal | Ty::Duration | Ty::Months | Ty::Error => {
                let ty = c.ty.clone();
                CExpr::new(CKind::Neg(Box::new(c)), ty, span)
            }
            ref t => {
                let t = t.clone();
                let at = self.loc(ctx, inner.span);
                self.type_error(Diagnostic::cannot_negate(at, &t), inner.span)
            }
        }
    }

    /// `x under P`: `x` must be a purpose (or a list of purposes).
    pub(super) fn under(
        &mut self,
        inner: &Expr,
        path: &Path,
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        let c = self.expr(inner, ctx);
        let ok = match &c.ty {
            Ty::Purpose | Ty::Error => true,
            t => t.element() == Some(&Ty::Purpose),
        };
        if !ok {
            let at = self.loc(ctx, inner.span);
            self.diags.push(Diagnostic::not_hierarchical(at, &c.ty));
            return CExpr::error(span);
        }
        match self.resolve_purpose(path, ctx.file) {
            Some(p) => CExpr::new(CKind::Under(Box::new(c), p), Ty::Bool, span),
            None => CExpr::error(span),
        }
    }

    /// `if c then a else b`: the branches must have comparable types (int widens to decimal,
    /// `null` takes the other branch's type).
    pub(super) fn if_else(
        &mut self,
        (cond, a, b): (&Expr, &Expr, &Expr),
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        let c = self.condition(cond, ctx);
        let a2 = self.expr(a, ctx);
        let b2 = self.expr(b, ctx);
        let ty = match (&a2.ty, &b2.ty) {
            (Ty::Error, _) | (_, Ty::Error) => Ty::Error,
            (Ty::Null, t) | (t, Ty::Null) => t.clone(),
            (x, y) if x.comparable(y) => {
                if matches!((x, y), (Ty::Int, Ty::Decimal) | (Ty::Decimal, Ty::Int)) {
                    Ty::Decimal
                } else {
                    x.clone()
                }
            }
            (x, y) => {
                let (x, y) = (x.clone(), y.clone());
                let at = self.loc(ctx, b.span);
                return self.type_error(Diagnostic::if_branches_differ(at, &x, &y), b.span);
            }
        };
        CExpr::new(CKind::If(Box::new(c), Box::new(a2), Box::new(b2)), ty, span)
    }

    /// `user in group g` / `user has role r`: the argument is text.
    pub(super) fn membership(
        &mut self,
        g: &Expr,
        group: bool,
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        let c = self.textual_arg(g, ctx);
        let kind = if group {
            CKind::InGroup(Box::new(c))
        } else {
            CKind::HasRole(Box::new(c))
        };
        CExpr::new(kind, Ty::Bool, span)
    }

    /// `user has attribute a [= v]`: both text.
    pub(super) fn has_attribute(
        &mut self,
        a: &Expr,
        v: Option<&Expr>,
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        let a = self.textual_arg(a, ctx);
        let v = v.map(|v| Box::new(self.textual_arg(v, ctx)));
        CExpr::new(CKind::HasAttribute(Box::new(a), v), Ty::Bool, span)
    }

    /// `acting under P`.
    pub(super) fn acting_under(&mut self, path: &Path, span: Span, ctx: &ExprCtx) -> CExpr {
        match self.resolve_purpose(path, ctx.file) {
            Some(p) => CExpr::new(CKind::ActingUnder(p), Ty::Bool, span),
            None => CExpr::error(span),
        }
    }
}
