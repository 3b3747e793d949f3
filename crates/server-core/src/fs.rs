//! The real file system, for runtimes whose blocking pool can run `std::fs` calls.
//!
//! Disk writes block, so they never run on an executor thread: each call is handed
//! to the runtime's blocking pool through [`BlockingPool`]. The simulator has its
//! own in-memory [`FileSystem`] instead.

use std::fmt;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};

use crate::runtime::{BoxFuture, BytesReader, FileReader, FileSystem, FileWriter};

/// Files up to this size are read whole when opened (one trip to the blocking
/// pool, as for most playlists and segments); larger ones are read this much
/// at a time, which bounds what one HTTP response holds in memory.
pub const READ_PIECE_BYTES: usize = 256 * 1024;

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
    /// Runs `job` on a thread that may block. The job is handed over when
    /// this is called: it runs even if the future is dropped unpolled (an
    /// open file's [`Drop`] closes it that way).
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

    fn check_below(&self, root: &Path, path: &Path) -> BoxFuture<'static, io::Result<()>> {
        let (root, path) = (root.to_path_buf(), path.to_path_buf());
        self.job(Box::new(move || {
            let root = std::fs::canonicalize(&root)?;
            let path = std::fs::canonicalize(&path)?;
            if path.starts_with(&root) {
                Ok(Bytes::new())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "a link leads out of the directory",
                ))
            }
        }))
    }

    fn create(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn FileWriter>>> {
        let path = path.to_path_buf();
        // The blocking pool hands back bytes only; the file comes back
        // through this slot.
        let slot: Arc<Mutex<Option<std::fs::File>>> = Arc::default();
        let fill = slot.clone();
        let job = self.pool.run(Box::new(move || {
            create_parent(&path)?;
            let file = std::fs::File::create(&path)?;
            *fill.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
            Ok(Bytes::new())
        }));
        let pool = self.pool.clone();
        // Given up before the file came back, the file is closed on the pool.
        let unclaimed = Unclaimed {
            slot,
            pool: pool.clone(),
        };
        Box::pin(async move {
            job.await?;
            let file = unclaimed.take();
            match file {
                Some(file) => Ok(Box::new(StdFileWriter {
                    file: Some(Arc::new(file)),
                    pool,
                }) as Box<dyn FileWriter>),
                None => Err(io::Error::other(
                    "create: the blocking job returned nothing",
                )),
            }
        })
    }

    fn open(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn FileReader>>> {
        let path = path.to_path_buf();
        // The blocking pool hands back bytes only; the opened file comes back
        // through this slot.
        let slot: Arc<Mutex<Option<Opened>>> = Arc::default();
        let fill = slot.clone();
        let job = self.pool.run(Box::new(move || {
            // Checked before opening: opening a FIFO would block a pool thread.
            if !std::fs::metadata(&path)?.is_file() {
                return Err(io::Error::new(io::ErrorKind::NotFound, "not a file"));
            }
            let file = std::fs::File::open(&path)?;
            let len = file.metadata()?.len();
            let opened = if len <= READ_PIECE_BYTES as u64 {
                Opened::Whole(read_piece(&file, 0, len as usize)?)
            } else {
                Opened::File(file, len)
            };
            *fill.lock().unwrap_or_else(|e| e.into_inner()) = Some(opened);
            Ok(Bytes::new())
        }));
        let pool = self.pool.clone();
        Box::pin(async move {
            job.await?;
            let opened = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            match opened {
                Some(Opened::Whole(data)) => Ok(Box::new(BytesReader(data)) as Box<dyn FileReader>),
                Some(Opened::File(file, len)) => Ok(Box::new(StdFileReader {
                    file: Arc::new(file),
                    len,
                    pool,
                }) as Box<dyn FileReader>),
                None => Err(io::Error::other("open: the blocking job returned nothing")),
            }
        })
    }
}

/// A file open for writing, written and closed on the blocking pool.
struct StdFileWriter {
    /// `None` once closed. Shared with the write job in flight, so a
    /// write whose caller gave up still has its file.
    file: Option<Arc<std::fs::File>>,
    pool: Arc<dyn BlockingPool>,
}

impl FileWriter for StdFileWriter {
    fn write_all(&mut self, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
        let Some(file) = self.file.clone() else {
            return Box::pin(std::future::ready(Err(io::Error::other(
                "write to a closed file",
            ))));
        };
        let fut = self.pool.run(Box::new(move || {
            let mut file: &std::fs::File = &file;
            for piece in &data {
                file.write_all(piece)?;
            }
            Ok(Bytes::new())
        }));
        Box::pin(async move { fut.await.map(|_| ()) })
    }

    fn close(mut self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        let file = self.file.take();
        let fut = self.pool.run(Box::new(move || {
            drop(file);
            Ok(Bytes::new())
        }));
        Box::pin(async move { fut.await.map(|_| ()) })
    }
}

impl Drop for StdFileWriter {
    fn drop(&mut self) {
        // close(2) may block (a network file system flushes then): the
        // last reference goes on the pool, whose job runs unawaited.
        if let Some(file) = self.file.take() {
            drop(self.pool.run(Box::new(move || {
                drop(file);
                Ok(Bytes::new())
            })));
        }
    }
}

/// A created file on its way back from the pool: if the caller gives up
/// first, dropping this closes the file on the pool, not on an executor
/// thread. (If the job has not run yet, the job holds the last reference.)
struct Unclaimed {
    slot: Arc<Mutex<Option<std::fs::File>>>,
    pool: Arc<dyn BlockingPool>,
}

impl Unclaimed {
    fn take(&self) -> Option<std::fs::File> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Drop for Unclaimed {
    fn drop(&mut self) {
        if let Some(file) = self.take() {
            drop(self.pool.run(Box::new(move || {
                drop(file);
                Ok(Bytes::new())
            })));
        }
    }
}

/// What an `open` job found.
enum Opened {
    /// A small file, already read.
    Whole(Bytes),
    /// A large file and its length.
    File(std::fs::File, u64),
}

/// An open file read by position on the blocking pool.
struct StdFileReader {
    file: Arc<std::fs::File>,
    len: u64,
    pool: Arc<dyn BlockingPool>,
}

impl FileReader for StdFileReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, max: usize) -> BoxFuture<'static, io::Result<Bytes>> {
        // Never past the length at open: a file that grows is served as it was.
        let max =
            usize::try_from(self.len.saturating_sub(offset)).map_or(max, |left| left.min(max));
        let file = self.file.clone();
        self.pool
            .run(Box::new(move || read_piece(&file, offset, max)))
    }
}

/// Reads up to `max` bytes at `offset` (fewer only at the end of the file).
fn read_piece(file: &std::fs::File, offset: u64, max: usize) -> io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(max);
    let mut filled = 0;
    while filled < max {
        let at = offset.saturating_add(filled as u64);
        match read_at(file, &mut buf[filled..], at) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf.freeze())
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    /// Runs each job at once on the calling thread.
    struct Inline;

    impl BlockingPool for Inline {
        fn run(&self, job: BlockingJob) -> BoxFuture<'static, io::Result<Bytes>> {
            Box::pin(std::future::ready(job()))
        }
    }

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("server-core-fs-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("temp dir");
            Self(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn open(fs: &StdFs, path: &Path) -> io::Result<Box<dyn FileReader>> {
        fs.open(path).now_or_never().expect("inline pool")
    }

    fn read_all(reader: &dyn FileReader) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let piece = reader
                .read_at(out.len() as u64, READ_PIECE_BYTES)
                .now_or_never()
                .expect("inline pool")
                .expect("read");
            assert!(piece.len() <= READ_PIECE_BYTES);
            if piece.is_empty() {
                return out;
            }
            out.extend_from_slice(&piece);
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_a_directory_are_followed_and_links_out_refused() {
        let dir = Dir::new("links");
        let fs = StdFs::new(Arc::new(Inline));
        let root = dir.0.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.mp4"), b"x").unwrap();
        std::fs::write(dir.0.join("secret.mp4"), b"x").unwrap();
        std::os::unix::fs::symlink(root.join("sub/a.mp4"), root.join("in.mp4")).unwrap();
        std::os::unix::fs::symlink(dir.0.join("secret.mp4"), root.join("out.mp4")).unwrap();
        std::os::unix::fs::symlink(&dir.0, root.join("up")).unwrap();
        let check = |p: &str| {
            fs.check_below(&root, &root.join(p))
                .now_or_never()
                .expect("inline pool")
        };
        assert!(check("sub/a.mp4").is_ok());
        assert!(check("in.mp4").is_ok());
        for out in ["out.mp4", "up/secret.mp4"] {
            let e = check(out).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{out}");
        }
        assert_eq!(
            check("none.mp4").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn a_large_file_reads_in_pieces_and_outlives_its_name() {
        let dir = Dir::new("large");
        let fs = StdFs::new(Arc::new(Inline));
        let path = dir.0.join("big.flv");
        let data: Vec<u8> = (0..READ_PIECE_BYTES * 3 + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&path, &data).unwrap();

        let reader = open(&fs, &path).unwrap();
        assert_eq!(reader.len(), data.len() as u64);
        // The name now points at other bytes (a playlist rewritten through a
        // rename, a segment deleted): the open file is still the old one.
        std::fs::write(dir.0.join("other"), b"replaced").unwrap();
        std::fs::rename(dir.0.join("other"), &path).unwrap();
        assert_eq!(read_all(&*reader), data);

        // Asking for more than is left gives what is left, not a huge buffer.
        let tail = reader
            .read_at(data.len() as u64 - 5, usize::MAX)
            .now_or_never()
            .unwrap();
        assert_eq!(&tail.unwrap()[..], &data[data.len() - 5..]);
    }

    #[test]
    fn a_created_file_is_written_in_pieces_through_one_handle() {
        let dir = Dir::new("create");
        let fs = StdFs::new(Arc::new(Inline));
        let path = dir.0.join("live/seg.ts.tmp");
        std::fs::create_dir_all(dir.0.join("live")).unwrap();
        std::fs::write(&path, b"stale bytes of an earlier run").unwrap();
        let run = |f: BoxFuture<'static, io::Result<()>>| f.now_or_never().expect("inline pool");

        let mut w = fs
            .create(&path)
            .now_or_never()
            .expect("inline pool")
            .unwrap();
        // Created empty: what was there is gone.
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        run(w.write_all(vec![Bytes::from_static(b"ab"), Bytes::from_static(b"c")])).unwrap();
        // The name now points at another file: the handle still writes to
        // the one it opened, so no piece was reopened by name.
        std::fs::rename(&path, dir.0.join("live/moved")).unwrap();
        run(w.write_all(vec![Bytes::from_static(b"de")])).unwrap();
        run(w.close()).unwrap();
        assert_eq!(std::fs::read(dir.0.join("live/moved")).unwrap(), b"abcde");
        assert!(!path.exists());

        // Dropped unclosed: the file is closed all the same, its bytes kept.
        let other = dir.0.join("new/dir/x");
        let mut w = fs
            .create(&other)
            .now_or_never()
            .expect("inline pool")
            .unwrap();
        run(w.write_all(vec![Bytes::from_static(b"x")])).unwrap();
        drop(w);
        assert_eq!(std::fs::read(&other).unwrap(), b"x");

        // A directory cannot be created as a file: an error, not a panic.
        let err = fs
            .create(&dir.0.join("live"))
            .now_or_never()
            .expect("inline pool");
        assert!(err.is_err());
    }

    /// Keeps jobs until the test runs them.
    #[derive(Default)]
    struct Held(Mutex<Vec<BlockingJob>>);

    impl BlockingPool for Held {
        fn run(&self, job: BlockingJob) -> BoxFuture<'static, io::Result<Bytes>> {
            self.0.lock().unwrap().push(job);
            Box::pin(std::future::pending())
        }
    }

    #[test]
    fn a_created_file_given_up_on_is_closed_on_the_pool() {
        let dir = Dir::new("given-up");
        let pool = Arc::new(Held::default());
        let fs = StdFs::new(pool.clone());
        let create = fs.create(&dir.0.join("a.tmp"));
        let job = pool.0.lock().unwrap().pop().expect("the create job");
        job().unwrap();
        // The caller gave up after the file was opened: its close is one
        // more job for the pool, not a close here.
        drop(create);
        let close = pool.0.lock().unwrap().pop().expect("a close job");
        close().unwrap();
        assert!(dir.0.join("a.tmp").exists());
    }

    /// Descriptors of this process open on `path`.
    fn open_on(path: &Path) -> usize {
        std::fs::read_dir("/proc/self/fd").map_or(0, |fds| {
            fds.flatten()
                .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == path))
                .count()
        })
    }

    /// On the file workers both runtimes give their `StdFs`: more open
    /// files than workers each take their pieces in turn, and every file is
    /// closed, by `close` or, for one dropped, soon after on a worker.
    #[test]
    fn files_created_for_writing_on_the_file_workers_take_their_pieces_and_close() {
        let dir = Dir::new("writers");
        let fs = StdFs::new(Arc::new(crate::file_workers::FileWorkers::new(
            crate::file_workers::FILE_WORKER_THREADS,
        )));
        let paths: Vec<_> = (0..20)
            .map(|i| dir.0.join(format!("live/{i}.ts.tmp")))
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut writers = Vec::new();
            for p in &paths {
                writers.push(fs.create(p).await.expect("create"));
            }
            for piece in [&b"ab"[..], b"cd", b"e"] {
                for w in &mut writers {
                    w.write_all(vec![Bytes::from_static(piece)])
                        .await
                        .expect("write");
                }
            }
            assert_eq!(open_on(&paths[0]), 1);
            for (i, w) in writers.into_iter().enumerate() {
                if i % 2 == 0 {
                    w.close().await.expect("close");
                    assert_eq!(open_on(&paths[i]), 0, "closed");
                } else {
                    drop(w);
                }
            }
            for p in &paths {
                let mut waited = 0;
                while open_on(p) > 0 && waited < 200 {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    waited += 1;
                }
                assert_eq!(open_on(p), 0, "{} left open", p.display());
                assert_eq!(std::fs::read(p).expect("written"), b"abcde");
            }
        });
    }

    #[test]
    fn a_small_file_is_read_whole_at_open() {
        let dir = Dir::new("small");
        let fs = StdFs::new(Arc::new(Inline));
        let path = dir.0.join("s.m3u8");
        std::fs::write(&path, b"#EXTM3U\n").unwrap();
        let reader = open(&fs, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read_all(&*reader), b"#EXTM3U\n");
    }

    #[test]
    fn only_regular_files_open() {
        let dir = Dir::new("kinds");
        let fs = StdFs::new(Arc::new(Inline));
        let err = |p: &Path| open(&fs, p).err().map(|e| e.kind());
        assert_eq!(err(&dir.0), Some(io::ErrorKind::NotFound));
        assert_eq!(err(&dir.0.join("missing")), Some(io::ErrorKind::NotFound));
        // A FIFO would block the pool thread that opened it.
        let fifo = dir.0.join("fifo");
        if std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            assert_eq!(err(&fifo), Some(io::ErrorKind::NotFound));
        }
    }
}
