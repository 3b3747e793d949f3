//! One published message as it fans out: shared by every consumer's queue.
//!
//! A [`Frame`] wraps the [`MediaMessage`] and caches its RTMP chunk encoding, so a
//! message is chunk-encoded once per distinct (chunk size, message stream id) and
//! the resulting pieces (small header bytes plus slices of the payload) are shared
//! by every RTMP player. Payload bytes are never copied per player.
//!
//! A player whose timeline is offset from the stream's (it joined late, or
//! stayed across a republish: see `media_core::jitter::PlayClock`) needs the
//! message at another timestamp, which lives in the first chunk's header
//! ([`Frame::rtmp_at`]). Players that joined during the same GOP share an
//! offset, so the first such timestamp asked for is encoded once and shared
//! too (a crowd arriving together costs what players from the start cost);
//! any other gets the shared encoding behind a first chunk header of its own,
//! up to 18 bytes per message, cut from a buffer each thread keeps for them
//! (one allocation per few hundred headers). The payload and the continuation
//! headers are shared either way.
//!
//! An Enhanced RTMP v2 multitrack message (several renditions or audio
//! tracks in one stream) reaches players that announced E-RTMP as it is. A
//! player that did not gets the stream's default track only
//! ([`Frame::default_track`]): track 0 rebuilt once, in legacy form where
//! its codec has one (H.264, AAC, MP3), else as a single-track E-RTMP
//! message, and shared by all such players; other tracks are not sent.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use media_core::{MediaKind, MediaMessage};
use rtmp_proto::chunk::EncodedMessage;
use rtmp_proto::session::encode_shared_media;
use rtmp_proto::{MessageType, RawMessage};

/// A message in flight from a publisher to its consumers.
#[derive(Debug)]
pub struct Frame {
    /// The media message (timestamps already jitter-corrected).
    pub msg: MediaMessage,
    /// The encoding for the most common (chunk size, stream id) pair.
    rtmp: OnceLock<((u32, u32), EncodedMessage)>,
    /// The encoding at the first other timestamp a player asked for, with
    /// its (chunk size, stream id, timestamp): the offset of the players
    /// that joined together.
    retimed: OnceLock<((u32, u32, u64), EncodedMessage)>,
    /// An E-RTMP multitrack message (see [`Frame::default_track`]).
    multitrack: bool,
    /// Its default track as a frame of its own, built on first use.
    default_form: OnceLock<Option<SharedFrame>>,
}

/// Which tracks of an E-RTMP multitrack stream a consumer receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrackFilter {
    /// Every message as published (E-RTMP players, outputs, forwards).
    #[default]
    All,
    /// Track 0 only, in a form players without multitrack support read.
    DefaultOnly,
}

/// Whether `msg` is an E-RTMP multitrack message. The first byte settles
/// almost every message; only ex headers with a multitrack or ModEx packet
/// type are parsed.
fn is_multitrack(msg: &MediaMessage) -> bool {
    use media_core::flv::{AudioTagHeader, VideoTagHeader};
    let Some(&first) = msg.payload.first() else {
        return false;
    };
    match msg.kind {
        MediaKind::Video if first & 0x80 != 0 && matches!(first & 0x0f, 6 | 7) => {
            VideoTagHeader::parse(&msg.payload).is_ok_and(|(h, _)| h.multitrack.is_some())
        }
        MediaKind::Audio if first >> 4 == 9 && matches!(first & 0x0f, 5 | 7) => {
            AudioTagHeader::parse(&msg.payload).is_ok_and(|(h, _)| h.multitrack.is_some())
        }
        _ => false,
    }
}

/// One track of a multitrack message as a message body of its own: legacy
/// form where the codec has one (H.264, AAC, MP3), else single-track
/// E-RTMP; `None` for a packet type neither form carries.
fn rebuild_video(
    header: &media_core::flv::VideoTagHeader,
    track: &media_core::flv::TrackData<'_>,
) -> Option<bytes::Bytes> {
    use media_core::flv::{legacy_video, single_track_video};
    let packet = header.payload_type();
    legacy_video(header.frame_type, packet, track.fourcc, track.body)
        .or_else(|| single_track_video(header.frame_type, packet, track))
}

/// The audio counterpart of [`rebuild_video`].
fn rebuild_audio(
    packet: media_core::flv::AudioPacketType,
    track: &media_core::flv::TrackData<'_>,
) -> Option<bytes::Bytes> {
    use media_core::flv::{legacy_audio, single_track_audio};
    legacy_audio(packet, track.fourcc, track.body).or_else(|| single_track_audio(packet, track))
}

/// Track 0 of a multitrack message as a message of its own: legacy form
/// where the codec has one, else single-track E-RTMP; `None` without a
/// readable track 0.
fn default_track_of(msg: &MediaMessage) -> Option<MediaMessage> {
    use media_core::flv::Tracks;
    let payload = match msg.kind {
        MediaKind::Video => {
            let (h, tracks) = Tracks::of_video(&msg.payload).ok()??;
            let track = tracks.filter_map(Result::ok).find(|t| t.track_id == 0)?;
            rebuild_video(&h, &track)?
        }
        MediaKind::Audio => {
            let (h, tracks) = Tracks::of_audio(&msg.payload).ok()??;
            let (_, packet) = h.multitrack?;
            let track = tracks.filter_map(Result::ok).find(|t| t.track_id == 0)?;
            rebuild_audio(packet, &track)?
        }
        MediaKind::Data => return None,
    };
    Some(MediaMessage::new(msg.kind, msg.timestamp, payload))
}

/// Every track of a multitrack message as a message of its own (the form
/// of [`default_track_of`]), with its track id, in message order: what an
/// output that keeps each rendition apart (HLS's per-rendition playlists)
/// takes. `None` when `msg` is not multitrack: it is then the default
/// track's as it stands. A loop that stops being readable gives the tracks
/// read before; at most [`MAX_TRACKS_PER_MESSAGE`](media_core::flv::MAX_TRACKS_PER_MESSAGE)
/// (the loop's own bound). Tracks in a packet type neither single-track
/// form carries are left out.
pub fn split_tracks(msg: &MediaMessage) -> Option<Vec<(u8, MediaMessage)>> {
    use media_core::flv::Tracks;
    let one = |id: u8, payload: Option<bytes::Bytes>| {
        payload.map(|p| (id, MediaMessage::new(msg.kind, msg.timestamp, p)))
    };
    match msg.kind {
        MediaKind::Video => {
            let (h, tracks) = Tracks::of_video(&msg.payload).ok()??;
            Some(
                tracks
                    .map_while(Result::ok)
                    .filter_map(|t| one(t.track_id, rebuild_video(&h, &t)))
                    .collect(),
            )
        }
        MediaKind::Audio => {
            let (h, tracks) = Tracks::of_audio(&msg.payload).ok()??;
            let (_, packet) = h.multitrack?;
            Some(
                tracks
                    .map_while(Result::ok)
                    .filter_map(|t| one(t.track_id, rebuild_audio(packet, &t)))
                    .collect(),
            )
        }
        MediaKind::Data => None,
    }
}

/// The message stream id whose encodings are cached: the one `createStream`
/// gives every client first. A player may play on an id of its own choosing
/// (some skip `createStream`); such a player gets encodings of its own rather
/// than deciding, by draining a frame first, which one everybody shares.
pub const CACHED_STREAM_ID: u32 = 1;

/// Bytes of first chunk headers each thread cuts per allocation (a header is
/// at most 18: RTMP spec 5.3.1).
const HEADER_BLOCK: usize = 4096;

thread_local! {
    /// Where the per-player first chunk headers of [`Frame::rtmp_at`] are
    /// written, then split off: a write's headers share one block, and so do
    /// many players' writes, instead of one allocation each.
    static HEADERS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// Frames travel in `Arc`s: a queue entry is one pointer.
pub type SharedFrame = Arc<Frame>;

impl Frame {
    /// Wraps a message for fan-out.
    pub fn new(msg: MediaMessage) -> SharedFrame {
        Arc::new(Self {
            multitrack: is_multitrack(&msg),
            msg,
            rtmp: OnceLock::new(),
            retimed: OnceLock::new(),
            default_form: OnceLock::new(),
        })
    }

    /// This frame as a consumer with `filter` receives it: itself, its
    /// default track (built once, shared by every such consumer), or
    /// nothing (a multitrack message without track 0).
    pub fn for_consumer(frame: &SharedFrame, filter: TrackFilter) -> Option<&SharedFrame> {
        if !frame.multitrack || filter == TrackFilter::All {
            return Some(frame);
        }
        frame
            .default_form
            .get_or_init(|| default_track_of(&frame.msg).map(Frame::new))
            .as_ref()
    }

    /// Whether this is an E-RTMP multitrack message (several tracks, or
    /// one track other than the default, in one message).
    pub fn is_multitrack(&self) -> bool {
        self.multitrack
    }

    /// The RTMP message this frame becomes on a player's message stream.
    pub fn raw(&self, stream_id: u32) -> RawMessage {
        let type_id = match self.msg.kind {
            MediaKind::Audio => MessageType::Audio,
            MediaKind::Video => MessageType::Video,
            MediaKind::Data => MessageType::DataAmf0,
        };
        let csid = rtmp_proto::session::shared_csid(type_id);
        RawMessage {
            csid,
            timestamp: self.msg.timestamp,
            type_id,
            stream_id,
            payload: self.msg.payload.clone(),
        }
    }

    /// The chunk encoding for a player with `chunk_size` and `stream_id`.
    ///
    /// The encoding on [`CACHED_STREAM_ID`] with the first caller's chunk size
    /// (players of a source share its vhost's) is cached and shared; other
    /// pairs get a fresh encoding, which still shares the payload bytes.
    pub fn rtmp(&self, chunk_size: u32, stream_id: u32) -> EncodedMessage {
        match self.cached(chunk_size, stream_id) {
            Some(encoded) => encoded.clone(),
            None => encode_shared_media(chunk_size, stream_id, &self.raw(stream_id)),
        }
    }

    /// The cached encoding, if (`chunk_size`, `stream_id`) is the pair it is
    /// (or now becomes) cached for.
    fn cached(&self, chunk_size: u32, stream_id: u32) -> Option<&EncodedMessage> {
        if stream_id != CACHED_STREAM_ID {
            return None;
        }
        let key = (chunk_size, stream_id);
        let (cached_key, encoded) = self.rtmp.get_or_init(|| {
            (
                key,
                encode_shared_media(chunk_size, stream_id, &self.raw(stream_id)),
            )
        });
        (*cached_key == key).then_some(encoded)
    }

    /// The chunk encoding for a player that gets this frame at `timestamp`
    /// on its own timeline: the shared encoding of [`rtmp`](Self::rtmp) when
    /// that is the frame's own time, or the one cached for the first other
    /// time asked for when it is that one; otherwise a first chunk header of
    /// its own (from a per-thread block), then the shared rest. Write the
    /// header, if any, then the message. Only when continuation chunks repeat
    /// an extended timestamp (past 4.6 hours) is the message cut again for
    /// this player, and then too the payload is shared, not copied.
    pub fn rtmp_at(
        &self,
        chunk_size: u32,
        stream_id: u32,
        timestamp: u64,
    ) -> (Option<Bytes>, EncodedMessage) {
        if timestamp == self.msg.timestamp {
            return (None, self.rtmp(chunk_size, stream_id));
        }
        if stream_id == CACHED_STREAM_ID {
            let key = (chunk_size, stream_id, timestamp);
            let (cached_key, encoded) = self.retimed.get_or_init(|| {
                let raw = RawMessage {
                    timestamp,
                    ..self.raw(stream_id)
                };
                (key, encode_shared_media(chunk_size, stream_id, &raw))
            });
            if *cached_key == key {
                return (None, encoded.clone());
            }
            let retimed = self.cached(chunk_size, stream_id).and_then(|shared| {
                HEADERS.with(|cell| {
                    let mut block = cell.try_borrow_mut().ok()?;
                    if block.capacity() < rtmp_proto::chunk::MAX_CHUNK_HEADER_LEN {
                        *block = BytesMut::with_capacity(HEADER_BLOCK);
                    }
                    shared.retimed(timestamp, &mut block)
                })
            });
            if let Some((header, rest)) = retimed {
                return (Some(header), rest);
            }
        }
        let raw = RawMessage {
            timestamp,
            ..self.raw(stream_id)
        };
        (None, encode_shared_media(chunk_size, stream_id, &raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// An E-RTMP v2 OneTrack multitrack avc1 key frame of `track`.
    fn track_frame(track: u8) -> SharedFrame {
        let mut p = vec![0x80 | (1 << 4) | 6, 0x01];
        p.extend_from_slice(b"avc1");
        p.push(track);
        p.extend_from_slice(&[0, 0, 0x28, 0, 0, 0, 2, 0x65, 0x88]);
        Frame::new(MediaMessage::new(MediaKind::Video, 80, Bytes::from(p)))
    }

    #[test]
    fn players_without_multitrack_get_the_default_track_in_legacy_form() {
        let zero = track_frame(0);
        let all = Frame::for_consumer(&zero, TrackFilter::All).unwrap();
        assert!(Arc::ptr_eq(all, &zero), "E-RTMP players: as published");
        let legacy = Frame::for_consumer(&zero, TrackFilter::DefaultOnly).unwrap();
        assert_eq!(
            &legacy.msg.payload[..],
            &[0x17, 1, 0, 0, 0x28, 0, 0, 0, 2, 0x65, 0x88]
        );
        assert!(legacy.msg.flags.keyframe);
        assert_eq!(legacy.msg.timestamp, 80);
        let again = Frame::for_consumer(&zero, TrackFilter::DefaultOnly).unwrap();
        assert!(Arc::ptr_eq(legacy, again), "built once, shared");
        assert!(Frame::for_consumer(&track_frame(1), TrackFilter::DefaultOnly).is_none());
        // A legacy message is what it is for everyone.
        let plain = Frame::new(MediaMessage::new(
            MediaKind::Video,
            0,
            Bytes::from_static(&[0x17, 1, 0, 0, 0, 9]),
        ));
        let got = Frame::for_consumer(&plain, TrackFilter::DefaultOnly).unwrap();
        assert!(Arc::ptr_eq(got, &plain));
    }

    #[test]
    fn each_track_of_a_multitrack_message_apart() {
        // ManyTracks avc1 key frame: track 0 and track 3.
        let mut p = vec![0x80 | (1 << 4) | 6, (1 << 4) | 1];
        p.extend_from_slice(b"avc1");
        for (id, nal) in [(0u8, 0x65u8), (3, 0x25)] {
            // Id, UI24 size, then SI24 composition time and one NAL unit.
            p.extend_from_slice(&[id, 0, 0, 8]);
            p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, nal]);
        }
        let msg = MediaMessage::new(MediaKind::Video, 40, Bytes::from(p));
        let split = split_tracks(&msg).expect("multitrack");
        let ids: Vec<u8> = split.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [0, 3]);
        for (_, m) in &split {
            assert_eq!(m.timestamp, 40);
            assert_eq!(m.payload[0], 0x17, "legacy AVC key frame");
        }
        assert_eq!(split[1].1.payload.last(), Some(&0x25));
        // Each track's own key frame flag (only track 0's counts as the
        // stream's key frame in the multitrack message itself).
        assert!(split[1].1.flags.keyframe);
        // Track 0 as the default-track rebuild makes it.
        assert_eq!(
            Some(&split[0].1),
            default_track_of(&msg).as_ref(),
            "the same rebuild"
        );
        // A legacy message is not split.
        let plain = MediaMessage::new(MediaKind::Video, 0, Bytes::from_static(&[0x17, 1, 0, 0, 0]));
        assert!(split_tracks(&plain).is_none());
    }

    fn shared(a: &EncodedMessage, b: &EncodedMessage) -> bool {
        a.pieces()
            .iter()
            .zip(b.pieces())
            .all(|(x, y)| x.as_ptr() == y.as_ptr())
    }

    #[test]
    fn a_player_on_its_own_stream_id_does_not_decide_the_shared_encoding() {
        let frame = Frame::new(MediaMessage::new(
            MediaKind::Video,
            40,
            Bytes::from_static(&[0x17, 1, 0, 0, 0, 9, 9, 9]),
        ));
        // The first to drain plays on stream 7.
        let odd = frame.rtmp(60000, 7);
        let a = frame.rtmp(60000, 1);
        let b = frame.rtmp(60000, 1);
        assert!(shared(&a, &b), "stream-1 players share one encoding");
        assert!(!shared(&odd, &a));
        assert_eq!(odd.len(), a.len());
    }

    /// The wire bytes a player is sent for `frame` at `timestamp`.
    fn wire_at(frame: &Frame, chunk_size: u32, timestamp: u64) -> Vec<u8> {
        let (header, rest) = frame.rtmp_at(chunk_size, 1, timestamp);
        let mut wire = header.map(|h| h.to_vec()).unwrap_or_default();
        wire.extend_from_slice(&rest.to_vec());
        wire
    }

    #[test]
    fn players_on_another_timeline_share_all_but_a_header() {
        let payload = Bytes::from((0..200u8).collect::<Vec<_>>());
        let frame = Frame::new(MediaMessage::new(MediaKind::Video, 4000, payload.clone()));
        let own = frame.rtmp(128, 1);
        // At the frame's own time: the shared encoding itself.
        let (header, same) = frame.rtmp_at(128, 1, 4000);
        assert!(header.is_none() && shared(&same, &own));
        // The first other time asked for (players that joined together) is
        // encoded once and shared.
        let (header, first) = frame.rtmp_at(128, 1, 0);
        let (_, again) = frame.rtmp_at(128, 1, 0);
        assert!(header.is_none() && shared(&first, &again));
        assert!(
            first
                .pieces()
                .iter()
                .zip(own.pieces())
                .skip(1)
                .step_by(2)
                .all(|(a, b)| a.as_ptr() == b.as_ptr()),
            "payload shared"
        );
        // Any other: a header of its own, then the very same pieces.
        let (header, rest) = frame.rtmp_at(128, 1, 7);
        assert_eq!(header.map(|h| h.len()), Some(12));
        assert!(rest
            .pieces()
            .iter()
            .zip(&own.pieces()[1..])
            .all(|(a, b)| a.as_ptr() == b.as_ptr()));
        // What goes on the wire is what encoding at that time gives.
        for (ts, chunk_size) in [
            (0, 128),
            (33, 60000),
            (0x0100_0000, 60000),
            (0x0100_0000, 128),
        ] {
            let expected = encode_shared_media(
                chunk_size,
                1,
                &RawMessage {
                    timestamp: ts,
                    ..frame.raw(1)
                },
            );
            assert_eq!(wire_at(&frame, chunk_size, ts), expected.to_vec());
        }
        // Whichever path, the payload is never copied.
        let (_, again) = frame.rtmp_at(128, 1, 0x0100_0000);
        let inside: usize = again
            .pieces()
            .iter()
            .filter(|p| payload.as_ptr_range().contains(&p.as_ptr()))
            .map(Bytes::len)
            .sum();
        assert_eq!(inside, payload.len());
    }
}
