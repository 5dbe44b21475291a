//! Typing the string functions (`replace`, `regex_replace`, `substring`, `length`, `lpad`,
//! `rpad`) and `coalesce` (docs/language.md, "String functions").

use super::{Checker, ExprCtx};
use crate::diagnostics::Diagnostic;
use crate::model::{Builtin, CExpr, CKind, Const, Ty};
use pol_grammar::ast::{Expr, ExprKind, Literal};
use pol_grammar::Span;
use pol_runtime::program::{MAX_CONCAT_ARGS, MAX_PAD_LENGTH};

impl Checker<'_> {
    /// Types a call of a string function or `coalesce`; `None` if `builtin` is neither.
    pub(super) fn string_call(
        &mut self,
        builtin: Builtin,
        name: &str,
        args: &[Expr],
        span: Span,
        ctx: &mut ExprCtx,
    ) -> Option<CExpr> {
        Some(match builtin {
            Builtin::RegexReplace => self.regex_replace(args, span, ctx),
            Builtin::Coalesce => self.coalesce(args, span, ctx),
            Builtin::Replace
            | Builtin::Substring
            | Builtin::Length
            | Builtin::Lpad
            | Builtin::Rpad => self.text_function(builtin, name, args, span, ctx),
            _ => return None,
        })
    }

    fn text_function(
        &mut self,
        builtin: Builtin,
        name: &str,
        args: &[Expr],
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        let cargs: Vec<CExpr> = args.iter().map(|a| self.expr(a, ctx)).collect();
        if cargs.iter().any(|a| a.ty.is_error()) {
            return CExpr::error(span);
        }
        let text = |t: &Ty| t.is_textual();
        let int = |t: &Ty| matches!(t, Ty::Int);
        let tys: Vec<&Ty> = cargs.iter().map(|a| &a.ty).collect();
        let (ok, signature, result) = match builtin {
            Builtin::Replace => (
                matches!(tys.as_slice(), [a, b, c] if text(a) && text(b) && text(c)),
                "takes three texts (text, from, to)",
                Ty::Text,
            ),
            Builtin::Substring => (
                matches!(tys.as_slice(), [s, a] if text(s) && int(a))
                    || matches!(tys.as_slice(), [s, a, b] if text(s) && int(a) && int(b)),
                "takes a text, a start and an optional length (ints)",
                Ty::Text,
            ),
            Builtin::Length => (
                matches!(tys.as_slice(), [s] if text(s)),
                "takes one text",
                Ty::Int,
            ),
            _ => (
                matches!(tys.as_slice(), [s, n, f] if text(s) && int(n) && text(f)),
                "takes a text, a length (int) and a fill text",
                Ty::Text,
            ),
        };
        if !ok {
            let found: Vec<String> = tys.iter().map(|t| t.to_string()).collect();
            let at = self.loc(ctx, span);
            return self.type_error(
                Diagnostic::wrong_arguments(at, name, signature, &found),
                span,
            );
        }
        if matches!(builtin, Builtin::Lpad | Builtin::Rpad) {
            if let Some(n) = cargs.get(1).and_then(int_const) {
                if n > MAX_PAD_LENGTH {
                    let at = self.loc(ctx, cargs.get(1).map_or(span, |a| a.span));
                    let limit =
                        format!("the length is at most {MAX_PAD_LENGTH} characters, found {n}");
                    return self.type_error(Diagnostic::string_argument(at, name, &limit), span);
                }
            }
        }
        CExpr::new(CKind::Call(builtin, cargs), result, span)
    }

    /// `regex_replace(s, r"pattern", "replacement")`: the pattern and the replacement are string
    /// literals, the pattern compiled here.
    fn regex_replace(&mut self, args: &[Expr], span: Span, ctx: &mut ExprCtx) -> CExpr {
        let [subject, pattern, replacement] = args else {
            let found: Vec<String> = args.iter().map(|_| "…".to_string()).collect();
            let at = self.loc(ctx, span);
            let sig = "takes a text, a pattern and a replacement (string literals)";
            return self.type_error(
                Diagnostic::wrong_arguments(at, "regex_replace", sig, &found),
                span,
            );
        };
        let s = self.textual_arg(subject, ctx);
        let literal = |this: &mut Self, e: &Expr, what: &str| -> Option<CExpr> {
            match &e.kind {
                ExprKind::Lit(Literal::Str(lit)) => Some(CExpr::new(
                    CKind::Const(Const::Text(lit.value.clone())),
                    Ty::Text,
                    e.span,
                )),
                _ => {
                    let at = this.loc(ctx, e.span);
                    this.diags
                        .push(Diagnostic::regex_replace_not_literal(at, what));
                    None
                }
            }
        };
        let p = literal(self, pattern, "pattern");
        let r = literal(self, replacement, "replacement");
        let (Some(p), Some(r)) = (p, r) else {
            return CExpr::error(span);
        };
        if let CKind::Const(Const::Text(text)) = &p.kind {
            if let Err(e) = regex::Regex::new(text) {
                let at = self.loc(ctx, p.span);
                return self.type_error(Diagnostic::invalid_regex(at, &e), span);
            }
        }
        if s.ty.is_error() {
            return CExpr::error(span);
        }
        CExpr::new(
            CKind::Call(Builtin::RegexReplace, vec![s, p, r]),
            Ty::Text,
            span,
        )
    }

    /// `coalesce(a, b, …)`: two to 64 values of one type (texts and enums give a text; `null`
    /// fits any).
    fn coalesce(&mut self, args: &[Expr], span: Span, ctx: &mut ExprCtx) -> CExpr {
        let cargs: Vec<CExpr> = args.iter().map(|a| self.expr(a, ctx)).collect();
        if cargs.iter().any(|a| a.ty.is_error()) {
            return CExpr::error(span);
        }
        let count_ok = cargs.len() >= 2 && cargs.len() <= MAX_CONCAT_ARGS as usize;
        match common_type(&cargs).filter(|_| count_ok) {
            Some(ty) => CExpr::new(CKind::Call(Builtin::Coalesce, cargs), ty, span),
            None => {
                let found: Vec<String> = cargs.iter().map(|a| a.ty.to_string()).collect();
                let at = self.loc(ctx, span);
                let sig = "takes 2 to 64 values of one type";
                self.type_error(
                    Diagnostic::wrong_arguments(at, "coalesce", sig, &found),
                    span,
                )
            }
        }
    }
}

/// The type of `coalesce`'s result: the one type of its non-null arguments (texts and enums
/// together give a text), `null` if all are `null`; `None` if they differ or one is a
/// duration, fixed or calendar (not a value).
fn common_type(args: &[CExpr]) -> Option<Ty> {
    let mut ty = Ty::Null;
    for a in args {
        if matches!(a.ty, Ty::Null) {
            continue;
        }
        if matches!(a.ty, Ty::Duration | Ty::Months) {
            return None;
        }
        ty = match (&ty, &a.ty) {
            (Ty::Null, t) => t.clone(),
            (x, y) if x == y => x.clone(),
            (x, y) if x.is_textual() && y.is_textual() => Ty::Text,
            _ => return None,
        };
    }
    Some(ty)
}

/// An int constant (or a negated one).
fn int_const(e: &CExpr) -> Option<i64> {
    match &e.kind {
        CKind::Const(Const::Int(n)) => Some(*n),
        _ => None,
    }
}
