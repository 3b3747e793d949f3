//! End-to-end tests: the real server binaries against real clients (ffmpeg,
//! ffprobe, rtmpdump), on ephemeral loopback ports. Every test runs against
//! both `rtmp-server` (tokio) and `rtmp-server-smol`.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

/// Waits until the API shows `stream` being published.
fn wait_live(server: &ServerProcess, stream: &str) {
    let live = wait_for(Duration::from_secs(20), || {
        let (status, _, body) = http("GET", server.api, "/api/v1/streams");
        let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
        (status == 200
            && v["streams"].as_array()?.iter().any(|s| {
                s["name"] == stream
                    && s["publish"]["active"] == true
                    && s["video"]["codec"].is_string()
            }))
        .then_some(())
    });
    assert!(
        live.is_some(),
        "stream {stream} never went live; log:\n{}",
        server.log_text()
    );
}

/// Starts ffmpeg publishing `media` as `stream` (looped or once) and waits
/// until the API shows the stream live.
fn publish_live(server: &ServerProcess, media: &Path, stream: &str, loops: bool) -> Publisher {
    let publisher = Publisher::start(media, &server.rtmp_url(stream), loops);
    wait_live(server, stream);
    publisher
}

/// Decodes `file` completely with ffmpeg; returns its stderr (empty = clean).
fn decode_errors(file: &Path) -> String {
    let (_, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(file)
            .args(["-f", "null", "-"]),
        Duration::from_secs(60),
    );
    err
}

/// Container duration in seconds per ffprobe.
fn duration_secs(file: &Path) -> f64 {
    let (_, out, _) = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(file),
        Duration::from_secs(30),
    );
    out.trim().parse().unwrap_or(0.0)
}

/// Codec name, width, height, sample rate per stream, per ffprobe.
fn probe_streams(file: &Path) -> String {
    let (_, out, _) = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name,width,height,sample_rate",
                "-of",
                "compact=p=0",
            ])
            .arg(file),
        Duration::from_secs(30),
    );
    out
}

/// The first coded video frame after the sequence header must be a key frame.
fn first_video_frame_is_key(file: &Path) -> bool {
    let data = bytes::Bytes::from(std::fs::read(file).expect("read recording"));
    let reader = media_core::flv::FlvReader::new(data).expect("flv header");
    for tag in reader {
        let tag = tag.expect("flv tag");
        if tag.tag_type == media_core::flv::TagType::Video {
            let msg =
                media_core::MediaMessage::new(media_core::MediaKind::Video, 0, tag.body.clone());
            if msg.flags.sequence_header {
                continue;
            }
            return msg.flags.keyframe;
        }
    }
    false
}

/// Seconds between the first and last video tag of an FLV file.
fn flv_span_secs(file: &Path) -> f64 {
    let data = bytes::Bytes::from(std::fs::read(file).expect("read recording"));
    let stamps: Vec<u32> = media_core::flv::FlvReader::new(data)
        .expect("flv header")
        .filter_map(Result::ok)
        .filter(|t| t.tag_type == media_core::flv::TagType::Video)
        .map(|t| t.timestamp)
        .collect();
    match (stamps.iter().min(), stamps.iter().max()) {
        (Some(a), Some(b)) => f64::from(b - a) / 1000.0,
        _ => 0.0,
    }
}

fn record(url: &str, out: &Path, secs: u32) -> (bool, String) {
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-i",
                url,
                "-t",
                &secs.to_string(),
                "-c",
                "copy",
                "-f",
                "flv",
            ])
            .arg(out),
        Duration::from_secs(40),
    );
    (ok, err)
}

/// Records each of `urls` into the matching `outs` at the same time, for
/// `secs` seconds; every player must succeed.
fn record_all<U: AsRef<str> + Sync>(urls: &[U], outs: &[std::path::PathBuf], secs: u32) {
    std::thread::scope(|s| {
        let handles: Vec<_> = urls
            .iter()
            .zip(outs)
            .map(|(url, out)| s.spawn(move || record(url.as_ref(), out, secs)))
            .collect();
        for h in handles {
            let (ok, err) = h.join().unwrap();
            assert!(ok, "player failed: {err}");
        }
    });
}

#[test]
fn ffmpeg_publishes_and_ffmpeg_rtmpdump_and_http_flv_play() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _publisher = publish_live(&server, &media, "cam", true);
        let dir = TempDir::new("play");

        // Two RTMP players at once, plus an HTTP-FLV player.
        let rtmp_url = server.rtmp_url("cam");
        let flv_url = server.http_url("/live/cam.flv");
        let outs = [
            dir.path().join("a.flv"),
            dir.path().join("b.flv"),
            dir.path().join("http.flv"),
        ];
        let urls = [rtmp_url.as_str(), rtmp_url.as_str(), flv_url.as_str()];
        record_all(&urls, &outs, 4);
        for out in &outs {
            let errors = decode_errors(out);
            assert!(
                errors.is_empty(),
                "{} decodes with errors: {errors}",
                out.display()
            );
            let d = duration_secs(out);
            assert!((3.0..=5.0).contains(&d), "{}: duration {d}", out.display());
            let streams = probe_streams(out);
            assert!(
                streams.contains("codec_name=h264|width=640|height=360"),
                "{streams}"
            );
            assert!(
                streams.contains("codec_name=aac") && streams.contains("sample_rate=44100"),
                "{streams}"
            );
            assert!(
                first_video_frame_is_key(out),
                "{}: late player did not start on a key frame",
                out.display()
            );
        }

        // librtmp.
        if have("rtmpdump") {
            let out = dir.path().join("rtmpdump.flv");
            let (_, _, err) = run(
                Command::new("rtmpdump")
                    .args(["-q", "-v", "-r", &rtmp_url, "-B", "3", "-o"])
                    .arg(&out),
                Duration::from_secs(30),
            );
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            assert!(size > 10_000, "rtmpdump got {size} bytes: {err}");
            assert!(
                first_video_frame_is_key(&out),
                "rtmpdump recording starts without a key frame"
            );
            // rtmpdump keeps the live stream's onMetaData (duration 0), so
            // measure the recording by its tag timestamps.
            let d = flv_span_secs(&out);
            assert!(d >= 2.0, "rtmpdump recording spans {d} s");
        }
    });
}

#[test]
fn workers_setting_serves_from_one_thread_or_several() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        // 1: tokio's current-thread runtime / smol's single executor thread;
        // 3: a multi-thread runtime / three threads sharing smol's executor.
        for workers in [1, 3] {
            let server = ServerProcess::start_configured(bin, &format!("workers {workers};"), "");
            let _publisher = publish_live(&server, &media, "w", true);
            let dir = TempDir::new("workers");
            let out = dir.path().join("w.flv");
            let (ok, err) = record(&server.rtmp_url("w"), &out, 2);
            assert!(ok, "workers {workers}: player failed: {err}");
            let errors = decode_errors(&out);
            assert!(errors.is_empty(), "workers {workers}: {errors}");
            let d = duration_secs(&out);
            assert!((1.5..=3.0).contains(&d), "workers {workers}: duration {d}");
            assert!(first_video_frame_is_key(&out));
        }
    });
}

#[test]
fn merged_read_publisher_plays_cleanly_over_rtmp_and_http_flv() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        // The server reads the publisher only every 350 ms; players must not
        // see it except as delay.
        let server = ServerProcess::start_configured(bin, "", "publish { mr on; mr_latency 350; }");
        let _publisher = publish_live(&server, &media, "mr", true);
        let dir = TempDir::new("mr");
        let outs = [dir.path().join("rtmp.flv"), dir.path().join("http.flv")];
        let urls = [server.rtmp_url("mr"), server.http_url("/live/mr.flv")];
        record_all(&urls, &outs, 3);
        for out in &outs {
            let errors = decode_errors(out);
            assert!(errors.is_empty(), "{}: {errors}", out.display());
            let d = duration_secs(out);
            assert!((2.0..=4.0).contains(&d), "{}: duration {d}", out.display());
            assert!(first_video_frame_is_key(out), "{}", out.display());
        }
    });
}

#[test]
fn hls_output_is_clean_and_republish_continues_with_a_discontinuity() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let (ok, err) =
            Publisher::start(&media, &server.rtmp_url("hls"), false).wait(Duration::from_secs(40));
        assert!(ok, "publish failed: {err}");
        let first = wait_for(Duration::from_secs(10), || {
            server.playlist("hls").filter(|p| segments(p).len() >= 3)
        })
        .unwrap_or_else(|| panic!("no playlist; log:\n{}", server.log_text()));
        let dir = server.hls_dir().join("live");
        for seg in segments(&first) {
            let path = dir.join(&seg);
            assert!(path.exists(), "segment {seg} listed but missing");
            let errors = decode_errors(&path);
            assert!(errors.is_empty(), "{seg}: {errors}");
        }
        let m3u8 = dir.join("hls.m3u8");
        let errors = decode_errors(&m3u8);
        assert!(errors.is_empty(), "playlist decodes with errors: {errors}");
        let streams = probe_streams(&m3u8);
        assert!(
            streams.contains("codec_name=h264|width=640|height=360"),
            "{streams}"
        );
        assert!(streams.contains("sample_rate=44100"), "{streams}");
        let total: f64 = first
            .lines()
            .filter_map(|l| l.strip_prefix("#EXTINF:"))
            .filter_map(|l| {
                l.trim_end_matches(',')
                    .split(',')
                    .next()?
                    .parse::<f64>()
                    .ok()
            })
            .sum();
        assert!(
            (7.0..=9.0).contains(&total),
            "playlist holds {total} s of an 8 s publish"
        );

        // Republish: numbering continues, one discontinuity marks the join.
        let before = segments(&first);
        let (ok, err) =
            Publisher::start(&media, &server.rtmp_url("hls"), false).wait(Duration::from_secs(40));
        assert!(ok, "republish failed: {err}");
        let second = wait_for(Duration::from_secs(10), || {
            server
                .playlist("hls")
                .filter(|p| segments(p).len() >= before.len() + 3)
        })
        .unwrap_or_else(|| {
            panic!(
                "playlist did not grow after republish: {:?}",
                server.playlist("hls")
            )
        });
        assert_eq!(
            second.matches("#EXT-X-DISCONTINUITY\n").count(),
            1,
            "{second}"
        );
        let after = segments(&second);
        assert_eq!(
            &after[..before.len()],
            &before[..],
            "old segments kept in order"
        );
        let errors = decode_errors(&m3u8);
        assert!(
            errors.is_empty(),
            "playlist after republish decodes with errors: {errors}"
        );
    });
}

#[test]
fn hls_entry_prefix_lists_absolute_uris_that_players_follow() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        // A prefix without a trailing `/` stands for hls_path. A file: URL
        // lets ffmpeg, reading the playlist from disk, follow it for real.
        let mut prefix = String::new();
        let server = ServerProcess::start_from(bin, |dir| {
            prefix = format!("file://{}/html", dir.display());
            test_config(dir, "", "").replace(
                "hls_window 60;",
                &format!("hls_window 60;\n        hls_entry_prefix {prefix};"),
            )
        });
        let (ok, err) =
            Publisher::start(&media, &server.rtmp_url("cdn"), false).wait(Duration::from_secs(40));
        assert!(ok, "publish failed: {err}");
        let playlist = wait_for(Duration::from_secs(10), || {
            server.playlist("cdn").filter(|p| segments(p).len() >= 3)
        })
        .unwrap_or_else(|| panic!("no playlist; log:\n{}", server.log_text()));
        for uri in segments(&playlist) {
            let file = uri
                .strip_prefix(&format!("{prefix}/live/"))
                .unwrap_or_else(|| panic!("{uri} is not under {prefix}/live/"));
            assert!(
                server.hls_dir().join("live").join(file).exists(),
                "{uri} names no file"
            );
        }
        // The same list closed as a VOD playlist, so ffmpeg reads it once,
        // every segment through its absolute URI, instead of waiting at the
        // live edge for more.
        let m3u8 = server.dir.path().join("closed.m3u8");
        std::fs::write(&m3u8, format!("{playlist}#EXT-X-ENDLIST\n")).expect("write playlist");
        let errors = decode_errors(&m3u8);
        assert!(errors.is_empty(), "playlist decodes with errors: {errors}");
        let seconds = duration_secs(&m3u8);
        assert!(
            (7.0..=9.0).contains(&seconds),
            "ffmpeg followed the prefixed URIs through {seconds} s of an 8 s publish"
        );
    });
}

#[test]
fn ffmpeg_reads_a_recorded_mp4_over_http_by_seeking_with_byte_ranges() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    // An MP4 as ffmpeg writes it by default: its index (`moov`) after the
    // media, so a reader must jump to the end and back, which over HTTP
    // takes `Range` requests. A server without them makes ffmpeg fail.
    let dir = TempDir::new("vod");
    let mp4 = dir.path().join("clip.mp4");
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(media(Media::AvcAac))
            .args(["-c", "copy"])
            .arg(&mp4),
        Duration::from_secs(60),
    );
    assert!(ok, "remux to mp4: {err}");
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let vod = server.dir.path().join("html/vod");
        std::fs::create_dir_all(&vod).expect("vod dir");
        std::fs::copy(&mp4, vod.join("clip.mp4")).expect("copy mp4");
        let url = server.http_url("/vod/clip.mp4");
        let (ok, out, err) = run(
            Command::new("ffprobe").args([
                "-v",
                "error",
                "-count_frames",
                "-select_streams",
                "v",
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0",
                &url,
            ]),
            Duration::from_secs(60),
        );
        assert!(ok, "ffprobe {url}: {err}");
        assert_eq!(out.trim(), "200", "8 s at 25 fps; stderr: {err}");
        // Starting in the middle seeks again.
        let (ok, _, err) = run(
            Command::new("ffmpeg").args(["-v", "error", "-ss", "5", "-i", &url, "-f", "null", "-"]),
            Duration::from_secs(60),
        );
        assert!(ok && err.trim().is_empty(), "ffmpeg -ss 5 {url}: {err}");
    });
}

#[test]
fn api_credentials_are_asked_for_and_curl_supplies_them() {
    if !have("curl") {
        return;
    }
    each_server(|bin| {
        let server = ServerProcess::start_from(bin, |dir| {
            test_config(dir, "", "").replacen(
                "http_api {\n    enabled on;",
                "http_api {\n    enabled on;\n    auth { enabled on; username ops; password \"pa ss\"; }",
                1,
            )
        });
        let curl = |args: &[&str], path: &str| {
            let url = server.api_url(path);
            let (ok, out, err) = run(
                Command::new("curl")
                    .args([
                        "-s",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code} %header{www-authenticate}",
                    ])
                    .args(args)
                    .arg(&url),
                Duration::from_secs(20),
            );
            assert!(ok, "curl {url}: {err}");
            out
        };
        let out = curl(&[], "/api/v1/versions");
        assert!(out.starts_with("401 Basic realm="), "{out}");
        assert!(curl(&["-u", "ops:pa sx"], "/api/v1/versions").starts_with("401"));
        assert_eq!(curl(&["-u", "ops:pa ss"], "/api/v1/versions").trim(), "200");
        assert_eq!(curl(&["-u", "ops:pa ss"], "/api/v1/streams").trim(), "200");
        // The HTTP server stays open: players carry no credentials.
        let (status, _, _) = http("GET", server.http, "/");
        assert_eq!(status, 200);
    });
}

#[test]
fn vhosts_choose_the_chunk_size_and_a_disabled_vhost_refuses_connect() {
    if !have("rtmpdump") {
        return;
    }
    each_server(|bin| {
        let server = ServerProcess::start_configured(
            bin,
            "vhost small.test { chunk_size 4096; tcp_nodelay on; }\n\
             vhost off.test { enabled off; }",
            "",
        );
        // rtmpdump's debug log shows the Set Chunk Size the connect answer carries.
        let dump = |vhost: &str| {
            let url = format!("rtmp://{}/live{vhost}/none", server.rtmp);
            let (_, _, err) = run(
                Command::new("rtmpdump")
                    .args(["--debug", "--live", "--stop", "1", "-o", "/dev/null", "-r"])
                    .arg(&url),
                // Nothing is published: the answer to connect is all it waits for.
                Duration::from_secs(3),
            );
            err
        };
        let small = dump("?vhost=small.test");
        assert!(
            small.contains("chunk size change to 4096"),
            "small.test: {small}"
        );
        let default = dump("");
        assert!(
            default.contains("chunk size change to 60000"),
            "default vhost: {default}"
        );
        let off = dump("?vhost=off.test");
        assert!(off.contains("rtmp server sent error"), "off.test: {off}");
        assert!(!off.contains("chunk size change"), "off.test: {off}");
        let refused = wait_for(Duration::from_secs(5), || {
            server
                .log_text()
                .contains(r#"connect refused: vhost "off.test" not found or disabled"#)
                .then_some(())
        });
        assert!(refused.is_some(), "log:\n{}", server.log_text());
    });
}

#[test]
fn api_reports_codecs_and_kicking_a_client_disconnects_it() {
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let mut publisher = publish_live(&server, &media, "api", true);
        let (status, head, body) = http("GET", server.api, "/api/v1/streams");
        assert_eq!(status, 200);
        assert!(
            head.to_ascii_lowercase().contains("application/json"),
            "{head}"
        );
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["code"], 0);
        let s = v["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "api")
            .unwrap()
            .clone();
        assert_eq!(s["app"], "live");
        assert_eq!(s["video"]["codec"], "H264");
        assert_eq!(s["video"]["width"], 640);
        assert_eq!(s["video"]["height"], 360);
        assert_eq!(s["audio"]["codec"], "AAC");
        assert_eq!(s["audio"]["sample_rate"], 44100);
        let id = s["id"].clone();
        let (status, _, body) = http(
            "GET",
            server.api,
            &format!("/api/v1/streams/{}", id.as_u64().unwrap()),
        );
        assert_eq!(status, 200);
        let one: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(one["stream"]["name"], "api");

        if have("rtmpdump") {
            // What a Flash-era player says about itself reaches the API.
            let mut player = Command::new("rtmpdump")
                .args([
                    "--live",
                    "-o",
                    "/dev/null",
                    "-p",
                    "https://example.com/page",
                ])
                .args(["-s", "https://example.com/player.swf", "-r"])
                .arg(server.rtmp_url("api"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("start rtmpdump");
            let listed = wait_for(Duration::from_secs(10), || {
                let (_, _, body) = http("GET", server.api, "/api/v1/clients");
                let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
                v["clients"]
                    .as_array()?
                    .iter()
                    // Listed from connect on ("idle"); playing once play is answered.
                    .find(|c| {
                        c["pageUrl"] == "https://example.com/page" && c["type"] == "rtmp-play"
                    })
                    .cloned()
            });
            let _ = player.kill();
            let _ = player.wait();
            let listed = listed.expect("rtmpdump listed as a player with its pageUrl");
            assert_eq!(listed["swfUrl"], "https://example.com/player.swf");
        }
        let (_, _, body) = http("GET", server.api, "/api/v1/clients");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let client = v["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["publish"] == true)
            .expect("publisher listed")
            .clone();
        let (status, _, _) = http(
            "DELETE",
            server.api,
            &format!("/api/v1/clients/{}", client["id"]),
        );
        assert_eq!(status, 200);
        let exited = wait_for(Duration::from_secs(15), || publisher.0.try_wait().unwrap());
        assert!(exited.is_some(), "kicked publisher still connected");
        let (status, _, _) = http("GET", server.api, "/api/v1/clients/999999");
        assert_eq!(status, 404);
    });
}

#[test]
fn sigterm_closes_segments_and_exits_cleanly() {
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let mut server = ServerProcess::start(bin);
        let _publisher = Publisher::start(&media, &server.rtmp_url("term"), true);
        wait_for(Duration::from_secs(20), || {
            server.playlist("term").filter(|p| !segments(p).is_empty())
        })
        .expect("a first segment");
        let status = server.terminate();
        assert!(status.success(), "exit status {status}");
        let text = server.playlist("term").expect("playlist kept");
        let dir = server.hls_dir().join("live");
        for seg in segments(&text) {
            assert!(dir.join(&seg).exists(), "{seg} missing after shutdown");
        }
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "half-written files left: {leftovers:?}"
        );
    });
}

#[test]
fn config_test_mode_reports_file_and_line() {
    each_server(|bin| {
        let dir = TempDir::new("conf");
        let good = dir.path().join("good.conf");
        std::fs::write(&good, "listen 1935;\nvhost __defaultVhost__ {\n}\n").unwrap();
        let (ok, out, err) = run(
            Command::new(bin).arg("-t").arg("-c").arg(&good),
            Duration::from_secs(10),
        );
        assert!(ok, "good config refused: {out}{err}");
        let bad = dir.path().join("bad.conf");
        std::fs::write(
            &bad,
            "listen 1935;\nvhost __defaultVhost__ {\n    chunk_size banana;\n}\n",
        )
        .unwrap();
        let (ok, out, err) = run(
            Command::new(bin).arg("-t").arg("-c").arg(&bad),
            Duration::from_secs(10),
        );
        assert!(!ok, "bad config accepted");
        let text = format!("{out}{err}");
        assert!(text.contains("bad.conf:3:"), "no file:line in: {text}");
        let (ok, out, _) = run(Command::new(bin).arg("--help"), Duration::from_secs(10));
        assert!(ok && out.contains("--config"), "{out}");
    });
}

#[test]
fn a_second_server_with_the_same_pid_file_refuses_to_start() {
    each_server(|bin| {
        let first = ServerProcess::start(bin);
        let pid_file = first.dir.path().join("server.pid");
        let pid = std::fs::read_to_string(&pid_file).expect("pid file written");
        assert_eq!(pid.trim(), first.child.id().to_string());
        let dir = TempDir::new("second");
        let conf = dir.path().join("second.conf");
        std::fs::write(
            &conf,
            format!(
                "listen 127.0.0.1:0;\ndaemon off;\nsrs_log_tank console;\npid {};\nvhost __defaultVhost__ {{\n}}\n",
                pid_file.display()
            ),
        )
        .unwrap();
        let (ok, out, err) = run(
            Command::new(bin).arg("-c").arg(&conf),
            Duration::from_secs(10),
        );
        assert!(!ok, "second server ran: {out}{err}");
        assert!(err.contains("already running"), "{err}");
        // The first server's pid file is untouched.
        assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), pid);
    });
}

/// The ffmpeg build PyPI's `imageio-ffmpeg` ships (ffmpeg 7+), if installed.
fn modern_ffmpeg() -> Option<std::path::PathBuf> {
    let (ok, out, _) = run(
        Command::new("python3").args([
            "-c",
            "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())",
        ]),
        Duration::from_secs(20),
    );
    let path = std::path::PathBuf::from(out.trim());
    if ok && path.exists() {
        Some(path)
    } else {
        eprintln!("NOTICE: imageio-ffmpeg not installed (scripts/test.sh installs it); skipping");
        None
    }
}

#[test]
fn modern_ffmpeg_with_enhanced_rtmp_connect_publishes_and_plays() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let Some(ffmpeg9) = modern_ffmpeg() else {
        return;
    };
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let url = server.rtmp_url("modern");
        let mut publisher = Command::new(&ffmpeg9);
        publisher
            .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
            .arg(&media)
            .args([
                "-c",
                "copy",
                "-rtmp_enhanced_codecs",
                "hvc1,av01,vp09,avc1",
                "-f",
                "flv",
                &url,
            ]);
        let _publisher = Publisher(
            publisher
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("modern ffmpeg"),
        );
        wait_live(&server, "modern");
        assert!(
            server.log_text().contains("fourCcList"),
            "the modern ffmpeg's connect should carry E-RTMP fourCcList; log:\n{}",
            server.log_text()
        );
        let dir = TempDir::new("modern");
        let out = dir.path().join("modern.flv");
        let (ok, _, err) = run(
            Command::new(&ffmpeg9)
                .args([
                    "-v", "error", "-y", "-i", &url, "-t", "3", "-c", "copy", "-f", "flv",
                ])
                .arg(&out),
            Duration::from_secs(40),
        );
        assert!(ok, "modern ffmpeg failed to play: {err}");
        assert!(decode_errors(&out).is_empty());
        let streams = probe_streams(&out);
        assert!(
            streams.contains("codec_name=h264|width=640|height=360"),
            "{streams}"
        );
        assert!(first_video_frame_is_key(&out));
    });
}

#[test]
fn ffmpeg_cannot_publish_a_stream_name_that_leaves_hls_path() {
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        // hls_path is <dir>/html; this name would put the playlist in <dir>/escaped.
        let url = format!("rtmp://{}/live/../../escaped/pwn", server.rtmp);
        let (ok, err) = Publisher::start(&media, &url, false).wait(Duration::from_secs(20));
        assert!(!ok, "ffmpeg published {url}");
        let refused = wait_for(Duration::from_secs(5), || {
            // ffmpeg counts all but the last segment as the app.
            let log = server.log_text();
            (log.contains("publish refused: app name") && log.contains("`..` path segment"))
                .then_some(())
        });
        assert!(
            refused.is_some(),
            "ffmpeg: {err}\nlog:\n{}",
            server.log_text()
        );
        let escaped = server.dir.path().join("escaped");
        assert!(!escaped.exists(), "files written to {}", escaped.display());
    });
}

#[test]
fn a_publisher_sending_garbage_is_dropped_while_another_stream_carries_on() {
    use std::io::Write;
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _good = publish_live(&server, &media, "good", true);

        let mut bad = TestClient::connect(server.rtmp, "live");
        // Set Chunk Size 0 (forbidden by the spec), then noise.
        let mut garbage = vec![0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
        garbage.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
        let _ = bad.socket.write_all(&garbage);
        assert!(
            bad.closed_by_server(Duration::from_secs(10)),
            "garbage sender was not dropped"
        );
        let logged = wait_for(Duration::from_secs(5), || {
            server.log_text().contains("closed: protocol").then_some(())
        });
        assert!(logged.is_some(), "no logged reason:\n{}", server.log_text());

        let dir = TempDir::new("garbage");
        let out = dir.path().join("good.flv");
        let (ok, err) = record(&server.rtmp_url("good"), &out, 3);
        assert!(ok, "the healthy stream suffered: {err}");
        assert!(decode_errors(&out).is_empty());

        // A client that connects and never speaks is dropped after the idle
        // timeout; here we only check the server is still serving meanwhile.
        let _silent = std::net::TcpStream::connect(server.rtmp).unwrap();
        let (status, _, _) = http("GET", server.api, "/api/v1/versions");
        assert_eq!(status, 200);
    });
}

#[test]
fn second_publisher_gets_bad_name_and_late_player_waits_for_publisher() {
    if !have("ffmpeg") {
        return;
    }
    use rtmp_proto::session::ClientEvent;
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        // A player that arrives first waits.
        let mut early = TestClient::connect(server.rtmp, "live");
        let sid = early.session.create_stream();
        let _ = sid;
        let created = {
            let mut id = None;
            early.pump_until(Duration::from_secs(5), |e| {
                if let ClientEvent::StreamCreated { stream_id, .. } = e {
                    id = Some(*stream_id);
                    true
                } else {
                    false
                }
            });
            id.expect("createStream answered")
        };
        early.session.play(created, "dup");
        assert!(early.pump_until(
            Duration::from_secs(5),
            |e| matches!(e, ClientEvent::Status { code, .. } if code == "NetStream.Play.Start")
        ));

        let _first = publish_live(&server, &media, "dup", true);
        // The early player now receives video.
        assert!(
            early.pump_until(Duration::from_secs(10), |e| matches!(
                e,
                ClientEvent::Media { .. }
            )),
            "early player got no media after the publisher arrived"
        );

        let mut second = TestClient::connect(server.rtmp, "live");
        second
            .session
            .publish_fmle("dup", rtmp_proto::command::PublishType::Live);
        let refused = second.pump_until(Duration::from_secs(10), |e| {
            matches!(e, ClientEvent::Status { code, .. } if code == "NetStream.Publish.BadName")
        });
        assert!(refused, "second publisher was not refused with BadName");
    });
}

/// Plays `stream` with a TestClient; returns it once NetStream.Play.Start arrived.
fn test_player(server: &ServerProcess, stream: &str) -> TestClient {
    use rtmp_proto::session::ClientEvent;
    let mut player = TestClient::connect(server.rtmp, "live");
    player.session.create_stream();
    let mut sid = None;
    player.pump_until(Duration::from_secs(5), |e| match e {
        ClientEvent::StreamCreated { stream_id, .. } => {
            sid = Some(*stream_id);
            true
        }
        _ => false,
    });
    let sid = sid.expect("createStream answered");
    player.session.play(sid, stream);
    assert!(player.pump_until(Duration::from_secs(5), |e| {
        matches!(e, ClientEvent::Status { code, .. } if code == "NetStream.Play.Start")
    }));
    player
}

#[test]
fn players_stay_through_unpublish_and_resume_on_republish() {
    if !have("ffmpeg") {
        return;
    }
    use rtmp_proto::session::ClientEvent;
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let first = publish_live(&server, &media, "again", false);
        let mut player = test_player(&server, "again");
        assert!(player.pump_until(Duration::from_secs(10), |e| matches!(
            e,
            ClientEvent::Media { .. }
        )));
        let (ok, err) = first.wait(Duration::from_secs(30));
        assert!(ok, "{err}");
        assert!(
            player.pump_until(Duration::from_secs(10), |e| {
                matches!(e, ClientEvent::Status { code, .. } if code == "NetStream.Play.UnpublishNotify")
            }),
            "player was not told the publisher left"
        );
        let _second = Publisher::start(&media, &server.rtmp_url("again"), true);
        let mut saw_notify = false;
        let resumed = player.pump_until(Duration::from_secs(15), |e| match e {
            ClientEvent::Status { code, .. } if code == "NetStream.Play.PublishNotify" => {
                saw_notify = true;
                false
            }
            ClientEvent::Media { message, .. } => {
                saw_notify && message.type_id == rtmp_proto::MessageType::Video
            }
            _ => false,
        });
        assert!(
            resumed,
            "player did not resume on republish (PublishNotify seen: {saw_notify})"
        );
    });
}

#[test]
fn a_publisher_that_sends_no_media_is_dropped_after_firstpkt_timeout() {
    use rtmp_proto::session::ClientEvent;
    each_server(|bin| {
        let server = ServerProcess::start_with(
            bin,
            "publish { firstpkt_timeout 1500; normal_timeout 1500; }",
        );
        let mut silent = TestClient::connect(server.rtmp, "live");
        silent
            .session
            .publish_fmle("silent", rtmp_proto::command::PublishType::Live);
        assert!(silent.pump_until(Duration::from_secs(5), |e| {
            matches!(e, ClientEvent::Status { code, .. } if code == "NetStream.Publish.Start")
        }));
        let started = std::time::Instant::now();
        assert!(
            silent.closed_by_server(Duration::from_secs(10)),
            "silent publisher kept"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(1000),
            "dropped too early: {waited:?}"
        );
        let logged = wait_for(Duration::from_secs(5), || {
            server.log_text().contains("no first packet").then_some(())
        });
        assert!(logged.is_some(), "{}", server.log_text());
    });
}

#[test]
fn a_publisher_trickling_an_unfinished_message_is_dropped_after_normal_timeout() {
    use rtmp_proto::session::ClientEvent;
    use std::io::Write;
    each_server(|bin| {
        let server = ServerProcess::start_with(
            bin,
            "publish { firstpkt_timeout 1500; normal_timeout 1500; }",
        );
        let mut client = TestClient::connect(server.rtmp, "live");
        client
            .session
            .publish_fmle("trickle", rtmp_proto::command::PublishType::Live);
        let mut sid = None;
        assert!(client.pump_until(Duration::from_secs(5), |e| match e {
            ClientEvent::Status {
                stream_id, code, ..
            } if code == "NetStream.Publish.Start" => {
                sid = Some(*stream_id);
                true
            }
            _ => false,
        }));
        let sid = sid.unwrap();
        // A 64 KiB video message whose last bytes come one a second: bytes
        // keep arriving, but no media message ever completes.
        let message = rtmp_proto::RawMessage {
            csid: 6,
            timestamp: 0,
            type_id: rtmp_proto::MessageType::Video,
            stream_id: sid,
            payload: bytes::Bytes::from(vec![0x17; 64 * 1024]),
        };
        client.session.send_media(sid, &message);
        let mut out = Vec::new();
        client.session.poll_transmit(&mut out);
        let wire: Vec<u8> = out.concat();
        let (body, tail) = wire.split_at(wire.len() - 20);
        client.socket.write_all(body).unwrap();
        let started = std::time::Instant::now();
        let mut closed = false;
        for byte in tail {
            if client.socket.write_all(&[*byte]).is_err()
                || client.closed_by_server(Duration::from_secs(1))
            {
                closed = true;
                break;
            }
        }
        assert!(
            closed,
            "a publisher completing no message was kept for {:?}",
            started.elapsed()
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
    });
}

#[test]
fn enhanced_rtmp_hevc_is_relayed_and_sliced_into_hls() {
    if !have("ffprobe") {
        return;
    }
    let Some(ffmpeg9) = modern_ffmpeg() else {
        return;
    };
    // An HEVC + AAC FLV in the Enhanced RTMP layout (hvc1 FourCC), made by ffmpeg 9.
    let dir = TempDir::new("hevc");
    let src = dir.path().join("hevc.flv");
    let (ok, _, err) = run(
        Command::new(&ffmpeg9)
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=640x360:rate=25",
                "-f",
                "lavfi",
                "-i",
            ])
            .args([
                "sine=frequency=440:sample_rate=48000",
                "-t",
                "6",
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
            ])
            .args([
                "-x265-params",
                "keyint=50:min-keyint=50:log-level=error",
                "-c:a",
                "aac",
                "-f",
                "flv",
            ])
            .arg(&src),
        Duration::from_secs(120),
    );
    if !ok {
        eprintln!("NOTICE: this ffmpeg cannot write HEVC FLV ({err}); skipping");
        return;
    }
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let url = server.rtmp_url("hevc");
        let mut cmd = Command::new(&ffmpeg9);
        cmd.args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
            .arg(&src)
            .args([
                "-c",
                "copy",
                "-rtmp_enhanced_codecs",
                "hvc1",
                "-f",
                "flv",
                &url,
            ]);
        let _publisher = Publisher(
            cmd.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("ffmpeg 9"),
        );
        wait_live(&server, "hevc");
        let (_, _, body) = http("GET", server.api, "/api/v1/streams");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let s = v["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "hevc")
            .unwrap()
            .clone();
        assert_eq!(s["video"]["codec"], "H265", "{s}");
        assert_eq!(s["video"]["width"], 640);
        assert_eq!(s["video"]["height"], 360);

        // RTMP play with ffmpeg 9 (which reads Enhanced RTMP) gets HEVC.
        let out = dir.path().join(format!("play-{}.flv", server.rtmp.port()));
        let (ok, _, err) = run(
            Command::new(&ffmpeg9)
                .args([
                    "-v", "error", "-y", "-i", &url, "-t", "3", "-c", "copy", "-f", "flv",
                ])
                .arg(&out),
            Duration::from_secs(40),
        );
        assert!(ok, "ffmpeg 9 failed to play HEVC: {err}");
        // Debian's ffprobe predates Enhanced FLV, so ask ffmpeg 9 what it recorded.
        let (_, _, info) = run(
            Command::new(&ffmpeg9)
                .args(["-hide_banner", "-i"])
                .arg(&out),
            Duration::from_secs(20),
        );
        assert!(
            info.contains("Video: hevc") && info.contains("640x360"),
            "{info}"
        );

        // HLS carries it as stream type 0x24.
        let seg = wait_for(Duration::from_secs(20), || {
            let p = server.playlist("hevc")?;
            segments(&p).first().cloned()
        })
        .expect("an HEVC segment");
        let seg = server.hls_dir().join("live").join(seg);
        let streams = probe_streams(&seg);
        assert!(
            streams.contains("codec_name=hevc|width=640|height=360"),
            "{streams}"
        );
        assert!(decode_errors(&seg).is_empty(), "{}", decode_errors(&seg));
    });
}

/// `../shared/corpus/media/srs_bbb.flv` (real encoder output), when the corpus is there.
fn corpus_bbb() -> Option<std::path::PathBuf> {
    test_corpus::corpus_path("media/srs_bbb.flv")
}

#[test]
fn real_encoder_output_from_the_corpus_publishes_and_plays() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let Some(bbb) = corpus_bbb() else { return };
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _publisher = publish_live(&server, &bbb, "bbb", true);
        let dir = TempDir::new("bbb");
        let out = dir.path().join("bbb.flv");
        let (ok, err) = record(&server.rtmp_url("bbb"), &out, 4);
        assert!(ok, "{err}");
        assert!(decode_errors(&out).is_empty(), "{}", decode_errors(&out));
        let d = duration_secs(&out);
        assert!((3.0..=5.0).contains(&d), "duration {d}");
        assert!(first_video_frame_is_key(&out));
        let streams = probe_streams(&out);
        assert!(
            streams.contains("codec_name=h264") && streams.contains("codec_name=aac"),
            "{streams}"
        );
    });
}
