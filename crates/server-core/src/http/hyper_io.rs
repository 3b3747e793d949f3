//! The runtime's `futures-io` connection seen through hyper's I/O traits.
//!
//! hyper 1 has its own `Read`/`Write` traits; this adapter forwards to the
//! runtime's stream. Two details:
//! - Reads go through a scratch buffer and are copied into hyper's: the crate
//!   forbids `unsafe`, and filling hyper's uninitialised buffer in place would
//!   need it. Requests are small, so the copy costs nothing that matters. The
//!   scratch buffer is one per thread, not per connection: an HTTP-FLV player
//!   reads nothing for hours, and would hold it all that time.
//! - Writes pass straight through, vectored (hyper then queues response pieces,
//!   HTTP-FLV payloads included, without flattening them), and are watched: a
//!   write or flush that makes no progress for `send_timeout` fails with
//!   `TimedOut`, which ends the connection. That is what drops a player that
//!   stopped reading, whichever response it was receiving.

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;

use crate::runtime::{BoxFuture, Runtime};

/// Bytes read from the socket per call (then copied into hyper's buffer).
pub const READ_CHUNK: usize = 8 * 1024;

thread_local! {
    /// Every connection's reads on this thread land here first.
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_CHUNK].into_boxed_slice());
}

/// A `futures-io` stream as hyper I/O.
pub(crate) struct HyperIo<T> {
    inner: T,
    rt: Arc<dyn Runtime>,
    send_timeout: Duration,
    /// Running while the socket refuses writes; reset by any progress.
    stall: Option<BoxFuture<'static, ()>>,
}

impl<T> HyperIo<T> {
    /// Wraps `inner`; writes stalled for `send_timeout` fail.
    pub(crate) fn new(inner: T, rt: Arc<dyn Runtime>, send_timeout: Duration) -> Self {
        Self {
            inner,
            rt,
            send_timeout,
            stall: None,
        }
    }

    /// Passes a write result through, timing how long the socket stays blocked.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        match result {
            Poll::Pending => {
                let (rt, timeout) = (&self.rt, self.send_timeout);
                let stall = self.stall.get_or_insert_with(|| rt.sleep(timeout));
                match stall.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.stall = None;
                        Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "send stalled: the peer stopped reading",
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
            ready => {
                self.stall = None;
                ready
            }
        }
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        SCRATCH.with(|scratch| {
            // Not re-entered: the read below is a plain poll of the socket.
            let Ok(mut scratch) = scratch.try_borrow_mut() else {
                return Poll::Ready(Err(io::Error::other("scratch buffer busy")));
            };
            let want = buf.remaining().min(scratch.len());
            let Some(scratch) = scratch.get_mut(..want) else {
                return Poll::Ready(Ok(()));
            };
            if scratch.is_empty() {
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut this.inner).poll_read(cx, scratch) {
                Poll::Ready(Ok(n)) => {
                    // `n <= scratch.len()` by the AsyncRead contract; `get` keeps
                    // a misbehaving stream from panicking us.
                    buf.put_slice(scratch.get(..n).unwrap_or_default());
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        // Runtimes pass `poll_write_vectored` through to `writev`; one that
        // doesn't still works (futures-io then writes the first slice).
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_close(cx);
        this.watch(cx, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::{Read, Write};

    /// A stream that accepts nothing and has `data` to read.
    struct Stuck {
        data: Vec<u8>,
    }

    impl AsyncRead for Stuck {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            let n = buf.len().min(this.data.len());
            buf[..n].copy_from_slice(&this.data[..n]);
            this.data.drain(..n);
            Poll::Ready(Ok(n))
        }
    }

    impl AsyncWrite for Stuck {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Pending
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn stalled_write_times_out_when_the_runtime_timer_fires() {
        let rt = crate::http::testing::ManualRuntime::new();
        let mut io = HyperIo::new(
            Stuck { data: Vec::new() },
            rt.clone(),
            Duration::from_secs(30),
        );
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut io).poll_write(&mut cx, b"x").is_pending());
        rt.advance(Duration::from_secs(29));
        assert!(Pin::new(&mut io).poll_write(&mut cx, b"x").is_pending());
        rt.advance(Duration::from_secs(2));
        match Pin::new(&mut io).poll_write(&mut cx, b"x") {
            Poll::Ready(Err(e)) => assert_eq!(e.kind(), io::ErrorKind::TimedOut),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn reads_copy_into_hyper_buffer() {
        let rt = crate::http::testing::ManualRuntime::new();
        let mut io = HyperIo::new(
            Stuck {
                data: b"GET / HTTP/1.1\r\n".to_vec(),
            },
            rt,
            Duration::from_secs(30),
        );
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut storage = [std::mem::MaybeUninit::<u8>::uninit(); 64];
        let mut buf = hyper::rt::ReadBuf::uninit(&mut storage);
        assert!(matches!(
            Pin::new(&mut io).poll_read(&mut cx, buf.unfilled()),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(buf.filled(), b"GET / HTTP/1.1\r\n");
    }
}
