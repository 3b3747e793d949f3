//! HLS in fragmented MP4 of the codecs MPEG-TS cannot carry, end to end on
//! both server binaries: the modern ffmpeg publishes HEVC + Opus, AV1 +
//! FLAC and VP9 + AC-3 over Enhanced RTMP.
//!
//! With `hls_use_fmp4 on`, the playlist (parsed with m3u8-rs) names an
//! init segment and `.m4s` segments; the init's sample entries are the
//! codecs' (`hvc1`+`Opus`, `av01`+`fLaC`, `vp09`+`ac-3`) and each segment
//! is `moof`+`mdat` pairs with a fragment of both tracks; ffprobe lists
//! both streams with the right codecs from the playlist, and ffmpeg (Debian's
//! and the modern one) decodes it without an error line.
//!
//! With the default config (TS), AV1 + FLAC is sliced in fMP4 all the same
//! (`hls_fmp4_fallback`), and the log says so once; with `hls_fmp4_fallback
//! off`, HEVC + Opus is TS with the video only, and a warning names Opus.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::*;

/// ffmpeg reads a live playlist from its first segment and, once two
/// reloads bring nothing new, ends (rather than waiting for more).
const LIVE_TO_END: &[&str] = &["-live_start_index", "0", "-m3u8_hold_counters", "2"];

/// One codec pair: the encoder and its fast options, the audio encoder,
/// the codec names ffprobe gives them, their sample entry types.
struct Pair {
    video: &'static [&'static str],
    audio: &'static str,
    probed: [&'static str; 2],
    entries: [&'static [u8; 4]; 2],
}

const PAIRS: &[Pair] = &[
    Pair {
        video: &[
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
        ],
        audio: "libopus",
        probed: ["hevc", "opus"],
        entries: [b"hvc1", b"Opus"],
    },
    Pair {
        video: &[
            "libsvtav1",
            "-preset",
            "12",
            "-svtav1-params",
            "log-level=0",
        ],
        audio: "flac",
        probed: ["av1", "flac"],
        entries: [b"av01", b"fLaC"],
    },
    Pair {
        video: &["libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
        audio: "ac3",
        probed: ["vp9", "ac3"],
        entries: [b"vp09", b"ac-3"],
    },
];

/// A 4 s FLV of the pair, 1 s GOPs, written by the modern ffmpeg.
fn clip(ffmpeg: &Path, dir: &Path, pair: &Pair) -> PathBuf {
    let out = dir.join(format!("{}.flv", pair.probed[0]));
    let (ok, _, err) = run(
        Command::new(ffmpeg)
            .args(["-v", "error", "-y"])
            .args(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-t", "4", "-g", "25", "-pix_fmt", "yuv420p", "-c:v"])
            .args(pair.video)
            .args(["-c:a", pair.audio, "-f", "flv"])
            .arg(&out),
        Duration::from_secs(90),
    );
    assert!(ok, "the modern ffmpeg writes {:?}: {err}", pair.probed);
    out
}

/// A server whose vhost's `hls` block has `extra` too.
fn start(bin: &Path, extra: &str) -> ServerProcess {
    ServerProcess::start_from(bin, |dir| {
        test_config(dir, "", "").replacen(
            "hls_window 60;",
            &format!("hls_window 60;\n        {extra}"),
            1,
        )
    })
}

fn parse(text: &str) -> m3u8_rs::MediaPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(m3u8_rs::Playlist::MediaPlaylist(p)) => p,
        other => panic!("not a media playlist: {other:?}\n{text}"),
    }
}

/// (type, body) of the boxes that tile `data`.
fn boxes(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        assert!(rest.len() >= 8, "a box header cut short");
        let size = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        assert!(size >= 8 && size <= rest.len(), "box size {size}");
        out.push((rest[4..8].try_into().unwrap(), &rest[8..size]));
        rest = &rest[size..];
    }
    out
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> &'a [u8] {
    boxes(data)
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no {}", String::from_utf8_lossy(kind)))
}

/// The sample entry type of each track of an init segment, in track order.
fn sample_entries(init: &[u8]) -> Vec<[u8; 4]> {
    let top = boxes(init);
    assert_eq!(&top[0].0, b"ftyp");
    let moov = child(init, b"moov");
    boxes(moov)
        .into_iter()
        .filter(|(k, _)| k == b"trak")
        .map(|(_, trak)| {
            let stbl = child(child(child(trak, b"mdia"), b"minf"), b"stbl");
            let stsd = child(stbl, b"stsd");
            // FullBox header and entry count, then the entry.
            boxes(&stsd[8..])[0].0
        })
        .collect()
}

/// Checks a segment's boxes: `moof`+`mdat` pairs, and returns how many
/// track fragments the first `moof` has.
fn fragments(segment: &[u8]) -> usize {
    let top = boxes(segment);
    assert!(
        !top.is_empty() && top.len().is_multiple_of(2),
        "moof+mdat pairs"
    );
    for pair in top.chunks(2) {
        assert_eq!((&pair[0].0, &pair[1].0), (b"moof", b"mdat"));
        let trafs = boxes(pair[0].1).into_iter().filter(|(k, _)| k == b"traf");
        for (_, traf) in trafs {
            let kinds: Vec<[u8; 4]> = boxes(traf).into_iter().map(|(k, _)| k).collect();
            assert_eq!(kinds, [*b"tfhd", *b"tfdt", *b"trun"]);
        }
    }
    boxes(top[0].1)
        .into_iter()
        .filter(|(k, _)| k == b"traf")
        .count()
}

/// ffprobe's codec names of the playlist's streams, sorted.
fn probed_codecs(url: &str) -> Vec<String> {
    let (ok, out, err) = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-live_start_index", "0"])
            .args(["-of", "json", "-show_streams"])
            .arg(url),
        Duration::from_secs(30),
    );
    assert!(ok && err.trim().is_empty(), "ffprobe {url}: {err}");
    let probed: serde_json::Value = serde_json::from_str(&out).expect("ffprobe json");
    let mut codecs: Vec<String> = probed["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|s| s["codec_name"].as_str().map(str::to_owned))
        .collect();
    codecs.sort();
    codecs
}

/// `ffmpeg -v error -i URL -f null -` prints nothing, with each ffmpeg.
fn decodes_cleanly(ffmpegs: &[&Path], url: &str) {
    for ffmpeg in ffmpegs {
        let (ok, _, err) = run(
            Command::new(ffmpeg)
                .args(["-v", "error"])
                .args(LIVE_TO_END)
                .args(["-i", url, "-f", "null", "-"]),
            Duration::from_secs(60),
        );
        assert!(
            ok && err.trim().is_empty(),
            "{} {url}: {err}",
            ffmpeg.display()
        );
    }
}

/// The fMP4 playlist of `stream` and what it names: the m3u8-rs view, the
/// init's sample entries, every segment's boxes, ffprobe's codecs, a clean
/// decode.
fn check_fmp4(server: &ServerProcess, stream: &str, text: &str, pair: &Pair, modern: &Path) {
    eprintln!("{stream}:\n{text}");
    let playlist = parse(text);
    assert_eq!(playlist.version, Some(7), "{text}");
    assert!(playlist.segments.len() >= 2, "{text}");
    let map = playlist.segments[0].map.as_ref().expect("EXT-X-MAP");
    assert_eq!(map.uri, format!("{stream}/init.mp4"));
    let listed: f32 = playlist.segments.iter().map(|s| s.duration).sum();
    assert!(
        (listed - 4.0).abs() <= 0.1,
        "listed {listed} s of 4:\n{text}"
    );

    let (status, _, init) = http("GET", server.http, &format!("/live/{}", map.uri));
    assert_eq!(status, 200);
    let entries = sample_entries(&init);
    assert_eq!(entries, [*pair.entries[0], *pair.entries[1]], "{stream}");
    for (i, segment) in playlist.segments.iter().enumerate() {
        assert!(segment.uri.ends_with(".m4s"), "{text}");
        let (status, _, body) = http("GET", server.http, &format!("/live/{}", segment.uri));
        assert_eq!(status, 200, "{}", segment.uri);
        let tracks = fragments(&body);
        if i == 0 {
            assert_eq!(
                tracks, 2,
                "{}: both tracks in its first fragment",
                segment.uri
            );
        }
    }

    let url = server.http_url(&format!("/live/{stream}.m3u8"));
    let mut expected: Vec<String> = pair.probed.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(probed_codecs(&url), expected, "{stream}");
    decodes_cleanly(&[Path::new("ffmpeg"), modern], &url);
}

#[test]
fn hevc_opus_av1_flac_vp9_ac3_make_fmp4_hls_that_ffmpeg_reads_cleanly() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let Some(modern) = modern_ffmpeg() else {
        return;
    };
    let media = TempDir::new("fmp4-codecs");
    let clips: Vec<PathBuf> = PAIRS
        .iter()
        .map(|p| clip(&modern, media.path(), p))
        .collect();
    each_server(|bin| {
        let server = start(bin, "hls_use_fmp4 on;");
        for (pair, file) in PAIRS.iter().zip(&clips) {
            let stream = format!("fmp4{}", pair.probed[0]);
            let text = publish_until_listed(&modern, file, &server, &stream, 3.5);
            check_fmp4(&server, &stream, &text, pair, &modern);
        }
    });
}

#[test]
fn a_codec_ts_cannot_carry_gets_fmp4_unless_the_vhost_says_not() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let Some(modern) = modern_ffmpeg() else {
        return;
    };
    let media = TempDir::new("fmp4-fallback");
    let (hevc_opus, av1_flac) = (&PAIRS[0], &PAIRS[1]);
    let av1 = clip(&modern, media.path(), av1_flac);
    let hevc = clip(&modern, media.path(), hevc_opus);
    each_server(|bin| {
        // The default: TS, but AV1 + FLAC goes to fMP4, said once.
        let server = start(bin, "");
        let text = publish_until_listed(&modern, &av1, &server, "fallback", 3.5);
        check_fmp4(&server, "fallback", &text, av1_flac, &modern);
        // The first message of either codec turns it (ffmpeg sends the
        // video's sequence header first).
        let log = server.log_text();
        let said = ": MPEG-TS cannot carry it; the playlist goes on in fMP4";
        assert_eq!(log.matches(said).count(), 1, "{log}");
        assert!(log.contains(&format!("AV1{said}")) || log.contains(&format!("FLAC{said}")));

        // hls_fmp4_fallback off: TS with the HEVC video, Opus named once.
        let server = start(bin, "hls_fmp4_fallback off;");
        let text = publish_until_listed(&modern, &hevc, &server, "tsonly", 3.5);
        eprintln!("tsonly:\n{text}");
        let playlist = parse(&text);
        assert_eq!(playlist.version, Some(3), "{text}");
        assert!(playlist.segments.iter().all(|s| s.uri.ends_with(".ts")));
        let url = server.http_url("/live/tsonly.m3u8");
        assert_eq!(probed_codecs(&url), ["hevc"]);
        let log = server.log_text();
        let warned = log
            .lines()
            .filter(|l| l.contains("Opus") && l.contains("`hls_fmp4_fallback` is off"))
            .count();
        assert_eq!(warned, 1, "{log}");
    });
}
