//! Times loading a bundle file: what a service pays at start-up (issue 10's growth figures).
//!
//!     cargo build --locked --profile wheel -p pol-compiler --example load_bundle
//!     ./target/wheel/examples/load_bundle BUNDLE.polb [ROUNDS]
//!
//! Each round reads nothing from disk (the file is read once): it times
//! [`pol_runtime::bundle::format::decode_unverified`] (header, SHA-256 checksum, postcard
//! decoding), [`pol_runtime::Bundle::verify`] on the decoded bundle, and the whole
//! [`Engine::load`] (decoding + verification + preparing the techniques and indexes), in that
//! order. It prints the median and the range of each over ROUNDS rounds (default 7).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark driver: a bad argument or bundle stops it with a message"
)]

use pol_runtime::bundle::format::decode_unverified;
use pol_runtime::{Engine, KeyRing, MaskingKey};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: load_bundle BUNDLE.polb [ROUNDS]");
    let rounds: usize = args.get(2).map_or(7, |r| r.parse().expect("ROUNDS"));
    let bytes = std::fs::read(path).expect("read the bundle");
    let key =
        || KeyRing::new(MaskingKey::from_bytes(b"pol-benchmark-key-0123456789abcdef").unwrap());
    let mut decode = Vec::new();
    let mut verify = Vec::new();
    let mut load = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let bundle = decode_unverified(black_box(&bytes)).expect("bundle decodes");
        decode.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        bundle.verify().expect("bundle verifies");
        verify.push(t.elapsed().as_secs_f64());
        drop(bundle);
        let t = Instant::now();
        let engine = Engine::load(black_box(&bytes), Some(key())).expect("bundle loads");
        load.push(t.elapsed().as_secs_f64());
        drop(black_box(engine));
    }
    println!(
        "{path}: {} bytes, {rounds} rounds (median, min–max, ms)",
        bytes.len()
    );
    for (name, xs) in [
        ("decode (checksum + postcard)", decode),
        ("verify", verify),
        ("Engine::load (all)", load),
    ] {
        let (med, min, max) = summary(xs);
        println!("  {name:<30} {med:>9.1}  {min:.1}–{max:.1}");
    }
}

/// Median, minimum and maximum, in milliseconds.
fn summary(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    let ms = |x: f64| x * 1e3;
    (ms(xs[xs.len() / 2]), ms(xs[0]), ms(xs[xs.len() - 1]))
}
