//! Parent rows for linked visibility (`"link_rows"` in `/mask` and `/explain` bodies): the
//! server decides each parent row's visibility for the caller, as `polc eval --link-rows` does,
//! and without parent rows a row that follows a parent is hidden.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::*;

const POLICIES: &str = "source orders { id: int key, region: text, }\n\
    source lines { id: int key, order_id: int links orders.id, sku: text, }\n\
    source notes { text: text, }\n\
    policy regional on source orders {\n\
      only show rows where row.region == \"EU\" for everyone except user in group \"Legal\"\n\
    }\n\
    policy follow on source lines {\n\
      only show rows linked to shown orders for everyone except user in group \"Legal\"\n\
    }\n";

fn orders() -> Value {
    json!([{"id": 1, "region": "EU"}, {"id": 2, "region": "US"}])
}

fn lines() -> Value {
    json!([
        {"id": 10, "order_id": 1, "sku": "a"},
        {"id": 11, "order_id": 2, "sku": "b"},
        {"id": 12, "order_id": 3, "sku": "c"},
        {"id": 13, "order_id": null, "sku": "d"},
    ])
}

fn jsonl(rows: &Value) -> String {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{r}\n"))
        .collect()
}

/// The bundle of [`POLICIES`], built in `tmp`.
fn built(tmp: &Path) -> PathBuf {
    let dir = tmp.join("set");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("p.pol"), POLICIES).unwrap();
    let polb = tmp.join("set.polb");
    build_bundle(&dir, &polb);
    polb
}

#[test]
fn parent_rows_decide_the_rows_that_follow_them_as_polc_eval_does() {
    let tmp = tempdir();
    let polb = built(tmp.path());
    let orders_file = tmp.path().join("orders.jsonl");
    std::fs::write(&orders_file, jsonl(&orders())).unwrap();
    let subject_file = tmp.path().join("ana.json");
    std::fs::write(&subject_file, r#"{"login": "ana"}"#).unwrap();
    let server = Server::start(&[
        "--bundle",
        polb.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
    ]);
    let ana = hs_token(&json!({"sub": "ana"}));
    let legal = hs_token(&json!({"sub": "lee", "groups": ["Legal"]}));
    let with_parents = json!({
        "rows": lines(),
        "link_rows": [{"source": "orders", "rows": orders()}],
    });

    // Without parent rows every line is hidden (fail closed); Legal is exempt.
    let (status, body) = post(
        &server,
        "/v1/sources/lines/mask",
        &ana,
        &json!({"rows": lines()}),
    );
    assert_eq!((status, body), (200, json!({"rows": [], "hidden": 4})));
    let (status, body) = post(
        &server,
        "/v1/sources/lines/mask",
        &legal,
        &json!({"rows": lines()}),
    );
    assert_eq!((status, body["hidden"].clone()), (200, json!(0)));

    // With them: only the line of the shown order, byte for byte what polc eval prints.
    let (status, body) = post(&server, "/v1/sources/lines/mask", &ana, &with_parents);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"rows": [{"id": 10, "order_id": 1, "sku": "a"}], "hidden": 3})
    );
    let eval = run_polc(
        &[
            "eval",
            "--bundle",
            polb.to_str().unwrap(),
            "--subject",
            subject_file.to_str().unwrap(),
            "--source",
            "lines",
            "--link-rows",
            &format!("orders={}", orders_file.display()),
        ],
        Some(jsonl(&lines()).as_bytes()),
    );
    assert!(eval.status.success(), "{eval:?}");
    let printed: Vec<Value> = String::from_utf8(eval.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(body["rows"], json!(printed));

    // /explain reads the same field: only the first line is shown.
    let (status, body) = post(&server, "/v1/sources/lines/explain", &ana, &with_parents);
    assert_eq!(status, 200, "{body}");
    let shown: Vec<Value> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["shown"].clone())
        .collect();
    assert_eq!(
        shown,
        [json!(true), json!(false), json!(false), json!(false)]
    );
    let (_, body) = post(
        &server,
        "/v1/sources/lines/explain",
        &ana,
        &json!({"rows": lines()}),
    );
    assert!(body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["shown"] == json!(false)));
}

#[test]
fn bad_parent_rows_are_refused() {
    let tmp = tempdir();
    let polb = built(tmp.path());
    let server = Server::start(&[
        "--bundle",
        polb.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
        "--max-rows",
        "3",
    ]);
    let ana = hs_token(&json!({"sub": "ana"}));
    let one = json!([{"id": 10, "order_id": 1, "sku": "a"}]);
    for path in ["/v1/sources/lines/mask", "/v1/sources/lines/explain"] {
        let cases = [
            (
                json!({"rows": one, "link_rows": [{"source": "shipments", "rows": []}]}),
                404,
                "unknown-source",
                "no source `shipments` in the policies",
            ),
            (
                json!({"rows": one, "link_rows": [{"source": "notes", "rows": []}]}),
                400,
                "not-a-parent",
                "link_rows: source `notes` has no key column: its rows cannot be parents",
            ),
            (
                json!({"rows": one, "link_rows": [
                    {"source": "orders", "rows": orders()},
                    {"source": "orders", "rows": orders()},
                ]}),
                413,
                "too-large",
                "4 parent rows in link_rows; at most 3 per request",
            ),
            (
                json!({"rows": one, "link_rows": [{"source": "orders", "rows": [1]}]}),
                400,
                "bad-json",
                "",
            ),
        ];
        for (body, status, code, message) in cases {
            let (got, answer) = post(&server, path, &ana, &body);
            assert_eq!(got, status, "{path} {body}: {answer}");
            assert_eq!(answer["error"]["code"], json!(code), "{path}: {answer}");
            if !message.is_empty() {
                assert_eq!(answer["error"]["message"], json!(message), "{path}");
            }
        }
    }
}
