//! The analysis host after an edit, in process (a benchmark, not a test): how long until the
//! diagnostics of a policy set are known after one file changes, incrementally (the host reusing
//! the previous analysis) against from scratch (`Ide::from_parsed`, what every edit cost before
//! incremental analysis), rounds interleaved, medians.
//!
//!     ide_edit WORKSPACE_DIR [ROUNDS]
//!
//! Each round edits the largest `*_sources_*.pol` file of the workspace as `lsp/examples/latency.rs` does:
//! appends a policy naming an undeclared tag (one error), then restores the text (no error); each
//! text is analysed by the host (incremental) and then from scratch, and both diagnostics are
//! compared. A last series edits a source's column in place (its declarations change: the
//! declarations are resolved again, the other files' policies are reused where they can be).
//! Last, on the restored text, it times hovers on that tagged column (whose hover includes
//! `who-can-see`'s summary of when it is clear) and on the word `policy` of a policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // A developer tool: a failure stops here.

use pol_compiler::ide::host::{Analysis, TextChange};
use pol_compiler::ide::{AnalysisHost, Change, FileKey, Ide};
use pol_compiler::source_map::SourceMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn p95(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let rank = ((0.95 * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    v.get(rank - 1).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Analyses the host's current state incrementally; returns the time and the diagnostics.
fn incremental(host: &AnalysisHost, file: &FileKey) -> (Duration, Analysis) {
    let t = Instant::now();
    let snap = host.snapshot();
    snap.analyse();
    let d = t.elapsed();
    let _ = snap.diagnostics(file);
    (d, snap)
}

/// Analyses the same texts from scratch (the parses reused, as the host did before).
fn from_scratch(snap: &Analysis) -> (Duration, Vec<String>) {
    let set = &snap.sets()[0];
    let mut map = SourceMap::new();
    let mut asts = Vec::new();
    for (id, _) in set.files() {
        let f = set.ide.files().get(id);
        map.add(f.name.clone(), &f.text);
        asts.push(set.ide.analysis().asts[id.0 as usize].clone());
    }
    let t = Instant::now();
    let ide = Ide::from_parsed(map, asts);
    let d = t.elapsed();
    (
        d,
        ide.diagnostics().iter().map(|d| format!("{d:?}")).collect(),
    )
}

fn all_diagnostics(snap: &Analysis) -> Vec<String> {
    snap.sets()[0]
        .ide
        .diagnostics()
        .iter()
        .map(|d| format!("{d:?}"))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = std::fs::canonicalize(&args[0]).unwrap();
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(10);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    paths.sort();
    let mut host = AnalysisHost::new();
    host.apply_change(Change::Folders(vec![root.clone()]));
    let mut lines = 0;
    let mut largest = (0, PathBuf::new(), String::new());
    for p in &paths {
        let text = std::fs::read_to_string(p).unwrap();
        lines += text.lines().count();
        let is_sources = p.to_string_lossy().contains("_sources_");
        if is_sources && text.lines().count() > largest.0 {
            largest = (text.lines().count(), p.clone(), text.clone());
        }
        host.apply_change(Change::Disk {
            file: FileKey::Path(p.clone()),
            text,
        });
    }
    let (_, path, text) = largest;
    let file = FileKey::Path(path.clone());
    println!(
        "workspace: {} files, {lines} lines; editing {}",
        paths.len(),
        path.display()
    );
    let t = Instant::now();
    host.snapshot().analyse();
    println!("first analysis: {}", ms(t.elapsed()));
    let mut version = 1;
    host.apply_change(Change::Open {
        file: file.clone(),
        text: text.clone(),
        version,
    });
    host.snapshot().analyse();

    let column = text.find(": text tagged ").expect("a tagged text column");
    let mut series: Vec<(&str, Vec<Duration>, Vec<Duration>)> = vec![
        ("policy added (an error appears)", vec![], vec![]),
        ("policy removed (the error is fixed)", vec![], vec![]),
        ("a column renamed in a source", vec![], vec![]),
        ("the column's name restored", vec![], vec![]),
    ];
    for round in 0..rounds + 2 {
        let broken = format!("{text}\npolicy bench_typo_{round} {{ mask columns tagged NoSuchTag{round} using null for everyone }}\n");
        let mut renamed = text.clone();
        renamed.insert(column, 'x');
        for (i, new) in [&broken, &text, &renamed, &text].into_iter().enumerate() {
            version += 1;
            host.apply_change(Change::Edit {
                file: file.clone(),
                changes: vec![TextChange {
                    range: None,
                    text: new.clone(),
                }],
                version,
            });
            let (inc, snap) = incremental(&host, &file);
            let (fresh, expected) = from_scratch(&snap);
            assert_eq!(all_diagnostics(&snap), expected, "incremental != fresh");
            if round >= 2 {
                series[i].1.push(inc);
                series[i].2.push(fresh);
            }
        }
    }
    println!(
        "{:<38} {:>22} {:>22} {:>24}",
        "series", "incremental p50 / p95", "from scratch p50 / p95", "ratio per round min/med/max"
    );
    for (name, inc, fresh) in series {
        // Each round's incremental time over its from-scratch time (measured back to back, so
        // the machine's load weighs on both alike).
        let mut ratios: Vec<f64> = inc
            .iter()
            .zip(&fresh)
            .map(|(i, f)| i.as_secs_f64() / f.as_secs_f64().max(1e-9))
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = |i: usize| ratios.get(i).copied().unwrap_or(f64::NAN);
        println!(
            "{name:<38} {:>10} / {:>9} {:>10} / {:>9} {:>8.3} / {:.3} / {:.3}",
            ms(median(inc.clone())),
            ms(p95(inc)),
            ms(median(fresh.clone())),
            ms(p95(fresh)),
            ratio(0),
            ratio(ratios.len() / 2),
            ratio(ratios.len().saturating_sub(1)),
        );
    }
    hovers(&host, &text, column, rounds);
}

/// Times hovers on the analysed text: the tagged column's name (with `who-can-see`'s summary)
/// and a keyword, `rounds * 10` of each, interleaved.
fn hovers(host: &AnalysisHost, text: &str, column: usize, rounds: usize) {
    let snap = host.snapshot();
    snap.analyse();
    let ide = &snap.sets()[0].ide;
    let (id, _) = ide
        .files()
        .files()
        .find(|(_, f)| f.text == text)
        .expect("the edited file");
    let keyword = text.find("policy ").expect("a policy") + 1;
    let h = ide.hover(id, column - 1).expect("a column hover").markdown;
    assert!(h.contains("*Clear for:*"), "{h}");
    let name = h
        .split('`')
        .nth(1)
        .and_then(|n| n.split_once('.'))
        .expect("**column** `source.column`");
    let set = pol_compiler::proof::Set {
        model: &ide.analysis().model,
        resolution: &ide.analysis().resolution,
        files: ide.files(),
    };
    let (mut on_column, mut on_keyword, mut proof) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds * 10 {
        let t = Instant::now();
        let _ = ide.hover(id, column - 1);
        on_column.push(t.elapsed());
        let t = Instant::now();
        let _ = pol_compiler::proof::who_can_see_column(set, name.0, name.1);
        proof.push(t.elapsed());
        let t = Instant::now();
        let _ = ide.hover(id, keyword);
        on_keyword.push(t.elapsed());
    }
    for (name, v) in [
        ("hover on a column (with who-can-see)", on_column),
        ("  of which who-can-see (alone)", proof),
        ("hover on a keyword", on_keyword),
    ] {
        println!(
            "{name:<38} {:>10} / {:>9}",
            ms(median(v.clone())),
            ms(p95(v))
        );
    }
}
