//! E-RTMP v2 `ModEx` `TimestampOffsetNano` through the live path: the
//! jitter corrector, then the HLS (MPEG-TS) segmenter.
//!
//! The stream is 29.97 fps H.264 and 44.1 kHz AAC (1024 samples a frame),
//! whose exact times fall between milliseconds: each message carries its
//! millisecond timestamp rounded down and the rest as a nanosecond offset,
//! as the spec intends ("enhance RTMP timescale accuracy and compatibility
//! with formats like MP4, M2TS"). The encoder's clock restarts midway, which
//! the jitter corrector must smooth as for any stream. The same stream
//! without the offsets is the reference:
//! - the corrected millisecond timestamps are the same (the corrector only
//!   moves the millisecond timestamp; the offset stays relative to it);
//! - the playlist and every segment's duration are the same (cuts are made
//!   on millisecond timestamps);
//! - every PES's PTS and DTS is its corrected millisecond time at 90 kHz
//!   plus `floor(nanos * 90 / 1e6)` ticks, so the TS carries the exact
//!   times to the tick.

mod hls_support;
mod ts_support;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use hls_support::{Executor, PPS, SPS};
use media_core::hls::{HlsConfig, HlsSegmenter};
use media_core::jitter::{JitterMode, TimeJitter};
use media_core::{MediaKind, MediaMessage};
use ts_support::{read_transport_stream, temp_dir};

/// One published message: kind, input ms timestamp, nanosecond offset,
/// composition time (video), and whether it is a key frame.
#[derive(Debug, Clone, Copy)]
struct Planned {
    kind: MediaKind,
    ms: u64,
    nanos: u32,
    cts: i32,
    key: bool,
    header: bool,
}

/// The ModEx prefix for `nanos` after a first byte whose packet type is 7:
/// a 3-byte TimestampOffsetNano, then `packet_type`.
fn modex(nanos: u32, packet_type: u8) -> Vec<u8> {
    let [_, a, b, c] = nanos.to_be_bytes();
    vec![2, a, b, c, packet_type]
}

/// The E-RTMP body of `p`, with the ModEx prefix or without.
fn body(p: &Planned, with_modex: bool, n: usize) -> Vec<u8> {
    let packet_type: u8 = if p.header { 0 } else { 1 };
    let mut b = match p.kind {
        MediaKind::Video => {
            let frame_type: u8 = if p.key { 1 } else { 2 };
            let first = 0x80 | (frame_type << 4);
            if with_modex {
                let mut b = vec![first | 7];
                b.extend(modex(p.nanos, packet_type));
                b
            } else {
                vec![first | packet_type]
            }
        }
        _ => {
            if with_modex {
                let mut b = vec![0x97];
                b.extend(modex(p.nanos, packet_type));
                b
            } else {
                vec![0x90 | packet_type]
            }
        }
    };
    match (p.kind, p.header) {
        (MediaKind::Video, true) => {
            b.extend_from_slice(b"avc1");
            // AVCDecoderConfigurationRecord: the legacy header's body.
            let legacy = hls_support::avc_sequence_header(SPS, PPS);
            b.extend_from_slice(&legacy[5..]);
        }
        (MediaKind::Video, false) => {
            b.extend_from_slice(b"avc1");
            b.extend_from_slice(&p.cts.to_be_bytes()[1..]);
            let nal_type = if p.key { 0x65 } else { 0x41 };
            let nal: Vec<u8> = std::iter::once(nal_type)
                .chain((0..40).map(|k| (k + n) as u8))
                .collect();
            b.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            b.extend_from_slice(&nal);
        }
        (_, true) => {
            b.extend_from_slice(b"mp4a");
            b.extend_from_slice(&[0x12, 0x10]);
        }
        (_, false) => {
            b.extend_from_slice(b"mp4a");
            b.extend((0..20).map(|k| (k * 3 + n) as u8));
        }
    }
    b
}

/// 8 s of 30000/1001 fps video and 44.1 kHz AAC in time order, whose
/// encoder clock starts at 5 s and restarts at 0 after 4 s.
fn plan() -> Vec<Planned> {
    let mut out = vec![
        Planned {
            kind: MediaKind::Video,
            ms: 5000,
            nanos: 0,
            cts: 0,
            key: true,
            header: true,
        },
        Planned {
            kind: MediaKind::Audio,
            ms: 5000,
            nanos: 0,
            cts: 0,
            key: false,
            header: true,
        },
    ];
    // Exact times in ns since the start.
    let mut timed: Vec<(u64, MediaKind, usize)> = Vec::new();
    let end_ns = 8_000_000_000u64;
    let video = (0..).map(|n: u64| n * 1001 * 1_000_000_000 / 30_000);
    for (n, t) in video.take_while(|&t| t < end_ns).enumerate() {
        timed.push((t, MediaKind::Video, n));
    }
    let audio = (0..).map(|k: u64| k * 1024 * 1_000_000_000 / 44_100);
    for (k, t) in audio.take_while(|&t| t < end_ns).enumerate() {
        timed.push((t, MediaKind::Audio, k));
    }
    timed.sort_by_key(|&(t, kind, _)| (t, kind == MediaKind::Audio));
    for (t, kind, n) in timed {
        // The encoder's clock restarts at 0 four seconds in.
        let clock_ns = if t < 4_000_000_000 {
            t + 5_000_000_000
        } else {
            t - 4_000_000_000
        };
        out.push(Planned {
            kind,
            ms: clock_ns / 1_000_000,
            nanos: (clock_ns % 1_000_000) as u32,
            cts: if kind == MediaKind::Video && n % 3 == 1 {
                67
            } else {
                0
            },
            key: kind == MediaKind::Video && n % 30 == 0,
            header: false,
        });
    }
    out
}

struct Run {
    /// (kind, corrected ms) of every message, in order.
    corrected: Vec<(MediaKind, u64)>,
    /// Every closed segment: (seq, path, duration ms).
    closed: Vec<(u64, String, u64)>,
    playlists: Vec<String>,
    /// (pid, pts, dts) of every PES of every closed segment.
    pes: Vec<(u16, u64, u64)>,
}

fn run(with_modex: bool) -> Run {
    let dir = temp_dir(if with_modex { "modex" } else { "plain" });
    let mut seg = HlsSegmenter::new(
        HlsConfig {
            fragment: Duration::from_secs(2),
            window: Duration::from_secs(60),
            ..HlsConfig::default()
        },
        "live",
        "nano",
    );
    let mut exec = Executor::new(dir.clone());
    let mut jitter = TimeJitter::new(JitterMode::Full);
    let mut corrected = Vec::new();
    for (n, p) in plan().iter().enumerate() {
        let payload = Bytes::from(body(p, with_modex, n));
        let ts = jitter.correct(p.kind, p.ms);
        corrected.push((p.kind, ts));
        let msg = MediaMessage::new(p.kind, ts, payload.clone());
        assert_eq!(msg.payload, payload, "the payload is never rewritten");
        assert_eq!(
            (msg.flags.keyframe, msg.flags.sequence_header),
            (p.key && !p.header, p.header),
            "flags read through the ModEx prefix"
        );
        seg.push(&msg, 0).expect("segmenter takes the message");
        exec.run(&mut seg);
    }
    let mut pes = Vec::new();
    let mut cc = HashMap::new();
    for (_, path, _) in &exec.closed {
        let data = std::fs::read(dir.join(path)).unwrap();
        let report = read_transport_stream(&data, &mut cc);
        assert!(report.cc_errors.is_empty(), "{:?}", report.cc_errors);
        for p in report.pes {
            pes.push((p.pid, p.pts.unwrap(), p.dts.unwrap()));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        corrected,
        closed: exec.closed,
        playlists: exec.playlists_written,
        pes,
    }
}

#[test]
fn nanosecond_offsets_refine_ts_times_and_move_nothing_else() {
    let plain = run(false);
    let modex = run(true);

    // The jitter corrector: same output, the restart smoothed (monotonic,
    // no step back, starting at 0).
    assert_eq!(modex.corrected, plain.corrected);
    for kind in [MediaKind::Audio, MediaKind::Video] {
        let ts: Vec<u64> = modex
            .corrected
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|&(_, t)| t)
            .collect();
        assert_eq!(ts[0], 0);
        assert!(ts.windows(2).all(|w| w[0] <= w[1] && w[1] - w[0] < 50));
    }

    // The playlist and the segments' durations.
    assert!(modex.closed.len() >= 3, "{:?}", modex.closed);
    assert_eq!(modex.closed, plain.closed);
    assert_eq!(modex.playlists, plain.playlists);

    // Every PES: the millisecond time at 90 kHz plus the offset's ticks.
    let plan = plan();
    let mut nanos_at: HashMap<(MediaKind, u64), (u32, i32)> = HashMap::new();
    for (p, &(kind, ts)) in plan.iter().zip(&modex.corrected) {
        if !p.header {
            nanos_at.insert((kind, ts), (p.nanos, p.cts));
        }
    }
    let video_pid = modex.pes.iter().map(|p| p.0).min().unwrap();
    let mut refined = 0;
    for &(pid, pts, dts) in &modex.pes {
        let kind = if pid == video_pid {
            MediaKind::Video
        } else {
            MediaKind::Audio
        };
        let ms = dts / 90;
        let &(nanos, cts) = nanos_at
            .get(&(kind, ms))
            .unwrap_or_else(|| panic!("{kind:?} PES at {dts} ticks is no message's time"));
        let ticks = u64::from(nanos) * 90 / 1_000_000;
        assert_eq!(dts, ms * 90 + ticks, "{kind:?} DTS at {ms} ms, {nanos} ns");
        let cts_ticks = u64::try_from(cts).unwrap() * 90;
        assert_eq!(pts, dts + cts_ticks, "{kind:?} PTS at {ms} ms");
        refined += usize::from(ticks > 0);
    }
    assert!(refined > 100, "only {refined} PES carry an offset");
    // The reference stream has whole milliseconds only.
    assert!(plain.pes.iter().all(|&(_, _, dts)| dts % 90 == 0));
    assert_eq!(
        plain.pes.iter().filter(|p| p.0 == video_pid).count(),
        modex.pes.iter().filter(|p| p.0 == video_pid).count()
    );
}
