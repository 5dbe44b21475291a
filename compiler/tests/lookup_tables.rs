//! Lookup tables end to end (docs/language.md §13): files read beside the policy set and their
//! errors located at the declaration with the file's line, a built bundle that needs no file,
//! tables supplied at run time with per-session snapshots, the editor's questions, and the
//! generated SQL.

use crate::support::polc::polc;
use chrono::{DateTime, Utc};
use pol_compiler::ide::{CompletionKind, Ide};
use pol_compiler::reference::{Outcome, Reference};
use pol_compiler::source_map::SourceMap;
use pol_runtime::{Engine, LookupValues, TableError};
use serde_json::json;
use std::path::Path;

const POLICY: &str = r#"/// Countries the EU desk handles.
table eu: text from "regions.csv" column code;
table frozen: int supplied at run time;

source orders { id: int key, country: text, account: int, note: text, }

policy eu_desk on source orders {
  only show rows where row.country in table eu for everyone
}

policy frozen_notes {
  mask column orders.note where row.account in table frozen using redact for everyone
}
"#;

const REGIONS: &str =
    "code,name\nFR,France\n\"DE\",\"Germany, Federal Republic\"\nFR,France again\n";

fn set_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn malformed_table_files_are_errors_at_the_declaration_naming_the_files_line() {
    let dir = set_with(&[
        (
            "p.pol",
            r#"table a: text from "two_columns.csv";
table b: int from "ints.csv";
table c: text from "ragged.csv";
table d: int from "nulls.json" column id;
table e: text from "broken.json";
table f: int from "open_quote.csv";
table g: text from "latin1.csv";
table h: text from "folder.csv";
"#,
        ),
        ("two_columns.csv", "code,name\nFR,France\n"),
        ("ints.csv", "id\n1\n2\nthree\n"),
        ("ragged.csv", "code\nFR\nDE,x\n"),
        ("nulls.json", "[\n  {\"id\": 1},\n  {\"id\": null}\n]\n"),
        ("broken.json", "[\"FR\",\n \"DE\"\n"),
        ("open_quote.csv", "id\n1\n\"2\n3\n"),
    ]);
    std::fs::write(dir.path().join("latin1.csv"), b"code\nFR\n\xe9t\xe9\n").unwrap();
    std::fs::create_dir(dir.path().join("folder.csv")).unwrap();
    let (code, stdout, stderr) = polc(dir.path(), &["check", "."]);
    assert_eq!(code, 1, "{stdout}");
    insta::assert_snapshot!(stderr);
}

#[cfg(unix)]
#[test]
fn a_link_leading_out_of_the_folder_is_refused() {
    let outside = set_with(&[("regions.csv", "code\nFR\n")]);
    let dir = set_with(&[
        ("p.pol", "table t: text from \"sub/regions.csv\";\n"),
        ("inside.csv", "code\nFR\n"),
    ]);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("regions.csv"),
        dir.path().join("sub/regions.csv"),
    )
    .unwrap();
    let (code, _, stderr) = polc(dir.path(), &["check", "."]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error[E0052]: lookup table file `sub/regions.csv` is outside the policy set: a symbolic link leads out of the declaring file's folder"),
        "{stderr}"
    );
    // A link that stays inside is read.
    std::fs::remove_file(dir.path().join("sub/regions.csv")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("inside.csv"),
        dir.path().join("sub/regions.csv"),
    )
    .unwrap();
    let (code, _, stderr) = polc(dir.path(), &["check", "."]);
    assert_eq!(
        (code, stderr.as_str()),
        (0, "checked 1 file: no problems\n")
    );
}

#[test]
fn a_built_bundle_carries_its_file_tables() {
    let dir = set_with(&[
        ("p.pol", POLICY),
        ("regions.csv", REGIONS),
        ("s.json", "{\"login\": \"ann\"}"),
        (
            "rows.jsonl",
            "{\"id\":1,\"country\":\"FR\",\"account\":1,\"note\":\"n1\"}\n\
             {\"id\":2,\"country\":\"US\",\"account\":1,\"note\":\"n2\"}\n\
             {\"id\":3,\"country\":\"DE\",\"account\":2,\"note\":\"n3\"}\n\
             {\"id\":4,\"country\":\"de\",\"account\":2,\"note\":\"n4\"}\n",
        ),
    ]);
    let eval = [
        "--subject",
        "s.json",
        "--source",
        "orders",
        "--rows",
        "rows.jsonl",
    ];
    let from_source = polc(dir.path(), &[&["eval", "."][..], &eval].concat());
    let expected = "{\"id\":1,\"country\":\"FR\",\"account\":1,\"note\":\"*******\"}\n\
                    {\"id\":3,\"country\":\"DE\",\"account\":2,\"note\":\"*******\"}\n";
    assert_eq!(from_source, (0, expected.to_string(), String::new()));
    let (code, _, stderr) = polc(dir.path(), &["build", "p.pol", "-o", "b.polb"]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::remove_file(dir.path().join("regions.csv")).unwrap();
    let from_bundle = polc(
        dir.path(),
        &[&["eval", "--bundle", "b.polb"][..], &eval].concat(),
    );
    assert_eq!(from_bundle, (0, expected.to_string(), String::new()));
    // The disassembly names the table each op reads.
    std::fs::write(dir.path().join("regions.csv"), REGIONS).unwrap();
    let (_, asm, _) = polc(dir.path(), &["build", "p.pol", "--emit", "asm"]);
    assert!(asm.contains("in_table 0              ; table eu"), "{asm}");
    assert!(
        asm.contains("in_table 1              ; table frozen"),
        "{asm}"
    );
}

fn engine_of(text: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, Engine) {
    let mut all = vec![("p.pol", text)];
    all.extend_from_slice(files);
    let dir = set_with(&all);
    let map = SourceMap::load(&[dir.path().join("p.pol")]).unwrap();
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .unwrap();
    (dir, Engine::load(&bytes, None).unwrap())
}

fn note(engine: &Engine, session: &pol_runtime::Session<'_>, account: i64) -> serde_json::Value {
    let _ = engine;
    let row = json!({"id": 1, "country": "FR", "account": account, "note": "secret"});
    let cells = session
        .source("orders")
        .unwrap()
        .mask_json(row.as_object().unwrap())
        .expect("shown");
    cells
        .into_iter()
        .find(|(k, _)| k == "note")
        .map(|(_, v)| v)
        .unwrap()
}

#[test]
fn supplied_tables_are_unknown_until_set_and_each_session_keeps_its_snapshot() {
    let (_dir, engine) = engine_of(POLICY, &[("regions.csv", REGIONS)]);
    assert_eq!(
        engine.tables().collect::<Vec<_>>(),
        [
            ("eu", pol_runtime::LookupKind::Text, false),
            ("frozen", pol_runtime::LookupKind::Int, true)
        ]
    );
    let subject = json!({"login": "ann"});
    let before = engine.session(&subject, now()).unwrap();
    // Not supplied: the `where` is unknown and lets its rule decide (masked).
    assert_eq!(note(&engine, &before, 7), json!("*******"));
    engine
        .set_table("frozen", LookupValues::Int(vec![7]))
        .unwrap();
    let after = engine.session(&subject, now()).unwrap();
    assert_eq!(note(&engine, &after, 7), json!("*******"));
    assert_eq!(note(&engine, &after, 8), json!("secret"));
    // The session opened before keeps the values it opened with.
    assert_eq!(note(&engine, &before, 8), json!("*******"));
    // Refreshing replaces the values for the sessions opened afterwards.
    engine
        .set_table("frozen", LookupValues::Int(vec![8]))
        .unwrap();
    let refreshed = engine.session(&subject, now()).unwrap();
    assert_eq!(note(&engine, &refreshed, 7), json!("secret"));
    assert_eq!(note(&engine, &refreshed, 8), json!("*******"));
    assert_eq!(note(&engine, &after, 8), json!("secret"));
}

#[test]
fn set_table_refuses_unknown_file_and_mistyped_tables_and_too_many_values() {
    let (_dir, engine) = engine_of(POLICY, &[("regions.csv", REGIONS)]);
    let refused = |name: &str, values: LookupValues| {
        let e = engine.set_table(name, values).unwrap_err();
        format!("{}: {e}", e.code())
    };
    assert_eq!(
        refused("frozn", LookupValues::Int(vec![])),
        "L0001: the policy set declares no lookup table `frozn`"
    );
    assert_eq!(
        refused("eu", LookupValues::Text(vec!["US".into()])),
        "L0002: lookup table `eu` is read from a file when the bundle is built; only a table declared `supplied at run time` can be set"
    );
    assert_eq!(
        refused("frozen", LookupValues::Text(vec!["7".into()])),
        "L0003: lookup table `frozen` holds int values, and text values were given"
    );
    let many = LookupValues::Int((0..=pol_runtime::lookup::MAX_TABLE_VALUES as i64).collect());
    assert!(matches!(
        engine.set_table("frozen", many),
        Err(TableError::TooManyValues { .. })
    ));
}

#[test]
fn the_reference_reads_file_and_supplied_tables_as_the_runtime_does() {
    let dir = set_with(&[("p.pol", POLICY), ("regions.csv", REGIONS)]);
    let map = SourceMap::load(&[dir.path().join("p.pol")]).unwrap();
    let a = pol_compiler::check(&map);
    let mut reference = Reference::new(&a.model, &a.resolution, None, now());
    let subject = json!({"login": "ann"});
    let row = |country: serde_json::Value, account: i64| {
        json!({"id": 1, "country": country, "account": account, "note": "secret"})
            .as_object()
            .cloned()
            .unwrap()
    };
    let shown = |r: &Reference<'_>, c, acc| r.mask_row("orders", &subject, &row(c, acc)).unwrap();
    assert_eq!(shown(&reference, json!("US"), 1), Outcome::Hidden);
    assert_eq!(shown(&reference, json!(null), 1), Outcome::Hidden);
    let Outcome::Shown(cells) = shown(&reference, json!("DE"), 1) else {
        panic!("DE is in the table")
    };
    assert_eq!(cells["note"], json!("*******"));
    assert!(!reference.supply_table("eu", LookupValues::Text(vec![])));
    assert!(!reference.supply_table("nope", LookupValues::Int(vec![])));
    assert!(reference.supply_table("frozen", LookupValues::Int(vec![2])));
    let Outcome::Shown(cells) = shown(&reference, json!("FR"), 1) else {
        panic!("FR is in the table")
    };
    assert_eq!(cells["note"], json!("secret"));
}

#[test]
fn the_editor_hovers_completes_finds_and_renames_tables() {
    let dir = set_with(&[("p.pol", POLICY), ("regions.csv", REGIONS)]);
    let map = SourceMap::load(&[dir.path().join("p.pol")]).unwrap();
    let ide = Ide::new(map);
    assert!(ide.diagnostics().is_empty(), "{:?}", ide.diagnostics());
    let file = pol_compiler::source_map::FileId(0);
    let use_at = POLICY.find("table eu for").unwrap() + "table ".len();
    let h = ide.hover(file, use_at).expect("hover on a use");
    assert_eq!(
        h.markdown,
        "**lookup table** `eu`: `text`\n\nFrom `regions.csv`: 2 distinct values (3 read). Built into the bundle.\n\nCountries the EU desk handles."
    );
    let supplied_at = POLICY.find("table frozen using").unwrap() + "table ".len();
    let h = ide
        .hover(file, supplied_at)
        .expect("hover on a supplied table");
    assert!(
        h.markdown.starts_with(
            "**lookup table** `frozen`: `int`\n\nSupplied by the application at run time"
        ),
        "{}",
        h.markdown
    );
    let defs = ide.definition(file, use_at);
    assert_eq!(defs.len(), 1);
    assert_eq!(ide.files().snippet(defs[0]), "eu");
    assert_eq!(defs[0].span.start as usize, POLICY.find("eu:").unwrap());
    let refs = ide.references(file, use_at, true);
    assert_eq!(refs.len(), 2);
    let edits = ide.rename(file, use_at, "eu_regions").expect("rename");
    assert_eq!(edits.len(), 2);
    // Completion after `in table` offers the tables, with their origin.
    let typed = "policy x on source orders { only show rows where row.country in table ";
    let text = format!("{POLICY}{typed}");
    let items = ide.completions_in(&text, text.len());
    let tables: Vec<(String, Option<String>)> = items
        .iter()
        .filter(|i| i.kind == CompletionKind::Table)
        .map(|i| (i.label.clone(), i.detail.clone()))
        .collect();
    assert_eq!(
        tables,
        [
            (
                "eu".to_string(),
                Some("text table, from \"regions.csv\"".to_string())
            ),
            (
                "frozen".to_string(),
                Some("int table, supplied at run time".to_string())
            )
        ]
    );
    let items = ide.completions_in(&format!("{text}fr"), text.len() + 2);
    assert_eq!(
        items.iter().map(|i| i.label.as_str()).collect::<Vec<_>>(),
        ["frozen"]
    );
}

#[test]
fn polc_sql_fills_file_tables_and_leaves_supplied_ones_to_the_application() {
    let dir = set_with(&[("p.pol", POLICY), ("regions.csv", REGIONS)]);
    let (code, script, stderr) = polc(dir.path(), &["sql", ".", "--dialect", "postgres"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    for expected in [
        "INSERT INTO \"pol\".lookup_tables (name, kind, filled) VALUES ('eu', 'text', true);",
        "INSERT INTO \"pol\".lookup_values (table_name, text_value, int_value) VALUES\n  ('eu', 'DE', NULL),\n  ('eu', 'FR', NULL);",
        "INSERT INTO \"pol\".lookup_tables (name, kind, filled) VALUES ('frozen', 'int', false) ON CONFLICT (name) DO NOTHING;",
        "DELETE FROM \"pol\".lookup_tables WHERE name <> ALL (ARRAY['eu', 'frozen']::text[]);",
    ] {
        assert!(script.contains(expected), "missing `{expected}` in\n{script}");
    }
}

#[test]
fn the_lookup_example_documents_what_it_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/lookup-tables");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let (code, stdout, stderr) = polc(
        &dir,
        &[
            "eval",
            ".",
            "--subject",
            "demo/logistics.json",
            "--source",
            "orders",
            "--rows",
            "demo/orders.jsonl",
        ],
    );
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(readme.contains(&stdout), "README does not show\n{stdout}");
}

#[test]
fn a_guarantee_that_rests_on_a_tables_contents_is_not_proved() {
    let text = r#"table admins: text supplied at run time;
source vault { id: int key, secret: text, }
policy keep { mask column vault.secret using null for everyone except user.login in table admins }
guarantee never unmasked column vault.secret;
"#;
    let mut map = SourceMap::new();
    map.add("g.pol", text);
    let a = pol_compiler::check(&map);
    let codes: Vec<&str> = a.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0043"], "{:?}", a.diagnostics);
    let notes = a.diagnostics[0].notes.join("\n");
    assert!(notes.contains("user.login in table admins"), "{notes}");
}
