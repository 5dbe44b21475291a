//! The language server's integration tests (over stdio against the `pol-lsp` binary) in one test binary: one module a former test file.

/// The IDE fixture shared with the compiler's `ide` tests.
#[path = "../../compiler/tests/support/ide_fixture.rs"]
mod ide_fixture;
mod support;

mod editor_session;
mod memory;
mod policy_sets;
mod robustness;
