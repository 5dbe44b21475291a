//! Memory is given back after a large edit is reverted: the server's resident memory (read from
//! `/proc/PID/status` of the child) falls back near where it started, rather than staying at
//! the peak of the large analysis. No timing is measured; `lsp/bench/memory.sh` gives figures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;

use std::time::{Duration, Instant};
use support::{uri, Client};

const SMALL: &str = "tag PII sensitive;\nsource s {\n  a: text tagged PII,\n}\n";

fn large_text(bytes: usize) -> String {
    let mut out = String::from(SMALL);
    let mut i = 0;
    while out.len() < bytes {
        out.push_str(&format!(
            "source t{i} {{\n  id: int key,\n  email: text tagged PII,\n  note: text,\n}}\n"
        ));
        i += 1;
    }
    out
}

#[test]
fn memory_returns_after_a_large_edit_is_reverted() {
    if !std::path::Path::new("/proc/self/status").exists() {
        return; // No procfs: nothing to read the server's memory from.
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = Client::start();
    c.initialize(dir.path());
    let doc = format!("{}/doc.pol", uri(dir.path()));
    c.did_open(&doc, SMALL);
    c.diagnostics_at(&doc, 1);
    let start = c.status_kb("VmRSS");
    assert!(start > 0, "reads VmRSS");

    c.did_change(&doc, 2, &large_text(2 << 20));
    c.diagnostics_at(&doc, 2);
    c.did_change(&doc, 3, SMALL);
    c.diagnostics_at(&doc, 3);
    let peak = c.status_kb("VmHWM");
    assert!(
        peak > start + 100 * 1024,
        "the large analysis should take memory: start {start} kB, peak {peak} kB"
    );
    // Allow a third of what the large analysis took (the server kept all of it before).
    let bound = start + (peak - start) / 3;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut now = c.status_kb("VmRSS");
    while now > bound && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        now = c.status_kb("VmRSS");
    }
    assert!(
        now <= bound,
        "after the revert the server keeps {now} kB (started at {start} kB, peak {peak} kB)"
    );
    assert_eq!(c.shutdown(), Some(0));
}
