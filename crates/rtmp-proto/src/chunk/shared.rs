//! Chunk encoding shared by many players (the fan-out path).

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use super::encoder::{concat, split_into_chunks};
use super::header::{
    basic_header_len, clamp_csid, needs_extended, write_basic_header, write_timestamp_field,
    FMT_FULL, FMT_NONE, MAX_HEADER_LEN,
};
use super::MAX_MESSAGE_LENGTH;
use crate::message::RawMessage;

/// One message cut into chunks once, to be written to any number of players.
///
/// Cloning it copies one pointer: the header bytes and the payload are shared.
#[derive(Debug, Clone)]
pub struct EncodedMessage {
    pieces: Arc<[Bytes]>,
    len: usize,
}

impl EncodedMessage {
    /// Header and payload pieces in wire order, ready for a vectored write.
    pub fn pieces(&self) -> &[Bytes] {
        &self.pieces
    }

    /// Total bytes on the wire.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is nothing to write (only for a message that could
    /// not be encoded).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The wire bytes in one buffer (tests, simple callers).
    pub fn to_vec(&self) -> Vec<u8> {
        concat(&self.pieces)
    }
}

/// Cuts `msg` into chunks that need no per-player header state: a fmt 0 first
/// chunk (absolute timestamp, low 32 bits) and fmt 3 continuations, with the
/// extended timestamp repeated on them when the timestamp needs it (spec
/// 5.3.1.3). All headers live in one small buffer sliced per chunk; payload
/// pieces are slices of `msg.payload`, so nothing of the payload is copied.
///
/// The receiving decoder's chunk stream state after this message is exactly
/// what a fmt 0 header leaves, whatever it was before, which is why any player
/// can be sent any shared message. The reverse does not hold: a chunk stream id
/// used for shared messages must not also carry messages from a player's own
/// [`ChunkEncoder`](super::ChunkEncoder), whose header compression state would
/// no longer match the peer's (or call
/// [`ChunkEncoder::reset_stream`](super::ChunkEncoder::reset_stream) after each
/// shared message). Sessions reserve dedicated chunk stream ids for shared media.
///
/// `chunk_size` is clamped to at least 1; the chunk stream id and payload
/// length preconditions of [`ChunkEncoder`](super::ChunkEncoder) apply (an
/// over-long payload yields an empty message).
pub fn encode_shared(chunk_size: u32, msg: &RawMessage) -> EncodedMessage {
    if msg.payload.len() > MAX_MESSAGE_LENGTH {
        debug_assert!(false, "message longer than the 24-bit length field");
        return EncodedMessage {
            pieces: Arc::new([]),
            len: 0,
        };
    }
    let csid = clamp_csid(msg.csid);
    let timestamp = msg.timestamp as u32;
    let extended = needs_extended(timestamp);

    let mut first = BytesMut::with_capacity(MAX_HEADER_LEN);
    write_basic_header(&mut first, FMT_FULL, csid);
    write_timestamp_field(&mut first, timestamp);
    first.put_uint(msg.payload.len() as u64, 3);
    first.put_u8(msg.type_id.id());
    first.put_u32_le(msg.stream_id);
    if extended {
        first.put_u32(timestamp);
    }
    let mut continuation = BytesMut::with_capacity(basic_header_len(csid) + 4);
    write_basic_header(&mut continuation, FMT_NONE, csid);
    if extended {
        continuation.put_u32(timestamp);
    }
    let mut pieces = Vec::new();
    let len = split_into_chunks(&first, &continuation, &msg.payload, chunk_size, &mut pieces);
    EncodedMessage {
        pieces: pieces.into(),
        len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MessageType;

    #[test]
    fn fmt0_then_fmt3_and_payload_not_copied() {
        let msg = RawMessage {
            csid: 6,
            timestamp: 40,
            type_id: MessageType::Video,
            stream_id: 1,
            payload: Bytes::from(vec![1u8; 300]),
        };
        let enc = encode_shared(128, &msg);
        assert_eq!(enc.len(), 12 + 300 + 2);
        let lens: Vec<usize> = enc.pieces().iter().map(Bytes::len).collect();
        assert_eq!(lens, [12, 128, 1, 128, 1, 44]);
        assert_eq!(&enc.pieces()[0][..4], &[0x06, 0, 0, 40]);
        assert_eq!(&enc.pieces()[2][..], &[0xC6]);
        let payload = msg.payload.as_ptr_range();
        let inside: usize = enc
            .pieces()
            .iter()
            .filter(|p| payload.contains(&p.as_ptr()))
            .map(Bytes::len)
            .sum();
        assert_eq!(inside, 300);
        // Header pieces share one buffer.
        let h0 = enc.pieces()[0].as_ptr() as usize;
        assert_eq!(enc.pieces()[2].as_ptr() as usize, h0 + 12);
        assert_eq!(enc.pieces()[4].as_ptr() as usize, h0 + 13);
        assert_eq!(enc.to_vec().len(), enc.len());
    }
}
