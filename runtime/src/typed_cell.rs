//! A JSON cell as the typed value of its column, for applications that build typed rows
//! ([`SourceSession::mask_values`](crate::SourceSession::mask_values)) from loosely typed
//! input (the Python package's `mask_values`).

use crate::value::{ColumnType, Value};

/// `cell` decoded by the column type `ty` as [`Value::from_json`] decodes it; a cell that does
/// not decode is a value that conforms to no column of type `ty`, so that
/// [`mask_values`](crate::SourceSession::mask_values) counts it as a mismatch (a warning) and
/// masks it as null, as [`mask_json`](crate::SourceSession::mask_json) does with the same cell.
pub fn typed_cell(cell: &serde_json::Value, ty: &ColumnType) -> Value {
    Value::from_json(cell, ty).unwrap_or_else(|_| mismatch(ty))
}

/// A value that conforms to no column of type `ty`: what a cell that does not decode as `ty`
/// becomes in a typed row, so that [`mask_values`](crate::SourceSession::mask_values) counts
/// it as a mismatch and masks it as null (the server's typed body decoder uses it too).
pub fn mismatch(ty: &ColumnType) -> Value {
    match ty {
        ColumnType::Bool => Value::Text(String::new()),
        _ => Value::Bool(false),
    }
}
