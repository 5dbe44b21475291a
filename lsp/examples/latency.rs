//! Latency of `pol-lsp` over stdio on a policy set, as an editor sees it (a benchmark, not a
//! test). Run it through `lsp/bench/latency.sh`, which builds everything with the `wheel` profile and
//! generates a 10k-line workspace; by hand:
//!
//!     latency PATH/TO/pol-lsp WORKSPACE_DIR [ROUNDS]
//!
//! It opens the largest `.pol` file of the workspace and, ROUNDS times (default 40):
//! - **diagnostics**: sends a `didChange` that adds an undeclared tag, and times until the
//!   `publishDiagnostics` with the error arrives; then one that removes it, until the cleared
//!   diagnostics arrive;
//! - **hover / completion (steady)**: a hover on a tag, a completion after `tagged ` and one after
//!   `using `, with no edit pending;
//! - **after an edit**: a completion right after a `didChange` that types `tagged ` (it reads the
//!   new text with the names of the previous analysis: no wait); a hover right after an edit
//!   further down the file (answered from the previous analysis, which is exact up to there); a
//!   hover right after an edit of the hovered line (it waits for the analysis of the new text).
//!
//! Prints p50, p95 and max per series.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // A developer tool: a failure stops here.

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{end_of, pos, uri, Client};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

struct Series {
    name: &'static str,
    samples: Vec<Duration>,
}

impl Series {
    fn new(name: &'static str) -> Series {
        Series {
            name,
            samples: Vec::new(),
        }
    }

    fn report(&mut self) {
        self.samples.sort();
        println!(
            "{:<37} n={:<4} p50 {:>9}  p95 {:>9}  max {:>9}",
            self.name,
            self.samples.len(),
            ms(percentile(&self.samples, 0.5)),
            ms(percentile(&self.samples, 0.95)),
            ms(self.samples.last().copied().unwrap_or_default()),
        );
    }
}

/// The (line, character) just after each occurrence of `needle` (ASCII texts).
fn after_each(text: &str, needle: &str) -> Vec<(u32, u32)> {
    text.match_indices(needle)
        .map(|(i, _)| end_of(&text[..i + needle.len()]))
        .collect()
}

fn timed(c: &mut Client, method: &str, params: Value) -> (Duration, Value) {
    let t = Instant::now();
    let r = c.request(method, params);
    (t.elapsed(), r)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 3 {
        eprintln!("usage: latency PATH/TO/pol-lsp WORKSPACE_DIR [ROUNDS]");
        std::process::exit(2);
    }
    let exe = PathBuf::from(&args[0]);
    let root = std::fs::canonicalize(&args[1]).expect("workspace folder");
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(40);

    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(&root)
        .expect("read the workspace folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read a .pol file");
            (p, text)
        })
        .collect();
    files.sort();
    let total: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    let (path, text) = files
        .iter()
        .max_by_key(|(_, t)| t.lines().count())
        .cloned()
        .expect("a .pol file in the workspace");
    let file = uri(&path);
    println!(
        "workspace: {} files, {total} lines; editing {} ({} lines)",
        files.len(),
        path.file_name().unwrap_or_default().to_string_lossy(),
        text.lines().count()
    );

    let tags = after_each(&text, "tagged ");
    let usings = after_each(&text, "using ");
    assert!(
        !tags.is_empty() && !usings.is_empty(),
        "the file has no `tagged ` or `using `"
    );

    let mut c = Client::spawn(&exe);
    let t = Instant::now();
    c.initialize(Path::new(&root));
    let (line, ch) = tags[0];
    c.request("textDocument/hover", pos(&file, line, ch + 1));
    println!("initialize + first analysis: {}", ms(t.elapsed()));
    c.did_open(&file, &text);
    c.request("textDocument/hover", pos(&file, line, ch + 1));

    let mut diag_error = Series::new("didChange → diagnostics (error)");
    let mut diag_clear = Series::new("didChange → diagnostics (cleared)");
    let mut hover = Series::new("hover (steady)");
    let mut complete_tag = Series::new("completion after `tagged ` (steady)");
    let mut complete_using = Series::new("completion after `using ` (steady)");
    let mut hover_edit = Series::new("hover right after an edit below");
    let mut hover_same_line = Series::new("hover right after an edit there");
    let mut complete_edit = Series::new("completion right after an edit");

    let mut version = 1;
    let warmup = 3;
    for round in 0..rounds + warmup {
        let keep = round >= warmup;
        // Diagnostics: an error appears, then is fixed.
        let broken = format!("{text}\npolicy bench_typo_{round} {{ mask columns tagged NoSuchTag{round} using null for everyone }}\n");
        version += 1;
        let t = Instant::now();
        c.did_change(&file, version, &broken);
        let d = c.diagnostics_at(&file, version);
        assert_eq!(d.len(), 1, "{d:?}");
        if keep {
            diag_error.samples.push(t.elapsed());
        }
        version += 1;
        let t = Instant::now();
        c.did_change(&file, version, &text);
        assert!(c.diagnostics_at(&file, version).is_empty());
        if keep {
            diag_clear.samples.push(t.elapsed());
        }

        // Steady hover and completions.
        let (line, ch) = tags[round % tags.len()];
        let (d, h) = timed(&mut c, "textDocument/hover", pos(&file, line, ch + 1));
        assert!(!h.is_null(), "no hover at {line}:{ch}");
        if keep {
            hover.samples.push(d);
        }
        let (d, items) = timed(&mut c, "textDocument/completion", pos(&file, line, ch));
        assert!(items.as_array().is_some_and(|a| !a.is_empty()));
        if keep {
            complete_tag.samples.push(d);
        }
        let (line, ch) = usings[round % usings.len()];
        let (d, items) = timed(&mut c, "textDocument/completion", pos(&file, line, ch));
        assert!(items.as_array().is_some_and(|a| !a.is_empty()));
        if keep {
            complete_using.samples.push(d);
        }

        // Right after an edit: typing a rule, then completing; an edit to a comment, then hovering.
        let typing = format!("{text}\npolicy typing_{round} {{ mask columns tagged ");
        version += 1;
        c.did_change(&file, version, &typing);
        let (line, ch) = end_of(&typing);
        let (d, items) = timed(&mut c, "textDocument/completion", pos(&file, line, ch));
        assert!(items.as_array().is_some_and(|a| !a.is_empty()));
        if keep {
            complete_edit.samples.push(d);
        }
        let commented = format!("{text}\n// edit {round}\n");
        version += 1;
        c.did_change(&file, version, &commented);
        let (line, ch) = tags[(round * 7) % tags.len()];
        let (d, h) = timed(&mut c, "textDocument/hover", pos(&file, line, ch + 1));
        assert!(!h.is_null());
        if keep {
            hover_edit.samples.push(d);
        }
        // An edit on the hovered line itself: the hover waits for the analysis of the new text.
        let (line, ch) = tags[(round * 3) % tags.len()];
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[line as usize].push(' ');
        let spaced = lines.join("\n") + "\n";
        version += 1;
        c.did_change(&file, version, &spaced);
        let (d, h) = timed(&mut c, "textDocument/hover", pos(&file, line, ch + 1));
        assert!(!h.is_null());
        if keep {
            hover_same_line.samples.push(d);
        }
        // Back to the original text, and wait until it is analysed (a document-symbols request
        // waits for the analysis of the latest text), so that each round starts idle.
        version += 1;
        c.did_change(&file, version, &text);
        c.request(
            "textDocument/documentSymbol",
            serde_json::json!({ "textDocument": { "uri": file } }),
        );
    }
    for s in [
        &mut diag_error,
        &mut diag_clear,
        &mut hover,
        &mut complete_tag,
        &mut complete_using,
        &mut hover_edit,
        &mut hover_same_line,
        &mut complete_edit,
    ] {
        s.report();
    }
    c.shutdown();
}
