//! The track loop of an Enhanced RTMP v2 multitrack message, and the
//! single-track forms a player that cannot take multitrack is given.
//!
//! E-RTMP v2 ("Enhanced Video"/"Enhanced Audio", `ExVideoTagBody` and
//! `ExAudioTagBody`): after a header whose packet type is `Multitrack`, the
//! body is a loop of tracks. Per track: a FourCC (only for
//! `ManyTracksManyCodecs`), a `UI8` track id, a `UI24` size (not for
//! `OneTrack`, whose single track runs to the end), then that track's body,
//! laid out as the body of a single-track message of the same FourCC and
//! packet type (so `avc1`/`hvc1` `CodedFrames` start with their `SI24`
//! composition time). Track 0 is the default track ("Track Ordering").
//!
//! [`Tracks`] walks that loop without copying. [`single_track_video`] and
//! [`single_track_audio`] rebuild one track as an ordinary ex-header message
//! (for E-RTMP v1 players), and [`legacy_video`] / [`legacy_audio`] as a
//! legacy FLV body where the codec has one (H.264, AAC, MP3), for players
//! that know nothing of E-RTMP.

use bytes::{BufMut, Bytes, BytesMut};
use rtmp_proto::reader::Reader;

use super::audio::AudioPacketType;
use super::video::{FrameType, MultitrackType, VideoPacketType};
use super::{AudioTagHeader, FlvError, VideoTagHeader};

/// Most tracks one message may carry. The track id is a `UI8`, so a
/// message of tiny tracks could otherwise make a reader loop 10^6 times;
/// publishers send a handful (OBS: up to 5 video renditions).
pub const MAX_TRACKS_PER_MESSAGE: usize = 32;

/// One track of a multitrack message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackData<'a> {
    /// The track id (0: the default track).
    pub track_id: u8,
    /// The track's FourCC.
    pub fourcc: [u8; 4],
    /// The track's body, as a single-track message of this FourCC would carry it.
    pub body: &'a [u8],
}

/// The tracks of a multitrack message, in message order.
#[derive(Debug, Clone)]
pub struct Tracks<'a> {
    kind: MultitrackType,
    fourcc: Option<[u8; 4]>,
    reader: Reader<'a>,
    seen: usize,
    done: bool,
}

impl<'a> Tracks<'a> {
    /// The track loop `loop_bytes` of a message laid out as `kind`, with
    /// `fourcc` from the header (absent for `ManyTracksManyCodecs`).
    pub fn new(kind: MultitrackType, fourcc: Option<[u8; 4]>, loop_bytes: &'a [u8]) -> Self {
        Self {
            kind,
            fourcc,
            reader: Reader::new(loop_bytes),
            seen: 0,
            done: false,
        }
    }

    /// The header and tracks of a video message body; `None` when the
    /// message is not multitrack.
    pub fn of_video(body: &'a [u8]) -> Result<Option<(VideoTagHeader, Self)>, FlvError> {
        let (header, len) = VideoTagHeader::parse(body)?;
        let Some(m) = header.multitrack else {
            return Ok(None);
        };
        let fourcc = header.fourcc.map(|f| f.to_bytes());
        let rest = body.get(len..).unwrap_or_default();
        Ok(Some((header, Self::new(m.kind, fourcc, rest))))
    }

    /// The header and tracks of an audio message body; `None` when the
    /// message is not multitrack.
    pub fn of_audio(body: &'a [u8]) -> Result<Option<(AudioTagHeader, Self)>, FlvError> {
        let (header, len) = AudioTagHeader::parse(body)?;
        let Some((kind, _)) = header.multitrack else {
            return Ok(None);
        };
        let rest = body.get(len..).unwrap_or_default();
        Ok(Some((header, Self::new(kind, header.fourcc, rest))))
    }

    fn next_track(&mut self) -> Result<TrackData<'a>, FlvError> {
        let fourcc = match (self.kind, self.fourcc) {
            (MultitrackType::ManyTracksManyCodecs, _) | (_, None) => {
                let mut b = [0u8; 4];
                b.copy_from_slice(self.reader.take(4)?);
                b
            }
            (_, Some(f)) => f,
        };
        let track_id = self.reader.u8()?;
        let body = if self.kind == MultitrackType::OneTrack {
            self.done = true;
            self.reader.rest()
        } else {
            let size = self.reader.u24()? as usize;
            self.reader.take(size)?
        };
        Ok(TrackData {
            track_id,
            fourcc,
            body,
        })
    }
}

impl<'a> Iterator for Tracks<'a> {
    type Item = Result<TrackData<'a>, FlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || (self.seen > 0 && self.reader.remaining() == 0) {
            return None;
        }
        if self.seen == MAX_TRACKS_PER_MESSAGE {
            self.done = true;
            return Some(Err(FlvError::UnsupportedExHeader(
                "more tracks in one message than MAX_TRACKS_PER_MESSAGE",
            )));
        }
        self.seen += 1;
        let track = self.next_track();
        if track.is_err() {
            self.done = true;
        }
        Some(track)
    }
}

/// The E-RTMP `VideoPacketType` wire value of a track's packet type.
fn video_packet_type_bits(t: VideoPacketType) -> Option<u8> {
    Some(match t {
        VideoPacketType::SequenceStart => 0,
        VideoPacketType::CodedFrames => 1,
        VideoPacketType::SequenceEnd => 2,
        VideoPacketType::CodedFramesX => 3,
        VideoPacketType::Metadata => 4,
        VideoPacketType::Mpeg2TsSequenceStart => 5,
        _ => return None,
    })
}

fn frame_type_bits(f: FrameType) -> u8 {
    match f {
        FrameType::Key => 1,
        FrameType::Inter => 2,
        FrameType::Disposable => 3,
        FrameType::GeneratedKey => 4,
        FrameType::Command => 5,
        FrameType::Reserved(v) => v & 0x07,
    }
}

/// One video track as a single-track ex-header message (`IsExHeader`,
/// frame type, packet type, FourCC, body): what an E-RTMP player that did
/// not announce multitrack takes. `None` for a packet type a single-track
/// message cannot carry.
pub fn single_track_video(
    frame_type: FrameType,
    packet_type: VideoPacketType,
    track: &TrackData<'_>,
) -> Option<Bytes> {
    let bits = video_packet_type_bits(packet_type)?;
    let mut out = BytesMut::with_capacity(5 + track.body.len());
    out.put_u8(0x80 | (frame_type_bits(frame_type) << 4) | bits);
    out.put_slice(&track.fourcc);
    out.put_slice(track.body);
    Some(out.freeze())
}

/// The E-RTMP `AudioPacketType` wire value of a track's packet type.
fn audio_packet_type_bits(t: AudioPacketType) -> Option<u8> {
    Some(match t {
        AudioPacketType::SequenceStart => 0,
        AudioPacketType::CodedFrames => 1,
        AudioPacketType::SequenceEnd => 2,
        AudioPacketType::MultichannelConfig => 4,
        _ => return None,
    })
}

/// One audio track as a single-track ex-header message (`SoundFormat` 9,
/// packet type, FourCC, body). `None` for a packet type a single-track
/// message cannot carry.
pub fn single_track_audio(packet_type: AudioPacketType, track: &TrackData<'_>) -> Option<Bytes> {
    let bits = audio_packet_type_bits(packet_type)?;
    let mut out = BytesMut::with_capacity(5 + track.body.len());
    out.put_u8(0x90 | bits);
    out.put_slice(&track.fourcc);
    out.put_slice(track.body);
    Some(out.freeze())
}

/// A video track (or single-track ex message body) as a legacy FLV
/// `VIDEODATA` body (FLV spec E.4.3.1), for players without E-RTMP. Only
/// `avc1` has a legacy form every player knows (codec id 7); `None` for
/// anything else, and for packet types the legacy form lacks.
pub fn legacy_video(
    frame_type: FrameType,
    packet_type: VideoPacketType,
    fourcc: [u8; 4],
    body: &[u8],
) -> Option<Bytes> {
    if &fourcc != b"avc1" {
        return None;
    }
    let first = (frame_type_bits(frame_type) << 4) | 7;
    let mut out = BytesMut::with_capacity(5 + body.len());
    out.put_u8(first);
    match packet_type {
        VideoPacketType::SequenceStart => {
            out.put_slice(&[0, 0, 0, 0]);
            out.put_slice(body);
        }
        // The body starts with the SI24 composition time, as legacy's does.
        VideoPacketType::CodedFrames => {
            if body.len() < 3 {
                return None;
            }
            out.put_u8(1);
            out.put_slice(body);
        }
        VideoPacketType::CodedFramesX => {
            out.put_slice(&[1, 0, 0, 0]);
            out.put_slice(body);
        }
        VideoPacketType::SequenceEnd => out.put_slice(&[2, 0, 0, 0]),
        _ => return None,
    }
    Some(out.freeze())
}

/// An audio track (or single-track ex message body) as a legacy FLV
/// `AUDIODATA` body (FLV spec E.4.2.1): `mp4a` as AAC (`0xAF`, with the
/// `AACPacketType`), `.mp3` as MP3 (44 kHz, 16-bit, stereo flags, as
/// encoders write them). `None` for other codecs and packet types.
pub fn legacy_audio(packet_type: AudioPacketType, fourcc: [u8; 4], body: &[u8]) -> Option<Bytes> {
    let mut out = BytesMut::with_capacity(2 + body.len());
    match (&fourcc, packet_type) {
        (b"mp4a", AudioPacketType::SequenceStart) => out.put_slice(&[0xaf, 0]),
        (b"mp4a", AudioPacketType::CodedFrames) => out.put_slice(&[0xaf, 1]),
        (b".mp3", AudioPacketType::CodedFrames) => out.put_u8(0x2f),
        _ => return None,
    }
    out.put_slice(body);
    Some(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `ManyTracks` avc1 CodedFrames key frame with tracks 0 and 1.
    fn many_tracks_video() -> Vec<u8> {
        let mut m = vec![0x80 | (1 << 4) | 6, (1 << 4) | 1];
        m.extend_from_slice(b"avc1");
        for (id, nal) in [
            (0u8, &b"\x00\x00\x00\x00\x00\x00\x01\x65"[..]),
            (1, b"\x00\x00\x0a\x00\x00\x00\x01\x25"),
        ] {
            m.push(id);
            m.extend_from_slice(&(nal.len() as u32).to_be_bytes()[1..]);
            m.extend_from_slice(nal);
        }
        m
    }

    #[test]
    fn many_tracks_walk_and_downgrade() {
        let m = many_tracks_video();
        let (h, tracks) = Tracks::of_video(&m).unwrap().expect("multitrack");
        assert_eq!(h.frame_type, FrameType::Key);
        let tracks: Vec<_> = tracks.collect::<Result<_, _>>().unwrap();
        assert_eq!(tracks.len(), 2);
        assert_eq!((tracks[0].track_id, &tracks[0].fourcc), (0, b"avc1"));
        assert_eq!(tracks[1].track_id, 1);
        assert_eq!(&tracks[1].body[..3], &[0, 0, 0x0a]);

        let payload_type = h.payload_type();
        assert_eq!(payload_type, VideoPacketType::CodedFrames);
        let single = single_track_video(h.frame_type, payload_type, &tracks[1]).unwrap();
        let (sh, len) = VideoTagHeader::parse(&single).unwrap();
        assert_eq!((sh.multitrack, sh.composition_time), (None, 10));
        assert_eq!(&single[len..], &tracks[1].body[3..]);

        let legacy =
            legacy_video(h.frame_type, payload_type, tracks[0].fourcc, tracks[0].body).unwrap();
        let (lh, len) = VideoTagHeader::parse(&legacy).unwrap();
        assert!(!lh.is_ex_header && lh.is_keyframe());
        assert_eq!(&legacy[len..], &tracks[0].body[3..]);
    }

    #[test]
    fn one_track_and_many_codecs() {
        // OneTrack audio: mp4a, track 2, an AudioSpecificConfig.
        let mut m = vec![0x90 | 5, 0x00];
        m.extend_from_slice(b"mp4a");
        m.extend_from_slice(&[2, 0x12, 0x10]);
        let (h, tracks) = Tracks::of_audio(&m).unwrap().expect("multitrack");
        let t: Vec<_> = tracks.collect::<Result<_, _>>().unwrap();
        assert_eq!(
            (t.len(), t[0].track_id, t[0].body),
            (1, 2, &[0x12, 0x10][..])
        );
        let inner = h.multitrack.unwrap().1;
        assert_eq!(inner, AudioPacketType::SequenceStart);
        let legacy = legacy_audio(inner, t[0].fourcc, t[0].body).unwrap();
        assert_eq!(&legacy[..], &[0xaf, 0, 0x12, 0x10]);
        let single = single_track_audio(inner, &t[0]).unwrap();
        let (sh, _) = AudioTagHeader::parse(&single).unwrap();
        assert!(sh.is_sequence_header() && sh.multitrack.is_none());

        // ManyTracksManyCodecs audio: Opus track 0, mp4a track 1.
        let mut m = vec![0x90 | 5, (2 << 4) | 1];
        for (cc, id, body) in [(b"Opus", 0u8, &b"op"[..]), (b"mp4a", 1, b"aac!")] {
            m.extend_from_slice(cc);
            m.push(id);
            m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
            m.extend_from_slice(body);
        }
        let (_, tracks) = Tracks::of_audio(&m).unwrap().expect("multitrack");
        let t: Vec<_> = tracks.collect::<Result<_, _>>().unwrap();
        assert_eq!((&t[0].fourcc, t[0].body), (b"Opus", &b"op"[..]));
        assert_eq!((&t[1].fourcc, t[1].track_id), (b"mp4a", 1));
        assert_eq!(
            legacy_audio(AudioPacketType::CodedFrames, t[0].fourcc, t[0].body),
            None
        );
    }

    #[test]
    fn hostile_loops_end_with_an_error() {
        // A size past the end.
        let mut m = many_tracks_video();
        m.truncate(m.len() - 2);
        let (_, tracks) = Tracks::of_video(&m).unwrap().unwrap();
        let results: Vec<_> = tracks.collect();
        assert_eq!(results.len(), 2);
        assert!(results[1].is_err());

        // Thousands of empty tracks: cut at the bound.
        let mut m = vec![0x80 | (2 << 4) | 6, (1 << 4) | 1];
        m.extend_from_slice(b"avc1");
        for i in 0..5000u32 {
            m.extend_from_slice(&[(i % 256) as u8, 0, 0, 0]);
        }
        let (_, tracks) = Tracks::of_video(&m).unwrap().unwrap();
        let results: Vec<_> = tracks.collect();
        assert_eq!(results.len(), MAX_TRACKS_PER_MESSAGE + 1);
        assert!(results.last().unwrap().is_err());

        // Not multitrack: None.
        assert!(Tracks::of_video(&[0x17, 1, 0, 0, 0]).unwrap().is_none());
        // Codecs without a legacy form.
        assert_eq!(
            legacy_video(FrameType::Key, VideoPacketType::CodedFrames, *b"av01", b"x"),
            None
        );
        assert_eq!(
            legacy_video(FrameType::Key, VideoPacketType::CodedFrames, *b"avc1", b"x"),
            None
        );
    }
}
