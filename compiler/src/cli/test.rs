//! `polc test PATHS…`: runs the `test` blocks through lowering and the runtime engine (the
//! path an application uses), prints failures as expected-vs-actual diffs and
//! `N passed, N failed`; exit 1 on any failure or check error, 2 on usage or I/O errors.

use super::build::{load_set, read_key};
use super::fail_usage;
use crate::testing::{render, run_all, EngineEvaluator, TEST_KEY};
use pol_runtime::{Engine, KeyRing, MaskingKey};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs `polc test`: the tests of each policy set the paths hold (one per `pol.toml` root),
/// each under a `== NAME` line when there are several.
pub fn run(paths: &[PathBuf], key_file: Option<&Path>) -> ExitCode {
    let sets = match super::policy_sets(paths, false) {
        Ok(sets) => sets,
        Err(code) => return code,
    };
    if sets.len() <= 1 {
        return run_set(
            paths,
            &sets
                .first()
                .map_or_else(|| paths.to_vec(), |s| s.files.clone()),
            key_file,
        );
    }
    let mut code = ExitCode::SUCCESS;
    for set in &sets {
        println!(
            "== {}",
            set.name()
                .unwrap_or_else(|| "(files under no pol.toml)".to_string())
        );
        let c = run_set(&set.files, &set.files, key_file);
        if c != ExitCode::SUCCESS {
            code = c;
        }
    }
    code
}

/// Runs the tests of one policy set.
fn run_set(paths: &[PathBuf], set: &[PathBuf], key_file: Option<&Path>) -> ExitCode {
    let checked = match load_set(paths, set, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let keys = match key_file {
        Some(p) => match read_key(p) {
            Ok(k) => k,
            Err(code) => return code,
        },
        None => match MaskingKey::from_bytes(TEST_KEY) {
            Ok(k) => KeyRing::new(k),
            Err(e) => return fail_usage(format!("the test key: {e}")),
        },
    };
    let bytes = match checked.bundle().to_bytes() {
        Ok(b) => b,
        Err(e) => return fail_usage(format!("cannot encode the bundle: {e}")),
    };
    let engine = match Engine::load(&bytes, Some(keys)) {
        Ok(e) => e,
        Err(e) => return fail_usage(format!("cannot load the bundle: {e}")),
    };
    let evaluator = EngineEvaluator { engine };
    let results = run_all(&checked.analysis.model, &evaluator);
    let files = &checked.files;
    let locate = |loc: crate::source_map::Loc| {
        let (line, col) = files.line_col(loc.file, loc.span.start);
        format!("{}:{line}:{col}", files.get(loc.file).name)
    };
    print!("{}", render(&results, &locate));
    if results.iter().all(|r| r.passed()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
