//! Record batches across the Arrow C data interface: no Python object per cell.
//!
//! In: any object with `__arrow_c_array__` (the Arrow PyCapsule protocol; `pyarrow.RecordBatch`
//! since pyarrow 14) whose array is a struct array (a record batch). Out: a
//! `pyarrow.RecordBatch`, imported from the exported C structures.

use std::ffi::CStr;

use arrow_array::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{Array, RecordBatch, StructArray};
use arrow_schema::DataType;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

use crate::errors::BatchError;

const SCHEMA_NAME: &CStr = c"arrow_schema";
const ARRAY_NAME: &CStr = c"arrow_array";

/// Reads a record batch from a Python object through the PyCapsule protocol.
#[expect(
    unsafe_code,
    reason = "the Arrow C data interface: the capsules' pointers are read as the Arrow structures"
)]
pub fn import_batch(obj: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    if !obj.hasattr("__arrow_c_array__")? {
        return Err(BatchError::new_err(format!(
            "expected a pyarrow.RecordBatch (an object with `__arrow_c_array__`), found `{}`",
            obj.get_type().name()?
        )));
    }
    let pair = obj.call_method0("__arrow_c_array__")?;
    let pair = pair.cast::<PyTuple>().map_err(|_| {
        BatchError::new_err("`__arrow_c_array__` did not return a (schema, array) pair")
    })?;
    if pair.len() != 2 {
        return Err(BatchError::new_err(
            "`__arrow_c_array__` did not return a (schema, array) pair",
        ));
    }
    let schema_capsule = pair.get_item(0)?;
    let array_capsule = pair.get_item(1)?;
    let schema_capsule = schema_capsule
        .cast::<PyCapsule>()
        .map_err(|_| BatchError::new_err("the Arrow schema is not a PyCapsule"))?;
    let array_capsule = array_capsule
        .cast::<PyCapsule>()
        .map_err(|_| BatchError::new_err("the Arrow array is not a PyCapsule"))?;
    let schema_ptr = schema_capsule
        .pointer_checked(Some(SCHEMA_NAME))
        .map_err(|e| BatchError::new_err(format!("the Arrow schema capsule: {e}")))?;
    let array_ptr = array_capsule
        .pointer_checked(Some(ARRAY_NAME))
        .map_err(|e| BatchError::new_err(format!("the Arrow array capsule: {e}")))?;
    // SAFETY: the capsules are named per the Arrow PyCapsule protocol, so they hold an
    // `ArrowSchema` and an `ArrowArray`. The array is moved out of its capsule (its release
    // callback is left null, so the capsule's destructor does nothing); the schema is only
    // borrowed and released by its capsule.
    let data = unsafe {
        let array = FFI_ArrowArray::from_raw(array_ptr.as_ptr().cast::<FFI_ArrowArray>());
        let schema = &*(schema_ptr.as_ptr().cast::<FFI_ArrowSchema>());
        from_ffi(array, schema)
    }
    .map_err(|e| BatchError::new_err(format!("cannot import the Arrow batch: {e}")))?;
    if !matches!(data.data_type(), DataType::Struct(_)) {
        return Err(BatchError::new_err(format!(
            "expected a record batch (a struct array), found an array of {}",
            data.data_type()
        )));
    }
    let array = StructArray::from(data);
    if array.null_count() > 0 {
        return Err(BatchError::new_err(
            "a record batch cannot have null rows (the struct array has nulls)",
        ));
    }
    Ok(RecordBatch::from(array))
}

/// Hands a record batch to pyarrow (`pyarrow.RecordBatch._import_from_c`).
pub fn export_batch<'py>(py: Python<'py>, batch: RecordBatch) -> PyResult<Bound<'py, PyAny>> {
    let data = StructArray::from(batch).into_data();
    let (array, schema) = to_ffi(&data)
        .map_err(|e| BatchError::new_err(format!("cannot export the Arrow batch: {e}")))?;
    let array = Box::new(array);
    let schema = Box::new(schema);
    let pyarrow = py.import("pyarrow")?;
    // pyarrow moves both structures out (their release callbacks are left null); dropping the
    // boxes afterwards releases nothing twice, and releases them if the import failed.
    let array_addr = &*array as *const FFI_ArrowArray as usize;
    let schema_addr = &*schema as *const FFI_ArrowSchema as usize;
    pyarrow
        .getattr("RecordBatch")?
        .call_method1("_import_from_c", (array_addr, schema_addr))
}
