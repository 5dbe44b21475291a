//! What the grammar's tests share: the token vocabulary random programs are made of, and syntax
//! trees compared without their spans. Each test binary uses a part of it.
#![allow(dead_code)]

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

/// A tree as JSON with every span (an object of exactly `start` and `end`) replaced by null.
pub fn without_spans(decls: &[pol_grammar::ast::Decl]) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if map.len() == 2 && map.contains_key("start") && map.contains_key("end") {
                    *v = serde_json::Value::Null;
                } else {
                    map.values_mut().for_each(strip);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(decls).expect("a syntax tree serialises");
    strip(&mut v);
    v
}
