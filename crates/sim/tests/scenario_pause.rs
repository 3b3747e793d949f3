//! A publisher that pauses with its connection open (an encoder stalled, a
//! network hiccup upstream) must not leave its players short of the media it
//! already sent. The merged write counts media time, so the tail of the last
//! window would otherwise wait for the next message however long the pause;
//! SRS bounds that wait by wall time, and so do we: once the publisher has been
//! quiet `mw_latency`, its players get what waits.

mod scenario_support;

use std::net::Ipv4Addr;
use std::time::Duration;

use scenario_support::{secs, start, Synthetic};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::Sim;

/// How long after its send the player got the publisher's last frame, and the
/// longest such wait over the frames of the last second; `None` if the last
/// frame never arrived.
fn tail_delays(vhost_body: &str) -> Option<(Duration, Duration)> {
    let mut sim = Sim::from_env(11);
    let (_server, rtmp) = start(&sim, Some(vhost_body));
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(4)),
    );
    sim.run_for(Duration::from_millis(500)).unwrap();
    let mut opts = PlayerOptions::new("live", "livestream");
    opts.expect = Some(publisher.shared_log());
    opts.keep_records = true;
    let player = SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, 1)), rtmp, opts);
    // The media lasts 4 s; the publisher then holds its connection, silent,
    // for far less than normal_timeout.
    sim.run_for(secs(8)).unwrap();
    let last = publisher.log().sent.last().cloned()?;
    let tail: Vec<_> = publisher
        .log()
        .sent
        .iter()
        .filter(|r| r.at + secs(1) > last.at)
        .cloned()
        .collect();
    player.with_log(|l| {
        assert!(l.is_clean(), "{vhost_body}: {:?}", l.first_problem);
        assert!(
            l.ended.is_none(),
            "{vhost_body}: player ended: {:?}",
            l.ended
        );
        let delay = |sent: &sim::client::MediaRecord| {
            l.records
                .iter()
                .find(|r| r.digest == sent.digest)
                .map(|r| r.at.saturating_sub(sent.at))
        };
        let worst = tail
            .iter()
            .map(|r| delay(r).unwrap_or(Duration::MAX))
            .max()?;
        Some((delay(&last)?, worst))
    })
}

#[test]
fn a_pausing_publishers_last_frames_reach_players_within_mw_latency() {
    // (vhost body, release delay): the last frame waits that long after its
    // send, plus the two 1 ms links and a poll or two. An earlier frame of
    // the held tail waits at most one merge window of media longer.
    let cases = [
        ("play { mw_latency 350; }", 350, 350),
        ("play { mw_latency 1000; }", 1000, 1000),
        // Only a message count (at most 8 messages) holds media back:
        // released after 100 ms.
        ("play { mw_latency 0; mw_msgs 8; }", 100, 400),
        // Merged read may read the last frame up to mr_latency late (its
        // documented price); the release follows mw_latency after that.
        (
            "play { mw_latency 350; }\npublish { mr on; mr_latency 350; }",
            350 + 350,
            350,
        ),
    ];
    for (body, release_ms, window_ms) in cases {
        let (last, worst) = tail_delays(body)
            .unwrap_or_else(|| panic!("{body}: the last frame never reached the player"));
        eprintln!("{body}: last frame after {last:?}, worst of the last second {worst:?}");
        assert!(
            last <= Duration::from_millis(release_ms + 50),
            "{body}: last frame after {last:?}"
        );
        assert!(
            worst <= Duration::from_millis(release_ms + window_ms + 50),
            "{body}: a frame of the last second waited {worst:?}"
        );
    }
}

#[test]
fn without_a_pause_players_still_get_one_write_per_window() {
    // The release must not turn into a flush per message: a steady publisher
    // never goes quiet for mw_latency, so the player's writes stay merged.
    let mut sim = Sim::from_env(12);
    let (_server, rtmp) = start(&sim, Some("play { mw_latency 350; }"));
    let _publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(10)),
    );
    sim.run_for(Duration::from_millis(500)).unwrap();
    let mut opts = PlayerOptions::new("live", "livestream");
    opts.keep_records = true;
    let player = SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, 1)), rtmp, opts);
    sim.run_for(secs(8)).unwrap();
    player.with_log(|l| {
        // Arrival instants after the join burst: media arrives in bursts
        // at least ~350 ms apart, never spread message by message.
        let mut bursts: Vec<Duration> = l.records.iter().map(|r| r.at).collect();
        bursts.dedup_by(|b, a| b.saturating_sub(*a) < Duration::from_millis(50));
        let steady = &bursts[2..];
        assert!(steady.len() >= 10, "{bursts:?}");
        for w in steady.windows(2) {
            assert!(
                w[1] - w[0] >= Duration::from_millis(300),
                "writes {:?} apart: {bursts:?}",
                w[1] - w[0]
            );
        }
    });
}
