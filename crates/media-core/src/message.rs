//! The media message that fans out from one publisher to every consumer.

use bytes::Bytes;

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
    /// `payload`. Never fails: a payload that doesn't parse gets no flags (the
    /// stream goes on; consumers treat it as an ordinary frame).
    pub fn new(kind: MediaKind, timestamp: u64, payload: Bytes) -> Self {
        let flags = match kind {
            MediaKind::Video => match crate::flv::VideoTagHeader::parse(&payload) {
                Ok((h, _)) => MediaFlags {
                    keyframe: h.is_keyframe(),
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

    /// A decoder configuration (AVC/HEVC record, AAC AudioSpecificConfig).
    pub fn is_sequence_header(&self) -> bool {
        self.flags.sequence_header
    }

    /// A video key frame.
    pub fn is_keyframe(&self) -> bool {
        self.flags.keyframe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_come_from_the_tag_header() {
        let v = |b: &'static [u8]| MediaMessage::new(MediaKind::Video, 0, Bytes::from_static(b));
        assert!(v(&[0x17, 0, 0, 0, 0]).is_sequence_header());
        assert!(v(&[0x17, 1, 0, 0, 0, 1]).is_keyframe());
        assert!(!v(&[0x27, 1, 0, 0, 0, 1]).is_keyframe());
        assert!(v(b"\x91hvc1\0\0\0").is_keyframe());
        assert!(!v(&[]).is_keyframe());
        let a = MediaMessage::new(MediaKind::Audio, 0, Bytes::from_static(&[0xaf, 0, 0x12, 0x10]));
        assert!(a.is_sequence_header() && !a.is_keyframe());
    }
}
