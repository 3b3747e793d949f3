//! HLS in fragmented MP4 (`hls_use_fmp4`): the playlist parsed with m3u8-rs,
//! the init and media segments walked box by box.

mod hls_support;

use std::time::Duration;

use hls_support::{parse_media, synthetic, Executor, Synth};
use media_core::hls::{HlsConfig, HlsSegmenter};

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

/// (type, offset, size) of the boxes in `b[from..to]`; they must tile it.
fn boxes(b: &[u8], from: usize, to: usize) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let size = u32_at(b, at) as usize;
        assert!(size >= 8 && at + size <= to, "box at {at} of size {size}");
        out.push((b[at + 4..at + 8].try_into().unwrap(), at, size));
        at += size;
    }
    assert_eq!(at, to);
    out
}

fn kinds(list: &[([u8; 4], usize, usize)]) -> Vec<String> {
    list.iter()
        .map(|(k, _, _)| String::from_utf8_lossy(k).into_owned())
        .collect()
}

fn fmp4_config() -> HlsConfig {
    HlsConfig {
        fragment: Duration::from_secs(2),
        window: Duration::from_secs(3600),
        use_fmp4: true,
        ..HlsConfig::default()
    }
}

fn run(name: &str, synth: Synth) -> (std::path::PathBuf, Executor) {
    let dir = std::env::temp_dir().join(format!("hls-fmp4-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut seg = HlsSegmenter::new(fmp4_config(), "live", "test");
    let mut exec = Executor::new(dir.clone());
    for m in synthetic(synth) {
        seg.push(&m, 1_700_000_000_000 + m.timestamp).unwrap();
        exec.run(&mut seg);
    }
    seg.on_unpublish();
    exec.run(&mut seg);
    assert_eq!(seg.skipped_frames(), 0);
    (dir, exec)
}

#[test]
fn h264_and_aac_make_cmaf_segments_listed_with_their_init() {
    let (dir, exec) = run(
        "av",
        Synth {
            video: true,
            audio: true,
            gop: 25,
            ms: 7_000,
            start_ms: 0,
        },
    );
    let text = exec.playlists_written.last().unwrap().clone();
    let playlist = parse_media(&text);
    assert_eq!(playlist.version, Some(7), "{text}");
    let map = playlist.segments[0].map.as_ref().expect("EXT-X-MAP");
    assert_eq!(map.uri, "test/init.mp4");
    assert_eq!(text.matches("#EXT-X-MAP").count(), 1, "{text}");
    // 2 s fragments over 1 s GOPs: cuts at 2, 4, 6 s.
    let uris: Vec<_> = playlist.segments.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(
        uris,
        ["test-0.m4s", "test-1.m4s", "test-2.m4s", "test-3.m4s"]
    );
    let durations: Vec<_> = playlist.segments.iter().map(|s| s.duration).collect();
    assert_eq!(durations, [2.0, 2.0, 2.0, 1.0]);

    // The init: ftyp (CMAF brands) and moov with avc1 and mp4a entries.
    let init = std::fs::read(dir.join("live/test/init.mp4")).unwrap();
    let top = boxes(&init, 0, init.len());
    assert_eq!(kinds(&top), ["ftyp", "moov"]);
    assert_eq!(&init[8..12], b"iso6");
    assert!(init[..top[0].2].windows(4).any(|w| w == b"cmfc"));
    let moov = &init[top[1].1..top[1].1 + top[1].2];
    let has = |needle: &[u8]| moov.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"avc1") && has(b"avcC") && has(b"mp4a") && has(b"esds") && has(b"mvex"));
    assert_eq!(
        kinds(&boxes(moov, 8, moov.len())),
        ["mvhd", "trak", "trak", "mvex"]
    );

    // Every segment is moof+mdat fragments only; fragment numbers and each
    // track's baseMediaDecodeTime increase, and each track is continuous.
    let mut last_sequence = 0;
    let mut next_time = [None::<u64>; 3];
    let mut total = [0u64; 3];
    for uri in uris {
        let seg = std::fs::read(dir.join("live").join(uri)).unwrap();
        let top = boxes(&seg, 0, seg.len());
        let names = kinds(&top);
        assert!(
            !names.is_empty() && names.len().is_multiple_of(2),
            "{uri}: {names:?}"
        );
        for (i, (kind, at, size)) in top.iter().enumerate() {
            if i % 2 == 1 {
                assert_eq!(kind, b"mdat", "{uri}");
                continue;
            }
            assert_eq!(kind, b"moof", "{uri}");
            let inner = boxes(&seg, at + 8, at + size);
            assert_eq!(&inner[0].0, b"mfhd");
            let sequence = u32_at(&seg, inner[0].1 + 12);
            assert!(sequence > last_sequence, "{uri}: mfhd {sequence}");
            last_sequence = sequence;
            for (k, traf_at, traf_size) in &inner[1..] {
                assert_eq!(k, b"traf");
                let parts = boxes(&seg, traf_at + 8, traf_at + traf_size);
                assert_eq!(kinds(&parts), ["tfhd", "tfdt", "trun"]);
                let track = u32_at(&seg, parts[0].1 + 12) as usize;
                assert_eq!(seg[parts[1].1 + 8], 1, "tfdt version 1");
                let base = u64_at(&seg, parts[1].1 + 12);
                if let Some(expected) = next_time[track] {
                    assert_eq!(base, expected, "{uri}: track {track} continues");
                }
                let trun = parts[2].1;
                let count = u32_at(&seg, trun + 12) as usize;
                let sum: u64 = (0..count)
                    .map(|s| u64::from(u32_at(&seg, trun + 20 + s * 16)))
                    .sum();
                next_time[track] = Some(base + sum);
                total[track] += sum;
            }
        }
        // A video segment starts with a sync sample (trun's first flags).
        let first_traf = boxes(&seg, top[0].1 + 8, top[0].1 + top[0].2)[1];
        let parts = boxes(&seg, first_traf.1 + 8, first_traf.1 + first_traf.2);
        assert_eq!(u32_at(&seg, parts[0].1 + 12), 1, "video first");
        assert_eq!(u32_at(&seg, parts[2].1 + 20 + 8), 0x0200_0000, "{uri}");
    }
    assert_eq!(total[1], 7_000, "175 frames of 40 ms");
    assert!(total[2] >= 301 * 1024, "every AAC frame: {}", total[2]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_republish_gets_a_new_init_after_a_discontinuity() {
    let dir = std::env::temp_dir().join(format!("hls-fmp4-repub-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = HlsConfig {
        init_file: "[app]/[stream]-init-[seq].mp4".into(),
        ..fmp4_config()
    };
    let mut seg = HlsSegmenter::new(config, "live", "test");
    let mut exec = Executor::new(dir.clone());
    let synth = Synth {
        video: true,
        audio: true,
        gop: 25,
        ms: 3_000,
        start_ms: 0,
    };
    for round in 0..2 {
        seg.on_republish();
        for m in synthetic(synth) {
            seg.push(&m, 1_700_000_000_000 + m.timestamp).unwrap();
            exec.run(&mut seg);
        }
        seg.on_unpublish();
        exec.run(&mut seg);
        assert!(dir
            .join(format!("live/test-init-{}.mp4", round * 2))
            .exists());
    }
    let text = exec.playlists_written.last().unwrap().clone();
    let playlist = parse_media(&text);
    assert_eq!(playlist.segments.len(), 4, "{text}");
    assert!(playlist.segments[2].discontinuity);
    assert_eq!(
        playlist.segments[2].map.as_ref().map(|m| m.uri.as_str()),
        Some("test-init-2.mp4"),
        "{text}"
    );
    assert_eq!(text.matches("#EXT-X-MAP").count(), 2, "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn audio_only_streams_are_cut_by_time() {
    let (dir, exec) = run(
        "a",
        Synth {
            video: false,
            audio: true,
            gop: 25,
            ms: 10_000,
            start_ms: 0,
        },
    );
    let playlist = parse_media(exec.playlists_written.last().unwrap());
    // hls_aof_ratio 2.1 × 2 s.
    assert_eq!(playlist.segments.len(), 3);
    let init = std::fs::read(dir.join("live/test/init.mp4")).unwrap();
    assert!(init.windows(4).any(|w| w == b"mp4a"));
    assert!(!init.windows(4).any(|w| w == b"avc1"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `msg` as an E-RTMP v2 OneTrack multitrack message of track `id` (legacy
/// AVC or AAC in, `avc1`/`mp4a` out).
fn one_track(msg: &media_core::MediaMessage, id: u8) -> media_core::MediaMessage {
    use media_core::MediaKind;
    let p = &msg.payload;
    let mut b = Vec::new();
    match msg.kind {
        MediaKind::Video => {
            let packet = p[1]; // 0 sequence start, 1 coded frames (with cts)
            let body = if packet == 0 { &p[5..] } else { &p[2..] };
            b.push(0x80 | (p[0] & 0xF0) | 6);
            b.push(packet); // OneTrack (0) in the high nibble
            b.extend_from_slice(b"avc1");
            b.push(id);
            b.extend_from_slice(body);
        }
        MediaKind::Audio => {
            b.push(0x95); // ExHeader, Multitrack
            b.push(p[1]); // OneTrack; 0 sequence start, 1 coded frames
            b.extend_from_slice(b"mp4a");
            b.push(id);
            b.extend_from_slice(&p[2..]);
        }
        MediaKind::Data => return msg.clone(),
    }
    media_core::MediaMessage {
        payload: bytes::Bytes::from(b),
        ..msg.clone()
    }
}

#[test]
fn multitrack_streams_are_sliced_from_their_default_track() {
    let dir = std::env::temp_dir().join(format!("hls-fmp4-mt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut seg = HlsSegmenter::new(fmp4_config(), "live", "test");
    let mut exec = Executor::new(dir.clone());
    let synth = Synth {
        video: true,
        audio: true,
        gop: 25,
        ms: 3_000,
        start_ms: 0,
    };
    for m in synthetic(synth) {
        // Track 1 carries other media: it must not reach the segments.
        seg.push(&one_track(&m, 1), 1_700_000_000_000 + m.timestamp)
            .unwrap();
        seg.push(&one_track(&m, 0), 1_700_000_000_000 + m.timestamp)
            .unwrap();
        exec.run(&mut seg);
    }
    seg.on_unpublish();
    exec.run(&mut seg);
    assert_eq!(seg.skipped_frames(), 0);
    let playlist = parse_media(exec.playlists_written.last().unwrap());
    let durations: Vec<_> = playlist.segments.iter().map(|s| s.duration).collect();
    assert_eq!(durations, [2.0, 1.0]);
    let init = std::fs::read(dir.join("live/test/init.mp4")).unwrap();
    assert!(init.windows(4).any(|w| w == b"avc1") && init.windows(4).any(|w| w == b"mp4a"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// LL-HLS: 200 ms parts that add up to their segments byte for byte and
/// in time, listed with EXT-X-PART (INDEPENDENT at key frames), a preload
/// hint for the next one, and a delta update once the window is longer
/// than CAN-SKIP-UNTIL.
#[test]
fn low_latency_parts_make_up_their_segments() {
    use media_core::hls::HlsAction;
    use std::collections::BTreeMap;
    let config = HlsConfig {
        low_latency: true,
        part_duration: Duration::from_millis(200),
        ..fmp4_config()
    };
    let mut seg = HlsSegmenter::new(config, "live", "test");
    let synth = Synth {
        video: true,
        audio: true,
        gop: 25,
        ms: 20_000,
        start_ms: 0,
    };
    let mut parts: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut segments: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut positions = Vec::new();
    let mut last = None;
    let mut record = |seg: &mut HlsSegmenter| {
        while let Some(a) = seg.poll_action() {
            match a {
                HlsAction::PublishPart { msn, path, bytes } => {
                    assert!(path.starts_with(&format!("live/test-{msn}.")), "{path}");
                    parts.entry(msn).or_default().extend_from_slice(&bytes);
                }
                HlsAction::Append { seq, bytes } => {
                    segments.entry(seq).or_default().extend_from_slice(&bytes)
                }
                HlsAction::LivePlaylist {
                    full,
                    delta,
                    msn,
                    parts,
                    ..
                } => {
                    positions.push((msn, parts));
                    last = Some((full, delta));
                }
                _ => {}
            }
        }
    };
    for m in synthetic(synth) {
        seg.push(&m, 1_700_000_000_000 + m.timestamp).unwrap();
        record(&mut seg);
    }
    assert_eq!(seg.skipped_frames(), 0);
    // Every closed segment is exactly its parts.
    for (seq, bytes) in &segments {
        if *seq < 9 {
            assert_eq!(parts.get(seq), Some(bytes), "segment {seq}");
        }
    }
    // What a blocking request can wait for only moves forward.
    assert!(positions.windows(2).all(|w| w[1] >= w[0]), "{positions:?}");
    let (full, delta) = last.unwrap();
    eprintln!("{full}\n{delta}");
    let playlist = parse_media(&full);
    assert_eq!(playlist.version, Some(9));
    assert!(
        full.contains("#EXT-X-PART-INF:PART-TARGET=0.200\n"),
        "{full}"
    );
    assert!(full.contains(
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=0.600\n"
    ));
    // The segment being written: its parts so far, and a hint at the next.
    let (msn, n) = *positions.last().unwrap();
    assert!(full.ends_with(&format!(
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"test-{msn}.{n}.m4s\"\n"
    )));
    let part_lines: Vec<&str> = full
        .lines()
        .filter(|l| l.starts_with("#EXT-X-PART:"))
        .collect();
    // Three closed segments of 10 parts, and the open one's.
    assert_eq!(part_lines.len(), 30 + n as usize, "{full}");
    assert!(part_lines
        .iter()
        .all(|l| l.starts_with("#EXT-X-PART:DURATION=0.200,URI=\"test-")));
    assert_eq!(
        part_lines
            .iter()
            .filter(|l| l.ends_with("INDEPENDENT=YES"))
            .count(),
        3 * 2 + usize::from(n > 0) + usize::from(n > 5),
        "a key frame every 5 parts"
    );
    // 9 closed segments of 2 s; those ending over 12 s before the end go.
    assert!(
        delta.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n"),
        "{delta}"
    );
    assert_eq!(
        delta.matches("#EXTINF").count() + 3,
        full.matches("#EXTINF").count()
    );
}

/// hls_cleanup deletes an init segment once no listed segment names it;
/// hls_dispose deletes the rest with the segments.
#[test]
fn init_segments_go_when_no_segment_names_them() {
    let dir = std::env::temp_dir().join(format!("hls-fmp4-inits-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = HlsConfig {
        init_file: "[app]/[stream]-init-[seq].mp4".into(),
        window: Duration::from_secs(3),
        dispose: Duration::from_secs(1),
        ..fmp4_config()
    };
    let mut seg = HlsSegmenter::new(config, "live", "test");
    let mut exec = Executor::new(dir.clone());
    let synth = Synth {
        video: true,
        audio: true,
        gop: 25,
        ms: 3_000,
        start_ms: 0,
    };
    let init = |n: u64| dir.join(format!("live/test-init-{n}.mp4"));
    for round in 0..2 {
        seg.on_republish();
        for m in synthetic(synth) {
            seg.push(&m, 1_700_000_000_000 + m.timestamp).unwrap();
            exec.run(&mut seg);
        }
        seg.on_unpublish();
        exec.run(&mut seg);
        if round == 0 {
            assert!(init(0).exists());
        }
    }
    // Segments 0 and 1 (the first init's) left the 3 s window.
    let playlist = parse_media(exec.playlists_written.last().unwrap());
    assert_eq!(playlist.segments.len(), 2);
    assert!(!init(0).exists(), "the first init went with its segments");
    assert!(init(2).exists());
    seg.dispose();
    exec.run(&mut seg);
    assert!(!init(2).exists(), "hls_dispose removes the init too");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `count` Opus messages (an `OpusHead` first, then 20 ms CELT packets)
/// from `start_ms`.
fn opus_stream(start_ms: u64, ms: u64) -> Vec<media_core::MediaMessage> {
    use media_core::MediaKind;
    let head = b"\x90OpusOpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00".to_vec();
    let mut out = vec![hls_support::media(
        MediaKind::Audio,
        start_ms,
        false,
        true,
        head,
    )];
    for i in 0..ms / 20 {
        let mut b = b"\x91Opus\xfc".to_vec();
        b.extend((0..40).map(|k| (k + i) as u8));
        out.push(hls_support::media(
            MediaKind::Audio,
            start_ms + i * 20,
            false,
            false,
            b,
        ));
    }
    out
}

/// libsvtav1's `av01` record for 320x180, then a 25 fps AV1 stream (key
/// frames every `gop` frames carrying the sequence header, every temporal
/// unit starting with a temporal delimiter).
fn av1_stream(start_ms: u64, ms: u64, gop: u64) -> Vec<media_core::MediaMessage> {
    use media_core::MediaKind;
    const RECORD: &[u8] = &[
        0x81, 0x00, 0x0c, 0x00, 0x0a, 0x0b, 0x02, 0x00, 0x00, 0x05, 0x21, 0xe7, 0xf6, 0x60, 0x17,
        0xc0, 0x02,
    ];
    let mut out = vec![hls_support::media(
        MediaKind::Video,
        start_ms,
        true,
        true,
        [&b"\x90av01"[..], RECORD].concat(),
    )];
    for i in 0..ms / 40 {
        let key = i % gop == 0;
        let mut b = if key {
            b"\x91av01".to_vec()
        } else {
            b"\xa1av01".to_vec()
        };
        b.extend_from_slice(&[0x12, 0x00]);
        if key {
            b.extend_from_slice(&RECORD[4..]);
        }
        b.extend_from_slice(&[0x32, 0x02, i as u8, 0xbb]);
        out.push(hls_support::media(
            MediaKind::Video,
            start_ms + i * 40,
            key,
            false,
            b,
        ));
    }
    out
}

fn by_time(mut msgs: Vec<media_core::MediaMessage>) -> Vec<media_core::MediaMessage> {
    // Sequence headers first, then by timestamp (stable).
    msgs.sort_by_key(|m| (!m.flags.sequence_header, m.timestamp));
    msgs
}

/// TS config (`hls_use_fmp4` off), 2 s fragments.
fn ts_config() -> HlsConfig {
    HlsConfig {
        fragment: Duration::from_secs(2),
        window: Duration::from_secs(3600),
        ..HlsConfig::default()
    }
}

fn segment_all(
    name: &str,
    config: HlsConfig,
    publishes: &[Vec<media_core::MediaMessage>],
) -> (std::path::PathBuf, Executor, HlsSegmenter) {
    let dir = std::env::temp_dir().join(format!("hls-fmp4-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut seg = HlsSegmenter::new(config, "live", "test");
    let mut exec = Executor::new(dir.clone());
    for msgs in publishes {
        seg.on_republish();
        for m in msgs {
            let _ = seg.push(m, 1_700_000_000_000 + m.timestamp);
            exec.run(&mut seg);
        }
        seg.on_unpublish();
        exec.run(&mut seg);
    }
    (dir, exec, seg)
}

/// `hls_fmp4_fallback` (on by default): H.264 with Opus, which MPEG-TS
/// cannot carry, is sliced in fMP4 with both tracks, without a TS segment.
#[test]
fn a_codec_ts_cannot_carry_turns_the_playlist_to_fmp4() {
    let mut msgs = synthetic(Synth {
        video: true,
        audio: false,
        gop: 25,
        ms: 5_000,
        start_ms: 0,
    });
    msgs.extend(opus_stream(0, 5_000));
    let (dir, exec, seg) = segment_all("fallback", ts_config(), &[by_time(msgs)]);
    assert_eq!(seg.fmp4_fallback(), Some("Opus"));
    assert!(seg.is_fmp4());
    assert_eq!(seg.skipped_frames(), 0);
    let text = exec.playlists_written.last().unwrap().clone();
    let playlist = parse_media(&text);
    assert_eq!(playlist.version, Some(7), "{text}");
    assert!(
        playlist.segments.iter().all(|s| s.uri.ends_with(".m4s")),
        "{text}"
    );
    assert_eq!(
        playlist.segments[0].map.as_ref().unwrap().uri,
        "test/init.mp4"
    );
    assert!(!playlist.segments[0].discontinuity, "nothing before it");
    let init = std::fs::read(dir.join("live/test/init.mp4")).unwrap();
    let has = |needle: &[u8]| init.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"avc1") && has(b"Opus") && has(b"dOps"), "both tracks");
    let listed: f32 = playlist.segments.iter().map(|s| s.duration).sum();
    assert!((listed - 5.0).abs() < 0.05, "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With `hls_fmp4_fallback off`, the same stream stays TS: its video is
/// sliced, every Opus frame skipped (the runtime logs why).
#[test]
fn without_the_fallback_ts_skips_what_it_cannot_carry() {
    let mut msgs = synthetic(Synth {
        video: true,
        audio: false,
        gop: 25,
        ms: 5_000,
        start_ms: 0,
    });
    msgs.extend(opus_stream(0, 5_000));
    let config = HlsConfig {
        fmp4_fallback: false,
        ..ts_config()
    };
    let (dir, exec, seg) = segment_all("nofallback", config, &[by_time(msgs)]);
    assert_eq!(seg.fmp4_fallback(), None);
    assert!(!seg.is_fmp4());
    assert_eq!(seg.skipped_frames(), 250, "every Opus packet");
    let text = exec.playlists_written.last().unwrap().clone();
    let playlist = parse_media(&text);
    assert_eq!(playlist.version, Some(3), "{text}");
    assert!(
        playlist.segments.iter().all(|s| s.uri.ends_with(".ts")),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// TS for H.264 + AAC; a republish in AV1 goes on in fMP4 after a
/// discontinuity, and the playlist stays fMP4 when H.264 comes back (a TS
/// segment may not follow an EXT-X-MAP).
#[test]
fn a_republish_with_av1_goes_on_in_fmp4_after_ts() {
    let avc = || {
        synthetic(Synth {
            video: true,
            audio: true,
            gop: 25,
            ms: 4_000,
            start_ms: 0,
        })
    };
    let mut av1 = av1_stream(0, 4_000, 25);
    av1.extend(synthetic(Synth {
        video: false,
        audio: true,
        gop: 25,
        ms: 4_000,
        start_ms: 0,
    }));
    let (dir, exec, seg) = segment_all("switch", ts_config(), &[avc(), by_time(av1), avc()]);
    assert_eq!(seg.fmp4_fallback(), Some("AV1"));
    assert_eq!(seg.skipped_frames(), 0);
    let text = exec.playlists_written.last().unwrap().clone();
    let playlist = parse_media(&text);
    assert_eq!(playlist.version, Some(7), "{text}");
    let uris: Vec<&str> = playlist.segments.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "test-0.ts",
            "test-1.ts",
            "test-2.m4s",
            "test-3.m4s",
            "test-4.m4s",
            "test-5.m4s"
        ],
        "{text}"
    );
    assert!(playlist.segments[0].map.is_none() && playlist.segments[1].map.is_none());
    let first_fmp4 = &playlist.segments[2];
    assert!(
        first_fmp4.discontinuity && first_fmp4.map.is_some(),
        "{text}"
    );
    assert!(playlist.segments[4].discontinuity, "{text}");
    // Each publish's init declares its codecs: AV1 + AAC, then H.264 + AAC.
    let init = std::fs::read(dir.join("live/test/init.mp4")).unwrap();
    let has = |needle: &[u8]| init.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"avc1") && has(b"mp4a") && !has(b"av01"));
    let av1_segment = std::fs::read(dir.join("live/test-2.m4s")).unwrap();
    assert_eq!(&av1_segment[4..8], b"moof");
    std::fs::remove_dir_all(&dir).unwrap();
}
