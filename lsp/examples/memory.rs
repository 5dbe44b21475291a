//! Memory of `pol-lsp` across large edits (a benchmark, not a test). Run it through
//! `lsp/bench/memory.sh`; by hand:
//!
//!     memory PATH/TO/pol-lsp [MEGABYTES] [ROUNDS]
//!
//! It opens a 1 KB document and, ROUNDS times (default 5), replaces its text with a generated
//! policy of MEGABYTES (default 23) with one `didChange`, waits for its diagnostics, then reverts
//! it to the 1 KB text and waits for those. It reads the server's resident memory from
//! `/proc/PID/status`: `VmRSS` at the start, after each large edit and after each revert (once it
//! stops falling), and the peak (`VmHWM`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // A developer tool: a failure stops here.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::{uri, Client};

const SMALL: &str = "tag PII sensitive;\nsource s {\n  a: text tagged PII,\n}\n";

/// A policy of about `bytes` bytes: sources with tagged columns and a policy per hundred.
fn large_text(bytes: usize) -> String {
    let mut out = String::from(SMALL);
    let mut i = 0;
    while out.len() < bytes {
        out.push_str(&format!(
            "source t{i} {{\n  id: int key,\n  email: text tagged PII,\n  note: text,\n}}\n"
        ));
        if i % 100 == 0 {
            out.push_str(&format!(
                "policy p{i} on source t{i} {{\n  mask columns tagged PII using null for everyone\n}}\n"
            ));
        }
        i += 1;
    }
    out
}

fn mb(kb: u64) -> String {
    format!("{:.0} MB", kb as f64 / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(exe) = args.first() else {
        eprintln!("usage: memory PATH/TO/pol-lsp [MEGABYTES] [ROUNDS]");
        std::process::exit(2);
    };
    let megabytes: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(23);
    let rounds: i64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = std::env::temp_dir().join(format!("pol-lsp-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creates the workspace");
    let mut c = Client::spawn(Path::new(exe));
    c.wait = Duration::from_secs(3600);
    c.initialize(&dir);
    let doc = format!("{}/doc.pol", uri(&dir));
    c.did_open(&doc, SMALL);
    c.diagnostics_at(&doc, 1);
    let large = large_text(megabytes << 20);
    println!(
        "pol-lsp memory: a {:.1} MB didChange, then reverted to {} bytes; {rounds} rounds",
        large.len() as f64 / (1 << 20) as f64,
        SMALL.len()
    );
    println!("start: VmRSS {}", mb(c.status_kb("VmRSS")));
    let mut version = 1;
    for round in 1..=rounds {
        version += 1;
        let t = Instant::now();
        c.did_change(&doc, version, &large);
        c.diagnostics_at(&doc, version);
        let analysed = t.elapsed();
        let rss_large = c.status_kb("VmRSS");
        version += 1;
        c.did_change(&doc, version, SMALL);
        c.diagnostics_at(&doc, version);
        // The previous analysis is dropped and the freed memory returned after the diagnostics
        // are published: wait until the resident size stops falling (at most 30 s).
        let settled = Instant::now() + Duration::from_secs(30);
        let mut last = c.status_kb("VmRSS");
        while Instant::now() < settled {
            std::thread::sleep(Duration::from_millis(500));
            let now = c.status_kb("VmRSS");
            if now + 1024 >= last {
                break;
            }
            last = now;
        }
        println!(
            "round {round}: large text analysed in {:.1} s, VmRSS {}; after the revert VmRSS {}; peak VmHWM {}",
            analysed.as_secs_f64(),
            mb(rss_large),
            mb(c.status_kb("VmRSS")),
            mb(c.status_kb("VmHWM")),
        );
    }
    c.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
