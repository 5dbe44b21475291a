#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code: a failure stops here
//! The answers every engine must give, and the masking pairs agreeing.

use crate::decision::Peers;
use crate::masking::{self, Masking};

#[test]
fn every_engine_gives_the_expected_answers() {
    let peers = Peers::new(crate::customers::now()).unwrap();
    let answers = peers.cross_check().unwrap();
    // Users amy (support, A), bob (supervisor, B), cat (auditor, A), dan (both, C); rows
    // A active, A archived, B active, B archived, C active.
    let expected = [
        [true, false, false, false, false],
        [true, false, true, false, true],
        [true, true, false, false, false],
        [true, true, true, true, true],
    ];
    assert_eq!(answers, expected.concat());
}

#[test]
fn pol_and_the_hand_written_function_mask_alike() {
    let fixture = Masking::new(64);
    let session = masking::session(&fixture.engine).unwrap();
    let source = session.source("customers").unwrap();
    let types = masking::input_types(&source);
    fixture.cross_check(&source, &types).unwrap();
    // Every 8th row is another team's: hidden by both.
    assert_eq!(masking::pol_json(&source, &fixture.texts[7]), None);
    assert!(masking::pol_json(&source, &fixture.texts[0])
        .unwrap()
        .starts_with(r#"{"id":0,"email":"*******.com""#));
}
