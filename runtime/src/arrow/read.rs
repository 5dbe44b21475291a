//! Reading Arrow cells as Pol [`Value`]s, by the array's Arrow type.
//!
//! A [`Reader`] is built once per column (the downcasts happen there), then reads any row. A
//! cell it cannot represent (an Arrow type Pol has no value for, a `UInt64` beyond `i64`, a
//! timestamp beyond chrono's range) reads as a value that does not conform to the declared
//! type, so that the row path treats it as every other type mismatch: null.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, BooleanArray, GenericListArray, OffsetSizeTrait, PrimitiveArray, StructArray,
};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate};

use crate::value::{ColumnType, Value};

/// Reads the cells of one Arrow array.
pub struct Reader<'a> {
    array: &'a dyn Array,
    kind: Kind<'a>,
    /// What an unreadable cell reads as: a value that does not conform to the declared type.
    mismatch: Value,
}

enum Kind<'a> {
    Bool(&'a BooleanArray),
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
    F16(&'a PrimitiveArray<Float16Type>),
    F32(&'a PrimitiveArray<Float32Type>),
    F64(&'a PrimitiveArray<Float64Type>),
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Utf8View(&'a arrow_array::StringViewArray),
    Date32(&'a PrimitiveArray<Date32Type>),
    Date64(&'a PrimitiveArray<Date64Type>),
    TsS(&'a PrimitiveArray<TimestampSecondType>),
    TsMs(&'a PrimitiveArray<TimestampMillisecondType>),
    TsUs(&'a PrimitiveArray<TimestampMicrosecondType>),
    TsNs(&'a PrimitiveArray<TimestampNanosecondType>),
    List(&'a GenericListArray<i32>, Box<Reader<'a>>),
    LargeList(&'a GenericListArray<i64>, Box<Reader<'a>>),
    Struct(Vec<(String, Reader<'a>)>),
    Unreadable,
}

/// A value that does not conform to `ty` (and that `mask_values` does not convert to it).
pub(crate) fn mismatch_for(ty: &ColumnType) -> Value {
    match ty {
        ColumnType::Text | ColumnType::Enum(_) => Value::Bool(false),
        _ => Value::Text(String::new()),
    }
}

impl<'a> Reader<'a> {
    /// A reader of `array`, whose cells are meant for a column of type `ty` (which only decides
    /// what an unreadable cell reads as).
    pub fn new(array: &'a dyn Array, ty: &ColumnType) -> Reader<'a> {
        Reader {
            array,
            kind: kind(array, ty),
            mismatch: mismatch_for(ty),
        }
    }

    /// The text of row `i` if the array holds strings and the cell is not null (borrowed
    /// from the array: no copy).
    pub fn text(&self, i: usize) -> Option<&'a str> {
        if i >= self.array.len() || self.array.is_null(i) {
            return None;
        }
        match &self.kind {
            Kind::Utf8(a) => Some(a.value(i)),
            Kind::LargeUtf8(a) => Some(a.value(i)),
            Kind::Utf8View(a) => Some(a.value(i)),
            _ => None,
        }
    }

    /// Reads row `i` into `slot`, as [`value`](Self::value) would, reusing the `String` a
    /// text slot already holds for a text cell (no allocation per row once the buffer has
    /// grown).
    pub fn read_into(&self, i: usize, slot: &mut Value) {
        match (self.text(i), slot) {
            (Some(t), Value::Text(buf)) => {
                buf.clear();
                buf.push_str(t);
            }
            (Some(t), slot) => *slot = Value::Text(t.to_owned()),
            (None, slot) => *slot = self.value(i),
        }
    }

    /// The value of row `i` (null past the end).
    pub fn value(&self, i: usize) -> Value {
        if i >= self.array.len() || self.array.is_null(i) {
            return Value::Null;
        }
        let int = |v: i64| Value::Int(v);
        let read = match &self.kind {
            Kind::Bool(a) => Some(Value::Bool(a.value(i))),
            Kind::I8(a) => Some(int(a.value(i).into())),
            Kind::I16(a) => Some(int(a.value(i).into())),
            Kind::I32(a) => Some(int(a.value(i).into())),
            Kind::I64(a) => Some(int(a.value(i))),
            Kind::U8(a) => Some(int(a.value(i).into())),
            Kind::U16(a) => Some(int(a.value(i).into())),
            Kind::U32(a) => Some(int(a.value(i).into())),
            Kind::U64(a) => i64::try_from(a.value(i)).ok().map(int),
            Kind::F16(a) => Some(Value::Decimal(a.value(i).to_f64())),
            Kind::F32(a) => Some(Value::Decimal(a.value(i).into())),
            Kind::F64(a) => Some(Value::Decimal(a.value(i))),
            Kind::Utf8(a) => Some(Value::Text(a.value(i).to_owned())),
            Kind::LargeUtf8(a) => Some(Value::Text(a.value(i).to_owned())),
            Kind::Utf8View(a) => Some(Value::Text(a.value(i).to_owned())),
            Kind::Date32(a) => date_from_days(a.value(i).into()),
            Kind::Date64(a) => date_from_days(a.value(i).div_euclid(86_400_000)),
            Kind::TsS(a) => DateTime::from_timestamp(a.value(i), 0).map(Value::Timestamp),
            Kind::TsMs(a) => DateTime::from_timestamp_millis(a.value(i)).map(Value::Timestamp),
            Kind::TsUs(a) => DateTime::from_timestamp_micros(a.value(i)).map(Value::Timestamp),
            Kind::TsNs(a) => Some(Value::Timestamp(DateTime::from_timestamp_nanos(a.value(i)))),
            Kind::List(a, items) => Some(list(a, items, i)),
            Kind::LargeList(a, items) => Some(list(a, items, i)),
            Kind::Struct(fields) => Some(Value::Struct(
                fields
                    .iter()
                    .map(|(name, r)| (name.clone(), r.value(i)))
                    .collect(),
            )),
            Kind::Unreadable => None,
        };
        read.unwrap_or_else(|| self.mismatch.clone())
    }
}

fn list<O: OffsetSizeTrait>(a: &GenericListArray<O>, items: &Reader<'_>, i: usize) -> Value {
    let offsets = a.value_offsets();
    let (Some(start), Some(end)) = (offsets.get(i), offsets.get(i + 1)) else {
        return Value::Null;
    };
    let (start, end) = (start.as_usize(), end.as_usize());
    Value::List((start..end).map(|j| items.value(j)).collect())
}

fn date_from_days(days: i64) -> Option<Value> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let span = chrono::Days::new(days.unsigned_abs());
    let date = if days < 0 {
        epoch.checked_sub_days(span)
    } else {
        epoch.checked_add_days(span)
    };
    date.map(Value::Date)
}

fn kind<'a>(array: &'a dyn Array, ty: &ColumnType) -> Kind<'a> {
    match array.data_type() {
        DataType::Boolean => Kind::Bool(array.as_boolean()),
        DataType::Int8 => Kind::I8(array.as_primitive()),
        DataType::Int16 => Kind::I16(array.as_primitive()),
        DataType::Int32 => Kind::I32(array.as_primitive()),
        DataType::Int64 => Kind::I64(array.as_primitive()),
        DataType::UInt8 => Kind::U8(array.as_primitive()),
        DataType::UInt16 => Kind::U16(array.as_primitive()),
        DataType::UInt32 => Kind::U32(array.as_primitive()),
        DataType::UInt64 => Kind::U64(array.as_primitive()),
        DataType::Float16 => Kind::F16(array.as_primitive()),
        DataType::Float32 => Kind::F32(array.as_primitive()),
        DataType::Float64 => Kind::F64(array.as_primitive()),
        DataType::Utf8 => Kind::Utf8(array.as_string()),
        DataType::LargeUtf8 => Kind::LargeUtf8(array.as_string()),
        DataType::Utf8View => Kind::Utf8View(array.as_string_view()),
        DataType::Date32 => Kind::Date32(array.as_primitive()),
        DataType::Date64 => Kind::Date64(array.as_primitive()),
        DataType::Timestamp(TimeUnit::Second, _) => Kind::TsS(array.as_primitive()),
        DataType::Timestamp(TimeUnit::Millisecond, _) => Kind::TsMs(array.as_primitive()),
        DataType::Timestamp(TimeUnit::Microsecond, _) => Kind::TsUs(array.as_primitive()),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Kind::TsNs(array.as_primitive()),
        DataType::List(_) => {
            let a = array.as_list::<i32>();
            Kind::List(
                a,
                Box::new(Reader::new(a.values().as_ref(), element_type(ty))),
            )
        }
        DataType::LargeList(_) => {
            let a = array.as_list::<i64>();
            Kind::LargeList(
                a,
                Box::new(Reader::new(a.values().as_ref(), element_type(ty))),
            )
        }
        DataType::Struct(_) => {
            let a: &StructArray = array.as_struct();
            Kind::Struct(
                a.fields()
                    .iter()
                    .zip(a.columns())
                    .map(|(f, c)| {
                        let name = f.name().clone();
                        let fty = field_type(ty, &name);
                        (name, Reader::new(c.as_ref(), fty))
                    })
                    .collect(),
            )
        }
        _ => Kind::Unreadable,
    }
}

/// The declared element type of a list column (the column's own type if it is no list: the
/// list will not conform anyway).
fn element_type(ty: &ColumnType) -> &ColumnType {
    match ty {
        ColumnType::List(elem) => elem,
        other => other,
    }
}

/// The declared type of a struct column's field (the column's own type if there is none).
fn field_type<'t>(ty: &'t ColumnType, name: &str) -> &'t ColumnType {
    match ty {
        ColumnType::Struct(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(ty, |(_, t)| t),
        other => other,
    }
}
