//! Resource limits of the chunk decoder.
//!
//! The wire allows chunks of up to 2^31 - 1 bytes, messages of up to 2^24 - 1
//! bytes and 65,598 chunk streams per connection (spec 5.3.1, 5.4.1), each
//! chunk stream reassembling its own message (spec 5.3.1: chunks of different
//! messages interleave). A server facing untrusted peers caps all of these,
//! and the sum of what partial messages hold, so one connection cannot make it
//! hold unbounded state.

/// Default cap on the chunk size a peer may set: 16 MiB. Real encoders use
/// 128 to 65,536; the cap only stops absurd values.
pub const DEFAULT_MAX_CHUNK_SIZE: u32 = 16 << 20;

/// Default cap on one message's length: the 24-bit length field's maximum, so
/// by default every message the wire can describe is accepted. Lower it to
/// bound per-connection memory further.
pub const DEFAULT_MAX_MESSAGE_SIZE: u32 = (1 << 24) - 1;

/// Default cap on distinct chunk stream ids per connection. Encoders use a
/// handful (2 for control, 3 for commands, a few for media).
pub const DEFAULT_MAX_CHUNK_STREAMS: usize = 64;

/// Default cap on the bytes all partially reassembled messages of one decoder
/// hold together: 32 MiB. Without it, 64 chunk streams could each hold most
/// of a 16 MiB message (about 1 GiB per connection). One message of the
/// largest size the wire can describe (16 MiB - 1, spec 5.3.1.2.1) still fits,
/// with as much again for the messages interleaved with it (spec 5.3.1:
/// audio, video and commands each on their own chunk stream). Real streams
/// hold far less: a video key frame is a few hundred KiB.
pub const DEFAULT_MAX_REASSEMBLY_BYTES: usize = 32 << 20;

/// At most this many bytes are reserved up front when a message starts; the
/// rest of its buffer grows with the bytes that actually arrive. A header alone
/// claiming a 16 MiB message therefore costs 64 KiB, not 16 MiB.
pub const REASSEMBLY_PREALLOC: usize = 64 << 10;

/// Cap on one message's length before a connection's `connect` is accepted:
/// 64 KiB. A `connect` command is a few hundred bytes (a long `tcUrl` with
/// a token, a few KiB); nothing else a client sends first is larger.
pub const PRE_CONNECT_MAX_MESSAGE_SIZE: u32 = 64 << 10;

/// Cap on the bytes partial messages hold before `connect` is accepted:
/// 128 KiB, two messages of [`PRE_CONNECT_MAX_MESSAGE_SIZE`]. Without it, a
/// socket that never connects can pin the whole configured reassembly cap
/// (32 MiB by default) until the connect deadline.
pub const PRE_CONNECT_MAX_REASSEMBLY_BYTES: usize = 128 << 10;

/// Cap on chunk streams before `connect` is accepted: control, command and
/// a few spares.
pub const PRE_CONNECT_MAX_CHUNK_STREAMS: usize = 8;

/// Limits applied by [`ChunkDecoder`](super::ChunkDecoder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest chunk size a Set Chunk Size message may select.
    pub max_chunk_size: u32,
    /// Largest message length accepted in a chunk message header.
    pub max_message_size: u32,
    /// Most distinct chunk stream ids the peer may use.
    pub max_chunk_streams: usize,
    /// Most bytes all partial messages may hold together (buffer capacity,
    /// counted when a message starts or grows). Keep it at least
    /// `max_message_size`, or messages longer than one chunk and this cap
    /// cannot be received.
    pub max_reassembly_bytes: usize,
}

impl Limits {
    /// These limits tightened to what a connection needs before its
    /// `connect` is accepted (each field the smaller of the two): see
    /// [`PRE_CONNECT_MAX_MESSAGE_SIZE`], [`PRE_CONNECT_MAX_REASSEMBLY_BYTES`],
    /// [`PRE_CONNECT_MAX_CHUNK_STREAMS`].
    pub fn pre_connect(&self) -> Self {
        Self {
            max_chunk_size: self.max_chunk_size,
            max_message_size: self.max_message_size.min(PRE_CONNECT_MAX_MESSAGE_SIZE),
            max_chunk_streams: self.max_chunk_streams.min(PRE_CONNECT_MAX_CHUNK_STREAMS),
            max_reassembly_bytes: self
                .max_reassembly_bytes
                .min(PRE_CONNECT_MAX_REASSEMBLY_BYTES),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_chunk_size: DEFAULT_MAX_CHUNK_SIZE,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_chunk_streams: DEFAULT_MAX_CHUNK_STREAMS,
            max_reassembly_bytes: DEFAULT_MAX_REASSEMBLY_BYTES,
        }
    }
}
