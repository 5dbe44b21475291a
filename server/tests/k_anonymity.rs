//! `/mask` on a source with `k_anonymity K over …`: the rows of one request are the batch made
//! k-anonymous (as `polc eval` does with its whole input); one row alone shows its
//! quasi-identifiers null.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use serde_json::{json, Value};

use crate::support::*;

const POLICIES: &str = "source people { id: int key, zip: text, age: int, note: text, }\n\
    policy anonymity on source people { k_anonymity 2 over zip, age }\n";

#[test]
fn the_rows_of_one_request_are_made_k_anonymous() {
    let tmp = tempdir();
    let dir = tmp.path().join("set");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("p.pol"), POLICIES).unwrap();
    let bundle = tmp.path().join("set.polb");
    build_bundle(&dir, &bundle);
    let server = Server::start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
    ]);
    let token = hs_token(&json!({"sub": "ana"}));
    let rows = json!([
        {"id": 1, "zip": "10001", "age": 31, "note": "a"},
        {"id": 2, "zip": "10002", "age": 33, "note": "b"},
        {"id": 3, "zip": "20001", "age": 52, "note": "c"},
    ]);
    let (status, body) = post(
        &server,
        "/v1/sources/people/mask",
        &token,
        &json!({"rows": rows}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["rows"],
        json!([
            {"id": 1, "zip": "1000*", "age": "30-35", "note": "a"},
            {"id": 2, "zip": "1000*", "age": "30-35", "note": "b"},
            {"id": 3, "zip": null, "age": null, "note": "c"},
        ])
    );
    assert_eq!(body["hidden"], json!(0));
    let one = json!([{"id": 1, "zip": "10001", "age": 31, "note": "a"}]);
    let (status, body) = post(
        &server,
        "/v1/sources/people/mask",
        &token,
        &json!({"rows": one}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["rows"],
        json!([{"id": 1, "zip": Value::Null, "age": Value::Null, "note": "a"}])
    );
}
