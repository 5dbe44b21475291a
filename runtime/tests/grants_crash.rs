//! Crash test of temporary unmask grants (`harness = false`: this file is its own `main`).
//!
//! The test re-runs its own executable as a *requester* child (selected by an environment
//! variable) that asks for grants in a loop through a [`GrantService`] over a durable grant
//! store and a durable audit file, the audit sink pausing a little after each record so that
//! kills often land between the audit record of a grant and the grant itself. The parent kills
//! the child with SIGKILL a delay drawn from a seeded generator after its first grant, several times. After
//! each kill it opens both files as a restarted application would and calls
//! [`GrantService::recover`]; then:
//!
//! - every audit record of a grant names a grant of the store, or a later record says that
//!   this grant did not take effect;
//! - every grant of the store has exactly one audit record of its grant (none is unaudited);
//! - the same for revocations (the requester revokes now and then): every audit record of a
//!   revocation names a grant revoked in the store, or a later record says that the revocation
//!   did not take effect; every stored revocation is audited once;
//! - no grant id is given twice.
//!
//! The test fails if no kill landed inside a request (the window it exists for).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

mod engine_support;

#[path = "engine_support/split_mix.rs"]
mod split_mix;

use split_mix::SplitMix;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use engine_support::*;
use pol_runtime::audit::{AuditAction, AuditError, AuditRecord, AuditSink, FileSink};
use pol_runtime::grants::{GrantService, GrantStore, ManualClock, Revoke, RevokeError};
use pol_runtime::Value;
use serde_json::json;

const CHILD_ENV: &str = "POL_GRANTS_CRASH_DIR";
const ROUNDS: usize = 12;
const SEED: u64 = 0x6a4b_11c3_95e0_2d17;

/// A file sink that pauses after each record (widening the window between the audit record
/// of a grant and the grant).
#[derive(Debug)]
struct SlowSink(FileSink);

impl AuditSink for SlowSink {
    fn record(&self, record: &AuditRecord) -> Result<(), AuditError> {
        self.0.record(record)?;
        std::thread::sleep(Duration::from_millis(3));
        Ok(())
    }
}

fn requester(dir: &Path) -> Result<(), String> {
    let engine = open_unmask_engine();
    let (sink, _) = FileSink::open(dir.join("audit.jsonl")).map_err(|e| e.to_string())?;
    let store = GrantStore::open(dir.join("grants.jsonl")).map_err(|e| e.to_string())?;
    let service = GrantService::new(
        store,
        Arc::new(SlowSink(sink)),
        Arc::new(ManualClock::new(t0())),
    );
    for i in 0..100_000i64 {
        // The same request every time: ids must differ all the same.
        service
            .request_unmask(
                &engine,
                &json!({"login": "sue"}),
                "customers",
                &Value::Int(i % 3),
                "",
            )
            .map_err(|e| e.to_string())?;
        println!("granted");
        if i % 3 == 2 {
            // Revoke the record's grants now and then: revocations are crash-tested too.
            let which = Revoke::Record {
                source: "customers".into(),
                key: (i % 3).to_string(),
            };
            match service.revoke(&json!({"login": "rob"}), &which, "") {
                Ok(_) | Err(RevokeError::NotFound(_)) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    Ok(())
}

/// The grant id an audit record of a grant names (`… as grant g-…`).
fn granted_id(r: &AuditRecord) -> Option<&str> {
    (r.action == AuditAction::Grant)
        .then(|| r.detail.rsplit(' ').next())
        .flatten()
}

/// The grant id a recovery record says did not take effect.
fn abandoned_id(r: &AuditRecord) -> Option<&str> {
    let rest = r.detail.strip_prefix("grant ")?;
    let (id, tail) = rest.split_once(' ')?;
    (r.action == AuditAction::Refusal && tail.starts_with("did not take effect")).then_some(id)
}

/// The grant id an audit record of a revocation names (`grant g-… (given to …) revoked`).
fn revoked_id(r: &AuditRecord) -> Option<&str> {
    (r.action == AuditAction::Revoke)
        .then(|| r.detail.strip_prefix("grant ")?.split(' ').next())
        .flatten()
}

/// The grant id whose revocation a recovery record says did not take effect.
fn unrevoked_id(r: &AuditRecord) -> Option<&str> {
    let rest = r.detail.strip_prefix("the revocation of grant ")?;
    let (id, tail) = rest.split_once(' ')?;
    (r.action == AuditAction::Refusal && tail.starts_with("did not take effect")).then_some(id)
}

/// The grants of the store file, by id: how many lines of each, and whether it is revoked.
fn stored(dir: &Path) -> Result<HashMap<String, (usize, bool)>, String> {
    let store = GrantStore::open(dir.join("grants.jsonl")).map_err(|e| e.to_string())?;
    let mut ids = HashMap::new();
    for e in store.entries().map_err(|e| e.to_string())? {
        let slot = ids.entry(e.grant.id).or_insert((0, false));
        slot.0 += 1;
        slot.1 |= e.revoked.is_some();
    }
    Ok(ids)
}

/// Checks the invariants; returns how many audit grants had no stored grant before recovery
/// (`dangling`, computed by the caller) for the report.
fn check(
    round: usize,
    records: &[AuditRecord],
    grants: &HashMap<String, (usize, bool)>,
) -> Result<(), String> {
    let mut audited: HashMap<&str, usize> = HashMap::new();
    let mut revocations: HashMap<&str, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if let Some(id) = revoked_id(r) {
            let settled = records[i + 1..]
                .iter()
                .any(|later| unrevoked_id(later) == Some(id));
            if settled {
                continue;
            }
            *revocations.entry(id).or_insert(0) += 1;
            if grants.get(id).map(|g| g.1) != Some(true) {
                return Err(format!(
                    "round {round}: audit record {} revokes {id}, which is not revoked in the \
                     store, and no later record says the revocation did not take effect",
                    i + 1
                ));
            }
            continue;
        }
        let Some(id) = granted_id(r) else { continue };
        *audited.entry(id).or_insert(0) += 1;
        if grants.contains_key(id) {
            continue;
        }
        let settled = records[i + 1..]
            .iter()
            .any(|later| abandoned_id(later) == Some(id));
        if !settled {
            return Err(format!(
                "round {round}: audit record {} grants {id}, which is not in the store, and no \
                 later record says it did not take effect",
                i + 1
            ));
        }
    }
    for (id, (n, revoked)) in grants {
        if *revoked && revocations.get(id.as_str()) != Some(&1) {
            return Err(format!(
                "round {round}: grant {id} is revoked in the store but its revocation is \
                 audited {} times",
                revocations.get(id.as_str()).unwrap_or(&0)
            ));
        }
        if *n != 1 {
            return Err(format!("round {round}: grant {id} is stored {n} times"));
        }
        if audited.get(id.as_str()) != Some(&1) {
            return Err(format!(
                "round {round}: grant {id} is stored but audited {} times",
                audited.get(id.as_str()).unwrap_or(&0)
            ));
        }
    }
    Ok(())
}

fn parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rng = SplitMix(SEED);
    let mut interrupted = 0;
    for round in 0..ROUNDS {
        let delay = Duration::from_millis(rng.next() % 200);
        let mut child = Command::new(&exe)
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the requester: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (first, got_first) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut n = 0usize;
            for _ in BufReader::new(stdout).lines() {
                if n == 0 {
                    let _ = first.send(());
                }
                n += 1;
            }
            n
        });
        // Kill a random time after the first grant, not after the start: a requester slow to
        // start on a loaded machine must not make a round with nothing to interrupt.
        let _ = got_first.recv_timeout(Duration::from_secs(60));
        std::thread::sleep(delay);
        child
            .kill()
            .map_err(|e| format!("cannot kill the requester: {e}"))?;
        child.wait().map_err(|e| e.to_string())?;
        let granted = reader.join().map_err(|_| "the reader thread panicked")?;
        if granted == 0 {
            return Err(format!(
                "round {round}: no grant before the kill ({delay:?})"
            ));
        }
        // Restart: open both files and settle an interrupted request.
        let before = FileSink::read(dir.path().join("audit.jsonl")).map_err(|e| e.to_string())?;
        let grants_before = stored(dir.path())?;
        let dangling = before
            .iter()
            .filter_map(granted_id)
            .filter(|id| !grants_before.contains_key(*id))
            .count();
        let (sink, _) =
            FileSink::open(dir.path().join("audit.jsonl")).map_err(|e| e.to_string())?;
        let service = GrantService::new(
            GrantStore::open(dir.path().join("grants.jsonl")).map_err(|e| e.to_string())?,
            Arc::new(sink),
            Arc::new(ManualClock::new(t0())),
        );
        let recovered = service.recover().map_err(|e| e.to_string())?;
        if recovered.is_some() {
            interrupted += 1;
        }
        let records = FileSink::read(dir.path().join("audit.jsonl")).map_err(|e| e.to_string())?;
        check(round, &records, &stored(dir.path())?)?;
        println!(
            "round {round}: killed after {delay:?} ({granted} grants reported); {} audit records \
             ({} revocations); {dangling} audited grant(s) never stored and {} revocation(s) \
             never stored, all settled; recovered {recovered:?}",
            records.len(),
            records.iter().filter_map(revoked_id).count(),
            records.iter().filter_map(unrevoked_id).count(),
        );
    }
    if interrupted == 0 {
        return Err("no kill landed inside a request: the test exercised nothing".into());
    }
    println!("grants crash test passed: {interrupted} of {ROUNDS} kills interrupted a request");
    Ok(())
}

fn main() {
    let result = match std::env::var_os(CHILD_ENV) {
        Some(dir) => requester(Path::new(&dir)),
        None => parent(),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
