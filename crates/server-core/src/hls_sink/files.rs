//! Carrying out one segmenter's actions on the runtime's file system (and,
//! for LL-HLS, in the manager's memory): shared by a stream's main
//! playlist and its extra renditions ([`super::renditions`]).
//!
//! A segment is written to `NAME.tmp` in pieces and renamed when closed,
//! so the HTTP server never serves a partial segment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use media_core::hls::{HlsAction, HlsSegmenter};

use super::{tmp, under, LiveUpdate, FLUSH_BYTES};
use crate::context::ServerCtx;

/// An open segment's bytes not yet flushed.
#[derive(Debug)]
struct Open {
    /// Its name at open (the bytes go to this name's temp file).
    path: PathBuf,
    buf: Vec<Bytes>,
    /// Bytes in `buf`.
    len: usize,
    /// Bytes of the whole segment so far.
    total: u64,
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
                let path = under(&self.root, &path)?;
                fs.remove(&tmp(&path)).await?;
                self.pending.insert(
                    seq,
                    Open {
                        path,
                        buf: Vec::new(),
                        len: 0,
                        total: 0,
                    },
                );
            }
            HlsAction::Append { seq, bytes } => {
                if let Some(open) = self.pending.get_mut(&seq) {
                    open.len += bytes.len();
                    open.total = open.total.saturating_add(bytes.len() as u64);
                    open.buf.push(bytes);
                    if open.len >= FLUSH_BYTES {
                        let data = std::mem::take(&mut open.buf);
                        open.len = 0;
                        fs.append(&tmp(&open.path), data).await?;
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
                if let Some(open) = self.pending.remove(&seq) {
                    fs.append(&tmp(&open.path), open.buf).await?;
                    fs.rename(&tmp(&open.path), &under(&self.root, &path)?)
                        .await?;
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
            // LL-HLS parts and playlists live in memory only.
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
                fs.remove(&under(&self.root, &path)?).await?;
            }
        }
        Ok(None)
    }
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
