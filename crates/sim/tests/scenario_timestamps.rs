//! Long streams: crossing 2^24 ms of stream time (4.66 h, where RTMP chunk
//! headers switch to the extended timestamp, spec 5.3.1.3) and the 2^32 ms
//! wrap of the 32-bit wire timestamp. Frames are sparse and small so hours of
//! virtual time cost seconds. Timestamps must stay monotonic for players and
//! in the HLS segments (PTS/DTS compared on the 33-bit 90 kHz clock, which
//! wraps every 26.5 h).

mod scenario_support;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use rtmp_proto::message::MessageType;
use scenario_support::{pes_times, secs, segments, start, ts_forward, Synthetic};
use sim::client::{
    MediaRecord, PlayerLog, PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher,
};
use sim::Sim;

const PLAYLIST: &str = "objs/nginx/html/live/livestream.m3u8";
const TS_2_24: u64 = 1 << 24;
const TS_2_32: u64 = 1 << 32;

/// One publisher of `media` for `duration` and one player, run to the end.
/// A `verify`ing player checks every frame against the publisher's log
/// (timestamps included) and joins right after the publish starts; otherwise
/// the player is there before the publish and keeps records of everything.
fn run(
    seed: u64,
    vhost: Option<&str>,
    media: Synthetic,
    duration: Duration,
    verify: bool,
) -> (Sim, SimPublisher, SimPlayer) {
    let mut sim = Sim::from_env(seed);
    sim.set_transcript(false);
    let (_server, rtmp) = start(&sim, vhost);
    let mut opts = PlayerOptions::new("live", "livestream");
    opts.stop_at = Some(duration + secs(3));
    opts.keep_records = !verify;
    let player_host = sim.host(Ipv4Addr::new(10, 0, 2, 1));
    let early = (!verify).then(|| SimPlayer::spawn(&player_host, rtmp, opts.clone()));
    sim.run_for(secs(1)).unwrap();
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        rtmp,
        PublisherOptions::new("live", "livestream").ending(PublishEnd::Hold),
        media.messages(duration),
    );
    let player = early.unwrap_or_else(|| {
        opts.expect = Some(publisher.shared_log());
        sim.run_for(Duration::from_millis(100)).unwrap();
        SimPlayer::spawn(&player_host, rtmp, opts)
    });
    sim.run_until(duration + secs(5)).unwrap();
    (sim, publisher, player)
}

/// Audio and video messages (sequence headers included) as (kind, length,
/// digest), in order: what a player must get whatever the server does to
/// timestamps.
fn frames(records: &[MediaRecord]) -> Vec<(MessageType, usize, u64)> {
    records
        .iter()
        .filter(|r| r.kind != MessageType::DataAmf0)
        .map(|r| (r.kind, r.len, r.digest))
        .collect()
}

/// The player got exactly what was published, in order, except the newest
/// media still waiting for its merged write when the run stopped (the server
/// writes once `mw_latency` of media has gathered, or 500 ms of a slow stream;
/// the publisher holds its connection, so nothing flushes that tail): at most
/// `window_ms` of the publisher's last media.
fn all_but_the_last_merge_window(got: &[MediaRecord], sent: &[MediaRecord], window_ms: u64) {
    let (got_frames, sent_frames) = (frames(got), frames(sent));
    assert!(
        sent_frames.starts_with(&got_frames),
        "frames lost or reordered: got {} of {}",
        got_frames.len(),
        sent_frames.len()
    );
    let media: Vec<&MediaRecord> = sent
        .iter()
        .filter(|r| r.kind != MessageType::DataAmf0)
        .collect();
    let last_ts = media.last().map_or(0, |r| r.timestamp);
    if let Some(first_missing) = media.get(got_frames.len()) {
        assert!(
            last_ts.saturating_sub(first_missing.timestamp) <= window_ms,
            "missing more than the last {window_ms} ms: from {} to {last_ts}",
            first_missing.timestamp
        );
    }
}

fn monotonic_per_track(records: &[MediaRecord]) -> bool {
    [MessageType::Audio, MessageType::Video].iter().all(|kind| {
        let ts: Vec<u64> = records
            .iter()
            .filter(|r| r.kind == *kind)
            .map(|r| r.timestamp)
            .collect();
        ts.windows(2).all(|w| w[0] <= w[1])
    })
}

/// Every segment in the playlist: every stream's DTS runs forward on the
/// 33-bit clock, within and across segments. Returns (first, last) DTS of
/// the video stream.
fn check_segments(sim: &Sim) -> (u64, u64) {
    let segs = segments(sim, PLAYLIST);
    assert!(segs.len() >= 2, "{} segments", segs.len());
    let mut last: std::collections::BTreeMap<u16, u64> = Default::default();
    let mut video = (None, 0);
    for (uri, data) in &segs {
        for (pid, pes) in pes_times(data) {
            for &(pts, dts) in &pes.times {
                if let Some(prev) = last.insert(pid, dts) {
                    assert!(
                        ts_forward(prev, dts),
                        "{uri} pid {pid}: DTS {prev} then {dts}"
                    );
                }
                assert!(
                    ts_forward(dts, pts),
                    "{uri} pid {pid}: PTS {pts} before DTS {dts}"
                );
                if pes.stream_id == 0xe0 {
                    video.0.get_or_insert(dts);
                    video.1 = dts;
                }
            }
        }
    }
    (video.0.expect("video in the segments"), video.1)
}

fn check_player(l: &PlayerLog, what: &str) {
    assert!(
        l.is_clean(),
        "{what}: {:?} ({:?})",
        l.first_problem,
        l.ended
    );
    assert_eq!(l.timestamp_regressions, 0, "{what}");
}

/// 4.7 hours of a 1 fps stream with the default config: the server's own
/// stream time crosses 2^24 ms, so its chunk headers to the player switch to
/// extended timestamps mid-stream.
#[test]
fn stream_time_crosses_2_pow_24_ms() {
    let media = Synthetic {
        fps: 1,
        gop: 1,
        audio_per_sec: 1,
        video_bytes: 16,
        start_ms: 0,
    };
    let duration = Duration::from_millis(TS_2_24 + 120_000);
    let real = Instant::now();
    let (sim, publisher, player) = run(224, None, media, duration, false);
    eprintln!("{duration:?} of a 1 fps stream in {:?}", real.elapsed());
    let l = player.log();
    eprintln!(
        "first frames: {:?}",
        l.records
            .iter()
            .take(14)
            .map(|r| (r.kind, r.timestamp))
            .collect::<Vec<_>>()
    );
    assert!(l.first_problem.is_none(), "{:?}", l.first_problem);
    assert!(monotonic_per_track(&l.records));
    all_but_the_last_merge_window(&l.records, &publisher.log().sent, 1_000);
    assert!(l.last_frame.unwrap().timestamp > TS_2_24 + 60_000);
    // The playlist's window holds the last minute or so; its clock is past
    // 2^24 ms (no 33-bit wrap yet in 4.7 h).
    let (first, last) = check_segments(&sim);
    assert!(last > first, "{first} {last}");
    assert!(
        last / 90 > TS_2_24 + 60_000,
        "segments' DTS reached {} ms",
        last / 90
    );
}

/// The publisher's 32-bit timestamps start 5 s before 2^32 ms and wrap. With
/// `time_jitter off` the server passes them through: the player's chunk
/// decoder unwraps them (2^32 + x) and they match what the publisher meant,
/// frame for frame; the segments' 90 kHz clock runs on across the wrap.
#[test]
fn publisher_timestamps_wrap_at_2_pow_32_jitter_off() {
    let media = Synthetic {
        start_ms: TS_2_32 - 5000,
        ..Synthetic::default()
    };
    let (sim, publisher, player) = run(
        232,
        Some("play { time_jitter off; }\nhls { enabled on; hls_fragment 2; }"),
        media,
        secs(12),
        true,
    );
    let l = player.log();
    check_player(&l, "player");
    let sent = publisher.log().sent;
    assert!(sent.last().unwrap().timestamp > TS_2_32 + 5000);
    assert_eq!(
        l.matched, l.frames,
        "every frame arrived with its 64-bit timestamp"
    );
    assert!(l.last_frame.unwrap().timestamp > TS_2_32 + 5000);
    let (first, last) = check_segments(&sim);
    // The first segment starts at the first frame, (2^32 - 5000) * 90 mod 2^33;
    // the open segment at the end is not listed yet.
    assert_eq!(first, ((TS_2_32 - 5000) * 90) & ((1 << 33) - 1));
    let span = last.wrapping_sub(first) & ((1 << 33) - 1);
    assert!(
        (8 * 90_000..13 * 90_000).contains(&span),
        "{first} -> {last}"
    );
}

/// The same wrap with the default config (`time_jitter full`): the server
/// rebases the stream to start at 0, so players and segments see a plain,
/// monotonic 12 s stream, every frame in order.
#[test]
fn publisher_timestamps_wrap_at_2_pow_32_default_config() {
    let media = Synthetic {
        start_ms: TS_2_32 - 5000,
        ..Synthetic::default()
    };
    let (sim, publisher, player) = run(
        233,
        Some("hls { enabled on; hls_fragment 2; }"),
        media,
        secs(12),
        false,
    );
    let l = player.log();
    assert!(l.first_problem.is_none(), "{:?}", l.first_problem);
    assert!(monotonic_per_track(&l.records));
    all_but_the_last_merge_window(&l.records, &publisher.log().sent, 1_000);
    let last = l.records.last().unwrap().timestamp;
    assert!(
        (11_000..13_000).contains(&last),
        "rebased to start at 0: last ts {last}"
    );
    // Listed segments (the open one is not) cover most of the 12 s.
    let (first, last) = check_segments(&sim);
    assert!(last > first && last - first > 8 * 90_000, "{first} {last}");
}

/// The extended-timestamp threshold without waiting hours: with `time_jitter
/// off`, a publisher starting 5 s before 2^24 ms crosses it on the wire in both
/// directions (publisher to server, server to player).
#[test]
fn publisher_timestamps_cross_2_pow_24_jitter_off() {
    let media = Synthetic {
        start_ms: TS_2_24 - 5000,
        ..Synthetic::default()
    };
    let (sim, publisher, player) = run(
        124,
        Some("play { time_jitter off; }\nhls { enabled on; hls_fragment 2; }"),
        media,
        secs(12),
        true,
    );
    let l = player.log();
    check_player(&l, "player");
    assert_eq!(l.matched, l.frames);
    assert!(publisher.log().sent.len() as u64 >= l.frames);
    assert!(l.last_frame.unwrap().timestamp > TS_2_24 + 5000);
    let (first, last) = check_segments(&sim);
    assert!(
        first / 90 < TS_2_24 && last / 90 > TS_2_24,
        "{first} {last}"
    );
}
