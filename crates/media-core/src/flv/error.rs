//! Why FLV bytes could not be read or written.

use rtmp_proto::reader::Truncated;

/// Why FLV bytes could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlvError {
    /// A header or tag ended early.
    #[error("FLV truncated: {0}")]
    Truncated(#[from] Truncated),
    /// The file does not start with `FLV` (spec E.2).
    #[error("not an FLV file (bad signature)")]
    BadSignature,
    /// The FLV header's `DataOffset` is below 9 or above
    /// [`MAX_HEADER_LEN`](super::MAX_HEADER_LEN).
    #[error("bad FLV header size {0}")]
    BadHeaderSize(u32),
    /// A tag's `DataSize` runs past the end of the input.
    #[error("tag data size {size} runs past the end of the input ({available} bytes left)")]
    TagPastEnd {
        /// Declared size.
        size: u32,
        /// Bytes that were left.
        available: usize,
    },
    /// A body longer than the 24-bit `DataSize` field can describe.
    #[error("tag body of {0} bytes exceeds the 24-bit FLV DataSize")]
    BodyTooLarge(usize),
    /// A stream id that does not fit the 24-bit `StreamID` field.
    #[error("stream id {0} exceeds the 24-bit FLV StreamID")]
    StreamIdTooLarge(u32),
    /// An audio or video tag body with no header byte.
    #[error("empty audio/video tag body")]
    Empty,
    /// An E-RTMP v2 `ModEx` `TimestampOffsetNano` shorter than the 3 bytes
    /// of its `UI24` (the spec: "MUST be at least 3 bytes").
    #[error("ModEx TimestampOffsetNano of {0} bytes, at least 3 expected")]
    TimestampOffsetNanoTooShort(usize),
    /// An E-RTMP v2 `TimestampOffsetNano` of a millisecond or more (the
    /// spec stores "values up to 999,999 ns").
    #[error("ModEx TimestampOffsetNano of {0} ns, at most 999999 expected")]
    TimestampOffsetNanoTooLarge(u32),
    /// An E-RTMP ex header this parser cannot follow.
    #[error("unsupported enhanced RTMP header: {0}")]
    UnsupportedExHeader(&'static str),
}
