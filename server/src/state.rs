//! What every request shares: the bundle slot, the authenticator, the grant service, the
//! limits and the metrics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pol_runtime::grants::GrantService;
use tokio::sync::Semaphore;

use crate::auth::Authenticator;
use crate::bundle_slot::BundleSlot;
use crate::metrics::Metrics;
use crate::options::Limits;

/// The grants and audit a server was given.
#[derive(Debug)]
pub struct Grants {
    /// Grants (a real store with `--grants`, else an empty in-memory one) and the audit trail.
    pub service: GrantService,
    /// Whether `--grants` was given: masking then applies the temporary unmask grants.
    pub apply_to_masking: bool,
}

/// The state shared by every request.
#[derive(Debug)]
pub struct AppState {
    /// The bundle serving.
    pub bundle: BundleSlot,
    /// Who is asking.
    pub auth: Authenticator,
    /// Grants and audit (`--audit`); without them, detokenize and grants answer 503.
    pub grants: Option<Arc<Grants>>,
    /// Request limits.
    pub limits: Limits,
    /// Whether bodies may set the clock.
    pub allow_client_clock: bool,
    /// Metrics.
    pub metrics: Metrics,
    /// Requests served at once (a permit per request; none left: 503).
    pub in_flight: Arc<Semaphore>,
    /// Set when a graceful shutdown begins (`/readyz` then answers 503).
    pub stopping: AtomicBool,
}

impl AppState {
    /// Whether a shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
}

/// The shared state as handlers take it.
pub type Shared = Arc<AppState>;
