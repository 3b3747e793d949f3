//! End-to-end tests of the stream lifecycle with real clients: `http_hooks`
//! against a real hook server written here, `security` and `refer`, on both
//! builds.

mod support;

use std::time::Duration;

use support::*;

/// The default vhost's `http_hooks` block with every event pointed at `hooks`.
fn hooks_block(hooks: &HookServer) -> String {
    let events = [
        "on_connect",
        "on_close",
        "on_publish",
        "on_unpublish",
        "on_play",
        "on_stop",
        "on_hls",
    ];
    let lines: String = events
        .iter()
        .map(|e| format!("        {e} {};\n", hooks.url(&format!("/hooks/{e}"))))
        .collect();
    format!("http_hooks {{\n        enabled on;\n{lines}    }}")
}

/// Plays `url` with ffmpeg for `secs` seconds of media; whether it succeeded, and its stderr.
fn ffmpeg_play(url: &str, secs: u32) -> (bool, String) {
    let (ok, _, err) = run(
        std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i", url, "-t", &secs.to_string()])
            .args(["-c", "copy", "-f", "null", "-"]),
        Duration::from_secs(u64::from(secs) + 20),
    );
    (ok, err)
}

/// Whether the API lists `stream` as published.
fn is_published(server: &ServerProcess, stream: &str) -> bool {
    let (_, _, body) = http("GET", server.api, "/api/v1/streams");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    v["streams"].as_array().is_some_and(|streams| {
        streams
            .iter()
            .any(|s| s["name"] == stream && s["publish"]["active"] == true)
    })
}

#[test]
fn hooks_hear_a_publisher_and_its_players_with_srs_fields() {
    if !have("ffmpeg") || !have("rtmpdump") || !have("curl") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let hooks = HookServer::start(|_| Answer::Allow);
        let server = ServerProcess::start_with(bin, &hooks_block(&hooks));
        let url = format!("{}?token=abc", server.rtmp_url("cam"));
        let publisher = Publisher::start(&media, &url, true);
        let publish = hooks
            .wait_action("on_publish", Some("cam"), Duration::from_secs(20))
            .unwrap_or_else(|| {
                panic!(
                    "no on_publish: {:?}\n{}",
                    hooks.actions(),
                    server.log_text()
                )
            });
        let connect = hooks.calls()[0].clone();
        assert_eq!(connect.action(), "on_connect", "{:?}", hooks.actions());
        assert_eq!(connect.path, "/hooks/on_connect");
        assert!(connect.content_type.starts_with("application/json"));
        for (call, stream) in [(&connect, None), (&publish, Some("cam"))] {
            let b = &call.body;
            assert_eq!(b["ip"], "127.0.0.1", "{b}");
            assert_eq!(b["vhost"], "__defaultVhost__", "{b}");
            assert_eq!(b["app"], "live", "{b}");
            assert!(b["client_id"].is_string(), "{b}");
            assert!(
                b["server_id"].is_string() && b["service_id"].is_string(),
                "{b}"
            );
            assert_eq!(b["tcUrl"], format!("rtmp://{}/live", server.rtmp), "{b}");
            if stream.is_none() {
                assert!(b["pageUrl"].is_string(), "{b}");
            }
            if let Some(stream) = stream {
                assert_eq!(b["stream"], stream, "{b}");
                assert_eq!(b["param"], "?token=abc", "{b}");
            }
        }
        assert_eq!(connect.body["client_id"], publish.body["client_id"]);
        // client_id is the id the HTTP API lists.
        let (_, _, body) = http("GET", server.api, "/api/v1/clients?count=100");
        let clients: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let listed = clients["clients"].as_array().unwrap().iter().any(|c| {
            c["id"].as_u64().map(|id| id.to_string()).as_deref()
                == publish.body["client_id"].as_str()
        });
        assert!(listed, "client_id not listed: {clients}");

        // ffmpeg, rtmpdump and an HTTP-FLV player: on_play, then on_stop.
        let (ok, err) = ffmpeg_play(&server.rtmp_url("cam"), 2);
        assert!(ok, "ffmpeg play: {err}");
        let (_, _, _) = run(
            std::process::Command::new("rtmpdump").args([
                "-q",
                "-r",
                &server.rtmp_url("cam"),
                "-B",
                "2",
                "-o",
                "/dev/null",
            ]),
            Duration::from_secs(20),
        );
        let (_, _, _) = run(
            std::process::Command::new("curl").args([
                "-s",
                "-o",
                "/dev/null",
                "--max-time",
                "2",
                &server.http_url("/live/cam.flv?token=xyz"),
            ]),
            Duration::from_secs(20),
        );
        let stops = wait_for(Duration::from_secs(10), || {
            let calls = hooks.calls();
            let n = |a: &str| calls.iter().filter(|c| c.action() == a).count();
            (n("on_play") >= 3 && n("on_stop") >= 3).then_some(())
        });
        assert!(stops.is_some(), "plays and stops: {:?}", hooks.actions());
        let flv = hooks
            .calls()
            .into_iter()
            .find(|c| c.action() == "on_play" && c.body["param"] == "?token=xyz");
        assert!(
            flv.is_some(),
            "HTTP-FLV on_play with its query: {:?}",
            hooks.calls()
        );

        // Each HLS segment: on_hls with the publisher's query and the files.
        let hls = hooks
            .wait_action("on_hls", Some("cam"), Duration::from_secs(20))
            .unwrap_or_else(|| panic!("no on_hls: {:?}", hooks.actions()));
        let b = &hls.body;
        assert_eq!(b["param"], "?token=abc", "{b}");
        assert!(b["duration"].as_f64().unwrap_or(0.0) > 0.5, "{b}");
        assert!(b["seq_no"].is_u64(), "{b}");
        let file = b["file"].as_str().unwrap_or_default();
        assert!(
            file.ends_with(".ts") && std::path::Path::new(file).is_file(),
            "{b}"
        );
        assert!(
            b["m3u8"].as_str().unwrap_or_default().ends_with("cam.m3u8"),
            "{b}"
        );
        assert!(
            b["url"].as_str().unwrap_or_default().ends_with(".ts"),
            "{b}"
        );

        // The publisher quits: on_unpublish, then on_close with byte counts.
        drop(publisher);
        let unpublish = hooks.wait_action("on_unpublish", Some("cam"), Duration::from_secs(10));
        assert!(unpublish.is_some(), "{:?}", hooks.actions());
        let close = wait_for(Duration::from_secs(10), || {
            hooks.calls().into_iter().find(|c| {
                c.action() == "on_close" && c.body["client_id"] == publish.body["client_id"]
            })
        })
        .unwrap_or_else(|| panic!("no on_close for the publisher: {:?}", hooks.actions()));
        assert!(
            close.body["recv_bytes"].as_u64().unwrap_or(0) > 10_000,
            "{}",
            close.body
        );
        assert!(
            close.body["send_bytes"].as_u64().unwrap_or(0) > 0,
            "{}",
            close.body
        );
        let actions = hooks.actions();
        let pos = |a: &str| actions.iter().rposition(|x| x == a).unwrap();
        assert!(pos("on_unpublish") < pos("on_close"), "{actions:?}");
    });
}

#[test]
fn a_refusing_hook_stops_that_publish_or_play_and_others_carry_on() {
    if !have("ffmpeg") || !have("curl") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let hooks = HookServer::start(|call| match (call.action(), call.body["stream"].as_str()) {
            ("on_publish", Some("denied")) => Answer::Deny("no publishing here"),
            ("on_play", Some("secret")) => Answer::Deny("members only"),
            _ => Answer::Zero,
        });
        let server = ServerProcess::start_with(bin, &hooks_block(&hooks));
        let _ok = Publisher::start(&media, &server.rtmp_url("ok"), true);
        let _secret = Publisher::start(&media, &server.rtmp_url("secret"), true);
        assert!(
            wait_for(Duration::from_secs(20), || is_published(&server, "ok")
                .then_some(()))
            .is_some()
        );

        // Refused publish: the encoder is told why, the connection closes,
        // and the stream is never listed.
        let mut client = TestClient::connect(server.rtmp, "live");
        let (code, description) = client.request(true, "denied");
        assert_eq!(code, "NetStream.Publish.Rejected", "{description}");
        assert!(description.contains("no publishing here"), "{description}");
        assert!(client.closed_by_server(Duration::from_secs(5)));
        let (ok, err) = Publisher::start(&media, &server.rtmp_url("denied"), false)
            .wait(Duration::from_secs(20));
        assert!(!ok, "ffmpeg published a refused stream");
        assert!(!err.is_empty());
        assert!(!is_published(&server, "denied"));

        // Refused play, over RTMP and HTTP-FLV.
        let mut client = TestClient::connect(server.rtmp, "live");
        let (code, description) = client.request(false, "secret");
        assert_eq!(code, "NetStream.Play.Rejected", "{description}");
        assert!(description.contains("members only"), "{description}");
        let (ok, _) = ffmpeg_play(&server.rtmp_url("secret"), 2);
        assert!(!ok, "ffmpeg played a refused stream");
        let (status, _, _) = http("GET", server.http, "/live/secret.flv");
        assert_eq!(status, 403);

        // Meanwhile the allowed stream plays on.
        let (ok, err) = ffmpeg_play(&server.rtmp_url("ok"), 2);
        assert!(ok, "allowed stream: {err}");
        assert!(is_published(&server, "ok"));
    });
}

#[test]
fn a_hook_server_that_fails_refuses_the_publish_and_two_urls_are_called_in_order() {
    let media = media(Media::AvcAac);
    if !have("ffmpeg") {
        return;
    }
    each_server(|bin| {
        let hooks = HookServer::start(|call| match call.path.as_str() {
            "/status500" => Answer::Status(500),
            "/garbage" => Answer::Garbage,
            "/slow" => Answer::Slow(Duration::from_secs(60)),
            _ => Answer::Allow,
        });
        // A port nothing listens on.
        let down = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let block = format!(
            "http_hooks {{
        enabled on;
        timeout 2000;
        on_publish {first} {second};
        on_play {status500};
        on_connect {connect};
    }}",
            first = hooks.url("/first"),
            second = hooks.url("/second"),
            status500 = hooks.url("/status500"),
            connect = hooks.url("/connect"),
        );
        let server = ServerProcess::start_with(bin, &block);
        let _publisher = Publisher::start(&media, &server.rtmp_url("s"), true);
        assert!(
            wait_for(Duration::from_secs(20), || is_published(&server, "s")
                .then_some(()))
            .is_some()
        );
        let paths: Vec<String> = hooks.calls().iter().map(|c| c.path.clone()).collect();
        let first = paths.iter().position(|p| p == "/first");
        let second = paths.iter().position(|p| p == "/second");
        assert!(first.is_some() && first < second, "{paths:?}");

        // on_play answers 500: refused.
        let mut client = TestClient::connect(server.rtmp, "live");
        let (code, _) = client.request(false, "s");
        assert_eq!(code, "NetStream.Play.Rejected");
        drop(client);

        // Each failing hook server refuses, within the timeout, a connect
        // (on_connect) and a publish (on_publish).
        for url in [
            format!("http://{down}/down"),
            hooks.url("/garbage"),
            hooks.url("/slow"),
            hooks.url("/status500"),
        ] {
            let server = ServerProcess::start_with(
                bin,
                &format!("http_hooks {{ enabled on; timeout 2000; on_connect {url}; }}"),
            );
            let started = std::time::Instant::now();
            let mut client = TestClient::connect_with(
                server.rtmp,
                "live",
                &format!("rtmp://{}/live", server.rtmp),
                Vec::new(),
            );
            let answer = client.connect_answer();
            assert!(
                matches!(&answer, Err((code, _)) if code == "NetConnection.Connect.Rejected"),
                "{url}: {answer:?}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{url}: took {:?}",
                started.elapsed()
            );
            drop(server);
            let server = ServerProcess::start_with(
                bin,
                &format!("http_hooks {{ enabled on; timeout 2000; on_publish {url}; }}"),
            );
            let started = std::time::Instant::now();
            let mut client = TestClient::connect(server.rtmp, "live");
            let (code, description) = client.request(true, "s");
            assert_eq!(code, "NetStream.Publish.Rejected", "{url}: {description}");
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{url}: took {:?}",
                started.elapsed()
            );
            // The server is unaffected: the API answers.
            let (status, _, _) = http("GET", server.api, "/api/v1/versions");
            assert_eq!(status, 200);
        }
    });
}

#[test]
fn security_and_refer_rules_over_rtmp_and_http_flv_on_ipv4_and_ipv6() {
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start_from(bin, |dir| {
            test_config(dir, "", "")
                .replacen("listen 127.0.0.1:0;", "listen 127.0.0.1:0 [::1]:0;", 1)
                .replacen(
                    "    http_remux {",
                    "    security {
        enabled on;
        deny publish ::1;
        allow publish 127.0.0.0/8;
        allow publish ::1;
        allow play all;
        deny play 127.0.0.2;
    }
    refer {
        enabled on;
        play example.com;
    }
    http_remux {",
                    1,
                )
        });
        let rtmp: Vec<std::net::SocketAddr> = server
            .log_text()
            .lines()
            .filter_map(|l| {
                l.split_once("rtmp listening on ")
                    .map(|(_, a)| a.trim().to_owned())
            })
            .filter_map(|a| a.parse().ok())
            .collect();
        let v4 = *rtmp
            .iter()
            .find(|a| a.is_ipv4())
            .expect("an IPv4 RTMP listener");
        let v6 = rtmp.iter().find(|a| a.is_ipv6()).copied();
        // IPv4 may publish; IPv6 ::1 is denied although an allow follows.
        let _publisher = Publisher::start(&media, &format!("rtmp://{v4}/live/s"), true);
        assert!(
            wait_for(Duration::from_secs(20), || is_published(&server, "s")
                .then_some(()))
            .is_some()
        );
        if let Some(v6) = v6 {
            let mut client = TestClient::connect(v6, "live");
            let (code, description) = client.request(true, "v6");
            assert_eq!(code, "NetStream.Publish.Rejected", "{description}");
        } else {
            eprintln!("NOTICE: no [::1] listener (IPv6 off?); skipping the IPv6 part");
        }
        // Play needs a page under example.com: RTMP pageUrl, HTTP Referer.
        let page = |url: &str| {
            vec![(
                "pageUrl".to_owned(),
                rtmp_proto::amf0::Amf0Value::String(url.to_owned()),
            )]
        };
        let tc = format!("rtmp://{v4}/live");
        let mut good =
            TestClient::connect_with(v4, "live", &tc, page("http://www.example.com/player"));
        assert_eq!(good.connect_answer(), Ok(()));
        assert_eq!(good.request(false, "s").0, "NetStream.Play.Start");
        let mut bad = TestClient::connect_with(v4, "live", &tc, page("http://evil.test/x"));
        assert_eq!(bad.connect_answer(), Ok(()));
        assert_eq!(bad.request(false, "s").0, "NetStream.Play.Rejected");
        let referer = |r: &str| {
            let (ok, out, _) = run(
                std::process::Command::new("curl").args([
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "--max-time",
                    "2",
                    "-e",
                    r,
                    &server.http_url("/live/s.flv"),
                ]),
                Duration::from_secs(10),
            );
            let _ = ok;
            out
        };
        if have("curl") {
            assert_eq!(referer("http://evil.test/"), "403");
            assert_eq!(referer("https://example.com/watch"), "200");
        }
    });
}
