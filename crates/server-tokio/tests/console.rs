//! The web console (`http_server { console { } }`) in headless Chromium,
//! against each server binary: what a person checks when they open it. The
//! stream's row appears within seconds of an ffmpeg publish, with its codecs
//! and resolution; kicking a client removes it; the stream's page plays HLS
//! (hls.js) and HTTP-FLV (mpegts.js) with the video advancing, and its charts
//! have points.
//!
//! The page is served by the HTTP server and calls the API on its other port,
//! cross-origin (CORS), with `auth` on, so it must ask for credentials. The
//! players load from the console's local `vendor_dir` (tests have no
//! internet): a directory linking the npm packages' files of `tests/browser`.
//!
//! Screenshots go to `target/tmp/console-screenshots/<scenario>/<binary>/` (kept as
//! artifacts, not in git). Needs what `browser.rs` needs plus mpegts.js;
//! without them the test skips unless `RTMP_TEST_REQUIRE_BROWSER=1`.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use support::*;

const USER: &str = "ops";
const PASS: &str = "s3cret:with colon";

/// The browser test directory and the Chromium binary.
struct Browser {
    dir: PathBuf,
    chromium: PathBuf,
}

/// The browser test directory, if everything the console test needs is there.
fn browser_dir() -> Option<Browser> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|c| d.join(c)))
            .find(|c| c.is_file())
    });
    let node = Command::new("node").arg("--version").output().is_ok();
    let packages = ["hls.js", "mpegts.js", "playwright-core"].iter().all(|p| {
        dir.join("node_modules")
            .join(p)
            .join("package.json")
            .exists()
    });
    let missing: Vec<&str> = [
        (!node).then_some("node"),
        chromium.is_none().then_some("chromium"),
        (!packages).then_some("npm packages (npm ci --prefix crates/server-tokio/tests/browser)"),
        (!have("ffmpeg")).then_some("ffmpeg"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return Some(Browser {
            dir,
            chromium: chromium?,
        });
    }
    let why = format!("console tests need {}", missing.join(", "));
    if std::env::var("RTMP_TEST_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("{why} (RTMP_TEST_REQUIRE_BROWSER=1)");
    }
    eprintln!("NOTICE: {why}; skipping (scripts/test.sh installs them)");
    None
}

/// A `vendor_dir` for the console: the players' files from the npm packages.
fn vendor_dir(browser: &Path, into: &Path) -> PathBuf {
    let vendor = into.join("vendor");
    std::fs::create_dir_all(&vendor).expect("vendor dir");
    let modules = browser.join("node_modules");
    for (package, file) in [("hls.js", "hls.min.js"), ("mpegts.js", "mpegts.js")] {
        std::os::unix::fs::symlink(
            modules.join(package).join("dist").join(file),
            vendor.join(file),
        )
        .expect("link player");
    }
    vendor
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs `console-check.mjs`; calls `on_ready` once the page is up and signed
/// in (the test publishes then); returns the script's report.
fn run_console(
    browser: &Browser,
    url: &str,
    out: &Path,
    stream: &str,
    auth: bool,
    unreachable_url: Option<&str>,
    on_ready: impl FnOnce(),
) -> Value {
    let mut args = vec![url.to_owned(), out.display().to_string(), stream.to_owned()];
    if auth {
        args.extend([USER.to_owned(), PASS.to_owned()]);
    }
    let mut node = Command::new("node");
    if let Some(u) = unreachable_url {
        node.env("UNREACHABLE_URL", u);
    }
    let child = node
        .arg(browser.dir.join("console-check.mjs"))
        .args(&args)
        .env("CHROMIUM", &browser.chromium)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let ready = wait_for(Duration::from_secs(30), || {
        out.join("ready").exists().then_some(())
    });
    if ready.is_some() {
        on_ready();
    }
    let out = rx
        .recv_timeout(Duration::from_secs(150))
        .unwrap_or_else(|_| {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            rx.recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| {
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{pid}")])
                        .status();
                    rx.recv().expect("node reaped")
                })
        });
    let out = out.expect("node output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "console-check.mjs gave no report ({e}); status {}; stderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `(played seconds, first (width, height) seen)` from the samples of `watchVideo`.
fn played(samples: &Value) -> (f64, (u64, u64)) {
    let s = samples.as_array().cloned().unwrap_or_default();
    let t = |v: &Value| v["currentTime"].as_f64().unwrap_or(0.0);
    let first = s.iter().map(t).find(|&x| x > 0.0).unwrap_or(0.0);
    let last = s.last().map(t).unwrap_or(0.0);
    let size = s
        .iter()
        .find(|v| v["width"].as_u64().unwrap_or(0) > 0)
        .map_or((0, 0), |v| {
            (
                v["width"].as_u64().unwrap_or(0),
                v["height"].as_u64().unwrap_or(0),
            )
        });
    (last - first, size)
}

fn brief(report: &Value) -> String {
    let mut b = report.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("hls");
        o.remove("flv");
    }
    b.to_string()
}

/// How a scenario sets the console up.
struct Setup {
    /// `http_api { auth { } }` on: the page must ask for credentials.
    auth: bool,
    /// Configure a wrong `console { api }` and pass the right one as `?api=`
    /// (which must win); otherwise the page finds the API by itself.
    query_api: bool,
    /// Screenshot subdirectory.
    tag: &'static str,
}

#[test]
fn console_lists_kicks_and_plays_with_auth_cross_origin() {
    scenario(Setup {
        auth: true,
        query_api: false,
        tag: "auth",
    });
}

#[test]
fn console_without_auth_takes_the_api_from_the_query() {
    scenario(Setup {
        auth: false,
        query_api: true,
        tag: "query-api",
    });
}

/// The console end to end against each binary; the API always listens on
/// another port than the page's, so every call is cross-origin.
fn scenario(setup: Setup) {
    let Some(browser) = browser_dir() else {
        return;
    };
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let name = bin
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("console-screenshots")
            .join(setup.tag)
            .join(&name);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        let vendor = vendor_dir(&browser.dir, &shots);
        let server = ServerProcess::start_from(bin, |d| {
            let auth = if setup.auth {
                format!("auth {{ enabled on; username {USER}; password '{PASS}'; }}")
            } else {
                String::new()
            };
            // Port 1 on loopback: nothing answers there.
            let api = if setup.query_api {
                "api http://127.0.0.1:1;"
            } else {
                ""
            };
            test_config(d, "", "")
                .replacen(
                    "http_api {\n    enabled on;",
                    &format!("http_api {{\n    enabled on;\n    {auth}"),
                    1,
                )
                .replacen(
                    "http_server {\n    enabled on;",
                    &format!(
                        "http_server {{\n    enabled on;\n    console {{ enabled on; path /console/; {api} vendor_dir {}; }}",
                        vendor.display()
                    ),
                    1,
                )
        });
        let url = if setup.query_api {
            server.http_url(&format!("/console/?api=http://{}", server.api))
        } else {
            // The page finds the API on its own port by default.
            server.http_url("/console/")
        };

        // An RTMP player to kick, once the stream is there.
        let mut rtmp_player = None;
        let mut published_at = 0;
        let mut publisher = None;
        // With the wrong configured API, the page without ?api= must say it
        // cannot reach it.
        let unreachable = setup.query_api.then(|| server.http_url("/console/"));
        let report = run_console(
            &browser,
            &url,
            &shots,
            "cons",
            setup.auth,
            unreachable.as_deref(),
            || {
                published_at = unix_ms();
                publisher = Some(Publisher::start(&media, &server.rtmp_url("cons"), true));
                std::thread::sleep(Duration::from_secs(1));
                rtmp_player = Some(
                    Command::new("ffmpeg")
                        .args([
                            "-v",
                            "error",
                            "-i",
                            &server.rtmp_url("cons"),
                            "-f",
                            "null",
                            "-",
                        ])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("ffmpeg player"),
                );
            },
        );
        let b = brief(&report);
        eprintln!("[{name}] console saw: {b}");
        eprintln!("[{name}] screenshots in {}", shots.display());
        assert!(
            report["error"].is_null(),
            "{b}\nlog:\n{}",
            server.log_text()
        );
        assert_eq!(report["loginAsked"], setup.auth, "{b}");
        if setup.query_api {
            let status = report["unreachableStatus"].as_str().unwrap_or_default();
            assert!(
                status.contains("cannot reach http://127.0.0.1:1"),
                "{status}: {b}"
            );
        }
        assert_eq!(report["apiReached"], true, "{b}");

        // The row appears within a few seconds of publishing.
        let seen = report["rowSeenAt"].as_u64().unwrap_or(u64::MAX);
        let after = seen.saturating_sub(published_at);
        assert!(
            after < 5000,
            "row appeared {after} ms after publishing: {b}"
        );
        let row = &report["row"];
        let video = row["video"].as_str().unwrap_or_default();
        assert!(
            video.starts_with("H264") && video.ends_with("640×360"),
            "{b}"
        );
        assert!(
            row["audio"].as_str().unwrap_or_default().starts_with("AAC"),
            "{b}"
        );
        let rate: f64 = row["rateIn"]
            .as_str()
            .and_then(|r| r.split_whitespace().next())
            .and_then(|r| r.parse().ok())
            .unwrap_or(0.0);
        assert!(rate > 50.0, "no incoming bitrate shown: {b}");

        // Kicking the RTMP player removes its row, and the server drops it.
        let kicked = report["kicked"].as_u64().expect("an rtmp-play row to kick");
        assert!(
            report["kickGoneMs"].as_u64().unwrap_or(u64::MAX) < 5000,
            "{b}"
        );
        let mut player = rtmp_player.expect("player started");
        let exited = wait_for(Duration::from_secs(10), || player.try_wait().ok().flatten());
        let _ = player.kill();
        let _ = player.wait();
        assert!(
            exited.is_some(),
            "kicked ffmpeg player {kicked} still running: {b}"
        );

        // The stream's page plays HLS, then HTTP-FLV, and charts its history.
        let (hls_played, hls_size) = played(&report["hls"]);
        assert!(
            hls_played >= 6.0,
            "HLS played {hls_played:.1} s: {b}\n{}",
            report["hls"]
        );
        assert_eq!(hls_size, (640, 360), "{b}");
        let (flv_played, flv_size) = played(&report["flv"]);
        eprintln!(
            "[{name}] row after {after} ms; HLS played {hls_played:.1} s of 10, FLV {flv_played:.1} s of 8"
        );
        assert!(
            flv_played >= 5.0,
            "FLV played {flv_played:.1} s: {b}\n{}",
            report["flv"]
        );
        assert_eq!(flv_size, (640, 360), "{b}");
        assert!(
            report["bitrateChartPoints"].as_u64().unwrap_or(0) >= 5,
            "{b}"
        );
        assert!(
            report["playersChartPoints"].as_u64().unwrap_or(0) >= 5,
            "{b}"
        );
        let flv_clients = report["streamClientTypes"].to_string();
        assert!(
            flv_clients.contains("flv-play"),
            "console's FLV player not listed: {b}"
        );
        let urls = &report["urls"];
        assert_eq!(urls["hls"], server.http_url("/live/cons.m3u8"), "{b}");
        assert_eq!(urls["flv"], server.http_url("/live/cons.flv"), "{b}");
        assert_eq!(urls["rtmp"], server.rtmp_url("cons"), "{b}");
        assert!(
            report["consoleErrors"]
                .as_array()
                .is_some_and(|e| e.iter().all(|e| !e.to_string().contains("pageerror"))),
            "{b}"
        );
        // The page's Content-Security-Policy lets the players and charts work.
        let errors = report["consoleErrors"].to_string();
        assert!(
            !errors.contains("Content Security Policy"),
            "CSP refused something: {b}"
        );
        for shot in ["list.png", "stream-hls.png", "stream-flv.png"] {
            assert!(shots.join(shot).is_file(), "no {shot}: {b}");
        }
        drop(publisher);
    });
}

/// The console's default is the pinned CDN copy with an SRI hash: the hash
/// must be that of the npm package's file at the version the tests pin (a
/// wrong hash makes browsers refuse the script, and the console plays nothing).
#[test]
fn console_cdn_players_carry_the_pinned_files_sri_hashes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let files = [
        ("hls", "hls.js", "hls.min.js"),
        ("mpegts", "mpegts.js", "mpegts.js"),
    ];
    let have_files = files.iter().all(|(_, p, f)| {
        dir.join("node_modules")
            .join(p)
            .join("dist")
            .join(f)
            .is_file()
    });
    if !have_files || !have("openssl") {
        eprintln!("NOTICE: needs the npm packages of tests/browser and openssl; skipping");
        return;
    }
    let Some(bin) = server_binaries().into_iter().next() else {
        return;
    };
    let server = ServerProcess::start(&bin);
    let (status, _, body) = http("GET", server.http, "/console/config.json");
    assert_eq!(status, 200);
    let config: Value = serde_json::from_slice(&body).expect("config.json");
    // The listeners as bound (the config says port 0).
    assert_eq!(config["api"], format!("http://{}", server.api));
    assert_eq!(config["rtmp"], format!("rtmp://{}", server.rtmp));
    let package: Value =
        serde_json::from_slice(&std::fs::read(dir.join("package.json")).expect("package.json"))
            .expect("package.json parses");
    for (key, package_name, file) in files {
        let player = &config["players"][key];
        let version = package["dependencies"][package_name]
            .as_str()
            .expect("pinned");
        assert_eq!(
            player["src"],
            format!("https://cdn.jsdelivr.net/npm/{package_name}@{version}/dist/{file}"),
            "the console pins another version than tests/browser/package.json"
        );
        let path = dir
            .join("node_modules")
            .join(package_name)
            .join("dist")
            .join(file);
        let digest = Command::new("sh")
            .arg("-c")
            .arg("openssl dgst -sha384 -binary \"$1\" | openssl base64 -A")
            .arg("sh")
            .arg(&path)
            .output()
            .expect("openssl");
        let expected = format!("sha384-{}", String::from_utf8_lossy(&digest.stdout).trim());
        assert_eq!(player["integrity"], expected, "{package_name} SRI hash");
    }
    let started = Instant::now();
    // Without vendor_dir, the local copies are not served.
    let (status, _, _) = http("GET", server.http, "/console/vendor/hls.min.js");
    assert_eq!(status, 404);
    assert!(started.elapsed() < Duration::from_secs(5));
}
