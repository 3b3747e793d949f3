//! `server_core::Runtime` on the simulator: the same server code, virtual world.
//!
//! One [`SimRuntime`] per simulated host: `bind` and `connect` use that host's
//! address, everything else (clock, RNG, files) is the world's.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use server_core::runtime::{
    split_locked, BoxFuture, Connection, FileSystem, FileWriter, Listener, ReadHalf, Runtime,
    WriteHalf,
};

use crate::fs::{MemFile, MemFs};
use crate::handle::Host;
use crate::net::{SimConn, SimListener};

/// Wall-clock time the simulation pretends to start at: 2024-01-01T00:00:00Z.
/// Fixed, so HLS `#EXT-X-PROGRAM-DATE-TIME` and API uptimes are reproducible.
pub const SIM_EPOCH_UNIX_MS: u64 = 1_704_067_200_000;

/// The server-core runtime of one simulated host.
#[derive(Debug, Clone)]
pub struct SimRuntime {
    host: Host,
    processes: Option<Arc<crate::process::FakeProcesses>>,
}

impl SimRuntime {
    /// The runtime of `host` (it runs no processes).
    pub fn new(host: Host) -> Arc<Self> {
        Arc::new(Self {
            host,
            processes: None,
        })
    }

    /// The runtime of `host`, whose child processes are `processes`' fakes.
    pub fn with_processes(host: Host, processes: Arc<crate::process::FakeProcesses>) -> Arc<Self> {
        Arc::new(Self {
            host,
            processes: Some(processes),
        })
    }

    /// The host this runtime binds and connects from.
    pub fn host(&self) -> &Host {
        &self.host
    }
}

impl Runtime for SimRuntime {
    fn spawn(&self, future: BoxFuture<'static, ()>) {
        self.host.sim().spawn_boxed(future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(self.host.sim().sleep(duration))
    }

    fn now(&self) -> Duration {
        self.host.sim().now()
    }

    fn unix_time_ms(&self) -> u64 {
        let ms = u64::try_from(self.now().as_millis()).unwrap_or(u64::MAX);
        SIM_EPOCH_UNIX_MS.saturating_add(ms)
    }

    fn random_seed(&self) -> [u8; 32] {
        let mut seed = [0u8; 32];
        self.host.sim().fill_random(&mut seed);
        seed
    }

    fn bind(&self, addr: SocketAddr) -> io::Result<Box<dyn Listener>> {
        Ok(Box::new(RuntimeListener(self.host.bind(addr)?)))
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Connection>>> {
        let connect = self.host.connect(addr);
        Box::pin(async move { Ok(Box::new(RuntimeConn(connect.await?)) as Box<dyn Connection>) })
    }

    /// The simulated network has addresses but no names: IP literals
    /// resolve to themselves and `localhost` to this host's own address;
    /// any other name is not found.
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>();
        let result = match literal {
            Ok(ip) => Ok(vec![SocketAddr::new(ip, port)]),
            Err(_) if host.eq_ignore_ascii_case("localhost") => {
                Ok(vec![SocketAddr::new(self.host.ip(), port)])
            }
            Err(_) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the simulated network has no host named {host}"),
            )),
        };
        Box::pin(std::future::ready(result))
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        self.host.sim().fs()
    }

    fn spawn_process(
        &self,
        spec: &server_core::process::ProcessSpec,
    ) -> io::Result<Box<dyn server_core::process::ChildProcess>> {
        match &self.processes {
            Some(p) => p.spawn(spec),
            None => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this simulated host runs no processes (SimRuntime::with_processes)",
            )),
        }
    }
}

struct RuntimeListener(SimListener);

impl Listener for RuntimeListener {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.0.local_addr())
    }

    fn accept(&self) -> BoxFuture<'_, io::Result<(Box<dyn Connection>, SocketAddr)>> {
        Box::pin(async move {
            let (conn, peer) = self.0.accept().await?;
            Ok((Box::new(RuntimeConn(conn)) as Box<dyn Connection>, peer))
        })
    }
}

/// A [`SimConn`] seen through the runtime trait.
struct RuntimeConn(SimConn);

impl AsyncRead for RuntimeConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RuntimeConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl Connection for RuntimeConn {
    fn into_halves(self: Box<Self>) -> (ReadHalf, Box<dyn WriteHalf>) {
        split_locked(*self)
    }
}

fn ready<T: Send + 'static>(value: io::Result<T>) -> BoxFuture<'static, io::Result<T>> {
    Box::pin(std::future::ready(value))
}

impl FileSystem for MemFs {
    fn write(
        &self,
        path: &std::path::Path,
        data: Vec<Bytes>,
    ) -> BoxFuture<'static, io::Result<()>> {
        ready(self.write_file(path, &data))
    }

    fn append(
        &self,
        path: &std::path::Path,
        data: Vec<Bytes>,
    ) -> BoxFuture<'static, io::Result<()>> {
        ready(self.append_file(path, &data))
    }

    fn rename(
        &self,
        from: &std::path::Path,
        to: &std::path::Path,
    ) -> BoxFuture<'static, io::Result<()>> {
        ready(self.rename_file(from, to))
    }

    fn remove(&self, path: &std::path::Path) -> BoxFuture<'static, io::Result<()>> {
        ready(self.remove_file(path))
    }

    fn read(&self, path: &std::path::Path, limit: u64) -> BoxFuture<'static, io::Result<Bytes>> {
        ready(self.read_limited(path, limit))
    }

    fn create(
        &self,
        path: &std::path::Path,
    ) -> BoxFuture<'static, io::Result<Box<dyn FileWriter>>> {
        ready(
            self.create_file(path)
                .map(|f| Box::new(f) as Box<dyn FileWriter>),
        )
    }
}

impl FileWriter for MemFile {
    fn write_all(&mut self, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
        ready(self.write(&data))
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        ready(Ok(()))
    }
}
