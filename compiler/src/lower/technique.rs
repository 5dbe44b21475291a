//! Lowering a checked technique use ([`TechniqueUse`]) for one column to a [`TechniquePlan`].
//!
//! - Built-in techniques go through [`runtime_technique`]; one that does not apply to the
//!   column's type (a tag-, name- or all-columns-targeted rule) falls back to `hash` on text and
//!   `null` on every other type (§5), as the checker warned.
//! - `expr(E)` lowers the expression the checker typed for the column's type (and source,
//!   when it reads the row); where there is none, or it reads what the source lacks, the cell
//!   is null.
//! - `by level { … }` lowers each entry; the highest level always has an entry (null when the
//!   policy gave none), as the runtime requires.

use super::expr::{missing_refs, ExprLowerer};
use super::origin::Origin;
use super::tables::Tables;
use crate::model::{Model, SourceId, TechArg, TechniqueUse, Ty};
use crate::source_map::SourceMap;
use crate::techniques::{applies, fallback, runtime_technique};
use pol_runtime::bundle::TechniquePlan;
use pol_runtime::techniques::Technique;

/// Lowers techniques.
pub struct TechniqueLowerer<'f> {
    pub files: &'f SourceMap,
    /// Whether programs record their spans (the files are the policy set's).
    pub spans: bool,
}

impl TechniqueLowerer<'_> {
    /// The technique table index of `t` applied to a column of type `ty` in source `source`.
    pub fn lower(
        &mut self,
        model: &Model,
        t: &TechniqueUse,
        ty: &Ty,
        source: SourceId,
        tables: &mut Tables,
    ) -> u32 {
        let plan = self.plan(model, t, ty, source, tables);
        tables.technique(plan)
    }

    fn plan(
        &mut self,
        model: &Model,
        t: &TechniqueUse,
        ty: &Ty,
        source: SourceId,
        tables: &mut Tables,
    ) -> TechniquePlan {
        if !applies(t, ty) {
            return builtin_or_null(&fallback(ty), ty);
        }
        if !t.by_level.is_empty() {
            let mut entries: Vec<(u32, u32)> = Vec::new();
            for (level, entry) in &t.by_level {
                let Some(l) = model.levels.iter().position(|x| &x.name == level) else {
                    continue;
                };
                if !entry.by_level.is_empty() {
                    continue; // nested `by level` is a checked error
                }
                let e = self.lower(model, entry, ty, source, tables);
                entries.push((l as u32, e));
            }
            if !entries.iter().any(|(l, _)| *l == 0) {
                let null = tables.technique(TechniquePlan::Builtin(Technique::Null));
                entries.insert(0, (0, null));
            }
            entries.sort_by_key(|(l, _)| *l);
            return TechniquePlan::ByLevel { entries };
        }
        if t.name == "expr" {
            return match self.expr(model, t, ty, source, tables) {
                Some(program) => TechniquePlan::Expr { program },
                None => TechniquePlan::Builtin(Technique::Null),
            };
        }
        builtin_or_null(t, ty)
    }

    fn expr(
        &mut self,
        model: &Model,
        t: &TechniqueUse,
        ty: &Ty,
        source: SourceId,
        tables: &mut Tables,
    ) -> Option<u32> {
        let Some(TechArg::Expr(x)) = t.arg("expr") else {
            return None;
        };
        let typed = x.for_column(source, ty)?;
        let missing = missing_refs(model, source, typed);
        if missing.column || missing.tag {
            return None;
        }
        let lowerer = ExprLowerer {
            model,
            source: Some(source),
            origin: self.spans.then_some(Origin {
                files: self.files,
                file: x.file,
            }),
        };
        let (program, spans) = lowerer.program(typed, tables);
        Some(tables.program(program, spans))
    }
}

fn builtin_or_null(t: &TechniqueUse, ty: &Ty) -> TechniquePlan {
    TechniquePlan::Builtin(runtime_technique(t, ty).unwrap_or(Technique::Null))
}
