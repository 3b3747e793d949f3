//! Many players on one stream for minutes of virtual time: every player gets
//! every frame, in order, from a key frame on, and memory stays flat.
//!
//! The full-size run (1,000 players, 10 minutes) is `#[ignore]`d because it
//! takes minutes in a debug build; run it in release:
//!
//!     cargo test -p sim --release --test scenario_fanout -- --ignored --nocapture
//!
//! The default run is 200 players for 2 minutes. Figures are in the README.
//!
//! Memory is measured, not inferred: this test binary counts every live heap
//! byte (a counting global allocator), so "bounded" means the whole process
//! (server, simulated network and clients) stops growing once every player
//! has joined. The only state that grows by design is the publisher's log of
//! what it sent (the players verify against it); it is subtracted.

mod scenario_support;

use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use scenario_support::{heap, secs, start, Synthetic};
use sim::client::{
    MediaRecord, PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher,
};
use sim::{LinkConfig, Sim};

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

/// The heap is process-wide: runs in this binary must not overlap.
static SERIAL: Mutex<()> = Mutex::new(());

/// What a fan-out run measured.
#[derive(Debug)]
struct Figures {
    real: Duration,
    frames_per_player: u64,
    max_lag_ms: u64,
    heap_after_join: isize,
    heap_growth: isize,
    bytes_delivered: u64,
}

fn fanout(players: u32, run: Duration, seed: u64) -> Figures {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut sim = Sim::from_env(seed);
    sim.set_transcript(false);
    sim.set_default_link(
        LinkConfig::default()
            .with_latency(Duration::from_millis(10))
            .with_coalesce(true),
    );
    // No HLS: this is about RTMP fan-out.
    let (server, rtmp) = start(&sim, Some(""));
    let media = Synthetic::default();
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        media.messages(run + secs(5)),
    );
    let real = Instant::now();
    sim.run_for(secs(1)).unwrap();
    // Players join over the first 10 s: most in the middle of a GOP.
    let join_span = Duration::from_secs(10);
    let mut list = Vec::new();
    for i in 0..players {
        let mut opts = PlayerOptions::new("live", "livestream");
        opts.keep_records = false;
        opts.expect = Some(publisher.shared_log());
        opts.stop_at = Some(run);
        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 0)) + i);
        list.push(SimPlayer::spawn(&sim.host(ip), rtmp, opts));
        sim.run_for(join_span / players).unwrap();
    }
    let sent_log = publisher.shared_log();
    let log_bytes = || {
        let l = sent_log.lock().unwrap();
        (l.sent.capacity() * std::mem::size_of::<MediaRecord>()) as isize
    };
    let heap = || heap::in_use() - log_bytes();
    // Let every player catch up to live before the baseline.
    sim.run_until(secs(20)).unwrap();
    assert_eq!(server.ctx().hub.clients().len() as u32, players + 1);
    let heap_after_join = heap();
    let mut max_heap = heap_after_join;
    let mut max_lag_ms = 0;
    let mut t = secs(20);
    while t + secs(10) < run {
        t += secs(10);
        sim.run_until(t).unwrap();
        max_heap = max_heap.max(heap());
        // Lag: how far behind the publisher's newest frame each player is;
        // the server queues at most that much media per player.
        let newest = sent_log
            .lock()
            .unwrap()
            .sent
            .last()
            .map_or(0, |r| r.timestamp);
        for p in &list {
            // On the publisher's clock: a late joiner's own starts at 0.
            let last = p.with_log(|l| l.last_frame.map_or(0, |f| l.publisher_time(f.timestamp)));
            max_lag_ms = max_lag_ms.max(newest.saturating_sub(last));
        }
        assert_eq!(server.ctx().hub.sources().len(), 1);
    }
    sim.run_until(run + secs(1)).unwrap();
    let real = real.elapsed();
    let sent = publisher.log();
    let mut frames_per_player = u64::MAX;
    for (i, p) in list.iter().enumerate() {
        let l = p.log();
        assert!(
            l.is_clean(),
            "player {i}: {:?} ({:?})",
            l.first_problem,
            l.ended
        );
        assert_eq!(
            l.matched, l.frames,
            "player {i}: every frame is the publisher's"
        );
        let last = l.last_frame.expect("frames");
        assert!(
            last.at + secs(1) > run,
            "player {i} stopped receiving at {:?}",
            last.at
        );
        frames_per_player = frames_per_player.min(l.frames);
    }
    assert!(sent.sent.len() as u64 > run.as_secs() * 40);
    let figures = Figures {
        real,
        frames_per_player,
        max_lag_ms,
        heap_after_join,
        heap_growth: max_heap - heap_after_join,
        bytes_delivered: sim.stats().bytes_delivered,
    };
    eprintln!(
        "fanout {players} players x {:?} virtual: {:?} real ({:.0}x), >= {} frames each, \
         max lag {} ms, heap {} KiB after join, +{} KiB at most later, {} MB delivered",
        run,
        figures.real,
        run.as_secs_f64() / figures.real.as_secs_f64(),
        figures.frames_per_player,
        figures.max_lag_ms,
        figures.heap_after_join / 1024,
        figures.heap_growth / 1024,
        figures.bytes_delivered / 1_000_000
    );
    drop(server);
    figures
}

fn check_bounded(f: &Figures, players: u32) {
    // Every player keeps up: the server queues well under a second per player.
    assert!(f.max_lag_ms < 1000, "{f:?}");
    // Flat memory: whatever the run length, growth after everyone joined stays
    // under 2 KiB per player (allocator noise, buffers reaching their
    // high-water mark), far below what even one second of media per player
    // queued would take.
    assert!(f.heap_growth < 2048 * players as isize, "{f:?}");
}

#[test]
fn two_hundred_players_two_minutes() {
    let f = fanout(200, secs(120), 1000);
    check_bounded(&f, 200);
    assert!(f.frames_per_player > 100 * 45, "{f:?}");
}

#[test]
#[ignore = "full size: minutes in debug; run in release (see the module docs)"]
fn one_thousand_players_ten_minutes() {
    let f = fanout(1000, secs(600), 1000);
    check_bounded(&f, 1000);
    assert!(f.frames_per_player > 580 * 45, "{f:?}");
}
