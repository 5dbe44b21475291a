//! Which condition decided, on generated policy sets (issue 13 item 11): every condition the
//! compiler lowers can be taken apart (it has a shape), and for every subject and row of the
//! case, every explained condition's deciding parts — every other part taken as unknown — give
//! the condition's value, which is the one the decision reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;

use chrono::{DateTime, Utc};
use pol_runtime::engine::{ConditionExplanation, ConditionRole, Reason, RowExplanation};
use pol_runtime::program::shape::{NodeKind, Shape};
use pol_runtime::program::{Op, Tri};
use pol_runtime::{Bundle, Engine, KeyRing, MaskingKey};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn tri(s: &str) -> Tri {
    match s {
        "true" => Tri::True,
        "false" => Tri::False,
        _ => Tri::Unknown,
    }
}

/// Node `i`'s value when only the deciding parts (by op range) have values.
fn with_only(shape: &Shape, i: usize, parts: &[([u32; 2], Tri)]) -> Tri {
    let node = shape.node(i).unwrap();
    let range = [node.start as u32, node.end as u32];
    if let Some((_, t)) = parts.iter().find(|(r, _)| *r == range) {
        return *t;
    }
    let kid = |k: usize| with_only(shape, node.children[k], parts);
    match node.kind {
        NodeKind::Op(Op::And) => kid(0).and(kid(1)),
        NodeKind::Op(Op::Or) => kid(0).or(kid(1)),
        NodeKind::Op(Op::Not) => !kid(0),
        _ => Tri::Unknown,
    }
}

fn check_condition(bundle: &Bundle, c: &ConditionExplanation) -> Result<(), String> {
    let program = &bundle.programs[c.program as usize];
    let shape =
        Shape::of(program).ok_or_else(|| format!("a lowered condition has no shape: {program}"))?;
    if c.deciding.is_empty() {
        return Err(format!("no deciding part: {c:?}"));
    }
    let parts: Vec<([u32; 2], Tri)> = c.deciding.iter().map(|p| (p.ops, tri(&p.value))).collect();
    let alone = with_only(&shape, shape.root(), &parts);
    if alone != tri(&c.value) {
        return Err(format!(
            "the deciding parts give {alone:?}, the condition is {}: {c:#?}",
            c.value
        ));
    }
    Ok(())
}

fn check_row(bundle: &Bundle, ex: &RowExplanation) -> Result<(), String> {
    let conditions = ex
        .cells
        .iter()
        .flat_map(|c| c.why.iter())
        .chain(ex.row_rules.iter().flat_map(|r| r.why.iter()))
        .chain(ex.exempt_why.iter());
    for c in conditions {
        check_condition(bundle, c)?;
    }
    for cell in &ex.cells {
        // The exception's value is the one the decision reports.
        let except = cell.why.iter().find(|c| c.role == ConditionRole::Except);
        match (&cell.reason, except) {
            (Reason::ExceptionHeld, Some(c)) if c.value != "true" => {
                return Err(format!("{}: held, but {c:?}", cell.column))
            }
            (Reason::ExceptionNotHeld { condition }, Some(c)) if &c.value != condition => {
                return Err(format!("{}: {condition}, but {c:?}", cell.column))
            }
            _ => {}
        }
    }
    Ok(())
}

fn run(case: &support::gen::Case) -> Result<(), String> {
    let a = case.check();
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let keys = KeyRing::new(MaskingKey::from_bytes(&[9u8; 32]).unwrap());
    let engine = Engine::from_bundle(bundle.clone(), Some(keys)).map_err(|e| e.to_string())?;
    for subject in &case.subjects {
        let session = engine.session(subject, now()).map_err(|e| e.to_string())?;
        for s in &case.sources {
            let src = session.source(&s.name).unwrap();
            check_row(&bundle, &src.explain_without_row())
                .map_err(|e| format!("{e}\nsubject {subject}\n{}", case.text))?;
        }
        for (source, row) in &case.rows {
            let src = session.source(source).unwrap();
            check_row(&bundle, &src.explain(row))
                .map_err(|e| format!("{e}\nsubject {subject}\nrow {row:?}\n{}", case.text))?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_deciding_parts_of_every_lowered_condition_give_its_value(case in support::gen::case()) {
        if let Err(e) = run(&case) {
            prop_assert!(false, "{}", e);
        }
    }
}
