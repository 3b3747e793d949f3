//! FLV (Adobe FLV spec v10.1, annex E) and the Enhanced RTMP extensions
//! (E-RTMP v1/v2: `IsExHeader` video and audio headers with FourCCs).
//!
//! RTMP audio and video messages carry exactly an FLV tag body, so these
//! parsers serve the live path (flag classification, codec info) as well as FLV
//! files ([`FlvReader`], [`FlvWriter`]).

mod audio;
mod file;
mod video;

pub use audio::{AudioTagHeader, SoundFormat};
pub use file::{tag_header, FlvReader, FlvWriter, Tag, TagType, FLV_HEADER_LEN, TAG_HEADER_LEN};
pub use video::{FourCc, FrameType, VideoCodec, VideoPacketType, VideoTagHeader};

/// Why FLV bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlvError {
    /// A header or tag ended early.
    #[error("truncated: {0}")]
    Truncated(#[from] rtmp_proto::reader::Truncated),
    /// The file does not start with `FLV`.
    #[error("not an FLV file (bad signature)")]
    BadSignature,
    /// The FLV header declares a size smaller than 9 bytes or absurdly large.
    #[error("bad FLV header size {0}")]
    BadHeaderSize(u32),
    /// A tag's data size runs past the end of the input.
    #[error("tag data size {size} runs past the end of the input ({available} bytes left)")]
    TagPastEnd {
        /// Declared size.
        size: u32,
        /// Bytes left.
        available: usize,
    },
    /// An empty audio or video body.
    #[error("empty tag body")]
    Empty,
    /// An E-RTMP ex-header this parser does not understand.
    #[error("unsupported enhanced header: {0}")]
    UnsupportedExHeader(&'static str),
}
