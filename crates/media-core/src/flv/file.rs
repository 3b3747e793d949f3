//! FLV files: the 9-byte header, 11-byte tag headers and previous-tag sizes.
//!
//! The reader hands out tag bodies as zero-copy slices of the file's [`Bytes`];
//! the writer is used by tests now and by DVR and HTTP-FLV.

use bytes::{BufMut, Bytes, BytesMut};
use rtmp_proto::reader::Reader;

use super::FlvError;

/// Size of the FLV file header.
pub const FLV_HEADER_LEN: usize = 9;
/// Size of a tag header.
pub const TAG_HEADER_LEN: usize = 11;
/// Largest header size the reader accepts (the spec says 9; a little slack for oddities).
const MAX_HEADER_LEN: u32 = 1024;

/// Tag type (FLV spec E.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagType {
    /// 8.
    Audio,
    /// 9.
    Video,
    /// 18: script data (onMetaData).
    Script,
    /// Anything else.
    Other(u8),
}

impl TagType {
    /// The wire value.
    pub fn id(self) -> u8 {
        match self {
            Self::Audio => 8,
            Self::Video => 9,
            Self::Script => 18,
            Self::Other(v) => v,
        }
    }

    /// From the wire value (low 5 bits; the filter bit is ignored).
    pub fn from_id(v: u8) -> Self {
        match v & 0x1f {
            8 => Self::Audio,
            9 => Self::Video,
            18 => Self::Script,
            o => Self::Other(o),
        }
    }
}

/// One tag of an FLV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Type.
    pub tag_type: TagType,
    /// Timestamp in ms (24 bits plus the extension byte).
    pub timestamp: u32,
    /// Stream id (always 0 in files).
    pub stream_id: u32,
    /// The body (an RTMP message payload).
    pub body: Bytes,
}

/// Iterates the tags of an FLV file held in memory.
#[derive(Debug, Clone)]
pub struct FlvReader {
    data: Bytes,
    pos: usize,
    /// Flags from the header: (has audio, has video).
    pub flags: (bool, bool),
    failed: bool,
}

impl FlvReader {
    /// Checks the file header and positions at the first tag.
    pub fn new(data: Bytes) -> Result<Self, FlvError> {
        let mut r = Reader::new(&data);
        if r.take(3)? != b"FLV" {
            return Err(FlvError::BadSignature);
        }
        let _version = r.u8()?;
        let flags = r.u8()?;
        let header_len = r.u32()?;
        if !(FLV_HEADER_LEN as u32..=MAX_HEADER_LEN).contains(&header_len) {
            return Err(FlvError::BadHeaderSize(header_len));
        }
        r.skip(header_len as usize - FLV_HEADER_LEN)?;
        // PreviousTagSize0.
        r.skip(4)?;
        Ok(Self {
            pos: r.position(),
            data,
            flags: (flags & 4 != 0, flags & 1 != 0),
            failed: false,
        })
    }

    fn next_tag(&mut self) -> Result<Option<Tag>, FlvError> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return Ok(None);
        }
        let mut r = Reader::new(rest);
        let tag_type = TagType::from_id(r.u8()?);
        let size = r.u24()?;
        let low = r.u24()?;
        let high = r.u8()?;
        let stream_id = r.u24()?;
        let available = r.remaining();
        if size as usize > available {
            return Err(FlvError::TagPastEnd { size, available });
        }
        let start = self.pos + TAG_HEADER_LEN;
        let body = self.data.slice(start..start + size as usize);
        r.skip(size as usize)?;
        // A final tag without its previous-tag-size is accepted (truncated recordings).
        let trailer = r.remaining().min(4);
        self.pos = start + size as usize + trailer;
        Ok(Some(Tag {
            tag_type,
            timestamp: (u32::from(high) << 24) | low,
            stream_id,
            body,
        }))
    }
}

impl Iterator for FlvReader {
    type Item = Result<Tag, FlvError>;

    /// The next tag; after an error the iteration ends.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_tag() {
            Ok(Some(tag)) => Some(Ok(tag)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// The 11-byte header of a tag with `size` body bytes.
pub fn tag_header(tag_type: TagType, size: u32, timestamp: u32) -> [u8; TAG_HEADER_LEN] {
    let s = size.to_be_bytes();
    let t = timestamp.to_be_bytes();
    [tag_type.id(), s[1], s[2], s[3], t[1], t[2], t[3], t[0], 0, 0, 0]
}

/// Builds an FLV file in memory.
#[derive(Debug, Clone)]
pub struct FlvWriter {
    out: BytesMut,
}

impl FlvWriter {
    /// Starts a file whose header announces audio and/or video.
    pub fn new(has_audio: bool, has_video: bool) -> Self {
        let mut out = BytesMut::with_capacity(64 * 1024);
        out.put_slice(&Self::file_header(has_audio, has_video));
        Self { out }
    }

    /// The 9-byte file header plus PreviousTagSize0 (what HTTP-FLV sends first).
    pub fn file_header(has_audio: bool, has_video: bool) -> [u8; FLV_HEADER_LEN + 4] {
        let flags = (u8::from(has_audio) << 2) | u8::from(has_video);
        [b'F', b'L', b'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0]
    }

    /// Appends a tag. Bodies over 16 MiB − 1 (the 24-bit size field) are refused.
    pub fn write_tag(&mut self, tag_type: TagType, timestamp: u32, body: &[u8]) -> Result<(), FlvError> {
        let size = u32::try_from(body.len())
            .ok()
            .filter(|s| *s <= 0xFF_FFFF)
            .ok_or(FlvError::TagPastEnd {
                size: u32::MAX,
                available: 0xFF_FFFF,
            })?;
        self.out.put_slice(&tag_header(tag_type, size, timestamp));
        self.out.put_slice(body);
        self.out.put_u32(size + TAG_HEADER_LEN as u32);
        Ok(())
    }

    /// The file so far.
    pub fn finish(self) -> Bytes {
        self.out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_round_trips_with_extended_timestamps() {
        let mut w = FlvWriter::new(true, true);
        w.write_tag(TagType::Video, 0x0123_4567, b"\x17\x00body").unwrap();
        w.write_tag(TagType::Audio, 5, b"\xaf\x01x").unwrap();
        let data = w.finish();
        let r = FlvReader::new(data).unwrap();
        assert_eq!(r.flags, (true, true));
        let tags: Vec<Tag> = r.map(|t| t.unwrap()).collect();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].timestamp, 0x0123_4567);
        assert_eq!(&tags[0].body[..], b"\x17\x00body");
        assert_eq!(tags[1].tag_type, TagType::Audio);
    }

    #[test]
    fn lying_sizes_are_errors() {
        assert_eq!(FlvReader::new(Bytes::from_static(b"FLX\x01\x05\0\0\0\x09\0\0\0\0")).err(), Some(FlvError::BadSignature));
        let mut bad = FlvWriter::file_header(true, true).to_vec();
        bad.extend_from_slice(&tag_header(TagType::Video, 1000, 0));
        bad.extend_from_slice(b"short");
        let mut r = FlvReader::new(Bytes::from(bad)).unwrap();
        assert!(matches!(r.next(), Some(Err(FlvError::TagPastEnd { size: 1000, .. }))));
        assert!(r.next().is_none());
    }
}
