//! Drives the built `pol-lsp` over stdio as an editor does: a workspace folder of `.pol` files,
//! `initialize`, `didOpen`, `didChange`, then every feature request, with snapshots of the
//! responses (URIs of the temporary folder shown as `file:///ws/`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::ide_fixture::{DECLS, FILES, POLICIES};
use crate::support;

use pol_compiler::source_map::SourceMap;
use serde_json::{json, Value};
use std::path::Path;
use support::{end_of, find, pos, uri, Client};

/// `POLICIES` with a typo after an emoji (UTF-16 positions differ from bytes and chars there), a
/// policy declared twice (an error with related information) and a missing `otherwise`.
const BROKEN: &str = r#"policy null_pii "🔒 first" { mask columns tagged PII.Emial using null for everyone }

policy null_pii {
  mask columns tagged PII.SSN using null for everyone
}

policy second {
  mask columns tagged PII using null for everyone who user in group "x"
}
"#;

struct Workspace {
    _dir: tempfile::TempDir,
    root: String,
    a: String,
    b: String,
}

fn workspace() -> Workspace {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in FILES {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let root = uri(dir.path());
    Workspace {
        a: format!("{root}/a.pol"),
        b: format!("{root}/b.pol"),
        root,
        _dir: dir,
    }
}

/// A value with the keys of its objects sorted (the server's maps, such as a workspace edit's
/// `changes`, have no fixed order).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        v => v.clone(),
    }
}

/// A response as pretty JSON (keys sorted) with the temporary folder's URI replaced.
fn show(ws: &Workspace, v: &Value) -> String {
    serde_json::to_string_pretty(&sorted(v))
        .unwrap()
        .replace(&ws.root, "file:///ws")
}

/// `polc check`'s diagnostics for the given texts of a.pol and b.pol, as LSP diagnostics of the
/// file `name`: code, UTF-16 range, severity, related information.
fn polc_check(ws: &Workspace, a: &str, b: &str, name: &str) -> Vec<Value> {
    let mut map = SourceMap::new();
    let root = ws.root.strip_prefix("file://").unwrap();
    map.add(format!("{root}/a.pol"), a);
    map.add(format!("{root}/b.pol"), b);
    let check = pol_compiler::check(&map);
    let range = |loc: pol_compiler::source_map::Loc| {
        let f = map.get(loc.file);
        let (l0, c0) = f.lines.position_utf16(&f.text, loc.span.start as usize);
        let (l1, c1) = f.lines.position_utf16(&f.text, loc.span.end as usize);
        json!({ "start": { "line": l0, "character": c0 }, "end": { "line": l1, "character": c1 } })
    };
    let file_uri =
        |loc: pol_compiler::source_map::Loc| format!("file://{}", map.get(loc.file).name);
    check
        .diagnostics
        .iter()
        .filter(|d| file_uri(d.primary.loc()).ends_with(name))
        .map(|d| {
            let related: Vec<Value> = d
                .secondary
                .iter()
                .map(|l| json!({ "uri": file_uri(l.loc()), "range": range(l.loc()), "message": l.message }))
                .collect();
            json!({
                "code": d.code.as_str(),
                "range": range(d.primary.loc()),
                "severity": if d.code.as_str().starts_with('E') { 1 } else { 2 },
                "related": related,
            })
        })
        .collect()
}

/// The parts of published diagnostics `polc_check` gives.
fn essentials(diags: &[Value]) -> Vec<Value> {
    diags
        .iter()
        .map(|d| {
            let related: Vec<Value> = d["relatedInformation"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|r| json!({ "uri": r["location"]["uri"], "range": r["location"]["range"], "message": r["message"] }))
                .collect();
            json!({ "code": d["code"], "range": d["range"], "severity": d["severity"], "related": related })
        })
        .collect()
}

#[test]
fn diagnostics_are_polc_checks_per_file_and_clear_when_fixed() {
    let ws = workspace();
    let mut c = Client::start();
    c.initialize(Path::new(ws.root.strip_prefix("file://").unwrap()));
    c.did_open(&ws.b, BROKEN);
    // (The server may publish for b.pol alone before it has read a.pol from the disk.)
    let expected = polc_check(&ws, DECLS, BROKEN, "b.pol");
    let b = c.diagnostics_until(&ws.b, |d| essentials(d) == expected);
    insta::assert_snapshot!("diagnostics_b", show(&ws, &Value::Array(b.clone())));
    let codes: Vec<&str> = b.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["E0003", "E0002", "E0015"]);
    // The typo leaves the sensitive columns of a.pol uncovered: published for a.pol.
    let expected = polc_check(&ws, DECLS, BROKEN, "a.pol");
    let a = c.diagnostics_until(&ws.a, |d| essentials(d) == expected);
    let codes: Vec<&str> = a.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["W0004", "W0004", "W0004"]);

    // Fixed: both files are cleared.
    c.did_change(&ws.b, 2, POLICIES);
    // Published at the editor's version of the document.
    assert!(c.diagnostics_at(&ws.b, 2).is_empty());
    assert!(c.diagnostics_until(&ws.a, |d| d.is_empty()).is_empty());
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn every_feature_answers_as_an_editor_expects() {
    let ws = workspace();
    let mut c = Client::start();
    let init = c.initialize(Path::new(ws.root.strip_prefix("file://").unwrap()));
    insta::assert_snapshot!("initialize", show(&ws, &init));
    c.did_open(&ws.a, DECLS);
    c.did_open(&ws.b, POLICIES);

    // Hover: tag, column, technique, keyword, policy.
    let hovers = [
        ("tag", &ws.b, find(POLICIES, "PII.SSN", 0, 5)),
        ("column", &ws.a, find(DECLS, "ssn:", 0, 1)),
        ("technique", &ws.b, find(POLICIES, "using hash", 0, 7)),
        ("keyword", &ws.b, find(POLICIES, "mask", 0, 1)),
        ("policy", &ws.b, find(POLICIES, "research_email", 0, 3)),
        ("purpose", &ws.b, find(POLICIES, "Research", 0, 3)),
    ];
    let mut out = String::new();
    for (what, file, (line, ch)) in hovers {
        let h = c.request("textDocument/hover", pos(file, line, ch));
        out.push_str(&format!("== {what} ==\n{}\n", show(&ws, &h)));
    }
    insta::assert_snapshot!("hover", out);
    assert_eq!(
        c.request("textDocument/hover", pos(&ws.b, 0, 0)),
        json!({
            "contents": { "kind": "markdown", "value": "**keyword** `policy`\n\n`policy NAME [\"rationale\"] [staged] [on SCOPE] { RULES }`." },
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 6 } },
        })
    );

    // Definition and references of the tag `PII.SSN`, across files.
    let (line, ch) = find(POLICIES, "PII.SSN", 0, 5);
    let def = c.request("textDocument/definition", pos(&ws.b, line, ch));
    let (dl, dc) = find(DECLS, "PII.SSN", 0, 4);
    assert_eq!(
        def,
        json!([{ "uri": ws.a, "range": { "start": { "line": dl, "character": dc }, "end": { "line": dl, "character": dc + 3 } } }])
    );
    let mut refs = pos(&ws.b, line, ch);
    refs["context"] = json!({ "includeDeclaration": true });
    let refs = c.request("textDocument/references", refs);
    insta::assert_snapshot!("references", show(&ws, &refs));

    // Rename: prepare, a valid name, and a refused one.
    let (line, ch) = find(POLICIES, "row.country", 0, 5);
    let prep = c.request("textDocument/prepareRename", pos(&ws.b, line, ch));
    assert_eq!(
        prep,
        json!({ "start": { "line": line, "character": ch - 1 }, "end": { "line": line, "character": ch + 6 } })
    );
    let mut rename = pos(&ws.b, line, ch);
    rename["newName"] = json!("nation");
    let edit = c.request("textDocument/rename", rename.clone());
    insta::assert_snapshot!("rename", show(&ws, &edit));
    rename["newName"] = json!("tag");
    let id = c.send_request("textDocument/rename", rename);
    let refused = c.response(id);
    assert_eq!(
        refused["error"],
        json!({ "code": -32602, "message": "`tag` is not a valid name: it is a keyword" })
    );

    // Outline, workspace symbols, folding.
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": ws.a } }),
    );
    insta::assert_snapshot!("document_symbols", show(&ws, &symbols));
    let wsym = c.request("workspace/symbol", json!({ "query": "ssn" }));
    insta::assert_snapshot!("workspace_symbols", show(&ws, &wsym));
    let folds = c.request(
        "textDocument/foldingRange",
        json!({ "textDocument": { "uri": ws.b } }),
    );
    let folds: Vec<String> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}..{}", f["startLine"], f["endLine"]))
        .collect();
    assert_eq!(folds, ["0..2", "4..7", "5..6", "9..13", "10..12", "15..17"]);

    // Semantic tokens, decoded against the legend.
    let legend: Vec<String> = init["capabilities"]["semanticTokensProvider"]["legend"]
        ["tokenTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let tokens = c.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": ws.b } }),
    );
    let data: Vec<u32> = tokens["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap() as u32)
        .collect();
    let lines: Vec<&str> = POLICIES.lines().collect();
    let (mut line, mut start) = (0u32, 0u32);
    let mut decoded = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            start = 0;
        }
        line += t[0];
        start += t[1];
        let text: String = lines[line as usize]
            .encode_utf16()
            .skip(start as usize)
            .take(t[2] as usize)
            .map(|u| char::from_u32(u as u32).unwrap_or('?'))
            .collect();
        decoded.push(format!("{line}:{start} {} {text}", legend[t[3] as usize]));
    }
    insta::assert_snapshot!("semantic_tokens", decoded.join("\n"));

    // Inlay hints over the whole of a.pol.
    let hints = c.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": ws.a }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 100, "character": 0 } } }),
    );
    insta::assert_snapshot!("inlay_hints", show(&ws, &hints));

    // Completion on half-typed text: tags after `tagged PII.`, techniques after `using`.
    let typing = format!("{POLICIES}\npolicy p {{ mask columns tagged PII.");
    c.did_change(&ws.b, 2, &typing);
    let end = end_of(&typing);
    let items = c.request("textDocument/completion", pos(&ws.b, end.0, end.1));
    insta::assert_snapshot!("completion_tags", show(&ws, &items));
    let typing = format!("{POLICIES}\npolicy p {{ mask column customers.birth using ");
    c.did_change(&ws.b, 3, &typing);
    let end = end_of(&typing);
    let items = c.request("textDocument/completion", pos(&ws.b, end.0, end.1));
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .take(4)
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["null", "constant", "round", "age_range"]);
    let typing = format!("{POLICIES}\npolicy p on source customers {{ only show rows where row.");
    c.did_change(&ws.b, 4, &typing);
    let end = end_of(&typing);
    let items = c.request("textDocument/completion", pos(&ws.b, end.0, end.1));
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["id", "email", "ssn", "country", "birth", "patient"]
    );
    // Triggered by a space: names after `acting under `, but no keyword list after any word.
    let space = |c: &mut Client, text: &str, version: i64| {
        c.did_change(&ws.b, version, text);
        let (line, ch) = end_of(text);
        let mut params = pos(&ws.b, line, ch);
        params["context"] = json!({ "triggerKind": 2, "triggerCharacter": " " });
        let items = c.request("textDocument/completion", params);
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let typing = format!("{POLICIES}\nexempt user acting under ");
    assert_eq!(
        space(&mut c, &typing, 5),
        ["Research", "Research.Marketing"]
    );
    let typing = format!("{POLICIES}\npolicy p {{ mask ");
    assert!(space(&mut c, &typing, 6).is_empty());

    // Code actions on the typo: the did-you-mean fix (preferred) and declaring the tag.
    c.did_change(&ws.b, 7, BROKEN);
    let (line, ch) = find(BROKEN, "Emial", 0, 0);
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": ws.b },
            "range": { "start": { "line": line, "character": ch }, "end": { "line": line, "character": ch } },
            "context": { "diagnostics": [] },
        }),
    );
    insta::assert_snapshot!("code_actions", show(&ws, &actions));

    // Formatting: a messy file gets the canonical layout; an unparsable one gets no edits.
    c.did_change(
        &ws.b,
        8,
        "policy p {mask columns tagged PII using null for everyone}",
    );
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": ws.b }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    insta::assert_snapshot!("formatting", show(&ws, &edits));
    c.did_change(&ws.b, 9, "policy p {mask columns tagged");
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": ws.b }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits, Value::Null);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn workspace_files_are_analysed_without_being_opened() {
    let ws = workspace();
    std::fs::write(
        Path::new(ws.root.strip_prefix("file://").unwrap()).join("c.pol"),
        "policy c { mask columns tagged Nope using null for everyone }\n",
    )
    .unwrap();
    let mut c = Client::start();
    c.initialize(Path::new(ws.root.strip_prefix("file://").unwrap()));
    let c_uri = format!("{}/c.pol", ws.root);
    let diags = c.diagnostics_until(&c_uri, |d| !d.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0]["code"], "E0003");
    assert_eq!(
        diags[0]["codeDescription"]["href"],
        "https://github.com/pol-lang/pol/blob/main/docs/codes/E0003.md"
    );
    assert_eq!(
        diags[0]["message"],
        "undeclared tag `Nope`\nhelp: declare it: `tag Nope;`"
    );
    // Hover works in a file the editor never opened.
    let (line, ch) = find(DECLS, "email:", 0, 1);
    let h = c.request("textDocument/hover", pos(&ws.a, line, ch));
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**column** `customers.email`: `text`"),
        "{h}"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn closing_a_document_and_changes_on_disk_are_followed() {
    let ws = workspace();
    let dir = Path::new(ws.root.strip_prefix("file://").unwrap()).to_path_buf();
    let mut c = Client::start();
    c.initialize(&dir);
    // Unsaved broken text in the editor, then closed without saving: the disk's text is back.
    c.did_open(&ws.b, BROKEN);
    assert_eq!(c.diagnostics_at(&ws.b, 1).len(), 3);
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": ws.b } }),
    );
    assert!(c.diagnostics_until(&ws.b, |d| d.is_empty()).is_empty());

    // A file created on disk joins the set; deleted, its diagnostics are cleared.
    let c_path = dir.join("c.pol");
    let c_uri = format!("{}/c.pol", ws.root);
    std::fs::write(
        &c_path,
        "policy c { mask columns tagged Nope using null for everyone }\n",
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": c_uri, "type": 1 }] }),
    );
    let d = c.diagnostics_until(&c_uri, |d| !d.is_empty());
    assert_eq!(d[0]["code"], "E0003");
    std::fs::remove_file(&c_path).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": c_uri, "type": 3 }] }),
    );
    assert!(c.diagnostics_until(&c_uri, |d| d.is_empty()).is_empty());
    // A file outside the workspace folder opened and closed leaves the set.
    let outside = tempfile::tempdir().unwrap();
    let o_uri = format!("{}/o.pol", uri(outside.path()));
    c.did_open(&o_uri, "tag ;");
    assert_eq!(c.diagnostics_at(&o_uri, 1)[0]["code"], "E0001");
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": o_uri } }),
    );
    assert!(c.diagnostics_until(&o_uri, |d| d.is_empty()).is_empty());
    assert_eq!(c.shutdown(), Some(0));
}
