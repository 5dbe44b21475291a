//! `polc sql`: the policy set enforced by PostgreSQL — a backend of the resolved model beside
//! the bytecode lowering ([`crate::lower`]).
//!
//! It reads the [`Model`] and the conflict [`Resolution`] (never the syntax tree or a bundle)
//! and writes one idempotent script: a schema with the subjects, hash key, grants and audit
//! tables, pure helper functions, and per source a `security_barrier` view whose columns
//! compute, for the querying role's subject, exactly what the runtime computes (the reference
//! evaluator, [`crate::reference`], states the semantics the views follow). What SQL cannot
//! compute exactly — a technique, a column type, an expression — is an [`SqlError`] naming the
//! source, the column and the reason; never an approximation, never a clear column.
//!
//! Modules: `expr` (conditions and derived values), `technique` (masking techniques),
//! `regex` (Rust patterns as PostgreSQL ones, where both match the same), `view` (one source's
//! decisions), `script` (the transaction around them), `ident` (quoting), `error`.

mod error;
mod expr;
mod ident;
mod lookup;
mod regex;
mod script;
mod technique;
mod view;

pub use error::{SqlError, SqlErrorKind};
pub use script::{generate, table, tables, Generated};

/// Where the script puts things, and the key of keyed techniques.
#[derive(Clone, Debug)]
pub struct Options {
    /// The schema of the views, helpers, subjects, grants and audit (`pol`).
    pub schema: String,
    /// The schema of the base tables (`public`).
    pub base_schema: String,
    /// The HKDF sub-key of `hash` ([`pol_runtime::MaskingKey::export_hash_key`]); without it,
    /// keyed techniques give null, as in a runtime without keys.
    pub hash_key: Option<[u8; 32]>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            schema: "pol".into(),
            base_schema: "public".into(),
            hash_key: None,
        }
    }
}
