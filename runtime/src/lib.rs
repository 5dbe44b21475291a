//! The Pol runtime: values, keys and masking techniques, embedded in applications.
//!
//! This crate knows nothing of Pol's syntax and depends on neither the grammar nor the compiler.
//! Nothing in it panics on input data: every failure is returned as a value, and callers mask a
//! cell with null when a technique fails (fail closed).
//!
//! # Masking rows
//!
//! A bundle is written by `polc build`. An application loads it once into an [`Engine`] (with
//! the masking key, given as bytes or a file and never written in a policy or a bundle), opens a
//! [`Session`] per user — every condition that depends only on the user is decided there — and
//! masks rows through a [`SourceSession`]:
//!
//! ```no_run
//! use pol_runtime::{Engine, KeyRing, MaskingKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bundle = std::fs::read("policies.polb")?;
//! let keys = KeyRing::new(MaskingKey::from_file("masking.key")?);
//! let engine = Engine::load(&bundle, Some(keys))?;
//!
//! let user = serde_json::json!({"login": "amy", "roles": ["support"]});
//! let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
//! let session = engine.session(&user, now)?;
//! let customers = session.source("customers").ok_or("no source `customers`")?;
//!
//! let row = serde_json::json!({"id": 1, "email": "jenny@example.com"});
//! match customers.mask_json(row.as_object().ok_or("a row is an object")?) {
//!     // Every declared column, in declaration order, masked for this user.
//!     Some(cells) => println!("{}", serde_json::Value::Object(cells.into_iter().collect())),
//!     // The row rules hide this row from this user.
//!     None => {}
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Temporary unmask grants and detokenization go through a [`grants::GrantService`], which
//! writes every request, refusal and reveal to an [`audit::AuditSink`] (a durable JSON-lines
//! file sink is provided). [`k_anonymize`] makes a batch of masked rows k-anonymous.

#![warn(missing_docs)]

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod audit;
pub mod keys;
pub mod techniques;
pub mod value;

pub use keys::{KeyError, KeyRing, MaskingKey};
pub use techniques::k_anonymity::{
    k_anonymize, Hierarchy, KAnonymity, KAnonymityError, KAnonymityReport, QuasiIdentifier,
};
pub use techniques::k_anonymity_json::k_anonymize_json;
pub use techniques::{
    detokenize, format_preserving_decrypt, format_preserving_decrypt_int,
    format_preserving_decrypt_int_with, format_preserving_decrypt_with, Fill, MaskContext,
    PreparedTechnique, Technique, TechniqueError, TimeUnit,
};
pub use value::{ColumnType, TypeMismatch, Value};

pub mod bundle;
pub mod engine;
pub mod grants;
pub mod json;
pub mod lookup;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod program;
pub mod table_file;
mod typed_cell;

pub use bundle::{Bundle, BundleError};
pub use engine::{
    Engine, InputWarning, LinkError, LoadError, MaskedRows, RowExplanation, Session, SourceSession,
    SubjectError, SubjectIssue,
};
pub use lookup::{LookupKind, LookupValues, TableError};
pub use typed_cell::{mismatch, typed_cell};
