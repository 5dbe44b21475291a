//! What the grammar's property tests share: the token vocabulary random programs are made of.

use pol_grammar::lexer::KEYWORDS;

/// Every keyword, the punctuation and a sample of each literal kind, then `extra`.
pub fn vocabulary(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = KEYWORDS.iter().map(|(k, _)| k.to_string()).collect();
    for p in [
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ",",
        ";",
        ":",
        ".",
        "=",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "+",
        "-",
        "%",
        "x",
        "PII.SSN",
        "`odd name`",
        "name:",
        "\"s\"",
        "r\"\\d+\"",
        "42",
        "3.5",
        "90d",
    ] {
        v.push(p.to_string());
    }
    v.extend(extra.iter().map(|p| p.to_string()));
    v
}
