//! Every diagnostic code has its explanation page (`docs/codes/CODE.md`, printed by
//! `polc explain-code`): a title matching the registry, a failing example that produces the
//! code, and a fixed example that no longer does and has no error.

use pol_compiler::diagnostics::{Code, Severity, RETIRED};
use pol_compiler::source_map::SourceMap;
use std::path::PathBuf;
use std::process::Command;

/// The ```pol blocks of a page, in order.
fn pol_blocks(page: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```pol") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

fn codes_of(text: &str) -> Vec<(Code, Severity)> {
    let mut map = SourceMap::new();
    map.add("example.pol".to_string(), text.to_string());
    pol_compiler::check(&map)
        .diagnostics
        .iter()
        .map(|d| (d.code, d.severity()))
        .collect()
}

#[test]
fn every_code_has_a_page_whose_examples_fail_and_pass() {
    let mut wrong = Vec::new();
    for &code in Code::ALL {
        let page = code.explanation();
        let title = format!("# {}: {}\n", code.as_str(), code.title());
        assert!(page.starts_with(&title), "{}: page title", code.as_str());
        let blocks = pol_blocks(page);
        assert_eq!(blocks.len(), 2, "{}: an example and its fix", code.as_str());
        let failing = codes_of(&blocks[0]);
        if !failing.iter().any(|(c, _)| *c == code) {
            wrong.push(format!(
                "{}: the example produces {failing:?}",
                code.as_str()
            ));
        }
        let fixed = codes_of(&blocks[1]);
        if fixed
            .iter()
            .any(|(c, s)| *c == code || *s == Severity::Error)
        {
            wrong.push(format!(
                "{}: the fixed example produces {fixed:?}",
                code.as_str()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_page_belongs_to_a_code() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/codes");
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    pages.sort();
    let mut expected: Vec<String> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(RETIRED.iter().copied())
        .map(|c| format!("{c}.md"))
        .collect();
    expected.sort();
    assert_eq!(pages, expected);
}

fn explain_code(code: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_polc"))
        .args(["explain-code", code])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn explain_code_prints_the_page_and_its_address() {
    let (status, stdout, stderr) = explain_code("e0003");
    assert_eq!((status, stderr.as_str()), (0, ""));
    let code = Code::from_code("E0003").unwrap();
    assert_eq!(
        stdout,
        format!(
            "{}\nOnline: https://github.com/pol-lang/pol/blob/main/docs/codes/E0003.md\n",
            code.explanation()
        )
    );
    let (status, stdout, _) = explain_code("E0026");
    assert_eq!(status, 0);
    assert!(stdout.starts_with("# E0026: invalid column modifier (retired)\n"));
    let (status, stdout, stderr) = explain_code("E003");
    assert_eq!((status, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: unknown diagnostic code `E003`: did you mean `E0003`?\n"
    );
}
