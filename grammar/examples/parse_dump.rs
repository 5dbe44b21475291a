//! Parses files and prints their syntax errors (a debugging aid): `cargo run -p pol-grammar --example parse_dump FILE…`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // A developer tool: a failure stops here.
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).expect("readable file");
        let file = pol_grammar::parse_file(&text);
        println!(
            "{path}: {} declarations, {} comments",
            file.decls.len(),
            file.comments.len()
        );
        for e in &file.errors {
            let idx = pol_grammar::LineIndex::new(&text);
            println!(
                "  {}:{}: {}",
                idx.line(e.span.start as usize) + 1,
                e.span.start,
                e.message
            );
        }
    }
}
