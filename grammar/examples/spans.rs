//! Prints the spans of mask clauses (a debugging aid).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // A developer tool: a failure stops here.
fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).expect("file")).expect("read");
    let f = pol_grammar::parse_file(&text);
    for d in &f.decls {
        if let pol_grammar::ast::Decl::Policy(p) = d {
            for r in &p.rules {
                if let pol_grammar::ast::Rule::Mask(m) = r {
                    for c in &m.clauses {
                        println!(
                            "clause {:?} {:?} audience {:?}",
                            &text[c.span.range()],
                            c.span,
                            &text[c.audience.span.range()]
                        );
                    }
                }
            }
        }
    }
}
