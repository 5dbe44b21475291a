//! The disassembler: exact listings of a hand-built program and bundle, spans from the debug
//! section, `?` for indices that point nowhere, and no panic on any program or table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_runtime::bundle::{
    Bundle, DebugInfo, ProgramSpans, PurposeInfo, SourceSpan, SpanRun, VerifyError,
};
use pol_runtime::program::{Op, Program};
use pol_runtime::Value;
use proptest::prelude::*;

fn span(line: u32, column: u32, end_column: u32) -> SourceSpan {
    SourceSpan {
        file: 0,
        line,
        column,
        end_line: line,
        end_column,
    }
}

/// `user.login == "ann" or user acting under Research`, with spans for the first run only.
fn sample() -> Bundle {
    let mut b = Bundle::new();
    b.purposes = vec![PurposeInfo {
        name: "Research".into(),
        parent: None,
    }];
    b.programs = vec![Program::new(
        vec![
            Op::Login,
            Op::Const(0),
            Op::Eq,
            Op::JumpIfTrue(6),
            Op::ActingUnder(0),
            Op::Or,
        ],
        vec![Value::Text("ann".into())],
    )];
    b.debug = DebugInfo {
        files: vec!["p.pol".into()],
        programs: vec![ProgramSpans {
            runs: vec![
                SpanRun {
                    start: 0,
                    span: span(3, 5, 23),
                },
                SpanRun {
                    start: 4,
                    span: span(3, 27, 52),
                },
            ],
        }],
    };
    b
}

#[test]
fn a_program_lists_its_ops_and_constants() {
    let p = &sample().programs[0];
    assert_eq!(
        p.to_string(),
        "; 6 ops, user-only\n\
        \x20   0  login\n\
        \x20   1  const 0                 ; Text(\"ann\")\n\
        \x20   2  eq\n\
        \x20   3  jump_if_true 6\n\
        \x20   4  acting_under 0\n\
        \x20   5  or\n"
    );
}

#[test]
fn a_bundle_resolves_operands_and_shows_spans() {
    let b = sample();
    b.verify().unwrap();
    assert_eq!(
        b.to_string(),
        "; Pol bundle, format version 3\n\
        files:\n\
        \x20   0  p.pol\n\
        purposes:\n\
        \x20   0  Research\n\
        program 0, user-only\n\
        \x20   0  login                                                   @ p.pol:3:5-3:23\n\
        \x20   1  const 0                 ; Text(\"ann\")                   @ p.pol:3:5-3:23\n\
        \x20   2  eq                                                      @ p.pol:3:5-3:23\n\
        \x20   3  jump_if_true 6                                          @ p.pol:3:5-3:23\n\
        \x20   4  acting_under 0          ; Research                      @ p.pol:3:27-3:52\n\
        \x20   5  or                                                      @ p.pol:3:27-3:52\n"
    );
}

#[test]
fn the_verifier_checks_the_debug_section() {
    let mut b = sample();
    b.debug.programs[0].runs[1].start = 6;
    assert!(matches!(b.verify(), Err(VerifyError::Structure { .. })));
    let mut b = sample();
    b.debug.programs[0].runs[1].start = 0;
    assert!(matches!(b.verify(), Err(VerifyError::Structure { .. })));
    let mut b = sample();
    b.debug.programs[0].runs[0].span.file = 1;
    assert!(matches!(b.verify(), Err(VerifyError::Structure { .. })));
    let mut b = sample();
    b.debug.programs.push(ProgramSpans::default());
    assert!(matches!(b.verify(), Err(VerifyError::Structure { .. })));
}

#[test]
fn indices_that_point_nowhere_show_as_question_marks() {
    let mut b = sample();
    b.purposes.clear();
    b.debug.files.clear();
    b.programs[0].consts.clear();
    let listing = b.to_string();
    assert!(listing.contains("const 0                 ; ?"), "{listing}");
    assert!(listing.contains("acting_under 0          ; ?"), "{listing}");
    assert!(listing.contains("@ ?:3:27-3:52"), "{listing}");
}

fn any_op() -> impl Strategy<Value = Op> {
    let ix = 0u32..4;
    prop_oneof![
        ix.clone().prop_map(Op::Const),
        any::<i64>().prop_map(Op::Duration),
        ix.clone().prop_map(Op::Column),
        ix.clone().prop_map(Op::Field),
        ix.clone().prop_map(Op::Matches),
        ix.clone().prop_map(Op::Under),
        ix.clone().prop_map(Op::UserField),
        ix.clone().prop_map(Op::Jump),
        (ix.clone(), ix.clone()).prop_map(|(else_, end)| Op::Branch { else_, end }),
        (ix.clone(), ix.clone()).prop_map(|(name, value)| Op::HasAttributeValue { name, value }),
        (ix.clone(), ix.clone())
            .prop_map(|(regex, replacement)| Op::RegexReplace { regex, replacement }),
        any::<i64>().prop_map(Op::Months),
        Just(Op::Value),
        Just(Op::Eq),
        Just(Op::Or),
    ]
}

proptest! {
    #[test]
    fn disassembling_never_panics(
        code in proptest::collection::vec(any_op(), 0..12),
        runs in proptest::collection::vec((0u32..16, 0u32..3), 0..4),
        strings in 0usize..3,
    ) {
        let mut b = sample();
        b.strings = (0..strings).map(|i| format!("s{i}")).collect();
        b.programs.push(Program::new(code, vec![Value::Null]));
        b.debug.programs.push(ProgramSpans {
            runs: runs
                .into_iter()
                .map(|(start, file)| SpanRun { start, span: SourceSpan { file, ..span(1, 1, 2) } })
                .collect(),
        });
        let listing = b.to_string();
        prop_assert!(listing.starts_with("; Pol bundle"));
        prop_assert!(listing.contains("program 1"));
    }
}
