//! Chunk stream decoding (RTMP spec 5.3.1): bytes in, whole messages out.

use bytes::{Buf, Bytes, BytesMut};

use super::header::{read_basic_header, read_message_header, FMT_DELTA, FMT_FULL, FMT_NONE};
use super::{
    ChunkError, Limits, DEFAULT_CHUNK_SIZE, EXTENDED_TIMESTAMP_MARKER, REASSEMBLY_PREALLOC,
};
use crate::control::{ControlError, ControlMessage};
use crate::message::{MessageType, RawMessage};
use crate::reader::Reader;

/// An input buffer with more capacity than this is shrunk once less than a
/// quarter of this is left in it.
const RETAINED_INPUT_BYTES: usize = 16 * 1024;

/// Reassembles the messages of one connection direction from its chunk stream.
///
/// Feed received bytes with [`push`](Self::push), then call
/// [`next_message`](Self::next_message) until it returns `Ok(None)`.
///
/// What it handles (spec 5.3.1 unless noted):
/// - chunk types 0-3 and 1-, 2- and 3-byte basic headers (csid 2..=65599);
/// - interleaved chunk streams, each with its own header compression state;
/// - fmt 3 chunks that start a new message: they reuse the previous header,
///   timestamp delta included (after a fmt 0 header the "delta" is the fmt 0
///   timestamp, as in SRS and ffmpeg);
/// - a fmt 1 chunk on a fresh chunk stream (librtmp sends one on csid 2): it is
///   taken to follow message stream 0 at time 0;
/// - extended timestamps (spec 5.3.1.3), including on fmt 3 chunks, see below;
/// - Set Chunk Size and Abort (spec 5.4.1, 5.4.2) are applied as soon as they
///   are decoded, because the next chunks in the buffer already follow them;
///   they are still returned to the caller;
/// - 64-bit timestamps: fmt 0 carries the low 32 bits; each chunk stream
///   unwraps them against its previous timestamp (a value that went backwards
///   by more than 2^31 ms wrapped; any smaller step, either way, is taken as
///   is; a step that would go below zero is taken as a jump forward), and
///   fmt 1/2/3 deltas are added in 64 bits. So a session that runs past 2^32 ms
///   (49.7 days) keeps monotonic timestamps.
///
/// **Extended timestamps on fmt 3 continuation chunks.** Flash Player and FMS
/// repeat the 4-byte extended timestamp in every fmt 3 chunk of a message whose
/// header had one; old librtmp omits it. As SRS and ffmpeg do, the decoder
/// peeks at the 4 bytes after a continuation chunk's basic header and consumes
/// them only if they equal the extended timestamp field of the message's first
/// chunk. A librtmp payload that happens to start with those 4 bytes is
/// misread; no better test exists. The peek needs 4 bytes after the basic
/// header, so such a chunk is only decoded once 4 bytes follow it.
///
/// Memory: the input buffer holds what was pushed and not yet decoded;
/// partial messages are bounded by their (checked) lengths and grow with the
/// bytes that actually arrive (see [`REASSEMBLY_PREALLOC`]), and all of them
/// together by [`Limits::max_reassembly_bytes`], checked as soon as a chunk's
/// header is buffered (before its payload is waited for). Every message gets
/// a buffer of exactly its own size, so one kept for seconds (in a GOP cache)
/// holds only its own bytes.
///
/// After an error the decoder's state is unspecified: close the connection.
#[derive(Debug)]
pub struct ChunkDecoder {
    limits: Limits,
    chunk_size: u32,
    buf: BytesMut,
    bytes_received: u64,
    streams: Vec<ChunkStream>,
    /// Sum of the capacities of every chunk stream's `partial` buffer.
    reassembly_bytes: usize,
    /// Index of the most recently used entry of `streams`: consecutive chunks
    /// are usually on the same chunk stream.
    last: usize,
}

/// One chunk stream's header compression state and partial message.
#[derive(Debug)]
struct ChunkStream {
    csid: u32,
    /// Timestamp of the current (or last) message, extended to 64 bits.
    timestamp: u64,
    /// Delta a fmt 3 chunk starting a new message adds.
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The extended timestamp field of the last header that had one, while
    /// headers keep carrying it (fmt 3 chunks inherit it).
    extended: Option<u32>,
    /// A message is being reassembled; the next fmt 3 chunk continues it.
    in_progress: bool,
    received: u32,
    partial: BytesMut,
}

impl ChunkStream {
    fn new(csid: u32) -> Self {
        Self {
            csid,
            timestamp: 0,
            delta: 0,
            length: 0,
            type_id: 0,
            stream_id: 0,
            extended: None,
            in_progress: false,
            received: 0,
            partial: BytesMut::new(),
        }
    }

    /// Drops the partial message; returns the capacity it held.
    fn abort(&mut self) -> usize {
        self.in_progress = false;
        self.received = 0;
        std::mem::take(&mut self.partial).capacity()
    }
}

/// What `step` needs to know about a chunk stream seen before.
#[derive(Clone, Copy)]
struct Known {
    in_progress: bool,
    received: u32,
    extended: Option<u32>,
    length: u32,
    /// Capacity of its partial message buffer.
    capacity: usize,
}

/// The capacity a partial message buffer of `len` bytes (and `capacity`)
/// needs to take `chunk_len` more: unchanged if they fit, else doubled (at
/// least [`REASSEMBLY_PREALLOC`]), never past the `left` bytes the message
/// still lacks. So a buffer grows with what arrives, not with what its
/// header claims.
fn grown_capacity(len: usize, capacity: usize, chunk_len: usize, left: usize) -> usize {
    if capacity.saturating_sub(len) >= chunk_len {
        return capacity;
    }
    len + len.max(REASSEMBLY_PREALLOC).min(left).max(chunk_len)
}

/// What one decoding step produced.
enum Step {
    NeedMore,
    Chunk,
    Message(RawMessage),
}

impl ChunkDecoder {
    /// A decoder at the default chunk size of 128 bytes.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            chunk_size: DEFAULT_CHUNK_SIZE,
            buf: BytesMut::new(),
            bytes_received: 0,
            streams: Vec::new(),
            reassembly_bytes: 0,
            last: 0,
        }
    }

    /// Replaces the limits, from the next chunk on. What is already held
    /// stays: loosen limits freely; tightening them makes the next chunk
    /// that starts or grows a message past them an error.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Appends received bytes to the decoder's buffer.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.bytes_received = self.bytes_received.saturating_add(data.len() as u64);
    }

    /// Every byte ever pushed, for Acknowledgement sequence numbers (spec 5.4.3).
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }

    /// Bytes pushed but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes held by partially reassembled messages (buffer capacity), at
    /// most [`Limits::max_reassembly_bytes`].
    pub fn reassembly_bytes(&self) -> usize {
        self.reassembly_bytes
    }

    /// The chunk size the peer currently sends with.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Decodes the next complete message, or `Ok(None)` when more bytes are
    /// needed. Set Chunk Size and Abort are applied before they are returned.
    pub fn next_message(&mut self) -> Result<Option<RawMessage>, ChunkError> {
        // Every `Step::Chunk` consumes at least one byte, so this ends.
        loop {
            let buf = std::mem::take(&mut self.buf);
            let stepped = self.step(&buf);
            self.buf = buf;
            let (step, used) = stepped?;
            self.buf.advance(used);
            match step {
                Step::NeedMore => {
                    // Payloads are copied out, so nothing else holds the
                    // input buffer. Most connections sit drained between
                    // reads: free it then (the next push allocates what it
                    // needs), and shrink one a burst grew.
                    if self.buf.is_empty() {
                        self.buf = BytesMut::new();
                    } else if self.buf.capacity() > RETAINED_INPUT_BYTES
                        && self.buf.len() <= RETAINED_INPUT_BYTES / 4
                    {
                        self.buf = BytesMut::from(&self.buf[..]);
                    }
                    return Ok(None);
                }
                Step::Chunk => {}
                Step::Message(msg) => {
                    self.apply_protocol_control(&msg)?;
                    return Ok(Some(msg));
                }
            }
        }
    }

    /// [`push`](Self::push) of `input` then [`next_message`](Self::next_message),
    /// without copying what it decodes: chunks whole in `input` are read in
    /// place, and only an unfinished one is buffered. `input` is advanced
    /// past what was used; call again with the rest for the next message.
    /// A publisher's read usually holds whole chunks, so its bytes are no
    /// longer copied into a buffer allocated per read first (that allocation
    /// was 6 % of the server's `perf` samples at 200 publishers; the server's
    /// total CPU did not change measurably, see BENCHMARKS.md).
    pub fn decode_from(&mut self, input: &mut &[u8]) -> Result<Option<RawMessage>, ChunkError> {
        if !self.buf.is_empty() {
            // Bytes of an unfinished chunk wait: the input continues them.
            self.push(input);
            *input = &[];
            return self.next_message();
        }
        loop {
            let (step, used) = self.step(input)?;
            self.bytes_received = self.bytes_received.saturating_add(used as u64);
            *input = input.get(used..).unwrap_or_default();
            match step {
                Step::NeedMore => {
                    if !input.is_empty() {
                        self.push(input);
                        *input = &[];
                    }
                    return Ok(None);
                }
                Step::Chunk => {}
                Step::Message(msg) => {
                    self.apply_protocol_control(&msg)?;
                    return Ok(Some(msg));
                }
            }
        }
    }

    fn find(&self, csid: u32) -> Option<usize> {
        if self.streams.get(self.last).is_some_and(|s| s.csid == csid) {
            return Some(self.last);
        }
        self.streams.iter().position(|s| s.csid == csid)
    }

    /// Decodes one chunk if it is complete in `input`, and says how many
    /// bytes of it the chunk took. Nothing changes until the whole chunk is
    /// there.
    fn step(&mut self, input: &[u8]) -> Result<(Step, usize), ChunkError> {
        const NEED_MORE: (Step, usize) = (Step::NeedMore, 0);
        let mut r = Reader::new(input);
        let Ok((fmt, csid)) = read_basic_header(&mut r) else {
            return Ok(NEED_MORE);
        };
        let Ok(header) = read_message_header(fmt, &mut r) else {
            return Ok(NEED_MORE);
        };
        let index = self.find(csid);
        let stream = index.and_then(|i| self.streams.get(i)).map(|s| Known {
            in_progress: s.in_progress,
            received: s.received,
            extended: s.extended,
            length: s.length,
            capacity: s.partial.capacity(),
        });
        if stream.is_none() {
            if fmt > 1 {
                return Err(ChunkError::MissingPreviousHeader { csid, fmt });
            }
            if self.streams.len() >= self.limits.max_chunk_streams {
                return Err(ChunkError::TooManyChunkStreams {
                    csid,
                    max: self.limits.max_chunk_streams,
                });
            }
        }
        let continuation = fmt == FMT_NONE && stream.is_some_and(|s| s.in_progress);
        let inherited_extended = stream.and_then(|s| s.extended);

        // Extended timestamp (spec 5.3.1.3), with the continuation heuristic
        // documented on the type.
        let has_extended = match header.timestamp {
            Some(field) => field == EXTENDED_TIMESTAMP_MARKER,
            None => inherited_extended.is_some(),
        };
        let mut extended = None;
        if has_extended {
            let Ok(value) = r.clone().u32() else {
                return Ok(NEED_MORE);
            };
            if !continuation || inherited_extended == Some(value) {
                // Cannot fail: the peek above read these 4 bytes.
                let _ = r.skip(4);
            }
            if !continuation {
                extended = Some(value);
            }
        }

        let length = match (header.length, stream) {
            (Some(length), _) => {
                if length > self.limits.max_message_size {
                    return Err(ChunkError::MessageTooLarge {
                        csid,
                        length,
                        max: self.limits.max_message_size,
                    });
                }
                length
            }
            (None, Some(s)) => s.length,
            (None, None) => return Err(ChunkError::MissingPreviousHeader { csid, fmt }),
        };
        let received = match stream {
            Some(s) if continuation => s.received,
            _ => 0,
        };
        let chunk_len = self.chunk_size.min(length.saturating_sub(received));
        let whole = received == 0 && chunk_len == length;

        // The reassembly cap, checked before waiting for the payload. A new
        // message frees the partial one it interrupts; a whole message in one
        // chunk holds nothing here.
        let old_capacity = stream.map_or(0, |s| s.capacity);
        let new_capacity = if whole {
            0
        } else {
            let (len, capacity) = if continuation {
                (received as usize, old_capacity)
            } else {
                (0, 0)
            };
            let left = length.saturating_sub(received) as usize;
            grown_capacity(len, capacity, chunk_len as usize, left)
        };
        let held = self
            .reassembly_bytes
            .saturating_sub(old_capacity)
            .saturating_add(new_capacity);
        if new_capacity > old_capacity && held > self.limits.max_reassembly_bytes {
            return Err(ChunkError::ReassemblyTooLarge {
                csid,
                held,
                max: self.limits.max_reassembly_bytes,
            });
        }
        let header_len = r.position();
        if r.remaining() < chunk_len as usize {
            return Ok(NEED_MORE);
        }

        // The whole chunk is buffered: commit.
        let index = match index {
            Some(i) => i,
            None => {
                self.streams.push(ChunkStream::new(csid));
                self.last = self.streams.len() - 1;
                self.last
            }
        };
        self.last = index;
        let fresh = stream.is_none();
        let Some(s) = self.streams.get_mut(index) else {
            return Ok(NEED_MORE);
        };
        if !continuation {
            let field = extended.or(header.timestamp).unwrap_or(0);
            match fmt {
                FMT_FULL => {
                    s.timestamp = if fresh {
                        u64::from(field)
                    } else {
                        unwrap_timestamp(s.timestamp, field)
                    };
                    s.delta = field;
                }
                1 | FMT_DELTA => {
                    s.delta = field;
                    s.timestamp = s.timestamp.saturating_add(u64::from(field));
                }
                _ => {
                    if let Some(value) = extended {
                        s.delta = value;
                    }
                    s.timestamp = s.timestamp.saturating_add(u64::from(s.delta));
                }
            }
            s.extended = extended;
            s.length = length;
            if let Some(type_id) = header.type_id {
                s.type_id = type_id;
            }
            if let Some(stream_id) = header.stream_id {
                s.stream_id = stream_id;
            }
            if s.in_progress {
                // A new header interrupts a partial message: the peer gave up
                // on it (as ffmpeg, drop it rather than fail).
                let freed = s.abort();
                self.reassembly_bytes = self.reassembly_bytes.saturating_sub(freed);
            }
            s.in_progress = true;
        }

        let chunk_len = chunk_len as usize;
        let used = header_len + chunk_len;
        let Some(bytes) = input.get(header_len..used) else {
            return Ok(NEED_MORE);
        };
        let payload = if whole {
            // Whole message in one chunk: copied out, not sliced. A slice would
            // keep the whole input allocation alive (other messages' chunks,
            // already copied) for as long as the message is kept, and would
            // stop the input buffer from being reused.
            Bytes::copy_from_slice(bytes)
        } else {
            let capacity = s.partial.capacity();
            if new_capacity > capacity {
                // Exactly the capacity the cap was checked against
                // (`reserve` could round it up).
                let mut grown = BytesMut::with_capacity(new_capacity);
                grown.extend_from_slice(&s.partial);
                s.partial = grown;
            }
            s.partial.extend_from_slice(bytes);
            self.reassembly_bytes = self
                .reassembly_bytes
                .saturating_add(s.partial.capacity())
                .saturating_sub(capacity);
            s.received = received + chunk_len as u32;
            if s.received < length {
                return Ok((Step::Chunk, used));
            }
            let message = std::mem::take(&mut s.partial);
            self.reassembly_bytes = self.reassembly_bytes.saturating_sub(message.capacity());
            message.freeze()
        };
        s.in_progress = false;
        s.received = 0;
        let message = RawMessage {
            csid,
            timestamp: s.timestamp,
            type_id: MessageType::from_id(s.type_id),
            stream_id: s.stream_id,
            payload,
        };
        Ok((Step::Message(message), used))
    }

    /// Applies Set Chunk Size (spec 5.4.1) and Abort (spec 5.4.2).
    fn apply_protocol_control(&mut self, msg: &RawMessage) -> Result<(), ChunkError> {
        if !matches!(msg.type_id, MessageType::SetChunkSize | MessageType::Abort) {
            return Ok(());
        }
        match ControlMessage::decode(msg.type_id, &msg.payload) {
            Ok(ControlMessage::SetChunkSize(size)) => {
                if size > self.limits.max_chunk_size {
                    return Err(ChunkError::ChunkSizeTooLarge {
                        size,
                        max: self.limits.max_chunk_size,
                    });
                }
                self.chunk_size = size;
            }
            Ok(ControlMessage::Abort { csid }) => {
                if let Some(stream) = self.find(csid).and_then(|i| self.streams.get_mut(i)) {
                    let freed = stream.abort();
                    self.reassembly_bytes = self.reassembly_bytes.saturating_sub(freed);
                }
            }
            Ok(_) => {}
            Err(ControlError::InvalidChunkSize(size)) => {
                return Err(ChunkError::InvalidChunkSize(size))
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

/// Extends a 32-bit wire timestamp to 64 bits next to the previous one.
///
/// The step from the previous value's low 32 bits is read as a signed 32-bit
/// number: going backwards by more than 2^31 is a wrap forward, going forward by
/// more than 2^31 is a small step back. A result below zero cannot be a step
/// back, so the wire value is taken as is.
fn unwrap_timestamp(previous: u64, wire: u32) -> u64 {
    let step = i64::from(wire.wrapping_sub(previous as u32) as i32);
    match previous.checked_add_signed(step) {
        Some(value) => value,
        None if step < 0 => u64::from(wire),
        None => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn decode_all(bytes: &[u8]) -> Vec<RawMessage> {
        let mut d = ChunkDecoder::new(Limits::default());
        d.push(bytes);
        let mut out = Vec::new();
        while let Some(m) = d.next_message().unwrap() {
            out.push(m);
        }
        out
    }

    #[test]
    fn unwrap_handles_wrap_and_small_steps() {
        assert_eq!(unwrap_timestamp(0xFFFF_FF00, 0x10), 0x1_0000_0010);
        assert_eq!(unwrap_timestamp(0x1_0000_0010, 0xFFFF_FF00), 0xFFFF_FF00);
        assert_eq!(unwrap_timestamp(1000, 900), 900);
        assert_eq!(unwrap_timestamp(100, 0xFFFF_FF00), 0xFFFF_FF00);
        assert_eq!(unwrap_timestamp(0x5_0000_0000, 5), 0x5_0000_0005);
    }

    #[test]
    fn single_chunk_message_gets_its_own_buffer() {
        let bytes = [3, 0, 0, 5, 0, 0, 2, 8, 1, 0, 0, 0, 0xAA, 0xBB];
        let mut d = ChunkDecoder::new(Limits::default());
        d.push(&bytes);
        let input = d.buf.as_ptr() as usize..d.buf.as_ptr() as usize + d.buf.capacity();
        let m = d.next_message().unwrap().unwrap();
        assert_eq!(m.payload, Bytes::from_static(&[0xAA, 0xBB]));
        // Not a slice of the input buffer, which it would keep alive.
        assert!(!input.contains(&(m.payload.as_ptr() as usize)));
        assert_eq!((m.csid, m.timestamp, m.stream_id), (3, 5, 1));
        assert_eq!(m.type_id, MessageType::Audio);
        assert_eq!(d.bytes_received(), 14);
    }

    #[test]
    fn byte_by_byte_input_needs_more_until_complete() {
        let bytes = [3, 0, 0, 5, 0, 0, 2, 8, 1, 0, 0, 0, 0xAA, 0xBB];
        let mut d = ChunkDecoder::new(Limits::default());
        for (i, b) in bytes.iter().enumerate() {
            assert!(d.next_message().unwrap().is_none());
            d.push(&[*b]);
            if i + 1 < bytes.len() {
                assert!(d.next_message().unwrap().is_none());
            }
        }
        assert_eq!(d.next_message().unwrap().unwrap().payload.len(), 2);
    }

    #[test]
    fn fmt3_new_message_reuses_delta() {
        // fmt 0 at 10, fmt 2 delta 20 (30), fmt 3 (50): spec 5.3.2.1 example shape.
        let mut bytes = vec![3, 0, 0, 10, 0, 0, 1, 8, 1, 0, 0, 0, 1];
        bytes.extend_from_slice(&[0x83, 0, 0, 20, 2]);
        bytes.extend_from_slice(&[0xC3, 3]);
        let msgs = decode_all(&bytes);
        let ts: Vec<u64> = msgs.iter().map(|m| m.timestamp).collect();
        assert_eq!(ts, [10, 30, 50]);
        assert!(msgs
            .iter()
            .all(|m| m.stream_id == 1 && m.payload.len() == 1));
    }

    #[test]
    fn extended_timestamp_repeated_or_omitted_on_continuations() {
        // 200-byte message at timestamp 0x01000000 with chunk size 128.
        let payload: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
        let head = [3, 0xFF, 0xFF, 0xFF, 0, 0, 200, 9, 1, 0, 0, 0, 1, 0, 0, 0];
        for repeat in [true, false] {
            let mut bytes = head.to_vec();
            bytes.extend_from_slice(&payload[..128]);
            bytes.push(0xC3);
            if repeat {
                bytes.extend_from_slice(&[1, 0, 0, 0]);
            }
            bytes.extend_from_slice(&payload[128..]);
            let msgs = decode_all(&bytes);
            assert_eq!(msgs.len(), 1, "repeat={repeat}");
            assert_eq!(msgs[0].timestamp, 0x0100_0000);
            assert_eq!(&msgs[0].payload[..], &payload[..]);
        }
    }

    #[test]
    fn fmt2_on_unknown_stream_is_an_error() {
        let mut d = ChunkDecoder::new(Limits::default());
        d.push(&[0x83, 0, 0, 1]);
        assert_eq!(
            d.next_message(),
            Err(ChunkError::MissingPreviousHeader { csid: 3, fmt: 2 })
        );
    }

    #[test]
    fn fmt1_on_fresh_stream_starts_at_zero() {
        let msgs = decode_all(&[0x42, 0, 0, 7, 0, 0, 4, 5, 0, 0, 0x10, 0]);
        assert_eq!(msgs.len(), 1);
        assert_eq!((msgs[0].timestamp, msgs[0].stream_id), (7, 0));
        assert_eq!(msgs[0].type_id, MessageType::WindowAckSize);
    }

    #[test]
    fn set_chunk_size_applies_to_following_chunks() {
        let mut bytes = vec![2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 1, 0];
        // 200-byte message in one 256-byte chunk.
        bytes.extend_from_slice(&[3, 0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0]);
        bytes.extend([7u8; 200]);
        let mut d = ChunkDecoder::new(Limits::default());
        d.push(&bytes);
        let first = d.next_message().unwrap().unwrap();
        assert_eq!(first.type_id, MessageType::SetChunkSize);
        assert_eq!(d.chunk_size(), 256);
        assert_eq!(d.next_message().unwrap().unwrap().payload.len(), 200);
    }

    /// What the partial message buffers really hold.
    fn held(d: &ChunkDecoder) -> usize {
        d.streams.iter().map(|s| s.partial.capacity()).sum()
    }

    #[test]
    fn reassembly_bytes_follow_interrupted_and_aborted_messages() {
        let mut d = ChunkDecoder::new(Limits::default());
        // Two 200-byte messages, one chunk each on csids 4 and 5.
        for csid in [4, 5] {
            d.push(&[csid, 0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0]);
            d.push(&[1u8; 128]);
        }
        assert_eq!(d.next_message().unwrap(), None);
        assert_eq!(d.reassembly_bytes(), 400);
        assert_eq!(d.reassembly_bytes(), held(&d));
        // A new whole message on csid 4 interrupts its partial one.
        d.push(&[4, 0, 0, 0, 0, 0, 1, 9, 1, 0, 0, 0, 7]);
        assert_eq!(d.next_message().unwrap().unwrap().payload.len(), 1);
        assert_eq!(d.reassembly_bytes(), 200);
        // Abort csid 5.
        d.push(&[2, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(
            d.next_message().unwrap().unwrap().type_id,
            MessageType::Abort
        );
        assert_eq!(d.reassembly_bytes(), 0);
        assert_eq!(held(&d), 0);
        // A completed message is handed out, not held.
        d.push(&[6, 0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0]);
        d.push(&[1u8; 128]);
        assert_eq!(d.next_message().unwrap(), None);
        assert_eq!(d.reassembly_bytes(), 200);
        d.push(&[0xC6]);
        d.push(&[1u8; 72]);
        assert_eq!(d.next_message().unwrap().unwrap().payload.len(), 200);
        assert_eq!(d.reassembly_bytes(), 0);
    }

    #[test]
    fn abort_drops_partial_message() {
        let mut bytes = vec![4, 0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0];
        bytes.extend([1u8; 128]);
        bytes.extend_from_slice(&[2, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 4]);
        // A fmt 3 on csid 4 now starts a new 200-byte message.
        bytes.push(0xC4);
        bytes.extend([2u8; 128]);
        bytes.push(0xC4);
        bytes.extend([2u8; 72]);
        let msgs = decode_all(&bytes);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].type_id, MessageType::Abort);
        assert!(msgs[1].payload.iter().all(|b| *b == 2));
        assert_eq!(msgs[1].payload.len(), 200);
    }
}
