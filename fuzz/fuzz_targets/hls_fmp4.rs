#![no_main]
//! Arbitrary media messages through the fMP4 HLS segmenter, plain and
//! LL-HLS (`hls_use_fmp4`, `hls_ll`): message kinds, timestamps and FLV
//! bodies all come from the input. No panic; every segment is opened before
//! it is appended to and closed once; every part and appended piece is
//! whole boxes (a size that fits), and each closed segment is exactly its
//! parts in LL mode.
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use media_core::hls::{HlsAction, HlsConfig, HlsSegmenter};
use media_core::{MediaFlags, MediaKind, MediaMessage};

/// Largest message body an input asks for (keeps each run fast).
const MAX_BODY: usize = 4096;

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
    let low_latency = first & 1 == 1;
    let config = HlsConfig {
        fragment: Duration::from_millis(200 + u64::from(first >> 1) * 50),
        window: Duration::from_secs(10),
        use_fmp4: true,
        low_latency,
        part_duration: Duration::from_millis(50),
        ..HlsConfig::default()
    };
    let mut seg = HlsSegmenter::new(config, "live", "fuzz");
    let mut open: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut parts: HashMap<u64, Vec<u8>> = HashMap::new();
    let mut check = |seg: &mut HlsSegmenter| {
        while let Some(a) = seg.poll_action() {
            match a {
                HlsAction::OpenSegment { seq, .. } => {
                    assert!(open.insert(seq, Vec::new()).is_none(), "opened twice");
                }
                HlsAction::Append { seq, bytes } => {
                    assert!(whole_boxes(&bytes));
                    open.get_mut(&seq)
                        .expect("append to an open segment")
                        .extend(&bytes[..]);
                }
                HlsAction::CloseSegment { seq, .. } => {
                    let body = open.remove(&seq).expect("close an open segment");
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
    // Each message: 1 kind byte, 3 timestamp bytes (ms), 2 size bytes,
    // then that many body bytes (what is left if short).
    while rest.len() >= 6 {
        let (head, tail) = rest.split_at(6);
        let kind = match head[0] % 4 {
            0 | 1 => MediaKind::Video,
            2 => MediaKind::Audio,
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
            payload: Bytes::copy_from_slice(body),
        };
        let _ = seg.push(&msg, 1_700_000_000_000 + timestamp);
        check(&mut seg);
    }
    seg.on_unpublish();
    check(&mut seg);
    assert!(open.is_empty(), "every segment closed at unpublish");
});
