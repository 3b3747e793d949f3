//! Chunk stream encoding for one connection (RTMP spec 5.3.1, 5.3.2).

use bytes::{BufMut, Bytes, BytesMut};

use super::header::{
    basic_header_len, clamp_csid, needs_extended, write_basic_header, write_timestamp_field,
    FMT_DELTA, FMT_FULL, FMT_NONE, FMT_NO_STREAM, MAX_HEADER_LEN,
};
use super::{DEFAULT_CHUNK_SIZE, MAX_MESSAGE_LENGTH, MAX_WIRE_CHUNK_SIZE};
use crate::control::ControlMessage;
use crate::message::{MessageType, RawMessage};

/// Cuts one connection's outgoing messages into chunks.
///
/// Headers are compressed per chunk stream the way spec 5.3.2 describes: fmt 1
/// when only the stream id is unchanged, fmt 2 when the length and type are
/// unchanged too, fmt 3 for a new message when even the timestamp delta
/// repeats (never right after a fmt 0 header, whose "delta" peers disagree on),
/// fmt 0 otherwise (first message on the chunk stream, another message stream,
/// a timestamp going backwards or jumping by 2^32 ms or more). Timestamp
/// fields of 0xFFFFFF or more use the extended timestamp, repeated on every fmt
/// 3 continuation chunk as Flash Player and FMS do (spec 5.3.1.3).
///
/// The wire carries the low 32 bits of [`RawMessage::timestamp`] in fmt 0
/// headers, and the [`ChunkDecoder`](super::ChunkDecoder) rebuilds 64-bit values
/// from steps smaller than 2^31 ms; larger steps backwards are not representable.
///
/// Output is a list of [`Bytes`]: header pieces from one small buffer per
/// message and payload pieces that are zero-copy slices of the message payload,
/// ready for a vectored write.
///
/// Preconditions (programming errors, checked with `debug_assert!`): the
/// chunk stream id is in `2..=65599` (out of range ids are clamped) and the
/// payload is at most [`MAX_MESSAGE_LENGTH`] bytes (longer messages cannot be
/// described by the header and are dropped).
#[derive(Debug, Clone)]
pub struct ChunkEncoder {
    chunk_size: u32,
    streams: Vec<EncoderStream>,
}

/// What the peer's decoder remembers about one chunk stream.
#[derive(Debug, Clone, Copy)]
struct EncoderStream {
    csid: u32,
    timestamp: u64,
    /// The delta of the last fmt 1/2/3 header; `None` after a fmt 0 header.
    delta: Option<u32>,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The last message header had an extended timestamp field, so a fmt 3
    /// header starting a new message carries one too.
    extended: bool,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkEncoder {
    /// An encoder at the default chunk size of 128 bytes (spec 5.4.1).
    pub fn new() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: Vec::new(),
        }
    }

    /// Changes the size of the chunks this encoder cuts, clamped to
    /// `1..=0x7FFFFFFF`. The peer must learn it first: send a Set Chunk Size
    /// message. [`encode`](Self::encode) does this by itself when it encodes
    /// one, so calling this afterwards with the same size is harmless.
    pub fn set_chunk_size(&mut self, size: u32) {
        self.chunk_size = size.clamp(1, MAX_WIRE_CHUNK_SIZE);
    }

    /// The chunk size this encoder cuts messages with.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Forgets the header compression state of `csid`, so its next message
    /// gets a full fmt 0 header. Call it when something else (such as
    /// [`encode_shared`](super::encode_shared)) wrote on that chunk stream.
    pub fn reset_stream(&mut self, csid: u32) {
        self.streams.retain(|s| s.csid != csid);
    }

    /// Appends the chunks of `msg` to `out`: header pieces and zero-copy
    /// payload slices, in wire order.
    ///
    /// A Set Chunk Size message is encoded at the current size, then its size
    /// applies to the following messages, as the peer's decoder will do.
    pub fn encode(&mut self, msg: &RawMessage, out: &mut Vec<Bytes>) {
        let Ok(length) = u32::try_from(msg.payload.len()) else {
            debug_assert!(false, "message longer than the 24-bit length field");
            return;
        };
        if msg.payload.len() > MAX_MESSAGE_LENGTH {
            debug_assert!(false, "message longer than the 24-bit length field");
            return;
        }
        let csid = clamp_csid(msg.csid);
        let type_id = msg.type_id.id();
        let index = self.streams.iter().position(|s| s.csid == csid);
        let previous = index.and_then(|i| self.streams.get(i)).copied();

        let (fmt, field, extended) = match previous {
            Some(p) if p.stream_id == msg.stream_id => {
                match msg.timestamp.checked_sub(p.timestamp).map(u32::try_from) {
                    Some(Ok(delta)) => {
                        if p.length != length || p.type_id != type_id {
                            (FMT_NO_STREAM, delta, needs_extended(delta))
                        } else if p.delta == Some(delta) {
                            (FMT_NONE, delta, p.extended)
                        } else {
                            (FMT_DELTA, delta, needs_extended(delta))
                        }
                    }
                    _ => full_header(msg.timestamp),
                }
            }
            _ => full_header(msg.timestamp),
        };

        let mut first = BytesMut::with_capacity(MAX_HEADER_LEN);
        write_basic_header(&mut first, fmt, csid);
        if fmt <= FMT_DELTA {
            write_timestamp_field(&mut first, field);
        }
        if fmt <= FMT_NO_STREAM {
            first.put_uint(u64::from(length), 3);
            first.put_u8(type_id);
        }
        if fmt == FMT_FULL {
            first.put_u32_le(msg.stream_id);
        }
        if extended {
            first.put_u32(field);
        }
        let mut continuation = BytesMut::with_capacity(basic_header_len(csid) + 4);
        write_basic_header(&mut continuation, FMT_NONE, csid);
        if extended {
            continuation.put_u32(field);
        }
        split_into_chunks(&first, &continuation, &msg.payload, self.chunk_size, out);

        let state = EncoderStream {
            csid,
            timestamp: msg.timestamp,
            delta: (fmt != FMT_FULL).then_some(field),
            length,
            type_id,
            stream_id: msg.stream_id,
            extended,
        };
        match index.and_then(|i| self.streams.get_mut(i)) {
            Some(slot) => *slot = state,
            None => self.streams.push(state),
        }

        if msg.type_id == MessageType::SetChunkSize {
            if let Ok(ControlMessage::SetChunkSize(size)) =
                ControlMessage::decode(msg.type_id, &msg.payload)
            {
                self.set_chunk_size(size);
            }
        }
    }

    /// [`encode`](Self::encode) into one contiguous buffer (tests, simple callers).
    pub fn encode_to_vec(&mut self, msg: &RawMessage) -> Vec<u8> {
        let mut pieces = Vec::new();
        self.encode(msg, &mut pieces);
        concat(&pieces)
    }
}

/// fmt 0 with the low 32 bits of the timestamp.
fn full_header(timestamp: u64) -> (u8, u32, bool) {
    let field = timestamp as u32;
    (FMT_FULL, field, needs_extended(field))
}

/// Concatenates pieces into one buffer.
pub(crate) fn concat(pieces: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pieces.iter().map(Bytes::len).sum());
    for piece in pieces {
        out.extend_from_slice(piece);
    }
    out
}

/// Cuts `payload` into chunks of `chunk_size`: `first` heads the first chunk,
/// `continuation` every other one. All headers go into one buffer, sliced per
/// chunk; payload pieces are slices of `payload`. Returns the bytes appended.
pub(crate) fn split_into_chunks(
    first: &[u8],
    continuation: &[u8],
    payload: &Bytes,
    chunk_size: u32,
    out: &mut Vec<Bytes>,
) -> usize {
    let chunk_size = chunk_size.max(1) as usize;
    let chunks = payload.len().div_ceil(chunk_size).max(1);
    let header_bytes = first.len() + (chunks - 1) * continuation.len();
    let mut headers = BytesMut::with_capacity(header_bytes);
    headers.extend_from_slice(first);
    for _ in 1..chunks {
        headers.extend_from_slice(continuation);
    }
    let headers = headers.freeze();

    out.reserve(chunks * 2);
    out.push(headers.slice(..first.len()));
    let mut header_at = first.len();
    let mut start = 0;
    loop {
        let end = payload.len().min(start + chunk_size);
        if end > start {
            out.push(payload.slice(start..end));
        }
        start = end;
        if start >= payload.len() {
            break;
        }
        out.push(headers.slice(header_at..header_at + continuation.len()));
        header_at += continuation.len();
    }
    header_bytes + payload.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(
        csid: u32,
        timestamp: u64,
        type_id: MessageType,
        stream_id: u32,
        len: usize,
    ) -> RawMessage {
        RawMessage {
            csid,
            timestamp,
            type_id,
            stream_id,
            payload: Bytes::from(vec![0x5A; len]),
        }
    }

    #[test]
    fn header_compression_follows_spec_example() {
        // Spec 5.3.2.1 example 1: audio messages with constant delta.
        let mut enc = ChunkEncoder::new();
        let a = enc.encode_to_vec(&msg(3, 1000, MessageType::Audio, 12345, 32));
        assert_eq!(a.len(), 12 + 32);
        assert_eq!(&a[..8], &[0x03, 0x00, 0x03, 0xE8, 0, 0, 32, 8]);
        assert_eq!(&a[8..12], &12345u32.to_le_bytes());
        let b = enc.encode_to_vec(&msg(3, 1020, MessageType::Audio, 12345, 32));
        assert_eq!(&b[..4], &[0x83, 0, 0, 20]);
        let c = enc.encode_to_vec(&msg(3, 1040, MessageType::Audio, 12345, 32));
        assert_eq!(c.len(), 1 + 32);
        assert_eq!(c[0], 0xC3);
        let d = enc.encode_to_vec(&msg(3, 1060, MessageType::Video, 12345, 10));
        assert_eq!(&d[..8], &[0x43, 0, 0, 20, 0, 0, 10, 9]);
        let e = enc.encode_to_vec(&msg(3, 1000, MessageType::Video, 12345, 10));
        assert_eq!(e[0], 0x03, "backwards timestamp needs fmt 0");
    }

    #[test]
    fn continuation_chunks_and_zero_copy_payload() {
        // Spec 5.3.2.2 example 2: a 307-byte message at chunk size 128.
        let mut enc = ChunkEncoder::new();
        let m = msg(4, 1000, MessageType::Video, 12346, 307);
        let mut out = Vec::new();
        enc.encode(&m, &mut out);
        let lens: Vec<usize> = out.iter().map(Bytes::len).collect();
        assert_eq!(lens, [12, 128, 1, 128, 1, 51]);
        assert_eq!(&out[2][..], &[0xC4]);
        let base = m.payload.as_ptr() as usize;
        for (i, piece) in [(0usize, &out[1]), (128, &out[3]), (256, &out[5])] {
            assert_eq!(piece.as_ptr() as usize, base + i);
        }
    }

    #[test]
    fn extended_timestamp_repeated_on_continuations() {
        let mut enc = ChunkEncoder::new();
        let out = enc.encode_to_vec(&msg(3, 0x0123_4567, MessageType::Video, 1, 130));
        assert_eq!(&out[1..4], &[0xFF, 0xFF, 0xFF]);
        assert_eq!(&out[12..16], &0x0123_4567u32.to_be_bytes());
        assert_eq!(out[16 + 128], 0xC3);
        assert_eq!(&out[17 + 128..21 + 128], &0x0123_4567u32.to_be_bytes());
        assert_eq!(out.len(), 16 + 128 + 5 + 2);
    }

    #[test]
    fn set_chunk_size_message_applies_after_itself() {
        let mut enc = ChunkEncoder::new();
        let scs = ControlMessage::SetChunkSize(4096).to_message();
        enc.encode_to_vec(&scs);
        assert_eq!(enc.chunk_size(), 4096);
        let out = enc.encode_to_vec(&msg(6, 0, MessageType::Video, 1, 4000));
        assert_eq!(out.len(), 12 + 4000);
    }

    #[test]
    fn basic_header_forms_by_csid() {
        let mut enc = ChunkEncoder::new();
        assert_eq!(
            enc.encode_to_vec(&msg(63, 0, MessageType::Audio, 1, 0))
                .len(),
            12
        );
        assert_eq!(
            enc.encode_to_vec(&msg(64, 0, MessageType::Audio, 1, 0))
                .len(),
            13
        );
        assert_eq!(
            enc.encode_to_vec(&msg(65599, 0, MessageType::Audio, 1, 0))
                .len(),
            14
        );
    }

    #[test]
    fn reset_stream_forces_full_header() {
        let mut enc = ChunkEncoder::new();
        enc.encode_to_vec(&msg(5, 0, MessageType::Audio, 1, 4));
        assert_eq!(
            enc.encode_to_vec(&msg(5, 10, MessageType::Audio, 1, 4))[0],
            0x85
        );
        enc.reset_stream(5);
        assert_eq!(
            enc.encode_to_vec(&msg(5, 20, MessageType::Audio, 1, 4))[0],
            0x05
        );
    }
}
