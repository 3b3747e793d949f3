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
