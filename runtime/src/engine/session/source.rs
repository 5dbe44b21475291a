//! The public face of one source in a session: its columns as the user sees them, and the row
//! entry points (mask, row visibility, explain), each a decode followed by the deciding and
//! masking steps of the sibling modules.

use super::{Derive, Raw, SourceSession};
use crate::engine::explain::RowExplanation;
use crate::value::{ColumnType, Value};

impl<'s> SourceSession<'s> {
    /// The source's name.
    pub fn name(&self) -> &'s str {
        &self.plan.name
    }

    /// The declared type of a top-level column (derived ones included), by name.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn column_type(&self, name: &str) -> Option<&'s ColumnType> {
        self.meta
            .top
            .iter()
            .map(|f| &self.plan.columns[*f as usize])
            .find(|c| c.name == name)
            .map(|c| &c.ty)
    }

    /// Every top-level column (derived ones included), in declaration order: the columns of
    /// masked output rows.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn columns(&self) -> Vec<&'s str> {
        self.meta
            .top
            .iter()
            .map(|f| self.plan.columns[*f as usize].name.as_str())
            .collect()
    }

    /// The stored (non-derived) top-level columns, in declaration order: what
    /// [`mask_values`](Self::mask_values) takes.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn input_columns(&self) -> Vec<&'s str> {
        self.meta
            .inputs
            .iter()
            .map(|pos| {
                self.plan.columns[self.meta.top[*pos as usize] as usize]
                    .name
                    .as_str()
            })
            .collect()
    }

    /// The columns listed for this user (`visible if`, else `accessible if`, else visible), in
    /// declaration order. Visibility never changes a value.
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn visible_columns(&self) -> Vec<&'s str> {
        self.meta
            .top
            .iter()
            .zip(&self.spec.visible)
            .filter(|(_, v)| **v)
            .map(|(f, _)| self.plan.columns[*f as usize].name.as_str())
            .collect()
    }

    /// Whether the user is exempt on this source (every row shown, every cell clear).
    pub fn is_exempt(&self) -> bool {
        self.spec.exempt
    }

    /// Masks a JSON row: `None` if the row rules hide it, else every declared top-level column
    /// (derived ones included) in declaration order, visible or not. Columns the source does not
    /// declare are dropped; a missing column is null; a cell that does not decode to its declared
    /// type is null. On a source that declares k-anonymity, a row alone cannot be k-anonymous:
    /// its quasi-identifiers are null (mask a batch with [`mask_rows`](Self::mask_rows)).
    #[expect(
        clippy::indexing_slicing,
        reason = "the session's tables (`SourceMeta`'s top, paths, children and full names; the decisions, traces and raw cells) are built per column or per top-level position from this source's verified column table, so each flat index and position they hold is in range of the others"
    )]
    pub fn mask_json(
        &self,
        row: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<Vec<(String, serde_json::Value)>> {
        let state = self.decode_json(row, Derive::Needed);
        self.count_mismatches(&state);
        if !self.shown(&state, None) {
            return None;
        }
        let mut out = self.mask(&state, None, self.reveal(&state));
        self.suppress_quasi(&mut out);
        Some(
            self.meta
                .top
                .iter()
                .zip(out)
                .map(|(f, v)| (self.plan.columns[*f as usize].name.clone(), v.to_json()))
                .collect(),
        )
    }

    /// Masks a typed row given in the order of [`input_columns`](Self::input_columns) (missing
    /// trailing values are null, extra ones ignored): `None` if hidden, else one value per
    /// top-level column in declaration order. A value that does not conform to its column's type
    /// is null (an int is accepted for a decimal column).
    pub fn mask_values(&self, row: &[Value]) -> Option<Vec<Value>> {
        if let Some(state) = self.plain(row) {
            // Nothing to count (every value conforms) and no grant to reveal; one environment
            // for the row rules and the cells.
            let env = self.env(&state, None);
            if !self.passes(&state, &env) {
                return None;
            }
            return Some(match (&self.spec.cells, &state.raw) {
                (Some(cells), Raw::Plain(values)) => self.mask_plain(&state, &env, cells, values),
                _ => self.mask(&state, None, None),
            });
        }
        let state = self.decode_values(row, Derive::Needed);
        self.count_mismatches(&state);
        if !self.shown(&state, None) {
            return None;
        }
        let mut out = self.mask(&state, None, self.reveal(&state));
        self.suppress_quasi(&mut out);
        Some(out)
    }

    /// Whether the row rules show this JSON row to the user.
    pub fn row_shown(&self, row: &serde_json::Map<String, serde_json::Value>) -> bool {
        let state = self.decode_json(row, Derive::Needed);
        self.shown(&state, None)
    }

    /// Whether the row rules show this typed row (as for [`mask_values`](Self::mask_values)).
    pub fn row_shown_values(&self, row: &[Value]) -> bool {
        if let Some(state) = self.plain(row) {
            return self.shown(&state, None);
        }
        let state = self.decode_values(row, Derive::Needed);
        self.shown(&state, None)
    }

    /// Explains how a JSON row is treated: each row rule, and for every column and nested
    /// field the deciding rule, clause and reason. Cells are explained (with their output
    /// values) even when the row is hidden.
    pub fn explain(&self, row: &serde_json::Map<String, serde_json::Value>) -> RowExplanation {
        let state = self.decode_json(row, Derive::All);
        let mut e = self.explain_state(&state, false);
        self.suppress_explained(&mut e);
        e
    }

    /// Explains what the user alone decides, as `polc explain` shows it: the row is empty, so
    /// every condition on the row is unknown, and each part reading a cell says that it
    /// depends on the row (no value is read, none is withheld).
    pub fn explain_without_row(&self) -> RowExplanation {
        let state = self.decode_json(&serde_json::Map::new(), Derive::All);
        let mut e = self.explain_state(&state, true);
        self.suppress_explained(&mut e);
        e
    }

    /// [`explain`](Self::explain) for a typed row (as for [`mask_values`](Self::mask_values)).
    pub fn explain_values(&self, row: &[Value]) -> RowExplanation {
        let state = self.decode_values(row, Derive::All);
        let mut e = self.explain_state(&state, false);
        self.suppress_explained(&mut e);
        e
    }

    /// The source's index in the bundle.
    pub fn index(&self) -> usize {
        self.index
    }
}
