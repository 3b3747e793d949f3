//! Behaviour of `GopCache` over whole streams: what a late joiner receives.

use bytes::Bytes;
use media_core::gop::{GopCache, GopConfig};
use media_core::{MediaFlags, MediaKind, MediaMessage};
use proptest::prelude::*;

fn msg(kind: MediaKind, ts: u64, keyframe: bool, sh: bool, len: usize) -> MediaMessage {
    MediaMessage {
        timestamp: ts,
        kind,
        flags: MediaFlags {
            keyframe,
            sequence_header: sh,
        },
        payload: Bytes::from(vec![ts as u8; len]),
    }
}

fn metadata(ts: u64) -> MediaMessage {
    let mut p = vec![0x02, 0x00, 10];
    p.extend_from_slice(b"onMetaData");
    p.push(0x08);
    p.extend_from_slice(&ts.to_be_bytes());
    MediaMessage {
        timestamp: ts,
        kind: MediaKind::Data,
        flags: MediaFlags::default(),
        payload: Bytes::from(p),
    }
}

/// A typical stream: metadata, headers, then GOPs of 25 frames with audio between.
fn stream(gops: u64) -> Vec<MediaMessage> {
    let mut v = vec![
        metadata(0),
        msg(MediaKind::Video, 0, true, true, 30),
        msg(MediaKind::Audio, 0, false, true, 2),
    ];
    for i in 0..gops * 25 {
        let ts = i * 40;
        v.push(msg(MediaKind::Video, ts, i % 25 == 0, false, 100));
        v.push(msg(MediaKind::Audio, ts, false, false, 10));
    }
    v
}

#[test]
fn late_joiner_gets_headers_then_keyframe() {
    let mut c = GopCache::new(GopConfig::default());
    for (n, m) in stream(4).iter().enumerate() {
        c.push(m);
        if n < 4 {
            continue;
        }
        let snap: Vec<&MediaMessage> = c.snapshot().collect();
        assert_eq!(snap[0].kind, MediaKind::Data);
        assert!(snap[1].kind == MediaKind::Video && snap[1].flags.sequence_header);
        assert!(snap[2].kind == MediaKind::Audio && snap[2].flags.sequence_header);
        let first_video = snap[3..].iter().find(|m| m.kind == MediaKind::Video);
        let first_video = first_video.expect("a GOP is cached once the first key frame arrived");
        assert!(first_video.flags.keyframe && !first_video.flags.sequence_header);
        assert_eq!(
            snap[3..].iter().filter(|m| m.flags.sequence_header).count(),
            0
        );
    }
    // The last GOP only: 25 video + 25 audio.
    assert_eq!(c.gop_frames(), 50);
    assert_eq!(c.snapshot().nth(3).map(|m| m.timestamp), Some(75 * 40));
}

#[test]
fn new_headers_and_metadata_replace_old() {
    let mut c = GopCache::new(GopConfig::default());
    for m in stream(1) {
        c.push(&m);
    }
    c.push(&metadata(7));
    c.push(&msg(MediaKind::Video, 1000, true, true, 31));
    c.push(&msg(MediaKind::Audio, 1000, false, true, 3));
    let snap: Vec<&MediaMessage> = c.snapshot().collect();
    assert_eq!(snap[0].payload, metadata(7).payload);
    assert_eq!(snap[1].payload.len(), 31);
    assert_eq!(snap[2].payload.len(), 3);
    // The GOP was coded against the old headers: dropped until the next key frame.
    assert_eq!(snap.len(), 3);
    c.push(&msg(MediaKind::Video, 1040, true, false, 100));
    assert_eq!(c.snapshot().count(), 4);
}

#[test]
fn disabled_cache_still_delivers_metadata_and_headers() {
    let mut c = GopCache::new(GopConfig {
        enabled: false,
        ..GopConfig::default()
    });
    for m in stream(2) {
        c.push(&m);
    }
    let snap: Vec<&MediaMessage> = c.snapshot().collect();
    assert_eq!(snap.len(), 3);
    assert_eq!(c.gop_frames(), 0);
}

#[test]
fn audio_only_stream_caches_no_gop() {
    let mut c = GopCache::new(GopConfig::default());
    c.push(&msg(MediaKind::Audio, 0, false, true, 2));
    for i in 0..1000 {
        c.push(&msg(MediaKind::Audio, i * 23, false, false, 10));
    }
    assert_eq!(c.snapshot().count(), 1);
}

#[test]
fn overflow_drops_whole_gop_until_next_keyframe() {
    let mut c = GopCache::new(GopConfig {
        enabled: true,
        max_frames: 10,
        max_bytes: usize::MAX,
    });
    c.push(&msg(MediaKind::Video, 0, true, false, 1));
    for i in 1..10 {
        c.push(&msg(MediaKind::Video, i, false, false, 1));
    }
    assert_eq!(c.gop_frames(), 10);
    c.push(&msg(MediaKind::Video, 10, false, false, 1));
    assert_eq!(c.gop_frames(), 0);
    // Frames after the overflow are not cached: they have no key frame.
    c.push(&msg(MediaKind::Video, 11, false, false, 1));
    assert_eq!(c.gop_frames(), 0);
    c.push(&msg(MediaKind::Video, 12, true, false, 1));
    assert_eq!(c.gop_frames(), 1);
}

#[test]
fn cached_messages_share_payloads() {
    let mut c = GopCache::new(GopConfig::default());
    let key = msg(MediaKind::Video, 0, true, false, 1000);
    c.push(&key);
    let cached = c.snapshot().next().map(|m| m.payload.as_ptr());
    assert_eq!(cached, Some(key.payload.as_ptr()));
}

fn arb_message() -> impl Strategy<Value = MediaMessage> {
    (0u8..8, 0usize..5000, any::<u64>()).prop_map(|(k, len, ts)| match k {
        0 => msg(MediaKind::Video, ts, true, false, len),
        1 | 2 => msg(MediaKind::Video, ts, false, false, len),
        3 | 4 => msg(MediaKind::Audio, ts, false, false, len),
        5 => msg(MediaKind::Video, ts, true, true, len % 3),
        6 => msg(MediaKind::Audio, ts, false, true, len % 3),
        _ => msg(MediaKind::Data, ts, false, false, len),
    })
}

proptest! {
    #[test]
    fn bounds_hold_for_random_streams(
        max_frames in 0usize..50,
        max_bytes in 0usize..40_000,
        messages in prop::collection::vec(arb_message(), 0..400),
    ) {
        let mut c = GopCache::new(GopConfig { enabled: true, max_frames, max_bytes });
        for m in &messages {
            c.push(m);
            let all: Vec<&MediaMessage> = c.snapshot().collect();
            prop_assert!(all.len() >= c.gop_frames());
            let (head, gop) = all.split_at(all.len() - c.gop_frames());
            // Metadata and at most one header per track come first.
            prop_assert!(head.len() <= 3);
            prop_assert!(head.iter().filter(|m| m.flags.sequence_header).count() <= 2);
            // The bounds.
            let bytes: usize = gop.iter().map(|m| m.payload.len()).sum();
            prop_assert_eq!(bytes, c.gop_bytes());
            prop_assert!(bytes <= max_bytes);
            if max_frames > 0 {
                prop_assert!(gop.len() <= max_frames);
            }
            // The GOP starts at a video key frame and holds no sequence header.
            if let Some(first) = gop.first() {
                prop_assert!(first.kind == MediaKind::Video && first.flags.keyframe);
            }
            prop_assert!(gop.iter().all(|m| !m.flags.sequence_header));
        }
    }
}
