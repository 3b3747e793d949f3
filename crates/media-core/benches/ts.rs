//! Payload throughput of the TS muxer alone and of the HLS segmenter
//! (FLV bodies → remux → cut → TS), on one core.
//!
//! Run: `cargo bench -p media-core --bench ts`
//!
//! The segmenter adds no copy of the media beyond TS packetization, so its
//! throughput should sit close to the bare muxer's; the ratio of the two,
//! measured back to back in the same run, is printed at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{Criterion, Throughput};
use media_core::hls::{HlsConfig, HlsSegmenter};
use media_core::remux::Remuxer;
use media_core::ts::{AudioCodec, EsFrame, TsMuxer, TsStreams, VideoCodec};
use media_core::{MediaFlags, MediaKind, MediaMessage};

/// An x264 High-profile 1280x720 SPS and its PPS.
const SPS: &str = "6764001facb200a00b760220000003002000000641e30649";
const PPS: &str = "68ebc3cb22c0";
/// Seconds of media per iteration.
const SECONDS: u64 = 10;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn msg(
    kind: MediaKind,
    timestamp: u64,
    keyframe: bool,
    seq: bool,
    payload: Vec<u8>,
) -> MediaMessage {
    MediaMessage {
        timestamp,
        kind,
        flags: MediaFlags {
            keyframe,
            sequence_header: seq,
        },
        payload: Bytes::from(payload),
    }
}

/// A 25 fps H.264 + 44.1 kHz AAC stream, ~4.7 Mbit/s: a 100 kB key frame
/// every 2 s, 20 kB otherwise, 370-byte audio frames, interleaved by time.
fn stream() -> (Vec<MediaMessage>, u64) {
    let (sps, pps) = (hex(SPS), hex(PPS));
    let mut avcc = vec![0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1F, 0xFF, 0xE1];
    avcc.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    avcc.extend_from_slice(&sps);
    avcc.push(1);
    avcc.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    avcc.extend_from_slice(&pps);
    let mut out = vec![
        msg(MediaKind::Video, 0, true, true, avcc),
        msg(MediaKind::Audio, 0, false, true, vec![0xAF, 0, 0x12, 0x10]),
    ];
    let mut media_bytes = 0u64;
    let mut timed = Vec::new();
    for i in 0..SECONDS * 25 {
        let key = i % 50 == 0;
        let size = if key { 100_000 } else { 20_000 };
        let mut b = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        b.extend_from_slice(&(size as u32).to_be_bytes());
        b.push(if key { 0x65 } else { 0x41 });
        b.extend((1..size).map(|k| (k * 31) as u8));
        media_bytes += size as u64;
        timed.push(msg(MediaKind::Video, i * 40, key, false, b));
    }
    for i in 0..SECONDS * 44_100 / 1024 {
        let mut b = vec![0xAF, 1];
        b.extend((0..370).map(|k| (k * 7) as u8));
        media_bytes += 370;
        timed.push(msg(
            MediaKind::Audio,
            i * 1024 * 1000 / 44_100,
            false,
            false,
            b,
        ));
    }
    timed.sort_by_key(|m| m.timestamp);
    out.extend(timed);
    (out, media_bytes)
}

/// The same stream already remuxed, for the bare muxer.
fn es_frames(msgs: &[MediaMessage]) -> Vec<EsFrame> {
    let mut r = Remuxer::new();
    msgs.iter().filter_map(|m| r.push(m).unwrap()).collect()
}

fn run_muxer(frames: &[EsFrame], out: &mut BytesMut) -> usize {
    let mut mux = TsMuxer::new(TsStreams {
        video: Some(VideoCodec::H264),
        audio: Some(AudioCodec::Aac),
    });
    out.clear();
    mux.write_psi(out);
    for f in frames {
        mux.write_frame(f, out).unwrap();
    }
    out.len()
}

fn run_segmenter(msgs: &[MediaMessage]) -> usize {
    let config = HlsConfig {
        fragment: Duration::from_secs(2),
        ..HlsConfig::default()
    };
    let mut seg = HlsSegmenter::new(config, "live", "bench");
    let mut written = 0;
    for m in msgs {
        seg.push(m, 0).unwrap();
        while let Some(a) = seg.poll_action() {
            if let media_core::hls::HlsAction::Append { bytes, .. } = a {
                written += bytes.len();
            }
        }
    }
    seg.on_unpublish();
    while let Some(a) = seg.poll_action() {
        if let media_core::hls::HlsAction::Append { bytes, .. } = a {
            written += bytes.len();
        }
    }
    written
}

fn main() {
    let (msgs, media_bytes) = stream();
    let frames = es_frames(&msgs);
    let mut out = BytesMut::with_capacity(8 << 20);
    out.put_u8(0);

    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    let mut g = c.benchmark_group("ts");
    g.throughput(Throughput::Bytes(media_bytes));
    g.bench_function("muxer", |b| {
        b.iter(|| black_box(run_muxer(&frames, &mut out)))
    });
    g.bench_function("segmenter", |b| b.iter(|| black_box(run_segmenter(&msgs))));
    g.finish();

    // Back-to-back timing of both paths in this same run, interleaved so
    // that frequency drift and neighbours on a shared machine affect them
    // alike; the median round of each is compared.
    let rounds = 60;
    let (mut t_mux, mut t_seg) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(run_muxer(&frames, &mut out));
        t_mux.push(t.elapsed());
        let t = Instant::now();
        black_box(run_segmenter(&msgs));
        t_seg.push(t.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (m_mux, m_seg) = (median(&mut t_mux), median(&mut t_seg));
    let gbps = |t: Duration| media_bytes as f64 / t.as_secs_f64() / 1e9;
    println!(
        "payload throughput (median of {rounds} interleaved rounds): muxer {:.2} GB/s, \
         segmenter {:.2} GB/s, segmenter/muxer = {:.2}",
        gbps(m_mux),
        gbps(m_seg),
        m_mux.as_secs_f64() / m_seg.as_secs_f64()
    );
    c.final_summary();
}
