//! One publish's recording: follows the source's queue until the publish
//! ends, writing files through the runtime's [`FileSystem`](crate::runtime::FileSystem).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::select;
use media_core::flv::FlvWriter;
use media_core::gop::is_metadata;
use media_core::jitter::TimeJitter;
use media_core::mp4::Fmp4Muxer;
use media_core::{MediaKind, MediaMessage};
use rtmp_proto::amf0::{self, Amf0Value};
use tracing::{debug, error, info, warn, Instrument};

use super::path::Container;
use super::{Control, Recordings};
use crate::config::{DvrConfig, DvrPlan};
use crate::context::ServerCtx;
use crate::hooks::{HookEvent, HookRequest};
use crate::hub::{MergeRule, QueueItem, Source};
use crate::lifecycle::PublishedStream;

/// The recorder's queue may hold this much media (a slow disk) before the
/// hub drops it to a key frame; the file then has a gap, the stream goes on.
pub const QUEUE_SPAN_MS: u64 = 30_000;
/// Bytes gathered before they are appended to the file...
pub const FLUSH_BYTES: usize = 512 * 1024;
/// ... or media time, ms, so a crash loses at most about this much.
pub const FLUSH_MS: u64 = 1_000;
/// A file system call that takes longer fails the recording.
pub const FS_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts recording `stream` in the background.
pub(super) fn start(
    ctx: &Arc<ServerCtx>,
    stream: &PublishedStream,
    config: DvrConfig,
    recordings: Arc<Recordings>,
    id: (u64, String),
    control: Arc<Control>,
) {
    let recorder = Recorder {
        ctx: ctx.clone(),
        source: stream.source.clone(),
        publisher: stream.publisher.clone(),
        config,
        headers: Headers::default(),
        file: None,
        control,
    };
    let span = tracing::info_span!("dvr", stream = %stream.source.key);
    let run = async move {
        let control = recorder.control.clone();
        recorder.run().await;
        recordings.ended(&id, &control);
    };
    ctx.rt.spawn(Box::pin(run.instrument(span)));
}

/// The latest metadata and decoder configurations: every file starts with them.
#[derive(Debug, Default)]
struct Headers {
    metadata: Option<MediaMessage>,
    video: Option<MediaMessage>,
    audio: Option<MediaMessage>,
}

enum Muxer {
    Flv(FlvWriter),
    Mp4(Box<Fmp4Muxer>),
}

struct OpenFile {
    path: PathBuf,
    tmp: PathBuf,
    muxer: Muxer,
    jitter: TimeJitter,
    /// First and latest corrected timestamp in the file.
    first_ts: Option<u64>,
    last_ts: u64,
    pending: Vec<Bytes>,
    pending_len: usize,
    flushed_ts: u64,
    /// Messages the muxer refused.
    skipped: u64,
}

impl OpenFile {
    fn duration_ms(&self) -> u64 {
        self.first_ts.map_or(0, |f| self.last_ts.saturating_sub(f))
    }

    fn write(&mut self, msg: &MediaMessage, input_ts: u64) {
        let ts = self.jitter.correct(msg.kind, input_ts);
        let mut out = MediaMessage {
            timestamp: ts,
            ..msg.clone()
        };
        if msg.kind == MediaKind::Data && is_metadata(&msg.payload) {
            out.payload = without_length(&msg.payload);
        }
        if msg.kind != MediaKind::Data {
            self.first_ts.get_or_insert(ts);
            self.last_ts = self.last_ts.max(ts);
        }
        let result = match &mut self.muxer {
            Muxer::Flv(w) => w.write_message(&out).map_err(|e| e.to_string()),
            Muxer::Mp4(m) => m.push(&out).map_err(|e| e.to_string()),
        };
        if let Err(e) = result {
            // Once per file at warn (an MP4 of a codec it cannot hold), then quietly.
            if self.skipped == 0 {
                warn!(file = %self.path.display(), "dvr: message not recorded: {e}");
            } else {
                debug!("dvr: message not recorded: {e}");
            }
            self.skipped = self.skipped.saturating_add(1);
        }
        let bytes = match &mut self.muxer {
            Muxer::Flv(w) => w.take(),
            Muxer::Mp4(m) => m.take(),
        };
        if !bytes.is_empty() {
            self.pending_len += bytes.len();
            self.pending.push(bytes);
        }
    }
}

struct Recorder {
    ctx: Arc<ServerCtx>,
    source: Arc<Source>,
    publisher: HookRequest,
    config: DvrConfig,
    headers: Headers,
    file: Option<OpenFile>,
    control: Arc<Control>,
}

impl Recorder {
    async fn run(mut self) {
        let mut consumer = self
            .ctx
            .hub
            .subscribe_with_span(&self.source, QUEUE_SPAN_MS);
        let publisher = self.source.publisher();
        debug!("dvr recorder started");
        let mut items = Vec::new();
        'run: loop {
            let stop = self.control.listen();
            if self.control.stopped() {
                break;
            }
            if consumer.drain_into(&mut items) > 0 {
                for item in items.drain(..) {
                    let QueueItem::Media(frame) = item else {
                        // This publish ended (a new one has its own recorder).
                        break 'run;
                    };
                    if let Err(e) = self.on_message(&frame.msg).await {
                        error!("dvr: recording stopped: {e}");
                        return;
                    }
                }
                continue;
            }
            if self.source.publisher() != publisher {
                break;
            }
            let tick = self.ctx.rt.sleep(Duration::from_secs(1));
            let ready = Box::pin(consumer.ready(MergeRule::IMMEDIATE));
            let _ = select(select(ready, stop), tick).await;
        }
        drop(consumer);
        if let Err(e) = self.close().await {
            error!("dvr: closing the recording failed: {e}");
        }
        debug!("dvr recorder stopped");
    }

    async fn on_message(&mut self, msg: &MediaMessage) -> std::io::Result<()> {
        // An MP4 file declares its tracks' decoder configuration once: a new
        // one (a resolution change, another audio rate) starts a new file.
        let differs =
            |old: &Option<MediaMessage>| old.as_ref().is_some_and(|h| h.payload != msg.payload);
        let reconfigured = msg.is_sequence_header()
            && match msg.kind {
                MediaKind::Video => differs(&self.headers.video),
                MediaKind::Audio => differs(&self.headers.audio),
                MediaKind::Data => false,
            };
        let header = match msg.kind {
            MediaKind::Data if is_metadata(&msg.payload) => {
                self.headers.metadata = Some(msg.clone());
                true
            }
            MediaKind::Video if msg.is_sequence_header() => {
                self.headers.video = Some(msg.clone());
                true
            }
            MediaKind::Audio if msg.is_sequence_header() => {
                self.headers.audio = Some(msg.clone());
                true
            }
            _ => false,
        };
        if let Some(file) = &self.file {
            let reap = (self.config.plan == DvrPlan::Segment
                && !header
                && file.duration_ms() >= millis(self.config.duration)
                && (!self.config.wait_keyframe || msg.is_keyframe()))
                || (reconfigured
                    && self.config.path.container() == Container::Mp4
                    && file.first_ts.is_some());
            if reap {
                self.close().await?;
            }
        }
        if self.file.is_none() {
            self.open(msg.timestamp)?;
            if header {
                // Written with the other headers.
                return self.flush(false).await;
            }
        }
        if let Some(file) = &mut self.file {
            file.write(msg, msg.timestamp);
        }
        self.flush(false).await
    }

    /// Starts a file; its first messages are the stream's headers, stamped
    /// `ts` (so a file of the segment plan starts where its key frame does).
    fn open(&mut self, ts: u64) -> std::io::Result<()> {
        let Some(path) = self
            .config
            .path
            .render(&self.source.key, self.ctx.rt.unix_time_ms())
        else {
            // Names are checked at publish; this is the second line.
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the stream's file would leave the dvr_path directory",
            ));
        };
        let muxer = match self.config.path.container() {
            Container::Flv => Muxer::Flv(FlvWriter::new(true, true)),
            Container::Mp4 => Muxer::Mp4(Box::default()),
        };
        let mut file = OpenFile {
            tmp: tmp(&path),
            path,
            muxer,
            jitter: TimeJitter::new(self.config.time_jitter),
            first_ts: None,
            last_ts: 0,
            pending: Vec::new(),
            pending_len: 0,
            flushed_ts: 0,
            skipped: 0,
        };
        // The FLV header itself.
        if let Muxer::Flv(w) = &mut file.muxer {
            let head = w.take();
            file.pending_len += head.len();
            file.pending.push(head);
        }
        let h = &self.headers;
        for m in [&h.metadata, &h.video, &h.audio].into_iter().flatten() {
            file.write(m, ts);
        }
        info!(file = %file.path.display(), "dvr: recording");
        self.file = Some(file);
        Ok(())
    }

    /// Appends what is pending when there is enough of it (or `force`).
    async fn flush(&mut self, force: bool) -> std::io::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let due = file.pending_len >= FLUSH_BYTES
            || file.last_ts.saturating_sub(file.flushed_ts) >= FLUSH_MS;
        if file.pending.is_empty() || !(force || due) {
            return Ok(());
        }
        let data = std::mem::take(&mut file.pending);
        file.pending_len = 0;
        file.flushed_ts = file.last_ts;
        let fs = self.ctx.rt.fs();
        let tmp = file.tmp.clone();
        fs_call(&self.ctx, "append", fs.append(&tmp, data)).await
    }

    /// Ends the open file: its last bytes, the rename, `on_dvr`.
    async fn close(&mut self) -> std::io::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let tail = match &mut file.muxer {
            Muxer::Flv(w) => w.take(),
            Muxer::Mp4(m) => m.finish(),
        };
        if !tail.is_empty() {
            file.pending_len += tail.len();
            file.pending.push(tail);
        }
        let empty = file.first_ts.is_none();
        self.flush(true).await?;
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let fs = self.ctx.rt.fs();
        if empty {
            // Only headers: no recording to keep.
            return fs_call(&self.ctx, "remove", fs.remove(&file.tmp)).await;
        }
        fs_call(&self.ctx, "rename", fs.rename(&file.tmp, &file.path)).await?;
        info!(file = %file.path.display(), duration_ms = file.duration_ms(), "dvr: file complete");
        self.on_dvr(&file.path);
        Ok(())
    }

    /// `on_dvr` for a finished file, in the background (SRS calls it once
    /// per file, asynchronously).
    fn on_dvr(&self, path: &Path) {
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let vhost = self.ctx.vhost(&self.source.key.vhost);
        let event = HookEvent::Dvr {
            req: self.publisher.clone(),
            cwd,
            file: path.display().to_string(),
        };
        self.ctx.hooks.notify(&vhost.hooks, event);
    }
}

/// A file system call with [`FS_TIMEOUT`].
async fn fs_call(
    ctx: &ServerCtx,
    what: &str,
    call: impl std::future::Future<Output = std::io::Result<()>>,
) -> std::io::Result<()> {
    match crate::runtime::timeout(&*ctx.rt, FS_TIMEOUT, call).await {
        Some(result) => result.map_err(|e| std::io::Error::new(e.kind(), format!("{what}: {e}"))),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{what}: no answer from the disk in {FS_TIMEOUT:?}"),
        )),
    }
}

/// Properties of `onMetaData` that describe a whole file, not the stream.
const FILE_LENGTH_PROPERTIES: [&str; 2] = ["duration", "filesize"];

/// An `onMetaData` body without `duration` and `filesize`: a recording's
/// differ from what the publisher said (a live encoder says 0, one
/// publishing a file that file's length, and a segment is shorter still),
/// and a file is appended to, never rewritten to correct them (SRS seeks
/// back to patch them). Without them players measure the file itself.
/// Anything that does not decode as AMF0 is kept as it is.
fn without_length(payload: &Bytes) -> Bytes {
    let Ok(mut values) = amf0::decode(payload) else {
        return payload.clone();
    };
    let mut changed = false;
    for value in &mut values {
        if let Amf0Value::Object(props) | Amf0Value::EcmaArray(props) = value {
            let before = props.len();
            props.retain(|(k, _)| !FILE_LENGTH_PROPERTIES.contains(&k.as_str()));
            changed |= props.len() != before;
        }
    }
    if !changed {
        return payload.clone();
    }
    let mut out = Vec::with_capacity(payload.len());
    amf0::encode(&values, &mut out);
    Bytes::from(out)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn tmp(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(props: Vec<(String, Amf0Value)>) -> Bytes {
        let mut out = Vec::new();
        amf0::encode(
            &[
                Amf0Value::String("onMetaData".into()),
                Amf0Value::EcmaArray(props),
            ],
            &mut out,
        );
        Bytes::from(out)
    }

    #[test]
    fn metadata_loses_the_publishers_length_and_keeps_the_rest() {
        let width = ("width".to_owned(), Amf0Value::Number(640.0));
        let body = metadata(vec![
            ("duration".into(), Amf0Value::Number(8.08)),
            width.clone(),
            ("filesize".into(), Amf0Value::Number(1e6)),
        ]);
        assert_eq!(without_length(&body), metadata(vec![width.clone()]));
        let kept = metadata(vec![width]);
        assert_eq!(without_length(&kept), kept);
        let junk = Bytes::from_static(b"\x02\x00");
        assert_eq!(without_length(&junk), junk);
    }
}
