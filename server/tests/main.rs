//! End-to-end tests of `pol-server` over real sockets: the binary is started on an ephemeral
//! loopback port (or a Unix socket) and called over HTTP. `polc` (the compiler's binary) builds
//! the bundles and is the reference the server's answers must equal.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

mod support;

// The compiler's throwaway PostgreSQL cluster, shared by path (no copy).
#[path = "../../compiler/tests/support/pg.rs"]
mod pg;

mod approvals;
mod auth;
mod equivalence;
mod grants;
mod grants_postgres;
mod k_anonymity;
mod limits;
mod linked_rows;
mod lookup_tables;
mod reload;
mod typed_body;
