//! Runs every `tests/conformance/*.pol` (each a self-contained policy set) through `polc test`
//! and asserts that every test block passes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `polc test` on one policy set; returns (exit code, stdout, stderr).
pub fn polc_test(path: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_polc"))
        .arg("test")
        .arg(path)
        .output()
        .expect("run polc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_conformance_file_passes() {
    let dir = root().join("tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    files.sort();
    assert!(files.len() >= 19, "found only {} files", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let (code, stdout, stderr) = polc_test(f);
        let summary = stdout.lines().last().unwrap_or("").to_string();
        let ok = code == 0 && summary.ends_with(" passed, 0 failed") && !summary.starts_with("0 ");
        if !ok {
            failures.push(format!("{}: exit {code}\n{stdout}{stderr}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
