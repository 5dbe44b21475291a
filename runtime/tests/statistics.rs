//! Statistical tests of the randomised techniques (seeded by the fixed test key and the row
//! key, so every run sees the same numbers): `randomize` changes values at its configured rate,
//! uniformly over the other values; `noise` has the configured Laplace scale; both are
//! deterministic per row.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use chrono::{DateTime, TimeZone, Utc};
use engine_support::*;
use pol_runtime::{ColumnType as T, MaskContext, PreparedTechnique, Technique, Value};

const N: i64 = 100_000;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
}

fn domain() -> Vec<String> {
    ["MD", "VA", "DE", "PA"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn randomize_changes_values_at_the_configured_rate_through_the_engine() {
    for rate in [0.1, 0.75] {
        let mut b = B::new();
        let s = b.source("people", &[("id", T::Int), ("state", T::Enum(domain()))]);
        b.src(s).key_column = Some(0);
        let t = b.tech(Technique::Randomize {
            rate,
            domain: domain(),
        });
        let r = b.rule("randomize_state");
        b.add_candidate(s, "state", r, None, everyone(t));
        let engine = b.engine();
        let session = engine.session(&anyone(), t0()).expect("subject");
        let src = session.source("people").expect("source");
        let mut changed = 0u32;
        let mut to = [0u32; 4];
        for id in 0..N {
            let out = src
                .mask_values(&[Value::Int(id), Value::Text("VA".into())])
                .expect("shown");
            match &out[1] {
                Value::Text(v) if v == "VA" => {}
                Value::Text(v) => {
                    changed += 1;
                    let i = domain().iter().position(|d| d == v).expect("in the domain");
                    to[i] += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let observed = f64::from(changed) / N as f64;
        assert!(
            (observed - rate).abs() < 0.01,
            "rate {rate}: observed {observed}"
        );
        // Never to itself; uniformly over the three others (each a third of the changes).
        assert_eq!(to[1], 0);
        for i in [0, 2, 3] {
            let share = f64::from(to[i]) / f64::from(changed);
            assert!(
                (share - 1.0 / 3.0).abs() < 0.01,
                "rate {rate}: share {share}"
            );
        }
    }
}

#[test]
fn randomize_is_deterministic_per_row_and_column() {
    let ring = key_ring();
    let t = PreparedTechnique::new(&Technique::Randomize {
        rate: 0.5,
        domain: domain(),
    })
    .expect("valid");
    let apply = |column: &str, key: i64| {
        let key = Value::Int(key);
        let ctx = MaskContext::new("people", column, now())
            .with_row_key(&key)
            .with_keys(&ring);
        t.apply(&Value::Text("MD".into()), &ctx).expect("applies")
    };
    let first: Vec<Value> = (0..1000).map(|k| apply("state", k)).collect();
    let again: Vec<Value> = (0..1000).map(|k| apply("state", k)).collect();
    assert_eq!(first, again);
    // Another column is seeded differently.
    let other: Vec<Value> = (0..1000).map(|k| apply("home_state", k)).collect();
    assert_ne!(first, other);
}

/// Laplace(0, b) noise on `value` for rows 0..N, as offsets.
fn offsets(scale: f64, value: Value) -> Vec<f64> {
    let ring = key_ring();
    let t = PreparedTechnique::new(&Technique::Noise(scale)).expect("valid");
    (0..N)
        .map(|k| {
            let key = Value::Int(k);
            let ctx = MaskContext::new("people", "salary", now())
                .with_row_key(&key)
                .with_keys(&ring);
            match (t.apply(&value, &ctx).expect("applies"), &value) {
                (Value::Decimal(x), Value::Decimal(v)) => x - v,
                (Value::Int(x), Value::Int(v)) => (x - v) as f64,
                (Value::Date(x), Value::Date(v)) => (x - *v).num_days() as f64,
                (out, _) => panic!("unexpected {out:?}"),
            }
        })
        .collect()
}

#[test]
fn noise_has_the_configured_laplace_scale() {
    for scale in [1.0, 250.0] {
        let x = offsets(scale, Value::Decimal(1_000.0));
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let mean_abs = x.iter().map(|v| v.abs()).sum::<f64>() / n;
        let std = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let mut abs: Vec<f64> = x.iter().map(|v| v.abs()).collect();
        abs.sort_by(f64::total_cmp);
        let median_abs = abs[abs.len() / 2];
        // Laplace(0, b): E|X| = b, sd = b·√2, median |X| = b·ln 2, mean 0.
        assert!(
            (mean_abs / scale - 1.0).abs() < 0.02,
            "scale {scale}: mean |x| {mean_abs}"
        );
        assert!(
            (std / (scale * 2f64.sqrt()) - 1.0).abs() < 0.03,
            "scale {scale}: sd {std}"
        );
        assert!(
            (median_abs / (scale * 2f64.ln()) - 1.0).abs() < 0.03,
            "scale {scale}: median |x| {median_abs}"
        );
        assert!(mean.abs() < 0.02 * scale, "scale {scale}: mean {mean}");
        // Symmetric: about half the draws are positive.
        let positive = x.iter().filter(|v| **v > 0.0).count() as f64 / n;
        assert!((positive - 0.5).abs() < 0.01, "scale {scale}: {positive}");
    }
}

#[test]
fn integer_and_date_noise_are_rounded_laplace() {
    let x = offsets(20.0, Value::Int(500));
    let mean_abs = x.iter().map(|v| v.abs()).sum::<f64>() / x.len() as f64;
    // Rounding to whole numbers barely moves E|X| at this scale.
    assert!((mean_abs / 20.0 - 1.0).abs() < 0.02, "mean |x| {mean_abs}");
    assert!(x.iter().all(|v| v.fract() == 0.0));
    let d = Value::Date(chrono::NaiveDate::from_ymd_opt(1990, 6, 1).expect("date"));
    let days = offsets(30.0, d);
    let mean_abs = days.iter().map(|v| v.abs()).sum::<f64>() / days.len() as f64;
    assert!(
        (mean_abs / 30.0 - 1.0).abs() < 0.02,
        "mean |days| {mean_abs}"
    );
}

#[test]
fn noise_is_deterministic_per_row() {
    let a = offsets(10.0, Value::Decimal(0.0));
    let b = offsets(10.0, Value::Decimal(0.0));
    assert_eq!(a, b);
    // Rows get different noise (no two of the first thousand rows collide).
    let mut first: Vec<f64> = a[..1000].to_vec();
    first.sort_by(f64::total_cmp);
    first.dedup();
    assert_eq!(first.len(), 1000);
    // Through the engine: the same row masked in two sessions of two users is identical.
    let mut bld = B::new();
    let s = bld.source("people", &[("id", T::Int), ("salary", T::Decimal)]);
    bld.src(s).key_column = Some(0);
    let t = bld.tech(Technique::Noise(10.0));
    let r = bld.rule("noisy_salary");
    bld.add_candidate(s, "salary", r, None, everyone(t));
    let engine = bld.engine();
    let row = serde_json::json!({"id": 42, "salary": 1000.0});
    let one = mask(&engine, anyone(), "people", row.clone());
    let two = mask(
        &engine,
        serde_json::json!({"login": "other"}),
        "people",
        row,
    );
    assert_eq!(one, two);
    assert_ne!(
        one.as_ref().and_then(|r| r.get("salary").cloned()),
        Some(serde_json::json!(1000.0))
    );
}
