//! Shared by the TS and HLS integration tests: running ffmpeg/ffprobe and a
//! strict transport stream reader for checks.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// True when ffmpeg and ffprobe are on PATH; otherwise prints a NOTICE.
pub fn have_ffmpeg() -> bool {
    let ok = ["ffmpeg", "ffprobe"].iter().all(|tool| {
        Command::new(tool)
            .arg("-version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    });
    if !ok {
        eprintln!("NOTICE: ffmpeg/ffprobe not found; skipping the check against real tools");
    }
    ok
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "media-core-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs ffmpeg with `args` in `dir`, panicking on failure.
pub fn ffmpeg(dir: &Path, args: &[&str]) {
    let out = Command::new("ffmpeg")
        .current_dir(dir)
        .args(["-hide_banner", "-nostdin", "-y", "-v", "error"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ffmpeg -v error -i INPUT -f null -` and returns what it printed (should be nothing).
pub fn ffmpeg_errors(input: &Path, extra_input_args: &[&str]) -> String {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error"])
        .args(extra_input_args)
        .arg("-i")
        .arg(input)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        s.push_str(&format!("\n(exit status {})", out.status));
    }
    s
}

/// One stream as ffprobe describes it.
#[derive(Debug, Clone, Default)]
pub struct ProbedStream {
    pub codec_type: String,
    pub codec_name: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sample_rate: Option<u32>,
    pub duration: Option<f64>,
}

/// ffprobe's view of every stream in `file`.
pub fn probe_streams(file: &Path) -> Vec<ProbedStream> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,width,height,sample_rate,duration",
            "-of",
            "default=nw=0:nk=0",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffprobe failed on {}", file.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut streams = Vec::new();
    let mut cur = ProbedStream::default();
    // Transport streams list their streams twice: once per program.
    let mut in_program = false;
    for line in text.lines() {
        match line {
            "[PROGRAM]" => in_program = true,
            "[/PROGRAM]" => in_program = false,
            "[STREAM]" => cur = ProbedStream::default(),
            "[/STREAM]" if !in_program => streams.push(std::mem::take(&mut cur)),
            _ => {
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                match k {
                    "codec_type" => cur.codec_type = v.to_owned(),
                    "codec_name" => cur.codec_name = v.to_owned(),
                    "width" => cur.width = v.parse().ok(),
                    "height" => cur.height = v.parse().ok(),
                    "sample_rate" => cur.sample_rate = v.parse().ok(),
                    "duration" => cur.duration = v.parse().ok(),
                    _ => {}
                }
            }
        }
    }
    streams
}

/// One PES as read back from a transport stream.
#[derive(Debug, Clone)]
pub struct Pes {
    pub pid: u16,
    pub pts: Option<u64>,
    pub dts: Option<u64>,
    pub random_access: bool,
    pub pcr: Option<u64>,
    pub payload: Vec<u8>,
}

/// What a strict reader finds in a transport stream.
#[derive(Debug, Default)]
pub struct TsReport {
    pub packets: usize,
    pub pes: Vec<Pes>,
    /// (pid, expected cc, found cc) for each counter skip.
    pub cc_errors: Vec<(u16, u8, u8)>,
    pub psi_packets: usize,
}

fn read_ts(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1) & 7) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1)
}

/// Parses `data` as 188-byte packets, checking sync bytes and continuity
/// counters against `cc_state` (carried across calls, as across segments).
pub fn read_transport_stream(data: &[u8], cc_state: &mut HashMap<u16, u8>) -> TsReport {
    assert_eq!(data.len() % 188, 0, "whole packets");
    let mut report = TsReport::default();
    let mut open: HashMap<u16, Pes> = HashMap::new();
    let finish = |p: Pes, report: &mut TsReport| {
        report.pes.push(p);
    };
    for pkt in data.chunks(188) {
        report.packets += 1;
        assert_eq!(pkt[0], 0x47, "sync byte");
        let pusi = pkt[1] & 0x40 != 0;
        let pid = u16::from_be_bytes([pkt[1] & 0x1F, pkt[2]]);
        let afc = (pkt[3] >> 4) & 3;
        let cc = pkt[3] & 0x0F;
        if afc & 1 == 1 {
            if let Some(prev) = cc_state.insert(pid, cc) {
                let want = (prev + 1) & 0x0F;
                if want != cc {
                    report.cc_errors.push((pid, want, cc));
                }
            }
        }
        let mut at = 4;
        let mut random_access = false;
        let mut pcr = None;
        if afc & 2 == 2 {
            let len = usize::from(pkt[4]);
            assert!(len <= 183, "adaptation field length");
            if len > 0 {
                let flags = pkt[5];
                random_access = flags & 0x40 != 0;
                if flags & 0x10 != 0 {
                    let b = &pkt[6..12];
                    pcr = Some(
                        u64::from(b[0]) << 25
                            | u64::from(b[1]) << 17
                            | u64::from(b[2]) << 9
                            | u64::from(b[3]) << 1
                            | u64::from(b[4] >> 7),
                    );
                }
                // Stuffing must be 0xFF.
                let fields = 1 + if flags & 0x10 != 0 { 6 } else { 0 };
                assert!(
                    pkt[5 + fields..5 + len].iter().all(|&x| x == 0xFF),
                    "stuffing"
                );
            }
            at = 5 + len;
        }
        if afc & 1 == 0 {
            continue;
        }
        let body = &pkt[at..];
        if pid == 0 || pid == 0x1000 {
            report.psi_packets += 1;
            continue;
        }
        if pusi {
            if let Some(p) = open.remove(&pid) {
                finish(p, &mut report);
            }
            assert_eq!(&body[..3], &[0, 0, 1], "PES start code");
            let flags = body[7];
            let hlen = usize::from(body[8]);
            let pts = (flags & 0x80 != 0).then(|| read_ts(&body[9..14]));
            let dts = if flags & 0x40 != 0 {
                Some(read_ts(&body[14..19]))
            } else {
                pts
            };
            open.insert(
                pid,
                Pes {
                    pid,
                    pts,
                    dts,
                    random_access,
                    pcr,
                    payload: body[9 + hlen..].to_vec(),
                },
            );
        } else if let Some(p) = open.get_mut(&pid) {
            p.payload.extend_from_slice(body);
        }
    }
    let mut rest: Vec<Pes> = open.into_values().collect();
    rest.sort_by_key(|p| p.pid);
    for p in rest {
        finish(p, &mut report);
    }
    report
}

/// Packets ffprobe reads per stream, as (codec_type, count).
pub fn count_packets(file: &Path) -> Vec<(String, u64)> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_packets",
            "-show_entries",
            "stream=codec_type,nb_read_packets",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (t, n) = l.split_once(',')?;
            Some((t.to_owned(), n.trim().parse().ok()?))
        })
        .collect()
}

/// Splits an Annex-B byte stream into NAL units (without start codes).
pub fn nal_units(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut e = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
        while e > s && data[e - 1] == 0 {
            e -= 1;
        }
        out.push(&data[s..e]);
    }
    out
}

/// Splits an ADTS stream into frames.
pub fn adts_frames(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 7 <= data.len() {
        let h = &data[at..];
        assert_eq!(h[0], 0xFF, "ADTS sync");
        let len = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        out.push(&data[at..at + len]);
        at += len;
    }
    out
}
