//! HLS of an Enhanced RTMP v2 multitrack stream end to end (both builds):
//! the modern ffmpeg publishes two video renditions and two audio tracks.
//! - `live/multi_master.m3u8` is a multivariant playlist with a variant per
//!   rendition and an `EXT-X-MEDIA` audio group of both tracks; every
//!   playlist it names exists and its segments decode without an error;
//!   ffprobe opens the master and finds both renditions and audio tracks.
//! - `live/multi.m3u8` is what it always was (track 0, video and audio
//!   muxed), and Debian's ffmpeg 5.1 plays it.
//! - `hls_cleanup` keeps each rendition's files to its window, and
//!   `hls_dispose` (longer than the sink's republish grace, so the parked
//!   stream's files go from the housekeeping timer) removes every
//!   rendition's files and the master.
//! - A single-track stream gets no master.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use m3u8_rs::{AlternativeMediaType, MasterPlaylist, MediaPlaylist, Playlist};
use support::*;

fn read_master(path: &Path) -> Option<MasterPlaylist> {
    let bytes = std::fs::read(path).ok()?;
    match m3u8_rs::parse_playlist_res(&bytes) {
        Ok(Playlist::MasterPlaylist(m)) => Some(m),
        _ => None,
    }
}

fn read_media(path: &Path) -> Option<MediaPlaylist> {
    let bytes = std::fs::read(path).ok()?;
    match m3u8_rs::parse_playlist_res(&bytes) {
        Ok(Playlist::MediaPlaylist(m)) => Some(m),
        _ => None,
    }
}

/// `ffprobe`'s distinct lines of stream `entries` for `input`.
fn probe(input: &str, entries: &str) -> Vec<String> {
    let (ok, out, err) = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-show_entries"])
            .arg(format!("stream={entries}"))
            .args(["-of", "csv=p=0"])
            .arg(input),
        Duration::from_secs(30),
    );
    assert!(ok, "ffprobe {input}: {err}");
    // An MPEG-TS program lists its streams again (and an empty line).
    let mut lines: Vec<String> = Vec::new();
    for line in out.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !lines.iter().any(|l| l == line) {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// Decodes `file` whole with Debian's ffmpeg; its error lines.
fn decode_errors(file: &Path) -> String {
    let (_, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(file)
            .args(["-f", "null", "-"]),
        Duration::from_secs(30),
    );
    err
}

/// Files in `dir` whose names start with `prefix` and end with `suffix`.
fn files(dir: &Path, prefix: &str, suffix: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_master_playlist_names_every_rendition_and_audio_track() {
    let Some(modern) = modern_ffmpeg() else {
        return;
    };
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let scratch = TempDir::new("hls-multitrack-media");
    let file = multitrack_flv(&modern, scratch.path());
    each_server(|bin| {
        // A short window (hls_cleanup) and an hls_dispose past the sink's
        // 10 s republish grace.
        let server = ServerProcess::start_from(bin, |dir| {
            test_config(dir, "", "").replace(
                "hls_window 60;",
                "hls_window 4; hls_dispose 13; hls_cleanup on;",
            )
        });
        let live = server.hls_dir().join("live");
        let url = server.rtmp_url("multi");
        let mut publisher = Command::new(&modern)
            .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
            .arg(&file)
            .args(["-map", "0", "-c", "copy", "-f", "flv", &url])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("modern ffmpeg publishes");

        let master_path = live.join("multi_master.m3u8");
        let master = wait_for(Duration::from_secs(30), || {
            read_master(&master_path).filter(|m| m.variants.len() == 2 && m.alternatives.len() == 2)
        })
        .unwrap_or_else(|| {
            panic!(
                "a master with 2 variants and 2 audio tracks: {:?}\n{}",
                std::fs::read_to_string(&master_path),
                server.log_text()
            )
        });

        // The variants: track 0 first, both naming the audio group.
        let v: Vec<_> = master.variants.iter().collect();
        assert_eq!(v[0].uri, "multi_v0.m3u8");
        assert_eq!(v[1].uri, "multi_v1.m3u8");
        let res = |i: usize| v[i].resolution.map(|r| (r.width, r.height));
        assert_eq!(res(0), Some((640, 360)));
        assert_eq!(res(1), Some((320, 180)));
        for variant in &v {
            assert_eq!(variant.audio.as_deref(), Some("audio"));
            let codecs = variant.codecs.as_deref().unwrap_or_default();
            assert!(codecs.starts_with("avc1.64"), "{codecs}");
            assert!(codecs.ends_with(",mp4a.40.2"), "{codecs}");
        }
        // Bandwidth estimated from the bytes: the bigger picture costs more,
        // and both at least the audio track's 64 kbit/s.
        assert!(
            v[0].bandwidth > v[1].bandwidth && v[1].bandwidth > 64_000,
            "{} vs {}",
            v[0].bandwidth,
            v[1].bandwidth
        );
        let a: Vec<_> = master.alternatives.iter().collect();
        for (i, alt) in a.iter().enumerate() {
            assert_eq!(alt.media_type, AlternativeMediaType::Audio);
            assert_eq!(alt.group_id, "audio");
            assert_eq!(
                alt.uri.as_deref(),
                Some(format!("multi_a{i}.m3u8").as_str())
            );
            assert_eq!(alt.default, i == 0, "track 0 is the default");
        }

        // Every media playlist exists, and holds its track only.
        let named: Vec<String> = v
            .iter()
            .map(|v| v.uri.clone())
            .chain(a.iter().filter_map(|a| a.uri.clone()))
            .collect();
        for (i, name) in named.iter().enumerate() {
            let playlist = read_media(&live.join(name))
                .unwrap_or_else(|| panic!("{name} is a media playlist"));
            let segment = playlist.segments.first().expect("a segment");
            let path = live.join(&segment.uri);
            let errors = decode_errors(&path);
            assert!(
                errors.trim().is_empty(),
                "{name}: {}: {errors}",
                segment.uri
            );
            let streams = probe(
                &path.display().to_string(),
                "codec_name,codec_type,width,height",
            );
            let expected: &[&str] = match i {
                0 => &["h264,video,640,360"],
                1 => &["h264,video,320,180"],
                _ => &["aac,audio"],
            };
            assert_eq!(
                streams
                    .iter()
                    .map(|s| s.trim_end_matches(','))
                    .collect::<Vec<_>>(),
                expected,
                "{name}"
            );
        }
        // The two audio tracks are the two tones' tracks, not one twice.
        let rates: BTreeSet<String> = ["multi_a0.m3u8", "multi_a1.m3u8"]
            .iter()
            .map(|name| {
                let playlist = read_media(&live.join(name)).expect("audio playlist");
                let seg = live.join(&playlist.segments[0].uri);
                let (_, out, _) = run(
                    Command::new("ffprobe")
                        .args(["-v", "error", "-show_entries", "stream=sample_rate"])
                        .args(["-of", "csv=p=0"])
                        .arg(&seg),
                    Duration::from_secs(20),
                );
                out.lines().next().unwrap_or_default().trim().to_owned()
            })
            .collect();
        assert_eq!(
            rates,
            BTreeSet::from(["44100".to_owned(), "48000".to_owned()])
        );

        // ffprobe on the master (over HTTP) finds both renditions and both
        // audio tracks.
        let streams = probe(
            &server.http_url("/live/multi_master.m3u8"),
            "index,codec_name,codec_type,width,height",
        );
        let video: Vec<_> = streams.iter().filter(|s| s.contains(",video,")).collect();
        let audio = streams.iter().filter(|s| s.contains(",audio")).count();
        assert!(
            video.iter().any(|s| s.contains("640,360"))
                && video.iter().any(|s| s.contains("320,180")),
            "{streams:#?}"
        );
        assert!(audio >= 2, "{streams:#?}");

        // The stream's own playlist is unchanged: track 0 muxed, and
        // Debian's ffmpeg plays it.
        let own = server.http_url("/live/multi.m3u8");
        let (_, _, err) = run(
            Command::new("ffmpeg")
                .args(["-hide_banner", "-v", "info", "-i", &own])
                .args(["-map", "0", "-t", "3", "-f", "null", "-"]),
            Duration::from_secs(30),
        );
        let inputs: Vec<&str> = err
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("Input #0"))
            .take_while(|l| !l.starts_with("Stream mapping"))
            .filter(|l| l.starts_with("Stream #0:"))
            .collect();
        assert_eq!(inputs.len(), 2, "{err}");
        assert!(
            inputs
                .iter()
                .any(|s| s.contains("h264") && s.contains("640x360")),
            "{err}"
        );
        assert!(inputs.iter().any(|s| s.contains("Audio: aac")), "{err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.contains("rror")).collect();
        assert!(errors.is_empty(), "{errors:#?}");

        // hls_cleanup: a rendition keeps the segments its window lists (a
        // 4 s window of 2 s segments), not every one it wrote.
        std::thread::sleep(Duration::from_secs(6));
        for name in ["multi_v1", "multi_a1"] {
            let playlist = read_media(&live.join(format!("{name}.m3u8"))).expect("playlist");
            assert!(playlist.media_sequence > 0, "{name}: the window slid");
            let on_disk = files(&live, &format!("{name}-"), ".ts");
            assert!(
                on_disk.len() <= playlist.segments.len() + 1,
                "{name}: {on_disk:?} for {} listed",
                playlist.segments.len()
            );
        }

        // hls_dispose: the stream stops; after the grace its sink is
        // parked, and at 13 s every rendition's files and the master go.
        let _ = publisher.kill();
        let _ = publisher.wait();
        let gone = wait_for(Duration::from_secs(30), || {
            let left = files(&live, "multi", "");
            left.is_empty().then_some(())
        });
        assert!(gone.is_some(), "disposed: {:?}", files(&live, "multi", ""));

        // A single-track stream: its playlist, and no master.
        let plain = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("plain"), false);
        let listed = wait_for(Duration::from_secs(20), || {
            server.playlist("plain").filter(|p| segments(p).len() >= 2)
        });
        assert!(listed.is_some(), "the single-track stream is sliced");
        assert!(!live.join("plain_master.m3u8").exists());
        assert!(files(&live, "plain_", "").is_empty(), "no renditions");
        drop(plain);
    });
}
