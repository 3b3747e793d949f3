//! Edge (`cluster { mode remote; }`): a thundering herd of 100 players
//! arriving at the same instant on an edge opens exactly one upstream
//! connection to the origin, and the upstream closes `idle_timeout` after
//! the last player left. Two real servers on two simulated hosts, virtual
//! time.

mod scenario_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use scenario_support::{secs, start, Synthetic};
use server_core::hub::StreamKey;
use server_core::{ListenerKind, Server};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::runtime::SimRuntime;
use sim::Sim;

/// The origin server's host.
const ORIGIN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// Clients of `server` playing `key`.
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
fn a_hundred_players_at_once_open_one_upstream_which_closes_after_they_leave() {
    let mut sim = Sim::from_env(53);
    let config = server_core::config::parse_str(
        "origin.conf",
        "listen 1935;\nvhost __defaultVhost__ {\n}\n",
    )
    .expect("origin config");
    let origin = Server::start(SimRuntime::new(sim.host(ORIGIN)), config).expect("origin starts");
    let origin_rtmp: SocketAddr = origin.addrs(ListenerKind::Rtmp)[0];
    let (edge, edge_rtmp) = start(
        &sim,
        Some(&format!(
            "cluster {{ mode remote; origin {origin_rtmp}; idle_timeout 3; }}"
        )),
    );
    let _publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        origin_rtmp,
        PublisherOptions::new("live", "herd").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(60)),
    );
    sim.run_for(Duration::from_millis(500)).unwrap();

    // 100 players in the same instant, from 100 hosts.
    let herd: Vec<SimPlayer> = (0..100u8)
        .map(|i| {
            let mut opts = PlayerOptions::new("live", "herd");
            opts.keep_records = false;
            SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, i + 1)), edge_rtmp, opts)
        })
        .collect();
    sim.run_for(secs(10)).unwrap();
    let key = StreamKey {
        vhost: "__defaultVhost__".into(),
        app: "live".into(),
        stream: "herd".into(),
    };
    assert_eq!(players(&edge, &key), 100);
    assert_eq!(players(&origin, &key), 1, "the origin sees only the edge");
    for (i, p) in herd.iter().enumerate() {
        let log = p.log();
        assert!(log.is_clean(), "player {i}: {:?}", log.first_problem);
        assert!(log.frames >= 24 * 5, "player {i} got {} frames", log.frames);
    }
    let status = edge.ctx().edges.status(&key).expect("the edge pulls");
    assert_eq!(status.players, 100, "{status:?}");
    assert_eq!(status.retries, 0, "{status:?}");

    // Everyone leaves: the upstream stays through the grace period, then
    // closes.
    for p in &herd {
        p.abort();
    }
    sim.run_for(secs(1)).unwrap();
    assert_eq!(players(&edge, &key), 0);
    assert_eq!(players(&origin, &key), 1, "kept during idle_timeout");
    sim.run_for(secs(4)).unwrap();
    assert_eq!(players(&origin, &key), 0, "closed after idle_timeout");
    assert!(edge.ctx().edges.status(&key).is_none());
}
