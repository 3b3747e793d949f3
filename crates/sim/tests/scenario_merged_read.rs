//! SRS's merged read (`publish { mr on; }`): after a small read from a
//! publisher the server waits `mr_latency` before reading again, so one wakeup
//! takes many messages. Measured on the simulator's virtual clock, where
//! every task poll is counted: the same publisher and player with and without
//! it, and the player must get every frame either way.

mod scenario_support;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use scenario_support::{secs, start, Synthetic};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::Sim;

/// What one run measured.
#[derive(Debug)]
struct Run {
    polls: u64,
    frames_sent: u64,
    player_frames: u64,
    clean: bool,
    problem: Option<String>,
    /// Longest time from a frame's send to its arrival at the player, over
    /// frames sent after the player's join burst and a second before the
    /// publisher falls silent (the pause has its own scenario).
    max_delay: Duration,
}

fn run(publish_block: &str) -> Run {
    let mut sim = Sim::from_env(7);
    let (_server, rtmp) = start(&sim, Some(publish_block));
    let media = Synthetic::default();
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        media.messages(secs(20)),
    );
    sim.run_for(secs(1)).unwrap();
    let mut opts = PlayerOptions::new("live", "livestream");
    opts.expect = Some(publisher.shared_log());
    opts.keep_records = true;
    let joined = sim.now();
    let player = SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, 1)), rtmp, opts);
    let before = sim.stats().polls;
    sim.run_for(secs(20)).unwrap();
    let polls = sim.stats().polls - before;
    let frames_sent = publisher
        .log()
        .sent
        .iter()
        .filter(|r| !r.sequence_header)
        .count() as u64;
    let sent: HashMap<u64, Duration> = publisher
        .log()
        .sent
        .iter()
        .map(|r| (r.digest, r.at))
        .collect();
    let last_sent = publisher
        .log()
        .sent
        .last()
        .map(|r| r.at)
        .unwrap_or_default();
    player.with_log(|l| Run {
        polls,
        frames_sent,
        player_frames: l.frames,
        clean: l.is_clean(),
        problem: l.first_problem.clone(),
        max_delay: l
            .records
            .iter()
            .filter_map(|r| {
                let at = *sent.get(&r.digest)?;
                (at > joined + secs(1) && at + secs(1) < last_sent).then(|| r.at.saturating_sub(at))
            })
            .max()
            .unwrap_or_default(),
    })
}

#[test]
fn merged_read_takes_a_publisher_in_fewer_wakeups_and_loses_nothing() {
    let off = run("publish { mr off; }");
    let on = run("publish { mr on; mr_latency 350; }");
    eprintln!("mr off: {off:?}\nmr on:  {on:?}");
    for (name, r) in [("off", &off), ("on", &on)] {
        assert!(r.clean, "mr {name}: {:?}", r.problem);
        // The player joined 1 s in and starts at a key frame (GOP cache).
        assert!(
            r.player_frames + 50 >= r.frames_sent,
            "mr {name}: {} of {} frames",
            r.player_frames,
            r.frames_sent
        );
    }
    // 25 fps + 20 audio frames a second: without merged read the server's
    // publisher task runs for nearly every message; with it, a few times per
    // 350 ms. (Each run also polls the simulated clients, the same in both.)
    assert!(
        on.polls * 4 < off.polls * 3,
        "polls with mr on {} vs off {}",
        on.polls,
        off.polls
    );
    // The price: up to mr_latency more delay on top of the player's merged
    // write, and no more (the links add 1 ms each way).
    assert!(off.max_delay <= Duration::from_millis(350 + 100), "{off:?}");
    assert!(on.max_delay > off.max_delay, "{on:?} vs {off:?}");
    assert!(
        on.max_delay <= Duration::from_millis(350 + 350 + 100),
        "{on:?}"
    );
}

#[test]
fn min_latency_turns_merged_read_off() {
    let plain = run("publish { mr off; }");
    let min = run("min_latency on;\npublish { mr on; mr_latency 350; }");
    let mr = run("publish { mr on; mr_latency 350; }");
    eprintln!("off {plain:?}\nmin_latency {min:?}\nmr {mr:?}");
    assert!(min.clean, "{:?}", min.problem);
    // min_latency also drops the merged write, so it polls at least as often
    // as the plain run, and clearly more than merged read alone.
    assert!(min.polls >= plain.polls, "{min:?} vs {plain:?}");
    assert!(mr.polls * 4 < min.polls * 3, "{mr:?} vs {min:?}");
}

#[test]
fn a_silent_publisher_is_still_dropped_after_normal_timeout() {
    let mut sim = Sim::from_env(8);
    let (_server, rtmp) = start(
        &sim,
        Some("publish { mr on; mr_latency 350; normal_timeout 2000; }"),
    );
    // 3 s of media, then the encoder hangs with its connection open.
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(3)),
    );
    sim.run_for(Duration::from_millis(500)).unwrap();
    let player = SimPlayer::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 2, 1)),
        rtmp,
        PlayerOptions::new("live", "livestream"),
    );
    sim.run_for(secs(8)).unwrap();
    let last_sent = publisher.log().sent.last().expect("sent").at;
    let dropped_at = player.with_log(|l| {
        l.statuses
            .iter()
            .find(|(_, code)| code == "NetStream.Play.UnpublishNotify")
            .map(|(at, _)| *at)
    });
    let dropped_at = dropped_at.expect("the player heard the publisher leave");
    let silence = dropped_at.saturating_sub(last_sent);
    // normal_timeout, give or take one merged-read pause and the links.
    assert!(
        silence >= secs(2) && silence <= Duration::from_millis(2000 + 350 + 50),
        "dropped {silence:?} after the last message"
    );
}
