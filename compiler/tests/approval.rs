//! The approval workflow of temporary unmask (`allow temporary unmask … with approval by C
//! within W`), compiled from policy text and run through `GrantService`: the state machine
//! (pending → approved → active/expired; pending → denied; pending → expired), who may answer,
//! the audit of every step, races between answers, and failing closed (clock skew, store and
//! audit errors, malformed store lines).

use chrono::{DateTime, TimeDelta, Utc};
use pol_compiler::source_map::SourceMap;
use pol_runtime::audit::{AuditAction, AuditError, AuditRecord, AuditSink, MemorySink};
use pol_runtime::grants::{
    ApprovalError, GrantService, GrantStore, ManualClock, RequestState, Requested, UnmaskError,
    UnmaskRequest,
};
use pol_runtime::{Engine, KeyRing, MaskingKey, Value};
use serde_json::json;
use std::sync::Arc;

const POLICIES: &str = r#"
tag PII;
source customers { id: int key, email: text tagged PII, }
source orders { id: int key, total: int tagged PII, }
policy pii { mask columns tagged PII using null for everyone }
policy approved_unmask on source customers {
  allow temporary unmask for 8h for everyone who user has role "steward"
    with approval by user has role "officer" within 2h
}
policy direct on source orders {
  allow temporary unmask for 1h for everyone who user has role "steward"
}
"#;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
        .expect("time")
        .to_utc()
}

fn at(minutes: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(minutes)
}

fn engine() -> Engine {
    let mut map = SourceMap::new();
    map.add("p.pol", POLICIES.to_string());
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .expect("encodes");
    let keys = KeyRing::new(MaskingKey::from_bytes(&[7u8; 32]).expect("key"));
    Engine::load(&bytes, Some(keys)).expect("loads")
}

fn steward() -> serde_json::Value {
    json!({"login": "sue", "roles": ["steward"]})
}

fn officer() -> serde_json::Value {
    json!({"login": "olly", "roles": ["officer"]})
}

/// Steward and officer at once.
fn both() -> serde_json::Value {
    json!({"login": "bea", "roles": ["steward", "officer"]})
}

struct Fixture {
    engine: Engine,
    clock: Arc<ManualClock>,
    audit: Arc<MemorySink>,
    service: GrantService,
}

fn fixture(store: GrantStore) -> Fixture {
    let clock = Arc::new(ManualClock::new(t0()));
    let audit = Arc::new(MemorySink::new());
    let service = GrantService::new(store, audit.clone(), clock.clone());
    Fixture {
        engine: engine(),
        clock,
        audit,
        service,
    }
}

impl Fixture {
    fn request(&self, who: &serde_json::Value) -> UnmaskRequest {
        match self
            .service
            .request(&self.engine, who, "customers", &Value::Int(1), "ticket 7")
        {
            Ok(Requested::Pending(r)) => r,
            other => panic!("expected a pending request, got {other:?}"),
        }
    }

    /// The email of customer 1 as `who` sees it at the clock.
    fn email(&self, who: &serde_json::Value) -> serde_json::Value {
        let session = self.service.session(&self.engine, who).expect("session");
        let row = json!({"id": 1, "email": "ann@example.com"});
        let cells = session
            .source("customers")
            .expect("source")
            .mask_json(row.as_object().expect("object"))
            .expect("shown");
        cells
            .into_iter()
            .find(|(c, _)| c == "email")
            .map(|(_, v)| v)
            .expect("email")
    }

    fn actions(&self) -> Vec<(String, AuditAction)> {
        self.audit
            .records()
            .into_iter()
            .map(|r| (r.subject, r.action))
            .collect()
    }

    fn refused(&self, e: ApprovalError) -> String {
        match e {
            ApprovalError::Refused(m) => m,
            other => panic!("expected a refusal, got {other}"),
        }
    }
}

#[test]
fn a_pending_request_unmasks_nothing_and_an_approval_unmasks_for_the_rule_duration() {
    let f = fixture(GrantStore::in_memory());
    let r = f.request(&steward());
    assert_eq!(r.requested_by, "sue");
    assert_eq!(r.rule, "approved_unmask");
    assert_eq!(r.answer_by, at(120));
    assert_eq!(r.seconds, 8 * 3600);
    assert!(r.id.starts_with("r-") && r.id.len() == 34, "{}", r.id);
    f.clock.set(at(10));
    assert_eq!(f.email(&steward()), json!(null), "pending: masked");
    assert!(f.service.store().active(at(10)).expect("reads").is_empty());
    let pending = f.service.requests().expect("lists");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].state, RequestState::Pending);

    f.clock.set(at(30));
    let g = f
        .service
        .approve(&f.engine, &officer(), &r.id, "ok")
        .expect("approved");
    assert_eq!(g.until, at(30 + 8 * 60));
    assert_eq!((g.source.as_str(), g.key.as_str()), ("customers", "1"));
    f.clock.set(at(31));
    assert_eq!(f.email(&steward()), json!("ann@example.com"));
    assert_eq!(f.email(&json!({"login": "x"})), json!("ann@example.com"));
    // Active until the expiry, masked from then on.
    f.clock.set(at(30 + 8 * 60));
    assert_eq!(f.email(&steward()), json!(null));
    let states: Vec<&str> = f
        .service
        .requests()
        .expect("lists")
        .iter()
        .map(|e| e.state.as_str())
        .collect();
    assert_eq!(states, ["approved"]);
    let records = f.audit.records();
    assert_eq!(
        f.actions(),
        [
            ("sue".to_owned(), AuditAction::Request),
            ("olly".to_owned(), AuditAction::Approve),
            ("sue".to_owned(), AuditAction::Unmask),
            ("x".to_owned(), AuditAction::Unmask),
        ]
    );
    let approve = &records[1];
    assert_eq!(approve.expiry, Some(at(30 + 8 * 60)));
    assert_eq!(approve.reason.as_deref(), Some("ok"));
    assert!(
        approve
            .detail
            .starts_with(&format!("request {} of sue approved: grant g-", r.id)),
        "{}",
        approve.detail
    );
    assert_eq!(records[0].expiry, Some(at(120)));
    assert_eq!(records[0].reason.as_deref(), Some("ticket 7"));
}

#[test]
fn the_reveal_of_an_approved_record_is_audited_as_used() {
    let f = fixture(GrantStore::in_memory());
    let r = f.request(&steward());
    f.service
        .approve(&f.engine, &officer(), &r.id, "")
        .expect("approved");
    assert_eq!(f.email(&steward()), json!("ann@example.com"));
    let last = f.audit.records().pop().expect("a record");
    assert_eq!(last.action, AuditAction::Unmask);
    assert_eq!(last.subject, "sue");
    assert_eq!(last.columns, ["email"]);
}

#[test]
fn an_approver_may_not_approve_their_own_request_nor_may_a_non_approver() {
    let f = fixture(GrantStore::in_memory());
    let r = f.request(&both());
    let own = f
        .service
        .approve(&f.engine, &both(), &r.id, "")
        .expect_err("own request");
    assert_eq!(
        f.refused(own),
        format!("`bea` made request `{}` and may not approve it", r.id)
    );
    let not_approver = f
        .service
        .approve(&f.engine, &steward(), &r.id, "")
        .expect_err("not an approver");
    assert_eq!(
        f.refused(not_approver),
        "`sue` is not an approver of rule `approved_unmask` (its approvers' condition does not hold)"
    );
    // An unknown approver condition (roles of the wrong type) never approves.
    let malformed = json!({"login": "mal", "roles": "officer"});
    assert!(f.service.approve(&f.engine, &malformed, &r.id, "").is_err());
    assert!(f.service.store().active(t0()).expect("reads").is_empty());
    let refusals: Vec<String> = f
        .audit
        .records()
        .into_iter()
        .filter(|r| r.action == AuditAction::Refusal)
        .map(|r| r.subject)
        .collect();
    assert_eq!(refusals, ["bea", "sue", "mal"]);
    // Still pending: another officer approves.
    f.service
        .approve(&f.engine, &officer(), &r.id, "")
        .expect("approved");
}

#[test]
fn a_denied_request_cannot_be_approved_later() {
    let f = fixture(GrantStore::in_memory());
    let r = f.request(&steward());
    let denied = f
        .service
        .deny(&f.engine, &officer(), &r.id, "no ticket")
        .expect("denied");
    assert_eq!(denied.id, r.id);
    let late = f
        .service
        .approve(&f.engine, &officer(), &r.id, "")
        .expect_err("denied");
    assert_eq!(
        f.refused(late),
        format!("request `{}` is denied, no longer pending", r.id)
    );
    assert_eq!(f.email(&steward()), json!(null));
    assert_eq!(
        f.actions(),
        [
            ("sue".to_owned(), AuditAction::Request),
            ("olly".to_owned(), AuditAction::Deny),
            ("olly".to_owned(), AuditAction::Refusal),
        ]
    );
}

#[test]
fn the_requester_may_withdraw_but_a_stranger_may_not_deny() {
    let f = fixture(GrantStore::in_memory());
    let r = f.request(&steward());
    let stranger = json!({"login": "zed", "roles": []});
    assert!(f.service.deny(&f.engine, &stranger, &r.id, "").is_err());
    f.service
        .deny(&f.engine, &steward(), &r.id, "not needed")
        .expect("withdrawn");
    let states: Vec<&str> = f
        .service
        .requests()
        .expect("lists")
        .iter()
        .map(|e| e.state.as_str())
        .collect();
    assert_eq!(states, ["denied"]);
}

#[test]
fn an_unanswered_request_expires_is_audited_once_and_cannot_be_approved() {
    let f = fixture(GrantStore::in_memory());
    let r = f.request(&steward());
    f.clock.set(at(119));
    assert_eq!(
        f.service.requests().expect("lists")[0].state,
        RequestState::Pending
    );
    f.clock.set(at(120));
    let late = f
        .service
        .approve(&f.engine, &officer(), &r.id, "")
        .expect_err("expired");
    assert_eq!(
        f.refused(late),
        format!("request `{}` is expired, no longer pending", r.id)
    );
    f.service.requests().expect("lists");
    let expiries: Vec<AuditRecord> = f
        .audit
        .records()
        .into_iter()
        .filter(|r| r.action == AuditAction::Expire)
        .collect();
    assert_eq!(expiries.len(), 1, "the expiry is recorded once");
    assert_eq!(
        expiries[0].detail,
        format!(
            "request {} of sue expired unanswered at 2026-05-01T12:00:00Z",
            r.id
        )
    );
    assert_eq!(f.email(&steward()), json!(null));
}

#[test]
fn a_rule_without_approval_still_grants_at_once_and_request_unmask_reports_waiting() {
    let f = fixture(GrantStore::in_memory());
    match f
        .service
        .request(&f.engine, &steward(), "orders", &Value::Int(1), "")
    {
        Ok(Requested::Granted(g)) => assert_eq!(g.rule, "direct"),
        other => panic!("expected a grant, got {other:?}"),
    }
    match f
        .service
        .request_unmask(&f.engine, &steward(), "customers", &Value::Int(1), "")
    {
        Err(UnmaskError::AwaitsApproval(r)) => assert_eq!(r.rule, "approved_unmask"),
        other => panic!("expected a pending request, got {other:?}"),
    }
    assert!(f.service.store().active(t0()).expect("reads").len() == 1);
}

#[test]
fn a_request_that_needs_approval_must_name_its_requester() {
    let f = fixture(GrantStore::in_memory());
    let anonymous = json!({"roles": ["steward"]});
    match f
        .service
        .request(&f.engine, &anonymous, "customers", &Value::Int(1), "")
    {
        Err(UnmaskError::Refused(m)) => assert_eq!(
            m,
            "a request that needs approval must name its requester (`login`)"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(f.actions(), [(String::new(), AuditAction::Refusal)]);
}

#[test]
fn clock_skew_fails_closed() {
    let f = fixture(GrantStore::in_memory());
    f.clock.set(at(60));
    let r = f.request(&steward());
    // An approver whose clock is behind the request decides nothing.
    f.clock.set(at(59));
    let skew = f
        .service
        .approve(&f.engine, &officer(), &r.id, "")
        .expect_err("skew");
    assert!(f
        .refused(skew)
        .starts_with("the clock reads 2026-05-01T10:59:00Z, before request"));
    f.clock.set(at(70));
    f.service
        .approve(&f.engine, &officer(), &r.id, "")
        .expect("approved");
    // A reader whose clock is behind the approval sees nothing unmasked.
    f.clock.set(at(69));
    assert_eq!(f.email(&steward()), json!(null));
    f.clock.set(at(70));
    assert_eq!(f.email(&steward()), json!("ann@example.com"));
}

/// An audit sink that fails after `ok` records.
#[derive(Debug)]
struct FailingAfter {
    ok: std::sync::atomic::AtomicUsize,
}

impl AuditSink for FailingAfter {
    fn record(&self, _: &AuditRecord) -> Result<(), AuditError> {
        let left = self.ok.load(std::sync::atomic::Ordering::SeqCst);
        if left == 0 {
            return Err(AuditError::Other("the sink is down".to_owned()));
        }
        self.ok.store(left - 1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn an_audit_failure_approves_nothing_and_the_request_stays_pending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grants.jsonl");
    let clock = Arc::new(ManualClock::new(t0()));
    let sink = Arc::new(FailingAfter {
        ok: std::sync::atomic::AtomicUsize::new(1),
    });
    let service = GrantService::new(GrantStore::open(&path).expect("opens"), sink, clock.clone());
    let engine = engine();
    let Ok(Requested::Pending(r)) =
        service.request(&engine, &steward(), "customers", &Value::Int(1), "")
    else {
        panic!("pending")
    };
    match service.approve(&engine, &officer(), &r.id, "") {
        Err(ApprovalError::Audit(_)) => {}
        other => panic!("expected an audit failure, got {other:?}"),
    }
    assert!(service.store().active(t0()).expect("reads").is_empty());
    // Reopened, the request is still pending and can be approved with a working sink.
    let f = fixture(GrantStore::open(&path).expect("reopens"));
    let entries = f.service.store().requests(t0()).expect("reads");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].state, RequestState::Pending);
    f.service
        .approve(&f.engine, &officer(), &r.id, "")
        .expect("approved");
    assert_eq!(f.email(&steward()), json!("ann@example.com"));
}

#[test]
fn requests_and_answers_persist_in_the_file_store_and_survive_compaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grants.jsonl");
    let f = fixture(GrantStore::open(&path).expect("opens"));
    let first = f.request(&steward());
    let second = f.request(&both());
    f.service
        .deny(&f.engine, &officer(), &first.id, "")
        .expect("denied");
    let mut reopened = GrantStore::open(&path).expect("reopens");
    let states: Vec<(String, &str)> = reopened
        .requests(at(1))
        .expect("reads")
        .iter()
        .map(|e| (e.request.id.clone(), e.state.as_str()))
        .collect();
    assert_eq!(
        states,
        [(first.id.clone(), "denied"), (second.id.clone(), "pending")]
    );
    reopened.compact(at(1)).expect("compacts");
    let f = fixture(GrantStore::open(&path).expect("reopens"));
    let kept: Vec<String> = f
        .service
        .store()
        .requests(at(1))
        .expect("reads")
        .into_iter()
        .map(|e| e.request.id)
        .collect();
    assert_eq!(
        kept,
        std::slice::from_ref(&second.id),
        "compaction keeps pending requests"
    );
    f.service
        .approve(&f.engine, &officer(), &second.id, "")
        .expect("approved after compaction");
}

#[test]
fn a_malformed_store_line_fails_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grants.jsonl");
    let malformed = "{\"request\":{\"id\":\"r-1\",\"source\":\"customers\"}}\n";
    std::fs::write(&path, malformed).expect("writes");
    assert!(GrantStore::open(&path).is_err(), "a malformed last line");
    // Malformed before a well-formed last line: every read fails, nothing is unmasked.
    let f = fixture(GrantStore::in_memory());
    let r = f.request(&steward());
    let good = serde_json::to_string(&json!({ "request": r })).expect("encodes");
    std::fs::write(&path, format!("{malformed}{good}\n")).expect("writes");
    let f = fixture(GrantStore::open(&path).expect("opens (reads the tail)"));
    assert!(f.service.store().requests(t0()).is_err());
    assert!(f.service.session(&f.engine, &steward()).is_err());
    assert!(f.service.approve(&f.engine, &officer(), &r.id, "").is_err());
    assert!(f.service.store().active(at(1)).is_err());
}

/// Two approvers and a denier answer the same request at once, each through a store of its
/// own on the same file (as separate processes would): exactly one answer is stored and
/// audited; the others are refused as no longer pending.
#[test]
fn concurrent_answers_are_decided_once() {
    for round in 0..8 {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("grants.jsonl");
        let f = fixture(GrantStore::open(&path).expect("opens"));
        let r = f.request(&steward());
        let audit = Arc::new(MemorySink::new());
        let barrier = std::sync::Barrier::new(3);
        let results: Vec<(bool, Result<(), String>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..3)
                .map(|i| {
                    let path = path.clone();
                    let audit = audit.clone();
                    let id = r.id.clone();
                    let barrier = &barrier;
                    scope.spawn(move || {
                        let engine = engine();
                        let service = GrantService::new(
                            GrantStore::open(&path).expect("opens"),
                            audit,
                            Arc::new(ManualClock::new(at(5))),
                        );
                        let who = json!({"login": format!("o{i}"), "roles": ["officer"]});
                        let approve = (i + round) % 3 != 0;
                        barrier.wait();
                        let done = if approve {
                            service.approve(&engine, &who, &id, "").map(|_| ())
                        } else {
                            service.deny(&engine, &who, &id, "").map(|_| ())
                        };
                        (approve, done.map_err(|e| e.to_string()))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("joins"))
                .collect()
        });
        let winners: Vec<bool> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(approve, _)| *approve)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (_, r) in results.iter().filter(|(_, r)| r.is_err()) {
            let m = r.as_ref().expect_err("refused");
            assert!(m.contains("no longer pending"), "{m}");
        }
        let answers: Vec<AuditAction> = audit
            .records()
            .into_iter()
            .map(|r| r.action)
            .filter(|a| matches!(a, AuditAction::Approve | AuditAction::Deny))
            .collect();
        assert_eq!(answers.len(), 1, "round {round}");
        let state = &GrantStore::open(&path)
            .expect("reopens")
            .requests(at(6))
            .expect("reads")[0]
            .state;
        let approved = winners[0];
        assert_eq!(state.as_str(), if approved { "approved" } else { "denied" });
        assert_eq!(
            GrantStore::open(&path)
                .expect("reopens")
                .active(at(6))
                .expect("reads")
                .len(),
            usize::from(approved)
        );
    }
}

/// The reference evaluator knows no grants; with only pending (or denied, or expired)
/// requests in the store, the engine's session through the grant service masks every row
/// exactly as the reference does: a request that waits unmasks nothing.
#[test]
fn pending_denied_and_expired_requests_mask_as_the_reference_does() {
    use pol_compiler::reference::{Outcome, Reference};
    let mut map = SourceMap::new();
    map.add("p.pol", POLICIES.to_string());
    let a = pol_compiler::check(&map);
    let reference = Reference::new(&a.model, &a.resolution, Some(&[7u8; 32][..]), at(200));
    let f = fixture(GrantStore::in_memory());
    let pending = f.request(&steward());
    let denied = {
        let r = match f
            .service
            .request(&f.engine, &both(), "customers", &Value::Int(2), "")
        {
            Ok(Requested::Pending(r)) => r,
            other => panic!("{other:?}"),
        };
        f.service
            .deny(&f.engine, &officer(), &r.id, "")
            .expect("denied");
        r
    };
    f.clock.set(at(150));
    let late = f.request(&steward());
    f.clock.set(at(200));
    let states: Vec<&str> = f
        .service
        .requests()
        .expect("lists")
        .iter()
        .map(|e| e.state.as_str())
        .collect();
    assert_eq!(states, ["expired", "denied", "pending"]);
    assert_eq!(
        (pending.key.as_str(), denied.key.as_str(), late.key.as_str()),
        ("1", "2", "1")
    );
    for who in [steward(), officer(), both(), json!({"login": "x"})] {
        let session = f.service.session(&f.engine, &who).expect("session");
        for id in 1..=3 {
            let row = json!({"id": id, "email": format!("u{id}@example.com")});
            let row = row.as_object().expect("object");
            let want = reference
                .mask_row("customers", &who, row)
                .expect("evaluates");
            let got = session
                .source("customers")
                .expect("source")
                .mask_json(row)
                .expect("shown");
            assert_eq!(
                Outcome::Shown(got.into_iter().collect()),
                want,
                "{who} row {id}"
            );
        }
    }
}

/// `polc grants request|approve|deny|list --requests` and `polc who-can-see`, run as a user
/// would: exact outputs and exit codes.
#[test]
fn polc_grants_approve_deny_and_list_requests() {
    use crate::support::polc::polc;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("p.pol"), POLICIES).expect("writes");
    for (name, subject) in [
        ("sue.json", steward()),
        ("olly.json", officer()),
        ("bea.json", both()),
    ] {
        std::fs::write(d.join(name), subject.to_string()).expect("writes");
    }
    let files = ["--store", "g.jsonl", "--audit", "a.jsonl"];
    let run = |args: &[&str]| polc(d, &[args, &files[..]].concat());
    let (code, out, err) = run(&[
        "grants",
        "request",
        "p.pol",
        "--subject",
        "sue.json",
        "--source",
        "customers",
        "--key",
        "1",
        "--now",
        "2026-05-01T10:00:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    let id = out
        .strip_prefix("pending: request ")
        .and_then(|rest| rest.split(' ').next())
        .expect("a request id")
        .to_owned();
    assert_eq!(
        out,
        format!("pending: request {id} of customers record 1 waits for approval until 2026-05-01T12:00:00Z (rule approved_unmask; nothing is unmasked until it is approved)\n")
    );
    let (code, out, _) = polc(
        d,
        &[
            "grants",
            "list",
            "--requests",
            "--store",
            "g.jsonl",
            "--now",
            "2026-05-01T10:01:00Z",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!("ID                                  SOURCE     KEY  REQUESTED BY  REQUESTED AT          ANSWER BY             RULE             STATE\n{id}  customers  1    sue           2026-05-01T10:00:00Z  2026-05-01T12:00:00Z  approved_unmask  pending\n")
    );
    let answer = |verb: &str, who: &str, now: &str| {
        run(&[
            "grants",
            verb,
            "p.pol",
            "--subject",
            who,
            "--id",
            &id,
            "--now",
            now,
        ])
    };
    let (code, _, err) = answer("approve", "sue.json", "2026-05-01T10:05:00Z");
    assert_eq!(
        (code, err),
        (
            1,
            format!("refused: `sue` made request `{id}` and may not approve it\n")
        )
    );
    let (code, out, err) = answer("approve", "olly.json", "2026-05-01T10:06:00Z");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("approved: request {id}: customers record 1 is clear for every user until 2026-05-01T18:06:00Z (grant g-")),
        "{out}"
    );
    let (code, _, err) = answer("deny", "bea.json", "2026-05-01T10:07:00Z");
    assert_eq!(
        (code, err),
        (
            1,
            format!("refused: request `{id}` is approved, no longer pending\n")
        )
    );
    let (code, _, err) = polc(
        d,
        &[
            "grants",
            "approve",
            "p.pol",
            "--subject",
            "olly.json",
            "--id",
            &id,
            "--store",
            "missing.jsonl",
            "--audit",
            "a.jsonl",
        ],
    );
    assert_eq!(code, 2, "a missing store is a usage error: {err}");
    let audit = std::fs::read_to_string(d.join("a.jsonl")).expect("audit");
    let actions: Vec<String> = audit
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            format!(
                "{} {}",
                v["subject"].as_str().unwrap_or(""),
                v["action"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        actions,
        ["sue request", "sue refusal", "olly approve", "bea refusal"]
    );
    let (code, out, _) = polc(d, &["who-can-see", "p.pol", "customers.email"]);
    assert_eq!(code, 0);
    assert!(
        out.ends_with("apart from these, grants that need approval:\n    clear for everyone on a record under an approved temporary unmask grant of `approved_unmask` (up to 8h from the approval; requested by: user has role \"steward\"; approved by: user has role \"officer\", never the requester, within 2h; a pending request unmasks nothing)\n"),
        "{out}"
    );
}

/// A process killed between an answer's intent and the answer: the next operation on the store
/// audits that the answer did not take effect, and the request is still pending.
#[test]
fn an_interrupted_answer_did_not_take_effect_and_the_request_still_waits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grants.jsonl");
    let f = fixture(GrantStore::in_memory());
    let r = f.request(&steward());
    let answering = json!({"answering": {
        "request": r.id, "outcome": "approved", "by": "olly", "at": "2026-05-01T10:01:00Z",
        "grant": {"id": "g-0123456789abcdef0123456789abcdef", "source": "customers", "key": "1",
                  "granted_to": "sue", "rule": "approved_unmask",
                  "granted_at": "2026-05-01T10:01:00Z", "expires": "2026-05-01T18:01:00Z"}
    }});
    std::fs::write(&path, format!("{}\n{answering}\n", json!({ "request": r }))).expect("writes");
    let f = fixture(GrantStore::open(&path).expect("opens"));
    f.clock.set(at(2));
    assert_eq!(
        f.email(&steward()),
        json!(null),
        "the intent grants nothing"
    );
    let entries = f.service.requests().expect("lists (and recovers)");
    assert_eq!(entries[0].state, RequestState::Pending);
    let records = f.audit.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].action, AuditAction::Refusal);
    assert_eq!(
        records[0].detail,
        format!("the answer (approved) to request {} did not take effect: it was interrupted before it was stored; the request is as it was", r.id)
    );
    f.service
        .approve(&f.engine, &officer(), &r.id, "")
        .expect("approved now");
    assert_eq!(f.email(&steward()), json!("ann@example.com"));
}
