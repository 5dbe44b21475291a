//! Hot reload under load: a new bundle on file change and on SIGHUP is swapped in, a broken
//! one is logged and the old one keeps serving, and no request fails meanwhile.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

/// Replaces `to` atomically with `bytes` (write aside, rename).
fn replace(to: &Path, bytes: &[u8]) {
    let aside = to.with_extension("new");
    std::fs::write(&aside, bytes).unwrap();
    std::fs::rename(&aside, to).unwrap();
}

fn version(server: &Server) -> String {
    let v: Value = client()
        .get(server.url("/readyz"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["bundle"].as_str().unwrap().to_owned()
}

#[test]
fn reloads_under_load_lose_no_request() {
    let tmp = tempdir();
    let dir = tmp.path();
    // Bundle A: the example; bundle B: emails nulled for agents.
    let a = dir.join("a.polb");
    build_bundle(&repo().join("examples/support-desk"), &a);
    let b_src = dir.join("b");
    std::fs::create_dir(&b_src).unwrap();
    for e in std::fs::read_dir(repo().join("examples/support-desk")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "pol" || x == "toml") {
            let text = std::fs::read_to_string(&p)
                .unwrap()
                .replace("using email_mask", "using null");
            std::fs::write(b_src.join(p.file_name().unwrap()), text).unwrap();
        }
    }
    let b = dir.join("b.polb");
    build_bundle(&b_src, &b);
    let (a_bytes, b_bytes) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let serving = dir.join("serving.polb");
    std::fs::write(&serving, &a_bytes).unwrap();
    let server = Server::start(&[
        "--bundle",
        serving.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
        "--watch-ms",
        "50",
    ]);
    let version_a = version(&server);

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new((0usize, BTreeSet::new(), Vec::new())));
    let amy = hs_token(&json!({"sub": "amy", "roles": ["agent"], "team": "billing"}));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (stop, seen, amy, url) = (
                Arc::clone(&stop),
                Arc::clone(&seen),
                amy.clone(),
                server.url("/v1/sources/customers/mask"),
            );
            std::thread::spawn(move || {
                let c = client();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && n < 20_000 {
                    n += 1;
                    let r = c
                        .post(&url)
                        .bearer_auth(&amy)
                        .json(&json!({"rows": [{"id": 1, "email": "jenny@example.com"}]}))
                        .send();
                    let mut s = seen.lock().unwrap();
                    s.0 += 1;
                    match r {
                        Ok(r) if r.status() == 200 => {
                            let v: Value = r.json().unwrap();
                            s.1.insert(v["rows"][0]["email"].to_string());
                        }
                        Ok(r) => s.2.push(format!("status {}", r.status())),
                        Err(e) => s.2.push(e.to_string()),
                    }
                }
            })
        })
        .collect();
    let pause = || std::thread::sleep(Duration::from_millis(400));
    pause();
    replace(&serving, &b_bytes); // a file change: B serves
    pause();
    let version_b = version(&server);
    assert_ne!(version_b, version_a);
    replace(&serving, b"not a bundle"); // a broken bundle: B keeps serving
    pause();
    assert_eq!(version(&server), version_b);
    std::fs::write(&serving, &a_bytes).unwrap();
    server.signal("HUP"); // SIGHUP (and the change): A serves again
    pause();
    assert_eq!(version(&server), version_a);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let (count, emails, failures) = seen.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {count} requests failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(count > 50, "too little load: {count}");
    let expected: BTreeSet<String> = ["\"*******.com\"", "null"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(emails, expected);
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("pol_bundle_reloads_total{outcome=\"failed\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("pol_bundle_info{{version=\"{version_a}\"}} 1")),
        "{metrics}"
    );
}
