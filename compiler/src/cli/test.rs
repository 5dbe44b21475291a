//! `polc test PATHS…`: runs the `test` blocks through lowering and the runtime engine (the
//! path an application uses), prints failures as expected-vs-actual diffs and
//! `N passed, N failed`; exit 1 on any failure or check error, 2 on usage or I/O errors.

use super::build::{load_checked, read_key};
use super::fail_usage;
use crate::testing::{render, run_all, EngineEvaluator, TEST_KEY};
use pol_runtime::{Engine, KeyRing, MaskingKey};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs `polc test`.
pub fn run(paths: &[PathBuf], key_file: Option<&Path>) -> ExitCode {
    let checked = match load_checked(paths, false) {
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
