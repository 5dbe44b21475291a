//! Techniques through lowering and the engine.

use chrono::{DateTime, Utc};
use pol_runtime::Engine;
use serde_json::{json, Map, Value};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid clock")
        .with_timezone(&Utc)
}

/// §5 `constant(v)`: `v` of the column's type. The engine gave the int `2` on a decimal column
/// (the lowering kept the literal's type); found by this module's differential test.
#[test]
fn an_int_constant_on_a_decimal_column_is_a_decimal() {
    let text = "tag T;\nsource s { id: int key, c: decimal tagged T, d: decimal, }\n\
                policy p { mask columns tagged T using constant(2) for everyone }\n\
                policy q { mask column s.d using constant(3) for everyone }\n";
    let mut map = pol_compiler::source_map::SourceMap::new();
    map.add("t.pol", text.to_string());
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .unwrap();
    let engine = Engine::load(&bytes, None).unwrap();
    let session = engine.session(&json!({}), now()).unwrap();
    let row = json!({"id": 1, "c": 0.5, "d": 7.25});
    let Value::Object(row) = row else {
        unreachable!()
    };
    let out = session.source("s").unwrap().mask_json(&row).unwrap();
    let out: Map<String, Value> = out.into_iter().collect();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"id":1,"c":2.0,"d":3.0}"#
    );
}
