//! Pol column types as Arrow data types.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};

use crate::engine::SourceSession;
use crate::value::ColumnType;

/// The Arrow type of a column of type `ty` in a masked batch: `bool` → `Boolean`, `int` →
/// `Int64`, `decimal` → `Float64`, `text` and `enum(…)` → `Utf8`, `date` → `Date32`,
/// `timestamp` → `Timestamp(Microsecond, "UTC")`, `list<T>` → `List` of nullable `item`s,
/// `struct {…}` → `Struct` of nullable fields in declaration order.
pub fn arrow_type(ty: &ColumnType) -> DataType {
    match ty {
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Int => DataType::Int64,
        ColumnType::Decimal => DataType::Float64,
        ColumnType::Text | ColumnType::Enum(_) => DataType::Utf8,
        ColumnType::Date => DataType::Date32,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ColumnType::List(elem) => DataType::List(Arc::new(item_field(elem))),
        ColumnType::Struct(fields) => DataType::Struct(struct_fields(fields)),
    }
}

/// The field of a list's elements.
pub(crate) fn item_field(elem: &ColumnType) -> Field {
    Field::new("item", arrow_type(elem), true)
}

/// The fields of a struct type.
pub(crate) fn struct_fields(fields: &[(String, ColumnType)]) -> Fields {
    fields
        .iter()
        .map(|(name, ty)| Field::new(name, arrow_type(ty), true))
        .collect()
}

/// Whether every value an array of `ty`'s Arrow type can hold conforms to `ty` (not so for
/// enums, whose domain Arrow does not know).
pub(crate) fn arrow_type_is_exact(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Enum(_) => false,
        ColumnType::List(elem) => arrow_type_is_exact(elem),
        ColumnType::Struct(fields) => fields.iter().all(|(_, t)| arrow_type_is_exact(t)),
        _ => true,
    }
}

/// The schema of the batches [`SourceSession::mask_batch`] returns for `source`: every declared
/// top-level column, in declaration order, nullable.
pub fn output_schema(source: &SourceSession<'_>) -> Schema {
    Schema::new(
        source
            .columns()
            .into_iter()
            .map(|name| {
                let ty = source.column_type(name).map_or(DataType::Null, arrow_type);
                Field::new(name, ty, true)
            })
            .collect::<Vec<_>>(),
    )
}
