//! Differential test of the columnar path: for random valid policy sets, subjects and rows,
//! `SourceSession::mask_batch` on an Arrow record batch gives exactly the Arrow encoding of
//! `mask_values` on each of its rows: the same rows shown, every cell equal, the declared
//! columns in order. The batches vary how columns arrive: in the output's Arrow type, in another
//! readable type (`Int32`, `LargeUtf8`, nanosecond timestamps with an offset zone), as text of
//! the wrong type, missing, reordered, with an undeclared extra column.
//!
//! 256 cases by default for each generator (the second one declares many derived columns);
//! `POL_DIFF_CASES` sets more.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use crate::support;

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Int32Array, LargeStringArray, RecordBatch, StringArray,
    TimestampNanosecondArray,
};
use chrono::{DateTime, Utc};
use pol_runtime::arrow::write::build;
use pol_runtime::{ColumnType, Engine, KeyRing, MaskingKey, SourceSession, Value};
use proptest::prelude::*;
use serde_json::Map;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid clock")
        .with_timezone(&Utc)
}

fn keys() -> KeyRing {
    KeyRing::new(MaskingKey::from_bytes(&[9u8; 32]).expect("valid key"))
}

/// How one input column arrives in the batch.
#[derive(Clone, Copy, Debug)]
enum Arrival {
    /// In its output Arrow type.
    Canonical,
    /// In another Arrow type Pol reads as the same values, where there is one.
    OtherType,
    /// As text (the JSON text of each cell): the wrong type except for text and enum columns.
    AsText,
    /// Not in the batch.
    Missing,
}

fn arrival(code: u8) -> Arrival {
    match code % 6 {
        0..=2 => Arrival::Canonical,
        3 => Arrival::OtherType,
        4 => Arrival::AsText,
        _ => Arrival::Missing,
    }
}

/// The column as it arrives, and the values the row path is given for it.
fn arrive(
    cells: &[Option<&serde_json::Value>],
    ty: &ColumnType,
    how: Arrival,
) -> (Option<ArrayRef>, Vec<Value>) {
    let decoded: Vec<Value> = cells
        .iter()
        .map(|c| {
            c.and_then(|j| Value::from_json(j, ty).ok())
                .unwrap_or(Value::Null)
        })
        .collect();
    let canonical = |decoded: Vec<Value>| {
        let refs: Vec<&Value> = decoded.iter().collect();
        let array = build(&refs, ty).expect("builds");
        (Some(array), decoded)
    };
    match how {
        Arrival::Canonical => canonical(decoded),
        Arrival::Missing => (None, vec![Value::Null; cells.len()]),
        Arrival::AsText => {
            let texts: Vec<Option<String>> = cells
                .iter()
                .map(|c| match c {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                })
                .collect();
            let values = texts
                .iter()
                .map(|t| t.clone().map_or(Value::Null, Value::Text))
                .collect();
            (Some(Arc::new(StringArray::from(texts))), values)
        }
        Arrival::OtherType => match ty {
            ColumnType::Int
                if decoded
                    .iter()
                    .all(|v| !matches!(v, Value::Int(i) if i32::try_from(*i).is_err())) =>
            {
                let a: Int32Array = decoded
                    .iter()
                    .map(|v| match v {
                        Value::Int(i) => i32::try_from(*i).ok(),
                        _ => None,
                    })
                    .collect();
                (Some(Arc::new(a)), decoded)
            }
            ColumnType::Text | ColumnType::Enum(_) => {
                let a: LargeStringArray = decoded
                    .iter()
                    .map(|v| match v {
                        Value::Text(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                (Some(Arc::new(a)), decoded)
            }
            ColumnType::Timestamp => {
                let nanos: Option<Vec<Option<i64>>> = decoded
                    .iter()
                    .map(|v| match v {
                        Value::Timestamp(t) => t.timestamp_nanos_opt().map(Some),
                        _ => Some(None),
                    })
                    .collect();
                match nanos {
                    Some(n) => (
                        Some(Arc::new(
                            TimestampNanosecondArray::from(n).with_timezone("+02:00"),
                        )),
                        decoded,
                    ),
                    None => canonical(decoded),
                }
            }
            _ => canonical(decoded),
        },
    }
}

/// Compares `mask_batch` with `mask_values` for one source, subject and set of rows.
fn compare_source(
    src: &SourceSession<'_>,
    rows: &[&Map<String, serde_json::Value>],
    arrivals: &[u8],
) -> Result<(), String> {
    let inputs = src.input_columns();
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    let mut per_column: Vec<Vec<Value>> = Vec::new();
    for (k, name) in inputs.iter().enumerate() {
        let ty = src.column_type(name).ok_or("no type")?;
        let cells: Vec<Option<&serde_json::Value>> = rows.iter().map(|r| r.get(*name)).collect();
        let how = arrival(arrivals.get(k).copied().unwrap_or(0));
        let (array, values) = arrive(&cells, ty, how);
        if let Some(a) = array {
            fields.push(arrow_schema_field(name, a.data_type()));
            arrays.push(a);
        }
        per_column.push(values);
    }
    // Reordered, with an undeclared column.
    fields.reverse();
    arrays.reverse();
    fields.push(arrow_schema_field(
        "zz_undeclared",
        &arrow_schema::DataType::Int32,
    ));
    arrays.push(Arc::new(Int32Array::from(vec![7; rows.len()])));
    let batch = RecordBatch::try_new_with_options(
        Arc::new(arrow_schema::Schema::new(fields)),
        arrays,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )
    .map_err(|e| e.to_string())?;

    let got = src.mask_batch(&batch).map_err(|e| e.to_string())?;

    let columns = src.columns();
    let mut expected: Vec<Vec<Value>> = vec![Vec::new(); columns.len()];
    for i in 0..rows.len() {
        let row: Vec<Value> = per_column.iter().map(|c| c[i].clone()).collect();
        if let Some(cells) = src.mask_values(&row) {
            for (out, v) in expected.iter_mut().zip(cells) {
                out.push(v);
            }
        }
    }
    if got.schema() != src.batch_schema() {
        return Err(format!(
            "schema differs: {:?} vs {:?}",
            got.schema(),
            src.batch_schema()
        ));
    }
    let shown = expected.first().map_or(0, Vec::len);
    if got.num_rows() != shown && !columns.is_empty() {
        return Err(format!(
            "{} rows shown by mask_batch, {shown} by mask_values",
            got.num_rows()
        ));
    }
    for (k, name) in columns.iter().enumerate() {
        let ty = src.column_type(name).ok_or("no type")?;
        let refs: Vec<&Value> = expected[k].iter().collect();
        let want = build(&refs, ty).map_err(|e| e.to_string())?;
        let have = got.column(k);
        if have.as_ref() != want.as_ref() {
            return Err(format!(
                "column `{name}` differs\n  mask_values: {want:?}\n  mask_batch:  {have:?}\n  values: {:?}",
                expected[k]
            ));
        }
    }
    Ok(())
}

fn arrow_schema_field(name: &str, ty: &arrow_schema::DataType) -> arrow_schema::Field {
    arrow_schema::Field::new(name, ty.clone(), true)
}

fn compare(case: &support::gen::Case, arrivals: &[u8]) -> Result<(), String> {
    let a = case.check();
    let bundle = pol_compiler::lower::lower(&a.model, &a.resolution);
    let bytes = bundle.to_bytes().map_err(|e| e.to_string())?;
    let engine = Engine::load(&bytes, Some(keys())).map_err(|e| e.to_string())?;
    for subject in &case.subjects {
        let session = engine.session(subject, now()).map_err(|e| e.to_string())?;
        for s in &case.sources {
            let src = session.source(&s.name).ok_or("no source")?;
            let rows: Vec<&Map<String, serde_json::Value>> = case
                .rows
                .iter()
                .filter(|(name, _)| *name == s.name)
                .map(|(_, r)| r)
                .collect();
            compare_source(&src, &rows, arrivals).map_err(|e| {
                format!(
                    "source `{}`, subject {subject}, arrivals {arrivals:?}\n{e}\n{}",
                    s.name, case.text
                )
            })?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: support::cases(256),
        max_shrink_iters: 4096,
        .. ProptestConfig::default()
    })]

    #[test]
    fn mask_batch_equals_mask_values(
        case in support::gen::case(),
        arrivals in proptest::collection::vec(any::<u8>(), 24),
    ) {
        if let Err(e) = compare(&case, &arrivals) {
            prop_assert!(false, "{}", e);
        }
    }

    /// The same with many derived columns: shown, masked by their own rules or because an
    /// input is masked, tainted by an input of the wrong type, read by row conditions, read
    /// by other derived columns, in sources with and without struct fields.
    #[test]
    fn mask_batch_equals_mask_values_with_derived_columns(
        case in support::gen::case_with_derived(),
        arrivals in proptest::collection::vec(any::<u8>(), 24),
    ) {
        if let Err(e) = compare(&case, &arrivals) {
            prop_assert!(false, "{}", e);
        }
    }
}

// ---- concrete cases ------------------------------------------------------------------------

const DESK: &str = r#"
tag Contact sensitive;
source customers { id: int key, email: text tagged Contact, phone: text tagged Contact, country: text, }
policy contact { mask columns tagged Contact using null for everyone except user has role "supervisor" }
policy us_only on source customers {
  only show rows where row.country == "US" for everyone except user has role "supervisor"
}
policy escalations on source customers {
  allow temporary unmask for 24h for everyone who user has role "escalation_manager"
}
"#;

fn desk_engine() -> Engine {
    let mut map = pol_compiler::source_map::SourceMap::new();
    map.add("desk.pol", DESK.to_string());
    let a = pol_compiler::check(&map);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let bytes = pol_compiler::lower::lower(&a.model, &a.resolution)
        .to_bytes()
        .expect("encodes");
    Engine::load(&bytes, None).expect("loads")
}

fn desk_batch(countries: &[&str]) -> RecordBatch {
    let n = countries.len() as i64;
    RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(arrow_array::Int64Array::from_iter_values(1..=n)) as ArrayRef,
        ),
        (
            "email",
            Arc::new(StringArray::from_iter_values(
                (1..=n).map(|i| format!("user{i}@example.com")),
            )),
        ),
        (
            "country",
            Arc::new(StringArray::from_iter_values(countries.iter().copied())),
        ),
    ])
    .expect("batch")
}

#[test]
fn a_clear_column_is_passed_through_without_copying_and_a_null_column_is_null() {
    let engine = desk_engine();
    let session = engine
        .session(&serde_json::json!({"login": "amy"}), now())
        .expect("session");
    let src = session.source("customers").expect("source");
    let batch = desk_batch(&["US", "US", "US"]);
    let out = src.mask_batch(&batch).expect("masks");
    assert_eq!(out.num_rows(), 3);
    // The same array (the same buffers), not a copy.
    assert!(Arc::ptr_eq(out.column(3), batch.column(2)));
    assert!(Arc::ptr_eq(out.column(0), batch.column(0)));
    assert_eq!(out.column(1).null_count(), 3);
    // `phone` is not in the batch: null (the rule nulls it anyway).
    assert_eq!(out.column(2).null_count(), 3);
}

#[test]
fn rows_hidden_by_row_rules_are_removed() {
    let engine = desk_engine();
    let session = engine
        .session(&serde_json::json!({"login": "amy"}), now())
        .expect("session");
    let src = session.source("customers").expect("source");
    let out = src
        .mask_batch(&desk_batch(&["US", "FR", "US", "DE"]))
        .expect("masks");
    let ids = out
        .column(0)
        .as_any()
        .downcast_ref::<arrow_array::Int64Array>()
        .expect("int64");
    assert_eq!(ids.values().to_vec(), vec![1, 3]);
    let supervisor = engine
        .session(
            &serde_json::json!({"login": "sam", "roles": ["supervisor"]}),
            now(),
        )
        .expect("session");
    let all = supervisor
        .source("customers")
        .expect("source")
        .mask_batch(&desk_batch(&["US", "FR", "US", "DE"]))
        .expect("masks");
    assert_eq!(all.num_rows(), 4);
    assert_eq!(all.column(1).null_count(), 0);
}

#[test]
fn a_temporary_unmask_grant_reveals_its_record_in_a_batch() {
    use pol_runtime::audit::MemorySink;
    use pol_runtime::grants::{GrantService, GrantStore, ManualClock};

    let engine = desk_engine();
    let clock = Arc::new(ManualClock::new(now()));
    let service = GrantService::new(GrantStore::in_memory(), Arc::new(MemorySink::new()), clock);
    let manager = serde_json::json!({"login": "eve", "roles": ["escalation_manager"]});
    service
        .request_unmask(&engine, &manager, "customers", &Value::Int(2), "ticket 42")
        .expect("granted");
    let session = service.session(&engine, &manager).expect("session");
    let src = session.source("customers").expect("source");
    let out = src
        .mask_batch(&desk_batch(&["US", "US", "US"]))
        .expect("masks");
    let emails = out
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("utf8");
    let emails: Vec<Option<&str>> = emails.iter().collect();
    assert_eq!(emails, vec![None, Some("user2@example.com"), None]);
}
