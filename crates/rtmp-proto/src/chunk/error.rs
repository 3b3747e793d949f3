//! What can go wrong while decoding a chunk stream.

use crate::control::ControlError;

/// A fatal chunk stream error: the byte stream cannot be resynchronised, so the
/// connection must be closed. The decoder must not be used after one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// Set Chunk Size carried 0 or a value with the top bit set (spec 5.4.1).
    #[error("invalid chunk size {0} (must be 1..=0x7FFFFFFF)")]
    InvalidChunkSize(u32),
    /// Set Chunk Size asked for more than [`Limits::max_chunk_size`](super::Limits).
    #[error("chunk size {size} exceeds the limit {max}")]
    ChunkSizeTooLarge {
        /// Requested chunk size.
        size: u32,
        /// Configured limit.
        max: u32,
    },
    /// A message header announced more than [`Limits::max_message_size`](super::Limits) bytes.
    #[error("message of {length} bytes on chunk stream {csid} exceeds the limit {max}")]
    MessageTooLarge {
        /// Chunk stream id.
        csid: u32,
        /// Announced message length.
        length: u32,
        /// Configured limit.
        max: u32,
    },
    /// The peer opened more chunk streams than [`Limits::max_chunk_streams`](super::Limits).
    #[error("chunk stream {csid} would exceed the limit of {max} chunk streams")]
    TooManyChunkStreams {
        /// The chunk stream id that did not fit.
        csid: u32,
        /// Configured limit.
        max: usize,
    },
    /// Taking the next chunk would make the partially reassembled messages
    /// hold more than [`Limits::max_reassembly_bytes`](super::Limits) bytes.
    #[error("chunk on chunk stream {csid} would make partial messages hold {held} bytes, over the limit {max}")]
    ReassemblyTooLarge {
        /// Chunk stream id of the chunk that did not fit.
        csid: u32,
        /// Bytes partial messages would hold with it.
        held: usize,
        /// Configured limit.
        max: usize,
    },
    /// A fmt 2 or 3 chunk arrived on a chunk stream that never had a full
    /// header, so its message length and type are unknown (spec 5.3.1.2).
    #[error("chunk fmt {fmt} on chunk stream {csid}, which has no previous header")]
    MissingPreviousHeader {
        /// Chunk stream id.
        csid: u32,
        /// Chunk type (2 or 3).
        fmt: u8,
    },
    /// A Set Chunk Size or Abort message body was malformed.
    #[error("malformed protocol control message: {0}")]
    Control(#[from] ControlError),
}
