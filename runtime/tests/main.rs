//! The runtime's integration tests in one test binary: one module a former test file (the crash tests `audit_crash` and `grants_crash` kill child processes of their own executable and stay separate `harness = false` binaries).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

mod engine_support;

mod audit_file;
mod disassembly;
mod engine_bundle;
mod engine_deciding;
mod engine_explain;
mod engine_masking;
mod engine_program;
mod engine_rows;
mod engine_shared_plans;
mod engine_structure;
mod engine_warnings;
mod golden;
mod grants_detokenize;
mod grants_levels;
mod grants_revoke;
mod grants_unmask;
mod k_anonymity;
mod k_anonymity_policy;
mod python_apis;
mod statistics;
mod wire_layout;
