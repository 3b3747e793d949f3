//! `rtmp-load` end to end: the real binary against a tiny in-process
//! server (see `relay/mod.rs`), in every mode.

mod relay;

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;

fn load() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rtmp-load"))
}

fn temp_flv(name: &str, seconds: u32) -> (PathBuf, f64) {
    let path = std::env::temp_dir().join(format!("rtmp-load-{}-{name}.flv", std::process::id()));
    let kbps = relay::write_test_flv(&path, seconds);
    (path, kbps)
}

/// Starts a publisher of a 2-second synthetic clip for `secs` seconds and
/// waits until the relay receives its media.
fn publish(relay: &relay::Relay, name: &str, secs: &str) -> (Child, PathBuf, f64) {
    let (flv, kbps) = temp_flv(name, 2);
    let child = load()
        .args(["-m", "publish", "-i"])
        .arg(&flv)
        .args(["-d", secs, "--json", "-q"])
        .arg(format!("rtmp://{}/live/test", relay.rtmp))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stats = relay.stats.clone();
    assert!(
        relay::wait_for(Duration::from_secs(5), || stats
            .media_in
            .load(Ordering::Relaxed)
            > 25),
        "the relay got no media from the publisher"
    );
    (child, flv, kbps)
}

fn json_of(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number: {v}"))
}

/// Every connection of a player run got media, a first frame within
/// `max_first_ms`, no error and no disconnect.
fn assert_players_ok(report: &Value, clients: usize, max_first_ms: f64) {
    assert_eq!(num(report, &["clients"]) as usize, clients);
    assert_eq!(num(report, &["totals", "started"]) as usize, clients);
    assert_eq!(num(report, &["totals", "errors"]), 0.0, "{report}");
    assert_eq!(num(report, &["totals", "disconnects"]), 0.0, "{report}");
    assert_eq!(num(report, &["totals", "no_media"]), 0.0, "{report}");
    let conns = report["connections"].as_array().unwrap();
    assert_eq!(conns.len(), clients);
    for c in conns {
        assert!(num(c, &["bytes"]) > 10_000.0, "{c}");
        assert!(num(c, &["video"]) > 0.0, "{c}");
        let first = num(c, &["first_frame_ms"]);
        assert!(first <= max_first_ms, "first frame after {first} ms: {c}");
    }
    let ff = &report["first_frame_ms"];
    assert_eq!(num(ff, &["count"]) as usize, clients);
    assert!(num(ff, &["min"]) <= num(ff, &["median"]));
    assert!(num(ff, &["median"]) <= num(ff, &["p95"]));
    assert!(num(ff, &["p95"]) <= num(ff, &["max"]));
    assert!(num(report, &["cpu", "user_s"]) >= 0.0);
}

#[test]
fn rtmp_publisher_feeds_rtmp_players() {
    let relay = relay::start();
    let (publisher, flv, clip_kbps) = publish(&relay, "rtmp", "5");
    let out = load()
        .args(["-n", "5", "-r", "0", "-d", "2.5", "--json", "-q"])
        .arg(format!("rtmp://{}/live/test", relay.rtmp))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = json_of(&out);
    assert_eq!(report["mode"], "play");
    // GOP cache on loopback: the keyframe comes with the play answer.
    assert_players_ok(&report, 5, 500.0);
    for c in report["connections"].as_array().unwrap() {
        assert!(num(c, &["audio"]) > 0.0, "{c}");
        // The GOP burst comes first, so a player is at least at the rate.
        let kbps = num(c, &["kbps"]);
        assert!(kbps > clip_kbps * 0.8, "{kbps} kbit/s vs {clip_kbps}: {c}");
    }
    assert_eq!(relay.stats.plays.load(Ordering::Relaxed), 5);

    let out = publisher.wait_with_output().unwrap();
    std::fs::remove_file(flv).unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = json_of(&out);
    assert_eq!(report["mode"], "publish");
    assert_eq!(num(&report, &["totals", "errors"]), 0.0, "{report}");
    // Real-time pacing: the publisher sends at the clip's bitrate (plus
    // chunk headers), not as fast as it can.
    let kbps = report["connections"][0]["kbps"].as_f64().unwrap();
    assert!(
        (clip_kbps * 0.85..clip_kbps * 1.2).contains(&kbps),
        "publisher at {kbps} kbit/s, clip {clip_kbps}"
    );
    // Five seconds of a looped 2-second clip: 25 fps, more than 2 loops.
    let video = report["connections"][0]["video"].as_f64().unwrap();
    assert!(
        (100.0..=140.0).contains(&video),
        "{video} video frames sent"
    );
}

#[test]
fn http_flv_players() {
    let relay = relay::start();
    let (publisher, flv, _) = publish(&relay, "flv", "4");
    let out = load()
        .args(["-n", "3", "-d", "2", "--json", "-q"])
        .arg(format!("http://{}/live/test.flv", relay.http))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = json_of(&out);
    assert_eq!(report["mode"], "flv");
    assert_players_ok(&report, 3, 500.0);
    drop(publisher.wait_with_output());
    std::fs::remove_file(flv).unwrap();
}

#[test]
fn hls_players_fetch_each_new_segment() {
    let relay = relay::start();
    let out = load()
        .args(["-n", "3", "-d", "3.5", "--json", "-q"])
        .arg(format!("http://{}/live/test.m3u8", relay.http))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = json_of(&out);
    assert_eq!(report["mode"], "hls");
    assert_players_ok(&report, 3, 1000.0);
    for c in report["connections"].as_array().unwrap() {
        // The first load takes the last three segments (at most 3 listed
        // at t < 3 s); then one a second: 4 to 6 in 3.5 s, each 62,500 bytes.
        let segments = num(c, &["video"]);
        assert!((3.0..=6.0).contains(&segments), "{segments} segments: {c}");
        assert!(num(c, &["bytes"]) >= segments * 62_500.0, "{c}");
        assert_eq!(num(c, &["stalls"]), 0.0, "{c}");
    }
}

#[test]
fn reconnect_loop_opens_many_sessions() {
    let relay = relay::start();
    let (publisher, flv, _) = publish(&relay, "reconnect", "4");
    let out = load()
        .args([
            "-n",
            "2",
            "-d",
            "2.5",
            "--reconnect",
            "--hold",
            "0.3-0.5",
            "--json",
            "-q",
        ])
        .arg(format!("rtmp://{}/live/test", relay.rtmp))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report = json_of(&out);
    assert_players_ok(&report, 2, 500.0);
    // 2.5 s of 0.3-0.5 s sessions: at least 5 each.
    for c in report["connections"].as_array().unwrap() {
        assert!(num(c, &["sessions"]) >= 5.0, "{c}");
    }
    assert!(relay.stats.plays.load(Ordering::Relaxed) >= 10);
    drop(publisher.wait_with_output());
    std::fs::remove_file(flv).unwrap();
}

#[test]
fn refused_play_is_an_error_and_a_failure() {
    let relay = relay::start();
    let out = load()
        .args(["-n", "2", "-d", "1.5", "--json", "-q"])
        .arg(format!("rtmp://{}/live/forbidden", relay.rtmp))
        .output()
        .unwrap();
    // Nobody got a frame: the exit status says so.
    assert!(!out.status.success(), "{out:?}");
    let report = json_of(&out);
    assert!(num(&report, &["totals", "errors"]) >= 2.0, "{report}");
    assert_eq!(report["first_frame_ms"], Value::Null);
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("NetStream.Play.Forbidden"), "{message}");
}

/// Runs `rtmp-load -m get` with `args` against `url`; the output and its JSON.
fn get(args: &[&str], url: String) -> (Output, Value) {
    let out = load()
        .args(["-m", "get", "-r", "0", "--json", "-q"])
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    let report = json_of(&out);
    (out, report)
}

#[test]
fn get_mode_fetches_one_url_over_and_over_on_keep_alive() {
    let relay = relay::start();
    let (out, report) = get(
        &["-n", "2", "-d", "1"],
        format!("http://{}/live/seg-1.ts", relay.http),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(report["mode"], "get");
    let requests = num(&report, &["totals", "requests"]);
    // Loopback answers a 62.5 kB body in well under 10 ms.
    assert!(requests >= 100.0, "{report}");
    // Every answer read whole; at most one partial body a client at the deadline.
    let bytes = num(&report, &["totals", "bytes"]);
    assert!(bytes >= requests * 62_500.0, "{report}");
    assert!(bytes < (requests + 2.0) * 62_500.0, "{report}");
    assert!(relay.stats.http_answers.load(Ordering::Relaxed) as f64 >= requests);
    // One connection each, kept alive.
    assert_eq!(relay.stats.http_conns.load(Ordering::Relaxed), 2);
    for c in report["connections"].as_array().unwrap() {
        assert_eq!(num(c, &["sessions"]), 1.0, "{c}");
        assert!(num(c, &["requests"]) > 0.0, "{c}");
    }
    for counter in ["non_200", "errors", "disconnects"] {
        assert_eq!(
            num(&report, &["totals", counter]),
            0.0,
            "{counter}: {report}"
        );
    }
    // Rates over the 1 s window.
    assert_eq!(num(&report, &["window_s"]), 1.0);
    let rate = num(&report, &["requests_per_s"]);
    assert!((rate - requests).abs() < 0.01, "{report}");
    let mb = num(&report, &["mb_per_s"]);
    assert!((mb - bytes / 1e6).abs() < 0.01, "{report}");
}

#[test]
fn get_mode_counts_answers_other_than_200_and_keeps_going() {
    let relay = relay::start();
    let (out, report) = get(
        &["-n", "1", "-d", "0.5"],
        format!("http://{}/live/gone-7.ts", relay.http),
    );
    // Not one 200: the exit status says so.
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(num(&report, &["totals", "requests"]), 0.0);
    let non_200 = num(&report, &["totals", "non_200"]);
    assert!(non_200 >= 10.0, "{report}");
    // Their 9-byte bodies were read, on the one connection.
    assert!(
        num(&report, &["totals", "bytes"]) >= non_200 * 9.0,
        "{report}"
    );
    assert_eq!(relay.stats.http_conns.load(Ordering::Relaxed), 1);
    assert_eq!(num(&report, &["totals", "errors"]), 0.0);
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert_eq!(message, "HTTP 404 Not Found for /live/gone-7.ts");
}

#[test]
fn get_mode_reconnects_at_once_when_the_server_closes() {
    let relay = relay::start();
    let (out, report) = get(
        &["-n", "1", "-d", "1"],
        format!("http://{}/close/live/seg-1.ts", relay.http),
    );
    assert!(out.status.success(), "{out:?}");
    let requests = num(&report, &["totals", "requests"]);
    // A reconnect waits for no retry delay: many answers in a second.
    assert!(requests >= 20.0, "{report}");
    let c = &report["connections"][0];
    let sessions = num(c, &["sessions"]);
    // One answer a connection: every close but maybe the last is seen.
    assert!(sessions >= requests && sessions <= requests + 1.0, "{c}");
    assert_eq!(num(c, &["disconnects"]), sessions - 1.0, "{c}");
    assert_eq!(num(c, &["errors"]), 0.0, "{c}");
    let accepted = relay.stats.http_conns.load(Ordering::Relaxed) as f64;
    assert!(
        accepted >= sessions && accepted <= sessions + 1.0,
        "{accepted} {c}"
    );
}

#[test]
fn get_mode_body_over_the_cap_is_an_error() {
    let relay = relay::start();
    let (out, report) = get(
        &["-n", "1", "-d", "1.5", "--max-body", "62499"],
        format!("http://{}/live/seg-1.ts", relay.http),
    );
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(num(&report, &["totals", "requests"]), 0.0);
    // Refused from its Content-Length, before a byte of it was read; one
    // retry after the client loop's one-second pause.
    assert_eq!(num(&report, &["totals", "bytes"]), 0.0);
    assert_eq!(num(&report, &["totals", "errors"]), 2.0, "{report}");
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert_eq!(message, "body over the 62499-byte cap (--max-body)");
    // The cap is inclusive: exactly 62,500 bytes is fine.
    let (out, report) = get(
        &["-n", "1", "-d", "0.3", "--max-body", "62500"],
        format!("http://{}/live/seg-1.ts", relay.http),
    );
    assert!(out.status.success(), "{out:?}");
    assert!(num(&report, &["totals", "requests"]) > 0.0, "{report}");
}

#[test]
fn bad_command_line_is_usage_error() {
    let out = load().args(["-n", "0", "rtmp://h/a/s"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: rtmp-load"));
}
