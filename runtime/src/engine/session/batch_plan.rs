//! What a session decides for a whole batch of rows at once: the hook the columnar path
//! ([`crate::arrow`]) reads, so that it applies column-at-a-time exactly the decisions that
//! [`SourceSession::mask_values`] would make on every row.

use super::{Act, ColSpec, SourceSession};

/// What masking does to one top-level column on every row of this session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnTreatment {
    /// The raw value, on every row (a cell that does not conform to the type is still null).
    Clear,
    /// Null on every row.
    Null,
    /// Decided, masked or computed row by row (row-dependent decisions, techniques, derived
    /// columns, struct fields, grants).
    PerRow,
}

/// Which rows the row rules show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowTreatment {
    /// Every row (no row rule can hide one for this user).
    AllShown,
    /// No row (a rule hides every row for this user).
    AllHidden,
    /// Decided row by row.
    PerRow,
}

/// A session's batch-wide facts about one source.
#[derive(Clone, Debug)]
pub(crate) struct BatchPlan {
    /// Per top-level column (row position).
    pub columns: Vec<ColumnTreatment>,
    /// Per top-level column: whether some row-level evaluation reads its raw value (a program,
    /// the key, the event time or the masking level), so that the row path must be given it.
    pub read_per_row: Vec<bool>,
    /// Which rows are shown.
    pub rows: RowTreatment,
}

impl SourceSession<'_> {
    /// The session's decisions that hold for every row of this source.
    pub(crate) fn batch_plan(&self) -> BatchPlan {
        let meta = self.meta;
        let spec = self.spec;
        let grants = self.session.grants.is_some();
        let columns = meta
            .top
            .iter()
            .map(|&flat| {
                let f = flat as usize;
                let col = &self.plan.columns[f];
                let has_fields = !meta.children[f].is_empty();
                if grants {
                    // A granted row is revealed whatever the session decided.
                    return ColumnTreatment::PerRow;
                }
                if col.derived.is_some() {
                    return if !spec.exempt && spec.null_derived.get(f) == Some(&true) {
                        ColumnTreatment::Null
                    } else {
                        ColumnTreatment::PerRow
                    };
                }
                match spec.columns.get(f) {
                    Some(ColSpec::Const(d)) if d.act == Act::Null => ColumnTreatment::Null,
                    Some(ColSpec::Const(d)) if d.act == Act::Clear && !has_fields => {
                        ColumnTreatment::Clear
                    }
                    _ => ColumnTreatment::PerRow,
                }
            })
            .collect();
        let special = [meta.key_pos, meta.event_pos, meta.level_pos];
        let read_per_row = (0..meta.top.len())
            .map(|pos| {
                special.contains(&Some(pos))
                    || meta.paths.iter().enumerate().any(|(f, p)| {
                        p.top as usize == pos && meta.read_by_program.get(f).copied().unwrap_or(true)
                    })
            })
            .collect();
        let rows = if spec.exempt {
            RowTreatment::AllShown
        } else if spec.hidden_by.is_some() {
            RowTreatment::AllHidden
        } else if spec.checks.is_empty() {
            RowTreatment::AllShown
        } else {
            RowTreatment::PerRow
        };
        BatchPlan {
            columns,
            read_per_row,
            rows,
        }
    }
}

/// A cell as [`SourceSession::mask_values`] decodes it: an int is accepted for a decimal
/// column, any other value that does not conform to the column's type is null.
pub(crate) fn conform_or_null(v: crate::value::Value, ty: &crate::value::ColumnType) -> crate::value::Value {
    super::conform(v, ty).unwrap_or(crate::value::Value::Null)
}
