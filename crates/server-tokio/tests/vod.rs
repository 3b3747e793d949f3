//! VOD end to end on both builds: FLV and MP4 files under `vod { dir }`
//! played over RTMP by ffmpeg and rtmpdump, seek and pause with the repo's
//! RTMP client (which sends the real `seek` and `pause` commands), and HLS
//! VOD read by ffprobe and decoded by ffmpeg. (hls.js and its seek: in
//! browser.rs.)

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rtmp_proto::command::Command as RtmpCommand;
use rtmp_proto::session::ClientEvent;
use support::{each_server, have, http, run, test_config, ServerProcess, TempDir, TestClient};

/// The file's length, s, and its frame count (25 fps).
const FILE_SECS: f64 = 4.0;
const FRAMES: usize = 100;

/// 4 s of 320x180 H.264 (a key frame every second) and AAC, as `rec.mp4`
/// and `rec.flv` (the same packets), made once per test process.
fn files() -> &'static (TempDir, PathBuf, PathBuf) {
    static FILES: OnceLock<(TempDir, PathBuf, PathBuf)> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = TempDir::new("vod-media");
        let mp4 = dir.path().join("rec.mp4");
        let flv = dir.path().join("rec.flv");
        let (ok, _, err) = run(
            Command::new("ffmpeg")
                .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
                .args(["testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i"])
                .args(["sine=frequency=440:sample_rate=44100", "-t", "4"])
                .args(["-c:v", "libx264", "-preset", "veryfast", "-g", "25"])
                .args(["-pix_fmt", "yuv420p", "-c:a", "aac"])
                .arg(&mp4),
            Duration::from_secs(60),
        );
        assert!(ok, "ffmpeg: {err}");
        let (ok, _, err) = run(
            Command::new("ffmpeg")
                .args(["-v", "error", "-y", "-i"])
                .arg(&mp4)
                .args(["-c", "copy"])
                .arg(&flv),
            Duration::from_secs(60),
        );
        assert!(ok, "ffmpeg: {err}");
        (dir, mp4, flv)
    })
}

/// A server with `vod` on `DIR/vod`, the files in `DIR/vod/live/`.
fn server(bin: &Path) -> ServerProcess {
    let (_, mp4, flv) = files();
    let server = ServerProcess::start_from(bin, |dir| {
        let vod = dir.join("vod");
        std::fs::create_dir_all(vod.join("live")).unwrap();
        std::fs::copy(mp4, vod.join("live/rec.mp4")).unwrap();
        std::fs::copy(flv, vod.join("live/rec.flv")).unwrap();
        let extra = format!(
            "vod {{ enabled on; dir {}; hls_fragment 1; }}",
            vod.display()
        );
        test_config(dir, "", &extra)
    });
    server
}

fn tools() -> bool {
    have("ffmpeg") && have("ffprobe")
}

/// Video frames ffprobe decodes from `url`.
fn frames(url: &str) -> usize {
    let (ok, out, err) = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v"])
            .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
            .arg(url),
        Duration::from_secs(30),
    );
    assert!(ok, "ffprobe {url}: {err}");
    // HLS may list the stream once per program: the first count.
    out.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{url}: {out}"))
}

#[test]
fn ffmpeg_and_rtmpdump_play_files_over_rtmp() {
    if !tools() {
        return;
    }
    let rtmpdump = have("rtmpdump");
    each_server(|bin| {
        let server = server(bin);
        // ffmpeg sends `mp4:rec.mp4` and, for FLV, `rec` (it drops `.flv`).
        for name in ["rec.mp4", "rec.flv"] {
            let started = Instant::now();
            let n = frames(&server.rtmp_url(name));
            assert_eq!(n, FRAMES, "{name}\n{}", server.log_text());
            // Paced: about the file's length (sent up to a second ahead).
            let took = started.elapsed().as_secs_f64();
            assert!(took >= FILE_SECS - 1.5, "{name} in {took} s");
        }
        if rtmpdump {
            // rtmpdump sends `mp4:rec` for rec.mp4.
            let out = server.dir.path().join("dump.flv");
            let (ok, _, err) = run(
                Command::new("rtmpdump")
                    .args(["-q", "-r", &server.rtmp_url("rec.mp4"), "-o"])
                    .arg(&out),
                Duration::from_secs(30),
            );
            assert!(ok, "rtmpdump: {err}\n{}", server.log_text());
            assert_eq!(frames(&out.display().to_string()), FRAMES);
            // `--start 2.5` (play's start argument): from the key frame at
            // 2 s, the last 50 frames.
            let (ok, _, err) = run(
                Command::new("rtmpdump")
                    .args(["-q", "-r", &server.rtmp_url("rec.flv")])
                    .args(["--start", "2.5", "-o"])
                    .arg(&out),
                Duration::from_secs(30),
            );
            assert!(ok, "rtmpdump --start: {err}\n{}", server.log_text());
            assert_eq!(frames(&out.display().to_string()), FRAMES / 2);
        }
        // A name with no file is refused, not waited for.
        let mut client = TestClient::connect(server.rtmp, "live");
        let (code, _) = client.request(false, "missing.mp4");
        assert_eq!(code, "NetStream.Play.StreamNotFound");
    });
}

/// Pumps `client` until a video frame arrives; its (timestamp, key frame).
fn next_video(client: &mut TestClient) -> Option<(u64, bool)> {
    let mut found = None;
    client.pump_until(Duration::from_secs(10), |e| match e {
        ClientEvent::Media { message, .. } if message.type_id.id() == 9 => {
            let first = message.payload.first().copied().unwrap_or(0);
            // Legacy AVC: frame type 1 (key) in the high nibble.
            found = Some((message.timestamp, first >> 4 == 1));
            first & 0x0f == 7 && message.payload.get(1) == Some(&1)
        }
        _ => false,
    });
    found
}

#[test]
fn a_seek_lands_on_the_key_frame_before_and_pause_holds_playback() {
    each_server(|bin| {
        if !tools() {
            return;
        }
        let server = server(bin);
        let mut client = TestClient::connect(server.rtmp, "live");
        let (code, _) = client.request(false, "rec.flv");
        assert_eq!(code, "NetStream.Play.Start");
        let (ts, key) = next_video(&mut client).expect("a first frame");
        assert_eq!((ts, key), (0, true));
        // seek (RTMP 7.2.2.7) to 2.5 s: key frames are every second.
        let sid = 1;
        client.session.send_command(
            sid,
            &RtmpCommand::Seek {
                transaction_id: 0.0,
                position_ms: 2500.0,
            },
        );
        let notified = client.pump_until(
            Duration::from_secs(10),
            |e| matches!(e, ClientEvent::Status { code, .. } if code == "NetStream.Seek.Notify"),
        );
        assert!(notified, "no Seek.Notify: {}", client.gave_up);
        let (ts, key) = next_video(&mut client).expect("a frame after the seek");
        assert_eq!((ts, key), (2000, true), "lands on the key frame at 2 s");
        // pause: after the notify, at most what was in flight, then nothing.
        client.session.send_command(
            sid,
            &RtmpCommand::Pause {
                transaction_id: 0.0,
                paused: true,
                position_ms: 2000.0,
            },
        );
        let paused = client.pump_until(
            Duration::from_secs(10),
            |e| matches!(e, ClientEvent::Status { code, .. } if code == "NetStream.Pause.Notify"),
        );
        assert!(paused, "no Pause.Notify: {}", client.gave_up);
        client.pump_until(Duration::from_millis(300), |_| false);
        let mut during = 0;
        client.pump_until(Duration::from_millis(1500), |e| {
            during += usize::from(matches!(e, ClientEvent::Media { .. }));
            false
        });
        assert_eq!(during, 0, "media while paused");
        client.session.send_command(
            sid,
            &RtmpCommand::Pause {
                transaction_id: 0.0,
                paused: false,
                position_ms: 2000.0,
            },
        );
        let (ts, _) = next_video(&mut client).expect("frames after unpause");
        assert!(ts > 2000, "{ts}");
        // To the end: Play.Stop.
        let stopped = client.pump_until(
            Duration::from_secs(10),
            |e| matches!(e, ClientEvent::Status { code, .. } if code == "NetStream.Play.Stop"),
        );
        assert!(stopped, "no Play.Stop: {}", client.gave_up);
    });
}

#[test]
fn hls_vod_of_mp4_and_flv_decodes_with_the_files_duration() {
    if !tools() {
        return;
    }
    each_server(|bin| {
        let server = server(bin);
        for name in ["rec.mp4", "rec.flv"] {
            let url = server.http_url(&format!("/vod/live/{name}/index.m3u8"));
            let (status, _, body) =
                http("GET", server.http, &format!("/vod/live/{name}/index.m3u8"));
            assert_eq!(status, 200);
            let playlist = String::from_utf8_lossy(&body).into_owned();
            assert!(
                playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD")
                    && playlist.contains("#EXT-X-ENDLIST"),
                "{playlist}"
            );
            // Key frames every second, hls_fragment 1: four segments.
            assert_eq!(support::segments(&playlist).len(), 4, "{playlist}");
            let (ok, out, err) = run(
                Command::new("ffprobe")
                    .args(["-v", "error", "-show_entries", "format=duration"])
                    .args(["-of", "csv=p=0", &url]),
                Duration::from_secs(30),
            );
            assert!(ok, "ffprobe: {err}");
            let secs: f64 = out.trim().parse().unwrap_or(0.0);
            assert!((secs - FILE_SECS).abs() <= 0.1, "{name}: {secs} s");
            let (ok, _, err) = run(
                Command::new("ffmpeg").args(["-v", "error", "-i", &url, "-f", "null", "-"]),
                Duration::from_secs(30),
            );
            assert!(ok && err.trim().is_empty(), "{name}: {err}");
            assert_eq!(frames(&url), FRAMES, "{name}");
        }
        // Nothing was written next to the files.
        let listed: Vec<_> = std::fs::read_dir(server.dir.path().join("vod/live"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(listed.len(), 2, "{listed:?}");
        // Names outside the directory are not served.
        let outside = server.dir.path().join("secret.mp4");
        std::fs::copy(&files().1, &outside).unwrap();
        std::os::unix::fs::symlink(&outside, server.dir.path().join("vod/live/link.mp4")).unwrap();
        let (status, _, _) = http("GET", server.http, "/vod/live/link.mp4/index.m3u8");
        assert_eq!(status, 403, "a link out of the directory");
        let (status, _, _) = http("GET", server.http, "/vod/live/%2e%2e/secret.mp4/index.m3u8");
        assert!(status == 403 || status == 400 || status == 404, "{status}");
        let (status, _, _) = http("GET", server.http, "/vod/live/rec.mp4/9.ts");
        assert_eq!(status, 404);
        std::fs::remove_file(server.dir.path().join("vod/live/link.mp4")).unwrap();
    });
}
