//! The renditions of an Enhanced RTMP v2 multitrack stream as HLS: one
//! media playlist per video rendition and per audio track, and a
//! multivariant ("master") playlist naming them (RFC 8216 4.3.4).
//!
//! The stream's own playlist (`hls_m3u8_file`) stays what it always was,
//! track 0's video and audio muxed, so every player, hook and URL that knew
//! it goes on working. Beside it, `[m3u8 name]_master.m3u8`
//! ([`master_path`]) lists one `EXT-X-STREAM-INF` per video track and the
//! audio tracks as an `EXT-X-MEDIA` group with `URI`s.
//!
//! Track 0 gets playlists of its own here too (video only, `_v0`, and
//! audio only, `_a0`), rather than the master naming the muxed playlist as
//! its first variant. Every variant names the audio group, and an audio
//! rendition's `URI` means its audio is played from that playlist (RFC 8216
//! 4.3.4.2.1); a muxed first variant would then carry track 0's audio a
//! second time. hls.js drops a variant's own audio when an alternate track
//! is selected, but ffmpeg's HLS reader opens both and shows two copies of
//! track 0's audio, and Apple's authoring rules want demuxed audio with
//! alternate audio groups. Separate playlists cost one more segmenter per
//! track 0 kind (the payload bytes are shared; each TS is written once).
//!
//! Each rendition's segmenter is named by the stream part of the templates
//! with `_v<id>` / `_a<id>` added (`live/cam_v1.m3u8`, `live/cam_v1-3.ts`),
//! so the templates must contain `[stream]`; with a template that does not,
//! the renditions are not written (one warning). Audio renditions are cut
//! at `hls_fragment` (`hls_aof_ratio` 1): their segments then last what
//! the video ones do, so the audio playlist's target duration (and the
//! live edge a player keeps from it) matches the variants'.
//!
//! Bounded: at most [`MAX_RENDITIONS`] playlists a stream. A track that
//! first appears mid-stream gets its segmenter then, which starts at the
//! track's next key frame; it is listed in the master once its first
//! segment is closed. The first master waits until every track known then
//! has a segment (or another has three), so a player loading it early
//! does not miss the audio group. Renditions are parked, disposed and cleaned up with
//! the stream's main playlist (`hls_cleanup` by each segmenter, `hls_dispose`
//! through [`Renditions::disposed_paths`]). `on_hls` hooks and the
//! stream's segment counter stay with the main playlist.

use std::path::PathBuf;

use media_core::flv::MAX_TRACKS_PER_MESSAGE;
use media_core::hls::{
    audio_codec, entry_uri, master_path, master_playlist, video_codec, AudioRendition, HlsConfig,
    HlsSegmenter, VariantStream, MIN_SEGMENT_MS,
};
use media_core::{MediaKind, MediaMessage};
use tracing::{debug, warn};

use super::files::{disposed_paths, SegmentFiles};
use crate::context::ServerCtx;
use crate::hub::{split_tracks, StreamKey};

/// Most rendition playlists (video and audio together) one stream writes:
/// the bound of tracks one multitrack message may carry. Each holds a
/// segmenter, its window and an open segment's buffered bytes.
pub const MAX_RENDITIONS: usize = MAX_TRACKS_PER_MESSAGE;

/// One track's playlist.
#[derive(Debug)]
struct Output {
    kind: MediaKind,
    id: u8,
    segmenter: HlsSegmenter,
    files: SegmentFiles,
    /// RFC 6381 codec string, once a sequence header (or MP3 frame) told it.
    codec: Option<String>,
    resolution: Option<(u32, u32)>,
    channels: Option<u8>,
    /// Peak segment bit rate seen (bits/s).
    peak_bps: u64,
    /// Bytes and milliseconds of every segment closed: the average rate.
    bytes: u64,
    ms: u64,
    /// Segments closed: once one is, its playlist exists and the master
    /// lists it.
    closed: u64,
}

impl Output {
    fn learn(&mut self, msg: &MediaMessage) {
        match self.kind {
            MediaKind::Video if msg.flags.sequence_header => {
                if let Some(info) = video_codec(&msg.payload) {
                    self.codec = Some(info.codec);
                    self.resolution = info.resolution;
                }
            }
            MediaKind::Audio if msg.flags.sequence_header || self.codec.is_none() => {
                if let Some(info) = audio_codec(&msg.payload) {
                    self.codec = Some(info.codec);
                    self.channels = info.channels;
                }
            }
            _ => {}
        }
    }

    fn listed(&self) -> bool {
        self.closed > 0
    }

    fn average_bps(&self) -> Option<u64> {
        (self.ms > 0).then(|| self.bytes.saturating_mul(8000) / self.ms)
    }

    /// The stream part of its file names.
    fn stream_name(stream: &str, kind: MediaKind, id: u8) -> String {
        let letter = if kind == MediaKind::Video { 'v' } else { 'a' };
        format!("{stream}_{letter}{id}")
    }
}

/// A stream's rendition playlists and its master playlist.
#[derive(Debug)]
pub(super) struct Renditions {
    key: StreamKey,
    /// The stream's options, with `hls_aof_ratio` 1 (see the module doc).
    config: HlsConfig,
    root: PathBuf,
    /// A multitrack message was seen in this publish: tracks are written.
    active: bool,
    /// The templates cannot tell renditions apart (said once).
    unnamed: bool,
    outputs: Vec<Output>,
    /// Track 0's last sequence headers as published (legacy or
    /// single-track), to start its playlists with when a multitrack
    /// message shows the stream has other tracks.
    video_header: Option<MediaMessage>,
    audio_header: Option<MediaMessage>,
    /// The master's path (relative to the root), once the main playlist
    /// was named.
    master: Option<String>,
    /// What the master says, but for its averages: rewritten when this
    /// changes, not at every segment.
    written: Option<String>,
    /// Some playlist's segment closed since the master was last considered.
    dirty: bool,
}

/// The options of a rendition's segmenter.
fn rendition_config(config: &HlsConfig) -> HlsConfig {
    HlsConfig {
        aof_ratio: 1.0,
        ..config.clone()
    }
}

/// Whether `template` names files per stream.
fn per_stream(template: &str) -> bool {
    template.contains("[stream]")
}

impl Renditions {
    pub(super) fn new(key: &StreamKey, config: &HlsConfig, root: PathBuf) -> Self {
        Self {
            key: key.clone(),
            config: rendition_config(config),
            root,
            active: false,
            unnamed: false,
            outputs: Vec::new(),
            video_header: None,
            audio_header: None,
            master: None,
            written: None,
            dirty: false,
        }
    }

    /// Takes new options (a reload) for every playlist, keeping windows
    /// and numbering; `false` when one refused them (see
    /// `HlsSegmenter::reconfigure`): the caller then starts afresh.
    pub(super) fn reconfigure(&mut self, config: &HlsConfig) -> bool {
        let config = rendition_config(config);
        if self
            .outputs
            .iter_mut()
            .all(|o| *o.segmenter.config() == config || o.segmenter.reconfigure(config.clone()))
        {
            self.config = config;
            true
        } else {
            false
        }
    }

    /// No rendition was ever written.
    pub(super) fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// The file identities (`app/stream_v1`, as the manager compares
    /// streams) its playlists write under.
    pub(super) fn identities(&self) -> Vec<String> {
        self.outputs
            .iter()
            .map(|o| rendition_identity(&self.key, o.kind, o.id))
            .collect()
    }

    /// Feeds one message of the stream. `multitrack`: it is an E-RTMP
    /// multitrack message ([`crate::hub::Frame::is_multitrack`]); any other
    /// is the default track's as it stands. `main_playlist` is the stream's
    /// own playlist path, which names the master.
    pub(super) async fn push(
        &mut self,
        ctx: &ServerCtx,
        msg: &MediaMessage,
        multitrack: bool,
        main_playlist: Option<&str>,
    ) {
        if !multitrack {
            if msg.flags.sequence_header {
                match msg.kind {
                    MediaKind::Video => self.video_header = Some(msg.clone()),
                    MediaKind::Audio => self.audio_header = Some(msg.clone()),
                    MediaKind::Data => {}
                }
            }
            if self.active && msg.kind != MediaKind::Data {
                self.feed(ctx, msg.kind, 0, msg).await;
            }
        } else if let Some(tracks) = split_tracks(msg) {
            if !self.active && !self.activate(ctx).await {
                return;
            }
            for (id, track) in tracks {
                self.feed(ctx, msg.kind, id, &track).await;
            }
        }
        self.write_master(ctx, main_playlist).await;
    }

    /// The stream turned out multitrack: its tracks are written from now
    /// on, track 0 from its last sequence headers.
    async fn activate(&mut self, ctx: &ServerCtx) -> bool {
        let c = &self.config;
        let fmp4 = c.use_fmp4 || c.low_latency;
        let segments = if fmp4 { &c.fmp4_file } else { &c.ts_file };
        let named =
            per_stream(&c.m3u8_file) && per_stream(segments) && (!fmp4 || per_stream(&c.init_file));
        if !named {
            if !self.unnamed {
                self.unnamed = true;
                warn!("hls: multitrack renditions not written: hls_m3u8_file and the segment (and init) templates need [stream] to name them apart");
            }
            return false;
        }
        self.active = true;
        for header in [self.video_header.take(), self.audio_header.take()]
            .into_iter()
            .flatten()
        {
            self.feed(ctx, header.kind, 0, &header).await;
        }
        true
    }

    /// Gives `msg` (one track, single-track form) to its track's playlist,
    /// starting one for a track not seen before.
    async fn feed(&mut self, ctx: &ServerCtx, kind: MediaKind, id: u8, msg: &MediaMessage) {
        let index = match self
            .outputs
            .iter()
            .position(|o| o.kind == kind && o.id == id)
        {
            Some(i) => i,
            None => {
                if self.outputs.len() >= MAX_RENDITIONS {
                    return;
                }
                let identity = rendition_identity(&self.key, kind, id);
                if !ctx.hls.claim(&self.key, &identity) {
                    return;
                }
                let name = Output::stream_name(&self.key.stream, kind, id);
                self.outputs.push(Output {
                    kind,
                    id,
                    segmenter: HlsSegmenter::new(self.config.clone(), &self.key.app, &name)
                        .single_media(),
                    files: SegmentFiles::new(self.root.clone()),
                    codec: None,
                    resolution: None,
                    channels: None,
                    peak_bps: 0,
                    bytes: 0,
                    ms: 0,
                    closed: 0,
                });
                self.outputs.len() - 1
            }
        };
        let Some(output) = self.outputs.get_mut(index) else {
            return;
        };
        output.learn(msg);
        if let Err(e) = output.segmenter.push(msg, ctx.rt.unix_time_ms()) {
            debug!(track = id, "hls rendition: frame skipped: {e}");
        }
        if execute(ctx, output).await {
            self.dirty = true;
        }
    }

    /// The publisher left: every playlist closes its segment. The next
    /// publish writes renditions again once it sends a multitrack message
    /// (numbering goes on, after a discontinuity).
    pub(super) async fn on_unpublish(&mut self, ctx: &ServerCtx) {
        for output in &mut self.outputs {
            output.segmenter.on_unpublish();
            if execute(ctx, output).await {
                self.dirty = true;
            }
        }
        self.active = false;
        self.video_header = None;
        self.audio_header = None;
    }

    /// A publisher (re)started.
    pub(super) async fn on_republish(&mut self, ctx: &ServerCtx) {
        for output in &mut self.outputs {
            output.segmenter.on_republish();
            execute(ctx, output).await;
        }
        self.active = false;
        self.video_header = None;
        self.audio_header = None;
    }

    /// Gives back room sized for media (waiting for a republish).
    pub(super) fn shrink(&mut self) {
        for output in &mut self.outputs {
            output.files.shrink();
        }
    }

    /// The LL-HLS playlists (served from memory) of its renditions.
    pub(super) fn live_playlists(&self) -> Vec<PathBuf> {
        self.outputs
            .iter()
            .filter_map(|o| o.segmenter.playlist_path().map(|p| self.root.join(p)))
            .collect()
    }

    /// `hls_dispose`: every rendition's segments and playlist, and the
    /// master, as paths relative to the root; the playlists start afresh.
    pub(super) fn disposed_paths(&mut self) -> Vec<String> {
        let mut paths = Vec::new();
        for output in &mut self.outputs {
            paths.extend(disposed_paths(&mut output.segmenter));
            output.closed = 0;
            output.peak_bps = 0;
            output.bytes = 0;
            output.ms = 0;
        }
        paths.extend(self.master.clone());
        self.written = None;
        paths
    }

    /// Writes the master when what it lists changed (a rendition's first
    /// segment, a higher peak rate, a new codec or size). Without a listed
    /// video rendition there is nothing to list (a variant is required,
    /// RFC 8216 4.3.4.2).
    async fn write_master(&mut self, ctx: &ServerCtx, main_playlist: Option<&str>) {
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        if self.master.is_none() {
            self.master = main_playlist.map(master_path);
        }
        let Some(master) = self.master.clone() else {
            // Considered again at the next close, once the main playlist is named.
            self.dirty = true;
            return;
        };
        // The first master waits for every track that will have segments
        // (its codec is one HLS carries), so a player that loads it at
        // once finds the audio group too; a track that stays silent holds
        // it up for three segments of another at most.
        let waiting = self
            .outputs
            .iter()
            .any(|o| o.codec.is_some() && !o.listed());
        if self.written.is_none() && waiting && self.outputs.iter().all(|o| o.closed < 3) {
            return;
        }
        let mut listed: Vec<&Output> = self.outputs.iter().filter(|o| o.listed()).collect();
        listed.sort_by_key(|o| o.id);
        let uri = |o: &Output| {
            o.segmenter
                .playlist_path()
                .map(|p| entry_uri(None, &master, p))
        };
        let variants: Vec<VariantStream> = listed
            .iter()
            .filter(|o| o.kind == MediaKind::Video)
            .filter_map(|o| {
                Some(VariantStream {
                    uri: uri(o)?,
                    peak_bps: o.peak_bps,
                    average_bps: o.average_bps(),
                    resolution: o.resolution,
                    codec: o.codec.clone(),
                })
            })
            .collect();
        if variants.is_empty() {
            return;
        }
        let audio: Vec<AudioRendition> = listed
            .iter()
            .filter(|o| o.kind == MediaKind::Audio)
            .enumerate()
            .filter_map(|(i, o)| {
                Some(AudioRendition {
                    uri: uri(o)?,
                    name: format!("track {}", o.id),
                    // Track 0 when listed, else the lowest id.
                    default: i == 0,
                    peak_bps: o.peak_bps,
                    average_bps: o.average_bps(),
                    codec: o.codec.clone(),
                    channels: o.channels,
                })
            })
            .collect();
        let without_averages = {
            let mut v = variants.clone();
            let mut a = audio.clone();
            v.iter_mut().for_each(|v| v.average_bps = None);
            a.iter_mut().for_each(|a| a.average_bps = None);
            master_playlist(&v, &a)
        };
        if self.written.as_deref() == Some(without_averages.as_str()) {
            return;
        }
        let text = master_playlist(&variants, &audio);
        match super::under(&self.root, &master) {
            Ok(path) => {
                if let Err(e) = ctx.rt.fs().write(&path, vec![text.into()]).await {
                    warn!("hls master playlist write failed: {e}");
                    return;
                }
                self.written = Some(without_averages);
            }
            Err(e) => warn!("hls master playlist: {e}"),
        }
    }
}

/// What the manager compares to keep two streams' files apart, for a
/// rendition: the stream part its templates render.
pub(super) fn rendition_identity(key: &StreamKey, kind: MediaKind, id: u8) -> String {
    format!("{}/{}", key.app, Output::stream_name(&key.stream, kind, id))
}

/// Carries out `output`'s pending actions; whether a segment was closed.
async fn execute(ctx: &ServerCtx, output: &mut Output) -> bool {
    let mut closed_any = false;
    while let Some(action) = output.segmenter.poll_action() {
        match output.files.apply(ctx, &output.segmenter, action).await {
            Ok(Some(closed)) => {
                closed_any = true;
                output.closed = output.closed.saturating_add(1);
                output.bytes = output.bytes.saturating_add(closed.bytes);
                output.ms = output.ms.saturating_add(closed.duration_ms);
                // A segment cut short (the last one at unpublish, or one a
                // codec change cut) says little about the peak.
                if closed.duration_ms >= MIN_SEGMENT_MS {
                    let bps = closed.bytes.saturating_mul(8000) / closed.duration_ms;
                    output.peak_bps = output.peak_bps.max(bps);
                }
            }
            Ok(None) => {}
            Err(e) => warn!("hls rendition write failed: {e}"),
        }
    }
    closed_any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::http::testing::ManualRuntime;
    use crate::runtime::{BoxFuture, FileSystem, FileWriter};
    use bytes::Bytes;
    use futures_util::FutureExt;
    use std::collections::BTreeMap;
    use std::io;
    use std::path::Path;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    type Files = Arc<Mutex<BTreeMap<PathBuf, Vec<u8>>>>;

    /// Files in memory, written whole or through an open file.
    #[derive(Debug, Default)]
    struct Fs(Files);

    fn done<T: Send + 'static>(v: io::Result<T>) -> BoxFuture<'static, io::Result<T>> {
        Box::pin(std::future::ready(v))
    }

    impl FileSystem for Fs {
        fn write(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
            self.0.lock().unwrap().insert(path.into(), data.concat());
            done(Ok(()))
        }

        fn append(&self, path: &Path, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
            let mut files = self.0.lock().unwrap();
            files.entry(path.into()).or_default().extend(data.concat());
            done(Ok(()))
        }

        fn rename(&self, from: &Path, to: &Path) -> BoxFuture<'static, io::Result<()>> {
            let mut files = self.0.lock().unwrap();
            done(match files.remove(from) {
                Some(d) => {
                    files.insert(to.into(), d);
                    Ok(())
                }
                None => Err(io::ErrorKind::NotFound.into()),
            })
        }

        fn remove(&self, path: &Path) -> BoxFuture<'static, io::Result<()>> {
            self.0.lock().unwrap().remove(path);
            done(Ok(()))
        }

        fn read(&self, path: &Path, _limit: u64) -> BoxFuture<'static, io::Result<Bytes>> {
            let data = self.0.lock().unwrap().get(path).cloned();
            done(data.map(Bytes::from).ok_or(io::ErrorKind::NotFound.into()))
        }

        fn create(&self, path: &Path) -> BoxFuture<'static, io::Result<Box<dyn FileWriter>>> {
            self.0.lock().unwrap().insert(path.into(), Vec::new());
            done(Ok(Box::new(Writer(self.0.clone(), path.into()))))
        }
    }

    struct Writer(Files, PathBuf);

    impl FileWriter for Writer {
        fn write_all(&mut self, data: Vec<Bytes>) -> BoxFuture<'static, io::Result<()>> {
            let mut files = self.0.lock().unwrap();
            files
                .entry(self.1.clone())
                .or_default()
                .extend(data.concat());
            done(Ok(()))
        }

        fn close(self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
            done(Ok(()))
        }
    }

    /// H.264 Baseline 3.1 decoder configuration (ISO 14496-15 5.2.4.1).
    const AVC_RECORD: &[u8] = &[
        0x01, 0x42, 0xd0, 0x0b, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xd0, 0x0b, 0xda, 0x0a, 0x11,
        0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x1e, 0x8f, 0x12,
        0x26, 0xa0, 0x01, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80,
    ];

    /// An E-RTMP v2 OneTrack message (video packet type 6, audio 5) of
    /// track `id`: `packet` (0 SequenceStart, 1 CodedFrames) of `fourcc`.
    fn one_track(
        kind: MediaKind,
        ts: u64,
        key: bool,
        packet: u8,
        id: u8,
        body: &[u8],
    ) -> MediaMessage {
        let (first, fourcc) = match kind {
            MediaKind::Video => (0x80 | (if key { 1 } else { 2 } << 4) | 6, b"avc1"),
            _ => (0x90 | 5, b"mp4a"),
        };
        let mut p = vec![first, packet];
        p.extend_from_slice(fourcc);
        p.push(id);
        p.extend_from_slice(body);
        MediaMessage::new(kind, ts, Bytes::from(p))
    }

    /// A multitrack stream's first master waits for a track whose first
    /// segment comes late (its codec known from the start), then lists
    /// every track: a player loading it at once finds the audio group.
    #[test]
    fn the_first_master_waits_for_a_late_tracks_first_segment() {
        let files = Files::default();
        let rt = ManualRuntime::with_fs(Arc::new(Fs(files.clone())));
        let ctx = ServerCtx::new(rt, Config::default());
        let key = StreamKey {
            vhost: "__defaultVhost__".into(),
            app: "live".into(),
            stream: "mt".into(),
        };
        let config = HlsConfig {
            fragment: Duration::from_secs(2),
            ..HlsConfig::default()
        };
        let mut r = Renditions::new(&key, &config, PathBuf::from("/hls"));
        let main = Some("live/mt.m3u8");
        let master = Path::new("/hls/live/mt_master.m3u8");
        let mut push = |m: MediaMessage| {
            r.push(&ctx, &m, true, main)
                .now_or_never()
                .expect("the test file system answers at once")
        };
        let master_text = || {
            files
                .lock()
                .unwrap()
                .get(master)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let segments = |name: &str| {
            files
                .lock()
                .unwrap()
                .keys()
                .filter(|p| {
                    let p = p.to_string_lossy();
                    p.contains(name) && p.ends_with(".ts")
                })
                .count()
        };
        // Video track 0 and audio track 1 (AAC-LC 44.1 kHz stereo) both
        // send their sequence headers at once.
        push(one_track(MediaKind::Video, 0, true, 0, 0, AVC_RECORD));
        push(one_track(MediaKind::Audio, 0, false, 0, 1, &[0x12, 0x10]));
        let key_frame = [0, 0, 0, 0, 0, 0, 2, 0x65, 0x88];
        // Video cuts at its key frames every 2 s; audio sends nothing yet.
        for t in 0..=2u64 {
            push(one_track(
                MediaKind::Video,
                t * 2000,
                true,
                1,
                0,
                &key_frame,
            ));
        }
        assert_eq!(segments("mt_v0"), 2, "video track 0 closed two segments");
        assert_eq!(master_text(), None, "the master waits for audio track 1");
        // Audio track 1's frames start: its first segment closes at 2 s.
        for i in 0..=100u64 {
            push(one_track(
                MediaKind::Audio,
                4000 + i * 23,
                false,
                1,
                1,
                &[0x21; 64],
            ));
        }
        assert_eq!(
            segments("mt_a1"),
            1,
            "audio track 1 closed its first segment"
        );
        let text = master_text().expect("the master, once every track has a segment");
        assert!(text.contains("#EXT-X-STREAM-INF"), "{text}");
        assert!(text.contains("mt_v0.m3u8"), "{text}");
        assert!(
            text.contains("TYPE=AUDIO") && text.contains("mt_a1.m3u8"),
            "{text}"
        );
    }
}
