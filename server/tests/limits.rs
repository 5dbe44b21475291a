//! Limits: body size and rows per request (413), body and request timeouts (408), the header
//! read timeout (connection closed), the concurrency cap (503, probes still answer), graceful
//! shutdown on SIGTERM (requests in flight finish, then exit 0); and `/metrics`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

fn start(extra: &[&str]) -> (tempfile::TempDir, Server) {
    let tmp = tempdir();
    let bundle = tmp.path().join("sd.polb");
    build_bundle(&repo().join("examples/support-desk"), &bundle);
    let mut args = vec!["--bundle", bundle.to_str().unwrap(), "--jwt-key"];
    let key = hs_key_arg();
    args.push(&key);
    args.extend_from_slice(extra);
    let server = Server::start(&args);
    (tmp, server)
}

fn token() -> String {
    hs_token(&json!({"sub": "amy", "roles": ["agent"], "team": "billing"}))
}

fn connect(server: &Server) -> TcpStream {
    let addr = server.base.strip_prefix("http://").unwrap();
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends the headers of a mask request announcing `len` body bytes, and `sent` of them.
fn stalled_request(server: &Server, len: usize, sent: &str) -> TcpStream {
    let mut s = connect(server);
    write!(
        s,
        "POST /v1/sources/customers/mask HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n{sent}",
        token()
    )
    .unwrap();
    s
}

fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn code(response: &str) -> (u16, Value) {
    let status = response[9..12].parse().unwrap();
    let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn body_size_and_rows_per_request_are_413() {
    let (_tmp, server) = start(&["--max-body-bytes", "1000", "--max-rows", "3"]);
    let big = json!({"rows": [{"id": 1, "name": "x".repeat(2000)}]});
    let (status, body) = post(&server, "/v1/sources/customers/mask", &token(), &big);
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (413, json!("too-large")),
        "{body}"
    );
    let four = json!({"rows": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]});
    let (status, body) = post(&server, "/v1/sources/customers/mask", &token(), &four);
    assert_eq!(status, 413);
    assert_eq!(
        body["error"]["message"],
        json!("4 rows; at most 3 per request")
    );
    let three = json!({"rows": [{"id": 1}, {"id": 2}, {"id": 3}]});
    assert_eq!(
        post(&server, "/v1/sources/customers/mask", &token(), &three).0,
        200
    );
}

#[test]
fn slow_bodies_and_slow_requests_are_408() {
    let (_tmp, server) = start(&["--body-timeout-ms", "300", "--request-timeout-ms", "5000"]);
    let mut s = stalled_request(&server, 100, "{\"rows\": [");
    let (status, body) = code(&read_response(&mut s));
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (408, json!("body-timeout")),
        "{body}"
    );

    let (_tmp2, server) = start(&["--body-timeout-ms", "5000", "--request-timeout-ms", "300"]);
    let mut s = stalled_request(&server, 100, "{\"rows\": [");
    let (status, body) = code(&read_response(&mut s));
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (408, json!("request-timeout")),
        "{body}"
    );
}

#[test]
fn slow_headers_close_the_connection() {
    let (_tmp, server) = start(&["--header-timeout-ms", "300"]);
    let mut s = connect(&server);
    s.write_all(b"POST /v1/sources/customers/mask HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let response = read_response(&mut s);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the connection stayed open"
    );
    assert!(
        response.is_empty() || response.starts_with("HTTP/1.1 408"),
        "{response}"
    );
}

#[test]
fn requests_beyond_the_cap_are_503_and_probes_still_answer() {
    let (_tmp, server) = start(&["--max-concurrent", "1", "--body-timeout-ms", "10000"]);
    let body = r#"{"rows": [{"id": 1}]}"#;
    let mut held = stalled_request(&server, body.len(), &body[..5]);
    std::thread::sleep(Duration::from_millis(300));
    let (status, answer) = post(
        &server,
        "/v1/sources/customers/mask",
        &token(),
        &json!({"rows": []}),
    );
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (503, json!("overloaded")),
        "{answer}"
    );
    assert_eq!(
        client()
            .get(server.url("/healthz"))
            .send()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client().get(server.url("/readyz")).send().unwrap().status(),
        200
    );
    held.write_all(&body.as_bytes()[5..]).unwrap();
    assert_eq!(code(&read_response(&mut held)).0, 200);
    assert_eq!(
        post(
            &server,
            "/v1/sources/customers/mask",
            &token(),
            &json!({"rows": []})
        )
        .0,
        200
    );
}

#[test]
fn sigterm_drains_requests_in_flight_then_exits() {
    let (_tmp, mut server) = start(&["--body-timeout-ms", "10000"]);
    let body = r#"{"rows": [{"id": 1, "email": "jenny@example.com"}]}"#;
    let mut held = stalled_request(&server, body.len(), &body[..5]);
    std::thread::sleep(Duration::from_millis(200));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    // No new connections …
    let addr = server.base.strip_prefix("http://").unwrap().to_owned();
    assert!(
        TcpStream::connect(&addr).is_err(),
        "still accepting after SIGTERM"
    );
    // … the request in flight finishes …
    held.write_all(&body.as_bytes()[5..]).unwrap();
    let (status, answer) = code(&read_response(&mut held));
    assert_eq!(status, 200);
    assert_eq!(answer["rows"][0]["email"], json!("*******.com"));
    // … and the process exits cleanly.
    let (code, _) = server.wait_exit(10);
    assert_eq!(code, Some(0));
}

#[test]
fn metrics_count_requests_decisions_and_the_bundle() {
    let (_tmp, server) = start(&[]);
    let rows = json!({"rows": [{"id": 1, "team": "billing"}, {"id": 2}]});
    for _ in 0..3 {
        assert_eq!(
            post(&server, "/v1/sources/customers/mask", &token(), &rows).0,
            200
        );
    }
    let tickets = json!({"rows": [{"id": 1, "team": "billing"}, {"id": 2, "team": "sales"}]});
    let (status, body) = post(&server, "/v1/sources/tickets/mask", &token(), &tickets);
    assert_eq!((status, body["hidden"].clone()), (200, json!(1)), "{body}");
    assert_eq!(
        post(&server, "/v1/sources/customers/mask", "bad", &rows).0,
        401
    );
    let version = client()
        .get(server.url("/readyz"))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()["bundle"]
        .clone();
    let text = client()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for line in [
        "pol_http_requests_total{route=\"/v1/sources/{source}/mask\",status=\"200\"} 4".to_owned(),
        "pol_http_requests_total{route=\"/v1/sources/{source}/mask\",status=\"401\"} 1".to_owned(),
        "pol_decisions_total{kind=\"row\",outcome=\"shown\"} 7".to_owned(),
        "pol_decisions_total{kind=\"row\",outcome=\"hidden\"} 1".to_owned(),
        format!("pol_bundle_info{{version={version}}} 1"),
        "pol_audit_failures_total 0".to_owned(),
        "pol_http_request_duration_seconds_count{route=\"/v1/sources/{source}/mask\"} 5".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
}
