//! Garbage on the wire and in the documents: the server answers what it can, reports what it
//! cannot, and keeps serving the next valid request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;

use serde_json::{json, Value};
use support::{pos, uri, Client};

const TAGS: &str = "tag PII sensitive;\nsource s {\n  a: text tagged PII,\n}\n";

fn started() -> (tempfile::TempDir, Client, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tags.pol"), TAGS).unwrap();
    let mut c = Client::start();
    c.initialize(dir.path());
    let file = format!("{}/tags.pol", uri(dir.path()));
    (dir, c, file)
}

/// A hover the server must still answer: on the keyword `tag` of tags.pol.
fn still_answers(c: &mut Client, file: &str) {
    let h = c.request("textDocument/hover", pos(file, 0, 1));
    assert_eq!(
        h["range"],
        json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 3 } })
    );
    assert!(c.alive());
}

#[test]
fn malformed_json_rpc_and_unknown_methods_do_not_kill_the_server() {
    let (_dir, mut c, file) = started();

    // Not JSON at all: a parse error, with a null id.
    c.send_body("hello, server");
    let err = c.next_unsolicited_answer();
    assert_eq!(err["error"]["code"], -32700, "{err}");
    assert_eq!(err["id"], Value::Null);
    still_answers(&mut c, &file);

    // JSON that is no JSON-RPC message.
    c.send_body(r#"{"hello": [1, 2, 3]}"#);
    c.send_body(r#"{"id": 12, "method": 5}"#);
    c.send_body("[]");
    for id in [Value::Null, json!(12), Value::Null] {
        let err = c.next_unsolicited_answer();
        assert_eq!(err["error"]["code"], -32600, "{err}");
        assert_eq!(err["id"], id);
    }
    still_answers(&mut c, &file);

    // An unknown request method: MethodNotFound; an unknown notification: ignored.
    let id = c.send_request("pol/doesNotExist", json!({}));
    assert_eq!(c.response(id)["error"]["code"], -32601);
    c.notify("pol/somethingHappened", json!({ "x": 1 }));
    c.notify("$/cancelRequest", json!({ "id": 999 }));
    still_answers(&mut c, &file);

    // Parameters of the wrong shape: InvalidParams.
    let id = c.send_request("textDocument/hover", json!({ "textDocument": 3 }));
    assert_eq!(c.response(id)["error"]["code"], -32602);
    let id = c.send_request("textDocument/completion", json!(null));
    assert_eq!(c.response(id)["error"]["code"], -32602);
    c.notify("textDocument/didChange", json!({ "nonsense": true }));
    c.notify("textDocument/didOpen", json!([1, 2]));
    still_answers(&mut c, &file);

    // A frame without a Content-Length (a parse error), then one with a bogus header line
    // before its Content-Length: read past.
    c.write_raw(b"Content-Type: text/plain\r\n\r\n");
    let err = c.next_unsolicited_answer();
    assert_eq!(err["error"]["code"], -32700, "{err}");
    let body = json!({ "jsonrpc": "2.0", "method": "pol/noise" }).to_string();
    c.write_raw(format!("X-Junk: 1\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    still_answers(&mut c, &file);

    // Unknown documents and positions far outside the text: empty answers.
    let nowhere = "file:///nowhere/x.pol";
    assert_eq!(
        c.request("textDocument/hover", pos(nowhere, 0, 0)),
        Value::Null
    );
    assert_eq!(
        c.request("textDocument/hover", pos(&file, 9999, 9999)),
        Value::Null
    );
    assert_eq!(
        c.request("textDocument/definition", pos(&file, u32::MAX, u32::MAX)),
        Value::Null
    );
    let mut refs = pos(&file, 500, 3);
    refs["context"] = json!({ "includeDeclaration": true });
    assert_eq!(c.request("textDocument/references", refs), Value::Null);
    still_answers(&mut c, &file);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn half_typed_and_garbage_documents_are_answered() {
    let (_dir, mut c, file) = started();
    let scratch = file.replace("tags.pol", "scratch.pol");
    let texts = [
        "policy",
        "policy p { mask columns tagged",
        "policy p { mask columns tagged PII.",
        "policy p on source s { only show rows where row.",
        "source t { a: struct { b: ",
        "\u{1F600}`unterminated \"string",
        "{{{{ }}}} ;;; user. row. column x.y. using",
        "\0\u{1}\u{7f}\u{feff}\r\r\n\t",
        "policy p { mask columns tagged PII using hash for everyone who user in group \"a\" }",
    ];
    c.did_open(&scratch, "");
    for (version, text) in texts.iter().enumerate() {
        c.did_change(&scratch, version as i64 + 2, text);
        let lines = text.lines().count().max(1) as u32;
        for line in 0..=lines {
            for ch in [0, 1, 5, 12, 40, 200] {
                for method in [
                    "textDocument/hover",
                    "textDocument/completion",
                    "textDocument/definition",
                    "textDocument/prepareRename",
                ] {
                    let id = c.send_request(method, pos(&scratch, line, ch));
                    let r = c.response(id);
                    assert!(r.get("error").is_none(), "{method} on {text:?}: {r}");
                }
            }
        }
        for method in [
            "textDocument/semanticTokens/full",
            "textDocument/documentSymbol",
            "textDocument/foldingRange",
            "textDocument/formatting",
        ] {
            let id = c.send_request(
                method,
                json!({ "textDocument": { "uri": scratch }, "options": { "tabSize": 2, "insertSpaces": true } }),
            );
            let r = c.response(id);
            assert!(r.get("error").is_none(), "{method} on {text:?}: {r}");
        }
        let range = json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 50, "character": 0 } });
        c.request(
            "textDocument/inlayHint",
            json!({ "textDocument": { "uri": scratch }, "range": range }),
        );
        c.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": scratch }, "range": range, "context": { "diagnostics": [] } }),
        );
        still_answers(&mut c, &file);
    }
    // The last text lacks an `otherwise`: its diagnostics are published, with the fix.
    let diags = c.diagnostics_until(&scratch, |d| d.iter().any(|d| d["code"] == "E0015"));
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_burst_of_edits_ends_with_the_diagnostics_of_the_last_text() {
    let (_dir, mut c, file) = started();
    c.did_open(&file, TAGS);
    // Type a rule character by character without waiting: stale analyses are dropped and the
    // final state is what gets published.
    let rule = "policy p { mask columns tagged PII using null for everyone }\n";
    for n in 1..=rule.len() {
        c.did_change(&file, n as i64 + 1, &format!("{TAGS}{}", &rule[..n]));
    }
    // Before the rule the column is uncovered (W0004); the finished rule covers it.
    assert!(c.diagnostics_at(&file, rule.len() as i64 + 1).is_empty());
    let h = c.request("textDocument/hover", pos(&file, 4, 7));
    assert_eq!(
        h["contents"]["value"],
        "**policy** `p`\n\n*Scope:* `on all sources` (1 sources)\n\n*Rules:*\n- `columns tagged PII`: null\n\n*Covers 1 column(s); first in resolution order on 1 of them.*"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn requests_before_initialize_and_a_closed_input_end_cleanly() {
    let mut c = Client::start();
    let id = c.send_request("textDocument/hover", pos("file:///x.pol", 0, 0));
    assert_eq!(c.response(id)["error"]["code"], -32002);
    // `exit` without `shutdown`: the server exits with status 1, as the protocol asks.
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_exit(), Some(1));
}

#[test]
fn ranged_changes_and_a_client_without_a_workspace_folder() {
    let mut c = Client::start();
    c.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    c.notify("initialized", json!({}));
    let doc = "untitled:Untitled-1";
    c.did_open(doc, TAGS);
    assert_eq!(c.diagnostics_at(doc, 1)[0]["code"], "W0004");
    // A ranged change (sent although the server asks for full text): `PII` on line 2 → `Nope`.
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": doc, "version": 2 },
            "contentChanges": [{
                "range": { "start": { "line": 2, "character": 17 }, "end": { "line": 2, "character": 20 } },
                "text": "Nope",
            }],
        }),
    );
    let d = c.diagnostics_at(doc, 2);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        d[0]["message"],
        "undeclared tag `Nope`\nhelp: declare it: `tag Nope;`"
    );
    let h = c.request("textDocument/hover", pos(doc, 0, 5));
    assert_eq!(
        h["contents"]["value"],
        "**tag** `PII` — sensitive\n\n*Hierarchy:* `PII`\n\n*Columns it marks (0):* none\n\n*Policies targeting it:* none"
    );
    assert_eq!(c.shutdown(), Some(0));
}

/// A hover request on `tag` of tags.pol, with its id, as a JSON body.
fn hover_body(id: i64, file: &str) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": pos(file, 0, 1) })
        .to_string()
}

#[test]
fn a_wrong_content_length_is_reported_and_the_next_frames_are_answered() {
    let (_dir, mut c, file) = started();
    let answered = |c: &mut Client, id: i64| {
        let r = c.response(id);
        assert_eq!(r["result"]["range"]["end"]["character"], 3, "{r}");
    };

    // 5 bytes short, the next request sent at once: the cut body is a parse error, the rest of
    // it is skipped up to the next header, and the next request is answered.
    let bad = hover_body(1001, &file);
    let next = hover_body(1002, &file);
    c.write_raw(
        format!(
            "Content-Length: {}\r\n\r\n{bad}Content-Length: {}\r\n\r\n{next}",
            bad.len() - 5,
            next.len()
        )
        .as_bytes(),
    );
    answered(&mut c, 1002);
    let err = c.next_unsolicited_answer();
    assert_eq!(err["error"]["code"], -32700, "{err}");
    assert_eq!(err["id"], Value::Null);
    still_answers(&mut c, &file);

    // 5 bytes long, then the next request: the long one is rejected with its id (the client is
    // not left waiting), the next one is answered.
    let bad = hover_body(1003, &file);
    let next = hover_body(1004, &file);
    c.write_raw(
        format!(
            "Content-Length: {}\r\n\r\n{bad}Content-Length: {}\r\n\r\n{next}",
            bad.len() + 5,
            next.len()
        )
        .as_bytes(),
    );
    let err = c.response(1003);
    assert_eq!(err["error"]["code"], -32600, "{err}");
    assert_eq!(
        err["error"]["message"],
        format!(
            "Invalid request: Content-Length {} is longer than the message ({} bytes); the message was not handled",
            bad.len() + 5,
            bad.len()
        )
    );
    answered(&mut c, 1004);

    // Long, and the client waits for the answer before sending anything else.
    let bad = hover_body(1005, &file);
    c.write_raw(format!("Content-Length: {}\r\n\r\n{bad}", bad.len() + 5).as_bytes());
    assert_eq!(c.response(1005)["error"]["code"], -32600);
    still_answers(&mut c, &file);

    // Two Content-Length headers of the same value: rejected with the request's id.
    let bad = hover_body(1006, &file);
    c.write_raw(
        format!(
            "Content-Length: {0}\r\nContent-Length: {0}\r\n\r\n{bad}",
            bad.len()
        )
        .as_bytes(),
    );
    let err = c.response(1006);
    assert_eq!(
        err["error"]["message"], "Invalid request: 2 Content-Length headers",
        "{err}"
    );
    still_answers(&mut c, &file);

    // Two that disagree: no length is trusted; the body is skipped up to the next header.
    let bad = hover_body(1007, &file);
    let next = hover_body(1008, &file);
    c.write_raw(
        format!(
            "Content-Length: {}\r\nContent-Length: {}\r\n\r\n{bad}Content-Length: {}\r\n\r\n{next}",
            bad.len(),
            bad.len() + 9,
            next.len()
        )
        .as_bytes(),
    );
    answered(&mut c, 1008);
    let err = c.next_unsolicited_answer();
    assert_eq!(err["error"]["code"], -32700, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2 Content-Length headers that disagree")),
        "{err}"
    );
    // Request 1007 was never handled: nothing answers it.
    assert!(c.pending.iter().all(|m| m["id"] != 1007));
    still_answers(&mut c, &file);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_deeply_nested_condition_does_not_kill_the_server() {
    // 1,500 `and` terms: beyond what tokio's default 2 MiB thread stack held for the analysis.
    let (_dir, mut c, file) = started();
    let terms: Vec<String> = (0..1500)
        .map(|i| format!("user.login == \"u{i}\""))
        .collect();
    let deep = format!(
        "{TAGS}policy deep {{\n  mask columns tagged PII using null for everyone except {}\n}}\n",
        terms.join(" and ")
    );
    let scratch = file.replace("tags.pol", "deep.pol");
    c.did_open(&scratch, &deep);
    c.diagnostics_at(&scratch, 1);
    still_answers(&mut c, &file);
    assert_eq!(c.shutdown(), Some(0));
}
