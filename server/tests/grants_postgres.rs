//! Grants and audit on the PostgreSQL store (`--grants postgres://… --audit postgres://…`),
//! against a throwaway cluster (the compiler's `tests/support/pg.rs`, shared by path): two
//! servers on one database share grants and one audit trail, and `kill -9` of both under load,
//! then a restart, loses and invents nothing, as on the file store. Without PostgreSQL the
//! tests say so and return; with `CI=true` they fail.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::grants::{assert_exact, grant_requester, rfc3339};
use crate::pg::Cluster;
use crate::support::*;

/// A database with support-desk's base tables and the `polc sql` script (schema `pol`); its
/// connection string.
fn support_desk_database(cluster: &Cluster) -> String {
    let db = cluster.database();
    let policies = repo().join("examples/support-desk");
    for emit in ["tables", "script"] {
        let o = run_polc(
            &[
                "sql",
                "--dialect",
                "postgres",
                "--emit",
                emit,
                policies.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        cluster
            .execute(&db, &String::from_utf8(o.stdout).unwrap())
            .unwrap_or_else(|e| panic!("polc sql --emit {emit}: {e}"));
    }
    format!(
        "postgres:///{db}?host={}&user=postgres",
        cluster.socket_dir()
    )
}

/// The audit trail as the file store writes it: `action` and `detail` of each record, in order.
fn audit_records(cluster: &Cluster, url: &str) -> Vec<Value> {
    let db = url
        .trim_start_matches("postgres:///")
        .split('?')
        .next()
        .unwrap();
    cluster
        .connect(db)
        .query("SELECT action, detail FROM pol.audit ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| json!({"action": r.get::<_, String>(0), "detail": r.get::<_, String>(1)}))
        .collect()
}

fn server_args(bundle: &str, url: &str) -> Vec<String> {
    [
        "--bundle",
        bundle,
        "--jwt-key",
        &hs_key_arg(),
        "--allow-client-clock",
        "--grants",
        url,
        "--audit",
        url,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn start_on(port: u16, args: &[String]) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let mut all = vec!["--listen".to_owned(), listen.clone()];
    all.extend(args.iter().cloned());
    Server::start_with(all, format!("http://{listen}"))
}

fn list_ids(server: &Server, token: &str) -> BTreeSet<String> {
    let listed: Value = client()
        .get(server.url("/v1/grants?all=true"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    listed["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn two_servers_share_grants_and_one_audit_trail() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let url = support_desk_database(&cluster);
    let tmp = tempdir();
    let bundle = tmp.path().join("sd.polb");
    build_bundle(&repo().join("examples/support-desk"), &bundle);
    let args = server_args(bundle.to_str().unwrap(), &url);
    let a = start_on(free_port(), &args);
    let b = start_on(free_port(), &args);
    let amy = hs_token(&json!({"sub": "amy", "roles": ["agent"], "team": "billing"}));
    let eli = hs_token(&json!({"sub": "eli", "roles": ["escalation_manager"]}));
    let rows: Vec<Value> =
        std::fs::read_to_string(repo().join("examples/support-desk/demo/customers.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let at = rfc3339(now_secs() + 60);
    let mask = |server: &Server| {
        let (status, body) = post(
            server,
            "/v1/sources/customers/mask",
            &amy,
            &json!({"rows": rows, "now": at}),
        );
        assert_eq!(status, 200, "{body}");
        body["rows"][0]["email"].clone()
    };
    // Before any grant, both servers mask the first customer's email for amy.
    assert_ne!(mask(&a), json!("jenny@example.com"));
    assert_ne!(mask(&b), json!("jenny@example.com"));

    // A grant asked of server A holds on server B.
    let (status, body) = post(
        &a,
        "/v1/sources/customers/grants",
        &eli,
        &json!({"key": 1, "reason": "ticket 4411"}),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["grant"]["id"].as_str().unwrap().to_owned();
    assert_eq!(list_ids(&b, &amy), BTreeSet::from([id.clone()]));
    assert_eq!(mask(&b), json!("jenny@example.com"));
    // A refusal on B, then a revocation on B, seen by A.
    let (status, _) = post(&b, "/v1/sources/customers/grants", &amy, &json!({"key": 1}));
    assert_eq!(status, 403);
    let (status, body) = post(
        &b,
        "/v1/grants/revoke",
        &eli,
        &json!({"id": id, "reason": "done"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"][0]["id"], json!(id));
    assert_ne!(mask(&a), json!("jenny@example.com"));

    // One audit trail, in order: the grant (A), the reveal (B), the refusal (B), the
    // revocation (B).
    let actions: Vec<Value> = audit_records(&cluster, &url)
        .iter()
        .map(|r| r["action"].clone())
        .collect();
    assert_eq!(
        actions,
        vec![
            json!("grant"),
            json!("unmask"),
            json!("refusal"),
            json!("revoke")
        ]
    );
}

#[test]
fn kill_9_of_both_servers_under_load_then_restart_loses_and_invents_nothing() {
    let Some(cluster) = Cluster::get() else {
        return;
    };
    let url = support_desk_database(&cluster);
    let tmp = tempdir();
    let bundle = tmp.path().join("sd.polb");
    build_bundle(&repo().join("examples/support-desk"), &bundle);
    let args = server_args(bundle.to_str().unwrap(), &url);
    let ports = [free_port(), free_port()];
    let mut servers: Vec<Server> = ports.iter().map(|p| start_on(*p, &args)).collect();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let eli = hs_token(&json!({"sub": "eli", "roles": ["escalation_manager"]}));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            grant_requester(
                w,
                servers[w % 2].url("/v1/sources/customers/grants"),
                eli.clone(),
                &acknowledged,
                &stop,
            )
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    for s in &servers {
        s.signal("KILL");
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    for s in &mut servers {
        s.wait_exit(10);
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 5,
        "too little load: {}",
        acknowledged.len()
    );

    // Restart one server on the same database: the stored grants are exactly the audited ones.
    let restarted = start_on(ports[0], &args);
    let stored = list_ids(&restarted, &eli);
    assert_exact(&acknowledged, &stored, &audit_records(&cluster, &url), 2);
    let (status, _) = post(
        &restarted,
        "/v1/sources/customers/grants",
        &eli,
        &json!({"key": 2}),
    );
    assert_eq!(status, 201);
}
