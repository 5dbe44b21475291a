//! Hot reload triggers: SIGHUP, and a change of the bundle file or of a lookup table's file
//! (modification time or length, polled). Each reload loads and verifies aside and swaps atomically
//! ([`BundleSlot::reload`](crate::bundle_slot::BundleSlot::reload)); a failure is logged and
//! the old bundle keeps serving.

use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use crate::bundle_slot::{stamp, Stamp};
use crate::state::AppState;

/// Reloads once (off the async workers), logs and counts the outcome.
pub async fn reload(state: &Arc<AppState>, why: &'static str) {
    let st = Arc::clone(state);
    let outcome = tokio::task::spawn_blocking(move || st.bundle.reload()).await;
    match outcome {
        Ok(Ok(loaded)) => {
            state.metrics.reload("loaded");
            state.metrics.bundle_version(&loaded.version);
            tracing::info!(version = %loaded.version, trigger = why, "bundle reloaded");
        }
        Ok(Err(e)) => {
            state.metrics.reload("failed");
            tracing::error!(error = %e, trigger = why, "bundle reload failed; the previous bundle keeps serving");
        }
        Err(e) => {
            state.metrics.reload("failed");
            tracing::error!(error = %e, "bundle reload task failed");
        }
    }
}

/// Reloads on every SIGHUP, forever.
pub async fn on_sighup(state: Arc<AppState>) {
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::error!("cannot listen for SIGHUP; reload on SIGHUP is off");
        return;
    };
    while hup.recv().await.is_some() {
        reload(&state, "SIGHUP").await;
    }
}

/// Reloads when the bundle file or a lookup table's file (`--table`) changes, polling every
/// `every`, forever.
pub async fn on_change(state: Arc<AppState>, every: Duration) {
    let stamps = |state: &AppState| -> Vec<Stamp> {
        std::iter::once(state.bundle.path())
            .chain(state.bundle.table_paths())
            .map(stamp)
            .collect()
    };
    let mut last = stamps(&state);
    loop {
        tokio::time::sleep(every).await;
        let now = stamps(&state);
        if now != last && now.iter().all(Option::is_some) {
            last = now;
            reload(&state, "file change").await;
        }
    }
}
