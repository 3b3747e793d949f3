//! The fragmented MP4 muxer.

use bytes::{BufMut, Bytes, BytesMut};

use super::boxes::{put_matrix, write_box, write_full_box};
use super::entry::{carries_audio, carries_video, AudioConfig, VideoConfig};
use crate::flv::{AacPacketType, AudioPacketType, AudioTagHeader, SoundFormat, VideoTagHeader};
use crate::message::{MediaKind, MediaMessage};

/// A fragment is cut at the next video key frame; without one (an audio-only
/// stream, or video without key frames) after this much media, ms.
pub const MAX_FRAGMENT_MS: u64 = 10_000;
/// ... or once this many sample bytes are waiting (bounds memory).
pub const MAX_FRAGMENT_BYTES: usize = 32 * 1024 * 1024;
/// Fragments an audio-only stream gets per this many ms.
const AUDIO_ONLY_FRAGMENT_MS: u64 = 1_000;
/// Samples in one fragment at most (bounds the `trun`).
const MAX_FRAGMENT_SAMPLES: usize = 20_000;
/// `tfra` entries kept for the closing index; beyond it later fragments are
/// not indexed (the file still plays; the index is an optional aid).
pub const MAX_INDEX_ENTRIES: usize = 200_000;

const VIDEO_TIMESCALE: u32 = 1000;
const VIDEO_TRACK: u32 = 1;
const AUDIO_TRACK: u32 = 2;
/// `sample_flags` (8.8.3.1) of a sync sample: depends on no other.
const SYNC_SAMPLE: u32 = 0x0200_0000;
/// ... of any other video sample: depends on others, not a sync sample.
const NON_SYNC_SAMPLE: u32 = 0x0101_0000;

/// Why a message was not muxed. The muxer stays usable after any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mp4Error {
    /// The tag header did not parse.
    #[error("unparsable {0:?} tag header")]
    BadHeader(MediaKind),
    /// A codec MP4 is not written with: video other than H.264, H.265,
    /// AV1 and VP9; audio other than AAC, MP3, Opus, FLAC, AC-3 and
    /// E-AC-3; an E-RTMP multitrack message (callers take its track 0).
    #[error("codec not supported in MP4: {0}")]
    UnsupportedCodec(String),
    /// A sequence header that does not parse.
    #[error("bad decoder configuration: {0}")]
    BadConfig(String),
    /// A frame of a track whose configuration was not received (or came
    /// after the file's tracks were written).
    #[error("{0:?} frame without its sequence header")]
    NoConfig(MediaKind),
    /// Video before the first key frame.
    #[error("video frame before the first key frame")]
    BeforeKeyframe,
    /// The file was finished.
    #[error("the file is finished")]
    Finished,
}

#[derive(Debug, Clone)]
struct Sample {
    /// Decode time in the track's timescale.
    dts: u64,
    /// Composition offset, in the track's timescale.
    cts: i32,
    sync: bool,
    data: Bytes,
}

#[derive(Debug, Default)]
struct Track {
    samples: Vec<Sample>,
    /// The last sample written, for the next fragment's first duration and
    /// the closing one's.
    last_duration: u32,
    /// Where the next sample of a steady stream falls (audio), in timescale units.
    next_dts: Option<u64>,
}

/// One fragment's start, for the `tfra` index.
#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    track: u32,
    time: u64,
    moof_offset: u64,
}

/// Builds a fragmented MP4 file from a stream's messages. Sans-IO: it only
/// hands out bytes ([`Fmp4Muxer::take`]), appended in order they make the file.
#[derive(Debug, Default)]
pub struct Fmp4Muxer {
    video_config: Option<VideoConfig>,
    audio_config: Option<AudioConfig>,
    /// The tracks the init part declared, once written.
    declared: Option<(bool, bool)>,
    video: Track,
    audio: Track,
    saw_keyframe: bool,
    pending_bytes: usize,
    sequence: u32,
    /// Bytes handed out or waiting in `out`: the next box's file offset.
    written: u64,
    out: BytesMut,
    index: Vec<IndexEntry>,
    /// First and last decode time seen, ms (for the duration).
    span_ms: Option<(u64, u64)>,
    finished: bool,
    /// HLS CMAF segments ([`Fmp4Muxer::for_segments`]): the init part is
    /// kept apart ([`Fmp4Muxer::take_init`]), fragments are cut on request
    /// ([`Fmp4Muxer::cut`]) and no `mfra` index is written.
    segmented: bool,
    /// The init part (`ftyp` + `moov`) of a segmented muxer, until taken.
    init: Option<Bytes>,
}

impl Fmp4Muxer {
    /// An empty file.
    pub fn new() -> Self {
        Self::default()
    }

    /// A muxer for CMAF segments (ISO/IEC 23000-19), as HLS with
    /// `EXT-X-MAP` wants them (RFC 8216 3.3): the init part goes to its own
    /// file, every media segment is whole `moof`+`mdat` fragments, and the
    /// fragments' `mfhd` sequence numbers go on from `last_sequence` (a new
    /// init after a codec change keeps them increasing).
    pub fn for_segments(last_sequence: u32) -> Self {
        Self {
            segmented: true,
            sequence: last_sequence,
            ..Self::default()
        }
    }

    /// The `mfhd` sequence number of the last fragment written (0: none yet).
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// A video sequence header was taken (the init will have a video track).
    pub fn has_video_config(&self) -> bool {
        self.video_config.is_some()
    }

    /// An audio sequence header was taken.
    pub fn has_audio_config(&self) -> bool {
        self.audio_config.is_some()
    }

    /// The tracks are declared (the init part was made): later sequence
    /// headers are not taken, a changed one needs a new muxer.
    pub fn is_declared(&self) -> bool {
        self.declared.is_some()
    }

    /// The init part of a segmented muxer, once, when it was made (at the
    /// first fragment).
    pub fn take_init(&mut self) -> Option<Bytes> {
        self.init.take()
    }

    /// Ends the open fragment of a segmented muxer at `end_ms` (the decode
    /// time where the next segment starts): every waiting sample is written,
    /// the last video one lasting up to `end_ms`, the last audio one its
    /// frame length. The bytes are then in [`take`](Self::take).
    pub fn cut(&mut self, end_ms: u64) {
        if self.finished || (self.video.samples.is_empty() && self.audio.samples.is_empty()) {
            return;
        }
        if self.declared.is_none() {
            self.write_init();
        }
        let (has_video, has_audio) = self.declared.unwrap_or_default();
        let video = if has_video {
            // Video's timescale is the millisecond.
            take_ready(&mut self.video, Some(end_ms))
        } else {
            self.video.samples.clear();
            Vec::new()
        };
        let audio = if has_audio {
            let end = self.audio.next_dts.unwrap_or(0);
            take_ready(&mut self.audio, Some(end))
        } else {
            self.audio.samples.clear();
            Vec::new()
        };
        self.write_fragment(video, audio);
    }

    /// Media time between the first and the latest message muxed, ms.
    pub fn duration_ms(&self) -> u64 {
        self.span_ms.map_or(0, |(a, b)| b.saturating_sub(a))
    }

    /// Takes one message (its timestamp in ms). Data messages are ignored.
    pub fn push(&mut self, msg: &MediaMessage) -> Result<(), Mp4Error> {
        if self.finished {
            return Err(Mp4Error::Finished);
        }
        match msg.kind {
            MediaKind::Video => self.push_video(msg),
            MediaKind::Audio => self.push_audio(msg),
            MediaKind::Data => Ok(()),
        }
    }

    fn note_time(&mut self, ts: u64) {
        self.span_ms = Some(match self.span_ms {
            None => (ts, ts),
            Some((a, b)) => (a.min(ts), b.max(ts)),
        });
    }

    fn push_video(&mut self, msg: &MediaMessage) -> Result<(), Mp4Error> {
        let (h, len) =
            VideoTagHeader::parse(&msg.payload).map_err(|_| Mp4Error::BadHeader(msg.kind))?;
        if h.multitrack.is_some() || !carries_video(h.codec) {
            return Err(Mp4Error::UnsupportedCodec(h.codec.name().to_owned()));
        }
        let body = msg.payload.slice(len.min(msg.payload.len())..);
        if h.is_sequence_header() {
            let config = VideoConfig::from_sequence_header(h.codec, body)?;
            // Tracks are fixed once declared: a later configuration is only
            // taken before that (a changed one would need a new file).
            if self.declared.is_none() {
                self.video_config = Some(config);
            }
            return Ok(());
        }
        if !h.is_picture() {
            return Ok(());
        }
        let Some(config) = self
            .video_config
            .as_mut()
            .filter(|c| c.is(h.codec))
            .filter(|_| self.declared.is_none_or(|(v, _)| v))
        else {
            return Err(Mp4Error::NoConfig(msg.kind));
        };
        let sync = h.is_keyframe();
        if !self.saw_keyframe && !sync {
            return Err(Mp4Error::BeforeKeyframe);
        }
        if sync && self.declared.is_none() && config.size_unknown() {
            config.learn_size(&body);
        }
        let body = config.sample(body);
        self.saw_keyframe = true;
        let dts = msg.timestamp;
        if sync && !self.video.samples.is_empty() {
            self.flush(Some(dts));
        }
        self.note_time(dts);
        self.pending_bytes = self.pending_bytes.saturating_add(body.len());
        self.video.samples.push(Sample {
            dts,
            cts: h.composition_time,
            sync,
            data: body,
        });
        self.flush_if_large();
        Ok(())
    }

    /// Takes the audio configuration from `msg` if it is the first frame of
    /// a codec that has no sequence header (MP3, AC-3, E-AC-3), so the track
    /// is known before the frame is muxed (a caller deciding whether a
    /// segment can start needs that). Anything else is left alone.
    pub fn configure_from_frame(&mut self, msg: &MediaMessage) -> Result<(), Mp4Error> {
        if msg.kind != MediaKind::Audio || self.audio_config.is_some() || self.declared.is_some() {
            return Ok(());
        }
        let (h, len) =
            AudioTagHeader::parse(&msg.payload).map_err(|_| Mp4Error::BadHeader(msg.kind))?;
        if h.multitrack.is_some() || !AudioConfig::in_band(h.sound_format) || !is_coded_audio(&h) {
            return Ok(());
        }
        let body = msg.payload.get(len..).unwrap_or_default();
        self.audio_config = Some(AudioConfig::from_frame(h.sound_format, body)?);
        Ok(())
    }

    fn push_audio(&mut self, msg: &MediaMessage) -> Result<(), Mp4Error> {
        let (h, len) =
            AudioTagHeader::parse(&msg.payload).map_err(|_| Mp4Error::BadHeader(msg.kind))?;
        if h.multitrack.is_some() || !carries_audio(h.sound_format) {
            return Err(Mp4Error::UnsupportedCodec(h.sound_format.name().to_owned()));
        }
        let body = msg.payload.slice(len.min(msg.payload.len())..);
        if h.is_sequence_header() {
            let config = AudioConfig::from_sequence_header(h.sound_format, &body)?;
            if self.declared.is_none() {
                if let Some(config) = config {
                    self.audio_config = Some(config);
                }
            }
            return Ok(());
        }
        if !is_coded_audio(&h) {
            // E-RTMP SequenceEnd, MultichannelConfig: nothing to mux.
            return Ok(());
        }
        self.configure_from_frame(msg)?;
        let Some(config) = self
            .audio_config
            .as_ref()
            .filter(|c| c.is(h.sound_format))
            .filter(|_| self.declared.is_none_or(|(_, a)| a))
        else {
            return Err(Mp4Error::NoConfig(msg.kind));
        };
        let (rate, frame_len) = (u64::from(config.timescale), config.frame_samples(&body));
        // Audio frames are a known number of samples (fixed for AAC, AC-3
        // and MP3, stated by the frame for Opus, FLAC and E-AC-3), while
        // FLV stamps them in rounded milliseconds: follow the sample count,
        // and the timestamp only when they part by more than 20 ms (a gap).
        let stamped = msg.timestamp.saturating_mul(rate) / 1000;
        let dts = match self.audio.next_dts {
            Some(expected) if stamped.abs_diff(expected) <= rate / 50 => expected,
            _ => stamped,
        };
        self.audio.next_dts = Some(dts.saturating_add(frame_len));
        self.note_time(msg.timestamp);
        self.pending_bytes = self.pending_bytes.saturating_add(body.len());
        self.audio.samples.push(Sample {
            dts,
            cts: 0,
            sync: true,
            data: body,
        });
        let audio_only = self.video_config.is_none();
        if audio_only {
            if let (Some(first), Some(last)) =
                (self.audio.samples.first(), self.audio.samples.last())
            {
                if last.dts.saturating_sub(first.dts).saturating_mul(1000) / rate
                    >= AUDIO_ONLY_FRAGMENT_MS
                {
                    self.flush(None);
                }
            }
        }
        self.flush_if_large();
        Ok(())
    }

    fn flush_if_large(&mut self) {
        let span_ms = self.video.samples.first().zip(self.video.samples.last());
        let long = span_ms.is_some_and(|(a, b)| b.dts.saturating_sub(a.dts) >= MAX_FRAGMENT_MS);
        if long
            || self.pending_bytes >= MAX_FRAGMENT_BYTES
            || self.video.samples.len() + self.audio.samples.len() >= MAX_FRAGMENT_SAMPLES
        {
            self.flush(None);
        }
    }

    /// Bytes produced since the last call.
    pub fn take(&mut self) -> Bytes {
        self.out.split().freeze()
    }

    /// Ends the file: the last fragment and the `mfra` index. Returns what
    /// was not taken yet. The muxer writes nothing after this.
    pub fn finish(&mut self) -> Bytes {
        if std::mem::replace(&mut self.finished, true) {
            return self.take();
        }
        self.flush_all();
        if self.declared.is_some() && !self.segmented {
            self.write_mfra();
        }
        self.take()
    }

    fn write_init(&mut self) {
        let has_video = self.video_config.is_some();
        let has_audio = self.audio_config.is_some();
        self.declared = Some((has_video, has_audio));
        let mut out = BytesMut::new();
        let segmented = self.segmented;
        let codec_brand = self.video_config.as_ref().and_then(VideoConfig::brand);
        write_box(&mut out, b"ftyp", |o| {
            if segmented {
                // CMAF (ISO/IEC 23000-19 7.2): `cmfc` says the track
                // structure follows it; `iso6` covers `tfdt` version 1.
                o.put_slice(b"iso6");
                o.put_u32(0);
                for brand in [b"iso6", b"cmfc", b"mp41"] {
                    o.put_slice(brand);
                }
            } else {
                o.put_slice(b"isom");
                o.put_u32(0x200);
                for brand in [b"isom", b"iso6", b"avc1", b"mp41"] {
                    o.put_slice(brand);
                }
            }
            if let Some(brand) = codec_brand {
                o.put_slice(brand);
            }
        });
        let video = self.video_config.clone();
        let audio = self.audio_config.clone();
        write_box(&mut out, b"moov", |o| {
            write_full_box(o, b"mvhd", 0, 0, |o| {
                o.put_u32(0); // creation_time
                o.put_u32(0); // modification_time
                o.put_u32(1000); // timescale
                o.put_u32(0); // duration: in the fragments
                o.put_u32(0x0001_0000); // rate 1.0
                o.put_u16(0x0100); // volume 1.0
                o.put_slice(&[0; 10]);
                put_matrix(o);
                o.put_slice(&[0; 24]); // pre_defined
                o.put_u32(AUDIO_TRACK + 1); // next_track_ID
            });
            if let Some(v) = &video {
                write_trak(o, VIDEO_TRACK, TrackKind::Video(v));
            }
            if let Some(a) = &audio {
                write_trak(o, AUDIO_TRACK, TrackKind::Audio(a));
            }
            write_box(o, b"mvex", |o| {
                for (present, id) in [
                    (video.is_some(), VIDEO_TRACK),
                    (audio.is_some(), AUDIO_TRACK),
                ] {
                    if present {
                        write_full_box(o, b"trex", 0, 0, |o| {
                            o.put_u32(id);
                            o.put_u32(1); // default_sample_description_index
                            o.put_u32(0);
                            o.put_u32(0);
                            o.put_u32(0);
                        });
                    }
                }
            });
        });
        if self.segmented {
            self.init = Some(out.freeze());
        } else {
            self.emit(out);
        }
    }

    fn emit(&mut self, bytes: BytesMut) {
        self.written = self.written.saturating_add(bytes.len() as u64);
        self.out.unsplit(bytes);
    }

    /// Writes every sample whose duration is known: all video samples when
    /// `next_video_dts` (a key frame about to start the next fragment) is
    /// given, and all but the last audio sample (its duration is known when
    /// the next one comes).
    fn flush(&mut self, next_video_dts: Option<u64>) {
        if self.declared.is_none() {
            self.write_init();
        }
        let (has_video, has_audio) = self.declared.unwrap_or_default();
        let video_end = next_video_dts.unwrap_or(u64::MAX);
        let video = if has_video {
            take_ready(&mut self.video, next_video_dts.map(|_| video_end))
        } else {
            self.video.samples.clear();
            Vec::new()
        };
        let audio = if has_audio {
            take_ready(&mut self.audio, None)
        } else {
            self.audio.samples.clear();
            Vec::new()
        };
        self.write_fragment(video, audio);
    }

    /// Writes everything left, the last samples lasting as long as the one before.
    fn flush_all(&mut self) {
        if self.video.samples.is_empty() && self.audio.samples.is_empty() {
            return;
        }
        if self.declared.is_none() {
            self.write_init();
        }
        let (has_video, has_audio) = self.declared.unwrap_or_default();
        let mut video = if has_video {
            take_ready(&mut self.video, None)
        } else {
            Vec::new()
        };
        let mut audio = if has_audio {
            take_ready(&mut self.audio, None)
        } else {
            Vec::new()
        };
        let audio_frame = self
            .audio_config
            .as_ref()
            .map_or(1024, |c| u32::try_from(c.frame_len).unwrap_or(u32::MAX));
        for (track, out, fallback) in [
            (&mut self.video, &mut video, 40u32),
            (&mut self.audio, &mut audio, audio_frame),
        ] {
            if let Some(last) = track.samples.pop() {
                let d = if track.last_duration > 0 {
                    track.last_duration
                } else {
                    fallback
                };
                out.push((last, d));
            }
            track.samples.clear();
        }
        self.write_fragment(video, audio);
    }

    fn write_fragment(&mut self, video: Vec<(Sample, u32)>, audio: Vec<(Sample, u32)>) {
        self.pending_bytes = self
            .video
            .samples
            .iter()
            .chain(&self.audio.samples)
            .map(|s| s.data.len())
            .sum();
        if video.is_empty() && audio.is_empty() {
            return;
        }
        self.sequence = self.sequence.wrapping_add(1);
        let moof_offset = self.written;
        let tracks: Vec<(u32, Vec<(Sample, u32)>)> = [(VIDEO_TRACK, video), (AUDIO_TRACK, audio)]
            .into_iter()
            .filter(|(_, s)| !s.is_empty())
            .collect();
        for (id, samples) in &tracks {
            if !self.segmented && self.index.len() < MAX_INDEX_ENTRIES {
                if let Some((first, _)) = samples.first() {
                    self.index.push(IndexEntry {
                        track: *id,
                        time: first.dts,
                        moof_offset,
                    });
                }
            }
        }
        // The moof's size is needed for the data offsets: write it once
        // with placeholders, then again with the right values.
        let moof = |offsets: &[i32]| {
            let mut o = BytesMut::new();
            write_box(&mut o, b"moof", |o| {
                write_full_box(o, b"mfhd", 0, 0, |o| o.put_u32(self.sequence));
                for ((id, samples), data_offset) in tracks.iter().zip(offsets) {
                    write_box(o, b"traf", |o| {
                        // default-base-is-moof
                        write_full_box(o, b"tfhd", 0, 0x02_0000, |o| o.put_u32(*id));
                        write_full_box(o, b"tfdt", 1, 0, |o| {
                            o.put_u64(samples.first().map_or(0, |(s, _)| s.dts));
                        });
                        // data-offset, duration, size, flags, composition offset
                        write_full_box(
                            o,
                            b"trun",
                            1,
                            0x0001 | 0x0100 | 0x0200 | 0x0400 | 0x0800,
                            |o| {
                                o.put_u32(samples.len() as u32);
                                o.put_i32(*data_offset);
                                for (s, duration) in samples {
                                    o.put_u32(*duration);
                                    o.put_u32(u32::try_from(s.data.len()).unwrap_or(u32::MAX));
                                    o.put_u32(if s.sync { SYNC_SAMPLE } else { NON_SYNC_SAMPLE });
                                    o.put_i32(s.cts);
                                }
                            },
                        );
                    });
                }
            });
            o
        };
        let placeholder = vec![0; tracks.len()];
        let moof_len = moof(&placeholder).len();
        let mut offsets = Vec::with_capacity(tracks.len());
        let mut at = moof_len + 8;
        for (_, samples) in &tracks {
            offsets.push(i32::try_from(at).unwrap_or(i32::MAX));
            at += samples.iter().map(|(s, _)| s.data.len()).sum::<usize>();
        }
        let mut out = moof(&offsets);
        let mdat_len = at - moof_len;
        out.reserve(mdat_len);
        out.put_u32(u32::try_from(mdat_len).unwrap_or(u32::MAX));
        out.put_slice(b"mdat");
        for (_, samples) in &tracks {
            for (s, _) in samples {
                out.put_slice(&s.data);
            }
        }
        self.emit(out);
    }

    fn write_mfra(&mut self) {
        let mut out = BytesMut::new();
        let index = std::mem::take(&mut self.index);
        let (has_video, has_audio) = self.declared.unwrap_or_default();
        write_box(&mut out, b"mfra", |o| {
            for (present, id) in [(has_video, VIDEO_TRACK), (has_audio, AUDIO_TRACK)] {
                if !present {
                    continue;
                }
                let entries: Vec<_> = index.iter().filter(|e| e.track == id).collect();
                write_full_box(o, b"tfra", 1, 0, |o| {
                    o.put_u32(id);
                    o.put_u32(0); // 1-byte traf, trun and sample numbers
                    o.put_u32(entries.len() as u32);
                    for e in entries {
                        o.put_u64(e.time);
                        o.put_u64(e.moof_offset);
                        o.put_u8(1);
                        o.put_u8(1);
                        o.put_u8(1);
                    }
                });
            }
            let mfra_size = o.len() + 16; // this box's header and the mfro to come
            write_full_box(o, b"mfro", 0, 0, |o| {
                o.put_u32(u32::try_from(mfra_size).unwrap_or(0));
            });
        });
        self.emit(out);
    }
}

/// Takes a track's samples whose duration is known, with it: each up to the
/// next one, and the last up to `end` if given (else it stays).
fn take_ready(track: &mut Track, end: Option<u64>) -> Vec<(Sample, u32)> {
    let keep = usize::from(end.is_none()).min(track.samples.len());
    let n = track.samples.len() - keep;
    let rest = track.samples.split_off(n);
    let ready = std::mem::replace(&mut track.samples, rest);
    let mut out = Vec::with_capacity(ready.len());
    let mut iter = ready.into_iter().peekable();
    while let Some(s) = iter.next() {
        let next = iter
            .peek()
            .map(|n| n.dts)
            .or_else(|| track.samples.first().map(|n| n.dts))
            .or(end)
            .unwrap_or(s.dts);
        let d = u32::try_from(next.saturating_sub(s.dts)).unwrap_or(u32::MAX);
        track.last_duration = d;
        out.push((s, d));
    }
    out
}

enum TrackKind<'a> {
    Video(&'a VideoConfig),
    Audio(&'a AudioConfig),
}

fn write_trak(o: &mut BytesMut, id: u32, kind: TrackKind<'_>) {
    let (timescale, handler, name, width, height, volume) = match &kind {
        TrackKind::Video(v) => (
            VIDEO_TIMESCALE,
            b"vide",
            "VideoHandler",
            v.width,
            v.height,
            0u16,
        ),
        TrackKind::Audio(a) => (a.timescale, b"soun", "SoundHandler", 0, 0, 0x0100),
    };
    write_box(o, b"trak", |o| {
        // track_enabled | track_in_movie
        write_full_box(o, b"tkhd", 0, 3, |o| {
            o.put_u32(0);
            o.put_u32(0);
            o.put_u32(id);
            o.put_u32(0);
            o.put_u32(0); // duration
            o.put_slice(&[0; 8]);
            o.put_u16(0); // layer
            o.put_u16(0); // alternate_group
            o.put_u16(volume);
            o.put_u16(0);
            put_matrix(o);
            o.put_u32(width.min(0xFFFF) << 16);
            o.put_u32(height.min(0xFFFF) << 16);
        });
        write_box(o, b"mdia", |o| {
            write_full_box(o, b"mdhd", 0, 0, |o| {
                o.put_u32(0);
                o.put_u32(0);
                o.put_u32(timescale);
                o.put_u32(0);
                o.put_u16(0x55C4); // "und"
                o.put_u16(0);
            });
            write_full_box(o, b"hdlr", 0, 0, |o| {
                o.put_u32(0);
                o.put_slice(handler);
                o.put_slice(&[0; 12]);
                o.put_slice(name.as_bytes());
                o.put_u8(0);
            });
            write_box(o, b"minf", |o| {
                match &kind {
                    TrackKind::Video(_) => {
                        write_full_box(o, b"vmhd", 0, 1, |o| o.put_slice(&[0; 8]))
                    }
                    TrackKind::Audio(_) => write_full_box(o, b"smhd", 0, 0, |o| o.put_u32(0)),
                }
                write_box(o, b"dinf", |o| {
                    write_full_box(o, b"dref", 0, 0, |o| {
                        o.put_u32(1);
                        // self-contained
                        write_full_box(o, b"url ", 0, 1, |_| {});
                    });
                });
                write_box(o, b"stbl", |o| {
                    write_full_box(o, b"stsd", 0, 0, |o| {
                        o.put_u32(1);
                        match &kind {
                            TrackKind::Video(v) => v.write_entry(o),
                            TrackKind::Audio(a) => a.write_entry(o, id),
                        }
                    });
                    write_full_box(o, b"stts", 0, 0, |o| o.put_u32(0));
                    write_full_box(o, b"stsc", 0, 0, |o| o.put_u32(0));
                    write_full_box(o, b"stsz", 0, 0, |o| {
                        o.put_u32(0);
                        o.put_u32(0);
                    });
                    write_full_box(o, b"stco", 0, 0, |o| o.put_u32(0));
                });
            });
        });
    });
}

/// A coded audio frame follows the header: legacy AAC raw data, E-RTMP
/// CodedFrames, or any legacy non-AAC body (MP3 has no packet types).
fn is_coded_audio(h: &AudioTagHeader) -> bool {
    h.aac_packet_type == Some(AacPacketType::Raw)
        || h.packet_type == Some(AudioPacketType::CodedFrames)
        || (!h.is_ex_header && h.sound_format != SoundFormat::Aac)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libx264's SPS for 640x360 (as in `avc` tests).
    const SPS: &[u8] = &[
        0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03,
        0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96,
    ];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

    fn video_sh() -> MediaMessage {
        let mut b = vec![0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1e, 0xff, 0xe1];
        b.extend_from_slice(&(SPS.len() as u16).to_be_bytes());
        b.extend_from_slice(SPS);
        b.push(1);
        b.extend_from_slice(&(PPS.len() as u16).to_be_bytes());
        b.extend_from_slice(PPS);
        MediaMessage::new(MediaKind::Video, 0, Bytes::from(b))
    }

    fn frame(ts: u64, key: bool, cts: u8) -> MediaMessage {
        let first = if key { 0x17 } else { 0x27 };
        let nal = if key { 0x65 } else { 0x41 };
        let b = vec![first, 1, 0, 0, cts, 0, 0, 0, 3, nal, 0x88, 0x84];
        MediaMessage::new(MediaKind::Video, ts, Bytes::from(b))
    }

    fn audio_sh() -> MediaMessage {
        // AAC-LC, 44100 Hz, stereo.
        MediaMessage::new(
            MediaKind::Audio,
            0,
            Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
        )
    }

    fn audio(ts: u64) -> MediaMessage {
        MediaMessage::new(
            MediaKind::Audio,
            ts,
            Bytes::from_static(&[0xaf, 1, 0x21, 0x10, 0x04]),
        )
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
    }

    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
    }

    /// (type, offset, size) of the boxes in `b[from..to]`.
    fn boxes(b: &[u8], from: usize, to: usize) -> Vec<([u8; 4], usize, usize)> {
        let mut out = Vec::new();
        let mut at = from;
        while at < to {
            let size = u32_at(b, at) as usize;
            assert!(size >= 8 && at + size <= to, "box at {at} of size {size}");
            out.push((b[at + 4..at + 8].try_into().unwrap(), at, size));
            at += size;
        }
        assert_eq!(at, to);
        out
    }

    fn child(b: &[u8], parent: (usize, usize), kind: &[u8; 4], header: usize) -> (usize, usize) {
        boxes(b, parent.0 + header, parent.0 + parent.1)
            .into_iter()
            .find(|(k, _, _)| k == kind)
            .map(|(_, at, size)| (at, size))
            .unwrap_or_else(|| panic!("no {}", String::from_utf8_lossy(kind)))
    }

    /// A 3 s stream: 25 fps video with a key frame every second, AAC.
    fn record() -> (Vec<u8>, Vec<usize>) {
        let mut m = Fmp4Muxer::new();
        let mut file = Vec::new();
        let mut pieces = Vec::new();
        m.push(&video_sh()).unwrap();
        m.push(&audio_sh()).unwrap();
        let mut a = 0u64;
        for i in 0..75u64 {
            let ts = i * 40;
            while a * 1024 * 1000 / 44100 <= ts {
                m.push(&audio(a * 1024 * 1000 / 44100)).unwrap();
                a += 1;
            }
            m.push(&frame(ts, i % 25 == 0, 80)).unwrap();
            let piece = m.take();
            if !piece.is_empty() {
                pieces.push(file.len());
            }
            file.extend_from_slice(&piece);
        }
        file.extend_from_slice(&m.finish());
        (file, pieces)
    }

    #[test]
    fn fragments_come_out_at_key_frames_and_the_index_at_the_end() {
        let (file, pieces) = record();
        // Output at the 2nd and 3rd key frames; the rest at finish.
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        let top = boxes(&file, 0, file.len());
        let kinds: Vec<_> = top
            .iter()
            .map(|(k, _, _)| String::from_utf8_lossy(k).into_owned())
            .collect();
        assert_eq!(
            kinds,
            ["ftyp", "moov", "moof", "mdat", "moof", "mdat", "moof", "mdat", "mfra"]
        );
        // mfro holds the mfra's size, and every tfra entry points at a moof.
        let (_, mfra_at, mfra_size) = top[8];
        assert_eq!(u32_at(&file, file.len() - 4) as usize, mfra_size);
        let tfra = child(&file, (mfra_at, mfra_size), b"tfra", 8);
        let entries = u32_at(&file, tfra.0 + 20) as usize;
        assert_eq!(entries, 3);
        for e in 0..entries {
            let moof = u64_at(&file, tfra.0 + 24 + e * 19 + 8) as usize;
            assert_eq!(&file[moof + 4..moof + 8], b"moof");
        }
    }

    #[test]
    fn durations_add_up_and_data_offsets_point_into_the_mdat() {
        let (file, _) = record();
        let top = boxes(&file, 0, file.len());
        let mut next_tfdt = [None::<u64>; 3];
        let mut total = [0u64; 3];
        for (i, (kind, at, size)) in top.iter().enumerate() {
            if kind != b"moof" {
                continue;
            }
            let (_, mdat_at, mdat_size) = top[i + 1];
            for (k, traf_at, traf_size) in boxes(&file, at + 8, at + size) {
                if &k != b"traf" {
                    continue;
                }
                let tfhd = child(&file, (traf_at, traf_size), b"tfhd", 8);
                let track = u32_at(&file, tfhd.0 + 12) as usize;
                let tfdt = child(&file, (traf_at, traf_size), b"tfdt", 8);
                let base = u64_at(&file, tfdt.0 + 12);
                if let Some(expected) = next_tfdt[track] {
                    assert_eq!(base, expected, "track {track} is continuous");
                }
                let trun = child(&file, (traf_at, traf_size), b"trun", 8);
                let count = u32_at(&file, trun.0 + 12) as usize;
                let data = at + u32_at(&file, trun.0 + 16) as usize;
                let mut len = 0;
                let mut sum = 0u64;
                for s in 0..count {
                    let e = trun.0 + 20 + s * 16;
                    sum += u64::from(u32_at(&file, e));
                    len += u32_at(&file, e + 4) as usize;
                    if track == 1 {
                        assert_eq!(u32_at(&file, e + 12), 80, "composition offset");
                    }
                }
                assert!(data >= mdat_at + 8 && data + len <= mdat_at + mdat_size);
                next_tfdt[track] = Some(base + sum);
                total[track] += sum;
            }
        }
        // 75 frames of 40 ms; the 128 AAC frames stamped up to 2960 ms,
        // each exactly 1024 samples although their timestamps are rounded.
        assert_eq!(total[1], 3000);
        assert_eq!(total[2], 128 * 1024);
    }

    #[test]
    fn the_init_declares_both_tracks() {
        let (file, _) = record();
        let top = boxes(&file, 0, file.len());
        let (_, moov_at, moov_size) = top[1];
        let traks: Vec<_> = boxes(&file, moov_at + 8, moov_at + moov_size)
            .into_iter()
            .filter(|(k, _, _)| k == b"trak")
            .collect();
        assert_eq!(traks.len(), 2);
        let moov = &file[moov_at..moov_at + moov_size];
        let find = |needle: &[u8]| moov.windows(needle.len()).position(|w| w == needle);
        assert!(find(b"avcC").is_some() && find(b"esds").is_some() && find(b"trex").is_some());
        // 640x360 in the tkhd, from the SPS.
        let tkhd = child(&file, (traks[0].1, traks[0].2), b"tkhd", 8);
        assert_eq!(u32_at(&file, tkhd.0 + 84) >> 16, 640);
        assert_eq!(u32_at(&file, tkhd.0 + 88) >> 16, 360);
    }

    #[test]
    fn what_cannot_be_written_is_refused_and_the_muxer_goes_on() {
        let mut m = Fmp4Muxer::new();
        assert_eq!(
            m.push(&frame(0, true, 0)),
            Err(Mp4Error::NoConfig(MediaKind::Video))
        );
        assert_eq!(m.push(&audio(0)), Err(Mp4Error::NoConfig(MediaKind::Audio)));
        m.push(&video_sh()).unwrap();
        assert_eq!(m.push(&frame(0, false, 0)), Err(Mp4Error::BeforeKeyframe));
        // Speex has no MP4 form here; a cut-off MP3 header is no configuration.
        let speex = MediaMessage::new(MediaKind::Audio, 0, Bytes::from_static(&[0xb2, 0x00]));
        assert_eq!(
            m.push(&speex),
            Err(Mp4Error::UnsupportedCodec("Speex".into()))
        );
        let mp3 = MediaMessage::new(MediaKind::Audio, 0, Bytes::from_static(&[0x2f, 0xff]));
        assert!(matches!(m.push(&mp3), Err(Mp4Error::BadConfig(_))));
        // A VP8 sequence start (E-RTMP `vp08`): not written either.
        let vp8 = MediaMessage::new(MediaKind::Video, 0, Bytes::from_static(b"\x90vp08\x01"));
        assert_eq!(m.push(&vp8), Err(Mp4Error::UnsupportedCodec("VP8".into())));
        let bad_sh = MediaMessage::new(
            MediaKind::Video,
            0,
            Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]),
        );
        assert!(matches!(m.push(&bad_sh), Err(Mp4Error::BadConfig(_))));
        assert!(matches!(
            m.push(&MediaMessage::new(MediaKind::Video, 0, Bytes::new())),
            Err(Mp4Error::BadHeader(_))
        ));
        m.push(&frame(0, true, 0)).unwrap();
        m.push(&frame(40, false, 0)).unwrap();
        let file = m.finish();
        assert_eq!(&file[4..8], b"ftyp");
        assert_eq!(m.duration_ms(), 40);
    }

    /// libx265's parameter sets for 1280x720 (as in `hevc` tests).
    const X265_VPS: &[u8] = &[
        0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0x95, 0x98, 0x09,
    ];
    const X265_SPS: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0,
        0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
    ];
    const X265_PPS: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];

    /// An HEVCDecoderConfigurationRecord with the three parameter sets.
    fn hvcc() -> Vec<u8> {
        let mut rec = vec![
            1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0,
            0x0f, 3,
        ];
        for (t, nal) in [(32u8, X265_VPS), (33, X265_SPS), (34, X265_PPS)] {
            rec.push(0x80 | t);
            rec.extend_from_slice(&1u16.to_be_bytes());
            rec.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            rec.extend_from_slice(nal);
        }
        rec
    }

    /// The sequence header: legacy codec id 12 or E-RTMP `hvc1` SequenceStart.
    fn hevc_sh(enhanced: bool) -> MediaMessage {
        let head: &[u8] = if enhanced {
            &[0x90, b'h', b'v', b'c', b'1']
        } else {
            &[0x1c, 0, 0, 0, 0]
        };
        MediaMessage::new(MediaKind::Video, 0, Bytes::from([head, &hvcc()].concat()))
    }

    /// A frame: legacy (with composition time), E-RTMP CodedFrames (with
    /// one) or CodedFramesX (without).
    fn hevc_frame(enhanced: bool, ts: u64, key: bool, cts: u8) -> MediaMessage {
        let frame_type = if key { 1u8 } else { 2 };
        let mut b = if !enhanced {
            vec![frame_type << 4 | 12, 1, 0, 0, cts]
        } else if cts == 0 {
            vec![0x80 | frame_type << 4 | 3, b'h', b'v', b'c', b'1']
        } else {
            vec![
                0x80 | frame_type << 4 | 1,
                b'h',
                b'v',
                b'c',
                b'1',
                0,
                0,
                cts,
            ]
        };
        // One IDR_W_RADL (19) or TRAIL_R (1) NAL unit.
        let nal_type = if key { 19u8 } else { 1 };
        b.extend_from_slice(&[0, 0, 0, 3, nal_type << 1, 1, 0xaf]);
        MediaMessage::new(MediaKind::Video, ts, Bytes::from(b))
    }

    #[test]
    fn hevc_gets_an_hvc1_entry_with_the_record_as_received() {
        for enhanced in [false, true] {
            let mut m = Fmp4Muxer::new();
            m.push(&hevc_sh(enhanced)).unwrap();
            for i in 0..50u64 {
                let cts = if enhanced && i % 2 == 1 { 0 } else { 40 };
                m.push(&hevc_frame(enhanced, i * 40, i % 25 == 0, cts))
                    .unwrap();
            }
            let file = m.finish().to_vec();
            let top = boxes(&file, 0, file.len());
            let (_, moov_at, moov_size) = top[1];
            let moov = &file[moov_at..moov_at + moov_size];
            let find = |needle: &[u8]| moov.windows(needle.len()).position(|w| w == needle);
            assert!(find(b"avc1").is_none(), "enhanced {enhanced}");
            let entry = find(b"hvc1").expect("hvc1 entry") - 4;
            // The entry's box: 8 header + 78 visual sample entry bytes, then hvcC.
            let record = hvcc();
            let hvcc_at = entry + 8 + 78;
            assert_eq!(&moov[hvcc_at + 4..hvcc_at + 8], b"hvcC");
            assert_eq!(u32_at(moov, hvcc_at) as usize, 8 + record.len());
            assert_eq!(&moov[hvcc_at + 8..hvcc_at + 8 + record.len()], &record[..]);
            assert_eq!(u32_at(moov, entry) as usize, 8 + 78 + 8 + record.len());
            // 1280x720 from the SPS, in the entry and the tkhd.
            assert_eq!(u32_at(moov, entry + 32), (1280 << 16) | 720);
            let trak = child(&file, (moov_at, moov_size), b"trak", 8);
            let tkhd = child(&file, trak, b"tkhd", 8);
            assert_eq!(u32_at(&file, tkhd.0 + 84) >> 16, 1280);
            assert_eq!(u32_at(&file, tkhd.0 + 88) >> 16, 720);
            // Two fragments (key frames at 0 and 1 s), all 50 frames in them.
            let kinds: Vec<_> = top.iter().map(|(k, _, _)| *k).collect();
            assert_eq!(kinds.iter().filter(|k| *k == b"moof").count(), 2);
            assert_eq!(m.duration_ms(), 49 * 40);
        }
    }

    #[test]
    fn a_frame_of_the_other_codec_is_not_muxed_into_the_track() {
        let mut m = Fmp4Muxer::new();
        m.push(&hevc_sh(false)).unwrap();
        assert_eq!(
            m.push(&frame(0, true, 0)),
            Err(Mp4Error::NoConfig(MediaKind::Video))
        );
        m.push(&hevc_frame(true, 0, true, 0)).unwrap();
        let bad = MediaMessage::new(
            MediaKind::Video,
            0,
            Bytes::from_static(&[0x1c, 0, 0, 0, 0, 1, 2]),
        );
        assert!(matches!(m.push(&bad), Err(Mp4Error::BadConfig(_))));
    }

    #[test]
    fn an_empty_recording_is_empty() {
        assert!(Fmp4Muxer::new().finish().is_empty());
    }

    #[test]
    fn audio_only_streams_get_fragments_every_second() {
        let mut m = Fmp4Muxer::new();
        m.push(&audio_sh()).unwrap();
        let mut out = 0;
        for a in 0..130u64 {
            m.push(&audio(a * 1024 * 1000 / 44100)).unwrap();
            out += usize::from(!m.take().is_empty());
        }
        assert_eq!(out, 2);
    }
}
