//! hls.js in headless Chromium against the server's HLS output: the player
//! behind most browser HLS playback outside Safari, and the one operators embed.
//! Every test runs against both server binaries.
//!
//! Needs node, Chromium and the npm packages of `tests/browser` (hls.js,
//! playwright-core); `scripts/test.sh` installs all three. Without them the
//! tests print a notice and skip, unless `RTMP_TEST_REQUIRE_BROWSER=1` (set in
//! CI), where a missing browser is a failure rather than a silent pass.
//!
//! The page is served from another loopback port than the server's, so each
//! playlist and segment fetch is cross-origin and depends on the server's
//! `crossdomain` CORS header, as on an operator's own site.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

/// What `tests/browser/hlsjs-play.mjs` needs to run.
struct Browser {
    chromium: PathBuf,
    script: PathBuf,
    /// One browser test at a time: each runs Chromium, ffmpeg and two
    /// servers, and some encode (x265) first. Run side by side on two
    /// cores, a starved player stalled for 5 s and failed the LL-HLS
    /// latency check (seen in CI), though it was the machine, not the
    /// server, that fell behind.
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

static ONE_BROWSER_TEST: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn browser() -> Option<Browser> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        // Playwright wants a path, not a name to look up.
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|c| d.join(c)))
            .find(|c| c.is_file())
    });
    let node = Command::new("node").arg("--version").output().is_ok();
    let packages = ["hls.js", "playwright-core"].iter().all(|p| {
        dir.join("node_modules")
            .join(p)
            .join("package.json")
            .exists()
    });
    let missing: Vec<&str> = [
        (!node).then_some("node"),
        chromium.is_none().then_some("chromium"),
        (!packages).then_some("npm packages (npm ci --prefix crates/server-tokio/tests/browser)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return Some(Browser {
            chromium: chromium?,
            script: dir.join("hlsjs-play.mjs"),
            // A test that failed holding it poisons it; the next still runs.
            _one_at_a_time: ONE_BROWSER_TEST.lock().unwrap_or_else(|e| e.into_inner()),
        });
    }
    let why = format!("browser tests need {}", missing.join(", "));
    if std::env::var("RTMP_TEST_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("{why} (RTMP_TEST_REQUIRE_BROWSER=1)");
    }
    eprintln!("NOTICE: {why}; skipping (scripts/test.sh installs them)");
    None
}

impl Browser {
    /// Starts hls.js playing `url` for `watch_secs`; [`Self::report`] collects
    /// what it saw, so the test can change the stream meanwhile.
    fn play(&self, url: &str, watch_secs: u32) -> Child {
        self.play_seeking(url, watch_secs, "")
    }

    /// [`Self::play`], seeking as `HLSJS_SEEK` says (`AFTER:TO` seconds).
    fn play_seeking(&self, url: &str, watch_secs: u32, seek: &str) -> Child {
        self.command(url, watch_secs)
            .env("HLSJS_SEEK", seek)
            .spawn()
            .expect("start node")
    }

    /// [`Self::play`], first asking `MediaSource.isTypeSupported` about each
    /// of `types` (the report's `typeSupported`, by type).
    fn play_probing(&self, url: &str, watch_secs: u32, types: &[&str]) -> Child {
        self.command(url, watch_secs)
            .env("HLSJS_PROBE_TYPES", types.join("\n"))
            .spawn()
            .expect("start node")
    }

    /// [`Self::play`] in hls.js's low-latency mode (LL-HLS).
    fn play_low_latency(&self, url: &str, watch_secs: u32) -> Child {
        self.command(url, watch_secs)
            .env("HLSJS_LOW_LATENCY", "1")
            .spawn()
            .expect("start node")
    }

    fn command(&self, url: &str, watch_secs: u32) -> Command {
        let mut cmd = Command::new("node");
        cmd.arg(&self.script)
            .arg(url)
            .arg(watch_secs.to_string())
            .env("CHROMIUM", &self.chromium)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn report(player: Child, watch_secs: u32) -> Value {
        // Output is read while node runs (a full pipe would stall it). Past
        // the deadline node gets SIGTERM, on which playwright closes the
        // Chromium it started; then whatever is left of node's group goes.
        let pid = player.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(player.wait_with_output()));
        let limit = Duration::from_secs(u64::from(watch_secs) + 60);
        let out = rx.recv_timeout(limit).unwrap_or_else(|_| {
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
                "hlsjs-play.mjs gave no report ({e}); status {}; stderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

/// Waits until the server's playlist for `stream` lists `n` segments.
fn wait_segments(server: &ServerProcess, stream: &str, n: usize) {
    let ready = wait_for(Duration::from_secs(30), || {
        server.playlist(stream).filter(|p| segments(p).len() >= n)
    });
    assert!(
        ready.is_some(),
        "playlist of {stream} never reached {n} segments; log:\n{}",
        server.log_text()
    );
}

fn fatal_errors(report: &Value) -> Vec<&Value> {
    report["errors"]
        .as_array()
        .map(|e| e.iter().filter(|e| e["fatal"] == true).collect())
        .unwrap_or_default()
}

/// The longest time, in seconds, that `currentTime` stood still once playback
/// had started (samples are taken every 500 ms).
fn longest_freeze(report: &Value) -> f64 {
    let samples: Vec<(f64, f64)> = report["samples"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| Some((s["at"].as_f64()?, s["currentTime"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let Some(first_move) = samples.windows(2).position(|w| w[1].1 > w[0].1) else {
        return f64::INFINITY;
    };
    let mut longest = 0.0_f64;
    let mut still_since = samples[first_move + 1].0;
    for w in samples[first_move + 1..].windows(2) {
        if w[1].1 > w[0].1 {
            still_since = w[1].0;
        } else {
            longest = longest.max(w[1].0 - still_since);
        }
    }
    longest
}

/// The report without its samples, for assertion messages (and printed).
fn summary(report: &Value) -> String {
    let mut brief = report.clone();
    if let Some(o) = brief.as_object_mut() {
        o.remove("samples");
    }
    let brief = brief.to_string();
    eprintln!("hls.js saw: {brief}");
    brief
}

/// Runs `test` against each server binary, started by `start`, once
/// `stream` is published (ffmpeg, looped) and its playlist lists `segments`
/// segments; skips when the browser or ffmpeg is missing.
fn with_live_stream(
    start: impl Fn(&Path) -> ServerProcess,
    stream: &str,
    segments: usize,
    test: impl Fn(&Browser, &ServerProcess, Publisher),
) {
    let Some(browser) = browser() else { return };
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = start(bin);
        let publisher = Publisher::start(&media, &server.rtmp_url(stream), true);
        wait_segments(&server, stream, segments);
        test(&browser, &server, publisher);
    });
}

#[test]
fn hlsjs_plays_live_hls_cross_origin_without_stalls() {
    with_live_stream(
        ServerProcess::start,
        "web",
        3,
        |browser, server, _publisher| {
            let watch = 12;
            let report = Browser::report(
                browser.play(&server.http_url("/live/web.m3u8"), watch),
                watch,
            );
            let brief = summary(&report);
            assert_eq!(report["supported"], true, "no MSE in Chromium: {brief}");
            assert!(fatal_errors(&report).is_empty(), "{brief}");
            assert_eq!(report["codecs"]["audio"], "mp4a.40.2", "{brief}");
            let video = report["codecs"]["video"].as_str().unwrap_or_default();
            assert!(video.starts_with("avc1."), "{brief}");
            assert_eq!(
                (&report["videoWidth"], &report["videoHeight"]),
                (&Value::from(640), &Value::from(360)),
                "{brief}"
            );
            // Playback starts within a few seconds and then keeps pace.
            let played = report["samples"]
                .as_array()
                .and_then(|s| {
                    let t = |v: &Value| v["currentTime"].as_f64();
                    Some(t(s.last()?)? - t(s.iter().find(|v| t(v) > Some(0.0))?)?)
                })
                .unwrap_or(0.0);
            assert!(played >= 7.0, "played {played:.1} s of {watch}: {brief}");
            let freeze = longest_freeze(&report);
            assert!(freeze < 2.5, "playback froze {freeze:.1} s: {brief}");
            let decoded = report["decodedFrames"].as_u64().unwrap_or(0);
            assert!(decoded >= 25 * 7, "{decoded} frames decoded: {brief}");
            // Muted, but the AAC track is decoded all the same.
            let audio = report["audioDecodedBytes"].as_u64().unwrap_or(0);
            assert!(audio > 0, "no audio decoded: {brief}");
        },
    );
}

/// The test config with `hls_use_fmp4 on`.
fn start_fmp4(bin: &Path) -> ServerProcess {
    ServerProcess::start_from(bin, |dir| {
        test_config(dir, "", "").replacen(
            "hls_window 60;",
            "hls_window 60;\n        hls_use_fmp4 on;",
            1,
        )
    })
}

/// `hls_use_fmp4 on`: hls.js loads the init segment named by EXT-X-MAP and
/// plays the CMAF segments (H.264 + AAC) without transmuxing them.
#[test]
fn hlsjs_plays_fmp4_hls() {
    with_live_stream(start_fmp4, "cmaf", 2, |browser, server, _publisher| {
        let playlist = server.playlist("cmaf").unwrap_or_default();
        assert!(playlist.contains("#EXT-X-MAP:URI="), "{playlist}");
        let watch = 8;
        let report = Browser::report(
            browser.play(&server.http_url("/live/cmaf.m3u8"), watch),
            watch,
        );
        let brief = summary(&report);
        assert!(fatal_errors(&report).is_empty(), "{brief}");
        // Muxed fMP4 goes to one `audiovideo` SourceBuffer.
        let codecs: Vec<&str> = report["codecs"]
            .as_object()
            .map(|c| c.values().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let codecs = codecs.join(",");
        assert!(codecs.contains("mp4a.40.2"), "{brief}");
        assert!(codecs.contains("avc1."), "{brief}");
        assert_eq!(report["videoWidth"], 640, "{brief}");
        let audio = report["audioDecodedBytes"].as_u64().unwrap_or(0);
        assert!(audio > 0, "no audio decoded: {brief}");
        let played = report["samples"]
            .as_array()
            .and_then(|s| {
                let t = |v: &Value| v["currentTime"].as_f64();
                Some(t(s.last()?)? - t(s.iter().find(|v| t(v) > Some(0.0))?)?)
            })
            .unwrap_or(0.0);
        assert!(played >= 4.0, "played {played:.1} s of {watch}: {brief}");
        let decoded = report["decodedFrames"].as_u64().unwrap_or(0);
        assert!(decoded >= 25 * 4, "{decoded} frames decoded: {brief}");
    });
}

/// The MSE type asked about to learn whether this Chromium decodes HEVC at
/// all: Main profile, level 3.1 (what x265 writes for a small picture).
const HEVC_MSE_TYPE: &str = r#"video/mp4; codecs="hvc1.1.6.L93.B0""#;

/// HEVC + AAC over Enhanced RTMP (the modern ffmpeg), `hls_use_fmp4 on`:
/// the playlist names an init segment whose video sample entry is `hvc1`,
/// and where this Chromium's MSE takes HEVC, hls.js plays it as it plays
/// H.264. Chromium decodes HEVC only with a platform decoder (none in a
/// headless Linux box as a rule): without one, a NOTICE says playback was
/// not checked.
#[test]
fn hlsjs_plays_hevc_fmp4_hls_where_chromium_decodes_hevc() {
    let Some(browser) = browser() else { return };
    let Some(modern) = modern_ffmpeg() else {
        return;
    };
    let scratch = TempDir::new("browser-hevc");
    let Some(file) = hevc_aac_flv(&modern, scratch.path()) else {
        return;
    };
    each_server(|bin| {
        let server = start_fmp4(bin);
        let _publisher = publish_looped(&modern, &file, &server.rtmp_url("hevc"));
        wait_segments(&server, "hevc", 3);
        let playlist = server.playlist("hevc").unwrap_or_default();
        let map = playlist
            .lines()
            .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
            .and_then(|uri| uri.split('"').next())
            .unwrap_or_else(|| panic!("no EXT-X-MAP:\n{playlist}"));
        // Fetched as the player does, relative to the playlist's URL.
        let (status, _, init) = http("GET", server.http, &format!("/live/{map}"));
        assert_eq!(status, 200, "GET /live/{map}");
        assert!(
            declares_hvc1(&init),
            "init segment {map} has no hvc1 sample entry with an hvcC"
        );

        let watch = 8;
        let url = server.http_url("/live/hevc.m3u8");
        let report = Browser::report(browser.play_probing(&url, watch, &[HEVC_MSE_TYPE]), watch);
        let brief = summary(&report);
        assert_eq!(report["supported"], true, "no MSE in Chromium: {brief}");
        let decodes_hevc = report["typeSupported"][HEVC_MSE_TYPE]
            .as_bool()
            .unwrap_or_else(|| panic!("no isTypeSupported answer: {brief}"));
        // Muxed fMP4: one `audiovideo` SourceBuffer, codecs read from the
        // init (hls.js reads them before it asks MSE for a SourceBuffer).
        let codecs: Vec<&str> = report["codecs"]
            .as_object()
            .map(|c| c.values().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let codecs = codecs.join(",");
        assert!(codecs.contains("hvc1."), "{brief}");
        assert!(codecs.contains("mp4a.40.2"), "{brief}");
        if !decodes_hevc {
            eprintln!(
                "NOTICE: this Chromium cannot decode HEVC (MSE isTypeSupported false); \
                 HEVC fMP4 playback not checked"
            );
            return;
        }
        assert!(fatal_errors(&report).is_empty(), "{brief}");
        let unsupported: Vec<&String> = report["codecsSupported"]
            .as_object()
            .map(|c| {
                c.iter()
                    .filter(|(_, v)| **v != true)
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        assert!(unsupported.is_empty(), "{unsupported:?}: {brief}");
        assert_eq!(report["videoWidth"], 320, "{brief}");
        let audio = report["audioDecodedBytes"].as_u64().unwrap_or(0);
        assert!(audio > 0, "no audio decoded: {brief}");
        let played = report["samples"]
            .as_array()
            .and_then(|s| {
                let t = |v: &Value| v["currentTime"].as_f64();
                Some(t(s.last()?)? - t(s.iter().find(|v| t(v) > Some(0.0))?)?)
            })
            .unwrap_or(0.0);
        assert!(played >= 4.0, "played {played:.1} s of {watch}: {brief}");
        let decoded = report["decodedFrames"].as_u64().unwrap_or(0);
        assert!(decoded >= 25 * 4, "{decoded} frames decoded: {brief}");
    });
}

/// Whether an init segment has a track whose sample entry is `hvc1` and
/// carries its `hvcC`: after the `stsd` type come its FullBox header, the
/// entry count, then the entry's size and type.
fn declares_hvc1(init: &[u8]) -> bool {
    (0..init.len()).any(|at| {
        let entry = &init[at..];
        entry.starts_with(b"stsd")
            && entry.get(16..20) == Some(b"hvc1")
            && entry.windows(4).any(|w| w == b"hvcC")
    })
}

/// Publishes `file` to `url` with `ffmpeg` (`-re`, looped, every stream
/// copied), as `Publisher` does with Debian's; killed on drop.
fn publish_looped(ffmpeg: &Path, file: &Path, url: &str) -> Publisher {
    let child = Command::new(ffmpeg)
        .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
        .arg(file)
        .args(["-map", "0", "-c", "copy", "-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("modern ffmpeg publishes");
    Publisher(child)
}

/// An E-RTMP multitrack stream (two H.264 renditions, two AAC tracks,
/// published by the modern ffmpeg): hls.js loads the master playlist, sees
/// both renditions as levels, and plays video from a variant's playlist
/// with audio from the `EXT-X-MEDIA` group's default track.
#[test]
fn hlsjs_plays_the_multitrack_master_playlist() {
    let Some(browser) = browser() else { return };
    let Some(modern) = modern_ffmpeg() else {
        return;
    };
    let scratch = TempDir::new("browser-multitrack");
    let file = multitrack_flv(&modern, scratch.path());
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _publisher = publish_looped(&modern, &file, &server.rtmp_url("multi"));
        let master = server.hls_dir().join("live/multi_master.m3u8");
        let ready = wait_for(Duration::from_secs(30), || {
            let text = std::fs::read_to_string(&master).ok()?;
            (text.matches("#EXT-X-STREAM-INF").count() == 2
                && text.matches("TYPE=AUDIO").count() == 2)
                .then_some(())
        });
        assert!(ready.is_some(), "{:?}", std::fs::read_to_string(&master));
        // A segment more in each playlist, so hls.js starts a few back.
        wait_segments(&server, "multi_v0", 3);
        let watch = 10;
        let report = Browser::report(
            browser.play(&server.http_url("/live/multi_master.m3u8"), watch),
            watch,
        );
        let brief = summary(&report);
        assert!(fatal_errors(&report).is_empty(), "{brief}");
        let levels: Vec<(u64, u64)> = report["levels"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|l| {
                        (
                            l["width"].as_u64().unwrap_or(0),
                            l["height"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        // hls.js orders levels by BANDWIDTH: the smaller rendition first.
        assert_eq!(levels, [(320, 180), (640, 360)], "{brief}");
        // Video and audio from separate playlists: separate SourceBuffers.
        assert_eq!(report["codecs"]["audio"], "mp4a.40.2", "{brief}");
        let video = report["codecs"]["video"].as_str().unwrap_or_default();
        assert!(video.starts_with("avc1."), "{brief}");
        let played = report["samples"]
            .as_array()
            .and_then(|s| {
                let t = |v: &Value| v["currentTime"].as_f64();
                Some(t(s.last()?)? - t(s.iter().find(|v| t(v) > Some(0.0))?)?)
            })
            .unwrap_or(0.0);
        assert!(played >= 5.0, "played {played:.1} s of {watch}: {brief}");
        let decoded = report["decodedFrames"].as_u64().unwrap_or(0);
        assert!(decoded >= 25 * 5, "{decoded} frames decoded: {brief}");
        let audio = report["audioDecodedBytes"].as_u64().unwrap_or(0);
        assert!(audio > 0, "no audio decoded: {brief}");
    });
}

/// `hls_ll on`: hls.js in low-latency mode plays the LL-HLS stream (parts,
/// blocking reloads) and stays close to the live edge; its latency
/// estimate is printed.
#[test]
fn hlsjs_plays_ll_hls_near_the_live_edge() {
    let start = |bin: &Path| {
        ServerProcess::start_from(bin, |dir| {
            test_config(dir, "", "").replacen(
                "hls_window 60;",
                "hls_window 60;\n        hls_ll on;\n        hls_part_duration 0.2;",
                1,
            )
        })
    };
    with_live_stream(start, "low", 2, |browser, server, _publisher| {
        let watch = 10;
        let report = Browser::report(
            browser.play_low_latency(&server.http_url("/live/low.m3u8"), watch),
            watch,
        );
        let brief = summary(&report);
        assert!(fatal_errors(&report).is_empty(), "{brief}");
        let latencies: Vec<f64> = report["samples"]
            .as_array()
            .map(|s| s.iter().filter_map(|v| v["latency"].as_f64()).collect())
            .unwrap_or_default();
        let tail = &latencies[latencies.len().saturating_sub(6)..];
        let latency = tail.iter().sum::<f64>() / tail.len().max(1) as f64;
        eprintln!("hls.js LL-HLS latency (last 3 s): {latency:.2} s; all: {latencies:?}");
        assert!(!tail.is_empty(), "no latency samples: {brief}");
        // hls.js's own estimate (live edge of the playlist minus the
        // playhead), not glass to glass; the issue's target is under 2 s.
        assert!(latency < 2.0, "{latency:.2} s behind live: {brief}");
        let decoded = report["decodedFrames"].as_u64().unwrap_or(0);
        assert!(decoded >= 25 * 5, "{decoded} frames decoded: {brief}");
    });
}

#[test]
fn hlsjs_plays_on_across_a_republish_discontinuity() {
    with_live_stream(ServerProcess::start, "re", 3, |browser, server, first| {
        let watch = 26;
        let player = browser.play(&server.http_url("/live/re.m3u8"), watch);
        std::thread::sleep(Duration::from_secs(8));
        drop(first);
        let _second = Publisher::start(&media(Media::AvcAac), &server.rtmp_url("re"), true);
        let report = Browser::report(player, watch);
        let brief = summary(&report);

        let playlist = server.playlist("re").unwrap_or_default();
        assert_eq!(
            playlist.matches("#EXT-X-DISCONTINUITY").count(),
            1,
            "{playlist}"
        );
        assert!(fatal_errors(&report).is_empty(), "{brief}");
        let changes = report["fragsChanged"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(changes.iter().any(|f| f["cc"] == 0), "{brief}");
        let joined = changes
            .iter()
            .find(|f| f["cc"] == 1)
            .unwrap_or_else(|| panic!("never played past the discontinuity: {brief}"));
        let after = report["currentTime"].as_f64().unwrap_or(0.0)
            - joined["currentTime"].as_f64().unwrap_or(f64::INFINITY);
        assert!(
            after >= 4.0,
            "only {after:.1} s played after the discontinuity: {brief}"
        );
        let freeze = longest_freeze(&report);
        assert!(freeze < 2.5, "playback froze {freeze:.1} s: {brief}");
        assert_eq!(report["videoWidth"], 640, "{brief}");
    });
}

#[test]
fn hlsjs_is_refused_cross_origin_when_crossdomain_is_off() {
    let start = |bin: &Path| {
        ServerProcess::start_from(bin, |dir| {
            test_config(dir, "", "").replacen(
                "http_server {",
                "http_server {\n    crossdomain off;",
                1,
            )
        })
    };
    with_live_stream(start, "closed", 1, |browser, server, _publisher| {
        let watch = 3;
        let report = Browser::report(
            browser.play(&server.http_url("/live/closed.m3u8"), watch),
            watch,
        );
        let brief = summary(&report);
        let fatal = fatal_errors(&report);
        assert!(
            fatal.iter().any(|e| e["details"] == "manifestLoadError"),
            "a cross-origin page loaded the playlist without CORS: {brief}"
        );
        assert_eq!(report["decodedFrames"], 0, "{brief}");
    });
}

#[test]
fn hlsjs_plays_hls_vod_and_seeks_in_it() {
    let Some(browser) = browser() else { return };
    if !have("ffmpeg") {
        return;
    }
    // 8 s, key frames every 2 s: segments of 2 s.
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start_from(bin, |dir| {
            let vod = dir.join("vod");
            std::fs::create_dir_all(vod.join("live")).unwrap();
            std::fs::copy(&media, vod.join("live/rec.flv")).unwrap();
            let extra = format!(
                "vod {{ enabled on; dir {}; hls_fragment 2; }}",
                vod.display()
            );
            test_config(dir, "", &extra)
        });
        let watch = 6;
        let url = server.http_url("/vod/live/rec.flv/index.m3u8");
        let report = Browser::report(browser.play_seeking(&url, watch, "1.5:5"), watch);
        let brief = summary(&report);
        assert!(fatal_errors(&report).is_empty(), "{brief}");
        let seeks = report["seeks"].as_array().cloned().unwrap_or_default();
        // hls.js may seek by itself first (over the gap before the first
        // frame): ours is the last.
        let landed = seeks
            .last()
            .and_then(|s| s["currentTime"].as_f64())
            .unwrap_or(0.0);
        assert!((4.9..6.0).contains(&landed), "seeked to {landed}: {brief}");
        // Segment 2 (4 to 6 s) was loaded for it, and playback went on.
        let frags: Vec<u64> = report["fragsChanged"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["sn"].as_u64())
            .collect();
        assert!(frags.contains(&2), "{frags:?}: {brief}");
        let end = report["currentTime"].as_f64().unwrap_or(0.0);
        assert!(end > landed + 1.0, "stuck at {end}: {brief}");
    });
}
