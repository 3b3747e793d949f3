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
    // The first video message a player gets is the sequence header, then a key frame.
    let first_video = player
        .entries
        .iter()
        .filter(|e| e.side == conformance::transcript::Side::Server)
        .filter(|e| e.msg.type_id == rtmp_proto::MessageType::Video)
        .take(2)
        .map(|e| sim::client::classify(e.msg.type_id, &e.msg.payload))
        .collect::<Vec<_>>();
    assert_eq!(first_video, vec![(true, true), (true, false)], "{text}");
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
