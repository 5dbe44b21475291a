//! [`Session::link_batch`]: parent rows for linked visibility given as an Arrow record batch,
//! read as [`SourceSession::mask_batch`](crate::SourceSession::mask_batch) reads a batch of that
//! source.

use arrow_array::RecordBatch;

use super::read::Reader;
use crate::engine::{LinkError, Session};
use crate::value::Value;

impl Session<'_> {
    /// [`link_values`](Self::link_values) for a record batch of source `parent`: its columns
    /// matched by name (the first of duplicates wins; a declared column missing from the batch
    /// is null) and its cells read by their Arrow type, as
    /// [`mask_batch`](crate::SourceSession::mask_batch) reads them. Returns how many of the
    /// batch's rows are shown to the session's subject.
    pub fn link_batch(&mut self, parent: &str, batch: &RecordBatch) -> Result<usize, LinkError> {
        let rows: Vec<Vec<Value>> = {
            let source = self
                .source(parent)
                .ok_or_else(|| LinkError::UnknownSource(parent.to_owned()))?;
            let readers: Vec<Option<Reader<'_>>> = source
                .input_columns()
                .into_iter()
                .map(|name| {
                    let ty = source.column_type(name)?;
                    let i = batch.schema_ref().index_of(name).ok()?;
                    batch.columns().get(i).map(|a| Reader::new(a.as_ref(), ty))
                })
                .collect();
            (0..batch.num_rows())
                .map(|i| {
                    readers
                        .iter()
                        .map(|r| r.as_ref().map_or(Value::Null, |r| r.value(i)))
                        .collect()
                })
                .collect()
        };
        self.link_values(parent, rows.iter().map(Vec::as_slice))
    }
}
