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
    /// Pieces at the front that are not part of this message: its first
    /// header, when it was [`retimed`](Self::retimed) for one player.
    skip: usize,
    len: usize,
}

impl EncodedMessage {
    /// Header and payload pieces in wire order, ready for a vectored write.
    pub fn pieces(&self) -> &[Bytes] {
        self.pieces.get(self.skip..).unwrap_or_default()
    }

    /// This message delivered at `timestamp` instead of its own: a new first
    /// chunk header (fmt 0, at most 18 bytes) written into `scratch` and split
    /// off it, so one buffer serves the headers of many messages, and the rest
    /// of the message, whose pieces stay shared. A player whose timeline is
    /// offset from its stream's thus costs a small header per message, never
    /// a copy of the payload or of the other headers.
    ///
    /// `None` when the rest cannot be shared: the message has continuation
    /// chunks and the old or the new timestamp needs the extended field, which
    /// every continuation repeats (spec 5.3.1.3); cut it again with
    /// [`encode_shared`] at the new timestamp then (the payload is not copied
    /// either). Also `None` for a message that is itself such a rest.
    pub fn retimed(&self, timestamp: u64, scratch: &mut BytesMut) -> Option<(Bytes, Self)> {
        if self.skip != 0 {
            return None;
        }
        let first = self.pieces.first()?;
        let basic = match first.first()? & 0x3F {
            0 => 2,
            1 => 3,
            _ => 1,
        };
        let old_extended = first.len() == basic + 15;
        let timestamp = timestamp as u32;
        let extended = needs_extended(timestamp);
        let continued = self.pieces.len() > 2;
        if continued && (old_extended || extended) {
            return None;
        }
        // Built on the stack, then copied out once.
        let mut header = [0u8; MAX_HEADER_LEN];
        let mut out = &mut header[..];
        out.put_slice(first.get(..basic)?);
        write_timestamp_field(&mut out, timestamp);
        // Length, type and message stream id, as they were.
        out.put_slice(first.get(basic + 3..basic + 11)?);
        if extended {
            out.put_u32(timestamp);
        }
        let written = MAX_HEADER_LEN - out.len();
        scratch.extend_from_slice(header.get(..written)?);
        let header = scratch.split().freeze();
        let rest = Self {
            pieces: self.pieces.clone(),
            skip: 1,
            len: self.len - first.len(),
        };
        Some((header, rest))
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
        concat(self.pieces())
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
            skip: 0,
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
        skip: 0,
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

    fn video(timestamp: u64, len: usize) -> RawMessage {
        RawMessage {
            csid: 70,
            timestamp,
            type_id: MessageType::Video,
            stream_id: 1,
            payload: Bytes::from((0..len).map(|i| i as u8).collect::<Vec<u8>>()),
        }
    }

    /// The wire bytes of a retimed message: its own header, then the rest.
    fn retimed_wire(enc: &EncodedMessage, timestamp: u64) -> Option<Vec<u8>> {
        let mut scratch = BytesMut::new();
        let (header, rest) = enc.retimed(timestamp, &mut scratch)?;
        assert_eq!(
            header.len() + rest.len(),
            rest.to_vec().len() + header.len()
        );
        let mut wire = header.to_vec();
        wire.extend_from_slice(&rest.to_vec());
        Some(wire)
    }

    #[test]
    fn retimed_is_what_encoding_at_that_time_gives() {
        // 3-byte basic header (csid 70), one chunk and several; timestamps on
        // both sides of the extended field where the rest can be shared.
        let cases = [
            (40, 100, 300),
            (40, 0xFF_FFFF, 300),
            (0x0123_4567, 7, 300),
            (40, 4_000, 1000),
            (0, 0, 0),
        ];
        for (from, to, len) in cases {
            let enc = encode_shared(60000, &video(from, len));
            let wire = retimed_wire(&enc, to).expect("shareable");
            assert_eq!(
                wire,
                encode_shared(60000, &video(to, len)).to_vec(),
                "{from} -> {to}"
            );
        }
        let enc = encode_shared(128, &video(40, 1000));
        assert_eq!(
            retimed_wire(&enc, 4_000_000).expect("shareable"),
            encode_shared(128, &video(4_000_000, 1000)).to_vec()
        );
    }

    #[test]
    fn retimed_shares_everything_but_the_first_header() {
        let msg = video(40, 1000);
        let enc = encode_shared(128, &msg);
        let mut scratch = BytesMut::with_capacity(64);
        let (h1, rest) = enc.retimed(5, &mut scratch).unwrap();
        let (h2, _) = enc.retimed(6, &mut scratch).unwrap();
        // Both headers come from one buffer.
        assert_eq!(h2.as_ptr() as usize, h1.as_ptr() as usize + h1.len());
        assert_eq!(rest.pieces().len(), enc.pieces().len() - 1);
        for (a, b) in rest.pieces().iter().zip(&enc.pieces()[1..]) {
            assert_eq!(a.as_ptr(), b.as_ptr());
        }
        // A rest is not retimed again.
        assert!(rest.retimed(7, &mut scratch).is_none());
    }

    #[test]
    fn retimed_refuses_when_continuations_carry_the_timestamp() {
        let enc = encode_shared(128, &video(0x0123_4567, 300));
        assert!(retimed_wire(&enc, 5).is_none());
        let enc = encode_shared(128, &video(5, 300));
        assert!(retimed_wire(&enc, 0x0123_4567).is_none());
        // One chunk: no continuation, so any timestamp will do.
        let enc = encode_shared(60000, &video(5, 300));
        assert_eq!(
            retimed_wire(&enc, 0x0123_4567).unwrap(),
            encode_shared(60000, &video(0x0123_4567, 300)).to_vec()
        );
    }
}
