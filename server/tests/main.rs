//! End-to-end tests of `pol-server` over real sockets: the binary is started on an ephemeral
//! loopback port (or a Unix socket) and called over HTTP. `polc` (the compiler's binary) builds
//! the bundles and is the reference the server's answers must equal.

mod support;

mod auth;
mod equivalence;
mod grants;
mod limits;
mod reload;
