//! The checker never panics on any input: whatever the parser recovered from random or mutated
//! text is resolved and checked without panicking, and every diagnostic points inside the file.

use pol_compiler::diagnostics::render::{render, Format};
use pol_compiler::source_map::SourceMap;
use proptest::prelude::*;

const PROGRAM: &str = include_str!("../../tests/diagnostics/W0008-leak-by-dichotomy.pol");
const PROGRAM2: &str = include_str!("../../tests/diagnostics/E0023-bad-level.pol");
const PROGRAM3: &str = include_str!("../../tests/diagnostics/W0003-tagged-column-skip.pol");

fn check_all(text: &str) {
    let mut map = SourceMap::new();
    map.add("t.pol", text.to_string());
    let analysis = pol_compiler::check(&map);
    for d in &analysis.diagnostics {
        assert!(d.primary.span.end as usize <= text.len(), "{d:?}");
    }
    let _ = render(Format::Human { color: false }, &analysis.diagnostics, &map);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn mutated_programs_never_panic(which in 0usize..3, ops in proptest::collection::vec((0usize..3, 0usize..10_000, 0usize..10_000), 1..8)) {
        let base = [PROGRAM, PROGRAM2, PROGRAM3][which];
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
