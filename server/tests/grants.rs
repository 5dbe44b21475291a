//! Temporary unmask grants and detokenize over HTTP, on the file store: decided by the policy,
//! audited, equal to `polc grants` / `polc eval --grants` / `polc detokenize`; and `kill -9`
//! under load, then a restart: grants and audit exact.
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

fn audit_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Nothing lost: every grant answered 201 is `stored`. Nothing invented: the stored grants are
/// exactly those of `trail` (audit records, `action` and `detail`) audited as granted and not
/// audited as abandoned (a request interrupted by a crash, settled at the restart: at most one
/// per server killed).
pub fn assert_exact(
    acknowledged: &BTreeSet<String>,
    stored: &BTreeSet<String>,
    trail: &[Value],
    servers_killed: usize,
) {
    assert!(
        acknowledged.is_subset(stored),
        "lost: {:?}",
        acknowledged.difference(stored).collect::<Vec<_>>()
    );
    let grant_id = |r: &Value| -> Option<String> {
        let d = r["detail"].as_str()?;
        let at = d.find("grant g-")?;
        Some(d[at + 6..].split([' ', ':']).next()?.to_owned())
    };
    let granted: BTreeSet<String> = trail
        .iter()
        .filter(|r| r["action"] == "grant")
        .filter_map(grant_id)
        .collect();
    let abandoned: BTreeSet<String> = trail
        .iter()
        .filter(|r| {
            r["action"] == "refusal"
                && r["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("did not take effect")
        })
        .filter_map(grant_id)
        .collect();
    let effective: BTreeSet<String> = granted.difference(&abandoned).cloned().collect();
    assert_eq!(stored, &effective);
    assert!(abandoned.len() <= servers_killed, "{abandoned:?}");
}

/// One client asking for grants in a loop (at most 2,000 requests) until `stop`; the id of every
/// grant the server acknowledged with 201 goes into `acknowledged`.
pub fn grant_requester(
    w: usize,
    url: String,
    token: String,
    acknowledged: &Arc<Mutex<BTreeSet<String>>>,
    stop: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let (ack, stop) = (Arc::clone(acknowledged), Arc::clone(stop));
    std::thread::spawn(move || {
        let c = client();
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) && i < 2000 {
            i += 1;
            let r = c
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({"key": (w + i) % 3 + 1}))
                .send();
            if let Ok(r) = r {
                if r.status() == 201 {
                    if let Ok(v) = r.json::<Value>() {
                        ack.lock()
                            .unwrap()
                            .insert(v["grant"]["id"].as_str().unwrap().to_owned());
                    }
                }
            }
        }
    })
}

pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn grants_are_decided_audited_and_applied_as_polc_does() {
    let tmp = tempdir();
    let dir = tmp.path();
    let bundle = dir.join("sd.polb");
    build_bundle(&repo().join("examples/support-desk"), &bundle);
    let (store, audit) = (dir.join("grants.jsonl"), dir.join("audit.jsonl"));
    let server = Server::start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
        "--allow-client-clock",
        "--grants",
        store.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ]);
    let amy = hs_token(&json!({"sub": "amy", "roles": ["agent"], "team": "billing"}));
    let eli = hs_token(&json!({"sub": "eli", "roles": ["escalation_manager"]}));
    let (status, body) = post(
        &server,
        "/v1/sources/customers/grants",
        &amy,
        &json!({"key": "1", "reason": "caller"}),
    );
    assert_eq!(status, 403);
    assert_eq!(
        body["error"]["message"],
        json!("no `allow temporary unmask` rule of `customers` allows this user")
    );
    let (status, body) = post(
        &server,
        "/v1/sources/customers/grants",
        &eli,
        &json!({"key": 1, "reason": "ticket 4411"}),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["grant"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["grant"]["rule"], json!("escalations"));
    let (status, body) = post(
        &server,
        "/v1/sources/customers/grants",
        &eli,
        &json!({"key": "x"}),
    );
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("bad-key"))
    );

    // The listing equals `polc grants list --format json --all`.
    let at = rfc3339(now_secs() + 60);
    let listed: Value = client()
        .get(server.url(&format!("/v1/grants?all=true&now={at}")))
        .bearer_auth(&amy)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let reference = run_polc(
        &[
            "grants",
            "list",
            "--store",
            store.to_str().unwrap(),
            "--format",
            "json",
            "--all",
            "--now",
            &at,
        ],
        None,
    );
    let expected: Vec<Value> = String::from_utf8(reference.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed["grants"], Value::Array(expected));

    // Masking applies the grant, for amy too, as `polc eval --grants` does.
    let rows_file = repo().join("examples/support-desk/demo/customers.jsonl");
    let rows: Vec<Value> = std::fs::read_to_string(&rows_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (status, body) = post(
        &server,
        "/v1/sources/customers/mask",
        &amy,
        &json!({"rows": rows, "now": at}),
    );
    assert_eq!(status, 200);
    assert_eq!(body["rows"][0]["email"], json!("jenny@example.com"));
    assert_eq!(body["rows"][1]["email"], json!("*******.org"));
    let store_copy = dir.join("copy.jsonl");
    std::fs::copy(&store, &store_copy).unwrap();
    let amy_file = repo().join("examples/support-desk/demo/amy.json");
    let reference = run_polc(
        &[
            "eval",
            "--bundle",
            bundle.to_str().unwrap(),
            "--subject",
            amy_file.to_str().unwrap(),
            "--source",
            "customers",
            "--rows",
            rows_file.to_str().unwrap(),
            "--now",
            &at,
            "--grants",
            store_copy.to_str().unwrap(),
        ],
        None,
    );
    let got: String = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{r}\n"))
        .collect();
    assert_eq!(got, String::from_utf8(reference.stdout).unwrap());

    // Revoke, then nothing is left to revoke.
    let (status, body) = post(
        &server,
        "/v1/grants/revoke",
        &eli,
        &json!({"id": id, "reason": "done"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"][0]["id"], json!(id));
    let (status, body) = post(
        &server,
        "/v1/grants/revoke",
        &eli,
        &json!({"source": "customers", "key": 1}),
    );
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("no-grant"))
    );

    let trail: Vec<(String, String)> = audit_lines(&audit)
        .iter()
        .map(|r| {
            (
                r["subject"].as_str().unwrap().to_owned(),
                r["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("amy", "refusal"),
        ("eli", "grant"),
        ("amy", "unmask"),
        ("eli", "revoke"),
        ("eli", "refusal"),
    ]
    .iter()
    .map(|(s, a)| (s.to_string(), a.to_string()))
    .collect();
    assert_eq!(trail, expected);
}

#[test]
fn detokenize_is_decided_by_the_policy_and_audited() {
    let tmp = tempdir();
    let dir = tmp.path();
    let vault = repo().join("examples/payments-vault");
    let bundle = dir.join("pv.polb");
    build_bundle(&vault, &bundle);
    let key = vault.join("demo/demo.key");
    let audit = dir.join("audit.jsonl");
    let server = Server::start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
        "--audit",
        audit.to_str().unwrap(),
    ]);
    let bill = hs_token(&json!({"sub": "bill", "roles": ["billing"]}));
    let cleo = hs_token(&json!({"sub": "cleo", "roles": ["clerk"]}));
    let row = json!({"rows": [{"id": 1, "card_number": "4111 1111 1111 1111"}]});
    let (status, body) = post(&server, "/v1/sources/cards/mask", &cleo, &row);
    assert_eq!(status, 200);
    let token = body["rows"][0]["card_number"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tok_"), "{token}");
    let request = json!({"column": "card_number", "values": [token], "reason": "refund"});
    let (status, body) = post(&server, "/v1/sources/cards/detokenize", &bill, &request);
    assert_eq!(
        (status, body.clone()),
        (200, json!({"values": ["4111 1111 1111 1111"]}))
    );
    let bill_file = vault.join("demo/bill.json");
    let reference = run_polc(
        &[
            "detokenize",
            "--bundle",
            bundle.to_str().unwrap(),
            "--subject",
            bill_file.to_str().unwrap(),
            "--source",
            "cards",
            "--column",
            "card_number",
            "--key-file",
            key.to_str().unwrap(),
            "--value",
            &token,
        ],
        None,
    );
    assert_eq!(
        String::from_utf8(reference.stdout).unwrap(),
        "4111 1111 1111 1111\n"
    );
    let (status, body) = post(&server, "/v1/sources/cards/detokenize", &cleo, &request);
    assert_eq!(status, 403);
    assert_eq!(
        body["error"]["message"],
        json!("no `allow detokenize` rule of `cards.card_number` allows this user")
    );
    let (status, body) = post(
        &server,
        "/v1/sources/cards/detokenize",
        &bill,
        &json!({"column": "card_number", "values": ["tok_nope"]}),
    );
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (422, json!("cannot-detokenize"))
    );
    // Tokenize: the same token as masking gives, for whom may detokenize; refused otherwise.
    let request = json!({"column": "card_number", "values": ["4111 1111 1111 1111"]});
    let (status, body) = post(&server, "/v1/sources/cards/tokenize", &bill, &request);
    assert_eq!((status, body), (200, json!({"values": [token]})));
    let (status, body) = post(&server, "/v1/sources/cards/tokenize", &cleo, &request);
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("refused"))
    );
    let trail: Vec<String> = audit_lines(&audit)
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["subject"].as_str().unwrap(),
                r["action"].as_str().unwrap(),
                r["request"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            "bill detokenize detokenize",
            "cleo refusal detokenize",
            "bill refusal detokenize",
            "bill tokenize tokenize",
            "cleo refusal tokenize",
        ]
    );
    assert!(
        !std::fs::read_to_string(&audit).unwrap().contains("4111"),
        "an original reached the audit trail"
    );
}

#[test]
fn kill_9_under_load_then_restart_loses_and_invents_nothing() {
    let tmp = tempdir();
    let dir = tmp.path();
    let bundle = dir.join("sd.polb");
    build_bundle(&repo().join("examples/support-desk"), &bundle);
    let (store, audit) = (dir.join("grants.jsonl"), dir.join("audit.jsonl"));
    let args = [
        "--bundle".to_owned(),
        bundle.display().to_string(),
        "--jwt-key".into(),
        hs_key_arg(),
        "--grants".into(),
        store.display().to_string(),
        "--audit".into(),
        audit.display().to_string(),
    ];
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut first_args = vec!["--listen".to_owned(), listen.clone()];
    first_args.extend(args.iter().cloned());
    let mut server = Server::start_with(first_args.clone(), format!("http://{listen}"));
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let eli = hs_token(&json!({"sub": "eli", "roles": ["escalation_manager"]}));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            grant_requester(
                w,
                server.url("/v1/sources/customers/grants"),
                eli.clone(),
                &acknowledged,
                &stop,
            )
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    server.signal("KILL");
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    server.wait_exit(10);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 5,
        "too little load: {}",
        acknowledged.len()
    );

    // Restart on the same files: an interrupted request is settled.
    let restarted = Server::start_with(first_args, format!("http://{listen}"));
    let listed: Value = client()
        .get(restarted.url("/v1/grants?all=true"))
        .bearer_auth(&eli)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let stored: BTreeSet<String> = listed["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect();
    assert_exact(&acknowledged, &stored, &audit_lines(&audit), 1);
    // And the store still works after the restart.
    let (status, _) = post(
        &restarted,
        "/v1/sources/customers/grants",
        &eli,
        &json!({"key": 2}),
    );
    assert_eq!(status, 201);
}
