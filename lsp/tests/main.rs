//! The language server's integration tests (over stdio against the `pol-lsp` binary) in one test binary: one module a former test file.

mod support;

mod editor_session;
mod memory;
mod policy_sets;
mod robustness;
