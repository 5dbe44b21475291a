//! W0008: a `where` or row filter that reads a column its audience cannot read leaks the value
//! by dichotomy: comparing what they see with and without the rule, users learn whether the
//! condition holds on a value that is masked for them.

use super::findings::LeakKey;
use crate::conflicts::{Resolution, RuleRef};
use crate::diagnostics::Diagnostic;
use crate::model::{
    CExpr, CKind, ColumnId, MaskBody, Model, RowAudience, RowFilter, RuleId, SourceId,
};
use crate::source_map::Loc;

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
pub(super) fn dichotomy(
    model: &Model,
    res: &Resolution,
    s: SourceId,
    rules: &[RuleId],
    row_rules: &[usize],
    leaks: &mut Vec<(LeakKey, Diagnostic)>,
) {
    let mut report = |at: Loc, what: &str, c: ColumnId, masker: RuleRef, key: (u8, Loc)| {
        let col = &model.sources[s].columns[c];
        let masker_name = crate::conflicts::rule_name(model, masker);
        let column = format!("{}.{}", model.sources[s].name, col.name);
        let masker_loc = crate::conflicts::authored(model, masker);
        let d = Diagnostic::leak_by_dichotomy(at, what, &column, &masker_name, masker_loc);
        leaks.push(((key.0, key.1, col.name.clone()), d));
    };
    for &id in rules {
        let rule = &model.mask_rules[id];
        if rule.staged {
            continue;
        }
        let Some(w) = &rule.where_ else { continue };
        for (c, span) in reads(model, w, s) {
            if rule.matches_column(s, c) {
                continue; // reading the masked column itself decides nothing new
            }
            if let Some(masker) = masked_for_audience(model, res, s, c, None) {
                if masker == RuleRef::Mask(id) {
                    continue;
                }
                let at = Loc::new(rule.loc.file, span);
                report(at, "`where`", c, masker, (0, rule.loc));
            }
        }
    }
    for &id in row_rules {
        let rule = &model.row_rules[id];
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
        let readers = match &rule.audience {
            RowAudience::Who(cond, _) => Some(cond),
            _ => None,
        };
        for e in filters {
            for (c, span) in reads(model, e, s) {
                if let Some(masker) = masked_for_audience(model, res, s, c, readers) {
                    let at = Loc::new(rule.loc.file, span);
                    report(at, "row filter", c, masker, (1, rule.loc));
                }
            }
        }
    }
}
