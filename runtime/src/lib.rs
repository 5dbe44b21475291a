//! The Pol runtime: values, keys and masking techniques, embedded in applications.
//!
//! This crate knows nothing of Pol's syntax and depends on neither the grammar nor the compiler.
//! Nothing in it panics on input data: every failure is returned as a value, and callers mask a
//! cell with null when a technique fails (fail closed).

#![warn(missing_docs)]

pub mod audit;
pub mod keys;
pub mod techniques;
pub mod value;

pub use keys::{KeyError, KeyRing, MaskingKey};
pub use techniques::k_anonymity::{
    k_anonymize, Hierarchy, KAnonymity, KAnonymityError, KAnonymityReport, QuasiIdentifier,
};
pub use techniques::{
    detokenize, format_preserving_decrypt, format_preserving_decrypt_with, Fill, MaskContext,
    PreparedTechnique, Technique, TechniqueError, TimeUnit,
};
pub use value::{ColumnType, TypeMismatch, Value};

pub mod bundle;
pub mod engine;
pub mod grants;
pub mod program;

pub use bundle::{Bundle, BundleError};
pub use engine::{Engine, LoadError, RowExplanation, Session, SourceSession, SubjectError};
