//! Properties of the segmenter under arbitrary input: garbage, valid frames,
//! wild timestamps, unpublish/republish at any point. It never panics, every
//! append is whole TS packets, continuity counters carry across segments,
//! and every segment that opens is closed once.

mod hls_support;
mod ts_support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use hls_support::*;
use media_core::hls::{HlsAction, HlsConfig, HlsSegmenter};
use media_core::MediaKind;
use proptest::prelude::*;
use ts_support::read_transport_stream;

#[derive(Debug, Clone)]
enum Step {
    Valid {
        video: bool,
        key: bool,
        ts: u64,
        size: usize,
    },
    Garbage {
        video: bool,
        ts: u64,
        body: Vec<u8>,
    },
    Header {
        video: bool,
    },
    Unpublish,
    Republish,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (any::<bool>(), any::<bool>(), 0u64..60_000, 0usize..3000)
            .prop_map(|(video, key, ts, size)| Step::Valid { video, key, ts, size }),
        2 => (any::<bool>(), any::<u64>(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(video, ts, body)| Step::Garbage { video, ts, body }),
        1 => any::<bool>().prop_map(|video| Step::Header { video }),
        1 => Just(Step::Unpublish),
        1 => Just(Step::Republish),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn segmenter_survives_anything(
        steps in prop::collection::vec(step(), 0..200),
        fragment_ms in 1u64..5000,
        wait_keyframe in any::<bool>(),
    ) {
        let mut seg = HlsSegmenter::new(
            HlsConfig {
                fragment: Duration::from_millis(fragment_ms),
                window: Duration::from_millis(fragment_ms * 3),
                wait_keyframe,
                ..HlsConfig::default()
            },
            "live",
            "p",
        );
        let mut actions = Vec::new();
        for s in &steps {
            match s {
                Step::Valid { video, key, ts, size } => {
                    let body = if *video {
                        let mut b = vec![if *key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
                        b.extend_from_slice(&(*size as u32 + 1).to_be_bytes());
                        b.push(if *key { 0x65 } else { 0x41 });
                        b.resize(b.len() + size, 0xAB);
                        b
                    } else {
                        let mut b = vec![0xAF, 1];
                        b.resize(2 + size, 0xCD);
                        b
                    };
                    let kind = if *video { MediaKind::Video } else { MediaKind::Audio };
                    let _ = seg.push(&media(kind, *ts, *key, false, body), *ts);
                }
                Step::Garbage { video, ts, body } => {
                    let kind = if *video { MediaKind::Video } else { MediaKind::Audio };
                    let _ = seg.push(&media(kind, *ts, false, false, body.clone()), 0);
                }
                Step::Header { video } => {
                    let m = if *video {
                        media(MediaKind::Video, 0, true, true, avc_sequence_header(SPS, PPS))
                    } else {
                        media(MediaKind::Audio, 0, false, true, vec![0xAF, 0, 0x12, 0x10])
                    };
                    seg.push(&m, 0).unwrap();
                }
                Step::Unpublish => seg.on_unpublish(),
                Step::Republish => seg.on_republish(),
            }
            actions.extend(drain(&mut seg));
        }
        seg.on_unpublish();
        actions.extend(drain(&mut seg));

        let mut open = HashSet::new();
        let mut closed = HashSet::new();
        let mut data: HashMap<u64, Vec<u8>> = HashMap::new();
        let mut order = Vec::new();
        for a in &actions {
            match a {
                HlsAction::OpenSegment { seq, .. } => {
                    prop_assert!(open.insert(*seq), "opened twice");
                    order.push(*seq);
                }
                HlsAction::Append { seq, bytes } => {
                    prop_assert!(open.contains(seq) && !closed.contains(seq));
                    prop_assert_eq!(bytes.len() % 188, 0);
                    data.entry(*seq).or_default().extend_from_slice(bytes);
                }
                HlsAction::CloseSegment { seq, .. } => {
                    prop_assert!(open.contains(seq) && closed.insert(*seq), "closed once");
                }
                HlsAction::WritePlaylist { text, .. } => {
                    prop_assert!(m3u8_rs::parse_playlist_res(text.as_bytes()).is_ok());
                }
                HlsAction::DeleteSegment { seq, .. } => prop_assert!(closed.contains(seq)),
                HlsAction::WriteInit { .. }
                | HlsAction::PublishPart { .. }
                | HlsAction::LivePlaylist { .. } => prop_assert!(false, "no fMP4 in TS"),
            }
        }
        prop_assert_eq!(&open, &closed);
        prop_assert!(order.windows(2).all(|w| w[1] == w[0] + 1), "numbers continue");
        let mut cc = HashMap::new();
        for seq in order {
            let bytes = data.remove(&seq).unwrap_or_default();
            let report = read_transport_stream(&bytes, &mut cc);
            prop_assert!(report.cc_errors.is_empty(), "{:?}", report.cc_errors);
        }
    }
}
