//! The HLS output a replay left in the simulated file system: playlists as
//! text, segments as sizes, SHA-256 digests and PTS ranges.

use std::fmt::Write as _;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use sim::MemFs;

use crate::ts_scan::{scan, TsSummary, PTS_MODULUS};

/// One segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Path in the simulated file system.
    pub path: PathBuf,
    /// Size in bytes.
    pub len: usize,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// What it carries, or why it could not be read.
    pub summary: Result<TsSummary, String>,
}

/// Everything HLS wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HlsOutput {
    /// Playlists (path, text).
    pub playlists: Vec<(PathBuf, String)>,
    /// Segments, by path.
    pub segments: Vec<Segment>,
    /// SHA-256 over every segment's bytes, segments in name order (numbers
    /// compared as numbers).
    pub ts_sha256: String,
    /// Other files (half-written `.tmp` segments...).
    pub other: Vec<(PathBuf, usize)>,
    /// Every file's bytes, for writing out (`conformance replay --hls-out`).
    pub files: Vec<(PathBuf, bytes::Bytes)>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Collects the HLS files of `fs`.
pub fn collect(fs: &MemFs) -> HlsOutput {
    let mut out = HlsOutput::default();
    for path in fs.files() {
        let Some(data) = fs.read(&path) else {
            continue;
        };
        out.files.push((path.clone(), data.clone()));
        match path.extension().and_then(|e| e.to_str()) {
            Some("m3u8") => out
                .playlists
                .push((path, String::from_utf8_lossy(&data).into_owned())),
            Some("ts") => {
                out.segments.push(Segment {
                    len: data.len(),
                    sha256: hex(&Sha256::digest(&data)),
                    summary: scan(&data).map_err(|e| e.to_string()),
                    path,
                });
            }
            _ => out.other.push((path, data.len())),
        }
    }
    if !out.segments.is_empty() {
        out.segments.sort_by_key(|s| natural_key(&s.path));
        let mut all = Sha256::new();
        for seg in &out.segments {
            if let Some(data) = fs.read(&seg.path) {
                all.update(&data);
            }
        }
        out.ts_sha256 = hex(&all.finalize());
    }
    out
}

/// `live/s-10.ts` after `live/s-9.ts`: digit runs compare as numbers.
fn natural_key(path: &std::path::Path) -> String {
    let text = path.to_string_lossy();
    let mut key = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            let _ = write!(key, "{:0>20}", digits);
            digits.clear();
        }
        key.push(c);
    }
    key
}

fn secs(pts: Option<u64>) -> String {
    pts.map_or("-".into(), |p| format!("{:.3}", p as f64 / 90_000.0))
}

impl HlsOutput {
    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.playlists.is_empty() && self.segments.is_empty() && self.other.is_empty()
    }

    /// Text for a snapshot.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if self.is_empty() {
            s.push_str("  (no HLS output)\n");
            return s;
        }
        for (path, text) in &self.playlists {
            let _ = writeln!(s, "  playlist {}:", path.display());
            for line in text.lines() {
                let _ = writeln!(s, "    {line}");
            }
        }
        for seg in &self.segments {
            let _ = write!(
                s,
                "  segment {} {} bytes sha256 {}",
                seg.path.display(),
                seg.len,
                seg.sha256.get(..16).unwrap_or(&seg.sha256)
            );
            match &seg.summary {
                Ok(t) => {
                    for (pid, st) in &t.streams {
                        let _ = write!(
                            s,
                            "; pid {pid} {:#04x} x{} dts {}..{}",
                            st.stream_id,
                            st.packets,
                            secs(st.first_dts),
                            secs(st.last_dts)
                        );
                        if st.dts_backwards > 0 {
                            let _ = write!(s, " ({} BACKWARDS)", st.dts_backwards);
                        }
                    }
                }
                Err(e) => {
                    let _ = write!(s, "; unreadable: {e}");
                }
            }
            s.push('\n');
        }
        if !self.ts_sha256.is_empty() {
            let _ = writeln!(s, "  all segments sha256 {}", self.ts_sha256);
        }
        for (path, len) in &self.other {
            let _ = writeln!(s, "  other file {} {len} bytes", path.display());
        }
        s
    }

    /// Whether every stream's DTS runs forward within and across segments
    /// (name order) of each playlist, allowing the 33-bit wrap (ISO 13818-1
    /// 2.4.3.7). A multitrack stream's playlists (one per rendition) each
    /// have their own timeline: a segment belongs to the playlist that
    /// lists its file name (segments no playlist lists share one).
    pub fn dts_monotonic(&self) -> bool {
        let mut last: std::collections::BTreeMap<(usize, u16), u64> = Default::default();
        for seg in &self.segments {
            let Ok(t) = &seg.summary else {
                return false;
            };
            let name = seg.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let playlist = self
                .playlists
                .iter()
                .position(|(_, text)| {
                    text.lines()
                        .any(|l| l.trim().rsplit('/').next() == Some(name))
                })
                .unwrap_or(usize::MAX);
            for (pid, st) in &t.streams {
                let pid = &(playlist, *pid);
                if st.dts_backwards > 0 {
                    return false;
                }
                if let (Some(prev), Some(first)) = (last.get(pid), st.first_dts) {
                    if *prev != first
                        && (first.wrapping_sub(*prev) % PTS_MODULUS) >= PTS_MODULUS / 2
                    {
                        return false;
                    }
                }
                if let Some(l) = st.last_dts {
                    last.insert(*pid, l);
                }
            }
        }
        true
    }
}
