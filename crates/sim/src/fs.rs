//! An in-memory file system for HLS and DVR output.
//!
//! Files are a `BTreeMap<PathBuf, Bytes>`, so a test lists them in a stable order
//! and reads what the server wrote without touching a disk. Directories are
//! implicit (creating a file creates its parents), as the server's contract asks.
//! Paths are normalised by dropping `.` components, so `./html/a.m3u8` and
//! `html/a.m3u8` are one file. Operations complete immediately in virtual time.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};

use crate::clock::Clock;
use crate::transcript::Transcript;

/// Largest file the in-memory file system holds; larger appends fail, which
/// catches a server that never rotates its output.
pub const MAX_FILE_BYTES: usize = 1 << 30;

#[derive(Debug, Clone)]
struct Recorder {
    clock: Clock,
    transcript: Arc<Mutex<Transcript>>,
}

/// In-memory files, shared by every host of a simulation.
#[derive(Debug, Default)]
pub struct MemFs {
    /// Shared with the files open for writing ([`MemFs::create_file`]).
    files: Arc<Mutex<BTreeMap<PathBuf, Bytes>>>,
    recorder: Option<Recorder>,
    /// Times each path was opened for writing: by `write`, `append` and
    /// `create` (once each), as each opens its file on a disk.
    opens: Mutex<BTreeMap<PathBuf, usize>>,
}

fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

fn concat(data: &[Bytes]) -> Bytes {
    match data {
        [] => Bytes::new(),
        [one] => one.clone(),
        many => {
            let len = many.iter().map(Bytes::len).sum();
            let mut out = BytesMut::with_capacity(len);
            for part in many {
                out.extend_from_slice(part);
            }
            out.freeze()
        }
    }
}

impl MemFs {
    /// An empty file system that records nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty file system whose writes go into the simulation transcript.
    pub(crate) fn recorded(clock: Clock, transcript: Arc<Mutex<Transcript>>) -> Self {
        Self {
            recorder: Some(Recorder { clock, transcript }),
            ..Self::default()
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<PathBuf, Bytes>> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, op: &str, path: &Path, data: &[u8]) {
        record(self.recorder.as_ref(), op, path, data);
    }

    /// How many times `path` was opened for writing: a segment written
    /// through one open file counts once, however many pieces it had.
    pub fn opens(&self, path: impl AsRef<Path>) -> usize {
        let opens = self.opens.lock().unwrap_or_else(|e| e.into_inner());
        opens.get(&normalize(path.as_ref())).copied().unwrap_or(0)
    }

    fn opened(&self, path: &Path) {
        let mut opens = self.opens.lock().unwrap_or_else(|e| e.into_inner());
        *opens.entry(path.to_path_buf()).or_default() += 1;
    }

    /// Creates (or empties) a file and keeps it open for writing.
    pub fn create_file(&self, path: &Path) -> io::Result<MemFile> {
        self.write_file(path, &[])?;
        Ok(MemFile {
            files: self.files.clone(),
            recorder: self.recorder.clone(),
            path: normalize(path),
        })
    }

    /// Every file path, sorted.
    pub fn files(&self) -> Vec<PathBuf> {
        self.lock().keys().cloned().collect()
    }

    /// The files directly or indirectly under `dir`, sorted.
    pub fn files_under(&self, dir: impl AsRef<Path>) -> Vec<PathBuf> {
        let dir = normalize(dir.as_ref());
        self.lock()
            .keys()
            .filter(|p| p.starts_with(&dir))
            .cloned()
            .collect()
    }

    /// A file's contents, if it exists.
    pub fn read(&self, path: impl AsRef<Path>) -> Option<Bytes> {
        self.lock().get(&normalize(path.as_ref())).cloned()
    }

    /// Total bytes stored.
    pub fn total_bytes(&self) -> usize {
        self.lock().values().map(Bytes::len).sum()
    }

    /// Creates or replaces a file.
    pub fn write_file(&self, path: &Path, data: &[Bytes]) -> io::Result<()> {
        let path = normalize(path);
        self.opened(&path);
        let data = concat(data);
        if data.len() > MAX_FILE_BYTES {
            return Err(io::Error::other("file too large"));
        }
        self.record("write", &path, &data);
        self.lock().insert(path, data);
        Ok(())
    }

    /// Appends to a file, creating it if absent.
    pub fn append_file(&self, path: &Path, data: &[Bytes]) -> io::Result<()> {
        let path = normalize(path);
        self.opened(&path);
        append(&self.files, self.recorder.as_ref(), &path, data)
    }

    /// Moves a file, replacing any file at `to`.
    pub fn rename_file(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from, to) = (normalize(from), normalize(to));
        let mut files = self.lock();
        let data = files
            .remove(&from)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "rename: no such file"))?;
        files.insert(to.clone(), data);
        drop(files);
        let mut both = from.to_string_lossy().into_owned();
        both.push_str(" -> ");
        both.push_str(&to.to_string_lossy());
        self.record("rename", Path::new(&both), &[]);
        Ok(())
    }

    /// Deletes a file; a missing file is not an error.
    pub fn remove_file(&self, path: &Path) -> io::Result<()> {
        let path = normalize(path);
        let removed = self.lock().remove(&path);
        if removed.is_some() {
            self.record("remove", &path, &[]);
        }
        Ok(())
    }

    /// Reads a file, failing if it is larger than `limit`.
    pub fn read_limited(&self, path: &Path, limit: u64) -> io::Result<Bytes> {
        let data = self
            .read(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        if data.len() as u64 > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "file over limit",
            ));
        }
        Ok(data)
    }
}

fn record(recorder: Option<&Recorder>, op: &str, path: &Path, data: &[u8]) {
    if let Some(r) = recorder {
        let at = r.clock.now();
        r.transcript.lock().unwrap_or_else(|e| e.into_inner()).fs(
            op,
            &path.to_string_lossy(),
            at,
            data,
        );
    }
}

/// Appends to the file at `path` (normalised), creating it if absent.
fn append(
    files: &Mutex<BTreeMap<PathBuf, Bytes>>,
    recorder: Option<&Recorder>,
    path: &Path,
    data: &[Bytes],
) -> io::Result<()> {
    let extra = concat(data);
    record(recorder, "append", path, &extra);
    let mut files = files.lock().unwrap_or_else(|e| e.into_inner());
    let old = files.remove(path).unwrap_or_default();
    if old.len().saturating_add(extra.len()) > MAX_FILE_BYTES {
        files.insert(path.to_path_buf(), old);
        return Err(io::Error::other("file too large"));
    }
    // Sized exactly: room grown by doubling would be heap no file holds,
    // which the memory scenarios would count against the server.
    let mut buf = BytesMut::with_capacity(old.len() + extra.len());
    buf.extend_from_slice(&old);
    buf.extend_from_slice(&extra);
    files.insert(path.to_path_buf(), buf.freeze());
    Ok(())
}

/// A file of a [`MemFs`] open for writing. It writes by name: unlike a
/// file on disk it does not follow a rename, which the server never does
/// to a file it still writes (it closes a segment before renaming it).
#[derive(Debug)]
pub struct MemFile {
    files: Arc<Mutex<BTreeMap<PathBuf, Bytes>>>,
    recorder: Option<Recorder>,
    path: PathBuf,
}

impl MemFile {
    /// Writes `data` at the end of the file (recreating it if it was removed).
    pub fn write(&self, data: &[Bytes]) -> io::Result<()> {
        append(&self.files, self.recorder.as_ref(), &self.path, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_append_rename_remove() {
        let fs = MemFs::new();
        let p = Path::new("./html/live/a.ts");
        fs.append_file(p, &[Bytes::from_static(b"ab")]).unwrap();
        fs.append_file(p, &[Bytes::from_static(b"c"), Bytes::from_static(b"d")])
            .unwrap();
        assert_eq!(fs.read("html/live/a.ts").unwrap(), &b"abcd"[..]);
        fs.write_file(Path::new("html/live/x.tmp"), &[Bytes::from_static(b"m3u8")])
            .unwrap();
        fs.rename_file(Path::new("html/live/x.tmp"), Path::new("html/live/x.m3u8"))
            .unwrap();
        assert_eq!(
            fs.files(),
            vec![
                PathBuf::from("html/live/a.ts"),
                PathBuf::from("html/live/x.m3u8")
            ]
        );
        assert_eq!(fs.files_under("html/live").len(), 2);
        assert_eq!(fs.total_bytes(), 8);
        fs.remove_file(p).unwrap();
        fs.remove_file(p).unwrap();
        assert!(fs.read(p).is_none());
        assert_eq!(
            fs.rename_file(Path::new("nope"), Path::new("x"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn a_created_file_is_opened_once_for_all_its_pieces() {
        let fs = MemFs::new();
        fs.write_file(Path::new("a.tmp"), &[Bytes::from_static(b"stale")])
            .unwrap();
        let f = fs.create_file(Path::new("./a.tmp")).unwrap();
        assert_eq!(fs.read("a.tmp").unwrap(), &b""[..]);
        for piece in [&b"ab"[..], b"c", b"de"] {
            f.write(&[Bytes::copy_from_slice(piece)]).unwrap();
        }
        assert_eq!(fs.read("a.tmp").unwrap(), &b"abcde"[..]);
        // Once to write it stale, once to create it.
        assert_eq!(fs.opens("a.tmp"), 2);
    }

    #[test]
    fn read_limit_is_enforced() {
        let fs = MemFs::new();
        fs.write_file(Path::new("f"), &[Bytes::from_static(b"12345")])
            .unwrap();
        assert_eq!(fs.read_limited(Path::new("f"), 5).unwrap().len(), 5);
        assert!(fs.read_limited(Path::new("f"), 4).is_err());
        assert!(fs.read_limited(Path::new("g"), 4).is_err());
    }
}
