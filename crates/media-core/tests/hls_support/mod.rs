//! Shared by the HLS integration tests: a tiny executor that carries out
//! segmenter actions on a temporary directory.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use media_core::hls::{HlsAction, HlsSegmenter};

/// Carries out segmenter actions on a directory, as a runtime would: a
/// segment is written to `NAME.tmp` and renamed at close.
#[derive(Debug)]
pub struct Executor {
    pub root: PathBuf,
    open: HashMap<u64, PathBuf>,
    pub log: Vec<HlsAction>,
    pub playlists_written: Vec<String>,
    pub deleted: Vec<u64>,
    pub closed: Vec<(u64, String, u64)>,
}

impl Executor {
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            open: HashMap::new(),
            log: Vec::new(),
            playlists_written: Vec::new(),
            deleted: Vec::new(),
            closed: Vec::new(),
        }
    }

    fn tmp(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap().to_os_string();
        name.push(".tmp");
        path.with_file_name(name)
    }

    pub fn run(&mut self, seg: &mut HlsSegmenter) {
        use std::io::Write;
        while let Some(a) = seg.poll_action() {
            match &a {
                HlsAction::OpenSegment { seq, path } => {
                    let p = self.root.join(path);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(Self::tmp(&p), b"").unwrap();
                    assert!(
                        self.open.insert(*seq, p).is_none(),
                        "segment {seq} opened twice"
                    );
                }
                HlsAction::Append { seq, bytes } => {
                    let p = self.open.get(seq).expect("append to an open segment");
                    let mut f = std::fs::OpenOptions::new()
                        .append(true)
                        .open(Self::tmp(p))
                        .unwrap();
                    f.write_all(bytes).unwrap();
                }
                HlsAction::CloseSegment {
                    seq,
                    path,
                    duration_ms,
                } => {
                    let p = self.open.remove(seq).expect("close an open segment");
                    let dest = self.root.join(path);
                    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                    std::fs::rename(Self::tmp(&p), &dest).unwrap();
                    self.closed.push((*seq, path.clone(), *duration_ms));
                }
                HlsAction::WritePlaylist { path, text } => {
                    let p = self.root.join(path);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(&p, text).unwrap();
                    self.playlists_written.push(text.clone());
                }
                HlsAction::PublishPart { .. } | HlsAction::LivePlaylist { .. } => {}
                HlsAction::WriteInit { path, bytes } => {
                    let p = self.root.join(path);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(&p, bytes).unwrap();
                }
                HlsAction::DeleteSegment { seq, path } => {
                    std::fs::remove_file(self.root.join(path)).unwrap();
                    self.deleted.push(*seq);
                }
            }
            self.log.push(a);
        }
    }
}

/// The audio/video/data tags of an FLV file as media messages, read with the
/// crate's `FlvReader` and classified by `MediaMessage::new`, as the server
/// does for what a publisher sends.
pub fn flv_messages(file: &[u8]) -> Vec<media_core::MediaMessage> {
    use media_core::flv::{FlvReader, TagType};
    use media_core::{MediaKind, MediaMessage};
    FlvReader::new(bytes::Bytes::copy_from_slice(file))
        .unwrap()
        .map(|tag| tag.unwrap())
        .filter_map(|tag| {
            let kind = match tag.tag_type {
                TagType::Audio => MediaKind::Audio,
                TagType::Video => MediaKind::Video,
                TagType::Script => MediaKind::Data,
                TagType::Other(_) => return None,
            };
            Some(MediaMessage::new(kind, u64::from(tag.timestamp), tag.body))
        })
        .collect()
}

/// An x264 High-profile 1280x720 SPS and its PPS.
pub const SPS: &[u8] = &[
    0x67, 0x64, 0x00, 0x1f, 0xac, 0xb2, 0x00, 0xa0, 0x0b, 0x76, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00,
    0x20, 0x00, 0x00, 0x06, 0x41, 0xe3, 0x06, 0x49,
];
/// The PPS that goes with [`SPS`].
pub const PPS: &[u8] = &[0x68, 0xeb, 0xc3, 0xcb, 0x22, 0xc0];

/// An FLV AVC sequence header body for `sps`/`pps`.
pub fn avc_sequence_header(sps: &[u8], pps: &[u8]) -> Vec<u8> {
    let mut b = vec![0x17, 0, 0, 0, 0, 1, sps[1], sps[2], sps[3], 0xFF, 0xE1];
    b.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    b.extend_from_slice(sps);
    b.push(1);
    b.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    b.extend_from_slice(pps);
    b
}

/// What a synthetic stream holds.
#[derive(Debug, Clone, Copy)]
pub struct Synth {
    pub video: bool,
    pub audio: bool,
    /// Video frames per key frame (25 fps).
    pub gop: u64,
    /// Length in milliseconds.
    pub ms: u64,
    /// Timestamp of the first message.
    pub start_ms: u64,
}

pub fn media(
    kind: media_core::MediaKind,
    ts: u64,
    key: bool,
    seq: bool,
    body: Vec<u8>,
) -> media_core::MediaMessage {
    media_core::MediaMessage {
        timestamp: ts,
        kind,
        flags: media_core::MediaFlags {
            keyframe: key,
            sequence_header: seq,
        },
        payload: bytes::Bytes::from(body),
    }
}

/// A deterministic stream: sequence headers, then 25 fps H.264 frames and
/// 44.1 kHz AAC frames (1024 samples, ms timestamps rounded down),
/// interleaved by timestamp.
pub fn synthetic(s: Synth) -> Vec<media_core::MediaMessage> {
    use media_core::MediaKind;
    let mut out = Vec::new();
    if s.video {
        out.push(media(
            MediaKind::Video,
            s.start_ms,
            true,
            true,
            avc_sequence_header(SPS, PPS),
        ));
    }
    if s.audio {
        out.push(media(
            MediaKind::Audio,
            s.start_ms,
            false,
            true,
            vec![0xAF, 0, 0x12, 0x10],
        ));
    }
    let mut timed = Vec::new();
    if s.video {
        let mut i = 0;
        while i * 40 < s.ms {
            let key = i % s.gop == 0;
            let mut b = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0, 0, 0, 0, 60];
            b.push(if key { 0x65 } else { 0x41 });
            b.extend((0..59).map(|k| (k + i) as u8));
            timed.push(media(MediaKind::Video, s.start_ms + i * 40, key, false, b));
            i += 1;
        }
    }
    if s.audio {
        let mut i = 0;
        while i * 1024 * 1000 / 44_100 < s.ms {
            let mut b = vec![0xAF, 1];
            b.extend((0..20).map(|k| (k + i) as u8));
            timed.push(media(
                MediaKind::Audio,
                s.start_ms + i * 1024 * 1000 / 44_100,
                false,
                false,
                b,
            ));
            i += 1;
        }
    }
    timed.sort_by_key(|m| m.timestamp);
    out.extend(timed);
    out
}

/// Pushes every message, collecting actions; returns the actions.
pub fn feed(seg: &mut HlsSegmenter, msgs: &[media_core::MediaMessage]) -> Vec<HlsAction> {
    let mut actions = Vec::new();
    for m in msgs {
        seg.push(m, 1_700_000_000_000 + m.timestamp).unwrap();
        while let Some(a) = seg.poll_action() {
            actions.push(a);
        }
    }
    actions
}

/// Drains whatever the segmenter still has.
pub fn drain(seg: &mut HlsSegmenter) -> Vec<HlsAction> {
    std::iter::from_fn(|| seg.poll_action()).collect()
}

/// The text of the last playlist written among `actions`.
pub fn last_playlist(actions: &[HlsAction]) -> Option<String> {
    actions.iter().rev().find_map(|a| match a {
        HlsAction::WritePlaylist { text, .. } => Some(text.clone()),
        _ => None,
    })
}

/// Parses a media playlist with m3u8-rs, panicking on anything else.
pub fn parse_media(text: &str) -> m3u8_rs::MediaPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(m3u8_rs::Playlist::MediaPlaylist(p)) => p,
        other => panic!("not a media playlist: {other:?}\n{text}"),
    }
}
