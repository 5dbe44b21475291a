//! Linked visibility (issue 13, item 5): `links P.k` columns and `only show rows linked to shown
//! P`, end to end — the runtime's `Session::link_rows` and the reference evaluator give the
//! exact rows the language reference (§13) states, the verifier refuses cycles, `polc eval
//! --link-rows`, `polc who-can-see`, the formatter, and the generator of the differential tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;
use chrono::{DateTime, Utc};
use pol_compiler::reference::{Outcome, Reference};
use pol_compiler::source_map::SourceMap;
use pol_runtime::{Engine, LinkError, Value};
use serde_json::{json, Map, Value as Json};

const POLICY: &str = r#"
tag Sales;
source orders { id: int key, region: text, }
source lines { id: int key, order_id: int links orders.id, sku: text, }
source notes { id: int key, line_id: int links lines.id, }

policy regional on source orders {
  only show rows where row.region == "EU" for everyone except user in group "Legal"
}
policy follow on source lines {
  only show rows linked to shown orders for everyone except user in group "Legal"
}
policy follow_lines on source notes { only show rows linked to shown lines for everyone }
exempt user in group "auditors" on source lines;
"#;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn analysis() -> pol_compiler::Analysis {
    let mut map = SourceMap::new();
    map.add("linked.pol", POLICY.to_string());
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    a
}

fn obj(v: Json) -> Map<String, Json> {
    v.as_object().unwrap().clone()
}

fn orders() -> Vec<Map<String, Json>> {
    [
        json!({"id": 1, "region": "EU"}),
        json!({"id": 2, "region": "US"}),
        // Key 3 twice: one row shown, one hidden.
        json!({"id": 3, "region": "EU"}),
        json!({"id": 3, "region": "US"}),
        json!({"id": null, "region": "EU"}),
    ]
    .into_iter()
    .map(obj)
    .collect()
}

fn lines() -> Vec<Map<String, Json>> {
    [
        json!({"id": 10, "order_id": 1, "sku": "a"}), // parent shown
        json!({"id": 11, "order_id": 2, "sku": "b"}), // parent hidden
        json!({"id": 12, "order_id": 9, "sku": "c"}), // dangling
        json!({"id": 13, "order_id": null, "sku": "d"}), // null key
        json!({"id": 14, "order_id": 3, "sku": "e"}), // one of two parents hidden
        json!({"id": 15, "order_id": "1", "sku": "f"}), // not an int: null
        json!({"id": 16, "sku": "g"}),                // no key at all
    ]
    .into_iter()
    .map(obj)
    .collect()
}

fn notes() -> Vec<Map<String, Json>> {
    [
        json!({"id": 100, "line_id": 10}),
        json!({"id": 101, "line_id": 11}),
    ]
    .into_iter()
    .map(obj)
    .collect()
}

/// The ids of the shown rows of `source` for `subject`, by the runtime, given `parents`
/// (source, rows) in order.
fn engine_ids(
    subject: &Json,
    parents: &[(&str, Vec<Map<String, Json>>)],
    source: &str,
    rows: &[Map<String, Json>],
) -> Vec<i64> {
    let a = analysis();
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let engine = Engine::from_bundle(bundle, None).unwrap();
    let mut session = engine.session(subject, now()).unwrap();
    for (p, r) in parents {
        session.link_rows(p, r).unwrap();
    }
    let src = session.source(source).unwrap();
    rows.iter()
        .filter_map(|r| src.mask_json(r))
        .map(|cells| cells[0].1.as_i64().unwrap())
        .collect()
}

/// The same by the reference evaluator.
fn reference_ids(
    subject: &Json,
    parents: &[(&str, Vec<Map<String, Json>>)],
    source: &str,
    rows: &[Map<String, Json>],
) -> Vec<i64> {
    let a = analysis();
    let mut r = Reference::new(&a.model, &a.resolution, None, now());
    for (p, rows) in parents {
        r.with_parent_rows(p, rows.clone()).unwrap();
    }
    rows.iter()
        .filter_map(|row| match r.mask_row(source, subject, row).unwrap() {
            Outcome::Hidden => None,
            Outcome::Shown(m) => m["id"].as_i64(),
        })
        .collect()
}

fn both(
    subject: Json,
    parents: &[(&str, Vec<Map<String, Json>>)],
    source: &str,
    rows: &[Map<String, Json>],
) -> Vec<i64> {
    let e = engine_ids(&subject, parents, source, rows);
    let r = reference_ids(&subject, parents, source, rows);
    assert_eq!(
        e, r,
        "runtime and reference differ on {source} for {subject}"
    );
    e
}

#[test]
fn a_child_row_is_shown_only_with_its_shown_parent() {
    let parents = [("orders", orders()), ("lines", lines())];
    // Null, dangling, hidden, half-hidden and mistyped keys all hide.
    assert_eq!(both(json!({}), &parents, "lines", &lines()), [10]);
    // Chains: a note follows its line, which follows its order.
    assert_eq!(both(json!({}), &parents, "notes", &notes()), [100]);
}

#[test]
fn the_audience_and_exemptions_of_parent_and_child_apply() {
    let parents = [("orders", orders()), ("lines", lines())];
    // Legal sees every order and is excepted from the lines' rule: every line.
    let legal = json!({"groups": ["Legal"]});
    assert_eq!(
        both(legal.clone(), &parents, "lines", &lines()),
        [10, 11, 12, 13, 14, 15, 16]
    );
    // The notes' rule applies to Legal too, and line 11 is shown to Legal.
    assert_eq!(both(legal, &parents, "notes", &notes()), [100, 101]);
    // Exempt on lines: every line, and so every note whose line is given.
    let auditor = json!({"groups": ["auditors"]});
    assert_eq!(
        both(auditor.clone(), &parents, "lines", &lines()),
        [10, 11, 12, 13, 14, 15, 16]
    );
    assert_eq!(both(auditor, &parents, "notes", &notes()), [100, 101]);
}

#[test]
fn without_parent_rows_every_linked_row_is_hidden() {
    assert!(both(json!({}), &[], "lines", &lines()).is_empty());
    // The grandparent not given: the lines are hidden, and so are their notes.
    let only_lines = [("lines", lines())];
    assert!(both(json!({}), &only_lines, "notes", &notes()).is_empty());
}

#[test]
fn parent_rows_given_in_several_calls_add_up() {
    let a = analysis();
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let engine = Engine::from_bundle(bundle, None).unwrap();
    let mut session = engine.session(&json!({}), now()).unwrap();
    let o = orders();
    assert_eq!(session.link_rows("orders", &o[..1]).unwrap(), 1);
    assert_eq!(session.link_rows("orders", &o[2..3]).unwrap(), 1);
    let src = session.source("lines").unwrap();
    let shown: Vec<bool> = lines().iter().map(|r| src.row_shown(r)).collect();
    assert_eq!(shown, [true, false, false, false, true, false, false]);
    // A later row with key 3 that is hidden takes key 3 away.
    assert_eq!(session.link_rows("orders", &o[3..4]).unwrap(), 0);
    let src = session.source("lines").unwrap();
    assert!(!src.row_shown(&lines()[4]));
    assert!(src.row_shown(&lines()[0]));
}

#[test]
fn typed_parent_rows_link_like_json_rows() {
    let a = analysis();
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let engine = Engine::from_bundle(bundle, None).unwrap();
    let mut session = engine.session(&json!({}), now()).unwrap();
    let typed: Vec<Vec<Value>> = vec![
        vec![Value::Int(1), Value::Text("EU".into())],
        vec![Value::Int(2), Value::Text("US".into())],
    ];
    let shown = session
        .link_values("orders", typed.iter().map(Vec::as_slice))
        .unwrap();
    assert_eq!(shown, 1);
    let src = session.source("lines").unwrap();
    assert!(src
        .mask_values(&[Value::Int(10), Value::Int(1), Value::Text("a".into())])
        .is_some());
    assert!(src
        .mask_values(&[Value::Int(11), Value::Int(2), Value::Text("b".into())])
        .is_none());
}

#[test]
fn parent_rows_of_an_unknown_or_keyless_source_are_refused() {
    let mut map = SourceMap::new();
    map.add(
        "k.pol",
        "source logs { line: text, }\nsource orders { id: int key, }".to_string(),
    );
    let a = pol_compiler::check(&map);
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let engine = Engine::from_bundle(bundle, None).unwrap();
    let mut session = engine.session(&json!({}), now()).unwrap();
    let rows: Vec<Map<String, Json>> = vec![];
    assert_eq!(
        session.link_rows("order", &rows),
        Err(LinkError::UnknownSource("order".into()))
    );
    assert_eq!(
        session.link_rows("logs", &rows),
        Err(LinkError::NoKey("logs".into()))
    );
}

#[test]
fn the_verifier_refuses_a_cycle_of_linked_rules() {
    let a = analysis();
    let mut bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    // orders (0) now follows notes (2): notes → lines → orders → notes.
    bundle.sources[0].row_rules[0].filter = pol_runtime::bundle::RowFilter::Linked {
        column: 0,
        parent: 2,
    };
    let err = Engine::from_bundle(bundle, None).unwrap_err().to_string();
    assert!(err.contains("linked row rules form a cycle"), "{err}");
}

#[test]
fn the_verifier_refuses_a_linked_filter_on_a_missing_parent() {
    let a = analysis();
    let mut bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    bundle.sources[1].row_rules[0].filter = pol_runtime::bundle::RowFilter::Linked {
        column: 1,
        parent: 7,
    };
    let err = Engine::from_bundle(bundle, None).unwrap_err().to_string();
    assert!(err.contains("does not exist or has no key"), "{err}");
}

#[test]
fn polc_eval_reads_parent_rows_with_link_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("linked.pol"), POLICY).unwrap();
    std::fs::write(p.join("user.json"), "{}").unwrap();
    let jsonl = |rows: Vec<Map<String, Json>>| {
        rows.into_iter()
            .map(|r| Json::Object(r).to_string() + "\n")
            .collect::<String>()
    };
    std::fs::write(p.join("orders.jsonl"), jsonl(orders()) + "not json\n").unwrap();
    std::fs::write(p.join("lines.jsonl"), jsonl(lines())).unwrap();
    std::fs::write(p.join("notes.jsonl"), jsonl(notes())).unwrap();
    let (code, out, err) = support::polc::polc(
        p,
        &[
            "eval",
            "linked.pol",
            "--subject",
            "user.json",
            "--source",
            "notes",
            "--link-rows",
            "orders=orders.jsonl",
            "--link-rows",
            "lines=lines.jsonl",
            "--rows",
            "notes.jsonl",
        ],
    );
    assert_eq!(out, "{\"id\":100,\"line_id\":10}\n");
    // The line that is not JSON is reported and skipped: exit 1 after the rows.
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("orders.jsonl line 6: ") && err.contains("the row is skipped"),
        "{err}"
    );
    // Without the orders, no line is shown and so no note.
    let (code, out, _) = support::polc::polc(
        p,
        &[
            "eval",
            "linked.pol",
            "--subject",
            "user.json",
            "--source",
            "notes",
            "--link-rows",
            "lines=lines.jsonl",
            "--rows",
            "notes.jsonl",
        ],
    );
    assert_eq!((code, out.as_str()), (0, ""));
    // An unknown parent source is a usage error.
    let (code, _, err) = support::polc::polc(
        p,
        &[
            "eval",
            "linked.pol",
            "--subject",
            "user.json",
            "--source",
            "notes",
            "--link-rows",
            "order=orders.jsonl",
            "--rows",
            "notes.jsonl",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("--link-rows order: no source `order`"),
        "{err}"
    );
}

#[test]
fn who_can_see_states_the_dependency_on_the_parent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("linked.pol"), POLICY).unwrap();
    let (code, out, err) = support::polc::polc(dir.path(), &["who-can-see", "linked.pol", "lines"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("the `orders` row it links to is given and shown to the subject"),
        "{out}"
    );
}

#[test]
fn the_formatter_keeps_links_and_linked_rules() {
    let messy = "source orders{id:int key,}\nsource lines{id:int key,order_id:int   links orders . id,}\npolicy f on source lines{only show rows   linked to shown orders for everyone}\n";
    let formatted = pol_grammar::format::format_source(messy).unwrap();
    assert!(
        formatted.contains("order_id: int links orders.id"),
        "{formatted}"
    );
    assert!(
        formatted.contains("only show rows linked to shown orders for everyone"),
        "{formatted}"
    );
    assert_eq!(
        pol_grammar::format::format_source(&formatted).unwrap(),
        formatted
    );
    let mut map = SourceMap::new();
    map.add("f.pol", formatted);
    assert!(!pol_compiler::check(&map).has_errors());
}

/// The generator of the differential tests (runtime vs reference, SQL vs runtime) produces the
/// new forms: links, linked rules, and child rows whose key names a given parent row.
#[test]
fn the_generator_produces_linked_rules() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut linked = 0;
    let mut matched = 0;
    for _ in 0..256 {
        let tape: Vec<u32> = (0..2000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 32) as u32
            })
            .collect();
        let case = support::gen::Case::generate(&mut support::gen::Tape::new(tape));
        if case.text.contains("only show rows linked to shown") {
            linked += 1;
            let ids: Vec<(&str, &Json)> = case
                .rows
                .iter()
                .filter_map(|(s, r)| r.get("id").map(|id| (s.as_str(), id)))
                .collect();
            if case.rows.iter().any(|(s, r)| {
                let parent = case
                    .sources
                    .iter()
                    .find(|x| &x.name == s)
                    .and_then(|x| x.link);
                parent.is_some_and(|p| {
                    r.get("up")
                        .is_some_and(|up| ids.contains(&(format!("s{p}").as_str(), up)))
                })
            }) {
                matched += 1;
            }
        }
    }
    assert!(
        linked >= 15,
        "only {linked} of 256 cases have a linked rule"
    );
    assert!(
        matched >= 5,
        "only {matched} cases link a row to a given parent"
    );
}

fn ide() -> pol_compiler::ide::Ide {
    let mut map = SourceMap::new();
    map.add("linked.pol", POLICY.to_string());
    pol_compiler::ide::Ide::new(map)
}

fn offset(needle: &str, delta: usize) -> usize {
    POLICY.find(needle).unwrap() + delta
}

#[test]
fn hover_explains_links_and_linked_rules() {
    let ide = ide();
    let f = pol_compiler::source_map::FileId(0);
    let h = ide.hover(f, offset("links orders", 1)).unwrap();
    assert!(
        h.markdown
            .starts_with("**keyword** `links`\n\n`links P.KEY` on a column"),
        "{}",
        h.markdown
    );
    let h = ide.hover(f, offset("linked to shown orders", 1)).unwrap();
    assert!(
        h.markdown.contains("a null or dangling key hides it"),
        "{}",
        h.markdown
    );
    // The parent named by a rule is the source, with go-to-definition.
    let h = ide.hover(f, offset("linked to shown orders", 17)).unwrap();
    assert!(
        h.markdown.starts_with("**source** `orders`"),
        "{}",
        h.markdown
    );
    // A link column says what it links to.
    let h = ide.hover(f, offset("order_id: int", 1)).unwrap();
    assert!(h.markdown.contains("links `orders.id`"), "{}", h.markdown);
}

#[test]
fn completion_offers_sources_and_keys_after_links_and_linked_to_shown() {
    let labels = |text: &str| -> Vec<String> {
        let mut map = SourceMap::new();
        map.add("c.pol", text.to_string());
        pol_compiler::ide::Ide::new(map)
            .completions(pol_compiler::source_map::FileId(0), text.len())
            .into_iter()
            .map(|c| c.label)
            .collect()
    };
    let base = "source orders { id: int key, }\nsource lines { id: int key, order_id: int links ";
    assert_eq!(labels(base), ["orders", "lines"]);
    assert_eq!(labels(&format!("{base}orders.")), ["id"]);
    let rule = "source orders { id: int key, }\nsource lines { id: int key, order_id: int links orders.id, }\npolicy f on source lines { only show rows linked to shown ";
    assert_eq!(labels(rule), ["orders", "lines"]);
}

#[test]
fn an_arrow_batch_of_child_rows_follows_the_parent_rows_given() {
    use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;
    let a = analysis();
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let engine = Engine::from_bundle(bundle, None).unwrap();
    let mut session = engine.session(&json!({}), now()).unwrap();
    session.link_rows("orders", &orders()).unwrap();
    let src = session.source("lines").unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("order_id", DataType::Int64, true),
        Field::new("sku", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![
                Some(10),
                Some(11),
                Some(12),
                Some(13),
                Some(14),
            ])),
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(2),
                Some(9),
                None,
                Some(3),
            ])),
            Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e"])),
        ],
    )
    .unwrap();
    let out = src.mask_batch(&batch).unwrap();
    let ids = out.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids.value(0), 10);
}

/// A chain of 16 sources (the limit) checks, loads and follows every ancestor; 17 is E0055.
#[test]
fn a_chain_of_sixteen_sources_follows_every_ancestor() {
    let chain = |n: usize| {
        let mut text = String::from("source s0 { id: int key, ok: bool, }\npolicy p0 on source s0 { only show rows where row.ok for everyone }\n");
        for i in 1..n {
            text += &format!(
                "source s{i} {{ id: int key, up: int links s{}.id, }}\npolicy p{i} on source s{i} {{ only show rows linked to shown s{} for everyone }}\n",
                i - 1,
                i - 1
            );
        }
        let mut map = SourceMap::new();
        map.add("chain.pol", text);
        pol_compiler::check(&map)
    };
    let long = chain(17);
    assert!(long.diagnostics.iter().any(|d| d.code.as_str() == "E0055"));
    let a = chain(16);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let engine = Engine::from_bundle(bundle, None).unwrap();
    for ok in [true, false] {
        let mut session = engine.session(&json!({}), now()).unwrap();
        session
            .link_rows("s0", &[obj(json!({"id": 1, "ok": ok}))])
            .unwrap();
        for i in 1..15 {
            let row = obj(json!({"id": 1, "up": 1}));
            session.link_rows(&format!("s{i}"), &[row]).unwrap();
        }
        let src = session.source("s15").unwrap();
        assert_eq!(src.row_shown(&obj(json!({"id": 7, "up": 1}))), ok);
    }
}
