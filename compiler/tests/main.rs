//! The compiler's integration tests (`polc`, the analysis, lowering, SQL, IDE features) in one test binary: one module a former test file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

mod support;

mod approval;
mod arrow_batches;
mod checked_loads;
mod code_pages;
mod conformance;
mod deep_input;
mod diagnostics;
mod diff;
mod differential;
mod eval_cli;
mod eval_k_anonymize;
mod example_tests;
mod examples_check;
mod explain_cli;
mod explain_generated;
mod expr_technique;
mod grants_cli;
mod grants_postgres;
mod ide_features;
mod ide_why;
mod language_reference;
mod linked;
mod lookup_tables;
mod lowering;
mod never_panics;
mod policy_sets;
mod proof;
mod readme;
mod reference_generated;
mod reference_semantics;
mod reference_subject;
mod render_formats;
mod scopes_k_anonymity;
mod spans;
mod sql_postgres;
mod string_functions;
mod technique_differential;
mod walkthroughs;
