//! Shared by the `scenario_*` tests: a server on the simulated host, synthetic
//! media with real codec headers, and a small MPEG-TS timestamp reader.
#![allow(dead_code)]

pub mod heap;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rtmp_proto::message::{MessageType, RawMessage};
use server_core::{Config, ListenerKind, Server};
use sim::runtime::SimRuntime;
use sim::Sim;

/// The server's simulated address.
pub const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// Starts the real server on 10.0.0.1 with the default config, or with
/// `vhost_body` as the default vhost's directives (and room for 5,000
/// connections).
pub fn start(sim: &Sim, vhost_body: Option<&str>) -> (Arc<Server>, SocketAddr) {
    let config = match vhost_body {
        None => Config::default(),
        Some(body) => server_core::config::parse_str(
            "scenario.conf",
            // Room for the 1,000-player run (the default limit is 1,000).
            &format!(
                "listen 1935;\nmax_connections 5000;\nvhost __defaultVhost__ {{\n{body}\n}}\n"
            ),
        )
        .expect("scenario config parses"),
    };
    let server = Server::start(SimRuntime::new(sim.host(SERVER)), config).expect("server starts");
    let rtmp = server.addrs(ListenerKind::Rtmp)[0];
    (Arc::new(server), rtmp)
}

/// H.264 baseline 160x120 AVCDecoderConfigurationRecord (from an x264
/// encode), as an FLV video tag body: key frame, AVC, sequence header.
pub const AVC_SEQUENCE_HEADER: &[u8] = &[
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x42, 0xd0, 0x0b, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xd0,
    0x0b, 0xda, 0x0a, 0x11, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00,
    0x1e, 0x8f, 0x12, 0x26, 0xa0, 0x01, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80,
];

/// AAC LC 22.05 kHz mono AudioSpecificConfig, as an FLV audio tag body.
pub const AAC_SEQUENCE_HEADER: &[u8] = &[0xaf, 0x00, 0x13, 0x88];

/// How synthetic media looks.
#[derive(Debug, Clone, Copy)]
pub struct Synthetic {
    /// Video frames per second.
    pub fps: u64,
    /// A key frame every this many frames.
    pub gop: u64,
    /// Audio frames per second (0: no audio).
    pub audio_per_sec: u64,
    /// Bytes of each video frame's NAL unit.
    pub video_bytes: usize,
    /// Timestamp of the first message, ms.
    pub start_ms: u64,
}

impl Default for Synthetic {
    fn default() -> Self {
        Self {
            fps: 25,
            gop: 50,
            audio_per_sec: 20,
            video_bytes: 120,
            start_ms: 0,
        }
    }
}

fn message(type_id: MessageType, timestamp: u64, payload: Vec<u8>) -> RawMessage {
    RawMessage {
        csid: 0,
        timestamp,
        type_id,
        stream_id: 0,
        payload: Bytes::from(payload),
    }
}

/// One video frame: AVCC, one NAL unit (IDR or non-IDR slice) whose bytes
/// carry the frame number, so every frame's digest differs.
fn video_frame(n: u64, key: bool, len: usize) -> Vec<u8> {
    let mut p = vec![if key { 0x17 } else { 0x27 }, 0x01, 0, 0, 0];
    let nal_len = len.max(9) as u32;
    p.extend_from_slice(&nal_len.to_be_bytes());
    p.push(if key { 0x65 } else { 0x41 });
    p.extend_from_slice(&n.to_be_bytes());
    p.resize(p.len() + nal_len as usize - 9, (n % 251) as u8);
    p
}

impl Synthetic {
    /// Sequence headers, then `duration` of frames, timestamps from `start_ms`.
    pub fn messages(&self, duration: Duration) -> Vec<RawMessage> {
        let mut out = vec![message(
            MessageType::Video,
            self.start_ms,
            AVC_SEQUENCE_HEADER.to_vec(),
        )];
        if self.audio_per_sec > 0 {
            out.push(message(
                MessageType::Audio,
                self.start_ms,
                AAC_SEQUENCE_HEADER.to_vec(),
            ));
        }
        out.extend(self.frames(Duration::ZERO, duration));
        out
    }

    /// Frames only (no headers), for media time `from..from + duration`
    /// (relative to `start_ms`), interleaved in timestamp order.
    pub fn frames(&self, from: Duration, duration: Duration) -> Vec<RawMessage> {
        let from_ms = from.as_millis() as u64;
        let end_ms = from_ms + duration.as_millis() as u64;
        let mut out = Vec::new();
        let mut v = from_ms * self.fps / 1000;
        let mut a = if self.audio_per_sec > 0 {
            from_ms * self.audio_per_sec / 1000
        } else {
            u64::MAX
        };
        loop {
            let vt = v * 1000 / self.fps;
            let at = a
                .saturating_mul(1000)
                .checked_div(self.audio_per_sec)
                .unwrap_or(u64::MAX);
            let t = vt.min(at);
            if t >= end_ms {
                break;
            }
            if vt <= at {
                let key = (v / self.gop) * self.gop == v;
                out.push(message(
                    MessageType::Video,
                    self.start_ms + vt,
                    video_frame(v, key, self.video_bytes),
                ));
                v += 1;
            } else {
                let mut p = vec![0xaf, 0x01];
                p.extend_from_slice(&a.to_be_bytes());
                p.extend_from_slice(&[0x21, 0x10, 0x04]);
                out.push(message(MessageType::Audio, self.start_ms + at, p));
                a += 1;
            }
        }
        out
    }
}

/// One elementary stream's timestamps in a TS segment: (PTS, DTS) of each PES.
#[derive(Debug, Default, Clone)]
pub struct PesTimes {
    /// PES stream id (0xE0 video, 0xC0 audio).
    pub stream_id: u8,
    /// (PTS, DTS) at 90 kHz; DTS = PTS when absent.
    pub times: Vec<(u64, u64)>,
}

fn ts90(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1) & 7) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1)
}

/// PES timestamps per PID of an MPEG-TS segment (ISO 13818-1 2.4.3.7).
pub fn pes_times(ts: &[u8]) -> std::collections::BTreeMap<u16, PesTimes> {
    assert_eq!(ts.len() % 188, 0, "whole TS packets");
    let mut out = std::collections::BTreeMap::<u16, PesTimes>::new();
    for p in ts.chunks_exact(188) {
        assert_eq!(p[0], 0x47, "sync byte");
        let pusi = p[1] & 0x40 != 0;
        let pid = u16::from(p[1] & 0x1f) << 8 | u16::from(p[2]);
        let mut i = 4;
        if p[3] & 0x20 != 0 {
            i += 1 + usize::from(p[4]);
        }
        if !pusi || p[3] & 0x10 == 0 || p.get(i..i + 3) != Some(&[0, 0, 1][..]) {
            continue;
        }
        let stream_id = p[i + 3];
        let flags = p[i + 7] >> 6;
        let h = i + 9;
        let (pts, dts) = match flags {
            0b10 => {
                let t = ts90(&p[h..h + 5]);
                (t, t)
            }
            0b11 => (ts90(&p[h..h + 5]), ts90(&p[h + 5..h + 10])),
            _ => continue,
        };
        let e = out.entry(pid).or_default();
        e.stream_id = stream_id;
        e.times.push((pts, dts));
    }
    out
}

/// True when `b` follows `a` on the 33-bit 90 kHz clock (a wrap counts as forward).
pub fn ts_forward(a: u64, b: u64) -> bool {
    (b.wrapping_sub(a) & ((1 << 33) - 1)) < (1 << 32)
}

/// Segments of `playlist` (its URIs, in order) read from the simulated fs.
pub fn segments(sim: &Sim, playlist: &str) -> Vec<(String, Bytes)> {
    let dir = std::path::Path::new(playlist)
        .parent()
        .unwrap()
        .to_path_buf();
    let text = String::from_utf8(sim.fs().read(playlist).expect("playlist").to_vec()).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|uri| {
            let data = sim
                .fs()
                .read(dir.join(uri))
                .unwrap_or_else(|| panic!("segment {uri} of {playlist}"));
            (uri.to_owned(), data)
        })
        .collect()
}

/// Millisecond shorthand.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Second shorthand.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
