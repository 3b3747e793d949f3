//! `exporter { }`: `GET /metrics` on its own listener, scraped while a stream
//! runs, parsed with a Prometheus text parser (and checked with `promtool`
//! when installed); its values are the API's. Both builds.

mod support;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::prometheus::{exporter_addr, promtool_check, scrape, Key};
use support::*;

/// An HTTP-FLV player (ffmpeg reading to null); killed on drop.
struct Player(Child);

impl Player {
    fn start(url: &str) -> Self {
        Self(
            Command::new("ffmpeg")
                .args(["-v", "error", "-i", url, "-c", "copy", "-f", "null", "-"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("ffmpeg"),
        )
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stream_key(metric: &str, stream: &str) -> Key {
    let mut labels = vec![
        ("app".to_owned(), "live".to_owned()),
        ("stream".to_owned(), stream.to_owned()),
        ("vhost".to_owned(), "__defaultVhost__".to_owned()),
    ];
    labels.sort();
    (metric.to_owned(), labels)
}

fn get(samples: &HashMap<Key, f64>, key: &Key) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no sample {key:?} in {samples:#?}"))
}

fn plain(metric: &str) -> Key {
    (metric.to_owned(), Vec::new())
}

fn api_json(server: &ServerProcess, path: &str) -> serde_json::Value {
    let (status, _, body) = http("GET", server.api, path);
    assert_eq!(status, 200);
    serde_json::from_slice(&body).expect("API JSON")
}

/// The stream `name`'s object in `/api/v1/streams`.
fn api_stream(server: &ServerProcess, name: &str) -> Option<serde_json::Value> {
    api_json(server, "/api/v1/streams")["streams"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == name)
        .cloned()
}

fn n(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn metrics_follow_the_api_while_a_stream_runs() {
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start_configured(
            bin,
            "exporter { enabled on; listen 127.0.0.1:0; label east; tag edge1; }",
            // A hook that fails (nothing listens on port 1), for the hook series.
            "http_hooks { enabled on; on_hls http://127.0.0.1:1/hls; }",
        );
        let exporter = exporter_addr(&server);
        let _publisher = Publisher::start(&media, &server.rtmp_url("m1"), true);
        let live = wait_for(Duration::from_secs(20), || {
            let s = api_stream(&server, "m1")?;
            (s["publish"]["active"] == true && s["video"]["codec"].is_string()).then_some(())
        });
        assert!(live.is_some(), "never live; log:\n{}", server.log_text());
        let _players: Vec<Player> = (0..2)
            .map(|_| Player::start(&server.http_url("/live/m1.flv")))
            .collect();
        let joined = wait_for(Duration::from_secs(20), || {
            let s = api_stream(&server, "m1")?;
            (s["clients"] == 3 && n(&s["send_bytes"]) > 0.0).then_some(())
        });
        assert!(joined.is_some(), "players never joined");

        // Bytes keep flowing: the scrape lies between two API reads.
        let before = api_stream(&server, "m1").expect("stream");
        let sum_before = api_json(&server, "/api/v1/summaries");
        let (text, m) = scrape(exporter);
        let after = api_stream(&server, "m1").expect("stream");
        let sum_after = api_json(&server, "/api/v1/summaries");
        let between = |metric: Key, a: f64, b: f64| {
            let v = get(&m, &metric);
            assert!(a <= v && v <= b, "{metric:?} = {v}, API said {a} then {b}");
        };

        // SRS's series.
        let build = m
            .keys()
            .find(|(name, _)| name == "srs_build_info")
            .expect("srs_build_info");
        let labels: HashMap<&str, &str> = build
            .1
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(labels.get("label"), Some(&"east"));
        assert_eq!(labels.get("tag"), Some(&"edge1"));
        assert!(labels.contains_key("version") && labels.contains_key("pid"));
        assert_eq!(get(&m, build), 1.0);
        let uname = m
            .iter()
            .find(|((name, _), _)| name == "srs_node_uname_info")
            .expect("srs_node_uname_info");
        assert!(uname
            .0
             .1
            .iter()
            .any(|(k, v)| k == "sysname" && v == "Linux"));
        assert_eq!(*uname.1, 1.0);
        assert_eq!(get(&m, &plain("srs_streams")), 1.0);
        assert_eq!(get(&m, &plain("srs_clients")), 3.0);
        assert_eq!(
            n(&sum_before["data"]["system"]["conn_srs"]),
            3.0,
            "the API's client count"
        );
        assert!(get(&m, &plain("srs_clients_total")) >= 3.0);
        between(
            plain("srs_receive_bytes_total"),
            n(&sum_before["data"]["system"]["srs_recv_bytes"]),
            n(&sum_after["data"]["system"]["srs_recv_bytes"]),
        );
        between(
            plain("srs_send_bytes_total"),
            n(&sum_before["data"]["system"]["srs_send_bytes"]),
            n(&sum_after["data"]["system"]["srs_send_bytes"]),
        );
        assert!(get(&m, &plain("srs_memory")) > 0.0);
        assert!(get(&m, &plain("srs_cpu_percent")) >= 0.0);

        // The stream's own series.
        assert_eq!(get(&m, &stream_key("srs_stream_clients", "m1")), 3.0);
        assert_eq!(get(&m, &stream_key("srs_stream_players", "m1")), 2.0);
        assert_eq!(get(&m, &stream_key("srs_stream_publishing", "m1")), 1.0);
        between(
            stream_key("srs_stream_receive_bytes_total", "m1"),
            n(&before["recv_bytes"]),
            n(&after["recv_bytes"]),
        );
        between(
            stream_key("srs_stream_frames_total", "m1"),
            n(&before["frames"]),
            n(&after["frames"]),
        );
        let sent = get(&m, &stream_key("srs_stream_send_bytes", "m1"));
        assert!(
            n(&before["send_bytes"]) <= sent && sent <= n(&after["send_bytes"]) && sent > 0.0,
            "send bytes {sent}: API {before} then {after}"
        );
        assert_eq!(get(&m, &plain("srs_stream_others")), 0.0);

        // Prometheus's own checker, when installed.
        promtool_check(&text);

        // The failing on_hls hook shows (a segment closes every 2 s).
        let hooks = wait_for(Duration::from_secs(20), || {
            let (_, m) = scrape(exporter);
            let failed = get(&m, &plain("srs_hook_failures_total"));
            (failed >= 1.0).then(|| (get(&m, &plain("srs_hook_calls_total")), failed))
        });
        let (calls, failed) = hooks.expect("a failed on_hls call in srs_hook_failures_total");
        assert!(calls >= failed, "{calls} calls, {failed} failed");
        // on_hls follows a segment written; the stream's HLS series counts it.
        let (_, m) = scrape(exporter);
        assert!(get(&m, &stream_key("srs_stream_hls_segments_total", "m1")) >= 1.0);
        // The same failures, on the stream's own hook series (within the
        // per-stream cap): only m1's events called hooks here.
        let stream_failed = get(&m, &stream_key("srs_stream_hook_failures_total", "m1"));
        let stream_calls = get(&m, &stream_key("srs_stream_hook_calls_total", "m1"));
        assert!(stream_failed >= 1.0, "{stream_failed} failures for m1");
        assert!(stream_calls >= stream_failed);
        assert!(
            stream_calls <= get(&m, &plain("srs_hook_calls_total")),
            "a stream made more calls than the server"
        );
        assert!(
            get(
                &m,
                &stream_key("srs_stream_hook_latency_seconds_total", "m1")
            ) >= 0.0
        );

        // SRS's srs_clients_errs_total: a connection that ends in an error
        // (a C0 that is no RTMP version) counts; one the peer closes does not.
        let errs = get(&m, &plain("srs_clients_errs_total"));
        {
            use std::io::Write;
            let mut clean = std::net::TcpStream::connect(server.rtmp).expect("connect");
            clean.write_all(&[3]).expect("write");
            let mut bad = std::net::TcpStream::connect(server.rtmp).expect("connect");
            bad.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("write");
        }
        let counted = wait_for(Duration::from_secs(10), || {
            let (_, m) = scrape(exporter);
            let now = get(&m, &plain("srs_clients_errs_total"));
            (now > errs).then_some(now)
        });
        assert_eq!(
            counted,
            Some(errs + 1.0),
            "only the bad handshake is an error; log:\n{}",
            server.log_text()
        );
        assert!(get(&m, &stream_key("srs_stream_dropped_frames_total", "m1")) >= 0.0);

        // Only /metrics is served there.
        assert_eq!(http("GET", exporter, "/api/v1/streams").0, 404);
    });
}

/// Rewrites the config file, sends SIGHUP and waits for the `n`th reload.
fn reload_with(server: &ServerProcess, config: &str, n: usize) {
    std::fs::write(server.dir.path().join("test.conf"), config).expect("write config");
    let status = Command::new("kill")
        .arg("-HUP")
        .arg(server.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -HUP");
    let done = wait_for(Duration::from_secs(15), || {
        let log = server.log_text();
        (log.lines().filter(|l| l.contains("reload done")).count() >= n).then_some(())
    });
    assert!(done.is_some(), "no reload {n}; log:\n{}", server.log_text());
}

#[test]
fn reload_starts_and_stops_the_exporter() {
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let dir = server.dir.path().to_owned();
        assert!(!server.log_text().contains("exporter listening on"));
        reload_with(
            &server,
            &test_config(&dir, "exporter { enabled on; listen 127.0.0.1:0; }", ""),
            1,
        );
        let exporter = exporter_addr(&server);
        let (_, m) = scrape(exporter);
        assert_eq!(get(&m, &plain("srs_streams")), 0.0);
        reload_with(&server, &test_config(&dir, "", ""), 2);
        let closed = wait_for(Duration::from_secs(10), || {
            std::net::TcpStream::connect(exporter)
                .is_err()
                .then_some(())
        });
        assert!(
            closed.is_some(),
            "the exporter still accepts after its removal"
        );
    });
}
