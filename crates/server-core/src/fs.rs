//! The real file system, for runtimes whose blocking pool can run `std::fs` calls.
//!
//! Disk writes block, so they never run on an executor thread: each call is handed
//! to the runtime's blocking pool through [`BlockingPool`]. The simulator has its
//! own in-memory [`FileSystem`] instead.

use std::fmt;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::runtime::{BoxFuture, FileSystem};

/// True when `rel`, joined to a directory, names something below it: a
/// relative path with no `..` (nor root or prefix) component. Output paths
/// rendered from templates and client-chosen names are held to this.
pub fn stays_below(rel: &str) -> bool {
    Path::new(rel)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// A blocking job: a closure producing the bytes read (or nothing) for a file call.
pub type BlockingJob = Box<dyn FnOnce() -> io::Result<Bytes> + Send>;

/// Runs blocking closures off the async executor (tokio's `spawn_blocking`, smol's `unblock`).
pub trait BlockingPool: Send + Sync {
    /// Runs `job` on a thread that may block.
    fn run(&self, job: BlockingJob) -> BoxFuture<'static, io::Result<Bytes>>;
}

/// [`FileSystem`] over `std::fs`.
#[derive(Clone)]
pub struct StdFs {
    pool: Arc<dyn BlockingPool>,
}

impl fmt::Debug for StdFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StdFs")
    }
}

impl StdFs {
    /// A file system whose calls run on `pool`.
    pub fn new(pool: Arc<dyn BlockingPool>) -> Self {
        Self { pool }
    }

    fn job(&self, job: BlockingJob) -> BoxFuture<'static, io::Result<()>> {
        let fut = self.pool.run(job);
        Box::pin(async move { fut.await.map(|_| ()) })
    }
}

fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

fn temp_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

impl FileSystem for StdFs {
    fn write(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
        let path = path.to_path_buf();
        self.job(Box::new(move || {
            create_parent(&path)?;
            let tmp = temp_name(&path);
            let mut file = std::fs::File::create(&tmp)?;
            for piece in &data {
                file.write_all(piece)?;
            }
            drop(file);
            std::fs::rename(&tmp, &path)?;
            Ok(Bytes::new())
        }))
    }

    fn append(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
        let path = path.to_path_buf();
        self.job(Box::new(move || {
            create_parent(&path)?;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            for piece in &data {
                file.write_all(piece)?;
            }
            Ok(Bytes::new())
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> BoxFuture<'static, io::Result<()>> {
        let (from, to) = (from.to_path_buf(), to.to_path_buf());
        self.job(Box::new(move || {
            create_parent(&to)?;
            std::fs::rename(&from, &to)?;
            Ok(Bytes::new())
        }))
    }

    fn remove(&self, path: &Path) -> BoxFuture<'static, io::Result<()>> {
        let path = path.to_path_buf();
        self.job(Box::new(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(Bytes::new()),
        }))
    }

    fn read(&self, path: &Path, limit: u64) -> BoxFuture<'static, io::Result<Bytes>> {
        let path = path.to_path_buf();
        self.pool.run(Box::new(move || {
            let meta = std::fs::metadata(&path)?;
            if !meta.is_file() {
                return Err(io::Error::new(io::ErrorKind::NotFound, "not a file"));
            }
            if meta.len() > limit {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "file too large"));
            }
            Ok(Bytes::from(std::fs::read(&path)?))
        }))
    }
}
