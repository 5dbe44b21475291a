//! The binary format and the verifier.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use engine_support::*;
use pol_runtime::bundle::format::{HEADER_LEN, MAX_NESTING};
use pol_runtime::bundle::verify::Table;
use pol_runtime::bundle::{
    Bundle, BundleError, RowAudience, RowFilter, TechniquePlan, VerifyError, FORMAT_VERSION,
};
use pol_runtime::program::{Op, Program, StackError, MAX_STACK};
use pol_runtime::{ColumnType as T, Engine, Technique, Value};
use proptest::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};

/// A small bundle using most features.
fn sample() -> B {
    let mut b = B::new();
    b.b.levels = vec!["High".into(), "Low".into()];
    b.purpose("Research.Marketing");
    let clearance = b.subject_field("clearance", T::Int);
    let s = b.source(
        "customers",
        &[
            ("id", T::Int),
            ("country", T::Text),
            ("ssn", T::Text),
            (
                "patient",
                T::Struct(vec![("name".into(), T::Text), ("age".into(), T::Int)]),
            ),
            ("created", T::Timestamp),
            ("lvl", T::Text),
        ],
    );
    b.expand_struct(s, "patient");
    b.src(s).key_column = Some(0);
    b.src(s).event_time_column = Some(4);
    b.level(s, 1, Some("lvl"));
    let hash = b.tech(Technique::Hash { global: false });
    let null = b.tech(Technique::Null);
    let initials = b.tech(Technique::Initials { delimiter: None });
    let lvl = b.by_level(&[(0, null), (1, initials)]);
    let us = b.prog(eq(col(1), text("US")));
    let admins = b.prog(in_group("admins"));
    let research = b.prog(E::ActingUnder("Research".into()));
    let cleared = b.prog(lt(int(2), E::UserField(clearance)));
    let r1 = b.rule("hash_us_ssn");
    let r2 = b.rule("null_pii");
    let r3 = b.rule("names");
    b.add_candidate(s, "ssn", r1, Some(us), except(admins, hash));
    b.add_candidate(s, "ssn", r2, None, everyone(null));
    b.add_candidate(
        s,
        "patient.name",
        r3,
        None,
        who(&[(research, lvl)], Some(Some(null))),
    );
    b.derived(
        s,
        "upper",
        T::Text,
        E::Un(Op::Upper, Box::new(col(1))),
        &["country"],
    );
    let r4 = b.rule("recent");
    b.row_rule(
        s,
        r4,
        RowFilter::NewerThan(86_400 * 365),
        RowAudience::Except(cleared),
    );
    let r5 = b.rule("sample");
    b.row_rule(s, r5, RowFilter::Sample(50.0), RowAudience::Everyone);
    let auditors = b.prog(in_group("auditors"));
    b.src(s).exempts.push(auditors);
    b
}

fn reseal(bytes: &mut [u8]) {
    let body_len = (bytes.len() - HEADER_LEN) as u32;
    bytes[6..10].copy_from_slice(&body_len.to_le_bytes());
    let digest = Sha256::digest(&bytes[HEADER_LEN..]);
    bytes[10..HEADER_LEN].copy_from_slice(&digest);
}

#[test]
fn round_trip() {
    let b = sample();
    let bytes = b.b.to_bytes().unwrap();
    assert_eq!(&bytes[..4], b"POLB");
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), FORMAT_VERSION);
    let back = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(back, b.b);
    assert_eq!(back.to_bytes().unwrap(), bytes);
}

#[test]
fn truncated_at_every_length() {
    let bytes = sample().b.to_bytes().unwrap();
    for n in 0..bytes.len() {
        match Bundle::from_bytes(&bytes[..n]) {
            Err(BundleError::Truncated { found, .. }) => assert_eq!(found, n),
            other => panic!("length {n}: {other:?}"),
        }
    }
}

#[test]
fn foreign_future_and_old_versions() {
    let bytes = sample().b.to_bytes().unwrap();
    let mut foreign = bytes.clone();
    foreign[0] = b'X';
    assert!(matches!(
        Bundle::from_bytes(&foreign),
        Err(BundleError::ForeignMagic { .. })
    ));
    assert!(matches!(
        Bundle::from_bytes(b"{\"json\": 1}"),
        Err(BundleError::ForeignMagic { .. })
    ));
    assert!(matches!(
        Bundle::from_bytes(b"PO"),
        Err(BundleError::Truncated { .. })
    ));
    assert!(matches!(
        Bundle::from_bytes(b"PX"),
        Err(BundleError::ForeignMagic { .. })
    ));

    let mut future = bytes.clone();
    future[4..6].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let err = Bundle::from_bytes(&future).unwrap_err();
    assert_eq!(
        err,
        BundleError::FutureVersion {
            found: FORMAT_VERSION + 1,
            supported: FORMAT_VERSION
        }
    );
    assert!(
        err.to_string().contains("newer than this runtime reads"),
        "{err}"
    );
    let mut old = bytes.clone();
    old[4..6].copy_from_slice(&0u16.to_le_bytes());
    assert!(matches!(
        Bundle::from_bytes(&old),
        Err(BundleError::UnsupportedVersion { found: 0, .. })
    ));

    // A bundle written as a future version by to_bytes is refused too.
    let mut b = sample().b;
    b.format_version = 7;
    assert!(matches!(
        Bundle::from_bytes(&b.to_bytes().unwrap()),
        Err(BundleError::FutureVersion { found: 7, .. })
    ));
}

#[test]
fn corrupted_and_trailing_bytes() {
    let bytes = sample().b.to_bytes().unwrap();
    for at in [HEADER_LEN, HEADER_LEN + 10, bytes.len() - 1, 12] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x40;
        assert_eq!(
            Bundle::from_bytes(&bad),
            Err(BundleError::ChecksumMismatch),
            "at {at}"
        );
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"junk");
    assert_eq!(
        Bundle::from_bytes(&longer),
        Err(BundleError::TrailingBytes { extra: 4 })
    );
    // Garbage with a valid checksum: decodes badly.
    let mut garbage = bytes[..HEADER_LEN].to_vec();
    garbage.extend_from_slice(&[0xff; 40]);
    reseal(&mut garbage);
    assert!(matches!(
        Bundle::from_bytes(&garbage),
        Err(BundleError::Malformed(_))
    ));
    // A valid body followed by extra bytes inside the checksummed length.
    let mut extra = bytes.clone();
    extra.push(0);
    reseal(&mut extra);
    assert!(matches!(
        Bundle::from_bytes(&extra),
        Err(BundleError::Malformed(_))
    ));
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let mut b = Bundle::new();
    let mut ty = T::Int;
    for _ in 0..3 {
        ty = T::List(Box::new(ty));
    }
    b.subject_fields.push(("deep".into(), ty));
    let bytes = b.to_bytes().unwrap();
    assert!(Bundle::from_bytes(&bytes).is_ok());
    // `List` is variant 7 and `Int` variant 1: splice a million levels in.
    let pattern = [7u8, 7, 7, 1];
    let at = HEADER_LEN
        + bytes[HEADER_LEN..]
            .windows(4)
            .position(|w| w == pattern)
            .expect("pattern");
    let mut deep = bytes[..at].to_vec();
    deep.extend(std::iter::repeat_n(7u8, 1_000_000));
    deep.extend_from_slice(&bytes[at + 3..]);
    reseal(&mut deep);
    assert_eq!(Bundle::from_bytes(&deep), Err(BundleError::TooDeep));
    // Also through constants (Value::List is variant 7 too).
    let mut nested = Value::Int(1);
    for _ in 0..(MAX_NESTING + 5) {
        nested = Value::List(vec![nested]);
    }
    let mut b = Bundle::new();
    b.programs
        .push(Program::new(vec![Op::Const(0)], vec![nested]));
    assert_eq!(
        Bundle::from_bytes(&b.to_bytes().unwrap()),
        Err(BundleError::TooDeep)
    );
}

fn invalid(b: &Bundle) -> VerifyError {
    match Bundle::from_bytes(&b.to_bytes().unwrap()) {
        Err(BundleError::Invalid(e)) => {
            assert!(!e.to_string().is_empty());
            e
        }
        other => panic!("expected a verifier error, got {other:?}"),
    }
}

fn bad_index(e: VerifyError) -> (Table, u32) {
    match e {
        VerifyError::BadIndex { table, index, .. } => (table, index),
        other => panic!("expected a bad index, got {other:?}"),
    }
}

#[test]
fn verifier_rejects_bad_indices() {
    let base = sample().b;
    assert!(base.verify().is_ok());

    let mut b = base.clone();
    b.sources[0].columns[2].candidates[0].where_ = Some(99);
    assert_eq!(bad_index(invalid(&b)), (Table::Program, 99));

    let mut b = base.clone();
    b.sources[0].columns[2].candidates[1].body.clauses[0].1 = 42;
    assert_eq!(bad_index(invalid(&b)), (Table::Technique, 42));

    let mut b = base.clone();
    b.sources[0].columns[2].candidates[1].rule = 17;
    assert_eq!(bad_index(invalid(&b)), (Table::Rule, 17));

    let mut b = base.clone();
    b.programs[0].code[0] = Op::Column(50);
    assert_eq!(bad_index(invalid(&b)), (Table::Column, 50));

    let mut b = base.clone();
    b.programs[1].code[0] = Op::InGroup(77);
    assert_eq!(bad_index(invalid(&b)), (Table::String, 77));

    let mut b = base.clone();
    b.programs[2].code[0] = Op::ActingUnder(9);
    assert_eq!(bad_index(invalid(&b)), (Table::Purpose, 9));

    let mut b = base.clone();
    b.programs[0].code[1] = Op::Const(8);
    assert_eq!(bad_index(invalid(&b)), (Table::Constant, 8));

    let mut b = base.clone();
    b.programs[3].code[1] = Op::UserField(4);
    assert_eq!(bad_index(invalid(&b)), (Table::SubjectField, 4));

    let mut b = base.clone();
    b.techniques[3] = TechniquePlan::ByLevel {
        entries: vec![(0, 1), (5, 2)],
    };
    assert_eq!(bad_index(invalid(&b)), (Table::Level, 5));

    let mut b = base.clone();
    b.sources[0].key_column = Some(100);
    assert_eq!(bad_index(invalid(&b)), (Table::Column, 100));

    let mut b = base.clone();
    b.sources[0].level = Some(pol_runtime::bundle::LevelPlan {
        default: 3,
        column: None,
    });
    assert_eq!(bad_index(invalid(&b)), (Table::Level, 3));

    let mut b = base.clone();
    b.programs.push(Program::new(
        vec![Op::Const(0), Op::Matches(3)],
        vec![Value::Text("x".into())],
    ));
    assert_eq!(bad_index(invalid(&b)), (Table::Regex, 3));
}

fn bad_program(b: &mut Bundle, code: Vec<Op>) -> StackError {
    let consts = vec![Value::Bool(true)];
    b.programs.push(Program::new(code, consts));
    match invalid(b) {
        VerifyError::BadProgram { error, .. } => error,
        other => panic!("expected a program error, got {other:?}"),
    }
}

#[test]
fn verifier_rejects_bad_programs() {
    let base = sample().b;
    let c = Op::Const(0);
    assert!(matches!(
        bad_program(&mut base.clone(), vec![c, Op::Jump(0)]),
        StackError::BadJump { pc: 1, target: 0 }
    ));
    assert!(matches!(
        bad_program(&mut base.clone(), vec![c, Op::Jump(1)]),
        StackError::BadJump { .. }
    ));
    assert!(matches!(
        bad_program(&mut base.clone(), vec![c, Op::JumpIfTrue(9)]),
        StackError::BadJump { target: 9, .. }
    ));
    assert!(matches!(
        bad_program(
            &mut base.clone(),
            vec![c, Op::Branch { else_: 3, end: 0 }, c]
        ),
        StackError::BadJump { .. }
    ));
    let deep = vec![c; MAX_STACK as usize + 1];
    assert!(matches!(
        bad_program(&mut base.clone(), deep),
        StackError::Overflow { .. }
    ));
    assert!(matches!(
        bad_program(&mut base.clone(), vec![c, Op::Eq]),
        StackError::Underflow { pc: 1 }
    ));
    assert!(matches!(
        bad_program(&mut base.clone(), vec![c, c]),
        StackError::BadResult { depth: 2 }
    ));
    assert!(matches!(
        bad_program(&mut base.clone(), vec![]),
        StackError::Empty
    ));
    assert!(matches!(
        bad_program(&mut base.clone(), vec![c, Op::Concat(0)]),
        StackError::BadArity { .. }
    ));
    // Two paths reach op 3 with different depths: [c] jumps with 1, falls through with 2.
    assert!(matches!(
        bad_program(&mut base.clone(), vec![c, Op::JumpIfFalse(3), c, Op::Not]),
        StackError::Mismatch { .. }
    ));
    // A deep but legal program passes.
    let mut ok = vec![c; MAX_STACK as usize];
    ok.extend(vec![Op::And; MAX_STACK as usize - 1]);
    let mut b = base.clone();
    b.programs.push(Program::new(ok, vec![Value::Bool(true)]));
    assert!(b.verify().is_ok());
}

#[test]
fn verifier_checks_program_contexts() {
    let base = sample().b;
    // A lying user_only flag.
    let mut b = base.clone();
    b.programs[0].user_only = true;
    assert!(matches!(
        invalid(&b),
        VerifyError::UserOnlyFlag {
            program: 0,
            declared: true
        }
    ));
    // A row program as an exempt condition.
    let mut b = base.clone();
    b.sources[0].exempts.push(0);
    assert!(matches!(
        invalid(&b),
        VerifyError::BadContext { program: 0, .. }
    ));
    // A row program as `visible if`.
    let mut b = base.clone();
    b.sources[0].columns[1].visible = Some(0);
    assert!(matches!(
        invalid(&b),
        VerifyError::BadContext { program: 0, .. }
    ));
    // `value` outside an expr technique.
    let mut b = base.clone();
    b.programs
        .push(Program::new(vec![Op::Value, Op::Has], vec![]));
    let p = (b.programs.len() - 1) as u32;
    b.sources[0].columns[2].candidates[0].where_ = Some(p);
    assert!(matches!(invalid(&b), VerifyError::BadContext { .. }));
    // …but fine inside one.
    let mut b = base.clone();
    b.programs.push(Program::new(vec![Op::Value], vec![]));
    let p = (b.programs.len() - 1) as u32;
    b.techniques.push(TechniquePlan::Expr { program: p });
    let t = (b.techniques.len() - 1) as u32;
    b.sources[0].columns[2].candidates[1].body.clauses[0].1 = t;
    assert!(b.verify().is_ok());
}

#[test]
fn verifier_checks_techniques_and_regexes() {
    let base = sample().b;
    let mut b = base.clone();
    b.techniques[1] = TechniquePlan::Builtin(Technique::ShowLast(0));
    assert!(matches!(
        invalid(&b),
        VerifyError::BadTechnique { technique: 1, .. }
    ));
    let mut b = base.clone();
    b.techniques.push(TechniquePlan::Builtin(Technique::Regex {
        pattern: "(".into(),
        replacement: "x".into(),
        global: false,
        ignore_case: false,
    }));
    assert!(matches!(invalid(&b), VerifyError::BadTechnique { .. }));
    let mut b = base.clone();
    b.techniques[3] = TechniquePlan::ByLevel {
        entries: vec![(1, 2)],
    };
    assert!(matches!(
        invalid(&b),
        VerifyError::BadTechnique { technique: 3, .. }
    ));
    let mut b = base.clone();
    b.techniques[3] = TechniquePlan::ByLevel {
        entries: vec![(0, 3)],
    };
    assert!(matches!(
        invalid(&b),
        VerifyError::BadTechnique { technique: 3, .. }
    ));
    let mut b = base.clone();
    b.regexes.push("a{99999999}".into());
    assert!(matches!(
        invalid(&b),
        VerifyError::BadRegex { index: 0, .. }
    ));
}

fn structure(b: &Bundle) -> String {
    match invalid(b) {
        VerifyError::Structure { message, .. } => message,
        other => panic!("expected a structure error, got {other:?}"),
    }
}

#[test]
fn verifier_checks_structure() {
    let base = sample().b;
    // Derived reads omit a column the program reads.
    let mut b = base.clone();
    let up = b.sources[0]
        .columns
        .iter()
        .position(|c| c.name == "upper")
        .unwrap();
    b.sources[0].columns[up]
        .derived
        .as_mut()
        .unwrap()
        .reads
        .clear();
    assert!(structure(&b).contains("omits"));
    // Derived cycle.
    let mut b = base.clone();
    b.sources[0].columns[up]
        .derived
        .as_mut()
        .unwrap()
        .reads
        .push(up as u32);
    assert!(matches!(invalid(&b), VerifyError::DerivedCycle { .. }));
    let mut b = sample();
    b.derived(0, "d1", T::Text, text("x"), &[]);
    b.derived(0, "d2", T::Text, text("y"), &["d1"]);
    let d1 = b.col_index(0, "d1");
    let d2 = b.col_index(0, "d2");
    b.b.sources[0].columns[d1 as usize]
        .derived
        .as_mut()
        .unwrap()
        .reads
        .push(d2);
    assert!(matches!(invalid(&b.b), VerifyError::DerivedCycle { .. }));
    // Struct fields that do not match the type.
    let mut b = base.clone();
    let name = b.sources[0]
        .columns
        .iter()
        .position(|c| c.name == "name")
        .unwrap();
    b.sources[0].columns[name].name = "nom".into();
    assert!(structure(&b).contains("does not match"));
    let mut b = base.clone();
    b.sources[0].columns.remove(name);
    for c in &mut b.sources[0].columns {
        if let Some(d) = &mut c.derived {
            d.reads = vec![1];
        }
    }
    assert!(structure(&b).contains("fields"));
    // A parent after its child.
    let mut b = base.clone();
    b.sources[0].columns[name].parent = Some(20);
    assert!(structure(&b).contains("does not come before"));
    // Time filter without event_time; sample without key; sample out of range.
    let mut b = base.clone();
    b.sources[0].event_time_column = None;
    assert!(structure(&b).contains("event_time"));
    let mut b = base.clone();
    b.sources[0].key_column = None;
    assert!(structure(&b).contains("key"));
    let mut b = base.clone();
    b.sources[0].row_rules[1].filter = RowFilter::Sample(101.0);
    assert!(structure(&b).contains("percentage"));
    // `who` clauses without otherwise; two `everyone` clauses.
    let mut b = base.clone();
    b.sources[0].columns[name].candidates[0].body.otherwise = None;
    assert!(structure(&b).contains("audience"));
    let mut b = base.clone();
    b.sources[0].columns[2].candidates[1]
        .body
        .clauses
        .push((pol_runtime::bundle::Audience::Everyone, 1));
    assert!(structure(&b).contains("audience"));
    // Duplicate source and column names; event_time of the wrong type.
    let mut b = base.clone();
    b.sources.push(b.sources[0].clone());
    assert!(structure(&b).contains("two sources"));
    let mut b = base.clone();
    b.sources[0].columns[1].name = "id".into();
    assert!(structure(&b).contains("two columns"));
    let mut b = base.clone();
    b.sources[0].event_time_column = Some(1);
    assert!(structure(&b).contains("timestamp"));
    // Purposes must list parents first.
    let mut b = base.clone();
    b.purposes[0].parent = Some(1);
    assert!(structure(&b).contains("parent"));
}

#[test]
fn engine_load_reports_bundle_errors() {
    let err = Engine::load(b"nope", Some(key_ring())).unwrap_err();
    assert!(err.to_string().starts_with("not a Pol bundle"), "{err}");
    let e = sample().engine();
    let session = e.session(&json!({"groups": ["auditors"]}), t0()).unwrap();
    assert!(session.source("customers").unwrap().is_exempt());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Bundle::from_bytes(&bytes);
        let mut with_magic = b"POLB\x01\x00".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = Bundle::from_bytes(&with_magic);
    }

    #[test]
    fn mutated_bundles_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = sample().b.to_bytes().unwrap();
        let body_len = bytes.len() - HEADER_LEN;
        for (i, v) in &edits {
            let at = HEADER_LEN + i.index(body_len);
            bytes[at] = *v;
        }
        if truncate {
            let keep = HEADER_LEN + cut.index(body_len);
            bytes.truncate(keep);
        }
        // Reseal so that the mutation reaches the decoder and the verifier.
        reseal(&mut bytes);
        if let Ok(engine) = Engine::load(&bytes, Some(key_ring())) {
            // Whatever loads must also mask without panicking.
            let session = engine.session(&json!({"groups": ["admins"], "clearance": 3}), t0()).unwrap();
            for name in engine.source_names().map(str::to_owned).collect::<Vec<_>>() {
                let src = session.source(&name).unwrap();
                let row = json!({"id": 1, "country": "US", "ssn": "1", "patient": {"name": "A B", "age": 3}, "created": "2025-12-01T00:00:00Z", "lvl": "Low"});
                let row = row.as_object().unwrap();
                let _ = src.mask_json(row);
                let _ = src.explain(row);
            }
        }
    }
}
