//! A publisher drops its connection in the middle of an HLS segment and a new
//! one (an encoder restarting, timestamps from zero) takes over a few seconds
//! later: the playlist shows exactly one discontinuity, segment numbers run on,
//! and players that stayed connected resume with the new publisher's frames.

mod scenario_support;

use std::net::Ipv4Addr;

use rtmp_proto::message::MessageType;
use scenario_support::{pes_times, secs, segments, start, ts_forward, Synthetic};
use sim::client::{
    MediaRecord, PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher,
};
use sim::Sim;

const PLAYLIST: &str = "objs/nginx/html/live/livestream.m3u8";

/// Frames (not sequence headers) as (kind, length, digest): what must match
/// between what a publisher sent and what a player got (the server rebases
/// timestamps on republish, so those are compared separately).
fn frames(records: &[MediaRecord]) -> Vec<(MessageType, usize, u64)> {
    records
        .iter()
        .filter(|r| !r.sequence_header && r.kind != MessageType::DataAmf0)
        .map(|r| (r.kind, r.len, r.digest))
        .collect()
}

/// Whether `got` is a run of consecutive elements of `sent`, starting at a
/// video key frame.
fn contiguous_run(got: &[MediaRecord], sent: &[MediaRecord]) -> Result<(), String> {
    let (got_f, sent_f) = (frames(got), frames(sent));
    let first = got_f.first().ok_or("no frames")?;
    let at = sent_f
        .iter()
        .position(|s| s == first)
        .ok_or("first frame was not sent by this publisher")?;
    let key = got
        .iter()
        .find(|r| !r.sequence_header && r.kind != MessageType::DataAmf0)
        .is_some_and(|r| r.kind == MessageType::Video && r.keyframe);
    if !key {
        return Err("does not start at a video key frame".into());
    }
    match sent_f.get(at..at + got_f.len()) {
        Some(run) if run == got_f.as_slice() => Ok(()),
        _ => Err(format!(
            "{} frames are not a contiguous run of the {} sent",
            got_f.len(),
            sent_f.len()
        )),
    }
}

#[test]
fn publisher_drops_mid_segment_and_republishes() {
    let mut sim = Sim::from_env(24);
    let (server, rtmp) = start(&sim, None);
    // First encoder: 25 s, then the connection just closes (killed encoder).
    // With 10 s fragments and a key frame every 2 s, 25 s is mid-segment.
    let first_media = Synthetic::default();
    let first = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Close),
        first_media.messages(secs(25)),
    );
    sim.run_for(secs(2)).unwrap();
    let players: Vec<SimPlayer> = (0..3)
        .map(|i| {
            let mut opts = PlayerOptions::new("live", "livestream");
            opts.stop_at = Some(secs(70));
            SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, i)), rtmp, opts)
        })
        .collect();
    sim.run_until(secs(29)).unwrap();
    assert!(first.is_finished(), "the first publisher is gone");
    assert!(matches!(first.result(), Some(Ok(()))));
    // The restarted encoder: timestamps from 0 again, different frames.
    let second_media = Synthetic {
        video_bytes: 131,
        ..Synthetic::default()
    };
    let republish_at = sim.now();
    let second = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 2)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        second_media.messages(secs(40)),
    );
    sim.run_until(secs(72)).unwrap();

    // HLS: one discontinuity, consecutive sequence numbers across it.
    let text = String::from_utf8(sim.fs().read(PLAYLIST).expect("playlist").to_vec()).unwrap();
    eprintln!("{text}");
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1, "{text}");
    let media_sequence: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .expect("media sequence")
        .parse()
        .unwrap();
    let segs = segments(&sim, PLAYLIST);
    let numbers: Vec<u64> = segs
        .iter()
        .map(|(uri, _)| {
            uri.trim_start_matches("livestream-")
                .trim_end_matches(".ts")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(numbers[0], media_sequence, "{text}");
    for w in numbers.windows(2) {
        assert_eq!(w[1], w[0] + 1, "sequence numbers continue: {numbers:?}");
    }
    // The segment cut short by the drop lasts about 5 s (20..25 s of media),
    // and the discontinuity comes right after it.
    let lines: Vec<&str> = text.lines().collect();
    let disc = lines
        .iter()
        .position(|l| *l == "#EXT-X-DISCONTINUITY")
        .unwrap();
    let before: f64 = lines[..disc]
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("#EXTINF:"))
        .and_then(|v| v.trim_end_matches(',').parse().ok())
        .expect("a segment before the discontinuity");
    assert!(
        (4.0..6.5).contains(&before),
        "cut segment lasts {before} s\n{text}"
    );
    // Within each segment, every stream's DTS runs forward.
    for (uri, data) in &segs {
        for (pid, pes) in pes_times(data) {
            for w in pes.times.windows(2) {
                assert!(ts_forward(w[0].1, w[1].1), "{uri} pid {pid}: DTS {:?}", w);
            }
        }
    }

    // Players: told of both events, and resumed with the new publisher.
    let (sent1, sent2) = (first.log().sent, second.log().sent);
    for (i, p) in players.iter().enumerate() {
        let l = p.log();
        let codes: Vec<&str> = l.statuses.iter().map(|(_, c)| c.as_str()).collect();
        let unpublish = codes
            .iter()
            .position(|c| *c == "NetStream.Play.UnpublishNotify");
        let publish = codes
            .iter()
            .rposition(|c| *c == "NetStream.Play.PublishNotify");
        assert!(
            matches!((unpublish, publish), (Some(u), Some(p)) if u < p),
            "player {i}: {codes:?}"
        );
        let (old, new): (Vec<MediaRecord>, Vec<MediaRecord>) =
            l.records.iter().partition(|r| r.at < republish_at);
        contiguous_run(&old, &sent1).unwrap_or_else(|e| panic!("player {i} before: {e}"));
        contiguous_run(&new, &sent2).unwrap_or_else(|e| panic!("player {i} after: {e}"));
        // Resumed from the new publisher's first frames to live.
        assert!(frames(&new).len() + 50 > frames(&sent2).len(), "player {i}");
        assert!(l.last_frame.unwrap().at > secs(68), "player {i}");
        // Each publisher's part runs forward in time on its own.
        for part in [&old, &new] {
            for kind in [MessageType::Audio, MessageType::Video] {
                let ts: Vec<u64> = part
                    .iter()
                    .filter(|r| r.kind == kind)
                    .map(|r| r.timestamp)
                    .collect();
                assert!(
                    ts.windows(2).all(|w| w[0] <= w[1]),
                    "player {i} {kind:?}: {ts:?}"
                );
            }
        }
    }
    assert_eq!(server.ctx().hub.sources().len(), 1);
}
