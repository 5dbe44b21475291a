//! Runs each `examples/*/` folder (one policy set; its `tests.pol` or other files hold the
//! tests) through `polc test` and asserts that every test block passes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn every_example_passes_its_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    assert!(folders.len() >= 6, "found only {} examples", folders.len());
    let mut failures = Vec::new();
    for f in &folders {
        let out = Command::new(env!("CARGO_BIN_EXE_polc"))
            .arg("test")
            .arg(f)
            .output()
            .expect("run polc");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let summary = stdout.lines().last().unwrap_or("");
        let ok = out.status.code() == Some(0)
            && summary.ends_with(" passed, 0 failed")
            && !summary.starts_with("0 ");
        if !ok {
            failures.push(format!(
                "{}: exit {:?}\n{stdout}{}",
                f.display(),
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
