//! A TLS session over a runtime's plain [`Connection`], itself a
//! [`Connection`]: what RTMP code reads and writes whether the bytes go
//! through TLS or not.
//!
//! The runtimes hand out plain TCP connections as `futures-io` streams;
//! `futures-rustls` runs TLS over any such stream, so the same code serves
//! tokio, smol and the simulator. One TLS session is one state machine
//! (records are read and written through the same `rustls` connection), so
//! its halves share it under a lock held only for one poll, never across an
//! await.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use futures_rustls::TlsStream;

use crate::runtime::{Connection, ReadHalf, WriteHalf};

/// The TLS stream over the runtime's connection.
type Inner = TlsStream<Box<dyn Connection>>;

/// A TLS session (server or client side) over a runtime connection.
pub struct TlsConnection {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for TlsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnection").finish_non_exhaustive()
    }
}

impl TlsConnection {
    /// Wraps a stream whose handshake is done (or under way: `futures-rustls`
    /// finishes it on the first read or write).
    pub fn new(stream: impl Into<Inner>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(stream.into())),
        }
    }
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|e| e.into_inner())
}

fn poll_read(
    inner: &Mutex<Inner>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let mut stream = lock(inner);
    Pin::new(&mut *stream).poll_read(cx, buf)
}

fn poll_write(inner: &Mutex<Inner>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    let mut stream = lock(inner);
    Pin::new(&mut *stream).poll_write(cx, buf)
}

fn poll_write_vectored(
    inner: &Mutex<Inner>,
    cx: &mut Context<'_>,
    bufs: &[io::IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let mut stream = lock(inner);
    Pin::new(&mut *stream).poll_write_vectored(cx, bufs)
}

fn poll_flush(inner: &Mutex<Inner>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    let mut stream = lock(inner);
    Pin::new(&mut *stream).poll_flush(cx)
}

fn poll_close(inner: &Mutex<Inner>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    let mut stream = lock(inner);
    Pin::new(&mut *stream).poll_close(cx)
}

fn set_nodelay(inner: &Mutex<Inner>, on: bool) -> io::Result<()> {
    lock(inner).get_ref().0.set_nodelay(on)
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read(&self.inner, cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write(&self.inner, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_write_vectored(&self.inner, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self.inner, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_close(&self.inner, cx)
    }
}

impl Connection for TlsConnection {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        set_nodelay(&self.inner, on)
    }

    fn into_halves(self: Box<Self>) -> (ReadHalf, Box<dyn WriteHalf>) {
        (
            Box::new(TlsReadHalf(self.inner.clone())),
            Box::new(TlsWriteHalf(self.inner)),
        )
    }
}

/// The read half of a [`TlsConnection`].
struct TlsReadHalf(Arc<Mutex<Inner>>);

impl AsyncRead for TlsReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read(&self.0, cx, buf)
    }
}

/// The write half of a [`TlsConnection`].
struct TlsWriteHalf(Arc<Mutex<Inner>>);

impl AsyncWrite for TlsWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write(&self.0, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_write_vectored(&self.0, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self.0, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_close(&self.0, cx)
    }
}

impl WriteHalf for TlsWriteHalf {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        set_nodelay(&self.0, on)
    }
}
