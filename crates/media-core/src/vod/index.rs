//! A media file's index: where every audio and video frame lies, when it
//! plays, which are key frames, and the decoder configurations to send first.
//! Built by reading only headers and tables ([`FileIndexer`]), so a player or
//! an HLS segment reads just the frames it needs.

use bytes::{BufMut, Bytes, BytesMut};

use super::flv_index::FlvIndexer;
use crate::message::{MediaKind, MediaMessage};
use crate::mp4::{Mp4DemuxError, Mp4Indexer};

/// Frames one index holds at most: three hours of 30 fps video with 48 kHz
/// AAC is about 930 000; each costs 32 bytes, so this bounds an index at
/// 64 MiB.
pub const MAX_SAMPLES: usize = 2_000_000;

/// Bytes of one file the indexer asks for at a time when walking tags.
pub const INDEX_CHUNK_BYTES: usize = 64 * 1024;

/// One bytes range the indexer wants next: read `len` bytes at `offset`
/// (fewer only where the file ends) and hand them to `feed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRequest {
    /// Byte offset in the file.
    pub offset: u64,
    /// How many bytes.
    pub len: usize,
}

/// How a frame's bytes in the file become an RTMP message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleForm {
    /// FLV: the bytes are the tag body, the message as it was published.
    FlvTag,
    /// MP4 H.264 video: a legacy AVC FLV header goes in front.
    Avc,
    /// MP4 H.265 video: an E-RTMP `hvc1` header goes in front.
    Hevc,
    /// MP4 AAC audio: the AAC FLV header goes in front.
    Aac,
}

/// One audio or video frame of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedSample {
    /// Where its bytes start in the file.
    pub offset: u64,
    /// How many bytes.
    pub size: u32,
    /// Decode time, ms.
    pub dts: u64,
    /// Composition offset (presentation minus decode time), ms.
    pub cts: i32,
    /// Audio or video.
    pub kind: MediaKind,
    /// A video key frame (every audio frame is one for seeking purposes,
    /// but only video key frames are flagged).
    pub keyframe: bool,
    /// How the bytes become a message.
    pub form: SampleForm,
}

/// Why a file could not be indexed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The FLV file header or a tag did not parse.
    #[error("FLV: {0}")]
    Flv(#[from] crate::flv::FlvError),
    /// The MP4 boxes did not parse.
    #[error("MP4: {0}")]
    Mp4(#[from] Mp4DemuxError),
    /// More frames than [`MAX_SAMPLES`].
    #[error("more than {MAX_SAMPLES} frames")]
    TooManySamples,
    /// No audio or video this server can play.
    #[error("no playable audio or video")]
    NoMedia,
    /// `feed` was called with nothing asked, or after the end.
    #[error("the indexer asked for no data")]
    NotWaiting,
}

/// The index of one file.
#[derive(Debug, Clone, Default)]
pub struct MediaIndex {
    /// Metadata and decoder configurations, sent before the first frame and
    /// after every seek.
    pub headers: Vec<MediaMessage>,
    /// The frames in play order.
    pub samples: Vec<IndexedSample>,
    /// Where the media ends, ms: the last frame's time plus its duration.
    pub end_ms: u64,
}

impl MediaIndex {
    /// The decode time of the first frame, ms.
    pub fn start_ms(&self) -> u64 {
        self.samples.iter().map(|s| s.dts).min().unwrap_or(0)
    }

    /// How long the file plays, ms.
    pub fn duration_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.start_ms())
    }

    /// True when some frame is video.
    pub fn has_video(&self) -> bool {
        self.samples.iter().any(|s| s.kind == MediaKind::Video)
    }

    /// Where playback seeking to `ms` starts: the last video key frame at or
    /// before it (the first key frame when there is none before), or for a
    /// file without video the last audio frame at or before it. What FMS and
    /// nginx-rtmp do: a player can only start decoding at a key frame.
    pub fn seek_position(&self, ms: u64) -> usize {
        let video = self.has_video();
        let mut found = None;
        for (i, s) in self.samples.iter().enumerate() {
            let candidate = if video {
                s.kind == MediaKind::Video && s.keyframe
            } else {
                true
            };
            if !candidate {
                continue;
            }
            if s.dts > ms {
                return found.unwrap_or(i);
            }
            found = Some(i);
        }
        found.unwrap_or(0)
    }

    /// The message for sample `i` from its bytes as read from the file.
    pub fn message(&self, i: usize, data: Bytes) -> Option<MediaMessage> {
        let s = self.samples.get(i)?;
        Some(MediaMessage::new(s.kind, s.dts, frame_body(s, data)))
    }
}

/// A frame's RTMP message body: FLV tags as they are; MP4 frames behind the
/// FLV header their codec takes (FLV 10.1 E.4.3.1 for AVC and AAC, E-RTMP
/// `ExVideoTagHeader` for HEVC).
fn frame_body(s: &IndexedSample, data: Bytes) -> Bytes {
    let cts = (s.cts as u32).to_be_bytes();
    let key = s.keyframe;
    let mut out = BytesMut::with_capacity(data.len() + 8);
    match s.form {
        SampleForm::FlvTag => return data,
        SampleForm::Avc => {
            out.put_u8(if key { 0x17 } else { 0x27 });
            out.put_u8(1);
            out.put_slice(&cts[1..]);
        }
        SampleForm::Hevc => {
            // IsExHeader | FrameType | PacketType CodedFrames, FourCC, SI24 cts.
            out.put_u8(0x80 | if key { 0x10 } else { 0x20 } | 1);
            out.put_slice(b"hvc1");
            out.put_slice(&cts[1..]);
        }
        SampleForm::Aac => out.put_slice(&[0xaf, 1]),
    }
    out.put_slice(&data);
    out.freeze()
}

/// The sequence header message an MP4 track's configuration makes.
pub(crate) fn sequence_header(form: SampleForm, config: &[u8]) -> MediaMessage {
    let (kind, head): (MediaKind, &[u8]) = match form {
        SampleForm::Avc | SampleForm::FlvTag => (MediaKind::Video, &[0x17, 0, 0, 0, 0]),
        SampleForm::Hevc => (MediaKind::Video, &[0x90, b'h', b'v', b'c', b'1']),
        SampleForm::Aac => (MediaKind::Audio, &[0xaf, 0]),
    };
    MediaMessage::new(kind, 0, Bytes::from([head, config].concat()))
}

/// Builds a [`MediaIndex`] by asking for the byte ranges it needs. Sans-IO:
/// the caller reads what [`want`](Self::want) names and hands it to
/// [`feed`](Self::feed) until `want` says `None`, then calls
/// [`finish`](Self::finish).
#[derive(Debug)]
pub enum FileIndexer {
    /// An FLV file: its tags are walked.
    Flv(FlvIndexer),
    /// An MP4 file: its `moov` (and `moof`s) are read.
    Mp4(Mp4Indexer),
}

impl FileIndexer {
    /// An indexer for a file of this extension (`flv`, `mp4`, `m4v`, `m4a`,
    /// `mov`) and length; `None` for other extensions.
    pub fn for_extension(ext: &str, file_len: u64) -> Option<Self> {
        match ext.to_ascii_lowercase().as_str() {
            "flv" => Some(Self::Flv(FlvIndexer::new(file_len))),
            "mp4" | "m4v" | "m4a" | "mov" => Some(Self::Mp4(Mp4Indexer::new(file_len))),
            _ => None,
        }
    }

    /// The next range to read, or `None` when done.
    pub fn want(&self) -> Option<ReadRequest> {
        match self {
            Self::Flv(i) => i.want(),
            Self::Mp4(i) => i.want(),
        }
    }

    /// The bytes of the range last asked for (shorter where the file ended).
    pub fn feed(&mut self, data: &[u8]) -> Result<(), IndexError> {
        match self {
            Self::Flv(i) => i.feed(data),
            Self::Mp4(i) => i.feed(data),
        }
    }

    /// The index.
    pub fn finish(self) -> Result<MediaIndex, IndexError> {
        let index = match self {
            Self::Flv(i) => i.finish()?,
            Self::Mp4(i) => i.finish()?,
        };
        if index.samples.is_empty() {
            return Err(IndexError::NoMedia);
        }
        Ok(index)
    }

    /// Indexes a file held whole in memory (tests, fuzzing, small files).
    pub fn index_bytes(ext: &str, file: &[u8]) -> Result<MediaIndex, IndexError> {
        let mut indexer = Self::for_extension(ext, file.len() as u64).ok_or(IndexError::NoMedia)?;
        while let Some(want) = indexer.want() {
            let start = usize::try_from(want.offset)
                .unwrap_or(usize::MAX)
                .min(file.len());
            let end = start.saturating_add(want.len).min(file.len());
            indexer.feed(&file[start..end])?;
        }
        indexer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dts: u64, kind: MediaKind, keyframe: bool) -> IndexedSample {
        IndexedSample {
            offset: 0,
            size: 1,
            dts,
            cts: 0,
            kind,
            keyframe,
            form: SampleForm::FlvTag,
        }
    }

    #[test]
    fn a_seek_lands_on_the_key_frame_before_the_target() {
        let mut index = MediaIndex::default();
        for i in 0..100u64 {
            index
                .samples
                .push(sample(i * 40, MediaKind::Video, i % 25 == 0));
            index
                .samples
                .push(sample(i * 40 + 5, MediaKind::Audio, false));
        }
        let at = |ms| index.samples[index.seek_position(ms)].dts;
        assert_eq!(at(0), 0);
        assert_eq!(at(999), 0);
        assert_eq!(at(1000), 1000);
        assert_eq!(at(2500), 2000);
        assert_eq!(at(1_000_000), 3000);
        // Without video: the audio frame before.
        index.samples.retain(|s| s.kind == MediaKind::Audio);
        assert_eq!(index.samples[index.seek_position(1000)].dts, 965);
    }

    #[test]
    fn mp4_frames_get_their_codec_header() {
        let mut s = sample(0, MediaKind::Video, true);
        s.form = SampleForm::Hevc;
        s.cts = 80;
        let body = frame_body(&s, Bytes::from_static(&[9]));
        assert_eq!(&body[..], &[0x91, b'h', b'v', b'c', b'1', 0, 0, 80, 9]);
        s.form = SampleForm::Avc;
        s.keyframe = false;
        let body = frame_body(&s, Bytes::from_static(&[9]));
        assert_eq!(&body[..], &[0x27, 1, 0, 0, 80, 9]);
        s.form = SampleForm::Aac;
        let body = frame_body(&s, Bytes::from_static(&[9]));
        assert_eq!(&body[..], &[0xaf, 1, 9]);
    }
}
