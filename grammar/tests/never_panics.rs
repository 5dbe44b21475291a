//! The parser never panics, whatever the input: random bytes, random token soup, and valid
//! programs with tokens deleted, duplicated or swapped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;
use pol_grammar::ast::{Decl, Rule};
use pol_grammar::parse_file;

use proptest::prelude::*;

const VALID: &str = r#"
/// Personally identifiable information.
tag PII sensitive;
tag PII.SSN "Social security numbers";
purpose Research.Marketing;
subject { department: text, clearance: int, }
source customers tagged PHI {
  id: int key,
  first_name: text tagged PII.Name accessible if user.login == "admin",
  ssn: text tagged PII.SSN, PII,
  state: enum("MD", "VA"),
  created_at: timestamp event_time,
  patient: struct { name: text tagged PII.Name, age: int, },
  full_name = concat(first_name, " ", ssn),
}
policy hash_us_ssn on sources tagged PHI {
  mask columns tagged PII.SSN where row[tagged Country] == "US"
  using hash for everyone who user acting under Research
  using mask_last(4, text: "[Restricted]") for everyone who user has role "agent"
  otherwise unmasked
}
policy recent on source customers { only show rows newer than 90d for everyone except user in group "Admins" }
policy sample on source customers { only show 10% of rows for everyone who user.clearance > 2 otherwise all rows }
exempt user in group "auditors" on sources tagged PHI;
level High > Medium > Low;
settings { combine_exceptions = true }
test "t" { given user { roles: ["agent"], attributes: { "Office Location": ["VA"] } } given row customers { id: 1, ssn: "1" } expect row { ssn: null } expect visible [id, ssn] }
"#;

fn vocabulary() -> Vec<String> {
    support::vocabulary(&[
        "\"unterminated",
        "/*",
        "//c\n",
        "///doc\n",
        "`",
        "\\",
        "é",
        "\u{0}",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let file = parse_file(&text);
        for e in &file.errors {
            prop_assert!(e.span.end as usize <= text.len());
            prop_assert!(e.span.start <= e.span.end);
        }
    }

    #[test]
    fn token_soup_never_panics(picks in proptest::collection::vec(0usize..1000, 0..120)) {
        let vocab = vocabulary();
        let text: Vec<&str> = picks.iter().map(|i| vocab[i % vocab.len()].as_str()).collect();
        let text = text.join(" ");
        let file = parse_file(&text);
        for e in &file.errors {
            prop_assert!(e.span.end as usize <= text.len());
        }
    }

    #[test]
    fn mutated_valid_programs_never_panic(ops in proptest::collection::vec((0usize..3, 0usize..10_000, 0usize..10_000), 1..6)) {
        let lexed = pol_grammar::lexer::lex(VALID);
        let mut pieces: Vec<String> = lexed.tokens.iter().map(|(l, _, r)| VALID[*l..*r].to_string()).collect();
        for (op, a, b) in ops {
            if pieces.is_empty() { break; }
            let (i, j) = (a % pieces.len(), b % pieces.len());
            match op {
                0 => { pieces.remove(i); }
                1 => { let t = pieces[i].clone(); pieces.insert(j, t); }
                _ => pieces.swap(i, j),
            }
        }
        let text = pieces.join(" ");
        let file = parse_file(&text);
        // Every error node of the tree has its syntax error.
        let error_nodes = file.decls.iter().filter(|d| match d {
            Decl::Error(_) => true,
            Decl::Policy(p) => p.rules.iter().any(|r| matches!(r, Rule::Error(_))),
            _ => false,
        }).count();
        prop_assert!(error_nodes == 0 || !file.errors.is_empty(), "{text}");
        for e in &file.errors {
            prop_assert!(e.span.end as usize <= text.len());
        }
    }

    /// Layout never changes meaning: the valid program with any mix of spaces, line breaks and
    /// indentation between its tokens parses without errors to the same tree.
    #[test]
    fn layout_never_changes_the_tree(gaps in proptest::collection::vec(0usize..4, 1..400)) {
        let lexed = pol_grammar::lexer::lex(VALID);
        let tokens: Vec<&str> = lexed.tokens.iter().map(|(l, _, r)| &VALID[*l..*r]).collect();
        let mut text = String::new();
        for (i, t) in tokens.iter().enumerate() {
            if i > 0 {
                text.push_str(["\n", " ", "\n    ", "\t"][gaps[i % gaps.len()]]);
            }
            text.push_str(t);
        }
        let file = parse_file(&text);
        prop_assert!(file.errors.is_empty(), "{:?}\n{text}", file.errors);
        let one_line = parse_file(&tokens.join(" "));
        prop_assert_eq!(support::without_spans(&file.decls), support::without_spans(&one_line.decls));
    }
}

#[test]
fn the_valid_program_parses_without_errors() {
    let file = parse_file(VALID);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    assert_eq!(file.decls.len(), 12);
}
