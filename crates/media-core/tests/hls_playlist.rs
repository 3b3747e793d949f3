//! Playlist behaviour on deterministic synthetic streams: snapshots of the
//! text, parsed back with m3u8-rs; republish, window sliding, codec changes,
//! cut rules, templates, dispose, bad frames. Also checks that m3u8-rs reads
//! the corpus of third-party playlists as their tags say.

mod common;
mod hls_support;
mod ts_support;

use std::time::Duration;

use hls_support::*;
use media_core::hls::{HlsAction, HlsConfig, HlsSegmenter};
use media_core::MediaKind;

fn config(fragment_s: u64, window_s: u64) -> HlsConfig {
    HlsConfig {
        fragment: Duration::from_secs(fragment_s),
        window: Duration::from_secs(window_s),
        ..HlsConfig::default()
    }
}

const AV: Synth = Synth {
    video: true,
    audio: true,
    gop: 50,
    ms: 10_000,
    start_ms: 0,
};

fn closes(actions: &[HlsAction]) -> Vec<(u64, u64)> {
    actions
        .iter()
        .filter_map(|a| match a {
            HlsAction::CloseSegment {
                seq, duration_ms, ..
            } => Some((*seq, *duration_ms)),
            _ => None,
        })
        .collect()
}

fn deletes(actions: &[HlsAction]) -> Vec<u64> {
    actions
        .iter()
        .filter_map(|a| match a {
            HlsAction::DeleteSegment { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

#[test]
fn audio_video_playlist() {
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    let mut actions = feed(&mut seg, &synthetic(AV));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    assert_eq!(seg.skipped_frames(), 0);
    assert_eq!(
        closes(&actions),
        [(0, 2000), (1, 2000), (2, 2000), (3, 2000), (4, 2000)]
    );
    let text = last_playlist(&actions).unwrap();
    let p = parse_media(&text);
    assert_eq!(p.version, Some(3));
    assert_eq!(p.target_duration, 2);
    assert_eq!(p.media_sequence, 0);
    assert_eq!(p.segments.len(), 5);
    assert!(p
        .segments
        .iter()
        .all(|s| s.duration == 2.0 && !s.discontinuity));
    assert_eq!(p.segments[0].uri, "cam-0.ts");
    assert!(!p.end_list);
    insta::assert_snapshot!("audio_video", text);

    // The actions come in a usable order: open, appends, close, playlist.
    let kinds: Vec<&str> = actions
        .iter()
        .map(|a| match a {
            HlsAction::OpenSegment { .. } => "open",
            HlsAction::Append { .. } => "append",
            HlsAction::CloseSegment { .. } => "close",
            HlsAction::WritePlaylist { .. } => "playlist",
            HlsAction::DeleteSegment { .. } => "delete",
            HlsAction::WriteInit { .. } => "init",
            HlsAction::PublishPart { .. } => "part",
            HlsAction::LivePlaylist { .. } => "live playlist",
        })
        .collect();
    assert_eq!(kinds.first(), Some(&"open"));
    assert_eq!(kinds.last(), Some(&"playlist"));
    for w in kinds.windows(2) {
        if w[0] == "close" {
            assert_eq!(w[1], "playlist", "{kinds:?}");
        }
    }
    for a in &actions {
        if let HlsAction::Append { bytes, .. } = a {
            assert_eq!(bytes.len() % 188, 0);
        }
    }
}

#[test]
fn republish_continues_with_one_discontinuity() {
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    seg.on_republish(); // the first publish: nothing to mark
    let mut actions = feed(&mut seg, &synthetic(Synth { ms: 6_000, ..AV }));
    seg.on_unpublish();
    seg.on_republish();
    // The new publisher's clock starts again at zero.
    actions.extend(feed(&mut seg, &synthetic(Synth { ms: 6_000, ..AV })));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    let seqs: Vec<u64> = closes(&actions).iter().map(|c| c.0).collect();
    assert_eq!(seqs, (0..6).collect::<Vec<_>>(), "numbers continue");
    let text = last_playlist(&actions).unwrap();
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1, "{text}");
    let p = parse_media(&text);
    let marked: Vec<bool> = p.segments.iter().map(|s| s.discontinuity).collect();
    assert_eq!(marked, [false, false, false, true, false, false]);
    insta::assert_snapshot!("republish", text);
}

#[test]
fn unpublish_without_republish_call_still_marks_the_next_session() {
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    let mut actions = feed(&mut seg, &synthetic(Synth { ms: 4_000, ..AV }));
    seg.on_unpublish();
    actions.extend(feed(&mut seg, &synthetic(Synth { ms: 4_000, ..AV })));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    let p = parse_media(&last_playlist(&actions).unwrap());
    assert_eq!(p.segments.iter().filter(|s| s.discontinuity).count(), 1);
    assert_eq!(p.segments.len(), 4);
}

#[test]
fn window_slides_and_old_segments_are_deleted() {
    let mut seg = HlsSegmenter::new(config(2, 6), "live", "cam");
    let mut actions = feed(&mut seg, &synthetic(Synth { ms: 20_000, ..AV }));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    let mut last_seq = 0;
    let mut playlists = 0;
    for a in &actions {
        if let HlsAction::WritePlaylist { text, .. } = a {
            let p = parse_media(text);
            let total: f32 = p.segments.iter().map(|s| s.duration).sum();
            assert!(total <= 6.0, "window holds at most 6 s: {text}");
            assert!(
                p.media_sequence >= last_seq,
                "MEDIA-SEQUENCE never goes back"
            );
            last_seq = p.media_sequence;
            playlists += 1;
        }
    }
    assert_eq!(playlists, 10);
    assert_eq!(last_seq, 7, "the window holds segments 7, 8, 9");
    assert_eq!(deletes(&actions), (0..7).collect::<Vec<_>>());
    // A delete follows the playlist that stopped listing the segment.
    let first_delete = actions
        .iter()
        .position(|a| matches!(a, HlsAction::DeleteSegment { .. }))
        .unwrap();
    let text = last_playlist(&actions[..first_delete]).unwrap();
    assert!(!text.contains("cam-0.ts"));
    insta::assert_snapshot!("window", last_playlist(&actions).unwrap());

    // hls_cleanup off: the window still slides, nothing is deleted.
    let mut seg = HlsSegmenter::new(
        HlsConfig {
            cleanup: false,
            ..config(2, 6)
        },
        "live",
        "cam",
    );
    let actions = feed(&mut seg, &synthetic(Synth { ms: 20_000, ..AV }));
    assert!(deletes(&actions).is_empty());
    assert!(parse_media(&last_playlist(&actions).unwrap()).media_sequence > 0);
}

#[test]
fn new_parameter_sets_cut_at_once_with_a_discontinuity() {
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    let first = synthetic(Synth { ms: 3_000, ..AV });
    let mut actions = feed(&mut seg, &first);
    // The same sequence header again changes nothing.
    let repeat = media(
        MediaKind::Video,
        3_000,
        true,
        true,
        avc_sequence_header(SPS, PPS),
    );
    seg.push(&repeat, 0).unwrap();
    // A new SPS (another level) at 3.0 s, then a key frame every 25 frames.
    let mut sps = SPS.to_vec();
    sps[3] = 0x28;
    let change = media(
        MediaKind::Video,
        3_000,
        true,
        true,
        avc_sequence_header(&sps, PPS),
    );
    let mut second = synthetic(Synth {
        ms: 3_000,
        start_ms: 3_000,
        gop: 25,
        ..AV
    });
    second.drain(..2);
    actions.extend(feed(&mut seg, &[change]));
    actions.extend(feed(&mut seg, &second));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    // 0-2 s, 2-3 s (cut early by the change), then 2 s segments again.
    assert_eq!(
        closes(&actions),
        [(0, 2000), (1, 1000), (2, 2000), (3, 1000)]
    );
    let p = parse_media(&last_playlist(&actions).unwrap());
    let marked: Vec<bool> = p.segments.iter().map(|s| s.discontinuity).collect();
    assert_eq!(marked, [false, false, true, false]);
}

#[test]
fn cut_rules() {
    let long_gop = Synth {
        gop: 250,
        ms: 10_000,
        ..AV
    };
    // Waiting for key frames: one segment per 10 s GOP.
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    let mut actions = feed(&mut seg, &synthetic(long_gop));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    assert_eq!(closes(&actions), [(0, 10_000)]);

    // Not waiting: cut at td_ratio × fragment = 3 s, at any video frame.
    let mut seg = HlsSegmenter::new(
        HlsConfig {
            wait_keyframe: false,
            ..config(2, 60)
        },
        "live",
        "cam",
    );
    let mut actions = feed(&mut seg, &synthetic(long_gop));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    assert_eq!(
        closes(&actions),
        [(0, 3000), (1, 3000), (2, 3000), (3, 1000)]
    );

    // Audio only: cut by time at aof_ratio × fragment = 4.2 s (the first
    // frame at or past it).
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    let mut actions = feed(&mut seg, &synthetic(Synth { video: false, ..AV }));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    let c = closes(&actions);
    assert_eq!(c.len(), 3);
    assert!(
        c[..2].iter().all(|&(_, d)| (4200..4224).contains(&d)),
        "{c:?}"
    );
    let text = last_playlist(&actions).unwrap();
    insta::assert_snapshot!("audio_only", text);
}

#[test]
fn templates_with_duration_and_time() {
    let mut seg = HlsSegmenter::new(
        HlsConfig {
            m3u8_file: "[app]/[stream]/index.m3u8".into(),
            ts_file: "[app]/[stream]/[2006][01][02]/[seq]-[duration].ts".into(),
            ..config(2, 60)
        },
        "live",
        "cam",
    );
    let mut actions = feed(&mut seg, &synthetic(Synth { ms: 4_000, ..AV }));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    let opened: Vec<&str> = actions
        .iter()
        .filter_map(|a| match a {
            HlsAction::OpenSegment { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    // 1_700_000_000_000 ms is 2023-11-14 UTC.
    assert_eq!(
        opened,
        [
            "live/cam/20231114/0-[duration].ts",
            "live/cam/20231114/1-[duration].ts"
        ]
    );
    let closed: Vec<&str> = actions
        .iter()
        .filter_map(|a| match a {
            HlsAction::CloseSegment { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        closed,
        ["live/cam/20231114/0-2000.ts", "live/cam/20231114/1-2000.ts"]
    );
    assert_eq!(seg.playlist_path(), Some("live/cam/index.m3u8"));
    let p = parse_media(&last_playlist(&actions).unwrap());
    assert_eq!(p.segments[1].uri, "20231114/1-2000.ts");
}

#[test]
fn entry_prefix_makes_segment_uris_absolute() {
    for (prefix, first) in [
        (
            "http://cdn.example.com/hls",
            "http://cdn.example.com/hls/live/cam-0.ts",
        ),
        (
            "http://cdn.example.com/live/",
            "http://cdn.example.com/live/cam-0.ts",
        ),
    ] {
        let mut seg = HlsSegmenter::new(
            HlsConfig {
                entry_prefix: Some(prefix.into()),
                ..config(2, 60)
            },
            "live",
            "cam",
        );
        let mut actions = feed(&mut seg, &synthetic(Synth { ms: 6_000, ..AV }));
        seg.on_unpublish();
        actions.extend(drain(&mut seg));
        let p = parse_media(&last_playlist(&actions).unwrap());
        assert_eq!(p.segments.len(), 3, "{prefix}");
        assert_eq!(p.segments[0].uri, first);
        // Files and deletes still use paths below the HLS root.
        assert!(actions.iter().any(|a| matches!(
            a,
            HlsAction::CloseSegment { path, .. } if path == "live/cam-0.ts"
        )));
    }
}

#[test]
fn dispose_is_data_for_the_runtime() {
    let mut seg = HlsSegmenter::new(
        HlsConfig {
            dispose: Duration::from_secs(30),
            ..config(2, 60)
        },
        "live",
        "cam",
    );
    assert_eq!(seg.dispose_after(), None);
    feed(&mut seg, &synthetic(Synth { ms: 4_000, ..AV }));
    assert_eq!(seg.dispose_after(), None, "still publishing");
    seg.on_unpublish();
    drain(&mut seg);
    assert_eq!(seg.dispose_after(), Some(Duration::from_secs(30)));
    seg.dispose();
    assert_eq!(deletes(&drain(&mut seg)), [0, 1]);
    assert_eq!(seg.dispose_after(), None, "nothing left");
    // Numbers continue after a dispose; no discontinuity in a fresh playlist.
    let mut actions = feed(&mut seg, &synthetic(Synth { ms: 2_000, ..AV }));
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    let p = parse_media(&last_playlist(&actions).unwrap());
    assert_eq!(p.media_sequence, 2);
    assert!(!p.segments[0].discontinuity);
}

#[test]
fn bad_frames_are_skipped_and_counted() {
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    // A frame before any sequence header, a truncated tag, an unknown codec.
    for body in [
        vec![0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65],
        vec![0x17],
        vec![0x13, 1],
    ] {
        assert!(seg
            .push(&media(MediaKind::Video, 0, true, false, body), 0)
            .is_err());
    }
    assert!(seg
        .push(&media(MediaKind::Audio, 0, false, false, vec![]), 0)
        .is_err());
    assert_eq!(seg.skipped_frames(), 4);
    let mut msgs = synthetic(Synth { ms: 4_000, ..AV });
    // A NAL length running past the end, in the middle of the stream.
    msgs.insert(
        20,
        media(
            MediaKind::Video,
            300,
            false,
            false,
            vec![0x27, 1, 0, 0, 0, 0, 0, 9, 0],
        ),
    );
    let mut actions = Vec::new();
    for m in &msgs {
        let _ = seg.push(m, 0);
        actions.extend(drain(&mut seg));
    }
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    assert_eq!(seg.skipped_frames(), 5);
    assert_eq!(closes(&actions).len(), 2, "the stream carried on");
}

#[test]
fn corpus_playlists_parse() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![dir.join("hls_playlists")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "m3u8") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 20, "found {} playlists", files.len());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let count = |tag: &str| text.lines().filter(|l| l.starts_with(tag)).count();
        match m3u8_rs::parse_playlist_res(text.as_bytes()) {
            Ok(m3u8_rs::Playlist::MediaPlaylist(p)) => {
                assert_eq!(p.segments.len(), count("#EXTINF"), "{}", f.display());
                assert_eq!(
                    p.segments.iter().filter(|s| s.discontinuity).count(),
                    count("#EXT-X-DISCONTINUITY") - count("#EXT-X-DISCONTINUITY-SEQUENCE"),
                    "{}",
                    f.display()
                );
            }
            Ok(m3u8_rs::Playlist::MasterPlaylist(p)) => {
                let normal = p.variants.iter().filter(|v| !v.is_i_frame).count();
                let i_frame = p.variants.len() - normal;
                assert_eq!(normal, count("#EXT-X-STREAM-INF"), "{}", f.display());
                // m3u8-rs drops I-frame tags whose attributes break the RFC
                // (this corpus has quoted RESOLUTIONs on purpose).
                assert!(
                    i_frame <= count("#EXT-X-I-FRAME-STREAM-INF"),
                    "{}",
                    f.display()
                );
                assert_eq!(count("#EXTINF"), 0);
            }
            Err(e) => panic!("{}: {e:?}", f.display()),
        }
    }
}

#[test]
fn discontinuity_sequence_counts_tags_that_left_the_window() {
    let mut seg = HlsSegmenter::new(config(2, 4), "live", "cam");
    let mut actions = feed(&mut seg, &synthetic(Synth { ms: 4_000, ..AV }));
    seg.on_unpublish();
    actions.extend(feed(&mut seg, &synthetic(Synth { ms: 4_000, ..AV })));
    let p = parse_media(&last_playlist(&actions).unwrap());
    assert_eq!(p.discontinuity_sequence, 0);
    assert!(p.segments.iter().any(|s| s.discontinuity));
    actions.extend(feed(
        &mut seg,
        &synthetic(Synth {
            ms: 6_000,
            start_ms: 4_000,
            ..AV
        })[2..],
    ));
    let text = last_playlist(&actions).unwrap();
    let p = parse_media(&text);
    assert_eq!(p.discontinuity_sequence, 1, "{text}");
    assert!(p.segments.iter().all(|s| !s.discontinuity));
    assert_eq!(p.media_sequence, 4);
}

#[test]
fn tiny_fragments_are_floored() {
    let mut seg = HlsSegmenter::new(
        HlsConfig {
            fragment: Duration::ZERO,
            ..config(2, 60)
        },
        "live",
        "cam",
    );
    let mut actions = feed(
        &mut seg,
        &synthetic(Synth {
            video: false,
            ms: 2_000,
            ..AV
        }),
    );
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    let c = closes(&actions);
    assert!(c.len() >= 8, "{c:?}");
    assert!(
        c[..c.len() - 1]
            .iter()
            .all(|&(_, d)| (200..224).contains(&d)),
        "{c:?}"
    );
}

#[test]
fn a_late_track_still_joins_the_first_segment() {
    // The AAC sequence header (and audio) arrives after three video frames.
    let mut msgs = synthetic(Synth { ms: 4_000, ..AV });
    let header = msgs.remove(1);
    assert!(header.flags.sequence_header && header.kind == MediaKind::Audio);
    msgs.retain(|m| m.kind == MediaKind::Video || m.timestamp > 80);
    let at = msgs.iter().position(|m| m.timestamp > 80).unwrap();
    msgs.insert(at, header);
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    let mut actions = feed(&mut seg, &msgs);
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    assert_eq!(closes(&actions), [(0, 2000), (1, 2000)]);
    let p = parse_media(&last_playlist(&actions).unwrap());
    assert!(p.segments.iter().all(|s| !s.discontinuity));
    let first: Vec<u8> = actions
        .iter()
        .filter_map(|a| match a {
            HlsAction::Append { seq: 0, bytes } => Some(bytes.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    let report = ts_support::read_transport_stream(&first, &mut Default::default());
    assert!(report.pes[0].random_access && report.pes[0].pid == media_core::ts::PID_VIDEO);
    assert!(report
        .pes
        .iter()
        .any(|p| p.pid == media_core::ts::PID_AUDIO));

    // Video alone waits for the probe, then starts at its first key frame.
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    let mut actions = feed(
        &mut seg,
        &synthetic(Synth {
            audio: false,
            ms: 4_000,
            ..AV
        }),
    );
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    assert_eq!(closes(&actions), [(0, 2000), (1, 2000)]);

    // A stream shorter than the probe still gets its segment at unpublish.
    let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
    let mut actions = feed(
        &mut seg,
        &synthetic(Synth {
            audio: false,
            ms: 400,
            ..AV
        }),
    );
    assert!(closes(&actions).is_empty());
    seg.on_unpublish();
    actions.extend(drain(&mut seg));
    assert_eq!(closes(&actions), [(0, 400)]);
}

/// With timestamps that never advance the time rules never cut; the size
/// cap does: at the next key frame from half of it on, at any frame from it
/// on (so video without key frames is bounded too).
#[test]
fn a_segment_whose_clock_stands_still_is_cut_by_size() {
    use media_core::hls::MAX_SEGMENT_BYTES;
    const FRAME: usize = 4 << 20;
    let frame = |key: bool| {
        let mut b = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        b.extend_from_slice(&(FRAME as u32).to_be_bytes());
        b.push(if key { 0x65 } else { 0x41 });
        b.resize(b.len() + FRAME - 1, 0xAB);
        media(MediaKind::Video, 0, key, false, b)
    };
    let (key, inter) = (frame(true), frame(false));
    // TS bytes per segment, and the segments closed.
    let run = |first: &media_core::MediaMessage, rest: &media_core::MediaMessage| {
        let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
        for m in &synthetic(Synth { ms: 0, ..AV })[..2] {
            seg.push(m, 0).unwrap();
        }
        let mut bytes = std::collections::BTreeMap::<u64, u64>::new();
        let mut closed = Vec::new();
        seg.push(first, 0).unwrap();
        for _ in 0..MAX_SEGMENT_BYTES / FRAME as u64 + 4 {
            seg.push(rest, 0).unwrap();
            for a in drain(&mut seg) {
                match a {
                    HlsAction::Append { seq, bytes: b } => {
                        *bytes.entry(seq).or_default() += b.len() as u64
                    }
                    HlsAction::CloseSegment {
                        seq, duration_ms, ..
                    } => closed.push((seq, duration_ms)),
                    _ => {}
                }
            }
        }
        (bytes, closed)
    };
    // Key frames: cut once half the cap is reached.
    let (bytes, closed) = run(&key, &key);
    assert!(closed.len() >= 2, "{closed:?}");
    for (seq, duration) in &closed {
        assert_eq!(*duration, 0);
        let b = bytes[seq];
        assert!(
            (MAX_SEGMENT_BYTES / 2..MAX_SEGMENT_BYTES / 2 + 2 * FRAME as u64).contains(&b),
            "{seq}: {b}"
        );
    }
    // One key frame, then never another: cut at the cap itself.
    let (bytes, closed) = run(&key, &inter);
    assert_eq!(closed.len(), 1, "{closed:?}");
    let b = bytes[&0];
    assert!(
        (MAX_SEGMENT_BYTES..MAX_SEGMENT_BYTES + 2 * FRAME as u64).contains(&b),
        "{b}"
    );
}

/// With timestamps that stand still and no second track, neither the time
/// nor the frame cap ends the probe; the byte cap does, counting the whole
/// message a frame keeps alive (here mostly an AUD the frame leaves out).
#[test]
fn the_probe_is_bounded_by_bytes() {
    use media_core::hls::PROBE_MAX_BYTES;
    const FRAME: usize = 4 << 20;
    let mut plain = vec![0x17, 1, 0, 0, 0];
    plain.extend_from_slice(&(FRAME as u32).to_be_bytes());
    plain.push(0x65);
    plain.resize(plain.len() + FRAME - 1, 0xAB);
    let mut padded = vec![0x17, 1, 0, 0, 0];
    padded.extend_from_slice(&(FRAME as u32).to_be_bytes());
    padded.extend_from_slice(&[0x09, 0xF0]);
    padded.resize(padded.len() + FRAME - 2, 0);
    padded.extend_from_slice(&[0, 0, 0, 2, 0x65, 0x88]);
    for body in [plain, padded] {
        let mut seg = HlsSegmenter::new(config(2, 60), "live", "cam");
        seg.push(&synthetic(Synth { ms: 0, ..AV })[0], 0).unwrap();
        let key = media(MediaKind::Video, 0, true, false, body);
        let mut pushed = 0;
        while !drain(&mut seg)
            .iter()
            .any(|a| matches!(a, HlsAction::OpenSegment { .. }))
        {
            assert!(pushed * FRAME < PROBE_MAX_BYTES, "still probing");
            seg.push(&key, 0).unwrap();
            pushed += 1;
        }
        assert_eq!(pushed, PROBE_MAX_BYTES.div_ceil(FRAME));
    }
}
