//! An editor-like LSP client for the tests: it starts the built `pol-lsp`, writes JSON-RPC
//! frames to its stdin and reads the frames it writes to stdout on a thread.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long the client waits for one answer before failing the test.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A running server and the messages it sent that no one has taken yet.
pub struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications and server requests received while waiting for something else.
    pub pending: VecDeque<Value>,
    next_id: i64,
    /// How long to wait for one answer ([`TIMEOUT`] unless a benchmark sets more).
    pub wait: Duration,
}

/// Reads one `Content-Length` frame; `None` at the end of the stream.
fn read_frame(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// `shutdown` and `exit` take no parameters: editors leave `params` out.
fn params_void(msg: &Value) -> bool {
    msg["params"].is_null() && matches!(msg["method"].as_str(), Some("shutdown" | "exit"))
}

/// The `file://` URI of a path.
pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Client {
    /// Starts the server built by cargo for this test (the benchmark, an example, names its own).
    #[cfg(test)]
    pub fn start() -> Client {
        Client::spawn(Path::new(env!("CARGO_BIN_EXE_pol-lsp")))
    }

    /// Starts the server at `exe`.
    pub fn spawn(exe: &Path) -> Client {
        let mut child = Command::new(exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pol-lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_frame(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            pending: VecDeque::new(),
            next_id: 0,
            wait: TIMEOUT,
        }
    }

    /// Writes raw bytes to the server.
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write to pol-lsp");
        self.stdin.flush().expect("flush");
    }

    /// Writes one frame around a body.
    pub fn send_body(&mut self, body: &str) {
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.write_raw(frame.as_bytes());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let mut msg = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        if params_void(&msg) {
            msg.as_object_mut().map(|m| m.remove("params"));
        }
        self.send_body(&msg.to_string());
    }

    /// Sends a request and returns its id without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        if params_void(&msg) {
            msg.as_object_mut().map(|m| m.remove("params"));
        }
        self.send_body(&msg.to_string());
        id
    }

    fn next_message(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("no {waiting_for} within {TIMEOUT:?}"),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("pol-lsp closed its output while waiting for {waiting_for}")
            }
        }
    }

    /// The whole response (`result` or `error`) to the request `id`.
    pub fn response(&mut self, id: i64) -> Value {
        let deadline = Instant::now() + self.wait;
        loop {
            let msg = self.next_message(deadline, &format!("response to request {id}"));
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                return msg;
            }
            self.pending.push_back(msg);
        }
    }

    /// Sends a request and returns its `result`, failing on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let r = self.response(id);
        match r.get("error") {
            Some(e) => panic!("{method} failed: {e}"),
            None => r.get("result").cloned().unwrap_or(Value::Null),
        }
    }

    /// Takes the next message the server sends on its own (first those already received), or
    /// `None` when none comes within `wait`.
    pub fn next_notification(&mut self, wait: Duration) -> Option<Value> {
        if let Some(v) = self.pending.pop_front() {
            return Some(v);
        }
        self.incoming.recv_timeout(wait).ok()
    }

    /// Waits for the diagnostics of `uri` that satisfy `done`, returning them (the server may
    /// publish intermediate ones while it catches up with the edits). Other messages stay
    /// pending.
    pub fn diagnostics_until(&mut self, uri: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let params = self.publish_until(uri, |p| {
            done(p["diagnostics"].as_array().map_or(&[], |a| a.as_slice()))
        });
        params["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The diagnostics published for `uri` at the editor's `version` of it.
    pub fn diagnostics_at(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let params = self.publish_until(uri, |p| p["version"] == version);
        params["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits for a `publishDiagnostics` of `uri` whose params satisfy `done`; returns them.
    pub fn publish_until(&mut self, uri: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + self.wait;
        let mut last = None;
        let mut kept = VecDeque::new();
        let mut earlier = std::mem::take(&mut self.pending);
        let found = loop {
            let msg = match earlier.pop_front() {
                Some(m) => m,
                None => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.incoming.recv_timeout(left) {
                        Ok(m) => m,
                        Err(_) => break None,
                    }
                }
            };
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
                if done(&msg["params"]) {
                    break Some(msg["params"].clone());
                }
                last = Some(msg["params"].clone());
            } else {
                kept.push_back(msg);
            }
        };
        kept.extend(earlier);
        self.pending = kept;
        found.unwrap_or_else(|| panic!("no fitting diagnostics for {uri}; last: {last:#?}"))
    }

    /// The next message that is neither a notification nor a request of the server: an answer
    /// to no request of ours (an error about a malformed message).
    pub fn next_unsolicited_answer(&mut self) -> Value {
        let deadline = Instant::now() + self.wait;
        if let Some(i) = self.pending.iter().position(|m| m.get("method").is_none()) {
            return self.pending.remove(i).unwrap();
        }
        loop {
            let msg = self.next_message(deadline, "an error answer");
            if msg.get("method").is_none() {
                return msg;
            }
            self.pending.push_back(msg);
        }
    }

    /// `initialize` with one workspace folder, then `initialized`; returns the result.
    pub fn initialize(&mut self, root: &Path) -> Value {
        let root_uri = uri(root);
        let result = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "capabilities": {},
                "workspaceFolders": [{ "uri": root_uri, "name": "ws" }],
            }),
        );
        self.notify("initialized", json!({}));
        result
    }

    pub fn did_open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "pol", "version": 1, "text": text } }),
        );
    }

    pub fn did_change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "text": text }],
            }),
        );
    }

    /// `shutdown` then `exit`; returns the exit status code.
    pub fn shutdown(&mut self) -> Option<i32> {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    /// Waits for the process to end; returns its status code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + self.wait;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("pol-lsp did not exit after `exit`");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A `kB` field of the server's `/proc/PID/status` (`VmRSS`, `VmHWM`…); 0 when unreadable.
    pub fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A position parameter.
pub fn pos(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

/// The (line, UTF-16 character) of the end of a text.
pub fn end_of(text: &str) -> (u32, u32) {
    let line = text.matches('\n').count() as u32;
    let line_start = text.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..].encode_utf16().count() as u32)
}

/// The (line, UTF-16 character) of the `n`th occurrence of `needle` in `text`, plus `delta`
/// characters (ASCII needles only).
pub fn find(text: &str, needle: &str, n: usize, delta: usize) -> (u32, u32) {
    let at = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("`{needle}` #{n} not in the text"))
        .0
        + delta;
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character = text[line_start..at].encode_utf16().count() as u32;
    (line, character)
}
