//! Config reload on both builds (README "Reload"): SIGHUP and SRS's HTTP RPC
//! re-read the file; listeners, HLS and hooks follow it without dropping the
//! clients already connected, and a broken file changes nothing.

mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{
    each_server, have, http, media, run, segments, test_config, wait_for, Answer, HookServer,
    Media, Publisher, ServerProcess, TestClient,
};

/// Sends SIGHUP to the server.
fn hup(server: &ServerProcess) {
    let status = Command::new("kill")
        .arg("-HUP")
        .arg(server.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -HUP");
}

fn conf_of(server: &ServerProcess) -> PathBuf {
    server.dir.path().join("test.conf")
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

/// `text` without its ANSI colours (the console log has them).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: up to and including the final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Waits until the log holds `needle` `n` times.
fn wait_log_n(server: &ServerProcess, needle: &str, n: usize) {
    wait_for(Duration::from_secs(15), || {
        (count(&server.log_text(), needle) >= n).then_some(())
    })
    .unwrap_or_else(|| panic!("not {n} `{needle}` in the log:\n{}", server.log_text()));
}

/// Rewrites the config file and sends SIGHUP; waits for the reload to end
/// (the `n`th one of this server).
fn reload_with(server: &ServerProcess, config: &str, n: usize) {
    std::fs::write(conf_of(server), config).expect("write config");
    hup(server);
    wait_log_n(server, "reload done", n);
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The test config with the RTMP listener on `port`.
fn with_rtmp_port(dir: &Path, port: u16, extra_vhost: &str) -> String {
    test_config(dir, "", extra_vhost).replacen(
        "\nlisten 127.0.0.1:0;\n",
        &format!("\nlisten 127.0.0.1:{port};\n"),
        1,
    )
}

/// An `ffmpeg` player recording `url` to `out` for `seconds` (killed on drop).
struct Player(Child);

impl Player {
    fn start(url: &str, out: &Path, seconds: u32) -> Self {
        let child = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i", url, "-t"])
            .arg(seconds.to_string())
            .args(["-c", "copy", "-f", "flv"])
            .arg(out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffmpeg player");
        Self(child)
    }

    fn running(&mut self) -> bool {
        self.0.try_wait().expect("wait").is_none()
    }

    /// Waits for it to finish by itself.
    fn finish(&mut self, limit: Duration) -> bool {
        wait_for(limit, || self.0.try_wait().expect("wait")).is_some_and(|s| s.success())
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Waits until `path` holds more than `than` bytes.
fn grows(path: &Path, than: u64, limit: Duration) -> bool {
    wait_for(limit, || (file_len(path) > than).then_some(())).is_some()
}

/// `ffprobe` can read the stream at `url` (a real RTMP play).
fn probe_plays(url: &str) -> bool {
    let (ok, out, _) = run(
        Command::new("ffprobe").args([
            "-v",
            "error",
            "-rw_timeout",
            "10000000",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            url,
        ]),
        Duration::from_secs(20),
    );
    ok && out.contains("h264")
}

#[test]
fn sighup_adds_a_listen_port_and_removes_another() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    each_server(|bin| {
        let (old_port, new_port) = (free_port(), free_port());
        let server = ServerProcess::start_from(bin, |dir| with_rtmp_port(dir, old_port, ""));
        let old_url = format!("rtmp://127.0.0.1:{old_port}/live/moved");
        let _publisher = Publisher::start(&media(Media::AvcAac), &old_url, true);
        let recording = server.dir.path().join("player.flv");
        let mut player = Player::start(&old_url, &recording, 60);
        assert!(
            grows(&recording, 50_000, Duration::from_secs(20)),
            "the player records nothing; log:\n{}",
            server.log_text()
        );

        // The API moves too: from its port-0 listener to a fixed one.
        let api_port = free_port();
        let moved = with_rtmp_port(server.dir.path(), new_port, "").replacen(
            "http_api {\n    enabled on;\n    listen 127.0.0.1:0;",
            &format!("http_api {{\n    enabled on;\n    listen 127.0.0.1:{api_port};"),
            1,
        );
        reload_with(&server, &moved, 1);
        let new_api: SocketAddr = format!("127.0.0.1:{api_port}").parse().unwrap();
        let (status, _, _) = http("GET", new_api, "/api/v1/versions");
        assert_eq!(status, 200);
        assert!(
            TcpStream::connect_timeout(&server.api, Duration::from_secs(2)).is_err(),
            "the old API port still accepts"
        );
        let log = server.log_text();
        assert!(
            log.contains(&format!("rtmp listening on 127.0.0.1:{new_port}")),
            "{log}"
        );
        assert!(
            log.contains(&format!("rtmp stopped listening on 127.0.0.1:{old_port}")),
            "{log}"
        );
        // The new port serves RTMP; the old one refuses new connections.
        assert!(
            probe_plays(&format!("rtmp://127.0.0.1:{new_port}/live/moved")),
            "no play through the new port; log:\n{}",
            server.log_text()
        );
        let old: SocketAddr = format!("127.0.0.1:{old_port}").parse().unwrap();
        assert!(
            TcpStream::connect_timeout(&old, Duration::from_secs(2)).is_err(),
            "the removed port still accepts"
        );
        // The player connected through the old port keeps playing.
        let before = file_len(&recording);
        assert!(player.running(), "the player was cut");
        assert!(
            grows(&recording, before + 50_000, Duration::from_secs(10)),
            "the player stopped receiving; log:\n{}",
            server.log_text()
        );
    });
}

#[test]
fn sighup_starts_hls_for_a_running_stream() {
    if !have("ffmpeg") {
        return;
    }
    each_server(|bin| {
        let off = |dir: &Path| {
            test_config(dir, "", "").replacen(
                "hls {\n        enabled on;",
                "hls {\n        enabled off;",
                1,
            )
        };
        let server = ServerProcess::start_from(bin, off);
        let mut publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("late"), true);
        // Publishing, without HLS.
        wait_for(Duration::from_secs(15), || {
            let (status, _, body) = http("GET", server.api, "/api/v1/streams");
            (status == 200 && String::from_utf8_lossy(&body).contains("\"late\"")).then_some(())
        })
        .expect("the stream is published");
        std::thread::sleep(Duration::from_secs(3));
        assert!(server.playlist("late").is_none(), "HLS while off");

        reload_with(&server, &test_config(server.dir.path(), "", ""), 1);
        let playlist = wait_for(Duration::from_secs(30), || {
            server.playlist("late").filter(|p| segments(p).len() >= 2)
        })
        .unwrap_or_else(|| panic!("no playlist after the reload; log:\n{}", server.log_text()));
        assert!(
            publisher.0.try_wait().expect("wait").is_none(),
            "the publisher was cut"
        );
        let publishes = plain(&server.log_text())
            .lines()
            .filter(|l| l.contains(": publish ") && l.contains("/live/late"))
            .count();
        assert_eq!(publishes, 1, "republished?\n{}", server.log_text());
        let dir = server.hls_dir().join("live");
        for segment in segments(&playlist) {
            let (ok, _, err) = run(
                Command::new("ffmpeg")
                    .args(["-v", "error", "-i"])
                    .arg(dir.join(&segment))
                    .args(["-f", "null", "-"]),
                Duration::from_secs(20),
            );
            assert!(ok && err.trim().is_empty(), "{segment}: {err}");
        }

        // Off again: the open segment is closed and listed.
        reload_with(&server, &off(server.dir.path()), 2);
        wait_log_n(&server, "reload: hls off", 1);
        // The last segment is closed and listed, then nothing more comes
        // (segments last 2 s: a playlist unchanged for 5 s is a stopped one).
        let mut last = (server.playlist("late"), std::time::Instant::now());
        let stable = wait_for(Duration::from_secs(20), || {
            let now = server.playlist("late");
            if now != last.0 {
                last = (now, std::time::Instant::now());
                return None;
            }
            (last.1.elapsed() >= Duration::from_secs(5)).then(|| now.clone())
        })
        .flatten()
        .unwrap_or_else(|| panic!("HLS goes on while off; log:\n{}", server.log_text()));
        assert!(segments(&stable).iter().all(|s| dir.join(s).exists()));
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "half-written segments: {leftovers:?}");
    });
}

#[test]
fn a_broken_file_is_refused_and_the_server_keeps_serving() {
    if !have("ffmpeg") {
        return;
    }
    each_server(|bin| {
        let raw = "raw_api { enabled on; allow_reload on; }";
        let good = |dir: &Path| {
            test_config(dir, "", "").replacen(
                "http_api {\n",
                &format!("http_api {{\n    {raw}\n"),
                1,
            )
        };
        let server = ServerProcess::start_from(bin, good);
        let broken = good(server.dir.path()).replacen(
            "max_connections 1000;",
            "max_connections 1000;\nno_such_directive on;",
            1,
        );
        let line = 1 + broken
            .lines()
            .position(|l| l.contains("no_such_directive"))
            .unwrap();
        let at = format!("test.conf:{line}");
        std::fs::write(conf_of(&server), &broken).unwrap();
        hup(&server);
        wait_log_n(&server, "reload refused", 1);
        let log = server.log_text();
        assert!(
            log.lines().any(|l| l.contains("reload refused")
                && l.contains(&at)
                && l.contains("no_such_directive")),
            "{log}"
        );
        // The RPC answers with the same reason.
        let (status, _, body) = http("GET", server.api, "/api/v1/raw?rpc=reload");
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 422, "{body}");
        assert!(body.contains(&at), "{body}");
        // Still serving: a publish slices HLS as before.
        let _publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("still"), true);
        wait_for(Duration::from_secs(20), || {
            server.playlist("still").filter(|p| !segments(p).is_empty())
        })
        .unwrap_or_else(|| panic!("not serving after a refused reload:\n{}", server.log_text()));

        // A good file through the RPC is applied, and the answer lists the change.
        let fixed =
            good(server.dir.path()).replacen("max_connections 1000;", "max_connections 900;", 1);
        std::fs::write(conf_of(&server), fixed).unwrap();
        let (status, _, body) = http("GET", server.api, "/api/v1/raw?rpc=reload");
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("max_connections: 1000 -> 900"), "{body}");
        // Without allow_reload, the RPC is refused (SRS's code 1061).
        let closed = good(server.dir.path()).replacen("allow_reload on;", "allow_reload off;", 1);
        std::fs::write(conf_of(&server), closed).unwrap();
        let (status, _, _) = http("GET", server.api, "/api/v1/raw?rpc=reload");
        assert_eq!(status, 200);
        let (status, _, body) = http("GET", server.api, "/api/v1/raw?rpc=reload");
        assert_eq!(status, 403);
        assert!(String::from_utf8_lossy(&body).contains("1061"));
    });
}

#[test]
fn a_hook_url_changed_by_reload_is_the_one_called_next() {
    if !have("ffmpeg") {
        return;
    }
    each_server(|bin| {
        let first = HookServer::start(|_| Answer::Zero);
        let second = HookServer::start(|_| Answer::Zero);
        let hooks = |url: String| format!("http_hooks {{ enabled on; on_publish {url}; }}");
        let a = hooks(first.url("/a"));
        let server = ServerProcess::start_with(bin, &a);
        let p1 = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("one"), true);
        first
            .wait_action("on_publish", Some("one"), Duration::from_secs(15))
            .expect("on_publish at the first URL");
        drop(p1);

        // This time by `rtmp-server -c FILE -s reload`, as nginx's.
        let b = hooks(second.url("/b"));
        std::fs::write(conf_of(&server), test_config(server.dir.path(), "", &b)).unwrap();
        let out = Command::new(bin)
            .arg("-c")
            .arg(conf_of(&server))
            .args(["-s", "reload"])
            .output()
            .expect("run -s reload");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        wait_log_n(&server, "reload done", 1);
        let _p2 = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("two"), true);
        second
            .wait_action("on_publish", Some("two"), Duration::from_secs(15))
            .unwrap_or_else(|| panic!("no on_publish at the new URL:\n{}", server.log_text()));
        assert!(
            first.calls().iter().all(|c| c.body["stream"] != "two"),
            "the old URL was called after the reload"
        );
    });
}

#[test]
fn three_reloads_under_a_publisher_and_a_player_lose_no_frame() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("steady"), true);
        wait_for(Duration::from_secs(20), || {
            server
                .playlist("steady")
                .filter(|p| !segments(p).is_empty())
        })
        .expect("publishing");
        let recording = server.dir.path().join("steady.flv");
        let mut player = Player::start(&server.rtmp_url("steady"), &recording, 10);
        assert!(grows(&recording, 10_000, Duration::from_secs(15)));
        // Three different configs in a row: chunk size, the HLS fragment
        // (its sink restarts) and back.
        let dir = server.dir.path().to_path_buf();
        let configs = [
            test_config(&dir, "", "chunk_size 4096;"),
            test_config(&dir, "", "chunk_size 4096;").replacen(
                "hls_fragment 2;",
                "hls_fragment 3;",
                1,
            ),
            test_config(&dir, "", ""),
        ];
        for (i, config) in configs.iter().enumerate() {
            reload_with(&server, config, i + 1);
            std::thread::sleep(Duration::from_millis(700));
        }
        assert!(player.finish(Duration::from_secs(30)), "the player failed");
        // Video timestamps of the recording: no gap beyond two frames (25 fps).
        let (ok, out, err) = run(
            Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-select_streams",
                    "v",
                    "-show_entries",
                    "packet=dts_time",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&recording),
            Duration::from_secs(20),
        );
        assert!(ok, "{err}");
        let times: Vec<f64> = out
            .lines()
            .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
            .collect();
        assert!(times.len() > 200, "{} video packets", times.len());
        let worst = times.windows(2).map(|w| w[1] - w[0]).fold(0.0f64, f64::max);
        assert!(
            worst <= 0.081,
            "a gap of {worst:.3} s in the player's video; log:\n{}",
            server.log_text()
        );
    });
}

#[test]
fn a_disabled_vhost_ends_its_streams_and_refuses_new_clients() {
    if !have("ffmpeg") {
        return;
    }
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let mut publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("gone"), true);
        wait_for(Duration::from_secs(20), || {
            server.playlist("gone").filter(|p| !segments(p).is_empty())
        })
        .expect("publishing");
        let recording = server.dir.path().join("gone.flv");
        let mut player = Player::start(&server.rtmp_url("gone"), &recording, 60);
        assert!(grows(&recording, 10_000, Duration::from_secs(15)));

        let disabled = test_config(server.dir.path(), "", "").replacen(
            "vhost __defaultVhost__ {",
            "vhost __defaultVhost__ {\n    enabled off;",
            1,
        );
        reload_with(&server, &disabled, 1);
        wait_log_n(
            &server,
            "clients of removed or disabled vhosts disconnected",
            1,
        );
        // The publisher and the player are disconnected.
        assert!(
            wait_for(Duration::from_secs(15), || publisher
                .0
                .try_wait()
                .expect("wait"))
            .is_some(),
            "the publisher is still connected"
        );
        assert!(
            wait_for(Duration::from_secs(15), || player
                .0
                .try_wait()
                .expect("wait"))
            .is_some(),
            "the player is still connected"
        );
        // HLS closed its segment: every listed segment is there, none half-written.
        let dir = server.hls_dir().join("live");
        wait_for(Duration::from_secs(10), || {
            let leftovers = std::fs::read_dir(&dir)
                .ok()?
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                .count();
            (leftovers == 0).then_some(())
        })
        .expect("a half-written segment left");
        let playlist = server.playlist("gone").expect("playlist");
        assert!(segments(&playlist).iter().all(|s| dir.join(s).exists()));
        // New clients of the vhost are refused.
        let (ok, _) = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("again"), false)
            .wait(Duration::from_secs(20));
        assert!(!ok, "a publish on a disabled vhost was accepted");
    });
}

#[test]
fn srs_log_level_applies_at_once() {
    if !have("ffmpeg") {
        return;
    }
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let quiet = test_config(server.dir.path(), "", "").replacen(
            "srs_log_level trace;",
            "srs_log_level warn;",
            1,
        );
        std::fs::write(conf_of(&server), quiet).unwrap();
        hup(&server);
        wait_log_n(&server, "srs_log_level: \"trace\" -> \"warn\"", 1);
        std::thread::sleep(Duration::from_millis(500));
        let publishes = |stream: &str| {
            plain(&server.log_text())
                .lines()
                .filter(|l| l.contains(": publish ") && l.contains(&format!("/live/{stream} ")))
                .count()
        };
        let quiet_one = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("quiet"), true);
        wait_for(Duration::from_secs(20), || {
            server.playlist("quiet").filter(|p| !segments(p).is_empty())
        })
        .expect("publishing");
        assert_eq!(publishes("quiet"), 0, "{}", server.log_text());
        drop(quiet_one);
        // Back to trace: the next publish is logged.
        std::fs::write(conf_of(&server), test_config(server.dir.path(), "", "")).unwrap();
        hup(&server);
        std::thread::sleep(Duration::from_millis(1000));
        let _loud = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("loud"), true);
        wait_for(Duration::from_secs(20), || {
            (publishes("loud") == 1).then_some(())
        })
        .unwrap_or_else(|| panic!("no publish line at trace:\n{}", server.log_text()));
    });
}

#[test]
fn max_connections_applies_at_once() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("full"), true);
        wait_for(Duration::from_secs(20), || {
            server.playlist("full").filter(|p| !segments(p).is_empty())
        })
        .expect("publishing");
        // One connection (the publisher's) is the limit now: a player is refused.
        let one = test_config(server.dir.path(), "", "").replacen(
            "max_connections 1000;",
            "max_connections 1;",
            1,
        );
        reload_with(&server, &one, 1);
        assert!(
            !probe_plays(&server.rtmp_url("full")),
            "a player got past max_connections 1"
        );
        wait_log_n(&server, "refused: max_connections reached", 1);
        reload_with(&server, &test_config(server.dir.path(), "", ""), 2);
        assert!(
            probe_plays(&server.rtmp_url("full")),
            "no play once max_connections is back to 1000; log:\n{}",
            server.log_text()
        );
    });
}

#[test]
fn srs_environment_overrides_are_read_with_the_file() {
    each_server(|bin| {
        let dir = support::TempDir::new("env");
        let conf = dir.path().join("test.conf");
        std::fs::write(&conf, test_config(dir.path(), "", "")).unwrap();
        let check = |value: &str| {
            let out = Command::new(bin)
                .args(["-t", "-c"])
                .arg(&conf)
                .env("SRS_VHOST_HLS_HLS_FRAGMENT", value)
                .output()
                .expect("run -t");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (ok, err) = check("soon");
        assert!(!ok, "a bad SRS_VHOST_HLS_HLS_FRAGMENT was accepted");
        assert!(
            err.contains("env SRS_VHOST_HLS_HLS_FRAGMENT: ") && err.contains("'soon'"),
            "{err}"
        );
        assert!(check("3").0);
    });
}

#[test]
fn a_vhost_added_by_reload_applies_to_new_sessions() {
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let addr = server.rtmp;
        let tc_url = format!("rtmp://{addr}/live?vhost=added.example");
        let publish = |stream: &str| {
            let mut c = TestClient::connect_with(addr, "live", &tc_url, Vec::new());
            assert_eq!(c.connect_answer(), Ok(()));
            let (code, description) = c.request(true, stream);
            (c, code, description)
        };
        // Unknown yet: the default vhost serves it.
        let (mut before, code, description) = publish("early");
        assert_eq!(code, "NetStream.Publish.Start", "{description}");

        let added = test_config(server.dir.path(), "", "").replacen(
            "vhost __defaultVhost__ {",
            "vhost added.example {\n    security {\n        enabled on;\n        deny publish all;\n    }\n}\nvhost __defaultVhost__ {",
            1,
        );
        reload_with(&server, &added, 1);
        assert!(
            server.log_text().contains("added.example"),
            "the diff names the new vhost:\n{}",
            server.log_text()
        );
        // A new session on it gets its settings: publishing is denied.
        let (_, code, _) = publish("late");
        assert_ne!(
            code, "NetStream.Publish.Start",
            "the new vhost's security was not applied"
        );
        // The session started before goes on, and the default vhost still takes publishers.
        assert!(
            !before.closed_by_server(Duration::from_millis(500)),
            "the earlier publisher was cut"
        );
        let mut other = TestClient::connect(addr, "live");
        let (code, description) = other.request(true, "default");
        assert_eq!(code, "NetStream.Publish.Start", "{description}");
    });
}

#[test]
fn moving_the_http_server_port_keeps_its_flv_players() {
    if !have("ffmpeg") {
        return;
    }
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("hp"), true);
        let recording = server.dir.path().join("hp.flv");
        let mut player = Player::start(&server.http_url("/live/hp.flv"), &recording, 60);
        assert!(
            grows(&recording, 50_000, Duration::from_secs(20)),
            "the HTTP-FLV player records nothing; log:\n{}",
            server.log_text()
        );

        let port = free_port();
        let moved = test_config(server.dir.path(), "", "").replacen(
            "http_server {\n    enabled on;\n    listen 127.0.0.1:0;",
            &format!("http_server {{\n    enabled on;\n    listen 127.0.0.1:{port};"),
            1,
        );
        reload_with(&server, &moved, 1);
        let new_http: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        // The new port serves; the old one refuses new connections.
        let (status, _, _) = http("GET", new_http, "/live/hp.m3u8");
        assert_eq!(status, 200, "log:\n{}", server.log_text());
        assert!(
            TcpStream::connect_timeout(&server.http, Duration::from_secs(2)).is_err(),
            "the old HTTP port still accepts"
        );
        // The player connected through the old port is not cut.
        let before = file_len(&recording);
        assert!(player.running(), "the HTTP-FLV player was cut");
        assert!(
            grows(&recording, before + 50_000, Duration::from_secs(10)),
            "the HTTP-FLV player stopped receiving; log:\n{}",
            server.log_text()
        );
    });
}
