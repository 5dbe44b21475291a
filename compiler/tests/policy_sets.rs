//! Policy-set roots on the command line: a folder holding a `pol.toml` is a policy set of its
//! own, so a directory holding several independent sets is checked set by set, and a broken
//! `pol.toml` is refused with its location.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support::polc::{polc, polc_words};
use std::path::Path;

/// One policy set declaring `source customers` (so two of them in one set clash).
const SET: &str = "tag PII sensitive;\nsource customers {\n  id: int key,\n  email: text tagged PII,\n}\npolicy p {\n  mask columns tagged PII using null for everyone\n}\ntest \"masked\" {\n  given user { login: \"u\" }\n  given row customers { id: 1, email: \"a@b.c\" }\n  expect row { email: null }\n}\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("creates");
    std::fs::write(path, text).expect("writes");
}

/// Two sets `a/` and `b/` that each declare `customers`.
fn two_sets(manifests: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "sets/a/policy.pol", SET);
    write(dir.path(), "sets/b/nested/policy.pol", SET);
    if manifests {
        write(dir.path(), "sets/a/pol.toml", "name = \"alpha\"\n");
        write(dir.path(), "sets/b/pol.toml", "");
    }
    dir
}

#[test]
fn a_directory_of_several_roots_is_checked_set_by_set() {
    // Without markers, one set: the sources clash.
    let dir = two_sets(false);
    let (code, _, err) = polc(dir.path(), &["check", "sets"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("source `customers` is declared twice"),
        "{err}"
    );

    let dir = two_sets(true);
    let (code, _, err) = polc(dir.path(), &["check", "sets"]);
    assert_eq!((code, err.as_str()), (0, "checked 2 files: no problems\n"));
    let (code, out, err) = polc(dir.path(), &["test", "sets"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "== alpha\n1 passed, 0 failed\n== sets/b\n1 passed, 0 failed\n"
    );
    // A file given alone belongs to the root of its folder.
    let (code, _, _) = polc_words(
        dir.path(),
        "check sets/a/policy.pol sets/b/nested/policy.pol",
        &[],
    );
    assert_eq!(code, 0);
}

#[test]
fn the_repository_examples_are_independent_sets() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let (code, _, err) = polc(&examples, &["check", "."]);
    assert_eq!(code, 0, "{err}");
    assert!(err.ends_with("no problems\n"), "{err}");
}

#[test]
fn commands_of_one_set_refuse_several() {
    let dir = two_sets(true);
    write(dir.path(), "u.json", "{\"login\": \"u\"}");
    for args in [
        &["build", "sets", "-o", "x.polb"][..],
        &[
            "explain",
            "sets",
            "--subject",
            "u.json",
            "--source",
            "customers",
        ][..],
    ] {
        let (code, out, err) = polc(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(
            err,
            "error: the paths hold 2 policy sets (sets/a, sets/b); give the paths of one (`polc check` and `polc test` take several)\n"
        );
    }
    assert!(!dir.path().join("x.polb").exists());
    // One root given: one set.
    let (code, _, err) = polc_words(dir.path(), "build sets/a -o a.polb", &[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_root_inside_a_root_is_a_set_of_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "outer/pol.toml", "");
    write(dir.path(), "outer/policy.pol", SET);
    write(dir.path(), "outer/inner/pol.toml", "");
    write(dir.path(), "outer/inner/policy.pol", SET);
    let (code, out, err) = polc(dir.path(), &["test", "outer"]);
    assert_eq!(code, 0, "{err}");
    // Sets come in the order of their first file (paths sorted).
    assert_eq!(
        out,
        "== outer/inner\n1 passed, 0 failed\n== outer\n1 passed, 0 failed\n"
    );
}

#[test]
fn an_invalid_pol_toml_is_refused_with_its_location() {
    let dir = two_sets(true);
    write(
        dir.path(),
        "sets/b/pol.toml",
        "# the set\nname = \"b\"\nversion = 2\n",
    );
    for command in ["check", "test", "build"] {
        let mut args = vec![command, "sets/b"];
        if command == "build" {
            args.extend(["-o", "b.polb"]);
        }
        let (code, out, err) = polc(dir.path(), &args);
        assert_eq!(code, 2, "{command}: {out}");
        assert_eq!(
            err,
            "error: sets/b/pol.toml:3:1: error[M0002]: unknown key `version` (pol.toml may hold: name)\n",
            "{command}"
        );
    }
    write(dir.path(), "sets/b/pol.toml", "name = [1]\n");
    let (code, _, err) = polc(dir.path(), &["check", "sets"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: sets/b/pol.toml:1:8: error[M0003]: `name` must be a string (found: array)\n"
    );
    write(dir.path(), "sets/b/pol.toml", "name = \"unterminated\n");
    let (code, _, err) = polc(dir.path(), &["check", "sets"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: sets/b/pol.toml:1:")
            && err.contains("error[M0001]: not a valid TOML file"),
        "{err}"
    );
}
