//! One RTMP client connection: a [`ClientSession`] (the sans-IO protocol
//! core) over a tokio `TcpStream`.
//!
//! Built to be cheap at thousands of connections per core:
//! - no per-connection read buffer: reads land in one thread-local buffer
//!   and go straight into the session's decoder, inside the poll, so the
//!   buffer is never held across an await;
//! - one long-lived timer per connection, polled beside the socket, instead
//!   of a fresh timeout per read;
//! - writes are vectored straight from the session's queued pieces.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use rtmp_proto::session::{ClientConfig, ClientSession, SessionError};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use media_core::flv::FlvError;

/// The shared read buffer's size. A read goes whole into the session's
/// chunk decoder, whose buffer keeps the capacity of the largest read it
/// took: 16 KiB keeps a player at about 40 KB with a merged-write server
/// (64 KiB cost about 70 KB), and [`MAX_READS_PER_WAKE`] reads per wakeup
/// still drain 64 KiB.
pub const READ_BUF_LEN: usize = 16 * 1024;
/// Reads per wakeup before yielding, so one fast connection cannot starve
/// the others on the same thread.
pub const MAX_READS_PER_WAKE: usize = 4;
/// Pieces per vectored write (Linux `UIO_MAXIOV` is 1024; a video frame
/// cut into 4 KiB chunks needs a few dozen).
pub const MAX_IOV: usize = 64;

thread_local! {
    static READ_BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_BUF_LEN].into_boxed_slice());
}

/// Why a client session ended early.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// Socket error.
    #[error("io: {0}")]
    Io(#[from] io::Error),
    /// RTMP protocol error.
    #[error("rtmp: {0}")]
    Session(#[from] SessionError),
    /// The server closed the connection.
    #[error("closed by the server")]
    Closed,
    /// The server said no (connect, publish or play rejected; HTTP status).
    #[error("refused: {0}")]
    Refused(String),
    /// The connection did not open before the session's end.
    #[error("connect timed out")]
    Timeout,
    /// HTTP protocol error.
    #[error("http: {0}")]
    Http(String),
    /// The HTTP-FLV body is not FLV.
    #[error("flv: {0}")]
    Flv(#[from] FlvError),
    /// A playlist that does not parse or points elsewhere.
    #[error("hls: {0}")]
    Hls(String),
    /// A response body (get mode) longer than `--max-body`.
    #[error("body over the {limit}-byte cap (--max-body)")]
    BodyTooLarge {
        /// The cap.
        limit: u64,
    },
}

/// What [`RtmpConn::next`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// This many bytes arrived and went through the session; drain its events.
    Data(usize),
    /// The timer fired.
    Timer,
}

/// A client session on a TCP connection.
#[derive(Debug)]
pub struct RtmpConn {
    stream: TcpStream,
    /// The protocol state machine: issue commands on it, drain its events.
    pub session: ClientSession,
    out: Vec<Bytes>,
}

impl RtmpConn {
    /// Connects to `addr` and starts a session (C0C1 queued; call
    /// [`flush`](Self::flush)).
    pub async fn connect(
        addr: SocketAddr,
        config: ClientConfig,
        seed: [u8; 32],
    ) -> Result<Self, ConnError> {
        let stream = TcpStream::connect(addr).await?;
        // Commands and acks are small and latency-bound.
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            session: ClientSession::new(config, 0, seed),
            out: Vec::new(),
        })
    }

    /// Waits for input or the timer. Input is read (up to
    /// [`MAX_READS_PER_WAKE`] reads) and fed to the session at `now_ms()`
    /// before this returns, so its events are ready. While `hold` (if any)
    /// has not elapsed, the socket is left alone: what arrives meanwhile is
    /// read at once afterwards, in fewer, larger reads.
    pub async fn next(
        &mut self,
        mut timer: Pin<&mut Sleep>,
        mut hold: Option<Pin<&mut Sleep>>,
        now_ms: impl Fn() -> u64,
    ) -> Result<Wake, ConnError> {
        poll_fn(|cx| {
            if let Some(hold) = hold.as_mut() {
                if hold.as_mut().poll(cx).is_pending() {
                    return timer.as_mut().poll(cx).map(|()| Ok(Wake::Timer));
                }
            }
            let mut total = 0usize;
            let read = READ_BUF.with(|buf| -> Result<(), ConnError> {
                let mut buf = buf.borrow_mut();
                for _ in 0..MAX_READS_PER_WAKE {
                    let mut rb = ReadBuf::new(&mut buf[..]);
                    match Pin::new(&mut self.stream).poll_read(cx, &mut rb) {
                        Poll::Ready(Ok(())) => {
                            let data = rb.filled();
                            if data.is_empty() {
                                return Err(ConnError::Closed);
                            }
                            total += data.len();
                            self.session.handle_input(now_ms(), data)?;
                        }
                        Poll::Ready(Err(e)) => return Err(e.into()),
                        Poll::Pending => break,
                    }
                }
                Ok(())
            });
            if let Err(e) = read {
                return Poll::Ready(Err(e));
            }
            if total > 0 {
                return Poll::Ready(Ok(Wake::Data(total)));
            }
            timer.as_mut().poll(cx).map(|()| Ok(Wake::Timer))
        })
        .await
    }

    /// Writes everything the session has queued; returns the bytes written.
    pub async fn flush(&mut self) -> io::Result<u64> {
        self.session.poll_transmit(&mut self.out);
        let mut first = 0usize;
        let mut offset = 0usize;
        let mut written = 0u64;
        while first < self.out.len() {
            let n = poll_fn(|cx| {
                let mut slices = [IoSlice::new(&[]); MAX_IOV];
                let mut count = 0;
                for (slot, piece) in slices.iter_mut().zip(self.out.iter().skip(first)) {
                    let bytes = if count == 0 {
                        piece.get(offset..).unwrap_or_default()
                    } else {
                        piece.as_ref()
                    };
                    *slot = IoSlice::new(bytes);
                    count += 1;
                }
                let slices = slices.get(..count).unwrap_or_default();
                Pin::new(&mut self.stream).poll_write_vectored(cx, slices)
            })
            .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            written += n as u64;
            // Advance past what was written.
            let mut left = n;
            while left > 0 {
                let Some(piece) = self.out.get(first) else {
                    break;
                };
                let rest = piece.len().saturating_sub(offset);
                if left >= rest {
                    left -= rest;
                    first += 1;
                    offset = 0;
                } else {
                    offset += left;
                    left = 0;
                }
            }
        }
        self.out.clear();
        Ok(written)
    }

    /// Whether the session has bytes to send.
    pub fn wants_flush(&self) -> bool {
        self.session.has_transmit()
    }
}
