//! The language server's integration tests (over stdio against the `pol-lsp` binary) in one test binary: one module a former test file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

/// The IDE fixture shared with the compiler's `ide` tests.
#[path = "../../compiler/tests/support/ide_fixture.rs"]
mod ide_fixture;
mod support;

mod editor_session;
mod memory;
mod policy_sets;
mod robustness;
