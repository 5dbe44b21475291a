//! `/mask` decodes its body straight into typed rows (`server/src/api/typed_rows.rs`), while
//! `/explain` still reads it as a JSON tree (`mask_row` per object). For the same body both
//! must agree: the same error (status, code, message) for a body that is refused, and for an
//! accepted one the same masked rows, hidden count and warnings — over cells of every kind
//! against every column type (mismatches, repeated and undeclared keys, escaped keys, nested
//! values under scalar columns, numbers at the edges of `int` and `decimal`).

use serde_json::{json, Value};

use crate::support::*;

const NOW: &str = "2026-03-02T09:00:00Z";

fn start() -> (tempfile::TempDir, Server) {
    let tmp = tempdir();
    let bundle = tmp.path().join("set.polb");
    build_bundle(&repo().join("examples/language-md"), &bundle);
    let key = repo().join("examples/payments-vault/demo/demo.key");
    let server = Server::start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
        "--allow-client-clock",
        "--max-rows",
        "5",
    ]);
    (tmp, server)
}

/// POSTs raw body text; the status and the JSON answer.
fn post_text(server: &Server, path: &str, token: &str, body: &str) -> (u16, Value) {
    let r = client()
        .post(server.url(path))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .expect("request");
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// `/explain`'s answer in `/mask`'s form: the shown rows, the hidden count, the warnings.
fn explained_as_masked(explained: &Value) -> Value {
    let rows: Vec<Value> = explained["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["shown"] == json!(true))
        .map(|r| r["row"].clone())
        .collect();
    let mut out = json!({"rows": rows, "hidden": explained["hidden"]});
    if let Some(w) = explained.get("warnings") {
        out["warnings"] = w.clone();
    }
    out
}

fn both(server: &Server, token: &str, body: &str) -> ((u16, Value), (u16, Value)) {
    (
        post_text(server, "/v1/sources/customers/mask", token, body),
        post_text(server, "/v1/sources/customers/explain", token, body),
    )
}

/// Cells of every JSON kind, and text that decodes for some column types only.
const CELLS: [&str; 24] = [
    "null",
    "true",
    "false",
    "0",
    "-7",
    "42",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "3.5",
    "1.0",
    "1e300",
    "\"\"",
    "\"jenny@example.com\"",
    "\"VA\"",
    "\"TX\"",
    "\"1988-07-14\"",
    "\"1988-02-30\"",
    "\"2024-05-01T12:00:00+02:00\"",
    "\"2024-05-01 12:00\"",
    "[1, \"a\", null]",
    "{\"name\": \"Amy\", \"ssn\": \"123-45-6789\", \"age\": 40, \"extra\": [1]}",
    "\"\\u00e9t\\u00e9 \\\"quoted\\\"\"",
];

const COLUMNS: [&str; 14] = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "ssn",
    "birth_date",
    "country",
    "state",
    "ip_address",
    "salary",
    "created_at",
    "patient",
    "full_name",
];

/// A row (as JSON text) with cell `(i * step + j) % CELLS` in column `j`, a repeated key, an
/// undeclared key, and a key written with escapes.
fn row(i: usize, step: usize) -> String {
    let mut cells: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(j, c)| format!("\"{c}\": {}", CELLS[(i * step + j) % CELLS.len()]))
        .collect();
    cells.push(format!("\"email\": {}", CELLS[(i + 5) % CELLS.len()]));
    cells.push(format!("\"undeclared\": {}", CELLS[i % CELLS.len()]));
    cells.push(format!("\"\\u0073sn\": {}", CELLS[(i + 14) % CELLS.len()]));
    format!("{{{}}}", cells.join(", "))
}

#[test]
fn typed_rows_mask_as_json_objects_do() {
    let (_tmp, server) = start();
    let tokens = [
        hs_token(&json!({"sub": "admin", "department": "it", "clearance": 5})),
        hs_token(&json!({"sub": "amy", "roles": ["agent"], "clearance": "high"})),
    ];
    let mut compared = 0;
    for token in &tokens {
        for step in [1, 5, 7, 11] {
            for first in (0..CELLS.len()).step_by(5) {
                let rows: Vec<String> = (first..first + 5).map(|i| row(i, step)).collect();
                let body = format!("{{\"now\": \"{NOW}\", \"rows\": [{}]}}", rows.join(","));
                let ((ms, masked), (es, explained)) = both(&server, token, &body);
                assert_eq!((ms, es), (200, 200), "{masked} {explained}");
                assert_eq!(masked, explained_as_masked(&explained), "{body}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 2 * 4 * 5);
}

#[test]
fn refused_bodies_are_refused_alike() {
    let (_tmp, server) = start();
    let token = hs_token(&json!({"sub": "admin"}));
    let bodies = [
        "",
        "not json",
        "{\"rows\": [{}]",
        "{\"rows\": [{}]} trailing",
        "[]",
        "[[{}]]",
        "[[{}], \"2026-03-02T09:00:00Z\", 3]",
        "null",
        "\"rows\"",
        "{}",
        "{\"now\": null}",
        "{\"rows\": null}",
        "{\"rows\": {}}",
        "{\"rows\": [], \"rows\": []}",
        "{\"rows\": [], \"now\": null, \"now\": null}",
        "{\"rows\": [], \"other\": 1}",
        "{\"rows\": [1]}",
        "{\"rows\": [{}, \"text\", null]}",
        "{\"rows\": [{}, [1, 2], true]}",
        "{\"rows\": [{}, {}, {}, {}, {}, {}]}",
        "{\"rows\": [1, 2, 3, 4, 5, 6, 7]}",
        "{\"rows\": [{}, {}, {}, {}, {}, {}, {\"id\": }]}",
        "{\"rows\": [\"x\"], \"now\": \"yesterday\"}",
        "{\"rows\": [{}], \"now\": \"yesterday\"}",
        "{\"rows\": [{}], \"now\": 5}",
        "{\"rows\": [{\"id\": 1e999}]}",
        "{\"rows\": [{\"undeclared\": 1e999}]}",
        "{\"rows\": [{\"id\": [1, }]}",
        "{\"rows\": [{\"id\": 1,}]}",
        "{\"rows\": [{\"id\": \"\\ud800\"}]}",
    ];
    for body in bodies {
        let ((ms, masked), (es, explained)) = both(&server, &token, body);
        assert_eq!(ms, es, "{body}: {masked} {explained}");
        if ms == 200 {
            assert_eq!(masked, explained_as_masked(&explained), "{body}");
        } else {
            assert_eq!(masked, explained, "{body}");
        }
    }
    // One of each refusal, exactly.
    let (status, answer) = both(&server, &token, "{\"rows\": [{}, \"text\"]}").0;
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"],
        json!({"code": "row-not-an-object", "message": "rows[1]: a row must be a JSON object, found a string"})
    );
    let (status, answer) = both(&server, &token, "{\"rows\": [], \"other\": 1}").0;
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"]["message"],
        json!("the body does not fit this endpoint: unknown field `other`, expected one of `rows`, `now`, `link_rows` at line 1 column 20")
    );
    let (status, answer) = both(&server, &token, "{\"rows\": [1, 2, 3, 4, 5, 6, 7]}").0;
    assert_eq!(status, 413);
    assert_eq!(
        answer["error"]["message"],
        json!("7 rows; at most 5 per request")
    );
}

#[test]
fn an_unknown_source_is_refused_after_the_body() {
    let (_tmp, server) = start();
    let token = hs_token(&json!({"sub": "admin"}));
    for body in [
        "{\"rows\": [{\"id\": 1}]}",
        "{\"rows\": [7]}",
        "{\"rows\": ",
    ] {
        let masked = post_text(&server, "/v1/sources/nowhere/mask", &token, body);
        let explained = post_text(&server, "/v1/sources/nowhere/explain", &token, body);
        assert_eq!(masked, explained, "{body}");
    }
    let (status, answer) = post_text(
        &server,
        "/v1/sources/nowhere/mask",
        &token,
        "{\"rows\": [{\"id\": 1}]}",
    );
    assert_eq!(status, 404);
    assert_eq!(answer["error"]["code"], json!("unknown-source"));
}
