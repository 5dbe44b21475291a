//! Starting servers, minting tokens, running `polc`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // Test code: a failure stops here.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

/// The `polc` binary of this workspace (built once if missing: a dev-time relationship only).
/// Built as `cargo test --workspace` builds it (`--workspace --tests`, so with the features
/// cargo unifies over every package and its dev-dependencies), which has built it already
/// when the tests run that way: with `-p pol-compiler` or without `--tests`, the unified
/// features differ and the dependencies and `polc` would be compiled again (minutes here).
pub fn polc() -> PathBuf {
    static POLC: OnceLock<PathBuf> = OnceLock::new();
    POLC.get_or_init(|| {
        let exe = PathBuf::from(env!("CARGO_BIN_EXE_pol-server"));
        let path = exe.with_file_name("polc");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "--workspace", "--tests", "--bin", "polc"])
            .current_dir(repo())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building polc failed");
        assert!(path.exists(), "no polc at {}", path.display());
        path
    })
    .clone()
}

pub fn run_polc(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(polc());
    cmd.args(args).current_dir(repo());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("polc starts");
    if let Some(data) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    child.wait_with_output().expect("polc runs")
}

/// `polc build DIR -o OUT`.
pub fn build_bundle(policies: &Path, out: &Path) {
    let o = run_polc(
        &[
            "build",
            policies.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        o.status.success(),
        "polc build {}: {}",
        policies.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server (killed when dropped).
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts `pol-server` on a free loopback port with `args`, and waits for `/healthz`.
    pub fn start(args: &[&str]) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut all: Vec<String> = vec!["--listen".into(), listen.clone()];
        all.extend(args.iter().map(|s| s.to_string()));
        Self::start_with(all, format!("http://{listen}"))
    }

    pub fn start_with(args: Vec<String>, base: String) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_pol-server"))
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pol-server starts");
        let mut s = Server { child, base };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(path) = self.base.strip_prefix("unix:") {
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    return;
                }
            } else if let Ok(r) = client().get(self.url("/healthz")).send() {
                if r.status() == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .ok();
                panic!("pol-server exited ({status}) before serving: {err}");
            }
            assert!(Instant::now() < deadline, "pol-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Waits for the process to exit (at most `secs`), returning its exit code and stderr.
    pub fn wait_exit(&mut self, secs: u64) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    e.read_to_string(&mut err).ok();
                }
                return (status.code(), err);
            }
            assert!(Instant::now() < deadline, "pol-server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token for `claims` (an `exp` an hour ahead is added unless present) signed with the
/// HS256 test secret.
pub fn hs_token(claims: &Value) -> String {
    sign(
        claims,
        Algorithm::HS256,
        &EncodingKey::from_secret(&std::fs::read(keys_dir().join("hs.secret")).unwrap()),
    )
}

pub fn sign(claims: &Value, alg: Algorithm, key: &EncodingKey) -> String {
    let mut c = claims.clone();
    if c.get("exp").is_none() {
        c["exp"] = json!(now_secs() + 3600);
    }
    encode(&Header::new(alg), &c, key).unwrap()
}

/// The test key arguments: `--jwt-key` for the HS256 secret.
pub fn hs_key_arg() -> String {
    keys_dir().join("hs.secret").display().to_string()
}

/// POSTs JSON with a bearer token; returns the status and JSON body.
pub fn post(server: &Server, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let r = client()
        .post(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .expect("request");
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
