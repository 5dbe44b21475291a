//! Pol against its peers, interleaved in one run (README.md):
//!
//!     cargo run --profile wheel --manifest-path peers/Cargo.toml -- [decision] [typed] [json]
//!
//! `POL_BENCH_ROUNDS` sets the rounds (default 21). Every answer is cross-checked before timing.

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
use rounds::{interleave, Contender};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wants = |what: &str| args.is_empty() || args.iter().any(|a| a == what);
    let rounds: usize = std::env::var("POL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    if wants("decision") {
        decisions(rounds)?;
    }
    if wants("typed") || wants("json") {
        masking(rounds, wants("typed"), wants("json"))?;
    }
    Ok(())
}

/// Every (user, row) pair once per batch.
const PAIRS: usize = USERS.len() * ROWS.len();

fn decisions(rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
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
    let timings = interleave(&mut contenders, rounds, 200);
    println!(
        "{}",
        timings.report("decision: one row, may this user see it")
    );
    Ok(())
}

fn masking(rounds: usize, typed: bool, json: bool) -> Result<(), Box<dyn std::error::Error>> {
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
        let timings = interleave(&mut contenders, rounds, 10);
        println!("{}", timings.report("typed masking, per row"));
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
        let timings = interleave(&mut contenders, rounds, 5);
        println!("{}", timings.report("JSON masking, per row"));
    }
    Ok(())
}
