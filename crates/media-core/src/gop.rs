//! What a player joining a live stream must receive first (SRS `play.gop_cache`).
//!
//! A decoder can only start at a key frame and only with the codec
//! configuration, so a late joiner first gets, in order:
//!
//! 1. the latest `onMetaData` data message,
//! 2. the latest video sequence header (AVC/HEVC decoder configuration),
//! 3. the latest audio sequence header (AAC AudioSpecificConfig),
//! 4. the current GOP: every message since the last video key frame.
//!
//! The GOP part is what SRS's `SrsGopCache` keeps; 1–3 are its `SrsMetaCache`.
//! Sequence headers are kept only in their slots, never inside the GOP, so a
//! player never receives one twice. A new sequence header replaces the old one;
//! if its bytes differ (a resolution or codec change), the cached GOP was coded
//! against the old one and is dropped.
//!
//! Audio-only streams cache no GOP, as in SRS: audio needs no key frame, so a
//! player starts with the AAC sequence header and the next live frame. When
//! video stops while audio continues (the publisher muted its camera),
//! [`PURE_AUDIO_GUESS_COUNT`] audio messages after the last video frame drop the
//! GOP, again as SRS does, so stale video is not replayed forever.
//!
//! The GOP is bounded by frames and bytes. A GOP that would exceed either bound
//! is dropped entirely (never truncated: a GOP without its key frame is
//! useless), and caching resumes at the next key frame; meanwhile new players
//! wait for it. With `enabled: false` only the metadata and sequence headers
//! are kept. Payloads are [`bytes::Bytes`], so caching a message never copies it.

use rtmp_proto::reader::Reader;

use crate::message::{MediaKind, MediaMessage};

/// SRS's `gop_cache_max_frames` default.
pub const DEFAULT_MAX_FRAMES: usize = 2500;

/// Default byte bound of the cached GOP: ten seconds of 50 Mbit/s video.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Audio messages after the last video frame before the stream is taken to be
/// audio-only and the GOP is dropped (SRS `SRS_PURE_AUDIO_GUESS_COUNT`, about
/// 3 s of AAC).
pub const PURE_AUDIO_GUESS_COUNT: usize = 115;

/// GOP cache bounds (SRS `play { gop_cache; gop_cache_max_frames; }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GopConfig {
    /// Cache the current GOP (`gop_cache`). Metadata and sequence headers are
    /// kept either way.
    pub enabled: bool,
    /// At most this many messages (audio, video and data) in the GOP;
    /// 0 means no frame limit, as in SRS (the byte bound still applies).
    pub max_frames: usize,
    /// At most this many payload bytes in the GOP.
    pub max_bytes: usize,
}

impl Default for GopConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_frames: DEFAULT_MAX_FRAMES,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// The late-joiner cache of one stream.
#[derive(Debug, Clone)]
pub struct GopCache {
    config: GopConfig,
    metadata: Option<MediaMessage>,
    video_header: Option<MediaMessage>,
    audio_header: Option<MediaMessage>,
    /// Starts with a video key frame whenever it is non-empty.
    gop: Vec<MediaMessage>,
    gop_bytes: usize,
    audio_since_video: usize,
}

impl GopCache {
    /// An empty cache.
    pub fn new(config: GopConfig) -> Self {
        Self {
            config,
            metadata: None,
            video_header: None,
            audio_header: None,
            gop: Vec::new(),
            gop_bytes: 0,
            audio_since_video: 0,
        }
    }

    /// Remembers what a late joiner will need from `msg` (timestamps already
    /// corrected). Cloning shares the payload.
    pub fn push(&mut self, msg: &MediaMessage) {
        match msg.kind {
            MediaKind::Data if is_metadata(&msg.payload) => {
                self.metadata = Some(msg.clone());
            }
            MediaKind::Data => self.append(msg),
            MediaKind::Video if msg.flags.sequence_header => {
                if replace_header(&mut self.video_header, msg) {
                    self.drop_gop();
                }
            }
            MediaKind::Audio if msg.flags.sequence_header => {
                if replace_header(&mut self.audio_header, msg) {
                    self.drop_gop();
                }
            }
            MediaKind::Video if msg.flags.keyframe => {
                self.drop_gop();
                self.audio_since_video = 0;
                if self.config.enabled {
                    self.append(msg);
                }
            }
            MediaKind::Video => {
                self.audio_since_video = 0;
                self.append(msg);
            }
            MediaKind::Audio => {
                self.audio_since_video = self.audio_since_video.saturating_add(1);
                if self.audio_since_video > PURE_AUDIO_GUESS_COUNT {
                    self.drop_gop();
                } else {
                    self.append(msg);
                }
            }
        }
    }

    /// What a new player must receive first, in order: metadata, video
    /// sequence header, audio sequence header, then the GOP from its key frame.
    pub fn snapshot(&self) -> impl Iterator<Item = &MediaMessage> + '_ {
        self.metadata
            .iter()
            .chain(self.video_header.iter())
            .chain(self.audio_header.iter())
            .chain(self.gop.iter())
    }

    /// Messages in the cached GOP (not counting metadata and headers).
    pub fn gop_frames(&self) -> usize {
        self.gop.len()
    }

    /// Payload bytes in the cached GOP (not counting metadata and headers).
    pub fn gop_bytes(&self) -> usize {
        self.gop_bytes
    }

    /// Forgets everything and releases the memory (unpublish).
    pub fn clear(&mut self) {
        self.metadata = None;
        self.video_header = None;
        self.audio_header = None;
        self.gop = Vec::new();
        self.gop_bytes = 0;
        self.audio_since_video = 0;
    }

    /// Adds `msg` to an open GOP; drops the GOP if a bound would be exceeded.
    /// Without an open GOP (no key frame yet) nothing is cached.
    fn append(&mut self, msg: &MediaMessage) {
        let opening = msg.kind == MediaKind::Video && msg.flags.keyframe;
        if self.gop.is_empty() && !opening {
            return;
        }
        let frames = self.gop.len().saturating_add(1);
        let bytes = self.gop_bytes.saturating_add(msg.payload.len());
        let too_many = self.config.max_frames != 0 && frames > self.config.max_frames;
        if too_many || bytes > self.config.max_bytes {
            self.drop_gop();
            return;
        }
        self.gop.push(msg.clone());
        self.gop_bytes = bytes;
    }

    /// Empties the GOP, keeping its allocation for the next one.
    fn drop_gop(&mut self) {
        self.gop.clear();
        self.gop_bytes = 0;
    }
}

/// Stores `msg` in `slot`; true when it replaced a header with other bytes.
fn replace_header(slot: &mut Option<MediaMessage>, msg: &MediaMessage) -> bool {
    let changed = slot.as_ref().is_some_and(|old| old.payload != msg.payload);
    *slot = Some(msg.clone());
    changed
}

/// AMF0 string marker (AMF0 spec 2.4).
const AMF0_STRING: u8 = 0x02;

/// True for an `onMetaData` data message, with or without the
/// `@setDataFrame` wrapper publishers send (FLV spec E.5, onMetaData).
pub fn is_metadata(payload: &[u8]) -> bool {
    let mut r = Reader::new(payload);
    match amf0_string(&mut r) {
        Some(b"onMetaData") => true,
        Some(b"@setDataFrame") => amf0_string(&mut r) == Some(b"onMetaData"),
        _ => false,
    }
}

fn amf0_string<'a>(r: &mut Reader<'a>) -> Option<&'a [u8]> {
    if r.u8().ok()? != AMF0_STRING {
        return None;
    }
    let len = r.u16().ok()?;
    r.take(usize::from(len)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MediaFlags;
    use bytes::Bytes;

    fn msg(kind: MediaKind, ts: u64, keyframe: bool, sh: bool, payload: &[u8]) -> MediaMessage {
        MediaMessage {
            timestamp: ts,
            kind,
            flags: MediaFlags {
                keyframe,
                sequence_header: sh,
            },
            payload: Bytes::copy_from_slice(payload),
        }
    }

    fn amf_string(s: &str) -> Vec<u8> {
        let mut v = vec![AMF0_STRING];
        v.extend_from_slice(&(s.len() as u16).to_be_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    }

    #[test]
    fn recognises_metadata() {
        assert!(is_metadata(&amf_string("onMetaData")));
        let mut wrapped = amf_string("@setDataFrame");
        wrapped.extend(amf_string("onMetaData"));
        assert!(is_metadata(&wrapped));
        assert!(!is_metadata(&amf_string("onCuePoint")));
        assert!(!is_metadata(&[AMF0_STRING, 0xff, 0xff, b'o']));
        assert!(!is_metadata(&[]));
    }

    #[test]
    fn snapshot_order_and_gop_reset() {
        let mut c = GopCache::new(GopConfig::default());
        c.push(&msg(MediaKind::Video, 0, false, false, b"p-before-key"));
        c.push(&msg(
            MediaKind::Data,
            0,
            false,
            false,
            &amf_string("onMetaData"),
        ));
        c.push(&msg(MediaKind::Audio, 0, false, true, b"asc"));
        c.push(&msg(MediaKind::Video, 0, true, true, b"avcc"));
        c.push(&msg(MediaKind::Video, 0, true, false, b"idr1"));
        c.push(&msg(MediaKind::Audio, 10, false, false, b"a1"));
        c.push(&msg(MediaKind::Video, 40, true, false, b"idr2"));
        c.push(&msg(MediaKind::Video, 80, false, false, b"p"));
        let got: Vec<&[u8]> = c.snapshot().map(|m| &m.payload[..]).collect();
        let meta = amf_string("onMetaData");
        assert_eq!(got, vec![&meta[..], b"avcc", b"asc", b"idr2", b"p"]);
        assert_eq!(c.gop_frames(), 2);
        assert_eq!(c.gop_bytes(), 5);
    }

    #[test]
    fn changed_header_drops_gop_but_identical_does_not() {
        let mut c = GopCache::new(GopConfig::default());
        c.push(&msg(MediaKind::Video, 0, true, true, b"avcc1"));
        c.push(&msg(MediaKind::Video, 0, true, false, b"idr"));
        c.push(&msg(MediaKind::Video, 40, true, true, b"avcc1"));
        assert_eq!(c.gop_frames(), 1);
        c.push(&msg(MediaKind::Video, 80, true, true, b"avcc2"));
        assert_eq!(c.gop_frames(), 0);
        let first: Vec<&[u8]> = c.snapshot().map(|m| &m.payload[..]).collect();
        assert_eq!(first, vec![b"avcc2"]);
    }

    #[test]
    fn pure_audio_after_video_drops_gop() {
        let mut c = GopCache::new(GopConfig::default());
        c.push(&msg(MediaKind::Video, 0, true, false, b"idr"));
        for i in 0..PURE_AUDIO_GUESS_COUNT as u64 {
            c.push(&msg(MediaKind::Audio, i, false, false, b"a"));
        }
        assert_eq!(c.gop_frames(), 1 + PURE_AUDIO_GUESS_COUNT);
        c.push(&msg(MediaKind::Audio, 999, false, false, b"a"));
        assert_eq!(c.gop_frames(), 0);
        c.push(&msg(MediaKind::Audio, 1000, false, false, b"a"));
        assert_eq!(c.gop_frames(), 0);
    }

    #[test]
    fn clear_forgets_everything() {
        let mut c = GopCache::new(GopConfig::default());
        c.push(&msg(MediaKind::Video, 0, true, true, b"avcc"));
        c.push(&msg(MediaKind::Video, 0, true, false, b"idr"));
        c.clear();
        assert_eq!(c.snapshot().count(), 0);
        assert_eq!(c.gop_bytes(), 0);
    }
}
