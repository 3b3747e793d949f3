//! Replays of the project's own captures of real clients against
//! `rtmp-server` (see `captures/README.md` for how each was recorded).
//! Publishers must produce HLS; players replayed next to their publisher
//! must receive media from a key frame on, with timestamps that never go back.

mod common;

use conformance::Report;

fn check_publisher(report: &Report) {
    assert!(
        !report.hls.playlists.is_empty(),
        "no playlist:\n{}",
        report.render()
    );
    assert!(!report.hls.segments.is_empty(), "no segments");
    assert_eq!(report.hls.ts_sha256.len(), 64);
    assert!(report.hls.dts_monotonic(), "{}", report.hls.render());
    let calls = report.calls();
    assert!(
        calls.contains("onStatus NetStream.Publish.Start"),
        "{calls}"
    );
}

fn check_player(report: &Report) {
    check_player_of(report, 1);
}

/// As [`check_player`], for a stream of `renditions` video tracks: that
/// many sequence headers (one per rendition) come before the key frame.
fn check_player_of(report: &Report, renditions: usize) {
    let player = report.flows.last().expect("a player flow");
    let text = player.render();
    assert!(text.contains("NetStream.Play.Start"), "{text}");
    let media = text
        .split("media received by the client:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("the player got no media:\n{text}"));
    assert!(
        media.contains("video x") && media.contains("audio x"),
        "{media}"
    );
    assert!(!media.contains("BACKWARDS"), "{media}");
    // The first video messages a player gets are the sequence headers, then a key frame.
    let first_video = player
        .entries
        .iter()
        .filter(|e| e.side == conformance::transcript::Side::Server)
        .filter(|e| e.msg.type_id == rtmp_proto::MessageType::Video)
        .take(renditions + 1)
        .map(|e| sim::client::classify(e.msg.type_id, &e.msg.payload))
        .collect::<Vec<_>>();
    let mut expected = vec![(true, true); renditions];
    expected.push((true, false));
    assert_eq!(first_video, expected, "{text}");
}

#[test]
fn ffmpeg_publish() {
    let report = common::replay(&common::own_capture("ffmpeg_publish.pcapng"));
    check_publisher(&report);
    insta::assert_snapshot!("ffmpeg_publish", report.render());
}

#[test]
fn gstreamer_publish() {
    let report = common::replay(&common::own_capture("gst_publish.pcapng"));
    check_publisher(&report);
    insta::assert_snapshot!("gst_publish", report.render());
}

#[test]
fn ffmpeg_play() {
    let report = common::replay(&common::own_capture("ffmpeg_play.pcapng"));
    assert_eq!(report.flows.len(), 2, "publisher and player");
    check_publisher(&report);
    check_player(&report);
    insta::assert_snapshot!("ffmpeg_play", report.render());
}

#[test]
fn rtmpdump_play() {
    let report = common::replay(&common::own_capture("rtmpdump_play.pcapng"));
    check_player(&report);
    insta::assert_snapshot!("rtmpdump_play", report.render());
}

#[test]
fn gstreamer_play() {
    let report = common::replay(&common::own_capture("gst_play.pcapng"));
    check_player(&report);
    insta::assert_snapshot!("gst_play", report.render());
}

/// The E-RTMP v2 tracks a flow's media run shows (`tracks #0 x.. #1 x..`),
/// for `kind` (`video` or `audio`) on the given line prefix.
fn tracks_of<'a>(text: &'a str, line_prefix: &str, kind: &str) -> Vec<&'a str> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(line_prefix) && l.contains(&format!("{kind} x")))
        .unwrap_or_else(|| panic!("no {kind} run after {line_prefix:?}:\n{text}"));
    let run = line
        .split(&format!("{kind} x"))
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_default();
    run.split("tracks ")
        .nth(1)
        .map(|t| t.split(' ').filter(|w| w.starts_with('#')).collect())
        .unwrap_or_default()
}

/// The modern ffmpeg (9) publishing E-RTMP v2 multitrack: two H.264
/// renditions and two AAC tracks. HLS slices track 0 (and writes a
/// playlist per track).
#[test]
fn ffmpeg9_multitrack_publish() {
    let report = common::replay(&common::own_capture("ffmpeg9_multitrack_publish.pcapng"));
    check_publisher(&report);
    let text = report.flows[0].render();
    for kind in ["video", "audio"] {
        assert_eq!(tracks_of(&text, "C: ...", kind), ["#0", "#1"], "{text}");
    }
    let hls = report.hls.render();
    assert!(hls.contains("live/multi.m3u8"), "{hls}");
    insta::assert_snapshot!("ffmpeg9_multitrack_publish", report.render());
}

/// The modern ffmpeg plays the multitrack stream announcing E-RTMP
/// (`fourCcList`): it is sent every track of both kinds, from a key frame.
#[test]
fn ffmpeg9_multitrack_play() {
    let report = common::replay(&common::own_capture("ffmpeg9_multitrack_play.pcapng"));
    assert_eq!(report.flows.len(), 2, "publisher and player");
    check_publisher(&report);
    check_player_of(&report, 2);
    let player = report.flows[1].render();
    assert!(player.contains("fourCcList="), "{player}");
    for kind in ["video", "audio"] {
        assert_eq!(tracks_of(&player, "S: ...", kind), ["#0", "#1"], "{player}");
    }
    insta::assert_snapshot!("ffmpeg9_multitrack_play", report.render());
}
