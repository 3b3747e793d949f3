//! Properties of the fragmented MP4 muxer under arbitrary messages (hostile
//! payloads, timestamps that jump anywhere): it never panics, and what it
//! writes is always a well-formed run of boxes (`ftyp` first, the `mfra`
//! index last), however the output was taken.

use bytes::Bytes;
use media_core::mp4::Fmp4Muxer;
use media_core::{MediaKind, MediaMessage};
use proptest::prelude::*;

/// A valid AVC sequence header (libx264, 640x360) and AAC one.
const AVC_SH: &[u8] = &[
    0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1e, 0xac,
    0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00,
    0x32, 0x0f, 0x16, 0x2d, 0x96, 0x01, 0x00, 0x04, 0x68, 0xeb, 0xe3, 0xcb,
];
const AAC_SH: &[u8] = &[0xaf, 0x00, 0x12, 0x10];
/// An HEVC record (libx265's VPS, SPS for 1280x720 and PPS); sent as a legacy
/// codec 12 or an E-RTMP `hvc1` sequence header.
const HVCC: &[u8] = &[
    1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f,
    3, 0xa0, 0, 1, 0, 24, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
    0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0x95, 0x98, 0x09, 0xa1, 0, 1, 0, 43,
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
    0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02,
    0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10, 0xa2, 0, 1, 0, 7, 0x44, 0x01,
    0xc1, 0x72, 0xb4, 0x62, 0x40,
];

fn message() -> impl Strategy<Value = MediaMessage> {
    let payload = prop_oneof![
        Just(AVC_SH.to_vec()),
        Just(AAC_SH.to_vec()),
        Just([&[0x1cu8, 0, 0, 0, 0][..], HVCC].concat()),
        Just([&[0x90u8, b'h', b'v', b'c', b'1'][..], HVCC].concat()),
        // HEVC frames: legacy key, E-RTMP CodedFrames and CodedFramesX.
        prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|t| [&[0x1cu8, 1, 0, 0, 0][..], &t].concat()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|t| [
            &[0xa1u8, b'h', b'v', b'c', b'1', 0, 0, 40][..],
            &t
        ]
        .concat()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|t| [
            &[0x93u8, b'h', b'v', b'c', b'1'][..],
            &t
        ]
        .concat()),
        // Key and inter frames, AAC frames, with arbitrary tails.
        prop::collection::vec(any::<u8>(), 0..64)
            .prop_map(|t| [&[0x17u8, 1, 0, 0, 0][..], &t].concat()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|t| [
            &[0x27u8, 1, 0xff, 0xff, 0xf0][..],
            &t
        ]
        .concat()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|t| [&[0xafu8, 1][..], &t].concat()),
        prop::collection::vec(any::<u8>(), 0..32),
    ];
    let kind = prop_oneof![
        Just(MediaKind::Video),
        Just(MediaKind::Audio),
        Just(MediaKind::Data)
    ];
    let timestamp = prop_oneof![0u64..100_000, any::<u64>()];
    (kind, timestamp, payload).prop_map(|(kind, ts, p)| {
        // Sequence headers keep their kind, the rest go anywhere.
        let kind = match p.first() {
            Some(0xaf) => MediaKind::Audio,
            Some(0x17 | 0x27 | 0x1c | 0x90 | 0xa1 | 0x93) => MediaKind::Video,
            _ => kind,
        };
        MediaMessage::new(kind, ts, Bytes::from(p))
    })
}

/// Checks `data` is a sequence of whole boxes; returns their types.
fn top_level(data: &[u8]) -> Result<Vec<[u8; 4]>, String> {
    let mut at = 0usize;
    let mut kinds = Vec::new();
    while at < data.len() {
        let head = data.get(at..at + 8).ok_or("truncated box header")?;
        let size = u32::from_be_bytes(head[..4].try_into().unwrap()) as usize;
        if size < 8 || at + size > data.len() {
            return Err(format!("box at {at} of size {size} in {}", data.len()));
        }
        kinds.push(head[4..8].try_into().unwrap());
        at += size;
    }
    Ok(kinds)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_messages_make_well_formed_boxes(
        messages in prop::collection::vec(message(), 0..200),
        take_every in 1usize..20,
    ) {
        let mut muxer = Fmp4Muxer::new();
        let mut file = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let _ = muxer.push(m);
            if i % take_every == 0 {
                file.extend_from_slice(&muxer.take());
            }
        }
        file.extend_from_slice(&muxer.finish());
        let kinds = top_level(&file).map_err(TestCaseError::fail)?;
        if let Some(first) = kinds.first() {
            prop_assert_eq!(first, b"ftyp");
            prop_assert_eq!(kinds.get(1), Some(b"moov"));
            prop_assert_eq!(kinds.last(), Some(b"mfra"));
            for pair in kinds[2..kinds.len() - 1].chunks(2) {
                prop_assert_eq!(pair, &[*b"moof", *b"mdat"][..]);
            }
        }
        // Nothing after the end.
        prop_assert!(muxer.finish().is_empty());
    }
}

#[test]
fn the_hevc_headers_above_are_taken() {
    for head in [&[0x1cu8, 0, 0, 0, 0][..], &[0x90, b'h', b'v', b'c', b'1']] {
        let mut muxer = Fmp4Muxer::new();
        let sh = MediaMessage::new(MediaKind::Video, 0, Bytes::from([head, HVCC].concat()));
        muxer.push(&sh).unwrap();
        let key = MediaMessage::new(
            MediaKind::Video,
            0,
            Bytes::from_static(&[0x1c, 1, 0, 0, 0, 0, 0, 0, 2, 0x26, 1]),
        );
        muxer.push(&key).unwrap();
        let file = muxer.finish();
        assert!(file.windows(4).any(|w| w == b"hvcC"));
    }
}
