//! Python objects as JSON values and back (rows, subjects, explanations).
//!
//! `None`, `bool`, `int`, `float`, `str`, lists, tuples and dicts map to their JSON forms;
//! `datetime.datetime` and `datetime.date` to their ISO text (a naive datetime is taken as UTC),
//! which is what Pol reads for `timestamp` and `date` columns.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Depth beyond which nested containers are refused (a cyclic list would never end).
const MAX_DEPTH: usize = 64;

/// A Python object as JSON.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json_at(obj, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err(format!(
            "values nest deeper than {MAX_DEPTH} levels"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.extract::<bool>()?));
    }
    if obj.is_instance_of::<PyInt>() {
        // An int beyond i64 is no Pol int: its text, which no int column accepts.
        return Ok(match obj.extract::<i64>() {
            Ok(i) => Value::Number(i.into()),
            Err(_) => Value::String(obj.str()?.to_string()),
        });
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Number::from_f64(obj.extract::<f64>()?).map_or(Value::Null, Value::Number));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(obj.extract::<String>()?));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(to_json_at(&item?, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in dict.iter() {
            let key = match k.extract::<String>() {
                Ok(s) => s,
                Err(_) => k.str()?.to_string(),
            };
            map.insert(key, to_json_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Some(text) = iso_text(obj)? {
        return Ok(Value::String(text));
    }
    Err(PyTypeError::new_err(format!(
        "cannot read a value of Python type `{}` (use None, bool, int, float, str, list, dict, \
         datetime.date or datetime.datetime)",
        obj.get_type().name()?
    )))
}

/// The ISO text of a `datetime.datetime` (naive → UTC) or `datetime.date`.
fn iso_text(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if !obj.hasattr("isoformat")? || !obj.hasattr("year")? {
        return Ok(None);
    }
    let text: String = obj.call_method0("isoformat")?.extract()?;
    if obj.hasattr("tzinfo")? && obj.getattr("tzinfo")?.is_none() {
        return Ok(Some(format!("{text}+00:00")));
    }
    Ok(Some(text))
}

/// A JSON value as a Python object.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any(),
            None => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// The clock of a session: a `datetime.datetime` (naive → UTC) as a UTC instant.
pub fn clock(obj: &Bound<'_, PyAny>) -> PyResult<chrono::DateTime<chrono::Utc>> {
    let text = match iso_text(obj)? {
        Some(t) if obj.hasattr("hour")? => t,
        _ => {
            return Err(crate::errors::SubjectError::new_err(
                "`now` must be a datetime.datetime",
            ))
        }
    };
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            crate::errors::SubjectError::new_err(format!("`now` ({text}) is not an instant: {e}"))
        })
}

/// A runtime value as a native Python object: `date` → `datetime.date`, `timestamp` → an aware
/// `datetime.datetime` in UTC, lists → `list`, structs → `dict`, the rest as their JSON forms.
pub fn value_to_py<'py>(py: Python<'py>, v: &pol_runtime::Value) -> PyResult<Bound<'py, PyAny>> {
    use chrono::{Datelike, Timelike};
    use pol_runtime::Value as V;
    Ok(match v {
        V::Date(d) => {
            py.import("datetime")?
                .getattr("date")?
                .call1((d.year(), d.month(), d.day()))?
        }
        V::Timestamp(t) => {
            let datetime = py.import("datetime")?;
            let utc = datetime.getattr("timezone")?.getattr("utc")?;
            datetime.getattr("datetime")?.call1((
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.nanosecond() / 1000,
                utc,
            ))?
        }
        V::List(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        V::Struct(fields) => {
            let dict = PyDict::new(py);
            for (k, item) in fields {
                dict.set_item(k, value_to_py(py, item)?)?;
            }
            dict.into_any()
        }
        other => to_py(py, &other.to_json())?,
    })
}
