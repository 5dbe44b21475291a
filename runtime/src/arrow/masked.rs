//! A column masked down the column: on each shown row the session's act (clear, null or a
//! built-in technique), each cell read from the input array and the result written straight
//! into the output's Arrow builder ([`ColumnWriter`]), without a `Value` per row kept.

use std::cell::OnceCell;

use arrow_array::{Array, ArrayRef, BooleanArray};
use arrow_schema::ArrowError;

use super::batch::Column;
use super::read::Reader;
use super::write::ColumnWriter;
use crate::engine::batch_plan::{conform_cell, Act};
use crate::engine::SourceSession;
use crate::value::{ColumnType, Value};

/// Each input row's key (by input row), read from the key column the first time a technique
/// that reads it (`noise`, `randomize`) needs one: the other techniques read no key.
pub(super) struct RowKeys<'c, 'a> {
    key: Option<&'c Column<'a>>,
    rows: usize,
    keys: OnceCell<Vec<Option<Value>>>,
}

impl<'c, 'a> RowKeys<'c, 'a> {
    /// The keys of `rows` rows in the column `key` (none if the source has no key).
    pub(super) fn new(key: Option<&'c Column<'a>>, rows: usize) -> Self {
        RowKeys {
            key,
            rows,
            keys: OnceCell::new(),
        }
    }

    /// Row `i`'s key: none if null or not conforming (it seeds nothing, as in the row path).
    fn get(&self, i: usize) -> Option<&Value> {
        self.keys
            .get_or_init(|| read_row_keys(self.key, self.rows))
            .get(i)
            .and_then(Option::as_ref)
    }
}

fn read_row_keys(key: Option<&Column<'_>>, n: usize) -> Vec<Option<Value>> {
    let Some((reader, ty)) =
        key.and_then(|k| k.input.map(|a| (Reader::new(a.as_ref(), k.ty), k.ty)))
    else {
        return Vec::new();
    };
    (0..n)
        .map(|i| conform_cell(reader.value(i), ty).filter(|k| !k.is_null()))
        .collect()
}

impl SourceSession<'_> {
    /// The top-level column at `pos` masked, on each input row `i` that `keep` keeps (all if
    /// none), as `act(i)` says: clear, null, or a built-in technique applied as the row path
    /// applies it (a cell that does not conform to the column's type is null first). A text
    /// cell of a `text` column is read borrowed from the array and, for the techniques that can,
    /// masked through one reused buffer; every other cell is read into one reused `Value`.
    pub(super) fn masked_column(
        &self,
        (pos, c): (usize, &Column<'_>),
        act: &dyn Fn(usize) -> Act,
        keys: &RowKeys<'_, '_>,
        keep: Option<&BooleanArray>,
        n: usize,
    ) -> Result<ArrayRef, ArrowError> {
        let reader = c.input.map(|a| Reader::new(a.as_ref(), c.ty));
        let text_column = *c.ty == ColumnType::Text;
        let text_bytes = match c.ty {
            ColumnType::Text | ColumnType::Enum(_) => {
                c.input.map_or(0, |a| a.get_buffer_memory_size())
            }
            _ => 0,
        };
        let mut out = ColumnWriter::new(c.ty, n, text_bytes);
        let mut cell = Value::Null;
        let mut buf = String::new();
        for i in (0..n).filter(|&i| keep.is_none_or(|k| k.value(i))) {
            let act = act(i);
            if act == Act::Null {
                out.push_null();
                continue;
            }
            let text = reader
                .as_ref()
                .filter(|_| text_column)
                .and_then(|r| r.text(i));
            if let Some(s) = text {
                match act {
                    Act::Clear => {
                        out.push_text(s);
                        continue;
                    }
                    Act::Mask(t) => {
                        buf.clear();
                        if self.mask_text_into(t, s, &mut buf) {
                            out.push_text(&buf);
                            continue;
                        }
                    }
                    Act::Null => {}
                }
            }
            match &reader {
                Some(r) => r.read_into(i, &mut cell),
                None => cell = Value::Null,
            }
            if !cell.conforms_to(c.ty) {
                match conform_cell(std::mem::replace(&mut cell, Value::Null), c.ty) {
                    Some(conformed) => cell = conformed,
                    None => {
                        out.push_null();
                        continue;
                    }
                }
            }
            match act {
                Act::Clear => out.push(&cell),
                Act::Null => out.push_null(),
                Act::Mask(t) => {
                    let row_key = if self.reads_row_key(t) {
                        keys.get(i)
                    } else {
                        None
                    };
                    out.push_owned(self.mask_cell(t, pos, &cell, row_key));
                }
            }
        }
        out.finish()
    }
}
