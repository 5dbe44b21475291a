//! The checker never panics on any input: whatever the parser recovered from random or mutated
//! text is resolved and checked without panicking, and every diagnostic points inside the file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use pol_compiler::diagnostics::render::{render, Format};
use pol_compiler::source_map::SourceMap;
use proptest::prelude::*;

use std::path::Path;
use std::sync::OnceLock;

/// Every `.pol` file of the repository (examples, conformance, diagnostics): the mutation bases.
fn programs() -> &'static [String] {
    static PROGRAMS: OnceLock<Vec<String>> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        let mut stack = vec![root.join("examples"), root.join("tests")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("repository folder") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "pol") {
                    files.push(path);
                }
            }
        }
        files.sort();
        assert!(files.len() > 20, "found only {} .pol files", files.len());
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("read .pol"))
            .collect()
    })
}

/// Checks and renders `text` on a thread of [`pol_compiler::MIN_STACK`], the stack every stage is
/// written to fit (a mutation of the E0033 case can leave an expression exactly at the nesting
/// limit, which the default 2 MiB test thread does not hold in a debug build).
fn check_all(text: &str) {
    let text = text.to_string();
    let outcome = std::thread::Builder::new()
        .stack_size(pol_compiler::MIN_STACK)
        .spawn(move || {
            let mut map = SourceMap::new();
            map.add("t.pol", text.clone());
            let analysis = pol_compiler::check(&map);
            for d in &analysis.diagnostics {
                assert!(d.primary.span.end as usize <= text.len(), "{d:?}");
            }
            let _ = render(Format::Human { color: false }, &analysis.diagnostics, &map);
        })
        .expect("spawn a checking thread")
        .join();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// 256 cases by default; `PROPTEST_CASES=100000` runs a long campaign.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), .. ProptestConfig::default() })]

    #[test]
    fn mutated_programs_never_panic(which in 0usize..10_000, ops in proptest::collection::vec((0usize..3, 0usize..10_000, 0usize..10_000), 1..8)) {
        let all = programs();
        let base = all[which % all.len()].as_str();
        let lexed = pol_grammar::lexer::lex(base);
        let mut pieces: Vec<String> = lexed.tokens.iter().map(|(l, _, r)| base[*l..*r].to_string()).collect();
        for (op, a, b) in ops {
            if pieces.is_empty() { break; }
            let (i, j) = (a % pieces.len(), b % pieces.len());
            match op {
                0 => { pieces.remove(i); }
                1 => { let t = pieces[i].clone(); pieces.insert(j, t); }
                _ => pieces.swap(i, j),
            }
        }
        check_all(&pieces.join(" "));
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}") {
        check_all(&text);
    }
}

/// Found by `mutated_programs_never_panic` in CI: a modifier written twice on one column indexed the
/// column before it was stored.
#[test]
fn repeated_key_and_event_time_modifiers_are_errors() {
    let text = "source s { id: int key key, at: timestamp event_time event_time }";
    let mut map = SourceMap::new();
    map.add("t.pol", text.to_string());
    let analysis = pol_compiler::check(&map);
    let messages: Vec<&str> = analysis
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages.contains(&"`key` is written twice on this column"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"`event_time` is written twice on this column"),
        "{messages:?}"
    );
}
