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
//!
//! An Enhanced RTMP v2 multitrack stream has a sequence header per track
//! (each rendition's decoder configuration, sent as separate messages with
//! their track ids, or several in one message). Headers are therefore kept
//! per track ([`header_track`]): track 0's (or the single-track stream's)
//! first, then the others in track order, each replaced only by its own
//! track's next header. SRS keeps one per media type and would hand a late
//! joiner only the last track's.
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

use crate::flv::{MultitrackType, Tracks, MAX_TRACKS_PER_MESSAGE};
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
    /// Video sequence headers by [`header_track`], in key order.
    video_headers: Vec<(u16, MediaMessage)>,
    /// Audio sequence headers by [`header_track`], in key order.
    audio_headers: Vec<(u16, MediaMessage)>,
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
            video_headers: Vec::new(),
            audio_headers: Vec::new(),
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
                if replace_header(&mut self.video_headers, msg) {
                    self.drop_gop();
                }
            }
            MediaKind::Audio if msg.flags.sequence_header => {
                if replace_header(&mut self.audio_headers, msg) {
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
    /// sequence headers, audio sequence headers (each track's, track 0
    /// first), then the GOP from its key frame.
    pub fn snapshot(&self) -> impl Iterator<Item = &MediaMessage> + '_ {
        self.metadata
            .iter()
            .chain(self.video_headers.iter().map(|(_, m)| m))
            .chain(self.audio_headers.iter().map(|(_, m)| m))
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
        self.video_headers = Vec::new();
        self.audio_headers = Vec::new();
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

/// The key a sequence header is kept under: 0 for a single-track message
/// (legacy or E-RTMP), the track id for a multitrack `OneTrack` message, and
/// 256 for a message carrying several tracks' headers at once (the next such
/// message replaces it).
pub fn header_track(msg: &MediaMessage) -> u16 {
    /// Several tracks in one message.
    const MANY: u16 = 256;
    let one_track = |kind: MultitrackType, first: Option<u8>| match (kind, first) {
        (MultitrackType::OneTrack, Some(id)) => u16::from(id),
        _ => MANY,
    };
    let first_id = |tracks: Tracks<'_>| tracks.into_iter().next()?.ok().map(|t| t.track_id);
    match msg.kind {
        MediaKind::Video => match Tracks::of_video(&msg.payload) {
            Ok(Some((h, tracks))) => {
                let kind = h.multitrack.map_or(MultitrackType::OneTrack, |m| m.kind);
                one_track(kind, first_id(tracks))
            }
            _ => 0,
        },
        MediaKind::Audio => match Tracks::of_audio(&msg.payload) {
            Ok(Some((h, tracks))) => {
                let kind = h.multitrack.map_or(MultitrackType::OneTrack, |(k, _)| k);
                one_track(kind, first_id(tracks))
            }
            _ => 0,
        },
        MediaKind::Data => 0,
    }
}

/// Stores `msg` under its [`header_track`] key; true when it replaced that
/// track's header with other bytes. At most [`MAX_TRACKS_PER_MESSAGE`] + 1
/// keys are kept: a publisher inventing track ids only replaces the highest.
fn replace_header(slots: &mut Vec<(u16, MediaMessage)>, msg: &MediaMessage) -> bool {
    let key = header_track(msg);
    match slots.binary_search_by_key(&key, |(k, _)| *k) {
        Ok(i) => {
            let changed = slots[i].1.payload != msg.payload;
            slots[i].1 = msg.clone();
            changed
        }
        Err(i) => {
            if slots.len() > MAX_TRACKS_PER_MESSAGE {
                slots.pop();
            }
            slots.insert(i.min(slots.len()), (key, msg.clone()));
            false
        }
    }
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

    /// An E-RTMP v2 OneTrack multitrack video sequence start for `track`.
    fn track_header(track: u8, record: &[u8]) -> MediaMessage {
        let mut p = vec![0x80 | (1 << 4) | 6, 0x00];
        p.extend_from_slice(b"avc1");
        p.push(track);
        p.extend_from_slice(record);
        MediaMessage::new(MediaKind::Video, 0, Bytes::from(p))
    }

    #[test]
    fn each_track_keeps_its_own_sequence_header() {
        let mut c = GopCache::new(GopConfig::default());
        let legacy = msg(MediaKind::Video, 0, true, true, &[0x17, 0, 0, 0, 0, 1]);
        c.push(&track_header(2, b"two"));
        c.push(&legacy);
        c.push(&track_header(1, b"one"));
        assert!(track_header(1, b"one").flags.sequence_header);
        assert_eq!(header_track(&track_header(1, b"one")), 1);
        assert_eq!(header_track(&legacy), 0);
        c.push(&msg(MediaKind::Video, 0, true, false, b"idr"));
        // The same header again keeps the GOP; another track's header too.
        c.push(&track_header(1, b"one"));
        assert_eq!(c.gop_frames(), 1);
        let got: Vec<&[u8]> = c.snapshot().map(|m| &m.payload[..]).collect();
        assert_eq!(got.len(), 4, "three tracks' headers and the GOP");
        assert_eq!(got[0], &legacy.payload[..], "track 0 first");
        assert!(got[1].ends_with(b"one") && got[2].ends_with(b"two"));
        // A changed header of track 2 replaces only track 2's and drops the GOP.
        c.push(&track_header(2, b"TWO"));
        let got: Vec<&[u8]> = c.snapshot().map(|m| &m.payload[..]).collect();
        assert_eq!(got.len(), 3);
        assert!(got[2].ends_with(b"TWO"));
        // Invented track ids cannot grow the cache without bound.
        for t in 0..=255u8 {
            c.push(&track_header(t, &[t]));
        }
        assert!(c.snapshot().count() <= MAX_TRACKS_PER_MESSAGE + 1);
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
