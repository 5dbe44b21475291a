//! `docs/language.md` is the complete language reference inside the repository: it holds every
//! section of the language (1–11), its code examples check as one policy set, and nothing in the
//! repository points to a reference outside it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::source_map::SourceMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn reference() -> String {
    std::fs::read_to_string(root().join("docs/language.md")).expect("docs/language.md")
}

#[test]
fn the_reference_holds_every_section() {
    let text = reference();
    for heading in [
        "## 1. Files and lexical structure",
        "## 2. Declarations",
        "## 3. Expressions and conditions",
        "## 4. Policies",
        "## 5. Techniques",
        "## 6. Resolving a column",
        "## 7. Grants: temporary unmask, detokenize, masking levels",
        "## 8. Tests inside the language, and the command line",
        "## 9. Keywords",
        "## 10. Refinements accepted after review",
        "## 11. Policy-set roots (`pol.toml`)",
        "# How Pol implements the contract",
    ] {
        assert!(text.contains(heading), "docs/language.md lacks `{heading}`");
    }
    // Every technique of the catalog is documented in the techniques table.
    for name in [
        "hash",
        "email_mask",
        "mask_first",
        "age_range",
        "tokenize",
        "format_preserving",
        "by level",
    ] {
        assert!(text.contains(&format!("| `{name}")), "technique `{name}`");
    }
    assert!(text.matches("Pol refines the contract here").count() >= 5);
}

#[test]
fn the_code_examples_of_the_reference_check_as_one_policy_set() {
    let text = reference();
    let mut map = SourceMap::new();
    let mut blocks = 0;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() == "```pol" {
            let block: Vec<&str> = lines
                .by_ref()
                .take_while(|l| l.trim_end() != "```")
                .collect();
            map.add(format!("block-{blocks}.pol"), block.join("\n") + "\n");
            blocks += 1;
        }
    }
    assert!(blocks >= 4, "{blocks} pol blocks");
    let analysis = pol_compiler::check(&map);
    let errors: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str().starts_with('E'))
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}

/// Files of the repository that may point to a reference (sources and documentation).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reads").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if [".git", "target", "node_modules"]
            .iter()
            .any(|n| name == *n)
        {
            continue;
        }
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| {
            ["rs", "md", "pol", "toml", "ts", "json", "snap"]
                .iter()
                .any(|x| e == *x)
        }) {
            out.push(path);
        }
    }
}

#[test]
fn nothing_points_outside_the_repository_for_the_language() {
    let mut all = Vec::new();
    files(&root(), &mut all);
    assert!(all.len() > 100);
    // Spelled apart, so that this file does not match itself.
    let outside = ["LANGUAGE", ".md"].concat();
    let shared = ["shared", "/"].concat();
    for path in all {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            assert!(
                !line.contains(&outside) && !line.contains(&shared),
                "{}:{}: `{line}` points outside the repository (use docs/language.md)",
                path.display(),
                n + 1
            );
        }
    }
    let help = Command::new(env!("CARGO_BIN_EXE_polc"))
        .args(["diff", "--help"])
        .output()
        .expect("runs polc");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("docs/language.md §8"), "{help}");
}
