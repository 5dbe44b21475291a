//! Tests of every technique: the contract's examples (exact), edge cases, known answers computed
//! independently (Python's `hmac`, `hashlib` and `cryptography`), properties and statistics.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use proptest::prelude::*;

use super::*;

const KEY: &[u8] = b"0123456789abcdef";

fn ring() -> KeyRing {
    KeyRing::new(MaskingKey::from_bytes(KEY).expect("valid key"))
}

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid timestamp")
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn now() -> DateTime<Utc> {
    ts("2026-01-01T00:00:00Z")
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// Applies with a context on `customers.col`, row key 1, and the test key.
fn run(t: Technique, v: Value) -> Result<Value, TechniqueError> {
    let keys = ring();
    let row = Value::Int(1);
    let ctx = MaskContext::new("customers", "col", now())
        .with_row_key(&row)
        .with_keys(&keys);
    t.apply(&v, &ctx)
}

fn ok(t: Technique, v: Value) -> Value {
    match run(t.clone(), v.clone()) {
        Ok(out) => out,
        Err(e) => panic!("{t:?} on {v:?} failed: {e}"),
    }
}

fn ok_text(t: Technique, s: &str) -> String {
    match ok(t, text(s)) {
        Value::Text(out) => out,
        other => panic!("expected text, got {other:?}"),
    }
}

// ---------------------------------------------------------------- null, constant, hash

#[test]
fn null_and_constant() {
    assert_eq!(ok(Technique::Null, text("x")), Value::Null);
    assert_eq!(ok(Technique::Null, Value::Int(3)), Value::Null);
    assert_eq!(ok(Technique::Constant(text("n/a")), text("x")), text("n/a"));
    assert_eq!(
        ok(Technique::Constant(Value::Int(0)), Value::Int(7)),
        Value::Int(0)
    );
    // "For every other technique null stays null", constant included.
    assert_eq!(
        ok(Technique::Constant(text("n/a")), Value::Null),
        Value::Null
    );
}

#[test]
fn hash_known_answers() {
    // HMAC-SHA256(HKDF(KEY, "pol hash v1"), "customers\0jenny@example.com"), computed in Python.
    assert_eq!(
        ok_text(Technique::Hash { global: false }, "jenny@example.com"),
        "e48dc50d4d6a91b4e85eb3fd351fc3b5e384d4cee21a91fbb5a1f3f04bdec9bf"
    );
    assert_eq!(
        ok_text(Technique::Hash { global: true }, "jenny@example.com"),
        "ebce0dc6aa076d3aad58055a6f0621b19284213b142e6ea813a6d1b20d94c4a3"
    );
    // Non-text values hash their canonical text: the int 42 like "42".
    assert_eq!(
        ok(Technique::Hash { global: false }, Value::Int(42)),
        text("d192e4bedc90f7f76312d49c5e00df67c0e5e4ab38808f446a6a0dd10a111d74")
    );
    assert_eq!(
        ok(Technique::Hash { global: false }, Value::Null),
        Value::Null
    );
}

#[test]
fn hash_scope() {
    let keys = ring();
    let h = |source: &str, global: bool| {
        let ctx = MaskContext::new(source, "c", now()).with_keys(&keys);
        Technique::Hash { global }.apply(&text("v"), &ctx)
    };
    assert_eq!(h("a", false), h("a", false));
    assert_ne!(h("a", false), h("b", false));
    assert_eq!(h("a", true), h("b", true));
    assert_ne!(h("a", true), h("a", false));
    let ctx = MaskContext::new("a", "c", now());
    assert_eq!(
        Technique::Hash { global: false }.apply(&text("v"), &ctx),
        Err(TechniqueError::MissingKey { technique: "hash" })
    );
}

// ---------------------------------------------------------------- partial techniques

#[test]
fn redact_and_stars() {
    assert_eq!(ok_text(Technique::Redact, "a"), "*******");
    assert_eq!(ok_text(Technique::Redact, "a much longer value"), "*******");
    assert_eq!(ok_text(Technique::Stars, "héllo wörld"), "***********");
    assert_eq!(ok_text(Technique::Stars, ""), "");
    assert_eq!(ok(Technique::Redact, Value::Null), Value::Null);
    assert_eq!(ok(Technique::Stars, Value::Null), Value::Null);
    assert_eq!(
        run(Technique::Redact, Value::Int(1)),
        Err(TechniqueError::TypeMismatch {
            technique: "redact",
            found: "int"
        })
    );
}

#[test]
fn show_last_and_first() {
    assert_eq!(
        ok_text(Technique::ShowLast(4), "555-867-5309"),
        "*******5309"
    );
    assert_eq!(
        ok_text(Technique::ShowFirst(3), "555-867-5309"),
        "555*******"
    );
    assert_eq!(ok_text(Technique::ShowLast(2), "ab-c-d"), "*******cd");
    // Showing every letter and digit would show the value: nothing is shown.
    assert_eq!(ok_text(Technique::ShowLast(4), "12-34"), "*******");
    assert_eq!(ok_text(Technique::ShowFirst(4), "abc"), "*******");
}

#[test]
fn email_mask() {
    assert_eq!(
        ok_text(Technique::EmailMask, "jenny@example.com"),
        "*******.com"
    );
    assert_eq!(ok_text(Technique::EmailMask, "a@b.c.co.uk"), "*******.uk");
    assert_eq!(ok_text(Technique::EmailMask, "no at sign.com"), "*******");
    assert_eq!(ok_text(Technique::EmailMask, "root@localhost"), "*******");
    assert_eq!(ok_text(Technique::EmailMask, "x@example."), "*******");
}

#[test]
fn mask_first_and_last() {
    let mf = |n, fill| Technique::MaskFirst { n, fill };
    let ml = |n, fill| Technique::MaskLast { n, fill };
    assert_eq!(
        ok_text(mf(5, Fill::default()), "123-45-6789"),
        "***-**-6789"
    );
    assert_eq!(
        ok_text(ml(4, Fill::Text("[Restricted]".into())), "555-123-4567"),
        "555-123-[Restricted]"
    );
    // With a text fill, each maximal run of masked characters becomes one copy.
    assert_eq!(
        ok_text(mf(5, Fill::Text("X".into())), "123-45-6789"),
        "X-X-6789"
    );
    assert_eq!(ok_text(mf(2, Fill::Char('#')), "ab-cd"), "##-cd");
    assert_eq!(ok_text(ml(3, Fill::Char('#')), "ab-cd"), "a#-##");
    assert_eq!(ok_text(mf(10, Fill::default()), "ab-cd"), "**-**");
}

#[test]
fn mask_percent() {
    // ⌈5·50/100⌉ = 3 characters.
    assert_eq!(ok_text(Technique::MaskFirstPercent(50), "abcde"), "***de");
    // ⌈5·10/100⌉ = 1 character, counted in chars not bytes.
    assert_eq!(ok_text(Technique::MaskLastPercent(10), "héllo"), "héll*");
    assert_eq!(ok_text(Technique::MaskLastPercent(100), "a-b"), "***");
    assert_eq!(ok_text(Technique::MaskFirstPercent(1), "ab"), "*b");
}

#[test]
fn partial_null_and_empty() {
    let partial = [
        Technique::ShowLast(4),
        Technique::ShowFirst(4),
        Technique::EmailMask,
        Technique::MaskFirst {
            n: 2,
            fill: Fill::default(),
        },
        Technique::MaskLast {
            n: 2,
            fill: Fill::Text("x".into()),
        },
        Technique::MaskFirstPercent(50),
        Technique::MaskLastPercent(50),
        Technique::Initials { delimiter: None },
    ];
    for t in partial {
        assert!(t.is_partial());
        assert_eq!(ok(t.clone(), Value::Null), text("*******"), "{t:?} on null");
        assert_eq!(ok(t.clone(), text("")), text("*******"), "{t:?} on empty");
        assert!(matches!(
            run(t, Value::Int(5)),
            Err(TechniqueError::TypeMismatch { found: "int", .. })
        ));
    }
}

#[test]
fn initials() {
    let t = Technique::Initials { delimiter: None };
    assert_eq!(ok_text(t.clone(), "John Smith"), "JS");
    assert_eq!(ok_text(t.clone(), "Subject 3"), "S3");
    assert_eq!(ok_text(t.clone(), "  Ana  María  López "), "AML");
    assert_eq!(ok_text(t, "   "), "*******");
    let t = Technique::Initials {
        delimiter: Some(",".into()),
    };
    assert_eq!(ok_text(t, "Smith, John,,x"), "SJx");
}

#[test]
fn regex_replace() {
    let re = |pattern: &str, replacement: &str, global, ignore_case| Technique::Regex {
        pattern: pattern.into(),
        replacement: replacement.into(),
        global,
        ignore_case,
    };
    assert_eq!(
        ok_text(re(r"\d+$", "XXX", false, false), "164.16.13.12"),
        "164.16.13.XXX"
    );
    assert_eq!(ok_text(re(r"\d", "#", false, false), "a1b2"), "a#b2");
    assert_eq!(ok_text(re(r"\d", "#", true, false), "a1b2"), "a#b#");
    assert_eq!(ok_text(re("abc", "-", true, true), "ABC abc"), "- -");
    assert_eq!(ok_text(re("abc", "-", true, false), "ABC abc"), "ABC -");
    assert_eq!(
        ok_text(
            re(r"(?P<user>\w+)@(\w+)", "${2}@$user", false, false),
            "jenny@example"
        ),
        "example@jenny"
    );
    assert_eq!(ok_text(re("x", "$$", false, false), "x"), "$");
}

// ---------------------------------------------------------------- numbers

#[test]
fn range() {
    assert_eq!(ok(Technique::Range(10.0), Value::Int(25)), text("20-30"));
    assert_eq!(ok(Technique::Range(10.0), Value::Int(20)), text("20-30"));
    assert_eq!(ok(Technique::Range(10.0), Value::Int(-5)), text("-10-0"));
    assert_eq!(
        ok(Technique::Range(10.0), Value::Decimal(25.5)),
        text("20-30")
    );
    assert_eq!(
        ok(Technique::Range(0.1), Value::Decimal(0.35)),
        text("0.3-0.4")
    );
    assert_eq!(
        ok(Technique::Range(0.1), Value::Decimal(0.3)),
        text("0.3-0.4")
    );
    assert_eq!(ok(Technique::Range(2.5), Value::Int(6)), text("5-7.5"));
    assert_eq!(ok(Technique::Range(10.0), Value::Null), Value::Null);
    assert!(matches!(
        run(Technique::Range(10.0), Value::Int(i64::MAX)),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
    assert!(matches!(
        run(Technique::Range(10.0), text("25")),
        Err(TechniqueError::TypeMismatch { .. })
    ));
}

#[test]
fn round_numbers() {
    assert_eq!(ok(Technique::Round(5.0), Value::Int(21)), Value::Int(25));
    assert_eq!(ok(Technique::Round(5.0), Value::Int(20)), Value::Int(20));
    assert_eq!(ok(Technique::Round(5.0), Value::Int(-21)), Value::Int(-20));
    assert_eq!(
        ok(Technique::Round(5.0), Value::Decimal(21.0)),
        Value::Decimal(25.0)
    );
    assert_eq!(
        ok(Technique::Round(0.1), Value::Decimal(0.31)),
        Value::Decimal(0.4)
    );
    assert_eq!(
        ok(Technique::Round(0.1), Value::Decimal(0.3)),
        Value::Decimal(0.3)
    );
    assert!(matches!(
        run(Technique::Round(2.5), Value::Int(21)),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
    assert!(matches!(
        run(Technique::Round(10.0), Value::Int(i64::MAX)),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
}

#[test]
fn digits() {
    assert_eq!(
        ok(Technique::Digits('*'), text("555-867-5309")),
        text("***-***-****")
    );
    assert_eq!(ok(Technique::Digits('#'), Value::Int(-1234)), text("-####"));
    assert_eq!(
        ok(Technique::Digits('*'), Value::Decimal(25.5)),
        text("**.*")
    );
    assert!(matches!(
        run(Technique::Digits('*'), Value::Bool(true)),
        Err(TechniqueError::TypeMismatch { .. })
    ));
}

// ---------------------------------------------------------------- dates

#[test]
fn round_time() {
    let t = Value::Timestamp(ts("2024-05-17T10:37:42.5Z"));
    let r = |u| ok(Technique::RoundTime(u), t.clone());
    assert_eq!(
        r(TimeUnit::Minute),
        Value::Timestamp(ts("2024-05-17T10:37:00Z"))
    );
    assert_eq!(
        r(TimeUnit::Hour),
        Value::Timestamp(ts("2024-05-17T10:00:00Z"))
    );
    assert_eq!(
        r(TimeUnit::Day),
        Value::Timestamp(ts("2024-05-17T00:00:00Z"))
    );
    assert_eq!(
        r(TimeUnit::Month),
        Value::Timestamp(ts("2024-05-01T00:00:00Z"))
    );
    assert_eq!(
        r(TimeUnit::Year),
        Value::Timestamp(ts("2024-01-01T00:00:00Z"))
    );
    let d = Value::Date(date(1988, 7, 14));
    let r = |u| ok(Technique::RoundTime(u), d.clone());
    assert_eq!(r(TimeUnit::Hour), Value::Date(date(1988, 7, 14)));
    assert_eq!(r(TimeUnit::Day), Value::Date(date(1988, 7, 14)));
    assert_eq!(r(TimeUnit::Month), Value::Date(date(1988, 7, 1)));
    assert_eq!(r(TimeUnit::Year), Value::Date(date(1988, 1, 1)));
    assert!(matches!(
        run(Technique::RoundTime(TimeUnit::Day), Value::Int(1)),
        Err(TechniqueError::TypeMismatch { .. })
    ));
}

#[test]
fn age_range() {
    let born = Value::Date(date(1990, 6, 1));
    let t = |max| Technique::AgeRange { size: 10, max };
    assert_eq!(ok(t(None), born.clone()), text("30-40"));
    assert_eq!(ok(t(Some(36)), born.clone()), text("30-40"));
    assert_eq!(ok(t(Some(35)), born.clone()), Value::Null);
    assert_eq!(
        ok(t(None), Value::Timestamp(ts("1990-06-01T23:00:00Z"))),
        text("30-40")
    );
    // Birthday not yet reached: 1990-01-02 → 35 on 2026-01-01, 1990-01-01 → 36.
    assert_eq!(
        ok(
            Technique::AgeRange { size: 1, max: None },
            Value::Date(date(1990, 1, 2))
        ),
        text("35-36")
    );
    assert_eq!(
        ok(
            Technique::AgeRange { size: 1, max: None },
            Value::Date(date(1990, 1, 1))
        ),
        text("36-37")
    );
    assert!(matches!(
        run(t(None), Value::Date(date(2030, 1, 1))),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
}

#[test]
fn year_month_and_format() {
    let d = Value::Date(date(1988, 7, 14));
    assert_eq!(
        ok(Technique::YearOnly { max: None }, d.clone()),
        text("1988")
    );
    assert_eq!(
        ok(Technique::MonthYear { max: None }, d.clone()),
        text("July 1988")
    );
    let fmt = |pattern: &str, max| Technique::DateFormat {
        pattern: pattern.into(),
        max,
    };
    assert_eq!(ok(fmt("%m/%Y", None), d.clone()), text("07/1988"));
    // Age 37 at the clock: max 37 hides it, max 38 does not.
    assert_eq!(
        ok(Technique::YearOnly { max: Some(37) }, d.clone()),
        Value::Null
    );
    assert_eq!(
        ok(Technique::YearOnly { max: Some(38) }, d.clone()),
        text("1988")
    );
    assert_eq!(
        ok(Technique::MonthYear { max: Some(37) }, d.clone()),
        Value::Null
    );
    assert_eq!(ok(fmt("%m/%Y", Some(37)), d.clone()), Value::Null);
    let t = Value::Timestamp(ts("1988-07-14T10:05:00Z"));
    assert_eq!(
        ok(fmt("%Y-%m-%d %H:%M", None), t.clone()),
        text("1988-07-14 10:05")
    );
    assert_eq!(ok(Technique::MonthYear { max: None }, t), text("July 1988"));
    // A date has no hour.
    assert!(matches!(
        run(fmt("%H", None), d),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
}

// ---------------------------------------------------------------- noise and randomize

fn ctx_row<'a>(keys: &'a KeyRing, row: &'a Value) -> MaskContext<'a> {
    MaskContext::new("customers", "salary", now())
        .with_row_key(row)
        .with_keys(keys)
}

#[test]
fn noise_is_deterministic_per_row() {
    let keys = ring();
    let t = Technique::Noise(10.0).prepare().expect("valid");
    let a = Value::Int(7);
    let b = Value::Int(8);
    let v = Value::Decimal(1000.0);
    let first = t.apply(&v, &ctx_row(&keys, &a)).expect("noise");
    assert_eq!(t.apply(&v, &ctx_row(&keys, &a)).expect("noise"), first);
    assert_ne!(t.apply(&v, &ctx_row(&keys, &b)).expect("noise"), first);
    assert!(matches!(
        t.apply(&Value::Int(1000), &ctx_row(&keys, &a)),
        Ok(Value::Int(_))
    ));
    assert!(matches!(
        t.apply(&Value::Date(date(2000, 1, 1)), &ctx_row(&keys, &a)),
        Ok(Value::Date(_))
    ));
    assert!(matches!(
        t.apply(&Value::Timestamp(now()), &ctx_row(&keys, &a)),
        Ok(Value::Timestamp(_))
    ));
    // Another column of the same row gets other noise.
    let other = MaskContext::new("customers", "bonus", now())
        .with_row_key(&a)
        .with_keys(&keys);
    assert_ne!(t.apply(&v, &other).expect("noise"), first);
    // No row key, null row key, no keys, wrong type.
    let no_row = MaskContext::new("customers", "salary", now()).with_keys(&keys);
    assert_eq!(
        t.apply(&v, &no_row),
        Err(TechniqueError::MissingRowKey { technique: "noise" })
    );
    assert_eq!(
        t.apply(&v, &ctx_row(&keys, &Value::Null)),
        Err(TechniqueError::MissingRowKey { technique: "noise" })
    );
    let no_keys = MaskContext::new("customers", "salary", now()).with_row_key(&a);
    assert_eq!(
        t.apply(&v, &no_keys),
        Err(TechniqueError::MissingKey { technique: "noise" })
    );
    assert!(matches!(
        t.apply(&text("x"), &ctx_row(&keys, &a)),
        Err(TechniqueError::TypeMismatch { .. })
    ));
    assert_eq!(t.apply(&Value::Null, &ctx_row(&keys, &a)), Ok(Value::Null));
}

fn domain() -> Vec<String> {
    vec!["MD".into(), "VA".into(), "DE".into(), "PA".into()]
}

#[test]
fn randomize_edges() {
    let keys = ring();
    let row = Value::Int(3);
    let ctx = ctx_row(&keys, &row);
    let t = |rate, domain| Technique::Randomize { rate, domain };
    assert_eq!(t(0.0, domain()).apply(&text("VA"), &ctx), Ok(text("VA")));
    let changed = t(1.0, domain())
        .apply(&text("VA"), &ctx)
        .expect("randomize");
    assert_ne!(changed, text("VA"));
    assert!(domain().iter().any(|d| text(d) == changed));
    assert_eq!(
        t(1.0, vec!["VA".into()]).apply(&text("VA"), &ctx),
        Ok(text("VA"))
    );
    assert!(matches!(
        t(1.0, domain()).apply(&text("XX"), &ctx),
        Err(TechniqueError::TypeMismatch { .. })
    ));
}

#[test]
fn randomize_rate_statistics() {
    let keys = ring();
    let rate = 0.3;
    let t = Technique::Randomize {
        rate,
        domain: domain(),
    }
    .prepare()
    .expect("valid");
    let rows = 100_000u32;
    let mut changed = 0u32;
    let mut to = [0u32; 4];
    for i in 0..rows {
        let row = Value::Int(i64::from(i));
        let out = t
            .apply(&text("MD"), &ctx_row(&keys, &row))
            .expect("randomize");
        if out != text("MD") {
            changed += 1;
            if let Some(k) = domain().iter().position(|d| text(d) == out) {
                to[k] += 1;
            }
        }
    }
    let share = f64::from(changed) / f64::from(rows);
    assert!((share - rate).abs() < 0.01, "changed share {share}");
    // Uniform among the three others.
    assert_eq!(to[0], 0);
    for &n in &to[1..] {
        let p = f64::from(n) / f64::from(changed);
        assert!((p - 1.0 / 3.0).abs() < 0.02, "replacement share {p}");
    }
}

#[test]
fn noise_scale_statistics() {
    let keys = ring();
    let scale = 2.0;
    let t = Technique::Noise(scale).prepare().expect("valid");
    let rows = 100_000u32;
    let (mut sum, mut sum_abs) = (0.0, 0.0);
    for i in 0..rows {
        let row = Value::Int(i64::from(i));
        match t.apply(&Value::Decimal(0.0), &ctx_row(&keys, &row)) {
            Ok(Value::Decimal(x)) => {
                sum += x;
                sum_abs += x.abs();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let mean = sum / f64::from(rows);
    let mad = sum_abs / f64::from(rows);
    // Laplace(0, b): E|X| = b; the standard error of the mean is about b/√n ≈ 0.3 %.
    assert!(
        (mad - scale).abs() / scale < 0.03,
        "mean absolute deviation {mad}"
    );
    assert!(mean.abs() < 0.05, "mean {mean}");
}

// ---------------------------------------------------------------- tokenize

#[test]
fn tokenize_known_answer_and_round_trip() {
    let keys = ring();
    let token = ok_text(Technique::Tokenize, "4111111111111111");
    // AES-SIV(HKDF(KEY, "pol token v1"), ["pol token v1", keyid], pt), computed in Python.
    assert_eq!(
        token,
        "tok_1cd883bb_QKxU9yZvW7but1XuNuf5_yXmv3-kxJ8Jc0biUzxqQOw"
    );
    assert_eq!(detokenize(&token, &keys).as_deref(), Ok("4111111111111111"));
    assert_eq!(ok_text(Technique::Tokenize, "4111111111111111"), token);
    let empty = ok_text(Technique::Tokenize, "");
    assert_eq!(detokenize(&empty, &keys).as_deref(), Ok(""));
    assert_eq!(ok(Technique::Tokenize, Value::Null), Value::Null);
    assert!(matches!(
        run(Technique::Tokenize, Value::Int(4)),
        Err(TechniqueError::TypeMismatch { .. })
    ));
}

#[test]
fn detokenize_errors_and_rotation() {
    let keys = ring();
    let token = ok_text(Technique::Tokenize, "secret");
    // Tampering with the data.
    let mut tampered = token.clone();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        detokenize(&tampered, &keys),
        Err(TechniqueError::DecryptionFailed | TechniqueError::MalformedToken)
    ));
    assert_eq!(
        detokenize("hello", &keys),
        Err(TechniqueError::MalformedToken)
    );
    assert_eq!(
        detokenize("tok_", &keys),
        Err(TechniqueError::MalformedToken)
    );
    assert_eq!(
        detokenize("tok_1cd883bb", &keys),
        Err(TechniqueError::MalformedToken)
    );
    assert_eq!(
        detokenize("tok_1cd883bb_!!", &keys),
        Err(TechniqueError::MalformedToken)
    );
    assert_eq!(
        detokenize("tok_1cd883bb_AAAA", &keys),
        Err(TechniqueError::DecryptionFailed)
    );
    assert_eq!(
        detokenize("tok_1cd8é3bb_AAAA", &keys),
        Err(TechniqueError::MalformedToken)
    );
    // A new active key: old tokens still decrypt through the retired key; new ones differ.
    let new = MaskingKey::from_bytes(b"a brand new masking key").expect("valid");
    let rotated = KeyRing::new(new)
        .with_retired(MaskingKey::from_bytes(KEY).expect("valid"))
        .expect("distinct ids");
    assert_eq!(detokenize(&token, &rotated).as_deref(), Ok("secret"));
    let ctx = MaskContext::new("s", "c", now()).with_keys(&rotated);
    let new_token = match Technique::Tokenize.apply(&text("secret"), &ctx) {
        Ok(Value::Text(t)) => t,
        other => panic!("unexpected {other:?}"),
    };
    assert_ne!(new_token, token);
    assert!(new_token.starts_with(&format!("tok_{}_", rotated.active().id())));
    assert_eq!(
        detokenize(&new_token, &keys),
        Err(TechniqueError::UnknownKey(rotated.active().id().to_owned()))
    );
}

// ---------------------------------------------------------------- format preserving

#[test]
fn format_preserving_shape_and_round_trip() {
    let keys = ring();
    for input in [
        "4111-1111-1111-1111",
        "123-45-6789",
        "555-867-5309",
        "John Smith",
        "AB-123456",
        "Xy9 zz-88",
        "abcde",
    ] {
        let out = ok_text(Technique::FormatPreserving, input);
        assert_eq!(out.chars().count(), input.chars().count());
        for (a, b) in input.chars().zip(out.chars()) {
            assert_eq!(a.is_ascii_digit(), b.is_ascii_digit(), "{input} → {out}");
            assert_eq!(
                a.is_ascii_lowercase(),
                b.is_ascii_lowercase(),
                "{input} → {out}"
            );
            assert_eq!(
                a.is_ascii_uppercase(),
                b.is_ascii_uppercase(),
                "{input} → {out}"
            );
            if !a.is_ascii_alphanumeric() {
                assert_eq!(a, b);
            }
        }
        assert_ne!(out, input);
        assert_eq!(
            format_preserving_decrypt(&out, "customers", "col", &keys).as_deref(),
            Ok(input)
        );
        // Another column gives another ciphertext.
        let ctx = MaskContext::new("customers", "other", now()).with_keys(&keys);
        assert_ne!(
            Technique::FormatPreserving.apply(&text(input), &ctx),
            Ok(text(&out))
        );
    }
}

#[test]
fn format_preserving_limits() {
    // 10^5 < 10^6: too short for FF1.
    assert!(matches!(
        run(Technique::FormatPreserving, text("12345")),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
    assert!(matches!(
        run(Technique::FormatPreserving, text("ab-cd")),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
    // 10^6 is enough.
    assert!(run(Technique::FormatPreserving, text("123456")).is_ok());
    // Non-ASCII letters are not kept in clear.
    assert!(matches!(
        run(Technique::FormatPreserving, text("José García 12")),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
    assert!(matches!(
        run(Technique::FormatPreserving, text(&"9".repeat(5000))),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
    assert!(run(Technique::FormatPreserving, text(&"9".repeat(4096))).is_ok());
    assert_eq!(ok(Technique::FormatPreserving, Value::Null), Value::Null);
}

#[test]
fn format_preserving_ints_keep_sign_and_digit_count() {
    let keys = ring();
    for v in [
        1_000_000i64,
        9_999_999,
        4_111_111_111,
        -1_234_567,
        -98_765_432_101,
        i64::MAX,
        -i64::MAX,
        1_000_000_000_000_000_000,
    ] {
        let Value::Int(out) = ok(Technique::FormatPreserving, Value::Int(v)) else {
            panic!("format_preserving on an int gave no int");
        };
        assert_ne!(out, v);
        assert_eq!(out < 0, v < 0, "{v} → {out}");
        assert_eq!(
            out.unsigned_abs().to_string().len(),
            v.unsigned_abs().to_string().len(),
            "{v} → {out}"
        );
        assert_eq!(
            format_preserving_decrypt_int(out, "customers", "col", &keys),
            Ok(v)
        );
    }
    // The text of the same digits is another domain (and another tweak).
    assert_ne!(
        ok(Technique::FormatPreserving, text("4111111111")),
        text(&ok(Technique::FormatPreserving, Value::Int(4_111_111_111)).canonical_text())
    );
}

/// Known answers computed independently (compiler/tests/data/technique_vectors.py, `fpe_int`).
#[test]
fn format_preserving_ints_known_answers() {
    let keys = KeyRing::new(
        MaskingKey::from_bytes(b"0123456789abcdef0123456789abcdef").expect("valid key"),
    );
    let ctx = MaskContext::new("payments", "account", now()).with_keys(&keys);
    for (v, want) in [
        (5_320_130_001i64, 1_670_145_511i64),
        (-1_234_567, -7_685_719),
        (i64::MAX, 1_670_033_828_148_520_069),
        (1_000_000_000_000_000_000, 7_476_791_987_079_213_417),
    ] {
        assert_eq!(
            Technique::FormatPreserving.apply(&Value::Int(v), &ctx),
            Ok(Value::Int(want))
        );
    }
}

#[test]
fn format_preserving_ints_below_seven_digits_fail() {
    for v in [0, 7, -7, 999_999, -999_999, 123_456, i64::MIN] {
        assert!(
            matches!(
                run(Technique::FormatPreserving, Value::Int(v)),
                Err(TechniqueError::UnsupportedValue { .. })
            ),
            "{v}"
        );
    }
    assert!(Technique::FormatPreserving.applies_to(&ColumnType::Int));
    assert!(!Technique::FormatPreserving.applies_to(&ColumnType::Decimal));
}

// ---------------------------------------------------------------- replacements

#[test]
fn percent_masks_with_a_replacement() {
    let first = |p, fill| Technique::MaskFirstPercentFill { p, fill };
    let last = |p, fill| Technique::MaskLastPercentFill { p, fill };
    assert_eq!(
        ok_text(first(30, Fill::Char('#')), "abcdefghij"),
        "###defghij"
    );
    assert_eq!(
        ok_text(last(30, Fill::Char('#')), "abcdefghij"),
        "abcdefg###"
    );
    // A text replaces the masked run once.
    assert_eq!(
        ok_text(first(30, Fill::Text("[x]".into())), "abcdefghij"),
        "[x]defghij"
    );
    assert_eq!(ok_text(last(34, Fill::Text("…".into())), "a-c"), "a…");
    assert_eq!(ok_text(last(100, Fill::Text("X".into())), "éé"), "X");
    // Null and empty give the stand-in of every partial technique.
    assert_eq!(ok(first(50, Fill::Char('#')), Value::Null), text("*******"));
    assert_eq!(ok_text(first(50, Fill::Char('#')), ""), "*******");
}

#[test]
fn show_first_and_last_with_a_replacement() {
    let last = |n, fill| Technique::ShowLastFill { n, fill };
    let first = |n, fill| Technique::ShowFirstFill { n, fill };
    assert_eq!(
        ok_text(last(4, Fill::Text("XXX-XX-".into())), "123-45-6789"),
        "XXX-XX-6789"
    );
    assert_eq!(
        ok_text(last(4, Fill::Char('#')), "555-867-5309"),
        "#######5309"
    );
    assert_eq!(
        ok_text(first(3, Fill::Text("…".into())), "555-867-5309"),
        "555…"
    );
    // n or fewer letters and digits: the stand-in alone.
    assert_eq!(
        ok_text(last(4, Fill::Text("hidden".into())), "12-34"),
        "hidden"
    );
    assert_eq!(ok_text(first(4, Fill::Char('#')), "1234"), "#######");
    assert_eq!(ok(last(4, Fill::Char('#')), Value::Null), text("*******"));
}

#[test]
fn digits_with_a_text_replacement() {
    let t = Technique::DigitsFill(Fill::Text("N".into()));
    assert_eq!(ok_text(t.clone(), "555-867-5309"), "N-N-N");
    assert_eq!(ok(t.clone(), Value::Int(-1234)), text("-N"));
    assert_eq!(ok(t.clone(), Value::Decimal(25.5)), text("N.N"));
    assert_eq!(ok_text(t.clone(), "A١٢B"), "ANB");
    assert_eq!(ok(t, Value::Null), Value::Null);
}

#[test]
fn replacements_are_validated() {
    for bad in [
        Technique::DigitsFill(Fill::Text("a1".into())),
        Technique::DigitsFill(Fill::Text(String::new())),
        Technique::MaskLastPercentFill {
            p: 10,
            fill: Fill::Text(String::new()),
        },
        Technique::ShowLastFill {
            n: 2,
            fill: Fill::Text(String::new()),
        },
        Technique::ShowLastFill {
            n: 0,
            fill: Fill::Char('#'),
        },
        Technique::MaskFirstPercentFill {
            p: 0,
            fill: Fill::Char('#'),
        },
    ] {
        assert!(
            matches!(bad.validate(), Err(TechniqueError::InvalidArgument { .. })),
            "{bad:?}"
        );
    }
}

/// Bundles made before replacements were checked still load: the checker refuses these now
/// (E0044), and they reveal nothing.
#[test]
fn older_replacements_still_load() {
    assert!(Technique::Digits('7').validate().is_ok());
    assert!(Technique::MaskFirst {
        n: 2,
        fill: Fill::Text(String::new()),
    }
    .validate()
    .is_ok());
}

#[test]
fn constant_text_on_dates() {
    let t = Technique::ConstantText("Date withheld".into());
    assert_eq!(
        ok(t.clone(), Value::Date(date(1988, 7, 14))),
        text("Date withheld")
    );
    assert_eq!(
        ok(t.clone(), Value::Timestamp(ts("2024-05-01T10:00:00Z"))),
        text("Date withheld")
    );
    assert_eq!(ok(t.clone(), Value::Null), Value::Null);
    assert!(matches!(
        run(t.clone(), text("x")),
        Err(TechniqueError::TypeMismatch { .. })
    ));
    assert!(t.applies_to(&ColumnType::Date));
    assert!(!t.applies_to(&ColumnType::Text));
}

// ---------------------------------------------------------------- buckets and `above`

fn buckets(edges: &[f64], labels: &[&str]) -> Technique {
    Technique::Buckets {
        edges: edges.to_vec(),
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
    }
}

#[test]
fn buckets_on_numbers_edges_belong_above() {
    let t = buckets(
        &[0.0, 5.0, 18.0, 65.0],
        &["under 5", "5-17", "18-64", "65 and over"],
    );
    let cases: [(Value, Value); 9] = [
        (Value::Int(-1), Value::Null),
        (Value::Int(0), text("under 5")),
        (Value::Int(4), text("under 5")),
        (Value::Int(5), text("5-17")),
        (Value::Int(17), text("5-17")),
        (Value::Int(18), text("18-64")),
        (Value::Int(65), text("65 and over")),
        (Value::Int(i64::MAX), text("65 and over")),
        (Value::Decimal(4.999), text("under 5")),
    ];
    for (v, want) in cases {
        assert_eq!(ok(t.clone(), v.clone()), want, "{v:?}");
    }
    assert_eq!(ok(t.clone(), Value::Decimal(-0.5)), Value::Null);
    assert_eq!(ok(t.clone(), Value::Null), Value::Null);
    assert!(run(t, Value::Decimal(f64::NAN)).is_err());
}

#[test]
fn buckets_on_dates_use_the_age() {
    let t = buckets(&[0.0, 18.0, 65.0], &["minor", "adult", "senior"]);
    // Clock 2026-01-01: born 2008-01-01 is 18, born 2008-01-02 is 17.
    assert_eq!(ok(t.clone(), Value::Date(date(2008, 1, 1))), text("adult"));
    assert_eq!(ok(t.clone(), Value::Date(date(2008, 1, 2))), text("minor"));
    assert_eq!(
        ok(t.clone(), Value::Timestamp(ts("1960-12-31T23:00:00Z"))),
        text("senior")
    );
    assert!(matches!(
        run(t, Value::Date(date(2027, 1, 1))),
        Err(TechniqueError::UnsupportedValue { .. })
    ));
}

#[test]
fn buckets_are_validated() {
    for bad in [
        buckets(&[], &[]),
        buckets(&[5.0, 5.0], &["a", "b"]),
        buckets(&[5.0, 1.0], &["a", "b"]),
        buckets(&[1.0, 2.0], &["a"]),
        buckets(&[1.0], &[""]),
        buckets(&[f64::INFINITY], &["a"]),
    ] {
        assert!(
            matches!(bad.validate(), Err(TechniqueError::InvalidArgument { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn above_max_shows_a_label() {
    let above = |technique: Technique| Technique::AboveMax {
        max: 70,
        above: "Over 70".into(),
        technique: Box::new(technique),
    };
    let age_range = above(Technique::AgeRange {
        size: 10,
        max: None,
    });
    assert_eq!(
        ok(age_range.clone(), Value::Date(date(1950, 1, 1))),
        text("Over 70")
    );
    // 69 on the clock's date, 70 the next day.
    assert_eq!(
        ok(age_range.clone(), Value::Date(date(1956, 1, 2))),
        text("60-70")
    );
    assert_eq!(
        ok(age_range.clone(), Value::Date(date(1956, 1, 1))),
        text("Over 70")
    );
    assert_eq!(ok(age_range.clone(), Value::Null), Value::Null);
    // A date after the clock has no age: never `above`, and age_range fails on it.
    assert!(run(age_range.clone(), Value::Date(date(2030, 1, 1))).is_err());
    assert_eq!(
        ok(
            above(Technique::YearOnly { max: None }),
            Value::Date(date(2030, 1, 1))
        ),
        text("2030")
    );
    assert_eq!(
        ok(
            above(Technique::MonthYear { max: None }),
            Value::Timestamp(ts("1940-03-01T00:00:00Z"))
        ),
        text("Over 70")
    );
    assert_eq!(age_range.name(), "age_range");
    for bad in [
        above(Technique::AgeRange {
            size: 10,
            max: Some(5),
        }),
        above(Technique::Redact),
        Technique::AboveMax {
            max: 0,
            above: "x".into(),
            technique: Box::new(Technique::YearOnly { max: None }),
        },
        Technique::AboveMax {
            max: 3,
            above: String::new(),
            technique: Box::new(Technique::YearOnly { max: None }),
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------- validation, keys, serde

#[test]
fn validation() {
    let bad = [
        Technique::ShowLast(0),
        Technique::ShowFirst(0),
        Technique::MaskFirst {
            n: 0,
            fill: Fill::default(),
        },
        Technique::MaskFirstPercent(0),
        Technique::MaskLastPercent(101),
        Technique::Initials {
            delimiter: Some(String::new()),
        },
        Technique::Regex {
            pattern: "(".into(),
            replacement: String::new(),
            global: false,
            ignore_case: false,
        },
        Technique::Range(0.0),
        Technique::Range(-1.0),
        Technique::Round(f64::NAN),
        Technique::Round(f64::INFINITY),
        Technique::AgeRange { size: 0, max: None },
        Technique::AgeRange {
            size: 10,
            max: Some(0),
        },
        Technique::YearOnly { max: Some(0) },
        Technique::DateFormat {
            pattern: "%Q".into(),
            max: None,
        },
        Technique::DateFormat {
            pattern: "%".into(),
            max: None,
        },
        Technique::Noise(0.0),
        Technique::Noise(f64::NAN),
        Technique::Randomize {
            rate: 1.5,
            domain: domain(),
        },
        Technique::Randomize {
            rate: f64::NAN,
            domain: domain(),
        },
        Technique::Randomize {
            rate: 0.5,
            domain: vec![],
        },
        Technique::Randomize {
            rate: 0.5,
            domain: vec!["a".into(), "a".into()],
        },
    ];
    for t in bad {
        assert!(
            matches!(t.validate(), Err(TechniqueError::InvalidArgument { .. })),
            "{t:?} should be rejected"
        );
        // Applying an invalid technique is an error too, never a panic.
        assert!(run(t, text("x")).is_err());
    }
    let good = [
        Technique::MaskFirstPercent(1),
        Technique::MaskLastPercent(100),
        Technique::DateFormat {
            pattern: "%d %B %Y".into(),
            max: Some(90),
        },
        Technique::Randomize {
            rate: 0.0,
            domain: vec!["a".into()],
        },
        Technique::Range(0.5),
    ];
    for t in good {
        assert_eq!(t.validate(), Ok(()), "{t:?} should be accepted");
    }
}

#[test]
fn needs_key() {
    assert!(Technique::Hash { global: true }.needs_key());
    assert!(Technique::Tokenize.needs_key());
    assert!(Technique::FormatPreserving.needs_key());
    assert!(Technique::Noise(1.0).needs_key());
    assert!(Technique::Randomize {
        rate: 0.1,
        domain: domain()
    }
    .needs_key());
    assert!(!Technique::Redact.needs_key());
    assert!(!Technique::Null.needs_key());
}

#[test]
fn applies_to_table() {
    use crate::value::ColumnType as T;
    let e = T::Enum(vec!["a".into()]);
    assert!(Technique::Hash { global: false }.applies_to(&T::Text));
    assert!(Technique::Hash { global: false }.applies_to(&e));
    assert!(!Technique::Hash { global: false }.applies_to(&T::Int));
    assert!(Technique::ShowLast(4).applies_to(&T::Text));
    assert!(!Technique::ShowLast(4).applies_to(&e));
    assert!(Technique::Range(10.0).applies_to(&T::Decimal));
    assert!(!Technique::Range(10.0).applies_to(&T::Date));
    assert!(Technique::Digits('*').applies_to(&T::Int));
    assert!(Technique::RoundTime(TimeUnit::Day).applies_to(&T::Timestamp));
    assert!(Technique::Noise(1.0).applies_to(&T::Date));
    assert!(!Technique::Noise(1.0).applies_to(&T::Text));
    assert!(Technique::Randomize {
        rate: 0.1,
        domain: vec![]
    }
    .applies_to(&e));
    assert!(!Technique::Randomize {
        rate: 0.1,
        domain: vec![]
    }
    .applies_to(&T::Text));
    assert!(Technique::Null.applies_to(&T::List(Box::new(T::Int))));
}

#[test]
fn serde_round_trip() {
    let all = vec![
        Technique::Null,
        Technique::Constant(Value::Date(date(2000, 1, 1))),
        Technique::Hash { global: true },
        Technique::MaskLast {
            n: 4,
            fill: Fill::Text("[Restricted]".into()),
        },
        Technique::RoundTime(TimeUnit::Month),
        Technique::Randomize {
            rate: 0.25,
            domain: domain(),
        },
        Technique::Regex {
            pattern: r"\d+$".into(),
            replacement: "XXX".into(),
            global: true,
            ignore_case: false,
        },
    ];
    let json = serde_json::to_string(&all).expect("serializes");
    let back: Vec<Technique> = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, all);
}

#[test]
fn error_messages() {
    assert_eq!(
        TechniqueError::TypeMismatch {
            technique: "redact",
            found: "int"
        }
        .to_string(),
        "`redact` does not apply to a value of type int"
    );
    assert_eq!(
        TechniqueError::MissingKey { technique: "hash" }.to_string(),
        "`hash` needs a masking key and the engine was given none"
    );
}

// ---------------------------------------------------------------- properties

fn arb_date() -> impl Strategy<Value = NaiveDate> {
    let lo = NaiveDate::MIN.num_days_from_ce();
    let hi = NaiveDate::MAX.num_days_from_ce();
    prop_oneof![
        (lo..=hi).prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()),
        (700_000i32..760_000)
            .prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()),
    ]
}

fn arb_timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    let lo = DateTime::<Utc>::MIN_UTC.timestamp();
    let hi = DateTime::<Utc>::MAX_UTC.timestamp();
    prop_oneof![lo..=hi, -5_000_000_000i64..5_000_000_000]
        .prop_flat_map(|s| (Just(s), 0u32..1_000_000_000))
        .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap_or_default())
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,24}",
        "[0-9 -]{0,20}",
        "[A-Za-z0-9@. -]{0,24}",
        Just(String::new()),
        Just("MD".to_owned()),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        prop_oneof![Just(i64::MIN), Just(i64::MAX), -1000i64..1000].prop_map(Value::Int),
        any::<f64>().prop_map(Value::Decimal),
        (-1e6f64..1e6).prop_map(Value::Decimal),
        arb_text().prop_map(Value::Text),
        arb_date().prop_map(Value::Date),
        arb_timestamp().prop_map(Value::Timestamp),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::List),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..3).prop_map(Value::Struct),
        ]
    })
}

fn arb_fill() -> impl Strategy<Value = Fill> {
    prop_oneof![
        any::<char>().prop_map(Fill::Char),
        "\\PC{0,5}".prop_map(Fill::Text)
    ]
}

fn arb_size() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        0.01f64..1000.0,
        Just(1e-300),
        Just(f64::MAX),
        Just(0.1)
    ]
}

fn arb_technique() -> impl Strategy<Value = Technique> {
    prop_oneof![
        Just(Technique::Null),
        arb_value().prop_map(Technique::Constant),
        any::<bool>().prop_map(|global| Technique::Hash { global }),
        Just(Technique::Redact),
        Just(Technique::Stars),
        any::<u32>().prop_map(Technique::ShowLast),
        (0u32..6).prop_map(Technique::ShowFirst),
        Just(Technique::EmailMask),
        (0u32..30, arb_fill()).prop_map(|(n, fill)| Technique::MaskFirst { n, fill }),
        (any::<u32>(), arb_fill()).prop_map(|(n, fill)| Technique::MaskLast { n, fill }),
        any::<u8>().prop_map(Technique::MaskFirstPercent),
        any::<u8>().prop_map(Technique::MaskLastPercent),
        proptest::option::of("\\PC{0,2}").prop_map(|delimiter| Technique::Initials { delimiter }),
        (
            prop_oneof![
                Just(r"\d+$".to_owned()),
                Just("(a)(?P<n>b)?".to_owned()),
                "\\PC{0,6}"
            ],
            prop_oneof![Just("$1${n}$$".to_owned()), "\\PC{0,6}"],
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(
                |(pattern, replacement, global, ignore_case)| Technique::Regex {
                    pattern,
                    replacement,
                    global,
                    ignore_case
                }
            ),
        arb_size().prop_map(Technique::Range),
        arb_size().prop_map(Technique::Round),
        prop_oneof![
            Just(TimeUnit::Minute),
            Just(TimeUnit::Hour),
            Just(TimeUnit::Day),
            Just(TimeUnit::Month),
            Just(TimeUnit::Year)
        ]
        .prop_map(Technique::RoundTime),
        any::<char>().prop_map(Technique::Digits),
        (0u32..200, proptest::option::of(any::<u32>()))
            .prop_map(|(size, max)| Technique::AgeRange { size, max }),
        proptest::option::of(any::<u32>()).prop_map(|max| Technique::YearOnly { max }),
        proptest::option::of(0u32..100).prop_map(|max| Technique::MonthYear { max }),
        (
            prop_oneof!["[%a-zA-Z0-9:./ +#_-]{0,12}", "\\PC{0,6}"],
            proptest::option::of(0u32..100)
        )
            .prop_map(|(pattern, max)| Technique::DateFormat { pattern, max }),
        arb_size().prop_map(Technique::Noise),
        (
            prop_oneof![any::<f64>(), 0.0f64..=1.0],
            prop::collection::vec(prop_oneof![Just("MD".to_owned()), "[A-Z]{0,2}"], 0..4)
        )
            .prop_map(|(rate, domain)| Technique::Randomize { rate, domain }),
        Just(Technique::Tokenize),
        Just(Technique::FormatPreserving),
        (0u8..=101, arb_fill()).prop_map(|(p, fill)| Technique::MaskFirstPercentFill { p, fill }),
        (0u8..=101, arb_fill()).prop_map(|(p, fill)| Technique::MaskLastPercentFill { p, fill }),
        (0u32..6, arb_fill()).prop_map(|(n, fill)| Technique::ShowFirstFill { n, fill }),
        (0u32..6, arb_fill()).prop_map(|(n, fill)| Technique::ShowLastFill { n, fill }),
        arb_fill().prop_map(Technique::DigitsFill),
        "\\PC{0,6}".prop_map(Technique::ConstantText),
        (
            prop::collection::vec(-100.0f64..100.0, 0..4),
            prop::collection::vec("[a-z]{0,3}", 0..4)
        )
            .prop_map(|(edges, labels)| Technique::Buckets { edges, labels }),
        (0u32..100, "[a-z]{0,3}", 0u32..20).prop_map(|(max, above, size)| Technique::AboveMax {
            max,
            above,
            technique: Box::new(Technique::AgeRange { size, max: None }),
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn apply_text_into_equals_apply(
        t in arb_technique(),
        s in "\\PC{0,12}|[a-z0-9.@ -]{0,16}",
        prefix in "[a-z]{0,3}",
    ) {
        let ctx = MaskContext::new("src", "col", DateTime::<Utc>::UNIX_EPOCH);
        let Ok(p) = t.prepare() else { return Ok(()) };
        let mut out = prefix.clone();
        if p.apply_text_into(&s, &mut out) {
            let want = p.apply(&Value::Text(s.clone()), &ctx);
            prop_assert_eq!(Ok(Value::Text(out[prefix.len()..].to_owned())), want);
        } else {
            prop_assert_eq!(out, prefix);
        }
    }

    #[test]
    fn apply_never_panics(
        t in arb_technique(),
        v in arb_value(),
        row in proptest::option::of(arb_value()),
        with_keys in any::<bool>(),
        clock in arb_timestamp(),
        source in "\\PC{0,6}",
    ) {
        let keys = ring();
        let mut ctx = MaskContext::new(&source, "col", clock);
        if let Some(row) = &row {
            ctx = ctx.with_row_key(row);
        }
        if with_keys {
            ctx = ctx.with_keys(&keys);
        }
        let result = t.apply(&v, &ctx);
        // Partial techniques never leave a null or an empty text unmasked.
        if t.validate().is_ok() && t.is_partial() && matches!(&v, Value::Null) {
            prop_assert_eq!(result, Ok(Value::Text(REDACTED.to_owned())));
        } else if t.validate().is_ok() && !t.is_partial() && v.is_null() {
            prop_assert_eq!(result, Ok(Value::Null));
        }
    }

    #[test]
    fn json_round_trip_never_panics(v in arb_value()) {
        let json = v.to_json();
        let _ = v.canonical_text();
        let _ = serde_json::to_string(&v);
        for ty in [crate::value::ColumnType::Text, crate::value::ColumnType::Date,
                   crate::value::ColumnType::Timestamp, crate::value::ColumnType::Decimal] {
            let _ = Value::from_json(&json, &ty);
        }
    }

    #[test]
    fn tokenize_round_trip(s in "\\PC{0,64}") {
        let keys = ring();
        let ctx = MaskContext::new("s", "c", now()).with_keys(&keys);
        match Technique::Tokenize.apply(&Value::Text(s.clone()), &ctx) {
            Ok(Value::Text(token)) => prop_assert_eq!(detokenize(&token, &keys), Ok(s)),
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn format_preserving_round_trip(s in "[A-Za-z0-9 .@-]{0,40}", column in "[a-z]{1,8}") {
        let keys = ring();
        let ctx = MaskContext::new("s", &column, now()).with_keys(&keys);
        match Technique::FormatPreserving.apply(&Value::Text(s.clone()), &ctx) {
            Ok(Value::Text(out)) => {
                prop_assert_eq!(out.len(), s.len());
                for (a, b) in s.chars().zip(out.chars()) {
                    prop_assert_eq!(a.is_ascii_digit(), b.is_ascii_digit());
                    prop_assert_eq!(a.is_ascii_uppercase(), b.is_ascii_uppercase());
                    prop_assert_eq!(a.is_ascii_lowercase(), b.is_ascii_lowercase());
                    if !a.is_ascii_alphanumeric() { prop_assert_eq!(a, b); }
                }
                prop_assert_eq!(format_preserving_decrypt(&out, "s", &column, &keys), Ok(s));
            }
            Err(TechniqueError::UnsupportedValue { .. }) => {}
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn stars_and_masks_keep_char_count(s in "\\PC{1,30}", n in 1u32..10) {
        let keys = ring();
        let ctx = MaskContext::new("s", "c", now()).with_keys(&keys);
        let count = s.chars().count();
        let stars = Technique::Stars.apply(&Value::Text(s.clone()), &ctx);
        prop_assert_eq!(stars, Ok(Value::Text("*".repeat(count))));
        let masked = Technique::MaskFirst { n, fill: Fill::default() }
            .apply(&Value::Text(s.clone()), &ctx);
        match masked {
            Ok(Value::Text(m)) => prop_assert_eq!(m.chars().count(), count),
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
