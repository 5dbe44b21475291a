//! Checking techniques as written in rules: name, arguments, applicability to column types.

use super::exprs::{ExprCtx, RowCtx};
use super::suggest::did_you_mean;
use super::Checker;
use crate::diagnostics::Diagnostic;
use crate::model::{
    result_fits, CExpr, CKind, ExprTechnique, TechArg, TechniqueUse, Ty, TypedExpr,
};
use crate::source_map::{FileId, Loc};
use crate::techniques::{applies, const_fits, info, Param, CATALOG};
use pol_grammar::ast::{Expr, ExprKind, Literal, Technique, TechniqueKind};

fn word(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Name(n) => Some(&n.name),
        _ => None,
    }
}

fn number(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Lit(Literal::Int(i)) => Some(*i as f64),
        ExprKind::Lit(Literal::Decimal(d)) => Some(*d),
        ExprKind::Neg(inner) => number(inner).map(|x| -x),
        _ => None,
    }
}

fn integer(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Lit(Literal::Int(i)) => Some(*i),
        ExprKind::Neg(inner) => integer(inner).map(|x| -x),
        _ => None,
    }
}

fn string(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Lit(Literal::Str(s)) => Some(&s.value),
        _ => None,
    }
}

impl Checker<'_> {
    /// Checks a technique. `types` are the types of the columns it is known to apply to; when
    /// `direct` (the rule names the column), a technique that does not apply is an error.
    pub fn technique(
        &mut self,
        t: &Technique,
        file: FileId,
        types: &[Ty],
        direct: bool,
    ) -> Option<TechniqueUse> {
        self.technique_in(
            t,
            file,
            types,
            direct,
            RowCtx::Forbidden("a technique's arguments are constants"),
        )
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "parameter positions come from the technique's own parameter list (found or enumerated in it)"
    )]
    pub fn technique_in(
        &mut self,
        t: &Technique,
        file: FileId,
        types: &[Ty],
        direct: bool,
        row: RowCtx,
    ) -> Option<TechniqueUse> {
        let at = Loc::new(file, t.span);
        match &t.kind {
            TechniqueKind::ByLevel { entries } => {
                if self.model.levels.is_empty() {
                    self.diags.push(Diagnostic::no_levels(at));
                    return None;
                }
                let mut out = Vec::new();
                for (level, tech) in entries {
                    let lat = Loc::new(file, level.span);
                    if !self.model.levels.iter().any(|l| l.name == level.name) {
                        let suggestion = did_you_mean(
                            &level.name,
                            self.model.levels.iter().map(|l| l.name.as_str()),
                        );
                        self.diags
                            .push(Diagnostic::undeclared_level(lat, &level.name, suggestion));
                        continue;
                    }
                    if out
                        .iter()
                        .any(|(n, _): &(String, TechniqueUse)| *n == level.name)
                    {
                        self.diags.push(Diagnostic::level_twice(lat, &level.name));
                        continue;
                    }
                    if matches!(tech.kind, TechniqueKind::ByLevel { .. }) {
                        self.diags
                            .push(Diagnostic::nested_by_level(Loc::new(file, tech.span)));
                        continue;
                    }
                    if let Some(u) = self.technique_in(tech, file, types, direct, row) {
                        out.push((level.name.clone(), u));
                    }
                }
                Some(TechniqueUse {
                    name: "by level".into(),
                    args: vec![],
                    by_level: out,
                    loc: at,
                })
            }
            TechniqueKind::Call { name, args, .. } => {
                let Some(spec) = info(&name.name) else {
                    let nat = Loc::new(file, name.span);
                    let suggestion = did_you_mean(&name.name, CATALOG.iter().map(|t| t.name));
                    self.diags
                        .push(Diagnostic::unknown_technique(nat, &name.name, suggestion));
                    return None;
                };
                let mut bound: Vec<(usize, &Expr)> = Vec::new();
                let mut ok = true;
                let mut next_pos = 0usize;
                for a in args {
                    let aat = Loc::new(file, a.span);
                    let idx = match &a.label {
                        Some(l) => match spec.params.iter().position(|p| p.name == l.name) {
                            Some(i) => i,
                            None => {
                                let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                                self.diags.push(Diagnostic::unknown_parameter(
                                    Loc::new(file, l.span),
                                    spec.name,
                                    &l.name,
                                    &names,
                                ));
                                ok = false;
                                continue;
                            }
                        },
                        None => {
                            // A bare flag word fills the flag of that name wherever it stands.
                            if let Some(w) = word(&a.value) {
                                if let Some(i) = spec
                                    .params
                                    .iter()
                                    .position(|p| p.name == w && p.kind == Param::Flag)
                                {
                                    bound.push((i, &a.value));
                                    continue;
                                }
                            }
                            while next_pos < spec.params.len()
                                && spec.params[next_pos].kind == Param::Flag
                            {
                                next_pos += 1;
                            }
                            if next_pos >= spec.params.len() {
                                self.diags.push(Diagnostic::extra_argument(
                                    aat,
                                    spec.name,
                                    spec.params.len(),
                                ));
                                ok = false;
                                continue;
                            }
                            next_pos += 1;
                            next_pos - 1
                        }
                    };
                    if bound.iter().any(|(i, _)| *i == idx) {
                        self.diags
                            .push(Diagnostic::argument_twice(aat, spec.params[idx].name));
                        ok = false;
                        continue;
                    }
                    bound.push((idx, &a.value));
                }
                for (i, p) in spec.params.iter().enumerate() {
                    if p.required && !bound.iter().any(|(j, _)| *j == i) {
                        self.diags.push(Diagnostic::missing_argument(
                            at,
                            spec.name,
                            p.name,
                            spec.example,
                        ));
                        ok = false;
                    }
                }
                bound.sort_by_key(|(i, _)| *i);
                let mut out = Vec::new();
                for (i, e) in bound {
                    let p = &spec.params[i];
                    match self.tech_arg(spec.name, p.name, p.kind, e, file, types, direct, row) {
                        Some(v) => out.push((p.name.to_string(), v)),
                        None => ok = false,
                    }
                }
                if spec
                    .params
                    .iter()
                    .any(|p| p.name == "char" && p.kind == Param::Char)
                    && out.iter().any(|(n, _)| n == "char")
                    && out.iter().any(|(n, _)| n == "text")
                {
                    self.diags.push(Diagnostic::char_and_text(at, spec.name));
                    ok = false;
                }
                if out.iter().any(|(n, _)| n == "above") && !out.iter().any(|(n, _)| n == "max") {
                    let above = args
                        .iter()
                        .find(|a| a.label.as_ref().is_some_and(|l| l.name == "above"))
                        .map_or(at, |a| Loc::new(file, a.span));
                    self.diags
                        .push(Diagnostic::above_without_max(above, spec.name));
                    ok = false;
                }
                if !self.labels_match_edges(spec.name, args, &out, at) {
                    ok = false;
                }
                if !ok {
                    return None;
                }
                let u = TechniqueUse {
                    name: spec.name.to_string(),
                    args: out,
                    by_level: vec![],
                    loc: at,
                };
                if direct {
                    for ty in types {
                        if !applies(&u, ty) {
                            self.diags.push(Diagnostic::technique_not_applicable(
                                at,
                                spec.name,
                                ty,
                                spec.applies,
                            ));
                            return None;
                        }
                    }
                }
                Some(u)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tech_arg(
        &mut self,
        tech: &str,
        param: &str,
        kind: Param,
        e: &Expr,
        file: FileId,
        types: &[Ty],
        direct: bool,
        row: RowCtx,
    ) -> Option<TechArg> {
        let bad = |this: &mut Self, what: String| {
            this.diags.push(Diagnostic::bad_argument(
                Loc::new(file, e.span),
                tech,
                param,
                what,
            ));
            None
        };
        match kind {
            Param::Int { min, max } => match integer(e) {
                Some(i) if i >= min && i <= max => Some(TechArg::Int(i)),
                Some(i) => {
                    let range = if max == i64::MAX {
                        format!("at least {min}")
                    } else {
                        format!("between {min} and {max}")
                    };
                    bad(self, format!("{i} is out of range: it must be {range}"))
                }
                None => bad(self, "expected an integer".into()),
            },
            Param::Number { positive } => match number(e) {
                Some(x) if positive && x > 0.0 && x.is_finite() => Some(TechArg::Number(x)),
                Some(x) if !positive && (0.0..=1.0).contains(&x) => Some(TechArg::Number(x)),
                Some(x) => bad(
                    self,
                    if positive {
                        format!("{x} must be greater than 0")
                    } else {
                        format!("{x} must be between 0 and 1")
                    },
                ),
                None => bad(self, "expected a number".into()),
            },
            Param::SizeOrUnit => {
                if let Some(w) = word(e) {
                    return if crate::techniques::TIME_UNITS.contains(&w) {
                        Some(TechArg::Word(w.to_string()))
                    } else {
                        bad(
                            self,
                            format!("`{w}` is not a unit (minute, hour, day, month, year)"),
                        )
                    };
                }
                match number(e) {
                    Some(x) if x > 0.0 && x.is_finite() => Some(if x.fract() == 0.0 && x < 1e15 {
                        TechArg::Int(x as i64)
                    } else {
                        TechArg::Number(x)
                    }),
                    Some(x) => bad(self, format!("{x} must be greater than 0")),
                    None => bad(
                        self,
                        "expected a size or a unit (minute, hour, day, month, year)".into(),
                    ),
                }
            }
            Param::Text => match string(e) {
                Some(s) => Some(TechArg::Text(s.to_string())),
                None => bad(self, "expected a string".into()),
            },
            Param::NonEmptyText => match string(e) {
                Some("") => bad(self, "the text must not be empty".into()),
                Some(s) => Some(TechArg::Text(s.to_string())),
                None => bad(self, "expected a string".into()),
            },
            Param::Char | Param::Fill
                if tech == "digits"
                    && string(e).is_some_and(|s| s.chars().any(char::is_numeric)) =>
            {
                self.diags.push(Diagnostic::bad_replacement(
                    Loc::new(file, e.span),
                    tech,
                    param,
                    "a digit would stand for masked digits",
                ));
                None
            }
            Param::Fill => match string(e) {
                Some("") => {
                    self.diags.push(Diagnostic::bad_replacement(
                        Loc::new(file, e.span),
                        tech,
                        param,
                        "the replacement must not be empty",
                    ));
                    None
                }
                Some(s) => Some(TechArg::Text(s.to_string())),
                None => bad(self, "expected a string".into()),
            },
            Param::Edges => self.edges(e, file).map(TechArg::Numbers),
            Param::Labels => self.labels(e, file).map(TechArg::Texts),
            Param::Char => match string(e) {
                Some(s) if s.chars().count() == 1 => Some(TechArg::Text(s.to_string())),
                Some(_) => bad(self, "expected exactly one character".into()),
                None => bad(self, "expected a one-character string".into()),
            },
            Param::Regex => match string(e) {
                Some(s) => match regex::Regex::new(s) {
                    Ok(_) => Some(TechArg::Text(s.to_string())),
                    Err(err) => {
                        self.diags
                            .push(Diagnostic::invalid_regex(Loc::new(file, e.span), &err));
                        None
                    }
                },
                None => bad(self, "expected a string pattern".into()),
            },
            Param::Strftime => match string(e) {
                Some(s) => {
                    let invalid = chrono::format::StrftimeItems::new(s)
                        .any(|i| matches!(i, chrono::format::Item::Error));
                    if invalid {
                        bad(self, format!("`{s}` is not a valid strftime pattern"))
                    } else {
                        Some(TechArg::Text(s.to_string()))
                    }
                }
                None => bad(self, "expected a strftime pattern string".into()),
            },
            Param::Word(words) => match word(e).or_else(|| string(e)) {
                Some(w) if words.contains(&w) => Some(TechArg::Word(w.to_string())),
                Some(w) => bad(self, format!("`{w}` is not one of {}", words.join(", "))),
                None => bad(self, format!("expected one of {}", words.join(", "))),
            },
            Param::Flag => match &e.kind {
                ExprKind::Lit(Literal::Bool(true)) => Some(TechArg::Word(param.to_string())),
                ExprKind::Lit(Literal::Bool(false)) => Some(TechArg::Int(0)),
                ExprKind::Name(n) if n.name == param => Some(TechArg::Word(param.to_string())),
                _ => bad(self, "expected `true` or `false`".into()),
            },
            Param::Const => {
                let mut ctx =
                    ExprCtx::new(file, RowCtx::Forbidden("a constant cannot read the row"));
                let c = self.expr(e, &mut ctx);
                match c.kind {
                    CKind::Const(k) if !c.ty.is_error() => {
                        if direct {
                            if let Some(ty) = types.iter().find(|t| !const_fits(&k, t)) {
                                return bad(
                                    self,
                                    format!("the constant is {}, the column is {ty}", c.ty),
                                );
                            }
                        }
                        Some(TechArg::Const(k))
                    }
                    _ if c.ty.is_error() => None,
                    _ => bad(self, "expected a constant".into()),
                }
            }
            Param::Expr => self
                .typed_expr(e, file, types, direct, row)
                .map(|x| TechArg::Expr(Box::new(x))),
        }
    }
}

impl Checker<'_> {
    /// `expr(E)`: typed once per column type it meets (reporting its errors), then, when it
    /// reads the row, once per (source, column type) against that source alone (silently: what
    /// does not type there gives null). In a direct rule a result that does not fit the
    /// column's type is an error (E0042); elsewhere the technique falls back (§5, W0001).
    fn typed_expr(
        &mut self,
        e: &Expr,
        file: FileId,
        types: &[Ty],
        direct: bool,
        row: RowCtx,
    ) -> Option<ExprTechnique> {
        let tys: Vec<Ty> = if types.is_empty() {
            vec![Ty::Error]
        } else {
            types.to_vec()
        };
        let mut typed: Vec<TypedExpr> = Vec::new();
        for ty in tys {
            if typed.iter().any(|t| t.ty == ty) {
                continue;
            }
            let mut ctx = ExprCtx::new(file, row);
            ctx.value = Some(ty.clone());
            let before = self.diags.len();
            let c = self.expr(e, &mut ctx);
            if self.diags.len() > before {
                return None;
            }
            if direct && !result_fits(&c.ty, &ty) {
                let at = Loc::new(file, e.span);
                self.diags
                    .push(Diagnostic::expr_result_type(at, &c.ty, &ty));
                return None;
            }
            typed.push(TypedExpr {
                ty,
                source: None,
                expr: Some(c),
            });
        }
        if typed
            .iter()
            .any(|t| t.expr.as_ref().is_some_and(CExpr::reads_row_itself))
        {
            let per_source = self.typed_per_source(e, file, &typed, row);
            typed.extend(per_source);
        }
        Some(ExprTechnique { file, typed })
    }

    /// `expr(E)` typed for each source of the row context and each of `typed`'s column types
    /// that source has a column of.
    #[expect(
        clippy::indexing_slicing,
        reason = "source ids of a row context index the model's sources, which the resolver filled before checking rules"
    )]
    fn typed_per_source(
        &mut self,
        e: &Expr,
        file: FileId,
        typed: &[TypedExpr],
        row: RowCtx,
    ) -> Vec<TypedExpr> {
        let sources: Vec<usize> = match row {
            RowCtx::Sources(s) => s.to_vec(),
            RowCtx::Column(s) => vec![s],
            RowCtx::Forbidden(_) => Vec::new(),
        };
        let mut out = Vec::new();
        for s in sources {
            for general in typed {
                let ty = &general.ty;
                if !ty.is_error() && !self.model.sources[s].columns.iter().any(|c| &c.ty == ty) {
                    continue;
                }
                let one = [s];
                let mut ctx = ExprCtx::new(file, RowCtx::Sources(&one));
                ctx.value = Some(ty.clone());
                let before = self.diags.len();
                let c = self.expr(e, &mut ctx);
                let failed = self.diags.len() > before
                    || c.ty.is_error()
                    || !ctx.missing.is_empty()
                    || !ctx.tag_missing.is_empty()
                    || !result_fits(&c.ty, ty);
                self.diags.truncate(before);
                out.push(TypedExpr {
                    ty: ty.clone(),
                    source: Some(s),
                    expr: (!failed).then_some(c),
                });
            }
        }
        out
    }
}

impl Checker<'_> {
    /// `buckets`' edges: a non-empty list of numbers, strictly increasing (E0045 at the first
    /// edge out of order).
    fn edges(&mut self, e: &Expr, file: FileId) -> Option<Vec<f64>> {
        let at = Loc::new(file, e.span);
        let ExprKind::List(items) = &e.kind else {
            self.diags.push(Diagnostic::bad_buckets(
                at,
                "the edges must be a list of numbers".into(),
                Some("write them in brackets: `buckets([0, 18, 65])`".into()),
            ));
            return None;
        };
        if items.is_empty() {
            self.diags
                .push(Diagnostic::bad_buckets(at, "no edges".into(), None));
            return None;
        }
        let mut out: Vec<f64> = Vec::new();
        for item in items {
            let iat = Loc::new(file, item.span);
            let Some(x) = number(item).filter(|x| x.is_finite()) else {
                self.diags.push(Diagnostic::bad_buckets(
                    iat,
                    "an edge must be a number".into(),
                    None,
                ));
                return None;
            };
            if let Some(prev) = out.last().filter(|p| **p >= x) {
                self.diags.push(Diagnostic::bad_buckets(
                    iat,
                    format!("the edges must be strictly increasing: {x} follows {prev}"),
                    Some(
                        "each edge is the lowest value of its bucket; list them from the lowest up"
                            .into(),
                    ),
                ));
                return None;
            }
            out.push(x);
        }
        Some(out)
    }

    /// `buckets`' labels: a list of non-empty texts.
    fn labels(&mut self, e: &Expr, file: FileId) -> Option<Vec<String>> {
        let at = Loc::new(file, e.span);
        let ExprKind::List(items) = &e.kind else {
            self.diags.push(Diagnostic::bad_buckets(
                at,
                "the labels must be a list of texts".into(),
                None,
            ));
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            let iat = Loc::new(file, item.span);
            match string(item) {
                Some("") => {
                    self.diags.push(Diagnostic::bad_buckets(
                        iat,
                        "a label must not be empty".into(),
                        None,
                    ));
                    return None;
                }
                Some(s) => out.push(s.to_string()),
                None => {
                    self.diags.push(Diagnostic::bad_buckets(
                        iat,
                        "a label must be a text".into(),
                        None,
                    ));
                    return None;
                }
            }
        }
        Some(out)
    }

    /// `buckets`: one label per edge (E0045 at the labels otherwise). True when there is
    /// nothing to compare.
    fn labels_match_edges(
        &mut self,
        tech: &str,
        args: &[pol_grammar::ast::Arg],
        out: &[(String, TechArg)],
        whole: Loc,
    ) -> bool {
        if tech != "buckets" {
            return true;
        }
        let find = |name: &str| out.iter().find_map(|(n, a)| (n == name).then_some(a));
        let (Some(TechArg::Numbers(edges)), Some(TechArg::Texts(labels))) =
            (find("edges"), find("labels"))
        else {
            return true;
        };
        if edges.len() == labels.len() {
            return true;
        }
        // The labels are the second argument, named or not.
        let at = args
            .iter()
            .find(|a| a.label.as_ref().is_some_and(|l| l.name == "labels"))
            .or_else(|| args.get(1).filter(|a| a.label.is_none()))
            .map_or(whole, |a| Loc::new(whole.file, a.value.span));
        self.diags.push(Diagnostic::bad_buckets(
            at,
            format!("{} labels for {} edges", labels.len(), edges.len()),
            Some(
                "give one label per edge: the label of an edge names the values from it up to the next edge (a value below the first edge is null)"
                    .into(),
            ),
        ));
        false
    }
}
