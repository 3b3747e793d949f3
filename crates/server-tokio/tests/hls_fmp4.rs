//! HLS in fragmented MP4 (`hls { hls_use_fmp4 on; }`) end to end, on both
//! server binaries: ffmpeg publishes H.264 + AAC, and the modern ffmpeg
//! publishes HEVC + AAC over Enhanced RTMP (`hvc1`); the playlist, its init
//! segment and its `.m4s` segments, fetched from the embedded HTTP server,
//! must satisfy ffprobe and decode without one error.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

/// ffmpeg reads a live playlist from its first segment and, once two
/// reloads bring nothing new, ends (rather than waiting for more).
const LIVE_TO_END: &[&str] = &["-live_start_index", "0", "-m3u8_hold_counters", "2"];

/// The test config with fMP4 HLS in 2 s fragments.
fn start(bin: &Path) -> ServerProcess {
    start_hls(bin, "hls_use_fmp4 on;")
}

/// The test config with `directives` added to its `hls` block.
fn start_hls(bin: &Path, directives: &str) -> ServerProcess {
    ServerProcess::start_from(bin, |dir| {
        test_config(dir, "", "").replacen(
            "hls_window 60;",
            &format!("hls_window 60;\n        {directives}"),
            1,
        )
    })
}

/// LL-HLS with 0.2 s parts.
const LL_HLS: &str = "hls_ll on;\n        hls_part_duration 0.2;";

fn ffprobe_json(url: &str) -> serde_json::Value {
    let (ok, out, err) = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-of",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .args(if url.starts_with("http") {
                &["-live_start_index", "0"][..]
            } else {
                &[]
            })
            .arg(url),
        Duration::from_secs(30),
    );
    assert!(ok && err.trim().is_empty(), "ffprobe {url}: {err}");
    serde_json::from_str(&out).expect("ffprobe json")
}

/// `ffmpeg -v error -i URL -f null -` prints nothing.
fn decodes_cleanly(url: &str) {
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error"])
            .args(LIVE_TO_END)
            .args(["-i", url])
            .args(["-f", "null", "-"]),
        Duration::from_secs(60),
    );
    assert!(ok && err.trim().is_empty(), "{url}: {err}");
}

/// Checks the playlist's fMP4 form, the Content-Types, ffprobe's view of
/// the whole playlist (codecs, duration) and a clean decode.
fn check(server: &ServerProcess, stream: &str, playlist: &str, video: &str, seconds: f64) {
    eprintln!("{stream}:\n{playlist}");
    assert!(playlist.contains("#EXT-X-VERSION:7\n"), "{playlist}");
    let map = format!("#EXT-X-MAP:URI=\"{stream}/init.mp4\"\n");
    assert_eq!(playlist.matches(&map).count(), 1, "{playlist}");
    let segs = segments(playlist);
    assert!(segs.len() >= 2, "{playlist}");
    assert!(segs.iter().all(|s| s.ends_with(".m4s")), "{playlist}");
    let listed: f64 = playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .filter_map(|l| l.trim_end_matches(',').parse::<f64>().ok())
        .sum();
    assert!(
        (listed - seconds).abs() <= 0.1,
        "listed {listed} s of {seconds}"
    );

    let (status, head, body) = http("GET", server.http, &format!("/live/{stream}/init.mp4"));
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: video/mp4"),
        "{head}"
    );
    assert_eq!(&body[4..8], b"ftyp");
    let (status, head, body) = http("GET", server.http, &format!("/live/{}", segs[0]));
    assert_eq!(status, 200);
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: video/iso.segment")
            || head.contains("content-type: video/mp4"),
        "{head}"
    );
    assert_eq!(&body[4..8], b"moof");

    let url = server.http_url(&format!("/live/{stream}.m3u8"));
    let probed = ffprobe_json(&url);
    let mut codecs: Vec<&str> = probed["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|s| s["codec_name"].as_str())
        .collect();
    codecs.sort();
    assert_eq!(codecs, ["aac", video], "{probed}");
    // A live playlist has no duration of its own: its media, copied into
    // one file, does.
    let copy = server.dir.path().join(format!("{stream}-copy.mp4"));
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(LIVE_TO_END)
            .args(["-i", &url])
            .args(["-c", "copy"])
            .arg(&copy),
        Duration::from_secs(60),
    );
    assert!(ok && err.trim().is_empty(), "copy {url}: {err}");
    let duration: f64 = ffprobe_json(&copy.display().to_string())["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0.0);
    assert!(
        (duration - seconds).abs() <= 0.15,
        "ffprobe says {duration} s, the input was {seconds} s"
    );
    decodes_cleanly(&url);
}

#[test]
fn h264_and_aac_make_fmp4_hls_that_ffmpeg_reads_cleanly() {
    if !have("ffmpeg") || !have("ffprobe") {
        eprintln!("NOTICE: ffmpeg/ffprobe missing; skipping");
        return;
    }
    let file = media(Media::AvcAac);
    each_server(|bin| {
        let server = start(bin);
        let playlist = publish_until_listed(Path::new("ffmpeg"), &file, &server, "cmaf", 7.9);
        check(&server, "cmaf", &playlist, "h264", 8.0);
    });
}

#[test]
fn hevc_and_aac_over_enhanced_rtmp_make_hvc1_fmp4_hls() {
    if !have("ffmpeg") || !have("ffprobe") {
        eprintln!("NOTICE: ffmpeg/ffprobe missing; skipping");
        return;
    }
    let Some(ffmpeg9) = modern_ffmpeg() else {
        return;
    };
    let dir = TempDir::new("hls-fmp4-hevc");
    let Some(src) = hevc_aac_flv(&ffmpeg9, dir.path()) else {
        return;
    };
    each_server(|bin| {
        let server = start(bin);
        let playlist = publish_until_listed(&ffmpeg9, &src, &server, "hevc", 3.9);
        check(&server, "hevc", &playlist, "hevc", 4.0);
        // The sample entry is hvc1 (what Apple's players take), not hev1.
        let init = server.hls_dir().join("live/hevc/init.mp4");
        let (_, out, _) = run(
            Command::new("ffprobe")
                .args(["-v", "error", "-select_streams", "v", "-show_entries"])
                .args(["stream=codec_tag_string", "-of", "csv=p=0"])
                .arg(&init),
            Duration::from_secs(20),
        );
        assert_eq!(out.trim(), "hvc1");
    });
}

/// The `(msn, part)` of the playlist's EXT-X-PRELOAD-HINT (`ll-M.P.m4s`).
fn preload_hint(playlist: &str) -> Option<(u64, u32)> {
    let line = playlist
        .lines()
        .find(|l| l.starts_with("#EXT-X-PRELOAD-HINT:"))?;
    let uri = line.split("URI=\"").nth(1)?.trim_end_matches('"');
    let name = uri.strip_prefix("ll-")?.strip_suffix(".m4s")?;
    let (msn, part) = name.split_once('.')?;
    Some((msn.parse().ok()?, part.parse().ok()?))
}

/// The playlist of `live/{stream}` once it is served and `ready` holds for
/// it (within 20 s); panics with the server's log if it never does.
fn ll_playlist_once(server: &ServerProcess, stream: &str, ready: impl Fn(&str) -> bool) -> String {
    let url = format!("/live/{stream}.m3u8");
    wait_for(Duration::from_secs(20), || {
        let (status, _, body) = http("GET", server.http, &url);
        let text = String::from_utf8_lossy(&body).into_owned();
        (status == 200 && ready(&text)).then_some(text)
    })
    .unwrap_or_else(|| panic!("no LL playlist; log:\n{}", server.log_text()))
}

/// LL-HLS (`hls_ll on; hls_part_duration 0.2;`): the playlist is served from
/// memory with parts and a preload hint; a blocking reload for the hinted
/// part answers once that part exists (within about one part duration of
/// the request), lists it, and the part itself is served from memory; a
/// request too far ahead is refused.
#[test]
fn ll_hls_blocking_reload_answers_when_the_part_exists() {
    if !have("ffmpeg") {
        eprintln!("NOTICE: ffmpeg missing; skipping");
        return;
    }
    let file = media(Media::AvcAac);
    each_server(|bin| {
        let server = start_hls(bin, LL_HLS);
        let _publisher = Publisher::start(&file, &server.rtmp_url("ll"), true);
        let playlist = ll_playlist_once(&server, "ll", |text| text.contains("#EXT-X-PART:"));
        assert!(
            playlist.contains("#EXT-X-PART-INF:PART-TARGET=0.200\n"),
            "{playlist}"
        );
        assert!(playlist.contains("CAN-BLOCK-RELOAD=YES"), "{playlist}");
        for _ in 0..3 {
            let (_, _, body) = http("GET", server.http, "/live/ll.m3u8");
            let now = String::from_utf8_lossy(&body).into_owned();
            let (msn, part) = preload_hint(&now).expect("a preload hint");
            let started = std::time::Instant::now();
            let (status, head, body) = http(
                "GET",
                server.http,
                &format!("/live/ll.m3u8?_HLS_msn={msn}&_HLS_part={part}"),
            );
            let waited = started.elapsed();
            let text = String::from_utf8_lossy(&body);
            eprintln!("blocking reload for {msn}.{part}: {waited:?}");
            assert_eq!(status, 200, "{head}");
            // The hinted part, or (it ended the segment) the next segment.
            assert!(
                text.contains(&format!("URI=\"ll-{msn}.{part}.m4s\""))
                    || text.contains(&format!("\nll-{msn}.m4s\n")),
                "the answer lists the awaited part:\n{text}"
            );
            // The part completes within one part duration (plus a frame)
            // after the request; the answer follows at once.
            assert!(
                waited < Duration::from_millis(200 + 40 + 150),
                "blocking reload took {waited:?}"
            );
            let (status, head, part_bytes) =
                http("GET", server.http, &format!("/live/ll-{msn}.{part}.m4s"));
            if status == 200 {
                assert_eq!(&part_bytes[4..8], b"moof");
                assert!(head.to_ascii_lowercase().contains("immutable"), "{head}");
            } else {
                // A part of the segment's end that was not cut (the key frame
                // came first) is not listed, the segment is.
                assert!(
                    text.contains(&format!("\nll-{msn}.m4s\n")),
                    "{status}\n{text}"
                );
            }
        }
        let (_, _, body) = http("GET", server.http, "/live/ll.m3u8");
        let (msn, _) = preload_hint(&String::from_utf8_lossy(&body)).unwrap();
        let (status, _, _) = http(
            "GET",
            server.http,
            &format!("/live/ll.m3u8?_HLS_msn={}", msn + 3),
        );
        assert_eq!(status, 400, "more than two segments ahead");
        let (status, _, body) = http("GET", server.http, "/live/ll.m3u8?_HLS_skip=YES");
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("#EXT-X-VERSION:9"));
    });
}

/// LL-HLS: the newest complete segment (its parts still listed) is answered
/// from memory, byte for byte the file the server wrote to `hls_path`, with
/// the parts' long-lived `Cache-Control` (a CDN may keep it); a byte range
/// of it is the same range of the file.
#[test]
fn ll_hls_newest_segment_is_served_from_memory_as_its_file() {
    if !have("ffmpeg") {
        eprintln!("NOTICE: ffmpeg missing; skipping");
        return;
    }
    let file = media(Media::AvcAac);
    each_server(|bin| {
        let server = start_hls(bin, LL_HLS);
        let _publisher = Publisher::start(&file, &server.rtmp_url("llseg"), true);
        // Two complete segments listed (the playlist from memory).
        let playlist = ll_playlist_once(&server, "llseg", |text| segments(text).len() >= 2);
        let newest = segments(&playlist).pop().unwrap();
        assert!(newest.ends_with(".m4s"), "{playlist}");
        let (status, head, body) = http("GET", server.http, &format!("/live/{newest}"));
        assert_eq!(status, 200, "{head}");
        let on_disk = std::fs::read(server.hls_dir().join("live").join(&newest))
            .unwrap_or_else(|e| panic!("{newest} on disk: {e}"));
        assert!(on_disk.len() > 1000, "{newest}: {} bytes", on_disk.len());
        assert!(body == on_disk, "{newest}: HTTP differs from the file");
        let lower = head.to_ascii_lowercase();
        assert!(
            lower.contains("cache-control: public, max-age=60, immutable"),
            "{newest} not from memory: {head}"
        );
        assert!(lower.contains("content-type: video/iso.segment"), "{head}");

        let (status, head, body) = http_with(
            "GET",
            server.http,
            &format!("/live/{newest}"),
            "Range: bytes=10-209\r\n",
        );
        assert_eq!(status, 206, "{head}");
        assert!(
            body == on_disk[10..210],
            "the range differs from the file's"
        );
        let range = format!("content-range: bytes 10-209/{}", on_disk.len());
        assert!(head.to_ascii_lowercase().contains(&range), "{head}");
    });
}
