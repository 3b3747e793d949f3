//! Indexing an FLV file (FLV 10.1 E.2, E.3) by walking its tag headers.
//!
//! The file is read front to back in [`INDEX_CHUNK_BYTES`] pieces; of each
//! audio/video tag only the first bytes are looked at (key frame or not),
//! except decoder configurations and `onMetaData`, which are kept whole (they
//! are sent again after every seek).

use bytes::Bytes;

use super::index::{
    IndexError, IndexedSample, MediaIndex, ReadRequest, SampleForm, INDEX_CHUNK_BYTES, MAX_SAMPLES,
};
use crate::flv::{FlvHeader, TagHeader, TagType, VideoTagHeader, TAG_HEADER_LEN};
use crate::message::{MediaKind, MediaMessage};

/// Bytes of a frame's body read to classify it: the legacy header is 5
/// bytes, an E-RTMP one with a few ModEx modifiers a few dozen.
const PEEK_BYTES: usize = 64;
/// Largest decoder configuration or `onMetaData` kept (real ones are a few
/// hundred bytes).
const MAX_HEADER_TAG_BYTES: usize = 256 * 1024;
/// `PreviousTagSize` after each tag.
const PREVIOUS_TAG_SIZE: u64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    FileHeader,
    Tags,
    Done,
}

/// Walks an FLV file's tags; see [`FileIndexer`](super::FileIndexer).
#[derive(Debug)]
pub struct FlvIndexer {
    file_len: u64,
    phase: Phase,
    /// The next tag's offset.
    pos: u64,
    /// Bytes the next read needs at least (a whole header tag).
    need: usize,
    index: MediaIndex,
    have_video_config: bool,
    have_audio_config: bool,
    have_metadata: bool,
    /// Per track (video, audio): the last two frame times, for the end time.
    last: [(Option<u64>, Option<u64>); 2],
}

impl FlvIndexer {
    /// An indexer for a file of `file_len` bytes.
    pub fn new(file_len: u64) -> Self {
        Self {
            file_len,
            phase: Phase::FileHeader,
            pos: 0,
            need: 0,
            index: MediaIndex::default(),
            have_video_config: false,
            have_audio_config: false,
            have_metadata: false,
            last: [(None, None); 2],
        }
    }

    /// See [`FileIndexer::want`](super::FileIndexer::want).
    pub fn want(&self) -> Option<ReadRequest> {
        let left = self.file_len.saturating_sub(self.pos);
        match self.phase {
            Phase::Done => None,
            Phase::FileHeader => Some(ReadRequest {
                offset: 0,
                len: crate::flv::MAX_HEADER_LEN as usize,
            }),
            Phase::Tags if left < TAG_HEADER_LEN as u64 => None,
            Phase::Tags => Some(ReadRequest {
                offset: self.pos,
                len: usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(INDEX_CHUNK_BYTES.max(self.need)),
            }),
        }
    }

    /// See [`FileIndexer::feed`](super::FileIndexer::feed).
    pub fn feed(&mut self, data: &[u8]) -> Result<(), IndexError> {
        match self.phase {
            Phase::Done => Err(IndexError::NotWaiting),
            Phase::FileHeader => {
                let header = FlvHeader::parse(data)?;
                self.pos = u64::from(header.data_offset) + PREVIOUS_TAG_SIZE;
                self.phase = Phase::Tags;
                Ok(())
            }
            Phase::Tags => self.tags(data),
        }
    }

    fn tags(&mut self, data: &[u8]) -> Result<(), IndexError> {
        // Fewer bytes than asked: the file ends (or shrank) there.
        let short = data.len() < self.want().map_or(0, |w| w.len);
        let start = self.pos;
        let mut at = 0usize;
        while let Some(head) = data.get(at..at + TAG_HEADER_LEN) {
            let tag_pos = start.saturating_add(at as u64);
            let header = TagHeader::parse(head)?;
            let size = header.data_size as usize;
            let body_at = at + TAG_HEADER_LEN;
            if tag_pos.saturating_add((TAG_HEADER_LEN + size) as u64) > self.file_len {
                // A tag cut short (a recording that ended abruptly): the end.
                self.phase = Phase::Done;
                return Ok(());
            }
            let kind = header.tag_type.media_kind();
            let peek = size.min(PEEK_BYTES);
            let Some(head_of_body) = data.get(body_at..body_at + peek) else {
                self.need = TAG_HEADER_LEN + peek;
                break;
            };
            let keep_whole = !header.filter
                && size > 0
                && size <= MAX_HEADER_TAG_BYTES
                && match kind {
                    Some(MediaKind::Data) => {
                        !self.have_metadata && header.tag_type == TagType::Script
                    }
                    Some(k) => {
                        !self.has_config(k)
                            && MediaMessage::new(k, 0, Bytes::copy_from_slice(head_of_body))
                                .is_sequence_header()
                    }
                    None => false,
                };
            if keep_whole && data.get(body_at..body_at + size).is_none() {
                self.need = TAG_HEADER_LEN + size;
                break;
            }
            self.take_tag(tag_pos, &header, kind, &data[body_at..], keep_whole)?;
            at = body_at + size + PREVIOUS_TAG_SIZE as usize;
            self.pos = start.saturating_add(at as u64);
            self.need = 0;
        }
        if self.pos == start && short {
            self.phase = Phase::Done;
        }
        Ok(())
    }

    fn has_config(&self, kind: MediaKind) -> bool {
        match kind {
            MediaKind::Video => self.have_video_config,
            MediaKind::Audio => self.have_audio_config,
            MediaKind::Data => true,
        }
    }

    /// Records one tag whose body starts `body` (whole when `keep_whole`,
    /// else at least its first [`PEEK_BYTES`]).
    fn take_tag(
        &mut self,
        tag_pos: u64,
        header: &TagHeader,
        kind: Option<MediaKind>,
        body: &[u8],
        keep_whole: bool,
    ) -> Result<(), IndexError> {
        let size = header.data_size as usize;
        let ts = u64::from(header.timestamp);
        let Some(kind) = kind else {
            return Ok(());
        };
        if size == 0 || header.filter {
            return Ok(());
        }
        if keep_whole {
            let whole = Bytes::copy_from_slice(body.get(..size).unwrap_or(body));
            match kind {
                MediaKind::Data => self.have_metadata = true,
                MediaKind::Video => self.have_video_config = true,
                MediaKind::Audio => self.have_audio_config = true,
            }
            self.index.headers.push(MediaMessage::new(kind, 0, whole));
            return Ok(());
        }
        if kind == MediaKind::Data {
            return Ok(());
        }
        if self.index.samples.len() >= MAX_SAMPLES {
            return Err(IndexError::TooManySamples);
        }
        let peek = body.get(..size.min(PEEK_BYTES)).unwrap_or(body);
        let message = MediaMessage::new(kind, ts, Bytes::copy_from_slice(peek));
        // End-of-sequence markers, metadata and command frames carry no
        // picture; a seek or a segment cut would only repeat them oddly.
        if kind == MediaKind::Video
            && VideoTagHeader::parse(peek).is_ok_and(|(h, _)| !h.is_picture())
            && !message.is_sequence_header()
        {
            return Ok(());
        }
        if !message.is_sequence_header() {
            let track = usize::from(kind == MediaKind::Audio);
            let (_, prev) = self.last[track];
            self.last[track] = (prev, Some(ts));
        }
        self.index.samples.push(IndexedSample {
            offset: tag_pos + TAG_HEADER_LEN as u64,
            size: header.data_size,
            dts: ts,
            cts: 0,
            kind,
            keyframe: message.is_keyframe(),
            form: SampleForm::FlvTag,
        });
        Ok(())
    }

    /// See [`FileIndexer::finish`](super::FileIndexer::finish).
    pub fn finish(mut self) -> Result<MediaIndex, IndexError> {
        // FLV frames carry no duration: the last one lasts as long as the
        // one before it.
        let mut end = 0;
        for (before, last) in self.last {
            if let Some(last) = last {
                let step = before.map_or(0, |b| last.saturating_sub(b));
                end = end.max(last.saturating_add(step));
            }
        }
        self.index.end_ms = end;
        Ok(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flv::FlvWriter;
    use crate::vod::FileIndexer;

    /// An FLV with metadata, a video configuration larger than one read,
    /// an AAC configuration, then 2 s of frames (a key frame a second),
    /// large frames among them.
    fn file() -> Vec<u8> {
        let mut w = FlvWriter::new(true, true);
        let mut push = |kind, ts, body: Vec<u8>| {
            w.write_message(&MediaMessage::new(kind, ts, Bytes::from(body)))
                .unwrap();
        };
        push(MediaKind::Data, 0, b"\x02\x00\x0aonMetaData\x05".to_vec());
        let mut sh = vec![0x17, 0, 0, 0, 0];
        sh.resize(100 * 1024, 0xab);
        push(MediaKind::Video, 0, sh);
        push(MediaKind::Audio, 0, vec![0xaf, 0, 0x12, 0x10]);
        for i in 0..50u64 {
            let mut frame = vec![if i % 25 == 0 { 0x17 } else { 0x27 }, 1, 0, 0, 0];
            frame.resize(if i % 7 == 0 { 90_000 } else { 300 }, i as u8);
            push(MediaKind::Video, i * 40, frame);
            push(MediaKind::Audio, i * 40 + 3, vec![0xaf, 1, 0x21, i as u8]);
        }
        // An end-of-sequence marker: not a frame.
        push(MediaKind::Video, 2000, vec![0x17, 2, 0, 0, 0]);
        w.finish().to_vec()
    }

    #[test]
    fn tags_are_indexed_across_reads_with_their_bodies_where_they_lie() {
        let file = file();
        let index = FileIndexer::index_bytes("flv", &file).unwrap();
        assert_eq!(index.samples.len(), 100);
        assert_eq!(index.headers.len(), 3, "metadata and both configurations");
        assert_eq!(index.headers[1].payload.len(), 100 * 1024);
        let keys: Vec<u64> = index
            .samples
            .iter()
            .filter(|s| s.keyframe)
            .map(|s| s.dts)
            .collect();
        assert_eq!(keys, [0, 1000]);
        for (i, s) in index.samples.iter().enumerate() {
            let body = &file[s.offset as usize..s.offset as usize + s.size as usize];
            let n = (i / 2) as u8;
            match s.kind {
                MediaKind::Video => assert_eq!(body[body.len() - 1], n),
                _ => assert_eq!(body, [0xaf, 1, 0x21, n]),
            }
        }
        // Frames last as long as the one before: the audio at 1963 ms
        // ends at 2003, after the video.
        assert_eq!(index.end_ms, 2003);
    }

    #[test]
    fn a_file_cut_anywhere_keeps_its_whole_tags() {
        let file = file();
        for cut in (0..file.len()).step_by(1009) {
            match FileIndexer::index_bytes("flv", &file[..cut]) {
                Ok(index) => {
                    for s in &index.samples {
                        assert!(s.offset + u64::from(s.size) <= cut as u64);
                    }
                }
                Err(e) => assert!(
                    matches!(e, IndexError::NoMedia | IndexError::Flv(_)),
                    "{cut}: {e}"
                ),
            }
        }
    }
}
