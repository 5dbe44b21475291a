//! `pol-server`: Pol as a service. Applications in any language mask rows, read explanations,
//! detokenize values and ask for temporary unmask grants over HTTP; every answer is decided by a
//! verified bundle (`polc build`) through `pol-runtime` alone, for the subject of a verified JWT
//! (or, as a sidecar on a local socket, of a header the application sets), and every grant and
//! reveal is audited.
//!
//! Data flows one way: credentials → subject; body → rows → [`pol_runtime`] session → masked
//! rows as `polc eval` prints them (`pol_runtime::json`).
//!
//! Modules: [`options`] (command line and config file), [`auth`] (JWT and sidecar subjects),
//! [`bundle_slot`] (the bundle serving and its atomic swap), [`reload`] (SIGHUP and file
//! change), [`api`] (routes and the request guard),
//! [`listen`] (accept loop, header timeout, graceful shutdown), [`tables`] (the lookup tables
//! it supplies, `--table`), [`metrics`], [`error`]. The grant
//! store and audit trail (`--grants`, `--audit`) open as `polc grants` opens them
//! ([`pol_runtime::grants::target`]).

pub mod api;
pub mod auth;
pub mod bundle_slot;
pub mod error;
pub mod listen;
pub mod metrics;
pub mod options;
pub mod reload;
pub mod state;
pub mod tables;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pol_runtime::grants::target::{self, Target};
use pol_runtime::grants::{GrantService, GrantStore, SystemClock};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;

use crate::auth::{Authenticator, JwtVerifier};
use crate::bundle_slot::BundleSlot;
use crate::metrics::Metrics;
use crate::options::Config;
use crate::state::{AppState, Grants};

/// Builds the shared state: loads the bundle, the JWT keys, the grant store and audit trail
/// (settling a request interrupted by a crash). Blocking; call it before the runtime starts
/// or off its workers.
pub fn build_state(config: &Config) -> Result<Arc<AppState>, String> {
    let bundle = BundleSlot::open(
        config.bundle.clone(),
        config.key_file.clone(),
        config.tables.clone(),
    )
    .map_err(|e| e.to_string())?;
    let auth = if config.trust_subject_header {
        Authenticator::Header
    } else {
        Authenticator::Jwt(
            JwtVerifier::new(
                &config.jwt_keys,
                config.jwt_issuer.clone(),
                config.jwt_audience.clone(),
                config.claims.clone(),
            )
            .map_err(|e| e.to_string())?,
        )
    };
    let grants = match &config.audit {
        None => None,
        Some(audit) => {
            let (store, sink) = open_stores(config.grants.as_deref(), audit, &config.schema)
                .map_err(|e| e.to_string())?;
            let service = GrantService::new(store, sink, Arc::new(SystemClock));
            if let Some(id) = service
                .recover()
                .map_err(|e| format!("settling an interrupted grant request: {e}"))?
            {
                tracing::warn!(grant = %id, "an interrupted grant request was abandoned and audited");
            }
            Some(Arc::new(Grants {
                service,
                apply_to_masking: config.grants.is_some(),
            }))
        }
    };
    let metrics = Metrics::new();
    metrics.bundle_version(&bundle.current().version);
    Ok(Arc::new(AppState {
        bundle,
        auth,
        grants,
        limits: config.limits.clone(),
        allow_client_clock: config.allow_client_clock,
        metrics,
        in_flight: Arc::new(Semaphore::new(config.limits.max_concurrent)),
        stopping: AtomicBool::new(false),
    }))
}

/// Opens the grant store (if any; in memory otherwise) and the audit trail. Blocking.
fn open_stores(
    grants: Option<&str>,
    audit: &str,
    schema: &str,
) -> Result<(GrantStore, Arc<dyn pol_runtime::audit::AuditSink>), target::TargetError> {
    let audit = Target::from(audit);
    match grants {
        Some(g) => target::open_both(&Target::from(g), &audit, schema, false),
        None => Ok((GrantStore::in_memory(), target::open_audit(&audit, schema)?)),
    }
}

/// Resolves when SIGTERM or SIGINT arrives (then marks the state stopping).
async fn stop_signal(state: Arc<AppState>) {
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM"),
                _ = int.recv() => tracing::info!("SIGINT"),
            }
        }
        _ => {
            tracing::error!("cannot listen for SIGTERM/SIGINT; stop with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
    state.stopping.store(true, Ordering::Relaxed);
}

/// Binds, serves until SIGTERM/SIGINT, drains, returns.
pub async fn run(config: Config, state: Arc<AppState>) -> Result<(), String> {
    let listener = listen::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(
        listen = %listener.local(),
        bundle = %state.bundle.current().version,
        auth = if config.trust_subject_header { "subject header" } else { "jwt" },
        "pol-server ready"
    );
    let hup = tokio::spawn(reload::on_sighup(Arc::clone(&state)));
    let watch = config
        .watch
        .map(|every| tokio::spawn(reload::on_change(Arc::clone(&state), every)));
    let app = api::router(Arc::clone(&state));
    listen::serve(
        listener,
        app,
        config.limits.header_timeout,
        config.drain,
        stop_signal(Arc::clone(&state)),
    )
    .await;
    hup.abort();
    if let Some(w) = watch {
        w.abort();
    }
    if let options::Listen::Unix(path) = &config.listen {
        let _ = std::fs::remove_file(path);
    }
    tracing::info!("stopped");
    Ok(())
}
