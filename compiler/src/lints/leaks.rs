//! W0008: a `where` or row filter that reads a column its audience cannot read leaks the value
//! by dichotomy: comparing what they see with and without the rule, users learn whether the
//! condition holds on a value that is masked for them.

use crate::conflicts::{Resolution, RuleRef};
use crate::diagnostics::Diagnostic;
use crate::model::{CExpr, CKind, ColumnId, MaskBody, Model, RowAudience, RowFilter, SourceId};
use crate::source_map::Loc;
use std::collections::HashSet;

/// The columns of source `s` an expression reads.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn reads(model: &Model, e: &CExpr, s: SourceId) -> Vec<(ColumnId, pol_grammar::Span)> {
    let src = &model.sources[s];
    let mut out = Vec::new();
    e.walk(&mut |x| match &x.kind {
        CKind::Row(name) => {
            if let Some(c) = src.column(name) {
                out.push((c, x.span));
            }
        }
        CKind::RowTagged(t) => {
            if let Some(c) = src
                .columns
                .iter()
                .position(|col| col.tags.iter().any(|&u| model.tags.is_under(u, *t)))
            {
                out.push((c, x.span));
            }
        }
        _ => {}
    });
    out
}

/// The same condition, ignoring where it was written.
fn same_condition(a: &CExpr, b: &CExpr) -> bool {
    fn strip(e: &CExpr) -> String {
        // The debug form with every span removed.
        let text = format!("{:?}", e.kind);
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(i) = rest.find("span: Span {") {
            out.push_str(&rest[..i]);
            match rest[i..].find('}') {
                Some(j) => rest = &rest[i + j + 1..],
                None => {
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
    a.ty == b.ty && strip(a) == strip(b)
}

/// Is column `c` masked for some of the users a rule applies to? `readers` is the condition of a
/// `for everyone who C` audience: when the column's first rule excepts exactly `C`, that audience
/// may read it.
#[expect(
    clippy::indexing_slicing,
    reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
)]
fn masked_for_audience(
    model: &Model,
    res: &Resolution,
    s: SourceId,
    c: ColumnId,
    readers: Option<&CExpr>,
) -> Option<RuleRef> {
    let first = res.candidates(s, c).first()?;
    let r = first.rules[0];
    if let Some(readers) = readers {
        let except = match r {
            RuleRef::Mask(id) => match &model.mask_rules[id].body {
                MaskBody::Except(_, cond) => Some(cond),
                _ => None,
            },
            RuleRef::Accessible(s2, c2) => model.sources[s2].columns[c2]
                .accessible
                .as_ref()
                .map(|a| &a.cond),
        };
        if except.is_some_and(|e| same_condition(e, readers)) {
            return None;
        }
    }
    Some(r)
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn dichotomy(model: &Model, res: &Resolution, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashSet<(usize, usize, String)> = HashSet::new();
    let mut report = |diags: &mut Vec<Diagnostic>,
                      at: Loc,
                      what: &str,
                      s: SourceId,
                      c: ColumnId,
                      masker: RuleRef,
                      key: (usize, usize)| {
        let col = &model.sources[s].columns[c];
        if !seen.insert((key.0, key.1, col.name.clone())) {
            return;
        }
        let masker_name = crate::conflicts::rule_name(model, masker);
        let column = format!("{}.{}", model.sources[s].name, col.name);
        let masker_loc = crate::conflicts::authored(model, masker);
        diags.push(Diagnostic::leak_by_dichotomy(
            at,
            what,
            &column,
            &masker_name,
            masker_loc,
        ));
    };
    for (id, rule) in model.mask_rules.iter().enumerate() {
        if rule.staged {
            continue;
        }
        let Some(w) = &rule.where_ else { continue };
        let sources: Vec<SourceId> = {
            let mut v: Vec<SourceId> = rule.matches.iter().map(|m| m.source).collect();
            v.dedup();
            v
        };
        for s in sources {
            for (c, span) in reads(model, w, s) {
                if rule.matches.iter().any(|m| m.source == s && m.column == c) {
                    continue; // reading the masked column itself decides nothing new
                }
                if let Some(masker) = masked_for_audience(model, res, s, c, None) {
                    if masker == RuleRef::Mask(id) {
                        continue;
                    }
                    report(
                        diags,
                        Loc::new(rule.loc.file, span),
                        "`where`",
                        s,
                        c,
                        masker,
                        (0, id),
                    );
                }
            }
        }
    }
    for (id, rule) in model.row_rules.iter().enumerate() {
        if rule.staged {
            continue;
        }
        let mut filters: Vec<&CExpr> = Vec::new();
        if let RowFilter::Where(e) = &rule.filter {
            filters.push(e);
        }
        if let RowAudience::Who(_, Some(RowFilter::Where(e))) = &rule.audience {
            filters.push(e);
        }
        let scope = &model.policies[rule.policy].scope;
        let readers = match &rule.audience {
            RowAudience::Who(cond, _) => Some(cond),
            _ => None,
        };
        for e in filters {
            for &s in &scope.sources {
                for (c, span) in reads(model, e, s) {
                    if let Some(masker) = masked_for_audience(model, res, s, c, readers) {
                        report(
                            diags,
                            Loc::new(rule.loc.file, span),
                            "row filter",
                            s,
                            c,
                            masker,
                            (1, id),
                        );
                    }
                }
            }
        }
    }
}
