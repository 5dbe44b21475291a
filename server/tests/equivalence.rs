//! For every example policy set (with its demo data) and for generated policy sets, the
//! server's rows equal `polc eval`'s, byte for byte, for the same subject, rows and clock —
//! masked rows (`/mask`) and explanations (`/explain` against `polc eval --explain`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::support::*;

const NOW: &str = "2026-03-02T09:00:00Z";

fn demo_key() -> PathBuf {
    repo().join("examples/payments-vault/demo/demo.key")
}

/// Every `source NAME` declared in the `.pol` files of a directory.
fn sources(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "pol"))
    {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix("source ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// The subjects of every example's `demo/*.json`, and a few more.
fn subjects() -> Vec<Value> {
    let mut out = vec![
        json!({}),
        json!({"login": "nobody", "roles": ["agent"], "team": "billing"}),
    ];
    let mut files: Vec<PathBuf> = Vec::new();
    for ex in std::fs::read_dir(repo().join("examples")).unwrap() {
        let demo = ex.unwrap().path().join("demo");
        if let Ok(rd) = std::fs::read_dir(&demo) {
            files.extend(
                rd.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json")),
            );
        }
    }
    files.sort();
    for f in files {
        out.push(serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap());
    }
    out
}

/// The JWT claims carrying a subject: `login` becomes `sub`, the rest is copied.
fn claims(subject: &Value) -> Value {
    let mut c = Map::new();
    for (k, v) in subject.as_object().unwrap() {
        c.insert(
            if k == "login" {
                "sub".into()
            } else {
                k.clone()
            },
            v.clone(),
        );
    }
    Value::Object(c)
}

const CELLS: [&str; 12] = [
    "\"jenny@example.com\"",
    "\"555-867-5309\"",
    "42",
    "3.5",
    "true",
    "null",
    "\"2025-11-02T10:00:00Z\"",
    "\"2024-01-31\"",
    "\"US\"",
    "\"billing\"",
    "\"\"",
    "-7",
];

/// Rows for a source: its demo file's, then generated ones over its columns (values of every
/// kind, so mismatches and nulls are covered too).
fn rows(dir: &Path, columns: &[String], source: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    if let Ok(text) = std::fs::read_to_string(dir.join("demo").join(format!("{source}.jsonl"))) {
        out.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap()),
        );
    }
    for i in 0..12 {
        let mut row = Map::new();
        for (j, c) in columns.iter().enumerate() {
            let cell: Value = if j == 0 {
                json!(i + 1)
            } else {
                serde_json::from_str(CELLS[(i * 5 + j) % CELLS.len()]).unwrap()
            };
            row.insert(c.clone(), cell);
        }
        out.push(Value::Object(row));
    }
    out
}

/// The top-level columns of a source, from an explanation of an empty row.
fn columns(server: &Server, token: &str, source: &str) -> Vec<String> {
    let (status, body) = post(
        server,
        &format!("/v1/sources/{source}/explain"),
        token,
        &json!({"rows": [{}], "now": NOW}),
    );
    assert_eq!(status, 200, "{body}");
    body["rows"][0]["explanation"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["column"].as_str().unwrap().to_owned())
        .filter(|c| !c.contains('.'))
        .collect()
}

/// Checks one policy set: every subject × source × rows, mask and explain.
fn check_set(dir: &Path, subjects: &[Value]) -> usize {
    let tmp = tempdir();
    let bundle = tmp.path().join("set.polb");
    build_bundle(dir, &bundle);
    let key = demo_key();
    let server = Server::start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
        "--allow-client-clock",
    ]);
    let admin = hs_token(&json!({"sub": "probe"}));
    let mut compared = 0;
    for source in sources(dir) {
        let cols = columns(&server, &admin, &source);
        let rows = rows(dir, &cols, &source);
        let rows_file = tmp.path().join(format!("{source}.jsonl"));
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(&rows_file, text).unwrap();
        for (n, subject) in subjects.iter().enumerate() {
            let subject_file = tmp.path().join(format!("subject-{n}.json"));
            std::fs::write(&subject_file, subject.to_string()).unwrap();
            let token = hs_token(&claims(subject));
            for explain in [false, true] {
                let mut args = vec![
                    "eval",
                    "--bundle",
                    bundle.to_str().unwrap(),
                    "--subject",
                    subject_file.to_str().unwrap(),
                    "--source",
                    &source,
                    "--rows",
                    rows_file.to_str().unwrap(),
                    "--now",
                    NOW,
                    "--key-file",
                    key.to_str().unwrap(),
                ];
                if explain {
                    args.push("--explain");
                }
                let reference = run_polc(&args, None);
                assert!(
                    reference.status.success(),
                    "{}",
                    String::from_utf8_lossy(&reference.stderr)
                );
                let expected = String::from_utf8(reference.stdout).unwrap();
                let path = format!(
                    "/v1/sources/{source}/{}",
                    if explain { "explain" } else { "mask" }
                );
                let (status, body) =
                    post(&server, &path, &token, &json!({"rows": rows, "now": NOW}));
                assert_eq!(status, 200, "{body}");
                let got: String = body["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        if explain {
                            let mut o = Map::new();
                            o.insert("line".into(), json!(i + 1));
                            o.extend(r.as_object().unwrap().clone());
                            format!("{}\n", Value::Object(o))
                        } else {
                            format!("{r}\n")
                        }
                    })
                    .collect();
                assert_eq!(
                    got,
                    expected,
                    "{} source {source} subject {subject} explain {explain}",
                    dir.display()
                );
                if !explain {
                    let shown = expected.lines().count();
                    assert_eq!(body["hidden"], json!(rows.len() - shown));
                }
                compared += rows.len();
            }
        }
    }
    compared
}

#[test]
fn every_example_masks_as_polc_eval() {
    let subjects = subjects();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 6, "{dirs:?}");
    for dir in dirs {
        let n = check_set(&dir, &subjects);
        assert!(n > 0, "{}: nothing compared", dir.display());
    }
}

/// A small deterministic generator (no dependency needed for a few choices).
struct Lcg(u64);

impl Lcg {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        items[((self.0 >> 33) as usize) % items.len()]
    }
}

/// A generated policy set over the 20-column benchmark source: techniques, audiences, `where`
/// clauses and the row rule drawn from `seed`.
fn generated_set(seed: u64) -> String {
    let mut r = Lcg(seed);
    let text_t = [
        "null",
        "hash",
        "show_last(4)",
        "mask_first(3)",
        "email_mask",
        "show_first(2)",
    ];
    let who = [
        "for everyone",
        "for everyone except user has role \"privacy\"",
        "for everyone who user has role \"support\" otherwise using hash",
        "for everyone except user in group \"finance\"",
    ];
    let mut s = String::from(
        "tag PII sensitive;\ntag PII.Email; tag PII.Phone; tag PII.SSN; tag PII.Name; tag PII.Address;\ntag Finance;\n\
         subject { team: text }\n\
         source customers {\n  id: int key,\n  email: text tagged PII.Email,\n  phone: text tagged PII.Phone,\n\
         ssn: text tagged PII.SSN,\n  first_name: text tagged PII.Name,\n  last_name: text tagged PII.Name,\n\
         birth_date: date,\n  street: text tagged PII.Address,\n  zip: text tagged PII.Address,\n  country: text,\n\
         city: text,\n  team: text,\n  status: text,\n  segment: text,\n  salary: decimal tagged Finance,\n\
         balance: decimal tagged Finance,\n  credit_score: int tagged Finance,\n  created_at: timestamp event_time,\n\
         notes: text accessible if user has role \"supervisor\",\n  display_name = concat(first_name, \" \", last_name),\n}\n",
    );
    for (i, tag) in [
        "PII",
        "PII.Email",
        "PII.Phone",
        "PII.SSN",
        "PII.Name",
        "PII.Address",
    ]
    .iter()
    .enumerate()
    {
        let cond = r.pick(&[
            "",
            " where row.country == \"US\"",
            " where row.status != \"closed\"",
        ]);
        s.push_str(&format!(
            "policy p{i} {{ mask columns tagged {tag}{cond} using {} {} }}\n",
            r.pick(&text_t),
            r.pick(&who)
        ));
    }
    s.push_str(&format!(
        "policy fin {{ mask columns tagged Finance using {} {} }}\n",
        r.pick(&["round(100)", "null", "round(10)"]),
        r.pick(&who)
    ));
    if r.pick(&["row", "none"]) == "row" {
        s.push_str("policy own on source customers { only show rows where row.team == user.team for everyone except user has role \"supervisor\" }\n");
    }
    s
}

#[test]
fn generated_sets_mask_as_polc_eval() {
    let roles = [
        json!([]),
        json!(["support"]),
        json!(["privacy"]),
        json!(["supervisor", "support"]),
    ];
    let mut subjects = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        subjects.push(json!({"login": format!("u{i}"), "roles": r, "team": if i % 2 == 0 { "billing" } else { "US" }}));
    }
    subjects.push(json!({"login": "fin", "groups": ["finance"]}));
    for seed in 1..=3u64 {
        let tmp = tempdir();
        std::fs::write(tmp.path().join("set.pol"), generated_set(seed)).unwrap();
        let check = run_polc(&["check", tmp.path().to_str().unwrap()], None);
        assert!(
            check.status.success(),
            "seed {seed}: {}{}\n{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr),
            generated_set(seed)
        );
        assert!(check_set(tmp.path(), &subjects) > 0);
    }
}
