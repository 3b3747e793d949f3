//! The small runtime trait every backend implements (tokio, smol, the simulator).
//!
//! Modelled on quinn's `Runtime`: the server logic never names an executor, a
//! socket type or a clock. It asks the runtime to spawn, sleep, tell the time,
//! listen, connect and touch files. That is what lets `sim` run this exact code
//! on a virtual clock and an in-memory network.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};

/// A boxed, sendable future; the currency of the object-safe runtime API.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the server needs from an async runtime.
pub trait Runtime: Send + Sync + Debug + 'static {
    /// Runs `future` to completion in the background.
    fn spawn(&self, future: BoxFuture<'static, ()>);

    /// Completes after `duration` of this runtime's time (virtual in `sim`).
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;

    /// Monotonic time since the runtime started. Sans-IO cores get it as a value.
    fn now(&self) -> Duration;

    /// Wall-clock milliseconds since the Unix epoch (HLS `[timestamp]`, API uptimes).
    fn unix_time_ms(&self) -> u64;

    /// Fresh entropy for a handshake's random filler (seeded in `sim`).
    fn random_seed(&self) -> [u8; 32];

    /// Binds a TCP listener.
    fn bind(&self, addr: SocketAddr) -> io::Result<Box<dyn Listener>>;

    /// Opens a TCP connection (forwarding, edge pulls, hooks).
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Connection>>>;

    /// Resolves a host name (or IP literal) to the addresses to try, in
    /// order, for `port` (hook URLs name hosts). Callers bound the wait with
    /// [`timeout`]; a backend may keep resolving in the background after
    /// that (system resolvers cannot be cancelled).
    ///
    /// The default knows IP literals only and refuses names, for runtimes
    /// without a resolver.
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let parsed = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>();
        let result = match parsed {
            Ok(ip) => Ok(vec![SocketAddr::new(ip, port)]),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("this runtime resolves no host names ({host})"),
            )),
        };
        Box::pin(std::future::ready(result))
    }

    /// The file system HLS (and later DVR) output goes to.
    fn fs(&self) -> Arc<dyn FileSystem>;

    /// Starts a child process (ffmpeg for ingest and transcode; see
    /// [`crate::process`] for how none outlives the server). The default
    /// refuses, for runtimes that run no processes.
    fn spawn_process(
        &self,
        spec: &crate::process::ProcessSpec,
    ) -> io::Result<Box<dyn crate::process::ChildProcess>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "this runtime runs no processes ({})",
                spec.program.display()
            ),
        ))
    }

    /// Serves on a listening socket this process did not bind: one a
    /// previous process handed over in a binary upgrade (SIGUSR2, see
    /// `crate::upgrade`). Runtimes without real sockets cannot.
    fn adopt_listener(&self, listener: std::net::TcpListener) -> io::Result<Box<dyn Listener>> {
        drop(listener);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this runtime cannot adopt a listening socket",
        ))
    }
}

/// A bound TCP listener.
pub trait Listener: Send + Sync {
    /// The address actually bound (port 0 resolves to an ephemeral port).
    fn local_addr(&self) -> io::Result<SocketAddr>;

    /// Waits for the next inbound connection.
    fn accept(&self) -> BoxFuture<'_, io::Result<(Box<dyn Connection>, SocketAddr)>>;

    /// A second handle on the same listening socket (a `dup`), to hand to
    /// a new process in a binary upgrade. Runtimes without real sockets
    /// cannot.
    fn try_clone_std(&self) -> io::Result<std::net::TcpListener> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this runtime's listeners are not sockets",
        ))
    }
}

/// One TCP connection as a `futures-io` byte stream.
pub trait Connection: AsyncRead + AsyncWrite + Send + Unpin {
    /// Disables Nagle's algorithm (SRS `tcp_nodelay`). Best effort.
    fn set_nodelay(&self, _on: bool) -> io::Result<()> {
        Ok(())
    }

    /// Splits the connection so reads and writes can wait apart (an RTMP
    /// connection reads its client while it writes media). Backends with
    /// halves of their own (tokio's owned halves, a cloned async-net stream)
    /// need no lock between them; [`split_locked`] serves the others.
    fn into_halves(self: Box<Self>) -> (ReadHalf, Box<dyn WriteHalf>);
}

/// The read half of a [`Connection`].
pub type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;

/// The write half of a [`Connection`]. It keeps `set_nodelay` because the
/// vhost that decides it is known only once the client has connected, after
/// the split.
pub trait WriteHalf: AsyncWrite + Send + Unpin {
    /// As [`Connection::set_nodelay`].
    fn set_nodelay(&self, on: bool) -> io::Result<()>;
}

/// [`Connection::into_halves`] for a stream without halves of its own: a lock
/// between the two, and `set_nodelay` does nothing (for in-memory streams).
pub fn split_locked<C>(conn: C) -> (ReadHalf, Box<dyn WriteHalf>)
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (read, write) = futures_util::AsyncReadExt::split(conn);
    (Box::new(read), Box::new(LockedWrite(write)))
}

struct LockedWrite<C>(futures_util::io::WriteHalf<C>);

impl<C: AsyncWrite + Send + Unpin> AsyncWrite for LockedWrite<C> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl<C: AsyncWrite + Send + Unpin> WriteHalf for LockedWrite<C> {
    fn set_nodelay(&self, _on: bool) -> io::Result<()> {
        Ok(())
    }
}

/// File operations the server performs. Whole-file writes go through a temporary
/// name and a rename so a player never reads a half-written playlist.
pub trait FileSystem: Send + Sync + Debug {
    /// Creates or replaces `path` with the concatenation of `data`, creating parent directories.
    fn write(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>>;

    /// Appends `data` to `path`, creating it (and its parents) if absent.
    fn append(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>>;

    /// Atomically moves `from` to `to`.
    fn rename(&self, from: &Path, to: &Path) -> BoxFuture<'static, io::Result<()>>;

    /// Deletes a file; a missing file is not an error.
    fn remove(&self, path: &Path) -> BoxFuture<'static, io::Result<()>>;

    /// Reads a whole file, at most `limit` bytes (larger files are an error).
    fn read(&self, path: &Path, limit: u64) -> BoxFuture<'static, io::Result<Bytes>>;

    /// Opens a regular file for reading in pieces, so serving a large file
    /// never holds more than one piece of it. The reader keeps reading the file
    /// that was opened even if its name is then replaced or removed (as HLS
    /// playlists and old segments are), so one response never mixes two
    /// versions.
    ///
    /// The default reads the whole file through [`read`](Self::read): right for
    /// in-memory file systems, whose files are already whole `Bytes`.
    fn open(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn FileReader>>> {
        let read = self.read(path, u64::MAX);
        Box::pin(async move {
            let data = read.await?;
            Ok(Box::new(BytesReader(data)) as Box<dyn FileReader>)
        })
    }

    /// Creates (or truncates) `path`, creating its parents, and keeps it open
    /// for writing: a file written in many pieces (an HLS segment) is opened
    /// once rather than once a piece, as nginx-rtmp keeps its segment open.
    /// Opening a file anew for each piece cost a name lookup under the
    /// directory's lock each time, which profiling of 200 HLS publishers found
    /// contended (issue 22).
    ///
    /// Required rather than defaulted: a default over [`append`](Self::append)
    /// would need an owned handle to the file system, which `&self` is not.
    /// An in-memory file system whose state is shared can use [`AppendWriter`].
    fn create(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn FileWriter>>>;

    /// Fails with `PermissionDenied` unless `path`, every symbolic link in
    /// it followed, is still below `root` (its links followed too): a link
    /// inside a served directory must not reach files outside it. Names
    /// are checked before (no `..`); this catches what only the disk knows.
    ///
    /// The default allows everything: in-memory file systems have no links.
    fn check_below(&self, root: &Path, path: &Path) -> BoxFuture<'static, io::Result<()>> {
        let _ = (root, path);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A file open for writing, written in order. See [`FileSystem::create`].
///
/// Dropping it closes the file too (without the error report of
/// [`close`](Self::close)); a real file is closed on the file workers then,
/// never on an executor thread.
pub trait FileWriter: Send + Sync {
    /// Writes `data` at the end of what was written before. Callers await
    /// each write before the next, so the pieces land in order.
    fn write_all(&mut self, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>>;

    /// Closes the file once what was written before is on it.
    fn close(self: Box<Self>) -> BoxFuture<'static, io::Result<()>>;
}

/// A [`FileWriter`] made of [`FileSystem::append`] calls on a shared file
/// system: for in-memory file systems, where appending costs no open.
#[derive(Debug)]
pub struct AppendWriter {
    fs: Arc<dyn FileSystem>,
    path: std::path::PathBuf,
}

impl AppendWriter {
    /// Creates (or empties) `path` on `fs` and writes to it by appending.
    pub fn create(
        fs: Arc<dyn FileSystem>,
        path: &Path,
    ) -> BoxFuture<'static, io::Result<Box<dyn FileWriter>>> {
        let path = path.to_path_buf();
        let truncate = fs.write(&path, Vec::new());
        Box::pin(async move {
            truncate.await?;
            Ok(Box::new(AppendWriter { fs, path }) as Box<dyn FileWriter>)
        })
    }
}

impl FileWriter for AppendWriter {
    fn write_all(&mut self, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
        self.fs.append(&self.path, data)
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// An open file, read by offset. See [`FileSystem::open`].
pub trait FileReader: Send + Sync {
    /// The file's length when it was opened.
    fn len(&self) -> u64;

    /// True for an empty file.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads up to `max` bytes at `offset`. Fewer bytes than asked (or none)
    /// means the file ended there, for instance because it was truncated
    /// after it was opened.
    fn read_at(&self, offset: u64, max: usize) -> BoxFuture<'static, io::Result<Bytes>>;
}

/// A [`FileReader`] over bytes already in memory.
#[derive(Debug, Clone)]
pub struct BytesReader(pub Bytes);

impl FileReader for BytesReader {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, max: usize) -> BoxFuture<'static, io::Result<Bytes>> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.0.len());
        let end = start.saturating_add(max).min(self.0.len());
        Box::pin(std::future::ready(Ok(self.0.slice(start..end))))
    }
}

/// Runs `future`, giving up with `None` after `duration` of runtime time.
pub async fn timeout<T>(
    rt: &dyn Runtime,
    duration: Duration,
    future: impl Future<Output = T>,
) -> Option<T> {
    use futures_util::future::{select, Either};
    let future = std::pin::pin!(future);
    match select(future, rt.sleep(duration)).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(((), _)) => None,
    }
}
