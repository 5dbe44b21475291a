//! The stdio transport around tower-lsp. tower-lsp stops reading at the first frame it cannot
//! decode (a body that is not JSON, or not a JSON-RPC message), which would end the server on
//! one bad frame. So the server reads stdin itself: well-formed messages go on to tower-lsp,
//! re-framed; anything else is answered here with a JSON-RPC error (`-32700` parse error,
//! `-32600` invalid request) and the next frame is read. Both kinds of output are written to
//! stdout whole frame by whole frame.

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp::jsonrpc::{Request, Response};

/// The longest header line read; a longer one is junk.
const MAX_HEADER_LINE: u64 = 8 * 1024;
/// The largest body accepted (a larger `Content-Length` is answered as a parse error).
const MAX_BODY: usize = 256 * 1024 * 1024;
/// The size of the in-process pipes between this transport and tower-lsp.
const PIPE: usize = 1 << 20;

/// One frame read from a stream.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A body of the length its `Content-Length` said.
    Body(Vec<u8>),
    /// Header lines without a usable `Content-Length` (the reason, for the log).
    BadHeader(String),
}

/// Reads the next frame: header lines up to an empty line, then the body. `None` at the end of
/// the stream (or when it fails).
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> Option<Frame> {
    let mut length: Option<Result<usize, String>> = None;
    let mut any = false;
    loop {
        let mut line = Vec::new();
        let n = (&mut *r)
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)
            .await
            .ok()?;
        if n == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if any {
                break;
            }
            // Blank lines between frames are tolerated.
            continue;
        }
        any = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = Some(match value.trim().parse::<usize>() {
                    Ok(n) if n <= MAX_BODY => Ok(n),
                    Ok(n) => Err(format!("Content-Length {n} is too large")),
                    Err(_) => Err(format!("invalid Content-Length `{}`", value.trim())),
                });
            }
        }
    }
    match length {
        Some(Ok(n)) => {
            let mut body = vec![0; n];
            r.read_exact(&mut body).await.ok()?;
            Some(Frame::Body(body))
        }
        Some(Err(reason)) => Some(Frame::BadHeader(reason)),
        None => Some(Frame::BadHeader("no Content-Length header".to_string())),
    }
}

/// Frames a body.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// What to do with one body: pass it on to tower-lsp, or answer it with this error response.
pub fn triage(body: &[u8]) -> Result<(), Value> {
    let error = |id: Value, code: i64, message: &str| json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } });
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Err(error(Value::Null, -32700, &format!("Parse error: {e}"))),
    };
    let is_message = serde_json::from_value::<Request>(value.clone()).is_ok()
        || serde_json::from_value::<Response>(value.clone()).is_ok();
    if is_message {
        return Ok(());
    }
    let id = match value.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    Err(error(
        id,
        -32600,
        "Invalid request: not a JSON-RPC 2.0 request, notification or response",
    ))
}

/// Reads frames from `input`: messages go to `to_server` (re-framed), errors to `errors`.
async fn filter_input<R, W>(input: R, mut to_server: W, errors: mpsc::UnboundedSender<Vec<u8>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut r = BufReader::new(input);
    while let Some(f) = read_frame(&mut r).await {
        match f {
            Frame::Body(body) => match triage(&body) {
                Ok(()) => {
                    if to_server.write_all(&frame(&body)).await.is_err() {
                        return;
                    }
                    if to_server.flush().await.is_err() {
                        return;
                    }
                }
                Err(response) => {
                    eprintln!(
                        "pol-lsp: ignored a malformed message ({})",
                        response["error"]["message"]
                    );
                    let _ = errors.send(frame(response.to_string().as_bytes()));
                }
            },
            Frame::BadHeader(reason) => {
                eprintln!("pol-lsp: ignored a frame: {reason}");
                let response = json!({
                    "jsonrpc": "2.0",
                    "id": null,
                    "error": { "code": -32700, "message": format!("Parse error: {reason}") },
                });
                let _ = errors.send(frame(response.to_string().as_bytes()));
            }
        }
    }
    // The end of the input: tower-lsp sees it too, through `to_server` being dropped.
}

/// Passes the frames tower-lsp writes on to the output queue.
async fn server_output<R: AsyncRead + Unpin>(from_server: R, out: mpsc::UnboundedSender<Vec<u8>>) {
    let mut r = BufReader::new(from_server);
    while let Some(f) = read_frame(&mut r).await {
        if let Frame::Body(body) = f {
            if out.send(frame(&body)).is_err() {
                return;
            }
        }
    }
}

/// Writes the queued frames to `output`, each whole, until every sender is gone.
async fn write_output<W: AsyncWrite + Unpin>(
    mut queue: mpsc::UnboundedReceiver<Vec<u8>>,
    mut output: W,
) {
    while let Some(bytes) = queue.recv().await {
        if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
            return;
        }
    }
}

/// Serves an LSP service over stdin/stdout until the input ends or the client says `exit`.
pub async fn serve<S>(service: S, socket: tower_lsp::ClientSocket)
where
    S: tower_service::Service<Request, Response = Option<Response>> + Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: Send,
{
    let (to_server, server_in) = tokio::io::duplex(PIPE);
    let (server_out, from_server) = tokio::io::duplex(PIPE);
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    tokio::spawn(filter_input(tokio::io::stdin(), to_server, out_tx.clone()));
    tokio::spawn(server_output(from_server, out_tx));
    let writer = tokio::spawn(write_output(out_rx, tokio::io::stdout()));
    tower_lsp::Server::new(server_in, server_out, socket)
        .serve(service)
        .await;
    // Write what tower-lsp answered last (the input reader may still hold the queue open).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), writer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = BufReader::new(input);
        let mut out = Vec::new();
        while let Some(f) = read_frame(&mut r).await {
            out.push(f);
        }
        out
    }

    #[tokio::test]
    async fn frames_are_read_past_junk_headers() {
        let input = b"Content-Length: 2\r\n\r\n{}X-Junk\r\n\r\n\r\nContent-Type: x\r\ncontent-length:3\r\n\r\n[1]Content-Length: nope\r\n\r\n";
        assert_eq!(
            frames(input).await,
            [
                Frame::Body(b"{}".to_vec()),
                Frame::BadHeader("no Content-Length header".to_string()),
                Frame::Body(b"[1]".to_vec()),
                Frame::BadHeader("invalid Content-Length `nope`".to_string()),
            ]
        );
        // A body cut short by the end of the input ends the stream.
        assert_eq!(frames(b"Content-Length: 10\r\n\r\n{}").await, []);
        assert_eq!(
            frames(b"Content-Length: 99999999999\r\n\r\n").await,
            [Frame::BadHeader(
                "Content-Length 99999999999 is too large".to_string()
            )]
        );
    }

    #[test]
    fn bodies_are_triaged() {
        assert_eq!(triage(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#), Ok(()));
        assert_eq!(triage(br#"{"jsonrpc":"2.0","method":"x"}"#), Ok(()));
        assert_eq!(triage(br#"{"jsonrpc":"2.0","id":1,"result":null}"#), Ok(()));
        let e = triage(b"hello").unwrap_err();
        assert_eq!(e["error"]["code"], -32700);
        assert_eq!(e["id"], Value::Null);
        let e = triage(br#"{"id":7,"method":"x"}"#).unwrap_err();
        assert_eq!(e["error"]["code"], -32600);
        assert_eq!(e["id"], 7);
        assert_eq!(triage(b"[]").unwrap_err()["error"]["code"], -32600);
    }
}
