//! Writing Pol [`Value`]s as an Arrow array of a column's type ([`arrow_type`]).
//!
//! A value of another type than the column's (a technique may change it: `range` on an `int`
//! gives text) is written as null: an Arrow column has one type, and null never reveals more.
//! An `int` in a `decimal` column is written as its float, as the row path decodes it.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, ListArray, StructArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::ArrowError;
use chrono::NaiveDate;

use super::types::{item_field, struct_fields};
use crate::value::{ColumnType, Value};

/// An Arrow array of `ty`'s Arrow type holding `values` (see the module documentation).
pub fn build(values: &[&Value], ty: &ColumnType) -> Result<ArrayRef, ArrowError> {
    match ty {
        ColumnType::List(elem) => build_list(values, elem),
        ColumnType::Struct(fields) => build_struct(values, fields),
        _ => {
            let mut w = ColumnWriter::new(ty, values.len(), 16 * values.len());
            for v in values {
                w.push(v);
            }
            w.finish()
        }
    }
}

/// An output column written value by value, straight into the Arrow builder of its type (no
/// intermediate `Vec<Value>` for the flat types), with exactly [`build`]'s conversions.
pub(crate) struct ColumnWriter<'t> {
    out: Builder<'t>,
}

enum Builder<'t> {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Decimal(Float64Builder),
    Text(StringBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    /// Lists and structs: collected, then built by [`build`].
    Nested(&'t ColumnType, Vec<Value>),
}

impl<'t> ColumnWriter<'t> {
    /// A writer of about `rows` values of type `ty` (`text_bytes`: the text bytes to reserve).
    pub(crate) fn new(ty: &'t ColumnType, rows: usize, text_bytes: usize) -> Self {
        let out = match ty {
            ColumnType::Bool => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            ColumnType::Int => Builder::Int(Int64Builder::with_capacity(rows)),
            ColumnType::Decimal => Builder::Decimal(Float64Builder::with_capacity(rows)),
            ColumnType::Text | ColumnType::Enum(_) => {
                Builder::Text(StringBuilder::with_capacity(rows, text_bytes))
            }
            ColumnType::Date => Builder::Date(Date32Builder::with_capacity(rows)),
            ColumnType::Timestamp => Builder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            ),
            ColumnType::List(_) | ColumnType::Struct(_) => {
                Builder::Nested(ty, Vec::with_capacity(rows))
            }
        };
        ColumnWriter { out }
    }

    /// Appends `v` (null if it is not of the column's type).
    pub(crate) fn push(&mut self, v: &Value) {
        match &mut self.out {
            Builder::Bool(b) => b.append_option(match v {
                Value::Bool(x) => Some(*x),
                _ => None,
            }),
            Builder::Int(b) => b.append_option(match v {
                Value::Int(x) => Some(*x),
                _ => None,
            }),
            Builder::Decimal(b) => b.append_option(match v {
                Value::Decimal(x) => Some(*x),
                Value::Int(x) => Some(*x as f64),
                _ => None,
            }),
            Builder::Text(b) => match v {
                Value::Text(s) => b.append_value(s),
                _ => b.append_null(),
            },
            Builder::Date(b) => b.append_option(match v {
                Value::Date(d) => days_since_epoch(*d),
                _ => None,
            }),
            Builder::Timestamp(b) => b.append_option(match v {
                Value::Timestamp(t) => Some(t.timestamp_micros()),
                _ => None,
            }),
            Builder::Nested(_, values) => values.push(v.clone()),
        }
    }

    /// Appends `v`, taking it (no copy of a nested value).
    pub(crate) fn push_owned(&mut self, v: Value) {
        match &mut self.out {
            Builder::Nested(_, values) => values.push(v),
            _ => self.push(&v),
        }
    }

    /// Appends a text (null if the column is not a text or enum column).
    pub(crate) fn push_text(&mut self, s: &str) {
        match &mut self.out {
            Builder::Text(b) => b.append_value(s),
            _ => self.push_null(),
        }
    }

    /// Appends a null.
    pub(crate) fn push_null(&mut self) {
        match &mut self.out {
            Builder::Bool(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::Decimal(b) => b.append_null(),
            Builder::Text(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Timestamp(b) => b.append_null(),
            Builder::Nested(_, values) => values.push(Value::Null),
        }
    }

    /// The array written.
    pub(crate) fn finish(self) -> Result<ArrayRef, ArrowError> {
        Ok(match self.out {
            Builder::Bool(mut b) => Arc::new(b.finish()),
            Builder::Int(mut b) => Arc::new(b.finish()),
            Builder::Decimal(mut b) => Arc::new(b.finish()),
            Builder::Text(mut b) => Arc::new(b.finish()),
            Builder::Date(mut b) => Arc::new(b.finish()),
            Builder::Timestamp(mut b) => Arc::new(b.finish()),
            Builder::Nested(ty, values) => return build(&values.iter().collect::<Vec<_>>(), ty),
        })
    }
}

fn days_since_epoch(d: NaiveDate) -> Option<i32> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from(d.signed_duration_since(epoch).num_days()).ok()
}

fn build_list(values: &[&Value], elem: &ColumnType) -> Result<ArrayRef, ArrowError> {
    let mut items: Vec<&Value> = Vec::new();
    let mut lengths = Vec::with_capacity(values.len());
    let mut valid = Vec::with_capacity(values.len());
    for v in values {
        match v {
            Value::List(xs) => {
                items.extend(xs.iter());
                lengths.push(xs.len());
                valid.push(true);
            }
            _ => {
                lengths.push(0);
                valid.push(false);
            }
        }
    }
    let child = build(&items, elem)?;
    let offsets = OffsetBuffer::<i32>::from_lengths(lengths);
    let nulls = NullBuffer::from(valid);
    Ok(Arc::new(ListArray::try_new(
        Arc::new(item_field(elem)),
        offsets,
        child,
        Some(nulls),
    )?))
}

fn build_struct(values: &[&Value], decl: &[(String, ColumnType)]) -> Result<ArrayRef, ArrowError> {
    let null = Value::Null;
    // A struct value of another shape than the declared one is not of the column's type.
    let shaped = |v: &&Value| {
        matches!(v, Value::Struct(fs)
            if fs.len() == decl.len() && fs.iter().zip(decl).all(|((n, _), (d, _))| n == d))
    };
    let valid: Vec<bool> = values.iter().map(shaped).collect();
    let mut children = Vec::with_capacity(decl.len());
    for (k, (_, fty)) in decl.iter().enumerate() {
        let column: Vec<&Value> = values
            .iter()
            .zip(&valid)
            .map(|(v, ok)| match (v, ok) {
                (Value::Struct(fs), true) => fs.get(k).map_or(&null, |(_, x)| x),
                _ => &null,
            })
            .collect();
        children.push(build(&column, fty)?);
    }
    let fields = struct_fields(decl);
    let nulls = NullBuffer::from(valid);
    if decl.is_empty() {
        return Ok(Arc::new(StructArray::new_empty_fields(
            values.len(),
            Some(nulls),
        )));
    }
    Ok(Arc::new(StructArray::try_new(
        fields,
        children,
        Some(nulls),
    )?))
}
