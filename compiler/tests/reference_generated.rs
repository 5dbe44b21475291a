//! The generator makes policy sets that check without errors, and the reference evaluator
//! evaluates every generated subject and row without failing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;

use chrono::{DateTime, Utc};
use pol_compiler::reference::Reference;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: support::cases(256), .. ProptestConfig::default() })]

    #[test]
    fn generated_cases_check_and_evaluate(case in support::gen::case()) {
        let a = case.check();
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("valid clock")
            .with_timezone(&Utc);
        let r = Reference::new(&a.model, &a.resolution, Some(&[9u8; 32]), now);
        for subject in &case.subjects {
            for (source, row) in &case.rows {
                let out = r.mask_row(source, subject, row);
                prop_assert!(out.is_ok(), "{:?}\n{}", out, case.text);
            }
        }
    }
}
