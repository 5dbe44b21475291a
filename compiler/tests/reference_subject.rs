//! The reference evaluator decodes subjects itself (`reference/subject.rs`, §8) and shares no
//! evaluation code with the runtime: its decoding must equal the engine's on any JSON, and its
//! sources must not import the interpreter or the engine's decoding.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use chrono::{TimeZone, Utc};
use pol_compiler::reference::Reference;
use pol_compiler::source_map::SourceMap;
use pol_runtime::Engine;
use proptest::prelude::*;
use serde_json::{json, Value as Json};

const POLICY: &str = r#"
purpose Research.Marketing;
purpose Support;
subject { clearance: int, region: text, }
source t { id: int key, }
"#;

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        (-3i64..3).prop_map(|i| json!(i)),
        Just(json!(1.5)),
        prop_oneof![
            Just("Research"),
            Just("Research.Marketing"),
            Just("Support"),
            Just("Nope"),
            Just("a"),
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            proptest::collection::btree_map("[ab]", inner, 0..3)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

fn subject() -> impl Strategy<Value = Json> {
    let field =
        |name: &'static str| proptest::option::of(json_value()).prop_map(move |v| (name, v));
    (
        field("login"),
        field("groups"),
        field("roles"),
        field("attributes"),
        field("purposes"),
        field("clearance"),
        field("region"),
    )
        .prop_map(|(a, b, c, d, e, f, g)| {
            let mut obj = serde_json::Map::new();
            for (name, v) in [a, b, c, d, e, f, g] {
                if let Some(v) = v {
                    obj.insert(name.to_owned(), v);
                }
            }
            Json::Object(obj)
        })
}

proptest! {
    #[test]
    fn the_reference_decodes_subjects_as_the_engine_does(json in subject()) {
        let mut files = SourceMap::new();
        files.add("p.pol", POLICY);
        let a = pol_compiler::check(&files);
        prop_assert!(!a.has_errors());
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let engine =
            Engine::from_bundle(pol_compiler::lower::lower(&a.model, &a.resolution), None).unwrap();
        let session = engine.session(&json, now).unwrap();
        let runtime = session.subject();
        let reference = Reference::new(&a.model, &a.resolution, None, now)
            .subject(&json)
            .unwrap();
        prop_assert_eq!(&reference.login, &runtime.login);
        prop_assert_eq!(&reference.groups, &runtime.groups);
        prop_assert_eq!(&reference.roles, &runtime.roles);
        prop_assert_eq!(&reference.attributes, &runtime.attributes);
        prop_assert_eq!(&reference.purposes, &runtime.purposes);
        prop_assert_eq!(&reference.fields, &runtime.fields);
    }
}

#[test]
fn a_subject_that_is_not_an_object_is_refused_by_both() {
    let mut files = SourceMap::new();
    files.add("p.pol", POLICY);
    let a = pol_compiler::check(&files);
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let reference = Reference::new(&a.model, &a.resolution, None, now);
    let err = reference.subject(&json!([1])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the subject must be a JSON object, found array"
    );
}

#[test]
fn the_reference_imports_no_evaluation_code_of_the_runtime() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/reference");
    let mut dirs = vec![root];
    let mut files = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for forbidden in [
                "pol_runtime::program",
                "engine::Subject;",
                "engine::{Subject",
                "Subject::from_json",
                "PurposeTree",
                "pol_runtime::Engine",
                "program::interp",
                // The techniques, their keys and the decoding of cells are the reference's own.
                "pol_runtime::techniques",
                "MaskContext",
                "KeyRing",
                "MaskingKey",
                "Value::from_json",
                ".conforms_to(",
                ".canonical_text()",
                "runtime_technique",
            ] {
                assert!(
                    !text.contains(forbidden),
                    "{} uses `{forbidden}`",
                    path.display()
                );
            }
        }
    }
    // mod, eval, row, subject, values, and the techniques' modules and tests.
    assert!(files >= 17, "only {files} files were read");
}
