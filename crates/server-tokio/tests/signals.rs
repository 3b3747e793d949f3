//! The signals operators send, on both builds: each does what SRS and nginx
//! operators expect, logs one line, and none kills the server by accident
//! (README "Operations").

mod support;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{
    each_server, have, http, media, segments, test_config, wait_for, Media, Publisher,
    ServerProcess, TempDir,
};

/// Sends `signal` (a `kill` name such as `HUP`, or a number) to the server.
fn kill(server: &ServerProcess, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(server.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal}");
}

/// `BIN -c CONF -s COMMAND`: its exit status and what it printed.
fn dash_s(bin: &Path, conf: &Path, command: &str) -> (bool, String) {
    let out = Command::new(bin)
        .arg("-c")
        .arg(conf)
        .args(["-s", command])
        .output()
        .expect("run -s");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), text)
}

fn conf_of(server: &ServerProcess) -> PathBuf {
    server.dir.path().join("test.conf")
}

fn pid_file(server: &ServerProcess) -> PathBuf {
    server.dir.path().join("server.pid")
}

/// Waits for the server to exit by itself.
fn exit_within(server: &mut ServerProcess, limit: Duration) -> ExitStatus {
    let status = wait_for(limit, || server.child.try_wait().expect("wait"));
    status.unwrap_or_else(|| panic!("server still running; log:\n{}", server.log_text()))
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

fn wait_log(server: &ServerProcess, needle: &str) {
    wait_for(Duration::from_secs(15), || {
        server.log_text().contains(needle).then_some(())
    })
    .unwrap_or_else(|| panic!("no `{needle}` in the log:\n{}", server.log_text()));
}

/// A publisher whose first HLS segment is written.
fn publishing(server: &ServerProcess, stream: &str) -> Publisher {
    let publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url(stream), true);
    wait_for(Duration::from_secs(20), || {
        server.playlist(stream).filter(|p| !segments(p).is_empty())
    })
    .expect("a first segment");
    publisher
}

fn still_running(publisher: &mut Publisher) -> bool {
    publisher.0.try_wait().expect("wait").is_none()
}

/// Every segment the playlist lists is on disk, and no half-written file is.
fn assert_hls_closed(server: &ServerProcess, stream: &str) {
    let text = server.playlist(stream).expect("playlist kept");
    let dir = server.hls_dir().join("live");
    for seg in segments(&text) {
        assert!(dir.join(&seg).exists(), "{seg} missing after quit");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "half-written files: {leftovers:?}");
}

fn refuses(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err()
}

#[test]
fn signals_that_mean_nothing_here_leave_the_server_serving() {
    if !have("ffmpeg") {
        return;
    }
    each_server(|bin| {
        let mut server = ServerProcess::start(bin);
        let mut publisher = publishing(&server, "calm");
        // A reload of the same file, and the rest mean nothing here
        // (SIGUSR2's upgrade is tests/upgrade.rs's).
        // 36 is SIGRTMIN+2 (glibc).
        let sent = [
            ("HUP", "SIGHUP"),
            ("ALRM", "SIGALRM"),
            ("VTALRM", "SIGVTALRM"),
            ("PROF", "SIGPROF"),
            ("POLL", "SIGIO"),
            ("PWR", "SIGPWR"),
            ("STKFLT", "SIGSTKFLT"),
            ("XCPU", "SIGXCPU"),
            ("XFSZ", "SIGXFSZ"),
            ("36", "SIGRTMIN+2"),
            ("USR1", "SIGUSR1"),
        ];
        for (signal, _) in sent {
            kill(&server, signal);
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_log(&server, "SIGUSR1 received");
        let log = server.log_text();
        for (_, name) in sent {
            assert_eq!(
                count(&log, &format!("{name} received")),
                1,
                "{name}:\n{log}"
            );
        }
        // The file did not change: the reload changes nothing (tests/reload.rs has the rest).
        assert!(log.contains("SIGHUP received: reloading the config"));
        assert!(log.contains("reload: no change"));
        assert!(log.contains("SIGUSR1 received: logs go to the console; nothing to reopen"));

        assert!(server.child.try_wait().unwrap().is_none(), "server died");
        assert!(still_running(&mut publisher), "the publisher was dropped");
        let (status, _, _) = http("GET", server.api, "/api/v1/versions");
        assert_eq!(status, 200);
        let (status, _, _) = http("GET", server.http, "/live/calm.m3u8");
        assert_eq!(status, 200);
        assert!(!refuses(server.rtmp));
        let status = server.terminate();
        assert!(status.success(), "exit status {status}");
    });
}

#[test]
fn sigquit_stops_accepting_drains_then_closes_hls_and_exits_zero() {
    if !have("ffmpeg") {
        return;
    }
    let global = "grace_start_wait 0;\ngrace_drain_timeout 3000;\ngrace_final_wait 0;";
    each_server(|bin| {
        let mut server = ServerProcess::start_configured(bin, global, "");
        let mut publisher = publishing(&server, "drain");
        assert!(pid_file(&server).exists());
        kill(&server, "QUIT");
        wait_log(&server, "SIGQUIT received: graceful quit");
        wait_log(&server, "listeners closed");
        // No new client gets in; the one connected goes on.
        let closed = wait_for(Duration::from_secs(2), || {
            (refuses(server.rtmp) && refuses(server.api) && refuses(server.http)).then_some(())
        });
        assert!(closed.is_some(), "a listener still accepts");
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "quit without draining"
        );
        assert!(
            still_running(&mut publisher),
            "the publisher was not left to drain"
        );

        let status = exit_within(&mut server, Duration::from_secs(15));
        assert!(status.success(), "exit status {status}");
        let log = server.log_text();
        assert_eq!(count(&log, "SIGQUIT received"), 1);
        assert!(
            log.contains("grace_drain_timeout 3000 ms passed: closing the 1 clients left"),
            "{log}"
        );
        assert!(!pid_file(&server).exists(), "pid file left behind");
        assert_hls_closed(&server, "drain");
    });
}

#[test]
fn dash_s_quit_ends_as_soon_as_the_clients_leave() {
    if !have("ffmpeg") {
        return;
    }
    let global = "grace_start_wait 0;\ngrace_drain_timeout 60000;\ngrace_final_wait 0;";
    each_server(|bin| {
        let mut server = ServerProcess::start_configured(bin, global, "");
        let publisher = publishing(&server, "leave");
        let (ok, printed) = dash_s(bin, &conf_of(&server), "quit");
        assert!(ok, "-s quit: {printed}");
        wait_log(&server, "listeners closed");
        assert!(server.child.try_wait().unwrap().is_none());
        // The encoder stops by itself: nothing is left to wait for.
        let left = Instant::now();
        drop(publisher);
        let status = exit_within(&mut server, Duration::from_secs(10));
        assert!(status.success(), "exit status {status}");
        assert!(left.elapsed() < Duration::from_secs(10));
        assert!(server.log_text().contains("every client has left"));
        assert!(!pid_file(&server).exists(), "pid file left behind");
        assert_hls_closed(&server, "leave");
    });
}

#[test]
fn force_grace_quit_makes_sigterm_graceful_and_sigint_cuts_it_short() {
    if !have("ffmpeg") {
        return;
    }
    let global = "grace_start_wait 0;\ngrace_drain_timeout 60000;\nforce_grace_quit on;";
    each_server(|bin| {
        let mut server = ServerProcess::start_configured(bin, global, "");
        let _publisher = publishing(&server, "k8s");
        kill(&server, "TERM");
        wait_log(&server, "SIGTERM received: graceful quit");
        wait_log(&server, "listeners closed");
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "SIGTERM quit at once"
        );
        kill(&server, "INT");
        // Cut short: no 60 s drain, no 3.2 s final wait (grace_final_wait is
        // SRS's default here).
        let status = exit_within(&mut server, Duration::from_secs(8));
        assert!(status.success(), "exit status {status}");
        let log = server.log_text();
        assert!(log.contains("SIGINT received: fast quit, cutting the graceful quit short"));
        assert!(!log.contains("final wait"), "{log}");
        assert!(!pid_file(&server).exists(), "pid file left behind");
        assert_hls_closed(&server, "k8s");
    });
}

/// Starts `bin` logging to `logs/server.log` in its directory (the support
/// starter reads the listeners from the console).
fn start_logging_to_file(bin: &Path) -> ServerProcess {
    let dir = TempDir::new("logfile");
    let log_file = dir.path().join("logs/server.log");
    let conf = dir.path().join("test.conf");
    let text = test_config(dir.path(), "", "").replace(
        "srs_log_tank console;",
        &format!("srs_log_tank file;\nsrs_log_file {};", log_file.display()),
    );
    std::fs::write(&conf, text).unwrap();
    let mut child = Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let find = |text: &str, what: &str| {
        text.lines().find_map(|l| {
            let (head, addr) = l.split_once(" listening on ")?;
            head.ends_with(what)
                .then(|| addr.trim().parse::<SocketAddr>().ok())?
        })
    };
    let addrs = wait_for(Duration::from_secs(20), || {
        let text = std::fs::read_to_string(&log_file).ok()?;
        Some((
            find(&text, "rtmp")?,
            find(&text, "http server")?,
            find(&text, "http api")?,
        ))
    });
    let Some((rtmp, http, api)) = addrs else {
        let _ = child.kill();
        panic!("no listeners in {}", log_file.display());
    };
    ServerProcess {
        child,
        rtmp,
        http,
        api,
        dir,
        log: Arc::new(Mutex::new(Vec::new())),
    }
}

#[test]
fn sigusr1_reopens_the_log_file_that_logrotate_renamed() {
    each_server(|bin| {
        let mut server = start_logging_to_file(bin);
        let logs = server.dir.path().join("logs");
        let path = logs.join("server.log");
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();

        // logrotate's `postrotate kill -USR1`.
        std::fs::rename(&path, logs.join("server.log.1")).unwrap();
        kill(&server, "USR1");
        let reopened = wait_for(Duration::from_secs(10), || {
            read(&path)
                .contains("SIGUSR1 received: log file")
                .then_some(())
        });
        assert!(reopened.is_some(), "no new file at {}", path.display());
        assert!(read(&logs.join("server.log.1")).contains("rtmp listening on"));
        assert!(!read(&logs.join("server.log.1")).contains("SIGUSR1"));

        // Or `rtmp-server -s reopen`, as nginx's.
        std::fs::rename(&path, logs.join("server.log.2")).unwrap();
        let (ok, printed) = dash_s(bin, &conf_of(&server), "reopen");
        assert!(ok, "-s reopen: {printed}");
        let reopened = wait_for(Duration::from_secs(10), || {
            read(&path).contains("reopened").then_some(())
        });
        assert!(reopened.is_some(), "no new file after -s reopen");
        assert_eq!(count(&read(&logs.join("server.log.2")), "SIGUSR1"), 1);
        let (status, _, _) = http("GET", server.api, "/api/v1/versions");
        assert_eq!(status, 200);

        // `-s stop` is SIGTERM: a fast quit, logged in the new file.
        let (ok, printed) = dash_s(bin, &conf_of(&server), "stop");
        assert!(ok, "-s stop: {printed}");
        let status = exit_within(&mut server, Duration::from_secs(10));
        assert!(status.success(), "exit status {status}");
        assert!(read(&path).contains("SIGTERM received: fast quit"));
        assert!(read(&path).contains("bye"));
        assert!(!pid_file(&server).exists(), "pid file left behind");

        // Nothing runs any more: `-s` says so instead of signalling a stranger.
        let (ok, printed) = dash_s(bin, &conf_of(&server), "reopen");
        assert!(!ok);
        assert!(printed.contains("is the server running?"), "{printed}");
        let mut stranger = Command::new("sleep").arg("30").spawn().expect("sleep");
        std::fs::write(pid_file(&server), format!("{}\n", stranger.id())).unwrap();
        let (ok, printed) = dash_s(bin, &conf_of(&server), "stop");
        std::thread::sleep(Duration::from_millis(200));
        let alive = stranger.try_wait().unwrap().is_none();
        let _ = stranger.kill();
        let _ = stranger.wait();
        assert!(!ok && alive, "a stale pid file was trusted");
        assert!(printed.contains("stale pid file"), "{printed}");
    });
}
