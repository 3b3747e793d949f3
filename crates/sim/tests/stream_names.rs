//! Stream names come from the network and HLS turns them into file paths: a
//! publisher naming its stream `../../x` must be refused, write nothing
//! outside `hls_path`, and not disturb a stream published properly beside it.

mod scenario_support;

use std::net::Ipv4Addr;
use std::path::Path;

use scenario_support::{secs, start, Synthetic};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::Sim;

const HLS: &str = "hls { enabled on; hls_path /srv/hls; hls_fragment 2; }";

#[test]
fn names_that_leave_hls_path_are_refused_and_write_nothing() {
    let mut sim = Sim::from_env(21);
    let (_server, rtmp) = start(&sim, Some(HLS));
    let media = Synthetic::default();
    let good = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "good").ending(PublishEnd::Hold),
        media.messages(secs(10)),
    );
    let bad: Vec<(String, SimPublisher)> = [
        ("live", "../../outside/pwn"),
        ("live", "/abs/pwn"),
        ("live/../..", "pwn"),
        ("live", ""),
    ]
    .iter()
    .enumerate()
    .map(|(i, (app, stream))| {
        let host = sim.host(Ipv4Addr::new(10, 0, 2, 1 + i as u8));
        let publisher = SimPublisher::spawn(
            &host,
            rtmp,
            PublisherOptions::new(app, stream).ending(PublishEnd::Hold),
            media.messages(secs(10)),
        );
        (format!("{app}/{stream}"), publisher)
    })
    .collect();
    let player = SimPlayer::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 3, 1)),
        rtmp,
        PlayerOptions::new("live", "../../outside/pwn"),
    );
    sim.run_for(secs(12)).unwrap();

    for (name, publisher) in &bad {
        let statuses: Vec<String> = publisher
            .log()
            .statuses
            .iter()
            .map(|(_, code)| code.clone())
            .collect();
        assert!(
            statuses.iter().any(|c| c == "NetStream.Publish.BadName"),
            "{name}: {statuses:?}"
        );
        assert!(
            !statuses.iter().any(|c| c == "NetStream.Publish.Start"),
            "{name}: {statuses:?}"
        );
    }
    // Playing any name stays allowed (players write no files; real players
    // send empty names and whole URLs); such a stream just never starts.
    player.with_log(|l| assert_eq!(l.frames, 0, "{:?}", l.statuses));

    let files = sim.fs().files();
    let outside: Vec<_> = files
        .iter()
        .filter(|p| !p.starts_with("/srv/hls") || p.components().any(|c| c.as_os_str() == ".."))
        .collect();
    assert!(outside.is_empty(), "written outside hls_path: {outside:?}");
    // The proper stream beside them was sliced as usual.
    assert!(
        files
            .iter()
            .any(|p| p == Path::new("/srv/hls/live/good.m3u8")),
        "{files:?}"
    );
    assert!(good
        .log()
        .statuses
        .iter()
        .any(|(_, c)| c == "NetStream.Publish.Start"));
}

#[test]
fn two_streams_whose_files_would_coincide_do_not_share_them() {
    // `live` + `cam/x` and `live/cam` + `x` are different streams, but
    // `[app]/[stream]` makes the same paths of both.
    let mut sim = Sim::from_env(22);
    let (server, rtmp) = start(&sim, Some(HLS));
    let media = Synthetic::default();
    let first = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "cam/x").ending(PublishEnd::Hold),
        media.messages(secs(10)),
    );
    sim.run_for(secs(1)).unwrap();
    let second = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 2)),
        rtmp,
        PublisherOptions::new("live/cam", "x").ending(PublishEnd::Hold),
        media.messages(secs(10)),
    );
    sim.run_for(secs(8)).unwrap();
    // Both publish; only the first is sliced.
    for p in [&first, &second] {
        assert!(p
            .log()
            .statuses
            .iter()
            .any(|(_, c)| c == "NetStream.Publish.Start"));
    }
    let active: Vec<String> = server
        .ctx()
        .hls
        .active()
        .iter()
        .map(|k| format!("{}/{}", k.app, k.stream))
        .collect();
    assert_eq!(active, ["live/cam/x"]);
    let sliced = server.ctx().hls.active();
    assert_eq!(sliced[0].app, "live", "{sliced:?}");
    assert!(sim
        .fs()
        .files()
        .iter()
        .any(|p| p == Path::new("/srv/hls/live/cam/x.m3u8")));
}

#[test]
fn oversized_tc_urls_and_play_names_are_refused() {
    let mut sim = Sim::from_env(23);
    let (server, rtmp) = start(&sim, None);
    let long_app = "a".repeat(5000);
    let long_stream = "s".repeat(2000);
    let by_tc_url = SimPlayer::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 3, 1)),
        rtmp,
        PlayerOptions::new(&long_app, "x"),
    );
    let by_name = SimPlayer::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 3, 2)),
        rtmp,
        PlayerOptions::new("live", &long_stream),
    );
    let fine = SimPlayer::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 3, 3)),
        rtmp,
        PlayerOptions::new("live", &"s".repeat(1000)),
    );
    sim.run_for(secs(2)).unwrap();
    let refused = by_tc_url.result().map(|r| r.map_err(|e| e.to_string()));
    assert_eq!(
        refused,
        Some(Err("refused: NetConnection.Connect.Rejected".to_string()))
    );
    by_name.with_log(|l| {
        assert!(
            l.statuses
                .iter()
                .any(|(_, c)| c == "NetStream.Play.StreamNotFound"),
            "{:?}",
            l.statuses
        )
    });
    // A long but bounded name still plays (waits for its publisher).
    fine.with_log(|l| {
        assert!(
            l.statuses
                .iter()
                .all(|(_, c)| c != "NetStream.Play.StreamNotFound"),
            "{:?}",
            l.statuses
        )
    });
    let sources: Vec<usize> = server
        .ctx()
        .hub
        .sources()
        .iter()
        .map(|s| s.key.stream.len())
        .collect();
    assert_eq!(sources, [1000], "only the bounded name keys a source");
}
