//! Finding the tags of an FLV stream that arrives in pieces: an HTTP-FLV
//! body, which is an FLV file (FLV spec v10.1 E.2, E.3) sent as it is
//! produced and never ends.
//!
//! [`FlvReader`](super::FlvReader) needs the whole file in memory.
//! [`TagScanner`] holds at most [`BODY_START_LEN`] bytes whatever it is fed:
//! it reports each tag's header and the first bytes of its body (enough for
//! [`VideoTagHeader`](super::VideoTagHeader) or
//! [`AudioTagHeader`](super::AudioTagHeader) to classify it) and skips the
//! rest, so a player that only measures a stream never buffers it.

use super::reader::FlvHeader;
use super::tag::{TagHeader, TAG_HEADER_LEN};
use super::writer::FLV_HEADER_LEN;
use super::FlvError;

/// Body bytes reported per tag. Every legacy header fits (AVC/HEVC: 5), and
/// so does an E-RTMP video header with a composition time and one
/// `TimestampOffsetNano` modifier (13); a longer `ModEx` chain is cut, and
/// its header then does not parse from [`ScannedTag::body_start`].
pub const BODY_START_LEN: usize = 16;

// The held bytes serve the file header, the tag header and the body start.
const _: () = assert!(BODY_START_LEN >= TAG_HEADER_LEN && TAG_HEADER_LEN >= FLV_HEADER_LEN);

/// One tag found by [`TagScanner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScannedTag {
    /// The tag header.
    pub header: TagHeader,
    start: [u8; BODY_START_LEN],
    start_len: usize,
}

impl ScannedTag {
    /// The first `min(data_size, BODY_START_LEN)` bytes of the body.
    pub fn body_start(&self) -> &[u8] {
        self.start.get(..self.start_len).unwrap_or_default()
    }
}

/// Where the scanner is in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Collecting the 9-byte file header.
    FileHeader,
    /// Skipping up to the next tag header: the rest of the file header and
    /// PreviousTagSize0, or the rest of a body and its PreviousTagSize. At
    /// most `2^24 + 3` bytes.
    Skip(u32),
    /// Collecting an 11-byte tag header.
    TagHeader,
    /// Collecting the start of this tag's body.
    BodyStart(TagHeader),
    /// The stream was refused; it stays refused.
    Failed(FlvError),
}

/// Finds tag boundaries in an FLV byte stream fed in pieces of any size.
/// Bounded and allocation-free: it holds one tag header and one body start.
///
/// ```
/// # use media_core::flv::{FlvWriter, TagScanner, TagType};
/// let mut w = FlvWriter::new(true, true);
/// w.write_tag(TagType::Video, 40, b"\x17\x01\0\0\0frame").unwrap();
/// let stream = w.finish();
/// let mut scanner = TagScanner::new();
/// let mut found = Vec::new();
/// for piece in stream.chunks(3) {
///     let mut piece = piece;
///     while let Some(tag) = scanner.scan(&mut piece).unwrap() {
///         found.push((tag.header.tag_type, tag.header.timestamp));
///     }
/// }
/// assert_eq!(found, [(TagType::Video, 40)]);
/// ```
#[derive(Debug, Clone)]
pub struct TagScanner {
    state: State,
    file_header: Option<FlvHeader>,
    held: [u8; BODY_START_LEN],
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
            state: State::FileHeader,
            file_header: None,
            held: [0; BODY_START_LEN],
            held_len: 0,
        }
    }

    /// The stream's file header, once it has arrived.
    pub fn file_header(&self) -> Option<FlvHeader> {
        self.file_header
    }

    /// Consumes bytes from the front of `input` up to the next tag whose
    /// header and body start have arrived, and returns that tag; `Ok(None)`
    /// once `input` is used up (feed the next piece). Call it until it returns
    /// `None`: each tag returned consumed at least one byte.
    ///
    /// Fails on a bad signature or `DataOffset` (as [`FlvHeader::parse`]),
    /// and keeps failing after that.
    pub fn scan(&mut self, input: &mut &[u8]) -> Result<Option<ScannedTag>, FlvError> {
        loop {
            match self.state.clone() {
                State::Failed(e) => return Err(e),
                State::FileHeader => {
                    if !self.fill(input, FLV_HEADER_LEN) {
                        return Ok(None);
                    }
                    let header = match FlvHeader::parse(self.held()) {
                        Ok(h) => h,
                        Err(e) => {
                            self.state = State::Failed(e.clone());
                            return Err(e);
                        }
                    };
                    self.file_header = Some(header);
                    self.held_len = 0;
                    // DataOffset counts the 9 bytes just read (it is 9..=1024).
                    self.state = State::Skip(header.data_offset - FLV_HEADER_LEN as u32 + 4);
                }
                State::Skip(0) => self.state = State::TagHeader,
                State::Skip(left) => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = input.len().min(left as usize);
                    *input = input.get(n..).unwrap_or_default();
                    // n <= left, a u32.
                    self.state = State::Skip(left - n as u32);
                }
                State::TagHeader => {
                    if !self.fill(input, TAG_HEADER_LEN) {
                        return Ok(None);
                    }
                    // Cannot fail: 11 bytes are held.
                    let header = TagHeader::parse(self.held())?;
                    self.held_len = 0;
                    self.state = State::BodyStart(header);
                }
                State::BodyStart(header) => {
                    let want = BODY_START_LEN.min(header.data_size as usize);
                    if !self.fill(input, want) {
                        return Ok(None);
                    }
                    let tag = ScannedTag {
                        header,
                        start: self.held,
                        start_len: want,
                    };
                    self.held_len = 0;
                    // The rest of the body (want <= data_size < 2^24), then
                    // its PreviousTagSize.
                    self.state = State::Skip(header.data_size - want as u32 + 4);
                    return Ok(Some(tag));
                }
            }
        }
    }

    fn held(&self) -> &[u8] {
        self.held.get(..self.held_len).unwrap_or_default()
    }

    /// Moves bytes from `input` into the held bytes until `want` are held;
    /// returns whether they are.
    fn fill(&mut self, input: &mut &[u8], want: usize) -> bool {
        let n = want.saturating_sub(self.held_len).min(input.len());
        let (take, rest) = input.split_at(n);
        if let Some(dst) = self.held.get_mut(self.held_len..self.held_len + n) {
            dst.copy_from_slice(take);
            self.held_len += n;
        }
        *input = rest;
        self.held_len >= want
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flv::{FlvWriter, TagType, VideoTagHeader};

    const AVC_SEQ: &[u8] = &[0x17, 0, 0, 0, 0, 1, 2];
    const AVC_KEY: &[u8] = &[0x17, 1, 0, 0, 0, 9, 9, 9];
    const AVC_INTER: &[u8] = &[0x27, 1, 0, 0, 0, 8];
    const AAC_RAW: &[u8] = &[0xaf, 1, 5, 5, 5];

    fn stream(tags: &[(TagType, u32, &[u8])]) -> Vec<u8> {
        let mut w = FlvWriter::new(true, true);
        for (t, ts, body) in tags {
            w.write_tag(*t, *ts, body).unwrap();
        }
        w.finish().to_vec()
    }

    /// (type, timestamp, is a picture) of every tag, fed `piece` bytes at a time.
    fn scan_all(data: &[u8], piece: usize) -> Vec<(TagType, u32, bool)> {
        let mut s = TagScanner::new();
        let mut seen = Vec::new();
        for mut chunk in data.chunks(piece) {
            while let Some(t) = s.scan(&mut chunk).unwrap() {
                let picture = t.header.tag_type == TagType::Video
                    && VideoTagHeader::parse(t.body_start()).is_ok_and(|(h, _)| h.is_picture());
                seen.push((t.header.tag_type, t.header.timestamp, picture));
            }
            assert!(chunk.is_empty());
        }
        seen
    }

    #[test]
    fn finds_tags_in_any_split() {
        let big = [AVC_INTER, &[7u8; 40]].concat();
        let data = stream(&[
            (TagType::Script, 0, b"\x02\x00\x0aonMetaData\x05"),
            (TagType::Video, 0, AVC_SEQ),
            (TagType::Video, 0, AVC_KEY),
            (TagType::Audio, 23, AAC_RAW),
            (TagType::Audio, 46, &[0xaf]),
            (TagType::Audio, 47, &[]),
            (TagType::Video, 40, AVC_INTER),
            (TagType::Video, 0x0100_0050, &big),
        ]);
        let expect = [
            (TagType::Script, 0, false),
            (TagType::Video, 0, false),
            (TagType::Video, 0, true),
            (TagType::Audio, 23, false),
            (TagType::Audio, 46, false),
            (TagType::Audio, 47, false),
            (TagType::Video, 40, true),
            (TagType::Video, 0x0100_0050, true),
        ];
        for piece in [1, 2, 3, 7, 11, 13, 16, 17, data.len()] {
            assert_eq!(scan_all(&data, piece), expect, "piece size {piece}");
        }
    }

    #[test]
    fn reports_the_body_start_and_the_file_header() {
        let body: Vec<u8> = (0..40).collect();
        let data = stream(&[(TagType::Video, 1, &body), (TagType::Audio, 2, b"abc")]);
        let mut s = TagScanner::new();
        assert_eq!(s.file_header(), None);
        let mut input = &data[..];
        let t = s.scan(&mut input).unwrap().unwrap();
        assert_eq!(t.body_start(), &body[..BODY_START_LEN]);
        assert_eq!(t.header.data_size, 40);
        let h = s.file_header().unwrap();
        assert!(h.has_audio && h.has_video);
        let t = s.scan(&mut input).unwrap().unwrap();
        assert_eq!(t.body_start(), b"abc");
        assert_eq!(s.scan(&mut input), Ok(None));
        assert!(input.is_empty());
    }

    #[test]
    fn skips_a_longer_file_header() {
        let mut data = b"FLV\x01\x05\0\0\0\x0cXYZ\0\0\0\0".to_vec();
        data.extend_from_slice(&stream(&[(TagType::Audio, 5, b"a")])[13..]);
        assert_eq!(scan_all(&data, 1), [(TagType::Audio, 5, false)]);
    }

    #[test]
    fn refuses_what_is_not_flv_and_stays_refusing() {
        let mut s = TagScanner::new();
        let mut input = &b"HTTP/1.1 200 OK\r\n"[..];
        assert_eq!(s.scan(&mut input), Err(FlvError::BadSignature));
        assert_eq!(
            s.scan(&mut &b"FLV\x01\x05\0\0\0\x09"[..]),
            Err(FlvError::BadSignature)
        );
        let mut s = TagScanner::new();
        let mut input = &b"FLV\x01\x05\0\0\x10\0"[..];
        assert_eq!(s.scan(&mut input), Err(FlvError::BadHeaderSize(4096)));
        // Too little to judge yet is no error.
        let mut s = TagScanner::new();
        assert_eq!(s.scan(&mut &b"FL"[..]), Ok(None));
    }
}
