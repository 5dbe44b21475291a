//! Typing expressions (docs/language.md §3) into [`CExpr`].

use super::suggest::did_you_mean;
use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Builtin, CExpr, CKind, Const, SourceId, Ty};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{BinOp, Expr, ExprKind, Literal};
use pol_grammar::Span;

/// What `row` means where an expression is checked.
#[derive(Clone, Copy, Debug)]
pub enum RowCtx<'a> {
    /// `row` is not allowed; the reason is said in the error.
    Forbidden(&'static str),
    /// A rule covering these sources: `row.x` must exist in at least one.
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

fn lit_ty(l: &Literal) -> (Const, Ty) {
    match l {
        Literal::Int(i) => (Const::Int(*i), Ty::Int),
        Literal::Decimal(d) => (Const::Decimal(*d), Ty::Decimal),
        Literal::Str(s) => (Const::Text(s.value.clone()), Ty::Text),
        Literal::Bool(b) => (Const::Bool(*b), Ty::Bool),
        Literal::Null => (Const::Null, Ty::Null),
        Literal::Duration(d) => (Const::Duration(d.seconds), Ty::Duration),
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

    fn type_error(&mut self, ctx: &ExprCtx, span: Span, message: String, label: String) -> CExpr {
        let at = self.loc(ctx, span);
        self.diags
            .push(Diagnostic::new(Code::TypeMismatch, message, at, label));
        CExpr::error(span)
    }

    /// Checks a condition: an expression of type bool.
    pub fn condition(&mut self, e: &Expr, ctx: &mut ExprCtx) -> CExpr {
        let c = self.expr(e, ctx);
        if !matches!(c.ty, Ty::Bool | Ty::Error) {
            let at = self.loc(ctx, e.span);
            self.diags.push(
                Diagnostic::new(
                    Code::NotACondition,
                    format!("expected a condition (bool), found {}", c.ty),
                    at,
                    format!("this is {}", c.ty),
                )
                .with_help("compare it with something, e.g. `… == \"value\"`"),
            );
            return CExpr::error(e.span);
        }
        c
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
    )]
    pub fn expr(&mut self, e: &Expr, ctx: &mut ExprCtx) -> CExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Lit(l) => {
                let (c, ty) = lit_ty(l);
                CExpr::new(CKind::Const(c), ty, span)
            }
            ExprKind::List(items) => {
                let items: Vec<CExpr> = items.iter().map(|i| self.expr(i, ctx)).collect();
                let mut elem = Ty::Null;
                for i in &items {
                    if i.ty.is_error() || matches!(i.ty, Ty::Null) {
                        continue;
                    }
                    if matches!(elem, Ty::Null) {
                        elem = i.ty.clone();
                    } else if !i.ty.comparable(&elem) {
                        return self.type_error(
                            ctx,
                            i.span,
                            format!("list elements have different types: {elem} and {}", i.ty),
                            format!("this is {}", i.ty),
                        );
                    } else if matches!((&elem, &i.ty), (Ty::Int, Ty::Decimal)) {
                        elem = Ty::Decimal;
                    }
                }
                CExpr::new(CKind::List(items), Ty::List(Box::new(elem)), span)
            }
            ExprKind::Record(_) => {
                let at = self.loc(ctx, span);
                self.diags.push(Diagnostic::new(
                    Code::BadExpression,
                    "a record `{ … }` is only allowed in `test` blocks",
                    at,
                    "record here",
                ));
                CExpr::error(span)
            }
            ExprKind::UserField(f) => self.user_field(&f.name, f.span, span, ctx),
            ExprKind::RowField(f) => self.row_column(&f.name, f.span, span, ctx, "row."),
            ExprKind::Name(n) => {
                if let RowCtx::Column(_) = ctx.row {
                    return self.row_column(&n.name, n.span, span, ctx, "");
                }
                let at = self.loc(ctx, span);
                let mut d = Diagnostic::new(
                    Code::BadExpression,
                    format!("`{}` is not a value here", n.name),
                    at,
                    "bare name",
                )
                .with_help(format!(
                    "columns are read as `row.{0}`, subject fields as `user.{0}`",
                    n.name
                ));
                if self.model.subject_field(&n.name).is_some() {
                    d = d.with_fix(
                        format!("write `user.{}`", n.name),
                        at,
                        format!("user.{}", n.name),
                    );
                }
                self.diags.push(d);
                CExpr::error(span)
            }
            ExprKind::RowTagged(path) => {
                let name = path.dotted();
                let Some(tag) = self.resolve_tag(path, ctx.file) else {
                    return CExpr::error(span);
                };
                let one_source;
                let sources: &[SourceId] = match ctx.row {
                    RowCtx::Forbidden(why) => return self.row_forbidden(ctx, span, why),
                    RowCtx::Sources(s) => s,
                    RowCtx::Column(s) => {
                        one_source = [s];
                        &one_source
                    }
                };
                // Every column carrying `tag` or a tag below it, in source then column order.
                let holders: &[(SourceId, usize)] = self
                    .index
                    .columns_under_tag
                    .get(&tag)
                    .map_or(&[], Vec::as_slice);
                // The first holder's type, by position (a global rule covers thousands of
                // sources: no type is cloned per source).
                let mut ty: Option<(SourceId, usize)> = None;
                for &s in sources {
                    let src = &self.model.sources[s];
                    let from = holders.partition_point(|(hs, _)| *hs < s);
                    let to = holders.partition_point(|(hs, _)| *hs <= s);
                    let matching: Vec<usize> = holders[from..to].iter().map(|(_, c)| *c).collect();
                    match matching.as_slice() {
                        [] => ctx.tag_missing.push((s, name.clone(), span)),
                        [one] => {
                            let cty = &src.columns[*one].ty;
                            match ty {
                                None => ty = Some((s, *one)),
                                Some((fs, fc))
                                    if self.model.sources[fs].columns[fc].ty.comparable(cty) => {}
                                Some((fs, fc)) => {
                                    let t = self.model.sources[fs].columns[fc].ty.clone();
                                    let cty = cty.clone();
                                    return self.type_error(
                                        ctx,
                                        span,
                                        format!("`row[tagged {name}]` has different types across the sources it reads: {t} and {cty} (in `{}`)", src.name),
                                        "read here".into(),
                                    );
                                }
                            }
                        }
                        many => {
                            let cols: Vec<String> = many
                                .iter()
                                .map(|&i| format!("`{}`", src.columns[i].name))
                                .collect();
                            let second = src.columns[many[1]].loc;
                            let at = self.loc(ctx, span);
                            self.diags.push(
                                Diagnostic::new(
                                    Code::AmbiguousTaggedColumn,
                                    format!("`row[tagged {name}]` is ambiguous in source `{}`: columns {} are tagged {name}", src.name, cols.join(", ")),
                                    at,
                                    "ambiguous",
                                )
                                .with_secondary(second, "another column tagged here")
                                .with_help("read the column by name (`row.x`), or scope the rule to sources with one such column"),
                            );
                            return CExpr::error(span);
                        }
                    }
                }
                let ty = ty.map_or(Ty::Error, |(fs, fc)| {
                    self.model.sources[fs].columns[fc].ty.clone()
                });
                CExpr::new(CKind::RowTagged(tag), ty, span)
            }
            ExprKind::Value => match &ctx.value {
                Some(t) => CExpr::new(CKind::Value, t.clone(), span),
                None => {
                    let at = self.loc(ctx, span);
                    self.diags.push(Diagnostic::new(
                        Code::BadExpression,
                        "`value` is only defined inside an `expr(…)` technique",
                        at,
                        "not inside `expr(…)`",
                    ));
                    CExpr::error(span)
                }
            },
            ExprKind::Field(base, field) => {
                let b = self.expr(base, ctx);
                match (&b.kind, &b.ty) {
                    (_, Ty::Error) => CExpr::error(span),
                    (CKind::Row(name), Ty::Struct(fields)) => {
                        match fields.iter().find(|(n, _)| *n == field.name) {
                            Some((_, t)) => CExpr::new(
                                CKind::Row(format!("{name}.{}", field.name)),
                                t.clone(),
                                span,
                            ),
                            None => self.no_field(
                                ctx,
                                field,
                                fields.iter().map(|(n, _)| n.as_str()).collect(),
                            ),
                        }
                    }
                    (_, Ty::Struct(fields)) => {
                        match fields.iter().find(|(n, _)| *n == field.name) {
                            Some((_, t)) => CExpr::new(
                                CKind::Field(Box::new(b.clone()), field.name.clone()),
                                t.clone(),
                                span,
                            ),
                            None => self.no_field(
                                ctx,
                                field,
                                fields.iter().map(|(n, _)| n.as_str()).collect(),
                            ),
                        }
                    }
                    (_, t) => {
                        let t = t.clone();
                        self.type_error(
                            ctx,
                            field.span,
                            format!("{t} has no field `{}`", field.name),
                            "no such field".into(),
                        )
                    }
                }
            }
            ExprKind::Index(base, idx) => {
                let b = self.expr(base, ctx);
                let i = self.expr(idx, ctx);
                match &b.ty {
                    Ty::Error => CExpr::error(span),
                    Ty::Map(k, v) => {
                        if !i.ty.assignable_to(k) {
                            return self.type_error(
                                ctx,
                                idx.span,
                                format!("expected a key of type {k}, found {}", i.ty),
                                format!("this is {}", i.ty),
                            );
                        }
                        let v = (**v).clone();
                        CExpr::new(CKind::Index(Box::new(b), Box::new(i)), v, span)
                    }
                    Ty::List(t) => {
                        if !matches!(i.ty, Ty::Int | Ty::Error) {
                            return self.type_error(
                                ctx,
                                idx.span,
                                format!("a list index must be an int, found {}", i.ty),
                                format!("this is {}", i.ty),
                            );
                        }
                        let t = (**t).clone();
                        CExpr::new(CKind::Index(Box::new(b), Box::new(i)), t, span)
                    }
                    t => {
                        let t = t.clone();
                        self.type_error(
                            ctx,
                            span,
                            format!("{t} cannot be indexed"),
                            "indexed here".into(),
                        )
                    }
                }
            }
            ExprKind::Call(f, args) => self.call(f, args, span, ctx),
            ExprKind::Neg(inner) => {
                let c = self.expr(inner, ctx);
                match c.ty {
                    Ty::Int | Ty::Decimal | Ty::Duration | Ty::Error => {
                        let ty = c.ty.clone();
                        CExpr::new(CKind::Neg(Box::new(c)), ty, span)
                    }
                    ref t => {
                        let t = t.clone();
                        self.type_error(
                            ctx,
                            inner.span,
                            format!("cannot negate {t}"),
                            format!("this is {t}"),
                        )
                    }
                }
            }
            ExprKind::Not(inner) => {
                let c = self.condition(inner, ctx);
                CExpr::new(CKind::Not(Box::new(c)), Ty::Bool, span)
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span, ctx),
            ExprKind::Under(inner, path) => {
                let c = self.expr(inner, ctx);
                let ok = match &c.ty {
                    Ty::Purpose | Ty::Error => true,
                    t => t.element() == Some(&Ty::Purpose),
                };
                if !ok {
                    let at = self.loc(ctx, inner.span);
                    self.diags.push(
                        Diagnostic::new(
                            Code::NotHierarchical,
                            format!(
                                "`under` needs a hierarchical value (a purpose), found {}",
                                c.ty
                            ),
                            at,
                            format!("this is {}", c.ty),
                        )
                        .with_help(
                            "`under` compares purposes, e.g. `user.purposes under Research`",
                        ),
                    );
                    return CExpr::error(span);
                }
                match self.resolve_purpose(path, ctx.file) {
                    Some(p) => CExpr::new(CKind::Under(Box::new(c), p), Ty::Bool, span),
                    None => CExpr::error(span),
                }
            }
            ExprKind::If(c, a, b) => {
                let c = self.condition(c, ctx);
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
                        return self.type_error(
                            ctx,
                            b.span,
                            format!("`if` branches have different types: {x} and {y}"),
                            format!("this is {y}"),
                        );
                    }
                };
                CExpr::new(CKind::If(Box::new(c), Box::new(a2), Box::new(b2)), ty, span)
            }
            ExprKind::InGroup(g) | ExprKind::HasRole(g) => {
                let c = self.textual_arg(g, ctx);
                let kind = if matches!(e.kind, ExprKind::InGroup(_)) {
                    CKind::InGroup(Box::new(c))
                } else {
                    CKind::HasRole(Box::new(c))
                };
                CExpr::new(kind, Ty::Bool, span)
            }
            ExprKind::HasAttribute(a, v) => {
                let a = self.textual_arg(a, ctx);
                let v = v.as_ref().map(|v| Box::new(self.textual_arg(v, ctx)));
                CExpr::new(CKind::HasAttribute(Box::new(a), v), Ty::Bool, span)
            }
            ExprKind::ActingUnder(path) => match self.resolve_purpose(path, ctx.file) {
                Some(p) => CExpr::new(CKind::ActingUnder(p), Ty::Bool, span),
                None => CExpr::error(span),
            },
        }
    }

    fn textual_arg(&mut self, e: &Expr, ctx: &mut ExprCtx) -> CExpr {
        let c = self.expr(e, ctx);
        if !(c.ty.is_textual() || c.ty.is_error()) {
            let t = c.ty.clone();
            return self.type_error(
                ctx,
                e.span,
                format!("expected text, found {t}"),
                format!("this is {t}"),
            );
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
        let mut d = Diagnostic::new(
            Code::UndeclaredColumn,
            format!("no field `{}`", field.name),
            at,
            "unknown field",
        );
        if let Some(s) = did_you_mean(&field.name, names) {
            d = d.with_help(format!("did you mean `{s}`?")).with_fix(
                format!("replace with `{s}`"),
                at,
                s.to_string(),
            );
        }
        self.diags.push(d);
        CExpr::error(field.span)
    }

    fn row_forbidden(&mut self, ctx: &ExprCtx, span: Span, why: &'static str) -> CExpr {
        let at = self.loc(ctx, span);
        self.diags.push(
            Diagnostic::new(
                Code::RowInUserCondition,
                format!("`row` cannot be read here: {why}"),
                at,
                "reads the row",
            )
            .with_help(
                "conditions on rows belong in `where` or in row rules (`only show rows where …`)",
            ),
        );
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
                let mut d = Diagnostic::new(
                    Code::UndeclaredSubjectField,
                    format!("undeclared subject field `{name}`"),
                    at,
                    "not a field of `user`",
                );
                if let Some(s) =
                    did_you_mean(name, self.model.subject.iter().map(|f| f.name.as_str()))
                {
                    d = d.with_help(format!("did you mean `{s}`?")).with_fix(
                        format!("replace with `{s}`"),
                        at,
                        s.to_string(),
                    );
                } else {
                    d = d.with_help(format!("declare it: `subject {{ {name}: text }}`"));
                }
                self.diags.push(d);
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
        // The first holder (source, column): types are compared in place, not cloned per source.
        let mut ty: Option<(SourceId, usize)> = None;
        let holders = self.index.columns_by_name.get(name);
        let mut found_in = 0usize;
        for &s in sources {
            // `columns_by_name` lists holders in source order: binary search, not a scan (a
            // global rule covers thousands of sources).
            let col = holders.and_then(|h| {
                let i = h.partition_point(|(hs, _)| *hs < s);
                h.get(i).filter(|(hs, _)| *hs == s).map(|(_, c)| *c)
            });
            match col {
                None => ctx.missing.push((s, name.to_string(), span)),
                Some(c) => {
                    found_in += 1;
                    let cty = &self.model.sources[s].columns[c].ty;
                    match ty {
                        None => ty = Some((s, c)),
                        Some((first, fc))
                            if !self.model.sources[first].columns[fc].ty.comparable(cty) =>
                        {
                            let t = self.model.sources[first].columns[fc].ty.clone();
                            let cty = cty.clone();
                            return self.type_error(
                                ctx,
                                span,
                                format!(
                                    "`{prefix}{name}` has different types in the sources this rule covers: {t} in `{}`, {cty} in `{}`",
                                    self.model.sources[first].name, self.model.sources[s].name
                                ),
                                "read here".into(),
                            );
                        }
                        Some(_) => {}
                    }
                }
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
            let mut d = Diagnostic::new(
                Code::UndeclaredColumn,
                format!("no column `{name}` in {whose}"),
                at,
                "undeclared column",
            );
            if let Some(s) = did_you_mean(name, candidates) {
                d = d
                    .with_help(format!("did you mean `{prefix}{s}`?"))
                    .with_fix(format!("replace with `{s}`"), at, s.to_string());
            }
            if let [one] = sources {
                d = d.with_secondary(self.model.sources[*one].loc, "source declared here");
            }
            self.diags.push(d);
            return CExpr::error(span);
        }
        let ty = ty.map_or(Ty::Error, |(fs, fc)| {
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
                self.diags.push(Diagnostic::new(
                    Code::BadLiteral,
                    format!("`{}(…)` takes one string literal", f.name),
                    at,
                    "expected e.g. `date(\"1988-07-14\")`",
                ));
                return CExpr::error(span);
            };
            return if f.name == "date" {
                match parse_date(text) {
                    Some(d) => CExpr::new(CKind::Const(Const::Date(d)), Ty::Date, span),
                    None => {
                        self.diags.push(Diagnostic::new(
                            Code::BadLiteral,
                            format!("`{text}` is not a date"),
                            at,
                            "expected `YYYY-MM-DD`",
                        ));
                        CExpr::error(span)
                    }
                }
            } else {
                match parse_timestamp(text) {
                    Some(t) => CExpr::new(CKind::Const(Const::Timestamp(t)), Ty::Timestamp, span),
                    None => {
                        self.diags.push(Diagnostic::new(
                            Code::BadLiteral,
                            format!("`{text}` is not a timestamp"),
                            at,
                            "expected RFC 3339, e.g. `2024-05-01T10:00:00Z`",
                        ));
                        CExpr::error(span)
                    }
                }
            };
        }
        let Some(&(_, builtin)) = Builtin::ALL.iter().find(|(n, _)| *n == f.name) else {
            let at = self.loc(ctx, f.span);
            let mut d = Diagnostic::new(
                Code::BadCall,
                format!("unknown function `{}`", f.name),
                at,
                "not a built-in function",
            );
            let names = Builtin::ALL
                .iter()
                .map(|(n, _)| *n)
                .chain(["date", "timestamp"]);
            if let Some(s) = did_you_mean(&f.name, names) {
                d = d.with_help(format!("did you mean `{s}`?")).with_fix(
                    format!("replace with `{s}`"),
                    at,
                    s.to_string(),
                );
            }
            self.diags.push(d);
            return CExpr::error(span);
        };
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
            }),
        };
        match result {
            Ok(ty) => CExpr::new(CKind::Call(builtin, cargs), ty, span),
            Err(sig) => {
                let found: Vec<String> = tys.iter().map(|t| t.to_string()).collect();
                let at = self.loc(ctx, span);
                self.diags.push(Diagnostic::new(
                    Code::BadCall,
                    format!("`{}` {sig}, found ({})", f.name, found.join(", ")),
                    at,
                    "wrong arguments",
                ));
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
                return self.type_error(
                    ctx,
                    a.span,
                    format!("`matches` needs text on its left, found {t}"),
                    format!("this is {t}"),
                );
            }
            let ExprKind::Lit(Literal::Str(pat)) = &b.kind else {
                let at = self.loc(ctx, b.span);
                self.diags.push(
                    Diagnostic::new(
                        Code::BadRegex,
                        "`matches` needs a string literal pattern",
                        at,
                        "not a literal",
                    )
                    .with_help(
                        "patterns are compiled when the policy is checked; write it as `r\"…\"`",
                    ),
                );
                return CExpr::error(span);
            };
            if let Err(e) = regex::Regex::new(&pat.value) {
                let at = self.loc(ctx, b.span);
                self.diags.push(Diagnostic::new(
                    Code::BadRegex,
                    "invalid regular expression",
                    at,
                    first_line(&e.to_string()),
                ));
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
        let mismatch = |this: &mut Self, ctx: &ExprCtx, what: String| -> CExpr {
            this.diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    what,
                    Loc::new(ctx.file, b.span),
                    format!("this is {rt}"),
                )
                .with_secondary(Loc::new(ctx.file, a.span), format!("this is {lt}")),
            );
            CExpr::error(span)
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
                    self.diags.push(
                        Diagnostic::new(
                            Code::NullComparison,
                            "comparing with `null` is never true",
                            at,
                            "a null operand makes the condition unknown",
                        )
                        .with_help(format!("test for presence with `{fix}`"))
                        .with_fix(format!("use `{fix}`"), at, fix.clone()),
                    );
                    return CExpr::error(span);
                }
                if !lt.comparable(&rt) {
                    return mismatch(self, ctx, format!("cannot compare {lt} with {rt}"));
                }
                self.check_enum_literal(&l, &r, ctx);
                Ty::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if !lt.ordered(&rt) {
                    return mismatch(self, ctx, format!("cannot order {lt} and {rt}"));
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
                    return mismatch(
                        self,
                        ctx,
                        if op == BinOp::In {
                            format!("cannot look for {lt} in {rt}")
                        } else {
                            format!("{lt} cannot contain {rt}")
                        },
                    );
                }
                if let (Some(values), Some(lit)) = (
                    enum_domain(coll.element().unwrap_or(&Ty::Null)),
                    text_const(if op == BinOp::In { &l } else { &r }),
                ) {
                    if !values.contains(&lit.to_string()) {
                        let at = self.loc(ctx, if op == BinOp::In { a.span } else { b.span });
                        self.diags.push(Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "\"{lit}\" is not a value of {}",
                                coll.element().unwrap_or(&Ty::Null)
                            ),
                            at,
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
                            self.diags.push(Diagnostic::new(
                                Code::TypeMismatch,
                                "a date moves by whole days",
                                at,
                                "not a whole number of days",
                            ));
                            return CExpr::error(span);
                        }
                    }
                    Ty::Date
                }
                (Ty::Duration, Ty::Duration) => Ty::Duration,
                _ => {
                    return mismatch(
                        self,
                        ctx,
                        format!("cannot apply `{}` to {lt} and {rt}", op.as_str()),
                    )
                }
            },
            BinOp::And | BinOp::Or | BinOp::Matches => Ty::Bool,
        };
        CExpr::new(CKind::Binary(op, Box::new(l), Box::new(r)), ty, span)
    }

    /// `row.state == "XX"` where `state` is an enum without "XX": never true.
    fn check_enum_literal(&mut self, l: &CExpr, r: &CExpr, ctx: &ExprCtx) {
        for (e, lit) in [(l, r), (r, l)] {
            if let (Some(values), Some(text)) = (enum_domain(&e.ty), text_const(lit)) {
                if !values.contains(&text.to_string()) {
                    let at = self.loc(ctx, lit.span);
                    let mut d = Diagnostic::new(
                        Code::TypeMismatch,
                        format!("\"{text}\" is not a value of {}", e.ty),
                        at,
                        "never equal",
                    );
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

pub fn first_line(s: &str) -> String {
    // The regex crate's errors are multi-line with a caret diagram; keep the last line (the reason).
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}
