//! `k_anonymity K over a, b`: checked per source of the policy's scope (each must have every
//! quasi-identifier as a top-level column of a scalar type), and, across policies, two rules on
//! one source are combined (W0015): the greater k over the union of their columns, which
//! satisfies both.

use super::super::suggest::did_you_mean;
use super::super::Checker;
use crate::diagnostics::Diagnostic;
use crate::model::{ColumnId, KAnonymityRule, Scope, SourceId, Ty};
use crate::source_map::{FileId, Loc};
use pol_grammar::ast;

impl Checker<'_> {
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`) index the model's own tables, which the resolver fills before handing out an id and never shrinks"
    )]
    pub(super) fn k_anonymity_rule(
        &mut self,
        r: &ast::KAnonymityRule,
        policy: usize,
        scope: &Scope,
        staged: bool,
        file: FileId,
    ) {
        let (k, k_span) = r.k;
        let mut ok = true;
        if k < 2 {
            self.diags
                .push(Diagnostic::k_too_small(Loc::new(file, k_span), k));
            ok = false;
        }
        for (i, c) in r.columns.iter().enumerate() {
            if r.columns[..i].iter().any(|d| d.name == c.name) {
                let at = Loc::new(file, c.span);
                self.diags
                    .push(Diagnostic::k_bad_column(at, &c.name, "it is listed twice"));
                ok = false;
            }
        }
        let mut columns: Vec<(SourceId, Vec<ColumnId>)> = Vec::new();
        for &s in &scope.sources {
            let mut ids = Vec::new();
            for c in &r.columns {
                let at = Loc::new(file, c.span);
                let src = &self.model.sources[s];
                let found = src
                    .column(&c.name)
                    .filter(|&id| src.columns[id].parent.is_none());
                let Some(id) = found else {
                    let top = src.top_columns().map(|(_, col)| col.name.as_str());
                    let suggestion = did_you_mean(&c.name, top);
                    let d = Diagnostic::unknown_column(at, &c.name, &src.name, src.loc, suggestion);
                    self.diags.push(d);
                    ok = false;
                    continue;
                };
                if matches!(src.columns[id].ty, Ty::Struct(_) | Ty::List(_)) {
                    let why = "only columns of a scalar type are generalised";
                    self.diags.push(Diagnostic::k_bad_column(at, &c.name, why));
                    ok = false;
                    continue;
                }
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            columns.push((s, ids));
        }
        if !ok {
            return;
        }
        self.model.k_anonymity.push(KAnonymityRule {
            policy,
            k: usize::try_from(k).unwrap_or(usize::MAX),
            columns,
            loc: Loc::new(file, r.span),
            staged,
        });
    }

    /// W0015 for every source two enforced rules ask k-anonymity of.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`) index the model's own tables, which the resolver fills before handing out an id and never shrinks"
    )]
    pub(in super::super) fn check_k_anonymity_overlaps(&mut self) {
        let enforced: Vec<&KAnonymityRule> = self
            .model
            .k_anonymity
            .iter()
            .filter(|r| !r.staged)
            .collect();
        let mut diags = Vec::new();
        for (i, later) in enforced.iter().enumerate() {
            for (s, _) in &later.columns {
                let first = enforced[..i]
                    .iter()
                    .find(|e| e.columns.iter().any(|(x, _)| x == s));
                let (Some(first), Some(req)) = (first, self.model.k_anonymity_of(*s)) else {
                    continue;
                };
                let source = &self.model.sources[*s];
                let names: Vec<String> = req
                    .columns
                    .iter()
                    .map(|&c| format!("`{}`", source.columns[c].name))
                    .collect();
                diags.push(Diagnostic::k_combined(
                    later.loc,
                    &source.name,
                    first.loc,
                    req.k,
                    &names.join(", "),
                ));
            }
        }
        self.diags.extend(diags);
    }
}
