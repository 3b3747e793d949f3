//! Forward to a destination that stalls: the origin's players never slow
//! down, the forward is dropped on its write-stall bound and retried, and
//! a destination that is fast again gets the stream from a key frame.
//! Two real servers on two simulated hosts, virtual time.

mod scenario_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use scenario_support::{secs, start, Synthetic, SERVER};
use server_core::{ListenerKind, Server};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::runtime::SimRuntime;
use sim::LinkConfig;
use sim::Sim;

/// The destination server's host.
const DEST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

#[test]
fn a_destination_that_stalls_never_slows_the_players() {
    let mut sim = Sim::from_env(47);
    let config =
        server_core::config::parse_str("dest.conf", "listen 1935;\nvhost __defaultVhost__ {\n}\n")
            .expect("destination config");
    let dest = Server::start(SimRuntime::new(sim.host(DEST)), config).expect("destination starts");
    let dest_rtmp: SocketAddr = dest.addrs(ListenerKind::Rtmp)[0];
    // The origin-destination link carries 300 bytes a second into a small
    // buffer: the stream (about 4 KB/s) cannot get through.
    sim.handle().set_link(
        SERVER,
        DEST,
        LinkConfig::default()
            .with_bandwidth(300)
            .with_buffer(8 * 1024),
    );
    let (origin, rtmp) = start(
        &sim,
        Some(&format!(
            "forward {{ enabled on; destination {dest_rtmp}; }}"
        )),
    );
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(60)),
    );
    sim.run_for(Duration::from_millis(500)).unwrap();
    let mut opts = PlayerOptions::new("live", "cam");
    opts.expect = Some(publisher.shared_log());
    opts.keep_records = false;
    let player = SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, 1)), rtmp, opts);

    // 25 s: the forward stalls on its link and is dropped at least once;
    // the player gets every frame in real time all along.
    sim.run_for(secs(25)).unwrap();
    let log = player.log();
    assert!(log.is_clean(), "{:?}", log.first_problem);
    assert!(log.frames >= 24 * 25, "player got {} frames", log.frames);
    let key = origin.ctx().hub.sources()[0].key.clone();
    let status = origin.ctx().forwards.status(&key);
    assert_eq!(status.len(), 1, "{status:?}");
    assert!(status[0].retries >= 1, "{status:?}");
    assert!(
        status[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("stall") || e.contains("setup")),
        "{status:?}"
    );

    // The link recovers: the forward reconnects and the destination has
    // the stream, its players starting from a key frame.
    sim.handle().set_link(SERVER, DEST, LinkConfig::default());
    sim.run_for(secs(20)).unwrap();
    let mut opts = PlayerOptions::new("live", "cam");
    opts.expect = Some(publisher.shared_log());
    opts.keep_records = false;
    let far = SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, 2)), dest_rtmp, opts);
    sim.run_for(secs(5)).unwrap();
    let far_log = far.log();
    assert!(far_log.is_clean(), "{:?}", far_log.first_problem);
    assert!(
        far_log.frames >= 4 * 25,
        "destination player got {} frames",
        far_log.frames
    );
    assert!(
        far_log.first_frame.as_ref().is_some_and(|f| f.keyframe),
        "{:?}",
        far_log.first_frame
    );
    let log = player.log();
    assert!(log.is_clean(), "{:?}", log.first_problem);
    let status = origin.ctx().forwards.status(&key);
    assert_eq!(
        status[0].state,
        server_core::forward::ForwardState::Forwarding,
        "{status:?}"
    );
}
