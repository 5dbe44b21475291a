//! Comparing expected and actual cells of a test.

use serde_json::Value as Json;

/// The cell named `name` in a masked row: a top-level column, or a nested field by its dotted
/// path (`patient.ssn`); a field under a list is the list of that field in every element.
pub fn cell_at(cells: &[(String, Json)], name: &str) -> Option<Json> {
    if let Some((_, v)) = cells.iter().find(|(n, _)| n == name) {
        return Some(v.clone());
    }
    // The longest top-level column name that prefixes the path.
    let (top, v) = cells
        .iter()
        .filter(|(n, _)| {
            name.len() > n.len() && name.starts_with(n.as_str()) && name[n.len()..].starts_with('.')
        })
        .max_by_key(|(n, _)| n.len())?;
    let rest: Vec<&str> = name[top.len() + 1..].split('.').collect();
    Some(descend(v, &rest))
}

fn descend(v: &Json, path: &[&str]) -> Json {
    let Some((first, rest)) = path.split_first() else {
        return v.clone();
    };
    match v {
        Json::Object(m) => match m.get(*first) {
            Some(inner) => descend(inner, rest),
            None => Json::Null,
        },
        Json::Array(items) => Json::Array(items.iter().map(|i| descend(i, path)).collect()),
        _ => Json::Null,
    }
}

/// Whether an expected test value equals an actual cell: JSON equality, except that numbers
/// compare by value (an integer literal is accepted where a decimal is expected, §8).
pub fn json_equal(expected: &Json, actual: &Json) -> bool {
    match (expected, actual) {
        (Json::Number(a), Json::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == b.as_f64(),
        },
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_equal(x, y))
        }
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| json_equal(x, y)))
        }
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_equal(&json!(25), &json!(25.0)));
        assert!(!json_equal(&json!(25), &json!(25.5)));
        assert!(!json_equal(&json!("25"), &json!(25)));
    }

    #[test]
    fn nested_and_list_paths() {
        let cells = vec![
            ("patient".to_string(), json!({"name": "A", "ssn": null})),
            ("items".to_string(), json!([{"sku": "x"}, {"sku": "y"}])),
        ];
        assert_eq!(cell_at(&cells, "patient.ssn"), Some(json!(null)));
        assert_eq!(cell_at(&cells, "patient.name"), Some(json!("A")));
        assert_eq!(cell_at(&cells, "items.sku"), Some(json!(["x", "y"])));
        assert_eq!(cell_at(&cells, "other"), None);
    }
}
