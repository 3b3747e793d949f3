//! DVR end to end on both builds: real publishers (ffmpeg), the files
//! checked with ffprobe and decoded with ffmpeg, `on_dvr` received by a
//! real hook server.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{
    each_server, have, hevc_aac_flv, media, modern_ffmpeg, run, test_config, wait_for, Answer,
    HookServer, Media, Publisher, ServerProcess, TempDir,
};

/// A recording's duration may differ from what was published by about a
/// frame (25 fps video: 40 ms; ffprobe counts an FLV's last frame or not).
const TOLERANCE_SECS: f64 = 0.05;

/// What was published: the generated media as ffprobe reads it (8 s of
/// video, and AAC up to 8.09 s).
fn published_secs() -> f64 {
    probe(&media(Media::AvcAac)).0
}

fn tools() -> bool {
    have("ffmpeg") && have("ffprobe")
}

/// A server recording into `DIR/dvr` with `dvr` (the block's body, where
/// `{dvr}` is that directory) and `on_dvr` to `hooks`.
fn server(bin: &Path, hooks: &HookServer, dvr: &str) -> ServerProcess {
    let on_dvr = hooks.url("/on_dvr");
    let dvr = dvr.to_owned();
    ServerProcess::start_from(bin, move |dir| {
        let body = dvr.replace("{dvr}", &dir.join("dvr").display().to_string());
        let extra = format!(
            "dvr {{ enabled on; {body} }}\n    http_hooks {{ enabled on; on_dvr {on_dvr}; }}"
        );
        test_config(dir, "", &extra)
    })
}

/// Every file below `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// (duration, codec names) as ffprobe reads them. The duration is the span
/// of the packets (first start to last end, any track): an FLV published
/// live has no duration in its metadata, and ffprobe's own estimate for one
/// leaves out the last frame. An MP4's declared duration runs from 0 to
/// the end of the last packet in decode order (no edit list shifts B-frame
/// video's composition offset away, as none does in the published FLV).
fn probe(file: &Path) -> (f64, Vec<String>) {
    // Read while it runs (its output outgrows a pipe); a local file is
    // probed in well under a second.
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-of",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .args([
            "-show_entries",
            "packet=stream_index,pts_time,dts_time,duration_time",
        ])
        .arg(file)
        .output()
        .expect("run ffprobe");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ffprobe {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("ffprobe json");
    let number = |v: &serde_json::Value| v.as_str().and_then(|d| d.parse::<f64>().ok());
    let (mut first, mut last, mut last_decoded) = (f64::MAX, f64::MIN, f64::MIN);
    // Decode timestamps rise in every track.
    let mut dts_by_track = std::collections::HashMap::new();
    for p in v["packets"].as_array().into_iter().flatten() {
        if let Some(dts) = number(&p["dts_time"]) {
            let track = p["stream_index"].as_u64().unwrap_or_default();
            if let Some(before) = dts_by_track.insert(track, dts) {
                assert!(
                    dts > before,
                    "{}: track {track} dts {before} then {dts}",
                    file.display()
                );
            }
        }
        let (Some(pts), Some(d)) = (number(&p["pts_time"]), number(&p["duration_time"])) else {
            continue;
        };
        first = first.min(pts);
        last = last.max(pts + d);
        last_decoded = last_decoded.max(number(&p["dts_time"]).unwrap_or(pts) + d);
    }
    assert!(last > first, "no packets in {}: {out}", file.display());
    let duration = last - first;
    if file.extension().is_some_and(|e| e == "mp4") {
        let declared = number(&v["format"]["duration"]).expect("mp4 duration");
        assert!(
            (declared - last_decoded).abs() <= TOLERANCE_SECS,
            "{}: declared {declared} s, packets end at {last_decoded} s",
            file.display()
        );
    }
    let mut codecs: Vec<String> = v["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["codec_name"].as_str().map(str::to_owned))
        .collect();
    codecs.sort();
    (duration, codecs)
}

/// `ffmpeg -v error` decodes `file` without a word.
fn decodes_cleanly(file: &Path) {
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(file)
            .args(["-f", "null", "-"]),
        Duration::from_secs(60),
    );
    assert!(ok && err.trim().is_empty(), "{}: {err}", file.display());
}

/// Publishes the 8 s media once (in real time) to `stream` and waits for it to end.
fn publish_once(server: &ServerProcess, stream: &str) {
    let (ok, err) = Publisher::start(&media(Media::AvcAac), &server.rtmp_url(stream), false)
        .wait(Duration::from_secs(40));
    assert!(ok, "publisher failed: {err}");
}

/// Waits for `n` finished files (no `.tmp` left) and `n` `on_dvr` calls.
fn finished(server: &ServerProcess, hooks: &HookServer, n: usize) -> Vec<PathBuf> {
    let dir = server.dir.path().join("dvr");
    let done = wait_for(Duration::from_secs(20), || {
        let all = files(&dir);
        let calls = hooks
            .calls()
            .iter()
            .filter(|c| c.action() == "on_dvr")
            .count();
        (all.len() == n && all.iter().all(|f| !f.to_string_lossy().ends_with(".tmp")) && calls == n)
            .then_some(all)
    });
    done.unwrap_or_else(|| {
        panic!(
            "expected {n} files and on_dvr calls; files {:?}, hooks {:?}\n{}",
            files(&dir),
            hooks.actions(),
            server.log_text()
        )
    })
}

/// The hook calls name exactly `files`, with SRS's fields.
fn hooks_name(hooks: &HookServer, files: &[PathBuf], stream: &str) {
    let mut named: Vec<String> = hooks
        .calls()
        .into_iter()
        .filter(|c| c.action() == "on_dvr")
        .map(|c| {
            assert_eq!(c.body["stream"], stream);
            assert_eq!(c.body["app"], "live");
            assert!(
                c.body["cwd"].as_str().is_some_and(|d| !d.is_empty()),
                "{:?}",
                c.body
            );
            assert!(c.body["client_id"].is_string(), "{:?}", c.body);
            c.body["file"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    named.sort();
    let mut expected: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    expected.sort();
    assert_eq!(named, expected);
}

fn session_plan(ext: &str) {
    if !tools() {
        return;
    }
    each_server(|bin| {
        let hooks = HookServer::start(|_| Answer::Allow);
        let path = format!("dvr_path {{dvr}}/[app]/[stream].[timestamp].{ext};");
        let server = server(bin, &hooks, &path);
        publish_once(&server, "cam");
        let files = finished(&server, &hooks, 1);
        let file = &files[0];
        assert!(
            file.to_string_lossy().ends_with(&format!(".{ext}")),
            "{file:?}"
        );
        let (duration, codecs) = probe(file);
        eprintln!("{file:?}: {duration} s of {}", published_secs());
        assert_eq!(codecs, ["aac", "h264"]);
        assert!(
            (duration - published_secs()).abs() <= TOLERANCE_SECS,
            "{file:?}: {duration} s"
        );
        decodes_cleanly(file);
        hooks_name(&hooks, &files, "cam");
    });
}

#[test]
fn session_plan_records_one_flv_per_publish() {
    session_plan("flv");
}

#[test]
fn session_plan_records_one_mp4_per_publish() {
    session_plan("mp4");
}

fn segment_plan(ext: &str) {
    if !tools() {
        return;
    }
    each_server(|bin| {
        let hooks = HookServer::start(|_| Answer::Allow);
        // Key frames every 2 s: a 3 s segment ends at the key frame at 4 s.
        let conf = format!(
            "dvr_plan segment; dvr_duration 3; dvr_wait_keyframe on; \
             dvr_path {{dvr}}/[app]/[stream]-[timestamp].{ext};"
        );
        let server = server(bin, &hooks, &conf);
        publish_once(&server, "seg");
        let files = finished(&server, &hooks, 2);
        let mut total = 0.0;
        for (i, file) in files.iter().enumerate() {
            let (duration, codecs) = probe(file);
            assert_eq!(codecs, ["aac", "h264"], "{file:?}");
            eprintln!("{file:?}: {duration} s");
            // The first file ends at the key frame at 4 s; the last has the rest.
            assert!(
                i > 0 || (duration - 4.0).abs() <= TOLERANCE_SECS,
                "file {i} {file:?}: {duration} s"
            );
            decodes_cleanly(file);
            total += duration;
        }
        assert!(
            (total - published_secs()).abs() <= 2.0 * TOLERANCE_SECS,
            "{total} s in all"
        );
        hooks_name(&hooks, &files, "seg");
    });
}

#[test]
fn segment_plan_cuts_flv_files_at_key_frames() {
    segment_plan("flv");
}

#[test]
fn segment_plan_cuts_mp4_files_at_key_frames() {
    segment_plan("mp4");
}

#[test]
fn a_publisher_that_reconnects_gets_a_new_file() {
    if !tools() {
        return;
    }
    each_server(|bin| {
        let hooks = HookServer::start(|_| Answer::Allow);
        let server = server(bin, &hooks, "dvr_path {dvr}/[stream].[timestamp].mp4;");
        publish_once(&server, "again");
        finished(&server, &hooks, 1);
        publish_once(&server, "again");
        let files = finished(&server, &hooks, 2);
        for file in &files {
            let (duration, _) = probe(file);
            assert!(
                (duration - published_secs()).abs() <= TOLERANCE_SECS,
                "{file:?}: {duration} s"
            );
            decodes_cleanly(file);
        }
    });
}

#[test]
fn an_unwritable_dvr_path_leaves_publishing_and_playing_working() {
    if !tools() {
        return;
    }
    each_server(|bin| {
        let hooks = HookServer::start(|_| Answer::Allow);
        // A regular file where the recording's directory would be.
        let server = server(bin, &hooks, "dvr_path {dvr}/blocked/[stream].flv;");
        std::fs::create_dir_all(server.dir.path().join("dvr")).unwrap();
        std::fs::write(server.dir.path().join("dvr/blocked"), b"not a directory").unwrap();
        let _publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("cam"), true);
        let logged = wait_for(Duration::from_secs(20), || {
            server
                .log_text()
                .contains("dvr: recording stopped")
                .then_some(())
        });
        assert!(logged.is_some(), "no error logged:\n{}", server.log_text());
        // Players still get the stream, over RTMP and HTTP-FLV.
        for url in [server.rtmp_url("cam"), server.http_url("/live/cam.flv")] {
            let (ok, _, err) = run(
                Command::new("ffmpeg")
                    .args(["-v", "error", "-i", &url, "-t", "2", "-f", "null", "-"]),
                Duration::from_secs(30),
            );
            assert!(ok, "playing {url}: {err}\n{}", server.log_text());
        }
        assert!(hooks.calls().iter().all(|c| c.action() != "on_dvr"));
    });
}

#[test]
fn an_mp4_cut_short_by_kill_9_still_plays() {
    if !tools() {
        return;
    }
    each_server(|bin| {
        let hooks = HookServer::start(|_| Answer::Allow);
        let mut server = server(bin, &hooks, "dvr_path {dvr}/[stream].mp4;");
        let _publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("cam"), true);
        let tmp = server.dir.path().join("dvr/cam.mp4.tmp");
        // Fragments are appended at each key frame (every 2 s): wait for a few.
        let grown = wait_for(Duration::from_secs(30), || {
            std::fs::metadata(&tmp)
                .ok()
                .filter(|m| m.len() > 600_000)
                .map(|_| ())
        });
        assert!(
            grown.is_some(),
            "no recording at {tmp:?}\n{}",
            server.log_text()
        );
        server.child.kill().expect("SIGKILL");
        let _ = server.child.wait();
        let (duration, codecs) = probe(&tmp);
        eprintln!("{tmp:?}: {duration} s after kill -9");
        assert_eq!(codecs, ["aac", "h264"]);
        assert!(duration >= 2.0, "{duration} s");
        decodes_cleanly(&tmp);
    });
}

#[test]
fn a_server_that_quits_completes_its_recordings() {
    if !tools() {
        return;
    }
    each_server(|bin| {
        let hooks = HookServer::start(|_| Answer::Allow);
        let mut server = server(bin, &hooks, "dvr_path {dvr}/[stream].mp4;");
        let _publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("cam"), true);
        let tmp = server.dir.path().join("dvr/cam.mp4.tmp");
        let grown = wait_for(Duration::from_secs(30), || {
            std::fs::metadata(&tmp)
                .ok()
                .filter(|m| m.len() > 300_000)
                .map(|_| ())
        });
        assert!(
            grown.is_some(),
            "no recording at {tmp:?}\n{}",
            server.log_text()
        );
        let status = server.terminate();
        assert!(status.success(), "{status:?}\n{}", server.log_text());
        let file = server.dir.path().join("dvr/cam.mp4");
        assert!(
            !tmp.exists() && file.exists(),
            "{:?}",
            files(&server.dir.path().join("dvr"))
        );
        // on_dvr is sent, but the server does not wait for hooks before it
        // exits: when it made it out, it names the file.
        if let Some(call) = hooks.wait_action("on_dvr", Some("cam"), Duration::from_secs(1)) {
            assert_eq!(call.body["file"], file.display().to_string());
        }
        let (duration, codecs) = probe(&file);
        assert_eq!(codecs, ["aac", "h264"]);
        assert!(duration >= 1.0, "{duration} s");
        decodes_cleanly(&file);
    });
}

#[test]
fn an_hevc_stream_records_to_mp4_with_an_hvc1_track() {
    if !tools() {
        return;
    }
    let Some(ffmpeg9) = modern_ffmpeg() else {
        return;
    };
    // 4 s of HEVC + AAC in FLV's Enhanced RTMP layout (hvc1 FourCC).
    let dir = TempDir::new("dvr-hevc");
    let Some(src) = hevc_aac_flv(&ffmpeg9, dir.path()) else {
        return;
    };
    // Debian's ffprobe cannot read HEVC in FLV: the same packets in MP4.
    let reference = dir.path().join("hevc.mp4");
    let (ok, _, err) = run(
        Command::new(&ffmpeg9)
            .args(["-v", "error", "-y", "-i"])
            .arg(&src)
            .args(["-c", "copy"])
            .arg(&reference),
        Duration::from_secs(30),
    );
    assert!(ok, "remux: {err}");
    let published = probe(&reference).0;
    each_server(|bin| {
        let hooks = HookServer::start(|_| Answer::Allow);
        let server = server(bin, &hooks, "dvr_path {dvr}/[stream].mp4;");
        let mut cmd = Command::new(&ffmpeg9);
        cmd.args(["-v", "error", "-re", "-i"]).arg(&src).args([
            "-c",
            "copy",
            "-f",
            "flv",
            &server.rtmp_url("hevc"),
        ]);
        let (ok, _, err) = run(&mut cmd, Duration::from_secs(30));
        assert!(ok, "publisher failed: {err}");
        let files = finished(&server, &hooks, 1);
        let (duration, codecs) = probe(&files[0]);
        eprintln!("{:?}: {duration} s of {published}", files[0]);
        assert_eq!(codecs, ["aac", "hevc"]);
        assert!(
            (duration - published).abs() <= TOLERANCE_SECS,
            "{duration} s"
        );
        decodes_cleanly(&files[0]);
        // The sample entry is hvc1 (what Apple's players take), not hev1.
        let (_, out, _) = run(
            Command::new("ffprobe")
                .args(["-v", "error", "-select_streams", "v", "-show_entries"])
                .args(["stream=codec_tag_string", "-of", "csv=p=0"])
                .arg(&files[0]),
            Duration::from_secs(20),
        );
        assert_eq!(out.trim(), "hvc1");
    });
}
