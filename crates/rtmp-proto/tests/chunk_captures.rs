//! Whole captured TCP directions (wader/fq testdata, see PROVENANCE.md) decode
//! from the end of the handshake to the end of the capture without an error,
//! and what they carry is consistent with what the captures are known to be.

mod common;

use std::collections::BTreeMap;

use rtmp_proto::aggregate::{split_aggregate, RECORD_OVERHEAD};
use rtmp_proto::amf0;
use rtmp_proto::chunk::{ChunkDecoder, Limits};
use rtmp_proto::control::ControlMessage;
use rtmp_proto::{MessageType, RawMessage};

/// C0C1 (1 + 1536) then C2 (1536), or S0S1S2 (1 + 1536 + 1536).
const HANDSHAKE_LEN: usize = 3073;

struct Capture {
    msgs: Vec<RawMessage>,
    /// Bytes left undecoded: a capture may end in the middle of a chunk.
    left: usize,
    /// Chunk size in force at the end.
    chunk_size: u32,
}

/// Decodes a whole direction, pushing it in uneven reads as a socket would.
fn decode_capture(name: &str) -> Option<Capture> {
    let bytes = common::corpus_file(name)?;
    assert_eq!(bytes.first(), Some(&3), "{name}: RTMP version byte");
    let body = &bytes[HANDSHAKE_LEN..];
    let mut decoder = ChunkDecoder::new(Limits::default());
    let mut msgs = Vec::new();
    let mut at = 0;
    let mut read = 1;
    while at < body.len() {
        let end = body.len().min(at + read);
        decoder.push(&body[at..end]);
        at = end;
        read = read * 7 % 1499 + 1;
        while let Some(m) = decoder
            .next_message()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
        {
            msgs.push(m);
        }
    }
    assert_eq!(decoder.bytes_received(), body.len() as u64);
    Some(Capture {
        msgs,
        left: decoder.buffered(),
        chunk_size: decoder.chunk_size(),
    })
}

fn count(msgs: &[RawMessage], type_id: MessageType) -> usize {
    msgs.iter().filter(|m| m.type_id == type_id).count()
}

/// Every protocol control message decodes; returns them in order.
fn controls(msgs: &[RawMessage]) -> Vec<ControlMessage> {
    msgs.iter()
        .filter(|m| m.type_id.is_protocol_control())
        .map(|m| {
            assert_eq!(
                (m.csid, m.stream_id),
                (2, 0),
                "control message off csid 2: {m:?}"
            );
            ControlMessage::decode(m.type_id, &m.payload)
                .unwrap_or_else(|e| panic!("control message {m:?}: {e}"))
        })
        .collect()
}

/// The command names of the AMF0 command messages, in order.
fn command_names(msgs: &[RawMessage]) -> Vec<String> {
    msgs.iter()
        .filter(|m| m.type_id == MessageType::CommandAmf0)
        .map(|m| {
            let values = amf0::decode(&m.payload).unwrap_or_else(|e| panic!("{m:?}: {e}"));
            values[0].as_str().expect("command name").to_owned()
        })
        .collect()
}

/// Per chunk stream and type, media timestamps never go backwards.
fn assert_media_monotonic(msgs: &[RawMessage]) {
    let mut last: BTreeMap<(u32, u8), u64> = BTreeMap::new();
    for m in msgs {
        if matches!(m.type_id, MessageType::Audio | MessageType::Video) {
            let prev = last.insert((m.csid, m.type_id.id()), m.timestamp);
            assert!(
                prev.unwrap_or(0) <= m.timestamp,
                "timestamp went back: {m:?}"
            );
        }
    }
}

#[test]
fn flash_player_client_stream() {
    let Some(c) = decode_capture("fq/client_stream") else {
        return;
    };
    assert_eq!(c.left, 0);
    assert_eq!(
        c.chunk_size, 128,
        "Flash Player never changes its chunk size here"
    );
    let names = command_names(&c.msgs);
    assert_eq!(names.first().map(String::as_str), Some("connect"));
    for seen in ["createStream", "play", "pause", "seek"] {
        assert!(names.iter().any(|n| n == seen), "{seen}: {names:?}");
    }
    assert_eq!(names.last().map(String::as_str), Some("deleteStream"));
    let controls = controls(&c.msgs);
    assert!(controls.contains(&ControlMessage::WindowAckSize(1_250_000)));
    // Acknowledgements count up.
    let acks: Vec<u32> = controls
        .iter()
        .filter_map(|m| match m {
            ControlMessage::Acknowledgement { sequence } => Some(*sequence),
            _ => None,
        })
        .collect();
    assert!(acks.len() > 10);
    assert!(acks.windows(2).all(|w| w[0] < w[1]), "{acks:?}");
}

#[test]
fn fms_server_stream_with_aggregates() {
    let Some(c) = decode_capture("fq/server_stream") else {
        return;
    };
    assert_eq!(c.left, 0, "the capture ends on a message boundary");
    assert_eq!(c.chunk_size, 4096, "FMS set 4096 in-band");
    let controls = controls(&c.msgs);
    assert!(controls.contains(&ControlMessage::SetChunkSize(4096)));
    let names = command_names(&c.msgs);
    assert_eq!(names.first().map(String::as_str), Some("_result"));
    assert!(names.iter().any(|n| n == "onStatus"), "{names:?}");
    assert_media_monotonic(&c.msgs);

    let aggregates: Vec<&RawMessage> = c
        .msgs
        .iter()
        .filter(|m| m.type_id == MessageType::Aggregate)
        .collect();
    assert!(aggregates.len() >= 5, "{} aggregates", aggregates.len());
    let mut subs_total = 0;
    for agg in aggregates {
        let subs = split_aggregate(agg).unwrap();
        assert!(!subs.is_empty());
        assert_eq!(subs[0].timestamp, agg.timestamp);
        let body: usize = subs.iter().map(|s| s.payload.len() + RECORD_OVERHEAD).sum();
        assert_eq!(body, agg.payload.len(), "records tile the aggregate");
        let range = agg.payload.as_ptr_range();
        for s in &subs {
            assert!(range.contains(&s.payload.as_ptr()) || s.payload.is_empty());
            assert_eq!((s.csid, s.stream_id), (agg.csid, agg.stream_id));
            match s.type_id {
                // Sorenson H.263 (codec 2), Nellymoser (codec 6), see PROVENANCE.md.
                MessageType::Video => assert_eq!(s.payload[0] & 0x0F, 2, "{s:?}"),
                MessageType::Audio => assert_eq!(s.payload[0] >> 4, 6, "{s:?}"),
                other => panic!("unexpected {other:?} in an aggregate"),
            }
        }
        assert_media_monotonic(&subs);
        subs_total += subs.len();
    }
    assert!(subs_total > 100, "{subs_total} sub-messages");
}

#[test]
fn ffmpeg_client_stream() {
    let Some(c) = decode_capture("fq/ffmpeg_client_stream") else {
        return;
    };
    assert_eq!(c.left, 0);
    let names = command_names(&c.msgs);
    assert_eq!(names.first().map(String::as_str), Some("connect"));
    assert!(names.iter().any(|n| n == "createStream"), "{names:?}");
    assert!(names.iter().any(|n| n == "play"), "{names:?}");
    assert!(controls(&c.msgs).contains(&ControlMessage::UserControl(
        rtmp_proto::control::UserControlEvent::SetBufferLength {
            stream_id: 1,
            buffer_ms: 3000
        }
    )));
}

#[test]
fn ffmpeg_server_stream_audio() {
    let Some(c) = decode_capture("fq/ffmpeg_server_stream") else {
        return;
    };
    // PROVENANCE.md: AAC-only sine audio, 410 audio messages, @setDataFrame/onMetaData.
    assert_eq!(count(&c.msgs, MessageType::Audio), 410);
    assert_eq!(count(&c.msgs, MessageType::Video), 0);
    for m in c.msgs.iter().filter(|m| m.type_id == MessageType::Audio) {
        assert_eq!(m.payload[0] >> 4, 10, "AAC: {m:?}");
        // `ffmpeg -listen` sends its media on message stream 0.
        assert_eq!((m.csid, m.stream_id), (4, 0), "{m:?}");
    }
    assert_media_monotonic(&c.msgs);
    let data = c
        .msgs
        .iter()
        .find(|m| m.type_id == MessageType::DataAmf0)
        .expect("metadata");
    let values = amf0::decode(&data.payload).unwrap();
    assert_eq!(values[0].as_str(), Some("@setDataFrame"));
    assert_eq!(values[1].as_str(), Some("onMetaData"));
    // The capture stops inside the next audio chunk (a 4-byte fmt 2 header).
    assert!(c.left < 128, "{} bytes left", c.left);
}
