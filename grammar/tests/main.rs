//! The grammar's integration tests in one test binary: one module a former test file.

mod support;

mod format_corpus;
mod format_layout;
mod format_props;
mod never_panics;
mod parse_corpus;
