//! One-line summaries of rules and of the rule that decides a column (for hover and inlay hints):
//! `hash_us_ssn · hash unless admins`.

use super::text::one_line;
use crate::conflicts::{Candidate, Resolution, RuleRef};
use crate::model::{CExpr, CKind, Const, MaskBody, Model, SourceId, TechniqueUse};
use crate::source_map::{FileId, Loc, SourceMap};

/// A condition, short: `admins` for `user in group "admins"`, `role agent` for
/// `user has role "agent"`, otherwise its text cut to 40 characters.
fn condition(model: &Model, files: &SourceMap, file: FileId, c: &CExpr) -> String {
    let text_const = |e: &CExpr| match &e.kind {
        CKind::Const(Const::Text(t)) => Some(t.clone()),
        _ => None,
    };
    match &c.kind {
        CKind::InGroup(g) => {
            if let Some(t) = text_const(g) {
                return t;
            }
        }
        CKind::HasRole(r) => {
            if let Some(t) = text_const(r) {
                return format!("role {t}");
            }
        }
        CKind::ActingUnder(p) if model.purposes.nodes.get(*p).is_some() => {
            return format!("acting under {}", model.purposes.path(*p));
        }
        _ => {}
    }
    if (file.0 as usize) < files.len() {
        one_line(files.snippet(Loc::new(file, c.span)), 40)
    } else {
        "…".to_string()
    }
}

fn technique(t: Option<&TechniqueUse>) -> String {
    match t {
        Some(t) => t.display(),
        None => "clear".to_string(),
    }
}

/// What a rule does, per audience: `hash`, `hash unless admins`,
/// `hash if acting under Research, email_mask if role agent, else null`.
pub fn rule_summary(model: &Model, files: &SourceMap, rule: RuleRef) -> String {
    match rule {
        RuleRef::Mask(id) => {
            let Some(r) = model.mask_rules.get(id) else {
                return String::new();
            };
            let file = r.loc.file;
            match &r.body {
                MaskBody::Everyone(t) => t.display(),
                MaskBody::Except(t, c) => format!(
                    "{} unless {}",
                    t.display(),
                    condition(model, files, file, c)
                ),
                MaskBody::Who(clauses, otherwise) => {
                    let mut parts: Vec<String> = clauses
                        .iter()
                        .map(|(c, t)| {
                            format!("{} if {}", t.display(), condition(model, files, file, c))
                        })
                        .collect();
                    parts.push(format!("else {}", technique(otherwise.as_ref())));
                    parts.join(", ")
                }
            }
        }
        RuleRef::Accessible(s, c) => {
            let Some(a) = model
                .sources
                .get(s)
                .and_then(|s| s.columns.get(c))
                .and_then(|c| c.accessible.as_ref())
            else {
                return String::new();
            };
            format!(
                "{} unless {}",
                a.technique.display(),
                condition(model, files, a.loc.file, &a.cond)
            )
        }
    }
}

/// The short name of a rule next to its column: the policy's name, or `accessible if`.
fn short_name(model: &Model, rule: RuleRef) -> String {
    match rule {
        RuleRef::Mask(_) => crate::conflicts::rule_name(model, rule),
        RuleRef::Accessible(..) => "accessible if".to_string(),
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn candidate_summary(model: &Model, files: &SourceMap, c: &Candidate) -> String {
    let names: Vec<String> = c.rules.iter().map(|r| short_name(model, *r)).collect();
    let body = c
        .rules
        .first()
        .map(|r| rule_summary(model, files, *r))
        .unwrap_or_default();
    let mut s = format!("{} · {}", names.join(" + "), body);
    if c.rules.len() > 1 {
        // Combined exceptions: every rule's exception counts.
        let conds: Vec<String> = c
            .rules
            .iter()
            .filter_map(|r| match r {
                RuleRef::Mask(id) => match &model.mask_rules.get(*id)?.body {
                    MaskBody::Except(_, cond) => Some(condition(
                        model,
                        files,
                        model.mask_rules[*id].loc.file,
                        cond,
                    )),
                    _ => None,
                },
                RuleRef::Accessible(..) => None,
            })
            .collect();
        if let (Some(RuleRef::Mask(first)), false) = (c.rules.first(), conds.is_empty()) {
            if let Some(MaskBody::Except(t, _)) = model.mask_rules.get(*first).map(|r| &r.body) {
                s = format!(
                    "{} · {} unless {}",
                    names.join(" + "),
                    t.display(),
                    conds.join(" or ")
                );
            }
        }
    }
    if let Some(RuleRef::Mask(id)) = c.rules.first() {
        if let Some(w) = model.mask_rules.get(*id).and_then(|r| r.where_.as_ref()) {
            let file = model.mask_rules[*id].loc.file;
            s.push_str(&format!(
                " where {}",
                one_line(files.snippet(Loc::new(file, w.span)), 40)
            ));
        }
    }
    s
}

/// The rule that decides a column, with what comes next when it has a `where`:
/// `hash_us_ssn · hash unless admins where row[tagged Country] == "US"; else null_pii · null`.
/// A column no rule decides is `clear`; a derived one `clear if its inputs are, else null`.
pub fn effective_summary(
    model: &Model,
    resolution: &Resolution,
    files: &SourceMap,
    source: SourceId,
    column: usize,
) -> String {
    let candidates = resolution.candidates(source, column);
    let derived = model
        .sources
        .get(source)
        .and_then(|s| s.columns.get(column))
        .is_some_and(|c| c.derived.is_some());
    let last_resort = if derived {
        "clear if its inputs are, else null"
    } else {
        "clear"
    };
    let mut parts = Vec::new();
    let mut all_conditional = true;
    for c in candidates {
        parts.push(candidate_summary(model, files, c));
        let conditional = c
            .rules
            .first()
            .is_some_and(|r| crate::conflicts::has_where(model, *r));
        if !conditional {
            all_conditional = false;
            break;
        }
    }
    if all_conditional {
        parts.push(last_resort.to_string());
    }
    parts.join("; else ")
}
