//! `polc explain`: which condition decided each column and row rule, in both formats (issue 13
//! item 11). Exact outputs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support::polc::{polc, polc_words};
use std::path::Path;

const POLICIES: &str = r#"
subject { region: text, }
source people { id: int key, name: text, salary: int, region: text, }
policy names on source people {
  mask column people.name using redact for everyone except user in group "hr" and (user has role "lead" or user.region == "eu")
}
policy salaries on source people {
  mask column people.salary using null for everyone who user has role "auditor" or user acting under Payroll otherwise unmasked
}
purpose Payroll;
policy regions on source people {
  only show rows where row.region == user.region for everyone except user in group "hr"
}
"#;

fn setup(subject: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.pol"), POLICIES).expect("writes");
    std::fs::write(dir.path().join("u.json"), subject).expect("writes");
    dir
}

fn explain(dir: &Path, extra: &[&str]) -> String {
    let (code, out, err) = polc_words(
        dir,
        "explain p.pol --subject u.json --source people --now 2026-01-01T00:00:00Z",
        extra,
    );
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    out
}

#[test]
fn a_false_conjunction_names_its_first_false_part_with_the_users_values() {
    // In group hr, but neither a lead nor in the EU: the `or` is the first false conjunct,
    // and both of its disjuncts decide it.
    let dir = setup(r#"{"groups": ["hr"], "roles": ["clerk"], "region": "us"}"#);
    insta::assert_snapshot!(explain(dir.path(), &[]));
}

#[test]
fn a_missing_subject_field_and_a_row_dependent_filter_are_unknown_with_their_reason() {
    let dir = setup(r#"{"groups": ["sales"], "roles": ["lead"]}"#);
    insta::assert_snapshot!(explain(dir.path(), &[]));
}

#[test]
fn the_json_report_holds_each_deciding_part_and_its_facts() {
    let dir = setup(r#"{"groups": ["hr"], "roles": ["clerk"], "region": "us"}"#);
    let out = explain(dir.path(), &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let name = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "name")
        .unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&name["why"]).unwrap());
    assert_eq!(v["source"], "people");
    assert_eq!(v["row_rules"][0]["why"][0]["role"]["kind"], "audience");
    assert_eq!(v["row_rules"][0]["why"][0]["value"], "true");
}

#[test]
fn the_demo_agent_is_explained_as_the_readme_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data-platform");
    let (code, out, err) = polc(
        &dir,
        &[
            "explain",
            ".",
            "--subject",
            "demo/support-agent.json",
            "--source",
            "crm_customers",
            "--now",
            "2026-06-01T00:00:00Z",
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
}
