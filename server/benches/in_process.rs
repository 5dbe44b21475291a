//! The work of one `/mask` request without HTTP, for `scripts/bench_server.sh`: the ratio of
//! the server's throughput to in-process masking of the same rows.
//!
//! `POL_BENCH_BUNDLE=… POL_BENCH_BODY=… POL_BENCH_SECRET=… POL_BENCH_KEY=… cargo bench -p pol-server --bench
//! in_process --profile wheel` prints, per request (median of 15 rounds, interleaved):
//! `mask` (session for the subject + 10 rows masked + the response serialized) and `request`
//! (the same plus verifying the JWT and parsing the body as a JSON tree), and the request as
//! the server's `/mask` does it now (the body decoded straight into typed rows, `mask_values`,
//! the answer written).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::time::{Duration, Instant};

use jsonwebtoken::{encode, EncodingKey, Header};
use pol_runtime::Engine;
use pol_server::api::typed_rows::{self, InputColumns};
use pol_server::api::written::ColumnKeys;
use pol_server::auth::JwtVerifier;
use pol_server::options::ClaimNames;
use serde_json::{json, Map, Value};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("set {name} (see scripts/bench_server.sh)");
        std::process::exit(2)
    })
}

/// The answer as the server writes it (`write_masked_row` into one body, no JSON tree).
fn mask(engine: &Engine, subject: &Value, rows: &[Map<String, Value>]) -> Vec<u8> {
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let Ok(session) = engine.session(subject, now) else {
        return Vec::new();
    };
    let Some(src) = session.source("customers") else {
        return Vec::new();
    };
    let mut body = b"{\"rows\":[".to_vec();
    let mut hidden = 0;
    for r in rows {
        let mark = body.len();
        if body.len() > 9 {
            body.push(b',');
        }
        if !src.write_masked_row(r, &mut body).unwrap_or(false) {
            body.truncate(mark);
            hidden += 1;
        }
    }
    body.extend_from_slice(format!("],\"hidden\":{hidden}}}").as_bytes());
    body
}

/// The server's `/mask` path now: the body decoded straight into typed rows, masked with
/// `mask_values`, written with the escaped column keys.
fn mask_typed(engine: &Engine, subject: &Value, body: &[u8]) -> Vec<u8> {
    let Some(plan) = engine
        .bundle()
        .sources
        .iter()
        .find(|s| s.name == "customers")
    else {
        return Vec::new();
    };
    let columns = InputColumns::of(plan);
    let Ok(decoded) = typed_rows::decode(body, &columns, 1000) else {
        return Vec::new();
    };
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let Ok(session) = engine.session(subject, now) else {
        return Vec::new();
    };
    let Some(src) = session.source("customers") else {
        return Vec::new();
    };
    let Ok(keys) = ColumnKeys::of(&src) else {
        return Vec::new();
    };
    let mut out = b"{\"rows\":[".to_vec();
    let mut hidden = 0;
    for r in &decoded.rows {
        match src.mask_values(r) {
            Some(m) => {
                if out.len() > 9 {
                    out.push(b',');
                }
                let _ = keys.write_row(&m, &mut out);
            }
            None => hidden += 1,
        }
    }
    out.extend_from_slice(format!("],\"hidden\":{hidden}}}").as_bytes());
    out
}

/// The answer through a JSON tree (`mask_row` objects in a `json!` value, then serialized):
/// the server's path before it wrote answers directly, for the comparison.
fn mask_tree(engine: &Engine, subject: &Value, rows: &[Map<String, Value>]) -> String {
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let Ok(session) = engine.session(subject, now) else {
        return String::new();
    };
    let Some(src) = session.source("customers") else {
        return String::new();
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut hidden = 0;
    for r in rows {
        match src.mask_row(r) {
            Some(m) => out.push(Value::Object(m)),
            None => hidden += 1,
        }
    }
    json!({"rows": out, "hidden": hidden}).to_string()
}

fn main() {
    let bundle = std::fs::read(env("POL_BENCH_BUNDLE")).unwrap_or_default();
    let body = std::fs::read(env("POL_BENCH_BODY")).unwrap_or_default();
    let secret_path = std::path::PathBuf::from(env("POL_BENCH_SECRET"));
    let secret = std::fs::read(&secret_path).unwrap_or_default();
    let keys = pol_runtime::MaskingKey::from_file(env("POL_BENCH_KEY"))
        .ok()
        .map(pol_runtime::KeyRing::new);
    let Ok(engine) = Engine::load(&bundle, keys) else {
        eprintln!("the bundle does not load");
        std::process::exit(2)
    };
    let claims = json!({"sub": "amy", "roles": ["support"], "team": "a", "exp": 4_000_000_000u64});
    let Ok(token) = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.trim_ascii_end()),
    ) else {
        std::process::exit(2)
    };
    let names = ClaimNames {
        roles: "roles".into(),
        groups: "groups".into(),
        attributes: "attributes".into(),
        purposes: "purposes".into(),
    };
    let Ok(verifier) = JwtVerifier::new(&[secret_path], None, None, names) else {
        eprintln!("the secret does not load");
        std::process::exit(2)
    };
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let rows: Vec<Map<String, Value>> = parsed["rows"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r.as_object().cloned()).collect())
        .unwrap_or_default();
    let subject = verifier.subject(&token).unwrap_or(Value::Null);
    const N: u32 = 2000;
    let tree: Value =
        serde_json::from_str(&mask_tree(&engine, &subject, &rows)).unwrap_or_default();
    let written: Value =
        serde_json::from_slice(&mask(&engine, &subject, &rows)).unwrap_or_default();
    let typed: Value =
        serde_json::from_slice(&mask_typed(&engine, &subject, &body)).unwrap_or_default();
    if tree != written || tree != typed || tree["rows"].as_array().map(Vec::len) != Some(8) {
        eprintln!("the written answer differs from the tree's");
        std::process::exit(2)
    }
    let (mut only_mask, mut whole, mut as_tree) = (Vec::new(), Vec::new(), Vec::new());
    let mut typed = Vec::new();
    let mut sink = 0usize;
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..N {
            sink += mask_tree(&engine, &subject, &rows).len();
        }
        as_tree.push(t.elapsed() / N);
        let t = Instant::now();
        for _ in 0..N {
            sink += mask(&engine, &subject, &rows).len();
        }
        only_mask.push(t.elapsed() / N);
        let t = Instant::now();
        for _ in 0..N {
            let s = verifier.subject(&token).unwrap_or(Value::Null);
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let rows: Vec<Map<String, Value>> = v["rows"]
                .as_array()
                .map(|a| a.iter().filter_map(|r| r.as_object().cloned()).collect())
                .unwrap_or_default();
            sink += mask(&engine, &s, &rows).len();
        }
        whole.push(t.elapsed() / N);
        let t = Instant::now();
        for _ in 0..N {
            let s = verifier.subject(&token).unwrap_or(Value::Null);
            sink += mask_typed(&engine, &s, &body).len();
        }
        typed.push(t.elapsed() / N);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (m, w, t, y) = (
        median(&mut only_mask),
        median(&mut whole),
        median(&mut as_tree),
        median(&mut typed),
    );
    println!(
        "in-process, one thread: request with the body decoded into typed rows (the server's /mask) {:.1} µs ({:.0} requests/s)",
        y.as_secs_f64() * 1e6,
        1.0 / y.as_secs_f64()
    );
    println!(
        "in-process, one thread: mask {:.1} µs/request ({:.0} requests/s; through a JSON tree {:.1} µs); request (JWT + body + mask) {:.1} µs ({:.0} requests/s) [{sink}]",
        m.as_secs_f64() * 1e6,
        1.0 / m.as_secs_f64(),
        t.as_secs_f64() * 1e6,
        w.as_secs_f64() * 1e6,
        1.0 / w.as_secs_f64()
    );
}
