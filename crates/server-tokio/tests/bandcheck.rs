//! SRS's bandwidth check end to end: `rtmp-bwtest` (the rtmp-client
//! crate's tool) against the real server on both builds. Two vhosts with
//! different `limit_kbps` are checked at once, and what the client
//! received tracks each limit; a wrong key, and a second check inside the
//! vhost's `interval`, are refused. As root, a check through a loopback
//! shaped by `tc` (in a network namespace of its own) measures the link,
//! not the limit.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

const KEY: &str = "35c9b402c12a7246868752e2878f7e0e";
/// Two limits far enough apart that tracking one is not tracking the other.
const SLOW_KBPS: u64 = 1000;
const FAST_KBPS: u64 = 4000;
/// Measured rates must be within this of the limit: wide, for busy 2-core VMs.
const TOLERANCE_PERCENT: u64 = 35;

/// `rtmp-bwtest`, built beside the server binaries (by the workspace's
/// tests, or `cargo build -p rtmp-client`).
fn bwtest() -> Option<PathBuf> {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rtmp-server")).with_file_name("rtmp-bwtest");
    if bin.exists() {
        Some(bin)
    } else {
        eprintln!(
            "NOTICE: {} not built (cargo build -p rtmp-client); skipping",
            bin.display()
        );
        None
    }
}

fn start(bin: &Path) -> ServerProcess {
    ServerProcess::start_from(bin, |dir| {
        let vhost = |name: &str, interval: u32, limit: u64| {
            format!(
                "vhost {name} {{ chunk_size 65000; bandcheck {{ enabled on; key {KEY}; \
                 interval {interval}; limit_kbps {limit}; }} }}\n"
            )
        };
        format!(
            "{}{}{}",
            test_config(dir, "", ""),
            vhost("slow.bandcheck.test", 0, SLOW_KBPS),
            vhost("fast.bandcheck.test", 30, FAST_KBPS)
        )
    })
}

fn spawn(bwtest: &Path, server: &ServerProcess, key: &str, vhost: &str) -> Child {
    let url = format!("rtmp://{}/app?key={key},vhost={vhost}", server.rtmp);
    Command::new(bwtest)
        .args(["--timeout", "5", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rtmp-bwtest")
}

/// Waits for a check (bounded), returns its exit success, stdout and the
/// JSON summary it printed on stderr.
fn finish(mut child: Child, limit: Duration) -> (bool, String, serde_json::Value) {
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = stderr
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON summary; stdout:\n{stdout}\nstderr:\n{stderr}"));
    (out.status.success(), stdout, json)
}

fn kbps(json: &serde_json::Value, field: &str) -> u64 {
    json[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {json}"))
}

/// The rates the client received at and the server sent and received at
/// are within [`TOLERANCE_PERCENT`] of `expected`.
fn assert_tracks(json: &serde_json::Value, expected: u64, server: &ServerProcess) {
    for field in ["received_kbps", "play_kbps", "publish_kbps"] {
        let got = kbps(json, field);
        assert!(
            got.abs_diff(expected) * 100 <= expected * TOLERANCE_PERCENT,
            "{field} {got} against {expected}: {json}\nlog:\n{}",
            server.log_text()
        );
    }
    // Each phase is SRS's 3 s.
    for field in ["play_duration", "publish_duration"] {
        let ms = kbps(json, field);
        assert!((2900..4500).contains(&ms), "{field} {ms}: {json}");
    }
}

#[test]
fn measured_kbps_tracks_each_limit_and_bad_requests_are_refused() {
    let Some(bwtest) = bwtest() else { return };
    each_server(|bin| {
        let server = start(bin);
        // A wrong key is refused at connect, at once.
        let started = Instant::now();
        let (ok, stdout, json) = finish(
            spawn(&bwtest, &server, "wrong", "slow.bandcheck.test"),
            Duration::from_secs(10),
        );
        assert!(!ok, "a wrong key passed: {stdout}");
        assert!(
            stdout.contains("NetConnection.Connect.Rejected"),
            "{stdout}"
        );
        assert!(stdout.contains("key"), "{stdout}");
        assert_ne!(json["code"], 0, "{json}");
        assert!(started.elapsed() < Duration::from_secs(5));

        // Both limits at once: the checks run side by side. The fast vhost
        // (interval 30 s) first: the interval is the client's, whatever the
        // vhost, and the slow vhost's is 0.
        let checks_started = |n: usize| {
            wait_for(Duration::from_secs(5), || {
                (server.log_text().matches("bandcheck start").count() == n).then_some(())
            })
            .unwrap_or_else(|| panic!("{n} checks never started; log:\n{}", server.log_text()))
        };
        let fast = spawn(&bwtest, &server, KEY, "fast.bandcheck.test");
        checks_started(1);
        let slow = spawn(&bwtest, &server, KEY, "slow.bandcheck.test");
        checks_started(2);
        // A second check on the fast vhost from this address is refused
        // while the first runs.
        let (ok, stdout, _) = finish(
            spawn(&bwtest, &server, KEY, "fast.bandcheck.test"),
            Duration::from_secs(10),
        );
        assert!(!ok, "a check inside the interval passed: {stdout}");
        assert!(stdout.contains("bandcheck rejected"), "{stdout}");

        let (ok, stdout, slow) = finish(slow, Duration::from_secs(30));
        assert!(
            ok,
            "slow check failed: {stdout}\nlog:\n{}",
            server.log_text()
        );
        assert!(stdout.contains("play: "), "{stdout}");
        let (ok, stdout, fast) = finish(fast, Duration::from_secs(30));
        assert!(
            ok,
            "fast check failed: {stdout}\nlog:\n{}",
            server.log_text()
        );
        eprintln!("slow: {slow}\nfast: {fast}");
        assert_tracks(&slow, SLOW_KBPS, &server);
        assert_tracks(&fast, FAST_KBPS, &server);
        assert_eq!(kbps(&slow, "limit_kbps"), SLOW_KBPS, "{slow}");
        assert_eq!(kbps(&fast, "limit_kbps"), FAST_KBPS, "{fast}");
        // The server logged each report.
        let log = server.log_text();
        assert_eq!(log.matches("bandcheck done").count(), 2, "log:\n{log}");
    });
}

/// The shaped link's rate, a quarter of the vhost's limit.
const LINK_KBPS: u64 = 2000;
const SHAPED_LIMIT_KBPS: u64 = 8000;

/// What the namespace's loopback gets: small socket buffers (so the play
/// phase's backlog drains in a moment), then a token bucket at
/// [`LINK_KBPS`] with room for a second of queue (tail drops in TCP's slow
/// start would measure TCP's recovery instead of the link).
fn shaping() -> String {
    format!(
        "ip link set lo up && ip link set lo mtu 1500 \
         && sysctl -qw net.ipv4.tcp_wmem='4096 16384 131072' \
         && sysctl -qw net.ipv4.tcp_rmem='4096 65536 131072' \
         && tc qdisc add dev lo root tbf rate {LINK_KBPS}kbit burst 16kb latency 1s"
    )
}

/// Whether this machine lets us shape a private loopback (root, `unshare`,
/// `tc`, `nsenter`); a NOTICE says why not.
fn can_shape() -> bool {
    let (ok, _, err) = run(
        Command::new("unshare").args(["-n", "sh", "-c", &shaping()]),
        Duration::from_secs(10),
    );
    let nsenter = Command::new("nsenter").arg("--version").output().is_ok();
    if !ok || !nsenter {
        eprintln!(
            "NOTICE: cannot shape a loopback in a network namespace (needs root, unshare, tc, \
             nsenter): {}; skipping",
            err.trim()
        );
    }
    ok && nsenter
}

#[test]
fn a_link_slower_than_the_limit_is_what_is_measured() {
    let Some(bwtest) = bwtest() else { return };
    if !can_shape() {
        return;
    }
    each_server(|bin| {
        // The server runs in its own network namespace, its loopback
        // shaped; the client joins that namespace.
        let scratch = TempDir::new("bandcheck-shaped");
        let wrapper = scratch.path().join("shaped-server");
        // The inner shell gets the server's path as $0 and its arguments.
        let script = format!(
            r#"#!/bin/sh
exec unshare -n sh -c "{} && exec \"\$0\" \"\$@\"" {} "$@"
"#,
            shaping(),
            bin.display()
        );
        std::fs::write(&wrapper, script).expect("write wrapper");
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&wrapper, mode).expect("chmod");
        let server = ServerProcess::start_from(&wrapper, |dir| {
            format!(
                "{}vhost shaped.bandcheck.test {{ bandcheck {{ enabled on; key {KEY}; \
                 limit_kbps {SHAPED_LIMIT_KBPS}; }} }}\n",
                test_config(dir, "", "")
            )
        });
        let url = format!(
            "rtmp://{}/app?key={KEY},vhost=shaped.bandcheck.test",
            server.rtmp
        );
        let child = Command::new("nsenter")
            .args(["-t", &server.child.id().to_string(), "-n"])
            .arg(&bwtest)
            .args(["--timeout", "5", &url])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nsenter rtmp-bwtest");
        let (ok, stdout, json) = finish(child, Duration::from_secs(40));
        assert!(
            ok,
            "shaped check failed: {stdout}\nlog:\n{}",
            server.log_text()
        );
        eprintln!("shaped: {json}");
        assert_tracks(&json, LINK_KBPS, &server);
        assert_eq!(kbps(&json, "limit_kbps"), SHAPED_LIMIT_KBPS, "{json}");
    });
}
