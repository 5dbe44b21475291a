//! Pol against its peers, interleaved in one run (README.md):
//!
//!     cargo run --profile wheel --manifest-path peers/Cargo.toml -- [decision] [typed] [json]
//!
//! `POL_BENCH_ROUNDS` sets the rounds (default 21). Every answer is cross-checked before timing.
//!
//!     pol-peers count NAME BATCHES
//!
//! runs only the contender whose name starts with NAME, BATCHES batches, untimed: under
//! `valgrind --tool=callgrind`, the instructions of `BATCHES = k` minus those of `BATCHES = 0`,
//! over `k ×` the batch's operations, are one operation's (README.md).

mod decision;
mod masking;
mod rounds;

#[path = "../../compiler/benches/fixture/customers.rs"]
#[allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // the benchmark fixture: a failure to build it stops the run
mod customers;

#[cfg(test)]
mod tests;

use std::hint::black_box;

use decision::{Peers, ROWS, USERS};
use masking::Masking;
use rounds::{run, Contender, Mode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = std::env::var("POL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    if let Some((first, rest)) = args.split_first() {
        if first == "load" {
            return load(rest);
        }
    }
    let (mode, args) = match args.split_first() {
        Some((first, rest)) if first == "count" => {
            let [name, batches] = rest else {
                return Err("usage: pol-peers count NAME BATCHES".into());
            };
            let batches = batches.parse()?;
            let name = name.clone();
            (Mode::Count { name, batches }, Vec::new())
        }
        _ => (Mode::Time(rounds), args),
    };
    let wants = |what: &str| args.is_empty() || args.iter().any(|a| a == what);
    if wants("decision") {
        decisions(&mode)?;
    }
    if wants("typed") || wants("json") {
        masking(&mode, wants("typed"), wants("json"))?;
    }
    Ok(())
}

/// `load BUNDLE [ROUNDS]`: times decoding (checksum and postcard), verifying, and the whole
/// `Engine::load` of a bundle file, as `compiler/examples/load_bundle.rs` does, for a run under
/// `valgrind --tool=callgrind` without another build of the compiler's examples.
fn load(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let path = args.first().ok_or("usage: pol-peers load BUNDLE [ROUNDS]")?;
    let rounds: usize = args.get(1).map_or(Ok(1), |r| r.parse())?;
    let bytes = std::fs::read(path)?;
    let key = || {
        pol_runtime::MaskingKey::from_bytes(b"pol-benchmark-key-0123456789abcdef")
            .map(pol_runtime::KeyRing::new)
    };
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        let bundle = pol_runtime::bundle::format::decode_unverified(black_box(&bytes))?;
        let decoded = t.elapsed();
        let t = std::time::Instant::now();
        bundle.verify()?;
        let verified = t.elapsed();
        drop(bundle);
        let t = std::time::Instant::now();
        let engine = pol_runtime::Engine::load(black_box(&bytes), Some(key()?))?;
        let loaded = t.elapsed();
        drop(black_box(engine));
        for (slot, d) in times.iter_mut().zip([decoded, verified, loaded]) {
            slot.push(d.as_secs_f64() * 1e3);
        }
    }
    println!("{path}: {} bytes, {rounds} rounds, median ms", bytes.len());
    for (name, xs) in ["decode", "verify", "Engine::load"].iter().zip(&times) {
        println!("  {name:<14} {:>9.1}", rounds::median(xs));
    }
    Ok(())
}

/// Every (user, row) pair once per batch.
const PAIRS: usize = USERS.len() * ROWS.len();

fn decisions(mode: &Mode) -> Result<(), Box<dyn std::error::Error>> {
    let peers = Peers::new(customers::now())?;
    let answers = peers.cross_check()?;
    let allowed = answers.iter().filter(|a| **a).count();
    println!("decision: {PAIRS} (user, row) pairs, {allowed} allowed, every engine agrees");
    let pairs = || (0..USERS.len()).flat_map(|u| (0..ROWS.len()).map(move |r| (u, r)));
    let count = |answers: &mut dyn Iterator<Item = Option<bool>>| {
        answers.filter(|a| *a == Some(true)).count()
    };
    let sessions: Vec<_> = peers
        .subjects
        .iter()
        .filter_map(|s| peers.pol.session(s, peers.now).ok())
        .collect();
    let sources: Vec<_> = sessions
        .iter()
        .filter_map(|s| s.source("records"))
        .collect();
    if sources.len() != USERS.len() {
        return Err("a Pol session could not be opened".into());
    }
    let p = &peers;
    let mut contenders = vec![
        Contender {
            name: "Pol, new session + source + decision",
            ops: PAIRS,
            batch: Box::new(|| {
                count(&mut pairs().map(|(u, r)| p.pol_new_session(black_box(u), black_box(r))))
            }),
        },
        Contender {
            name: "Pol, reused session",
            ops: PAIRS,
            batch: Box::new(|| {
                count(&mut pairs().map(|(u, r)| {
                    let source = sources.get(black_box(u))?;
                    Some(source.row_shown_values(p.rows.get(black_box(r))?))
                }))
            }),
        },
        Contender {
            name: "Cedar is_authorized",
            ops: PAIRS,
            batch: Box::new(|| {
                count(&mut pairs().map(|(u, r)| p.cedar(black_box(u), black_box(r))))
            }),
        },
        Contender {
            name: "regorus eval_rule",
            ops: PAIRS,
            batch: Box::new(|| {
                count(&mut pairs().map(|(u, r)| p.rego(black_box(u), black_box(r))))
            }),
        },
        Contender {
            name: "regorus compiled policy",
            ops: PAIRS,
            batch: Box::new(|| {
                count(&mut pairs().map(|(u, r)| p.rego_compiled(black_box(u), black_box(r))))
            }),
        },
        Contender {
            name: "regorus VM",
            ops: PAIRS,
            batch: Box::new(|| count(&mut pairs().map(|(u, r)| p.rvm(black_box(u), black_box(r))))),
        },
    ];
    if let Some(timings) = run(&mut contenders, mode, 200) {
        println!(
            "{}",
            timings.report("decision: one row, may this user see it")
        );
    }
    Ok(())
}

fn masking(mode: &Mode, typed: bool, json: bool) -> Result<(), Box<dyn std::error::Error>> {
    let fixture = Masking::new(1024);
    let session = masking::session(&fixture.engine).ok_or("the fixture's session")?;
    let source = session.source("customers").ok_or("no source `customers`")?;
    let types = masking::input_types(&source);
    let names = source.columns();
    fixture.cross_check(&source, &types)?;
    println!(
        "masking: {} rows of 20 columns, Pol and the hand-written function agree (typed and JSON)",
        fixture.rows.len()
    );
    let n = fixture.rows.len();
    if typed {
        let mut contenders = vec![
            Contender {
                name: "hand-written, typed",
                ops: n,
                batch: Box::new(|| {
                    fixture
                        .rows
                        .iter()
                        .filter_map(|r| fixture.hand.mask(black_box(r)))
                        .count()
                }),
            },
            Contender {
                name: "Pol mask_values",
                ops: n,
                batch: Box::new(|| {
                    fixture
                        .rows
                        .iter()
                        .filter_map(|r| source.mask_values(black_box(r)))
                        .count()
                }),
            },
        ];
        if let Some(timings) = run(&mut contenders, mode, 10) {
            println!("{}", timings.report("typed masking, per row"));
        }
    }
    if json {
        let mut contenders = vec![
            Contender {
                name: "hand-written, JSON text in and out",
                ops: n,
                batch: Box::new(|| {
                    fixture
                        .texts
                        .iter()
                        .filter_map(|t| {
                            masking::hand_json(&fixture.hand, &types, &names, black_box(t))
                        })
                        .count()
                }),
            },
            Contender {
                name: "Pol mask_json, JSON text in and out",
                ops: n,
                batch: Box::new(|| {
                    fixture
                        .texts
                        .iter()
                        .filter_map(|t| masking::pol_json(&source, black_box(t)))
                        .count()
                }),
            },
        ];
        if let Some(timings) = run(&mut contenders, mode, 5) {
            println!("{}", timings.report("JSON masking, per row"));
        }
    }
    Ok(())
}
