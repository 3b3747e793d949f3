//! Config reloads while a publisher and its players run: every player gets
//! every frame, in order, without a gap, across reloads that switch HLS on
//! for the running stream, change the chunk size and the HLS fragment, add a
//! listener and switch HLS off again; HLS starts without a republish, goes on
//! in the same playlist when its options change, and stops with its last
//! segment listed.

mod scenario_support;

use std::net::Ipv4Addr;
use std::sync::Arc;

use scenario_support::{secs, segments, start, Synthetic};
use server_core::config::Config;
use server_core::server::{ListenerKind, Server};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::Sim;

const PLAYLIST: &str = "objs/nginx/html/live/livestream.m3u8";

fn config(listen: &str, vhost_body: &str) -> Config {
    let listen = if listen.is_empty() {
        "listen 1935;"
    } else {
        listen
    };
    server_core::config::parse_str(
        "scenario.conf",
        &format!("{listen}\nmax_connections 5000;\nvhost __defaultVhost__ {{\n{vhost_body}\n}}\n"),
    )
    .expect("scenario config parses")
}

/// Applies `config` as a reload would, and waits for it to finish.
fn reload(
    sim: &mut Sim,
    server: &Arc<Server>,
    config: Config,
) -> server_core::reload::ReloadReport {
    let ctx = server.ctx().clone();
    sim.block_on(async move { server_core::reload::apply(&ctx, config).await })
        .expect("reload runs")
}

#[test]
fn players_connected_across_reloads_lose_no_frame() {
    let mut sim = Sim::from_env(41);
    let (server, rtmp) = start(&sim, Some("hls { enabled off; }"));
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(30)),
    );
    sim.run_for(secs(1)).unwrap();
    let players: Vec<SimPlayer> = (0..3)
        .map(|i| {
            let mut opts = PlayerOptions::new("live", "livestream");
            opts.expect = Some(publisher.shared_log());
            opts.stop_at = Some(secs(32));
            SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, i)), rtmp, opts)
        })
        .collect();
    sim.run_for(secs(3)).unwrap();
    assert!(sim.fs().read(PLAYLIST).is_none(), "HLS while off");

    // HLS on for the running stream, a smaller chunk size for new players.
    let report = reload(
        &mut sim,
        &server,
        config("", "hls { enabled on; hls_fragment 2; }\nchunk_size 4096;"),
    );
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.changes.len(), 2, "{:?}", report.changes);
    sim.run_for(secs(7)).unwrap();
    let on = segments(&sim, PLAYLIST);
    assert!(
        on.len() >= 2,
        "no HLS after the reload: {} segments",
        on.len()
    );

    // A second RTMP listener; a player joins through it.
    let report = reload(
        &mut sim,
        &server,
        config(
            "listen 1935 1936;",
            "hls { enabled on; hls_fragment 3; }\nchunk_size 4096;",
        ),
    );
    assert_eq!(report.started.len(), 1, "{report:?}");
    assert_eq!(report.started[0].0, ListenerKind::Rtmp);
    let second = report.started[0].1;
    let mut opts = PlayerOptions::new("live", "livestream");
    opts.stop_at = Some(secs(32));
    let late = SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 3, 1)), second, opts);
    sim.run_for(secs(4)).unwrap();

    // Back to the start: HLS off, the second listener gone.
    let report = reload(&mut sim, &server, config("", "hls { enabled off; }"));
    assert_eq!(report.stopped.len(), 1, "{report:?}");
    sim.run_for(secs(2)).unwrap();
    let off = segments(&sim, PLAYLIST);
    sim.run_for(secs(6)).unwrap();
    let names = |v: &[(String, bytes::Bytes)]| v.iter().map(|s| s.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&segments(&sim, PLAYLIST)),
        names(&off),
        "HLS goes on while off"
    );
    assert!(off.len() > on.len());
    // hls_fragment changed under the running stream: the same playlist goes
    // on (its first segments kept, numbering continued), the cut marked.
    assert_eq!(
        names(&off[..on.len()]),
        names(&on),
        "the playlist started over"
    );
    let text = String::from_utf8(sim.fs().read(PLAYLIST).expect("playlist").to_vec()).unwrap();
    assert!(text.contains("#EXT-X-DISCONTINUITY\n"), "{text}");

    sim.run_until(secs(31)).unwrap();
    for (i, player) in players.iter().enumerate() {
        player.with_log(|l| {
            assert!(l.is_clean(), "player {i}: {:?}", l.first_problem);
            assert!(l.ended.is_none(), "player {i} ended: {:?}", l.ended);
            // 30 s of 25 fps video and ~21.5 audio frames a second, less the
            // first second and the last moments.
            assert!(l.frames > 1200, "player {i}: {} frames", l.frames);
        });
    }
    late.with_log(|l| {
        assert!(
            l.frames > 500,
            "the player of the added listener: {} frames",
            l.frames
        );
        assert!(l.ended.is_none(), "{:?}", l.ended);
    });
}
