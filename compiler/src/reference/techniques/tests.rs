//! Known-answer tests of the reference's techniques: every expected output is computed by hand
//! from docs/language.md (the keyed ones by an independent Python script that follows the
//! documented derivations with Python's `hmac`, `hashlib` and `cryptography`, FF1 included:
//! `compiler/tests/data/technique_vectors.py`).

use chrono::{DateTime, NaiveDate, Utc};
use pol_runtime::value::Value;

use super::*;
use crate::model::{Const, TechArg, TechniqueUse, Ty};

/// The raw key of the keyed vectors (32 ASCII bytes).
const RAW: &[u8] = b"0123456789abcdef0123456789abcdef";

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn clock() -> DateTime<Utc> {
    ts("2026-01-01T00:00:00Z")
}

fn technique(name: &str, args: &[(&str, TechArg)]) -> TechniqueUse {
    TechniqueUse {
        name: name.to_string(),
        args: args
            .iter()
            .map(|(n, a)| (n.to_string(), a.clone()))
            .collect(),
        by_level: Vec::new(),
        loc: crate::source_map::Loc::new(
            crate::source_map::FileId(0),
            pol_grammar::Span::default(),
        ),
    }
}

fn int(i: i64) -> TechArg {
    TechArg::Int(i)
}

fn num(x: f64) -> TechArg {
    TechArg::Number(x)
}

fn word(w: &str) -> TechArg {
    TechArg::Word(w.to_string())
}

fn txt(s: &str) -> TechArg {
    TechArg::Text(s.to_string())
}

/// Applies `name(args)` to `v` in `customers.email`, row key 42, with the test key.
fn run_on(name: &str, args: &[(&str, TechArg)], ty: &Ty, v: Value) -> Option<Value> {
    let keys = Keys::derive(RAW).unwrap();
    let key = Value::Int(42);
    let cell = Cell {
        place: Place {
            source: "customers",
            column: "email",
            row_key: Some(&key),
        },
        ty,
        now: clock(),
        keys: Some(&keys),
    };
    apply(&technique(name, args), &v, &cell)
}

fn run(name: &str, args: &[(&str, TechArg)], v: Value) -> Option<Value> {
    run_on(name, args, &Ty::Text, v)
}

fn t(name: &str, args: &[(&str, TechArg)], v: &str) -> String {
    match run(name, args, text(v)) {
        Some(Value::Text(s)) => s,
        other => panic!("{name} on {v:?}: {other:?}"),
    }
}

// ---- nulls and constants ------------------------------------------------------------------

#[test]
fn null_and_constant() {
    assert_eq!(run("null", &[], text("x")), Some(Value::Null));
    let five = [("value", TechArg::Const(Const::Int(5)))];
    assert_eq!(
        run_on("constant", &five, &Ty::Int, Value::Int(9)),
        Some(Value::Int(5))
    );
    // An int constant on a decimal column is a decimal.
    assert_eq!(
        run_on("constant", &five, &Ty::Decimal, Value::Decimal(1.5)),
        Some(Value::Decimal(5.0))
    );
    // Null stays null for every technique that is not partial.
    assert_eq!(
        run_on("constant", &five, &Ty::Int, Value::Null),
        Some(Value::Null)
    );
    assert_eq!(run("stars", &[], Value::Null), Some(Value::Null));
    assert_eq!(run("hash", &[], Value::Null), Some(Value::Null));
}

// ---- partial masks ------------------------------------------------------------------------

#[test]
fn redact_and_stars() {
    assert_eq!(t("redact", &[], "Jenny"), "*******");
    assert_eq!(t("redact", &[], "a much longer value"), "*******");
    assert_eq!(t("stars", &[], "Jenny"), "*****");
    assert_eq!(t("stars", &[], "héllo wörld"), "***********");
}

#[test]
fn show_first_and_last() {
    assert_eq!(
        t("show_last", &[("n", int(4))], "555-867-5309"),
        "*******5309"
    );
    assert_eq!(
        t("show_first", &[("n", int(3))], "555-867-5309"),
        "555*******"
    );
    // Separators are dropped from what is shown.
    assert_eq!(
        t("show_last", &[("n", int(5))], "555-867-5309"),
        "*******75309"
    );
    // A value with n or fewer letters and digits shows nothing.
    assert_eq!(t("show_last", &[("n", int(10))], "555-867-5309"), "*******");
    assert_eq!(t("show_first", &[("n", int(4))], "a-b-c-d"), "*******");
    assert_eq!(t("show_first", &[("n", int(1))], "é-b"), "é*******");
}

#[test]
fn partial_techniques_turn_null_and_empty_into_stars() {
    for name in ["show_last", "show_first", "mask_first", "mask_last"] {
        assert_eq!(
            run(name, &[("n", int(2))], Value::Null),
            Some(text("*******"))
        );
        assert_eq!(t(name, &[("n", int(2))], ""), "*******");
    }
    for name in ["mask_first_percent", "mask_last_percent"] {
        assert_eq!(t(name, &[("p", int(50))], ""), "*******");
    }
    assert_eq!(run("email_mask", &[], Value::Null), Some(text("*******")));
    assert_eq!(t("initials", &[], ""), "*******");
}

#[test]
fn mask_first_and_last() {
    assert_eq!(
        t("mask_first", &[("n", int(5))], "123-45-6789"),
        "***-**-6789"
    );
    assert_eq!(
        t(
            "mask_last",
            &[("n", int(4)), ("text", txt("[Restricted]"))],
            "555-123-4567"
        ),
        "555-123-[Restricted]"
    );
    // One copy of the text per run of masked characters: a separator ends a run.
    assert_eq!(
        t(
            "mask_first",
            &[("n", int(5)), ("text", txt("X"))],
            "123-45-6789"
        ),
        "X-X-6789"
    );
    assert_eq!(
        t("mask_last", &[("n", int(2)), ("char", txt("#"))], "ab-cd"),
        "ab-##"
    );
    // More than the value has: all of its letters and digits.
    assert_eq!(t("mask_first", &[("n", int(20))], "ab-c"), "**-*");
    assert_eq!(t("mask_last", &[("n", int(1))], "x"), "*");
}

#[test]
fn mask_percent() {
    let p = |v| [("p", int(v))];
    assert_eq!(t("mask_first_percent", &p(30), "abcdefghij"), "***defghij");
    assert_eq!(t("mask_last_percent", &p(30), "abcdefghij"), "abcdefg***");
    // ⌈3·1/100⌉ = 1; characters of any kind count.
    assert_eq!(t("mask_first_percent", &p(1), "a-c"), "*-c");
    assert_eq!(t("mask_last_percent", &p(34), "a-c"), "a**");
    assert_eq!(t("mask_last_percent", &p(100), "a-c"), "***");
}

#[test]
fn initials() {
    assert_eq!(t("initials", &[], "John Smith"), "JS");
    assert_eq!(t("initials", &[], "Subject 3"), "S3");
    assert_eq!(t("initials", &[], "  ada   lovelace "), "al");
    assert_eq!(t("initials", &[], "   "), "*******");
    assert_eq!(
        t("initials", &[("delimiter", txt(","))], "Smith, John ,, Ann"),
        "SJA"
    );
    assert_eq!(t("initials", &[("delimiter", txt(","))], " , "), "*******");
}

// ---- email --------------------------------------------------------------------------------

#[test]
fn email_mask() {
    assert_eq!(t("email_mask", &[], "jenny@example.com"), "*******.com");
    // The domain follows the last `@`; its last dot-suffix is kept.
    assert_eq!(t("email_mask", &[], "a@b@mail.co.uk"), "*******.uk");
    assert_eq!(t("email_mask", &[], "nobody"), "*******");
    assert_eq!(t("email_mask", &[], "x@localhost"), "*******");
    assert_eq!(t("email_mask", &[], "x@host."), "*******");
    assert_eq!(t("email_mask", &[], "a.b.c"), "*******");
}

// ---- regex --------------------------------------------------------------------------------

#[test]
fn regex_replacement() {
    fn re(p: &str, r: &str, extra: &[&'static str]) -> Vec<(&'static str, TechArg)> {
        let mut args = vec![("pattern", txt(p)), ("replacement", txt(r))];
        for e in extra {
            args.push((*e, word(e)));
        }
        args
    }
    assert_eq!(
        t("regex", &re(r"\d+$", "XXX", &[]), "164.16.13.12"),
        "164.16.13.XXX"
    );
    assert_eq!(t("regex", &re(r"\d", "#", &[]), "a1b22"), "a#b22");
    assert_eq!(t("regex", &re(r"\d", "#", &["global"]), "a1b22"), "a#b##");
    assert_eq!(t("regex", &re("ab", "X", &["ignore_case"]), "xABy"), "xXy");
    assert_eq!(t("regex", &re("ab", "X", &[]), "xABy"), "xABy");
    assert_eq!(
        t("regex", &re(r"(\w+)@(\w+)", "$2 at $1", &[]), "jo@ex"),
        "ex at jo"
    );
    assert_eq!(
        t("regex", &re(r"(\d)", "${1}a$$", &["global"]), "x1"),
        "x1a$"
    );
    assert_eq!(run("regex", &re("(", "x", &[]), text("a")), None);
}

// ---- generalisation: ranges, rounding, digits ----------------------------------------------

#[test]
fn range() {
    let r = |v: Value, size: TechArg| run_on("range", &[("size", size)], &Ty::Int, v);
    assert_eq!(r(Value::Int(25), int(10)), Some(text("20-30")));
    assert_eq!(r(Value::Int(20), int(10)), Some(text("20-30")));
    assert_eq!(r(Value::Int(-5), int(10)), Some(text("-10-0")));
    assert_eq!(r(Value::Int(7), num(2.5)), Some(text("5-7.5")));
    // 0.3 / 0.1 is 2.9999999999999996 in binary: taken as 3.
    assert_eq!(r(Value::Decimal(0.3), num(0.1)), Some(text("0.3-0.4")));
    assert_eq!(r(Value::Decimal(2.75), num(0.5)), Some(text("2.5-3")));
    assert_eq!(r(Value::Decimal(-0.05), num(0.1)), Some(text("-0.1-0")));
    assert_eq!(
        r(Value::Decimal(1234.5), num(1000.0)),
        Some(text("1000-2000"))
    );
    // hi = 9223372036854775800 + 10 does not fit an int.
    assert_eq!(r(Value::Int(i64::MAX), int(10)), None);
}

#[test]
fn round_to_a_size() {
    let r = |v: Value, size: TechArg| run_on("round", &[("size", size)], &Ty::Int, v);
    assert_eq!(r(Value::Int(21), int(5)), Some(Value::Int(25)));
    assert_eq!(r(Value::Int(20), int(5)), Some(Value::Int(20)));
    assert_eq!(r(Value::Int(-21), int(5)), Some(Value::Int(-20)));
    assert_eq!(r(Value::Int(21), num(2.5)), None);
    assert_eq!(r(Value::Int(i64::MAX), int(10)), None);
    assert_eq!(r(Value::Decimal(0.21), num(0.1)), Some(Value::Decimal(0.3)));
    assert_eq!(r(Value::Decimal(0.3), num(0.1)), Some(Value::Decimal(0.3)));
    assert_eq!(r(Value::Decimal(21.5), int(5)), Some(Value::Decimal(25.0)));
    assert_eq!(
        r(Value::Decimal(-0.21), num(0.1)),
        Some(Value::Decimal(-0.2))
    );
}

#[test]
fn digits() {
    assert_eq!(t("digits", &[], "A12-7"), "A**-*");
    assert_eq!(t("digits", &[("char", txt("#"))], "tel ٣٤"), "tel ##");
    let d = |v: Value| run_on("digits", &[], &Ty::Int, v);
    assert_eq!(d(Value::Int(-42)), Some(text("-**")));
    assert_eq!(d(Value::Decimal(25.5)), Some(text("**.*")));
    assert_eq!(d(Value::Decimal(25.0)), Some(text("**.*")));
    assert_eq!(d(Value::Bool(true)), None);
}

// ---- dates --------------------------------------------------------------------------------

#[test]
fn ages() {
    assert_eq!(dates::age(date(1990, 6, 1), date(2026, 1, 1)), 35);
    assert_eq!(dates::age(date(1990, 1, 1), date(2026, 1, 1)), 36);
    // 29 February is reached on 1 March in a common year.
    assert_eq!(dates::age(date(2000, 2, 29), date(2026, 2, 28)), 25);
    assert_eq!(dates::age(date(2000, 2, 29), date(2026, 3, 1)), 26);
    assert_eq!(dates::age(date(2030, 1, 1), date(2026, 1, 1)), -4);
}

#[test]
fn age_range() {
    let a = |v: Value, args: &[(&str, TechArg)]| run_on("age_range", args, &Ty::Date, v);
    let born = Value::Date(date(1990, 6, 1));
    assert_eq!(a(born.clone(), &[("size", int(10))]), Some(text("30-40")));
    assert_eq!(a(born.clone(), &[("size", int(5))]), Some(text("35-40")));
    assert_eq!(
        a(born.clone(), &[("size", int(10)), ("max", int(36))]),
        Some(text("30-40"))
    );
    assert_eq!(
        a(born, &[("size", int(10)), ("max", int(35))]),
        Some(Value::Null)
    );
    let stamp = Value::Timestamp(ts("2016-01-01T23:59:59Z"));
    assert_eq!(a(stamp, &[("size", int(10))]), Some(text("10-20")));
    // A date after the clock has no age.
    assert_eq!(a(Value::Date(date(2030, 1, 1)), &[("size", int(10))]), None);
}

#[test]
fn year_month_and_format() {
    let d = Value::Date(date(1988, 7, 14));
    let on = |name: &str, args: &[(&str, TechArg)], v: Value| run_on(name, args, &Ty::Date, v);
    assert_eq!(on("year_only", &[], d.clone()), Some(text("1988")));
    assert_eq!(on("month_year", &[], d.clone()), Some(text("July 1988")));
    assert_eq!(
        on("year_only", &[("max", int(37))], d.clone()),
        Some(Value::Null)
    );
    assert_eq!(
        on("year_only", &[("max", int(38))], d.clone()),
        Some(text("1988"))
    );
    assert_eq!(
        on("month_year", &[("max", int(30))], d.clone()),
        Some(Value::Null)
    );
    // A future date is younger than any maximum.
    let future = Value::Date(date(2030, 12, 1));
    assert_eq!(
        on("month_year", &[("max", int(1))], future),
        Some(text("December 2030"))
    );
    let fmt = |p: &str| [("pattern", txt(p))];
    assert_eq!(
        on("date_format", &fmt("%m/%Y"), d.clone()),
        Some(text("07/1988"))
    );
    assert_eq!(
        on("date_format", &fmt("%d %B %y"), d.clone()),
        Some(text("14 July 88"))
    );
    // A date has no time.
    assert_eq!(on("date_format", &fmt("%H:%M"), d.clone()), None);
    let stamp = Value::Timestamp(ts("1988-07-14T13:45:07Z"));
    assert_eq!(
        on("date_format", &fmt("%H:%M"), stamp.clone()),
        Some(text("13:45"))
    );
    assert_eq!(on("month_year", &[], stamp), Some(text("July 1988")));
    assert_eq!(on("date_format", &fmt("%Q"), d), None);
}

#[test]
fn round_to_a_unit() {
    let r = |unit: &str, v: Value| run_on("round", &[("size", word(unit))], &Ty::Timestamp, v);
    let stamp = || Value::Timestamp(ts("2026-03-15T13:45:30.5Z"));
    let want = |s: &str| Some(Value::Timestamp(ts(s)));
    assert_eq!(r("minute", stamp()), want("2026-03-15T13:45:00Z"));
    assert_eq!(r("hour", stamp()), want("2026-03-15T13:00:00Z"));
    assert_eq!(r("day", stamp()), want("2026-03-15T00:00:00Z"));
    assert_eq!(r("month", stamp()), want("2026-03-01T00:00:00Z"));
    assert_eq!(r("year", stamp()), want("2026-01-01T00:00:00Z"));
    let day = Value::Date(date(2026, 3, 15));
    assert_eq!(r("month", day.clone()), Some(Value::Date(date(2026, 3, 1))));
    assert_eq!(r("year", day.clone()), Some(Value::Date(date(2026, 1, 1))));
    assert_eq!(r("day", day), Some(Value::Date(date(2026, 3, 15))));
}

// ---- hashing, key derivation, canonical text ------------------------------------------------

#[test]
fn key_derivation() {
    let keys = Keys::derive(RAW).unwrap();
    assert_eq!(keys.id, "aee9816e");
    assert!(Keys::derive(&RAW[..15]).is_none());
    assert!(Keys::derive(&RAW[..16]).is_some());
}

#[test]
fn hash() {
    assert_eq!(
        t("hash", &[], "jenny@example.com"),
        "cdf94876b8f39785ae13a464fc3980234edc1397d958081cd8c00c1b5717a3c4"
    );
    assert_eq!(
        t("hash", &[("scope", word("source"))], "jenny@example.com"),
        "cdf94876b8f39785ae13a464fc3980234edc1397d958081cd8c00c1b5717a3c4"
    );
    assert_eq!(
        t("hash", &[("scope", word("global"))], "jenny@example.com"),
        "92a7314fc206c36ed93201f82f24d4cc3e0190e1da8f37eb92aed03c7849827d"
    );
    // A non-text value is hashed by its canonical text.
    assert_eq!(
        run_on("hash", &[], &Ty::Int, Value::Int(42)),
        Some(text(
            "d9b9c2a8a4130118ba8fb45fb78377f60acaafcb1d104576f98631d2d2bfd235"
        ))
    );
}

#[test]
fn keyed_techniques_without_a_key_fail() {
    let cell = Cell {
        place: Place {
            source: "s",
            column: "c",
            row_key: None,
        },
        ty: &Ty::Text,
        now: clock(),
        keys: None,
    };
    for name in ["hash", "tokenize", "format_preserving"] {
        assert_eq!(
            apply(&technique(name, &[]), &text("4111111111"), &cell),
            None
        );
    }
}

#[test]
fn canonical_texts() {
    assert_eq!(canonical_text(&Value::Int(-42)), "-42");
    assert_eq!(canonical_text(&Value::Decimal(25.0)), "25.0");
    assert_eq!(canonical_text(&Value::Decimal(0.1)), "0.1");
    assert_eq!(canonical_text(&Value::Decimal(1e20)), "1e+20");
    assert_eq!(canonical_text(&Value::Bool(false)), "false");
    assert_eq!(
        canonical_text(&Value::Date(date(1988, 7, 14))),
        "1988-07-14"
    );
    assert_eq!(
        canonical_text(&Value::Timestamp(ts("2026-01-01T00:00:00.5+01:00"))),
        "2025-12-31T23:00:00.500Z"
    );
    assert_eq!(
        canonical_text(&Value::Timestamp(ts("2026-01-01T00:00:00Z"))),
        "2026-01-01T00:00:00Z"
    );
}

// ---- noise and randomize ------------------------------------------------------------------

fn at<'a>(source: &'a str, column: &'a str, key: &'a Value) -> Place<'a> {
    Place {
        source,
        column,
        row_key: Some(key),
    }
}

#[test]
fn noise() {
    let keys = Keys::derive(RAW).unwrap();
    let k42 = Value::Int(42);
    let k7 = Value::Int(7);
    // u = 0.26178407862078384 → x = 1000·ln(2u) = -647.0880618423644 → -647.
    let salary = at("people", "salary", &k42);
    assert_eq!(
        noise::noise(&keys, &salary, &Value::Int(52000), 1000.0),
        Some(Value::Int(51353))
    );
    assert_eq!(
        noise::noise(&keys, &salary, &Value::Decimal(52000.5), 1000.0),
        Some(Value::Decimal(52000.5 + -647.088_061_842_364_4))
    );
    // u = 0.9105479054811889 ≥ ½ → x = -1000·ln(2(1-u)) = 1720.9048732154865 → 1721.
    let other = at("people", "salary", &k7);
    assert_eq!(
        noise::noise(&keys, &other, &Value::Int(52000), 1000.0),
        Some(Value::Int(53721))
    );
    // x = 52.284337880689144: 52 days, or 52 seconds.
    let born = at("people", "born", &k42);
    assert_eq!(
        noise::noise(&keys, &born, &Value::Date(date(1990, 6, 1)), 30.0),
        Some(Value::Date(date(1990, 7, 23)))
    );
    assert_eq!(
        noise::noise(
            &keys,
            &born,
            &Value::Timestamp(ts("2026-01-01T00:00:00.25Z")),
            30.0
        ),
        Some(Value::Timestamp(ts("2026-01-01T00:00:52.25Z")))
    );
    // Out of range, no row key, a null row key, a text: fail.
    assert_eq!(
        noise::noise(&keys, &other, &Value::Int(i64::MAX), 1000.0),
        None
    );
    let keyless = Place {
        source: "people",
        column: "salary",
        row_key: None,
    };
    assert_eq!(noise::noise(&keys, &keyless, &Value::Int(1), 1.0), None);
    assert_eq!(
        noise::noise(&keys, &at("p", "s", &Value::Null), &Value::Int(1), 1.0),
        None
    );
    assert_eq!(noise::noise(&keys, &salary, &text("1"), 1.0), None);
}

#[test]
fn randomize() {
    let keys = Keys::derive(RAW).unwrap();
    let domain: Vec<String> = ["MD", "VA", "DE", "PA"].map(String::from).to_vec();
    let three = &domain[..3];
    let key = |k: i64| Value::Int(k);
    let (k1, k2, k5) = (key(1), key(2), key(5));
    let r = |k: &Value, rate: f64, d: &[String]| {
        noise::randomize(&keys, &at("visits", "state", k), "MD", rate, d)
    };
    // Row 1: u = 0.1403, w₁ mod 2 = 0, w₁ mod 3 = 1.
    assert_eq!(r(&k1, 0.2, three), Some(text("VA")));
    assert_eq!(r(&k1, 0.2, &domain), Some(text("DE")));
    assert_eq!(r(&k1, 0.14, three), Some(text("MD")));
    // Row 2: u = 0.5674.
    assert_eq!(r(&k2, 0.2, three), Some(text("MD")));
    assert_eq!(r(&k2, 0.6, three), Some(text("VA")));
    // Row 5: u = 0.5594, w₁ mod 3 = 2.
    assert_eq!(r(&k5, 0.6, &domain), Some(text("PA")));
    assert_eq!(r(&k5, 1.0, &domain[..1]), Some(text("MD")));
    // Outside the domain: fail.
    assert_eq!(
        noise::randomize(&keys, &at("v", "s", &k1), "XX", 1.0, three),
        None
    );
}

// ---- tokens and format-preserving encryption ----------------------------------------------------

#[test]
fn tokenize() {
    assert_eq!(
        t("tokenize", &[], "4111 1111 1111 1111"),
        "tok_aee9816e_abuz3pCWH2IG5ZZzUy9TbAIkfX5y6q51mvIteYUNxOEmGE4"
    );
}

#[test]
fn format_preserving() {
    let keys = Keys::derive(RAW).unwrap();
    let fpe = |s: &str, c: &str, v: &str| tokens::format_preserving(&keys, s, c, v);
    assert_eq!(
        fpe("payments", "card", "4111-1111-1111-1111").as_deref(),
        Some("7342-8191-3070-0807")
    );
    // One mixed-radix domain of 26²·10⁶ values: letters stay letters, case kept.
    assert_eq!(
        fpe("people", "ref", "AB-123456").as_deref(),
        Some("TB-425187")
    );
    // 26³·10³ values; this one needs a second encryption (cycle walking).
    assert_eq!(fpe("people", "ref", "Zx9-81q").as_deref(), Some("Wu9-59d"));
    // Fewer than 10⁶ values, a non-ASCII letter: fail.
    assert_eq!(fpe("people", "ref", "12345"), None);
    assert_eq!(fpe("people", "ref", "é1234567"), None);
}

/// Ints keep their sign and digit count (known answers from `technique_vectors.py`'s `fpe_int`).
#[test]
fn format_preserving_ints() {
    let keys = Keys::derive(RAW).unwrap();
    let fpe = |v: i64| tokens::format_preserving_int(&keys, "payments", "account", v);
    // Three encryptions (cycle walking below 9·10⁹).
    assert_eq!(fpe(5_320_130_001), Some(1_670_145_511));
    assert_eq!(fpe(-1_234_567), Some(-7_685_719));
    // 19 digits stop at 2⁶³ − 1.
    assert_eq!(fpe(i64::MAX), Some(1_670_033_828_148_520_069));
    assert_eq!(
        fpe(1_000_000_000_000_000_000),
        Some(7_476_791_987_079_213_417)
    );
    // Fewer than 7 digits, and i64::MIN: fail.
    assert_eq!(fpe(999_999), None);
    assert_eq!(fpe(-5), None);
    assert_eq!(fpe(0), None);
    assert_eq!(fpe(i64::MIN), None);
}
