//! Leaf expressions: literals, lists, `value`, bare names and records (docs/language.md §3).

use super::{ExprCtx, RowCtx};
use crate::diagnostics::Diagnostic;
use crate::model::{CExpr, CKind, Const, Ty};
use crate::resolve::Checker;
use pol_grammar::ast::{Expr, Ident, Literal};
use pol_grammar::duration::DurationValue;
use pol_grammar::Span;

/// A literal's constant and type.
pub(super) fn literal(l: &Literal, span: Span) -> CExpr {
    let (c, ty) = match l {
        Literal::Int(i) => (Const::Int(*i), Ty::Int),
        Literal::Decimal(d) => (Const::Decimal(*d), Ty::Decimal),
        Literal::Str(s) => (Const::Text(s.value.clone()), Ty::Text),
        Literal::Bool(b) => (Const::Bool(*b), Ty::Bool),
        Literal::Null => (Const::Null, Ty::Null),
        Literal::Duration(d) => match d.value() {
            DurationValue::Seconds(s) => (Const::Duration(s), Ty::Duration),
            DurationValue::Months(m) => (Const::Months(m), Ty::Months),
        },
    };
    CExpr::new(CKind::Const(c), ty, span)
}

impl Checker<'_> {
    /// A list literal: its element type is the first non-null element's (int widens to decimal).
    pub(super) fn list(&mut self, items: &[Expr], span: Span, ctx: &mut ExprCtx) -> CExpr {
        let items: Vec<CExpr> = items.iter().map(|i| self.expr(i, ctx)).collect();
        let mut elem = Ty::Null;
        for i in &items {
            if i.ty.is_error() || matches!(i.ty, Ty::Null) {
                continue;
            }
            if matches!(elem, Ty::Null) {
                elem = i.ty.clone();
            } else if !i.ty.comparable(&elem) {
                let at = self.loc(ctx, i.span);
                let d = Diagnostic::list_elements_differ(at, &elem, &i.ty);
                return self.type_error(d, i.span);
            } else if matches!((&elem, &i.ty), (Ty::Int, Ty::Decimal)) {
                elem = Ty::Decimal;
            }
        }
        CExpr::new(CKind::List(items), Ty::List(Box::new(elem)), span)
    }

    /// A record `{ … }` outside a `test` block.
    pub(super) fn record_outside_test(&mut self, span: Span, ctx: &ExprCtx) -> CExpr {
        let at = self.loc(ctx, span);
        self.diags.push(Diagnostic::record_outside_test(at));
        CExpr::error(span)
    }

    /// A bare name: a column in a column declaration, an error elsewhere.
    pub(super) fn bare_name(&mut self, n: &Ident, span: Span, ctx: &mut ExprCtx) -> CExpr {
        if let RowCtx::Column(_) = ctx.row {
            return self.row_column(&n.name, n.span, span, ctx, "");
        }
        let at = self.loc(ctx, span);
        let is_subject_field = self.model.subject_field(&n.name).is_some();
        self.diags
            .push(Diagnostic::bare_name(at, &n.name, is_subject_field));
        CExpr::error(span)
    }

    /// `value`: the masked column's value inside `expr(…)`.
    pub(super) fn value(&mut self, span: Span, ctx: &ExprCtx) -> CExpr {
        match &ctx.value {
            Some(t) => CExpr::new(CKind::Value, t.clone(), span),
            None => {
                let at = self.loc(ctx, span);
                self.diags.push(Diagnostic::value_outside_expr(at));
                CExpr::error(span)
            }
        }
    }
}
