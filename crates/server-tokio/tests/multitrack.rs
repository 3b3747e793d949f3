//! Enhanced RTMP v2 multitrack end to end (both builds): the modern ffmpeg
//! publishes two video renditions and two audio tracks in one RTMP stream.
//! - A player that announces Enhanced RTMP (ffmpeg with
//!   `-rtmp_enhanced_codecs`, or HTTP-FLV with `?tracks=all`) gets every
//!   track, each decodable.
//! - A legacy player (Debian's ffmpeg 5.1, or an HTTP-FLV URL without the
//!   query) gets the default track only, in legacy form: one H.264 and one
//!   AAC stream, decoded without an error.
//! - HLS slices the default track.
//! - The API lists the other tracks with their codec, size and received
//!   kbps, and the exporter has a rate series for every track.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::prometheus::{exporter_addr, promtool_check, scrape};
use support::*;

/// Two H.264 renditions (640x360 as track 0, 320x180 as track 1) and two
/// AAC tracks, 6 s, one key frame a second: written by the modern ffmpeg
/// into an FLV it reads back as four streams.
fn multitrack_flv(ffmpeg: &Path, dir: &Path) -> std::path::PathBuf {
    let out = dir.join("multitrack.flv");
    let (ok, _, err) = run(
        Command::new(ffmpeg)
            .args(["-v", "error", "-y"])
            .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
            .args(["-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100"])
            .args(["-t", "6", "-filter_complex"])
            .arg("[0:v]split=2[a][b];[b]scale=320:180[c]")
            .args(["-map", "[a]", "-map", "[c]", "-map", "1:a", "-map", "2:a"])
            .args(["-c:v", "libx264", "-preset", "veryfast", "-g", "25"])
            .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"])
            .args(["-f", "flv"])
            .arg(&out),
        Duration::from_secs(60),
    );
    assert!(ok, "the modern ffmpeg writes a multitrack FLV: {err}");
    out
}

/// The `Stream #0:N: Video|Audio` lines an ffmpeg run printed for its input.
fn input_streams(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("Input #0"))
        .take_while(|l| !l.starts_with("Output #") && !l.starts_with("Stream mapping"))
        .filter(|l| l.starts_with("Stream #0:"))
        .map(str::to_owned)
        .collect()
}

/// Plays `url` for 3 s with `ffmpeg` (extra input options first), decoding
/// every stream; returns the input streams it found and its errors.
fn play(ffmpeg: &Path, input_options: &[&str], url: &str) -> (Vec<String>, String) {
    let (_, _, err) = run(
        Command::new(ffmpeg)
            .args(["-hide_banner", "-v", "info"])
            .args(input_options)
            .args(["-i", url, "-map", "0", "-t", "3", "-f", "null", "-"]),
        Duration::from_secs(30),
    );
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("rror") && !l.contains("Error while filtering"))
        .collect();
    (input_streams(&err), errors.join("\n"))
}

fn count(streams: &[String], kind: &str) -> usize {
    streams.iter().filter(|s| s.contains(kind)).count()
}

/// The `tracks` of stream `name` in `/api/v1/streams`.
fn api_tracks(server: &ServerProcess, name: &str) -> Vec<serde_json::Value> {
    let (status, _, body) = http("GET", server.api, "/api/v1/streams");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("API JSON");
    v["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .and_then(|s| s["tracks"].as_array())
        .cloned()
        .unwrap_or_default()
}

#[test]
fn every_track_for_enhanced_players_and_the_default_one_for_the_rest() {
    let Some(modern) = modern_ffmpeg() else {
        return;
    };
    if !have("ffmpeg") {
        return;
    }
    let media = TempDir::new("multitrack-media");
    let file = multitrack_flv(&modern, media.path());
    each_server(|bin| {
        let server = ServerProcess::start_configured(
            bin,
            "exporter { enabled on; listen 127.0.0.1:0; }",
            "",
        );
        let url = server.rtmp_url("multi");
        let mut publisher = Command::new(&modern)
            .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
            .arg(&file)
            .args(["-map", "0", "-c", "copy", "-f", "flv", &url])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("modern ffmpeg publishes");
        let live = wait_for(Duration::from_secs(15), || {
            server.playlist("multi").filter(|p| !segments(p).is_empty())
        });

        // The API: tracks 1 (320x180 video, AAC) with their own rate;
        // the exporter: a rate series for each of the four tracks.
        let tracks = api_tracks(&server, "multi");
        let video = tracks
            .iter()
            .find(|t| t["type"] == "video" && t["id"] == 1)
            .unwrap_or_else(|| panic!("video track 1: {tracks:#?}"));
        assert_eq!(
            (&video["codec"], &video["width"]),
            (&"H264".into(), &320.into())
        );
        let audio = tracks
            .iter()
            .find(|t| t["type"] == "audio" && t["id"] == 1)
            .unwrap_or_else(|| panic!("audio track 1: {tracks:#?}"));
        assert_eq!(audio["codec"], "AAC");
        for t in [video, audio] {
            let kbps = t["kbps"]["recv_30s"].as_u64().unwrap_or(0);
            assert!(kbps > 0, "{t}");
        }
        let (text, samples) = scrape(exporter_addr(&server));
        for (kind, id) in [
            ("video", "0"),
            ("video", "1"),
            ("audio", "0"),
            ("audio", "1"),
        ] {
            let mut labels: Vec<(String, String)> = [
                ("app", "live"),
                ("stream", "multi"),
                ("track", id),
                ("type", kind),
                ("vhost", "__defaultVhost__"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            labels.sort();
            let key = ("srs_stream_track_receive_kbps".to_owned(), labels);
            let value = samples.get(&key).copied();
            assert!(
                value.is_some_and(|v| v > 0.0),
                "{key:?} = {value:?}\n{text}"
            );
        }
        promtool_check(&text);

        // Enhanced players: all four tracks, both renditions decodable.
        let enhanced = ["-rtmp_enhanced_codecs", "avc1,mp4a"];
        let (streams, errors) = play(&modern, &enhanced, &url);
        assert_eq!(
            count(&streams, "Video: h264"),
            2,
            "RTMP, all tracks: {streams:#?}"
        );
        assert_eq!(count(&streams, "Audio: aac"), 2, "{streams:#?}");
        assert!(
            streams.iter().any(|s| s.contains("640x360")),
            "{streams:#?}"
        );
        assert!(
            streams.iter().any(|s| s.contains("320x180")),
            "{streams:#?}"
        );
        assert!(errors.is_empty(), "{errors}");
        let flv = server.http_url("/live/multi.flv");
        let (streams, errors) = play(&modern, &[], &format!("{flv}?tracks=all"));
        assert_eq!(
            count(&streams, "Video: h264"),
            2,
            "HTTP-FLV, all: {streams:#?}"
        );
        assert_eq!(count(&streams, "Audio: aac"), 2, "{streams:#?}");
        assert!(errors.is_empty(), "{errors}");

        // Legacy players: the default track only, as plain H.264 + AAC.
        for (what, url) in [("RTMP", url.as_str()), ("HTTP-FLV", flv.as_str())] {
            let (streams, errors) = play(Path::new("ffmpeg"), &[], url);
            assert_eq!(streams.len(), 2, "{what}, legacy: {streams:#?}");
            assert_eq!(count(&streams, "Video: h264"), 1, "{what}: {streams:#?}");
            assert!(
                streams.iter().any(|s| s.contains("640x360")),
                "{streams:#?}"
            );
            assert_eq!(count(&streams, "Audio: aac"), 1, "{what}: {streams:#?}");
            assert!(errors.is_empty(), "{what}: {errors}");
        }

        // HLS slices the default track.
        let playlist = live.expect("HLS of the multitrack stream");
        let segment = server.hls_dir().join("live").join(&segments(&playlist)[0]);
        let (ok, probe, err) = run(
            Command::new("ffprobe")
                .args(["-v", "error", "-show_entries", "stream=codec_name,width"])
                .args(["-of", "csv=p=0"])
                .arg(&segment),
            Duration::from_secs(20),
        );
        assert!(ok, "{err}");
        assert!(probe.contains("h264,640"), "the default rendition: {probe}");
        assert!(!probe.contains("320"), "one rendition only: {probe}");
        let _ = publisher.kill();
        let _ = publisher.wait();
    });
}
