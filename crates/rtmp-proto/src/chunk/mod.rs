//! The chunk stream (RTMP spec 5.3): how messages are cut into chunks on the
//! wire and put back together.
//!
//! - [`ChunkDecoder`] turns received bytes into [`RawMessage`](crate::RawMessage)s.
//!   It applies Set Chunk Size and Abort itself (spec 5.4.1, 5.4.2) because the
//!   very next chunk in its buffer may already depend on them.
//! - [`ChunkEncoder`] cuts one connection's outgoing messages into chunks with
//!   per-chunk-stream header compression (fmt 1/2/3, spec 5.3.1.2).
//! - [`encode_shared`] cuts one message into chunks that need no per-connection
//!   state, so the same [`EncodedMessage`] can be queued to thousands of players
//!   without copying the payload.
//!
//! Every type here is pure: no I/O, no clock.

mod decoder;
mod encoder;
mod error;
mod header;
mod limits;
mod shared;

pub use decoder::ChunkDecoder;
pub use encoder::ChunkEncoder;
pub use error::ChunkError;
pub use limits::{
    Limits, DEFAULT_MAX_CHUNK_SIZE, DEFAULT_MAX_CHUNK_STREAMS, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_REASSEMBLY_BYTES, PRE_CONNECT_MAX_CHUNK_STREAMS, PRE_CONNECT_MAX_MESSAGE_SIZE,
    PRE_CONNECT_MAX_REASSEMBLY_BYTES, REASSEMBLY_PREALLOC,
};
pub use shared::{encode_shared, EncodedMessage};

/// The chunk size both sides start with (spec 5.4.1: "The maximum chunk size
/// defaults to 128 bytes").
pub const DEFAULT_CHUNK_SIZE: u32 = 128;

/// The largest chunk size the wire can express: Set Chunk Size is 31 bits, the
/// top bit must be zero (spec 5.4.1).
pub const MAX_WIRE_CHUNK_SIZE: u32 = 0x7FFF_FFFF;

/// The largest message the 24-bit message length field can describe (spec 5.3.1.2.1).
pub const MAX_MESSAGE_LENGTH: usize = 0xFF_FFFF;

/// The longest chunk header: a 3-byte basic header, an 11-byte type 0
/// message header and an extended timestamp (spec 5.3.1).
pub const MAX_CHUNK_HEADER_LEN: usize = header::MAX_HEADER_LEN;

/// The lowest chunk stream id a message can use: 0 and 1 only select the 2- and
/// 3-byte basic header forms (spec 5.3.1.1).
pub const MIN_CSID: u32 = 2;

/// The highest chunk stream id the 3-byte basic header can express (spec 5.3.1.1).
pub const MAX_CSID: u32 = 65599;

/// The 24-bit timestamp value that announces a 32-bit extended timestamp field
/// after the message header (spec 5.3.1.3).
pub const EXTENDED_TIMESTAMP_MARKER: u32 = 0xFF_FFFF;
