//! Just enough FLV (Adobe Flash Video File Format Specification 10.1,
//! annex E) for a load tool: read a file's tags to publish them, and scan
//! an HTTP-FLV stream's tag headers as they arrive without buffering tags.
//!
//! Tag payloads are the RTMP message bodies unchanged (E.4.1), so a tag
//! becomes a [`RawMessage`](rtmp_proto::RawMessage) by its type and
//! timestamp alone.

use bytes::Bytes;
use rtmp_proto::reader::{Reader, Truncated};
use rtmp_proto::MessageType;

/// FLV header length for version 1 (E.2): signature, version, flags, offset.
pub const HEADER_LEN: usize = 9;
/// Tag header length (E.4.1).
pub const TAG_HEADER_LEN: usize = 11;
/// Largest header offset accepted: version 1 files use 9; anything beyond
/// this is not a file we should trust.
pub const MAX_HEADER_OFFSET: u32 = 1024;
/// Tags a file may hold: a 10 s test clip has ~700; the cap bounds what a
/// broken file can make us index.
pub const MAX_FILE_TAGS: usize = 10_000_000;

/// Why an FLV file or stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlvError {
    /// Not starting with `FLV`.
    #[error("not an FLV file (signature {0:02x?})")]
    Signature([u8; 3]),
    /// Header offset below 9 or above [`MAX_HEADER_OFFSET`].
    #[error("FLV header offset {0} out of range")]
    HeaderOffset(u32),
    /// A tag with the filter (encryption) bit, which we cannot publish.
    #[error("encrypted FLV tag at byte {0}")]
    Encrypted(usize),
    /// More than [`MAX_FILE_TAGS`] tags.
    #[error("more than {MAX_FILE_TAGS} tags")]
    TooManyTags,
    /// No audio or video tag at all.
    #[error("no audio or video tags")]
    Empty,
    /// The header was cut short.
    #[error(transparent)]
    Truncated(#[from] Truncated),
}

/// One tag of a file, ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvTag {
    /// Audio, video or AMF0 data.
    pub kind: MessageType,
    /// Timestamp in milliseconds (the 24-bit field extended by its high byte).
    pub timestamp: u32,
    /// The body (a slice of the file).
    pub data: Bytes,
}

impl FlvTag {
    /// Codec configuration or metadata: the AVC/HEVC/AV1 sequence header,
    /// the AAC AudioSpecificConfig or a script tag. A publisher sends these
    /// once, not on every loop of the file.
    pub fn is_config(&self) -> bool {
        match self.kind {
            MessageType::Video => is_video_sequence_header(&self.data),
            MessageType::Audio => is_aac_sequence_header(&self.data),
            _ => true,
        }
    }
}

/// Reads every audio, video and data tag of an FLV file. A truncated last
/// tag (a file still being written) is dropped, not an error.
pub fn read_file(file: &Bytes) -> Result<Vec<FlvTag>, FlvError> {
    let mut r = Reader::new(file);
    let signature = r.take(3)?;
    if signature != b"FLV" {
        let mut s = [0u8; 3];
        s.copy_from_slice(signature);
        return Err(FlvError::Signature(s));
    }
    let _version = r.u8()?;
    let _flags = r.u8()?;
    let offset = r.u32()?;
    if !(HEADER_LEN as u32..=MAX_HEADER_OFFSET).contains(&offset) {
        return Err(FlvError::HeaderOffset(offset));
    }
    r.skip(offset as usize - HEADER_LEN)?;
    // PreviousTagSize0.
    r.skip(4)?;
    let mut tags = Vec::new();
    while !r.is_empty() {
        let at = r.position();
        let Ok(header) = TagHeader::read(&mut r) else {
            break;
        };
        if header.encrypted {
            return Err(FlvError::Encrypted(at));
        }
        let start = r.position();
        if r.skip(header.data_size as usize).is_err() {
            break;
        }
        let data = file.slice(start..r.position());
        // A missing trailing PreviousTagSize is tolerated.
        let _ = r.skip(4);
        if let Some(kind) = header.kind() {
            if tags.len() >= MAX_FILE_TAGS {
                return Err(FlvError::TooManyTags);
            }
            tags.push(FlvTag {
                kind,
                timestamp: header.timestamp,
                data,
            });
        }
    }
    if !tags.iter().any(|t| t.kind != MessageType::DataAmf0) {
        return Err(FlvError::Empty);
    }
    Ok(tags)
}

/// The fixed part of a tag (E.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagHeader {
    /// TagType: 8 audio, 9 video, 18 script data.
    pub tag_type: u8,
    /// The filter bit: the body is encrypted.
    pub encrypted: bool,
    /// Body length.
    pub data_size: u32,
    /// Timestamp in milliseconds, high byte included.
    pub timestamp: u32,
}

impl TagHeader {
    /// Reads the 11 header bytes.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, Truncated> {
        let first = r.u8()?;
        let data_size = r.u24()?;
        let low = r.u24()?;
        let high = r.u8()?;
        let _stream_id = r.u24()?;
        Ok(Self {
            tag_type: first & 0x1f,
            encrypted: first & 0x20 != 0,
            data_size,
            timestamp: (u32::from(high) << 24) | low,
        })
    }

    /// The RTMP message type of the body, for the three kinds FLV carries.
    pub fn kind(&self) -> Option<MessageType> {
        match self.tag_type {
            8 => Some(MessageType::Audio),
            9 => Some(MessageType::Video),
            18 => Some(MessageType::DataAmf0),
            _ => None,
        }
    }
}

/// True for a video body that is a decoder configuration record: legacy
/// AVC/HEVC with AVCPacketType 0 (E.4.3.1), or an Enhanced RTMP
/// `PacketTypeSequenceStart` (E-RTMP v1, ExVideoTagHeader).
pub fn is_video_sequence_header(body: &[u8]) -> bool {
    let Some(&first) = body.first() else {
        return false;
    };
    if first & 0x80 != 0 {
        // IsExHeader: the low nibble is the packet type; 0 = SequenceStart.
        return first & 0x0f == 0;
    }
    // CodecID 7 (AVC) or 12 (HEVC, the Chinese extension), AVCPacketType 0.
    matches!(first & 0x0f, 7 | 12) && body.get(1) == Some(&0)
}

/// True for a video body carrying a coded picture (what a viewer sees):
/// not a sequence header, end-of-sequence, metadata or command frame.
pub fn is_video_frame(body: &[u8]) -> bool {
    let Some(&first) = body.first() else {
        return false;
    };
    // FrameType 5 is a video info/command frame, not a picture.
    if (first >> 4) & 0x07 == 5 {
        return false;
    }
    if first & 0x80 != 0 {
        // Enhanced RTMP: CodedFrames (1) or CodedFramesX (3).
        return matches!(first & 0x0f, 1 | 3);
    }
    match first & 0x0f {
        // AVC/HEVC: only AVCPacketType 1 (NALUs) is a picture.
        7 | 12 => body.get(1) == Some(&1),
        _ => body.len() > 1,
    }
}

/// True for an AAC AudioSpecificConfig body (SoundFormat 10, AACPacketType 0).
pub fn is_aac_sequence_header(body: &[u8]) -> bool {
    body.first().is_some_and(|b| b >> 4 == 10) && body.get(1) == Some(&0)
}

/// What [`TagScanner`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScannedTag {
    /// The tag's header.
    pub header: TagHeader,
    /// Whether the body is a coded video picture (see [`is_video_frame`]),
    /// judged from its first two bytes.
    pub video_frame: bool,
}

/// Where [`TagScanner`] is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    /// Collecting the 9-byte file header.
    FileHeader,
    /// Skipping what is left of the header and PreviousTagSize0.
    SkipHeader(u32),
    /// Collecting an 11-byte tag header.
    TagHeader,
    /// Collecting the first two body bytes (to tell pictures apart).
    BodyStart { header: TagHeader },
    /// Skipping the rest of the body and the PreviousTagSize.
    SkipBody(u64),
}

/// Finds tag boundaries in an FLV byte stream fed in arbitrary pieces
/// (HTTP-FLV), holding at most 11 bytes: bodies are skipped, not buffered.
#[derive(Debug, Clone)]
pub struct TagScanner {
    state: ScanState,
    held: [u8; TAG_HEADER_LEN],
    held_len: usize,
}

impl Default for TagScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl TagScanner {
    /// A scanner expecting the FLV file header first.
    pub fn new() -> Self {
        Self {
            state: ScanState::FileHeader,
            held: [0; TAG_HEADER_LEN],
            held_len: 0,
        }
    }

    /// Moves bytes from `data` into the held header until it holds `want`;
    /// returns whether it does.
    fn fill(&mut self, data: &mut &[u8], want: usize) -> bool {
        let need = want.saturating_sub(self.held_len);
        let n = need.min(data.len());
        let (take, rest) = data.split_at(n);
        if let Some(dst) = self.held.get_mut(self.held_len..self.held_len + n) {
            dst.copy_from_slice(take);
        }
        self.held_len += n;
        *data = rest;
        self.held_len >= want
    }

    /// Feeds the next piece of the stream; `on_tag` is called once per tag
    /// when its first body bytes (or its end, for short bodies) arrive.
    pub fn push(
        &mut self,
        mut data: &[u8],
        mut on_tag: impl FnMut(ScannedTag),
    ) -> Result<(), FlvError> {
        // Each iteration consumes input or changes state towards doing so.
        while !data.is_empty() {
            match self.state {
                ScanState::FileHeader => {
                    if !self.fill(&mut data, HEADER_LEN) {
                        return Ok(());
                    }
                    let mut r = Reader::new(self.held.get(..HEADER_LEN).unwrap_or_default());
                    let signature = r.take(3)?;
                    if signature != b"FLV" {
                        let mut s = [0u8; 3];
                        s.copy_from_slice(signature);
                        return Err(FlvError::Signature(s));
                    }
                    r.skip(2)?;
                    let offset = r.u32()?;
                    if !(HEADER_LEN as u32..=MAX_HEADER_OFFSET).contains(&offset) {
                        return Err(FlvError::HeaderOffset(offset));
                    }
                    self.held_len = 0;
                    self.state = ScanState::SkipHeader(offset - HEADER_LEN as u32 + 4);
                }
                ScanState::SkipHeader(left) => {
                    let n = (left as usize).min(data.len());
                    data = data.get(n..).unwrap_or_default();
                    let left = left - n as u32;
                    self.state = if left == 0 {
                        ScanState::TagHeader
                    } else {
                        ScanState::SkipHeader(left)
                    };
                }
                ScanState::TagHeader => {
                    if !self.fill(&mut data, TAG_HEADER_LEN) {
                        return Ok(());
                    }
                    let mut r = Reader::new(&self.held);
                    let header = TagHeader::read(&mut r)?;
                    self.held_len = 0;
                    if header.data_size < 2 {
                        on_tag(ScannedTag {
                            header,
                            video_frame: false,
                        });
                        self.state = ScanState::SkipBody(u64::from(header.data_size) + 4);
                    } else {
                        self.state = ScanState::BodyStart { header };
                    }
                }
                ScanState::BodyStart { header } => {
                    if !self.fill(&mut data, 2) {
                        return Ok(());
                    }
                    let start = self.held.get(..2).unwrap_or_default();
                    on_tag(ScannedTag {
                        header,
                        video_frame: header.tag_type == 9 && is_video_frame(start),
                    });
                    self.held_len = 0;
                    // data_size >= 2 here.
                    self.state = ScanState::SkipBody(u64::from(header.data_size) - 2 + 4);
                }
                ScanState::SkipBody(left) => {
                    let n = (left.min(data.len() as u64)) as usize;
                    data = data.get(n..).unwrap_or_default();
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        ScanState::TagHeader
                    } else {
                        ScanState::SkipBody(left)
                    };
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An FLV file with the given (type, timestamp, body) tags.
    pub(crate) fn build(tags: &[(u8, u32, &[u8])]) -> Vec<u8> {
        let mut f = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        for (t, ts, body) in tags {
            let size = body.len() as u32;
            f.push(*t);
            f.extend_from_slice(&size.to_be_bytes()[1..]);
            f.extend_from_slice(&ts.to_be_bytes()[1..]);
            f.push((ts >> 24) as u8);
            f.extend_from_slice(&[0, 0, 0]);
            f.extend_from_slice(body);
            f.extend_from_slice(&(size + 11).to_be_bytes());
        }
        f
    }

    const AVC_SEQ: &[u8] = &[0x17, 0, 0, 0, 0, 1, 2];
    const AVC_KEY: &[u8] = &[0x17, 1, 0, 0, 0, 9, 9, 9];
    const AVC_INTER: &[u8] = &[0x27, 1, 0, 0, 0, 8];
    const AAC_SEQ: &[u8] = &[0xaf, 0, 0x12, 0x10];
    const AAC_RAW: &[u8] = &[0xaf, 1, 5, 5, 5];

    #[test]
    fn reads_tags_and_extended_timestamps() {
        let file = build(&[
            (18, 0, b"\x02\x00\x0aonMetaData\x05"),
            (9, 0, AVC_SEQ),
            (8, 0, AAC_SEQ),
            (9, 0, AVC_KEY),
            (8, 23, AAC_RAW),
            (9, 0x0100_0040, AVC_INTER),
        ]);
        let tags = read_file(&Bytes::from(file)).unwrap();
        assert_eq!(tags.len(), 6);
        assert_eq!(tags[0].kind, MessageType::DataAmf0);
        assert_eq!(tags[3].data.as_ref(), AVC_KEY);
        assert_eq!(tags[5].timestamp, 0x0100_0040);
        let config: Vec<bool> = tags.iter().map(FlvTag::is_config).collect();
        assert_eq!(config, [true, true, true, false, false, false]);
    }

    #[test]
    fn truncated_last_tag_is_dropped() {
        let mut file = build(&[(9, 0, AVC_KEY), (9, 40, AVC_INTER)]);
        file.truncate(file.len() - 6);
        let tags = read_file(&Bytes::from(file)).unwrap();
        assert_eq!(tags.len(), 1);
    }

    #[test]
    fn refuses_bad_files() {
        assert!(matches!(
            read_file(&Bytes::from_static(b"FLX\x01\x05\0\0\0\x09\0\0\0\0")),
            Err(FlvError::Signature(_))
        ));
        assert!(matches!(
            read_file(&Bytes::from_static(b"FLV\x01\x05\xff\0\0\x09\0\0\0\0")),
            Err(FlvError::HeaderOffset(_))
        ));
        let only_meta = build(&[(18, 0, b"\x02\x00\x01x")]);
        assert_eq!(read_file(&Bytes::from(only_meta)), Err(FlvError::Empty));
        let encrypted = build(&[(9 | 0x20, 0, AVC_KEY)]);
        assert!(matches!(
            read_file(&Bytes::from(encrypted)),
            Err(FlvError::Encrypted(_))
        ));
        assert!(matches!(
            read_file(&Bytes::from_static(b"FL")),
            Err(FlvError::Truncated(_))
        ));
    }

    #[test]
    fn frame_classification() {
        assert!(is_video_sequence_header(AVC_SEQ));
        assert!(!is_video_frame(AVC_SEQ));
        assert!(is_video_frame(AVC_KEY));
        assert!(is_video_frame(AVC_INTER));
        // AVC end of sequence (packet type 2).
        assert!(!is_video_frame(&[0x17, 2, 0, 0, 0]));
        // Video info frame.
        assert!(!is_video_frame(&[0x57, 0]));
        // Enhanced RTMP: SequenceStart, CodedFrames, CodedFramesX.
        assert!(is_video_sequence_header(&[0x90, b'h', b'v', b'c', b'1']));
        assert!(is_video_frame(&[0x91, b'h', b'v', b'c', b'1']));
        assert!(is_video_frame(&[0xa3, b'a', b'v', b'0', b'1']));
        assert!(!is_video_frame(&[]));
        assert!(is_aac_sequence_header(AAC_SEQ));
        assert!(!is_aac_sequence_header(AAC_RAW));
    }

    #[test]
    fn scanner_finds_tags_in_any_split() {
        let file = build(&[
            (18, 0, b"\x02\x00\x0aonMetaData\x05"),
            (9, 0, AVC_SEQ),
            (9, 0, AVC_KEY),
            (8, 23, AAC_RAW),
            (8, 46, &[0xaf]),
            (9, 40, AVC_INTER),
        ]);
        let expect = [
            (18, 0, false),
            (9, 0, false),
            (9, 0, true),
            (8, 23, false),
            (8, 46, false),
            (9, 40, true),
        ];
        for piece in [1, 2, 3, 7, 11, 13, file.len()] {
            let mut s = TagScanner::new();
            let mut seen = Vec::new();
            for chunk in file.chunks(piece) {
                s.push(chunk, |t| {
                    seen.push((t.header.tag_type, t.header.timestamp, t.video_frame))
                })
                .unwrap();
            }
            assert_eq!(seen, expect, "piece size {piece}");
        }
    }

    #[test]
    fn scanner_refuses_non_flv() {
        let mut s = TagScanner::new();
        assert!(s.push(b"HTTP/1.1 200 OK\r\n", |_| {}).is_err());
    }
}
