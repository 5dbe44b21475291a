//! Times the access-review procedure (issue 16) on a policy set, apart from checking it:
//!
//!     proof_bench DIR SOURCE.COLUMN SOURCE "GUARANTEE;" [ROUNDS]
//!
//! Checks DIR once with the guarantee added as one more file, then, ROUNDS times (default 11),
//! interleaved: `who_can_see_column`, `who_can_see_rows`, and proving the guarantee
//! (`proof::guarantee::broken`). Prints the median and max of each, in milliseconds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // A benchmark driver: a failure stops here.

use pol_compiler::proof::{guarantee, who_can_see_column, who_can_see_rows, Set};
use pol_compiler::source_map::SourceMap;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(&args[1]);
    let (source, column) = args[2].split_once('.').expect("SOURCE.COLUMN");
    let rows_of = &args[3];
    let guarantee_text = &args[4];
    let rounds: usize = args.get(5).map(|r| r.parse().unwrap()).unwrap_or(11);
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let mut map = SourceMap::load(&files).expect("loads");
    map.add("zz-guarantee.pol", format!("{guarantee_text}\n"));
    let t = Instant::now();
    let a = pol_compiler::check(&map);
    let check_ms = t.elapsed().as_secs_f64() * 1e3;
    let errors = a
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str().starts_with('E'))
        .count();
    println!(
        "{} files, checked in {check_ms:.0} ms with the guarantee ({errors} errors, {} guarantees)",
        map.len(),
        a.model.guarantees.len()
    );
    let set = Set {
        model: &a.model,
        resolution: &a.resolution,
        files: &map,
    };
    let mut times: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..rounds {
        let t = Instant::now();
        let r = who_can_see_column(set, source, column).expect("column");
        times[0].push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(r);
        let t = Instant::now();
        let r = who_can_see_rows(set, rows_of).expect("source");
        times[1].push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(r);
        let t = Instant::now();
        let b = guarantee::broken(set);
        times[2].push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(b);
    }
    for (name, mut v) in ["who-can-see column", "who-can-see rows", "guarantee"]
        .into_iter()
        .zip(times)
    {
        v.sort_by(|a, b| a.total_cmp(b));
        println!(
            "{name}: median {:.2} ms, max {:.2} ms ({rounds} rounds)",
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
}

fn collect(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("reads").flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "pol") {
            out.push(p);
        }
    }
}
