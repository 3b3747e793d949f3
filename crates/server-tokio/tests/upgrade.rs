//! SIGUSR2 binary upgrade on both builds (README "Operations"): the running
//! process hands its listening sockets to a new process from the same
//! binary; the new one serves new clients, the old one drains its own (no
//! frame lost) and exits; the pid file ends with the new pid. A new process
//! that cannot start leaves the old one serving.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::command::status::CONNECT_RECONNECT_REQUEST;
use rtmp_proto::session::ClientEvent;
use support::{
    each_server, have, http, media, run, wait_for, Media, Publisher, ServerProcess, TestClient,
};

fn kill(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Gone, or a zombie waiting for a reaper that is not us.
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// The process the upgrade started (not our child): stopped by its pid on drop.
struct NewProcess(Option<u32>);

impl Drop for NewProcess {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            kill(pid, "TERM");
            if wait_for(Duration::from_secs(10), || gone(pid).then_some(())).is_none() {
                kill(pid, "KILL");
            }
        }
    }
}

fn pid_file(server: &ServerProcess) -> PathBuf {
    server.dir.path().join("server.pid")
}

fn pid_in(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The pid the HTTP API answers with (the process that accepted the request).
fn api_pid(server: &ServerProcess) -> u32 {
    let (status, _, body) = http("GET", server.api, "/api/v1/versions");
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("API JSON");
    json["pid"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .or_else(|| json["pid"].as_u64().map(|p| p as u32))
        .unwrap_or_else(|| panic!("no pid in {json}"))
}

/// An ffmpeg player recording `url` to `out` for `seconds`; killed on drop.
struct Recorder(Child);

impl Recorder {
    fn start(url: &str, out: &Path, seconds: u32) -> Self {
        Self(
            Command::new("ffmpeg")
                .args(["-v", "error", "-y", "-i", url, "-t"])
                .arg(seconds.to_string())
                .args(["-c", "copy", "-f", "flv"])
                .arg(out)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("ffmpeg player"),
        )
    }

    fn finish(&mut self, limit: Duration) -> bool {
        wait_for(limit, || self.0.try_wait().expect("wait")).is_some_and(|s| s.success())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn grows(path: &Path, than: u64) -> bool {
    wait_for(Duration::from_secs(20), || {
        (std::fs::metadata(path).map_or(0, |m| m.len()) > than).then_some(())
    })
    .is_some()
}

/// The largest gap between consecutive video timestamps of `file`, and how
/// many video packets it has.
fn worst_video_gap(file: &Path) -> (f64, usize) {
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
            .arg(file),
        Duration::from_secs(20),
    );
    assert!(ok, "{err}");
    let times: Vec<f64> = out
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    let worst = times.windows(2).map(|w| w[1] - w[0]).fold(0.0f64, f64::max);
    (worst, times.len())
}

#[test]
fn sigusr2_upgrades_under_a_publisher_and_players_losing_no_frame() {
    if !have("ffmpeg") || !have("ffprobe") {
        eprintln!("NOTICE: ffmpeg/ffprobe missing: skipping the upgrade test");
        return;
    }
    let global = "grace_start_wait 0;\ngrace_drain_timeout 20000;\ngrace_final_wait 0;";
    each_server(|bin| {
        let mut server = ServerProcess::start_configured(bin, global, "");
        let mut new = NewProcess(None);
        let old_pid = server.child.id();
        let publisher = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("up"), true);
        let rtmp_rec = server.dir.path().join("rtmp.flv");
        let flv_rec = server.dir.path().join("flv.flv");
        let mut rtmp_player = Recorder::start(&server.rtmp_url("up"), &rtmp_rec, 7);
        let mut flv_player = Recorder::start(&server.http_url("/live/up.flv"), &flv_rec, 7);
        assert!(
            grows(&rtmp_rec, 20_000) && grows(&flv_rec, 20_000),
            "the players record nothing; log:\n{}",
            server.log_text()
        );

        // A player announcing Enhanced RTMP's capsEx Reconnect.
        let addr = server.rtmp;
        let mut modern = TestClient::connect_with(
            addr,
            "live",
            &format!("rtmp://{addr}/live"),
            vec![("capsEx".to_owned(), Amf0Value::Number(1.0))],
        );
        assert_eq!(modern.connect_answer(), Ok(()));
        assert_eq!(modern.request(false, "up").0, "NetStream.Play.Start");

        assert!(kill(old_pid, "USR2"));
        let new_pid = wait_for(Duration::from_secs(15), || {
            pid_in(&pid_file(&server)).filter(|&p| p != old_pid)
        })
        .unwrap_or_else(|| panic!("no new pid in the pid file; log:\n{}", server.log_text()));
        new.0 = Some(new_pid);
        // The old process renamed its pid file, nginx's way, and drains.
        let oldbin = server.dir.path().join("server.pid.oldbin");
        assert_eq!(pid_in(&oldbin), Some(old_pid));
        wait_for(Duration::from_secs(10), || {
            server.log_text().contains("listeners closed").then_some(())
        })
        .unwrap_or_else(|| panic!("the old process still accepts; log:\n{}", server.log_text()));
        assert!(server.child.try_wait().unwrap().is_none(), "quit at once");
        // The drain asks it to reconnect (to the URL it used: the new process).
        let asked = modern.pump_until(Duration::from_secs(10), |e| {
            matches!(e, ClientEvent::Status { stream_id: 0, code, .. } if code == CONNECT_RECONNECT_REQUEST)
        });
        assert!(asked, "no reconnect request: {}", modern.gave_up);
        drop(modern);

        // New clients are the new process's: the API, and a new stream.
        assert_eq!(api_pid(&server), new_pid);
        let _second = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("up2"), true);
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
                &server.rtmp_url("up2"),
            ]),
            Duration::from_secs(20),
        );
        assert!(
            ok && out.contains("h264"),
            "no play from the new process; log:\n{}",
            server.log_text()
        );
        let (_, _, body) = http("GET", server.api, "/api/v1/streams");
        let streams = String::from_utf8_lossy(&body);
        assert!(
            streams.contains("\"up2\"") && !streams.contains("\"up\""),
            "the new process's streams: {streams}"
        );

        // The players connected before stay on the old process to the end.
        assert!(
            rtmp_player.finish(Duration::from_secs(20)),
            "the RTMP player failed"
        );
        assert!(
            flv_player.finish(Duration::from_secs(20)),
            "the HTTP-FLV player failed"
        );
        for file in [&rtmp_rec, &flv_rec] {
            let (worst, n) = worst_video_gap(file);
            assert!(n > 120, "{} video packets in {}", n, file.display());
            assert!(
                worst <= 0.081,
                "a gap of {worst:.3} s in {}; log:\n{}",
                file.display(),
                server.log_text()
            );
        }

        // Its last client leaves: the old process exits; the new one serves on.
        drop(publisher);
        let status = wait_for(Duration::from_secs(15), || server.child.try_wait().unwrap())
            .unwrap_or_else(|| panic!("the old process did not exit; log:\n{}", server.log_text()));
        assert!(status.success(), "exit status {status}");
        assert_eq!(pid_in(&pid_file(&server)), Some(new_pid));
        assert!(!oldbin.exists(), "the .oldbin pid file is left behind");
        assert!(!gone(new_pid), "the new process died");
        assert_eq!(api_pid(&server), new_pid);
    });
}

#[test]
fn a_new_process_that_cannot_start_leaves_the_old_one_serving() {
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let old_pid = server.child.id();
        // The new process reads the config again: a broken one stops it.
        let conf = server.dir.path().join("test.conf");
        let good = std::fs::read_to_string(&conf).unwrap();
        std::fs::write(&conf, format!("{good}\nno_such_directive on;\n")).unwrap();
        assert!(kill(old_pid, "USR2"));
        let failed = wait_for(Duration::from_secs(15), || {
            server
                .log_text()
                .lines()
                .find(|l| l.contains("binary upgrade failed, serving on"))
                .map(str::to_owned)
        });
        let line = failed.unwrap_or_else(|| panic!("no failure logged:\n{}", server.log_text()));
        assert!(line.contains("exited"), "{line}");
        assert_eq!(pid_in(&pid_file(&server)), Some(old_pid));
        assert!(!server.dir.path().join("server.pid.oldbin").exists());
        assert_eq!(api_pid(&server), old_pid);
        std::fs::write(&conf, good).unwrap();
    });
}
