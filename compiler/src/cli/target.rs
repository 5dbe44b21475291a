//! Where `polc grants` and `polc eval --grants` keep grants and audit records: the targets of
//! [`pol_runtime::grants::target`] (a JSON-lines file, or a `postgres://` URL), opened there
//! and shared with `pol-server`; here a failure becomes a usage error (exit 2).

use super::fail_usage;
use pol_runtime::audit::AuditSink;
use pol_runtime::grants::target;
use pol_runtime::grants::GrantStore;
use std::process::ExitCode;
use std::sync::Arc;

pub use pol_runtime::grants::target::Target;

/// Opens a grant store; `must_exist` refuses a missing file (a database's tables must exist).
pub fn open_store(target: &Target, schema: &str, must_exist: bool) -> Result<GrantStore, ExitCode> {
    target::open_store(target, schema, must_exist).map_err(fail_usage)
}

/// Opens an audit trail.
pub fn open_audit(target: &Target, schema: &str) -> Result<Arc<dyn AuditSink>, ExitCode> {
    target::open_audit(target, schema).map_err(fail_usage)
}

/// Opens an audit trail and a grant store (see [`target::open_both`]).
pub fn open_both(
    store: &Target,
    audit: &Target,
    schema: &str,
    must_exist: bool,
) -> Result<(GrantStore, Arc<dyn AuditSink>), ExitCode> {
    target::open_both(store, audit, schema, must_exist).map_err(fail_usage)
}
