//! `polc eval --k-anonymize K --quasi-identifiers a,b`: the shown, masked rows made k-anonymous as
//! one batch (the runtime's `k_anonymize`), exact outputs and errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support::polc::{polc, polc_words};

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "p.pol",
        "tag Secret;\n\
         source people { id: int key, zip: text, age: int, note: text tagged Secret, }\n\
         policy secret { mask columns tagged Secret using redact for everyone }\n\
         policy adults on source people { only show rows where row.age >= 18 for everyone }\n",
    );
    write("u.json", r#"{"login": "ana"}"#);
    let rows: String = [
        (1, "10001", 31),
        (2, "10002", 32),
        (3, "10003", 33),
        (4, "20001", 41),
        (5, "20002", 42),
        (6, "20003", 44),
        (7, "99999", 90),
        (8, "10004", 12),
    ]
    .iter()
    .map(|(id, zip, age)| {
        format!("{{\"id\": {id}, \"zip\": \"{zip}\", \"age\": {age}, \"note\": \"n{id}\"}}\n")
    })
    .collect();
    write("rows.jsonl", &rows);
    dir
}

#[test]
fn shown_rows_are_generalised_until_every_combination_occurs_k_times() {
    let dir = setup();
    let (code, out, err) = polc_words(
        dir.path(),
        "eval p.pol --subject u.json --source people --rows rows.jsonl --k-anonymize 2 \
        --quasi-identifiers",
        &["zip,age"],
    );
    assert_eq!(code, 0, "{err}");
    // Row 8 (a minor) is hidden by the row rule before the batch is formed; row 7 is the one
    // outlier, whose quasi-identifiers are suppressed; the note stays masked.
    assert_eq!(
        out,
        "{\"id\":1,\"zip\":\"1000*\",\"age\":\"30-35\",\"note\":\"*******\"}\n\
         {\"id\":2,\"zip\":\"1000*\",\"age\":\"30-35\",\"note\":\"*******\"}\n\
         {\"id\":3,\"zip\":\"1000*\",\"age\":\"30-35\",\"note\":\"*******\"}\n\
         {\"id\":4,\"zip\":\"2000*\",\"age\":\"40-45\",\"note\":\"*******\"}\n\
         {\"id\":5,\"zip\":\"2000*\",\"age\":\"40-45\",\"note\":\"*******\"}\n\
         {\"id\":6,\"zip\":\"2000*\",\"age\":\"40-45\",\"note\":\"*******\"}\n\
         {\"id\":7,\"zip\":null,\"age\":null,\"note\":\"*******\"}\n"
    );
    assert_eq!(
        err,
        "k-anonymity (k = 2) over 7 rows: zip at level 60, age at level 1; 1 row suppressed\n"
    );
}

#[test]
fn bad_k_anonymize_arguments_are_usage_errors() {
    let dir = setup();
    let base = [
        "eval",
        "p.pol",
        "--subject",
        "u.json",
        "--source",
        "people",
        "--rows",
        "rows.jsonl",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        polc(dir.path(), &args)
    };
    let (code, out, err) = run(&["--k-anonymize", "2", "--quasi-identifiers", "zip,zipp"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "error: --quasi-identifiers: no column `zipp` in source `people` (columns: id, zip, age, note)\n"
    );
    let (code, _, err) = run(&["--k-anonymize", "0", "--quasi-identifiers", "zip"]);
    assert_eq!(code, 2);
    assert_eq!(err, "error: --k-anonymize must be at least 1\n");
    let (code, _, err) = run(&["--k-anonymize", "2", "--quasi-identifiers", "zip,zip"]);
    assert_eq!(code, 2);
    assert_eq!(err, "error: --quasi-identifiers: `zip` is listed twice\n");
    // Without its columns, or with --explain, clap refuses.
    assert_eq!(run(&["--k-anonymize", "2"]).0, 2);
    assert_eq!(
        run(&[
            "--k-anonymize",
            "2",
            "--quasi-identifiers",
            "zip",
            "--explain"
        ])
        .0,
        2
    );
}
