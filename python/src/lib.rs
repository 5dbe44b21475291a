//! The `pol._pol` extension module: Pol's runtime for Python (see `python/pol/__init__.py` for the
//! package and `python/pol/_pol.pyi` for the typed interface).
//!
//! An [`Engine`] owns a loaded bundle; a [`Session`] owns its engine (shared) and the runtime
//! session specialised for one subject; a [`SourceSession`] names one source of a session.
//! Masking releases the GIL.

mod errors;
mod ffi;
mod grants;
mod values;

use std::sync::{Arc, RwLock, RwLockReadGuard};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use errors::{
    load_error, BatchError, BundleError, KAnonymityError, KeyFileError, LinkError, SubjectError,
    TableError, UnknownSourceError,
};

self_cell::self_cell!(
    /// A runtime session together with the engine it borrows.
    struct OwnedSession {
        owner: Arc<pol_runtime::Engine>,
        #[covariant]
        dependent: Session,
    }
);

type Session<'e> = pol_runtime::Session<'e>;

/// A loaded, verified policy bundle (written by `polc build`).
#[pyclass(frozen, module = "pol", name = "Engine")]
pub(crate) struct Engine {
    pub(crate) inner: Arc<pol_runtime::Engine>,
}

#[pymethods]
impl Engine {
    /// Loads a bundle from its bytes, with the masking key's bytes if the policies use keyed
    /// techniques.
    #[staticmethod]
    #[pyo3(signature = (bundle, key = None))]
    fn load(py: Python<'_>, bundle: &[u8], key: Option<&[u8]>) -> PyResult<Engine> {
        let keys = match key {
            None => None,
            Some(k) => Some(pol_runtime::KeyRing::new(
                pol_runtime::MaskingKey::from_bytes(k)
                    .map_err(|e| KeyFileError::new_err(e.to_string()))?,
            )),
        };
        let bundle = bundle.to_vec();
        let engine = py
            .detach(move || pol_runtime::Engine::load(&bundle, keys))
            .map_err(load_error)?;
        Ok(Engine {
            inner: Arc::new(engine),
        })
    }

    /// Loads a bundle file, with a key file if the policies use keyed techniques.
    #[staticmethod]
    #[pyo3(signature = (path, key_file = None))]
    fn from_file(
        py: Python<'_>,
        path: std::path::PathBuf,
        key_file: Option<std::path::PathBuf>,
    ) -> PyResult<Engine> {
        let bytes = std::fs::read(&path).map_err(|e| {
            BundleError::new_err(format!("cannot read the bundle {}: {e}", path.display()))
        })?;
        let key = match key_file {
            None => None,
            Some(k) => Some(
                pol_runtime::MaskingKey::from_file(&k)
                    .map_err(|e| KeyFileError::new_err(e.to_string()))?,
            ),
        };
        let engine = py
            .detach(move || pol_runtime::Engine::load(&bytes, key.map(pol_runtime::KeyRing::new)))
            .map_err(load_error)?;
        Ok(Engine {
            inner: Arc::new(engine),
        })
    }

    /// Supplies (or refreshes) the values of a lookup table declared `supplied at run time`:
    /// a list of `str` for a `text` table, of `int` for an `int` table. Sessions opened
    /// afterwards see them; until then the table's conditions are unknown (they mask).
    fn set_table(&self, name: &str, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let kind = self
            .inner
            .tables()
            .find(|(n, _, _)| *n == name)
            .map(|(_, kind, _)| kind);
        let values = match kind {
            Some(pol_runtime::LookupKind::Int) => {
                pol_runtime::LookupValues::Int(values.extract().map_err(|_| {
                    TableError::new_err(format!(
                        "table `{name}` holds int values: give a list of int"
                    ))
                })?)
            }
            // An undeclared table is refused by `set_table` itself, with its message.
            _ => pol_runtime::LookupValues::Text(values.extract().map_err(|_| {
                TableError::new_err(format!(
                    "table `{name}` holds text values: give a list of str"
                ))
            })?),
        };
        self.inner
            .set_table(name, values)
            .map_err(|e| TableError::new_err(format!("{}: {e}", e.code())))
    }

    /// The lookup tables: `(name, type, supplied at run time)`.
    fn tables(&self) -> Vec<(String, &'static str, bool)> {
        self.inner
            .tables()
            .map(|(n, k, s)| (n.to_owned(), k.name(), s))
            .collect()
    }

    /// The names of the bundle's sources, in declaration order.
    fn source_names(&self) -> Vec<String> {
        self.inner.source_names().map(str::to_owned).collect()
    }

    /// The sources whose shown rows the row rules of `source` follow (`only show rows linked
    /// to shown P`): its direct parents, each once, in rule order.
    fn link_parents(&self, source: &str) -> PyResult<Vec<String>> {
        let names: Vec<&str> = self.inner.source_names().collect();
        let index = names.iter().position(|n| *n == source).ok_or_else(|| {
            UnknownSourceError::new_err(format!("the bundle has no source `{source}`"))
        })?;
        Ok(self
            .inner
            .bundle()
            .link_parents(index)
            .into_iter()
            .filter_map(|p| names.get(p).map(|n| (*n).to_owned()))
            .collect())
    }

    /// Opens a session for a subject (a dict: `login`, `roles`, `groups`, `purpose`, declared
    /// fields) at a clock (`now`, default: the current time; a naive datetime is UTC).
    #[pyo3(signature = (subject, now = None))]
    fn session(
        &self,
        subject: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SessionPy> {
        SessionPy::open(
            &self.inner,
            subject,
            now,
            |engine, subject, now| engine.session(subject, now),
            |e| SubjectError::new_err(e.to_string()),
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "<pol.Engine sources=[{}]>",
            self.inner.source_names().collect::<Vec<_>>().join(", ")
        )
    }
}

/// A bundle specialised for one subject at one clock. The lock is taken for writing only by
/// `link_rows` / `link_batch` (parent rows for linked visibility).
#[pyclass(frozen, module = "pol", name = "Session")]
pub(crate) struct SessionPy {
    inner: RwLock<OwnedSession>,
}

impl SessionPy {
    /// Opens a session of `engine` with `open` for a subject (a dict) at a clock (`now`,
    /// default: the current time; a naive datetime is UTC); `error` turns its failure into
    /// the Python exception.
    pub(crate) fn open<E>(
        engine: &Arc<pol_runtime::Engine>,
        subject: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
        open: impl for<'e> FnOnce(
            &'e pol_runtime::Engine,
            &serde_json::Value,
            chrono::DateTime<chrono::Utc>,
        ) -> Result<Session<'e>, E>,
        error: impl FnOnce(E) -> PyErr,
    ) -> PyResult<SessionPy> {
        let subject = values::to_json(subject)?;
        let now = match now {
            Some(t) => values::clock(t)?,
            None => chrono::Utc::now(),
        };
        let inner = OwnedSession::try_new(Arc::clone(engine), |engine| open(engine, &subject, now))
            .map_err(error)?;
        Ok(SessionPy {
            inner: RwLock::new(inner),
        })
    }

    /// The session, for reading (masking, explaining).
    fn read(&self) -> RwLockReadGuard<'_, OwnedSession> {
        match self.inner.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Gives the runtime session parent rows (`give` calls `link_rows` or `link_batch`).
    fn link(
        &self,
        give: impl FnOnce(&mut Session<'_>) -> Result<usize, pol_runtime::LinkError>,
    ) -> PyResult<usize> {
        let mut guard = match self.inner.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        guard
            .with_dependent_mut(|_, session| give(session))
            .map_err(|e| match e {
                pol_runtime::LinkError::UnknownSource(name) => {
                    UnknownSourceError::new_err(format!("the bundle has no source `{name}`"))
                }
                other => LinkError::new_err(other.to_string()),
            })
    }
}

#[pymethods]
impl SessionPy {
    /// The source `name` as this session's subject sees it.
    fn source(slf: Bound<'_, Self>, name: &str) -> PyResult<SourceSession> {
        if slf.get().read().borrow_dependent().source(name).is_none() {
            return Err(UnknownSourceError::new_err(format!(
                "the bundle has no source `{name}`"
            )));
        }
        Ok(SourceSession {
            session: slf.unbind(),
            name: name.to_owned(),
        })
    }

    /// Gives the session rows of the parent source `parent` (dicts, as for `mask_rows`), so
    /// that rows of sources that follow it (`only show rows linked to shown parent`) may be
    /// shown: a row is shown only if the parent row its link names was given here (in any
    /// call) and is shown to this subject. Give a chain from the top (grandparents first).
    /// Returns how many of the given rows are shown. Without parent rows, rows that follow a
    /// parent are hidden.
    fn link_rows(&self, py: Python<'_>, parent: &str, rows: &Bound<'_, PyAny>) -> PyResult<usize> {
        let input = dict_rows(rows)?;
        py.detach(|| self.link(|s| s.link_rows(parent, &input)))
    }

    /// The input this session treated as unknown or null so far, one message per subject
    /// field or column (masking already failed closed on each; this is for logging): the
    /// subject's fields that were missing or of the wrong type, then per source and column the
    /// cells of the wrong type among the rows masked so far.
    fn warnings(&self) -> Vec<String> {
        self.read()
            .borrow_dependent()
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// `link_rows` for a `pyarrow.RecordBatch` of the parent source, read as `mask_batch`
    /// reads a batch of it (columns by name, cells by Arrow type).
    fn link_batch(
        &self,
        py: Python<'_>,
        parent: &str,
        batch: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let input = ffi::import_batch(batch)?;
        py.detach(|| self.link(|s| s.link_batch(parent, &input)))
    }
}

/// Rows given as dicts, as JSON objects.
fn dict_rows(rows: &Bound<'_, PyAny>) -> PyResult<Vec<serde_json::Map<String, serde_json::Value>>> {
    let mut input = Vec::new();
    for row in rows.try_iter()? {
        match values::to_json(&row?)? {
            serde_json::Value::Object(map) => input.push(map),
            other => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "a row must be a dict, found {}",
                    json_kind(&other)
                )))
            }
        }
    }
    Ok(input)
}

/// One source of a session: masks Arrow batches and rows.
#[pyclass(frozen, module = "pol", name = "SourceSession")]
struct SourceSession {
    session: Py<SessionPy>,
    name: String,
}

impl SourceSession {
    fn with<T>(&self, f: impl FnOnce(&pol_runtime::SourceSession<'_>) -> T) -> PyResult<T> {
        let guard = self.session.get().read();
        let session = guard.borrow_dependent();
        let source = session.source(&self.name).ok_or_else(|| {
            UnknownSourceError::new_err(format!("the bundle has no source `{}`", self.name))
        })?;
        Ok(f(&source))
    }
}

#[pymethods]
impl SourceSession {
    /// The source's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// Masks a `pyarrow.RecordBatch`: every declared column in declaration order, the rows the
    /// row rules show this subject. Columns are matched by name; undeclared ones are dropped;
    /// cells of the wrong type are null.
    fn mask_batch<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input = ffi::import_batch(batch)?;
        let owned = self.session.get();
        let name = self.name.as_str();
        let masked = py.detach(|| {
            let guard = owned.read();
            let session = guard.borrow_dependent();
            session.source(name).map(|s| s.mask_batch(&input))
        });
        let masked = masked
            .ok_or_else(|| {
                UnknownSourceError::new_err(format!("the bundle has no source `{name}`"))
            })?
            .map_err(|e| BatchError::new_err(e.to_string()))?;
        ffi::export_batch(py, masked)
    }

    /// Masks rows given as dicts (JSON-like values; dates and datetimes accepted): the rows
    /// the subject may see, each with every declared column in declaration order. Values come
    /// back as `polc eval` prints them (dates and timestamps as ISO text). On a source with
    /// `k_anonymity`, the rows given are the batch made k-anonymous.
    fn mask_rows<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let input = dict_rows(rows)?;
        let owned = self.session.get();
        let name = self.name.as_str();
        let masked = py.detach(|| {
            let guard = owned.read();
            let session = guard.borrow_dependent();
            // The rows given are one batch: a source with `k_anonymity` is made k-anonymous
            // over them.
            session.source(name).map(|s| s.mask_rows(&input).rows)
        });
        let masked = masked.ok_or_else(|| {
            UnknownSourceError::new_err(format!("the bundle has no source `{name}`"))
        })?;
        let out = PyList::empty(py);
        for cells in masked {
            let dict = PyDict::new(py);
            for (k, v) in &cells {
                dict.set_item(k, values::to_py(py, v)?)?;
            }
            out.append(dict)?;
        }
        Ok(out)
    }

    /// Makes rows already masked (dicts, as `mask_rows` returns them) k-anonymous over the
    /// columns `quasi_identifiers` (`pol_runtime::k_anonymize_json`: each read with its declared
    /// type and generalised with that type's default hierarchy). Returns the rows (new dicts,
    /// in order, none added or removed) and a report: `levels` (per quasi-identifier, the
    /// level chosen) and `suppressed` (the indices of rows whose quasi-identifiers were nulled).
    #[pyo3(signature = (rows, k, quasi_identifiers, max_suppressed = None))]
    fn k_anonymize<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
        k: usize,
        quasi_identifiers: Vec<String>,
        max_suppressed: Option<usize>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyDict>)> {
        let mut input = dict_rows(rows)?;
        for (i, name) in quasi_identifiers.iter().enumerate() {
            if quasi_identifiers.iter().take(i).any(|n| n == name) {
                return Err(KAnonymityError::new_err(format!(
                    "quasi-identifier `{name}` is listed twice"
                )));
            }
        }
        let columns = self.with(|s| {
            quasi_identifiers
                .iter()
                .map(|name| {
                    s.column_type(name)
                        .map(|ty| (name.clone(), ty.clone()))
                        .ok_or_else(|| {
                            KAnonymityError::new_err(format!(
                                "no column `{name}` in source `{}` (columns: {})",
                                self.name,
                                s.columns().join(", ")
                            ))
                        })
                })
                .collect::<PyResult<Vec<_>>>()
        })??;
        let params = pol_runtime::KAnonymity {
            k,
            max_suppressed: max_suppressed.unwrap_or(k),
        };
        let report = py
            .detach(|| pol_runtime::k_anonymize_json(&mut input, &params, &columns))
            .map_err(|e| KAnonymityError::new_err(e.to_string()))?;
        let out = PyList::empty(py);
        for row in input {
            out.append(values::to_py(py, &serde_json::Value::Object(row))?)?;
        }
        let levels = PyDict::new(py);
        for ((name, _), level) in columns.iter().zip(&report.levels) {
            levels.set_item(name, level)?;
        }
        let summary = PyDict::new(py);
        summary.set_item("levels", levels)?;
        summary.set_item("suppressed", report.suppressed)?;
        Ok((out, summary))
    }

    /// Masks typed rows: each row a sequence of values in the order of `input_columns()`
    /// (missing trailing values are None, extra ones ignored), each read by its column's
    /// declared type (as `mask_rows` reads a cell; a value of another type is null and counted
    /// in the session's `warnings()`). Returns the shown rows, each a list with one value per
    /// column of `columns()`, as native Python values (`datetime.date`, aware UTC
    /// `datetime.datetime`, lists, dicts for structs). The rows given are one batch (a source
    /// with `k_anonymity` is made k-anonymous over them).
    fn mask_values<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let types: Vec<pol_runtime::ColumnType> = self.with(|s| {
            s.input_columns()
                .into_iter()
                .filter_map(|name| s.column_type(name).cloned())
                .collect()
        })?;
        let mut input: Vec<Vec<pol_runtime::Value>> = Vec::new();
        for row in rows.try_iter()? {
            let row = row?;
            if row.is_instance_of::<PyDict>() || row.is_instance_of::<pyo3::types::PyString>() {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "a typed row is a sequence of values in the order of input_columns(), \
                     not a dict or a str (use mask_rows for dicts)",
                ));
            }
            let mut cells = Vec::with_capacity(types.len());
            for (cell, ty) in row.try_iter()?.zip(&types) {
                cells.push(pol_runtime::typed_cell(&values::to_json(&cell?)?, ty));
            }
            input.push(cells);
        }
        let owned = self.session.get();
        let name = self.name.as_str();
        let masked = py.detach(|| {
            let guard = owned.read();
            let session = guard.borrow_dependent();
            session
                .source(name)
                .map(|s| s.mask_values_rows(&input).rows)
        });
        let masked = masked.ok_or_else(|| {
            UnknownSourceError::new_err(format!("the bundle has no source `{name}`"))
        })?;
        let out = PyList::empty(py);
        for cells in masked {
            let row = PyList::empty(py);
            for v in &cells {
                row.append(values::value_to_py(py, v)?)?;
            }
            out.append(row)?;
        }
        Ok(out)
    }

    /// The stored (not derived) top-level columns, in declaration order: the positions of a
    /// typed row for `mask_values`.
    fn input_columns(&self) -> PyResult<Vec<String>> {
        self.with(|s| s.input_columns().into_iter().map(str::to_owned).collect())
    }

    /// The columns listed for this subject (`visible if`, else `accessible if`, else all), in
    /// declaration order. Visibility never changes a value.
    fn visible_columns(&self) -> PyResult<Vec<String>> {
        self.with(|s| s.visible_columns().into_iter().map(str::to_owned).collect())
    }

    /// The schema of [`mask_batch`]'s output (a `pyarrow.Schema`, the same for every subject).
    fn batch_schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let empty = self.with(|s| arrow_array::RecordBatch::new_empty(s.batch_schema()))?;
        ffi::export_batch(py, empty)?.getattr("schema")
    }

    /// Every declared top-level column, in declaration order: the columns of masked output.
    fn columns(&self) -> PyResult<Vec<String>> {
        self.with(|s| s.columns().into_iter().map(str::to_owned).collect())
    }

    /// How a row (default: an empty one) is treated, as a dict: each row rule, and for every
    /// column the deciding rule, clause and reason (what `polc explain` prints). The cell
    /// values of a row the subject is not shown are withheld (None).
    #[pyo3(signature = (row = None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        row: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let row = match row.map(values::to_json).transpose()? {
            None => serde_json::Map::new(),
            Some(serde_json::Value::Object(map)) => map,
            Some(other) => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "a row must be a dict, found {}",
                    json_kind(&other)
                )))
            }
        };
        // As `/explain` and `polc eval --explain`: a hidden row's cell values are withheld.
        let explanation = self
            .with(|s| s.explain_row(&row).remove("explanation"))?
            .filter(|e| !e.is_null())
            .ok_or_else(|| errors::PolError::new_err("cannot explain the row"))?;
        values::to_py(py, &explanation)
    }

    fn __repr__(&self) -> String {
        format!("<pol.SourceSession {}>", self.name)
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "None",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a str",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a dict",
    }
}

/// The extension module.
#[pymodule]
fn _pol(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<SessionPy>()?;
    m.add_class::<SourceSession>()?;
    m.add_class::<grants::Grants>()?;
    errors::register(m)?;
    Ok(())
}
