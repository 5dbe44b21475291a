//! Crash test of the durable audit file (`harness = false`: this file is its own `main`).
//!
//! The test re-runs its own executable as a *writer* child (selected by an environment
//! variable) that appends deterministic records to an audit file and prints `committed N` on
//! stdout after each [`AuditSink::record`] returns. The parent kills the writer with SIGKILL
//! after a delay drawn from a seeded generator, several times, restarting it on the same file
//! (the writer continues from the records it finds). Afterwards:
//!
//! - every record the writer reported as committed is in the file, intact, in order;
//! - the file holds nothing else: record `i` is exactly the writer's record `i`, and at most one
//!   record beyond the last one reported in the round (written and fsynced, but killed before it
//!   could report it; the next writer continues after it) — never a partial record.
//!
//! Some records are megabytes long so that a kill can land inside the write and tear a line;
//! how many torn bytes were repaired is printed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

#[path = "engine_support/split_mix.rs"]
mod split_mix;

use split_mix::SplitMix;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use pol_runtime::audit::{AuditAction, AuditRecord, AuditSink, FileSink, RequestKind};

const CHILD_ENV: &str = "POL_AUDIT_CRASH_WRITER_FILE";
const ROUNDS: usize = 8;
const SEED: u64 = 0x5eed_a0d1_7c4a_5401;
/// The writer stops after this many records in all (a bound, in case the kill comes late).
const LIMIT: u64 = 5_000;

/// The writer's record number `seq`: a pure function of `seq`.
fn expected(seq: u64) -> AuditRecord {
    let size = if seq % 4 == 3 {
        300_000 + (seq as usize % 7) * 10_000
    } else {
        (seq as usize * 37) % 500
    };
    AuditRecord {
        time: Utc
            .timestamp_opt(1_767_225_600 + seq as i64, 0)
            .single()
            .unwrap_or_default(),
        subject: format!("user{seq}"),
        action: if seq % 2 == 1 {
            AuditAction::Refusal
        } else {
            AuditAction::Grant
        },
        request: RequestKind::Unmask,
        source: "customers".to_owned(),
        key: Some(seq.to_string()),
        columns: vec!["ssn".to_owned()],
        expiry: None,
        reason: Some("é".repeat(size / 2)),
        detail: format!("record {seq}"),
    }
}

fn writer(path: &Path) -> Result<(), String> {
    let (sink, _) = FileSink::open(path).map_err(|e| e.to_string())?;
    let done = sink.records().map_err(|e| e.to_string())?.len();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for seq in done as u64..LIMIT {
        sink.record(&expected(seq)).map_err(|e| e.to_string())?;
        writeln!(out, "committed {seq}")
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("audit.jsonl");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rng = SplitMix(SEED);
    let committed: Arc<Mutex<Vec<u64>>> = Arc::default();
    let mut torn_total = 0u64;
    for round in 0..ROUNDS {
        let delay = Duration::from_millis(60 + rng.next() % 300);
        let before = FileSink::read(&path).map_err(|e| e.to_string())?.len();
        let mut child = Command::new(&exe)
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the writer: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let sink = Arc::clone(&committed);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("committed ").and_then(|n| n.parse().ok()) {
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push(n);
                }
            }
        });
        std::thread::sleep(delay);
        // SIGKILL on Unix.
        child
            .kill()
            .map_err(|e| format!("cannot kill the writer: {e}"))?;
        let status = child.wait().map_err(|e| e.to_string())?;
        reader.join().map_err(|_| "the reader thread panicked")?;
        // Reopen (repairing a torn tail) exactly as a restarted application would.
        let (sink, recovered) = FileSink::open(&path).map_err(|e| e.to_string())?;
        let records = sink.records().map_err(|e| e.to_string())?;
        torn_total += recovered.torn_bytes;
        let reported = committed.lock().unwrap_or_else(|p| p.into_inner()).clone();
        check(round, before, &records, &reported)?;
        println!(
            "round {round}: killed after {delay:?} ({status}); {} records, {} reported, {} torn bytes repaired",
            records.len(),
            reported.len(),
            recovered.torn_bytes
        );
    }
    let reported = committed.lock().unwrap_or_else(|p| p.into_inner()).len();
    if reported == 0 {
        return Err("the writer never committed a record: the test exercised nothing".into());
    }
    println!("audit crash test passed: {reported} records reported, {torn_total} torn bytes repaired in all");
    Ok(())
}

/// `before`: how many records the file held when this round's writer started; `reported`:
/// every record number reported committed so far (all rounds).
fn check(
    round: usize,
    before: usize,
    records: &[AuditRecord],
    reported: &[u64],
) -> Result<(), String> {
    for (i, r) in records.iter().enumerate() {
        if *r != expected(i as u64) {
            return Err(format!(
                "round {round}: record {i} is not the record the writer wrote"
            ));
        }
    }
    // Every committed record is in the file (record i is at line i, checked above).
    if let Some(missing) = reported.iter().find(|n| **n as usize >= records.len()) {
        return Err(format!(
            "round {round}: record {missing} was reported committed and is not in the file \
             ({} records)",
            records.len()
        ));
    }
    // Nothing else: at most one record beyond the last one this round reported (written and
    // fsynced, killed before reporting). A record in flight in an earlier round may be
    // present without a report: the next writer continues after it.
    let last = reported
        .iter()
        .copied()
        .filter(|n| *n as usize >= before)
        .max()
        .map_or(before, |n| n as usize + 1);
    if records.len() > last + 1 {
        return Err(format!(
            "round {round}: the file holds {} records; only {last} were reported or already \
             there, plus at most one in flight",
            records.len()
        ));
    }
    Ok(())
}

fn main() {
    let result = match std::env::var_os(CHILD_ENV) {
        Some(path) => writer(Path::new(&path)),
        None => parent(),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
