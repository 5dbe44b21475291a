//! Typing expressions (docs/language.md §3) into [`CExpr`].

use super::suggest::did_you_mean;
use super::Checker;
use crate::diagnostics::{Diagnostic, OperandMismatch};
use crate::model::{Builtin, CExpr, CKind, Const, SourceId, Ty};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{BinOp, Expr, ExprKind, Literal};
use pol_grammar::Span;

mod access;
mod operators;
mod strings;
mod tagged;
mod values;

/// What `row` means where an expression is checked.
#[derive(Clone, Copy, Debug)]
pub enum RowCtx<'a> {
    /// `row` is not allowed; the reason is said in the error.
    Forbidden(&'static str),
    /// A rule covering these sources (sorted by id, as a scope lists them): `row.x` must exist
    /// in at least one.
    Sources(&'a [SourceId]),
    /// A column declaration of this source: `row.x` and bare names are its columns.
    Column(SourceId),
}

/// The context an expression is checked in.
pub struct ExprCtx<'a> {
    pub file: FileId,
    pub row: RowCtx<'a>,
    /// The type of `value` inside `expr(…)`; `None` elsewhere.
    pub value: Option<Ty>,
    /// Filled with `row.x` references absent from some covered source: (source, column, span).
    pub missing: Vec<(SourceId, String, Span)>,
    /// Filled with `row[tagged T]` references no column of a covered source carries.
    pub tag_missing: Vec<(SourceId, String, Span)>,
}

impl<'a> ExprCtx<'a> {
    pub fn new(file: FileId, row: RowCtx<'a>) -> ExprCtx<'a> {
        ExprCtx {
            file,
            row,
            value: None,
            missing: Vec::new(),
            tag_missing: Vec::new(),
        }
    }
}

/// Parses `date("…")` text.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Parses `timestamp("…")` text (RFC 3339).
pub fn parse_timestamp(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

impl Checker<'_> {
    fn loc(&self, ctx: &ExprCtx, span: Span) -> Loc {
        Loc::new(ctx.file, span)
    }

    /// Reports a type error (built by its constructor in `diagnostics::catalog`) and gives the
    /// error expression for `span`.
    fn type_error(&mut self, d: Diagnostic, span: Span) -> CExpr {
        self.diags.push(d);
        CExpr::error(span)
    }

    /// Checks a condition: an expression of type bool.
    pub fn condition(&mut self, e: &Expr, ctx: &mut ExprCtx) -> CExpr {
        let c = self.expr(e, ctx);
        if !matches!(c.ty, Ty::Bool | Ty::Error) {
            let at = self.loc(ctx, e.span);
            self.diags.push(Diagnostic::not_a_condition(at, &c.ty));
            return CExpr::error(e.span);
        }
        c
    }

    /// Types an expression: one step per kind of expression.
    pub fn expr(&mut self, e: &Expr, ctx: &mut ExprCtx) -> CExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Lit(l) => values::literal(l, span),
            ExprKind::List(items) => self.list(items, span, ctx),
            ExprKind::Record(_) => self.record_outside_test(span, ctx),
            ExprKind::UserField(f) => self.user_field(&f.name, f.span, span, ctx),
            ExprKind::RowField(f) => self.row_column(&f.name, f.span, span, ctx, "row."),
            ExprKind::Name(n) => self.bare_name(n, span, ctx),
            ExprKind::RowTagged(path) => self.row_tagged(path, span, ctx),
            ExprKind::Value => self.value(span, ctx),
            ExprKind::Field(base, field) => self.field(base, field, span, ctx),
            ExprKind::Index(base, idx) => self.index(base, idx, span, ctx),
            ExprKind::Call(f, args) => self.call(f, args, span, ctx),
            ExprKind::Neg(inner) => self.negate(inner, span, ctx),
            ExprKind::Not(inner) => {
                let c = self.condition(inner, ctx);
                CExpr::new(CKind::Not(Box::new(c)), Ty::Bool, span)
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span, ctx),
            ExprKind::Under(inner, path) => self.under(inner, path, span, ctx),
            ExprKind::If(c, a, b) => self.if_else((c, a, b), span, ctx),
            ExprKind::InGroup(g) => self.membership(g, true, span, ctx),
            ExprKind::HasRole(r) => self.membership(r, false, span, ctx),
            ExprKind::HasAttribute(a, v) => self.has_attribute(a, v.as_deref(), span, ctx),
            ExprKind::ActingUnder(path) => self.acting_under(path, span, ctx),
            ExprKind::InTable(inner, table) => self.in_table(inner, table, span, ctx),
        }
    }

    fn textual_arg(&mut self, e: &Expr, ctx: &mut ExprCtx) -> CExpr {
        let c = self.expr(e, ctx);
        if !(c.ty.is_textual() || c.ty.is_error()) {
            let t = c.ty.clone();
            let at = self.loc(ctx, e.span);
            return self.type_error(Diagnostic::expected_text(at, &t), e.span);
        }
        c
    }

    fn no_field(
        &mut self,
        ctx: &ExprCtx,
        field: &pol_grammar::ast::Ident,
        names: Vec<&str>,
    ) -> CExpr {
        let at = self.loc(ctx, field.span);
        let suggestion = did_you_mean(&field.name, names);
        self.diags
            .push(Diagnostic::unknown_field(at, &field.name, suggestion));
        CExpr::error(field.span)
    }

    fn row_forbidden(&mut self, ctx: &ExprCtx, span: Span, why: &'static str) -> CExpr {
        let at = self.loc(ctx, span);
        self.diags.push(Diagnostic::row_in_user_condition(at, why));
        CExpr::error(span)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn user_field(&mut self, name: &str, name_span: Span, span: Span, ctx: &mut ExprCtx) -> CExpr {
        match self.model.subject_field(name) {
            Some(i) => CExpr::new(CKind::User(i), self.model.subject[i].ty.clone(), span),
            None => {
                let at = self.loc(ctx, name_span);
                let suggestion =
                    did_you_mean(name, self.model.subject.iter().map(|f| f.name.as_str()));
                self.diags
                    .push(Diagnostic::undeclared_subject_field(at, name, suggestion));
                CExpr::error(span)
            }
        }
    }

    /// `row.NAME` (or a bare name in a column declaration).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn row_column(
        &mut self,
        name: &str,
        name_span: Span,
        span: Span,
        ctx: &mut ExprCtx,
        prefix: &str,
    ) -> CExpr {
        let one_source;
        let sources: &[SourceId] = match ctx.row {
            RowCtx::Forbidden(why) => return self.row_forbidden(ctx, span, why),
            RowCtx::Sources(s) => s,
            RowCtx::Column(s) => {
                one_source = [s];
                &one_source
            }
        };
        // The first holder (source, column, position among the holders): types are compared in
        // place, not cloned per source.
        let mut ty: Option<(SourceId, usize, usize)> = None;
        let holders = self.index.columns_by_name.get(name);
        // Holders of one type are comparable with each other: only a name of mixed types needs
        // a comparison per covered source, and that by type class.
        let mixed = self.index.mixed_types.get(name);
        let mut found_in = 0usize;
        // `columns_by_name` lists holders in source order and a scope lists its sources in
        // order: each search starts where the previous one ended (a global rule covers
        // thousands of sources).
        let mut from = 0usize;
        let mut previous: Option<SourceId> = None;
        for &s in sources {
            if previous.is_some_and(|p| s < p) {
                from = 0;
            }
            previous = Some(s);
            let col = holders.and_then(|h| {
                let rest = h.get(from..)?;
                // Usually the next holder is already on `s` or beyond: no search then.
                let i = from
                    + match rest.first() {
                        Some((hs, _)) if *hs >= s => 0,
                        _ => rest.partition_point(|(hs, _)| *hs < s),
                    };
                from = i;
                h.get(i).filter(|(hs, _)| *hs == s).map(|(_, c)| (i, *c))
            });
            let Some((i, c)) = col else {
                ctx.missing.push((s, name.to_string(), span));
                continue;
            };
            found_in += 1;
            let Some((first, fc, fi)) = ty else {
                ty = Some((s, c, i));
                continue;
            };
            let differs = mixed.is_some_and(|m| match (m.of(fi), m.of(i)) {
                (Some(a), Some(b)) => !a.comparable(b),
                _ => false,
            });
            if differs {
                let t = self.model.sources[first].columns[fc].ty.clone();
                let cty = self.model.sources[s].columns[c].ty.clone();
                let at = self.loc(ctx, span);
                let d = Diagnostic::row_types_differ(
                    at,
                    &format!("{prefix}{name}"),
                    (&t, &self.model.sources[first].name),
                    (&cty, &self.model.sources[s].name),
                );
                return self.type_error(d, span);
            }
        }
        if found_in == 0 {
            // Nothing to lock out: the name is simply wrong.
            ctx.missing.retain(|(_, n, _)| n != name);
            let at = self.loc(ctx, name_span);
            let candidates: Vec<&str> = sources
                .iter()
                .flat_map(|&s| {
                    self.model.sources[s]
                        .columns
                        .iter()
                        .map(|c| c.name.as_str())
                })
                .collect();
            let whose = match sources {
                [one] => format!("source `{}`", self.model.sources[*one].name),
                [] => "any source this rule covers (it covers none)".to_string(),
                _ => format!("any of the {} sources this rule covers", sources.len()),
            };
            let suggestion = did_you_mean(name, candidates);
            let mut d = Diagnostic::unknown_row_column(at, name, &whose, prefix, suggestion);
            if let [one] = sources {
                d = d.with_secondary(self.model.sources[*one].loc, "source declared here");
            }
            self.diags.push(d);
            return CExpr::error(span);
        }
        let ty = ty.map_or(Ty::Error, |(fs, fc, _)| {
            self.model.sources[fs].columns[fc].ty.clone()
        });
        CExpr::new(CKind::Row(name.to_string()), ty, span)
    }

    fn call(
        &mut self,
        f: &pol_grammar::ast::Ident,
        args: &[Expr],
        span: Span,
        ctx: &mut ExprCtx,
    ) -> CExpr {
        // Literal constructors.
        if f.name == "date" || f.name == "timestamp" {
            let text = match args {
                [Expr {
                    kind: ExprKind::Lit(Literal::Str(s)),
                    ..
                }] => Some(&s.value),
                _ => None,
            };
            let at = self.loc(ctx, span);
            let Some(text) = text else {
                self.diags
                    .push(Diagnostic::literal_call_arguments(at, &f.name));
                return CExpr::error(span);
            };
            return if f.name == "date" {
                match parse_date(text) {
                    Some(d) => CExpr::new(CKind::Const(Const::Date(d)), Ty::Date, span),
                    None => {
                        self.diags.push(Diagnostic::not_a_date(at, text));
                        CExpr::error(span)
                    }
                }
            } else {
                match parse_timestamp(text) {
                    Some(t) => CExpr::new(CKind::Const(Const::Timestamp(t)), Ty::Timestamp, span),
                    None => {
                        self.diags.push(Diagnostic::not_a_timestamp(at, text));
                        CExpr::error(span)
                    }
                }
            };
        }
        let Some(&(_, builtin)) = Builtin::ALL.iter().find(|(n, _)| *n == f.name) else {
            let at = self.loc(ctx, f.span);
            let names = Builtin::ALL
                .iter()
                .map(|(n, _)| *n)
                .chain(["date", "timestamp"]);
            let suggestion = did_you_mean(&f.name, names);
            self.diags
                .push(Diagnostic::unknown_function(at, &f.name, suggestion));
            return CExpr::error(span);
        };
        if let Some(c) = self.string_call(builtin, &f.name, args, span, ctx) {
            return c;
        }
        let cargs: Vec<CExpr> = args.iter().map(|a| self.expr(a, ctx)).collect();
        if cargs.iter().any(|a| a.ty.is_error()) {
            return CExpr::error(span);
        }
        let tys: Vec<&Ty> = cargs.iter().map(|a| &a.ty).collect();
        let result = match (builtin, tys.as_slice()) {
            (Builtin::Lower | Builtin::Upper, [t]) if t.is_textual() => Ok(Ty::Text),
            (Builtin::Len, [t]) if t.is_textual() || t.element().is_some() => Ok(Ty::Int),
            (Builtin::Concat, ts)
                if !ts.is_empty()
                    && ts.iter().all(|t| {
                        t.is_textual()
                            || t.is_numeric()
                            || t.is_temporal()
                            || matches!(t, Ty::Bool | Ty::Null)
                    }) =>
            {
                Ok(Ty::Text)
            }
            (Builtin::StartsWith | Builtin::EndsWith, [a, b])
                if a.is_textual() && b.is_textual() =>
            {
                Ok(Ty::Bool)
            }
            (Builtin::Now, []) => Ok(Ty::Timestamp),
            (Builtin::Today, []) => Ok(Ty::Date),
            (Builtin::Age, [t]) if t.is_temporal() => Ok(Ty::Int),
            (Builtin::Has, [_]) => Ok(Ty::Bool),
            _ => Err(match builtin {
                Builtin::Lower | Builtin::Upper => "takes one text",
                Builtin::Len => "takes one text or list",
                Builtin::Concat => "takes one or more values of simple types",
                Builtin::StartsWith | Builtin::EndsWith => "takes two texts",
                Builtin::Now | Builtin::Today => "takes no arguments",
                Builtin::Age => "takes one date or timestamp",
                Builtin::Has => "takes one value",
                // Typed by `string_call`.
                _ => "takes other arguments",
            }),
        };
        match result {
            Ok(ty) => CExpr::new(CKind::Call(builtin, cargs), ty, span),
            Err(sig) => {
                let found: Vec<String> = tys.iter().map(|t| t.to_string()).collect();
                let at = self.loc(ctx, span);
                self.diags
                    .push(Diagnostic::wrong_arguments(at, &f.name, sig, &found));
                CExpr::error(span)
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span, ctx: &mut ExprCtx) -> CExpr {
        if matches!(op, BinOp::And | BinOp::Or) {
            let l = self.condition(a, ctx);
            let r = self.condition(b, ctx);
            return CExpr::new(CKind::Binary(op, Box::new(l), Box::new(r)), Ty::Bool, span);
        }
        let l = self.expr(a, ctx);
        if op == BinOp::Matches {
            if !(l.ty.is_textual() || l.ty.is_error()) {
                let t = l.ty.clone();
                let at = self.loc(ctx, a.span);
                return self.type_error(Diagnostic::matches_needs_text(at, &t), a.span);
            }
            let ExprKind::Lit(Literal::Str(pat)) = &b.kind else {
                let at = self.loc(ctx, b.span);
                self.diags.push(Diagnostic::pattern_not_literal(at));
                return CExpr::error(span);
            };
            if let Err(e) = regex::Regex::new(&pat.value) {
                let at = self.loc(ctx, b.span);
                self.diags.push(Diagnostic::invalid_regex(at, &e));
                return CExpr::error(span);
            }
            return CExpr::new(
                CKind::Matches(Box::new(l), pat.value.clone()),
                Ty::Bool,
                span,
            );
        }
        let r = self.expr(b, ctx);
        if l.ty.is_error() || r.ty.is_error() {
            return CExpr::error(span);
        }
        let (lt, rt) = (l.ty.clone(), r.ty.clone());
        let mismatch = |this: &mut Self, ctx: &ExprCtx, what: OperandMismatch| -> CExpr {
            let (at, left_at) = (Loc::new(ctx.file, b.span), Loc::new(ctx.file, a.span));
            let d = Diagnostic::operand_mismatch(at, left_at, what, &lt, &rt);
            this.type_error(d, span)
        };
        let ty = match op {
            BinOp::Eq | BinOp::Ne => {
                if matches!(lt, Ty::Null) || matches!(rt, Ty::Null) {
                    let at = self.loc(ctx, span);
                    let other = if matches!(lt, Ty::Null) { b } else { a };
                    let other_text = self
                        .files
                        .snippet(Loc::new(ctx.file, other.span))
                        .to_string();
                    let fix = if op == BinOp::Eq {
                        format!("not has({other_text})")
                    } else {
                        format!("has({other_text})")
                    };
                    self.diags.push(Diagnostic::null_comparison(at, &fix));
                    return CExpr::error(span);
                }
                if let Some(d) = self.calendar_mix(&l, &r, ctx, "compared with a fixed duration") {
                    return self.type_error(d, span);
                }
                if !lt.comparable(&rt) {
                    return mismatch(self, ctx, OperandMismatch::Compare);
                }
                self.check_enum_literal(&l, &r, ctx);
                Ty::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if let Some(d) = self.calendar_mix(&l, &r, ctx, "compared with a fixed duration") {
                    return self.type_error(d, span);
                }
                if !lt.ordered(&rt) {
                    return mismatch(self, ctx, OperandMismatch::Order);
                }
                Ty::Bool
            }
            BinOp::In | BinOp::Contains => {
                let (elem, coll) = if op == BinOp::In {
                    (&lt, &rt)
                } else {
                    (&rt, &lt)
                };
                let ok = match coll {
                    Ty::List(t) | Ty::Set(t) => elem.comparable(t) || matches!(**t, Ty::Null),
                    Ty::Map(k, _) => elem.comparable(k),
                    t if t.is_textual() => elem.is_textual(),
                    _ => false,
                };
                if !ok {
                    let what = if op == BinOp::In {
                        OperandMismatch::LookIn
                    } else {
                        OperandMismatch::Contain
                    };
                    return mismatch(self, ctx, what);
                }
                if let (Some(values), Some(lit)) = (
                    enum_domain(coll.element().unwrap_or(&Ty::Null)),
                    text_const(if op == BinOp::In { &l } else { &r }),
                ) {
                    if !values.contains(&lit.to_string()) {
                        let at = self.loc(ctx, if op == BinOp::In { a.span } else { b.span });
                        let ty = coll.element().unwrap_or(&Ty::Null);
                        self.diags.push(Diagnostic::not_an_enum_value(
                            at,
                            lit,
                            ty,
                            "never matches",
                        ));
                    }
                }
                Ty::Bool
            }
            BinOp::Add | BinOp::Sub => match (&lt, &rt) {
                (Ty::Int, Ty::Int) => Ty::Int,
                (x, y) if x.is_numeric() && y.is_numeric() => Ty::Decimal,
                (Ty::Timestamp, Ty::Duration) => Ty::Timestamp,
                (Ty::Date, Ty::Duration) => {
                    if let CKind::Const(Const::Duration(s)) = &r.kind {
                        if s % 86_400 != 0 {
                            let at = self.loc(ctx, b.span);
                            self.diags.push(Diagnostic::date_moves_by_days(at));
                            return CExpr::error(span);
                        }
                    }
                    Ty::Date
                }
                (Ty::Duration, Ty::Duration) => Ty::Duration,
                // Calendar months move a date or a timestamp, clamped to the month's last day.
                (Ty::Timestamp, Ty::Months) => Ty::Timestamp,
                (Ty::Date, Ty::Months) => Ty::Date,
                (Ty::Months, Ty::Months) => Ty::Months,
                _ => {
                    if let Some(d) = self.calendar_mix(&l, &r, ctx, "added to a fixed duration") {
                        return self.type_error(d, span);
                    }
                    return mismatch(self, ctx, OperandMismatch::Apply(op.as_str()));
                }
            },
            BinOp::And | BinOp::Or | BinOp::Matches => Ty::Bool,
        };
        CExpr::new(CKind::Binary(op, Box::new(l), Box::new(r)), ty, span)
    }

    /// E0048 when one operand is a calendar duration and the other a fixed one: months have
    /// no length in seconds.
    fn calendar_mix(&self, l: &CExpr, r: &CExpr, ctx: &ExprCtx, why: &str) -> Option<Diagnostic> {
        let calendar = match (&l.ty, &r.ty) {
            (Ty::Months, Ty::Duration) => l,
            (Ty::Duration, Ty::Months) => r,
            _ => return None,
        };
        Some(Diagnostic::calendar_duration(
            self.loc(ctx, calendar.span),
            &format!("months and years cannot be {why}"),
        ))
    }

    /// `row.state == "XX"` where `state` is an enum without "XX": never true.
    fn check_enum_literal(&mut self, l: &CExpr, r: &CExpr, ctx: &ExprCtx) {
        for (e, lit) in [(l, r), (r, l)] {
            if let (Some(values), Some(text)) = (enum_domain(&e.ty), text_const(lit)) {
                if !values.contains(&text.to_string()) {
                    let at = self.loc(ctx, lit.span);
                    let mut d = Diagnostic::not_an_enum_value(at, text, &e.ty, "never equal");
                    if let Some(s) = did_you_mean(text, values.iter().map(|s| s.as_str())) {
                        d = d.with_help(format!("did you mean \"{s}\"?")).with_fix(
                            format!("replace with \"{s}\""),
                            at,
                            format!("\"{s}\""),
                        );
                    }
                    self.diags.push(d);
                }
            }
        }
    }
}

fn enum_domain(t: &Ty) -> Option<&Vec<String>> {
    match t {
        Ty::Enum(v) => Some(v),
        _ => None,
    }
}

fn text_const(e: &CExpr) -> Option<&str> {
    match &e.kind {
        CKind::Const(Const::Text(s)) => Some(s),
        _ => None,
    }
}
