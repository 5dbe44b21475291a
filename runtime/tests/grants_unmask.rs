//! Temporary unmask (§7): who may ask, what a grant reveals to whom, expiry, persistence,
//! auditing, and the grants table's verification.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::engine_support;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use engine_support::*;
use pol_runtime::audit::{
    AuditAction, AuditError, AuditRecord, AuditSink, FileSink, MemorySink, RequestKind,
};
use pol_runtime::bundle::{
    GrantAudience, GrantKind, GrantPlan, RowAudience, RowFilter, VerifyError,
};
use pol_runtime::engine::Reason;
use pol_runtime::grants::{GrantService, GrantStore, Granted, ManualClock, UnmaskError};
use pol_runtime::program::Op;
use pol_runtime::{ColumnType as T, Engine, Technique, Value};
use serde_json::json;

const DAY: i64 = 86_400;

/// customers { id int key, ssn text, email text, country text }: ssn null for everyone, email
/// redacted except for admins, rows only where country == "US", everyone in group "auditors"
/// exempt; `allow temporary unmask for 24h for everyone who user has role
/// "TemporarilyUnmask"`.
fn bundle() -> B {
    let mut b = B::new();
    let s = b.source(
        "customers",
        &[
            ("id", T::Int),
            ("ssn", T::Text),
            ("email", T::Text),
            ("country", T::Text),
        ],
    );
    b.src(s).key_column = Some(0);
    let null = b.tech(Technique::Null);
    let redact = b.tech(Technique::Redact);
    let admins = b.prog(in_group("admins"));
    let r_ssn = b.rule("null_ssn");
    b.add_candidate(s, "ssn", r_ssn, None, everyone(null));
    let r_email = b.rule("redact_email");
    b.add_candidate(s, "email", r_email, None, except(admins, redact));
    let us = b.prog(eq(col(3), text("US")));
    let r_rows = b.rule("us_only");
    b.row_rule(s, r_rows, RowFilter::Where(us), RowAudience::Everyone);
    let auditors = b.prog(in_group("auditors"));
    b.src(s).exempts.push(auditors);
    let unmaskers = b.prog(has_role("TemporarilyUnmask"));
    let rule = b.rule("unmask_request");
    b.b.grants.push(GrantPlan {
        rule,
        kind: GrantKind::TemporaryUnmask {
            source: 0,
            seconds: DAY,
        },
        audience: GrantAudience::Who(unmaskers),
    });
    b
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

struct Fixture {
    engine: Engine,
    clock: Arc<ManualClock>,
    audit: Arc<MemorySink>,
    service: GrantService,
}

fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(t0()));
    let audit = Arc::new(MemorySink::new());
    let service = GrantService::new(GrantStore::in_memory(), audit.clone(), clock.clone());
    Fixture {
        engine: bundle().engine(),
        clock,
        audit,
        service,
    }
}

/// A fixture in which the permitted unmasker has been granted record 1 of `customers`.
fn granted_fixture() -> Fixture {
    let f = fixture();
    f.service
        .request_unmask(&f.engine, &unmasker(), "customers", &Value::Int(1), "")
        .expect("granted");
    f
}

fn unmasker() -> serde_json::Value {
    json!({"login": "uma", "roles": ["TemporarilyUnmask"]})
}

fn bob() -> serde_json::Value {
    json!({"login": "bob"})
}

fn row(id: i64, country: &str) -> serde_json::Map<String, serde_json::Value> {
    match json!({"id": id, "ssn": "123-45-6789", "email": "jenny@example.com", "country": country})
    {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// Masks a row for `subject` in a session opened through the service.
fn masked(
    f: &Fixture,
    subject: serde_json::Value,
    r: serde_json::Map<String, serde_json::Value>,
) -> Option<serde_json::Value> {
    let session = f.service.session(&f.engine, &subject).expect("subject");
    let src = session.source("customers").expect("source");
    src.mask_json(&r)
        .map(|pairs| serde_json::Value::Object(pairs.into_iter().collect()))
}

fn clear(id: i64) -> serde_json::Value {
    json!({"id": id, "ssn": "123-45-6789", "email": "jenny@example.com", "country": "US"})
}

fn masked_row(id: i64) -> serde_json::Value {
    json!({"id": id, "ssn": null, "email": "*******", "country": "US"})
}

#[test]
fn a_permitted_user_is_granted_for_the_policy_duration() {
    let f = fixture();
    let granted = f
        .service
        .request_unmask(
            &f.engine,
            &unmasker(),
            "customers",
            &Value::Int(1),
            "ticket 4411",
        )
        .expect("granted");
    assert!(
        granted.id.len() == 34
            && granted.id.starts_with("g-")
            && granted.id[2..].bytes().all(|b| b.is_ascii_hexdigit()),
        "a random 128-bit id: {}",
        granted.id
    );
    assert_eq!(
        granted,
        Granted {
            id: granted.id.clone(),
            source: "customers".into(),
            key: "1".into(),
            rule: "unmask_request".into(),
            until: at(DAY),
        }
    );
    assert_eq!(
        f.audit.records(),
        vec![AuditRecord {
            time: t0(),
            subject: "uma".into(),
            action: AuditAction::Grant,
            request: RequestKind::Unmask,
            source: "customers".into(),
            key: Some("1".into()),
            columns: vec![],
            expiry: Some(at(DAY)),
            reason: Some("ticket 4411".into()),
            detail: format!(
                "granted by unmask_request for 86400s as grant {}",
                granted.id
            ),
        }]
    );
}

#[test]
fn anyone_else_is_refused_and_the_refusal_is_audited() {
    let f = fixture();
    let err = f
        .service
        .request_unmask(&f.engine, &bob(), "customers", &Value::Int(1), "curious")
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "temporary unmask refused: no `allow temporary unmask` rule of `customers` allows this user"
    );
    assert_eq!(
        f.audit.records(),
        vec![AuditRecord {
            time: t0(),
            subject: "bob".into(),
            action: AuditAction::Refusal,
            request: RequestKind::Unmask,
            source: "customers".into(),
            key: Some("1".into()),
            columns: vec![],
            expiry: None,
            reason: Some("curious".into()),
            detail: "no `allow temporary unmask` rule of `customers` allows this user".into(),
        }]
    );
    // Nothing was granted: the record stays masked.
    assert_eq!(masked(&f, bob(), row(1, "US")), Some(masked_row(1)));
}

#[test]
fn malformed_requests_are_refused_with_clear_messages() {
    let f = fixture();
    let refuse = |source: &str, key: Value| match f.service.request_unmask(
        &f.engine,
        &unmasker(),
        source,
        &key,
        "",
    ) {
        Err(UnmaskError::Refused(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(
        refuse("clients", Value::Int(1)),
        "there is no source `clients`"
    );
    assert_eq!(
        refuse("customers", Value::Text("1".into())),
        "the key of `customers` is int, not a text value"
    );
    assert_eq!(refuse("customers", Value::Null), "the key is null");
    assert_eq!(f.audit.records().len(), 3, "every refusal is audited");
    assert!(f
        .audit
        .records()
        .iter()
        .all(|r| r.action == AuditAction::Refusal));
}

#[test]
fn a_source_without_unmask_rules_or_key_refuses() {
    let mut b = bundle();
    b.source("vault", &[("id", T::Int), ("secret", T::Text)]);
    let f = Fixture {
        engine: b.engine(),
        ..fixture()
    };
    match f
        .service
        .request_unmask(&f.engine, &unmasker(), "vault", &Value::Int(1), "")
    {
        Err(UnmaskError::Refused(m)) => assert_eq!(
            m,
            "source `vault` has no key column, so no record can be named"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let mut b = bundle();
    let s = b.source("vault", &[("id", T::Int), ("secret", T::Text)]);
    b.src(s).key_column = Some(0);
    let f = Fixture {
        engine: b.engine(),
        ..fixture()
    };
    match f
        .service
        .request_unmask(&f.engine, &unmasker(), "vault", &Value::Int(1), "")
    {
        Err(UnmaskError::Refused(m)) => {
            assert_eq!(m, "no policy allows temporary unmask on `vault`")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Asks to unmask customers record 1 as each subject of `cases`, with the grant's audience
/// set to what `audience` builds from the program of `clearance OP 3`; checks granted or not.
fn check_audience(op: Op, audience: fn(u32) -> GrantAudience, cases: &[(serde_json::Value, bool)]) {
    let mut b = bundle();
    let clearance = b.subject_field("clearance", T::Int);
    let condition = b.prog(bin(op, E::UserField(clearance), int(3)));
    b.b.grants[0].audience = audience(condition);
    let f = Fixture {
        engine: b.engine(),
        ..fixture()
    };
    for (subject, granted) in cases {
        let outcome = f
            .service
            .request_unmask(&f.engine, subject, "customers", &Value::Int(1), "");
        assert_eq!(outcome.is_ok(), *granted, "{subject}: {outcome:?}");
    }
}

#[test]
fn an_unknown_audience_condition_never_grants() {
    // `for everyone who clearance > 3`: a missing field is unknown → refused.
    check_audience(
        Op::Gt,
        GrantAudience::Who,
        &[
            (json!({"login": "a", "clearance": 4}), true),
            (json!({"login": "b", "clearance": 3}), false),
            (json!({"login": "c"}), false),
        ],
    );
    // `for everyone except clearance < 3`: C unknown → refused, C false → granted.
    check_audience(
        Op::Lt,
        GrantAudience::Except,
        &[
            (json!({"login": "a", "clearance": 5}), true),
            (json!({"login": "b", "clearance": 1}), false),
            (json!({"login": "c"}), false),
        ],
    );
}

#[test]
fn a_granted_record_is_clear_for_every_user_until_expiry() {
    let f = fixture();
    f.service
        .request_unmask(
            &f.engine,
            &unmasker(),
            "customers",
            &Value::Int(1),
            "ticket",
        )
        .expect("granted");
    // Another user, without any role: record 1 clear, record 2 masked as usual.
    assert_eq!(masked(&f, bob(), row(1, "US")), Some(clear(1)));
    assert_eq!(masked(&f, bob(), row(2, "US")), Some(masked_row(2)));
    // The requester too.
    assert_eq!(masked(&f, unmasker(), row(1, "US")), Some(clear(1)));
    // One second before expiry: still clear; at expiry: masked again.
    f.clock.set(at(DAY - 1));
    assert_eq!(masked(&f, bob(), row(1, "US")), Some(clear(1)));
    f.clock.set(at(DAY));
    assert_eq!(masked(&f, bob(), row(1, "US")), Some(masked_row(1)));
}

#[test]
fn row_rules_still_apply_to_a_granted_record() {
    let f = granted_fixture();
    assert_eq!(masked(&f, bob(), row(1, "FR")), None);
    // The reveal of a hidden row is not audited (nothing was shown).
    assert_eq!(
        f.audit
            .records()
            .iter()
            .filter(|r| r.action == AuditAction::Unmask)
            .count(),
        0
    );
}

#[test]
fn typed_rows_and_type_mismatches() {
    let f = granted_fixture();
    let session = f.service.session(&f.engine, &bob()).expect("subject");
    let src = session.source("customers").expect("source");
    let values = src.mask_values(&[
        Value::Int(1),
        Value::Int(5), // not text: still null under a grant
        Value::Text("jenny@example.com".into()),
        Value::Text("US".into()),
    ]);
    assert_eq!(
        values,
        Some(vec![
            Value::Int(1),
            Value::Null,
            Value::Text("jenny@example.com".into()),
            Value::Text("US".into()),
        ])
    );
    // A key given as text does not name record 1.
    let mut r = row(1, "US");
    r.insert("id".into(), json!("1"));
    assert_eq!(
        masked(&f, bob(), r),
        Some(json!({"id": null, "ssn": null, "email": "*******", "country": "US"}))
    );
}

#[test]
fn each_reveal_is_audited_once_per_session_with_the_columns_it_revealed() {
    let f = granted_fixture();
    f.clock.set(at(60));
    let session = f.service.session(&f.engine, &bob()).expect("subject");
    let src = session.source("customers").expect("source");
    for _ in 0..3 {
        assert!(src.mask_json(&row(1, "US")).is_some());
    }
    let admin = json!({"login": "ada", "groups": ["admins"]});
    assert_eq!(masked(&f, admin, row(1, "US")), Some(clear(1)));
    // An exempt user sees everything anyway: no grant is involved, nothing audited.
    let auditor = json!({"login": "aud", "groups": ["auditors"]});
    assert_eq!(masked(&f, auditor, row(1, "US")), Some(clear(1)));
    let unmasks: Vec<AuditRecord> = f
        .audit
        .records()
        .into_iter()
        .filter(|r| r.action == AuditAction::Unmask)
        .collect();
    let reveal = |subject: &str, columns: &[&str]| AuditRecord {
        time: at(60),
        subject: subject.into(),
        action: AuditAction::Unmask,
        request: RequestKind::Unmask,
        source: "customers".into(),
        key: Some("1".into()),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        expiry: Some(at(DAY)),
        reason: None,
        detail: "the record is shown clear under a temporary unmask grant".into(),
    };
    assert_eq!(
        unmasks,
        vec![reveal("bob", &["ssn", "email"]), reveal("ada", &["ssn"])]
    );
}

#[test]
fn explain_names_the_grant() {
    let f = granted_fixture();
    let session = f.service.session(&f.engine, &bob()).expect("subject");
    let src = session.source("customers").expect("source");
    let ex = src.explain(&row(1, "US"));
    assert!(ex.shown);
    let reasons: Vec<(String, Reason, Option<serde_json::Value>)> = ex
        .cells
        .iter()
        .map(|c| (c.column.clone(), c.reason.clone(), c.value.clone()))
        .collect();
    let until = Reason::TemporaryUnmask {
        until: "2026-01-02T00:00:00Z".into(),
    };
    assert_eq!(
        reasons,
        vec![
            ("id".into(), until.clone(), Some(json!(1))),
            ("ssn".into(), until.clone(), Some(json!("123-45-6789"))),
            (
                "email".into(),
                until.clone(),
                Some(json!("jenny@example.com"))
            ),
            ("country".into(), until.clone(), Some(json!("US"))),
        ]
    );
    assert_eq!(
        until.to_string(),
        "the record is temporarily unmasked until 2026-01-02T00:00:00Z"
    );
    // A record without a grant is explained as usual.
    let ex = src.explain(&row(2, "US"));
    assert_eq!(ex.cells[1].reason, Reason::Everyone);
}

#[test]
fn a_session_opened_without_the_service_ignores_grants() {
    let f = granted_fixture();
    assert_eq!(
        mask(
            &f.engine,
            bob(),
            "customers",
            serde_json::Value::Object(row(1, "US"))
        ),
        Some(masked_row(1))
    );
}

/// A sink that always fails.
#[derive(Debug)]
struct BrokenSink;

impl AuditSink for BrokenSink {
    fn record(&self, _: &AuditRecord) -> Result<(), AuditError> {
        Err(AuditError::Other("disk full".into()))
    }
}

#[test]
fn without_an_audit_nothing_is_granted_or_revealed() {
    let clock = Arc::new(ManualClock::new(t0()));
    let engine = bundle().engine();
    let service = GrantService::new(GrantStore::in_memory(), Arc::new(BrokenSink), clock.clone());
    match service.request_unmask(&engine, &unmasker(), "customers", &Value::Int(1), "") {
        Err(UnmaskError::Audit(e)) => {
            assert_eq!(e.to_string(), "the audit record was not written: disk full")
        }
        other => panic!("expected an audit error, got {other:?}"),
    }
    assert_eq!(service.store().active(t0()).expect("reads"), vec![]);

    // A grant made while the sink worked, read while it fails: the record is masked.
    let store = GrantStore::in_memory();
    let ok = GrantService::new(store, Arc::new(MemorySink::new()), clock.clone());
    ok.request_unmask(&engine, &unmasker(), "customers", &Value::Int(1), "")
        .expect("granted");
    let grants = ok.store().active(t0()).expect("reads");
    let failing_store = GrantStore::in_memory();
    for g in grants {
        failing_store.add(g).expect("in memory");
    }
    let failing = GrantService::new(failing_store, Arc::new(BrokenSink), clock);
    let session = failing.session(&engine, &bob()).expect("subject");
    let out = session
        .source("customers")
        .expect("source")
        .mask_json(&row(1, "US"))
        .map(|p| serde_json::Value::Object(p.into_iter().collect()));
    assert_eq!(out, Some(masked_row(1)));
}

#[test]
fn grants_persist_across_restarts_until_they_expire() {
    let dir = tempfile::tempdir().expect("temp dir");
    let grants = dir.path().join("grants.jsonl");
    let audit_path = dir.path().join("audit.jsonl");
    let engine = bundle().engine();
    let clock = Arc::new(ManualClock::new(t0()));
    {
        let (audit, _) = FileSink::open(&audit_path).expect("audit");
        let service = GrantService::new(
            GrantStore::open(&grants).expect("store"),
            Arc::new(audit),
            clock.clone(),
        );
        service
            .request_unmask(&engine, &unmasker(), "customers", &Value::Int(7), "ticket")
            .expect("granted");
        service
            .request_unmask(&engine, &bob(), "customers", &Value::Int(8), "nope")
            .expect_err("refused");
    }
    // The application restarts an hour later.
    clock.set(at(3_600));
    let reopen = |clock: Arc<ManualClock>| {
        let (audit, _) = FileSink::open(&audit_path).expect("audit");
        GrantService::new(
            GrantStore::open(&grants).expect("store"),
            Arc::new(audit),
            clock,
        )
    };
    let service = reopen(clock.clone());
    let session = service.session(&engine, &bob()).expect("subject");
    let out = session
        .source("customers")
        .expect("source")
        .mask_json(&row(7, "US"))
        .map(|p| serde_json::Value::Object(p.into_iter().collect()));
    assert_eq!(out, Some(clear(7)));
    drop(session);
    drop(service);
    // After expiry, a restarted application ignores the grant.
    clock.set(at(DAY));
    let service = reopen(clock.clone());
    assert_eq!(service.store().active(at(DAY)).expect("reads"), vec![]);
    let session = service.session(&engine, &bob()).expect("subject");
    let out = session
        .source("customers")
        .expect("source")
        .mask_json(&row(7, "US"))
        .map(|p| serde_json::Value::Object(p.into_iter().collect()));
    assert_eq!(out, Some(masked_row(7)));
    let actions: Vec<AuditAction> = FileSink::read(&audit_path)
        .expect("audit")
        .iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::Grant,
            AuditAction::Refusal,
            AuditAction::Unmask
        ]
    );
}

#[test]
fn compaction_keeps_only_live_grants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("grants.jsonl");
    let engine = bundle().engine();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut service = GrantService::new(
        GrantStore::open(&path).expect("store"),
        Arc::new(MemorySink::new()),
        clock.clone(),
    );
    service
        .request_unmask(&engine, &unmasker(), "customers", &Value::Int(1), "")
        .expect("granted");
    clock.set(at(DAY / 2));
    let live = service
        .request_unmask(&engine, &unmasker(), "customers", &Value::Int(2), "")
        .expect("granted");
    clock.set(at(DAY));
    service.store_mut().compact(at(DAY)).expect("compacts");
    let text = std::fs::read_to_string(&path).expect("reads");
    assert_eq!(
        text,
        format!(
            "{{\"id\":\"{}\",\"source\":\"customers\",\"key\":\"2\",\"granted_to\":\"uma\",\
             \"rule\":\"unmask_request\",\"granted_at\":\"2026-01-01T12:00:00Z\",\
             \"expires\":\"2026-01-02T12:00:00Z\"}}\n",
            live.id
        )
    );
    let keys: Vec<String> = GrantStore::open(&path)
        .expect("reopens")
        .active(at(DAY))
        .expect("reads")
        .into_iter()
        .map(|g| g.key)
        .collect();
    assert_eq!(keys, vec!["2".to_owned()]);
    // The compacted store still appends.
    service
        .request_unmask(&engine, &unmasker(), "customers", &Value::Int(3), "")
        .expect("granted");
    assert_eq!(
        GrantStore::open(&path)
            .expect("reopens")
            .active(at(DAY))
            .expect("reads")
            .len(),
        2
    );
}

#[test]
fn a_decimal_key_accepts_an_int() {
    let mut b = bundle();
    b.b.sources[0].columns[0].ty = T::Decimal;
    let f = Fixture {
        engine: b.engine(),
        ..fixture()
    };
    let g = f
        .service
        .request_unmask(&f.engine, &unmasker(), "customers", &Value::Int(3), "")
        .expect("granted");
    assert_eq!(g.key, Value::Decimal(3.0).canonical_text());
    assert_eq!(
        masked(&f, bob(), row(3, "US")).and_then(|r| r.get("ssn").cloned()),
        Some(json!("123-45-6789"))
    );
}

// ---- the grants table in the bundle -------------------------------------------------------

fn verify_err(b: &B) -> VerifyError {
    b.b.verify().expect_err("invalid")
}

#[test]
fn the_verifier_checks_grants() {
    let kinds = [
        (
            GrantKind::TemporaryUnmask {
                source: 0,
                seconds: 3_599,
            },
            "grant 0: a temporary unmask lasts from 1h to 72h, not 3599 seconds",
        ),
        (
            GrantKind::TemporaryUnmask {
                source: 0,
                seconds: 72 * 3_600 + 1,
            },
            "grant 0: a temporary unmask lasts from 1h to 72h, not 259201 seconds",
        ),
        (
            GrantKind::TemporaryUnmask {
                source: 3,
                seconds: 3_600,
            },
            "grant 0: source index 3 is out of range (the table has 1)",
        ),
        (
            GrantKind::Detokenize {
                source: 0,
                column: 4,
            },
            "grant 0: column index 4 is out of range (the table has 4)",
        ),
    ];
    for (kind, message) in kinds {
        let mut b = bundle();
        b.b.grants[0].kind = kind;
        assert_eq!(verify_err(&b).to_string(), message);
    }
    let mut b = bundle();
    b.b.grants[0].rule = 99;
    assert_eq!(
        verify_err(&b).to_string(),
        "grant 0: rule index 99 is out of range (the table has 4)"
    );
    // A grant audience may not read the row.
    let mut b = bundle();
    let reads_row = b.prog(eq(col(3), text("US")));
    b.b.grants[0].audience = GrantAudience::Who(reads_row);
    assert_eq!(
        verify_err(&b).to_string(),
        format!("grant 0: program {reads_row} reads the row where only the user may be read")
    );
    // Bounds are inclusive.
    let mut b = bundle();
    b.b.grants[0].kind = GrantKind::TemporaryUnmask {
        source: 0,
        seconds: 72 * 3_600,
    };
    b.b.verify().expect("72h is allowed");
}

#[test]
fn grants_survive_the_binary_format() {
    let b = bundle();
    let bytes = b.b.to_bytes().expect("encodes");
    let back = pol_runtime::Bundle::from_bytes(&bytes).expect("decodes");
    assert_eq!(back.grants, b.b.grants);
}
