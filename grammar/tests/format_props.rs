//! Properties of the formatter on generated input: it never panics, it never fails on a file that
//! parses (a failure there would be a formatter bug, reported as `FormatError::Internal`), and what
//! it produces is a fixed point with the same syntax tree and the same comments.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;
use pol_grammar::format::{format_source, same_syntax, FormatError};
use pol_grammar::lexer::lex;
use pol_grammar::parse_file;

use proptest::prelude::*;

/// Every form of the language once.
const VALID: &str = r#"
/// Doc.
tag PII sensitive;
tag PII.SSN "Social security numbers";
tag Country;
purpose Research.Marketing;
subject { department: text, clearance: int, tags: list<text>, m: map<text, set<text>>, }
source customers tagged PII level Medium from lvl {
  id: int key,
  first_name: text tagged PII.SSN, Country accessible if user.login == "admin" otherwise using show_last(4),
  last_name: text tagged PII visible if not (user.clearance > 2 and user.department in ["HR", "Legal"]),
  state: enum("MD", "VA"),
  lvl: text,
  at: timestamp event_time,
  patient: struct { name: text tagged PII, age: int, },
  full_name = concat(first_name, " ", last_name),
}
policy p1 "why" staged on sources tagged PII {
  mask columns tagged PII.SSN where row[tagged Country] == "US" using hash for everyone except user in group "admins"
  mask column customers.first_name
  using mask_last(4, text: "[Restricted]") for everyone who user acting under Research
  using by level { High: null, Medium: age_range(10, max: 70), Low: year_only } for everyone who user has role "a"
  otherwise unmasked
  mask columns named like r"^x" using expr(if has(value) then lower(value) else "-") for everyone
  mask all columns using null for everyone who user has attribute "Office Location" = "MD" otherwise using redact
  only show rows where row.state in user.attributes["Office Location"] for everyone except user in group "Legal"
  only show 10% of rows for everyone who user.clearance > 2 otherwise only show rows newer than 90d
  never show rows for everyone who user.login matches r"^svc_" otherwise all rows
  allow temporary unmask for 24h for everyone who user has role "u"
  allow detokenize column customers.first_name for everyone
}
policy p2 on source customers { mask columns with no tags using constant(-1 + 2) for everyone }
policy p3 on sources with columns tagged PII { mask columns with any tag using round(month) for everyone }
policy p4 on sources named like "^c" { only show rows older than 30d for everyone }
policy p5 on all sources {}
policy p6 on source customers {
  mask column customers.lvl using buckets([0, 2.5, 18], labels: ["a", "b", "c"]) for everyone
  mask column customers.at using age_range(10, max: 70, above: "Over 70") for everyone
  mask columns tagged Country using mask_first_percent(30, text: "…") for everyone
  mask columns tagged PII using show_last(4, char: "x") for everyone
}
exempt user in group "auditors" on sources tagged PII;
level High > Medium > Low;
settings { combine_exceptions = true }
test "t" {
  given now timestamp("2024-05-01T10:00:00Z")
  given user { login: "amy", roles: ["agent"], attributes: { "Office Location": ["VA"] } }
  given row customers { id: 1, first_name: "x", patient: { name: "n", age: 3 } }
  expect row { first_name: null, full_name: "x y" }
  expect visible [id, patient.name]
  expect hidden
  expect shown
}
"#;

/// What may go between two tokens.
const SEPARATORS: &[&str] = &[
    " ",
    " ",
    " ",
    "",
    "\n",
    "\n\n",
    "\n\n\n",
    "\t",
    "  ",
    " // c\n",
    "\n// own\n",
    "\n/// doc\n",
    " //\n",
    "\r\n",
];

fn vocabulary() -> Vec<String> {
    support::vocabulary(&["// c\n", "/// doc\n", "é"])
}

/// The checks every formatted output must pass.
fn check(text: &str) -> Result<(), TestCaseError> {
    let parsed = parse_file(text);
    match format_source(text) {
        Err(FormatError::Syntax(e)) => {
            prop_assert!(!parsed.errors.is_empty());
            prop_assert_eq!(Some(&e), parsed.errors.first());
        }
        Err(FormatError::Internal(m)) => {
            prop_assert!(
                false,
                "internal error on a file that parses: {}\n{}",
                m,
                text
            );
        }
        Ok(out) => {
            prop_assert!(parsed.errors.is_empty());
            let again = format_source(&out);
            prop_assert_eq!(
                again.as_deref(),
                Ok(out.as_str()),
                "not idempotent on\n{}",
                text
            );
            let reparsed = parse_file(&out);
            if let Err(d) = same_syntax(&parsed, &reparsed) {
                prop_assert!(false, "{}\non\n{}", d, text);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn token_soup(picks in proptest::collection::vec((0usize..1000, 0usize..100), 0..80)) {
        let vocab = vocabulary();
        let mut text = String::new();
        for (t, s) in picks {
            text.push_str(&vocab[t % vocab.len()]);
            text.push_str(SEPARATORS[s % SEPARATORS.len()]);
        }
        check(&text)?;
    }

    /// The valid program with random spacing, line breaks and comments between its tokens: it
    /// mostly still parses, so this exercises the layout and comment placement.
    #[test]
    fn respaced_and_commented_program(seps in proptest::collection::vec(0usize..100, 600)) {
        let lexed = lex(VALID);
        let mut text = String::new();
        for (i, (l, _, r)) in lexed.tokens.iter().enumerate() {
            text.push_str(&VALID[*l..*r]);
            // Mostly plain spaces, so that most cases still parse.
            let s = seps[i % seps.len()];
            text.push_str(if s < 60 { " " } else { SEPARATORS[s % SEPARATORS.len()] });
        }
        check(&text)?;
    }

    /// The valid program with tokens deleted, duplicated or swapped.
    #[test]
    fn mutated_program(ops in proptest::collection::vec((0usize..3, 0usize..10_000, 0usize..10_000), 1..4)) {
        let lexed = lex(VALID);
        let mut pieces: Vec<String> = lexed.tokens.iter().map(|(l, _, r)| VALID[*l..*r].to_string()).collect();
        for (op, a, b) in ops {
            let (i, j) = (a % pieces.len(), b % pieces.len());
            match op {
                0 => { pieces.remove(i); }
                1 => { let t = pieces[i].clone(); pieces.insert(j, t); }
                _ => pieces.swap(i, j),
            }
        }
        check(&pieces.join(" "))?;
    }
}

#[test]
fn the_valid_program_formats() {
    let file = parse_file(VALID);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(file.decls.len(), 16);
    check(VALID).unwrap();
}
