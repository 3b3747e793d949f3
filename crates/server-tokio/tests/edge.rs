//! Edge (`vhost { cluster { mode remote; origin ...; } }`) end to end: an
//! origin and an edge server process on loopback; ffmpeg publishes to the
//! origin, players play from the edge.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

fn wait_live(server: &ServerProcess, stream: &str, limit: Duration) {
    assert!(
        wait_stream(server, stream, limit, is_live).is_some(),
        "stream {stream} never went live; log:\n{}",
        server.log_text()
    );
}

/// Clients of `server` playing `stream` (not publishing it).
fn players_of(server: &ServerProcess, stream: &str) -> Option<usize> {
    let (status, _, body) = http("GET", server.api, "/api/v1/clients?count=1000");
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    Some(
        v["clients"]
            .as_array()?
            .iter()
            .filter(|c| c["name"] == stream && c["publish"] == false)
            .count(),
    )
}

/// A loopback port nothing listens on.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn edge_of(origins: &[u16], idle_timeout: &str) -> String {
    let list: Vec<String> = origins.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    format!(
        "cluster {{ mode remote; origin {}; idle_timeout {idle_timeout}; }}",
        list.join(" ")
    )
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

/// Plays `url` with ffmpeg for `secs`: H.264 + AAC, decoding cleanly.
fn plays_cleanly(url: &str, dir: &Path, name: &str, secs: u32) {
    let out = dir.join(format!("{name}.flv"));
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i", url, "-t", &secs.to_string()])
            .args(["-c", "copy", "-f", "flv"])
            .arg(&out),
        Duration::from_secs(40),
    );
    assert!(ok, "{name}: player failed: {err}");
    let streams = probe_streams(&out);
    assert!(
        streams.contains("codec_name=h264") && streams.contains("codec_name=aac"),
        "{name}: {streams}"
    );
    let errors = decode_errors(&out);
    assert!(errors.is_empty(), "{name} decodes with errors: {errors}");
}

/// An ffmpeg player that copies `secs` of `url` to nowhere.
fn player(url: &str, secs: u32) -> Child {
    Command::new("ffmpeg")
        .args(["-v", "quiet", "-i", url, "-t", &secs.to_string()])
        .args(["-c", "copy", "-f", "null", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ffmpeg")
}

#[test]
fn edge_pulls_from_the_origin_for_ffmpeg_and_rtmpdump() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let origin = ServerProcess::start(bin);
        let edge = ServerProcess::start_with(bin, &edge_of(&[origin.rtmp.port()], "5"));
        let _publisher = Publisher::start(&media, &origin.rtmp_url("cam"), true);
        wait_live(&origin, "cam", Duration::from_secs(20));
        let dir = TempDir::new("edge");
        plays_cleanly(&edge.rtmp_url("cam"), dir.path(), "edge-ffmpeg", 4);

        let s = wait_stream(&edge, "cam", Duration::from_secs(5), |s| {
            s["edge"].is_object()
        })
        .unwrap_or_else(|| panic!("no edge state in the API; log:\n{}", edge.log_text()));
        assert_eq!(
            s["edge"]["origin"],
            format!("127.0.0.1:{}", origin.rtmp.port()),
            "{s}"
        );
        assert_eq!(s["edge"]["state"], "pulling", "{s}");
        assert!(s["edge"]["bytes"].as_u64().unwrap_or(0) > 100_000, "{s}");

        // The edge serves the pulled stream from its own hub: HTTP-FLV and
        // HLS too.
        plays_cleanly(
            &edge.http_url("/live/cam.flv"),
            dir.path(),
            "edge-http-flv",
            3,
        );
        let playlist = wait_for(Duration::from_secs(10), || {
            edge.playlist("cam").filter(|p| !segments(p).is_empty())
        });
        assert!(
            playlist.is_some(),
            "no HLS on the edge; log:\n{}",
            edge.log_text()
        );

        if have("rtmpdump") {
            let out = dir.path().join("rtmpdump.flv");
            let (_, _, err) = run(
                Command::new("rtmpdump")
                    .args(["-q", "-v", "-r", &edge.rtmp_url("cam"), "-B", "3", "-o"])
                    .arg(&out),
                Duration::from_secs(30),
            );
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            assert!(size > 10_000, "rtmpdump got {size} bytes: {err}");
            let streams = probe_streams(&out);
            assert!(
                streams.contains("codec_name=h264") && streams.contains("codec_name=aac"),
                "rtmpdump: {streams}"
            );
        }
    });
}

#[test]
fn twenty_edge_players_make_one_upstream_that_ends_after_the_grace_period() {
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    let origin = ServerProcess::start(bin);
    let edge = ServerProcess::start_with(bin, &edge_of(&[origin.rtmp.port()], "5"));
    let _publisher = Publisher::start(&media, &origin.rtmp_url("herd"), true);
    wait_live(&origin, "herd", Duration::from_secs(20));

    let url = edge.rtmp_url("herd");
    let mut players: Vec<Child> = (0..20).map(|_| player(&url, 6)).collect();
    // Every player is on the edge (the API lists 20 of them) and the
    // origin sees exactly one player: the edge.
    let on_edge = wait_for(Duration::from_secs(20), || {
        players_of(&edge, "herd").filter(|&n| n == 20)
    });
    assert_eq!(on_edge, Some(20), "log:\n{}", edge.log_text());
    for _ in 0..3 {
        assert_eq!(players_of(&origin, "herd"), Some(1));
        std::thread::sleep(Duration::from_millis(300));
    }
    for p in &mut players {
        let deadline = Instant::now() + Duration::from_secs(30);
        while p.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = p.kill();
        let _ = p.wait();
    }
    // No player left: the pull is still there during the grace period...
    let idle = wait_stream(&edge, "herd", Duration::from_secs(5), |s| {
        s["edge"]["players"] == 0
    });
    assert!(idle.is_some(), "log:\n{}", edge.log_text());
    assert_eq!(players_of(&origin, "herd"), Some(1));
    // ... and gone after it.
    let gone = wait_for(Duration::from_secs(15), || {
        players_of(&origin, "herd").filter(|&n| n == 0)
    });
    assert_eq!(gone, Some(0), "log:\n{}", edge.log_text());
}

#[test]
fn a_dead_first_origin_moves_the_edge_to_the_second() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    let origin = ServerProcess::start(bin);
    let dead = free_port();
    let edge = ServerProcess::start_with(bin, &edge_of(&[dead, origin.rtmp.port()], "5"));
    let _publisher = Publisher::start(&media, &origin.rtmp_url("fo"), true);
    wait_live(&origin, "fo", Duration::from_secs(20));
    let dir = TempDir::new("edge-failover");
    plays_cleanly(&edge.rtmp_url("fo"), dir.path(), "failover", 4);
    let s = wait_stream(&edge, "fo", Duration::from_secs(5), |s| {
        s["edge"].is_object()
    })
    .unwrap_or_else(|| panic!("no edge state; log:\n{}", edge.log_text()));
    assert_eq!(
        s["edge"]["origin"],
        format!("127.0.0.1:{}", origin.rtmp.port()),
        "{s}"
    );
    assert!(s["edge"]["retries"].as_u64().unwrap_or(0) >= 1, "{s}");
    assert!(s["edge"]["last_error"].is_string(), "{s}");
}

#[test]
fn players_on_the_edge_stay_when_the_origin_dies_and_go_on_from_the_next() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    let first = ServerProcess::start(bin);
    let second = ServerProcess::start(bin);
    let edge =
        ServerProcess::start_with(bin, &edge_of(&[first.rtmp.port(), second.rtmp.port()], "5"));
    let _p1 = Publisher::start(&media, &first.rtmp_url("mid"), true);
    let _p2 = Publisher::start(&media, &second.rtmp_url("mid"), true);
    wait_live(&first, "mid", Duration::from_secs(20));
    wait_live(&second, "mid", Duration::from_secs(20));

    let dir = TempDir::new("edge-origin-dies");
    let out = dir.path().join("player.flv");
    let mut recorder = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i", &edge.rtmp_url("mid"), "-t", "16"])
        .args(["-c", "copy", "-f", "flv", "-flush_packets", "1"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ffmpeg");
    let on_first = wait_stream(&edge, "mid", Duration::from_secs(20), |s| {
        s["edge"]["origin"] == format!("127.0.0.1:{}", first.rtmp.port())
            && s["edge"]["bytes"].as_u64().unwrap_or(0) > 50_000
    });
    assert!(on_first.is_some(), "log:\n{}", edge.log_text());
    std::thread::sleep(Duration::from_secs(2));
    drop(first); // killed
    let size_at_kill = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);

    let on_second = wait_stream(&edge, "mid", Duration::from_secs(10), |s| {
        s["edge"]["origin"] == format!("127.0.0.1:{}", second.rtmp.port())
            && s["edge"]["state"] == "pulling"
    });
    assert!(on_second.is_some(), "log:\n{}", edge.log_text());
    // The player stayed: the edge still lists it, and media keeps coming.
    assert_eq!(players_of(&edge, "mid"), Some(1));
    std::thread::sleep(Duration::from_secs(4));
    let size_later = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    assert!(
        size_later > size_at_kill + 50_000,
        "the player got {size_at_kill} then {size_later} bytes; log:\n{}",
        edge.log_text()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while recorder.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = recorder.kill();
    let _ = recorder.wait();
    let streams = probe_streams(&out);
    assert!(
        streams.contains("codec_name=h264") && streams.contains("codec_name=aac"),
        "{streams}"
    );
}

#[test]
fn a_stream_published_to_the_edge_is_pushed_to_the_origin_and_plays_on_both() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    let origin = ServerProcess::start(bin);
    let dead = free_port();
    let edge = ServerProcess::start_with(bin, &edge_of(&[dead, origin.rtmp.port()], "5"));
    let _publisher = Publisher::start(&media, &edge.rtmp_url("up"), true);
    wait_live(&edge, "up", Duration::from_secs(20));
    wait_live(&origin, "up", Duration::from_secs(20));
    let dir = TempDir::new("edge-publish");
    plays_cleanly(&origin.rtmp_url("up"), dir.path(), "on-origin", 3);
    plays_cleanly(&edge.rtmp_url("up"), dir.path(), "on-edge", 3);
    let s = wait_stream(&edge, "up", Duration::from_secs(5), |s| {
        s["edge"]["state"] == "pushing"
    })
    .unwrap_or_else(|| panic!("not pushing; log:\n{}", edge.log_text()));
    assert_eq!(
        s["edge"]["origin"],
        format!("127.0.0.1:{}", origin.rtmp.port()),
        "{s}"
    );
    assert!(s["edge"]["retries"].as_u64().unwrap_or(0) >= 1, "{s}");
    // The edge's players play the local stream: no pull from the origin.
    assert_eq!(players_of(&origin, "up"), Some(0));
}

#[test]
fn edges_chain_an_edge_of_an_edge_plays_the_origin_stream() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let bin = bins.first().expect("a server binary");
    let origin = ServerProcess::start(bin);
    // Long grace periods: the counts below are taken after the player left.
    let near = ServerProcess::start_with(bin, &edge_of(&[origin.rtmp.port()], "30"));
    let far = ServerProcess::start_with(bin, &edge_of(&[near.rtmp.port()], "30"));
    let _publisher = Publisher::start(&media, &origin.rtmp_url("chain"), true);
    wait_live(&origin, "chain", Duration::from_secs(20));
    let dir = TempDir::new("edge-chain");
    plays_cleanly(&far.rtmp_url("chain"), dir.path(), "far", 3);
    // Each hop has one upstream player: the next edge.
    assert_eq!(players_of(&origin, "chain"), Some(1));
    assert_eq!(players_of(&near, "chain"), Some(1));
}

#[test]
fn an_edge_whose_origin_is_itself_refuses_the_loop_and_lets_go_when_its_player_leaves() {
    if !have("ffmpeg") {
        return;
    }
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    let port = free_port();
    let edge = ServerProcess::start_from(bin, |dir| {
        test_config(dir, "", &edge_of(&[port], "1")).replacen(
            "listen 127.0.0.1:0;\nmax_connections",
            &format!("listen 127.0.0.1:{port};\nmax_connections"),
            1,
        )
    });
    // Nothing to play: the player gives up.
    let _ = run(
        Command::new("ffmpeg")
            .args(["-v", "quiet", "-rw_timeout", "3000000", "-i"])
            .arg(edge.rtmp_url("self"))
            .args(["-t", "1", "-f", "null", "-"]),
        Duration::from_secs(5),
    );
    let looped = wait_for(Duration::from_secs(5), || {
        edge.log_text().contains("a loop").then_some(())
    });
    assert!(looped.is_some(), "log:\n{}", edge.log_text());
    // The pull did not hold itself: it ends once the player left.
    let ended = wait_for(Duration::from_secs(10), || {
        let (_, _, body) = http("GET", edge.api, "/api/v1/streams");
        let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
        let pulling = v["streams"]
            .as_array()?
            .iter()
            .any(|s| s["name"] == "self" && s["edge"].is_object());
        (!pulling).then_some(())
    });
    assert!(ended.is_some(), "log:\n{}", edge.log_text());
}

#[test]
fn a_publish_on_the_edge_while_its_player_waits_on_the_origin_is_pushed_and_played() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    let origin = ServerProcess::start(bin);
    let edge = ServerProcess::start_with(bin, &edge_of(&[origin.rtmp.port()], "5"));
    let dir = TempDir::new("edge-wait-then-publish");
    let out = dir.path().join("waiting.flv");
    let mut waiting = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i", &edge.rtmp_url("late"), "-t", "3"])
        .args(["-c", "copy", "-f", "flv"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ffmpeg");
    // The player waits; the edge plays the (not yet published) stream
    // from the origin.
    let pulling = wait_stream(&edge, "late", Duration::from_secs(10), |s| {
        s["edge"]["state"] == "pulling"
    });
    assert!(pulling.is_some(), "log:\n{}", edge.log_text());
    let _publisher = Publisher::start(&media, &edge.rtmp_url("late"), true);
    let live = wait_stream(&origin, "late", Duration::from_secs(20), is_live);
    assert!(live.is_some(), "not pushed; edge log:\n{}", edge.log_text());
    let deadline = Instant::now() + Duration::from_secs(30);
    while waiting.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = waiting.kill();
    let _ = waiting.wait();
    let streams = probe_streams(&out);
    assert!(
        streams.contains("codec_name=h264") && streams.contains("codec_name=aac"),
        "the waiting player got: {streams}; log:\n{}",
        edge.log_text()
    );
}

#[test]
fn a_publish_the_origin_refuses_is_refused_to_the_encoder_on_the_edge() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        // The origin's hook refuses one stream name.
        let hooks = HookServer::start(|call| match (call.action(), call.body["stream"].as_str()) {
            ("on_publish", Some("denied")) => Answer::Deny("not on this origin"),
            _ => Answer::Zero,
        });
        let origin = ServerProcess::start_with(
            bin,
            &format!(
                "http_hooks {{ enabled on; on_publish {}; }}",
                hooks.url("/hooks/on_publish")
            ),
        );
        let dead = free_port();
        let edge = ServerProcess::start_with(bin, &edge_of(&[dead, origin.rtmp.port()], "5"));

        // The encoder waits for the origin and hears its refusal.
        let mut client = TestClient::connect(edge.rtmp, "live");
        let (code, description) = client.request(true, "denied?token=t");
        assert_eq!(code, "NetStream.Publish.Rejected", "{description}");
        assert!(
            description.contains("not on this origin"),
            "{description}; edge log:\n{}",
            edge.log_text()
        );
        assert!(
            !description.contains(&dead.to_string())
                && !description.contains(&origin.rtmp.port().to_string()),
            "the encoder was told an origin's address: {description}"
        );
        assert!(client.closed_by_server(Duration::from_secs(5)));
        let on_publish = hooks
            .wait_action("on_publish", Some("denied"), Duration::from_secs(5))
            .expect("the origin's hook was asked");
        assert_eq!(
            on_publish.body["param"], "?token=t",
            "{:?}",
            on_publish.body
        );
        let (ok, err) =
            Publisher::start(&media, &edge.rtmp_url("denied"), false).wait(Duration::from_secs(30));
        assert!(!ok, "ffmpeg published a refused stream through the edge");
        assert!(!err.is_empty());
        assert!(wait_stream(&edge, "denied", Duration::from_secs(1), is_live).is_none());

        // An allowed stream goes through the same edge to the origin (the
        // dead first origin counted as a retry).
        let _publisher = Publisher::start(&media, &edge.rtmp_url("allowed"), true);
        wait_live(&origin, "allowed", Duration::from_secs(20));
        let s = wait_stream(&edge, "allowed", Duration::from_secs(10), |s| {
            s["edge"]["state"] == "pushing"
        })
        .unwrap_or_else(|| panic!("not pushing; log:\n{}", edge.log_text()));
        assert_eq!(s["edge"]["retries"], 1, "{s}");
    });
}

#[test]
fn a_publish_on_an_edge_with_no_reachable_origin_is_refused() {
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    let edge = ServerProcess::start_with(bin, &edge_of(&[free_port()], "5"));
    let mut client = TestClient::connect(edge.rtmp, "live");
    let (code, description) = client.request(true, "nowhere");
    assert_eq!(code, "NetStream.Publish.Rejected", "{description}");
    assert!(description.contains("no origin"), "{description}");
}

/// The value of the first `/metrics` line of `name` whose labels contain
/// every one of `labels`.
fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn scrape(server: &ServerProcess) -> String {
    let addr: std::net::SocketAddr = wait_for(Duration::from_secs(5), || {
        server.log_text().lines().find_map(|l| {
            let (what, addr) = l.split_once(" listening on ")?;
            what.ends_with("exporter")
                .then(|| addr.trim().parse().ok())
                .flatten()
        })
    })
    .expect("an exporter listener");
    let (status, _, body) = http("GET", addr, "/metrics");
    assert_eq!(status, 200);
    String::from_utf8(body).expect("text")
}

#[test]
fn metrics_show_the_edge_pull_and_the_forward_with_their_upstream() {
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let exporter = "exporter { enabled on; listen 127.0.0.1:0; }";
        let sink = ServerProcess::start(bin);
        let origin = ServerProcess::start_configured(
            bin,
            exporter,
            &format!(
                "forward {{ enabled on; destination 127.0.0.1:{}; }}",
                sink.rtmp.port()
            ),
        );
        let edge =
            ServerProcess::start_configured(bin, exporter, &edge_of(&[origin.rtmp.port()], "5"));
        let _publisher = Publisher::start(&media, &origin.rtmp_url("metered"), true);
        wait_live(&origin, "metered", Duration::from_secs(20));
        let mut player = player(&edge.rtmp_url("metered"), 20);
        let origin_name = format!("upstream=\"127.0.0.1:{}\"", origin.rtmp.port());
        let stream = "stream=\"metered\"";
        let pulled = wait_for(Duration::from_secs(20), || {
            let text = scrape(&edge);
            let bytes = metric(
                &text,
                "srs_upstream_bytes_total",
                &["kind=\"edge_pull\"", stream, &origin_name],
            )?;
            (bytes > 50_000.0).then_some(text)
        })
        .unwrap_or_else(|| panic!("no edge_pull series; edge log:\n{}", edge.log_text()));
        assert_eq!(
            metric(
                &pulled,
                "srs_upstream_state",
                &[
                    "kind=\"edge_pull\"",
                    stream,
                    &origin_name,
                    "state=\"pulling\""
                ]
            ),
            Some(1.0),
            "{pulled}"
        );
        assert_eq!(
            metric(
                &pulled,
                "srs_upstream_players",
                &["kind=\"edge_pull\"", stream]
            ),
            Some(1.0),
            "{pulled}"
        );
        assert_eq!(
            metric(
                &pulled,
                "srs_upstream_retries_total",
                &["kind=\"edge_pull\"", stream]
            ),
            Some(0.0),
            "{pulled}"
        );

        let dest = format!(
            "upstream=\"rtmp://127.0.0.1:{}/live/metered\"",
            sink.rtmp.port()
        );
        let forwarded = wait_for(Duration::from_secs(20), || {
            let text = scrape(&origin);
            let bytes = metric(
                &text,
                "srs_upstream_bytes_total",
                &["kind=\"forward\"", stream, &dest],
            )?;
            (bytes > 50_000.0).then_some(text)
        })
        .unwrap_or_else(|| panic!("no forward series; origin log:\n{}", origin.log_text()));
        assert_eq!(
            metric(
                &forwarded,
                "srs_upstream_state",
                &["kind=\"forward\"", stream, &dest, "state=\"forwarding\""]
            ),
            Some(1.0),
            "{forwarded}"
        );
        assert_eq!(
            forwarded
                .lines()
                .find_map(|l| l.strip_prefix("srs_upstream_others "))
                .and_then(|v| v.parse::<f64>().ok()),
            Some(0.0)
        );
        let _ = player.kill();
        let _ = player.wait();
    });
}

#[test]
fn token_traverse_lets_the_origin_hook_judge_the_edge_clients_connect() {
    each_server(|bin| {
        let hooks = HookServer::start(|call| {
            let tc_url = call.body["tcUrl"].as_str().unwrap_or_default();
            match call.action() {
                "on_connect" if !tc_url.contains("token=good") => Answer::Deny("bad token"),
                _ => Answer::Zero,
            }
        });
        let origin = ServerProcess::start_with(
            bin,
            &format!(
                "http_hooks {{ enabled on; on_connect {}; }}",
                hooks.url("/hooks/on_connect")
            ),
        );
        let origin_port = origin.rtmp.port();
        let dead = free_port();
        let traverse = format!(
            "cluster {{ mode remote; origin 127.0.0.1:{dead} 127.0.0.1:{origin_port}; token_traverse on; }}"
        );
        let edge = ServerProcess::start_with(bin, &traverse);
        let plain = ServerProcess::start_with(bin, &edge_of(&[origin_port], "5"));
        let page = vec![(
            "pageUrl".to_owned(),
            rtmp_proto::amf0::Amf0Value::String("https://player.example/p".to_owned()),
        )];
        let connect = |server: &ServerProcess, token: &str| {
            let tc_url = format!("rtmp://{}/live?token={token}", server.rtmp);
            TestClient::connect_with(server.rtmp, "live", &tc_url, page.clone()).connect_answer()
        };

        // The origin's hook refuses: so does the edge, with its reason.
        let (code, description) = connect(&edge, "bad").expect_err("a bad token was let in");
        assert_eq!(code, "NetConnection.Connect.Rejected", "{description}");
        assert!(description.contains("bad token"), "{description}");
        assert!(
            !description.contains(&origin_port.to_string()),
            "{description}"
        );
        // The origin's hook accepts: so does the edge.
        connect(&edge, "good").unwrap_or_else(|e| panic!("refused: {e:?}\n{}", edge.log_text()));
        let calls: Vec<HookCall> = hooks
            .calls()
            .into_iter()
            .filter(|c| c.action() == "on_connect")
            .collect();
        assert_eq!(calls.len(), 2, "{calls:?}");
        let good = &calls[1];
        assert_eq!(
            good.body["tcUrl"],
            format!("rtmp://{}/live?token=good", edge.rtmp),
            "the client's tcUrl passes through: {:?}",
            good.body
        );
        assert_eq!(good.body["pageUrl"], "https://player.example/p");
        assert_eq!(good.body["app"], "live");

        // Without token_traverse the edge lets the bad token in.
        connect(&plain, "bad").expect("an edge without token_traverse asks nobody");
        assert_eq!(
            hooks
                .calls()
                .iter()
                .filter(|c| c.action() == "on_connect")
                .count(),
            2
        );
    });
}

#[test]
fn the_cluster_vhost_directive_renames_the_vhost_the_origin_is_asked_for() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    let bins = server_binaries();
    let bin = bins.last().expect("a server binary");
    // The origin serves the stream on a named vhost only.
    let origin = ServerProcess::start_from(bin, |dir| {
        test_config(dir, "", "") + "vhost renamed.example {\n}\n"
    });
    let edge = ServerProcess::start_with(
        bin,
        &format!(
            "cluster {{ mode remote; origin 127.0.0.1:{}; vhost renamed.example; }}",
            origin.rtmp.port()
        ),
    );
    let _publisher = Publisher::start(
        &media,
        &origin.rtmp_url("named?vhost=renamed.example"),
        true,
    );
    wait_for(Duration::from_secs(20), || {
        let (_, _, body) = http("GET", origin.api, "/api/v1/streams");
        let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
        v["streams"]
            .as_array()?
            .iter()
            .any(|s| s["name"] == "named" && s["publish"]["active"] == true)
            .then_some(())
    })
    .expect("published on the named vhost");
    // The edge's default-vhost player gets the named vhost's stream.
    let dir = TempDir::new("edge-vhost");
    plays_cleanly(&edge.rtmp_url("named"), dir.path(), "renamed", 3);
}
