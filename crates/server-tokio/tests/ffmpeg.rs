//! ffmpeg run by the server (ingest, transcode) end to end, on both builds,
//! with the real ffmpeg: what it publishes plays (ffprobe), a broken ingest
//! is parked and listed so in the API, and no ffmpeg is left behind after
//! the publisher leaves or the server gets SIGTERM (checked in /proc by a
//! marker unique to each test in the ffmpeg's output URL).

mod support;

use std::process::Command;
use std::time::Duration;

use support::*;

/// Pids of processes whose command line holds `marker`.
fn with_marker(marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        String::from_utf8_lossy(&cmdline)
            .contains(marker)
            .then_some(pid)
    })
    .collect()
}

fn marker(tag: &str, bin: &std::path::Path) -> String {
    let build = bin.file_name().and_then(|n| n.to_str()).unwrap_or("x");
    format!("m{}{tag}{build}", std::process::id()).replace('-', "")
}

/// Width and height of `url`'s video as ffprobe reads it.
fn probe_size(url: &str) -> Option<(u32, u32)> {
    let (ok, out, _) = run(
        Command::new("ffprobe").args([
            "-v",
            "error",
            "-rw_timeout",
            "8000000",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
            url,
        ]),
        Duration::from_secs(12),
    );
    let line = out.lines().find(|l| !l.trim().is_empty())?;
    let (w, h) = line.trim().split_once(',')?;
    ok.then_some((w.parse().ok()?, h.parse().ok()?))
}

/// Codec names of `url`'s streams (`h264,aac`).
fn probe_codecs(url: &str) -> String {
    let (_, out, _) = run(
        Command::new("ffprobe").args([
            "-v",
            "error",
            "-rw_timeout",
            "8000000",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            url,
        ]),
        Duration::from_secs(12),
    );
    let mut codecs: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    codecs.sort_unstable();
    codecs.join(",")
}

fn processes(server: &ServerProcess) -> Vec<serde_json::Value> {
    let (_, _, body) = http("GET", server.api, "/api/v1/processes");
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["processes"].as_array().cloned())
        .unwrap_or_default()
}

fn tools() -> bool {
    let ok = have("ffmpeg") && have("ffprobe");
    if !ok {
        eprintln!("NOTICE: ffmpeg/ffprobe missing; skipping");
    }
    ok
}

#[test]
fn ingest_of_a_file_plays_and_goes_with_sigterm() {
    if !tools() {
        return;
    }
    let source = media(Media::AvcAac);
    each_server(|bin| {
        let m = marker("ingest", bin);
        let vhost = format!(
            "ingest cam {{ enabled on; input {{ type file; url {}; }} ffmpeg ffmpeg; \
             engine {{ enabled off; output rtmp://127.0.0.1:[port]/live/cam?vhost=[vhost]&{m}=1; }} }}",
            source.display()
        );
        let mut server = ServerProcess::start_from(bin, |dir| {
            test_config(
                dir,
                &format!("ff_log_dir {}/fflogs;", dir.display()),
                &vhost,
            )
        });
        let url = format!("rtmp://{}/live/cam", server.rtmp);
        let size = wait_for(Duration::from_secs(15), || probe_size(&url));
        assert_eq!(size, Some((640, 360)), "ingested stream does not play");
        let listed = processes(&server);
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0]["kind"], "ingest");
        assert_eq!(listed[0]["state"], "running");
        assert!(listed[0]["pid"].as_u64().is_some());
        assert!(listed[0]["cmdline"]
            .as_str()
            .unwrap()
            .contains("-stream_loop -1"));
        assert!(!with_marker(&m).is_empty(), "no ffmpeg with the marker");
        let log = server
            .dir
            .path()
            .join("fflogs/ffmpeg-ingest-__defaultVhost__-live-cam.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let listing: Vec<_> = std::fs::read_dir(server.dir.path().join("fflogs"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(
            text.contains("Input #0"),
            "ffmpeg's log in ff_log_dir: {text:?} {listing:?} {}",
            listed[0]
        );
        server.terminate();
        let gone = wait_for(Duration::from_secs(5), || {
            with_marker(&m).is_empty().then_some(())
        });
        assert!(
            gone.is_some(),
            "ffmpeg left behind after SIGTERM: {:?}",
            with_marker(&m)
        );
    });
}

#[test]
fn ingest_ffmpeg_dies_with_a_killed_server() {
    if !tools() {
        return;
    }
    let source = media(Media::AvcAac);
    each_server(|bin| {
        let m = marker("kill9", bin);
        // Writing a file, not this server: only the server's death can end it.
        let mut server = ServerProcess::start_from(bin, |dir| {
            let vhost = format!(
                "ingest cam {{ enabled on; input {{ type file; url {}; }} ffmpeg ffmpeg; \
                 engine {{ output {}/{m}.flv; }} }}",
                source.display(),
                dir.display()
            );
            test_config(dir, "ff_log_dir /dev/null;", &vhost)
        });
        let running = wait_for(Duration::from_secs(10), || {
            (!with_marker(&m).is_empty()).then_some(())
        });
        assert!(running.is_some(), "ingest ffmpeg never started");
        // SIGKILL: no orderly stop, only PR_SET_PDEATHSIG is left to end it.
        let _ = server.child.kill();
        let _ = server.child.wait();
        let gone = wait_for(Duration::from_secs(5), || {
            with_marker(&m).is_empty().then_some(())
        });
        assert!(
            gone.is_some(),
            "ffmpeg outlived a killed server: {:?}",
            with_marker(&m)
        );
    });
}

#[test]
fn ingest_of_a_missing_file_is_parked() {
    if !tools() {
        return;
    }
    each_server(|bin| {
        let m = marker("missing", bin);
        let vhost = format!(
            "ingest gone {{ enabled on; input {{ type file; url /nonexistent/{m}.flv; }} ffmpeg ffmpeg; \
             engine {{ output rtmp://127.0.0.1:[port]/live/gone; }} }}"
        );
        let server = ServerProcess::start_configured(bin, "ff_log_dir /dev/null;", &vhost);
        let parked = wait_for(Duration::from_secs(15), || {
            let listed = processes(&server);
            listed.iter().find(|p| p["state"] == "parked").cloned()
        });
        let parked = parked.unwrap_or_else(|| panic!("not parked: {:?}", processes(&server)));
        assert_eq!(parked["restarts"], 4, "{parked}");
        assert!(
            parked["last_exit"].as_str().unwrap().contains("exit code"),
            "{parked}"
        );
        assert!(with_marker(&m).is_empty());
        assert!(server.log_text().contains("parked"));
    });
}

#[test]
fn transcode_to_320x180_and_mp3_to_aac_stop_with_the_publisher() {
    if !tools() {
        return;
    }
    let dir = TempDir::new("mp3");
    let mp3 = dir.path().join("mp3.flv");
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=25",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:sample_rate=44100",
                "-t",
                "6",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-g",
                "25",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "libmp3lame",
                "-f",
                "flv",
            ])
            .arg(&mp3),
        Duration::from_secs(30),
    );
    assert!(ok, "mp3 flv: {err}");
    let source = media(Media::AvcAac);
    each_server(|bin| {
        let m = marker("transcode", bin);
        let vhost = format!(
            "transcode live/src {{ enabled on; ffmpeg ffmpeg; engine sd {{ enabled on; vcodec libx264; \
             vwidth 320; vheight 180; vprofile baseline; vpreset ultrafast; acodec copy; \
             output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]?vhost=[vhost]&{m}=1; }} }}
             transcode live/old {{ enabled on; ffmpeg ffmpeg; engine aac {{ enabled on; vcodec copy; \
             acodec aac; abitrate 64; output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]?{m}=2; }} }}"
        );
        let server = ServerProcess::start_from(bin, |dir| {
            test_config(
                dir,
                &format!("ff_log_dir {}/fflogs;", dir.display()),
                &vhost,
            )
        });
        let src = Publisher::start(&source, &server.rtmp_url("src"), true);
        let old = Publisher::start(&mp3, &server.rtmp_url("old"), true);
        let sd = format!("rtmp://{}/live/src_sd", server.rtmp);
        assert_eq!(
            wait_for(Duration::from_secs(20), || probe_size(&sd)),
            Some((320, 180)),
            "transcoded stream"
        );
        let aac = format!("rtmp://{}/live/old_aac", server.rtmp);
        let codecs = wait_for(Duration::from_secs(15), || {
            let c = probe_codecs(&aac);
            c.contains("aac").then_some(c)
        });
        assert_eq!(codecs.as_deref(), Some("aac,h264"), "audio-only transcode");
        // The source stream's JSON lists its transcode.
        let (_, _, body) = http("GET", server.api, "/api/v1/streams");
        let streams: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let src_json = streams["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "src")
            .cloned()
            .unwrap();
        assert_eq!(src_json["transcodes"][0]["state"], "running", "{src_json}");
        assert_eq!(src_json["transcodes"][0]["kind"], "transcode");
        // The transcodes' own outputs are not transcoded again.
        let listed = processes(&server);
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(with_marker(&m).len(), 2);
        drop(src);
        drop(old);
        let gone = wait_for(Duration::from_secs(8), || {
            with_marker(&m).is_empty().then_some(())
        });
        assert!(
            gone.is_some(),
            "ffmpeg left after the publishers left: {:?}",
            with_marker(&m)
        );
        assert!(
            wait_for(Duration::from_secs(3), || processes(&server)
                .is_empty()
                .then_some(()))
            .is_some(),
            "{:?}",
            processes(&server)
        );
    });
}
