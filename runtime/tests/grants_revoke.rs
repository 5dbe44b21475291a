//! Revoking temporary unmask grants: by id or by record, audited, durable, and refused (audited)
//! when nothing holds.
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
use pol_runtime::audit::{AuditAction, AuditRecord, MemorySink, RequestKind};
use pol_runtime::grants::{
    GrantService, GrantStore, ManualClock, Revocation, Revoke, RevokeError, StoredGrant,
};
use pol_runtime::{Engine, Value};
use serde_json::json;

const HOUR: i64 = 3_600;

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

fn email_seen(service: &GrantService, engine: &Engine, id: i64) -> serde_json::Value {
    let session = service
        .session(engine, &json!({"login": "bob"}))
        .expect("subject");
    let row = json!({"id": id, "email": "jenny@example.com"});
    let out = session
        .source("customers")
        .expect("source")
        .mask_json(row.as_object().expect("object"))
        .expect("shown");
    out.into_iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v)
        .expect("email")
}

fn sue() -> serde_json::Value {
    json!({"login": "sue"})
}

#[test]
fn revoking_by_id_masks_the_record_again_and_is_audited() {
    let engine = open_unmask_engine();
    let clock = Arc::new(ManualClock::new(t0()));
    let audit = Arc::new(MemorySink::new());
    let service = GrantService::new(GrantStore::in_memory(), audit.clone(), clock.clone());
    let g1 = service
        .request_unmask(&engine, &sue(), "customers", &Value::Int(1), "t1")
        .expect("granted");
    let g2 = service
        .request_unmask(&engine, &sue(), "customers", &Value::Int(2), "t2")
        .expect("granted");
    assert_ne!(g1.id, g2.id);
    assert_eq!(email_seen(&service, &engine, 1), json!("jenny@example.com"));
    clock.set(at(HOUR));
    let revoked = service
        .revoke(&sue(), &Revoke::Id(g1.id.clone()), "closed")
        .expect("revoked");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].id, g1.id);
    let last = audit.records().pop().expect("a record");
    assert_eq!(
        last,
        AuditRecord {
            time: at(HOUR),
            subject: "sue".into(),
            action: AuditAction::Revoke,
            request: RequestKind::Unmask,
            source: "customers".into(),
            key: Some("1".into()),
            columns: vec![],
            expiry: Some(at(2 * HOUR)),
            reason: Some("closed".into()),
            detail: format!("grant {} (given to sue by open) revoked", g1.id),
        }
    );
    assert_eq!(email_seen(&service, &engine, 1), json!(null));
    assert_eq!(email_seen(&service, &engine, 2), json!("jenny@example.com"));
    assert_eq!(AuditAction::Revoke.as_str(), "revoke");
}

#[test]
fn revoking_a_record_revokes_every_grant_of_it() {
    let engine = open_unmask_engine();
    let clock = Arc::new(ManualClock::new(t0()));
    let service = GrantService::new(
        GrantStore::in_memory(),
        Arc::new(MemorySink::new()),
        clock.clone(),
    );
    service
        .request_unmask(&engine, &sue(), "customers", &Value::Int(1), "")
        .expect("granted");
    clock.set(at(60));
    service
        .request_unmask(&engine, &sue(), "customers", &Value::Int(1), "")
        .expect("granted");
    let which = Revoke::Record {
        source: "customers".into(),
        key: "1".into(),
    };
    let revoked = service.revoke(&sue(), &which, "").expect("revoked");
    assert_eq!(revoked.len(), 2);
    assert_eq!(service.store().active(at(60)).expect("reads"), vec![]);
    assert_eq!(email_seen(&service, &engine, 1), json!(null));
}

#[test]
fn revoking_nothing_is_refused_and_audited() {
    let engine = open_unmask_engine();
    let clock = Arc::new(ManualClock::new(t0()));
    let audit = Arc::new(MemorySink::new());
    let service = GrantService::new(GrantStore::in_memory(), audit.clone(), clock.clone());
    let g = service
        .request_unmask(&engine, &sue(), "customers", &Value::Int(1), "")
        .expect("granted");
    // Expired grants cannot be revoked (they no longer hold).
    clock.set(at(2 * HOUR));
    match service.revoke(&sue(), &Revoke::Id(g.id.clone()), "late") {
        Err(RevokeError::NotFound(m)) => {
            assert_eq!(
                m,
                format!("no grant `{}` holds at 2026-01-01T02:00:00Z", g.id)
            )
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    let last = audit.records().pop().expect("a record");
    assert_eq!(last.action, AuditAction::Refusal);
    assert_eq!(
        last.detail,
        format!("revoke: no grant `{}` holds at 2026-01-01T02:00:00Z", g.id)
    );
    let which = Revoke::Record {
        source: "customers".into(),
        key: "9".into(),
    };
    match service.revoke(&sue(), &which, "") {
        Err(e) => assert_eq!(
            e.to_string(),
            "nothing revoked: no grant of `customers` record `9` holds at 2026-01-01T02:00:00Z"
        ),
        Ok(v) => panic!("expected a refusal, got {v:?}"),
    }
    assert!(matches!(
        service.revoke(&json!(1), &which, ""),
        Err(RevokeError::Subject)
    ));
}

#[test]
fn revocations_are_durable_and_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grants.jsonl");
    let engine = open_unmask_engine();
    let clock = Arc::new(ManualClock::new(t0()));
    let service = GrantService::new(
        GrantStore::open(&path).expect("opens"),
        Arc::new(MemorySink::new()),
        clock.clone(),
    );
    let g = service
        .request_unmask(&engine, &sue(), "customers", &Value::Int(1), "")
        .expect("granted");
    service
        .revoke(&json!({"login": "rob"}), &Revoke::Id(g.id.clone()), "")
        .expect("revoked");
    let text = std::fs::read_to_string(&path).expect("reads");
    // The intent, the grant, the revocation's intent, the revocation.
    assert!(text
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("{\"intent\":{\"id\":")));
    assert!(text.lines().nth(2).is_some_and(|l| {
        l.starts_with("{\"revoking\":{\"id\":") && l.ends_with(",\"revoked_by\":\"rob\"}")
    }));
    assert_eq!(
        text.lines().nth(3),
        Some(format!(
            "{{\"revoke\":\"{}\",\"revoked_at\":\"2026-01-01T00:00:00Z\",\"revoked_by\":\"rob\"}}",
            g.id
        ))
        .as_deref()
    );
    let store = GrantStore::open(&path).expect("reopens");
    assert_eq!(store.active(t0()).expect("reads"), vec![]);
    let entries = store.entries().expect("reads");
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].grant,
        StoredGrant {
            id: g.id.clone(),
            source: "customers".into(),
            key: "1".into(),
            granted_to: "sue".into(),
            rule: "open".into(),
            granted_at: t0(),
            expires: at(2 * HOUR),
        }
    );
    assert!(
        g.id.len() == 34
            && g.id.starts_with("g-")
            && g.id[2..].bytes().all(|b| b.is_ascii_hexdigit()),
        "a random 128-bit id: {}",
        g.id
    );
    assert_eq!(
        entries[0].revoked,
        Some(Revocation {
            revoke: g.id.clone(),
            revoked_at: t0(),
            revoked_by: "rob".into(),
        })
    );
    // Revoking twice writes nothing.
    assert!(!store.revoke(&g.id, t0(), "rob").expect("no error"));
    assert_eq!(std::fs::read_to_string(&path).expect("reads"), text);
}

#[test]
fn grants_stored_without_an_id_still_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grants.jsonl");
    std::fs::write(
        &path,
        "{\"source\":\"customers\",\"key\":\"1\",\"granted_to\":\"sue\",\"rule\":\"open\",\
         \"granted_at\":\"2026-01-01T00:00:00Z\",\"expires\":\"2026-01-01T02:00:00Z\"}\n",
    )
    .expect("writes");
    let store = GrantStore::open(&path).expect("opens");
    let active = store.active(t0()).expect("reads");
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].id, "");
    assert!(!store.revoke("", t0(), "rob").expect("no error"));
}
