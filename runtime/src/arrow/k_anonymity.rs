//! k-anonymity of a masked record batch: the batch is the group. Each batch
//! [`mask_batch`](crate::SourceSession::mask_batch) returns is k-anonymous over the source's
//! quasi-identifiers; the union of k-anonymous batches is k-anonymous (every combination shown
//! occurs at least k times in the batch it comes from), so a data frame masked batch by batch
//! (Spark, partition by partition) is k-anonymous as a whole — more generalised than one
//! global pass would make it, and a batch of fewer than k rows shows no quasi-identifier.
//!
//! An Arrow column has one type, so only text is generalised (prefixes, `100**`); numbers,
//! dates and timestamps are shown as they are or suppressed (their generalisations — ranges,
//! months — are text, which their column cannot hold).

use std::sync::Arc;

use arrow_array::RecordBatch;

use super::read::Reader;
use super::write::build;
use super::BatchError;
use crate::techniques::k_anonymity::Hierarchy;
use crate::value::{ColumnType, Value};
use crate::SourceSession;

/// The generalisation of a quasi-identifier whose results fit its Arrow column.
fn arrow_hierarchy(ty: &ColumnType) -> Hierarchy {
    match ty {
        ColumnType::Text => Hierarchy::for_type(ty),
        _ => Hierarchy::Suppress,
    }
}

impl SourceSession<'_> {
    /// `batch` (a [`mask_batch`](Self::mask_batch) output) made k-anonymous, if the source asks
    /// for it.
    pub(super) fn k_anonymize_batch(&self, batch: RecordBatch) -> Result<RecordBatch, BatchError> {
        let Some((_, names)) = self.k_anonymity() else {
            return Ok(batch);
        };
        let n = batch.num_rows();
        let width = batch.num_columns();
        // Only the quasi-identifiers are read; the other cells stay null placeholders.
        let positions: Vec<(usize, &ColumnType)> = names
            .iter()
            .filter_map(|name| {
                let pos = batch.schema_ref().index_of(name).ok()?;
                Some((pos, self.column_type(name)?))
            })
            .collect();
        let mut rows: Vec<Vec<Value>> = vec![vec![Value::Null; width]; n];
        for &(pos, ty) in &positions {
            let Some(array) = batch.columns().get(pos) else {
                continue;
            };
            let reader = Reader::new(array.as_ref(), ty);
            for (i, row) in rows.iter_mut().enumerate() {
                if let Some(slot) = row.get_mut(pos) {
                    *slot = reader.value(i);
                }
            }
        }
        self.k_anonymize_rows(&mut rows, arrow_hierarchy);
        let mut columns = batch.columns().to_vec();
        for &(pos, ty) in &positions {
            let values: Vec<&Value> = rows.iter().filter_map(|r| r.get(pos)).collect();
            let array = build(&values, ty).map_err(|e| BatchError::Build {
                column: names
                    .iter()
                    .find(|n| batch.schema_ref().index_of(n).ok() == Some(pos))
                    .map_or_else(String::new, |n| (*n).to_owned()),
                message: e.to_string(),
            })?;
            if let Some(slot) = columns.get_mut(pos) {
                *slot = Arc::clone(&array);
            }
        }
        RecordBatch::try_new(batch.schema(), columns).map_err(|e| BatchError::Assemble {
            message: e.to_string(),
        })
    }
}
