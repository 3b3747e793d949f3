//! `server_core::Runtime` on tokio: the whole adapter.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use server_core::file_workers::{FileWorkers, FILE_WORKER_THREADS};
use server_core::fs::StdFs;
use server_core::process::{ChildProcess, ExitInfo, ProcessSpec, StopSignal};
use server_core::runtime::{
    BoxFuture, Connection, FileSystem, Listener, ReadHalf, Runtime, WriteHalf,
};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

/// Tokio-backed runtime. Must be created inside a tokio runtime context.
#[derive(Debug)]
pub struct TokioRuntime {
    start: Instant,
    fs: Arc<StdFs>,
}

impl TokioRuntime {
    /// A runtime using the current tokio handle.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            // File work on a few threads of its own, however many streams
            // write at once (issue 22).
            fs: Arc::new(StdFs::new(Arc::new(FileWorkers::new(FILE_WORKER_THREADS)))),
        })
    }
}

impl Runtime for TokioRuntime {
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
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn random_seed(&self) -> [u8; 32] {
        let mut seed = [0u8; 32];
        // An OS RNG failure only weakens handshake filler, which needs no secrecy.
        let _ = getrandom::getrandom(&mut seed);
        seed
    }

    fn bind(&self, addr: SocketAddr) -> io::Result<Box<dyn Listener>> {
        let std = server_core::net::bind_tcp(addr)?;
        Ok(Box::new(TokioListener(tokio::net::TcpListener::from_std(
            std,
        )?)))
    }

    fn adopt_listener(&self, listener: std::net::TcpListener) -> io::Result<Box<dyn Listener>> {
        listener.set_nonblocking(true)?;
        Ok(Box::new(TokioListener(tokio::net::TcpListener::from_std(
            listener,
        )?)))
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Connection>>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            Ok(Box::new(TokioConn::new(stream)) as Box<dyn Connection>)
        })
    }

    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let host = host.to_owned();
        Box::pin(async move {
            // The system resolver on tokio's blocking pool.
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn spawn_process(&self, spec: &ProcessSpec) -> io::Result<Box<dyn ChildProcess>> {
        Self::spawn_child(spec)
    }
}

struct TokioListener(tokio::net::TcpListener);

impl Listener for TokioListener {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    fn try_clone_std(&self) -> io::Result<std::net::TcpListener> {
        use std::os::fd::AsFd;
        Ok(std::net::TcpListener::from(
            self.0.as_fd().try_clone_to_owned()?,
        ))
    }

    fn accept(&self) -> BoxFuture<'_, io::Result<(Box<dyn Connection>, SocketAddr)>> {
        Box::pin(async move {
            let (stream, peer) = self.0.accept().await?;
            Ok((
                Box::new(TokioConn::new(stream)) as Box<dyn Connection>,
                peer,
            ))
        })
    }
}

/// A tokio stream seen through `futures-io`.
pub struct TokioConn(Compat<tokio::net::TcpStream>);

impl TokioConn {
    /// Wraps an accepted or connected tokio stream.
    pub fn new(stream: tokio::net::TcpStream) -> Self {
        Self(stream.compat())
    }
}

impl futures_io::AsyncRead for TokioConn {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for TokioConn {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    /// Straight to tokio's `writev`: `Compat` does not forward vectored writes,
    /// so going through it would send one piece per syscall (and, with Nagle,
    /// wait on delayed ACKs between them).
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write_vectored(std::pin::Pin::new(self.0.get_mut()), cx, bufs)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_close(cx)
    }
}

impl Connection for TokioConn {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.0.get_ref().set_nodelay(on)
    }

    /// tokio's owned halves: an `Arc` of the stream and no lock between them.
    fn into_halves(self: Box<Self>) -> (ReadHalf, Box<dyn WriteHalf>) {
        let (read, write) = self.0.into_inner().into_split();
        (Box::new(read.compat()), Box::new(TokioWrite(write)))
    }
}

/// The write half of a [`TokioConn`], vectored writes included.
struct TokioWrite(tokio::net::tcp::OwnedWriteHalf);

impl futures_io::AsyncWrite for TokioWrite {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(std::pin::Pin::new(&mut self.0), cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write_vectored(std::pin::Pin::new(&mut self.0), cx, bufs)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(std::pin::Pin::new(&mut self.0), cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(std::pin::Pin::new(&mut self.0), cx)
    }
}

impl WriteHalf for TokioWrite {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.0.as_ref().set_nodelay(on)
    }
}

/// A child process on tokio: its own process group, killed when the server
/// ends (see `server_core::process` and [`server_os::death_signal`]).
struct TokioChild {
    child: tokio::process::Child,
    pid: u32,
    stderr: Option<server_core::process::LineReader<Compat<tokio::process::ChildStderr>>>,
    reaped: bool,
}

impl TokioRuntime {
    fn spawn_child(spec: &ProcessSpec) -> io::Result<Box<dyn ChildProcess>> {
        let mut cmd = server_core::process::command(spec)?;
        server_os::death_signal::arm(&mut cmd);
        let mut cmd = tokio::process::Command::from(cmd);
        // A safety net for a handle dropped without a stop: SIGKILL the leader.
        cmd.kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let pid = child.id().unwrap_or(0);
        let stderr = child
            .stderr
            .take()
            .map(|e| server_core::process::LineReader::new(e.compat()));
        Ok(Box::new(TokioChild {
            child,
            pid,
            stderr,
            reaped: false,
        }))
    }
}

impl ChildProcess for TokioChild {
    fn id(&self) -> u32 {
        self.pid
    }

    fn stderr_line(&mut self) -> BoxFuture<'_, io::Result<Option<String>>> {
        Box::pin(async move {
            match self.stderr.as_mut() {
                Some(lines) => lines.next_line().await,
                None => Ok(None),
            }
        })
    }

    fn wait(&mut self) -> BoxFuture<'_, io::Result<ExitInfo>> {
        Box::pin(async move {
            let status = self.child.wait().await?;
            self.reaped = true;
            Ok(ExitInfo::from(status))
        })
    }

    fn signal(&mut self, signal: StopSignal) -> io::Result<()> {
        if self.reaped {
            return Ok(());
        }
        server_core::process::signal_group(self.pid, signal)
    }
}

#[cfg(test)]
mod process_tests {
    use super::*;
    use server_core::process::ProcessLog;

    fn running(marker: &str) -> bool {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(marker))
                    .unwrap_or(false)
            })
    }

    /// Captured stderr comes as bounded lines, and a stop reaches the
    /// child's own children (its process group).
    #[tokio::test]
    async fn stderr_lines_and_group_stop() {
        let marker = format!("31.{}", std::process::id());
        let spec = ProcessSpec {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                format!("echo one >&2; printf 'two\\rthree\\n' >&2; sleep {marker} & wait"),
            ],
            log: ProcessLog::Capture,
        };
        let mut child = TokioRuntime::spawn_child(&spec).expect("spawn sh");
        let mut lines = Vec::new();
        for _ in 0..3 {
            lines.push(child.stderr_line().await.unwrap().unwrap());
        }
        assert_eq!(lines, ["one", "two", "three"]);
        assert!(running(&marker), "sleep not started");
        child.signal(StopSignal::Terminate).unwrap();
        let exit = tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .expect("sh ended")
            .unwrap();
        assert_eq!(exit.signal, Some(15), "{exit}");
        for _ in 0..50 {
            if !running(&marker) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the group's sleep outlived the stop");
    }
}
