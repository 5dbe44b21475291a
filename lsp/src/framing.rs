//! Reading `Content-Length` frames from a byte stream that may be broken, and resynchronising
//! after a broken frame.
//!
//! A frame is header lines up to an empty line, then a body of the length the `Content-Length`
//! header declares. A client can get that length wrong; each way it can is detected, reported
//! and recovered from, so that the frames after it are read as they were sent:
//!
//! - **too short**: the body read is cut (not JSON: reported by the caller's triage); the rest of
//!   it is read as junk before the next header, and a header line is found wherever
//!   `Content-Length:` occurs in it (the last occurrence of a line), so the next frame is read;
//! - **too long**: the body read holds a whole JSON value and then the start of the next frame.
//!   The frame is rejected (with the message's id when it is a request, so the client is not
//!   left waiting) and the bytes after the value are put back, to be read as the next frame.
//!   When the client sends nothing more, the body never fills: after [`STALL`] without bytes,
//!   a body that already holds a whole JSON value is rejected the same way;
//! - **two `Content-Length` headers**: the frame is rejected. When both say the same length its
//!   body is skipped; when they differ, no length can be trusted and the body is read as junk up
//!   to the next header.
//!
//! Buffers are sized for what is read and given back after a large frame (see [`RETAINED`]).

use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The longest header line kept whole; the bytes of a longer one are junk (its last
/// [`MARKER_ROOM`] bytes are kept, in case a header starts there).
const MAX_HEADER_LINE: usize = 8 * 1024;
/// Bytes kept from the end of an over-long line: room for `Content-Length:`.
const MARKER_ROOM: usize = 32;
/// The largest body accepted (a larger `Content-Length` is rejected and its bytes skipped).
pub const MAX_BODY: usize = 256 * 1024 * 1024;
/// How long a body may wait for its next bytes before a body already holding a whole JSON value
/// is taken for a frame whose `Content-Length` is too long.
pub const STALL: Duration = Duration::from_millis(500);
/// The buffer capacity kept between frames; a larger one (after a large frame) is given back.
pub const RETAINED: usize = 1 << 20;
/// How much is read from the stream at a time.
const CHUNK: usize = 64 * 1024;

/// One frame read from a stream.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A body of the length its `Content-Length` said.
    Body(Vec<u8>),
    /// A frame that is not handled: why, and the id of the request it carried (`null` when it
    /// carried none, or none could be read).
    Rejected { reason: String, id: Value },
}

impl Frame {
    fn rejected(reason: impl Into<String>) -> Frame {
        Frame::Rejected {
            reason: reason.into(),
            id: Value::Null,
        }
    }
}

/// What a header line says.
#[derive(Debug, PartialEq)]
enum Header {
    /// A `Content-Length` (or why its value is unusable), and how many junk bytes preceded it.
    Length(Result<usize, String>, usize),
    /// Any other header, or junk.
    Other,
}

/// Reads a header line. `Content-Length:` is looked for anywhere in a line that is not itself a
/// header (junk left by a frame whose length was too short runs into the next header line).
fn header(line: &str) -> Header {
    const NAME: &str = "content-length";
    let lower = line.to_ascii_lowercase();
    let start = match line.split_once(':') {
        Some((name, _)) if name.trim().eq_ignore_ascii_case(NAME) => Some(0),
        _ => lower
            .rmatch_indices(NAME)
            .map(|(i, _)| i)
            .find(|&i| lower[i + NAME.len()..].trim_start().starts_with(':')),
    };
    let Some(start) = start else {
        return Header::Other;
    };
    let Some((_, value)) = line[start..].split_once(':') else {
        return Header::Other;
    };
    let value = value.trim();
    let length = match value.parse::<usize>() {
        Ok(n) if n <= MAX_BODY => Ok(n),
        Ok(n) => Err(format!("Content-Length {n} is too large")),
        Err(_) => Err(format!("invalid Content-Length `{value}`")),
    };
    Header::Length(length, start)
}

/// The length of the JSON value at the start of `bytes` (with the whitespace after it), when
/// one is there whole.
fn leading_value(bytes: &[u8]) -> Option<(usize, Value)> {
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    let value = values.next()?.ok()?;
    let mut end = values.byte_offset();
    while bytes.get(end).is_some_and(u8::is_ascii_whitespace) {
        end += 1;
    }
    Some((end, value))
}

/// The id of a request (a message with a `method` and an `id`), else `null`.
fn request_id(value: &Value) -> Value {
    match (value.get("method"), value.get("id")) {
        (Some(Value::String(_)), Some(id @ (Value::Number(_) | Value::String(_)))) => id.clone(),
        _ => Value::Null,
    }
}

/// The frames of a byte stream.
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of `buf` before this one are consumed.
    pos: usize,
    eof: bool,
    stall: Duration,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Reads frames from `inner`.
    pub fn new(inner: R) -> FrameReader<R> {
        FrameReader::with_stall(inner, STALL)
    }

    /// Reads frames from `inner`, taking a body for complete after `stall` without bytes.
    pub fn with_stall(inner: R, stall: Duration) -> FrameReader<R> {
        FrameReader {
            inner,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            stall,
        }
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        if self.buf.capacity() > RETAINED && self.buf.len() - self.pos < RETAINED / 2 {
            // Give back the memory of a large frame.
            self.buf = self.buf.get(self.pos..).unwrap_or_default().to_vec();
            self.pos = 0;
        }
    }

    /// Reads more bytes; false at the end of the stream (or when it fails). Cancel-safe.
    async fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // Read into a chunk of its own: a read cancelled by the stall timeout leaves the buffer
        // as it was.
        let mut chunk = vec![0; CHUNK];
        let n = self.inner.read(&mut chunk).await.unwrap_or(0);
        self.buf
            .extend_from_slice(chunk.get(..n).unwrap_or_default());
        if n == 0 {
            self.eof = true;
        }
        n > 0
    }

    /// The next line (without its end), or a piece of an over-long one; `None` at the end.
    async fn line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.pending().iter().position(|&b| b == b'\n') {
                let text = String::from_utf8_lossy(self.pending().get(..i).unwrap_or_default())
                    .trim_end_matches('\r')
                    .to_string();
                self.consume(i + 1);
                return Some(text);
            }
            let len = self.pending().len();
            if len > MAX_HEADER_LINE {
                let cut = len - MARKER_ROOM;
                let text = String::from_utf8_lossy(self.pending().get(..cut).unwrap_or_default())
                    .to_string();
                self.consume(cut);
                return Some(text);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Reads the next frame; `None` at the end of the stream.
    pub async fn read(&mut self) -> Option<Frame> {
        let mut lengths: Vec<Result<usize, String>> = Vec::new();
        let mut any = false;
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                if any {
                    break;
                }
                // Blank lines between frames are tolerated.
                continue;
            }
            any = true;
            if let Header::Length(length, junk) = header(&line) {
                if junk > 0 {
                    eprintln!("pol-lsp: skipped {junk} bytes before a Content-Length header");
                    // What came before belongs to no frame: only this header counts.
                    lengths.clear();
                }
                lengths.push(length);
            }
        }
        match lengths.as_slice() {
            [] => Some(Frame::rejected("no Content-Length header")),
            [Err(reason)] => Some(Frame::rejected(reason.clone())),
            [Ok(n)] => self.body(*n).await,
            [Ok(a), rest @ ..] if rest.iter().all(|r| r.as_ref() == Ok(a)) => {
                let reason = format!("{} Content-Length headers", lengths.len());
                match self.body(*a).await? {
                    Frame::Body(body) => {
                        let id = leading_value(&body).map_or(Value::Null, |(_, v)| request_id(&v));
                        Some(Frame::Rejected { reason, id })
                    }
                    rejected => Some(rejected),
                }
            }
            _ => {
                let values: Vec<String> = lengths
                    .iter()
                    .map(|l| match l {
                        Ok(n) => n.to_string(),
                        Err(e) => e.clone(),
                    })
                    .collect();
                Some(Frame::rejected(format!(
                    "{} Content-Length headers that disagree ({}); the body is skipped up to the next header",
                    lengths.len(),
                    values.join(", ")
                )))
            }
        }
    }

    /// Reads a body of `n` bytes (see the module documentation for a wrong `n`).
    async fn body(&mut self, n: usize) -> Option<Frame> {
        // Room for the whole body at once (not doubling up to it).
        self.buf.reserve(n.saturating_sub(self.pending().len()));
        while self.pending().len() < n {
            match tokio::time::timeout(self.stall, self.fill()).await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(_) => {
                    if let Some(frame) = self.overlong(n) {
                        return Some(frame);
                    }
                    // A slow client: wait for the rest of the body.
                    if !self.fill().await {
                        return None;
                    }
                }
            }
        }
        let whole = serde_json::from_slice::<serde::de::IgnoredAny>(
            self.pending().get(..n).unwrap_or_default(),
        )
        .is_ok();
        if !whole {
            if let Some(frame) = self.overlong(n) {
                return Some(frame);
            }
        }
        let body = self.pending().get(..n).unwrap_or_default().to_vec();
        self.consume(n);
        Some(Frame::Body(body))
    }

    /// When the pending bytes start with a whole JSON value shorter than the declared length
    /// `n` (followed by other bytes, or by nothing for a while): the frame is rejected and only
    /// the value is consumed.
    fn overlong(&mut self, n: usize) -> Option<Frame> {
        let (end, value) = leading_value(self.pending())?;
        if end >= n {
            return None;
        }
        self.consume(end);
        Some(Frame::Rejected {
            reason: format!(
                "Content-Length {n} is longer than the message ({end} bytes); the message was not handled"
            ),
            id: request_id(&value),
        })
    }
}

/// Frames a body.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = FrameReader::new(input);
        let mut out = Vec::new();
        while let Some(f) = r.read().await {
            out.push(f);
        }
        out
    }

    fn body(s: &str) -> Frame {
        Frame::Body(s.as_bytes().to_vec())
    }

    const A: &str = r#"{"jsonrpc":"2.0","id":1,"method":"a"}"#;
    const B: &str = r#"{"jsonrpc":"2.0","id":2,"method":"b"}"#;

    fn framed(declared: usize, body: &str) -> String {
        format!("Content-Length: {declared}\r\n\r\n{body}")
    }

    #[tokio::test]
    async fn frames_are_read_past_junk_headers() {
        let input = b"Content-Length: 2\r\n\r\n{}X-Junk\r\n\r\n\r\nContent-Type: x\r\ncontent-length:3\r\n\r\n[1]Content-Length: nope\r\n\r\n";
        assert_eq!(
            frames(input).await,
            [
                body("{}"),
                Frame::rejected("no Content-Length header"),
                body("[1]"),
                Frame::rejected("invalid Content-Length `nope`"),
            ]
        );
        // A body cut short by the end of the input ends the stream.
        assert_eq!(frames(b"Content-Length: 10\r\n\r\n{}").await, []);
        assert_eq!(
            frames(b"Content-Length: 99999999999\r\n\r\n").await,
            [Frame::rejected("Content-Length 99999999999 is too large")]
        );
    }

    #[tokio::test]
    async fn a_short_length_cuts_the_body_and_the_next_frame_is_found() {
        let input = framed(A.len() - 5, A) + &framed(B.len(), B);
        let got = frames(input.as_bytes()).await;
        assert_eq!(got, [body(&A[..A.len() - 5]), body(B)]);
    }

    #[tokio::test]
    async fn a_long_length_rejects_the_message_and_gives_back_the_next_frame() {
        for extra in [1, 5, 19, 30, 60] {
            let input = framed(A.len() + extra, A) + &framed(B.len(), B) + &framed(2, "{}");
            let got = frames(input.as_bytes()).await;
            assert_eq!(
                got,
                [
                    Frame::Rejected {
                        reason: format!(
                            "Content-Length {} is longer than the message ({} bytes); the message was not handled",
                            A.len() + extra,
                            A.len()
                        ),
                        id: json!(1)
                    },
                    body(B),
                    body("{}"),
                ],
                "{extra} bytes too long"
            );
        }
    }

    #[tokio::test]
    async fn a_long_length_on_the_last_frame_is_rejected_after_a_stall() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut r = FrameReader::with_stall(server, Duration::from_millis(50));
        use tokio::io::AsyncWriteExt;
        client
            .write_all(framed(A.len() + 5, A).as_bytes())
            .await
            .unwrap();
        let f = r.read().await.unwrap();
        assert!(
            matches!(&f, Frame::Rejected { id, .. } if *id == json!(1)),
            "{f:?}"
        );
        client
            .write_all(framed(B.len(), B).as_bytes())
            .await
            .unwrap();
        assert_eq!(r.read().await, Some(body(B)));
    }

    #[tokio::test]
    async fn a_slow_body_is_waited_for() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut r = FrameReader::with_stall(server, Duration::from_millis(20));
        use tokio::io::AsyncWriteExt;
        let whole = framed(A.len(), A);
        let (first, second) = whole.split_at(whole.len() - 3);
        let second = second.to_string();
        client.write_all(first.as_bytes()).await.unwrap();
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            client.write_all(second.as_bytes()).await.unwrap();
            client
        });
        assert_eq!(r.read().await, Some(body(A)));
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn two_lengths_reject_the_frame_and_reading_goes_on() {
        let same = format!(
            "Content-Length: {0}\r\nContent-Length: {0}\r\n\r\n{A}",
            A.len()
        );
        let input = same + &framed(B.len(), B);
        assert_eq!(
            frames(input.as_bytes()).await,
            [
                Frame::Rejected {
                    reason: "2 Content-Length headers".to_string(),
                    id: json!(1)
                },
                body(B)
            ]
        );
        let differ = format!(
            "Content-Length: {}\r\nContent-Length: {}\r\n\r\n{A}",
            A.len(),
            A.len() + 7
        );
        let input = differ + &framed(B.len(), B);
        let got = frames(input.as_bytes()).await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            matches!(&got[0], Frame::Rejected { id, reason } if id.is_null() && reason.contains("disagree"))
        );
        assert_eq!(got[1], body(B));
    }

    #[tokio::test]
    async fn a_header_after_a_very_long_junk_line_is_found() {
        let junk = "x".repeat(3 * MAX_HEADER_LINE + 17);
        let input = format!("Content-Length: 3\r\n\r\n[1]{junk}") + &framed(B.len(), B);
        assert_eq!(frames(input.as_bytes()).await, [body("[1]"), body(B)]);
    }

    #[tokio::test]
    async fn the_buffer_is_given_back_after_a_large_frame() {
        let big = format!("[\"{}\"]", "x".repeat(8 * RETAINED));
        let input = framed(big.len(), &big) + &framed(B.len(), B);
        let mut r = FrameReader::new(input.as_bytes());
        assert!(matches!(r.read().await, Some(Frame::Body(b)) if b.len() == big.len()));
        assert!(r.buf.capacity() <= RETAINED, "{}", r.buf.capacity());
        assert_eq!(r.read().await, Some(body(B)));
    }

    #[test]
    fn header_lines() {
        assert_eq!(header("Content-Length: 12"), Header::Length(Ok(12), 0));
        assert_eq!(header("content-length:3"), Header::Length(Ok(3), 0));
        assert_eq!(header("x\"}}Content-Length: 7"), Header::Length(Ok(7), 4));
        assert_eq!(header("Content-Type: text"), Header::Other);
        assert_eq!(header("X-Junk: 1"), Header::Other);
        assert_eq!(header("content-lengthy"), Header::Other);
    }
}
