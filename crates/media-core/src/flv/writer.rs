//! Writing FLV (FLV spec v10.1 E.2, E.3): the file header, then each tag
//! followed by its `PreviousTagSize`.
//!
//! The writer only appends to an in-memory buffer; the caller decides where
//! the bytes go. [`FlvWriter::take`] hands out what was written so far, so
//! the same writer serves a DVR file and an HTTP-FLV response stream.

use bytes::{BufMut, Bytes, BytesMut};

use super::tag::{TagHeader, TagType, MAX_TAG_DATA_SIZE, TAG_HEADER_LEN};
use super::FlvError;
use crate::message::MediaMessage;

/// Size of the FLV file header (without PreviousTagSize0).
pub const FLV_HEADER_LEN: usize = 9;

/// Size of [`tag_prefix`]: a `PreviousTagSize` and a tag header.
pub const TAG_PREFIX_LEN: usize = 4 + TAG_HEADER_LEN;

/// The `PreviousTagSize` of the tag before (0 for the first tag, which makes
/// it PreviousTagSize0), then the header of a tag whose body is `data_size`
/// bytes (FLV spec E.3, E.4.1). A live stream that sends each body as its own
/// shared buffer writes this before every body, so bodies are never copied;
/// [`FlvWriter`] instead appends whole tags to one buffer. Fails like
/// [`TagHeader::to_bytes`] for a size beyond 24 bits.
pub fn tag_prefix(
    previous_tag_size: u32,
    tag_type: TagType,
    timestamp: u32,
    data_size: u32,
) -> Result<[u8; TAG_PREFIX_LEN], FlvError> {
    let header = TagHeader {
        tag_type,
        filter: false,
        data_size,
        timestamp,
        stream_id: 0,
    }
    .to_bytes()?;
    let mut out = [0u8; TAG_PREFIX_LEN];
    let (size, rest) = out.split_at_mut(4);
    size.copy_from_slice(&previous_tag_size.to_be_bytes());
    rest.copy_from_slice(&header);
    Ok(out)
}

/// Builds FLV bytes in memory.
#[derive(Debug, Clone)]
pub struct FlvWriter {
    out: BytesMut,
}

impl FlvWriter {
    /// Starts a stream whose header announces audio and/or video
    /// (`TypeFlagsAudio`, `TypeFlagsVideo`), followed by PreviousTagSize0.
    pub fn new(has_audio: bool, has_video: bool) -> Self {
        let mut out = BytesMut::new();
        out.put_slice(&Self::file_header(has_audio, has_video));
        Self { out }
    }

    /// The 9-byte file header plus PreviousTagSize0: what an HTTP-FLV
    /// response starts with.
    pub fn file_header(has_audio: bool, has_video: bool) -> [u8; FLV_HEADER_LEN + 4] {
        let flags = (u8::from(has_audio) << 2) | u8::from(has_video);
        [b'F', b'L', b'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0]
    }

    /// Appends one tag and its PreviousTagSize. Bodies longer than
    /// [`MAX_TAG_DATA_SIZE`] are refused and nothing is written.
    pub fn write_tag(
        &mut self,
        tag_type: TagType,
        timestamp: u32,
        body: &[u8],
    ) -> Result<(), FlvError> {
        let data_size = u32::try_from(body.len())
            .ok()
            .filter(|s| *s <= MAX_TAG_DATA_SIZE)
            .ok_or(FlvError::BodyTooLarge(body.len()))?;
        let header = TagHeader {
            tag_type,
            filter: false,
            data_size,
            timestamp,
            stream_id: 0,
        }
        .to_bytes()?;
        self.out.reserve(TAG_HEADER_LEN + body.len() + 4);
        self.out.put_slice(&header);
        self.out.put_slice(body);
        // data_size <= 2^24 - 1, so adding 11 cannot overflow.
        self.out.put_u32(data_size + TAG_HEADER_LEN as u32);
        Ok(())
    }

    /// Appends a media message as a tag. FLV timestamps are 32-bit
    /// milliseconds, so the 64-bit timestamp wraps as it does on the RTMP wire.
    pub fn write_message(&mut self, msg: &MediaMessage) -> Result<(), FlvError> {
        self.write_tag(msg.kind.tag_type(), msg.timestamp as u32, &msg.payload)
    }

    /// Bytes written since the last `take` (or since creation).
    pub fn take(&mut self) -> Bytes {
        self.out.split().freeze()
    }

    /// Everything not yet taken.
    pub fn finish(self) -> Bytes {
        self.out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flv::FlvReader;
    use crate::message::MediaKind;

    #[test]
    fn writes_header_tags_and_previous_tag_sizes() {
        let mut w = FlvWriter::new(true, false);
        w.write_tag(TagType::Audio, 0x0100_0000, b"\xaf\x00\x12\x10")
            .unwrap();
        let data = w.finish();
        assert_eq!(&data[..13], b"FLV\x01\x04\0\0\0\x09\0\0\0\0");
        assert_eq!(&data[13..24], &[8, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&data[28..], &[0, 0, 0, 15]);
        let tags: Vec<_> = FlvReader::new(data).unwrap().collect();
        assert_eq!(tags.len(), 1);
        let t = tags[0].as_ref().unwrap();
        assert_eq!((t.timestamp, t.previous_tag_size), (0x0100_0000, Some(15)));
    }

    #[test]
    fn take_streams_what_was_written() {
        let mut w = FlvWriter::new(true, true);
        assert_eq!(w.take().len(), 13);
        let msg = MediaMessage::new(
            MediaKind::Video,
            (1 << 32) + 40,
            Bytes::from_static(b"\x27\x01\0\0\0"),
        );
        w.write_message(&msg).unwrap();
        let tag = w.take();
        assert_eq!(tag.len(), 11 + 5 + 4);
        assert_eq!(TagHeader::parse(&tag).unwrap().timestamp, 40);
        assert!(w.finish().is_empty());
    }

    #[test]
    fn tag_prefix_layout() {
        let p = tag_prefix(0x0102_0304, TagType::Video, 0x1122_3344, 0x00AB_CDEF).unwrap();
        assert_eq!(
            p,
            [1, 2, 3, 4, 9, 0xAB, 0xCD, 0xEF, 0x22, 0x33, 0x44, 0x11, 0, 0, 0]
        );
        assert_eq!(tag_prefix(0, TagType::Audio, 0, 0).unwrap()[4], 8);
        assert_eq!(tag_prefix(0, TagType::Script, 0, 0).unwrap()[4], 18);
        assert_eq!(
            tag_prefix(0, TagType::Video, 0, MAX_TAG_DATA_SIZE + 1),
            Err(FlvError::BodyTooLarge(0x0100_0000))
        );
        // A prefix per body after the file header is what the writer writes,
        // with the last PreviousTagSize still to come.
        let mut w = FlvWriter::new(true, true);
        w.write_tag(TagType::Audio, 7, b"ab").unwrap();
        w.write_tag(TagType::Video, 9, b"cde").unwrap();
        let mut streamed = FlvWriter::file_header(true, true)[..FLV_HEADER_LEN].to_vec();
        streamed.extend_from_slice(&tag_prefix(0, TagType::Audio, 7, 2).unwrap());
        streamed.extend_from_slice(b"ab");
        streamed.extend_from_slice(&tag_prefix(13, TagType::Video, 9, 3).unwrap());
        streamed.extend_from_slice(b"cde");
        streamed.extend_from_slice(&14u32.to_be_bytes());
        assert_eq!(w.finish(), streamed);
    }

    #[test]
    fn oversized_body_is_refused_without_writing() {
        let mut w = FlvWriter::new(true, true);
        let big = vec![0u8; MAX_TAG_DATA_SIZE as usize + 1];
        assert_eq!(
            w.write_tag(TagType::Video, 0, &big),
            Err(FlvError::BodyTooLarge(big.len()))
        );
        assert_eq!(w.finish().len(), 13);
    }
}
