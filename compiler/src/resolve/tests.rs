//! `test` blocks: their users, rows, clocks and expectations, checked against the declarations.

use super::exprs::{parse_date, parse_timestamp};
use super::suggest::did_you_mean;
use super::Checker;
use crate::diagnostics::Diagnostic;
use crate::model::{SourceId, TestCase, TestStep, Ty};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast::{Decl, Expr, ExprKind, Literal, TestStmt};
use pol_grammar::duration::DurationValue;
use serde_json::{Map, Value as Json};

impl Checker<'_> {
    /// A test value: a constant, list or record, as JSON.
    fn test_value(&mut self, e: &Expr, file: FileId) -> Option<Json> {
        let bad = |this: &mut Self| {
            this.diags
                .push(Diagnostic::test_value_not_constant(Loc::new(file, e.span)));
            None
        };
        Some(match &e.kind {
            ExprKind::Lit(l) => match l {
                Literal::Int(i) => Json::from(*i),
                Literal::Decimal(d) => serde_json::Number::from_f64(*d)
                    .map(Json::Number)
                    .unwrap_or(Json::Null),
                Literal::Str(s) => Json::String(s.value.clone()),
                Literal::Bool(b) => Json::Bool(*b),
                Literal::Null => Json::Null,
                Literal::Duration(d) => match d.value() {
                    DurationValue::Seconds(s) => Json::from(s),
                    DurationValue::Months(_) => return bad(self),
                },
            },
            ExprKind::Neg(inner) => match self.test_value(inner, file)? {
                Json::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        Json::from(-i)
                    } else {
                        serde_json::Number::from_f64(-n.as_f64().unwrap_or(0.0))
                            .map(Json::Number)
                            .unwrap_or(Json::Null)
                    }
                }
                _ => return bad(self),
            },
            ExprKind::List(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.push(self.test_value(i, file)?);
                }
                Json::Array(out)
            }
            ExprKind::Record(entries) => {
                let mut out = Map::new();
                for (k, v) in entries {
                    let v = self.test_value(v, file)?;
                    out.insert(k.name.clone(), v);
                }
                Json::Object(out)
            }
            ExprKind::Call(f, args) if f.name == "date" || f.name == "timestamp" => {
                let text = match args.as_slice() {
                    [Expr {
                        kind: ExprKind::Lit(Literal::Str(s)),
                        ..
                    }] => s.value.clone(),
                    _ => return bad(self),
                };
                let ok = if f.name == "date" {
                    parse_date(&text).is_some()
                } else {
                    parse_timestamp(&text).is_some()
                };
                if !ok {
                    self.diags.push(Diagnostic::test_literal_invalid(
                        Loc::new(file, e.span),
                        &text,
                        &f.name,
                    ));
                    return None;
                }
                Json::String(text)
            }
            _ => return bad(self),
        })
    }

    fn record_entries<'e>(
        &mut self,
        e: &'e Expr,
        file: FileId,
    ) -> Option<&'e [(pol_grammar::ast::RecordKey, Expr)]> {
        match &e.kind {
            ExprKind::Record(entries) => Some(entries),
            _ => {
                self.diags
                    .push(Diagnostic::test_not_a_record(Loc::new(file, e.span)));
                None
            }
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub(super) fn check_tests(&mut self) {
        let asts = self.asts;
        for (fi, file_ast) in asts.iter().enumerate() {
            let file = FileId(fi as u32);
            for decl in &file_ast.decls {
                let Decl::Test(t) = decl else { continue };
                let mut steps = Vec::new();
                let mut current: Option<SourceId> = None;
                let mut has_row = false;
                for stmt in &t.stmts {
                    let at = Loc::new(file, stmt.span());
                    match stmt {
                        TestStmt::GivenUser { record, .. } => {
                            let Some(entries) = self.record_entries(record, file) else {
                                continue;
                            };
                            let mut obj = Map::new();
                            for (k, v) in entries {
                                let kat = Loc::new(file, k.span);
                                let Some(field) = self.model.subject_field(&k.name) else {
                                    let suggestion = did_you_mean(
                                        &k.name,
                                        self.model.subject.iter().map(|f| f.name.as_str()),
                                    );
                                    self.diags.push(Diagnostic::undeclared_test_subject_field(
                                        kat, &k.name, suggestion,
                                    ));
                                    continue;
                                };
                                let Some(value) = self.test_value(v, file) else {
                                    continue;
                                };
                                let ty = self.model.subject[field].ty.clone();
                                if !json_fits(&value, &ty) {
                                    self.diags.push(Diagnostic::test_value_does_not_fit(
                                        Loc::new(file, v.span),
                                        &k.name,
                                        &ty,
                                    ));
                                    continue;
                                }
                                obj.insert(k.name.clone(), value);
                            }
                            steps.push(TestStep::User(Json::Object(obj), at));
                        }
                        TestStmt::GivenNow { value, .. } => {
                            match self.test_value(value, file) {
                                Some(Json::String(s)) => match parse_timestamp(&s).or_else(|| {
                                    parse_date(&s)
                                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                                        .map(|t| t.and_utc())
                                }) {
                                    Some(ts) => steps.push(TestStep::Now(ts, at)),
                                    None => self.diags.push(Diagnostic::test_clock_not_timestamp(
                                        Loc::new(file, value.span),
                                    )),
                                },
                                Some(_) => {
                                    self.diags
                                        .push(Diagnostic::test_clock_not_timestamp(Loc::new(
                                            file, value.span,
                                        )))
                                }
                                None => {}
                            }
                        }
                        TestStmt::GivenRow { source, record, .. } => {
                            let Some(s) = self.resolve_source(source, file) else {
                                current = None;
                                has_row = true;
                                continue;
                            };
                            let Some(entries) = self.record_entries(record, file) else {
                                continue;
                            };
                            let mut obj = Map::new();
                            for (k, v) in entries {
                                if let Some(value) = self.test_value(v, file) {
                                    obj.insert(k.name.clone(), value);
                                }
                            }
                            current = Some(s);
                            has_row = true;
                            steps.push(TestStep::Row {
                                source: s,
                                row: obj,
                                loc: at,
                            });
                        }
                        TestStmt::ExpectRow { record, .. } => {
                            let Some(s) = self.need_row(current, has_row, at) else {
                                continue;
                            };
                            let Some(entries) = self.record_entries(record, file) else {
                                continue;
                            };
                            let mut cells = Vec::new();
                            for (k, v) in entries {
                                let kat = Loc::new(file, k.span);
                                if self.model.sources[s].column(&k.name).is_none() {
                                    self.unknown_test_column(s, &k.name, kat);
                                    continue;
                                }
                                if let Some(value) = self.test_value(v, file) {
                                    cells.push((
                                        k.name.clone(),
                                        value,
                                        Loc::new(file, k.span.to(v.span)),
                                    ));
                                }
                            }
                            steps.push(TestStep::ExpectRow(cells, at));
                        }
                        TestStmt::ExpectHidden(_) => {
                            if self.need_row(current, has_row, at).is_some() {
                                steps.push(TestStep::ExpectHidden(at));
                            }
                        }
                        TestStmt::ExpectShown(_) => {
                            if self.need_row(current, has_row, at).is_some() {
                                steps.push(TestStep::ExpectShown(at));
                            }
                        }
                        TestStmt::ExpectVisible { columns, .. } => {
                            let Some(s) = self.need_row(current, has_row, at) else {
                                continue;
                            };
                            let mut names = Vec::new();
                            for c in columns {
                                let name = c.dotted();
                                if self.model.sources[s].column(&name).is_none() {
                                    self.unknown_test_column(s, &name, Loc::new(file, c.span));
                                    continue;
                                }
                                names.push(name);
                            }
                            steps.push(TestStep::ExpectVisible(names, at));
                        }
                    }
                }
                let expects = t.stmts.iter().any(|s| {
                    matches!(
                        s,
                        TestStmt::ExpectRow { .. }
                            | TestStmt::ExpectHidden(_)
                            | TestStmt::ExpectShown(_)
                            | TestStmt::ExpectVisible { .. }
                    )
                });
                if !expects {
                    self.diags.push(Diagnostic::test_expects_nothing(
                        Loc::new(file, t.name.span),
                        &t.name.value,
                    ));
                }
                self.model.tests.push(TestCase {
                    name: t.name.value.clone(),
                    loc: Loc::new(file, t.name.span),
                    steps,
                });
            }
        }
    }

    fn need_row(&mut self, current: Option<SourceId>, has_row: bool, at: Loc) -> Option<SourceId> {
        if current.is_none() && !has_row {
            self.diags.push(Diagnostic::expect_without_row(at));
        }
        current
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn unknown_test_column(&mut self, s: SourceId, name: &str, at: Loc) {
        let src = &self.model.sources[s];
        let suggestion = did_you_mean(name, src.columns.iter().map(|c| c.name.as_str()));
        let d = Diagnostic::unknown_test_column(at, name, &src.name, src.loc, suggestion);
        self.diags.push(d);
    }
}

/// Does a JSON test value fit a subject field's type?
fn json_fits(v: &Json, ty: &Ty) -> bool {
    match (v, ty) {
        (Json::Null, _) | (_, Ty::Error) => true,
        (Json::Bool(_), Ty::Bool) => true,
        (Json::Number(n), Ty::Int) => n.is_i64(),
        (Json::Number(_), Ty::Decimal) => true,
        (Json::String(_), Ty::Text | Ty::Purpose) => true,
        (Json::String(s), Ty::Enum(values)) => values.contains(s),
        (Json::String(s), Ty::Date) => parse_date(s).is_some(),
        (Json::String(s), Ty::Timestamp) => parse_timestamp(s).is_some(),
        (Json::Array(items), Ty::List(t) | Ty::Set(t)) => items.iter().all(|i| json_fits(i, t)),
        (Json::Object(m), Ty::Map(_, v)) => m.values().all(|i| json_fits(i, v)),
        _ => false,
    }
}
