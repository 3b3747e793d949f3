//! End-to-end test support: start a server binary on ephemeral ports, generate
//! media with ffmpeg, and run real clients against it.
//!
//! The suite runs against every server binary (tokio and smol builds), so the
//! two cannot drift apart.
#![allow(dead_code)]

mod hook_server;
pub mod prometheus;
mod test_client;
#[allow(unused_imports)]
pub use hook_server::{Answer, HookCall, HookServer};
#[allow(unused_imports)]
pub use test_client::TestClient;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The binaries under test: `rtmp-server` (this package) and `rtmp-server-smol`
/// (built beside it when the workspace's tests are built).
pub fn server_binaries() -> Vec<PathBuf> {
    let tokio = PathBuf::from(env!("CARGO_BIN_EXE_rtmp-server"));
    let smol = tokio.with_file_name("rtmp-server-smol");
    let mut bins = vec![tokio];
    if smol.exists() {
        // `cargo test -p server-tokio` rebuilds only rtmp-server: a smol
        // binary built well before it may predate the code under test (a
        // workspace build links both within moments of each other).
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let stale = match (modified(&smol), modified(&bins[0])) {
            (Some(smol), Some(tokio)) => {
                tokio.duration_since(smol).unwrap_or_default() > Duration::from_secs(60)
            }
            _ => false,
        };
        if stale {
            eprintln!(
                "NOTICE: {} is older than rtmp-server and may be stale (cargo build -p server-smol)",
                smol.display()
            );
        }
        bins.push(smol);
    } else {
        eprintln!(
            "NOTICE: {} not built (run the workspace tests: scripts/test.sh); testing rtmp-server only",
            smol.display()
        );
    }
    bins
}

/// Runs `test` once against every server binary.
pub fn each_server(test: impl Fn(&Path)) {
    for bin in server_binaries() {
        eprintln!("=== {}", bin.display());
        test(&bin);
    }
}

/// True when `tool` runs; prints a notice otherwise so the caller can skip.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg(if tool == "rtmpdump" { "-h" } else { "-version" })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("NOTICE: {tool} not installed; skipping (scripts/test.sh installs it)");
    }
    ok
}

/// A unique scratch directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rtmp-e2e-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A running server process. Killed (by its PID, which we started) on drop.
pub struct ServerProcess {
    pub child: Child,
    pub rtmp: SocketAddr,
    pub http: SocketAddr,
    pub api: SocketAddr,
    pub dir: TempDir,
    pub log: Arc<Mutex<Vec<String>>>,
}

/// A config for tests: everything on 127.0.0.1 port 0, HLS into the temp dir.
pub fn test_config(dir: &Path, global: &str, extra_vhost: &str) -> String {
    format!(
        r#"
{global}
listen 127.0.0.1:0;
max_connections 1000;
pid {dir}/server.pid;
srs_log_tank console;
srs_log_level trace;
http_api {{
    enabled on;
    listen 127.0.0.1:0;
}}
http_server {{
    enabled on;
    listen 127.0.0.1:0;
    dir {dir}/html;
}}
vhost __defaultVhost__ {{
    hls {{
        enabled on;
        hls_path {dir}/html;
        hls_fragment 2;
        hls_window 60;
    }}
    http_remux {{
        enabled on;
        mount [vhost]/[app]/[stream].flv;
    }}
    {extra_vhost}
}}
"#,
        dir = dir.display()
    )
}

impl ServerProcess {
    /// Starts `bin` with the default test config.
    pub fn start(bin: &Path) -> Self {
        Self::start_with(bin, "")
    }

    /// Starts `bin` with extra directives inside the default vhost.
    pub fn start_with(bin: &Path, extra_vhost: &str) -> Self {
        Self::start_configured(bin, "", extra_vhost)
    }

    /// Starts `bin` with extra global directives and extra directives inside
    /// the default vhost.
    pub fn start_configured(bin: &Path, global: &str, extra_vhost: &str) -> Self {
        Self::start_from(bin, |dir| test_config(dir, global, extra_vhost))
    }

    /// Starts `bin` with the config `config` writes for the server's scratch
    /// directory (for edits the other starters cannot express).
    pub fn start_from(bin: &Path, config: impl FnOnce(&Path) -> String) -> Self {
        let dir = TempDir::new("server");
        let conf = dir.path().join("test.conf");
        std::fs::write(&conf, config(dir.path())).expect("write config");
        let mut child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        for pipe in [
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if std::env::var_os("SHOW_SERVER_LOG").is_some() {
                        eprintln!("[server] {line}");
                    }
                    log.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let (mut rtmp, mut http, mut api) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(20);
        while rtmp.is_none() || http.is_none() || api.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "server did not report its listeners; log:\n{}",
                        log.lock().unwrap().join("\n")
                    );
                }
            };
            let Some((what, addr)) = line.split_once(" listening on ") else {
                continue;
            };
            let addr: SocketAddr = addr.trim().parse().expect("listen address");
            if what.ends_with("rtmp") {
                rtmp = Some(addr);
            } else if what.ends_with("http server") {
                http = Some(addr);
            } else if what.ends_with("http api") {
                api = Some(addr);
            }
        }
        Self {
            child,
            rtmp: rtmp.unwrap(),
            http: http.unwrap(),
            api: api.unwrap(),
            dir,
            log,
        }
    }

    pub fn rtmp_url(&self, stream: &str) -> String {
        format!("rtmp://{}/live/{stream}", self.rtmp)
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn api_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }

    pub fn hls_dir(&self) -> PathBuf {
        self.dir.path().join("html")
    }

    /// The HLS playlist of `live/{stream}` as the server last wrote it.
    pub fn playlist(&self, stream: &str) -> Option<String> {
        std::fs::read_to_string(self.hls_dir().join("live").join(format!("{stream}.m3u8"))).ok()
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not exit after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An FLV with H.264 + AAC (or one of them), generated once per test process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Media {
    /// 640x360 25 fps H.264 (2 s GOP) + 44.1 kHz AAC, 8 s.
    AvcAac,
}

pub fn media(kind: Media) -> PathBuf {
    static CACHE: OnceLock<Mutex<std::collections::HashMap<Media, PathBuf>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap();
    if let Some(p) = cache.get(&kind) {
        return p.clone();
    }
    let dir = std::env::temp_dir().join(format!("rtmp-e2e-media-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("avc_aac.flv");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-t",
            "8",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "50",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-f",
            "flv",
        ])
        .arg(&path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg failed to generate test media");
    cache.insert(kind, path.clone());
    path
}

/// The ffmpeg build PyPI's `imageio-ffmpeg` ships (ffmpeg 7+: Enhanced RTMP,
/// HEVC in FLV), if installed; prints a NOTICE otherwise.
pub fn modern_ffmpeg() -> Option<PathBuf> {
    let (ok, out, _) = run(
        Command::new("python3").args([
            "-c",
            "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())",
        ]),
        Duration::from_secs(20),
    );
    let path = PathBuf::from(out.trim());
    if ok && path.exists() {
        Some(path)
    } else {
        eprintln!("NOTICE: imageio-ffmpeg not installed (scripts/test.sh installs it); skipping");
        None
    }
}

/// Two H.264 renditions (640x360 as track 0, 320x180 as track 1) and two
/// AAC tracks (440 Hz at 44.1 kHz, 660 Hz at 48 kHz), 6 s, one key frame a
/// second: an Enhanced RTMP v2 multitrack FLV, written by the modern ffmpeg
/// (`modern_ffmpeg`) into `dir`.
pub fn multitrack_flv(ffmpeg: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("multitrack.flv");
    let (ok, _, err) = run(
        Command::new(ffmpeg)
            .args(["-v", "error", "-y"])
            .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
            .args(["-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000"])
            .args(["-t", "6", "-filter_complex"])
            .arg("[0:v]split=2[a][b];[b]scale=320:180[c]")
            .args(["-map", "[a]", "-map", "[c]", "-map", "1:a", "-map", "2:a"])
            .args(["-c:v", "libx264", "-preset", "veryfast", "-g", "25"])
            .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"])
            .args(["-f", "flv"])
            .arg(&out),
        Duration::from_secs(60),
    );
    assert!(ok, "the modern ffmpeg writes a multitrack FLV: {err}");
    out
}

/// 4 s of 320x180 25 fps HEVC (1 s GOPs) + 44.1 kHz AAC in FLV's Enhanced
/// RTMP layout (`hvc1`), written by the modern ffmpeg (`modern_ffmpeg`)
/// into `dir`; None, with a NOTICE, when that ffmpeg cannot.
pub fn hevc_aac_flv(ffmpeg: &Path, dir: &Path) -> Option<PathBuf> {
    let src = dir.join("hevc.flv");
    let (ok, _, err) = run(
        Command::new(ffmpeg)
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .args(["testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i"])
            .args(["sine=frequency=440:sample_rate=44100", "-t", "4"])
            .args(["-c:v", "libx265", "-preset", "ultrafast", "-x265-params"])
            .args(["keyint=25:min-keyint=25:log-level=error", "-c:a", "aac"])
            .args(["-f", "flv"])
            .arg(&src),
        Duration::from_secs(60),
    );
    if !ok {
        eprintln!("NOTICE: this ffmpeg cannot write HEVC FLV ({err}); skipping");
        return None;
    }
    Some(src)
}

/// The segment URIs of an HLS playlist, in order.
pub fn segments(playlist: &str) -> Vec<String> {
    playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Runs a command to completion with a deadline; returns (success, stdout, stderr).
pub fn run(cmd: &mut Command, limit: Duration) -> (bool, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `ffmpeg -re` publishing `file` to `url` (copying codecs); killed on drop.
pub struct Publisher(pub Child);

impl Publisher {
    pub fn start(file: &Path, url: &str, loops: bool) -> Self {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-v", "error", "-re"]);
        if loops {
            cmd.args(["-stream_loop", "-1"]);
        }
        cmd.arg("-i")
            .arg(file)
            .args(["-c", "copy", "-f", "flv", url]);
        Self(
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("ffmpeg"),
        )
    }

    pub fn wait(mut self, limit: Duration) -> (bool, String) {
        let deadline = Instant::now() + limit;
        while self.0.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = self.0.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = std::mem::replace(&mut self.0, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .expect("output");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal HTTP/1.1 GET/DELETE over a std TCP stream (test side only).
pub fn http(method: &str, addr: SocketAddr, path: &str) -> (u16, String, Vec<u8>) {
    http_with(method, addr, path, "")
}

/// [`http`] with `extra` header lines (`Name: value\r\n` each).
pub fn http_with(
    method: &str,
    addr: SocketAddr,
    path: &str,
    extra: &str,
) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("http header end");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut body = buf[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || data.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[(eol + 4 + size).min(data.len())..];
    }
    out
}

/// Polls `f` until it returns Some or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Seconds a media playlist lists (its `#EXTINF`s).
pub fn listed_seconds(playlist: &str) -> f64 {
    playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .filter_map(|l| l.trim_end_matches(',').parse::<f64>().ok())
        .sum()
}

/// Publishes `file` once in real time with `ffmpeg` (`-c copy`), then
/// waits until `stream`'s playlist lists at least `min_listed` seconds with
/// no segment still being written, and returns it. The last segment closes
/// at the unpublish, a moment after ffmpeg exits: callers pass the clip's
/// length (less a frame) so the wait covers it.
pub fn publish_until_listed(
    ffmpeg: &Path,
    file: &Path,
    server: &ServerProcess,
    stream: &str,
    min_listed: f64,
) -> String {
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-v", "error", "-re", "-i"]).arg(file).args([
        "-c",
        "copy",
        "-f",
        "flv",
        &server.rtmp_url(stream),
    ]);
    let (ok, _, err) = run(&mut cmd, Duration::from_secs(40));
    assert!(ok, "publisher failed: {err}");
    let mut last = String::new();
    let done = wait_for(Duration::from_secs(15), || {
        last = server.playlist(stream)?;
        let tmp = std::fs::read_dir(server.hls_dir().join("live"))
            .ok()?
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"));
        (!tmp && listed_seconds(&last) >= min_listed).then(|| last.clone())
    });
    done.unwrap_or_else(|| panic!("playlist never complete:\n{last}\n{}", server.log_text()))
}
