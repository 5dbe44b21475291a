//! Hover over an `expect` of a `test` block: whether it holds, and why — the row rules and the
//! expected cells as the runtime explains them for the test's user, clock and row, with the
//! conditions that decided and their deciding parts (issue 13 item 11).
//!
//! The policy set is lowered and loaded once per analysis (on the first such hover), under the
//! public test key, as `polc test` runs it; a set with errors is not lowered and says so.

use super::{Hover, Ide};
use crate::model::{TestCase, TestStep};
use crate::source_map::{FileId, Loc};
use crate::testing::{default_clock, run_test, EngineEvaluator, TEST_KEY};
use pol_runtime::engine::RowExplanation;
use pol_runtime::{Engine, KeyRing, MaskingKey};
use serde_json::{Map, Value as Json};

/// The test engine of an analysis: `None` when the set has errors or does not load.
pub(super) fn engine(ide: &Ide) -> Option<EngineEvaluator> {
    if ide.analysis.has_errors() {
        return None;
    }
    let bundle =
        crate::lower::lower_with_spans(&ide.analysis.model, &ide.analysis.resolution, &ide.files);
    let keys = MaskingKey::from_bytes(TEST_KEY).ok().map(KeyRing::new);
    let engine = Engine::from_bundle(bundle, keys).ok()?;
    Some(EngineEvaluator { engine })
}

/// Whether `offset` of `file` is in `loc` (its end included, where the cursor stops).
pub(super) fn within(loc: Loc, file: FileId, offset: usize) -> bool {
    loc.file == file && loc.span.start as usize <= offset && offset <= loc.span.end as usize
}

/// The hover of the expectation at `offset`, if one is there.
pub(super) fn expectation_hover(ide: &Ide, file: FileId, offset: usize) -> Option<Hover> {
    let model = &ide.analysis.model;
    model
        .tests
        .iter()
        .filter(|t| t.loc.file == file)
        .find_map(|t| in_test(ide, t, file, offset))
}

/// The hover of the expectation of `test` at `offset`, if one is there.
fn in_test(ide: &Ide, test: &TestCase, file: FileId, offset: usize) -> Option<Hover> {
    let mut subject = Json::Object(Map::new());
    let mut now = default_clock();
    let mut row: Option<(usize, &Map<String, Json>)> = None;
    for step in &test.steps {
        match step {
            TestStep::User(u, _) => subject = u.clone(),
            TestStep::Now(t, _) => now = *t,
            TestStep::Row { source, row: r, .. } => row = Some((*source, r)),
            TestStep::ExpectRow(_, loc)
            | TestStep::ExpectHidden(loc)
            | TestStep::ExpectShown(loc)
            | TestStep::ExpectVisible(_, loc)
                if within(*loc, file, offset) =>
            {
                let markdown = match ide.test_engine() {
                    None => "*Not run:* the policy set has errors; tests run once it has none."
                        .to_string(),
                    Some(ev) => explain_step(ide, ev, test, step, *loc, &subject, now, row),
                };
                return Some(Hover {
                    loc: *loc,
                    markdown,
                });
            }
            _ => {}
        }
    }
    None
}

#[expect(
    clippy::too_many_arguments,
    reason = "the test's state at the expectation (subject, clock, row) is passed as it is walked"
)]
fn explain_step(
    ide: &Ide,
    ev: &EngineEvaluator,
    test: &TestCase,
    step: &TestStep,
    loc: Loc,
    subject: &Json,
    now: chrono::DateTime<chrono::Utc>,
    row: Option<(usize, &Map<String, Json>)>,
) -> String {
    let model = &ide.analysis.model;
    let result = run_test(model, test, ev);
    let failures: Vec<&String> = result
        .failures
        .iter()
        .filter(|f| f.loc == loc)
        .flat_map(|f| f.lines.iter())
        .collect();
    let mut out = vec![if failures.is_empty() {
        "**This expectation holds.**".to_string()
    } else {
        let lines: Vec<String> = failures.iter().map(|l| format!("- {l}")).collect();
        format!("**This expectation fails:**\n{}", lines.join("\n"))
    }];
    let Some((source, r)) = row else {
        return out.join("\n\n");
    };
    let Some(name) = model.sources.get(source).map(|s| s.name.as_str()) else {
        return out.join("\n\n");
    };
    let ex = match ev.engine.session(subject, now) {
        Ok(session) => session.source(name).map(|src| {
            let mut ex = src.explain(r);
            crate::lower::written_texts(&mut ex, ev.engine.bundle(), &ide.files);
            ex
        }),
        Err(e) => {
            out.push(format!("*The test's user:* {e}"));
            None
        }
    };
    if let Some(ex) = ex {
        out.push(why(&ex, step));
    }
    out.join("\n\n")
}

/// Why, in markdown: the row rules for `expect shown`/`hidden`, the expected cells for
/// `expect row`, both for an expectation of visible columns.
fn why(ex: &RowExplanation, step: &TestStep) -> String {
    let mut lines = vec![format!(
        "*Why:* the row is {}{}.",
        if ex.shown { "shown" } else { "hidden" },
        if ex.exempt {
            " (the user is exempt)"
        } else {
            ""
        }
    )];
    if let Some(e) = &ex.exempt_why {
        lines.push(format!("- {e}"));
    }
    let cells: Option<Vec<&str>> = match step {
        TestStep::ExpectRow(cells, _) => Some(cells.iter().map(|(n, _, _)| n.as_str()).collect()),
        _ => None,
    };
    if cells.is_none() {
        for r in &ex.row_rules {
            lines.push(format!("- rule {}: {}", r.rule, r.detail));
            for c in &r.why {
                lines.push(format!("  - {c}"));
            }
        }
    }
    for c in ex.cells.iter().filter(|c| {
        cells
            .as_ref()
            .is_some_and(|names| names.contains(&c.column.as_str()))
    }) {
        let text = c.to_string();
        let mut parts = text.lines();
        if let Some(first) = parts.next() {
            lines.push(format!("- {first}"));
        }
        for p in parts {
            lines.push(format!("  - {}", p.trim()));
        }
    }
    lines.join("\n")
}
