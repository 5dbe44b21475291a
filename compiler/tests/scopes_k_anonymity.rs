//! Issue 13, items 7 and 10: source metadata and `on sources where` scopes, `allow detokenize
//! column a, b`, and `k_anonymity K over …` enforced by `polc eval`, refused by `polc sql`,
//! checked against the reference's statement of it on generated batches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;
use crate::support::polc::polc_words;

use chrono::{DateTime, Utc};
use pol_compiler::ide::Ide;
use pol_compiler::reference::{Outcome, Reference};
use pol_compiler::source_map::{FileId, SourceMap};
use pol_runtime::{Engine, KeyRing, MaskingKey};
use proptest::prelude::*;
use serde_json::{Map, Value};

const POLICIES: &str = r#"tag PII;
source patients (server: "db1", created: date("2024-02-01")) {
  id: int key,
  name: text tagged PII,
  zip: text,
  birth_year: int,
  diagnosis: text,
  card: text,
  iban: text,
}
source visits (server: "db2", created: date("2024-03-01")) { id: int key, name: text tagged PII, }
source legacy { id: int key, name: text tagged PII, }

policy pii_db1 on sources where source.server == "db1" and source.created between date("2024-01-01") and date("2024-06-30") {
  mask columns tagged PII using null for everyone
}
policy patient_anonymity on source patients {
  k_anonymity 3 over zip, birth_year
}
policy tokens on source patients {
  mask columns named like "^(card|iban)$" using tokenize for everyone
}
policy billing on source patients {
  allow detokenize column patients.card, patients.iban for everyone who user has role "billing"
}
exempt user in group "privacy" on source patients;
"#;

const ROWS: &str = r#"{"id":1,"name":"Ann","zip":"10001","birth_year":1980,"diagnosis":"a","card":"4111","iban":"DE01"}
{"id":2,"name":"Bob","zip":"10002","birth_year":1981,"diagnosis":"b","card":"4112","iban":"DE02"}
{"id":3,"name":"Cy","zip":"10003","birth_year":1982,"diagnosis":"c","card":"4113","iban":"DE03"}
{"id":4,"name":"Di","zip":"20001","birth_year":1990,"diagnosis":"d","card":"4114","iban":"DE04"}
"#;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("p.pol", POLICIES);
    write("rows.jsonl", ROWS);
    write("agent.json", r#"{"login": "al"}"#);
    write("privacy.json", r#"{"login": "pia", "groups": ["privacy"]}"#);
    write("billing.json", r#"{"login": "bo", "roles": ["billing"]}"#);
    write("test.key", "0123456789abcdef0123456789abcdef");
    dir
}

/// Only the listed fields of each JSON line, in order (tokens are keyed, so not compared).
fn fields(out: &str, names: &[&str]) -> Vec<Vec<Value>> {
    out.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON row");
            names.iter().map(|n| v[*n].clone()).collect()
        })
        .collect()
}

#[test]
fn polc_eval_makes_the_whole_input_k_anonymous_and_reports_it() {
    let dir = setup();
    let (code, out, err) = polc_words(
        dir.path(),
        "eval p.pol --subject agent.json --source patients --rows rows.jsonl --key-file test.key",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        fields(&out, &["id", "name", "zip", "birth_year", "diagnosis"]),
        vec![
            vec![
                1.into(),
                Value::Null,
                "1000*".into(),
                "1980-1985".into(),
                "a".into()
            ],
            vec![
                2.into(),
                Value::Null,
                "1000*".into(),
                "1980-1985".into(),
                "b".into()
            ],
            vec![
                3.into(),
                Value::Null,
                "1000*".into(),
                "1980-1985".into(),
                "c".into()
            ],
            // The one outlier: its quasi-identifiers are suppressed, the row is kept.
            vec![4.into(), Value::Null, Value::Null, Value::Null, "d".into()],
        ]
    );
    assert_eq!(
        err,
        "k-anonymity of the policy (k = 3) over 4 rows: zip at level 60, birth_year at level 1; \
         1 row suppressed\n"
    );
}

#[test]
fn a_single_row_and_an_explanation_show_the_quasi_identifiers_null() {
    let dir = setup();
    std::fs::write(dir.path().join("one.jsonl"), ROWS.lines().next().unwrap()).unwrap();
    let (code, out, err) = polc_words(
        dir.path(),
        "eval p.pol --subject agent.json --source patients --rows one.jsonl --key-file test.key",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        fields(&out, &["zip", "birth_year", "diagnosis"]),
        vec![vec![Value::Null, Value::Null, "a".into()]]
    );
    let (code, out, err) = polc_words(
        dir.path(),
        "eval p.pol --subject agent.json --source patients --rows one.jsonl --key-file test.key \
         --explain",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["row"]["zip"], Value::Null);
    assert_eq!(v["row"]["birth_year"], Value::Null);
    let cells = v["explanation"]["cells"].as_array().unwrap();
    let cell = |name: &str| cells.iter().find(|c| c["column"] == name).unwrap()["value"].clone();
    assert_eq!(
        (cell("zip"), cell("birth_year")),
        (Value::Null, Value::Null)
    );
    assert_eq!(cell("diagnosis"), Value::from("a"));
}

#[test]
fn an_exempt_user_gets_no_k_anonymity() {
    let dir = setup();
    let (code, out, err) = polc_words(
        dir.path(),
        "eval p.pol --subject privacy.json --source patients --rows rows.jsonl --key-file test.key",
        &[],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        fields(&out, &["zip", "birth_year"])[3],
        vec![Value::from("20001"), Value::from(1990)]
    );
}

#[test]
fn one_detokenize_rule_grants_every_column_it_lists() {
    let dir = setup();
    let (code, out, err) = polc_words(
        dir.path(),
        "eval p.pol --subject privacy.json --source patients --rows rows.jsonl --key-file test.key",
        &[],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    // The exempt user sees clear values; tokens come from an agent's view.
    let _ = out;
    let (_, agent, _) = polc_words(
        dir.path(),
        "eval p.pol --subject agent.json --source patients --rows rows.jsonl --key-file test.key",
        &[],
    );
    let first: Value = serde_json::from_str(agent.lines().next().unwrap()).unwrap();
    for (column, clear) in [("card", "4111"), ("iban", "DE01")] {
        let token = first[column].as_str().unwrap().to_owned();
        assert_ne!(token, clear);
        let detok = |subject: &str| {
            polc_words(
                dir.path(),
                "detokenize p.pol --source patients --key-file test.key --subject",
                &[subject, "--column", column, "--value", &token],
            )
        };
        assert_eq!(
            detok("billing.json"),
            (0, format!("{clear}\n"), String::new())
        );
        let (code, _, err) = detok("agent.json");
        assert_eq!(code, 1, "{err}");
    }
}

#[test]
fn polc_sql_refuses_a_source_with_k_anonymity() {
    let dir = setup();
    let (code, out, err) = polc_words(
        dir.path(),
        "sql p.pol --dialect postgres --key-file test.key",
        &[],
    );
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with(
            "p.pol:18:3: error[S0001]: source `patients`: the technique `k_anonymity 3 over zip, \
             birth_year` cannot be computed exactly in SQL (k-anonymity generalises each batch"
        ),
        "{err}"
    );
}

#[test]
fn hover_on_a_metadata_scoped_policy_lists_the_sources_it_covers() {
    let mut map = SourceMap::new();
    map.add("p.pol", POLICIES.to_string());
    let ide = Ide::new(map);
    let at = POLICIES.find("pii_db1").unwrap() + 2;
    let h = ide.hover(FileId(0), at).expect("hover");
    insta::assert_snapshot!(h.markdown, @r#"
    **policy** `pii_db1`

    *Scope:* `on sources where source.server == "db1" and source.created …` (1 sources)

    *Sources covered:* `patients`

    *Rules:*
    - `columns tagged PII`: null

    *Covers 1 column(s); first in resolution order on 1 of them.*
    "#);
    let at = POLICIES.find("source patients").unwrap() + 9;
    let h = ide.hover(FileId(0), at).expect("hover");
    assert!(
        h.markdown
            .contains("*Metadata:* `server: \"db1\"`, `created: date(\"2024-02-01\")`"),
        "{}",
        h.markdown
    );
    assert!(
        h.markdown
            .contains("*k-anonymity:* every batch shown is 3-anonymous over `zip`, `birth_year`"),
        "{}",
        h.markdown
    );
    let text = "source a (server: \"db1\") { id: int key, }\nsource b (server: \"db2\", tier: 1) { id: int key, }\npolicy p on sources where source.";
    let labels: Vec<String> = ide
        .completions_in(text, text.len())
        .into_iter()
        .map(|c| c.label)
        .collect();
    // The keys of the analysed policy set.
    assert_eq!(labels, vec!["created".to_string(), "server".to_string()]);
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid clock")
        .with_timezone(&Utc)
}

const KEY: [u8; 32] = [9u8; 32];

/// On one generated case: per subject and source, the runtime's batch (`mask_rows`) is what
/// the reference states (`check_batch`), and a single row (`mask_row`) is the reference's.
fn compare(case: &support::gen::Case) -> Result<(), String> {
    let a = case.check();
    let reference = Reference::new(&a.model, &a.resolution, Some(&KEY), now());
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let bytes = bundle.to_bytes().map_err(|e| e.to_string())?;
    let keys = KeyRing::new(MaskingKey::from_bytes(&KEY).expect("valid key"));
    let engine = Engine::load(&bytes, Some(keys)).map_err(|e| e.to_string())?;
    for subject in &case.subjects {
        let session = engine.session(subject, now()).map_err(|e| e.to_string())?;
        for s in &case.sources {
            let src = session.source(&s.name).ok_or("no source")?;
            let rows: Vec<Map<String, Value>> = case
                .rows
                .iter()
                .filter(|(n, _)| *n == s.name)
                .map(|(_, r)| r.clone())
                .collect();
            let batch = src.mask_rows(&rows);
            reference
                .check_batch(&s.name, subject, &rows, &batch.rows)
                .map_err(|e| format!("`{}`, subject {subject}: {e}\n{}", s.name, case.text))?;
            for row in &rows {
                let want = reference
                    .mask_row(&s.name, subject, row)
                    .map_err(|e| e.to_string())?;
                let got = match src.mask_row(row) {
                    None => Outcome::Hidden,
                    Some(m) => Outcome::Shown(m),
                };
                if want != got {
                    return Err(format!(
                        "single row of `{}`, subject {subject}\n  reference: {want:?}\n  runtime:   {got:?}\n{}",
                        s.name, case.text
                    ));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: support::cases(128), .. ProptestConfig::default() })]

    /// Generated policy sets with a `k_anonymity` rule (and scopes by metadata): every batch
    /// the runtime returns is k-anonymous and otherwise what the reference masks.
    #[test]
    fn runtime_batches_are_what_the_reference_states(case in support::gen::case_with_k_anonymity()) {
        if let Err(e) = compare(&case) {
            prop_assert!(false, "{}", e);
        }
    }
}

#[test]
fn diff_prove_reports_k_anonymity_that_new_weakens() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (set, rule) in [
        ("old", "k_anonymity 3 over zip, birth_year"),
        ("new", "k_anonymity 3 over zip"),
        ("same", "k_anonymity 4 over birth_year, zip"),
    ] {
        std::fs::create_dir(dir.path().join(set)).unwrap();
        std::fs::write(
            dir.path().join(set).join("p.pol"),
            POLICIES.replace("k_anonymity 3 over zip, birth_year", rule),
        )
        .unwrap();
    }
    let (code, out, err) = polc_words(dir.path(), "diff --prove old new", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.starts_with("patients: 3-anonymous over zip (was 3-anonymous over zip, birth_year)\n"),
        "{out}"
    );
    // A greater k over the same columns (in another order) reveals nothing more.
    let (code, out, err) = polc_words(dir.path(), "diff --prove old same", &[]);
    assert_eq!(code, 0, "{out}{err}");
}

/// `mask_batch` (Arrow; Python's `mask_batch`, Spark per batch): the batch is made
/// k-anonymous; text is generalised by prefixes, an `int` (whose ranges are text) is shown or
/// suppressed.
#[test]
fn an_arrow_batch_is_k_anonymous() {
    use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let mut map = SourceMap::new();
    map.add(
        "p.pol",
        "source people { id: int key, zip: text, age: int, }\n\
         policy anonymity on source people { k_anonymity 2 over zip, age }\n"
            .to_string(),
    );
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors());
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .unwrap();
    let engine = Engine::load(&bytes, None).unwrap();
    let session = engine
        .session(&serde_json::json!({"login": "a"}), now())
        .unwrap();
    let src = session.source("people").unwrap();
    let batch = RecordBatch::try_from_iter(vec![
        (
            "id",
            Arc::new(Int64Array::from(vec![1, 2, 3])) as Arc<dyn Array>,
        ),
        (
            "zip",
            Arc::new(StringArray::from(vec!["10001", "10002", "20001"])) as _,
        ),
        ("age", Arc::new(Int64Array::from(vec![30, 30, 52])) as _),
    ])
    .unwrap();
    let out = src.mask_batch(&batch).unwrap();
    let zip = out
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let zips: Vec<Option<&str>> = (0..3)
        .map(|i| (!zip.is_null(i)).then(|| zip.value(i)))
        .collect();
    assert_eq!(zips, vec![Some("1000*"), Some("1000*"), None]);
    let age = out.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
    let ages: Vec<Option<i64>> = (0..3)
        .map(|i| (!age.is_null(i)).then(|| age.value(i)))
        .collect();
    assert_eq!(ages, vec![Some(30), Some(30), None]);
}
