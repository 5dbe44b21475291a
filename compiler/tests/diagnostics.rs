//! Data-driven diagnostics: every file `tests/diagnostics/CODE-name.pol` must produce its code,
//! and its rendered diagnostics are reviewed as a snapshot.

use pol_compiler::diagnostics::render::{render, Format};
use pol_compiler::diagnostics::Code;
use pol_compiler::source_map::SourceMap;
use std::path::PathBuf;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/diagnostics");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/diagnostics exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pol"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_code_has_a_case_that_produces_it() {
    let files = corpus();
    for code in Code::ALL {
        let prefix = format!("{}-", code.as_str());
        let case = files
            .iter()
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&prefix)
            })
            .unwrap_or_else(|| panic!("no case in tests/diagnostics for {}", code.as_str()));
        let text = std::fs::read_to_string(case).unwrap();
        let mut map = SourceMap::new();
        map.add(
            case.file_name().unwrap().to_string_lossy().to_string(),
            text,
        );
        let analysis = pol_compiler::check(&map);
        assert!(
            analysis.diagnostics.iter().any(|d| d.code == *code),
            "{} does not produce {}; it produces {:?}",
            case.display(),
            code.as_str(),
            analysis
                .diagnostics
                .iter()
                .map(|d| d.code.as_str())
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn rendered_diagnostics_snapshots() {
    for case in corpus() {
        let name = case.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&case).unwrap();
        let mut map = SourceMap::new();
        map.add(format!("{name}.pol"), text);
        let analysis = pol_compiler::check(&map);
        let out = render(Format::Human { color: false }, &analysis.diagnostics, &map);
        insta::with_settings!({ snapshot_path => "snapshots/diagnostics", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, out);
        });
    }
}
