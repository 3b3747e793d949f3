#![no_main]
//! Arbitrary frames through the TS muxer: sizes, timestamps, tracks and
//! flags all come from the input. Every output packet must be 188 bytes and
//! start with the sync byte, whatever the frames.
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use media_core::ts::{
    AudioCodec, EsFrame, EsPayload, Track, TsMuxer, TsStreams, VideoCodec, SYNC_BYTE,
    TS_PACKET_SIZE,
};

/// Largest frame a fuzz input asks for (keeps each run fast).
const MAX_FRAME: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let streams = TsStreams {
        video: match first & 3 {
            0 => None,
            1 => Some(VideoCodec::Hevc),
            _ => Some(VideoCodec::H264),
        },
        audio: match (first >> 2) & 3 {
            0 => None,
            1 => Some(AudioCodec::Mp3),
            2 => Some(AudioCodec::Mp3Lsf),
            _ => Some(AudioCodec::Aac),
        },
    };
    let mut mux = TsMuxer::new(streams);
    let mut out = BytesMut::new();
    mux.write_psi(&mut out);
    // Each frame: 1 flag byte, 2 size bytes, 8 dts bytes, 4 cts bytes, then
    // up to `size` payload bytes taken from the input (cycled if short).
    while rest.len() >= 15 {
        let (head, tail) = rest.split_at(15);
        rest = tail;
        let flags = head[0];
        let size = usize::from(u16::from_be_bytes([head[1], head[2]])) * 4 % MAX_FRAME;
        let dts = u64::from_be_bytes(head[3..11].try_into().unwrap_or_default());
        let cts = i32::from_be_bytes(head[11..15].try_into().unwrap_or_default());
        let pts = dts.wrapping_add_signed(i64::from(cts));
        let take = size.min(rest.len());
        let (body, tail) = rest.split_at(take);
        rest = tail;
        let mut payload = EsPayload::new();
        let pieces = usize::from(flags >> 4).max(1);
        let mut chunk: Vec<u8> = body.iter().copied().cycle().take(size).collect();
        if chunk.is_empty() && size > 0 {
            chunk = vec![0; size];
        }
        let step = chunk.len() / pieces + 1;
        for c in chunk.chunks(step) {
            payload.push(Bytes::copy_from_slice(c));
        }
        let frame = EsFrame {
            track: if flags & 1 == 0 {
                Track::Video
            } else {
                Track::Audio
            },
            pts,
            dts,
            keyframe: flags & 2 != 0,
            data: payload,
        };
        if flags & 4 != 0 {
            mux.write_psi(&mut out);
        }
        let _ = mux.write_frame(&frame, &mut out);
    }
    assert_eq!(out.len() % TS_PACKET_SIZE, 0);
    for pkt in out.chunks(TS_PACKET_SIZE) {
        assert_eq!(pkt[0], SYNC_BYTE);
    }
});
