#![no_main]
//! Arbitrary media messages through the fMP4 HLS segmenter, plain and
//! LL-HLS (`hls_use_fmp4`, `hls_ll`), and through the TS segmenter that
//! turns to fMP4 on a codec TS cannot carry (`hls_fmp4_fallback`): message
//! kinds, timestamps and FLV bodies all come from the input, a body
//! optionally starting with a codec header prefix (E-RTMP AV1, VP9, HEVC,
//! Opus, FLAC, AC-3, E-AC-3, MP3; legacy AVC, AAC, MP3) so the sample entry
//! parsers (AV1 records and OBUs, VP9 records and key frames, OpusHead,
//! FLAC STREAMINFO and frame headers, AC-3/E-AC-3 syncframes, MPEG audio
//! headers) see shaped input. No panic; every segment is opened before it
//! is appended to and closed once; every fMP4 part, init and appended piece
//! is whole boxes (a size that fits), every TS piece whole packets, and
//! each closed segment is exactly its parts in LL mode.
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use media_core::hls::{HlsAction, HlsConfig, HlsSegmenter};
use media_core::{MediaFlags, MediaKind, MediaMessage};

/// Largest message body an input asks for (keeps each run fast).
const MAX_BODY: usize = 4096;

/// Body prefixes a message may start with (index 0: none).
const VIDEO_PREFIXES: &[&[u8]] = &[
    b"",
    b"\x90av01\x81",
    b"\x91av01\x12\x00\x0a",
    b"\xa1av01\x12\x00\x32",
    b"\x90vp09\x01\x00\x00\x00",
    b"\x91vp09\x82\x49\x83\x42",
    b"\xa1vp09\x86",
    b"\x90hvc1\x01",
    b"\x91hvc1\x00\x00\x00",
    b"\x17\x00\x00\x00\x00\x01",
    b"\x17\x01\x00\x00\x00",
    b"\x90vp08",
];
const AUDIO_PREFIXES: &[&[u8]] = &[
    b"",
    b"\x90OpusOpusHead\x01",
    b"\x91Opus",
    b"\x90fLaC",
    b"\x90fLaC\x80\x00\x00\x22",
    b"\x91fLaC\xff\xf8",
    b"\x90ac-3",
    b"\x91ac-3\x0b\x77",
    b"\x91ec-3\x0b\x77",
    b"\x91.mp3\xff\xfb",
    b"\x2f\xff\xfb",
    b"\xaf\x00",
    b"\xaf\x01",
];

/// The input's bytes are whole ISO BMFF boxes.
fn whole_boxes(mut b: &[u8]) -> bool {
    while !b.is_empty() {
        if b.len() < 8 {
            return false;
        }
        let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if size < 8 || size > b.len() {
            return false;
        }
        b = &b[size..];
    }
    true
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    // Bit 0: LL-HLS; bit 1: TS with the fMP4 fallback (unless LL-HLS).
    let low_latency = first & 1 == 1;
    let ts_first = !low_latency && first & 2 == 2;
    let config = HlsConfig {
        fragment: Duration::from_millis(200 + u64::from(first >> 2) * 50),
        window: Duration::from_secs(10),
        use_fmp4: !ts_first,
        fmp4_fallback: true,
        low_latency,
        part_duration: Duration::from_millis(50),
        ..HlsConfig::default()
    };
    let mut seg = HlsSegmenter::new(config, "live", "fuzz");
    // Each open segment's bytes, and whether it is fMP4.
    let mut open: HashMap<u64, (Vec<u8>, bool)> = HashMap::new();
    let mut parts: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut check = |seg: &mut HlsSegmenter| {
        let fmp4 = seg.is_fmp4();
        while let Some(a) = seg.poll_action() {
            match a {
                HlsAction::OpenSegment { seq, .. } => {
                    // A push that turns TS to fMP4 does so before it opens
                    // anything, so what it opens is fMP4.
                    let fresh = open.insert(seq, (Vec::new(), fmp4)).is_none();
                    assert!(fresh, "opened twice");
                }
                HlsAction::Append { seq, bytes } => {
                    let (body, fmp4) = open.get_mut(&seq).expect("append to an open segment");
                    if *fmp4 {
                        assert!(whole_boxes(&bytes));
                    } else {
                        assert!(bytes.len() % 188 == 0 && bytes.first() == Some(&0x47));
                    }
                    body.extend(&bytes[..]);
                }
                HlsAction::CloseSegment { seq, .. } => {
                    let (body, _) = open.remove(&seq).expect("close an open segment");
                    if low_latency {
                        assert_eq!(parts.remove(&seq).unwrap_or_default(), body);
                    }
                }
                HlsAction::PublishPart { msn, bytes, .. } => {
                    assert!(whole_boxes(&bytes));
                    parts.entry(msn).or_default().extend(&bytes[..]);
                }
                HlsAction::WriteInit { bytes, .. } => assert!(whole_boxes(&bytes)),
                HlsAction::WritePlaylist { .. }
                | HlsAction::LivePlaylist { .. }
                | HlsAction::DeleteSegment { .. } => {}
            }
        }
    };
    // Each message: 1 kind byte (low 2 bits: video, video, audio or a
    // republish; the rest pick a body prefix), 3 timestamp bytes (ms), 2
    // size bytes, then that many body bytes (what is left if short).
    while rest.len() >= 6 {
        let (head, tail) = rest.split_at(6);
        let pick = usize::from(head[0] >> 2);
        let (kind, prefix) = match head[0] % 4 {
            0 | 1 => (
                MediaKind::Video,
                VIDEO_PREFIXES[pick % VIDEO_PREFIXES.len()],
            ),
            2 => (
                MediaKind::Audio,
                AUDIO_PREFIXES[pick % AUDIO_PREFIXES.len()],
            ),
            _ => {
                seg.on_republish();
                check(&mut seg);
                rest = tail;
                continue;
            }
        };
        let timestamp = u64::from(u32::from_be_bytes([0, head[1], head[2], head[3]]));
        let size = usize::from(u16::from_be_bytes([head[4], head[5]])) % MAX_BODY;
        let take = size.min(tail.len());
        let (body, tail) = tail.split_at(take);
        rest = tail;
        let msg = MediaMessage {
            timestamp,
            kind,
            flags: MediaFlags::default(),
            payload: Bytes::from([prefix, body].concat()),
        };
        let _ = seg.push(&msg, 1_700_000_000_000 + timestamp);
        check(&mut seg);
    }
    seg.on_unpublish();
    check(&mut seg);
    assert!(open.is_empty(), "every segment closed at unpublish");
});
