//! Decision tables and their difference between two policy sets (`polc diff`).
//!
//! A policy set's *decisions* are, per source: its row rules; per column: its visibility and the
//! ordered rules that decide it (§6), each described as written (technique and audience). For one
//! subject (`--subject`), every condition that reads only the user is evaluated, so the table says
//! what that user gets: `clear`, a technique, or a technique that depends on the row (a `where` or
//! an audience reading `row`). Two tables are compared per (source, column) by name.

use std::collections::BTreeMap;

use crate::reference::Subject;

use crate::conflicts::{Candidate, Resolution, RuleRef};
use crate::model::{
    CExpr, ColumnId, MaskBody, Model, RowAudience, RowFilter, SourceId, TechniqueUse, Ty,
};
use crate::reference::{Reference, Truth};
use crate::source_map::{FileId, SourceMap};

/// One policy set, checked.
pub struct PolicySet<'a> {
    pub files: &'a SourceMap,
    pub model: &'a Model,
    pub resolution: &'a Resolution,
}

/// For whom decisions are described.
pub enum Audience<'a> {
    /// Everyone: rules as written.
    Everyone,
    /// One subject: user-only conditions evaluated.
    Subject(&'a serde_json::Value),
}

/// Decisions keyed by `source` (row rules) and `source.column`, in a stable order.
pub type Decisions = BTreeMap<String, String>;

/// One changed decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `source` or `source.column`.
    pub key: String,
    /// `None` when the key does not exist on that side.
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Why a table could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffError(pub String);

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The decision table of a policy set for an audience.
pub fn decisions(
    set: &PolicySet<'_>,
    audience: &Audience<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Decisions, DiffError> {
    let reference = Reference::new(set.model, set.resolution, None, now);
    let subject = match audience {
        Audience::Everyone => None,
        Audience::Subject(json) => Some(
            reference
                .subject(json)
                .map_err(|e| DiffError(format!("the subject: {e}")))?,
        ),
    };
    let d = Describer {
        set,
        reference: &reference,
        subject: subject.as_ref(),
    };
    let mut out = Decisions::new();
    for (s, source) in set.model.sources.iter().enumerate() {
        let exempt = d.exempt(s);
        out.insert(source.name.clone(), d.rows(s, exempt.as_deref()));
        for (c, column) in source.columns.iter().enumerate() {
            let key = format!("{}.{}", source.name, column.name);
            out.insert(key, d.column(s, c, exempt.as_deref()));
        }
    }
    Ok(out)
}

/// The decisions that differ between two tables, in key order.
pub fn changes(old: &Decisions, new: &Decisions) -> Vec<Change> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let (o, n) = (old.get(k), new.get(k));
            (o != n).then(|| Change {
                key: k.clone(),
                old: o.cloned(),
                new: n.cloned(),
            })
        })
        .collect()
}

/// The technique a rule applies to a column of this type (with the §5 type fallback).
fn technique(t: &TechniqueUse, ty: &Ty) -> String {
    if crate::techniques::applies(t, ty) {
        t.display()
    } else {
        format!(
            "{} (fallback for {})",
            crate::techniques::fallback(ty).display(),
            t.display()
        )
    }
}

struct Describer<'a> {
    set: &'a PolicySet<'a>,
    reference: &'a Reference<'a>,
    subject: Option<&'a Subject>,
}

/// A user-only condition for the subject: known, or still to be decided per row.
enum Cond {
    Holds,
    Fails,
    /// Unknown for this user (a missing field): each decision point takes its safer side.
    Unknown,
    /// Reads the row (or no subject was given): described as written.
    Open(String),
}

impl Describer<'_> {
    fn text(&self, file: FileId, e: &CExpr) -> String {
        let snippet = self
            .set
            .files
            .snippet(crate::source_map::Loc::new(file, e.span));
        snippet.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn cond(&self, file: FileId, e: &CExpr) -> Cond {
        match self.subject {
            Some(subject) if !e.reads_row() => match self.reference.user_truth(subject, e) {
                Truth::True => Cond::Holds,
                Truth::False => Cond::Fails,
                Truth::Unknown => Cond::Unknown,
            },
            _ => Cond::Open(self.text(file, e)),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn policy_name(&self, policy: usize) -> &str {
        &self.set.model.policies[policy].name
    }

    /// `Some(reason)` when an exempt covering the source holds for the subject.
    fn exempt(&self, s: SourceId) -> Option<String> {
        let mut open = Vec::new();
        for e in &self.set.model.exempts {
            if !e.scope.sources.contains(&s) {
                continue;
            }
            match self.cond(e.loc.file, &e.cond) {
                Cond::Holds => return Some("exempt".to_string()),
                Cond::Open(t) => open.push(t),
                Cond::Fails | Cond::Unknown => {}
            }
        }
        (!open.is_empty()).then(|| format!("exempt if {}", open.join(" or ")))
    }

    fn filter(&self, file: FileId, f: &RowFilter) -> String {
        match f {
            RowFilter::Where(e) => format!("rows where {}", self.text(file, e)),
            RowFilter::NewerThan(d) => format!("rows newer than {d}"),
            RowFilter::OlderThan(d) => format!("rows older than {d}"),
            RowFilter::Sample(p) => format!("{p}% of rows"),
            RowFilter::Never => "no rows".to_string(),
            RowFilter::Linked(p) => format!(
                "rows linked to shown {}",
                self.set
                    .model
                    .sources
                    .get(*p)
                    .map_or("?", |s| s.name.as_str())
            ),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn rows(&self, s: SourceId, exempt: Option<&str>) -> String {
        if exempt == Some("exempt") {
            return "rows: all (exempt)".to_string();
        }
        let mut parts = Vec::new();
        for r in &self.set.model.row_rules {
            let policy = &self.set.model.policies[r.policy];
            if r.staged || !policy.scope.sources.contains(&s) {
                continue;
            }
            let file = r.loc.file;
            let name = self.policy_name(r.policy);
            let filter = self.filter(file, &r.filter);
            let part = match &r.audience {
                RowAudience::Everyone => Some(filter),
                RowAudience::Except(c) => match self.cond(file, c) {
                    Cond::Holds => None,
                    Cond::Fails | Cond::Unknown => Some(filter),
                    Cond::Open(t) => Some(format!("{filter} unless {t}")),
                },
                RowAudience::Who(c, otherwise) => {
                    let other = otherwise
                        .as_ref()
                        .map_or("all rows".to_string(), |o| self.filter(file, o));
                    match self.cond(file, c) {
                        Cond::Holds => Some(filter),
                        Cond::Fails => otherwise.as_ref().map(|_| other),
                        Cond::Unknown => Some(format!("{filter} and {other}")),
                        Cond::Open(t) => Some(format!("{filter} if {t}, else {other}")),
                    }
                }
            };
            if let Some(p) = part {
                parts.push(format!("{p} (`{name}`)"));
            }
        }
        let mut out = if parts.is_empty() {
            "rows: all".to_string()
        } else {
            format!("rows: {}", parts.join("; "))
        };
        if let Some(e) = exempt {
            out.push_str(&format!(" — all rows {e}"));
        }
        out
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn visibility(&self, s: SourceId, c: ColumnId, exempt: Option<&str>) -> String {
        let column = &self.set.model.sources[s].columns[c];
        let file = column.loc.file;
        let cond = match (&column.visible, &column.accessible) {
            (Some(v), _) => v,
            (None, Some(_)) if exempt == Some("exempt") => return "visible".to_string(),
            (None, Some(a)) => &a.cond,
            (None, None) => return "visible".to_string(),
        };
        match self.cond(file, cond) {
            Cond::Holds => "visible".to_string(),
            Cond::Fails | Cond::Unknown => "invisible".to_string(),
            Cond::Open(t) => format!("visible if {t}"),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn column(&self, s: SourceId, c: ColumnId, exempt: Option<&str>) -> String {
        let column = &self.set.model.sources[s].columns[c];
        let visibility = self.visibility(s, c, exempt);
        if exempt == Some("exempt") {
            return format!("{visibility}; clear (exempt)");
        }
        let mut steps: Vec<String> = Vec::new();
        let mut decided = false;
        for cand in self.set.resolution.candidates(s, c) {
            let (step, final_) = self.candidate(s, c, cand);
            if let Some(step) = step {
                steps.push(step);
            }
            if final_ {
                decided = true;
                break;
            }
        }
        if !decided {
            steps.push("else clear".to_string());
        }
        let mut out = format!("{visibility}; {}", steps.join("; "));
        if column.derived.is_some() {
            out.push_str(" (derived: null unless every input is clear)");
        }
        if let Some(e) = exempt {
            out.push_str(&format!(" — clear {e}"));
        }
        out
    }

    /// One candidate: its description (if it can decide) and whether it decides for sure.
    #[expect(
        clippy::indexing_slicing,
        reason = "model ids index the model's own tables, which the resolver fills before handing out an id; list positions are found in (or enumerated over) the same list, a resolved candidate holds at least one rule, a `who` body at least two clauses where both are read, and a column path at least two segments once it is known not to be a bare name"
    )]
    fn candidate(&self, s: SourceId, c: ColumnId, cand: &Candidate) -> (Option<String>, bool) {
        let model = self.set.model;
        let rule = cand.rules[0];
        let names: Vec<String> = cand
            .rules
            .iter()
            .map(|r| crate::conflicts::rule_name(model, *r))
            .collect();
        let who = format!("`{}`", names.join("` + `"));
        match rule {
            RuleRef::Accessible(..) => {
                let column = &model.sources[s].columns[c];
                let Some(acc) = &column.accessible else {
                    return (None, false);
                };
                let t = technique(&acc.technique, &column.ty);
                let step = match self.cond(acc.loc.file, &acc.cond) {
                    Cond::Holds => "clear".to_string(),
                    Cond::Fails | Cond::Unknown => t,
                    Cond::Open(x) => format!("{t} unless {x}"),
                };
                (Some(format!("{step} ({who})")), true)
            }
            RuleRef::Mask(_) => {
                // Combined candidates share technique and audience form; their exceptions OR.
                let rules: Vec<&crate::model::MaskRule> = cand
                    .rules
                    .iter()
                    .filter_map(|r| match r {
                        RuleRef::Mask(id) => model.mask_rules.get(*id),
                        RuleRef::Accessible(..) => None,
                    })
                    .collect();
                let Some(first) = rules.first() else {
                    return (None, false);
                };
                let file = first.loc.file;
                let ty = &model.sources[s].columns[c].ty;
                let (cond_prefix, final_) = match &first.where_ {
                    None => (String::new(), true),
                    Some(w) => match self.cond(file, w) {
                        Cond::Holds | Cond::Unknown => (String::new(), true),
                        Cond::Fails => return (None, false),
                        Cond::Open(t) => (format!("where {t}: "), false),
                    },
                };
                let body = match &first.body {
                    MaskBody::Everyone(t) => technique(t, ty),
                    MaskBody::Except(t, _) => {
                        let t = technique(t, ty);
                        let mut open = Vec::new();
                        let mut held = false;
                        for r in &rules {
                            if let MaskBody::Except(_, e) = &r.body {
                                match self.cond(r.loc.file, e) {
                                    Cond::Holds => held = true,
                                    Cond::Open(x) => open.push(x),
                                    Cond::Fails | Cond::Unknown => {}
                                }
                            }
                        }
                        if held {
                            "clear".to_string()
                        } else if open.is_empty() {
                            t
                        } else {
                            format!("{t} unless {}", open.join(" or "))
                        }
                    }
                    MaskBody::Who(clauses, otherwise) => {
                        let mut parts = Vec::new();
                        let mut done = false;
                        for (e, t) in clauses {
                            let t = technique(t, ty);
                            match self.cond(file, e) {
                                Cond::Holds => {
                                    parts.push(t);
                                    done = true;
                                    break;
                                }
                                Cond::Unknown => {
                                    parts.push("null".to_string());
                                    done = true;
                                    break;
                                }
                                Cond::Fails => {}
                                Cond::Open(x) => parts.push(format!("{t} if {x}")),
                            }
                        }
                        if !done {
                            parts.push(match otherwise {
                                Some(t) => technique(t, ty),
                                None => "clear".to_string(),
                            });
                        }
                        parts.join(", else ")
                    }
                };
                (Some(format!("{cond_prefix}{body} ({who})")), final_)
            }
        }
    }
}
