//! The JSON-lines audit file: exact record format, reopening, torn tails, corruption.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::io::Write;

use chrono::{TimeZone, Utc};
use pol_runtime::audit::{
    AuditAction, AuditError, AuditRecord, AuditSink, FileSink, JournalError, MemorySink,
    RequestKind,
};

fn record(n: u32) -> AuditRecord {
    AuditRecord {
        time: Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, n)
            .single()
            .expect("valid time"),
        subject: "amy".to_owned(),
        action: AuditAction::Grant,
        request: RequestKind::Unmask,
        source: "customers".to_owned(),
        key: Some(n.to_string()),
        columns: vec![],
        expiry: Some(
            Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, n)
                .single()
                .expect("valid time"),
        ),
        reason: Some("ticket \"4411\"\nline two".to_owned()),
        detail: "granted by unmask_request for 86400s".to_owned(),
    }
}

#[test]
fn records_are_one_json_line_each() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    let (sink, recovered) = FileSink::open(&path).expect("opens");
    assert_eq!(sink.records().expect("reads"), vec![]);
    assert_eq!(recovered.torn_bytes, 0);
    sink.record(&record(1)).expect("written");
    sink.record(&record(2)).expect("written");
    let text = std::fs::read_to_string(&path).expect("readable");
    assert_eq!(
        text,
        "{\"time\":\"2026-01-01T00:00:01Z\",\"subject\":\"amy\",\"action\":\"grant\",\
         \"request\":\"unmask\",\"source\":\"customers\",\"key\":\"1\",\"columns\":[],\
         \"expiry\":\"2026-01-02T00:00:01Z\",\"reason\":\"ticket \\\"4411\\\"\\nline two\",\
         \"detail\":\"granted by unmask_request for 86400s\"}\n\
         {\"time\":\"2026-01-01T00:00:02Z\",\"subject\":\"amy\",\"action\":\"grant\",\
         \"request\":\"unmask\",\"source\":\"customers\",\"key\":\"2\",\"columns\":[],\
         \"expiry\":\"2026-01-02T00:00:02Z\",\"reason\":\"ticket \\\"4411\\\"\\nline two\",\
         \"detail\":\"granted by unmask_request for 86400s\"}\n"
    );
}

#[test]
fn reopening_keeps_records_and_appends_after_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    {
        let (sink, _) = FileSink::open(&path).expect("opens");
        sink.record(&record(1)).expect("written");
    }
    let (sink, recovered) = FileSink::open(&path).expect("reopens");
    assert_eq!(sink.records().expect("reads"), vec![record(1)]);
    assert_eq!(recovered.torn_bytes, 0);
    sink.record(&record(2)).expect("written");
    assert_eq!(
        FileSink::read(&path).expect("reads"),
        vec![record(1), record(2)]
    );
}

#[test]
fn a_torn_last_line_is_truncated_away_and_never_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    {
        let (sink, _) = FileSink::open(&path).expect("opens");
        sink.record(&record(1)).expect("written");
    }
    let complete_len = std::fs::metadata(&path).expect("exists").len();
    // A crash in the middle of the second record: a prefix of its line, with no newline. The
    // prefix is itself valid JSON up to a point, to be sure it is not parsed leniently.
    let line = serde_json::to_string(&record(2)).expect("encodes");
    let torn = &line[..line.len() - 1];
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(torn.as_bytes()))
        .expect("appends");
    let (sink, recovered) = FileSink::open(&path).expect("reopens");
    assert_eq!(sink.records().expect("reads"), vec![record(1)]);
    assert_eq!(recovered.torn_bytes, torn.len() as u64);
    assert_eq!(
        std::fs::metadata(&path).expect("exists").len(),
        complete_len,
        "the torn tail is truncated on open"
    );
    // The next record starts on a line of its own.
    sink.record(&record(3)).expect("written");
    assert_eq!(
        FileSink::read(&path).expect("reads"),
        vec![record(1), record(3)]
    );
}

#[test]
fn a_torn_first_line_leaves_an_empty_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, b"{\"time\":\"2026-01-01T").expect("writes");
    let (sink, recovered) = FileSink::open(&path).expect("opens");
    assert_eq!(sink.records().expect("reads"), vec![]);
    assert_eq!(recovered.torn_bytes, 20);
    assert_eq!(std::fs::metadata(&path).expect("exists").len(), 0);
}

#[test]
fn a_corrupt_complete_line_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.jsonl");
    let good = serde_json::to_string(&record(1)).expect("encodes");
    std::fs::write(&path, format!("{good}\n{{\"time\": 1}}\n{good}\n")).expect("writes");
    // Opening reads only the tail (the last line is a record) …
    FileSink::open(&path).expect("the tail is sound");
    // … reading every record finds the corrupt line.
    let err = FileSink::read(&path).expect_err("corrupt");
    match &err {
        AuditError::Journal(JournalError::Corrupt { line, .. }) => assert_eq!(*line, 2),
        other => panic!("unexpected error {other:?}"),
    }
    assert!(
        err.to_string().starts_with(&format!(
            "the audit record was not written: `{}` is corrupted: line 2 is not a valid record (",
            path.display()
        )),
        "{err}"
    );
    // Nothing was truncated or rewritten.
    assert_eq!(
        std::fs::read_to_string(&path).expect("reads"),
        format!("{good}\n{{\"time\": 1}}\n{good}\n")
    );
}

#[test]
fn opening_in_a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing").join("audit.jsonl");
    let err = FileSink::open(&path).expect_err("no directory");
    assert!(matches!(
        err,
        AuditError::Journal(JournalError::Io { action: "open", .. })
    ));
}

#[test]
fn memory_sink_keeps_records_in_order() {
    let sink = MemorySink::new();
    sink.record(&record(2)).expect("kept");
    sink.record(&record(1)).expect("kept");
    assert_eq!(sink.records(), vec![record(2), record(1)]);
}
