//! Who is asking: every missing, expired, not-yet-valid, tampered, wrongly signed or
//! unsigned token is 401 with the same body; HS256, RS256 and ES256 tokens verify; claim names
//! are configurable; the sidecar header is trusted only on local sockets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::io::{Read, Write};
use std::path::PathBuf;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

use crate::support::*;

fn support_desk_bundle(dir: &std::path::Path) -> PathBuf {
    let b = dir.join("sd.polb");
    build_bundle(&repo().join("examples/support-desk"), &b);
    b
}

const ROW: &str = r#"{"rows": [{"id": 1, "email": "jenny@example.com", "phone": "555-867-5309"}]}"#;

fn call(server: &Server, auth: Option<&str>) -> (u16, String) {
    let mut r = client()
        .post(server.url("/v1/sources/customers/mask"))
        .header("content-type", "application/json")
        .body(ROW);
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    let r = r.send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn every_auth_failure_is_401_and_reveals_nothing() {
    let tmp = tempdir();
    let bundle = support_desk_bundle(tmp.path());
    let k = keys_dir();
    let server = Server::start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--jwt-key",
        k.join("hs.secret").to_str().unwrap(),
        "--jwt-key",
        k.join("rsa.pub.pem").to_str().unwrap(),
        "--jwt-key",
        k.join("ec.pub.pem").to_str().unwrap(),
    ]);
    let amy = json!({"sub": "amy", "roles": ["agent"], "team": "billing"});
    let rsa = EncodingKey::from_rsa_pem(&std::fs::read(k.join("rsa.pem")).unwrap()).unwrap();
    let ec = EncodingKey::from_ec_pem(&std::fs::read(k.join("ec.pem")).unwrap()).unwrap();
    let masked = r#"{"rows":[{"id":1,"name":null,"email":"*******.com","phone":"*******5309","account_number":"*******","postal_address":null,"tier":null,"created_at":null}],"hidden":0}"#;
    for (what, token) in [
        ("HS256", hs_token(&amy)),
        ("RS256", sign(&amy, Algorithm::RS256, &rsa)),
        ("ES256", sign(&amy, Algorithm::ES256, &ec)),
    ] {
        assert_eq!(
            call(&server, Some(&format!("Bearer {token}"))),
            (200, masked.to_owned()),
            "{what}"
        );
    }

    let good = hs_token(&amy);
    let parts: Vec<&str> = good.split('.').collect();
    let supervisor = b64(
        json!({"sub": "amy", "roles": ["supervisor"], "exp": now_secs() + 3600})
            .to_string()
            .as_bytes(),
    );
    let other_hs = EncodingKey::from_secret(&std::fs::read(k.join("hs-other.secret")).unwrap());
    let other_rsa =
        EncodingKey::from_rsa_pem(&std::fs::read(k.join("rsa-other.pem")).unwrap()).unwrap();
    // The RSA public key used as an HMAC secret (algorithm confusion).
    let confused = EncodingKey::from_secret(&std::fs::read(k.join("rsa.pub.pem")).unwrap());
    let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let failures: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("not bearer", Some(format!("Basic {}", b64(b"amy:pw")))),
        ("empty bearer", Some("Bearer ".into())),
        ("garbage", Some("Bearer not.a.token".into())),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                hs_token(&json!({"sub": "amy", "exp": now_secs() - 3600}))
            )),
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                hs_token(&json!({"sub": "amy", "nbf": now_secs() + 3600}))
            )),
        ),
        (
            "no exp",
            Some(format!(
                "Bearer {}",
                jsonwebtoken::encode(
                    &jsonwebtoken::Header::default(),
                    &json!({"sub": "amy"}),
                    &EncodingKey::from_secret(&std::fs::read(k.join("hs.secret")).unwrap())
                )
                .unwrap()
            )),
        ),
        (
            "tampered payload",
            Some(format!("Bearer {}.{}.{}", parts[0], supervisor, parts[2])),
        ),
        (
            "tampered signature",
            Some(format!(
                "Bearer {}.{}.{}x",
                parts[0],
                parts[1],
                &parts[2][..parts[2].len() - 1]
            )),
        ),
        (
            "wrong HMAC secret",
            Some(format!(
                "Bearer {}",
                sign(&amy, Algorithm::HS256, &other_hs)
            )),
        ),
        (
            "wrong RSA key",
            Some(format!(
                "Bearer {}",
                sign(&amy, Algorithm::RS256, &other_rsa)
            )),
        ),
        (
            "public key as HMAC secret",
            Some(format!(
                "Bearer {}",
                sign(&amy, Algorithm::HS256, &confused)
            )),
        ),
        (
            "alg none",
            Some(format!("Bearer {none_header}.{}.", parts[1])),
        ),
    ];
    let body =
        r#"{"error":{"code":"unauthenticated","message":"a valid bearer token is required"}}"#;
    for (what, auth) in failures {
        assert_eq!(
            call(&server, auth.as_deref()),
            (401, body.to_owned()),
            "{what}"
        );
    }
}

#[test]
fn claim_names_are_configurable() {
    let tmp = tempdir();
    let bundle = support_desk_bundle(tmp.path());
    let server = Server::start(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--jwt-key",
        &hs_key_arg(),
        "--roles-claim",
        "realm_access.roles",
    ]);
    let token = hs_token(
        &json!({"sub": "sue", "realm_access": {"roles": ["supervisor"]}, "roles": ["agent"]}),
    );
    let (status, body) = call(&server, Some(&format!("Bearer {token}")));
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["rows"][0]["email"], json!("jenny@example.com"), "{v}");
}

fn unix_request(path: &std::path::Path, request: &str) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(path).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_sidecar_header_is_trusted_only_on_local_sockets() {
    let tmp = tempdir();
    let bundle = support_desk_bundle(tmp.path());
    let b = bundle.to_str().unwrap();
    // Refused on a routable address: exit 2, nothing served.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pol-server"))
        .args([
            "--bundle",
            b,
            "--trust-subject-header",
            "--listen",
            "0.0.0.0:1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --trust-subject-header is allowed only on a Unix socket or a loopback address, not 0.0.0.0:1\n"
    );
    // On a Unix socket: the header is the subject; without it, 401.
    let sock = tmp.path().join("pol.sock");
    let _server = Server::start_with(
        vec![
            "--bundle".into(),
            b.into(),
            "--trust-subject-header".into(),
            "--listen".into(),
            format!("unix:{}", sock.display()),
            "--config".into(),
            write_config(tmp.path()),
        ],
        format!("unix:{}", sock.display()),
    );
    let req = |subject: Option<&str>| {
        let header = subject
            .map(|s| format!("x-pol-subject: {s}\r\n"))
            .unwrap_or_default();
        format!(
            "POST /v1/sources/customers/mask HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\n{header}content-length: {}\r\n\r\n{ROW}",
            ROW.len()
        )
    };
    let ok = unix_request(
        &sock,
        &req(Some(r#"{"login": "sue", "roles": ["supervisor"]}"#)),
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains(r#""email":"jenny@example.com""#), "{ok}");
    let missing = unix_request(&sock, &req(None));
    assert!(missing.starts_with("HTTP/1.1 401"), "{missing}");
    let bad = unix_request(&sock, &req(Some("[1]")));
    assert!(bad.starts_with("HTTP/1.1 401"), "{bad}");
}

/// A config file holding limits (the command line gives the rest).
fn write_config(dir: &std::path::Path) -> String {
    let path = dir.join("server.toml");
    std::fs::write(&path, "max-rows = 5\nlog-format = \"json\"\n").unwrap();
    path.display().to_string()
}
