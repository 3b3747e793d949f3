//! Both sides against each other over a simulated link (a rate, a
//! latency, one packet on the wire at a time per direction) with a
//! virtual clock ticking in milliseconds.

use std::collections::VecDeque;

use super::packet::{body_size, packet};
use super::*;
use crate::command::Command;

/// One direction of the link.
struct Wire {
    rate_kbps: u64,
    latency_ms: u64,
    busy_until: u64,
    in_flight: VecDeque<(u64, Command)>,
    /// Takes writes until this many bytes wait (a socket buffer in front
    /// of the link), delivering at the rate all the same.
    buffer_bytes: u64,
}

impl Wire {
    fn new(rate_kbps: u64, latency_ms: u64) -> Self {
        Self {
            rate_kbps,
            latency_ms,
            busy_until: 0,
            in_flight: VecDeque::new(),
            buffer_bytes: 0,
        }
    }

    fn is_free(&self, now: u64) -> bool {
        let waiting_bits = self.busy_until.saturating_sub(now) * self.rate_kbps;
        waiting_bits <= self.buffer_bytes * 8
    }

    fn send(&mut self, now: u64, command: Command) {
        let bits = body_size(&command) as u64 * 8;
        let done = self.busy_until.max(now) + bits.div_ceil(self.rate_kbps);
        self.busy_until = done;
        self.in_flight.push_back((done + self.latency_ms, command));
    }

    fn arrived(&mut self, now: u64) -> Option<Command> {
        match self.in_flight.front() {
            Some((at, _)) if *at <= now => self.in_flight.pop_front().map(|(_, c)| c),
            _ => None,
        }
    }
}

/// How a simulated client misbehaves.
#[derive(Default, Clone, Copy)]
struct Quirks {
    /// Flash: never sends stopped-publish or the final packet.
    flash: bool,
    /// Never answers anything.
    mute: bool,
    /// Sends this much filler every tick in the publish phase, ignoring pacing.
    flood_bytes: usize,
    /// The server's side of the link buffers this much.
    buffer_bytes: u64,
}

struct Outcome {
    server: Result<Option<ServerReport>, BandcheckError>,
    client: Result<Option<BandcheckReport>, BandcheckError>,
    server_done_at: u64,
}

fn run(params: ServerParams, link_kbps: u64, latency_ms: u64, quirks: Quirks) -> Outcome {
    let mut server = BandcheckServer::new(params, 0);
    let mut client = BandcheckClient::new(0);
    let mut down = Wire::new(link_kbps, latency_ms);
    down.buffer_bytes = quirks.buffer_bytes;
    let mut up = Wire::new(link_kbps, latency_ms);
    let mut client_result = Ok(None);
    let mut client_failed = false;
    let (flood, _) = packet::filler(PacketKind::Publishing, quirks.flood_bytes.max(1));
    for now in 0..40_000u64 {
        // Deliveries, the server's reading paced as it asks.
        if server.read_resume_at(now).is_none() {
            while let Some(c) = up.arrived(now) {
                assert!(server.handle_command(now, &c));
                if server.read_resume_at(now).is_some() {
                    break;
                }
            }
        }
        while let Some(c) = down.arrived(now) {
            if client_failed {
                continue;
            }
            if let Err(e) = client.handle_command(now, &c) {
                client_result = Err(e);
                client_failed = true;
            }
        }
        if let Err(e) = server.handle_timeout(now) {
            return Outcome {
                server: Err(e),
                client: client_result,
                server_done_at: now,
            };
        }
        if !client_failed {
            if let Err(e) = client.handle_timeout(now) {
                client_result = Err(e);
                client_failed = true;
            }
        }
        while down.is_free(now) {
            match server.poll_transmit(now) {
                Some(c) => down.send(now, c),
                None => break,
            }
        }
        let publishing = client.step() == "publish phase";
        while !client_failed && up.is_free(now) {
            match client.poll_transmit(now) {
                Some(c) if quirks.mute => drop(c),
                Some(c)
                    if quirks.flash
                        && matches!(
                            PacketKind::of(&c),
                            Some(PacketKind::StoppedPublish | PacketKind::Final)
                        ) => {}
                Some(c) => up.send(now, c),
                None => break,
            }
        }
        if publishing && quirks.flood_bytes > 0 {
            up.send(now, flood.clone());
        }
        if server.is_done() {
            if let Some(r) = client.report() {
                client_result = client_result.map(|_| Some(r));
            }
            return Outcome {
                server: Ok(server.report()),
                client: client_result,
                server_done_at: now,
            };
        }
    }
    panic!("the check never ended (server at {})", server.step());
}

fn within(measured: u64, expected: u64, percent: u64) -> bool {
    measured.abs_diff(expected) * 100 <= expected * percent
}

#[test]
fn play_and_publish_track_the_limit_on_a_fast_link() {
    for limit in [500u32, 1000, 4000, 20_000] {
        let out = run(ServerParams::new(limit), 1_000_000, 5, Quirks::default());
        let server = out.server.expect("server ok").expect("report");
        let client = out.client.expect("client ok").expect("report");
        let limit = u64::from(limit);
        assert!(within(server.play.kbps, limit, 5), "{limit}: {server:?}");
        assert!(within(server.publish.kbps, limit, 5), "{limit}: {server:?}");
        assert!(
            within(client.received.kbps, limit, 5),
            "{limit}: {client:?}"
        );
        // The client reports the server's figures as they were sent.
        assert_eq!(client.play_kbps, server.play.kbps);
        assert_eq!(client.publish_kbps, server.publish.kbps);
        assert_eq!(client.play_bytes, server.play.bytes);
        assert_eq!(client.limit_kbps, limit);
        // Each phase lasts SRS's 3 s (the play phase until the client's
        // answer to its end: plus a round trip).
        assert!(
            (3000..=3030).contains(&server.play.duration_ms),
            "{server:?}"
        );
        assert!(
            (3000..=3010).contains(&server.publish.duration_ms),
            "{server:?}"
        );
    }
}

fn run_buffered(params: ServerParams, link_kbps: u64, latency_ms: u64) -> Outcome {
    let quirks = Quirks {
        // Linux grows a loopback socket's buffers to megabytes.
        buffer_bytes: 1 << 20,
        ..Quirks::default()
    };
    run(params, link_kbps, latency_ms, quirks)
}

#[test]
fn a_buffered_backlog_counts_until_the_client_has_it() {
    // The wire accepts at once but delivers at 2000 kbps (a socket buffer
    // in front of a slow link): the server's play rate is the link's, not
    // the rate it wrote at.
    let out = run_buffered(ServerParams::new(10_000), 2_000, 20);
    let server = out.server.expect("ok").expect("report");
    let client = out.client.expect("ok").expect("report");
    assert!(within(server.play.kbps, 2_000, 10), "{server:?}");
    assert!(within(client.received.kbps, 2_000, 10), "{client:?}");
    // 3 s of writing, then the megabyte still buffered.
    assert!(server.play.duration_ms > 6_000, "{server:?}");
}

#[test]
fn a_slower_link_than_the_limit_is_what_is_measured() {
    let out = run(ServerParams::new(10_000), 2_000, 20, Quirks::default());
    let server = out.server.expect("ok").expect("report");
    let client = out.client.expect("ok").expect("report");
    assert!(within(server.play.kbps, 2_000, 10), "{server:?}");
    assert!(within(server.publish.kbps, 2_000, 10), "{server:?}");
    assert!(within(client.received.kbps, 2_000, 10), "{client:?}");
}

#[test]
fn flash_clients_are_not_waited_for() {
    let mut params = ServerParams::new(1000);
    params.flash = true;
    let quirks = Quirks {
        flash: true,
        ..Quirks::default()
    };
    let out = run(params, 100_000, 5, quirks);
    out.server.expect("ok").expect("report");
    // Done FINAL_WAIT after the report, not after a reply timeout.
    assert!(
        out.server_done_at < 2 * 3000 + 1000,
        "{}",
        out.server_done_at
    );

    // Without the flag, a client that skips the answers times the server out.
    let out = run(ServerParams::new(1000), 100_000, 5, quirks);
    assert_eq!(
        out.server.expect_err("times out"),
        BandcheckError::Timeout {
            waiting_for: PacketKind::StoppedPublish.name()
        }
    );
}

#[test]
fn a_mute_client_times_out_on_both_sides() {
    let quirks = Quirks {
        mute: true,
        ..Quirks::default()
    };
    let out = run(ServerParams::new(1000), 100_000, 5, quirks);
    assert_eq!(
        out.server.expect_err("times out"),
        BandcheckError::Timeout {
            waiting_for: PacketKind::StartingPlay.name()
        }
    );
    assert_eq!(out.server_done_at, 6000);
}

#[test]
fn a_flooding_client_is_read_at_the_limit_and_capped() {
    let quirks = Quirks {
        flood_bytes: 60_000,
        ..Quirks::default()
    };
    let params = ServerParams::new(1000);
    let cap = params.max_publish_bytes;
    let out = run(params, 1_000_000, 1, quirks);
    let server = out.server.expect("ok").expect("report");
    // Reading is paced, so what was read is at most a filler over the limit...
    assert!(
        server.publish.kbps <= 1000 + 60_000 * 8 / 3000,
        "{server:?}"
    );
    // ...and never past the cap.
    assert!(server.publish.bytes <= cap + 60_100, "{server:?}");
}

#[test]
fn a_start_without_figures_is_refused_by_the_client() {
    let mut client = BandcheckClient::new(0);
    let start = packet(PacketKind::StartPlay, &[("limit_kbps", 100.0)]);
    assert_eq!(client.handle_command(0, &start), Ok(true));
    assert_eq!(
        PacketKind::of(&client.poll_transmit(0).expect("answer")),
        Some(PacketKind::StartingPlay)
    );
    client
        .handle_command(10, &packet(PacketKind::StopPlay, &[]))
        .expect("stop");
    assert!(client.poll_transmit(10).is_some());
    let bad = packet(PacketKind::StartPublish, &[("duration_ms", 3000.0)]);
    assert_eq!(
        client.handle_command(20, &bad),
        Err(BandcheckError::BadFigures {
            packet: PacketKind::StartPublish.name(),
            figure: "limit_kbps"
        })
    );
    // Not a bandwidth-check packet at all.
    let other = Command::OnBwDone {
        transaction_id: 0.0,
    };
    assert_eq!(client.handle_command(30, &other), Ok(false));
}

#[test]
fn filler_sizes_follow_the_limit() {
    assert_eq!(filler_target(1), MIN_FILLER_BYTES);
    assert_eq!(filler_target(1000), 2500);
    assert_eq!(filler_target(u64::MAX), MAX_FILLER_BYTES);
}
