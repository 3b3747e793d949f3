//! How the HLS sink writes a segment (issue 22): its temp file is opened
//! once and every piece goes through that open file, where each batch of
//! pieces used to open the file anew (a name lookup under the shared
//! directory's lock, contended with hundreds of publishers). No temp file
//! is left once the stream ends, and every listed segment holds all its bytes.

mod scenario_support;

use std::net::Ipv4Addr;

use scenario_support::{secs, segments, start, Synthetic};
use sim::client::{PublishEnd, PublisherOptions, SimPublisher};
use sim::Sim;

const PLAYLIST: &str = "/hls/live/cam.m3u8";

#[test]
fn each_segment_is_written_through_one_open_file() {
    let mut sim = Sim::from_env(71);
    let (_server, rtmp) = start(
        &sim,
        Some("hls { enabled on; hls_path /hls; hls_fragment 2; hls_window 60; }"),
    );
    let t0 = sim.now();
    // 12 KB frames at 25 fps: 600 KB a 2 s segment, more than one batch
    // (and more than the 512 KiB the sink once held before each append).
    let media = Synthetic {
        video_bytes: 12_000,
        ..Synthetic::default()
    };
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 0, 2)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Unpublish),
        media.messages(secs(9)),
    );
    sim.run_until(t0 + secs(12)).unwrap();
    assert!(publisher.is_finished(), "publisher still running");

    let listed = segments(&sim, PLAYLIST);
    assert!(listed.len() >= 4, "{} segments after 9 s", listed.len());
    let fs = sim.fs();
    let large = listed.iter().filter(|(_, d)| d.len() > 512 * 1024).count();
    assert!(large >= 3, "{large} segments over 512 KiB");
    for (uri, _) in &listed {
        let tmp = format!("/hls/live/{uri}.tmp");
        assert_eq!(fs.opens(&tmp), 1, "{tmp} opened more than once");
        assert_eq!(
            fs.opens(format!("/hls/live/{uri}")),
            0,
            "{uri} written by name"
        );
    }
    let left: Vec<_> = fs
        .files_under("/hls")
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temp files left: {left:?}");
}
