//! Hostile input: every malformed or abusive chunk stream ends in a typed
//! error (or waits for more bytes), never a panic, a hang or a huge allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use rtmp_proto::chunk::{
    ChunkDecoder, ChunkEncoder, ChunkError, Limits, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_REASSEMBLY_BYTES, REASSEMBLY_PREALLOC,
};
use rtmp_proto::control::{ControlError, ControlMessage};
use rtmp_proto::{MessageType, RawMessage};

/// A Set Chunk Size message with an arbitrary 4-byte body.
fn set_chunk_size_bytes(value: u32) -> Vec<u8> {
    let mut v = vec![0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0];
    v.extend_from_slice(&value.to_be_bytes());
    v
}

fn first_error(limits: Limits, bytes: &[u8]) -> Option<ChunkError> {
    let mut d = ChunkDecoder::new(limits);
    d.push(bytes);
    loop {
        match d.next_message() {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

#[test]
fn set_chunk_size_zero_or_top_bit() {
    for value in [0, 0x8000_0000, 0xFFFF_FFFF] {
        assert_eq!(
            first_error(Limits::default(), &set_chunk_size_bytes(value)),
            Some(ChunkError::InvalidChunkSize(value))
        );
    }
}

#[test]
fn set_chunk_size_above_limit() {
    let limits = Limits {
        max_chunk_size: 65536,
        ..Limits::default()
    };
    assert_eq!(first_error(limits, &set_chunk_size_bytes(65536)), None);
    assert_eq!(
        first_error(limits, &set_chunk_size_bytes(65537)),
        Some(ChunkError::ChunkSizeTooLarge {
            size: 65537,
            max: 65536
        })
    );
    // The largest wire value is refused by the default limit too.
    assert!(matches!(
        first_error(Limits::default(), &set_chunk_size_bytes(0x7FFF_FFFF)),
        Some(ChunkError::ChunkSizeTooLarge { .. })
    ));
}

#[test]
fn truncated_set_chunk_size_body() {
    let bytes = [0x02, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 1];
    assert!(matches!(
        first_error(Limits::default(), &bytes),
        Some(ChunkError::Control(ControlError::Truncated(_)))
    ));
}

#[test]
fn oversize_message() {
    let limits = Limits {
        max_message_size: 1000,
        ..Limits::default()
    };
    let header = |len: u32| {
        let l = len.to_be_bytes();
        vec![0x03, 0, 0, 0, l[1], l[2], l[3], 9, 1, 0, 0, 0]
    };
    assert_eq!(first_error(limits, &header(1000)), None);
    assert_eq!(
        first_error(limits, &header(1001)),
        Some(ChunkError::MessageTooLarge {
            csid: 3,
            length: 1001,
            max: 1000
        })
    );
    // fmt 1 is checked the same way.
    let mut bytes = header(10);
    bytes.extend([0u8; 10]);
    bytes.extend([0x43, 0, 0, 1, 0, 0x10, 0, 9]);
    assert!(matches!(
        first_error(limits, &bytes),
        Some(ChunkError::MessageTooLarge { length: 4096, .. })
    ));
}

/// Counts the bytes the current thread holds allocated, to check what the
/// decoder reserves for partial messages.
struct CountingAllocator;

thread_local! {
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE_BYTES.try_with(|c| c.set(c.get() + delta));
}

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn headers_claiming_huge_messages_cost_little() {
    // 61 chunk streams each announce a 16 MiB message and send one chunk:
    // the decoder must hold about what arrived, not 61 x 16 MiB.
    let mut d = ChunkDecoder::new(Limits::default());
    let before = LIVE_BYTES.with(Cell::get);
    for csid in 3..64u8 {
        d.push(&[csid, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 1, 0, 0, 0]);
        d.push(&[0xAB; 128]);
        assert_eq!(d.next_message().unwrap(), None);
    }
    assert_eq!(d.buffered(), 0, "all chunks consumed into partial messages");
    let held = LIVE_BYTES.with(Cell::get) - before;
    assert!(held > 61 * 128, "partials are held: {held}");
    assert!(
        held < 61 * (REASSEMBLY_PREALLOC as isize + 4096),
        "held {held} bytes"
    );
}

/// A fmt 0 chunk header: timestamp 0, `length`, `type_id`, message stream 1.
fn full_header(csid: u8, length: u32, type_id: u8) -> Vec<u8> {
    let mut h = vec![csid, 0, 0, 0];
    h.extend_from_slice(&length.to_be_bytes()[1..]);
    h.extend_from_slice(&[type_id, 1, 0, 0, 0]);
    h
}

fn next(d: &mut ChunkDecoder) -> Result<Option<RawMessage>, ChunkError> {
    let result = d.next_message();
    assert!(d.reassembly_bytes() <= DEFAULT_MAX_REASSEMBLY_BYTES);
    result
}

#[test]
fn partial_messages_are_capped_in_total() {
    const CHUNK: usize = 1 << 20;
    let chunk = vec![0xAB; CHUNK];
    let mut d = ChunkDecoder::new(Limits::default());
    d.push(&set_chunk_size_bytes(CHUNK as u32));
    assert!(next(&mut d).unwrap().is_some());

    // The largest message (16 MiB - 1) in 1 MiB chunks, interleaved with
    // 2 MiB audio messages, fits under the default cap.
    let largest = DEFAULT_MAX_MESSAGE_SIZE as usize;
    let mut sent = 0;
    let mut audio = 0;
    while sent < largest {
        let n = CHUNK.min(largest - sent);
        d.push(&if sent == 0 {
            full_header(6, largest as u32, 9)
        } else {
            vec![0xC6]
        });
        d.push(&chunk[..n]);
        sent += n;
        for part in 0..2 {
            d.push(&if part == 0 {
                full_header(4, 2 * CHUNK as u32, 8)
            } else {
                vec![0xC4]
            });
            d.push(&chunk);
        }
        while let Some(m) = next(&mut d).unwrap() {
            if m.csid == 4 {
                audio += 1;
            } else {
                assert_eq!(m.payload.len(), largest);
            }
        }
    }
    assert_eq!(audio, 16);
    assert_eq!(d.reassembly_bytes(), 0);

    // A peer that starts 16 MiB messages on many chunk streams, 4 MiB of
    // each, is cut when a header would take it past the cap, before its
    // payload is buffered.
    let quarter = vec![0xCD; 4 << 20];
    d.push(&set_chunk_size_bytes(4 << 20));
    assert!(next(&mut d).unwrap().is_some());
    let before = LIVE_BYTES.with(Cell::get);
    let mut error = None;
    for csid in 3..20u8 {
        d.push(&full_header(csid, 0xFF_FFFF, 9));
        match next(&mut d) {
            Ok(None) => {}
            other => {
                error = Some(other);
                break;
            }
        }
        d.push(&quarter);
        assert_eq!(next(&mut d), Ok(None));
    }
    let max = DEFAULT_MAX_REASSEMBLY_BYTES;
    assert_eq!(
        error,
        Some(Err(ChunkError::ReassemblyTooLarge {
            csid: 3 + (max / (4 << 20)) as u32,
            held: max + (4 << 20),
            max,
        }))
    );
    assert!(d.reassembly_bytes() <= max);
    // Partials plus the decoder's input buffer (one 4 MiB chunk).
    let held = LIVE_BYTES.with(Cell::get) - before;
    assert!(
        held <= (max + (4 << 20) + 4096) as isize,
        "held {held} bytes"
    );
}

#[test]
fn too_many_chunk_streams() {
    let limits = Limits {
        max_chunk_streams: 8,
        ..Limits::default()
    };
    let mut enc = ChunkEncoder::new();
    let mut bytes = Vec::new();
    for csid in 3..12 {
        bytes.extend(enc.encode_to_vec(&RawMessage {
            csid,
            timestamp: 0,
            type_id: MessageType::Audio,
            stream_id: 1,
            payload: vec![1, 2, 3].into(),
        }));
    }
    let mut d = ChunkDecoder::new(limits);
    d.push(&bytes);
    for _ in 0..8 {
        assert!(d.next_message().unwrap().is_some());
    }
    assert_eq!(
        d.next_message(),
        Err(ChunkError::TooManyChunkStreams { csid: 11, max: 8 })
    );
}

#[test]
fn headerless_chunks_on_unknown_streams() {
    for (bytes, fmt) in [(vec![0x83u8, 0, 0, 1], 2u8), (vec![0xC3], 3)] {
        assert_eq!(
            first_error(Limits::default(), &bytes),
            Some(ChunkError::MissingPreviousHeader { csid: 3, fmt })
        );
    }
}

#[test]
fn malformed_control_messages_are_returned_not_fatal() {
    // Only Set Chunk Size and Abort are interpreted by the decoder; a bad
    // Set Peer Bandwidth is the session's business.
    let msg = RawMessage {
        csid: 2,
        timestamp: 0,
        type_id: MessageType::SetPeerBandwidth,
        stream_id: 0,
        payload: vec![0, 0, 0, 1, 9].into(),
    };
    let bytes = ChunkEncoder::new().encode_to_vec(&msg);
    let mut d = ChunkDecoder::new(Limits::default());
    d.push(&bytes);
    let got = d.next_message().unwrap().unwrap();
    assert_eq!(
        ControlMessage::decode(got.type_id, &got.payload),
        Err(ControlError::InvalidLimitType(9))
    );
}

/// Drives the decoder to the end of `bytes` pushed in `split`-sized pieces.
/// Returns how many messages came out before an error or the end.
fn drive(limits: Limits, bytes: &[u8], split: usize) -> usize {
    let mut d = ChunkDecoder::new(limits);
    let mut count = 0;
    for piece in bytes.chunks(split.max(1)) {
        d.push(piece);
        loop {
            match d.next_message() {
                Ok(Some(m)) => {
                    assert!(m.payload.len() <= limits.max_message_size as usize);
                    assert!(d.reassembly_bytes() <= limits.max_reassembly_bytes);
                    count += 1;
                }
                Ok(None) => {
                    assert!(d.reassembly_bytes() <= limits.max_reassembly_bytes);
                    break;
                }
                Err(_) => return count,
            }
        }
    }
    count
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn garbage_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
        split in 1usize..64,
        small in any::<bool>(),
    ) {
        let limits = if small {
            Limits {
                max_chunk_size: 64,
                max_message_size: 512,
                max_chunk_streams: 4,
                max_reassembly_bytes: 1024,
            }
        } else {
            Limits::default()
        };
        // At most one message per byte: each message needs at least a 1-byte header.
        prop_assert!(drive(limits, &bytes, split) <= bytes.len());
    }

    #[test]
    fn corrupted_valid_streams_never_panic(
        seed in prop::collection::vec((1usize..3000, any::<u8>()), 1..20),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        split in 1usize..700,
    ) {
        let mut enc = ChunkEncoder::new();
        let mut bytes = enc.encode_to_vec(&ControlMessage::SetChunkSize(300).to_message());
        for (i, (len, t)) in seed.iter().enumerate() {
            bytes.extend(enc.encode_to_vec(&RawMessage {
                csid: 3 + (i as u32 % 3),
                timestamp: 0xFF_FF00 + i as u64 * 40,
                type_id: MessageType::from_id(8 + t % 2),
                stream_id: 1,
                payload: vec![*t; *len].into(),
            }));
        }
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        drive(Limits::default(), &bytes, split);
    }
}
