//! The formatter's output on deliberately messy files (comments everywhere, odd spacing, every
//! construct), pinned as snapshots, plus the exact behaviour of its layout rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_grammar::format::{format_source, same_syntax, FormatError, MAX_WIDTH};
use pol_grammar::{parse_file, Span, SyntaxError};

/// Every declaration and rule form, badly spaced, with comments in every kind of place.
const MESSY: &str = r#"

// File header comment.
// Second header line.
/// Doc for PII.
tag PII   sensitive ;tag PII.SSN "ssn"   sensitive; // trailing on ssn
tag   PII.Email;

tag Country;purpose Research . Marketing;
/// Subject doc.
subject{department:text,clearance :int // trailing on clearance
}
source customers tagged PII , Country level Medium from lvl{ // after brace

  /// Column doc.
  id:int key,  name : text tagged PII.SSN,PII.Email accessible if user . login=="admin" otherwise using show_last( 4 , ) ,


  // own-line before email
  email:text tagged PII.Email,
  tags : list< text >, attrs: map<text,set<text>>,
  lvl: enum( "High","Medium", ),
  nested : struct{ a:int, b :text tagged PII, // trailing in struct
  },
  empty: struct {},
  full = concat( name , " " , email ) // derived, trailing before comma
  ,
  // last comment in block
}
policy   p1 "why" staged on sources tagged PII{mask columns tagged PII.SSN where row [ tagged Country ]=="US" using hash for everyone except user in group "admins" // trailing rule
  // before second rule
  mask column customers.email using email_mask for everyone who user acting under Research.Marketing using hash for everyone who ( user has role "x" or user has role "y" ) and not user.clearance>3 otherwise unmasked
  only show rows where row.id > -5 + 2 for everyone who user has attribute "Office Location" = "MD" otherwise all rows
  only show 10 % of rows for everyone
  allow temporary unmask for 24h for everyone who user has role "u"
  allow detokenize column customers.name for everyone
}
policy empty {}
policy withcomment { // only a comment
}
exempt user in group "auditors"   on   all sources ; exempt user.login == "root";
level High>Medium >Low;
settings { combine_exceptions=true , }
test "messy" {
  given now timestamp("2024-05-01T10:00:00Z")
  given user { login: "amy", roles: ["agent",], attributes: { "Office Location": ["VA"] } }
  given row customers { id: 1, // the key
    email: "jenny@example.com" }
  expect row { email: "*******.com", name: if true then "a" else "b" }
  expect visible [ id , email, ]
  expect hidden expect shown
}
// End of file comment.


"#;

/// Comments in places no one should put them: between keywords, inside expressions and lists,
/// before `,` and `;`.
const COMMENTS_EVERYWHERE: &str = r#"tag // after tag keyword
  PII;
policy // after policy
  p2 // after name
  on source // after source kw
  customers // after scope
{
  mask columns tagged PII where
    // own line in where
    row.a == 1 and // trailing in where
    row.b == 2
  using hash // after technique
  for everyone
  only show rows where row.x in [ "a", // in list
    "b" ] for everyone
}
exempt user in group "x" // before semicolon
;
source customers {
  a: enum("x", // in enum
  "y"),
  b: text tagged PII // before comma
  , c: int
}
test "t" { given user { login: "a" // in record
} expect shown }
"#;

/// Formats, and checks what every output must satisfy: a fixed point, the same tree, and a
/// trailing newline.
fn fmt(text: &str) -> String {
    let out = format_source(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        format_source(&out).as_deref(),
        Ok(out.as_str()),
        "not idempotent"
    );
    same_syntax(&parse_file(text), &parse_file(&out)).unwrap();
    assert!(out.is_empty() || (out.ends_with('\n') && !out.ends_with("\n\n")));
    out
}

#[test]
fn messy_file() {
    insta::assert_snapshot!(fmt(MESSY));
}

#[test]
fn comments_everywhere() {
    insta::assert_snapshot!(fmt(COMMENTS_EVERYWHERE));
}

#[test]
fn every_comment_of_the_messy_files_is_kept_in_order() {
    for text in [MESSY, COMMENTS_EVERYWHERE] {
        let out = fmt(text);
        let before: Vec<String> = parse_file(text)
            .comments
            .iter()
            .map(|c| c.text.clone())
            .collect();
        let after: Vec<String> = parse_file(&out)
            .comments
            .iter()
            .map(|c| c.text.clone())
            .collect();
        assert_eq!(before.len(), if text == MESSY { 17 } else { 13 });
        assert_eq!(before, after);
    }
}

#[test]
fn a_file_that_does_not_parse_is_refused_with_its_first_error() {
    let text = "tag PII\ntag PII.Email;\npolicy p { mask columns tagged PII using null for }\n";
    assert_eq!(
        format_source(text),
        Err(FormatError::Syntax(
            SyntaxError::new(
                "expected `;` to end the declaration, found `tag`".to_string(),
                Span::new(7, 7),
            )
            .with_fix(";")
        ))
    );
    // A lexing error alone is enough.
    assert_eq!(
        format_source("tag PII; $\n"),
        Err(FormatError::Syntax(SyntaxError::new(
            "unexpected character `$`".to_string(),
            Span::new(9, 10),
        )))
    );
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("  \n\n\t\n"), "");
    assert_eq!(fmt("\n\n// a\n\n\n// b   \n\n"), "// a\n\n// b\n");
}

#[test]
fn crlf_line_ends_become_lf() {
    assert_eq!(
        fmt("tag A; // x\r\ntag B;\r\n\r\n\r\npurpose P;\r\n"),
        "tag A; // x\ntag B;\n\npurpose P;\n"
    );
}

#[test]
fn one_line_declarations_of_one_kind_may_be_adjacent_others_get_a_blank_line() {
    assert_eq!(
        fmt("tag A; tag B;\n\n\n\ntag C;\npurpose P; exempt user.login == \"x\"; exempt user.login == \"y\";"),
        "tag A;\ntag B;\n\ntag C;\n\npurpose P;\n\nexempt user.login == \"x\";\nexempt user.login == \"y\";\n"
    );
    // A comment between two declarations keeps the blank line before it.
    assert_eq!(
        fmt("source s { id: int key }\n// about p\npolicy p { never show rows for everyone }"),
        "source s {\n  id: int key,\n}\n\n// about p\npolicy p {\n  never show rows for everyone\n}\n"
    );
}

/// A policy whose one rule is `n` characters long once indented.
fn policy_with_rule_of_width(n: usize) -> String {
    let head = "  mask columns tagged A using null for everyone except user.login == \"";
    let pad = n - head.len() - 1;
    format!("policy p {{\n{head}{}\"\n}}\n", "x".repeat(pad))
}

#[test]
fn a_rule_stays_on_one_line_up_to_the_width_limit() {
    let fits = policy_with_rule_of_width(MAX_WIDTH);
    assert_eq!(fmt(&fits), fits);
    let too_long = policy_with_rule_of_width(MAX_WIDTH + 1);
    let x = "x".repeat(MAX_WIDTH + 1 - 71);
    assert_eq!(
        fmt(&too_long),
        format!("policy p {{\n  mask columns tagged A\n    using null for everyone except user.login == \"{x}\"\n}}\n")
    );
}

#[test]
fn a_clause_too_long_for_its_line_breaks_before_its_audience() {
    let cond = format!("user.login == \"{}\"", "y".repeat(80));
    let text = format!("policy p {{ mask columns tagged A using hash for everyone except {cond} otherwise using null }}");
    assert_eq!(
        fmt(&text),
        format!("policy p {{\n  mask columns tagged A\n    using hash\n      for everyone except {cond}\n    otherwise using null\n}}\n")
    );
}

#[test]
fn parentheses_and_literals_are_kept_as_written() {
    assert_eq!(
        fmt("exempt ((user.clearance))>007 or(user.login==\"a\\u{41}\\n\" ) ;"),
        "exempt ((user.clearance)) > 007 or (user.login == \"a\\u{41}\\n\");\n"
    );
}

#[test]
fn at_most_one_blank_line_is_kept_between_items_and_none_at_block_edges() {
    assert_eq!(
        fmt("source s {\n\n\n  a: int,\n\n\n\n  b: int,\n\n  // c\n\n\n}\n"),
        "source s {\n  a: int,\n\n  b: int,\n\n  // c\n}\n"
    );
}

/// Block comments (issue 9, item 8): every form is a comment, kept verbatim by the formatter.
const BLOCK_COMMENTS: &str = "/* header */
/** a block doc-looking comment is a plain comment */
tag PII /* inline */ sensitive;
/*
 * multi-line, with * stars and / slashes
 */
source s { id: int key, /* before a column */ e: text tagged PII /* after */ }
policy p { mask columns tagged PII using /* a * b */ null for everyone }
";

#[test]
fn block_comments_are_kept_verbatim() {
    let parsed = parse_file(BLOCK_COMMENTS);
    assert_eq!(parsed.errors, vec![]);
    let texts: Vec<&str> = parsed.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "/* header */",
            "/** a block doc-looking comment is a plain comment */",
            "/* inline */",
            "/*\n * multi-line, with * stars and / slashes\n */",
            "/* before a column */",
            "/* after */",
            "/* a * b */",
        ]
    );
    assert!(parsed
        .comments
        .iter()
        .all(|c| c.kind == pol_grammar::ast::CommentKind::Block));
    // `/** … */` is not a doc comment: the tag has no documentation.
    let pol_grammar::ast::Decl::Tag(tag) = &parsed.decls[0] else {
        panic!("a tag first")
    };
    assert_eq!(tag.doc, None);
    insta::assert_snapshot!(fmt(BLOCK_COMMENTS));
}

#[test]
fn block_comments_do_not_nest_and_an_unterminated_one_is_one_error_at_its_start() {
    // The first `*/` ends the comment: ` c */` is then code.
    let nested = parse_file("/* a /* b */ c */ tag A;\n");
    assert_eq!(nested.comments.len(), 1);
    assert_eq!(nested.comments[0].text, "/* a /* b */");
    assert!(!nested.errors.is_empty());
    let text = "tag A;\n/* never closed\ntag B; $ \"x\n";
    assert_eq!(
        parse_file(text).errors,
        vec![SyntaxError::new(
            "unterminated block comment".to_string(),
            Span::new(7, 9),
        )]
    );
    assert_eq!(
        format_source(text),
        Err(FormatError::Syntax(SyntaxError::new(
            "unterminated block comment".to_string(),
            Span::new(7, 9),
        )))
    );
}

/// A UTF-8 byte-order mark (issue 9, item 9) is accepted; spans stay byte offsets into the file
/// (the BOM is 3 bytes); the formatter drops it.
#[test]
fn a_byte_order_mark_is_accepted_and_dropped_by_the_formatter() {
    let text = "\u{feff}tag PII;\ntag   A;\n";
    let parsed = parse_file(text);
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.decls[0].span(), Span::new(3, 11));
    assert_eq!(fmt(text), "tag PII;\ntag A;\n");
    // Editors do not show the BOM: `tag` is at column 0 for LSP positions, both ways.
    let index = pol_grammar::LineIndex::new(text);
    assert_eq!(index.position_utf16(text, 3), (0, 0));
    assert_eq!(index.position_utf16(text, 7), (0, 4));
    assert_eq!(index.position_utf16(text, 13), (1, 1));
    assert_eq!(index.offset_utf16(text, 0, 0), 3);
    assert_eq!(index.offset_utf16(text, 0, 4), 7);
    assert_eq!(index.offset_utf16(text, 1, 1), 13);
    // A BOM anywhere else is still an unexpected character.
    assert_eq!(
        parse_file("tag A;\u{feff}\n").errors,
        vec![SyntaxError::new(
            "unexpected character `\\u{feff}`".to_string(),
            Span::new(6, 9),
        )]
    );
}

/// Issue 13's technique arguments (lists, labelled replacements) take the canonical layout of
/// any call, and format back to themselves.
#[test]
fn technique_argument_lists_take_the_canonical_layout() {
    let messy = "source s { id: int key, a: int, b: date, c: text, }\n\
        policy p { mask column s.a using buckets( [0,5 ,18 , 65] , labels:[ \"under 5\",\"5-17\" ,\"18-64\",\"65+\"] ) for everyone\n\
        mask column s.b using age_range( 10,max:70 , above :\"Over 70\") for everyone\n\
        mask column s.c using digits( text:\"N\" ) for everyone }\n";
    let once = fmt(messy);
    assert_eq!(
        once,
        "source s {\n  id: int key,\n  a: int,\n  b: date,\n  c: text,\n}\n\n\
         policy p {\n  \
         mask column s.a\n    \
         using buckets([0, 5, 18, 65], labels: [\"under 5\", \"5-17\", \"18-64\", \"65+\"]) for everyone\n  \
         mask column s.b using age_range(10, max: 70, above: \"Over 70\") for everyone\n  \
         mask column s.c using digits(text: \"N\") for everyone\n}\n"
    );
    assert_eq!(fmt(&once), once);
}

#[test]
fn an_approval_goes_on_one_line_when_it_fits_and_on_its_own_line_otherwise() {
    let short = "policy p {\n  allow temporary unmask for 8h for everyone with approval by user has role \"o\"\n}\n";
    assert_eq!(fmt(short), short);
    let messy = "policy p{allow temporary unmask for 8h for everyone who user has role \"data_steward\" with   approval by user has role \"privacy_officer\"   within 4h}";
    assert_eq!(
        fmt(messy),
        "policy p {\n  allow temporary unmask for 8h\n    for everyone who user has role \"data_steward\"\n    with approval by user has role \"privacy_officer\" within 4h\n}\n"
    );
    // `by` left out and a comment inside: both kept as written (the checker reports E0062).
    let commented = "policy p {\n  allow detokenize column s.c\n    for everyone\n    with approval // who?\n    within 30m\n}\n";
    let out = fmt(commented);
    assert!(out.contains("with approval // who?\n"), "{out}");
    assert!(out.contains("within 30m"), "{out}");
}

/// Issue 13, item 6: a duration keeps the unit it is written in (`12mo` and `1y` are equal
/// lengths, `2w` and `14d` too); its length is fixed seconds or calendar months.
#[test]
fn durations_keep_their_unit() {
    use pol_grammar::duration::{DurationLit, DurationValue};
    let text = "source s { id: int key, at: timestamp event_time, }\npolicy p on source s { only show rows newer than 12mo for everyone }\npolicy q on source s { only show rows older than 1y for everyone }\npolicy r on source s { only show rows where row.at > now() - 2w - 3mo for everyone }\n";
    assert!(parse_file(text).errors.is_empty());
    let out = format_source(text).unwrap_or_else(|e| panic!("{e}"));
    for written in ["newer than 12mo", "older than 1y", "now() - 2w - 3mo"] {
        assert!(out.contains(written), "{written} in {out}");
    }
    let length = |s: &str| DurationLit::parse(s).map(|d| d.value());
    assert_eq!(length("1y"), Some(DurationValue::Months(12)));
    assert_eq!(length("12mo"), Some(DurationValue::Months(12)));
    assert_eq!(length("2w"), Some(DurationValue::Seconds(14 * 86_400)));
    assert_eq!(length("90d"), Some(DurationValue::Seconds(90 * 86_400)));
    assert_eq!(length("10000y"), Some(DurationValue::Months(120_000)));
    assert_eq!(length("10001y"), None);
    assert_eq!(length("9223372036854775807w"), None);
}
