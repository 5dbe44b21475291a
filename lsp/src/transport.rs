//! The stdio transport around tower-lsp. tower-lsp stops reading at the first frame it cannot
//! decode (a body that is not JSON, or not a JSON-RPC message), which would end the server on
//! one bad frame. So the server reads stdin itself: well-formed messages go on to tower-lsp,
//! re-framed; anything else is answered here with a JSON-RPC error (`-32700` parse error,
//! `-32600` invalid request) and the next frame is read. Both kinds of output are written to
//! stdout whole frame by whole frame.

use crate::framing::{frame, Frame, FrameReader};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp::jsonrpc::{Request, Response};

/// The size of the in-process pipes between this transport and tower-lsp.
const PIPE: usize = 1 << 20;

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
    let mut r = FrameReader::new(input);
    while let Some(f) = r.read().await {
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
                        response.pointer("/error/message").unwrap_or(&Value::Null)
                    );
                    let _ = errors.send(frame(response.to_string().as_bytes()));
                }
            },
            Frame::Rejected { reason, id } => {
                eprintln!("pol-lsp: ignored a frame: {reason}");
                // With the request's id, the client learns that this request gets no other answer.
                let (code, kind) = if id.is_null() {
                    (-32700, "Parse error")
                } else {
                    (-32600, "Invalid request")
                };
                let response = json!({
                    "jsonrpc": "2.0",
                    "id": id,
                    "error": { "code": code, "message": format!("{kind}: {reason}") },
                });
                let _ = errors.send(frame(response.to_string().as_bytes()));
            }
        }
    }
    // The end of the input: tower-lsp sees it too, through `to_server` being dropped.
}

/// Passes the frames tower-lsp writes on to the output queue.
async fn server_output<R: AsyncRead + Unpin>(from_server: R, out: mpsc::UnboundedSender<Vec<u8>>) {
    let mut r = FrameReader::new(from_server);
    while let Some(f) = r.read().await {
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
