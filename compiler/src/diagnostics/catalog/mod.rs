//! The catalog of diagnostics: one typed constructor per message, so that the text of each
//! message (its title, label and help) lives in one place, next to the other messages of its
//! code. Checkers call these constructors instead of formatting messages themselves.

mod approval;
mod columns;
mod declarations;
mod expressions;
mod links;
mod lints;
mod lockout;
mod mismatch;
mod names;
mod policies;
mod scopes;
mod strings;
mod tables;
mod techniques;
mod tests;
mod types;

pub use columns::RoleModifier;
pub use mismatch::OperandMismatch;
