//! Hovers that say why (issue 13 item 11, issue 16): over a `test` block's `expect`, whether it
//! holds and the conditions that decided; over a `guarantee`, whether it holds and its
//! counter-example; over a column, who sees it clear. Exact markdown.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::ide::Ide;
use pol_compiler::source_map::{FileId, SourceMap};

const SET: &str = r#"
subject { region: text, }
tag PII sensitive;
source people { id: int key, name: text tagged PII, salary: int tagged PII, region: text, }
policy names on source people {
  mask column people.name using redact for everyone except user in group "hr" and (user has role "lead" or user.region == "eu")
}
policy salaries on source people {
  mask column people.salary using null for everyone except user in group "payroll"
}
policy regions on source people {
  only show rows where row.region == user.region for everyone except user in group "hr"
}
guarantee never unmasked column people.salary except user in group "payroll";
test "clerks" {
  given user { groups: ["hr"], roles: ["clerk"], region: "us" }
  given row people { id: 1, name: "Ann", salary: 10, region: "eu" }
  expect row { name: "*******", salary: null }
  expect shown
}
test "a wrong expectation" {
  given user { groups: ["sales"], region: "us" }
  given row people { id: 2, name: "Bo", salary: 20, region: "eu" }
  expect shown
}
"#;

fn ide(text: &str) -> Ide {
    let mut map = SourceMap::new();
    map.add("p.pol", text);
    Ide::new(map)
}

fn hover_at(ide: &Ide, text: &str, needle: &str, n: usize) -> String {
    let offset = text.match_indices(needle).nth(n).unwrap().0 + 1;
    ide.hover(FileId(0), offset).expect("a hover").markdown
}

#[test]
fn an_expect_row_hover_says_it_holds_and_which_conditions_decided_each_cell() {
    let ide = ide(SET);
    insta::assert_snapshot!(hover_at(&ide, SET, "expect row", 0));
}

#[test]
fn an_expect_shown_that_fails_says_so_and_names_the_false_filter() {
    let ide = ide(SET);
    let h = hover_at(&ide, SET, "expect shown", 1);
    insta::assert_snapshot!(h);
    assert!(h.starts_with("**This expectation fails:**"), "{h}");
}

#[test]
fn a_guarantee_hover_says_whether_it_holds_with_the_counter_example() {
    let text = format!(
        "{SET}guarantee never unmasked column people.name except user has role \"lead\";\n"
    );
    let ide = ide(&text);
    let holds = hover_at(&ide, &text, "guarantee", 0);
    let broken = hover_at(&ide, &text, "guarantee", 1);
    insta::assert_snapshot!(format!("{holds}\n\n=====\n\n{broken}"));
    assert!(holds.contains("**Holds**"), "{holds}");
    assert!(broken.contains("**Does not hold** (E0043)"), "{broken}");
}

#[test]
fn a_column_hover_says_who_sees_it_clear() {
    let ide = ide(SET);
    let h = hover_at(&ide, SET, "name: text", 0);
    assert!(h.contains("*Clear for:*"), "{h}");
    insta::assert_snapshot!(h);
}

#[test]
fn with_errors_a_test_and_a_guarantee_say_they_were_not_checked() {
    let text = SET.replace("tagged PII,", "tagged PIIX,");
    let ide = ide(&text);
    let t = hover_at(&ide, &text, "expect shown", 0);
    assert_eq!(
        t,
        "*Not run:* the policy set has errors; tests run once it has none."
    );
    let g = hover_at(&ide, &text, "guarantee", 0);
    assert!(g.ends_with("*Not checked:* the policy set has errors; guarantees are proved only once it has none."), "{g}");
    let c = hover_at(&ide, &text, "salary: int", 0);
    assert!(!c.contains("*Clear for:*"), "{c}");
}

/// The column hover says, as `polc who-can-see` does, the source's k-anonymity when the column
/// is one of its quasi-identifiers and the conditions the proof does not decide; a column with
/// neither says neither.
#[test]
fn a_column_hover_states_k_anonymity_and_what_it_depends_on() {
    let text = r#"
subject { region: text, }
source visits { id: int key, zip: text, note: text, ip: text, }
policy notes on source visits {
  mask column visits.note using redact for everyone except user in group "ops" and row.ip matches r"^10\." and row.note matches r"^ok"
}
policy zips on source visits {
  mask column visits.zip using show_last(2) for everyone except user.region matches r"^eu-"
  k_anonymity 5 over zip
}
"#;
    let ide = ide(text);
    let zip = hover_at(&ide, text, "zip: text", 0);
    insta::assert_snapshot!("k_anonymity_and_depends_on_zip", zip);
    let note = hover_at(&ide, text, "note: text", 0);
    insta::assert_snapshot!("k_anonymity_and_depends_on_note", note);
    let ip = hover_at(&ide, text, "ip: text, }", 0);
    assert_eq!(
        ip,
        "**column** `visits.ip`: `text`\n\n*Effective rule:* clear\n\n*Clear for:* everyone"
    );
}
