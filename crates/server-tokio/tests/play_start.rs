//! How a play starts (issue 15): what ffmpeg, rtmpdump and GStreamer make of
//! the first messages and timestamps a player gets, over RTMP and HTTP-FLV.
//!
//! `ffmpeg -i URL -map 0 -t 6 -c copy out.flv` reads every track the FLV
//! demuxer finds. A data message it does not know (`NetStream.Data.Start`)
//! becomes a data track, and script data at a time other than 0 (metadata
//! sent to a late joiner at the stream's time) a subtitle track; neither gets
//! another packet, so `-t` never completes and ffmpeg never exits. As in SRS,
//! a player's timeline starts at 0 when it joins (`atc off`), goes on across
//! a republish, and with `atc on` is the publisher's own. Every test runs
//! against both server builds.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// Seconds of media each recording asks for.
const RECORD_SECS: u32 = 6;
/// A recording of `RECORD_SECS` must end by itself within this (it gets the
/// GOP cache at once, then live media; anything near the limit is a hang).
const RECORD_LIMIT: Duration = Duration::from_secs(16);

/// Waits until the API shows `stream` published with video.
fn wait_live(server: &ServerProcess, stream: &str) {
    let live = wait_for(Duration::from_secs(20), || {
        let (status, _, body) = http("GET", server.api, "/api/v1/streams");
        let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
        (status == 200
            && v["streams"].as_array()?.iter().any(|s| {
                s["name"] == stream
                    && s["publish"]["active"] == true
                    && s["video"]["codec"].is_string()
            }))
        .then_some(())
    });
    assert!(
        live.is_some(),
        "stream {stream} never went live; log:\n{}",
        server.log_text()
    );
}

/// `ffmpeg -i URL -map 0 -t SECS -c copy OUT`: whether it exited by itself
/// with success, how long it took, and its stderr.
fn record_every_track(url: &str, out: &Path, secs: u32) -> (bool, Duration, String) {
    let started = Instant::now();
    let (ok, _, err) = run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i", url, "-map", "0", "-t"])
            .arg(secs.to_string())
            .args(["-c", "copy", "-f", "flv"])
            .arg(out),
        Duration::from_secs(40),
    );
    (ok, started.elapsed(), err)
}

/// Records every track of each of `urls` at once (one ffmpeg each); each must
/// end by itself within [`RECORD_LIMIT`].
fn record_all(urls: &[String], outs: &[PathBuf]) {
    std::thread::scope(|s| {
        let runs: Vec<_> = urls
            .iter()
            .zip(outs)
            .map(|(url, out)| s.spawn(move || (url, record_every_track(url, out, RECORD_SECS))))
            .collect();
        for run in runs {
            let (url, (ok, took, err)) = run.join().unwrap();
            assert!(ok, "ffmpeg -map 0 of {url} failed after {took:?}: {err}");
            assert!(
                took < RECORD_LIMIT,
                "ffmpeg -map 0 -t {RECORD_SECS} of {url} took {took:?}"
            );
        }
    });
}

/// One line per track of `input` (a file or a URL): `codec_type,codec_name,start_time`.
fn tracks(input: &str) -> Vec<(String, String, f64)> {
    let (_, out, err) = run(
        Command::new("ffprobe").args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,start_time",
            "-of",
            "csv=p=0:nk=1",
            input,
        ]),
        Duration::from_secs(30),
    );
    let parsed: Vec<_> = out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            // ffprobe prints the fields in its own order: name, type, start.
            let f: Vec<&str> = l.split(',').collect();
            let start = f.get(2).and_then(|s| s.trim().parse().ok()).unwrap_or(-1.0);
            (
                f.get(1).unwrap_or(&"").to_string(),
                f.first().unwrap_or(&"").to_string(),
                start,
            )
        })
        .collect();
    assert!(!parsed.is_empty(), "ffprobe {input}: no tracks; {err}");
    parsed
}

/// Exactly one H.264 and one AAC track, both starting within `near` of `at`
/// seconds.
fn assert_av_from(input: &Path, at: f64, near: f64) {
    let found = tracks(&input.display().to_string());
    let mut kinds: Vec<(&str, &str)> = found
        .iter()
        .map(|(t, c, _)| (t.as_str(), c.as_str()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [("audio", "aac"), ("video", "h264")],
        "{}: {found:?}",
        input.display()
    );
    for (kind, _, start) in &found {
        assert!(
            (start - at).abs() <= near,
            "{}: {kind} starts at {start}, not near {at}: {found:?}",
            input.display()
        );
    }
}

/// Per track, the decode times of every packet of `file`, in file order.
fn packet_times(file: &Path) -> Vec<(String, f64)> {
    let (_, out, _) = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "packet=codec_type,dts_time",
                "-of",
                "csv=p=0",
            ])
            .arg(file),
        Duration::from_secs(30),
    );
    out.lines()
        .filter_map(|l| {
            let (kind, dts) = l.split_once(',')?;
            Some((kind.to_string(), dts.trim().parse().ok()?))
        })
        .collect()
}

/// Starts ffmpeg publishing `media` in a loop to `url`, with `extra` output
/// options (e.g. a timestamp offset).
fn publish_looping(media: &Path, url: &str, extra: &[&str]) -> Publisher {
    let child = Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-stream_loop", "-1", "-i"])
        .arg(media)
        .args(["-c", "copy"])
        .args(extra)
        .args(["-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg");
    Publisher(child)
}

#[test]
fn ffmpeg_mapping_every_track_of_a_late_joined_stream_gets_audio_and_video_from_zero_and_stops() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _publisher = publish_looping(&media, &server.rtmp_url("late"), &[]);
        wait_live(&server, "late");
        // Late: the stream is seconds in, its GOP cache mid-GOP.
        std::thread::sleep(Duration::from_millis(4500));
        let dir = TempDir::new("late");
        let urls = [server.rtmp_url("late"), server.http_url("/live/late.flv")];
        let outs = [dir.path().join("rtmp.flv"), dir.path().join("http.flv")];
        record_all(&urls, &outs);
        for out in &outs {
            assert_av_from(out, 0.0, 0.3);
        }
        // rtmpdump writes what it gets as FLV tags (data messages included).
        if have("rtmpdump") {
            let out = dir.path().join("rtmpdump.flv");
            run(
                Command::new("rtmpdump")
                    .args(["-q", "--live", "-r", &urls[0], "-o"])
                    .arg(&out),
                Duration::from_secs(4),
            );
            assert_av_from(&out, 0.0, 0.3);
        }
        // GStreamer's RTMP source and FLV demuxer take the same start.
        if have("gst-launch-1.0") {
            let (ok, _, err) = run(
                Command::new("gst-launch-1.0").args([
                    "-q",
                    "rtmp2src",
                    &format!("location={}", urls[0]),
                    "num-buffers=150",
                    "!",
                    "flvdemux",
                    "name=d",
                    "d.video",
                    "!",
                    "queue",
                    "!",
                    "h264parse",
                    "!",
                    "fakesink",
                    "d.audio",
                    "!",
                    "queue",
                    "!",
                    "aacparse",
                    "!",
                    "fakesink",
                ]),
                Duration::from_secs(30),
            );
            assert!(ok, "gst-launch-1.0 rtmp2src ! flvdemux: {err}");
        }
    });
}

#[test]
fn after_a_republish_joiners_start_at_zero_and_an_http_flv_player_goes_on() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let dir = TempDir::new("republish");
        let first = publish_live_looping(&server, &media, "again");
        // An HTTP-FLV player there before, during and after the republish.
        let staying = dir.path().join("staying.flv");
        let flv_url = server.http_url("/live/again.flv");
        std::thread::scope(|s| {
            let player = s.spawn(|| record_every_track(&flv_url, &staying, 10));
            std::thread::sleep(Duration::from_secs(3));
            drop(first);
            let _second = publish_live_looping(&server, &media, "again");
            std::thread::sleep(Duration::from_millis(4500));
            let urls = [server.rtmp_url("again"), flv_url.clone()];
            let outs = [dir.path().join("rtmp.flv"), dir.path().join("http.flv")];
            record_all(&urls, &outs);
            for out in &outs {
                assert_av_from(out, 0.0, 0.3);
            }
            let (ok, took, err) = player.join().unwrap();
            assert!(
                ok,
                "the HTTP-FLV player across the republish failed after {took:?}: {err}"
            );
            assert!(took < Duration::from_secs(25), "it took {took:?}");
        });
        assert_av_from(&staying, 0.0, 0.3);
        // Its timeline went on: every track's times only go forward, without
        // a hole where the publishers changed.
        let packets = packet_times(&staying);
        for kind in ["audio", "video"] {
            let times: Vec<f64> = packets
                .iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, t)| *t)
                .collect();
            assert!(times.len() > 50, "{kind}: {} packets", times.len());
            for pair in times.windows(2) {
                let step = pair[1] - pair[0];
                assert!(
                    (0.0..1.0).contains(&step),
                    "{kind} went from {} to {} across the republish",
                    pair[0],
                    pair[1]
                );
            }
        }
    });
}

/// Publishes `media` in a loop as `stream` and waits until it is live.
fn publish_live_looping(server: &ServerProcess, media: &Path, stream: &str) -> Publisher {
    let publisher = publish_looping(media, &server.rtmp_url(stream), &[]);
    wait_live(server, stream);
    publisher
}

#[test]
fn with_atc_on_players_get_the_publishers_timestamps_and_with_it_off_their_own() {
    if !have("ffmpeg") || !have("ffprobe") {
        return;
    }
    let media = media(Media::AvcAac);
    // The publisher's clock starts at 1000 s.
    let offset = ["-output_ts_offset", "1000"];
    each_server(|bin| {
        // atc on: the publisher's time, 1000 s and the seconds it has been
        // live; off: the player's own, from 0.
        for (atc, from, to) in [(true, 1000.0, 1030.0), (false, 0.0, 0.3)] {
            let server = if atc {
                ServerProcess::start_with(bin, "play { atc on; }")
            } else {
                ServerProcess::start(bin)
            };
            let _publisher = publish_looping(&media, &server.rtmp_url("atc"), &offset);
            wait_live(&server, "atc");
            std::thread::sleep(Duration::from_millis(4500));
            for url in [server.rtmp_url("atc"), server.http_url("/live/atc.flv")] {
                // ffprobe reports the times the server sent.
                let found = tracks(&url);
                for kind in ["audio", "video"] {
                    let start = found
                        .iter()
                        .find(|(t, _, _)| t == kind)
                        .map(|(_, _, s)| *s)
                        .unwrap_or_else(|| panic!("atc {atc}, {url}: no {kind}: {found:?}"));
                    assert!(
                        (from..to).contains(&start),
                        "atc {atc}, {url}: {kind} starts at {start}, not in {from}..{to}: {found:?}"
                    );
                }
            }
        }
    });
}

#[test]
fn a_player_that_pauses_resumes_on_a_timeline_that_only_goes_forward() {
    use rtmp_proto::command::Command;
    use rtmp_proto::session::ClientEvent;
    use rtmp_proto::MessageType;
    if !have("ffmpeg") {
        return;
    }
    let media = media(Media::AvcAac);
    each_server(|bin| {
        let server = ServerProcess::start(bin);
        let _publisher = publish_live_looping(&server, &media, "pause");
        std::thread::sleep(Duration::from_millis(3000));
        let mut player = TestClient::connect(server.rtmp, "live");
        player.session.create_stream();
        let mut sid = None;
        player.pump_until(Duration::from_secs(10), |e| match e {
            ClientEvent::StreamCreated { stream_id, .. } => {
                sid = Some(*stream_id);
                true
            }
            _ => false,
        });
        let sid = sid.expect("createStream answered");
        player.session.play(sid, "pause");
        // (track, timestamp) of every audio and video message, in order.
        let mut got: Vec<(MessageType, u64)> = Vec::new();
        /// Pumps until `frames` more audio or video messages arrived.
        fn media_until(player: &mut TestClient, got: &mut Vec<(MessageType, u64)>, frames: usize) {
            let mut n = 0;
            let ok = player.pump_until(Duration::from_secs(15), |e| {
                if let ClientEvent::Media { message, .. } = e {
                    got.push((message.type_id, message.timestamp));
                    n += 1;
                }
                n >= frames
            });
            assert!(ok, "no media: {}", player.gave_up);
        }
        media_until(&mut player, &mut got, 60);
        let pause = |player: &mut TestClient, paused: bool| {
            player.session.send_command(
                sid,
                &Command::Pause {
                    transaction_id: 0.0,
                    paused,
                    position_ms: 0.0,
                },
            );
        };
        pause(&mut player, true);
        // Paused for 3 s: what still arrives was in flight.
        player.pump_until(Duration::from_secs(3), |_| false);
        pause(&mut player, false);
        let before = got.len();
        media_until(&mut player, &mut got, 60);
        assert!(got.len() > before);
        for kind in [MessageType::Audio, MessageType::Video] {
            let times: Vec<u64> = got
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, t)| *t)
                .collect();
            assert!(times[0] < 300, "{kind:?} starts at {}", times[0]);
            assert!(
                times.windows(2).all(|w| w[0] <= w[1]),
                "{kind:?} went back: {times:?}"
            );
        }
    });
}
