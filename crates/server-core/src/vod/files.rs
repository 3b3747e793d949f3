//! Finding a VOD file and its index: names become paths below the vhost's
//! `vod { dir }` only, links that lead out are refused, and indexes are
//! kept (a few) so each HLS segment request does not read the tables again.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use media_core::vod::{FileIndexer, IndexError, MediaIndex};

use crate::config::VodConfig;
use crate::fs::stays_below;
use crate::runtime::{timeout, FileReader, Runtime};

/// Extensions of the files played (FLV, and MP4 with its other names).
pub const VOD_EXTENSIONS: [&str; 6] = ["flv", "mp4", "m4v", "m4a", "mov", "f4v"];
/// Longest name accepted (the HTTP path or the RTMP stream name).
const MAX_NAME_BYTES: usize = 1024;
/// One read of the disk may take this long before the play or request fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Indexing a whole file may take this long (a multi-hour MP4's tables are
/// tens of MiB; an FLV is walked tag by tag).
pub const INDEX_TIMEOUT: Duration = Duration::from_secs(60);
/// Indexes kept for reuse, the most recently used first.
const CACHED_INDEXES: usize = 16;

/// Why a file could not be played.
#[derive(Debug, thiserror::Error)]
pub enum VodError {
    /// The name is not a VOD file name, or nothing is there.
    #[error("no such file")]
    NotFound,
    /// The name leaves the directory, or a link does.
    #[error("refused: {0}")]
    Forbidden(&'static str),
    /// Reading failed.
    #[error("read: {0}")]
    Io(#[from] io::Error),
    /// The disk did not answer in time.
    #[error("the disk did not answer in time")]
    Timeout,
    /// The file is not one we can play.
    #[error("index: {0}")]
    Index(#[from] IndexError),
}

/// The file's extension when `name` is a VOD file name.
pub fn vod_extension(name: &str) -> Option<&str> {
    let ext = name.rsplit_once('.')?.1;
    VOD_EXTENSIONS
        .iter()
        .find(|e| e.eq_ignore_ascii_case(ext))
        .copied()
}

/// The path of `rel` (`APP/NAME.mp4`) below `dir`, if it names one: a
/// relative path, no `..`, no empty or hidden (`.`-led) component, a VOD
/// extension.
pub fn path_under(dir: &Path, rel: &str) -> Result<PathBuf, VodError> {
    if rel.len() > MAX_NAME_BYTES || vod_extension(rel).is_none() {
        return Err(VodError::NotFound);
    }
    if !stays_below(rel)
        || rel
            .split('/')
            .any(|c| c.is_empty() || c.starts_with('.') || c.contains('\\') || c.contains('\0'))
    {
        return Err(VodError::Forbidden("the name leaves the VOD directory"));
    }
    Ok(dir.join(rel))
}

/// An open file and its index.
#[derive(Clone)]
pub struct VodFile {
    /// Where the file is.
    pub path: PathBuf,
    /// The open file.
    pub reader: Arc<dyn FileReader>,
    /// Its frames.
    pub index: Arc<MediaIndex>,
}

impl std::fmt::Debug for VodFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VodFile")
            .field("path", &self.path)
            .field("frames", &self.index.samples.len())
            .finish()
    }
}

type CacheEntry = ((PathBuf, u64), Arc<MediaIndex>);

/// Indexes by (path, length): a file replaced by a recording of another
/// length is indexed again.
fn cache() -> &'static Mutex<VecDeque<CacheEntry>> {
    static CACHE: OnceLock<Mutex<VecDeque<CacheEntry>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn cached(key: &(PathBuf, u64)) -> Option<Arc<MediaIndex>> {
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    let at = cache.iter().position(|(k, _)| k == key)?;
    let entry = cache.remove(at)?;
    let index = entry.1.clone();
    cache.push_front(entry);
    Some(index)
}

fn remember(key: (PathBuf, u64), index: Arc<MediaIndex>) {
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|(k, _)| k != &key);
    cache.push_front((key, index));
    cache.truncate(CACHED_INDEXES);
}

/// Opens `rel` below the vhost's VOD directory and indexes it.
pub async fn open(rt: &dyn Runtime, vod: &VodConfig, rel: &str) -> Result<VodFile, VodError> {
    let path = path_under(&vod.dir, rel)?;
    let fs = rt.fs();
    let absent = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => VodError::NotFound,
        io::ErrorKind::PermissionDenied => VodError::Forbidden("a link leads out"),
        _ => VodError::Io(e),
    };
    timeout(rt, READ_TIMEOUT, fs.check_below(&vod.dir, &path))
        .await
        .ok_or(VodError::Timeout)?
        .map_err(absent)?;
    let reader: Arc<dyn FileReader> = Arc::from(
        timeout(rt, READ_TIMEOUT, fs.open(&path))
            .await
            .ok_or(VodError::Timeout)?
            .map_err(absent)?,
    );
    let key = (path.clone(), reader.len());
    let index = match cached(&key) {
        Some(index) => index,
        None => {
            let ext = vod_extension(rel).unwrap_or_default();
            let index = timeout(rt, INDEX_TIMEOUT, index_file(&*reader, ext))
                .await
                .ok_or(VodError::Timeout)??;
            let index = Arc::new(index);
            remember(key, index.clone());
            index
        }
    };
    Ok(VodFile {
        path,
        reader,
        index,
    })
}

/// Reads what the indexer asks for until it has the index.
async fn index_file(reader: &dyn FileReader, ext: &str) -> Result<MediaIndex, VodError> {
    let mut indexer = FileIndexer::for_extension(ext, reader.len()).ok_or(VodError::NotFound)?;
    while let Some(want) = indexer.want() {
        let data = reader.read_at(want.offset, want.len).await?;
        indexer.feed(&data)?;
    }
    Ok(indexer.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_below_the_directory() {
        let dir = Path::new("/srv/vod");
        assert_eq!(
            path_under(dir, "live/cam.mp4").unwrap(),
            Path::new("/srv/vod/live/cam.mp4")
        );
        assert!(path_under(dir, "cam.FLV").is_ok());
        for bad in [
            "../etc/x.mp4",
            "live/../../x.flv",
            "/etc/x.mp4",
            "a//b.mp4",
            ".hidden/x.mp4",
        ] {
            assert!(
                matches!(path_under(dir, bad), Err(VodError::Forbidden(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            path_under(dir, "live/cam.txt"),
            Err(VodError::NotFound)
        ));
        assert!(matches!(
            path_under(dir, "live/cam"),
            Err(VodError::NotFound)
        ));
    }
}
