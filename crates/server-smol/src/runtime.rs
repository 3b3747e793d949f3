//! `server_core::Runtime` on smol's building blocks: the whole adapter.
//!
//! One executor thread (plus async-io's reactor and a few file-worker threads for disk
//! writes) keeps the footprint small on ARM boards.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_executor::Executor;
use async_io::Async;
use server_core::file_workers::{FileWorkers, FILE_WORKER_THREADS};
use server_core::fs::StdFs;
use server_core::process::{ChildProcess, ExitInfo, ProcessSpec, StopSignal};
use server_core::runtime::{
    BoxFuture, Connection, FileSystem, Listener, ReadHalf, Runtime, WriteHalf,
};

/// Smol-backed runtime over a shared executor.
#[derive(Debug)]
pub struct SmolRuntime {
    executor: Arc<Executor<'static>>,
    start: Instant,
    fs: Arc<StdFs>,
}

impl SmolRuntime {
    /// A runtime spawning onto `executor` (the caller drives it).
    pub fn new(executor: Arc<Executor<'static>>) -> Arc<Self> {
        Arc::new(Self {
            executor,
            start: Instant::now(),
            // File work on a few threads of its own, however many streams
            // write at once (issue 22).
            fs: Arc::new(StdFs::new(Arc::new(FileWorkers::new(FILE_WORKER_THREADS)))),
        })
    }
}

impl Runtime for SmolRuntime {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        self.executor.spawn(future).detach();
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            async_io::Timer::after(duration).await;
        })
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
        Ok(Box::new(SmolListener(async_net::TcpListener::from(
            Async::new(std)?,
        ))))
    }

    fn adopt_listener(&self, listener: std::net::TcpListener) -> io::Result<Box<dyn Listener>> {
        Ok(Box::new(SmolListener(async_net::TcpListener::from(
            Async::new(listener)?,
        ))))
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Connection>>> {
        Box::pin(async move {
            let stream = async_net::TcpStream::connect(addr).await?;
            Ok(Box::new(SmolConn(stream)) as Box<dyn Connection>)
        })
    }

    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let host = host.to_owned();
        // The system resolver on the `blocking` thread pool.
        Box::pin(async move { async_net::resolve((host.as_str(), port)).await })
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.fs.clone()
    }

    fn spawn_process(&self, spec: &ProcessSpec) -> io::Result<Box<dyn ChildProcess>> {
        spawn_child(spec)
    }
}

struct SmolListener(async_net::TcpListener);

impl Listener for SmolListener {
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
            Ok((Box::new(SmolConn(stream)) as Box<dyn Connection>, peer))
        })
    }
}

/// async-net streams already speak `futures-io`; this only adds `set_nodelay`.
struct SmolConn(async_net::TcpStream);

impl futures_io::AsyncRead for SmolConn {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for SmolConn {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
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

impl Connection for SmolConn {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.0.set_nodelay(on)
    }

    /// Two handles on one socket: async-io keeps separate read and write
    /// wakers, so no lock is needed between them.
    fn into_halves(self: Box<Self>) -> (ReadHalf, Box<dyn WriteHalf>) {
        (Box::new(SmolConn(self.0.clone())), self)
    }
}

impl WriteHalf for SmolConn {
    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.0.set_nodelay(on)
    }
}

/// A child process on async-process (its reaper, no thread per child): its
/// own process group, killed when the server ends (see
/// `server_core::process` and [`server_os::death_signal`]).
struct SmolChild {
    child: async_process::Child,
    pid: u32,
    stderr: Option<server_core::process::LineReader<async_process::ChildStderr>>,
    reaped: bool,
}

fn spawn_child(spec: &ProcessSpec) -> io::Result<Box<dyn ChildProcess>> {
    let mut cmd = server_core::process::command(spec)?;
    server_os::death_signal::arm(&mut cmd);
    let mut cmd = async_process::Command::from(cmd);
    // async-process sets every stream it was not given to inherit, whatever
    // the std command said: give them again.
    let io = server_core::process::stdio(&spec.log)?;
    cmd.stdin(io.stdin).stdout(io.stdout).stderr(io.stderr);
    // A safety net for a handle dropped without a stop: SIGKILL the leader.
    cmd.kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let stderr = child
        .stderr
        .take()
        .map(server_core::process::LineReader::new);
    Ok(Box::new(SmolChild {
        child,
        pid,
        stderr,
        reaped: false,
    }))
}

impl ChildProcess for SmolChild {
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
            let status = self.child.status().await?;
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
