//! Test-only runtime: `server_core::Runtime` on tokio, for in-process
//! end-to-end tests of server-core (the production backend lives in
//! `server-tokio`, which depends on this crate and so can't be used here).

#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use server_core::fs::{BlockingJob, BlockingPool, StdFs};
use server_core::runtime::{BoxFuture, Connection, FileSystem, Listener, Runtime};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

/// The runtime. Create it inside a tokio runtime.
#[derive(Debug)]
pub struct TestRuntime {
    start: Instant,
    fs: Arc<StdFs>,
}

impl TestRuntime {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            fs: Arc::new(StdFs::new(Arc::new(Blocking))),
        })
    }
}

struct Blocking;

impl BlockingPool for Blocking {
    fn run(&self, job: BlockingJob) -> BoxFuture<'static, io::Result<Bytes>> {
        let handle = tokio::task::spawn_blocking(job);
        Box::pin(async move { handle.await.map_err(io::Error::other)? })
    }
}

impl Runtime for TestRuntime {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        tokio::spawn(future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn unix_time_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    fn random_seed(&self) -> [u8; 32] {
        [42; 32]
    }

    fn bind(&self, addr: SocketAddr) -> io::Result<Box<dyn Listener>> {
        let std = server_core::net::bind_tcp(addr)?;
        Ok(Box::new(TestListener(tokio::net::TcpListener::from_std(
            std,
        )?)))
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Connection>>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            Ok(Box::new(TestConn(stream.compat())) as Box<dyn Connection>)
        })
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }
}

pub struct TestListener(pub tokio::net::TcpListener);

impl Listener for TestListener {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    fn accept(&self) -> BoxFuture<'_, io::Result<(Box<dyn Connection>, SocketAddr)>> {
        Box::pin(async move {
            let (stream, peer) = self.0.accept().await?;
            Ok((
                Box::new(TestConn(stream.compat())) as Box<dyn Connection>,
                peer,
            ))
        })
    }
}

/// A tokio stream through `futures-io`, vectored writes passed through.
pub struct TestConn(pub Compat<tokio::net::TcpStream>);

impl futures_io::AsyncRead for TestConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for TestConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl Connection for TestConn {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.0.get_ref().set_nodelay(on)
    }
}

/// A fresh empty directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("server-core-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
