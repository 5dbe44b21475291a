//! Verifying one source, step by step: the shape of its column tree, its struct fields against
//! their types, its special columns (key, event time, level) and exemptions, the programs and
//! candidates of each column, its row rules, then the order of its derived columns.

use super::MAX_FIELD_DEPTH;
use super::{check_index, derived_order, structure, Ctx, Table, Verifier, VerifyError};
use crate::bundle::{ColumnPlan, DerivedPlan, RowAudience, RowOtherwise, SourcePlan};
use crate::program::Op;
use crate::value::ColumnType;
use ahash::AHashSet as HashSet;

impl Verifier<'_> {
    /// Checks one source and returns its derived columns in evaluation order.
    pub(super) fn source(&mut self, si: u32, s: &SourcePlan) -> Result<Vec<u32>, VerifyError> {
        if u32::try_from(s.columns.len()).is_err() {
            return Err(structure(format!("source {}", s.name), "too many columns"));
        }
        let children = column_tree(s)?;
        struct_fields(s, &children)?;
        self.special_columns(s)?;
        for (ci, c) in s.columns.iter().enumerate() {
            self.column(si, s, ci, c)?;
        }
        self.row_rules(si, s)?;
        derived_order(s)
    }

    /// The key, event-time and level columns (top-level, of fitting types), the default level
    /// and the exemptions.
    fn special_columns(&mut self, s: &SourcePlan) -> Result<(), VerifyError> {
        let ncols = s.columns.len();
        let src_at = || format!("source {}", s.name);
        if let Some(k) = s.key_column {
            top_level(s, k, "key column")?;
        }
        if let Some(e) = s.event_time_column {
            let ty = top_level(s, e, "event_time column")?;
            if !matches!(ty, ColumnType::Timestamp | ColumnType::Date) {
                return Err(structure(
                    src_at(),
                    "the event_time column is not a timestamp or date",
                ));
            }
        }
        if let Some(l) = &s.level {
            check_index(Table::Level, l.default, self.b.levels.len(), &|| {
                format!("source {}, default level", s.name)
            })?;
            if let Some(c) = l.column {
                let ty = top_level(s, c, "level column")?;
                if !matches!(ty, ColumnType::Text | ColumnType::Enum(_)) {
                    return Err(structure(src_at(), "the level column is not text"));
                }
            }
        }
        for (i, e) in s.exempts.iter().enumerate() {
            self.use_program(*e, Ctx::User, ncols, &|| {
                format!("source {}, exempt {i}", s.name)
            })?;
        }
        Ok(())
    }

    /// One column's `visible if`, `accessible if`, derivation and candidate rules.
    fn column(
        &mut self,
        si: u32,
        s: &SourcePlan,
        ci: usize,
        c: &ColumnPlan,
    ) -> Result<(), VerifyError> {
        let ncols = s.columns.len();
        let col_at = || format!("source {}, column {}", s.name, c.name);
        if let Some(v) = c.visible {
            self.use_program(v, Ctx::User, ncols, &|| format!("{}, visible if", col_at()))?;
        }
        if let Some(a) = c.accessible {
            self.use_program(a, Ctx::Row(si), ncols, &|| {
                format!("{}, accessible if", col_at())
            })?;
        }
        if let Some(d) = &c.derived {
            self.derivation(si, s, ci, c, d)?;
        }
        for (k, cand) in c.candidates.iter().enumerate() {
            let at = || format!("{}, candidate {k}", col_at());
            check_index(Table::Rule, cand.rule, self.b.rules.len(), &at)?;
            if let Some(w) = cand.where_ {
                self.use_program(w, Ctx::Row(si), ncols, &|| format!("{}, where", at()))?;
            }
            self.body(&cand.body, si, ncols, &at)?;
        }
        Ok(())
    }

    /// A derived column: its program, its declared inputs (never itself), and every column the
    /// program reads listed among them (itself or an enclosing struct), or a masked input could
    /// leak through the derived value.
    fn derivation(
        &mut self,
        si: u32,
        s: &SourcePlan,
        ci: usize,
        c: &ColumnPlan,
        d: &DerivedPlan,
    ) -> Result<(), VerifyError> {
        let ncols = s.columns.len();
        let col_at = || format!("source {}, column {}", s.name, c.name);
        self.use_program(d.program, Ctx::Row(si), ncols, &|| {
            format!("{}, derivation", col_at())
        })?;
        for r in &d.reads {
            check_index(Table::Column, *r, ncols, &|| {
                format!("{}, derivation input", col_at())
            })?;
            if *r as usize == ci {
                return Err(VerifyError::DerivedCycle {
                    source: s.name.clone(),
                    column: c.name.clone(),
                });
            }
        }
        let Some(p) = self.b.programs.get(d.program as usize) else {
            return Ok(());
        };
        for op in &p.code {
            let Op::Column(read) = *op else { continue };
            if !read_is_listed(s, d, read) {
                let name = s
                    .columns
                    .get(read as usize)
                    .map_or_else(|| read.to_string(), |col| col.name.clone());
                return Err(structure(
                    format!("{}, derivation", col_at()),
                    format!("the program reads column {name}, which `reads` omits"),
                ));
            }
        }
        Ok(())
    }

    /// The source's row rules: rule index, filter and audience programs.
    fn row_rules(&mut self, si: u32, s: &SourcePlan) -> Result<(), VerifyError> {
        let ncols = s.columns.len();
        for (ri, r) in s.row_rules.iter().enumerate() {
            let at = || format!("source {}, row rule {ri}", s.name);
            check_index(Table::Rule, r.rule, self.b.rules.len(), &at)?;
            self.filter(&r.filter, s, si, &at)?;
            match &r.audience {
                RowAudience::Everyone => {}
                RowAudience::Except(p) => self.use_program(*p, Ctx::Row(si), ncols, &at)?,
                RowAudience::Who {
                    condition,
                    otherwise,
                } => {
                    self.use_program(*condition, Ctx::Row(si), ncols, &at)?;
                    if let RowOtherwise::Filter(f) = otherwise {
                        self.filter(f, s, si, &|| format!("{}, otherwise", at()))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether column `read` (or a struct enclosing it) is among the derivation's inputs.
fn read_is_listed(s: &SourcePlan, d: &DerivedPlan, read: u32) -> bool {
    let mut cur = Some(read);
    for _ in 0..=MAX_FIELD_DEPTH {
        match cur {
            Some(x) if d.reads.contains(&x) => return true,
            Some(x) => cur = s.columns.get(x as usize).and_then(|col| col.parent),
            None => return false,
        }
    }
    false
}

/// The shape of the column tree: unique top-level names, parents before their fields, a
/// bounded depth, and fields that are neither derived nor carry `visible`/`accessible if`.
/// Returns each column's fields (its children), in order.
fn column_tree(s: &SourcePlan) -> Result<Vec<Vec<u32>>, VerifyError> {
    let ncols = s.columns.len();
    let mut depth = vec![0usize; ncols];
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); ncols];
    let mut top_names = HashSet::new();
    for (ci, c) in s.columns.iter().enumerate() {
        let at = || format!("source {}, column {}", s.name, c.name);
        let Some(p) = c.parent else {
            if !top_names.insert(c.name.as_str()) {
                return Err(structure(at(), "two columns have this name"));
            }
            continue;
        };
        let parent_depth = match depth.get(p as usize) {
            Some(d) if (p as usize) < ci => *d,
            _ => {
                return Err(structure(
                    at(),
                    format!("its parent {p} does not come before it"),
                ))
            }
        };
        let d = parent_depth + 1;
        if d > MAX_FIELD_DEPTH {
            return Err(structure(at(), "fields nest too deeply"));
        }
        if let Some(slot) = depth.get_mut(ci) {
            *slot = d;
        }
        if let Some(kids) = children.get_mut(p as usize) {
            kids.push(ci as u32);
        }
        if c.derived.is_some() {
            return Err(structure(at(), "a nested field cannot be derived"));
        }
        if c.visible.is_some() || c.accessible.is_some() {
            return Err(structure(
                at(),
                "`visible if` and `accessible if` apply to top-level columns only",
            ));
        }
    }
    Ok(children)
}

/// The fields of a struct column (or a list of structs), if it is one.
fn struct_type_fields(ty: &ColumnType) -> Option<&Vec<(String, ColumnType)>> {
    match ty {
        ColumnType::Struct(f) => Some(f),
        ColumnType::List(elem) => match elem.as_ref() {
            ColumnType::Struct(f) => Some(f),
            _ => None,
        },
        _ => None,
    }
}

/// Field plans only under struct columns, each struct's plans matching its type's fields in
/// order, and no field plans under a derived column.
fn struct_fields(s: &SourcePlan, children: &[Vec<u32>]) -> Result<(), VerifyError> {
    for (c, kids) in s.columns.iter().zip(children) {
        let at = || format!("source {}, column {}", s.name, c.name);
        match struct_type_fields(&c.ty) {
            None if !kids.is_empty() => {
                return Err(structure(at(), "has fields but is not a struct"))
            }
            None => {}
            // A struct without per-field plans.
            Some(_) if kids.is_empty() => continue,
            Some(fields) => {
                if kids.len() != fields.len() {
                    return Err(structure(
                        at(),
                        format!(
                            "lists {} fields but its type has {}",
                            kids.len(),
                            fields.len()
                        ),
                    ));
                }
                for (k, (fname, fty)) in kids.iter().zip(fields) {
                    let Some(kc) = s.columns.get(*k as usize) else {
                        continue;
                    };
                    if &kc.name != fname || &kc.ty != fty {
                        return Err(structure(
                            at(),
                            format!(
                                "field {} does not match the struct type's field {fname}",
                                kc.name
                            ),
                        ));
                    }
                }
            }
        }
        if c.derived.is_some() && !kids.is_empty() {
            return Err(structure(at(), "a derived column cannot have field plans"));
        }
    }
    Ok(())
}

/// Column `c` exists and is top-level; returns its type.
fn top_level<'s>(s: &'s SourcePlan, c: u32, what: &str) -> Result<&'s ColumnType, VerifyError> {
    let at = || format!("source {}, {what}", s.name);
    check_index(Table::Column, c, s.columns.len(), &at)?;
    match s.columns.get(c as usize) {
        Some(col) if col.parent.is_none() => Ok(&col.ty),
        _ => Err(structure(at(), "must be a top-level column")),
    }
}
