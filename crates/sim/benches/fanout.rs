//! Virtual time versus real time: the real server fanning one stream out to
//! many simulated players. Prints the ratio; run with
//! `cargo bench -p sim --bench fanout` (set `FANOUT_PLAYERS` / `FANOUT_SECS`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use server_core::{Config, ListenerKind, Server};
use sim::client::{
    MediaTags, PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher,
};
use sim::runtime::SimRuntime;
use sim::{LinkConfig, Sim};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run(media: &MediaTags, players: u32, secs: u64) {
    let mut sim = Sim::new(1);
    sim.set_transcript(false);
    sim.set_default_link(
        LinkConfig::default()
            .with_latency(Duration::from_millis(10))
            .with_coalesce(true),
    );
    let server_ip = Ipv4Addr::new(10, 0, 0, 1);
    // Room for every player (the default allows 1,000 connections).
    let config = Config {
        max_connections: players + 16,
        ..Config::default()
    };
    let server = Server::start(SimRuntime::new(sim.host(server_ip)), config).unwrap();
    let rtmp: SocketAddr = server.addrs(ListenerKind::Rtmp)[0];
    let run_for = Duration::from_secs(secs);
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        media.looped(run_for + Duration::from_secs(5)),
    );
    let started = Instant::now();
    sim.run_for(Duration::from_secs(1)).unwrap();
    let list: Vec<SimPlayer> = (0..players)
        .map(|i| {
            let mut opts = PlayerOptions::new("live", "livestream");
            opts.keep_records = false;
            opts.expect = Some(publisher.shared_log());
            opts.stop_at = Some(run_for);
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 0)) + i);
            SimPlayer::spawn(&sim.host(ip), rtmp, opts)
        })
        .collect();
    sim.run_until(run_for + Duration::from_secs(1)).unwrap();
    let real = started.elapsed();
    let stats = sim.stats();
    let clean = list.iter().filter(|p| p.with_log(|l| l.is_clean())).count();
    let frames: u64 = list.iter().map(|p| p.with_log(|l| l.frames)).sum();
    println!(
        "1 publisher -> {players} players, {secs} s virtual: {:.2} s real, {:.0}x real time; \
         {clean}/{players} clean, {frames} frames, {:.1} MB delivered, {} polls",
        real.as_secs_f64(),
        secs as f64 / real.as_secs_f64(),
        stats.bytes_delivered as f64 / 1e6,
        stats.polls
    );
    drop(server);
}

fn main() {
    let Some(data) = common::corpus_file("media/srs_bbb.flv") else {
        return;
    };
    let media = MediaTags::from_flv(data).unwrap();
    let kbps = media.tags().iter().map(|t| t.payload.len()).sum::<usize>() as f64 * 8.0
        / media.duration().as_secs_f64()
        / 1000.0;
    println!("media: srs_bbb.flv looped, {kbps:.0} kbit/s");
    run(&media, 10, 60);
    run(
        &media,
        env("FANOUT_PLAYERS", 100) as u32,
        env("FANOUT_SECS", 600),
    );
}
