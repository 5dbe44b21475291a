//! The PostgreSQL grant store and audit sink (`pol_runtime::pg`) against a real server (a
//! throwaway cluster, `support/pg.rs`): `polc grants … --store postgres://… --audit
//! postgres://…` and `polc eval --grants postgres://…` end to end with the masked views of
//! `polc sql`, concurrent requests and revocations from threads with their own connections,
//! and the failures (server down, bad URL, missing tables), which exit 2 and write nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support::pg;

use std::sync::Arc;

use pol_compiler::source_map::SourceMap;
use pol_compiler::sql::{self, Options};
use pol_runtime::audit::AuditSink;
use pol_runtime::grants::{GrantService, GrantStore, Revoke, SystemClock};
use pol_runtime::pg::{Database, PostgresSink};
use pol_runtime::value::Value;
use pol_runtime::{Engine, KeyRing, MaskingKey};
use serde_json::{json, Value as Json};

use pg::Cluster;

const KEY: &[u8] = pol_compiler::testing::TEST_KEY;

const SHOP: &str = r#"
tag PII sensitive;
tag PII.Email;

source customers {
  id: int key,
  email: text tagged PII.Email,
  name: text tagged PII,
  country: text,
}

policy email {
  mask columns tagged PII.Email using email_mask for everyone who user has role "support"
    otherwise using null
}
policy names { mask columns tagged PII using redact for everyone except user has role "privacy" }
policy escalations on source customers {
  allow temporary unmask for 1h for everyone who user has role "support"
}
"#;

/// A database with the shop's base table (two customers) and the script of `polc sql`
/// (schema `pol`, base schema `public`), and the policy file.
struct Shop {
    cluster: Arc<Cluster>,
    db: String,
    dir: tempfile::TempDir,
}

impl Shop {
    fn new(cluster: &Arc<Cluster>) -> Shop {
        let db = cluster.database();
        let mut map = SourceMap::new();
        map.add("shop.pol", SHOP.to_string());
        let a = pol_compiler::check(&map);
        assert!(!a.has_errors(), "the shop has errors");
        let opts = Options {
            schema: "pol".into(),
            base_schema: "public".into(),
            hash_key: Some(
                MaskingKey::from_bytes(KEY)
                    .expect("the test key")
                    .export_hash_key(),
            ),
        };
        let generated = sql::generate(&a.model, &a.resolution, &opts);
        let table = sql::table(&a.model, &opts, 0).expect("the customers table");
        cluster.execute(&db, &table).expect("base table");
        cluster
            .execute(&db, &generated.script_of_supported())
            .expect("script");
        cluster
            .execute(
                &db,
                "INSERT INTO public.customers VALUES
                   (1, 'jenny@example.com', 'Jenny', 'US'), (2, 'luc@example.fr', 'Luc', 'FR')",
            )
            .expect("rows");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("shop.pol"), SHOP).expect("policy");
        std::fs::write(
            dir.path().join("sam.json"),
            json!({"login": "sam", "roles": ["support"]}).to_string(),
        )
        .expect("subject");
        std::fs::write(
            dir.path().join("ria.json"),
            json!({"login": "ria", "roles": ["auditor"]}).to_string(),
        )
        .expect("subject");
        Shop {
            cluster: cluster.clone(),
            db,
            dir,
        }
    }

    /// The connection URL, with the Unix-socket directory as `host`.
    fn url(&self) -> String {
        format!(
            "postgres:///{}?host={}&user=postgres",
            self.db,
            self.cluster.socket_dir()
        )
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn polc(&self, args: &[&str]) -> (i32, String, String) {
        crate::support::polc::polc(self.dir.path(), args)
    }

    /// `polc grants request` of customers record 1 for `subject` (a file of the directory),
    /// over `store` and `audit`, then `extra`.
    fn request(
        &self,
        subject: &str,
        store: &str,
        audit: &str,
        extra: &[&str],
    ) -> (i32, String, String) {
        let mut args = vec![
            "grants",
            "request",
            "shop.pol",
            "--subject",
            subject,
            "--source",
            "customers",
            "--key",
            "1",
            "--store",
            store,
            "--audit",
            audit,
        ];
        args.extend_from_slice(extra);
        self.polc(&args)
    }

    /// A login role with this subject.
    fn role(&self, subject: &Json) -> String {
        self.cluster.login_role(&self.db, "pol", Some(subject))
    }

    /// `email/name` of each customer as `role` reads the view (`∅` for null).
    fn read_as(&self, role: &str) -> Vec<String> {
        let mut c = self.cluster.connect_as(&self.db, role);
        c.query(
            "SELECT coalesce(email, '∅') || '/' || coalesce(name, '∅') FROM pol.customers ORDER BY id",
            &[],
        )
        .expect("read the view")
        .iter()
        .map(|r| r.get(0))
        .collect()
    }

    /// The audit table, one JSON object per row (without `seq` and `time`), in order.
    fn audit(&self) -> Vec<Json> {
        self.cluster
            .connect(&self.db)
            .query(
                "SELECT (to_jsonb(a) - 'seq' - 'time')::text FROM pol.audit a ORDER BY seq",
                &[],
            )
            .expect("audit")
            .iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).expect("json"))
            .collect()
    }

    fn count(&self, sql: &str) -> i64 {
        self.cluster
            .connect(&self.db)
            .query_one(sql, &[])
            .expect("count")
            .get(0)
    }

    fn engine(&self) -> Engine {
        let map = SourceMap::load(&[self.dir.path().join("shop.pol")]).expect("load");
        let a = pol_compiler::check(&map);
        let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
            .to_bytes()
            .expect("bundle");
        let keys = KeyRing::new(MaskingKey::from_bytes(KEY).expect("key"));
        Engine::load(&bytes, Some(keys)).expect("engine")
    }
}

/// The grant id printed by `polc grants request`.
fn grant_id(stdout: &str) -> String {
    let start = stdout.find("(grant ").expect("a grant id") + "(grant ".len();
    stdout[start..]
        .split([',', ')'])
        .next()
        .expect("id")
        .to_string()
}

#[test]
fn cli_request_opens_the_record_in_every_view_and_revoke_masks_it_again() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let shop = Shop::new(&cluster);
    let url = shop.url();
    let nobody = shop.role(&json!({"login": "nobody"}));
    let support = shop.role(&json!({"login": "sam", "roles": ["support"]}));
    let masked_nobody = ["∅/*******", "∅/*******"];
    assert_eq!(shop.read_as(&nobody), masked_nobody);
    assert_eq!(
        shop.read_as(&support),
        ["*******.com/*******", "*******.fr/*******"]
    );

    // Refused: audited, nothing granted.
    let (code, _, err) = shop.request("ria.json", &url, &url, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(shop.count("SELECT count(*) FROM pol.grants"), 0);

    let (code, out, err) = shop.request("sam.json", &url, &url, &["--reason", "ticket 4411"]);
    assert_eq!(code, 0, "{err}");
    let id = grant_id(&out);
    // Record 1 is clear for every role; record 2 is not.
    assert_eq!(
        shop.read_as(&nobody),
        ["jenny@example.com/Jenny", "∅/*******"]
    );
    assert_eq!(
        shop.read_as(&support),
        ["jenny@example.com/Jenny", "*******.fr/*******"]
    );

    // list and eval see the same grant.
    let (code, out, err) = shop.polc(&["grants", "list", "--store", &url, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let listed: Json = serde_json::from_str(out.trim()).expect("one grant");
    assert_eq!(listed["id"], json!(id));
    assert_eq!(listed["key"], json!("1"));
    assert_eq!(listed["status"], json!("active"));
    std::fs::write(
        shop.path("rows.jsonl"),
        "{\"id\":1,\"email\":\"jenny@example.com\",\"name\":\"Jenny\",\"country\":\"US\"}\n",
    )
    .expect("rows");
    std::fs::write(shop.path("nobody.json"), r#"{"login":"nobody"}"#).expect("subject");
    let (code, out, err) = shop.polc(&[
        "eval",
        "shop.pol",
        "--subject",
        "nobody.json",
        "--source",
        "customers",
        "--rows",
        "rows.jsonl",
        "--grants",
        &url,
        "--audit",
        &url,
    ]);
    assert_eq!(code, 0, "{err}");
    let row: Json = serde_json::from_str(out.trim()).expect("one row");
    assert_eq!(row["email"], json!("jenny@example.com"));
    assert_eq!(row["name"], json!("Jenny"));

    let (code, out, err) = shop.polc(&[
        "grants",
        "revoke",
        "--subject",
        "sam.json",
        "--source",
        "customers",
        "--key",
        "1",
        "--reason",
        "done",
        "--store",
        &url,
        "--audit",
        &url,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&id), "{out}");
    assert_eq!(shop.read_as(&nobody), masked_nobody);
    // Revoking again: nothing holds (exit 1, audited as a refusal).
    let (code, _, _) = shop.polc(&[
        "grants",
        "revoke",
        "--subject",
        "sam.json",
        "--id",
        &id,
        "--store",
        &url,
        "--audit",
        &url,
    ]);
    assert_eq!(code, 1);

    let audit = shop.audit();
    let expiry = shop
        .count("SELECT count(*) FROM pol.grants WHERE expires = granted_at + interval '1 hour'");
    assert_eq!(expiry, 1);
    let summary: Vec<Json> = audit
        .iter()
        .map(|r| {
            json!([
                r["subject"],
                r["action"],
                r["request"],
                r["source"],
                r["key"],
                r["columns"],
                r["reason"],
                r["expiry"].is_string()
            ])
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            json!([
                "ria",
                "refusal",
                "unmask",
                "customers",
                "1",
                [],
                null,
                false
            ]),
            json!([
                "sam",
                "grant",
                "unmask",
                "customers",
                "1",
                [],
                "ticket 4411",
                true
            ]),
            json!([
                "nobody",
                "unmask",
                "unmask",
                "customers",
                "1",
                ["email", "name"],
                null,
                true
            ]),
            json!([
                "sam",
                "revoke",
                "unmask",
                "customers",
                "1",
                [],
                "done",
                true
            ]),
            json!(["sam", "refusal", "unmask", "", null, [], null, false]),
        ],
        "{audit:#?}"
    );
    assert_eq!(
        audit[1]["detail"],
        json!(format!("granted by escalations for 3600s as grant {id}"))
    );
    assert!(
        audit[3]["detail"].as_str().unwrap_or("").contains(&id),
        "{audit:#?}"
    );
}

#[test]
fn concurrent_requests_and_revocations_lose_nothing_and_revoke_each_grant_once() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let shop = Arc::new(Shop::new(&cluster));
    let engine = Arc::new(shop.engine());
    const THREADS: usize = 6;
    const EACH: usize = 8;
    let sam = json!({"login": "sam", "roles": ["support"]});
    let service = |shop: &Shop| {
        let db = Database::connect(&shop.url(), "pol").expect("connect");
        let sink: Arc<dyn AuditSink> = Arc::new(PostgresSink::new(Arc::clone(&db)));
        GrantService::new(GrantStore::postgres(db), sink, Arc::new(SystemClock))
    };
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (shop, engine, sam) = (Arc::clone(&shop), Arc::clone(&engine), sam.clone());
                scope.spawn(move || {
                    let service = service(&shop);
                    (0..EACH)
                        .map(|i| {
                            let key = Value::Int(((t * EACH + i) % 2 + 1) as i64);
                            service
                                .request_unmask(&engine, &sam, "customers", &key, "load")
                                .expect("granted")
                                .id
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), THREADS * EACH);
    assert_eq!(
        shop.count("SELECT count(*) FROM pol.grants"),
        (THREADS * EACH) as i64
    );
    // Each grant has exactly one audit record naming it (the detail names the grant).
    assert_eq!(
        shop.count(
            "SELECT count(*) FROM pol.grants g WHERE (SELECT count(*) FROM pol.audit a \
             WHERE a.action = 'grant' AND a.detail LIKE '%' || g.id || '%') = 1"
        ),
        (THREADS * EACH) as i64
    );
    assert_eq!(
        shop.count("SELECT count(*) FROM pol.audit"),
        (THREADS * EACH) as i64
    );

    // Every thread revokes every grant of both records at once: each is revoked once.
    let revoked: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (shop, sam) = (Arc::clone(&shop), sam.clone());
                scope.spawn(move || {
                    let service = service(&shop);
                    let mut mine = Vec::new();
                    for key in ["1", "2"] {
                        let which = Revoke::Record {
                            source: "customers".into(),
                            key: key.into(),
                        };
                        if let Ok(gs) = service.revoke(&sam, &which, "cleanup") {
                            mine.extend(gs.into_iter().map(|g| g.id));
                        }
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut revoked_sorted = revoked.clone();
    revoked_sorted.sort();
    assert_eq!(revoked_sorted, unique, "each grant revoked exactly once");
    assert_eq!(
        shop.count("SELECT count(*) FROM pol.grants WHERE revoked_at IS NULL"),
        0
    );
    assert_eq!(
        shop.count("SELECT count(*) FROM pol.audit WHERE action = 'revoke'"),
        (THREADS * EACH) as i64
    );
}

#[test]
fn unusable_databases_fail_closed_with_a_clear_message() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let shop = Shop::new(&cluster);
    let request = |store: &str, audit: &str| shop.request("sam.json", store, audit, &[]);
    // Server down (no socket in that directory).
    let down = format!(
        "postgres:///{}?host={}/nowhere&user=postgres",
        shop.db,
        shop.cluster.socket_dir()
    );
    let (code, _, err) = request(&down, &down);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    // Not a connection string.
    let (code, _, err) = request("postgres://[::1", "postgres://[::1");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a PostgreSQL connection string"), "{err}");
    // A database without the tables of `polc sql`.
    let empty = cluster.database();
    let bare = format!(
        "postgres:///{empty}?host={}&user=postgres",
        shop.cluster.socket_dir()
    );
    let (code, _, err) = request(&bare, &bare);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the table pol.grants does not exist"), "{err}");
    // A password never appears in a message.
    let secret = format!("postgres://postgres:hunter2@nowhere.invalid:1/{}", shop.db);
    let (code, _, err) = request(&secret, &secret);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    // A good store with an audit trail that cannot be opened: nothing is granted.
    let (code, _, err) = request(&shop.url(), &down);
    assert_eq!(code, 2, "{err}");
    assert_eq!(shop.count("SELECT count(*) FROM pol.grants"), 0);
    assert_eq!(shop.count("SELECT count(*) FROM pol.audit"), 0);
    // list and eval against a missing table.
    let (code, _, err) = shop.polc(&["grants", "list", "--store", &bare]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn a_grant_whose_audit_record_cannot_be_committed_does_not_hold() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let shop = Shop::new(&cluster);
    let url = shop.url();
    // The audit table refuses grant records: the grant's transaction cannot commit.
    cluster
        .execute(
            &shop.db,
            "ALTER TABLE pol.audit ADD CONSTRAINT no_grants CHECK (action <> 'grant')",
        )
        .expect("constraint");
    let (code, _, err) = shop.request("sam.json", &url, &url, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no_grants"), "{err}");
    assert_eq!(shop.count("SELECT count(*) FROM pol.grants"), 0);
    // What the audit trail says: the grant could not be stored.
    let audit = shop.audit();
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(audit[0]["action"], json!("refusal"));
    assert!(
        audit[0]["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("the grant could not be stored"),
        "{audit:#?}"
    );
    let nobody = shop.role(&json!({"login": "nobody"}));
    assert_eq!(shop.read_as(&nobody), ["∅/*******", "∅/*******"]);
}

const APPROVALS: &str = r#"
tag PII sensitive;
source customers { id: int key, email: text tagged PII, }
policy pii { mask columns tagged PII using null for everyone }
policy reversible on source customers {
  allow temporary unmask for 8h for everyone who user has role "steward"
    with approval by user has role "officer" within 1h
}
"#;

/// Requests that wait for approval in the PostgreSQL store: pending (no row in `grants`),
/// answered once by concurrent approvers and deniers with their own connections, expired, and
/// every step in the `audit` table.
#[test]
fn approval_requests_are_kept_and_answered_once_in_postgres() {
    use pol_runtime::grants::{ManualClock, RequestState, Requested};
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let db = cluster.database();
    let mut map = SourceMap::new();
    map.add("a.pol", APPROVALS.to_string());
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let opts = Options {
        schema: "pol".into(),
        base_schema: "public".into(),
        hash_key: None,
    };
    let generated = sql::generate(&a.model, &a.resolution, &opts);
    let table = sql::table(&a.model, &opts, 0).expect("the customers table");
    cluster.execute(&db, &table).expect("base table");
    cluster
        .execute(&db, &generated.script_of_supported())
        .expect("script");
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .expect("bundle");
    let engine = Engine::load(&bytes, None).expect("engine");
    let url = format!(
        "postgres:///{db}?host={}&user=postgres",
        cluster.socket_dir()
    );
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
        .expect("time")
        .to_utc();
    let service = |minutes: i64| {
        let conn = Database::connect(&url, "pol").expect("connect");
        let sink: Arc<dyn AuditSink> = Arc::new(PostgresSink::new(Arc::clone(&conn)));
        GrantService::new(
            GrantStore::postgres(conn),
            sink,
            Arc::new(ManualClock::new(t0 + chrono::TimeDelta::minutes(minutes))),
        )
    };
    let count = |sql: &str| -> i64 {
        cluster
            .connect(&db)
            .query_one(sql, &[])
            .expect("count")
            .get(0)
    };
    let steward = json!({"login": "sue", "roles": ["steward"]});
    let request = |key: i64, minutes: i64| match service(minutes).request(
        &engine,
        &steward,
        "customers",
        &Value::Int(key),
        "ticket",
    ) {
        Ok(Requested::Pending(r)) => r,
        other => panic!("expected a pending request, got {other:?}"),
    };
    let first = request(1, 0);
    assert_eq!(count("SELECT count(*) FROM pol.requests"), 1);
    assert_eq!(
        count("SELECT count(*) FROM pol.grants"),
        0,
        "pending: no grant"
    );
    // The requester may not approve; three officers race: one answer.
    let own = service(1).approve(
        &engine,
        &json!({"login": "sue", "roles": ["steward", "officer"]}),
        &first.id,
        "",
    );
    assert!(own.is_err());
    let results: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let (service, engine, id) = (&service, &engine, first.id.clone());
                scope.spawn(move || {
                    let who = json!({"login": format!("o{i}"), "roles": ["officer"]});
                    let s = service(2);
                    if i == 0 {
                        s.deny(engine, &who, &id, "").is_ok()
                    } else {
                        s.approve(engine, &who, &id, "").is_ok()
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("joins"))
            .collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
    let answered = count("SELECT count(*) FROM pol.audit WHERE action IN ('approve', 'deny')");
    assert_eq!(answered, 1);
    let approved = count("SELECT count(*) FROM pol.requests WHERE outcome = 'approved'");
    assert_eq!(count("SELECT count(*) FROM pol.grants"), approved);
    // A second request expires unanswered: recorded and audited once, never approved.
    let second = request(2, 10);
    let late = service(70).approve(
        &engine,
        &json!({"login": "o9", "roles": ["officer"]}),
        &second.id,
        "",
    );
    assert!(late.is_err());
    let states: Vec<(String, String)> = service(71)
        .requests()
        .expect("lists")
        .into_iter()
        .map(|e| (e.request.id, e.state.as_str().to_owned()))
        .collect();
    assert_eq!(states.len(), 2);
    assert_eq!(states[1], (second.id.clone(), "expired".to_owned()));
    assert!(matches!(
        service(71).store().requests(t0).expect("reads")[0].state,
        RequestState::Answered(_)
    ));
    assert_eq!(
        count("SELECT count(*) FROM pol.audit WHERE action = 'expire'"),
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM pol.audit WHERE action = 'request'"),
        2
    );
}
