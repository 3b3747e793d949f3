//! Properties of the TS muxer under arbitrary frames: packets are always 188
//! bytes with a sync byte, continuity counters never skip (across segments
//! too), PTS never precedes DTS, and every payload byte comes back.

mod ts_support;

use std::collections::HashMap;

use bytes::BytesMut;
use media_core::ts::{
    AudioCodec, EsFrame, EsPayload, Track, TsMuxer, TsStreams, VideoCodec, PID_AUDIO, PID_VIDEO,
    TIMESTAMP_MASK,
};
use proptest::prelude::*;
use ts_support::read_transport_stream;

#[derive(Debug, Clone)]
struct Input {
    video: bool,
    audio: bool,
    /// Each frame: (audio?, size, dts, composition offset, key, pieces).
    frames: Vec<(bool, usize, u64, i64, bool, usize)>,
    /// Write PAT/PMT (a new segment) before frame i when i % every == 0.
    psi_every: usize,
}

fn input() -> impl Strategy<Value = Input> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(
            (
                any::<bool>(),
                prop_oneof![
                    0usize..400,
                    0usize..20_000,
                    Just(65_536),
                    Just(183),
                    Just(184)
                ],
                prop_oneof![any::<u64>(), 0u64..1_000_000, Just(TIMESTAMP_MASK)],
                -10_000i64..10_000,
                any::<bool>(),
                1usize..5,
            ),
            0..40,
        ),
        1usize..10,
    )
        .prop_map(|(video, audio, frames, psi_every)| Input {
            video,
            audio: audio || !video,
            frames,
            psi_every,
        })
}

/// Splits `data` into `pieces` chunks to exercise the gather path.
fn payload(data: Vec<u8>, pieces: usize) -> EsPayload {
    let mut p = EsPayload::new();
    let step = data.len() / pieces + 1;
    for c in data.chunks(step) {
        p.push(bytes::Bytes::copy_from_slice(c));
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn packets_counters_and_timestamps(inp in input()) {
        let streams = TsStreams {
            video: inp.video.then_some(VideoCodec::H264),
            audio: inp.audio.then_some(AudioCodec::Aac),
        };
        let mut mux = TsMuxer::new(streams);
        let mut cc_state = HashMap::new();
        let mut written: HashMap<u16, Vec<u8>> = HashMap::new();
        let mut segment = BytesMut::new();
        let mut segments = Vec::new();
        for (i, &(audio, size, dts, cto, key, pieces)) in inp.frames.iter().enumerate() {
            if i % inp.psi_every == 0 {
                if !segment.is_empty() {
                    segments.push(segment.split().freeze());
                }
                mux.write_psi(&mut segment);
            }
            let track = if audio { Track::Audio } else { Track::Video };
            let data: Vec<u8> = (0..size).map(|b| (b * 7 + i) as u8).collect();
            let pts = dts.checked_add_signed(cto).unwrap_or(dts);
            let frame = EsFrame { track, pts, dts, keyframe: key, data: payload(data.clone(), pieces) };
            let res = mux.write_frame(&frame, &mut segment);
            let in_program = if audio { inp.audio } else { inp.video };
            prop_assert_eq!(res.is_ok(), in_program);
            if in_program {
                let pid = if audio { PID_AUDIO } else { PID_VIDEO };
                written.entry(pid).or_default().extend_from_slice(&data);
            }
        }
        segments.push(segment.freeze());

        let mut read: HashMap<u16, Vec<u8>> = HashMap::new();
        for seg in &segments {
            prop_assert_eq!(seg.len() % 188, 0);
            for pkt in seg.chunks(188) {
                prop_assert_eq!(pkt[0], 0x47);
            }
            let report = read_transport_stream(seg, &mut cc_state);
            prop_assert!(report.cc_errors.is_empty(), "counter skipped: {:?}", report.cc_errors);
            for p in report.pes {
                let (pts, dts) = (p.pts.unwrap(), p.dts.unwrap());
                // PTS >= DTS on the 33-bit circle.
                prop_assert!(pts.wrapping_sub(dts) & TIMESTAMP_MASK < 1 << 32, "pts {} dts {}", pts, dts);
                read.entry(p.pid).or_default().extend_from_slice(&p.payload);
            }
        }
        for pid in [PID_VIDEO, PID_AUDIO] {
            prop_assert_eq!(read.get(&pid), written.get(&pid));
        }
    }
}
