//! Reading a whole FLV file held in memory (FLV spec v10.1 E.2, E.3).
//!
//! The layout is `header (DataOffset bytes) | PreviousTagSize0 | (tag |
//! PreviousTagSize)*`. Tag bodies come out as zero-copy slices of the file's
//! [`Bytes`], so feeding a recording into the server costs no copies.

use bytes::Bytes;
use rtmp_proto::reader::Reader;

use super::tag::{TagHeader, TagType, TAG_HEADER_LEN};
use super::writer::FLV_HEADER_LEN;
use super::FlvError;

/// Largest `DataOffset` accepted. Version 1 files say 9; a later version could
/// grow the header, so a little slack is allowed, but not a jump into the void.
pub const MAX_HEADER_LEN: u32 = 1024;

/// The FLV file header (spec E.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlvHeader {
    /// `Version` (1 for every file in the wild).
    pub version: u8,
    /// `TypeFlagsAudio`.
    pub has_audio: bool,
    /// `TypeFlagsVideo`.
    pub has_video: bool,
    /// `DataOffset`: where PreviousTagSize0 starts.
    pub data_offset: u32,
}

impl FlvHeader {
    /// Reads the 9-byte header at the start of `data` and checks the
    /// signature and `DataOffset` (9 up to [`MAX_HEADER_LEN`]). Shared by
    /// [`FlvReader`] (a file) and [`TagScanner`](super::TagScanner) (a stream).
    pub fn parse(data: &[u8]) -> Result<Self, FlvError> {
        let mut r = Reader::new(data);
        if r.take(3)? != b"FLV" {
            return Err(FlvError::BadSignature);
        }
        let version = r.u8()?;
        let flags = r.u8()?;
        let data_offset = r.u32()?;
        if !(FLV_HEADER_LEN as u32..=MAX_HEADER_LEN).contains(&data_offset) {
            return Err(FlvError::BadHeaderSize(data_offset));
        }
        Ok(Self {
            version,
            has_audio: flags & 0x04 != 0,
            has_video: flags & 0x01 != 0,
            data_offset,
        })
    }
}

/// One tag of an FLV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// What the body holds.
    pub tag_type: TagType,
    /// The `Filter` bit (encrypted body).
    pub filter: bool,
    /// Milliseconds (24 bits plus the extension byte).
    pub timestamp: u32,
    /// Stream id (0 in files).
    pub stream_id: u32,
    /// The body: an RTMP message payload, sharing the file's memory.
    pub body: Bytes,
    /// The `PreviousTagSize` that follows the tag (should be 11 + body
    /// length); `None` when the file ends right after the body, as a
    /// recording cut short does.
    pub previous_tag_size: Option<u32>,
}

/// Iterates the tags of an FLV file held in memory. After the first error the
/// iterator ends.
#[derive(Debug, Clone)]
pub struct FlvReader {
    data: Bytes,
    pos: usize,
    header: FlvHeader,
    failed: bool,
}

impl FlvReader {
    /// Checks the file header (signature, `DataOffset`) and positions at the
    /// first tag. PreviousTagSize0 may be missing in an empty file.
    pub fn new(data: impl Into<Bytes>) -> Result<Self, FlvError> {
        let data = data.into();
        let header = FlvHeader::parse(&data)?;
        let mut r = Reader::new(&data);
        // DataOffset counts the header itself (at least 9, checked above).
        r.skip(header.data_offset as usize)?;
        // PreviousTagSize0 (always 0); tolerate a file that stops right here.
        r.skip(r.remaining().min(4))?;
        Ok(Self {
            pos: r.position(),
            data,
            header,
            failed: false,
        })
    }

    /// The file header.
    pub fn header(&self) -> FlvHeader {
        self.header
    }

    /// Byte offset of the next tag in the file.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn next_tag(&mut self) -> Result<Option<Tag>, FlvError> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return Ok(None);
        }
        let mut r = Reader::new(rest);
        let h = TagHeader::read(&mut r)?;
        let size = h.data_size as usize;
        let available = r.remaining();
        if size > available {
            return Err(FlvError::TagPastEnd {
                size: h.data_size,
                available,
            });
        }
        r.skip(size)?;
        let previous_tag_size = if r.is_empty() { None } else { Some(r.u32()?) };
        let start = self.pos + TAG_HEADER_LEN;
        let body = self.data.slice(start..start + size);
        self.pos += r.position();
        Ok(Some(Tag {
            tag_type: h.tag_type,
            filter: h.filter,
            timestamp: h.timestamp,
            stream_id: h.stream_id,
            body,
            previous_tag_size,
        }))
    }
}

impl Iterator for FlvReader {
    type Item = Result<Tag, FlvError>;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tags: &[(u8, u32, &[u8])]) -> Vec<u8> {
        let mut f = b"FLV\x01\x05\0\0\0\x09\0\0\0\0".to_vec();
        for (t, ts, body) in tags {
            let h = TagHeader {
                tag_type: TagType::from_id(*t),
                filter: false,
                data_size: body.len() as u32,
                timestamp: *ts,
                stream_id: 0,
            };
            f.extend_from_slice(&h.to_bytes().unwrap());
            f.extend_from_slice(body);
            f.extend_from_slice(&(body.len() as u32 + 11).to_be_bytes());
        }
        f
    }

    #[test]
    fn tags_are_zero_copy_slices() {
        let data = Bytes::from(file(&[
            (9, 0x0100_0002, b"\x17\x00abc"),
            (8, 5, b"\xaf\x01"),
        ]));
        let mut r = FlvReader::new(data.clone()).unwrap();
        assert_eq!(
            r.header(),
            FlvHeader {
                version: 1,
                has_audio: true,
                has_video: true,
                data_offset: 9
            }
        );
        let t = r.next().unwrap().unwrap();
        assert_eq!((t.tag_type, t.timestamp), (TagType::Video, 0x0100_0002));
        assert_eq!(t.previous_tag_size, Some(16));
        assert!(data.as_ptr_range().contains(&t.body.as_ptr()));
        let t = r.next().unwrap().unwrap();
        assert_eq!(
            (t.tag_type, &t.body[..]),
            (TagType::Audio, &b"\xaf\x01"[..])
        );
        assert!(r.next().is_none());
    }

    #[test]
    fn truncation_is_typed_and_ends_iteration() {
        let full = file(&[(9, 0, b"\x17\x00abcdef")]);
        // Missing trailing PreviousTagSize: accepted.
        let cut = full[..full.len() - 4].to_vec();
        let t = FlvReader::new(cut).unwrap().next().unwrap().unwrap();
        assert_eq!(t.previous_tag_size, None);
        // Body cut short.
        let cut = full[..full.len() - 6].to_vec();
        let mut r = FlvReader::new(cut).unwrap();
        assert!(matches!(
            r.next(),
            Some(Err(FlvError::TagPastEnd {
                size: 8,
                available: 6
            }))
        ));
        assert!(r.next().is_none());
        // Tag header cut short.
        let cut = full[..13 + 5].to_vec();
        let mut r = FlvReader::new(cut).unwrap();
        assert!(matches!(r.next(), Some(Err(FlvError::Truncated(_)))));
        // Half a PreviousTagSize.
        let cut = full[..full.len() - 2].to_vec();
        let mut r = FlvReader::new(cut).unwrap();
        assert!(matches!(r.next(), Some(Err(FlvError::Truncated(_)))));
    }

    #[test]
    fn bad_headers() {
        assert_eq!(
            FlvReader::new(&b"FLX\x01\x05\0\0\0\x09\0\0\0\0"[..]).err(),
            Some(FlvError::BadSignature)
        );
        assert_eq!(
            FlvReader::new(&b"FLV\x01\x05\0\0\0\x08\0\0\0\0"[..]).err(),
            Some(FlvError::BadHeaderSize(8))
        );
        assert_eq!(
            FlvReader::new(&b"FLV\x01\x05\xff\xff\xff\xff"[..]).err(),
            Some(FlvError::BadHeaderSize(u32::MAX))
        );
        assert!(matches!(
            FlvReader::new(&b"FLV\x01\x05\0\0\0\x20"[..]),
            Err(FlvError::Truncated(_))
        ));
        assert!(matches!(
            FlvReader::new(&b"FL"[..]),
            Err(FlvError::Truncated(_))
        ));
        // A header-only file has no tags.
        assert!(FlvReader::new(&b"FLV\x01\x01\0\0\0\x09"[..])
            .unwrap()
            .next()
            .is_none());
    }
}
