//! Runtime benchmarks, each measured in the same run as its baseline.
//!
//!     cargo bench -p pol-compiler --bench runtime
//!
//! - `mask_row/*`: masking one row of a 20-column source under a realistic mix of rules (tag rules at
//!   two depths, a `where` on another column, `for everyone who … otherwise`, a row rule, a derived
//!   column, `accessible if`), through the bundle + session path an application uses, against
//!   `hand_written`: the same masking with the logic hard-coded in Rust, calling the same technique
//!   primitives (the practical limit). A test (`cargo test -p pol-compiler --bench runtime`) checks that
//!   both give identical rows.
//! - `mask_batch/*`: the same source, user and rows as an 8192-row Arrow record batch:
//!   `mask_batch` (column-at-a-time where the session's decision is constant) against
//!   `mask_values` over the same rows as `Value`s (the row path), in one run. A test checks that
//!   both give the same rows.
//! - `session/50_columns`: opening a session for one user on a 50-column source.
//! - `session_scale` (only with that filter): opening a session and asking for one source on the
//!   bundles of generated policy sets of 10k, 100k and 1M lines (`POL_SESSION_LINES`, comma
//!   separated), interleaved round by round with the same on the one-source bundle of
//!   `session/50_columns`; prints per-size medians and ratios.
//! - `load/100k_lines`: loading (decode, verify, prepare) the bundle of the generated 100k-line policy
//!   set (`compiler/examples/gen_policy_set.rs`), against decoding its bytes without verification.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

#[path = "../examples/gen_policy_set.rs"]
#[allow(dead_code)]
mod gen_policy_set;

use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use pol_compiler::source_map::SourceMap;
use pol_runtime::{Engine, Value};

#[path = "fixture/customers.rs"]
mod customers;
use customers::{engine_for, key, now, row, subject, HandWritten, COLUMNS, POLICY};

fn mask_row(c: &mut Criterion) {
    let engine = engine_for(&[("bench.pol".to_string(), POLICY.to_string())]);
    let session = engine.session(&subject(), now()).unwrap();
    let source = session.source("customers").unwrap();
    assert_eq!(source.input_columns(), COLUMNS);
    let hand = HandWritten::new();
    let rows: Vec<Vec<Value>> = (0..1024).map(row).collect();
    for r in &rows {
        assert_eq!(source.mask_values(r), hand.mask(r), "row {:?}", r[0]);
    }
    let json_rows: Vec<serde_json::Map<String, serde_json::Value>> = rows
        .iter()
        .map(|r| {
            COLUMNS
                .iter()
                .zip(r)
                .map(|(c, v)| (c.to_string(), v.to_json()))
                .collect()
        })
        .collect();
    interleaved_rows(&hand, &source, &rows);

    let mut g = c.benchmark_group("mask_row");
    g.throughput(criterion::Throughput::Elements(rows.len() as u64));
    g.bench_function("hand_written", |b| {
        b.iter(|| {
            for r in &rows {
                black_box(hand.mask(black_box(r)));
            }
        })
    });
    g.bench_function("runtime_values", |b| {
        b.iter(|| {
            for r in &rows {
                black_box(source.mask_values(black_box(r)));
            }
        })
    });
    g.bench_function("runtime_json", |b| {
        b.iter(|| {
            for r in &json_rows {
                black_box(source.mask_json(black_box(r)));
            }
        })
    });
    g.finish();
}

fn session_50_columns(c: &mut Criterion) {
    let engine = wide_engine();
    let subject = subject();
    let mut g = c.benchmark_group("session");
    g.bench_function("50_columns", |b| {
        b.iter(|| {
            let s = engine.session(black_box(&subject), now()).unwrap();
            black_box(s.source("wide").map(|s| s.visible_columns().len()))
        })
    });
    g.finish();
}

/// `hand_written` and `runtime_values` over the 1,024 rows, alternated round by round (A B, then
/// B A), when the bench is run with the `mask_row` filter: prints each round's times and ratio,
/// and the medians. Rounds: `POL_BENCH_ROUNDS` (default 21).
fn interleaved_rows(
    hand: &HandWritten,
    source: &pol_runtime::SourceSession<'_>,
    rows: &[Vec<Value>],
) {
    if !std::env::args().any(|a| a.contains("mask_row")) {
        return;
    }
    let rounds: usize = std::env::var("POL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    let time = |f: &dyn Fn(&[Value]) -> Option<Vec<Value>>| {
        let start = std::time::Instant::now();
        for _ in 0..10 {
            for r in rows {
                black_box(f(black_box(r)));
            }
        }
        start.elapsed().as_secs_f64() / 10.0
    };
    let by_hand = |r: &[Value]| hand.mask(r);
    let runtime = |r: &[Value]| source.mask_values(r);
    time(&by_hand);
    time(&runtime);
    let mut results = Vec::with_capacity(rounds);
    eprintln!("mask_row interleaved: {} rows, {rounds} rounds", rows.len());
    eprintln!("round  hand_written_us  runtime_values_us  ratio");
    for round in 0..rounds {
        let (h, v) = if round % 2 == 0 {
            let h = time(&by_hand);
            (h, time(&runtime))
        } else {
            let v = time(&runtime);
            (time(&by_hand), v)
        };
        eprintln!(
            "{round:>5}  {:>15.1}  {:>17.1}  {:>5.2}x",
            h * 1e6,
            v * 1e6,
            v / h
        );
        results.push((h, v));
    }
    eprintln!(
        "median: hand_written {:.1} us, runtime_values {:.1} us per {} rows, median per-round \
         ratio {:.2}x",
        median(results.iter().map(|r| r.0).collect()) * 1e6,
        median(results.iter().map(|r| r.1).collect()) * 1e6,
        rows.len(),
        median(results.iter().map(|r| r.1 / r.0).collect()),
    );
}

/// The 50-column, one-source policy set of `session/50_columns`.
fn wide_engine() -> Engine {
    let mut text = String::from(
        "tag PII sensitive;\ntag PII.Name;\ntag Finance;\nsource wide {\n  id: int key,\n",
    );
    for i in 0..49 {
        let tag = match i % 3 {
            0 => " tagged PII.Name",
            1 => " tagged Finance",
            _ => "",
        };
        let ty = if i % 3 == 1 { "decimal" } else { "text" };
        text.push_str(&format!("  c{i}: {ty}{tag},\n"));
    }
    text.push_str("}\n");
    text.push_str("policy names { mask columns tagged PII.Name using initials for everyone except user has role \"hr\" }\n");
    text.push_str("policy money { mask columns tagged Finance using round(10) for everyone who user acting under Finance otherwise using null }\n");
    text.push_str("purpose Finance;\n");
    engine_for(&[("wide.pol".to_string(), text)])
}

/// The engine of the generated policy set of `lines` lines.
fn generated_engine(lines: usize) -> Engine {
    let files = gen_policy_set::generate_files(lines);
    let mut map = SourceMap::new();
    for (name, text) in &files {
        map.add(name.clone(), text.clone());
    }
    let analysis = pol_compiler::check(&map);
    assert!(!analysis.has_errors());
    let bytes = pol_compiler::lower::lower(&analysis.model, &analysis.resolution)
        .to_bytes()
        .expect("bundle encodes");
    Engine::load(&bytes, Some(key())).expect("bundle loads")
}

/// The median of `xs`.
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Seconds per `engine.session(subject)` + `.source(name)` + a look at its visible columns,
/// averaged over `iters` calls.
fn time_session(engine: &Engine, subject: &serde_json::Value, name: &str, iters: u32) -> f64 {
    let start = std::time::Instant::now();
    for _ in 0..iters {
        let s = engine.session(black_box(subject), now()).unwrap();
        black_box(s.source(black_box(name)).map(|s| s.visible_columns().len()));
    }
    start.elapsed().as_secs_f64() / f64::from(iters)
}

/// See the module doc (`session_scale`).
fn session_scale(_: &mut Criterion) {
    if !std::env::args().any(|a| a.contains("session_scale")) {
        return;
    }
    let sizes: Vec<usize> = std::env::var("POL_SESSION_LINES")
        .unwrap_or_else(|_| "10000,100000,1000000".to_owned())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let rounds: usize = std::env::var("POL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    let wide = wide_engine();
    let subject = subject();
    eprintln!("session_scale: {rounds} interleaved rounds of 2,000 sessions each");
    eprintln!("lines      sources  source        session+source_us  one-source_us  ratio");
    for lines in sizes {
        let engine = generated_engine(lines);
        let sources = &engine.bundle().sources;
        let picks = [0, sources.len() / 2, sources.len().saturating_sub(1)];
        for pick in picks {
            let name = sources[pick].name.clone();
            let iters = 2_000;
            let mut big = Vec::with_capacity(rounds);
            let mut small = Vec::with_capacity(rounds);
            time_session(&engine, &subject, &name, 100);
            for round in 0..rounds {
                if round % 2 == 0 {
                    big.push(time_session(&engine, &subject, &name, iters));
                    small.push(time_session(&wide, &subject, "wide", iters));
                } else {
                    small.push(time_session(&wide, &subject, "wide", iters));
                    big.push(time_session(&engine, &subject, &name, iters));
                }
            }
            let ratio = median(big.iter().zip(&small).map(|(b, s)| b / s).collect());
            eprintln!(
                "{lines:<10} {:<8} {name:<13} {:>17.2}  {:>13.2}  {ratio:>5.2}x",
                sources.len(),
                median(big) * 1e6,
                median(small) * 1e6,
            );
        }
    }
}

fn load_100k(c: &mut Criterion) {
    let files = gen_policy_set::generate_files(100_000);
    let mut map = SourceMap::new();
    for (name, text) in &files {
        map.add(name.clone(), text.clone());
    }
    let analysis = pol_compiler::check(&map);
    assert!(!analysis.has_errors());
    let bytes = pol_compiler::lower::lower(&analysis.model, &analysis.resolution)
        .to_bytes()
        .expect("bundle encodes");
    eprintln!("100k-line bundle: {} bytes", bytes.len());
    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    g.bench_function("100k_lines_decode_only", |b| {
        b.iter_batched(
            || (),
            |_| {
                black_box(
                    pol_runtime::bundle::format::decode_unverified(black_box(&bytes)).unwrap(),
                )
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("100k_lines", |b| {
        b.iter_batched(
            || (),
            |_| black_box(Engine::load(black_box(&bytes), Some(key())).unwrap()),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// The benchmark rows as one Arrow record batch (every input column in its output Arrow type).
fn batch_of(rows: &[Vec<Value>], source: &pol_runtime::SourceSession<'_>) -> RecordBatch {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for (k, name) in COLUMNS.iter().enumerate() {
        let ty = source.column_type(name).expect("declared");
        let cells: Vec<&Value> = rows.iter().map(|r| &r[k]).collect();
        let array = pol_runtime::arrow::write::build(&cells, ty).expect("builds");
        fields.push(arrow_schema::Field::new(
            *name,
            array.data_type().clone(),
            true,
        ));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), arrays).expect("batch")
}

fn mask_batch(c: &mut Criterion) {
    let engine = engine_for(&[("bench.pol".to_string(), POLICY.to_string())]);
    let session = engine.session(&subject(), now()).unwrap();
    let source = session.source("customers").unwrap();
    let rows: Vec<Vec<Value>> = (0..8192).map(row).collect();
    let batch = batch_of(&rows, &source);
    let masked = source.mask_batch(&batch).expect("masks");
    let expected: Vec<Vec<Value>> = rows.iter().filter_map(|r| source.mask_values(r)).collect();
    assert_eq!(masked.num_rows(), expected.len());
    for (k, name) in source.columns().iter().enumerate() {
        let ty = source.column_type(name).expect("declared");
        let cells: Vec<&Value> = expected.iter().map(|r| &r[k]).collect();
        let want = pol_runtime::arrow::write::build(&cells, ty).expect("builds");
        assert_eq!(masked.column(k).as_ref(), want.as_ref(), "column {name}");
    }

    interleaved(&source, &rows, &batch);
    let mut g = c.benchmark_group("mask_batch");
    g.throughput(criterion::Throughput::Elements(rows.len() as u64));
    g.bench_function("mask_values_rows", |b| {
        b.iter(|| {
            for r in &rows {
                black_box(source.mask_values(black_box(r)));
            }
        })
    });
    g.bench_function("mask_batch", |b| {
        b.iter(|| black_box(source.mask_batch(black_box(&batch)).expect("masks")))
    });
    g.finish();
}

/// `mask_values` over the rows and `mask_batch` over the batch, alternated round by round
/// (A B, then B A, so that a drift in the machine's load hits both alike), when the bench is
/// run with the `mask_batch` filter: prints each round's times and ratio, and the medians.
/// Rounds: `POL_BENCH_ROUNDS` (default 21).
fn interleaved(source: &pol_runtime::SourceSession<'_>, rows: &[Vec<Value>], batch: &RecordBatch) {
    if !std::env::args().any(|a| a.contains("mask_batch")) {
        return;
    }
    let rounds: usize = std::env::var("POL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    let time_rows = || {
        let start = std::time::Instant::now();
        for r in rows {
            black_box(source.mask_values(black_box(r)));
        }
        start.elapsed().as_secs_f64()
    };
    let time_batch = || {
        let start = std::time::Instant::now();
        black_box(source.mask_batch(black_box(batch)).expect("masks"));
        start.elapsed().as_secs_f64()
    };
    // Warm-up.
    time_rows();
    time_batch();
    let mut results = Vec::with_capacity(rounds);
    eprintln!(
        "mask_batch interleaved: {} rows, {rounds} rounds",
        rows.len()
    );
    eprintln!("round  mask_values_ms  mask_batch_ms  speed-up");
    for round in 0..rounds {
        let (values, batched) = if round % 2 == 0 {
            let v = time_rows();
            (v, time_batch())
        } else {
            let b = time_batch();
            (time_rows(), b)
        };
        eprintln!(
            "{round:>5}  {:>14.3}  {:>13.3}  {:>7.2}x",
            values * 1e3,
            batched * 1e3,
            values / batched
        );
        results.push((values, batched));
    }
    let median = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let values = median(results.iter().map(|r| r.0).collect());
    let batched = median(results.iter().map(|r| r.1).collect());
    let ratio = median(results.iter().map(|r| r.0 / r.1).collect());
    let n = rows.len() as f64;
    eprintln!(
        "median: mask_values {:.3} ms ({:.0} rows/s), mask_batch {:.3} ms ({:.0} rows/s), \
         median per-round speed-up {ratio:.2}x",
        values * 1e3,
        n / values,
        batched * 1e3,
        n / batched
    );
}

criterion_group!(
    benches,
    mask_row,
    mask_batch,
    session_50_columns,
    session_scale,
    load_100k
);
criterion_main!(benches);
