//! Every example policy set checks clean (no errors, no warnings), and every conformance file
//! checks without errors and with exactly the warnings its header names.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::diagnostics::{Diagnostic, Severity};
use pol_compiler::source_map::SourceMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn codes(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| d.code.as_str().to_string()).collect()
}

fn check(paths: &[PathBuf]) -> (SourceMap, Vec<Diagnostic>) {
    let map = SourceMap::load(paths).expect("example files load");
    let analysis = pol_compiler::check(&map);
    (map, analysis.diagnostics)
}

#[test]
fn every_example_checks_clean() {
    let dir = root().join("examples");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    sets.sort();
    let names: Vec<String> = sets
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "biobank",
            "data-platform",
            "language-md",
            "lookup-tables",
            "marketing",
            "payments-vault",
            "support-desk"
        ]
    );
    for set in &sets {
        assert!(
            set.join("README.md").is_file(),
            "{} has no README",
            set.display()
        );
        let (map, diags) = check(std::slice::from_ref(set));
        assert!(map.len() >= 2, "{}: expected several files", set.display());
        assert!(
            diags.is_empty(),
            "{} does not check clean: {:?}",
            set.display(),
            diags
                .iter()
                .map(|d| format!("{} {}", d.code.as_str(), d.message))
                .collect::<Vec<_>>()
        );
    }
}

/// The warnings a conformance file expects, from its header line `// expect-warnings: W0001 W0006`.
fn expected_warnings(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<String> = text
        .lines()
        .take_while(|l| l.starts_with("//") || l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("// expect-warnings:"))
        .flat_map(|l| l.split_whitespace().map(str::to_string))
        .collect();
    out.sort();
    out
}

#[test]
fn every_conformance_file_checks_with_only_its_declared_warnings() {
    let dir = root().join("tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "conformance suite is missing files");
    for file in &files {
        let (_, diags) = check(std::slice::from_ref(file));
        let errors: Vec<&Diagnostic> = diags
            .iter()
            .filter(|d| d.code.severity() == Severity::Error)
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {:?}",
            file.display(),
            errors.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        let mut warnings = codes(&diags);
        warnings.sort();
        assert_eq!(
            warnings,
            expected_warnings(file),
            "{}: warnings differ from its `// expect-warnings:` header",
            file.display()
        );
    }
}
