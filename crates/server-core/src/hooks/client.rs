//! A small HTTP/1.1 client for hooks: one request per connection
//! (`Connection: close`), the answer framed by `Content-Length`, chunked
//! transfer coding, or the end of the connection (RFC 9112 6.3), and every
//! part of the answer bounded.
//!
//! The parsers are pure functions over bytes ([`parse_response_head`],
//! [`ChunkedDecoder`]) so they can be fuzzed; [`exchange`] drives them over
//! any `futures-io` stream, plain or TLS. Time limits are the caller's.

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{AsyncReadExt, AsyncWriteExt};

/// Largest response head (status line and headers), bytes.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest response body a hook may answer with, bytes. SRS answers are a
/// few bytes (`0`, `{"code":0}`); a larger one is refused, not truncated.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most interim (1xx) responses skipped before the final one.
pub const MAX_INTERIM_RESPONSES: usize = 8;
/// Most headers in one response head.
pub const MAX_HEADERS: usize = 100;
/// Longest chunk-size line, extensions included (RFC 9112 7.1.1).
pub const MAX_CHUNK_LINE_BYTES: usize = 1024;
/// Most trailer bytes after the last chunk.
pub const MAX_TRAILER_BYTES: usize = 8 * 1024;

/// How the body of a response is delimited (RFC 9112 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (204, 304).
    Empty,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: ... chunked`.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code (100 to 999).
    pub status: u16,
    /// How the body is delimited.
    pub framing: Framing,
    /// Bytes of the head, its blank line included.
    pub len: usize,
}

/// Why a response head was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// No blank line within [`MAX_HEAD_BYTES`].
    #[error("response head larger than {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    /// Not `HTTP/1.x NNN ...`.
    #[error("bad status line")]
    StatusLine,
    /// A header line without a name and a colon, or a folded line.
    #[error("bad header line")]
    Header,
    /// More than [`MAX_HEADERS`] headers.
    #[error("more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    /// A `Content-Length` that is not a number, or several that disagree.
    #[error("bad Content-Length")]
    ContentLength,
}

/// Parses a response head at the start of `buf`: `Ok(None)` until its blank
/// line has arrived. Lines may end in CRLF or a bare LF (RFC 9112 2.2).
pub fn parse_response_head(buf: &[u8]) -> Result<Option<ResponseHead>, HeadError> {
    let Some(len) = head_end(buf) else {
        return if buf.len() >= MAX_HEAD_BYTES {
            Err(HeadError::TooLarge)
        } else {
            Ok(None)
        };
    };
    if len > MAX_HEAD_BYTES {
        return Err(HeadError::TooLarge);
    }
    let head = buf.get(..len).unwrap_or_default();
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty());
    let status = status_line(lines.next().unwrap_or_default())?;
    let mut length: Option<u64> = None;
    let mut chunked = None;
    for (n, line) in lines.enumerate() {
        if n >= MAX_HEADERS {
            return Err(HeadError::TooManyHeaders);
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(HeadError::Header)?;
        let (name, value) = line.split_at(colon);
        let value = trim(value.get(1..).unwrap_or_default());
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Err(HeadError::Header);
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            for item in value.split(|&b| b == b',').map(trim) {
                let n = content_length(item)?;
                if length.is_some_and(|l| l != n) {
                    return Err(HeadError::ContentLength);
                }
                length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // Only the last coding decides (RFC 9112 6.3 item 4).
            let last = value
                .split(|&b| b == b',')
                .map(trim)
                .rfind(|c| !c.is_empty());
            chunked = Some(last.is_some_and(|c| c.eq_ignore_ascii_case(b"chunked")));
        }
    }
    let framing = if matches!(status, 100..=199 | 204 | 304) {
        Framing::Empty
    } else {
        match (chunked, length) {
            (Some(true), _) => Framing::Chunked,
            (Some(false), _) => Framing::UntilClose,
            (None, Some(n)) => Framing::Length(n),
            (None, None) => Framing::UntilClose,
        }
    };
    Ok(Some(ResponseHead {
        status,
        framing,
        len,
    }))
}

/// The length of the head up to and including its blank line.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for (i, &b) in buf.iter().enumerate() {
        if b == b'\n' {
            let line = buf.get(line_start..i).unwrap_or_default();
            if line.is_empty() || line == b"\r" {
                // An empty first line is a head without a status line.
                return Some(i + 1);
            }
            line_start = i + 1;
        }
    }
    None
}

fn status_line(line: &[u8]) -> Result<u16, HeadError> {
    let rest = line.strip_prefix(b"HTTP/1.").ok_or(HeadError::StatusLine)?;
    match rest {
        [minor, b' ', a, b, c, tail @ ..]
            if minor.is_ascii_digit()
                && [a, b, c].iter().all(|d| d.is_ascii_digit())
                && (tail.is_empty() || tail.first() == Some(&b' '))
                && *a != b'0' =>
        {
            let digit = |d: &u8| u16::from(d - b'0');
            Ok(digit(a) * 100 + digit(b) * 10 + digit(c))
        }
        _ => Err(HeadError::StatusLine),
    }
}

fn content_length(value: &[u8]) -> Result<u64, HeadError> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(HeadError::ContentLength);
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(HeadError::ContentLength)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// RFC 9110 5.6.2 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Why a chunked body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A chunk-size line that is not hex digits (and extensions).
    #[error("bad chunk size")]
    Size,
    /// A chunk-size line or trailer longer than its limit.
    #[error("chunk line or trailer too long")]
    LineTooLong,
    /// Chunk data not followed by a line end.
    #[error("chunk not followed by CRLF")]
    MissingCrlf,
}

/// Decodes `Transfer-Encoding: chunked` (RFC 9112 7.1) as bytes arrive.
#[derive(Debug, Clone, Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
}

#[derive(Debug, Clone, Default)]
enum ChunkState {
    /// Before the first digit of a chunk-size line.
    #[default]
    Start,
    /// Reading a chunk-size line: the size so far, where in the line, the
    /// line's length.
    Size {
        size: u64,
        part: SizePart,
        line: usize,
    },
    /// Reading `remaining` data bytes.
    Data {
        remaining: u64,
    },
    /// After data: expecting CR LF (or LF).
    DataEnd {
        seen_cr: bool,
    },
    /// After the last chunk: trailer lines until an empty one.
    Trailer {
        line: usize,
        total: usize,
    },
    Done,
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the last chunk and the trailer have been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, ChunkState::Done)
    }

    /// Decodes as much of `input` as it can, appending data to `body`.
    /// Returns how many input bytes were used: all of them unless the body
    /// ended (what follows it is not the body's).
    pub fn feed(&mut self, input: &[u8], body: &mut Vec<u8>) -> Result<usize, ChunkError> {
        let mut i = 0;
        while i < input.len() {
            let b = input.get(i).copied().unwrap_or_default();
            match &mut self.state {
                ChunkState::Done => return Ok(i),
                ChunkState::Start => {
                    let digit = hex_value(b).ok_or(ChunkError::Size)?;
                    self.state = ChunkState::Size {
                        size: u64::from(digit),
                        part: SizePart::Digits,
                        line: 1,
                    };
                    i += 1;
                }
                ChunkState::Size { size, part, line } => {
                    *line += 1;
                    if *line > MAX_CHUNK_LINE_BYTES {
                        return Err(ChunkError::LineTooLong);
                    }
                    i += 1;
                    match (b, *part) {
                        (b'\n', _) => {
                            self.state = if *size == 0 {
                                ChunkState::Trailer { line: 0, total: 0 }
                            } else {
                                ChunkState::Data { remaining: *size }
                            };
                        }
                        (_, SizePart::Digits) if hex_value(b).is_some() => {
                            let d = hex_value(b).unwrap_or_default();
                            *size = size
                                .checked_mul(16)
                                .and_then(|s| s.checked_add(u64::from(d)))
                                .ok_or(ChunkError::Size)?;
                        }
                        (b'\r', SizePart::Digits | SizePart::Space | SizePart::Extension) => {
                            *part = SizePart::Cr;
                        }
                        (b' ' | b'\t', SizePart::Digits | SizePart::Space) => {
                            *part = SizePart::Space
                        }
                        (b';', SizePart::Digits | SizePart::Space) => *part = SizePart::Extension,
                        (_, SizePart::Extension) if b == b'\t' || (b >= 0x20 && b != 0x7f) => {}
                        _ => return Err(ChunkError::Size),
                    }
                }
                ChunkState::Data { remaining } => {
                    let available = input.len() - i;
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(available);
                    body.extend_from_slice(input.get(i..i + take).unwrap_or_default());
                    i += take;
                    *remaining -= take as u64;
                    if *remaining == 0 {
                        self.state = ChunkState::DataEnd { seen_cr: false };
                    }
                }
                ChunkState::DataEnd { seen_cr } => {
                    i += 1;
                    match b {
                        b'\r' if !*seen_cr => *seen_cr = true,
                        b'\n' => self.state = ChunkState::Start,
                        _ => return Err(ChunkError::MissingCrlf),
                    }
                }
                ChunkState::Trailer { line, total } => {
                    i += 1;
                    *total += 1;
                    if *total > MAX_TRAILER_BYTES {
                        return Err(ChunkError::LineTooLong);
                    }
                    match b {
                        b'\n' if *line == 0 => self.state = ChunkState::Done,
                        b'\n' => *line = 0,
                        b'\r' => {}
                        _ => *line += 1,
                    }
                }
            }
        }
        Ok(i)
    }
}

/// Where a chunk-size line is: `SIZE [BWS] [; extensions] CRLF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SizePart {
    Digits,
    Space,
    Extension,
    Cr,
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// What to do with a body larger than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// Fail: a hook answer must be whole to be judged.
    Refuse,
    /// Stop reading there (`on_hls_notify` reads `hls_nb_notify` bytes).
    Stop,
}

/// A response: status and (bounded) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Head(#[from] HeadError),
    #[error("{0}")]
    Chunk(#[from] ChunkError),
    #[error("connection closed before the response head")]
    NoHead,
    #[error("connection closed inside the body")]
    Truncated,
    #[error("body larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("more than {MAX_INTERIM_RESPONSES} interim responses")]
    TooManyInterim,
    #[error("unexpected status 101 (switching protocols)")]
    Switching,
}

/// Writes `request` (a whole HTTP/1.1 request) and reads the response,
/// keeping at most `limit` body bytes.
pub(crate) async fn exchange<S>(
    stream: &mut S,
    request: &[u8],
    limit: usize,
    overflow: Overflow,
) -> Result<Response, ExchangeError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    stream.write_all(request).await?;
    stream.flush().await?;

    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut scratch = [0u8; 4096];
    let mut interim = 0;
    let head = loop {
        match parse_response_head(&buf)? {
            Some(head) if head.status == 101 => return Err(ExchangeError::Switching),
            Some(head) if head.status < 200 => {
                interim += 1;
                if interim > MAX_INTERIM_RESPONSES {
                    return Err(ExchangeError::TooManyInterim);
                }
                buf.drain(..head.len);
                continue;
            }
            Some(head) => break head,
            None => {}
        }
        let n = stream.read(&mut scratch).await?;
        if n == 0 {
            return Err(ExchangeError::NoHead);
        }
        buf.extend_from_slice(scratch.get(..n).unwrap_or_default());
    };
    buf.drain(..head.len);
    let mut body = Vec::new();
    // Returns true when the body is complete or the limit stops it.
    let take = |input: &[u8], body: &mut Vec<u8>, decoder: &mut Option<ChunkedDecoder>| {
        match decoder {
            Some(d) => {
                d.feed(input, body)?;
            }
            None => body.extend_from_slice(input),
        }
        if body.len() > limit {
            if overflow == Overflow::Refuse {
                return Err(ExchangeError::BodyTooLarge(limit));
            }
            body.truncate(limit);
            return Ok(true);
        }
        Ok::<bool, ExchangeError>(decoder.as_ref().is_some_and(ChunkedDecoder::is_done))
    };
    let mut decoder = (head.framing == Framing::Chunked).then(ChunkedDecoder::new);
    match head.framing {
        Framing::Empty => {}
        Framing::Length(n) => {
            if n > limit as u64 && overflow == Overflow::Refuse {
                return Err(ExchangeError::BodyTooLarge(limit));
            }
            let want = usize::try_from(n).unwrap_or(usize::MAX).min(limit);
            buf.truncate(want);
            body = buf;
            while body.len() < want {
                let n = stream.read(&mut scratch).await?;
                if n == 0 {
                    return Err(ExchangeError::Truncated);
                }
                let room = want - body.len();
                body.extend_from_slice(scratch.get(..n.min(room)).unwrap_or_default());
            }
        }
        Framing::Chunked | Framing::UntilClose => {
            let mut done = take(&buf, &mut body, &mut decoder)?;
            while !done {
                let n = stream.read(&mut scratch).await?;
                if n == 0 {
                    if head.framing == Framing::Chunked {
                        return Err(ExchangeError::Truncated);
                    }
                    break;
                }
                done = take(
                    scratch.get(..n).unwrap_or_default(),
                    &mut body,
                    &mut decoder,
                )?;
            }
        }
    }
    Ok(Response {
        status: head.status,
        body,
    })
}

/// An HTTP/1.1 request with `Connection: close`: `POST` with a JSON body,
/// or `GET` when `body` is `None`.
pub(crate) fn request(host: &str, target: &str, json: Option<&str>) -> Vec<u8> {
    let agent = concat!("rtmp-server/", env!("CARGO_PKG_VERSION"));
    let mut out = match json {
        Some(body) => format!(
            "POST {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\n\
             Accept: */*\r\nConnection: close\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        ),
        None => format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\n\
             Accept: */*\r\nConnection: close\r\n\r\n"
        ),
    }
    .into_bytes();
    if let Some(body) = json {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Option<ResponseHead>, HeadError> {
        parse_response_head(text.as_bytes())
    }

    fn framing(text: &str) -> Framing {
        head(text).unwrap().unwrap().framing
    }

    #[test]
    fn heads_are_parsed_once_complete() {
        assert_eq!(head(""), Ok(None));
        assert_eq!(head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"), Ok(None));
        let text = "HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\n{\"code\":0}\r\n";
        assert_eq!(
            head(text),
            Ok(Some(ResponseHead {
                status: 201,
                framing: Framing::Length(12),
                len: text.len() - 12
            }))
        );
        // Bare LF, HTTP/1.0, no reason phrase.
        assert_eq!(
            head("HTTP/1.0 200\nX: y\n\nbody"),
            Ok(Some(ResponseHead {
                status: 200,
                framing: Framing::UntilClose,
                len: 19
            }))
        );
    }

    #[test]
    fn framing_follows_rfc_9112() {
        assert_eq!(framing("HTTP/1.1 200 OK\r\n\r\n"), Framing::UntilClose);
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\ncontent-length:  0 \r\n\r\n"),
            Framing::Length(0)
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n"),
            Framing::Length(5)
        );
        assert_eq!(
            framing(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 5\r\n\r\n"
            ),
            Framing::Chunked
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            Framing::UntilClose
        );
        assert_eq!(
            framing("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
            Framing::Empty
        );
        assert_eq!(framing("HTTP/1.1 100 Continue\r\n\r\n"), Framing::Empty);
    }

    #[test]
    fn bad_heads_are_refused() {
        for (text, error) in [
            ("HTTP/2 200\r\n\r\n", HeadError::StatusLine),
            ("HTTP/1.1 20 OK\r\n\r\n", HeadError::StatusLine),
            ("HTTP/1.1 2000 OK\r\n\r\n", HeadError::StatusLine),
            ("HTTP/1.1 099 OK\r\n\r\n", HeadError::StatusLine),
            ("http/1.1 200 OK\r\n\r\n", HeadError::StatusLine),
            ("\r\n\r\n", HeadError::StatusLine),
            ("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", HeadError::Header),
            ("HTTP/1.1 200 OK\r\n: v\r\n\r\n", HeadError::Header),
            ("HTTP/1.1 200 OK\r\nA b: v\r\n\r\n", HeadError::Header),
            (
                "HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
                HeadError::Header,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                HeadError::ContentLength,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                HeadError::ContentLength,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                HeadError::ContentLength,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
                HeadError::ContentLength,
            ),
        ] {
            assert_eq!(head(text), Err(error), "{text:?}");
        }
        let many = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(head(&many), Err(HeadError::TooManyHeaders));
        let huge = format!("HTTP/1.1 200 OK\r\nA: {}", "x".repeat(MAX_HEAD_BYTES));
        assert_eq!(head(&huge), Err(HeadError::TooLarge));
        let huge_complete = format!("{huge}\r\n\r\n");
        assert_eq!(head(&huge_complete), Err(HeadError::TooLarge));
    }

    fn dechunk(input: &[u8], piece: usize) -> Result<(Vec<u8>, usize, bool), ChunkError> {
        let mut d = ChunkedDecoder::new();
        let mut body = Vec::new();
        let mut used = 0;
        for part in input.chunks(piece.max(1)) {
            let n = d.feed(part, &mut body)?;
            used += n;
            if n < part.len() {
                break;
            }
        }
        Ok((body, used, d.is_done()))
    }

    #[test]
    fn chunked_bodies_decode_in_any_pieces() {
        let input = b"4;ext=\"x\"\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\nafter";
        for piece in [1, 2, 3, 7, input.len()] {
            let (body, used, done) = dechunk(input, piece).unwrap();
            assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.");
            assert!(done);
            assert_eq!(used, input.len() - b"after".len(), "piece {piece}");
        }
        let (body, _, done) = dechunk(b"2\nab\n0\n\n", 1).unwrap();
        assert_eq!((body.as_slice(), done), (&b"ab"[..], true));
        let (_, _, done) = dechunk(b"2\r\nab\r\n", 3).unwrap();
        assert!(!done);
    }

    #[test]
    fn bad_chunks_are_refused() {
        assert_eq!(dechunk(b"x\r\n", 1), Err(ChunkError::Size));
        assert_eq!(dechunk(b"\r\n", 1), Err(ChunkError::Size));
        assert_eq!(dechunk(b"1 2\r\n", 1), Err(ChunkError::Size));
        assert_eq!(dechunk(b"2\r\nabc\r\n", 1), Err(ChunkError::MissingCrlf));
        assert_eq!(dechunk(b"fffffffffffffffff\r\n", 1), Err(ChunkError::Size));
        let long = format!("1;{}\r\n", "x".repeat(MAX_CHUNK_LINE_BYTES));
        assert_eq!(dechunk(long.as_bytes(), 5), Err(ChunkError::LineTooLong));
        let trailer = format!("0\r\nX: {}\r\n\r\n", "y".repeat(MAX_TRAILER_BYTES));
        assert_eq!(
            dechunk(trailer.as_bytes(), 100),
            Err(ChunkError::LineTooLong)
        );
    }

    /// A stream that answers `answer` (in `piece`-byte reads) and records
    /// what was written.
    struct Canned {
        answer: Vec<u8>,
        at: usize,
        piece: usize,
        written: Vec<u8>,
    }

    impl AsyncRead for Canned {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let n = self.piece.min(buf.len()).min(self.answer.len() - self.at);
            let at = self.at;
            buf[..n].copy_from_slice(&self.answer[at..at + n]);
            self.at += n;
            std::task::Poll::Ready(Ok(n))
        }
    }

    impl AsyncWrite for Canned {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.written.extend_from_slice(buf);
            std::task::Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    fn run(
        answer: &[u8],
        piece: usize,
        limit: usize,
        overflow: Overflow,
    ) -> Result<Response, ExchangeError> {
        let mut s = Canned {
            answer: answer.to_vec(),
            at: 0,
            piece,
            written: Vec::new(),
        };
        futures_util::FutureExt::now_or_never(exchange(
            &mut s,
            b"GET / HTTP/1.1\r\n\r\n",
            limit,
            overflow,
        ))
        .expect("canned streams never wait")
    }

    #[test]
    fn exchanges_read_every_framing() {
        for piece in [1, 5, 4096] {
            let r = run(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n0trailing",
                piece,
                64,
                Overflow::Refuse,
            )
            .unwrap();
            assert_eq!((r.status, r.body.as_slice()), (200, &b"0"[..]));
            let r = run(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"c\r\n2\r\n\"}\r\n0\r\n\r\n", piece, 64, Overflow::Refuse).unwrap();
            assert_eq!((r.status, r.body.as_slice()), (201, &b"{\"c\"}"[..]));
            let r = run(
                b"HTTP/1.0 500 Oops\r\n\r\nbroken",
                piece,
                64,
                Overflow::Refuse,
            )
            .unwrap();
            assert_eq!((r.status, r.body.as_slice()), (500, &b"broken"[..]));
        }
    }

    #[test]
    fn exchanges_bound_and_detect_truncation() {
        let big = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}",
            "x".repeat(100)
        );
        assert!(matches!(
            run(big.as_bytes(), 7, 10, Overflow::Refuse),
            Err(ExchangeError::BodyTooLarge(10))
        ));
        let r = run(big.as_bytes(), 7, 10, Overflow::Stop).unwrap();
        assert_eq!(r.body.len(), 10);
        let endless = format!("HTTP/1.1 200 OK\r\n\r\n{}", "x".repeat(100));
        assert!(matches!(
            run(endless.as_bytes(), 7, 10, Overflow::Refuse),
            Err(ExchangeError::BodyTooLarge(10))
        ));
        assert_eq!(
            run(endless.as_bytes(), 7, 10, Overflow::Stop)
                .unwrap()
                .body
                .len(),
            10
        );
        let chunky = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n{}\r\n0\r\n\r\n",
            "x".repeat(100)
        );
        assert!(matches!(
            run(chunky.as_bytes(), 7, 10, Overflow::Refuse),
            Err(ExchangeError::BodyTooLarge(10))
        ));
        assert!(matches!(
            run(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n0",
                3,
                64,
                Overflow::Refuse
            ),
            Err(ExchangeError::Truncated)
        ));
        assert!(matches!(
            run(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n0",
                3,
                64,
                Overflow::Refuse
            ),
            Err(ExchangeError::Truncated)
        ));
        assert!(matches!(
            run(b"HTTP/1.1 200", 3, 64, Overflow::Refuse),
            Err(ExchangeError::NoHead)
        ));
        assert!(matches!(
            run(b"", 3, 64, Overflow::Refuse),
            Err(ExchangeError::NoHead)
        ));
        assert!(matches!(
            run(b"HTTP/1.1 101 Switching\r\n\r\n", 3, 64, Overflow::Refuse),
            Err(ExchangeError::Switching)
        ));
        let interims = "HTTP/1.1 102 Processing\r\n\r\n".repeat(MAX_INTERIM_RESPONSES + 1);
        assert!(matches!(
            run(interims.as_bytes(), 4096, 64, Overflow::Refuse),
            Err(ExchangeError::TooManyInterim)
        ));
    }

    #[test]
    fn requests_are_http_1_1_with_connection_close() {
        let post = String::from_utf8(request("h:8085", "/hook?x=1", Some("{\"a\":1}"))).unwrap();
        assert_eq!(
            post,
            format!(
                "POST /hook?x=1 HTTP/1.1\r\nHost: h:8085\r\nUser-Agent: rtmp-server/{}\r\nAccept: */*\r\n\
                 Connection: close\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{{\"a\":1}}",
                env!("CARGO_PKG_VERSION")
            )
        );
        let get = String::from_utf8(request("h", "/", None)).unwrap();
        assert!(get.starts_with("GET / HTTP/1.1\r\nHost: h\r\n"));
        assert!(get.ends_with("Connection: close\r\n\r\n"));
    }
}
