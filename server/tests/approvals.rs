//! Requests that wait for approval over HTTP (`examples/data-platform/approvals.pol`): a
//! steward's request is pending (202) and unmasks nothing; the approver is the caller's JWT
//! subject; self-approval and non-approvers are refused (403); approve and deny race to one
//! answer; every step is audited.

use serde_json::{json, Value};

use crate::support::*;

fn get(server: &Server, path: &str, token: &str) -> (u16, Value) {
    let r = client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

#[test]
fn requests_wait_for_an_approver_and_are_answered_once() {
    let tmp = tempdir();
    let dir = tmp.path();
    let bundle = dir.join("dp.polb");
    build_bundle(&repo().join("examples/data-platform"), &bundle);
    let (store, audit) = (dir.join("grants.jsonl"), dir.join("audit.jsonl"));
    let key = repo().join("examples/data-platform/demo/demo.key");
    let server = Server::start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
        "--grants",
        store.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ]);
    let stella = hs_token(&json!({"sub": "stella", "roles": ["data_steward"]}));
    let pia = hs_token(&json!({"sub": "pia", "roles": ["privacy_officer", "data_steward"]}));
    let olly = hs_token(&json!({"sub": "olly", "roles": ["privacy_officer"]}));

    // Pending: 202, nothing unmasked, listed.
    let (status, body) = post(
        &server,
        "/v1/sources/crm_customers/grants",
        &stella,
        &json!({"key": 1, "reason": "ticket 7"}),
    );
    assert_eq!(status, 202, "{body}");
    let request = &body["request"];
    assert_eq!(request["state"], json!("pending"));
    assert_eq!(request["requested_by"], json!("stella"));
    assert_eq!(request["rule"], json!("reversible_masking"));
    let id = request["id"].as_str().unwrap().to_owned();
    let row =
        json!({"id": 1, "full_name": "Jenny Doe", "email": "jenny@example.com", "country": "US"});
    let (status, body) = post(
        &server,
        "/v1/sources/crm_customers/mask",
        &stella,
        &json!({ "rows": [row] }),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"][0]["full_name"], json!(null));
    let (status, listed) = get(&server, "/v1/requests", &olly);
    assert_eq!(status, 200);
    assert_eq!(listed["requests"].as_array().unwrap().len(), 1);
    assert_eq!(listed["requests"][0]["id"], json!(id));

    // A non-approver and the requester's own approval are refused.
    let approve = format!("/v1/requests/{id}/approve");
    let (status, body) = post(&server, &approve, &stella, &json!({}));
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["message"],
        json!("`stella` made request `".to_owned() + &id + "` and may not approve it")
    );

    // An approver approves: the record is clear for every user.
    let (status, body) = post(&server, &approve, &olly, &json!({"reason": "checked"}));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["grant"]["request"], json!(id));
    let (status, body) = post(
        &server,
        "/v1/sources/crm_customers/mask",
        &stella,
        &json!({ "rows": [row] }),
    );
    assert_eq!(status, 200);
    assert_eq!(body["rows"][0]["full_name"], json!("Jenny Doe"));

    // Answered once: a later approval or denial is refused.
    let (status, body) = post(
        &server,
        &format!("/v1/requests/{id}/deny"),
        &pia,
        &json!({}),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["message"],
        json!(format!("request `{id}` is approved, no longer pending"))
    );
    let (_, listed) = get(&server, "/v1/requests", &olly);
    assert_eq!(listed["requests"], json!([]));
    let (_, listed) = get(&server, "/v1/requests?all=true", &olly);
    assert_eq!(listed["requests"][0]["state"], json!("approved"));
    assert_eq!(listed["requests"][0]["answered_by"], json!("olly"));

    // A second request, denied by pia: never approved later.
    let (status, body) = post(
        &server,
        "/v1/sources/crm_customers/grants",
        &stella,
        &json!({"key": 2}),
    );
    assert_eq!(status, 202, "{body}");
    let second = body["request"]["id"].as_str().unwrap().to_owned();
    let (status, body) = post(
        &server,
        &format!("/v1/requests/{second}/deny"),
        &pia,
        &json!({"reason": "no ticket"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["denied"]["requested_by"], json!("stella"));
    let (status, _) = post(
        &server,
        &format!("/v1/requests/{second}/approve"),
        &olly,
        &json!({}),
    );
    assert_eq!(status, 403);
    let (status, body) = post(&server, "/v1/requests/r-unknown/approve", &olly, &json!({}));
    assert_eq!(
        (status, body["error"]["message"].clone()),
        (403, json!("there is no request `r-unknown`"))
    );

    // Every step audited, in order.
    let actions: Vec<(String, String)> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["action"] != "unmask")
        .map(|r| {
            (
                r["subject"].as_str().unwrap().to_owned(),
                r["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("stella", "request"),
        ("stella", "refusal"),
        ("olly", "approve"),
        ("pia", "refusal"),
        ("stella", "request"),
        ("pia", "deny"),
        ("olly", "refusal"),
        ("olly", "refusal"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(actions, expected);
}
