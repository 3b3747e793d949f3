//! The media message that fans out from one publisher to every consumer.

use bytes::Bytes;
use rtmp_proto::MessageType;

use crate::flv::TagType;

/// Which track a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// RTMP message type 8; payload is an FLV audio tag body.
    Audio,
    /// RTMP message type 9; payload is an FLV video tag body.
    Video,
    /// RTMP message type 18 (AMF0 data, e.g. onMetaData).
    Data,
}

impl MediaKind {
    /// The kind an RTMP message of type `t` carries (RTMP spec 7.1: 8 audio,
    /// 9 video, 18 AMF0 data; a session turns AMF3 data, 15, into 18), or
    /// `None` for anything that is not media.
    pub fn from_message_type(t: MessageType) -> Option<Self> {
        match t {
            MessageType::Audio => Some(Self::Audio),
            MessageType::Video => Some(Self::Video),
            MessageType::DataAmf0 => Some(Self::Data),
            _ => None,
        }
    }

    /// The RTMP message type that carries this kind.
    pub fn message_type(self) -> MessageType {
        match self {
            Self::Audio => MessageType::Audio,
            Self::Video => MessageType::Video,
            Self::Data => MessageType::DataAmf0,
        }
    }

    /// The FLV tag type that carries this kind (FLV spec E.4.1: the same
    /// numbers as the RTMP message types).
    pub fn tag_type(self) -> TagType {
        match self {
            Self::Audio => TagType::Audio,
            Self::Video => TagType::Video,
            Self::Data => TagType::Script,
        }
    }
}

/// What a consumer needs to know without parsing the payload again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct MediaFlags {
    /// A video key frame (a point a new player can start from).
    pub keyframe: bool,
    /// An AVC/HEVC decoder configuration or AAC AudioSpecificConfig.
    pub sequence_header: bool,
}

/// One audio, video or data message. Cloning is cheap: the payload is shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessage {
    /// Decode timestamp in milliseconds, 64-bit so it never wraps in practice.
    pub timestamp: u64,
    /// The track.
    pub kind: MediaKind,
    /// Key frame / sequence header flags.
    pub flags: MediaFlags,
    /// The FLV tag body exactly as RTMP carries it.
    pub payload: Bytes,
}

impl MediaMessage {
    /// A message with its flags read from the FLV tag header at the front of
    /// `payload` ([`crate::flv::VideoTagHeader`], [`crate::flv::AudioTagHeader`]):
    /// a video key frame is frame type 1 carrying a picture (legacy or
    /// E-RTMP); a sequence header is AVC/HEVC packet type 0, E-RTMP
    /// SequenceStart (or MPEG2TSSequenceStart), or AAC packet type 0. A
    /// sequence header is not also flagged as a key frame.
    ///
    /// In an Enhanced RTMP v2 multitrack stream only the default track's
    /// (track 0's) key frames are key frames here: a player joins, the GOP
    /// cache starts, and HLS cuts where the default track can start, so the
    /// key frame of another rendition arriving just after track 0's does not
    /// restart the GOP without track 0's.
    ///
    /// Never fails: a payload that does not parse gets no flags, and the stream
    /// goes on (consumers treat it as an ordinary frame).
    pub fn new(kind: MediaKind, timestamp: u64, payload: Bytes) -> Self {
        let flags = match kind {
            MediaKind::Video => match crate::flv::VideoTagHeader::parse(&payload) {
                Ok((h, _)) => MediaFlags {
                    keyframe: h.is_keyframe()
                        && (h.multitrack.is_none() || has_default_track(&payload)),
                    sequence_header: h.is_sequence_header(),
                },
                Err(_) => MediaFlags::default(),
            },
            MediaKind::Audio => match crate::flv::AudioTagHeader::parse(&payload) {
                Ok((h, _)) => MediaFlags {
                    keyframe: false,
                    sequence_header: h.is_sequence_header(),
                },
                Err(_) => MediaFlags::default(),
            },
            MediaKind::Data => MediaFlags::default(),
        };
        Self {
            timestamp,
            kind,
            flags,
            payload,
        }
    }

    /// A decoder configuration (AVC/HEVC record, AAC AudioSpecificConfig, ...).
    pub fn is_sequence_header(&self) -> bool {
        self.flags.sequence_header
    }

    /// A video key frame.
    pub fn is_keyframe(&self) -> bool {
        self.flags.keyframe
    }
}

/// Whether a multitrack video message carries track 0.
fn has_default_track(payload: &[u8]) -> bool {
    match crate::flv::Tracks::of_video(payload) {
        Ok(Some((_, tracks))) => tracks.filter_map(Result::ok).any(|t| t.track_id == 0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(kind: MediaKind, payload: &'static [u8]) -> (bool, bool) {
        let m = MediaMessage::new(kind, 7, Bytes::from_static(payload));
        assert_eq!((m.timestamp, m.kind, &m.payload[..]), (7, kind, payload));
        (m.is_keyframe(), m.is_sequence_header())
    }

    #[test]
    fn flags_come_from_the_tag_header() {
        use MediaKind::{Audio, Data, Video};
        // (keyframe, sequence header)
        assert_eq!(flags(Video, &[0x17, 0, 0, 0, 0, 1]), (false, true));
        assert_eq!(
            flags(Video, &[0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65]),
            (true, false)
        );
        assert_eq!(flags(Video, &[0x27, 1, 0, 0, 0]), (false, false));
        assert_eq!(flags(Video, &[0x1c, 1, 0, 0, 0]), (true, false));
        assert_eq!(flags(Video, b"\x90hvc1\x01"), (false, true));
        assert_eq!(flags(Video, b"\x91hvc1\0\0\0"), (true, false));
        assert_eq!(flags(Video, b"\x93av01"), (true, false));
        assert_eq!(flags(Video, b"\xa3av01"), (false, false));
        assert_eq!(flags(Audio, &[0xaf, 0, 0x12, 0x10]), (false, true));
        assert_eq!(flags(Audio, &[0xaf, 1, 0x21]), (false, false));
        assert_eq!(flags(Audio, b"\x90Opus"), (false, true));
        assert_eq!(flags(Data, &[0x17, 0]), (false, false));
        // E-RTMP v2 multitrack (OneTrack): only track 0's key frame is one.
        assert_eq!(flags(Video, b"\x96\x01avc1\x00\0\0\0\x65"), (true, false));
        assert_eq!(flags(Video, b"\x96\x01avc1\x01\0\0\0\x65"), (false, false));
        assert_eq!(flags(Video, b"\x96\x00avc1\x01\x01"), (false, true));
    }

    #[test]
    fn unparsable_payloads_get_no_flags() {
        assert_eq!(flags(MediaKind::Video, &[]), (false, false));
        assert_eq!(flags(MediaKind::Video, &[0x17]), (false, false));
        assert_eq!(flags(MediaKind::Video, b"\x90hv"), (false, false));
        assert_eq!(flags(MediaKind::Audio, &[0xaf]), (false, false));
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn kinds_map_to_message_and_tag_types_both_ways() {
        for kind in [MediaKind::Audio, MediaKind::Video, MediaKind::Data] {
            assert_eq!(
                MediaKind::from_message_type(kind.message_type()),
                Some(kind)
            );
            assert_eq!(kind.tag_type().id(), kind.message_type().id());
        }
        assert_eq!(
            MediaKind::from_message_type(MessageType::SetChunkSize),
            None
        );
    }
}
