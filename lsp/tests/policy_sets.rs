//! Policy-set roots in the language server: a folder holding a `pol.toml` is a policy set of its
//! own, so two sets of one workspace never see each other's declarations; an invalid `pol.toml`
//! gets a diagnostic of its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;

use serde_json::json;
use std::path::Path;
use support::{pos, uri, Client};

const SET: &str = "tag PII sensitive;\nsource customers {\n  id: int key,\n  email: text tagged PII,\n}\npolicy p {\n  mask columns tagged PII using null for everyone\n}\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("creates");
    std::fs::write(path, text).expect("writes");
}

#[test]
fn each_root_is_analysed_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a/pol.toml", "name = \"a\"\n");
    write(dir.path(), "a/policy.pol", SET);
    write(dir.path(), "b/pol.toml", "");
    write(dir.path(), "b/deep/policy.pol", SET);
    // Under no root: the workspace folder's set, apart from both.
    write(dir.path(), "loose.pol", SET);
    let mut c = Client::start();
    c.initialize(dir.path());
    let a = format!("{}/a/policy.pol", uri(dir.path()));
    let b = format!("{}/b/deep/policy.pol", uri(dir.path()));
    let loose = format!("{}/loose.pol", uri(dir.path()));
    for doc in [&a, &b, &loose] {
        c.did_open(doc, SET);
        assert_eq!(
            c.diagnostics_at(doc, 1),
            Vec::<serde_json::Value>::new(),
            "{doc}"
        );
    }
    // Definitions stay in the set: `PII` of b's policy is b's tag.
    let d = c.request("textDocument/definition", pos(&b, 6, 22));
    assert_eq!(d[0]["uri"], json!(b), "{d}");
    // An edit in one set does not touch the other: a duplicate in `a` is `a`'s only.
    c.did_change(&a, 2, &format!("{SET}source customers {{ id: int key }}\n"));
    let diags = c.diagnostics_at(&a, 2);
    assert!(diags.iter().any(|d| d["code"] == "E0002"), "{diags:#?}");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn without_roots_the_workspace_folder_is_one_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a/policy.pol", SET);
    write(dir.path(), "b/policy.pol", SET);
    let mut c = Client::start();
    c.initialize(dir.path());
    // The second declaration (b's, in path order) is the duplicate.
    let b = format!("{}/b/policy.pol", uri(dir.path()));
    let diags = c.diagnostics_until(&b, |d| d.iter().any(|d| d["code"] == "E0002"));
    assert!(!diags.is_empty());
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn an_invalid_pol_toml_gets_a_located_diagnostic() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a/pol.toml", "name = \"a\"\nnmae = \"typo\"\n");
    write(dir.path(), "a/policy.pol", SET);
    let mut c = Client::start();
    c.initialize(dir.path());
    let manifest = format!("{}/a/pol.toml", uri(dir.path()));
    let diags = c.diagnostics_until(&manifest, |d| !d.is_empty());
    assert_eq!(
        diags,
        [json!({
            "range": { "start": { "line": 1, "character": 0 }, "end": { "line": 1, "character": 4 } },
            "severity": 1,
            "code": "M0002",
            "source": "polc",
            "message": "unknown key `nmae` (pol.toml may hold: name)",
        })]
    );
    // Fixed on disk and reported by the editor's file watcher: the diagnostic goes.
    write(dir.path(), "a/pol.toml", "name = \"a\"\n");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": manifest, "type": 2 }] }),
    );
    assert!(c.diagnostics_until(&manifest, |d| d.is_empty()).is_empty());
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn the_repository_examples_have_no_cross_example_diagnostics() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let examples = examples.canonicalize().expect("examples");
    let mut c = Client::start();
    c.initialize(&examples);
    // Ask for something so the workspace is analysed, then read what was published.
    let doc = format!("{}/support-desk/schema.pol", uri(&examples));
    c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": doc } }),
    );
    let mut published = Vec::new();
    while let Some(m) = c.next_notification(std::time::Duration::from_millis(500)) {
        if m["method"] == "textDocument/publishDiagnostics" {
            published.extend(
                m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
    }
    assert_eq!(published, Vec::<serde_json::Value>::new());
    assert_eq!(c.shutdown(), Some(0));
}
