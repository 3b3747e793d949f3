//! Carrying out one segmenter's actions on the runtime's file system (and,
//! for LL-HLS, in the manager's memory): shared by a stream's main
//! playlist and its extra renditions ([`super::renditions`]).
//!
//! A segment is written to `NAME.tmp` through one open file and renamed
//! when closed, so the HTTP server never serves a partial segment. The file
//! is opened once, at `OpenSegment`, and the muxer's bytes go to it in
//! batches of [`FLUSH_BYTES`] as they come, as nginx-rtmp writes its open
//! segment: opening it anew for each piece cost a name lookup under the
//! shared directory's lock each time (issue 22).
//!
//! In LL-HLS the pieces of a segment are also kept (as handles: each is one
//! of its parts' buffers) and, once the file is renamed, handed to the
//! manager's memory with it, so the HTTP server answers a recent complete
//! segment with exactly the file's bytes without reading it
//! ([`super::live`]).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use media_core::hls::{HlsAction, HlsSegmenter};
use tracing::debug;

use super::{tmp, under, LiveUpdate, FLUSH_BYTES, MAX_LIVE_PARTS};
use crate::context::ServerCtx;
use crate::runtime::FileWriter;

/// An open segment: its file and the bytes not yet written to it.
struct Open {
    /// Its name at open (the bytes go to this name's temp file).
    path: PathBuf,
    /// `path`'s temp file, open for writing.
    file: Box<dyn FileWriter>,
    buf: Vec<Bytes>,
    /// Bytes in `buf`.
    len: usize,
    /// Bytes of the whole segment so far.
    total: u64,
    /// LL-HLS: every piece of the segment so far, in order, for memory
    /// once it is closed; `None` when not LL-HLS, or once it has more
    /// pieces than [`MAX_LIVE_PARTS`] (then it is served from its file).
    held: Option<Vec<Bytes>>,
}

impl fmt::Debug for Open {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Open")
            .field("path", &self.path)
            .field("len", &self.len)
            .field("total", &self.total)
            .field("held", &self.held.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// A segment just made visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Closed {
    pub seq: u64,
    /// Final path relative to the HLS root.
    pub path: String,
    pub duration_ms: u64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// One segmenter's files below `hls_path`.
#[derive(Debug)]
pub(super) struct SegmentFiles {
    /// `hls_path`: the segmenter's paths are relative to it.
    pub root: PathBuf,
    /// Open segments, by sequence number.
    pending: HashMap<u64, Open>,
}

impl SegmentFiles {
    pub(super) fn new(root: PathBuf) -> Self {
        Self {
            root,
            pending: HashMap::new(),
        }
    }

    /// Gives back room sized for media (a stream waiting for a republish).
    pub(super) fn shrink(&mut self) {
        self.pending.shrink_to_fit();
    }

    /// The segmenter's playlist below the root, once it named it.
    pub(super) fn playlist(&self, segmenter: &HlsSegmenter) -> std::io::Result<PathBuf> {
        under(&self.root, segmenter.playlist_path().unwrap_or_default())
    }

    /// Carries out `action` of `segmenter`; returns the segment a
    /// `CloseSegment` made visible.
    pub(super) async fn apply(
        &mut self,
        ctx: &ServerCtx,
        segmenter: &HlsSegmenter,
        action: HlsAction,
    ) -> std::io::Result<Option<Closed>> {
        let fs = ctx.rt.fs();
        match action {
            HlsAction::OpenSegment { seq, path } => {
                // One segment is open at a time: one left open (its close
                // never came) is given up, so open files stay bounded.
                for (_, stale) in self.pending.drain() {
                    abandon(ctx, stale).await;
                }
                let path = under(&self.root, &path)?;
                // Created empty, so a stale temp file of an earlier run
                // is replaced rather than appended to.
                let file = match fs.create(&tmp(&path)).await {
                    Ok(file) => file,
                    Err(e) => return Err(skipped(&path, e)),
                };
                self.pending.insert(
                    seq,
                    Open {
                        path,
                        file,
                        buf: Vec::new(),
                        len: 0,
                        total: 0,
                        held: segmenter.config().low_latency.then(Vec::new),
                    },
                );
            }
            HlsAction::Append { seq, bytes } => {
                if let Some(open) = self.pending.get_mut(&seq) {
                    open.len += bytes.len();
                    open.total = open.total.saturating_add(bytes.len() as u64);
                    if let Some(held) = &mut open.held {
                        if held.len() < MAX_LIVE_PARTS {
                            held.push(bytes.clone());
                        } else {
                            open.held = None;
                        }
                    }
                    open.buf.push(bytes);
                    if open.len >= FLUSH_BYTES {
                        let data = std::mem::take(&mut open.buf);
                        open.len = 0;
                        if let Err(e) = open.file.write_all(data).await {
                            // The segment is skipped: a renamed partial
                            // segment would play as damaged media.
                            let path = open.path.clone();
                            if let Some(open) = self.pending.remove(&seq) {
                                abandon(ctx, open).await;
                            }
                            return Err(skipped(&path, e));
                        }
                    }
                }
            }
            HlsAction::CloseSegment {
                seq,
                path,
                duration_ms,
            } => {
                // The final name may differ from the one at open (`[duration]`
                // is only known now); the bytes went to the open name's temp file.
                if let Some(mut open) = self.pending.remove(&seq) {
                    let final_path = match under(&self.root, &path) {
                        Ok(p) => p,
                        Err(e) => {
                            abandon(ctx, open).await;
                            return Err(e);
                        }
                    };
                    let data = std::mem::take(&mut open.buf);
                    let written = if data.is_empty() {
                        Ok(())
                    } else {
                        open.file.write_all(data).await
                    };
                    let temp = tmp(&open.path);
                    let closed = open.file.close().await;
                    if let Err(e) = written.and(closed) {
                        let _ = fs.remove(&temp).await;
                        return Err(skipped(&open.path, e));
                    }
                    fs.rename(&temp, &final_path).await?;
                    // Only now: memory never answers for a segment that
                    // has no file (a failed write skipped it).
                    if let Some(held) = open.held {
                        let playlist = self.playlist(segmenter)?;
                        ctx.hls
                            .live
                            .publish_segment(&playlist, final_path, seq, held);
                    }
                    return Ok(Some(Closed {
                        seq,
                        path,
                        duration_ms,
                        bytes: open.total,
                    }));
                }
            }
            HlsAction::WritePlaylist { path, text } => {
                fs.write(&under(&self.root, &path)?, vec![Bytes::from(text)])
                    .await?;
            }
            // LL-HLS parts and playlists live in memory only (complete
            // segments in memory too, and in their files).
            HlsAction::PublishPart { msn, path, bytes } => {
                let playlist = self.playlist(segmenter)?;
                let part = under(&self.root, &path)?;
                ctx.hls.live.publish_part(&playlist, part, msn, bytes);
            }
            HlsAction::LivePlaylist {
                path,
                full,
                delta,
                msn,
                parts,
                hint,
            } => {
                let playlist = under(&self.root, &path)?;
                let hint = hint.map(|h| under(&self.root, &h)).transpose()?;
                // 6.2.5.2: a blocking request waits at most three target durations.
                let hold = segmenter.config().fragment.saturating_mul(3);
                let update = LiveUpdate {
                    full,
                    delta,
                    msn,
                    parts,
                    hint,
                    hold,
                };
                ctx.hls.live.update(&playlist, update);
            }
            HlsAction::WriteInit { path, bytes } => {
                fs.write(&under(&self.root, &path)?, vec![bytes]).await?;
            }
            HlsAction::DeleteSegment { path, .. } => {
                let path = under(&self.root, &path)?;
                if let Ok(playlist) = self.playlist(segmenter) {
                    ctx.hls.live.forget_segment(&playlist, &path);
                }
                fs.remove(&path).await?;
            }
        }
        Ok(None)
    }
}

/// A write error of the segment at `path`, saying the segment is left out.
fn skipped(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(
        e.kind(),
        format!("{}: segment skipped: {e}", path.display()),
    )
}

/// Gives up an open segment: closes its file and removes its temp file.
async fn abandon(ctx: &ServerCtx, open: Open) {
    debug!(path = %open.path.display(), "hls: segment given up");
    let _ = open.file.close().await;
    let _ = ctx.rt.fs().remove(&tmp(&open.path)).await;
}

/// What `hls_dispose` removes of a stopped segmenter: its listed segments
/// (and init segments) and its playlist, as paths relative to the root.
pub(super) fn disposed_paths(segmenter: &mut HlsSegmenter) -> Vec<String> {
    segmenter.dispose();
    let mut paths: Vec<String> = Vec::new();
    while let Some(action) = segmenter.poll_action() {
        if let HlsAction::DeleteSegment { path, .. } = action {
            paths.push(path);
        }
    }
    paths.extend(segmenter.playlist_path().map(str::to_owned));
    paths
}

/// Removes `paths` (relative to `root`); what is gone already or would
/// leave the root is passed over.
pub(super) async fn remove_all(ctx: &ServerCtx, root: &Path, paths: Vec<String>) {
    let fs = ctx.rt.fs();
    for path in paths {
        if let Ok(path) = under(root, &path) {
            let _ = fs.remove(&path).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::http::testing::ManualRuntime;
    use crate::runtime::{BoxFuture, FileSystem};
    use futures_util::FutureExt;
    use std::collections::BTreeMap;
    use std::io;
    use std::sync::{Arc, Mutex};

    /// In-memory files that count what is done to them; writes through an
    /// open file fail while `full` is set (a full disk).
    #[derive(Debug, Default)]
    struct CountingFs {
        state: Arc<Mutex<State>>,
    }

    #[derive(Debug, Default)]
    struct State {
        files: BTreeMap<PathBuf, Vec<u8>>,
        /// Files opened for writing, by path.
        opens: BTreeMap<PathBuf, usize>,
        /// Open files not yet closed or dropped.
        open_now: usize,
        full: bool,
    }

    impl CountingFs {
        fn state(&self) -> std::sync::MutexGuard<'_, State> {
            self.state.lock().unwrap()
        }
    }

    fn done<T: Send + 'static>(v: io::Result<T>) -> BoxFuture<'static, io::Result<T>> {
        Box::pin(std::future::ready(v))
    }

    impl FileSystem for CountingFs {
        fn write(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
            let mut s = self.state();
            *s.opens.entry(path.into()).or_default() += 1;
            s.files.insert(path.into(), data.concat());
            done(Ok(()))
        }

        fn append(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
            let mut s = self.state();
            *s.opens.entry(path.into()).or_default() += 1;
            s.files
                .entry(path.into())
                .or_default()
                .extend(data.concat());
            done(Ok(()))
        }

        fn rename(&self, from: &Path, to: &Path) -> BoxFuture<'static, io::Result<()>> {
            let mut s = self.state();
            let data = s.files.remove(from);
            done(match data {
                Some(d) => {
                    s.files.insert(to.into(), d);
                    Ok(())
                }
                None => Err(io::ErrorKind::NotFound.into()),
            })
        }

        fn remove(&self, path: &Path) -> BoxFuture<'static, io::Result<()>> {
            self.state().files.remove(path);
            done(Ok(()))
        }

        fn read(&self, path: &Path, _limit: u64) -> BoxFuture<'static, io::Result<Bytes>> {
            let data = self.state().files.get(path).cloned();
            done(data.map(Bytes::from).ok_or(io::ErrorKind::NotFound.into()))
        }

        fn create(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn FileWriter>>> {
            let mut s = self.state();
            *s.opens.entry(path.into()).or_default() += 1;
            s.open_now += 1;
            s.files.insert(path.into(), Vec::new());
            done(Ok(Box::new(Writer {
                state: Some(self.state.clone()),
                path: path.into(),
            })))
        }
    }

    struct Writer {
        /// `None` once closed.
        state: Option<Arc<Mutex<State>>>,
        path: PathBuf,
    }

    impl FileWriter for Writer {
        fn write_all(&mut self, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
            let state = self.state.as_ref().expect("write after close");
            let mut s = state.lock().unwrap();
            if s.full {
                return done(Err(io::Error::other("no space left on device")));
            }
            let file = s.files.entry(self.path.clone()).or_default();
            file.extend(data.concat());
            done(Ok(()))
        }

        fn close(mut self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
            self.release();
            done(Ok(()))
        }
    }

    impl Writer {
        fn release(&mut self) {
            if let Some(state) = self.state.take() {
                state.lock().unwrap().open_now -= 1;
            }
        }
    }

    impl Drop for Writer {
        fn drop(&mut self) {
            self.release();
        }
    }

    struct Harness {
        fs: Arc<CountingFs>,
        ctx: Arc<ServerCtx>,
        files: SegmentFiles,
        segmenter: HlsSegmenter,
    }

    impl Harness {
        fn new() -> Self {
            Self::with(Default::default())
        }

        /// A harness whose segmenter is LL-HLS.
        fn low_latency() -> Self {
            Self::with(media_core::hls::HlsConfig {
                low_latency: true,
                ..Default::default()
            })
        }

        fn with(config: media_core::hls::HlsConfig) -> Self {
            let fs = Arc::new(CountingFs::default());
            let rt = ManualRuntime::with_fs(fs.clone());
            Self {
                fs,
                ctx: ServerCtx::new(rt, Config::default()),
                files: SegmentFiles::new(PathBuf::from("/hls")),
                segmenter: HlsSegmenter::new(config, "live", "cam"),
            }
        }

        /// What memory holds of the complete segment at `path`.
        fn held(&self, path: &str) -> Option<Vec<Bytes>> {
            let playlist = self.files.playlist(&self.segmenter).unwrap();
            let stream = self.ctx.hls.live.find(&playlist)?;
            let held = stream.lock().segment(Path::new(path));
            held
        }

        fn apply(&mut self, action: HlsAction) -> std::io::Result<Option<Closed>> {
            self.files
                .apply(&self.ctx, &self.segmenter, action)
                .now_or_never()
                .expect("the test file system answers at once")
        }

        /// Opens segment `seq` and appends `pieces` pieces of 10 KiB.
        fn segment(&mut self, seq: u64, pieces: u8) -> Vec<std::io::Result<Option<Closed>>> {
            let path = format!("live/cam-{seq}.ts");
            let mut results = vec![self.apply(HlsAction::OpenSegment {
                seq,
                path: path.clone(),
            })];
            for i in 0..pieces {
                results.push(self.apply(HlsAction::Append {
                    seq,
                    bytes: Bytes::from(vec![i; 10 * 1024]),
                }));
            }
            results.push(self.apply(HlsAction::CloseSegment {
                seq,
                path,
                duration_ms: 2000,
            }));
            results
        }
    }

    #[test]
    fn a_segment_is_written_through_one_open_file_and_renamed() {
        let mut h = Harness::new();
        // 300 KiB: several batches of FLUSH_BYTES.
        let results = h.segment(0, 30);
        const _: () = assert!(30 * 10 * 1024 > 4 * FLUSH_BYTES);
        let closed = results.into_iter().map(Result::unwrap).last().flatten();
        assert_eq!(closed.map(|c| c.bytes), Some(30 * 10 * 1024));
        let s = h.fs.state();
        assert_eq!(s.opens.get(Path::new("/hls/live/cam-0.ts.tmp")), Some(&1));
        assert_eq!(s.open_now, 0, "the file was left open");
        let data = s
            .files
            .get(Path::new("/hls/live/cam-0.ts"))
            .expect("renamed");
        let expected: Vec<u8> = (0..30u8).flat_map(|i| vec![i; 10 * 1024]).collect();
        assert_eq!(data, &expected);
        assert_eq!(s.files.len(), 1, "{:?}", s.files.keys());
    }

    #[test]
    fn a_failed_write_skips_the_segment_and_the_next_one_is_written() {
        let mut h = Harness::new();
        h.fs.state().full = true;
        let results = h.segment(0, 30);
        assert!(
            results.iter().any(Result::is_err),
            "the error was not reported"
        );
        // Nothing made visible, no temp file left, no file left open.
        assert!(matches!(results.last(), Some(Ok(None))));
        {
            let s = h.fs.state();
            assert_eq!(s.open_now, 0);
            assert!(s.files.is_empty(), "{:?}", s.files.keys());
        }
        // Room again: the next segment is whole.
        h.fs.state().full = false;
        let closed = h
            .segment(1, 3)
            .into_iter()
            .map(Result::unwrap)
            .last()
            .flatten();
        assert_eq!(closed.map(|c| c.bytes), Some(3 * 10 * 1024));
        assert!(h
            .fs
            .state()
            .files
            .contains_key(Path::new("/hls/live/cam-1.ts")));
    }

    #[test]
    fn files_of_segments_left_open_are_closed() {
        let mut h = Harness::new();
        h.apply(HlsAction::OpenSegment {
            seq: 0,
            path: "live/cam-0.ts".into(),
        })
        .unwrap();
        // A new segment without a close of the last: one file open at a time.
        h.apply(HlsAction::OpenSegment {
            seq: 1,
            path: "live/cam-1.ts".into(),
        })
        .unwrap();
        assert_eq!(h.fs.state().open_now, 1);
        assert!(!h
            .fs
            .state()
            .files
            .contains_key(Path::new("/hls/live/cam-0.ts.tmp")));
        // The sink ends (unpublish never came, a reload restart): dropped
        // with its files, the open one is closed.
        drop(h.files);
        assert_eq!(h.fs.state().open_now, 0);
    }

    #[test]
    fn an_ll_segment_is_held_as_the_buffers_its_file_was_written_from() {
        let mut h = Harness::low_latency();
        // Pieces of unequal sizes, several batches of FLUSH_BYTES in all.
        let pieces: Vec<Bytes> = (0..40u32)
            .map(|i| Bytes::from(vec![i as u8; 3000 + 97 * i as usize]))
            .collect();
        h.apply(HlsAction::OpenSegment {
            seq: 0,
            path: "live/cam-0.m4s".into(),
        })
        .unwrap();
        for piece in &pieces {
            h.apply(HlsAction::Append {
                seq: 0,
                bytes: piece.clone(),
            })
            .unwrap();
        }
        assert!(h.held("/hls/live/cam-0.m4s").is_none(), "held while open");
        h.apply(HlsAction::CloseSegment {
            seq: 0,
            path: "live/cam-0.m4s".into(),
            duration_ms: 2000,
        })
        .unwrap();
        let held = h.held("/hls/live/cam-0.m4s").expect("held once closed");
        let file = h.fs.state().files[Path::new("/hls/live/cam-0.m4s")].clone();
        assert_eq!(held.concat(), file, "memory differs from the file");
        // The very buffers given (in LL-HLS, the parts'), not copies.
        assert_eq!(held.len(), pieces.len());
        assert!(held
            .iter()
            .zip(&pieces)
            .all(|(a, b)| a.as_ptr() == b.as_ptr()));

        // Its file deleted (hls_cleanup), memory forgets it too.
        h.apply(HlsAction::DeleteSegment {
            seq: 0,
            path: "live/cam-0.m4s".into(),
        })
        .unwrap();
        assert!(h.held("/hls/live/cam-0.m4s").is_none());
    }

    #[test]
    fn segments_without_a_whole_file_or_outside_ll_hls_are_not_held() {
        // Not LL-HLS: nothing in memory.
        let mut h = Harness::new();
        assert!(h.segment(0, 3).into_iter().all(|r| r.is_ok()));
        assert!(h.held("/hls/live/cam-0.ts").is_none());

        // A failed write: no file, so nothing in memory either.
        let mut h = Harness::low_latency();
        h.fs.state().full = true;
        h.segment(0, 30);
        assert!(h.held("/hls/live/cam-0.ts").is_none());
        h.fs.state().full = false;
        h.segment(1, 3);
        assert!(h.held("/hls/live/cam-1.ts").is_some());

        // More pieces than parts are kept: served from the file.
        h.apply(HlsAction::OpenSegment {
            seq: 2,
            path: "live/cam-2.m4s".into(),
        })
        .unwrap();
        for _ in 0..=MAX_LIVE_PARTS {
            h.apply(HlsAction::Append {
                seq: 2,
                bytes: Bytes::from_static(b"x"),
            })
            .unwrap();
        }
        h.apply(HlsAction::CloseSegment {
            seq: 2,
            path: "live/cam-2.m4s".into(),
            duration_ms: 2000,
        })
        .unwrap();
        assert!(h
            .fs
            .state()
            .files
            .contains_key(Path::new("/hls/live/cam-2.m4s")));
        assert!(h.held("/hls/live/cam-2.m4s").is_none());
    }
}
