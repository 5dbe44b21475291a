//! Which cells the row-by-row part of a batch reads: only those that something evaluated per
//! row for this session looks at (a row rule's filter, a row-dependent decision, an `expr(…)`
//! or `by level` technique of a column masked row by row, a derived column whose value may
//! show, and through it the columns it reads), so that the columnar path does not copy every
//! cell a program of the source could read into the row path.

use super::{ColSpec, RuleCheck, SourceSession};
use crate::bundle::{Audience, Candidate, RowAudience, RowFilter, RowOtherwise};
use crate::engine::{Prepared, SourceMeta};
use crate::program::Op;

use super::batch_plan::ColumnTreatment;

/// What the row-by-row part must read: programs to evaluate and row positions to read.
struct Reads {
    /// Per row position: read.
    positions: Vec<bool>,
    /// Programs already followed.
    programs: Vec<bool>,
    /// Programs to follow.
    todo: Vec<u32>,
    /// Flat columns already followed.
    columns: Vec<bool>,
    /// Flat columns to follow.
    column_todo: Vec<u32>,
}

impl Reads {
    fn program(&mut self, p: u32) {
        if let Some(seen) = self.programs.get_mut(p as usize) {
            if !*seen {
                *seen = true;
                self.todo.push(p);
            }
        }
    }

    fn column(&mut self, f: u32) {
        if let Some(seen) = self.columns.get_mut(f as usize) {
            if !*seen {
                *seen = true;
                self.column_todo.push(f);
            }
        }
    }

    fn position(&mut self, pos: Option<usize>) {
        if let Some(slot) = pos.and_then(|p| self.positions.get_mut(p)) {
            *slot = true;
        }
    }

    fn filter(&mut self, f: &RowFilter, meta: &SourceMeta) {
        match f {
            RowFilter::Where(p) => self.program(*p),
            RowFilter::NewerThan(_)
            | RowFilter::OlderThan(_)
            | RowFilter::NewerThanMonths(_)
            | RowFilter::OlderThanMonths(_) => self.position(meta.event_pos),
            RowFilter::Sample(_) => self.position(meta.key_pos),
            RowFilter::Never => {}
            RowFilter::Linked { column, .. } => {
                self.position(meta.paths.get(*column as usize).map(|p| p.top as usize))
            }
        }
    }
}

impl SourceSession<'_> {
    /// Per top-level column (row position): whether the row-by-row part of a batch with these
    /// treatments must read the cell (see the module documentation). Positions of columns
    /// treated column-at-a-time that nothing evaluated per row reads are left unread.
    pub(crate) fn per_row_reads(&self, treatments: &[ColumnTreatment]) -> Vec<bool> {
        let meta = self.meta;
        let engine = self.session.engine;
        let mut reads = Reads {
            positions: vec![false; meta.top.len()],
            programs: vec![false; engine.bundle.programs.len()],
            todo: Vec::new(),
            columns: vec![false; self.plan.columns.len()],
            column_todo: Vec::new(),
        };
        let per_row = treatments.contains(&ColumnTreatment::PerRow);
        if per_row {
            // Techniques are seeded by the row's key; a `by level` technique reads the level.
            reads.position(meta.key_pos);
            reads.position(meta.level_pos);
        }
        for check in &self.spec.checks {
            match check {
                RuleCheck::Filter(f) => reads.filter(f, meta),
                RuleCheck::Generic(ri) => {
                    let Some(r) = self.plan.row_rules.get(*ri) else {
                        continue;
                    };
                    reads.filter(&r.filter, meta);
                    match &r.audience {
                        RowAudience::Everyone => {}
                        RowAudience::Except(c) => reads.program(*c),
                        RowAudience::Who {
                            condition,
                            otherwise,
                        } => {
                            reads.program(*condition);
                            if let RowOtherwise::Filter(f) = otherwise {
                                reads.filter(f, meta);
                            }
                        }
                    }
                }
            }
        }
        for (pos, (&flat, t)) in meta.top.iter().zip(treatments).enumerate() {
            if *t == ColumnTreatment::PerRow {
                reads.position(Some(pos));
                reads.column(flat);
            }
        }
        // Every column a followed program reads, and through a derived column the columns its
        // program reads (and whose decisions block it).
        loop {
            if let Some(f) = reads.column_todo.pop() {
                self.column_reads(f, &mut reads);
                continue;
            }
            let Some(p) = reads.todo.pop() else { break };
            let Some(program) = engine.bundle.programs.get(p as usize) else {
                continue;
            };
            for op in &program.code {
                let Op::Column(c) = *op else { continue };
                let Some(path) = meta.paths.get(c as usize) else {
                    continue;
                };
                reads.position(Some(path.top as usize));
                if let Some(&top) = meta.top.get(path.top as usize) {
                    reads.column(top);
                }
            }
        }
        reads.positions
    }

    /// What deciding and masking flat column `f` (and its fields) row by row reads: its
    /// row-dependent candidates' conditions, the `expr(…)` techniques it may apply, and for a
    /// derived column its program and the columns it reads (whose decisions may block it).
    fn column_reads(&self, f: u32, reads: &mut Reads) {
        let meta = self.meta;
        let Some(col) = self.plan.columns.get(f as usize) else {
            return;
        };
        if let Some(d) = &col.derived {
            reads.program(d.program);
            for &r in &d.reads {
                let top = meta.paths.get(r as usize).map(|p| p.top as usize);
                reads.position(top);
                if let Some(&top) = top.and_then(|t| meta.top.get(t)) {
                    reads.column(top);
                }
                reads.column(r);
            }
        }
        let dynamic = matches!(self.spec.columns.get(f as usize), Some(ColSpec::Dyn(_)));
        for cand in &col.candidates {
            if dynamic {
                self.candidate_conditions(cand, reads);
            }
            self.candidate_techniques(cand, reads);
        }
        for &k in meta.children.get(f as usize).into_iter().flatten() {
            reads.column(k);
        }
    }

    fn candidate_conditions(&self, cand: &Candidate, reads: &mut Reads) {
        if let Some(p) = cand.where_ {
            reads.program(p);
        }
        for (aud, _) in &cand.body.clauses {
            match aud {
                Audience::Everyone => {}
                Audience::Except(p) | Audience::Who(p) => reads.program(*p),
            }
        }
    }

    /// The programs of the `expr(…)` techniques a candidate may apply (directly or by level).
    fn candidate_techniques(&self, cand: &Candidate, reads: &mut Reads) {
        let techniques = &self.session.engine.techniques;
        let used = cand
            .body
            .clauses
            .iter()
            .map(|(_, t)| *t)
            .chain(cand.body.otherwise.flatten());
        for t in used {
            match techniques.get(t as usize) {
                Some(Prepared::Expr(p)) => reads.program(*p),
                Some(Prepared::ByLevel(per_level)) => {
                    for next in per_level.iter().flatten() {
                        if let Some(Prepared::Expr(p)) = techniques.get(*next as usize) {
                            reads.program(*p);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
