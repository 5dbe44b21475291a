//! The grammar's integration tests in one test binary: one module a former test file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

mod support;

mod format_corpus;
mod format_layout;
mod format_props;
mod never_panics;
mod parse_corpus;
