//! Test-only runtime: a manual clock and an in-memory file system, so the HTTP
//! handlers can be driven synchronously in unit tests.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;

use crate::runtime::{BoxFuture, Connection, FileSystem, FileWriter, Listener, Runtime};

/// A runtime whose clock moves only when told to.
#[derive(Debug, Default)]
pub(crate) struct ManualRuntime {
    now: Arc<Mutex<Duration>>,
    fs: Arc<MemFs>,
    /// A file system of the test's own, used instead of `fs`.
    other_fs: Option<Arc<dyn FileSystem>>,
}

impl ManualRuntime {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A runtime whose files are `fs`'s.
    pub(crate) fn with_fs(fs: Arc<dyn FileSystem>) -> Arc<Self> {
        Arc::new(Self {
            other_fs: Some(fs),
            ..Self::default()
        })
    }

    pub(crate) fn advance(&self, by: Duration) {
        *self.now.lock().unwrap() += by;
    }

    pub(crate) fn mem_fs(&self) -> &Arc<MemFs> {
        &self.fs
    }
}

/// Ready once the manual clock reaches the deadline (tests re-poll after advancing).
struct ManualSleep {
    now: Arc<Mutex<Duration>>,
    deadline: Duration,
}

impl Future for ManualSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if *self.now.lock().unwrap() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Runtime for ManualRuntime {
    fn spawn(&self, _future: BoxFuture<'static, ()>) {}

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(ManualSleep {
            now: self.now.clone(),
            deadline: self.now() + duration,
        })
    }

    fn now(&self) -> Duration {
        *self.now.lock().unwrap()
    }

    fn unix_time_ms(&self) -> u64 {
        1_700_000_000_000 + self.now().as_millis() as u64
    }

    fn random_seed(&self) -> [u8; 32] {
        [7; 32]
    }

    fn bind(&self, _addr: SocketAddr) -> io::Result<Box<dyn Listener>> {
        Err(io::ErrorKind::Unsupported.into())
    }

    fn connect(&self, _addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Connection>>> {
        Box::pin(async { Err(io::ErrorKind::Unsupported.into()) })
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        match &self.other_fs {
            Some(fs) => fs.clone(),
            None => self.fs.clone(),
        }
    }
}

/// Linux's longest path, terminating NUL included.
const PATH_MAX: usize = 4096;

/// Files in memory.
#[derive(Debug, Default)]
pub(crate) struct MemFs {
    files: Mutex<HashMap<PathBuf, Bytes>>,
}

impl MemFs {
    pub(crate) fn put(&self, path: impl Into<PathBuf>, data: impl Into<Bytes>) {
        self.files.lock().unwrap().insert(path.into(), data.into());
    }
}

impl FileSystem for MemFs {
    fn write(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
        self.put(path, data.concat());
        Box::pin(async { Ok(()) })
    }

    fn append(&self, _path: &Path, _data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(async { Err(io::ErrorKind::Unsupported.into()) })
    }

    fn rename(&self, _from: &Path, _to: &Path) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(async { Err(io::ErrorKind::Unsupported.into()) })
    }

    fn create(&self, _path: &Path) -> BoxFuture<'static, io::Result<Box<dyn FileWriter>>> {
        Box::pin(async { Err(io::ErrorKind::Unsupported.into()) })
    }

    fn remove(&self, path: &Path) -> BoxFuture<'static, io::Result<()>> {
        self.files.lock().unwrap().remove(path);
        Box::pin(async { Ok(()) })
    }

    fn read(&self, path: &Path, limit: u64) -> BoxFuture<'static, io::Result<Bytes>> {
        let files = self.files.lock().unwrap();
        let found = files.get(path).cloned();
        // As a disk answers: a path through a file is ENOTDIR, one longer
        // than PATH_MAX is ENAMETOOLONG.
        let through_file = path.ancestors().skip(1).any(|a| files.contains_key(a));
        let too_long = path.as_os_str().len() >= PATH_MAX;
        drop(files);
        Box::pin(async move {
            match found {
                _ if too_long => Err(io::ErrorKind::InvalidFilename.into()),
                _ if through_file => Err(io::ErrorKind::NotADirectory.into()),
                Some(b) if b.len() as u64 > limit => {
                    Err(io::Error::new(io::ErrorKind::InvalidData, "too large"))
                }
                Some(b) => Ok(b),
                None => Err(io::ErrorKind::NotFound.into()),
            }
        })
    }
}
