//! [`SourceSession::mask_batch`]: a record batch masked column-at-a-time where the session's
//! decision is the same on every row, row by row elsewhere.

use std::sync::Arc;

use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, SchemaRef};
use arrow_select::filter::{FilterBuilder, FilterPredicate};

use super::masked::RowKeys;
use super::read::Reader;
use super::types::{arrow_type, arrow_type_is_exact, output_schema};
use super::write::build;
use super::BatchError;
use crate::engine::batch_conds::BatchCond;
use crate::engine::batch_plan::{conform_cell, Act, BatchPlan, ColumnTreatment, RowTreatment};
use crate::engine::SourceSession;
use crate::program::Tri;
use crate::value::{ColumnType, Value};

/// One top-level column of the source, as the batch sees it.
pub(super) struct Column<'a> {
    pub(super) name: &'a str,
    pub(super) ty: &'a ColumnType,
    /// The batch's column of that name (none for a derived or missing column).
    pub(super) input: Option<&'a ArrayRef>,
    pub(super) treatment: ColumnTreatment,
}

impl SourceSession<'_> {
    /// The schema of [`mask_batch`](Self::mask_batch)'s output for this source (the same for
    /// every user).
    pub fn batch_schema(&self) -> SchemaRef {
        Arc::new(output_schema(self))
    }

    /// Masks an Arrow record batch with exactly the semantics of [`mask_values`](Self::mask_values)
    /// on each of its rows (see [`crate::arrow`]): the output has every declared top-level
    /// column in declaration order ([`batch_schema`](Self::batch_schema)) and only the rows the
    /// row rules show this user. On a source that declares k-anonymity, the batch is made
    /// k-anonymous over its quasi-identifiers (see [`crate::arrow`]'s `k_anonymity`). Fails
    /// only if Arrow cannot assemble the output.
    pub fn mask_batch(&self, batch: &RecordBatch) -> Result<RecordBatch, BatchError> {
        let schema = self.batch_schema();
        let plan = self.batch_plan();
        if plan.rows == RowTreatment::AllHidden {
            return Ok(RecordBatch::new_empty(schema));
        }
        let columns = self.batch_columns(batch, &plan);
        let n = batch.num_rows();
        let conds = self.cond_columns(n, &columns, &plan);
        let shown_by_conds = plan.row_conds.as_ref().map(|programs| {
            (0..n)
                .map(|i| programs.iter().all(|&p| conds.tri(p, i) == Tri::True))
                .collect()
        });
        let PerRow { shown, values } = self.per_row(n, &columns, &plan, shown_by_conds);
        let keep = shown
            .filter(|shown| !shown.iter().all(|s| *s))
            .map(BooleanArray::from);
        let n_out = keep.as_ref().map_or(n, BooleanArray::true_count);
        // The row filter, prepared once for every column passed through.
        let filter = keep
            .as_ref()
            .map(|k| FilterBuilder::new(k).optimize().build());
        let mut out = Vec::with_capacity(columns.len());
        let mut row_values = values.into_iter();
        // Each row's key, read (once per batch) only if a technique reads it.
        let keys = RowKeys::new(plan.key.and_then(|k| columns.get(k)), n);
        for (pos, c) in columns.iter().enumerate() {
            let array = match c.treatment {
                ColumnTreatment::Null => Ok(new_null_array(&arrow_type(c.ty), n_out)),
                ColumnTreatment::Clear => clear_column(c, keep.as_ref(), filter.as_ref(), n_out),
                ColumnTreatment::Mask(t) => {
                    let act = |_: usize| Act::Mask(t);
                    self.masked_column((pos, c), &act, &keys, keep.as_ref(), n)
                }
                ColumnTreatment::Decide(f) => {
                    let act = |i: usize| self.decide_by(f, &mut |p| conds.tri(p, i));
                    self.masked_column((pos, c), &act, &keys, keep.as_ref(), n)
                }
                ColumnTreatment::PerRow => {
                    let values = row_values.next().unwrap_or_default();
                    let refs: Vec<&Value> = values.iter().collect();
                    build(&refs, c.ty)
                }
            };
            out.push(array.map_err(|e| BatchError::Build {
                column: c.name.to_owned(),
                message: e.to_string(),
            })?);
        }
        let masked = RecordBatch::try_new_with_options(
            schema,
            out,
            &RecordBatchOptions::new().with_row_count(Some(n_out)),
        )
        .map_err(|e| BatchError::Assemble {
            message: e.to_string(),
        })?;
        self.k_anonymize_batch(masked)
    }

    fn batch_columns<'a>(&'a self, batch: &'a RecordBatch, plan: &BatchPlan) -> Vec<Column<'a>> {
        let inputs = self.input_columns();
        self.columns()
            .into_iter()
            .enumerate()
            .map(|(pos, name)| {
                let stored = inputs.contains(&name);
                let input = stored
                    .then(|| batch.schema_ref().index_of(name).ok())
                    .flatten()
                    .and_then(|i| batch.columns().get(i));
                Column {
                    name,
                    ty: self.column_type(name).unwrap_or(&ColumnType::Text),
                    input,
                    treatment: plan
                        .columns
                        .get(pos)
                        .copied()
                        .unwrap_or(ColumnTreatment::PerRow),
                }
            })
            .collect()
    }

    /// The values, row by row, of the batch conditions that the row filters and the
    /// [`ColumnTreatment::Decide`] columns read.
    fn cond_columns(&self, n: usize, columns: &[Column<'_>], plan: &BatchPlan) -> CondColumns {
        let mut out = CondColumns(Vec::new());
        let programs = plan.row_conds.iter().flatten().copied().chain(
            plan.columns
                .iter()
                .filter_map(|t| match t {
                    ColumnTreatment::Decide(f) => self.decision_conds(*f),
                    _ => None,
                })
                .flatten(),
        );
        for p in programs {
            let slot = p as usize;
            if out.0.len() <= slot {
                out.0.resize(slot + 1, None);
            }
            if let Some(entry @ None) = out.0.get_mut(slot) {
                *entry = self.batch_cond(p).map(|c| cond_column(&c, columns, n));
            }
        }
        out
    }

    /// Runs the row path where something depends on the row: which rows are shown (`None`:
    /// all), and the masked values of the [`ColumnTreatment::PerRow`] columns (in column order,
    /// shown rows only).
    fn per_row(
        &self,
        n: usize,
        columns: &[Column<'_>],
        plan: &BatchPlan,
        shown_by_conds: Option<Vec<bool>>,
    ) -> PerRow {
        let per_row: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.treatment == ColumnTreatment::PerRow)
            .map(|(pos, _)| pos)
            .collect();
        if per_row.is_empty() && plan.rows == RowTreatment::AllShown {
            return PerRow {
                shown: None,
                values: Vec::new(),
            };
        }
        if per_row.is_empty() && shown_by_conds.is_some() {
            return PerRow {
                shown: shown_by_conds,
                values: Vec::new(),
            };
        }
        // The row path's input: the stored columns, in order; only the cells something
        // evaluated per row reads are read (the others stay null).
        let readers: Vec<Option<Reader<'_>>> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| self.input_columns().contains(&c.name))
            .map(|(pos, c)| {
                let needed = c.treatment == ColumnTreatment::PerRow
                    || plan.read_per_row.get(pos).copied().unwrap_or(true);
                c.input
                    .filter(|_| needed)
                    .map(|a| Reader::new(a.as_ref(), c.ty))
            })
            .collect();
        let mut row = vec![Value::Null; readers.len()];
        let mut shown = Vec::with_capacity(n);
        let mut cells = Vec::with_capacity(per_row.len());
        let mut values: Vec<Vec<Value>> = per_row.iter().map(|_| Vec::with_capacity(n)).collect();
        for i in 0..n {
            for (slot, r) in row.iter_mut().zip(&readers) {
                if let Some(r) = r {
                    r.read_into(i, slot);
                }
            }
            if per_row.is_empty() {
                shown.push(self.row_shown_values(&row));
                continue;
            }
            cells.clear();
            let is_shown = self.mask_positions(plan, &row, &per_row, &mut cells);
            shown.push(is_shown);
            if is_shown {
                for (out, cell) in values.iter_mut().zip(cells.drain(..)) {
                    out.push(cell);
                }
            }
        }
        PerRow {
            shown: Some(shown),
            values,
        }
    }
}

/// Per program, its value on each input row (for the batch conditions computed).
struct CondColumns(Vec<Option<Vec<Tri>>>);

impl CondColumns {
    /// Program `p` on input row `i` (unknown if it was not computed).
    fn tri(&self, p: u32, i: usize) -> Tri {
        self.0
            .get(p as usize)
            .and_then(Option::as_ref)
            .and_then(|c| c.get(i))
            .copied()
            .unwrap_or(Tri::Unknown)
    }
}

/// A batch condition on every input row: read from its column (a text cell of a `text`
/// column compared borrowed, without a copy).
fn cond_column(cond: &BatchCond, columns: &[Column<'_>], n: usize) -> Vec<Tri> {
    let BatchCond::Compare { pos, .. } = cond else {
        return vec![cond.on_value(None); n];
    };
    let Some((input, ty)) = columns.get(*pos).and_then(|c| c.input.map(|a| (a, c.ty))) else {
        return vec![cond.on_value(None); n];
    };
    let reader = Reader::new(input.as_ref(), ty);
    let text = *ty == ColumnType::Text;
    (0..n)
        .map(|i| match reader.text(i).filter(|_| text) {
            Some(s) => cond.on_text(s),
            None => match conform_cell(reader.value(i), ty) {
                Some(v) => cond.on_value(Some(&v)),
                None => cond.on_value(None),
            },
        })
        .collect()
}

/// What the row path gives back.
struct PerRow {
    shown: Option<Vec<bool>>,
    values: Vec<Vec<Value>>,
}

/// A column shown clear on every row: passed through when its Arrow type is its output type
/// (every cell conforms), else converted cell by cell (non-conforming cells are null).
fn clear_column(
    c: &Column<'_>,
    keep: Option<&BooleanArray>,
    filter: Option<&FilterPredicate>,
    n_out: usize,
) -> Result<ArrayRef, arrow_schema::ArrowError> {
    let out_type: DataType = arrow_type(c.ty);
    let Some(input) = c.input else {
        return Ok(new_null_array(&out_type, n_out));
    };
    if input.data_type() == &out_type && arrow_type_is_exact(c.ty) {
        return match filter {
            None => Ok(Arc::clone(input)),
            Some(filter) => filter.filter(input.as_ref()),
        };
    }
    let reader = Reader::new(input.as_ref(), c.ty);
    let values: Vec<Value> = (0..input.len())
        .filter(|&i| keep.is_none_or(|k| k.value(i)))
        .map(|i| conform_cell(reader.value(i), c.ty).unwrap_or(Value::Null))
        .collect();
    let refs: Vec<&Value> = values.iter().collect();
    build(&refs, c.ty)
}
