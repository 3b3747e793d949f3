//! Forward (`vhost { forward { } }`) end to end: two or more server
//! processes on loopback, ffmpeg publishing to the first and playing from
//! the others.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

/// The API's object for `stream` on `server`, once `ready` holds for it.
fn wait_stream(
    server: &ServerProcess,
    stream: &str,
    limit: Duration,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    wait_for(limit, || {
        let (status, _, body) = http("GET", server.api, "/api/v1/streams");
        let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
        if status != 200 {
            return None;
        }
        v["streams"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == stream && ready(s))
            .cloned()
    })
}

fn is_live(s: &serde_json::Value) -> bool {
    s["publish"]["active"] == true && s["video"]["codec"].is_string()
}

/// Waits until `server` has `stream` live with video.
fn wait_live(server: &ServerProcess, stream: &str, limit: Duration) {
    assert!(
        wait_stream(server, stream, limit, is_live).is_some(),
        "stream {stream} never went live; log:\n{}",
        server.log_text()
    );
}

/// A loopback port nothing listens on now (a destination to start later).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A server whose RTMP listener is `127.0.0.1:port`.
fn start_on_port(bin: &Path, port: u16, extra_vhost: &str) -> ServerProcess {
    ServerProcess::start_from(bin, |dir| {
        test_config(dir, "", extra_vhost).replacen(
            "listen 127.0.0.1:0;\nmax_connections",
            &format!("listen 127.0.0.1:{port};\nmax_connections"),
            1,
        )
    })
}

fn forward_to(ports: &[u16]) -> String {
    let dests: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    format!("forward {{ enabled on; destination {}; }}", dests.join(" "))
}

fn record(url: &str, out: &Path, secs: u32) -> (bool, String) {
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i", url, "-t", &secs.to_string()])
            .args(["-c", "copy", "-f", "flv"])
            .arg(out),
        Duration::from_secs(40),
    );
    (ok, err)
}

/// Decodes `file` completely; its stderr (empty = clean).
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

fn probe_streams(file: &Path) -> String {
    let (_, out, _) = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "stream=codec_name"])
            .args(["-of", "compact=p=0"])
            .arg(file),
        Duration::from_secs(30),
    );
    out
}

/// The first coded video frame after the sequence header is a key frame.
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

/// Plays `url` for `secs` and checks what arrived: H.264 + AAC, a clean
/// decode, starting at a key frame.
fn plays_cleanly(url: &str, dir: &Path, name: &str, secs: u32) {
    let out = dir.join(format!("{name}.flv"));
    let (ok, err) = record(url, &out, secs);
    assert!(ok, "{name}: player failed: {err}");
    let streams = probe_streams(&out);
    assert!(
        streams.contains("codec_name=h264") && streams.contains("codec_name=aac"),
        "{name}: {streams}"
    );
    let errors = decode_errors(&out);
    assert!(errors.is_empty(), "{name} decodes with errors: {errors}");
    assert!(
        first_video_frame_is_key(&out),
        "{name}: does not start at a key frame"
    );
}

/// The `forwards` list of `stream` in `server`'s API.
fn forwards(server: &ServerProcess, stream: &str) -> Vec<serde_json::Value> {
    wait_stream(server, stream, Duration::from_secs(5), |_| true)
        .and_then(|s| s["forwards"].as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn forward_pushes_the_stream_to_a_second_server_where_ffmpeg_plays_it() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let b = ServerProcess::start(bin);
        let a = ServerProcess::start_with(bin, &forward_to(&[b.rtmp.port()]));
        let _publisher = Publisher::start(&media, &a.rtmp_url("cam?token=t1"), true);
        wait_live(&a, "cam", Duration::from_secs(20));
        wait_live(&b, "cam", Duration::from_secs(20));
        let dir = TempDir::new("forward");
        plays_cleanly(&b.rtmp_url("cam"), dir.path(), "b", 4);

        let f = forwards(&a, "cam");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0]["destination"],
            format!("rtmp://127.0.0.1:{}/live/cam", b.rtmp.port())
        );
        assert_eq!(f[0]["state"], "forwarding", "{f:?}");
        assert!(f[0]["bytes"].as_u64().unwrap_or(0) > 100_000, "{f:?}");
    });
}

#[test]
fn a_destination_started_after_the_publisher_gets_the_stream_once_it_is_up() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    let port = free_port();
    let a = ServerProcess::start_with(bin, &forward_to(&[port]));
    let _publisher = Publisher::start(&media, &a.rtmp_url("late"), true);
    wait_live(&a, "late", Duration::from_secs(20));
    // Refused connections are retried, counted and shown.
    let retrying = wait_for(Duration::from_secs(10), || {
        let f = forwards(&a, "late");
        (f.len() == 1 && f[0]["retries"].as_u64().unwrap_or(0) >= 1).then_some(f)
    });
    assert!(retrying.is_some(), "no retry shown; log:\n{}", a.log_text());
    let b = start_on_port(&bins[0], port, "");
    wait_live(&b, "late", Duration::from_secs(40));
    let dir = TempDir::new("forward-late");
    plays_cleanly(&b.rtmp_url("late"), dir.path(), "late", 3);
}

#[test]
fn a_restarted_destination_gets_the_stream_again_from_a_key_frame() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let port = free_port();
    let a = ServerProcess::start_with(&bins[0], &forward_to(&[port]));
    let bin_b = bins.last().expect("a server binary");
    let b = start_on_port(bin_b, port, "");
    let _publisher = Publisher::start(&media, &a.rtmp_url("again"), true);
    wait_live(&b, "again", Duration::from_secs(20));
    drop(b);
    let dropped = wait_for(Duration::from_secs(15), || {
        let f = forwards(&a, "again");
        (f.len() == 1 && f[0]["state"] != "forwarding").then_some(())
    });
    assert!(
        dropped.is_some(),
        "the drop was not noticed; log:\n{}",
        a.log_text()
    );
    let b = start_on_port(bin_b, port, "");
    wait_live(&b, "again", Duration::from_secs(40));
    let dir = TempDir::new("forward-again");
    plays_cleanly(&b.rtmp_url("again"), dir.path(), "again", 3);
    let f = forwards(&a, "again");
    assert!(f[0]["retries"].as_u64().unwrap_or(0) >= 1, "{f:?}");
}

#[test]
fn a_destination_that_never_answers_the_handshake_does_not_slow_players() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    // Takes TCP connections (the kernel's backlog) and never reads them.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let mute_port = mute.local_addr().expect("addr").port();
    each_server(|bin| {
        let a = ServerProcess::start_with(bin, &forward_to(&[mute_port]));
        let _publisher = Publisher::start(&media, &a.rtmp_url("mute"), true);
        wait_live(&a, "mute", Duration::from_secs(20));
        let dir = TempDir::new("forward-mute");
        let out = dir.path().join("player.flv");
        let started = std::time::Instant::now();
        let (ok, err) = record(&a.rtmp_url("mute"), &out, 6);
        assert!(ok, "player failed: {err}");
        // The player got its 6 s in about real time, clean.
        assert!(started.elapsed() < Duration::from_secs(15));
        let span = flv_span_secs(&out);
        assert!(span >= 5.0, "the player got {span} s");
        let errors = decode_errors(&out);
        assert!(errors.is_empty(), "decodes with errors: {errors}");
        let f = forwards(&a, "mute");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_ne!(f[0]["state"], "forwarding", "{f:?}");
    });
    drop(mute);
}

#[test]
fn a_backend_answering_two_urls_pushes_to_both() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let b = ServerProcess::start(&bins[0]);
    let c = ServerProcess::start(bins.last().expect("a server binary"));
    let answer = format!(
        r#"{{"code":0,"data":{{"urls":["rtmp://{}/live/one?k=v","rtmp://{}/copy/two"]}}}}"#,
        b.rtmp, c.rtmp
    );
    let hooks = HookServer::start(move |_| Answer::Json(answer.clone()));
    let a = ServerProcess::start_with(
        &bins[0],
        &format!(
            "forward {{ enabled on; backend {}; }}",
            hooks.url("/api/v1/forward")
        ),
    );
    let _publisher = Publisher::start(&media, &a.rtmp_url("src?token=x"), true);
    wait_live(&b, "one", Duration::from_secs(20));
    wait_live(&c, "two", Duration::from_secs(20));
    let call = hooks
        .wait_action("on_forward", Some("src"), Duration::from_secs(5))
        .expect("on_forward");
    assert_eq!(call.body["app"], "live");
    assert_eq!(call.body["param"], "?token=x");
    assert!(call.body["tcUrl"]
        .as_str()
        .unwrap_or_default()
        .contains("/live"));
    let dir = TempDir::new("forward-backend");
    plays_cleanly(&c.http_url("/copy/two.flv"), dir.path(), "two", 3);
    assert_eq!(forwards(&a, "src").len(), 2);
}

#[test]
fn a_reload_starts_and_stops_the_forwards_of_a_running_stream() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let b = ServerProcess::start(&bins[0]);
    let a = ServerProcess::start(bins.last().expect("a server binary"));
    let _publisher = Publisher::start(&media, &a.rtmp_url("hot"), true);
    wait_live(&a, "hot", Duration::from_secs(20));
    assert!(forwards(&a, "hot").is_empty());
    let conf = a.dir.path().join("test.conf");
    let reload = |extra: &str, n: usize| {
        std::fs::write(&conf, test_config(a.dir.path(), "", extra)).expect("write config");
        let status = Command::new("kill")
            .arg("-HUP")
            .arg(a.child.id().to_string())
            .status()
            .expect("kill -HUP");
        assert!(status.success());
        let done = wait_for(Duration::from_secs(15), || {
            (a.log_text().matches("reload done").count() >= n).then_some(())
        });
        assert!(
            done.is_some(),
            "reload {n} not done; log:\n{}",
            a.log_text()
        );
    };
    // Switched on: the running stream is forwarded without a republish.
    reload(&forward_to(&[b.rtmp.port()]), 1);
    wait_live(&b, "hot", Duration::from_secs(20));
    assert_eq!(forwards(&a, "hot").len(), 1);
    // Switched off: the forward stops and B's stream ends.
    reload("", 2);
    let gone = wait_stream(&b, "hot", Duration::from_secs(15), |s| {
        s["publish"]["active"] == false
    })
    .or_else(|| {
        // B may also have dropped the stream altogether.
        let (_, _, body) = http("GET", b.api, "/api/v1/streams");
        let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
        (!v["streams"]
            .as_array()?
            .iter()
            .any(|s| s["name"] == "hot" && s["publish"]["active"] == true))
        .then_some(serde_json::Value::Null)
    });
    assert!(
        gone.is_some(),
        "B still has the stream after the forward was switched off"
    );
    assert!(forwards(&a, "hot").is_empty());
}
