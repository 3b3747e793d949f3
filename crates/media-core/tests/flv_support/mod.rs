//! Shared by the FLV/codec integration tests: running ffmpeg/ffprobe and
//! collecting what they say, so our parsers are checked against a real tool.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use media_core::flv::{FlvReader, Tag};

/// True when both ffmpeg and ffprobe run; otherwise prints a NOTICE (CI
/// installs them, a developer machine may not have them).
pub fn have_ffmpeg(test: &str) -> bool {
    let ok = ["ffmpeg", "ffprobe"].iter().all(|tool| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        eprintln!("NOTICE: ffmpeg/ffprobe not found; skipping {test}");
    }
    ok
}

/// A fresh, empty directory under the system temp dir, unique per test run.
pub fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("media-core-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs ffmpeg with `-v error -y` and the given arguments; `Err(stderr)` if
/// it fails (an encoder this build lacks, say).
pub fn ffmpeg(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// What ffmpeg prints while decoding `file` completely (empty when clean),
/// and how many frames of the first stream it decoded.
pub fn decode_errors(file: &Path, format: Option<&str>) -> (String, usize) {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-v", "error"]);
    if let Some(f) = format {
        cmd.args(["-f", f]);
    }
    let out = cmd
        .arg("-i")
        .arg(file)
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg");
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("0,"))
        .count();
    (String::from_utf8_lossy(&out.stderr).into_owned(), frames)
}

/// ffprobe's view of every stream: `key=value` pairs per stream.
pub fn ffprobe_streams(file: &Path, format: Option<&str>) -> Vec<HashMap<String, String>> {
    let mut cmd = Command::new("ffprobe");
    cmd.args(["-v", "error"]);
    if let Some(f) = format {
        cmd.args(["-f", f]);
    }
    let out = cmd
        .args(["-show_streams", "-of", "default=nw=0"])
        .arg(file)
        .output()
        .expect("run ffprobe");
    assert!(out.status.success(), "ffprobe {}", file.display());
    let mut streams = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        match line {
            "[STREAM]" => streams.push(HashMap::new()),
            "[/STREAM]" => {}
            kv => {
                if let (Some(s), Some((k, v))) = (streams.last_mut(), kv.split_once('=')) {
                    s.insert(k.to_owned(), v.to_owned());
                }
            }
        }
    }
    streams
}

/// The stream of `codec_type` (video/audio), with its fields.
pub fn stream<'a>(
    streams: &'a [HashMap<String, String>],
    codec_type: &str,
) -> &'a HashMap<String, String> {
    streams
        .iter()
        .find(|s| s.get("codec_type").map(String::as_str) == Some(codec_type))
        .unwrap_or_else(|| panic!("no {codec_type} stream in {streams:?}"))
}

/// A numeric field of an ffprobe stream.
pub fn num(stream: &HashMap<String, String>, key: &str) -> u32 {
    stream
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {stream:?}"))
}

/// One video packet as ffprobe reports it (FLV time base: milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbePacket {
    /// `K` in the packet flags.
    pub key: bool,
    /// Presentation time.
    pub pts: i64,
    /// Decode time.
    pub dts: i64,
}

/// The first video stream's packets, in decode order.
pub fn ffprobe_video_packets(file: &Path) -> Vec<ProbePacket> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=flags,pts,dts",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ProbePacket {
                pts: f[0].parse().unwrap(),
                dts: f[1].parse().unwrap(),
                key: f[2].starts_with('K'),
            }
        })
        .collect()
}

/// Every tag of an FLV file; panics on a read error.
pub fn read_tags(data: impl Into<Bytes>) -> Vec<Tag> {
    FlvReader::new(data)
        .expect("FLV header")
        .map(|t| t.expect("FLV tag"))
        .collect()
}

/// Splits an Annex-B byte stream into NAL units (start codes removed,
/// trailing zero bytes of the next start code trimmed).
pub fn split_annexb(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::new();
    for (n, &s) in starts.iter().enumerate() {
        let mut end = starts.get(n + 1).map_or(data.len(), |next| next - 3);
        while end > s && data[end - 1] == 0 {
            end -= 1;
        }
        nals.push(&data[s..end]);
    }
    nals
}

/// Length-prefixes NAL units with `size`-byte big-endian lengths.
pub fn length_prefixed(nals: &[&[u8]], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for n in nals {
        out.extend_from_slice(&(n.len() as u32).to_be_bytes()[4 - size..]);
        out.extend_from_slice(n);
    }
    out
}

/// Groups H.264 NAL units (from [`split_annexb`]) into access units
/// (14496-10 7.4.1.2.3): a new one starts at an AUD, SPS, PPS or SEI, or at a
/// slice with `first_mb_in_slice == 0`, once the current one has a slice.
pub fn avc_access_units<'a>(nals: &[&'a [u8]]) -> Vec<Vec<&'a [u8]>> {
    group(nals, |n| {
        let t = n[0] & 0x1f;
        let vcl = (1..=5).contains(&t);
        let starts =
            matches!(t, 6..=9 | 14..=18) || (vcl && n.get(1).is_some_and(|b| b & 0x80 != 0));
        (vcl, starts)
    })
}

/// Groups H.265 NAL units into access units (H.265 7.4.2.4.4): a new one
/// starts at a VPS, SPS, PPS, AUD or prefix SEI, or at a slice with
/// `first_slice_segment_in_pic_flag`, once the current one has a slice.
pub fn hevc_access_units<'a>(nals: &[&'a [u8]]) -> Vec<Vec<&'a [u8]>> {
    group(nals, |n| {
        let t = (n[0] >> 1) & 0x3f;
        let vcl = t < 32;
        let starts = matches!(t, 32..=35 | 39 | 41..=44 | 48..=55)
            || (vcl && n.get(2).is_some_and(|b| b & 0x80 != 0));
        (vcl, starts)
    })
}

fn group<'a>(nals: &[&'a [u8]], kind: impl Fn(&[u8]) -> (bool, bool)) -> Vec<Vec<&'a [u8]>> {
    let mut units: Vec<Vec<&[u8]>> = Vec::new();
    let mut has_vcl = false;
    for &n in nals {
        let (vcl, starts) = kind(n);
        if units.is_empty() || (starts && has_vcl) {
            units.push(Vec::new());
            has_vcl = false;
        }
        has_vcl |= vcl;
        units.last_mut().unwrap().push(n);
    }
    units
}
