//! Golden bundles: bundles built by `polc build` from `examples/data-platform` at earlier
//! format versions (`tests/golden/data-platform-vN.polb`) must keep loading and masking the
//! demo rows to the committed rows, and must re-encode to the same bytes (the wire layout is
//! unchanged). After a deliberate format change they must be refused with the version error,
//! never misread.
//!
//! Regenerate the expected rows only on purpose, with the `polc` of the version in question:
//! `polc eval --bundle tests/golden/data-platform-vN.polb --subject tests/golden/S.json
//! --source crm_customers --rows tests/golden/crm_customers.jsonl --key-file
//! tests/golden/demo.key --now 2026-06-01T00:00:00Z`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use chrono::{DateTime, Utc};
use pol_runtime::bundle::format::HEADER_LEN;
use pol_runtime::bundle::{BundleError, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
use pol_runtime::{Bundle, Engine, KeyRing, MaskingKey};
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(golden(name)).unwrap()
}

fn text(name: &str) -> String {
    std::fs::read_to_string(golden(name)).unwrap()
}

/// The rows `subject` sees, as `polc eval` prints them.
fn masked(bytes: &[u8], subject: &str) -> String {
    let key = MaskingKey::from_file(golden("demo.key")).unwrap();
    let engine = Engine::load(bytes, Some(KeyRing::new(key))).unwrap();
    let subject: serde_json::Value = serde_json::from_str(&text(subject)).unwrap();
    let now: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
    let session = engine.session(&subject, now).unwrap();
    let source = session.source("crm_customers").unwrap();
    let mut out = String::new();
    for line in text("crm_customers.jsonl").lines() {
        let row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        let Some(cells) = source.mask_json(&row) else {
            continue;
        };
        let cells: Vec<String> = cells
            .iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(k.as_str())))
            .collect();
        out.push_str(&format!("{{{}}}\n", cells.join(",")));
    }
    out
}

const VERSIONS: [(u16, &str); 2] = [(1, "data-platform-v1.polb"), (2, "data-platform-v2.polb")];

#[test]
fn golden_bundles_keep_masking_to_the_committed_rows() {
    assert_eq!(OLDEST_FORMAT_VERSION, 1);
    for (_, file) in VERSIONS {
        let bytes = read(file);
        for subject in ["support-agent", "product-analyst"] {
            assert_eq!(
                masked(&bytes, &format!("{subject}.json")),
                text(&format!("{subject}.expected.jsonl")),
                "{file}, {subject}"
            );
        }
    }
}

#[test]
fn golden_bundles_reencode_to_the_same_bytes() {
    for (version, file) in VERSIONS {
        let bytes = read(file);
        let bundle = Bundle::from_bytes(&bytes).unwrap();
        assert_eq!(bundle.format_version, version, "{file}");
        assert_eq!(bundle.to_bytes().unwrap(), bytes, "{file}");
    }
}

#[test]
fn the_debug_section_is_read_from_version_2_on() {
    let v1 = Bundle::from_bytes(&read("data-platform-v1.polb")).unwrap();
    assert!(v1.debug.is_empty());
    let v2 = Bundle::from_bytes(&read("data-platform-v2.polb")).unwrap();
    assert_eq!(v2.debug.files.len(), 5, "{:?}", v2.debug.files);
    assert_eq!(v2.debug.programs.len(), v2.programs.len());
    // The tables are the same: only the debug section was added.
    let mut stripped = v2.clone();
    stripped.debug = Default::default();
    stripped.format_version = 1;
    assert_eq!(stripped, v1);
    // Listing program 3 (`ssn_us`'s where) names its column and points at masking.pol.
    let listing = v2.to_string();
    assert!(
        listing.contains(
            "column 7                ; row.country                   @ ./masking.pol:8:37-8:60"
        ),
        "{listing}"
    );
}

fn with_version(bytes: &[u8], version: u16) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[4..6].copy_from_slice(&version.to_le_bytes());
    out
}

#[test]
fn a_changed_format_version_is_refused_with_the_version_error() {
    let bytes = read("data-platform-v2.polb");
    assert!(bytes.len() > HEADER_LEN);

    let future = with_version(&bytes, FORMAT_VERSION + 1);
    let err = Bundle::from_bytes(&future).unwrap_err();
    assert_eq!(
        err,
        BundleError::FutureVersion {
            found: FORMAT_VERSION + 1,
            supported: FORMAT_VERSION
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the bundle has format version {}, newer than this runtime reads ({FORMAT_VERSION}); \
             upgrade the runtime or rebuild the bundle with a matching polc",
            FORMAT_VERSION + 1
        )
    );
    assert!(Engine::load(&future, None).is_err());

    let ancient = with_version(&bytes, 0);
    let err = Bundle::from_bytes(&ancient).unwrap_err();
    assert_eq!(
        err,
        BundleError::UnsupportedVersion {
            found: 0,
            supported: OLDEST_FORMAT_VERSION
        }
    );
    assert_eq!(
        err.to_string(),
        format!(
            "the bundle has format version 0, older than this runtime reads (versions 1 to \
             {FORMAT_VERSION}); rebuild it with a matching polc"
        )
    );
}

#[test]
fn a_body_of_another_version_is_refused_not_misread() {
    // A version-2 body under a version-1 header: the debug section is left over.
    let relabelled = with_version(&read("data-platform-v2.polb"), 1);
    assert!(matches!(
        Bundle::from_bytes(&relabelled),
        Err(BundleError::Malformed(_))
    ));
    // A version-1 body under a version-2 header: the debug section is missing.
    let relabelled = with_version(&read("data-platform-v1.polb"), 2);
    assert!(matches!(
        Bundle::from_bytes(&relabelled),
        Err(BundleError::Malformed(_))
    ));
}
