//! `polc diff`: decision tables as written and for one subject, and the changes between two sets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use chrono::TimeZone;
use pol_compiler::diff::{changes, decisions, Audience, PolicySet};
use pol_compiler::source_map::SourceMap;

fn table(text: &str, subject: Option<serde_json::Value>) -> Vec<(String, String)> {
    let mut files = SourceMap::new();
    files.add("set.pol", text);
    let a = pol_compiler::check(&files);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let set = PolicySet {
        files: &files,
        model: &a.model,
        resolution: &a.resolution,
    };
    let audience = match &subject {
        Some(s) => Audience::Subject(s),
        None => Audience::Everyone,
    };
    let now = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    decisions(&set, &audience, now)
        .unwrap()
        .into_iter()
        .collect()
}

const SET: &str = r#"
tag PII sensitive;
tag PII.SSN;
tag Country;
subject { clearance: int }
source customers {
  id: int key,
  ssn: text tagged PII.SSN,
  name: text tagged PII,
  country: text tagged Country,
  notes: text accessible if user has role "admin",
}
policy null_pii { mask columns tagged PII using null for everyone except user has role "privacy" }
policy hash_us_ssn {
  mask columns tagged PII.SSN where row[tagged Country] == "US"
  using hash for everyone who user.clearance >= 2 otherwise using null
}
policy eu on source customers { only show rows where row.country == "FR" for everyone except user has role "admin" }
"#;

#[test]
fn decisions_as_written() {
    let t = table(SET, None);
    let text: Vec<String> = t.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    assert_eq!(
        text,
        [
            "customers: rows: rows where row.country == \"FR\" unless user has role \"admin\" (`eu`)",
            "customers.country: visible; else clear",
            "customers.id: visible; else clear",
            "customers.name: visible; null unless user has role \"privacy\" (`null_pii`)",
            "customers.notes: visible if user has role \"admin\"; null unless user has role \"admin\" (`customers.notes accessible if`)",
            "customers.ssn: visible; where row[tagged Country] == \"US\": hash if user.clearance >= 2, else null (`hash_us_ssn`); null unless user has role \"privacy\" (`null_pii`)",
        ]
    );
}

#[test]
fn decisions_for_a_subject_evaluate_user_conditions() {
    let set = SET.to_string();
    let cleared = table(
        &set,
        Some(serde_json::json!({ "roles": ["privacy"], "clearance": 3 })),
    );
    let get =
        |t: &[(String, String)], k: &str| t.iter().find(|(key, _)| key == k).unwrap().1.clone();
    assert_eq!(
        get(&cleared, "customers.ssn"),
        "visible; where row[tagged Country] == \"US\": hash (`hash_us_ssn`); clear (`null_pii`)"
    );
    assert_eq!(
        get(&cleared, "customers.notes"),
        "invisible; null (`customers.notes accessible if`)"
    );
    assert_eq!(
        get(&cleared, "customers"),
        "rows: rows where row.country == \"FR\" (`eu`)"
    );
    // A missing `clearance` is unknown: the `who` clause masks with null (the safer side).
    let unknown = table(&set, Some(serde_json::json!({ "roles": ["admin"] })));
    assert_eq!(
        get(&unknown, "customers.ssn"),
        "visible; where row[tagged Country] == \"US\": null (`hash_us_ssn`); null (`null_pii`)"
    );
    assert_eq!(get(&unknown, "customers"), "rows: all");
    assert_eq!(
        get(&unknown, "customers.notes"),
        "visible; clear (`customers.notes accessible if`)"
    );
}

#[test]
fn changes_name_each_changed_decision() {
    let old_text = SET.to_string();
    let new_text = old_text.replace(
        "using null for everyone except user has role \"privacy\"",
        "using redact for everyone except user has role \"privacy\"",
    );
    let old: pol_compiler::diff::Decisions = table(&old_text, None).into_iter().collect();
    let new: pol_compiler::diff::Decisions = table(&new_text, None).into_iter().collect();
    let c = changes(&old, &new);
    let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["customers.name", "customers.ssn"]);
    assert_eq!(
        c[0].new.as_deref(),
        Some("visible; redact unless user has role \"privacy\" (`null_pii`)")
    );
    assert!(changes(&old, &old).is_empty());
}
