//! Snapshot tests of lowering: each `tests/lowering/NAME.pol` is checked, lowered with spans
//! and disassembled; the listing is the snapshot `snapshots/lowering/NAME.snap`. Together the
//! cases use every op kind of the bytecode.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::source_map::SourceMap;
use pol_runtime::program::disasm::MNEMONICS;
use pol_runtime::Bundle;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn cases() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lowering");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 3, "no lowering cases in {}", dir.display());
    cases
}

/// The case's bundle, lowered with spans, after a round trip through its bytes.
fn lowered(case: &PathBuf) -> (String, Bundle) {
    let name = case.file_stem().unwrap().to_string_lossy().to_string();
    let mut files = SourceMap::new();
    files.add(
        format!("{name}.pol"),
        std::fs::read_to_string(case).unwrap(),
    );
    let analysis = pol_compiler::check(&files);
    assert!(!analysis.has_errors(), "{name}: {:?}", analysis.diagnostics);
    let bundle =
        pol_compiler::lower::lower_with_spans(&analysis.model, &analysis.resolution, &files);
    let read = Bundle::from_bytes(&bundle.to_bytes().unwrap()).unwrap();
    assert_eq!(
        read, bundle,
        "{name}: the debug section does not round-trip"
    );
    (name, read)
}

#[test]
fn lowering_snapshots() {
    for case in cases() {
        let (name, bundle) = lowered(&case);
        insta::with_settings!({ snapshot_path => "snapshots/lowering", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, bundle.to_string());
        });
    }
}

#[test]
fn the_cases_use_every_op_kind() {
    let mut used = BTreeSet::new();
    for case in cases() {
        let (_, bundle) = lowered(&case);
        for p in &bundle.programs {
            used.extend(p.code.iter().map(|op| op.mnemonic()));
        }
    }
    let missing: Vec<&str> = MNEMONICS
        .iter()
        .copied()
        .filter(|m| !used.contains(m))
        .collect();
    assert!(missing.is_empty(), "no case lowers to {missing:?}");
}

#[test]
fn every_op_of_every_case_has_a_span() {
    for case in cases() {
        let (name, bundle) = lowered(&case);
        assert_eq!(bundle.debug.files, vec![format!("{name}.pol")]);
        for (i, p) in bundle.programs.iter().enumerate() {
            let spans = bundle.debug.program(i).unwrap();
            for pc in 0..p.code.len() {
                assert!(spans.span_of(pc).is_some(), "{name}: program {i} op {pc}");
            }
        }
    }
}

#[test]
fn polc_build_emits_the_listing() {
    let case = cases().into_iter().next().unwrap();
    let (_, bundle) = lowered(&case);
    let dir = case.parent().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_polc"))
        .current_dir(dir)
        .args(["build", "--emit", "asm"])
        .arg(case.file_name().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), bundle.to_string());

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_polc"))
        .current_dir(dir)
        .arg("build")
        .arg(case.file_name().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs `-o FILE`"));
}
