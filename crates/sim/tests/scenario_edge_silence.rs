//! Edge upstream silence: the first origin's stream goes silent (its
//! encoder hangs with the connection open, so the origin never unpublishes
//! it); after `edge::SILENCE_TIMEOUT` the edge abandons that origin for the
//! second one, which has the stream, and its player goes on from the second
//! origin's key frame without leaving. Three real servers on simulated
//! hosts, virtual time.

mod scenario_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use rtmp_proto::message::MessageType;
use scenario_support::{secs, start, Synthetic};
use server_core::edge::SILENCE_TIMEOUT;
use server_core::hub::StreamKey;
use server_core::{ListenerKind, Server};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::runtime::SimRuntime;
use sim::Sim;

const ORIGIN_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const ORIGIN_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

/// An origin that keeps a silent publisher for a minute (so only the edge's
/// own timeout can notice the silence).
fn origin(sim: &Sim, ip: Ipv4Addr) -> (Server, SocketAddr) {
    let config = server_core::config::parse_str(
        "origin.conf",
        "listen 1935;\nvhost __defaultVhost__ {\n    publish { normal_timeout 60000; }\n}\n",
    )
    .expect("origin config");
    let server = Server::start(SimRuntime::new(sim.host(ip)), config).expect("origin starts");
    let rtmp = server.addrs(ListenerKind::Rtmp)[0];
    (server, rtmp)
}

fn players(server: &Server, key: &StreamKey) -> usize {
    server
        .ctx()
        .hub
        .clients()
        .iter()
        .filter(|c| !c.kind().is_publish() && c.details().stream.as_ref() == Some(key))
        .count()
}

#[test]
fn an_origin_gone_silent_is_left_for_the_next_and_the_player_goes_on() {
    let mut sim = Sim::from_env(71);
    let (a, a_rtmp) = origin(&sim, ORIGIN_A);
    let (b, b_rtmp) = origin(&sim, ORIGIN_B);
    let (edge, edge_rtmp) = start(
        &sim,
        Some(&format!(
            "cluster {{ mode remote; origin {a_rtmp} {b_rtmp}; idle_timeout 3; }}"
        )),
    );
    // A's encoder sends 4 s, then hangs; B's runs on.
    let _hung = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        a_rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(4)),
    );
    let _backup = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 2)),
        b_rtmp,
        PublisherOptions::new("live", "cam").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(60)),
    );
    sim.run_for(Duration::from_millis(500)).unwrap();
    let player = SimPlayer::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 2, 1)),
        edge_rtmp,
        PlayerOptions::new("live", "cam"),
    );
    sim.run_for(secs(20)).unwrap();

    let key = StreamKey {
        vhost: "__defaultVhost__".into(),
        app: "live".into(),
        stream: "cam".into(),
    };
    let status = edge.ctx().edges.status(&key).expect("the edge pulls");
    assert_eq!(status.origin, b_rtmp.to_string(), "{status:?}");
    assert!(status.retries >= 1, "{status:?}");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no media")),
        "{status:?}"
    );
    assert_eq!(players(&a, &key), 0, "the silent origin was let go");
    assert_eq!(players(&b, &key), 1, "one upstream on the second origin");
    assert!(
        a.ctx().hub.clients().iter().any(|c| c.kind().is_publish()),
        "A's hung encoder is still connected (only the edge noticed)"
    );

    // The player stayed, and went on from a key frame after the silence.
    let log = player.log();
    assert!(log.ended.is_none(), "the player left: {:?}", log.ended);
    let video: Vec<_> = log
        .records
        .iter()
        .filter(|r| r.kind == MessageType::Video && !r.sequence_header)
        .collect();
    let gap = video
        .windows(2)
        .position(|w| w[1].at.saturating_sub(w[0].at) >= SILENCE_TIMEOUT)
        .unwrap_or_else(|| panic!("no silence seen by the player"));
    let before = video[gap];
    // The second origin's stream begins with its sequence headers (the
    // first origin's last frames, parked in the edge's merge window, may
    // come with it); the first frame after them is a key frame.
    let headers = log
        .records
        .iter()
        .position(|r| r.at > before.at && r.kind == MessageType::Video && r.sequence_header)
        .expect("the second origin's sequence header");
    let after = log.records[headers..]
        .iter()
        .find(|r| r.kind == MessageType::Video && !r.sequence_header)
        .expect("video from the second origin");
    assert!(after.keyframe, "resumed on a non-key frame: {after:?}");
    let switch = log.records[headers].at.saturating_sub(before.at);
    assert!(
        switch < SILENCE_TIMEOUT + secs(4),
        "the switch took {switch:?}"
    );
    let last = log.last_frame.expect("frames");
    assert!(
        last.at >= secs(19),
        "no media at the end: last at {:?}",
        last.at
    );
}
