//! SRS's protocol unit test vectors (srs_utest_protocol.cpp, see
//! PROVENANCE.md) decode to the messages SRS's own tests expect, and the
//! single-message vectors re-encode to the same bytes.
//!
//! Expectations come from the bytes and the test names: the `ProtocolRecv*`
//! vectors are chunked messages a client sends (fmt 0-3 headers, 1/2/3-byte
//! chunk stream ids, interleaved audio/video), the `ProtocolSend*` vectors are
//! SRS's serialized replies.

mod common;

use bytes::Bytes;
use rtmp_proto::amf0;
use rtmp_proto::chunk::{encode_shared, ChunkDecoder, ChunkEncoder, Limits};
use rtmp_proto::control::{BandwidthLimit, ControlMessage, UserControlEvent};
use rtmp_proto::{MessageType, RawMessage};

fn vector(test: &str, file: &str) -> Option<Vec<u8>> {
    common::corpus_file(&format!(
        "srs_utest/srs_utest_protocol__ProtocolStackTest.{test}__{file}.bin"
    ))
}

/// Decodes every message of `bytes` at the default chunk size.
fn decode(bytes: &[u8]) -> Vec<RawMessage> {
    let mut d = ChunkDecoder::new(Limits::default());
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(m) = d.next_message().unwrap() {
        out.push(m);
    }
    assert_eq!(d.buffered(), 0, "bytes left over");
    out
}

fn command_name(m: &RawMessage) -> String {
    let values = amf0::decode(&m.payload).unwrap();
    values[0].as_str().unwrap().to_owned()
}

#[test]
fn recv_connect_message() {
    let Some(bytes) = vector("ProtocolRecvMessage", "data") else {
        return;
    };
    let msgs = decode(&bytes);
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!((m.csid, m.timestamp, m.stream_id), (3, 0, 0));
    assert_eq!(m.type_id, MessageType::CommandAmf0);
    assert_eq!(m.payload.len(), 0x1A1);
    assert_eq!(command_name(m), "connect");
    assert_eq!(ChunkEncoder::new().encode_to_vec(m), bytes);
}

/// Video (csid 3), audio (csid 4), then a second video message whose first
/// chunk has a fmt 1, 2 or 3 header; chunks interleaved on the wire.
#[test]
fn recv_interleaved_audio_video() {
    // (test, timestamp of the second video message)
    // fmt 1 and 2 carry delta 0x12; fmt 3 reuses the fmt 0 "delta" 0x10.
    for (test, second_ts) in [
        ("ProtocolRecvVAVFmt1", 0x22),
        ("ProtocolRecvVAVFmt2", 0x22),
        ("ProtocolRecvVAVFmt3", 0x20),
    ] {
        let mut bytes = Vec::new();
        for file in [
            "data", "data_2", "data_3", "data_4", "data_5", "data_6", "data_7", "data_8",
        ] {
            let Some(part) = vector(test, file) else {
                return;
            };
            bytes.extend(part);
        }
        let msgs = decode(&bytes);
        let got: Vec<(MessageType, u32, u64, u32, usize)> = msgs
            .iter()
            .map(|m| (m.type_id, m.csid, m.timestamp, m.stream_id, m.payload.len()))
            .collect();
        assert_eq!(
            got,
            [
                (MessageType::Video, 3, 0x10, 1, 272),
                (MessageType::Audio, 4, 0x15, 1, 144),
                (MessageType::Video, 3, second_ts, 1, 272),
            ],
            "{test}"
        );
        // Both video messages carry the same bytes (the connect command's start).
        assert_eq!(msgs[0].payload, msgs[2].payload, "{test}");
        assert_eq!(&msgs[1].payload[..128], &msgs[0].payload[..128], "{test}");
    }
}

/// One 272-byte video message on the chunk stream id the test name encodes.
#[test]
fn recv_chunk_stream_id_forms() {
    for (test, csid) in [
        ("ProtocolRecvVCid1BMax", 63),
        ("ProtocolRecvVCid1BNormal", 9),
        ("ProtocolRecvVCid2BMin", 64),
        ("ProtocolRecvVCid2BNormal", 64 + 0x10),
        ("ProtocolRecvVCid2BNormal2", 64 + 0x11),
        ("ProtocolRecvVCid2BMax", 64 + 255),
        ("ProtocolRecvVCid3BMin", 64),
        ("ProtocolRecvVCid3BNormal", 64 + 0x10 * 256),
        ("ProtocolRecvVCid3BNormal2", 64 + 0x01 + 0x10 * 256),
        ("ProtocolRecvVCid3BNormal3", 64 + 0xFF + 0x10 * 256),
        ("ProtocolRecvVCid3BNormal4", 64 + 0x02 + 0x10 * 256),
        ("ProtocolRecvVCid3BMax", 65599),
        ("ProtocolRecvVMessage2Trunk", 3),
    ] {
        let Some(bytes) = vector(test, "data") else {
            return;
        };
        let msgs = decode(&bytes);
        assert_eq!(msgs.len(), 1, "{test}");
        let m = &msgs[0];
        assert_eq!(m.csid, csid, "{test}");
        assert_eq!(
            (m.type_id, m.timestamp, m.stream_id),
            (MessageType::Video, 0, 0),
            "{test}"
        );
        assert_eq!(m.payload.len(), 272, "{test}");
        // "3BMin" spells csid 64 in the 3-byte form; the encoder picks the
        // shortest form, so only vectors already in it re-encode identically.
        if test != "ProtocolRecvVCid3BMin" {
            assert_eq!(ChunkEncoder::new().encode_to_vec(m), bytes, "{test}");
        }
    }
}

#[test]
fn send_control_replies() {
    let cases = [
        (
            "ProtocolSendSrsAcknowledgementPacket",
            ControlMessage::Acknowledgement { sequence: 1024 },
        ),
        (
            "ProtocolSendSrsSetChunkSizePacket",
            ControlMessage::SetChunkSize(1024),
        ),
        (
            "ProtocolSendSrsSetPeerBandwidthPacket",
            ControlMessage::SetPeerBandwidth {
                size: 1024,
                limit: BandwidthLimit::Soft,
            },
        ),
        (
            "ProtocolSendSrsSetWindowAckSizePacket",
            ControlMessage::WindowAckSize(102_400),
        ),
        (
            "ProtocolSendSrsUserControlPacket",
            ControlMessage::UserControl(UserControlEvent::SetBufferLength {
                stream_id: 1,
                buffer_ms: 0x10,
            }),
        ),
    ];
    for (test, expected) in cases {
        let Some(bytes) = vector(test, "buf") else {
            return;
        };
        let mut d = ChunkDecoder::new(Limits::default());
        d.push(&bytes);
        let m = d.next_message().unwrap().unwrap();
        assert_eq!((m.csid, m.timestamp, m.stream_id), (2, 0, 0), "{test}");
        assert_eq!(
            ControlMessage::decode(m.type_id, &m.payload).unwrap(),
            expected,
            "{test}"
        );
        if let ControlMessage::SetChunkSize(size) = expected {
            assert_eq!(d.chunk_size(), size, "applied by the decoder");
        }
        // Our serialization of the same control message is byte-identical.
        assert_eq!(
            ChunkEncoder::new().encode_to_vec(&expected.to_message()),
            bytes,
            "{test}"
        );
    }
}

#[test]
fn send_command_and_data_replies() {
    let cases = [
        (
            "ProtocolSendSrsCallPacket",
            3,
            MessageType::CommandAmf0,
            "my_call",
        ),
        (
            "ProtocolSendSrsCallResPacket",
            3,
            MessageType::CommandAmf0,
            "_result",
        ),
        (
            "ProtocolSendSrsCreateStreamPacket",
            3,
            MessageType::CommandAmf0,
            "createStream",
        ),
        (
            "ProtocolSendSrsFMLEStartPacket",
            3,
            MessageType::CommandAmf0,
            "FMLEStart",
        ),
        (
            "ProtocolSendSrsFMLEStartResPacket",
            3,
            MessageType::CommandAmf0,
            "FMLEStart",
        ),
        (
            "ProtocolSendSrsOnBWDonePacket",
            3,
            MessageType::CommandAmf0,
            "onBWDone",
        ),
        (
            "ProtocolSendSrsOnMetaDataPacket",
            4,
            MessageType::DataAmf0,
            "onMetaData",
        ),
        (
            "ProtocolSendSrsOnStatusCallPacket",
            5,
            MessageType::CommandAmf0,
            "onStatus",
        ),
        (
            "ProtocolSendSrsOnStatusDataPacket",
            5,
            MessageType::DataAmf0,
            "onData",
        ),
        (
            "ProtocolSendSrsPlayResPacket",
            5,
            MessageType::CommandAmf0,
            "_result",
        ),
        (
            "ProtocolSendSrsPublishPacket",
            5,
            MessageType::CommandAmf0,
            "publish",
        ),
        (
            "ProtocolSendSrsSampleAccessPacket",
            5,
            MessageType::DataAmf0,
            "|RtmpSampleAccess",
        ),
    ];
    for (test, csid, type_id, name) in cases {
        let Some(bytes) = vector(test, "buf") else {
            return;
        };
        let msgs = decode(&bytes);
        assert_eq!(msgs.len(), 1, "{test}");
        let m = &msgs[0];
        assert_eq!(
            (m.csid, m.type_id, m.timestamp, m.stream_id),
            (csid, type_id, 0, 0),
            "{test}"
        );
        assert_eq!(m.payload.len() + 12, bytes.len(), "{test}: one chunk");
        assert_eq!(command_name(m), name, "{test}");
        assert_eq!(encode_shared(128, m).to_vec(), bytes, "{test}");
    }
}

#[test]
fn recv_vectors_split_at_every_byte() {
    let Some(bytes) = vector("ProtocolRecvMessage", "data") else {
        return;
    };
    let whole = decode(&bytes);
    for split in 0..bytes.len() {
        let mut d = ChunkDecoder::new(Limits::default());
        d.push(&bytes[..split]);
        assert_eq!(d.next_message().unwrap(), None, "split {split}");
        d.push(&bytes[split..]);
        let m = d.next_message().unwrap().unwrap();
        assert_eq!(m, whole[0]);
        assert_eq!(m.payload, Bytes::copy_from_slice(&whole[0].payload));
    }
}
