//! The package's exceptions: `pol.PolError` and one subclass per kind of failure, each carrying
//! the runtime's message.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _pol,
    PolError,
    PyException,
    "Base class of every error the pol package raises."
);
create_exception!(
    _pol,
    BundleError,
    PolError,
    "The bytes are not a valid Pol bundle (corrupt, truncated, another format version) or the file cannot be read."
);
create_exception!(
    _pol,
    MissingKeyError,
    PolError,
    "The policies use a keyed technique (hash, tokenize, format_preserving) and no masking key was given."
);
create_exception!(
    _pol,
    KeyFileError,
    PolError,
    "The masking key is unusable: too short, or its file cannot be read."
);
create_exception!(
    _pol,
    SubjectError,
    PolError,
    "The subject (the user context) is not a JSON object, or the clock is not a datetime."
);
create_exception!(
    _pol,
    UnknownSourceError,
    PolError,
    "The bundle declares no source of that name."
);
create_exception!(
    _pol,
    BatchError,
    PolError,
    "An Arrow batch cannot be read through the Arrow C data interface, or the masked batch cannot be assembled."
);

create_exception!(
    _pol,
    TableError,
    PolError,
    "A lookup table cannot be set: not declared, read from a file, values of another type, or too many."
);

create_exception!(
    _pol,
    LinkError,
    PolError,
    "Parent rows cannot be given: the source has no key column, so its rows cannot be parents."
);

create_exception!(
    _pol,
    KAnonymityError,
    PolError,
    "`k_anonymize` cannot run: k is 0, or a quasi-identifier is not a column of the source or is listed twice."
);

create_exception!(
    _pol,
    GrantError,
    PolError,
    "A grant, approval, detokenization or tokenization was refused (audited) or could not be stored or audited."
);

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PolError", py.get_type::<PolError>())?;
    m.add("BundleError", py.get_type::<BundleError>())?;
    m.add("MissingKeyError", py.get_type::<MissingKeyError>())?;
    m.add("KeyFileError", py.get_type::<KeyFileError>())?;
    m.add("SubjectError", py.get_type::<SubjectError>())?;
    m.add("UnknownSourceError", py.get_type::<UnknownSourceError>())?;
    m.add("BatchError", py.get_type::<BatchError>())?;
    m.add("TableError", py.get_type::<TableError>())?;
    m.add("LinkError", py.get_type::<LinkError>())?;
    m.add("KAnonymityError", py.get_type::<KAnonymityError>())?;
    m.add("GrantError", py.get_type::<GrantError>())?;
    Ok(())
}

/// The exception for an engine that cannot be loaded.
pub fn load_error(e: pol_runtime::LoadError) -> PyErr {
    match e {
        pol_runtime::LoadError::MissingKey { .. } => MissingKeyError::new_err(e.to_string()),
        other => BundleError::new_err(other.to_string()),
    }
}
