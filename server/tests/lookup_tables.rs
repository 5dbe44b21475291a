//! Lookup tables supplied by the server (`--table NAME=FILE[#COLUMN]`): until supplied, a
//! table's conditions are unknown and mask; a reload keeps the tables (their files read again),
//! drops a table the new bundle no longer declares, and refuses a bundle that changes a
//! supplied table's type (the old one keeps serving).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

const TABLES: &str = "table frozen: int supplied at run time;\n\
    table desks: text supplied at run time;\n";

const POLICIES: &str = "source accounts { id: int key, desk: text, balance: int, }\n\
    policy desk_rows on source accounts {\n\
      only show rows where row.desk in table desks for everyone\n\
    }\n\
    policy frozen_balance {\n\
      mask column accounts.balance where row.id in table frozen using null for everyone\n\
    }\n";

fn rows() -> Value {
    json!({"rows": [
        {"id": 1, "desk": "eu", "balance": 10},
        {"id": 2, "desk": "us", "balance": 20},
        {"id": 3, "desk": "eu", "balance": 30},
    ]})
}

/// Builds a bundle of `text` at `out` (its sources in `out`'s folder, named after it).
fn bundle(out: &Path, text: &str) {
    let dir = out.with_extension("src");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.pol"), text).unwrap();
    let built = out.with_extension("built");
    build_bundle(&dir, &built);
    // Swapped in atomically: the server polls the file.
    std::fs::rename(&built, out).unwrap();
}

fn mask(server: &Server) -> Value {
    let token = hs_token(&json!({"sub": "ana"}));
    let (status, body) = post(server, "/v1/sources/accounts/mask", &token, &rows());
    assert_eq!(status, 200, "{body}");
    body
}

fn start(bundle: &Path, tables: &[String]) -> Server {
    let mut args = vec![
        "--bundle".to_string(),
        bundle.display().to_string(),
        "--jwt-key".into(),
        hs_key_arg(),
        "--watch-ms".into(),
        "50".into(),
    ];
    for t in tables {
        args.extend(["--table".to_string(), t.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&args)
}

fn metrics(server: &Server) -> String {
    client()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap()
}

/// The count of reloads with `outcome` (0 before the first).
fn reloads(server: &Server, outcome: &str) -> u64 {
    let prefix = format!("pol_bundle_reloads_total{{outcome=\"{outcome}\"}} ");
    metrics(server)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap())
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_unsupplied_table_masks_and_a_supplied_one_decides() {
    let tmp = tempdir();
    let polb = tmp.path().join("p.polb");
    bundle(&polb, &format!("{TABLES}{POLICIES}"));
    // Neither table given: the row filter is unknown (every row hidden).
    let none = start(&polb, &[]);
    assert_eq!(mask(&none), json!({"rows": [], "hidden": 3}));
    drop(none);
    // `desks` from a CSV column; `frozen` not given: its `where` is unknown, its rule masks.
    let desks = tmp.path().join("desks.csv");
    std::fs::write(&desks, "code,name\neu,Europe\napac,Asia\n").unwrap();
    let desks_arg = format!("desks={}#code", desks.display());
    let some = start(&polb, std::slice::from_ref(&desks_arg));
    assert_eq!(
        mask(&some),
        json!({"rows": [
            {"id": 1, "desk": "eu", "balance": null},
            {"id": 3, "desk": "eu", "balance": null},
        ], "hidden": 1})
    );
    drop(some);
    let frozen = tmp.path().join("frozen.json");
    std::fs::write(&frozen, "[3]").unwrap();
    let both = start(&polb, &[desks_arg, format!("frozen={}", frozen.display())]);
    assert_eq!(
        mask(&both),
        json!({"rows": [
            {"id": 1, "desk": "eu", "balance": 10},
            {"id": 3, "desk": "eu", "balance": null},
        ], "hidden": 1})
    );
}

#[test]
fn a_reload_keeps_the_tables_and_refuses_a_changed_type() {
    let tmp = tempdir();
    let polb = tmp.path().join("p.polb");
    bundle(&polb, &format!("{TABLES}{POLICIES}"));
    let desks = tmp.path().join("desks.json");
    std::fs::write(&desks, r#"["eu"]"#).unwrap();
    let frozen = tmp.path().join("frozen.csv");
    std::fs::write(&frozen, "id\n3\n").unwrap();
    let mut server = start(
        &polb,
        &[
            format!("desks={}", desks.display()),
            format!("frozen={}", frozen.display()),
        ],
    );
    let shown = json!({"rows": [
        {"id": 1, "desk": "eu", "balance": 10},
        {"id": 3, "desk": "eu", "balance": null},
    ], "hidden": 1});
    assert_eq!(mask(&server), shown);

    // A new bundle (one more source): the tables are supplied to it before it serves.
    bundle(
        &polb,
        &format!("{TABLES}{POLICIES}source other {{ id: int key, }}\n"),
    );
    wait_for("the new bundle", || reloads(&server, "loaded") == 1);
    assert_eq!(mask(&server), shown);

    // A table file changes: read again.
    std::fs::write(&frozen, "id\n1\n2\n").unwrap();
    wait_for("the table reload", || reloads(&server, "loaded") == 2);
    assert_eq!(
        mask(&server),
        json!({"rows": [
            {"id": 1, "desk": "eu", "balance": null},
            {"id": 3, "desk": "eu", "balance": 30},
        ], "hidden": 1})
    );

    // `frozen` becomes a text table: refused, the old bundle and its tables keep serving.
    let before = metrics(&server);
    bundle(
        &polb,
        &format!(
            "{}{POLICIES}",
            TABLES.replace("frozen: int", "frozen: text")
        )
        .replace("row.id in table frozen", "row.desk in table frozen"),
    );
    wait_for("the refused reload", || reloads(&server, "failed") == 1);
    assert_eq!(reloads(&server, "loaded"), 2);
    let bundle_info = |m: &str| {
        m.lines()
            .find(|l| l.starts_with("pol_bundle_info"))
            .map(str::to_owned)
    };
    assert_eq!(bundle_info(&metrics(&server)), bundle_info(&before));
    assert_eq!(mask(&server)["rows"][1]["balance"], json!(30));

    // A bundle without `frozen`: it is dropped (logged), `desks` still supplied.
    bundle(
        &polb,
        "table desks: text supplied at run time;\n\
         source accounts { id: int key, desk: text, balance: int, }\n\
         policy desk_rows on source accounts {\n\
           only show rows where row.desk in table desks for everyone\n\
         }\n",
    );
    wait_for("the bundle without frozen", || {
        reloads(&server, "loaded") == 3
    });
    assert_eq!(
        mask(&server),
        json!({"rows": [
            {"id": 1, "desk": "eu", "balance": 10},
            {"id": 3, "desk": "eu", "balance": 30},
        ], "hidden": 1})
    );
    server.signal("TERM");
    let (code, log) = server.wait_exit(30);
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains(
            "lookup table `frozen` is declared with text values in the new bundle, and the \
             server supplies int values (--table): restart the server to change a table's type"
        ),
        "{log}"
    );
    assert!(
        log.contains("the new bundle declares no lookup table of this name"),
        "{log}"
    );
}

#[test]
fn a_table_the_bundle_cannot_take_stops_the_start() {
    let tmp = tempdir();
    let polb = tmp.path().join("p.polb");
    bundle(&polb, &format!("{TABLES}{POLICIES}"));
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "[1,\n\"x\"]").unwrap();
    let good = tmp.path().join("good.json");
    std::fs::write(&good, "[1]").unwrap();
    for (table, message) in [
        (
            format!("nope={}", good.display()),
            "lookup table `nope` (--table): L0001: the policy set declares no lookup table `nope`"
                .to_string(),
        ),
        (
            format!("frozen={}", bad.display()),
            format!(
                "lookup table `frozen` (--table): {}: line 2: `x` is not an int",
                bad.display()
            ),
        ),
        (
            "desks=desks.txt".to_string(),
            "lookup table `desks` (--table): desks.txt: the file must be .csv or .json".to_string(),
        ),
        (
            "desks".to_string(),
            "--table `desks`: give NAME=FILE or NAME=FILE#COLUMN".to_string(),
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_pol-server"))
            .args([
                "--bundle",
                polb.to_str().unwrap(),
                "--jwt-key",
                &hs_key_arg(),
            ])
            .args(["--listen", "127.0.0.1:0", "--table", &table])
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{table}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("error: {message}\n"),
            "{table}"
        );
    }
}
