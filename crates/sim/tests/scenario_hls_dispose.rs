//! `hls_dispose` without a waiting task: a stopped stream's HLS sink ends
//! after the republish grace (10 s), its segmenter is parked, and the
//! server's housekeeping removes the files once `hls_dispose` has passed
//! (issue 23 §4: a dead name keeps no task, consumer or source for SRS's
//! 120 s). A republish before that continues the playlist's numbering.

mod scenario_support;

use std::net::Ipv4Addr;

use scenario_support::{secs, segments, start, Synthetic};
use sim::client::{PublishEnd, PublisherOptions, SimPublisher};
use sim::Sim;

const PLAYLIST: &str = "/hls/live/cam.m3u8";
const CONFIG: &str =
    "hls { enabled on; hls_path /hls; hls_fragment 2; hls_window 60; hls_dispose 40; }";

/// Media sequence of the playlist's first segment and its segment count.
fn listing(sim: &Sim) -> (u64, usize) {
    let text = String::from_utf8(sim.fs().read(PLAYLIST).expect("playlist").to_vec()).unwrap();
    let first = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .and_then(|n| n.parse().ok())
        .expect("media sequence");
    (first, segments(sim, PLAYLIST).len())
}

fn publish(sim: &Sim, host: u8, rtmp: std::net::SocketAddr) -> SimPublisher {
    SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 0, host)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Unpublish),
        Synthetic::default().messages(secs(9)),
    )
}

#[test]
fn parked_stream_keeps_no_sink_and_its_files_go_at_hls_dispose() {
    let mut sim = Sim::from_env(61);
    let (server, rtmp) = start(&sim, Some(CONFIG));
    let t0 = sim.now();
    let first = publish(&sim, 2, rtmp);
    sim.run_until(t0 + secs(12)).unwrap();
    assert!(first.is_finished(), "publisher still running");
    let (_, listed) = listing(&sim);
    assert!(listed >= 4, "{listed} segments after 9 s of 2 s GOPs");
    assert!(!server.ctx().hls.active().is_empty(), "sink ended at once");

    // Past the republish grace: no sink runs, the files stay.
    sim.run_until(t0 + secs(25)).unwrap();
    assert!(
        server.ctx().hls.active().is_empty(),
        "the sink still waits for a republish"
    );
    assert_eq!(listing(&sim).1, listed, "files changed before hls_dispose");

    // After hls_dispose (40 s from the unpublish, plus one housekeeping
    // period): the playlist and every segment are gone.
    sim.run_until(t0 + secs(9 + 40 + 11)).unwrap();
    let left = sim.fs().files_under("/hls");
    assert!(left.is_empty(), "hls_dispose left {left:?}");
}

#[test]
fn a_republish_after_the_sink_ended_continues_the_playlist() {
    let mut sim = Sim::from_env(62);
    let (server, rtmp) = start(&sim, Some(CONFIG));
    let t0 = sim.now();
    let _first = publish(&sim, 2, rtmp);
    sim.run_until(t0 + secs(25)).unwrap();
    assert!(server.ctx().hls.active().is_empty());
    let (_, before) = listing(&sim);

    let t1 = sim.now();
    let second = publish(&sim, 3, rtmp);
    sim.run_until(t1 + secs(12)).unwrap();
    assert!(second.is_finished());
    let (first_seq, after) = listing(&sim);
    assert_eq!(
        first_seq, 0,
        "the window (60 s) still starts at the first segment"
    );
    assert!(
        after > before,
        "the republish's segments follow the first ones: {before} then {after}"
    );
    let text = String::from_utf8(sim.fs().read(PLAYLIST).unwrap().to_vec()).unwrap();
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1, "{text}");

    // Its dispose time counts from the second unpublish: at the first
    // one's (40 s after it) the files are still there.
    sim.run_until(t0 + secs(9 + 40 + 11)).unwrap();
    assert_eq!(listing(&sim).1, after);
    sim.run_until(t1 + secs(9 + 40 + 11)).unwrap();
    assert!(sim.fs().files_under("/hls").is_empty());
}
