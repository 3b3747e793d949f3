//! The 11-byte FLV tag header (FLV spec v10.1 E.4.1, `FLVTAG`).

use rtmp_proto::reader::Reader;
use rtmp_proto::MessageType;

use super::FlvError;
use crate::message::MediaKind;

/// Size of a tag header on the wire.
pub const TAG_HEADER_LEN: usize = 11;

/// Largest body the 24-bit `DataSize` field can describe.
pub const MAX_TAG_DATA_SIZE: u32 = 0x00FF_FFFF;

/// Largest `StreamID` the 24-bit field can hold (files always use 0).
const MAX_STREAM_ID: u32 = 0x00FF_FFFF;

/// Tag type (FLV spec E.4.1 `TagType`; the same numbers as RTMP message types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagType {
    /// 8: audio.
    Audio,
    /// 9: video.
    Video,
    /// 18: script data (`onMetaData`).
    Script,
    /// Any other 5-bit value, kept as sent.
    Other(u8),
}

impl TagType {
    /// The wire value.
    pub fn id(self) -> u8 {
        match self {
            Self::Audio => 8,
            Self::Video => 9,
            Self::Script => 18,
            Self::Other(v) => v & 0x1F,
        }
    }

    /// The media a tag of this type carries, through the RTMP message type of
    /// the same number (FLV spec E.4.1: a tag body is an RTMP message body);
    /// `None` for types that are not media.
    pub fn media_kind(self) -> Option<MediaKind> {
        MediaKind::from_message_type(MessageType::from_id(self.id()))
    }

    /// From the wire value (only the low 5 bits are the type).
    pub fn from_id(v: u8) -> Self {
        match v & 0x1F {
            8 => Self::Audio,
            9 => Self::Video,
            18 => Self::Script,
            o => Self::Other(o),
        }
    }
}

/// One tag header: `Reserved UB[2] | Filter UB[1] | TagType UB[5]`,
/// `DataSize UI24`, `Timestamp UI24`, `TimestampExtended UI8`, `StreamID UI24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagHeader {
    /// What the body holds.
    pub tag_type: TagType,
    /// The `Filter` bit: the body is encrypted (FLV 10.1 E.4.1); we never decrypt.
    pub filter: bool,
    /// Body length in bytes (at most [`MAX_TAG_DATA_SIZE`]).
    pub data_size: u32,
    /// Milliseconds: the 24-bit `Timestamp` with `TimestampExtended` as the
    /// upper 8 bits.
    pub timestamp: u32,
    /// Always 0 in files; at most 24 bits.
    pub stream_id: u32,
}

impl TagHeader {
    /// Reads a tag header from the start of `data`.
    pub fn parse(data: &[u8]) -> Result<Self, FlvError> {
        let mut r = Reader::new(data);
        Self::read(&mut r)
    }

    /// Reads a tag header at the cursor.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, FlvError> {
        let first = r.u8()?;
        let data_size = r.u24()?;
        let low = r.u24()?;
        let high = r.u8()?;
        let stream_id = r.u24()?;
        Ok(Self {
            tag_type: TagType::from_id(first),
            filter: first & 0x20 != 0,
            data_size,
            timestamp: (u32::from(high) << 24) | low,
            stream_id,
        })
    }

    /// The 11 wire bytes. Fails if `data_size` or `stream_id` exceed their
    /// 24-bit fields (the timestamp always fits: its top byte goes into
    /// `TimestampExtended`).
    pub fn to_bytes(&self) -> Result<[u8; TAG_HEADER_LEN], FlvError> {
        if self.data_size > MAX_TAG_DATA_SIZE {
            return Err(FlvError::BodyTooLarge(self.data_size as usize));
        }
        if self.stream_id > MAX_STREAM_ID {
            return Err(FlvError::StreamIdTooLarge(self.stream_id));
        }
        let [_, s1, s2, s3] = self.data_size.to_be_bytes();
        let [t0, t1, t2, t3] = self.timestamp.to_be_bytes();
        let [_, i1, i2, i3] = self.stream_id.to_be_bytes();
        let first = self.tag_type.id() | if self.filter { 0x20 } else { 0 };
        Ok([first, s1, s2, s3, t1, t2, t3, t0, i1, i2, i3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_timestamp_byte_is_the_top_byte() {
        let h = TagHeader {
            tag_type: TagType::Video,
            filter: false,
            data_size: 0x01_0203,
            timestamp: 0x8765_4321,
            stream_id: 0,
        };
        let b = h.to_bytes().unwrap();
        assert_eq!(b, [9, 1, 2, 3, 0x65, 0x43, 0x21, 0x87, 0, 0, 0]);
        assert_eq!(TagHeader::parse(&b).unwrap(), h);
    }

    #[test]
    fn filter_bit_and_unknown_types_survive() {
        let b = [0x20 | 18, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7];
        let h = TagHeader::parse(&b).unwrap();
        assert!(h.filter);
        assert_eq!((h.tag_type, h.stream_id), (TagType::Script, 7));
        assert_eq!(h.to_bytes().unwrap(), b);
        assert_eq!(TagType::from_id(0xC3), TagType::Other(3));
    }

    #[test]
    fn media_kinds_round_trip() {
        for kind in [MediaKind::Audio, MediaKind::Video, MediaKind::Data] {
            assert_eq!(kind.tag_type().media_kind(), Some(kind));
        }
        assert_eq!(TagType::Other(1).media_kind(), None);
    }

    #[test]
    fn oversized_fields_and_short_input_are_errors() {
        let mut h = TagHeader {
            tag_type: TagType::Audio,
            filter: false,
            data_size: MAX_TAG_DATA_SIZE + 1,
            timestamp: 0,
            stream_id: 0,
        };
        assert_eq!(h.to_bytes(), Err(FlvError::BodyTooLarge(0x0100_0000)));
        h.data_size = 0;
        h.stream_id = 1 << 24;
        assert_eq!(h.to_bytes(), Err(FlvError::StreamIdTooLarge(1 << 24)));
        assert!(matches!(
            TagHeader::parse(&[8, 0, 0]),
            Err(FlvError::Truncated(_))
        ));
    }
}
