//! The real `server-core` inside the simulator.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{AsyncReadExt, AsyncWriteExt};
use server_core::{Config, ListenerKind, Server};
use sim::client::{
    MediaTags, PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher,
};
use sim::runtime::SimRuntime;
use sim::{LinkConfig, Sim};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Starts the server with its default config on the simulated host 10.0.0.1.
fn start(sim: &Sim) -> (Arc<Server>, SocketAddr) {
    let rt = SimRuntime::new(sim.host(SERVER));
    let server = Server::start(rt, Config::default()).expect("server starts");
    let rtmp = server.addrs(ListenerKind::Rtmp)[0];
    assert_eq!(rtmp, SocketAddr::from((SERVER, 1935)));
    (Arc::new(server), rtmp)
}

fn bbb() -> Option<MediaTags> {
    let data = common::corpus_file("media/srs_bbb.flv")?;
    Some(MediaTags::from_flv(data).unwrap())
}

#[test]
fn server_answers_the_handshake() {
    let mut sim = Sim::from_env(1);
    let (_server, rtmp) = start(&sim);
    let host = sim.host(Ipv4Addr::new(10, 0, 1, 1));
    let mut c0c1 = vec![0u8; 1537];
    c0c1[0] = 3;
    sim.fill_random(&mut c0c1[9..]);
    c0c1[5..9].fill(0);
    let sent = c0c1.clone();
    let h = sim.handle();
    let reply = sim
        .block_on(async move {
            let mut conn = host.connect(rtmp).await.unwrap();
            conn.write_all(&sent).await.unwrap();
            let mut s0s1s2 = vec![0u8; 3073];
            h.timeout(secs(5), conn.read_exact(&mut s0s1s2))
                .await
                .expect("S0S1S2 within 5 s")
                .unwrap();
            s0s1s2
        })
        .unwrap();
    assert_eq!(reply[0], 3, "S0 is version 3");
    // Simple handshake (C1 version bytes are zero): S2 echoes C1's random
    // bytes (spec 5.2.4; bytes 4..8 are the peer's read time).
    assert_eq!(&reply[1537 + 8..], &c0c1[1 + 8..]);
}

#[test]
fn a_client_trickling_its_handshake_is_dropped_after_the_idle_timeout() {
    let mut sim = Sim::from_env(2);
    let (server, rtmp) = start(&sim);
    let host = sim.host(Ipv4Addr::new(10, 0, 1, 1));
    let h = sim.handle();
    // One byte of C0C1 every 20 s: each read alone is well inside the timeout.
    let closed_at = sim
        .block_on(async move {
            let mut conn = host.connect(rtmp).await.unwrap();
            for _ in 0..20 {
                if conn.write_all(&[3]).await.is_err() {
                    break;
                }
                h.sleep(secs(20)).await;
                let mut probe = [0u8; 1];
                if let Some(Ok(0) | Err(_)) = h.timeout(Duration::ZERO, conn.read(&mut probe)).await
                {
                    break;
                }
            }
            h.now()
        })
        .unwrap();
    let limit = server_core::rtmp_conn::IDLE_TIMEOUT;
    assert!(
        closed_at <= limit + secs(20),
        "still open at {closed_at:?} (idle limit {limit:?})"
    );
    assert_eq!(server.ctx().hub.clients().len(), 0);
}

#[test]
fn a_silent_client_is_dropped_at_the_connect_deadline_not_the_idle_one() {
    let mut sim = Sim::from_env(4);
    let (server, rtmp) = start(&sim);
    let host = sim.host(Ipv4Addr::new(10, 0, 1, 1));
    let h = sim.handle();
    // Connects and says nothing: one socket of many an abusive address may hold.
    let closed_at = sim
        .block_on(async move {
            let mut conn = host.connect(rtmp).await.unwrap();
            let mut probe = [0u8; 1];
            let _ = h.timeout(secs(60), conn.read(&mut probe)).await;
            h.now()
        })
        .unwrap();
    let deadline = server_core::rtmp_conn::CONNECT_TIMEOUT;
    assert!(deadline < server_core::rtmp_conn::IDLE_TIMEOUT);
    assert!(
        closed_at >= deadline && closed_at <= deadline + secs(1),
        "closed at {closed_at:?} (connect deadline {deadline:?})"
    );
    assert_eq!(server.ctx().hub.clients().len(), 0);
}

/// One publisher, `players` players joining over the first seconds, for `secs` of virtual time.
fn fanout(
    sim: &mut Sim,
    media: &MediaTags,
    players: u8,
    run: Duration,
) -> (SimPublisher, Vec<SimPlayer>) {
    sim.set_default_link(LinkConfig::default().with_latency(Duration::from_millis(10)));
    let (server, rtmp) = start(sim);
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        media.looped(run + secs(10)),
    );
    sim.run_for(secs(1)).unwrap();
    let mut list = Vec::new();
    for i in 0..players {
        let mut opts = PlayerOptions::new("live", "livestream");
        opts.expect = Some(publisher.shared_log());
        opts.keep_records = false;
        opts.stop_at = Some(run);
        list.push(SimPlayer::spawn(
            &sim.host(Ipv4Addr::new(10, 0, 2, i)),
            rtmp,
            opts,
        ));
        sim.run_for(Duration::from_millis(700)).unwrap();
    }
    sim.run_until(run + secs(1)).unwrap();
    drop(server);
    (publisher, list)
}

#[test]
fn one_publisher_ten_players_sixty_seconds() {
    let Some(media) = bbb() else { return };
    let mut sim = Sim::from_env(60);
    sim.set_transcript(false);
    let real = Instant::now();
    let (publisher, players) = fanout(&mut sim, &media, 10, secs(60));
    let elapsed = real.elapsed();
    let stats = sim.stats();
    eprintln!(
        "fanout 1x10 for 60 s virtual: {elapsed:?} real, ratio {:.1}x, {} polls, {} bytes",
        60.0 / elapsed.as_secs_f64(),
        stats.polls,
        stats.bytes_delivered
    );
    let sent = publisher.log();
    assert!(
        sent.sent.len() > 60 * 60,
        "publisher sent {}",
        sent.sent.len()
    );
    for (i, p) in players.iter().enumerate() {
        let l = p.log();
        assert!(
            l.is_clean(),
            "player {i}: {:?} ({:?})",
            l.first_problem,
            l.ended
        );
        assert!(l.frames > 40 * 60, "player {i} got {} frames", l.frames);
        assert!(
            l.statuses.iter().any(|(_, c)| c == "NetStream.Play.Start"),
            "{:?}",
            l.statuses
        );
        // Up to date: the last frame is less than a second behind the publisher's at stop time.
        let last = l.last_frame.unwrap();
        assert!(last.at > secs(59), "player {i} stalled at {:?}", last.at);
    }
}

#[test]
fn server_runs_are_deterministic() {
    let Some(media) = bbb() else { return };
    let a = Sim::assert_deterministic(5, |sim| {
        fanout(sim, &media, 3, secs(8));
    });
    let b = Sim::assert_deterministic(6, |sim| {
        fanout(sim, &media, 3, secs(8));
    });
    assert_ne!(a, b);
}

#[test]
fn hls_output_lands_in_the_memory_fs() {
    let Some(media) = bbb() else { return };
    let mut sim = Sim::from_env(3);
    let (_server, rtmp) = start(&sim);
    SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream"),
        media.looped(secs(30)),
    );
    sim.run_for(secs(40)).unwrap();
    let files = sim.fs().files();
    let playlist = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "m3u8"))
        .unwrap_or_else(|| panic!("no playlist among {files:?}"));
    let text = String::from_utf8(sim.fs().read(playlist).unwrap().to_vec()).unwrap();
    assert!(text.starts_with("#EXTM3U"), "{text}");
    assert!(
        files
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "ts")),
        "{files:?}"
    );
}

#[test]
fn a_stalled_player_is_dropped_and_the_others_see_no_gap() {
    let Some(media) = bbb() else { return };
    let mut sim = Sim::from_env(77);
    sim.set_transcript(false);
    sim.set_default_link(LinkConfig::default().with_latency(Duration::from_millis(10)));
    let (server, rtmp) = start(&sim);
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        media.looped(secs(130)),
    );
    sim.run_for(secs(1)).unwrap();
    let players: Vec<SimPlayer> = (0..4)
        .map(|i| {
            let mut opts = PlayerOptions::new("live", "livestream");
            opts.expect = Some(publisher.shared_log());
            opts.keep_records = false;
            opts.stop_at = Some(secs(120));
            if i == 0 {
                opts.stall_at = Some(secs(10));
            }
            SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, i)), rtmp, opts)
        })
        .collect();
    sim.run_until(secs(5)).unwrap();
    assert_eq!(
        server.ctx().hub.clients().len(),
        5,
        "publisher and 4 players"
    );
    sim.run_until(secs(119)).unwrap();
    // The server's send timeout closed the stalled player's connection.
    assert_eq!(
        server.ctx().hub.clients().len(),
        4,
        "stalled player dropped"
    );
    let stalled = players[0].log();
    assert!(stalled.last_frame.unwrap().at < secs(11));
    for (i, p) in players.iter().enumerate().skip(1) {
        let l = p.log();
        assert!(l.is_clean(), "player {i}: {:?}", l.first_problem);
        assert!(
            l.last_frame.unwrap().at > secs(118),
            "player {i} fell behind"
        );
    }
}

#[test]
fn network_schedule_changes_when_not_what_players_receive() {
    let Some(media) = bbb() else { return };
    let received = |seed: u64| {
        let mut sim = Sim::new(seed);
        sim.set_default_link(
            LinkConfig::default()
                .with_latency(Duration::from_millis(1 + seed % 40))
                .with_jitter(Duration::from_millis(seed % 7))
                .with_segments(1, 200 + (seed as usize % 1300))
                .with_short_writes(seed & 1 == 0),
        );
        let (_server, rtmp) = start(&sim);
        SimPublisher::spawn(
            &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
            rtmp,
            PublisherOptions::new("live", "s"),
            media.looped(secs(9)),
        );
        sim.run_for(secs(1)).unwrap();
        let player = SimPlayer::spawn(
            &sim.host(Ipv4Addr::new(10, 0, 2, 1)),
            rtmp,
            PlayerOptions::new("live", "s"),
        );
        sim.run_until(secs(12)).unwrap();
        let log = player.log();
        assert!(log.is_clean(), "seed {seed}: {:?}", log.first_problem);
        let frames: Vec<_> = log
            .records
            .iter()
            .filter(|r| (3000..8000).contains(&r.timestamp))
            .map(|r| (r.kind, r.timestamp, r.digest, r.keyframe))
            .collect();
        (frames, sim.transcript_hash())
    };
    let (base, base_hash) = received(1);
    assert!(base.len() > 300, "{}", base.len());
    for seed in [2, 3, 17, 1234] {
        let (frames, hash) = received(seed);
        assert_ne!(hash, base_hash, "seed {seed} had the same schedule");
        assert_eq!(frames, base, "seed {seed} received different frames");
    }
}
