//! Lowering a checked policy set ([`Model`] + [`Resolution`]) to the runtime's [`Bundle`].
//!
//! Every condition, derived column and `expr(…)` technique becomes a bytecode program; every
//! column gets its candidates in resolution order (§6: specificity, then authored order, with
//! `combine_exceptions` already applied by the resolution). Programs that read the row are
//! lowered per source (a column reference is an index into that source's columns); programs
//! that read only the user are shared.
//!
//! Row references a source cannot satisfy (§6.8):
//! - `row.x` on a source without column `x`: a row rule's filter shows no rows (`never`); a mask
//!   rule's `where` counts as true; anywhere else the value is null, so the condition is unknown
//!   and resolves to the safe side.
//! - `row[tagged T]` on a source with no column tagged `T`: the rule does not apply to that
//!   source (neither as a candidate nor as a row rule).
//!
//! `allow temporary unmask` and `allow detokenize` rules become the bundle's grants table
//! (see `grants.rs`: one plan per source in the policy's scope, user-only audiences, staged
//! rules only when the resolution includes them).

mod expr;
mod grants;
mod origin;
mod tables;
mod technique;
mod written;

pub use written::{written_condition, written_texts};

pub use expr::{missing_refs, tagged_column, MissingRefs};

use crate::conflicts::{applies_on, rule_name, Candidate as Resolved, Resolution, RuleRef};
use crate::model::{CExpr, DurationValue, MaskBody, Model, RowAudience, RowFilter, SourceId, Ty};
use crate::source_map::{FileId, SourceMap};
use crate::techniques::column_type;
use expr::{unknown_program, ExprLowerer};
use origin::Origin;
use pol_runtime::bundle::{
    self as rt, Audience, Body, Bundle, Candidate, ColumnPlan, DerivedPlan, KAnonymityPlan,
    LevelPlan, ProgramSpans, PurposeInfo, RowRulePlan, RuleInfo, Settings, SourcePlan,
};
use pol_runtime::program as rt_program;
use pol_runtime::value::ColumnType;
use std::collections::HashMap;
use tables::{RuleKey, Tables};
use technique::TechniqueLowerer;

/// Lowers a checked policy set to a bundle. The model should be free of errors (the caller
/// refuses to build otherwise); anything the checker already rejected lowers to the side that
/// reveals least (null, unknown, no rows).
pub fn lower(model: &Model, resolution: &Resolution) -> Bundle {
    lower_from(model, resolution, None)
}

/// [`lower`], with the bundle's debug section: the source span of every op of every program
/// (`files` are the files the model was checked from). `polc build` writes it.
pub fn lower_with_spans(model: &Model, resolution: &Resolution, files: &SourceMap) -> Bundle {
    let mut bundle = lower_from(model, resolution, Some(files));
    bundle.debug.files = origin::file_names(files);
    bundle
}

fn lower_from(model: &Model, resolution: &Resolution, spans: Option<&SourceMap>) -> Bundle {
    let empty = SourceMap::new();
    let files = spans.unwrap_or(&empty);
    let mut cx = Lowerer {
        model,
        resolution,
        by_source: ScopeIndex::new(model),
        tables: Tables::default(),
        techniques: TechniqueLowerer {
            files,
            spans: spans.is_some(),
        },
        files: spans,
        file: None,
        lowered_programs: HashMap::new(),
    };
    let mut bundle = Bundle::new();
    bundle.subject_fields = model
        .subject
        .iter()
        .filter(|f| f.loc.is_some())
        .map(|f| (f.name.clone(), subject_type(&f.ty)))
        .collect();
    bundle.purposes = model
        .purposes
        .nodes
        .iter()
        .enumerate()
        .map(|(id, n)| PurposeInfo {
            name: model.purposes.path(id),
            parent: n.parent.map(|p| p as u32),
        })
        .collect();
    bundle.levels = model.levels.iter().map(|l| l.name.clone()).collect();
    bundle.settings = Settings {
        combine_exceptions: model.settings.combine_exceptions,
    };
    bundle.sources = (0..model.sources.len()).map(|s| cx.source(s)).collect();
    bundle.grants = cx.grants();
    bundle.k_anonymity = k_anonymity(model);
    bundle.lookups = model.tables.iter().map(lookup_plan).collect();
    cx.tables.into_bundle(&mut bundle);
    bundle
}

/// Each source's enforced k-anonymity (its rules combined, [`Model::k_anonymity_of`]); the
/// model's column ids are the bundle's column indices (both list a source's columns in the same
/// order).
fn k_anonymity(model: &Model) -> Vec<KAnonymityPlan> {
    (0..model.sources.len())
        .filter_map(|s| {
            let req = model.k_anonymity_of(s)?;
            Some(KAnonymityPlan {
                source: s as u32,
                k: u32::try_from(req.k).unwrap_or(u32::MAX),
                columns: req.columns.iter().map(|&c| c as u32).collect(),
            })
        })
        .collect()
}

/// A lookup table as the bundle carries it: a file table with its values, a table supplied at
/// run time without.
fn lookup_plan(t: &crate::model::LookupTable) -> pol_runtime::lookup::LookupPlan {
    pol_runtime::lookup::LookupPlan {
        name: t.name.clone(),
        kind: t.kind,
        values: match &t.origin {
            crate::model::TableOrigin::File { values, .. } => Some(values.clone()),
            crate::model::TableOrigin::Supplied => None,
        },
    }
}

/// The runtime type of a declared subject field (sets are lists; a type without a runtime
/// form decodes as text, so a value of the declared type never matches and counts as missing).
fn subject_type(ty: &Ty) -> ColumnType {
    match ty {
        Ty::Set(t) => ColumnType::List(Box::new(subject_type(t))),
        other => column_type(other).unwrap_or(ColumnType::Text),
    }
}

/// Which row rules and exemptions each source's scope covers, built once: looking them up per
/// source instead of scanning every rule for every source keeps lowering linear in the set
/// (37,835 sources × 19,161 row rules at 1M lines made it quadratic).
struct ScopeIndex {
    /// Per source: indices into `model.row_rules`, in authored order.
    row_rules: Vec<Vec<usize>>,
    /// Per source: indices into `model.exempts`, in authored order.
    exempts: Vec<Vec<usize>>,
}

impl ScopeIndex {
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn new(model: &Model) -> ScopeIndex {
        let n = model.sources.len();
        let mut row_rules: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (r, rule) in model.row_rules.iter().enumerate() {
            let sources = &model.policies[rule.policy].scope.sources;
            for &s in sources {
                if let Some(list) = row_rules.get_mut(s) {
                    list.push(r);
                }
            }
        }
        let mut exempts: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (e, ex) in model.exempts.iter().enumerate() {
            for &s in &ex.scope.sources {
                if let Some(list) = exempts.get_mut(s) {
                    list.push(e);
                }
            }
        }
        for list in row_rules.iter_mut().chain(exempts.iter_mut()) {
            list.dedup();
        }
        ScopeIndex { row_rules, exempts }
    }
}

struct Lowerer<'m, 'f> {
    model: &'m Model,
    resolution: &'m Resolution,
    by_source: ScopeIndex,
    tables: Tables,
    techniques: TechniqueLowerer<'f>,
    /// The policy set's files, when the bundle records spans.
    files: Option<&'f SourceMap>,
    /// The file of the item being lowered (its conditions' spans are in it).
    file: Option<FileId>,
    /// The program index of each condition already lowered, by the condition's address in the
    /// model (borrowed, so fixed while lowering), the source when it reads the row, and its file:
    /// a global rule's user-only condition is lowered once, not once per source and column.
    lowered_programs: HashMap<(usize, Option<SourceId>, Option<FileId>), u32>,
}

impl<'f> Lowerer<'_, 'f> {
    fn origin(&self, file: Option<FileId>) -> Option<Origin<'f>> {
        Some(Origin {
            files: self.files?,
            file: file?,
        })
    }

    /// Lowers `e`, read from the file of the item being lowered ([`Lowerer::file`]). The
    /// program of an expression that does not read the row is the same for every source.
    fn program(&mut self, e: &CExpr, source: Option<SourceId>) -> u32 {
        let at = std::ptr::from_ref(e) as usize;
        let key = (at, source.filter(|_| e.reads_row()), self.file);
        if let Some(&ix) = self.lowered_programs.get(&key) {
            return ix;
        }
        let (p, spans) = self.lowered(e, source, self.file);
        let ix = self.tables.program(p, spans);
        self.lowered_programs.insert(key, ix);
        ix
    }

    fn lowered(
        &mut self,
        e: &CExpr,
        source: Option<SourceId>,
        file: Option<FileId>,
    ) -> (rt_program::Program, ProgramSpans) {
        ExprLowerer {
            model: self.model,
            source,
            origin: self.origin(file),
        }
        .program(e, &mut self.tables)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn source(&mut self, s: SourceId) -> SourcePlan {
        let model = self.model;
        let src = &model.sources[s];
        let mut columns = Vec::with_capacity(src.columns.len());
        for (c, col) in src.columns.iter().enumerate() {
            self.file = Some(col.loc.file);
            let name = match col.parent {
                Some(p) => col
                    .name
                    .strip_prefix(&format!("{}.", src.columns[p].name))
                    .unwrap_or(&col.name)
                    .to_string(),
                None => col.name.clone(),
            };
            let derived = col.derived.as_ref().map(|d| DerivedPlan {
                program: self.program(&d.expr, Some(s)),
                reads: d.reads.iter().map(|r| *r as u32).collect(),
            });
            let top = col.parent.is_none();
            let visible = match (&col.visible, top) {
                (Some(v), true) => Some(self.program(v, None)),
                _ => None,
            };
            let accessible = match (&col.accessible, top) {
                (Some(a), true) => Some(self.program(&a.cond, Some(s))),
                _ => None,
            };
            let candidates = self
                .resolution
                .candidates(s, c)
                .iter()
                .filter_map(|cand| self.candidate(cand, s, &col.ty))
                .collect();
            columns.push(ColumnPlan {
                name,
                ty: column_type(&col.ty).unwrap_or(ColumnType::Text),
                parent: col.parent.map(|p| p as u32),
                derived,
                candidates,
                visible,
                accessible,
            });
        }
        let level = src.level.as_ref().map(|l| LevelPlan {
            default: model
                .levels
                .iter()
                .position(|x| x.name == l.default)
                .unwrap_or(0) as u32,
            column: l.column.map(|c| c as u32),
        });
        let exempt_ids = self.by_source.exempts.get(s).cloned().unwrap_or_default();
        let exempts = exempt_ids
            .iter()
            .filter_map(|&e| model.exempts.get(e))
            .map(|e| {
                self.file = Some(e.loc.file);
                self.program(&e.cond, None)
            })
            .collect();
        let rule_ids = self.by_source.row_rules.get(s).cloned().unwrap_or_default();
        let row_rules = rule_ids
            .iter()
            .filter_map(|&r| self.row_rule(r, s))
            .collect();
        SourcePlan {
            name: src.name.clone(),
            columns,
            key_column: src.key.map(|k| k as u32),
            event_time_column: src.event_time.map(|e| e as u32),
            level,
            exempts,
            row_rules,
        }
    }

    // ---- mask rules ----------------------------------------------------------------------

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn rule_info(&mut self, r: RuleRef) -> u32 {
        let model = self.model;
        match r {
            RuleRef::Mask(id) => self.tables.rule(RuleKey::Mask(id), || {
                let policy = model.policy_of(id);
                RuleInfo {
                    name: rule_name(model, r),
                    policy: policy.name.clone(),
                    description: policy
                        .rationale
                        .clone()
                        .unwrap_or_else(|| describe_mask(model, id)),
                }
            }),
            RuleRef::Accessible(s, c) => self.tables.rule(RuleKey::Accessible(s, c), || RuleInfo {
                name: rule_name(model, r),
                policy: format!("source {}", model.sources[s].name),
                description: format!(
                    "`accessible if` on {}.{}: masked for everyone else",
                    model.sources[s].name, model.sources[s].columns[c].name
                ),
            }),
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn combined_info(&mut self, rules: &[RuleRef]) -> u32 {
        let model = self.model;
        self.tables.rule(RuleKey::Combined(rules.to_vec()), || {
            let names: Vec<String> = rules.iter().map(|r| rule_name(model, *r)).collect();
            let policy = match rules.first() {
                Some(RuleRef::Mask(id)) => model.policy_of(*id).name.clone(),
                Some(RuleRef::Accessible(s, _)) => format!("source {}", model.sources[*s].name),
                None => String::new(),
            };
            RuleInfo {
                name: names.join(" + "),
                policy,
                description: format!(
                    "tied `for everyone except` rules with the same technique, exceptions combined \
                     (combine_exceptions): {}",
                    names.join(", ")
                ),
            }
        })
    }

    /// The candidate for a column of type `ty` in source `s`, or `None` when the rule does not
    /// apply to this source (it reads a `row[tagged T]` the source lacks).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn candidate(&mut self, cand: &Resolved, s: SourceId, ty: &Ty) -> Option<Candidate> {
        let model = self.model;
        let [first, ..] = cand.rules.as_slice() else {
            return None;
        };
        if cand.rules.len() > 1 {
            return self.combined(cand, s, ty);
        }
        match *first {
            RuleRef::Mask(id) => {
                let rule = &model.mask_rules[id];
                self.file = Some(rule.loc.file);
                if !rule.applies_on(s) {
                    return None;
                }
                let where_ = match &rule.where_ {
                    Some(w) if !missing_refs(model, s, w).column => Some(self.program(w, Some(s))),
                    _ => None,
                };
                let body = self.mask_body(&rule.body, s, ty);
                Some(Candidate {
                    rule: self.rule_info(*first),
                    where_,
                    body,
                })
            }
            RuleRef::Accessible(cs, cc) => {
                let a = model.sources[cs].columns[cc].accessible.as_ref()?;
                if !applies_on(model, *first, s) {
                    return None;
                }
                self.file = Some(a.loc.file);
                let cond = self.program(&a.cond, Some(s));
                let t = self
                    .techniques
                    .lower(model, &a.technique, ty, s, &mut self.tables);
                Some(Candidate {
                    rule: self.rule_info(*first),
                    where_: None,
                    body: Body {
                        clauses: vec![(Audience::Except(cond), t)],
                        otherwise: None,
                    },
                })
            }
        }
    }

    /// A `combine_exceptions` group: one `except` clause whose condition ORs the exceptions.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn combined(&mut self, cand: &Resolved, s: SourceId, ty: &Ty) -> Option<Candidate> {
        let model = self.model;
        let mut conds: Vec<(&CExpr, FileId)> = Vec::new();
        let mut technique = None;
        for r in &cand.rules {
            if !applies_on(model, *r, s) {
                continue; // that rule does not apply to this source
            }
            let (t, c, file) = match *r {
                RuleRef::Mask(id) => match &model.mask_rules[id].body {
                    MaskBody::Except(t, c) => (t, c, model.mask_rules[id].loc.file),
                    _ => return None,
                },
                RuleRef::Accessible(cs, cc) => {
                    let a = model.sources[cs].columns[cc].accessible.as_ref()?;
                    (&a.technique, &a.cond, a.loc.file)
                }
            };
            technique.get_or_insert(t);
            conds.push((c, file));
        }
        let technique = technique?;
        let lowered: Vec<_> = conds
            .iter()
            .map(|(c, file)| self.lowered(c, Some(s), Some(*file)))
            .collect();
        let (program, spans) = or_programs(&lowered);
        let cond = self.tables.program(program, spans);
        let t = self
            .techniques
            .lower(model, technique, ty, s, &mut self.tables);
        Some(Candidate {
            rule: self.combined_info(&cand.rules),
            where_: None,
            body: Body {
                clauses: vec![(Audience::Except(cond), t)],
                otherwise: None,
            },
        })
    }

    fn mask_body(&mut self, body: &MaskBody, s: SourceId, ty: &Ty) -> Body {
        let model = self.model;
        match body {
            MaskBody::Everyone(t) => Body {
                clauses: vec![(
                    Audience::Everyone,
                    self.techniques.lower(model, t, ty, s, &mut self.tables),
                )],
                otherwise: None,
            },
            MaskBody::Except(t, c) => {
                let cond = self.program(c, Some(s));
                Body {
                    clauses: vec![(
                        Audience::Except(cond),
                        self.techniques.lower(model, t, ty, s, &mut self.tables),
                    )],
                    otherwise: None,
                }
            }
            MaskBody::Who(clauses, otherwise) => {
                let clauses = clauses
                    .iter()
                    .map(|(c, t)| {
                        let cond = self.program(c, Some(s));
                        (
                            Audience::Who(cond),
                            self.techniques.lower(model, t, ty, s, &mut self.tables),
                        )
                    })
                    .collect();
                let otherwise = Some(
                    otherwise
                        .as_ref()
                        .map(|t| self.techniques.lower(model, t, ty, s, &mut self.tables)),
                );
                Body { clauses, otherwise }
            }
        }
    }

    // ---- row rules -----------------------------------------------------------------------

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn row_rule(&mut self, r: usize, s: SourceId) -> Option<RowRulePlan> {
        let model = self.model;
        let rule = &model.row_rules[r];
        self.file = Some(rule.loc.file);
        if rule.staged && !self.resolution.include_staged {
            return None;
        }
        // The caller passes only the rules `ScopeIndex` lists for `s` (the policy's scope covers it).
        let policy = &model.policies[rule.policy];
        if !rule.applies_on(s) {
            return None;
        }
        let filter = self.row_filter(&rule.filter, s);
        let audience = match &rule.audience {
            RowAudience::Everyone => rt::RowAudience::Everyone,
            RowAudience::Except(c) => rt::RowAudience::Except(self.program(c, Some(s))),
            RowAudience::Who(c, o) => rt::RowAudience::Who {
                condition: self.program(c, Some(s)),
                otherwise: match o {
                    None => rt::RowOtherwise::AllRows,
                    Some(f) => rt::RowOtherwise::Filter(self.row_filter(f, s)),
                },
            },
        };
        let rule_ix = self.tables.rule(RuleKey::Row(r), || RuleInfo {
            name: policy.name.clone(),
            policy: policy.name.clone(),
            description: policy
                .rationale
                .clone()
                .unwrap_or_else(|| describe_row_filter(&rule.filter)),
        });
        Some(RowRulePlan {
            rule: rule_ix,
            filter,
            audience,
        })
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    fn row_filter(&mut self, f: &RowFilter, s: SourceId) -> rt::RowFilter {
        let src = &self.model.sources[s];
        match f {
            RowFilter::Where(c) => {
                if missing_refs(self.model, s, c).column {
                    rt::RowFilter::Never
                } else {
                    rt::RowFilter::Where(self.program(c, Some(s)))
                }
            }
            RowFilter::NewerThan(d) | RowFilter::OlderThan(d) if src.event_time.is_some() => {
                let newer = matches!(f, RowFilter::NewerThan(_));
                match (*d, newer) {
                    (DurationValue::Seconds(s), true) if s >= 0 => rt::RowFilter::NewerThan(s),
                    (DurationValue::Seconds(s), false) if s >= 0 => rt::RowFilter::OlderThan(s),
                    (DurationValue::Months(m), true) if m >= 0 => rt::RowFilter::NewerThanMonths(m),
                    (DurationValue::Months(m), false) if m >= 0 => {
                        rt::RowFilter::OlderThanMonths(m)
                    }
                    _ => rt::RowFilter::Never,
                }
            }
            RowFilter::Sample(p) if src.key.is_some() && *p <= 100 => {
                rt::RowFilter::Sample(f64::from(*p))
            }
            RowFilter::Linked(parent) => match src.link_to(*parent) {
                Some(link) => rt::RowFilter::Linked {
                    column: link.column as u32,
                    parent: *parent as u32,
                },
                // No link to the parent (W0002): no rows.
                None => rt::RowFilter::Never,
            },
            // No event time or key to decide on: no rows (never fail open).
            _ => rt::RowFilter::Never,
        }
    }
}

/// The disjunction of conditions: each program's code and constants spliced after the
/// previous ones, then `Or` (which keeps the span of the last operand's last op).
fn or_programs(
    lowered: &[(rt_program::Program, ProgramSpans)],
) -> (rt_program::Program, ProgramSpans) {
    let mut code = Vec::new();
    let mut consts = Vec::new();
    let mut spans = ProgramSpans::default();
    for (i, (p, s)) in lowered.iter().enumerate() {
        let base_pc = code.len() as u32;
        let base_const = consts.len() as u32;
        for run in &s.runs {
            spans.note(run.start + base_pc, run.span);
        }
        for op in &p.code {
            code.push(relocate(*op, base_pc, base_const));
        }
        consts.extend(p.consts.iter().cloned());
        if i > 0 {
            code.push(rt_program::Op::Or);
        }
    }
    if code.is_empty() {
        return (unknown_program(), ProgramSpans::default());
    }
    (rt_program::Program::new(code, consts), spans)
}

/// Shifts a program's jump targets and constant indices when it is spliced after `pc` ops and
/// `consts` constants of another program.
fn relocate(op: pol_runtime::program::Op, pc: u32, consts: u32) -> pol_runtime::program::Op {
    use pol_runtime::program::Op;
    match op {
        Op::Const(i) => Op::Const(i + consts),
        Op::JumpIfFalse(t) => Op::JumpIfFalse(t + pc),
        Op::JumpIfTrue(t) => Op::JumpIfTrue(t + pc),
        Op::Jump(t) => Op::Jump(t + pc),
        Op::Branch { else_, end } => Op::Branch {
            else_: else_ + pc,
            end: end + pc,
        },
        other => other,
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
fn describe_mask(model: &Model, id: usize) -> String {
    let rule = &model.mask_rules[id];
    let body = match &rule.body {
        MaskBody::Everyone(t) => format!("using {} for everyone", t.display()),
        MaskBody::Except(t, _) => format!("using {} for everyone except a condition", t.display()),
        MaskBody::Who(clauses, o) => {
            let parts: Vec<String> = clauses
                .iter()
                .map(|(_, t)| format!("using {} for everyone who …", t.display()))
                .collect();
            let other = match o {
                Some(t) => format!("otherwise using {}", t.display()),
                None => "otherwise unmasked".to_string(),
            };
            format!("{} {other}", parts.join(" "))
        }
    };
    let cond = if rule.where_.is_some() {
        " where …"
    } else {
        ""
    };
    format!("mask{cond} {body}")
}

fn describe_row_filter(f: &RowFilter) -> String {
    match f {
        RowFilter::Where(_) => "only show rows where …".to_string(),
        RowFilter::NewerThan(d) => format!("only show rows newer than {d}"),
        RowFilter::OlderThan(d) => format!("only show rows older than {d}"),
        RowFilter::Sample(p) => format!("only show {p}% of rows"),
        RowFilter::Never => "never show rows".to_string(),
        RowFilter::Linked(_) => "only show rows linked to shown …".to_string(),
    }
}
