//! Encoder and decoder agree: any message sequence, chunk size, chunk size
//! switch and input split decodes to exactly what was encoded.

use bytes::Bytes;
use proptest::prelude::*;
use rtmp_proto::chunk::{encode_shared, ChunkDecoder, ChunkEncoder, Limits};
use rtmp_proto::control::ControlMessage;
use rtmp_proto::{MessageType, RawMessage};

/// One step of a generated session.
#[derive(Debug, Clone)]
enum Op {
    Message {
        csid: u32,
        type_id: u8,
        stream_id: u32,
        len: usize,
        /// Signed step from the chunk stream's previous timestamp.
        step: i64,
        /// Send through `encode_shared` (then reset the encoder's csid state).
        shared: bool,
    },
    SetChunkSize(u32),
}

fn csid() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 3u32..=6,
        1 => 2u32..=63,
        1 => 64u32..=319,
        1 => 320u32..=65599,
        1 => Just(65599u32),
    ]
}

fn type_id() -> impl Strategy<Value = u8> {
    // Not 1 (Set Chunk Size) or 2 (Abort): the decoder acts on those.
    prop_oneof![
        4 => prop::sample::select(vec![8u8, 9, 18, 20]),
        1 => 3u8..=255,
    ]
}

fn chunk_size() -> impl Strategy<Value = u32> {
    prop_oneof![1u32..=16, 17u32..=512, 513u32..=65536]
}

fn op() -> impl Strategy<Value = Op> {
    let len = prop_oneof![
        2 => prop::sample::select(vec![0usize, 1, 127, 128, 129, 4096]),
        3 => 0usize..=20000,
    ];
    // Steps below 2^31 in size either way are representable on the wire;
    // 0xFFFFFF and more need extended timestamps.
    let step = prop_oneof![
        3 => prop::sample::select(vec![0i64, 20, 23, 40]),
        1 => 0i64..0x0100_0010,
        1 => 0xFF_FFF0i64..0x7FFF_FFFF,
        1 => -1000i64..0,
    ];
    let msg = (
        csid(),
        type_id(),
        prop::sample::select(vec![0u32, 1, 1, 7, u32::MAX]),
        len,
        step,
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(csid, type_id, stream_id, len, step, shared)| Op::Message {
                csid,
                type_id,
                stream_id,
                len,
                step,
                shared,
            },
        );
    prop_oneof![8 => msg, 1 => chunk_size().prop_map(Op::SetChunkSize)]
}

fn payload(len: usize, seed: u8) -> Bytes {
    (0..len)
        .map(|i| seed.wrapping_add((i % 251) as u8))
        .collect()
}

/// Encodes `ops` and returns the wire bytes and the messages in wire order.
fn encode_session(first_chunk_size: u32, base: u64, ops: &[Op]) -> (Vec<u8>, Vec<RawMessage>) {
    let mut enc = ChunkEncoder::new();
    let mut wire = Vec::new();
    let mut sent = Vec::new();
    let mut last_ts = std::collections::HashMap::new();
    let mut send = |enc: &mut ChunkEncoder, msg: RawMessage, shared: bool, wire: &mut Vec<u8>| {
        if shared {
            wire.extend(encode_shared(enc.chunk_size(), &msg).to_vec());
            enc.reset_stream(msg.csid);
        } else {
            wire.extend(enc.encode_to_vec(&msg));
        }
        sent.push(msg);
    };
    let switch = ControlMessage::SetChunkSize(first_chunk_size).to_message();
    send(&mut enc, switch, false, &mut wire);
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::SetChunkSize(size) => {
                let msg = ControlMessage::SetChunkSize(size).to_message();
                send(&mut enc, msg, false, &mut wire);
                assert_eq!(enc.chunk_size(), size);
            }
            Op::Message {
                csid,
                type_id,
                stream_id,
                len,
                step,
                shared,
            } => {
                let ts = match last_ts.get(&csid) {
                    Some(&prev) => (prev as i64 + step).max(0) as u64,
                    None => base,
                };
                last_ts.insert(csid, ts);
                let msg = RawMessage {
                    csid,
                    timestamp: ts,
                    type_id: MessageType::from_id(type_id),
                    stream_id,
                    payload: payload(len, i as u8),
                };
                send(&mut enc, msg, shared, &mut wire);
            }
        }
    }
    (wire, sent)
}

/// Decodes `wire` fed in pieces of the given sizes (cycled).
fn decode_in_pieces(wire: &[u8], pieces: &[usize]) -> Vec<RawMessage> {
    decode(wire, pieces, false)
}

/// As [`decode_in_pieces`], but most pieces are read in place
/// (`decode_from`); every third is pushed, so the two paths meet mid-chunk.
fn decode_in_place(wire: &[u8], pieces: &[usize]) -> Vec<RawMessage> {
    decode(wire, pieces, true)
}

fn decode(wire: &[u8], pieces: &[usize], in_place: bool) -> Vec<RawMessage> {
    let mut dec = ChunkDecoder::new(Limits {
        max_chunk_size: 1 << 20,
        ..Limits::default()
    });
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < wire.len() {
        let n = pieces[i % pieces.len()].max(1);
        i += 1;
        let end = wire.len().min(at + n);
        let mut input = &wire[at..end];
        at = end;
        if in_place && i % 3 != 0 {
            while let Some(m) = dec.decode_from(&mut input).expect("decodes") {
                out.push(m);
            }
            assert!(input.is_empty(), "what is not decoded is buffered");
        } else {
            dec.push(input);
            while let Some(m) = dec.next_message().expect("decodes") {
                out.push(m);
            }
        }
    }
    assert_eq!(dec.buffered(), 0);
    assert_eq!(dec.bytes_received(), wire.len() as u64);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_session_roundtrips(
        first_chunk_size in chunk_size(),
        base in prop_oneof![0u64..1000, 0xFF_FF00u64..0x100_0100, 0u64..=0x7FFF_FFFF],
        ops in prop::collection::vec(op(), 1..24),
        pieces in prop::collection::vec(prop_oneof![1usize..=8, 9usize..=5000], 1..8),
    ) {
        let (wire, sent) = encode_session(first_chunk_size, base, &ops);
        let got = decode_in_pieces(&wire, &pieces);
        prop_assert_eq!(got.len(), sent.len());
        for (g, s) in got.iter().zip(&sent) {
            prop_assert_eq!(g, s);
        }
        prop_assert_eq!(decode_in_place(&wire, &pieces), got);
    }

    #[test]
    fn shared_encoding_roundtrips(
        chunk_size in chunk_size(),
        csid in csid(),
        type_id in type_id(),
        stream_id in any::<u32>(),
        timestamp in prop_oneof![0u64..0x100_0000, 0xFF_FFFFu64..=0xFFFF_FFFF],
        len in 0usize..=20000,
    ) {
        let msg = RawMessage {
            csid,
            timestamp,
            type_id: MessageType::from_id(type_id),
            stream_id,
            payload: payload(len, 7),
        };
        let shared = encode_shared(chunk_size, &msg);
        // Payload pieces are slices of the original payload.
        let range = msg.payload.as_ptr_range();
        let from_payload: usize = shared
            .pieces()
            .iter()
            .filter(|p| range.contains(&p.as_ptr()))
            .map(Bytes::len)
            .sum();
        prop_assert_eq!(from_payload, len);
        let mut wire = ControlMessage::SetChunkSize(chunk_size).to_message();
        wire.csid = 2;
        let mut bytes = ChunkEncoder::new().encode_to_vec(&wire);
        bytes.extend(shared.to_vec());
        prop_assert_eq!(shared.len(), shared.to_vec().len());
        let got = decode_in_pieces(&bytes, &[1, 1000, 3]);
        prop_assert_eq!(got.len(), 2);
        prop_assert_eq!(&got[1], &msg);
    }

    #[test]
    fn timestamps_crossing_2_pow_32_stay_monotonic(
        start in 0xFFFF_0000u64..0xFFFF_FFFF,
        steps in prop::collection::vec(prop_oneof![0u64..100, 0u64..0x100_0000, 0u64..0x7FFF_FFFF], 1..40),
        shared_mask in any::<u64>(),
        chunk_size in chunk_size(),
    ) {
        let mut enc = ChunkEncoder::new();
        let mut wire = enc.encode_to_vec(&ControlMessage::SetChunkSize(chunk_size).to_message());
        let mut sent = Vec::new();
        let mut ts = start;
        for (i, step) in std::iter::once(&0).chain(&steps).enumerate() {
            ts += step;
            let msg = RawMessage {
                csid: 6,
                timestamp: ts,
                type_id: MessageType::Video,
                stream_id: 1,
                payload: payload(200, i as u8),
            };
            if shared_mask >> (i % 64) & 1 == 1 {
                wire.extend(encode_shared(chunk_size, &msg).to_vec());
                enc.reset_stream(6);
            } else {
                wire.extend(enc.encode_to_vec(&msg));
            }
            sent.push(msg);
        }
        let got = decode_in_pieces(&wire, &[17, 4096]);
        let times: Vec<u64> = got.iter().skip(1).map(|m| m.timestamp).collect();
        let expected: Vec<u64> = sent.iter().map(|m| m.timestamp).collect();
        prop_assert_eq!(&times, &expected);
        prop_assert!(times.windows(2).all(|w| w[0] <= w[1]));
        prop_assert!(*times.last().unwrap() >= start);
    }
}

/// A session running past 2^24 ms (4.6 hours: extended timestamps) and past
/// 2^32 ms (49.7 days: the 32-bit wire value wraps) keeps its timeline.
#[test]
fn long_session_timeline() {
    for start in [0xFF_FF00u64, 0xFFFF_FF00] {
        let mut enc = ChunkEncoder::new();
        let mut wire = enc.encode_to_vec(&ControlMessage::SetChunkSize(100).to_message());
        let mut sent = Vec::new();
        for i in 0..20u64 {
            for (csid, type_id, len) in [(6, MessageType::Video, 350), (7, MessageType::Audio, 40)]
            {
                let msg = RawMessage {
                    csid,
                    timestamp: start + i * 40,
                    type_id,
                    stream_id: 1,
                    payload: payload(len, i as u8),
                };
                wire.extend(enc.encode_to_vec(&msg));
                sent.push(msg);
            }
        }
        let got = decode_in_pieces(&wire, &[1, 2, 3, 500]);
        assert_eq!(&got[1..], &sent[..], "start {start:#x}");
        assert!(got.last().unwrap().timestamp > start + 700);
    }
}
