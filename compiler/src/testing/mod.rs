//! Running `test` blocks (§8): every test's users, clocks and rows go through a
//! [`RowEvaluator`], and its expectations are compared with what the evaluator answers.
//!
//! [`EngineEvaluator`] is the evaluator applications use: the policy set lowered to a bundle and
//! run by the runtime's engine. Another evaluator (e.g. a reference interpreter) can be plugged
//! in by implementing [`RowEvaluator`].
//!
//! Defaults: a test without `given user` runs for the empty subject (`{}`); without `given now`
//! at [`DEFAULT_CLOCK`]; keyed techniques use [`TEST_KEY`] unless the caller gives a key.

mod compare;
mod engine;

pub use compare::{cell_at, json_equal};
pub use engine::EngineEvaluator;

use crate::model::{Model, TestCase, TestStep};
use crate::source_map::Loc;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value as Json};

/// The clock of a test without `given now`: 2026-01-01T00:00:00Z.
pub fn default_clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The string form of [`default_clock`], for documentation and messages.
pub const DEFAULT_CLOCK: &str = "2026-01-01T00:00:00Z";

/// The fixed, documented masking key `polc test` uses when no `--key-file` is given. It is
/// public on purpose: tests must be reproducible, and it must never protect real data.
pub const TEST_KEY: &[u8] = b"pol test key - public, never for real data";

/// What an evaluator says about one row for one user.
#[derive(Clone, Debug, PartialEq)]
pub struct RowOutcome {
    /// Whether the row rules show the row.
    pub shown: bool,
    /// The masked top-level cells in declaration order (derived columns included); `None` when
    /// the row is hidden.
    pub cells: Option<Vec<(String, Json)>>,
    /// The columns listed for the user, in declaration order.
    pub visible: Vec<String>,
}

/// Something that can evaluate a row of a source for a subject at a clock.
pub trait RowEvaluator {
    /// Evaluates `row` of `source` for `subject` at `now`, `parents` being the rows of other
    /// sources given before it (in order), for linked visibility. An error is a message (the
    /// test fails with it).
    fn evaluate(
        &self,
        source: &str,
        subject: &Json,
        now: DateTime<Utc>,
        row: &Map<String, Json>,
        parents: &[(&str, &Map<String, Json>)],
    ) -> Result<RowOutcome, String>;
}

/// One failed expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// Where the expectation is written.
    pub loc: Loc,
    /// What went wrong, one line per mismatch (`email: expected "…", got "…"`).
    pub lines: Vec<String>,
}

/// The result of one test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// Where the test is declared.
    pub loc: Loc,
    /// Its failed expectations (empty: it passed).
    pub failures: Vec<Failure>,
}

impl TestResult {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test of the model.
pub fn run_all(model: &Model, evaluator: &dyn RowEvaluator) -> Vec<TestResult> {
    model
        .tests
        .iter()
        .map(|t| run_test(model, t, evaluator))
        .collect()
}

/// Runs one test.
#[expect(
    clippy::indexing_slicing,
    reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
)]
pub fn run_test(model: &Model, test: &TestCase, evaluator: &dyn RowEvaluator) -> TestResult {
    let mut subject = Json::Object(Map::new());
    let mut now = default_clock();
    let mut row: Option<(usize, &Map<String, Json>)> = None;
    let mut parents: Vec<(&str, &Map<String, Json>)> = Vec::new();
    let mut failures = Vec::new();
    for step in &test.steps {
        match step {
            TestStep::User(u, _) => subject = u.clone(),
            TestStep::Now(t, _) => now = *t,
            TestStep::Row { source, row: r, .. } => {
                // Linked visibility: a row of another source given earlier is a parent row.
                if let Some((prev, prev_row)) = row.filter(|(prev, _)| prev != source) {
                    parents.push((model.sources[prev].name.as_str(), prev_row));
                }
                row = Some((*source, r));
            }
            TestStep::ExpectRow(_, loc)
            | TestStep::ExpectHidden(loc)
            | TestStep::ExpectShown(loc)
            | TestStep::ExpectVisible(_, loc) => {
                let Some((source, r)) = row else {
                    failures.push(Failure {
                        loc: *loc,
                        lines: vec!["no `given row` before this expectation".to_string()],
                    });
                    continue;
                };
                let name = &model.sources[source].name;
                let lines = match evaluator.evaluate(name, &subject, now, r, &parents) {
                    Err(e) => vec![format!("cannot evaluate the row: {e}")],
                    Ok(out) => check(step, &out),
                };
                if !lines.is_empty() {
                    failures.push(Failure { loc: *loc, lines });
                }
            }
        }
    }
    TestResult {
        name: test.name.clone(),
        loc: test.loc,
        failures,
    }
}

/// The mismatches of one expectation against an outcome.
fn check(step: &TestStep, out: &RowOutcome) -> Vec<String> {
    match step {
        TestStep::ExpectHidden(_) if out.shown => {
            vec!["expected the row hidden, but it is shown".to_string()]
        }
        TestStep::ExpectShown(_) if !out.shown => {
            vec!["expected the row shown, but it is hidden".to_string()]
        }
        TestStep::ExpectVisible(expected, _) if expected != &out.visible => vec![format!(
            "visible columns: expected [{}], got [{}]",
            expected.join(", "),
            out.visible.join(", ")
        )],
        TestStep::ExpectRow(cells, _) => {
            let Some(actual) = &out.cells else {
                return vec!["expected cells, but the row is hidden".to_string()];
            };
            let mut lines = Vec::new();
            for (name, expected, _) in cells {
                match cell_at(actual, name) {
                    Some(got) if json_equal(expected, &got) => {}
                    Some(got) => lines.push(format!("{name}: expected {expected}, got {got}")),
                    None => lines.push(format!("{name}: expected {expected}, got no such cell")),
                }
            }
            lines
        }
        _ => Vec::new(),
    }
}

/// Renders results as `polc test` prints them: each failure as a diff of expected and actual
/// cells, then `N passed, N failed`. `locate` turns a location into `file:line:column`.
pub fn render(results: &[TestResult], locate: &dyn Fn(Loc) -> String) -> String {
    let mut out = String::new();
    for r in results.iter().filter(|r| !r.passed()) {
        out.push_str(&format!("FAIL \"{}\" ({})\n", r.name, locate(r.loc)));
        for f in &r.failures {
            out.push_str(&format!("  at {}:\n", locate(f.loc)));
            for l in &f.lines {
                out.push_str(&format!("    {l}\n"));
            }
        }
    }
    let passed = results.iter().filter(|r| r.passed()).count();
    out.push_str(&format!(
        "{passed} passed, {} failed\n",
        results.len() - passed
    ));
    out
}
