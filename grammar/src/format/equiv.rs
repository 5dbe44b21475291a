//! Comparing two parsed files modulo spans: what the formatter must preserve.

use crate::ast::{CommentKind, SourceFile};
use serde_json::Value;

/// Checks that two parsed files have the same declarations (every node, doc comments included,
/// spans ignored) and the same comments in the same order (line comments compared without
/// trailing blanks). On a difference, says where the first one is.
pub fn same_syntax(a: &SourceFile, b: &SourceFile) -> Result<(), String> {
    if a.decls.len() != b.decls.len() {
        return Err(format!(
            "{} declarations instead of {}",
            b.decls.len(),
            a.decls.len()
        ));
    }
    for (i, (da, db)) in a.decls.iter().zip(&b.decls).enumerate() {
        let va = without_spans(serde_json::to_value(da).map_err(|e| e.to_string())?);
        let vb = without_spans(serde_json::to_value(db).map_err(|e| e.to_string())?);
        if va != vb {
            return Err(format!(
                "declaration {} differs: {}",
                i + 1,
                first_difference(&va, &vb, String::new())
            ));
        }
    }
    let texts = |f: &SourceFile| -> Vec<(CommentKind, String)> {
        f.comments
            .iter()
            .map(|c| {
                let t = match c.kind {
                    CommentKind::Block => c.text.clone(),
                    _ => c.text.trim_end().to_string(),
                };
                (c.kind, t)
            })
            .collect()
    };
    let (ca, cb) = (texts(a), texts(b));
    if ca != cb {
        let at = ca.iter().zip(&cb).position(|(x, y)| x != y);
        return Err(match at.and_then(|i| Some((i, ca.get(i)?, cb.get(i)?))) {
            Some((i, x, y)) => format!("comment {} differs: {:?} became {:?}", i + 1, x.1, y.1),
            None => format!("{} comments instead of {}", cb.len(), ca.len()),
        });
    }
    Ok(())
}

/// Replaces every span (`{"start": n, "end": m}`) by null.
fn without_spans(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let is_span = map.len() == 2
                && map.get("start").is_some_and(Value::is_u64)
                && map.get("end").is_some_and(Value::is_u64);
            if is_span {
                Value::Null
            } else {
                Value::Object(
                    map.into_iter()
                        .map(|(k, v)| (k, without_spans(v)))
                        .collect(),
                )
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_spans).collect()),
        other => other,
    }
}

/// A path to the first place where two values differ, with both sides.
fn first_difference(a: &Value, b: &Value, at: String) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) if va == vb => {}
                    Some(vb) => return first_difference(va, vb, format!("{at}.{k}")),
                    None => return format!("{at}.{k} is missing"),
                }
            }
            format!("{at} has extra fields")
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                if va != vb {
                    return first_difference(va, vb, format!("{at}[{i}]"));
                }
            }
            format!("{at}: equal")
        }
        _ => format!("{at}: {a} became {b}"),
    }
}
