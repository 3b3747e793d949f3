//! The HLS segmenter: media messages in, file actions out (RFC 8216).
//!
//! Sans-IO in the str0m style: [`HlsSegmenter::push`] feeds one message,
//! [`HlsSegmenter::poll_action`] drains what to do about it. The runtime owns
//! files, clocks and timers; the segmenter owns every decision.

mod cmaf;
mod suspend;

use std::collections::VecDeque;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::config::HlsConfig;
use super::error::HlsError;
use super::playlist::{Entry, Window};
use super::template::{entry_uri, render, Vars};
use crate::message::MediaMessage;
use crate::remux::Remuxer;
use crate::ts::{EsFrame, Track, TsMuxer, TsStreams};

pub use suspend::{PlaylistShelf, ShelfId, SuspendedPlaylist};

/// TS bytes of the open segment are handed out in pieces of at least this
/// size (and at segment close), so a segment is a handful of appends rather
/// than one per frame. It is also what a stream holds while its next piece
/// fills: at 64 KiB that was most of HLS's memory a stream (issue 22); at
/// 16 KiB a 500 kbit/s stream hands out four pieces a second, which cost no
/// measurable CPU more at 200 streams (BENCHMARKS.md).
pub const APPEND_MIN_BYTES: usize = 16 * 1024;
/// At most this many audio frames share one PES packet. Small audio frames
/// are bundled to cut per-PES overhead (a PES header and a mostly stuffed
/// last packet per frame), as SRS and ffmpeg do.
pub const AUDIO_PES_MAX_FRAMES: usize = 8;
/// An audio PES never spans more than this (90 kHz ticks, 100 ms), which
/// bounds how far audio trails video in the multiplex.
pub const AUDIO_PES_MAX_SPAN: u64 = 9_000;
/// An audio PES stays below this many payload bytes, so PES_packet_length
/// (16 bits) can describe it.
pub const AUDIO_PES_MAX_BYTES: usize = 60_000;

/// No segment is cut by duration before it is this long (ms), whatever
/// `hls_fragment` says; SRS has the same guard against tiny segments. A codec
/// change still cuts at once.
pub const MIN_SEGMENT_MS: u64 = 200;

/// Before the first segment of a publish, frames wait up to this much media
/// time (ms) for the other track's configuration, so the first segment's
/// PMT lists both: an MP3 track has no sequence header and is only known
/// from its first frame, and some encoders send the AAC header late.
pub const PROBE_MS: u64 = 1000;
/// At most this many frames wait at the start of a publish.
pub const PROBE_MAX_FRAMES: usize = 512;
/// At most this many bytes wait at the start of a publish. The frame and
/// time caps alone let a publisher whose timestamps stand still park 512
/// frames of up to 16 MiB each (8 GiB) here. 16 MiB is a second of a
/// 134 Mbit/s stream, more than the probe ever needs; a frame counts with
/// the whole message it came in, since its slices keep that alive.
pub const PROBE_MAX_BYTES: usize = 16 * 1024 * 1024;

/// Bound on one segment's TS bytes. The time rules alone never cut a
/// segment whose timestamps stand still (or a video stream without key
/// frames), so it would grow without end. From half of this on, the next
/// frame that can start a segment (a video key frame, or audio when there is
/// no video) cuts, whatever the duration; from this on, any frame does. Half
/// is 128 MiB, over 20 s of a 50 Mbit/s 4K stream, so only a very long
/// `hls_fragment` at a high bit rate ever meets the first rule, and then it
/// cuts where a normal cut would.
pub const MAX_SEGMENT_BYTES: u64 = 256 * 1024 * 1024;

/// What the runtime must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HlsAction {
    /// Start a new segment file (write to a temporary name; see `CloseSegment`).
    OpenSegment {
        /// Media sequence number of the segment.
        seq: u64,
        /// Path relative to the HLS root. With `[duration]` in the template
        /// the final name is only known at close.
        path: String,
    },
    /// Append TS bytes to segment `seq`.
    Append {
        /// The segment.
        seq: u64,
        /// Whole 188-byte packets.
        bytes: Bytes,
    },
    /// Segment `seq` is complete: make it visible under `path` (the final
    /// name; rename the temporary file to it).
    CloseSegment {
        /// The segment.
        seq: u64,
        /// Final path relative to the HLS root.
        path: String,
        /// Duration as listed in the playlist.
        duration_ms: u64,
    },
    /// Replace the playlist at `path` with `text` (write-then-rename, so a
    /// reader never sees half a playlist).
    WritePlaylist {
        /// Path relative to the HLS root.
        path: String,
        /// The whole media playlist.
        text: String,
    },
    /// Create or replace the fMP4 init segment (`ftyp` + `moov`) at `path`
    /// (write-then-rename). Comes before the playlist that names it.
    WriteInit {
        /// Path relative to the HLS root.
        path: String,
        /// The whole init segment.
        bytes: Bytes,
    },
    /// LL-HLS: a partial segment is complete; keep it in memory under
    /// `path` (no file is written) while its segment `msn` is among the
    /// newest [`LL_SEGMENTS_WITH_PARTS`](super::LL_SEGMENTS_WITH_PARTS) + 1.
    PublishPart {
        /// Media sequence number of its segment.
        msn: u64,
        /// Path relative to the HLS root, as the playlist names it.
        path: String,
        /// Its `moof`+`mdat`.
        bytes: Bytes,
    },
    /// LL-HLS: the playlist at `path` changed; serve it from memory.
    LivePlaylist {
        /// Path relative to the HLS root.
        path: String,
        /// The whole playlist.
        full: String,
        /// The delta update (`_HLS_skip=YES`, RFC 8216bis 6.2.5.1).
        delta: String,
        /// The segment being written (or the next one) ...
        msn: u64,
        /// ... and how many of its parts the playlist lists: a blocking
        /// request for (`_HLS_msn`, `_HLS_part`) is answered once
        /// `_HLS_msn < msn`, or `_HLS_msn == msn && _HLS_part < parts`.
        parts: u32,
        /// The path (relative to the HLS root) of the part
        /// `EXT-X-PRELOAD-HINT` names: a request for it may wait for it.
        hint: Option<String>,
    },
    /// Delete a segment that left the window (hls_cleanup) or is disposed.
    DeleteSegment {
        /// The segment.
        seq: u64,
        /// Path relative to the HLS root.
        path: String,
    },
}

/// The segment being written.
#[derive(Debug)]
struct Current {
    seq: u64,
    open_path: String,
    unix_ms: u64,
    /// DTS (ms) of the first frame; the segment lasts until the first frame
    /// of the next one.
    start_ms: u64,
    /// Last DTS (ms) and last DTS step of the primary track (video if any),
    /// used to estimate the end of the last segment at unpublish.
    last_ms: u64,
    last_step_ms: u64,
    discontinuity: bool,
    streams: TsStreams,
    generation: u64,
    /// TS bytes written so far (see [`MAX_SEGMENT_BYTES`]).
    bytes: u64,
}

/// What the cut rule looks at in a frame.
#[derive(Debug, Clone, Copy)]
struct CutInput {
    /// The stream has video now (a segment then starts at a key frame).
    video_known: bool,
    /// The open segment has video (it is then cut at video frames only).
    video_in_segment: bool,
    is_video: bool,
    keyframe: bool,
    dts_ms: u64,
}

/// Audio frames waiting to share a PES packet (at most
/// [`AUDIO_PES_MAX_FRAMES`], together under [`AUDIO_PES_MAX_BYTES`]).
#[derive(Debug, Default)]
struct AudioRun {
    frames: Vec<EsFrame>,
    bytes: usize,
}

/// One stream's HLS output. Keep it alive across unpublish/republish: the
/// sequence numbers, continuity counters and window carry on, and the
/// republish is marked with EXT-X-DISCONTINUITY.
#[derive(Debug)]
pub struct HlsSegmenter {
    config: HlsConfig,
    app: String,
    stream: String,
    remuxer: Remuxer,
    muxer: TsMuxer,
    current: Option<Current>,
    audio: AudioRun,
    buf: BytesMut,
    window: Window,
    next_seq: u64,
    m3u8_path: Option<String>,
    /// The next segment starts with EXT-X-DISCONTINUITY.
    discontinuity: bool,
    /// Codecs changed: cut at the next opportunity, whatever the duration.
    cut_requested: bool,
    actions: VecDeque<HlsAction>,
    skipped: u64,
    /// Frames (with their DTS in ms) waiting for the first segment.
    probe: Vec<(EsFrame, u64)>,
    /// What the waiting frames hold (see [`PROBE_MAX_BYTES`]).
    probe_bytes: usize,
    /// The last `now_unix_ms` given, for segments opened by `on_unpublish`.
    last_now_ms: u64,
    /// `hls_use_fmp4` (or LL-HLS, or `hls_fmp4_fallback` once a codec TS
    /// cannot carry arrived): the CMAF muxer, which takes the place of the
    /// remuxer, the TS muxer and the probe.
    cmaf: Option<cmaf::Cmaf>,
    /// `hls_fmp4_fallback`: the codec whose arrival turned this TS
    /// playlist to fMP4, if one did.
    fallback: Option<&'static str>,
    /// The last video and audio sequence headers taken in TS mode, for the
    /// fMP4 muxer should a codec TS cannot carry turn up.
    ts_headers: [Option<MediaMessage>; 2],
    /// Only one kind of media comes (see [`single_media`](Self::single_media)).
    single_media: bool,
}

impl HlsSegmenter {
    /// A segmenter for `app`/`stream`.
    pub fn new(config: HlsConfig, app: &str, stream: &str) -> Self {
        Self {
            cmaf: config.fmp4().then(cmaf::Cmaf::new),
            fallback: None,
            ts_headers: [None, None],
            config,
            app: app.to_owned(),
            stream: stream.to_owned(),
            remuxer: Remuxer::new(),
            muxer: TsMuxer::new(TsStreams::default()),
            current: None,
            audio: AudioRun::default(),
            buf: BytesMut::new(),
            window: Window::default(),
            next_seq: 0,
            m3u8_path: None,
            discontinuity: false,
            cut_requested: false,
            actions: VecDeque::new(),
            skipped: 0,
            probe: Vec::new(),
            probe_bytes: 0,
            last_now_ms: 0,
            single_media: false,
        }
    }

    /// Tells the segmenter that its input carries one kind of media only
    /// (a multitrack stream's rendition playlist: one video or one audio
    /// track). The first segment then starts as soon as that media's
    /// configuration is known, instead of waiting up to [`PROBE_MS`] (and
    /// [`PROBE_MAX_BYTES`]) for another track that never comes: with 32
    /// renditions a stream, a publisher whose timestamps stand still could
    /// otherwise park 32 probes' worth.
    pub fn single_media(mut self) -> Self {
        self.single_media = true;
        self
    }

    /// Feeds one message (timestamps already jitter-corrected, ms).
    /// `now_unix_ms` names files (`[timestamp]`, date variables).
    ///
    /// A frame that cannot be converted is skipped, counted and reported as
    /// the error; the stream carries on with the next message.
    pub fn push(&mut self, msg: &MediaMessage, now_unix_ms: u64) -> Result<(), HlsError> {
        self.last_now_ms = now_unix_ms;
        if self.cmaf.is_none() && self.config.fmp4_fallback {
            if let Some(codec) = cmaf::needs_fmp4(msg) {
                self.fall_back_to_fmp4(msg.timestamp, codec, now_unix_ms);
            }
        }
        if self.cmaf.is_some() {
            return self.push_cmaf(msg, now_unix_ms);
        }
        if let Some(is_video) = cmaf::sequence_header_kind(msg) {
            self.ts_headers[usize::from(!is_video)] = Some(msg.clone());
        }
        let frame = match self.remuxer.push(msg) {
            Ok(f) => f,
            Err(e) => {
                self.skipped += 1;
                return Err(e.into());
            }
        };
        if let Some(cur) = &self.current {
            if self.remuxer.streams() != cur.streams || self.remuxer.generation() != cur.generation
            {
                self.cut_requested = true;
            }
        }
        if let Some(frame) = frame {
            // The frame's pieces keep the whole message alive, even the
            // parts (AUDs, empty NAL units) it leaves out.
            let held = frame.data.len().max(msg.payload.len());
            self.on_frame(frame, msg.timestamp, held, now_unix_ms);
        }
        if self.buf.len() >= APPEND_MIN_BYTES {
            self.flush_buf();
        }
        Ok(())
    }

    /// `hls_fmp4_fallback`: a message of `codec`, which MPEG-TS cannot carry
    /// here but fMP4 can, arrived in TS mode at `at_ms`. The open TS
    /// segment ends there; the playlist goes on in fMP4 after a
    /// discontinuity (RFC 8216 4.3.2.3 names a change of format as a
    /// reason for one) and stays fMP4 for the segmenter's life, since a TS
    /// segment may not follow an `EXT-X-MAP` (4.3.2.5: the map applies to
    /// every segment after it). The sequence headers TS mode took go to
    /// the fMP4 muxer; TS frames waiting for the first segment are
    /// dropped (that segment now starts at the next key frame).
    fn fall_back_to_fmp4(&mut self, at_ms: u64, codec: &'static str, now_unix_ms: u64) {
        if let Some(cur) = &self.current {
            let end = at_ms.max(cur.start_ms);
            self.close_segment(end);
        }
        self.probe = Vec::new();
        self.probe_bytes = 0;
        self.remuxer.reset();
        self.cut_requested = false;
        if self.next_seq > 0 {
            self.discontinuity = true;
        }
        self.cmaf = Some(cmaf::Cmaf::new());
        self.fallback = Some(codec);
        for header in std::mem::take(&mut self.ts_headers).into_iter().flatten() {
            // They were taken once; one the muxer refuses is skipped as
            // it would have been in fMP4 mode from the start.
            let _ = self.push_cmaf(&header, now_unix_ms);
        }
    }

    /// The codec (by its API name, `AV1`, `Opus`...) that turned this
    /// playlist from MPEG-TS to fMP4 (`hls_fmp4_fallback`); `None` while
    /// it is TS, or when it was fMP4 from the start.
    pub fn fmp4_fallback(&self) -> Option<&'static str> {
        self.fallback
    }

    /// Segments are fMP4: `hls_use_fmp4`, LL-HLS, or the fallback.
    pub fn is_fmp4(&self) -> bool {
        self.cmaf.is_some()
    }

    /// The segment path template in force: `fmp4_file` or `ts_file`.
    fn segment_file(&self) -> &str {
        if self.cmaf.is_some() {
            &self.config.fmp4_file
        } else {
            &self.config.ts_file
        }
    }

    /// The next action, if any.
    pub fn poll_action(&mut self) -> Option<HlsAction> {
        self.actions.pop_front()
    }

    /// The publisher left: close the open segment (its duration runs to the
    /// end of its last frame) and write the playlist. The playlist gets no
    /// EXT-X-ENDLIST, since a republish continues it (RFC 8216 6.2.1 forbids
    /// changing a playlist after ENDLIST). Codec state is forgotten: the next
    /// publisher sends its own sequence headers.
    pub fn on_unpublish(&mut self) {
        if !self.probe.is_empty() {
            self.start(self.last_now_ms);
        }
        if let Some(cur) = &self.current {
            let end = if cur.last_ms >= cur.start_ms {
                cur.last_ms.saturating_add(cur.last_step_ms)
            } else {
                cur.start_ms
            };
            self.close_segment(end);
        }
        self.remuxer.reset();
        self.ts_headers = [None, None];
        if let Some(cmaf) = &mut self.cmaf {
            cmaf.reset();
        }
        self.cut_requested = false;
        if self.next_seq > 0 {
            self.discontinuity = true;
        }
        // Everything written was handed out with the close: drop the rest
        // of the write buffer's allocation (up to [`APPEND_MIN_BYTES`] and
        // more, shared with the last `Append`) and the probe's, so a stopped
        // stream kept for a republish holds its playlist window only.
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
        self.probe = Vec::new();
    }

    /// A publisher (re)started. Closes any open segment as an unpublish would
    /// (the runtime may have missed it); the next segment is marked with
    /// EXT-X-DISCONTINUITY when segments were written before.
    pub fn on_republish(&mut self) {
        if self.current.is_some() || !self.probe.is_empty() {
            self.on_unpublish();
        }
    }

    /// hls_dispose as data: after an unpublish, how long the runtime should
    /// wait for a republish before calling [`dispose`](Self::dispose). `None`
    /// while publishing, when disabled, or when nothing is left to remove.
    pub fn dispose_after(&self) -> Option<Duration> {
        (self.current.is_none() && !self.config.dispose.is_zero() && !self.window.is_empty())
            .then_some(self.config.dispose)
    }

    /// Removes every listed segment (`DeleteSegment` actions) and empties the
    /// window; the runtime removes the playlist file itself
    /// ([`playlist_path`](Self::playlist_path)). Sequence numbers still
    /// continue. Ignored while a segment is open.
    pub fn dispose(&mut self) {
        if self.current.is_some() {
            return;
        }
        let removed = self.window.clear();
        let retired = self.retired_inits(&removed, true);
        for e in removed {
            self.actions.push_back(HlsAction::DeleteSegment {
                seq: e.seq,
                path: e.path,
            });
        }
        for (seq, path) in retired {
            self.actions
                .push_back(HlsAction::DeleteSegment { seq, path });
        }
        self.discontinuity = false;
    }

    /// The playlist path, once the first segment was opened.
    pub fn playlist_path(&self) -> Option<&str> {
        self.m3u8_path.as_deref()
    }

    /// Messages skipped because they could not be converted.
    pub fn skipped_frames(&self) -> u64 {
        self.skipped
    }

    /// The options in force.
    pub fn config(&self) -> &HlsConfig {
        &self.config
    }

    /// New options for the segments to come (a config reload), keeping the
    /// playlist's window and numbering. Only between segments (after
    /// [`on_unpublish`](Self::on_unpublish)); and `m3u8_file` and
    /// `entry_prefix` name the playlist and the entries already listed, so
    /// they must stay. Otherwise nothing changes and `false` says to start
    /// a new segmenter.
    pub fn reconfigure(&mut self, config: HlsConfig) -> bool {
        let between = self.current.is_none() && self.probe.is_empty();
        if !between
            || config.m3u8_file != self.config.m3u8_file
            || config.entry_prefix != self.config.entry_prefix
            || config.fmp4() != self.config.fmp4()
            || config.low_latency != self.config.low_latency
        {
            return false;
        }
        self.config = config;
        true
    }

    /// `held` is what the frame keeps in memory while it waits.
    fn on_frame(&mut self, frame: EsFrame, dts_ms: u64, held: usize, now_unix_ms: u64) {
        if self.current.is_some() {
            self.place(frame, dts_ms, now_unix_ms);
            return;
        }
        self.probe.push((frame, dts_ms));
        self.probe_bytes = self.probe_bytes.saturating_add(held);
        let want = self.remuxer.streams();
        let first = self.probe.first().map_or(dts_ms, |p| p.1);
        let ready = (want.video.is_some() && want.audio.is_some())
            || (self.single_media && (want.video.is_some() || want.audio.is_some()))
            || dts_ms.saturating_sub(first) >= PROBE_MS
            || self.probe.len() >= PROBE_MAX_FRAMES
            || self.probe_bytes >= PROBE_MAX_BYTES;
        if ready {
            self.start(now_unix_ms);
        }
    }

    /// Opens the first segment with the streams known now and replays the
    /// waiting frames: with video, the segment starts at the first key frame
    /// (earlier frames cannot be decoded and are dropped); audio-only starts
    /// at once.
    fn start(&mut self, now_unix_ms: u64) {
        self.probe_bytes = 0;
        for (frame, dts_ms) in std::mem::take(&mut self.probe) {
            if self.current.is_none() {
                let can_start = if self.remuxer.streams().video.is_some() {
                    frame.track == Track::Video && frame.keyframe
                } else {
                    frame.track == Track::Audio
                };
                if !can_start {
                    continue;
                }
                self.open_segment(dts_ms, now_unix_ms);
            }
            self.place(frame, dts_ms, now_unix_ms);
        }
    }

    /// Cuts if this frame ends the open segment, then writes it.
    fn place(&mut self, frame: EsFrame, dts_ms: u64, now_unix_ms: u64) {
        let want = self.remuxer.streams();
        let Some(cur) = &self.current else {
            return;
        };
        let cut = self.cut_due(
            cur,
            CutInput {
                video_known: want.video.is_some(),
                video_in_segment: cur.streams.video.is_some(),
                is_video: frame.track == Track::Video,
                keyframe: frame.keyframe,
                dts_ms,
            },
        );
        if cut {
            self.close_segment(dts_ms);
            self.open_segment(dts_ms, now_unix_ms);
        }
        self.write(frame, dts_ms);
    }

    /// Whether this frame starts a new segment: the cut rule of both
    /// segment formats (SRS's `hls_fragment`, `hls_td_ratio`,
    /// `hls_aof_ratio`, `hls_wait_keyframe`, and the size bounds).
    fn cut_due(&self, cur: &Current, f: CutInput) -> bool {
        let duration = f.dts_ms.saturating_sub(cur.start_ms);
        let can_start = if f.video_known {
            f.is_video && f.keyframe
        } else {
            !f.is_video
        };
        if cur.bytes >= MAX_SEGMENT_BYTES {
            true
        } else if self.cut_requested || cur.bytes >= MAX_SEGMENT_BYTES / 2 {
            can_start
        } else if duration < MIN_SEGMENT_MS {
            false
        } else if f.video_in_segment {
            f.is_video
                && ((f.keyframe && duration >= self.config.fragment_ms())
                    || (!self.config.wait_keyframe
                        && duration >= self.config.scaled_fragment_ms(self.config.td_ratio)))
        } else {
            !f.is_video && duration >= self.config.scaled_fragment_ms(self.config.aof_ratio)
        }
    }

    /// Muxes one frame into the open segment; audio waits in a run.
    fn write(&mut self, frame: EsFrame, dts_ms: u64) {
        let Some(cur) = &mut self.current else {
            return;
        };
        let primary = if cur.streams.video.is_some() {
            Track::Video
        } else {
            Track::Audio
        };
        let in_program = match frame.track {
            Track::Video => cur.streams.video.is_some(),
            Track::Audio => cur.streams.audio.is_some(),
        };
        if !in_program {
            // A track that appeared mid-segment joins at the next cut.
            return;
        }
        if frame.track == primary && dts_ms >= cur.last_ms {
            if dts_ms > cur.last_ms {
                cur.last_step_ms = dts_ms - cur.last_ms;
            }
            cur.last_ms = dts_ms;
        }
        match frame.track {
            Track::Video => self.mux(&frame),
            Track::Audio => self.queue_audio(frame),
        }
    }

    fn queue_audio(&mut self, frame: EsFrame) {
        if let Some(first) = self.audio.frames.first() {
            let full = frame.dts.saturating_sub(first.dts) >= AUDIO_PES_MAX_SPAN
                || frame.dts < first.dts
                || self.audio.frames.len() >= AUDIO_PES_MAX_FRAMES
                || self.audio.bytes.saturating_add(frame.data.len()) > AUDIO_PES_MAX_BYTES;
            if full {
                self.flush_audio(false);
            }
        }
        self.audio.bytes = self.audio.bytes.saturating_add(frame.data.len());
        self.audio.frames.push(frame);
    }

    /// Writes the waiting audio frames as one PES. At the end of a segment
    /// (`split_last`) the last frame gets a PES of its own: tools that judge
    /// a segment's length by its last PES and one frame's duration (ffprobe
    /// does) then agree with the playlist.
    fn flush_audio(&mut self, split_last: bool) {
        let mut frames = std::mem::take(&mut self.audio.frames);
        self.audio.bytes = 0;
        let last = if split_last && frames.len() > 1 {
            frames.pop()
        } else {
            None
        };
        let mut iter = frames.into_iter();
        if let Some(mut run) = iter.next() {
            for f in iter {
                run.data.append(f.data);
            }
            run.keyframe = true;
            self.mux(&run);
        }
        if let Some(last) = last {
            self.mux(&last);
        }
    }

    fn mux(&mut self, frame: &EsFrame) {
        // Packets for this frame, at most: payload and a PES header over 184
        // bytes per packet, plus one packet of slack.
        let need = (frame.data.len().saturating_add(19) / 184 + 2).saturating_mul(188);
        if self.buf.capacity() - self.buf.len() < need {
            // Hand out what is written rather than grow (and copy) the
            // buffer, then start a fresh one that holds the whole frame.
            self.flush_buf();
            self.buf.reserve(need.max(APPEND_MIN_BYTES));
        }
        let before = self.buf.len();
        // The track was checked against the program by the caller.
        if self.muxer.write_frame(frame, &mut self.buf).is_err() {
            self.skipped += 1;
        }
        if let Some(cur) = &mut self.current {
            cur.bytes = cur.bytes.saturating_add((self.buf.len() - before) as u64);
        }
    }

    fn flush_buf(&mut self) {
        if let Some(cur) = &self.current {
            if !self.buf.is_empty() {
                self.actions.push_back(HlsAction::Append {
                    seq: cur.seq,
                    bytes: self.buf.split().freeze(),
                });
            }
        }
    }

    fn vars(&self, seq: u64, unix_ms: u64, duration_ms: Option<u64>) -> Vars<'_> {
        Vars {
            app: &self.app,
            stream: &self.stream,
            seq,
            unix_ms,
            duration_ms,
        }
    }

    fn open_segment(&mut self, start_ms: u64, now_unix_ms: u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.m3u8_path.is_none() {
            self.m3u8_path = Some(render(
                &self.config.m3u8_file,
                &self.vars(seq, now_unix_ms, None),
            ));
        }
        let path = render(self.segment_file(), &self.vars(seq, now_unix_ms, None));
        let streams = self.remuxer.streams();
        self.muxer.set_streams(streams);
        self.current = Some(Current {
            seq,
            open_path: path.clone(),
            unix_ms: now_unix_ms,
            start_ms,
            last_ms: start_ms,
            last_step_ms: 0,
            discontinuity: self.discontinuity || self.cut_requested,
            streams,
            generation: self.remuxer.generation(),
            bytes: 0,
        });
        self.discontinuity = false;
        self.cut_requested = false;
        self.actions.push_back(HlsAction::OpenSegment { seq, path });
        if self.cmaf.is_some() {
            return;
        }
        let before = self.buf.len();
        self.muxer.write_psi(&mut self.buf);
        if let Some(cur) = &mut self.current {
            cur.bytes = (self.buf.len() - before) as u64;
        }
    }

    fn close_segment(&mut self, end_ms: u64) {
        self.flush_audio(true);
        self.flush_buf();
        self.cut_cmaf(end_ms);
        let closed_seq = self.current.as_ref().map(|c| c.seq);
        let Some(cur) = self.current.take() else {
            return;
        };
        let duration_ms = end_ms.saturating_sub(cur.start_ms);
        let map = self.cmaf.as_ref().and_then(|c| c.map_uri.clone());
        let path = if self.segment_file().contains("[duration]") {
            render(
                self.segment_file(),
                &self.vars(cur.seq, cur.unix_ms, Some(duration_ms)),
            )
        } else {
            cur.open_path
        };
        let m3u8 = self.m3u8_path.clone().unwrap_or_default();
        self.actions.push_back(HlsAction::CloseSegment {
            seq: cur.seq,
            path: path.clone(),
            duration_ms,
        });
        self.window.push(Entry {
            seq: cur.seq,
            uri: entry_uri(self.config.entry_prefix.as_deref(), &m3u8, &path),
            path,
            duration_ms,
            discontinuity: cur.discontinuity,
            map,
        });
        let removed = self.window.shrink(self.config.window_ms());
        self.actions.push_back(HlsAction::WritePlaylist {
            path: m3u8,
            text: self.window.render(),
        });
        if let Some(seq) = closed_seq {
            self.ll_segment_closed(seq);
        }
        if self.config.cleanup {
            let retired = self.retired_inits(&removed, false);
            for e in removed {
                self.actions.push_back(HlsAction::DeleteSegment {
                    seq: e.seq,
                    path: e.path,
                });
            }
            for (seq, path) in retired {
                self.actions
                    .push_back(HlsAction::DeleteSegment { seq, path });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::MAX_WINDOW_SEGMENTS;
    use crate::message::{MediaFlags, MediaKind};

    fn msg(kind: MediaKind, payload: Vec<u8>) -> MediaMessage {
        MediaMessage {
            timestamp: 0,
            kind,
            flags: MediaFlags::default(),
            payload: Bytes::from(payload),
        }
    }

    fn avc_header(level: u8) -> Vec<u8> {
        let mut b = vec![0x17, 0, 0, 0, 0, 1, 0x64, 0, level, 0xFF, 0xE1, 0, 4];
        b.extend_from_slice(&[0x67, 0x64, 0, level]);
        b.extend_from_slice(&[1, 0, 2, 0x68, 0xEB]);
        b
    }

    /// A rendition's segmenter (video only) opens its first segment at the
    /// first key frame; a stream's own one waits for audio (the probe).
    #[test]
    fn single_media_segmenter_does_not_wait_for_another_track() {
        let key = vec![0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88];
        let opened = |mut seg: HlsSegmenter| {
            seg.push(&msg(MediaKind::Video, avc_header(0x1F)), 0)
                .unwrap();
            seg.push(&msg(MediaKind::Video, key.clone()), 0).unwrap();
            std::iter::from_fn(|| seg.poll_action())
                .any(|a| matches!(a, HlsAction::OpenSegment { .. }))
        };
        assert!(!opened(HlsSegmenter::new(
            HlsConfig::default(),
            "live",
            "s"
        )));
        assert!(opened(
            HlsSegmenter::new(HlsConfig::default(), "live", "s_v1").single_media()
        ));
    }

    /// New options apply between segments only, and never rename the playlist.
    #[test]
    fn reconfigure_between_segments_keeps_the_numbering() {
        let mut seg = HlsSegmenter::new(HlsConfig::default(), "live", "s");
        let key = vec![0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88];
        for m in [
            msg(MediaKind::Video, avc_header(0x1F)),
            msg(MediaKind::Video, key.clone()),
        ] {
            seg.push(&m, 0).unwrap();
        }
        let longer = HlsConfig {
            fragment: std::time::Duration::from_secs(7),
            ..HlsConfig::default()
        };
        assert!(!seg.reconfigure(longer.clone()), "a segment is open");
        seg.on_unpublish();
        let renamed = HlsConfig {
            m3u8_file: "[app]/other.m3u8".into(),
            ..longer.clone()
        };
        assert!(!seg.reconfigure(renamed));
        assert!(seg.reconfigure(longer.clone()));
        assert_eq!(*seg.config(), longer);
        let _: Vec<_> = std::iter::from_fn(|| seg.poll_action()).collect();
        seg.push(&msg(MediaKind::Video, avc_header(0x1F)), 0)
            .unwrap();
        seg.push(&msg(MediaKind::Video, key), 0).unwrap();
        seg.on_unpublish();
        let opened: Vec<u64> = std::iter::from_fn(|| seg.poll_action())
            .filter_map(|a| match a {
                HlsAction::OpenSegment { seq, .. } => Some(seq),
                _ => None,
            })
            .collect();
        assert_eq!(opened, [1], "numbering continues");
    }

    /// A window full of zero-length segments (what alternating sequence
    /// headers at a standing timestamp build, one cut per header) loses its
    /// oldest entry at the next cut, and with hls_cleanup its file.
    #[test]
    fn zero_length_segments_leave_the_window_by_count() {
        for cleanup in [true, false] {
            let config = HlsConfig {
                cleanup,
                ..HlsConfig::default()
            };
            let mut seg = HlsSegmenter::new(config, "live", "s");
            let n = MAX_WINDOW_SEGMENTS as u64;
            for seq in 0..n {
                seg.window.push(Entry {
                    seq,
                    path: format!("live/s-{seq}.ts"),
                    uri: format!("s-{seq}.ts"),
                    duration_ms: 0,
                    discontinuity: true,
                    map: None,
                });
            }
            seg.next_seq = n;
            let key = vec![0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88];
            let aac = vec![0xAF, 0, 0x12, 0x10];
            for m in [
                msg(MediaKind::Audio, aac),
                msg(MediaKind::Video, avc_header(0x1F)),
                msg(MediaKind::Video, key.clone()),
                msg(MediaKind::Video, avc_header(0x28)),
                msg(MediaKind::Video, key),
            ] {
                seg.push(&m, 0).unwrap();
            }
            let actions: Vec<HlsAction> = std::iter::from_fn(|| seg.poll_action()).collect();
            let closed: Vec<u64> = actions
                .iter()
                .filter_map(|a| match a {
                    HlsAction::CloseSegment { seq, .. } => Some(*seq),
                    _ => None,
                })
                .collect();
            assert_eq!(closed, [n], "a codec change cuts at once");
            let deleted: Vec<&HlsAction> = actions
                .iter()
                .filter(|a| matches!(a, HlsAction::DeleteSegment { .. }))
                .collect();
            if cleanup {
                assert_eq!(
                    deleted,
                    [&HlsAction::DeleteSegment {
                        seq: 0,
                        path: "live/s-0.ts".into()
                    }]
                );
            } else {
                assert!(deleted.is_empty());
            }
            let Some(HlsAction::WritePlaylist { text, .. }) = actions
                .iter()
                .rev()
                .find(|a| matches!(a, HlsAction::WritePlaylist { .. }))
            else {
                panic!("no playlist: {actions:?}");
            };
            assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:1\n"));
            assert_eq!(text.matches("#EXTINF").count(), MAX_WINDOW_SEGMENTS);
            assert!(text.ends_with(&format!("s-{n}.ts\n")));
        }
    }
}
