//! Hub behaviour: publish/play meeting, late joiners, slow consumers, unpublish.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use media_core::gop::GopConfig;
use media_core::jitter::JitterMode;
use media_core::{MediaKind, MediaMessage};

use super::*;

fn options(queue_span_ms: u64) -> SourceOptions {
    SourceOptions {
        gop: GopConfig::default(),
        jitter: JitterMode::Off,
        atc: false,
        queue_span_ms,
    }
}

fn key(stream: &str) -> StreamKey {
    StreamKey {
        vhost: "__defaultVhost__".into(),
        app: "live".into(),
        stream: stream.into(),
    }
}

/// An AVC video tag body: key frame or inter frame, NALU packet.
fn video(keyframe: bool) -> Bytes {
    Bytes::from(vec![
        if keyframe { 0x17 } else { 0x27 },
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        0x65,
    ])
}

/// An AVC sequence header tag body.
fn video_header() -> Bytes {
    Bytes::from(vec![0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0, 0x01])
}

fn drain(consumer: &mut Consumer) -> Vec<QueueItem> {
    let mut items = Vec::new();
    consumer.drain_into(&mut items);
    items
}

/// A waker that counts its wakeups.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Counter {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn poll_ready(consumer: &mut Consumer, waker: &Waker, rule: MergeRule) -> Poll<()> {
    consumer.poll_ready(&mut Context::from_waker(waker), rule)
}

/// SRS's defaults: `mw_latency 350`, `mw_msgs 8`.
const SRS_RULE: MergeRule = MergeRule {
    min_span_ms: 350,
    min_msgs: 8,
};

/// A live source with one player parked on a counting waker.
struct Parked {
    source: Arc<Source>,
    guard: Option<PublishGuard>,
    player: Consumer,
    counter: Arc<Counter>,
    waker: Waker,
    _hub: Arc<Hub>,
}

impl Parked {
    fn new(stream: &str) -> Self {
        let hub = Hub::new();
        let source = hub.source(&key(stream), || options(30_000));
        let guard = Some(hub.publish(&source, 1, 0).unwrap());
        let player = hub.subscribe(&source);
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(counter.clone());
        Self {
            source,
            guard,
            player,
            counter,
            waker,
            _hub: hub,
        }
    }

    fn poll(&mut self, rule: MergeRule) -> Poll<()> {
        poll_ready(&mut self.player, &self.waker, rule)
    }
}

fn media(items: &[QueueItem]) -> Vec<MediaMessage> {
    items
        .iter()
        .filter_map(|i| match i {
            QueueItem::Media(f) => Some(f.msg.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_name_that_could_leave_hls_path_cannot_be_published_but_can_be_waited_for() {
    let hub = Hub::new();
    let source = hub.source(&key("../../etc/x"), || options(30_000));
    let mut player = hub.subscribe(&source);
    assert!(matches!(
        hub.publish(&source, 1, 0),
        Err(PublishError::BadName(NameError::BadSegment("stream")))
    ));
    assert_eq!(source.publisher(), None);
    assert!(
        drain(&mut player).is_empty(),
        "no publish news for a refusal"
    );
}

#[test]
fn second_publisher_is_refused_and_released_on_drop() {
    let hub = Hub::new();
    let source = hub.source(&key("a"), || options(30_000));
    let guard = hub.publish(&source, 1, 0).expect("first publish");
    assert!(matches!(
        hub.publish(&source, 2, 0),
        Err(PublishError::AlreadyPublishing(_))
    ));
    drop(guard);
    assert!(
        hub.publish(&source, 2, 0).is_ok(),
        "stream free again after unpublish"
    );
}

#[test]
fn late_player_starts_at_the_sequence_header_and_key_frame() {
    let hub = Hub::new();
    let source = hub.source(&key("a"), || options(30_000));
    let _guard = hub.publish(&source, 1, 0).unwrap();
    source.push(MediaKind::Video, 0, video_header());
    source.push(MediaKind::Video, 0, video(true));
    source.push(MediaKind::Video, 40, video(false));
    source.push(MediaKind::Video, 80, video(false));
    let mut player = hub.subscribe(&source);
    let items = drain(&mut player);
    assert!(
        items.iter().all(|i| matches!(i, QueueItem::Media(_))),
        "joining a live stream is not a publish event"
    );
    let msgs = media(&items);
    assert!(msgs[0].flags.sequence_header, "{msgs:?}");
    assert!(msgs[1].flags.keyframe);
    assert_eq!(msgs.len(), 4);
    // Live frames follow.
    source.push(MediaKind::Video, 120, video(false));
    assert_eq!(media(&drain(&mut player)).len(), 1);
}

#[test]
fn late_joiners_share_the_gop_frames_and_get_a_header_repeated_inside_it_first() {
    let hub = Hub::new();
    let source = hub.source(&key("share"), || options(30_000));
    let _guard = hub.publish(&source, 1, 0).unwrap();
    source.push(MediaKind::Video, 0, video_header());
    source.push(MediaKind::Video, 0, video(true));
    // Some encoders repeat the (identical) sequence header mid-GOP.
    source.push(MediaKind::Video, 40, video_header());
    source.push(MediaKind::Video, 40, video(false));
    let mut a = hub.subscribe(&source);
    let mut b = hub.subscribe(&source);
    let (ia, ib) = (drain(&mut a), drain(&mut b));
    let msgs = media(&ia);
    assert!(msgs[0].flags.sequence_header, "{msgs:?}");
    assert!(msgs[1].flags.keyframe, "{msgs:?}");
    assert!(msgs[2].flags.sequence_header, "{msgs:?}");
    assert_eq!(msgs.len(), 4);
    assert_eq!(ia.len(), ib.len());
    for (x, y) in ia.iter().zip(&ib) {
        match (x, y) {
            (QueueItem::Media(x), QueueItem::Media(y)) => {
                assert!(Arc::ptr_eq(x, y), "joiners must share frames")
            }
            _ => panic!("unexpected {x:?} {y:?}"),
        }
    }
}

#[test]
fn player_waiting_before_publisher_gets_published_then_media() {
    let hub = Hub::new();
    let source = hub.source(&key("early"), || options(30_000));
    let mut player = hub.subscribe(&source);
    assert!(drain(&mut player).is_empty());
    let guard = hub.publish(&source, 1, 0).unwrap();
    source.push(MediaKind::Video, 0, video(true));
    let items = drain(&mut player);
    assert!(matches!(items[0], QueueItem::Published));
    assert_eq!(media(&items).len(), 1);
    drop(guard);
    assert!(matches!(drain(&mut player)[..], [QueueItem::Unpublished]));
}

#[test]
fn slow_consumer_is_bounded_and_skips_to_the_next_key_frame() {
    let hub = Hub::new();
    let source = hub.source(&key("slow"), || options(1_000));
    let _guard = hub.publish(&source, 1, 0).unwrap();
    let mut slow = hub.subscribe(&source);
    let mut fast = hub.subscribe(&source);
    let mut fast_got = 0;
    source.push(MediaKind::Video, 0, video_header());
    for i in 0..=200u64 {
        let t = i * 40;
        source.push(MediaKind::Video, t, video(i % 50 == 0));
        fast_got += media(&drain(&mut fast)).len();
        // The slow consumer never reads; the shared log keeps ~1 s of media
        // or the cached GOP (2 s here), not more.
        let kept = source.fanout().kept();
        assert!(kept <= 50 + 3, "log grew to {kept}");
    }
    assert_eq!(
        fast_got, 202,
        "a slow consumer must not cost the fast one anything"
    );
    let left = media(&drain(&mut slow));
    assert!(slow.dropped() > 100, "dropped {}", slow.dropped());
    assert!(
        left[0].flags.sequence_header,
        "the skipped sequence header comes back first: {left:?}"
    );
    assert!(
        left[1].flags.keyframe && left[1].timestamp == 8_000,
        "then the latest key frame: {left:?}"
    );
    assert_eq!(left.len(), 2);
}

#[test]
fn slow_consumer_without_a_kept_key_frame_waits_for_the_next() {
    let hub = Hub::new();
    // No GOP cache, so nothing keeps the key frame in the log.
    let source = hub.source(&key("longgop"), || SourceOptions {
        gop: GopConfig {
            enabled: false,
            ..GopConfig::default()
        },
        ..options(1_000)
    });
    let _guard = hub.publish(&source, 1, 0).unwrap();
    let mut slow = hub.subscribe(&source);
    // Key frames every 4 s, bound 1 s: the last key frame ages out.
    for i in 0..60u64 {
        source.push(MediaKind::Video, i * 40, video(i % 100 == 0));
    }
    assert!(
        media(&drain(&mut slow)).is_empty(),
        "inter frames without their key frame are useless"
    );
    source.push(MediaKind::Video, 2_400, video(false));
    assert!(media(&drain(&mut slow)).is_empty());
    source.push(MediaKind::Video, 2_440, video(true));
    source.push(MediaKind::Video, 2_480, video(false));
    let got = media(&drain(&mut slow));
    assert_eq!(got.len(), 2);
    assert!(got[0].flags.keyframe);
    assert!(slow.dropped() >= 61);
}

#[test]
fn a_parked_consumer_is_woken_once_per_merge_window() {
    let mut p = Parked::new("mw");
    assert!(p.poll(SRS_RULE).is_pending());
    let mut t = 0;
    // 40 ms apart: 9 messages span 320 ms, not enough; the 10th spans 360 ms.
    for _ in 0..9 {
        p.source.push(MediaKind::Video, t, video(false));
        t += 40;
    }
    assert_eq!(p.counter.count(), 0, "woken before the window filled");
    assert!(!p.player.is_ready(SRS_RULE));
    p.source.push(MediaKind::Video, t, video(false));
    assert_eq!(p.counter.count(), 1);
    p.source.push(MediaKind::Video, t + 40, video(false));
    assert_eq!(p.counter.count(), 1, "one wakeup, not one per message");
    assert!(p.poll(SRS_RULE).is_ready());
    assert_eq!(media(&drain(&mut p.player)).len(), 11);

    // Unpublishing is news: it wakes at once, whatever the rule.
    assert!(p.poll(SRS_RULE).is_pending());
    p.source.push(MediaKind::Video, t + 80, video(false));
    assert_eq!(p.counter.count(), 1);
    p.guard = None;
    assert_eq!(p.counter.count(), 2);
    assert!(matches!(
        drain(&mut p.player)[..],
        [QueueItem::Media(_), QueueItem::Unpublished]
    ));
}

#[test]
fn a_pause_releases_what_waits_and_the_rule_holds_again_after() {
    let mut p = Parked::new("pause");
    assert!(p.poll(SRS_RULE).is_pending());
    for t in [0, 40, 80] {
        p.source.push(MediaKind::Video, t, video(false));
    }
    assert_eq!(p.counter.count(), 0, "under one window: held");
    p.source.release_waiting();
    assert_eq!(p.counter.count(), 1, "the publisher's pause releases it");
    assert!(p.poll(SRS_RULE).is_ready());
    assert_eq!(media(&drain(&mut p.player)).len(), 3);

    // Released media is not released twice, and what comes after it waits
    // for a window of its own again.
    p.source.release_waiting();
    assert!(p.poll(SRS_RULE).is_pending());
    p.source.push(MediaKind::Video, 120, video(false));
    assert_eq!(p.counter.count(), 1, "new media is under the rule again");
    assert!(!p.player.is_ready(SRS_RULE));
    p.source.release_waiting();
    assert_eq!(p.counter.count(), 2);

    // A player that joins after a release is not rushed by it.
    let mut late = p._hub.subscribe(&p.source);
    drain(&mut late);
    p.source.push(MediaKind::Video, 160, video(false));
    assert!(!late.is_ready(SRS_RULE));
}

#[test]
fn immediate_rule_wakes_on_every_message_and_count_rule_needs_more_than_min_msgs() {
    let mut p = Parked::new("imm");
    for i in 0..3u64 {
        assert!(p.poll(MergeRule::IMMEDIATE).is_pending());
        p.source
            .push(MediaKind::Audio, i * 23, Bytes::from_static(&[0xAF, 1, 0]));
        assert_eq!(p.counter.count() as u64, i + 1);
        assert_eq!(drain(&mut p.player).len(), 1);
    }
    // mw_latency 0 with mw_msgs 8 (SRS's default): more than 8 messages.
    let rule = MergeRule {
        min_span_ms: 0,
        min_msgs: 8,
    };
    assert!(p.poll(rule).is_pending());
    for i in 0..8u64 {
        p.source
            .push(MediaKind::Audio, 100 + i, Bytes::from_static(&[0xAF, 1, 0]));
    }
    assert_eq!(p.counter.count(), 3);
    p.source
        .push(MediaKind::Audio, 200, Bytes::from_static(&[0xAF, 1, 0]));
    assert_eq!(p.counter.count(), 4);
}

#[test]
fn a_slow_stream_is_not_held_back_for_its_message_count() {
    let mut p = Parked::new("slides");
    assert!(p.poll(SRS_RULE).is_pending());
    // One picture a second: two messages already span a second.
    p.source.push(MediaKind::Video, 0, video(true));
    p.source
        .push(MediaKind::Video, COUNT_WAIVER_SPAN_MS - 1, video(false));
    assert_eq!(p.counter.count(), 0);
    p.source.push(MediaKind::Video, 1_000, video(false));
    assert_eq!(p.counter.count(), 1);
    assert_eq!(media(&drain(&mut p.player)).len(), 3);
}

#[test]
fn timestamps_that_stand_still_cannot_starve_or_grow_the_log() {
    let mut p = Parked::new("still");
    assert!(p.poll(SRS_RULE).is_pending());
    for _ in 0..MAX_MERGE_MSGS {
        p.source
            .push(MediaKind::Audio, 5, Bytes::from_static(&[0xAF, 1, 0]));
    }
    assert_eq!(
        p.counter.count(),
        1,
        "woken by count when time stands still"
    );
    for _ in 0..MAX_ENTRIES + 100 {
        p.source
            .push(MediaKind::Audio, 5, Bytes::from_static(&[0xAF, 1, 0]));
    }
    assert_eq!(p.source.fanout().kept(), MAX_ENTRIES);
    let got = drain(&mut p.player).len();
    assert_eq!(
        got, 0,
        "audio-only: a consumer behind the log resumes at the head"
    );
    assert!(p.player.dropped() >= 100);
}

#[test]
fn dropping_a_parked_consumer_forgets_its_waker() {
    let hub = Hub::new();
    let source = hub.source(&key("park"), || options(30_000));
    let mut player = hub.subscribe(&source);
    let waker = Waker::from(Arc::new(Counter::default()));
    assert!(poll_ready(&mut player, &waker, MergeRule::IMMEDIATE).is_pending());
    // Polling again keeps one slot, not two.
    assert!(poll_ready(&mut player, &waker, MergeRule::IMMEDIATE).is_pending());
    assert_eq!(source.fanout().waiting(), 1);
    drop(player);
    assert_eq!(source.fanout().waiting(), 0);
    assert_eq!(source.consumer_count(), 0);
}

#[test]
fn closed_consumers_are_forgotten_and_idle_sources_reaped() {
    let hub = Hub::new();
    let source = hub.source(&key("gone"), || options(30_000));
    let player = hub.subscribe(&source);
    assert_eq!(source.consumer_count(), 1);
    drop(player);
    assert_eq!(source.consumer_count(), 0);
    drop(source);
    assert_eq!(hub.reap_idle(), 1);
    assert!(hub.sources().is_empty());
}

#[test]
fn a_crowd_of_sources_gives_its_table_back_once_reaped() {
    let hub = Hub::new();
    for i in 0..2000 {
        drop(hub.source(&key(&format!("s{i}")), || options(30_000)));
    }
    let crowded = lock(&hub.sources).capacity();
    assert!(crowded >= 2000);
    let kept = hub.source(&key("kept"), || options(30_000));
    let _player = hub.subscribe(&kept);
    assert_eq!(hub.reap_idle(), 2000);
    let after = lock(&hub.sources).capacity();
    assert!(after < crowded / 8, "capacity {crowded} -> {after}");
    assert!(hub.find(&key("kept")).is_some());
}

/// `onMetaData` with an empty ECMA array.
fn metadata() -> Bytes {
    let mut b = vec![0x02, 0x00, 0x0A];
    b.extend_from_slice(b"onMetaData");
    b.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 0, 9]);
    Bytes::from(b)
}

fn audio_header() -> Bytes {
    Bytes::from_static(&[0xAF, 0, 0x12, 0x10])
}

fn audio() -> Bytes {
    Bytes::from_static(&[0xAF, 1, 0x21, 0x10])
}

/// A source on a vhost with `atc` and `time_jitter` as given.
fn timed_source(hub: &Hub, stream: &str, atc: bool, jitter: JitterMode) -> Arc<Source> {
    hub.source(&key(stream), || SourceOptions {
        jitter,
        atc,
        ..options(30_000)
    })
}

/// Publishes the opening of a stream then two GOPs (key frames at 0 and
/// 4000 ms, a frame every 200 ms, audio 10 ms after each), from `base` ms on.
fn push_two_gops(source: &Source, base: u64) {
    source.push(MediaKind::Data, base, metadata());
    source.push(MediaKind::Video, base, video_header());
    source.push(MediaKind::Audio, base, audio_header());
    for frame in 0..40 {
        let t = base + frame * 200;
        source.push(MediaKind::Video, t, video(frame % 20 == 0));
        source.push(MediaKind::Audio, t + 10, audio());
    }
}

/// What a consumer's player is sent, with the time it gets each item at.
fn drain_timed(consumer: &mut Consumer) -> Vec<(MediaMessage, u64)> {
    let mut out = Vec::new();
    consumer.drain_timed(usize::MAX, |item, ts| {
        if let QueueItem::Media(f) = item {
            out.push((f.msg.clone(), ts));
        }
    });
    out
}

fn times(sent: &[(MediaMessage, u64)]) -> Vec<u64> {
    sent.iter().map(|(_, ts)| *ts).collect()
}

#[test]
fn a_late_joiner_starts_at_zero_with_metadata_and_headers_first_in_srs_order() {
    let hub = Hub::new();
    let source = timed_source(&hub, "join", false, JitterMode::Full);
    let _guard = hub.publish(&source, 1, 0).unwrap();
    push_two_gops(&source, 0);
    let mut late = hub.subscribe(&source);
    let sent = drain_timed(&mut late);
    let kinds: Vec<_> = sent
        .iter()
        .map(|(m, _)| (m.kind, m.flags.sequence_header))
        .collect();
    assert_eq!(
        kinds[..3],
        [
            (MediaKind::Data, false),
            (MediaKind::Audio, true),
            (MediaKind::Video, true)
        ]
    );
    // The stream's own times stay in the shared frames.
    assert_eq!(sent[3].0.timestamp, 4000);
    assert_eq!(times(&sent)[..7], [0, 0, 0, 0, 10, 200, 210]);
    // Live frames follow on the same timeline; metadata stays at 0.
    source.push(MediaKind::Video, 8000, video(false));
    source.push(MediaKind::Data, 8005, metadata());
    assert_eq!(times(&drain_timed(&mut late)), vec![4000, 0]);
    // A sink (HLS) keeps the stream's timestamps.
    let mut sink = hub.subscribe_with_span(&source, 30_000);
    let sent = drain_timed(&mut sink);
    assert_eq!(sent[3].1, 4000);
    assert!(sent.iter().all(|(m, ts)| m.timestamp == *ts));
}

#[test]
fn players_from_the_start_get_the_streams_own_times_so_share_its_encodings() {
    let hub = Hub::new();
    let source = timed_source(&hub, "early", false, JitterMode::Full);
    let mut early = hub.subscribe(&source);
    let _guard = hub.publish(&source, 1, 0).unwrap();
    push_two_gops(&source, 0);
    let sent = drain_timed(&mut early);
    assert!(
        sent.iter()
            .all(|(m, ts)| m.timestamp == *ts || m.kind == MediaKind::Data),
        "{sent:?}"
    );
}

#[test]
fn a_player_staying_across_a_republish_goes_on_from_where_it_was() {
    let hub = Hub::new();
    let source = timed_source(&hub, "again", false, JitterMode::Full);
    let mut player = hub.subscribe(&source);
    let guard = hub.publish(&source, 1, 0).unwrap();
    push_two_gops(&source, 0);
    let first = drain_timed(&mut player);
    let last = *times(&first).iter().max().unwrap();
    drop(guard);
    let _guard = hub.publish(&source, 2, 10_000).unwrap();
    // The new publisher's clock starts over.
    push_two_gops(&source, 0);
    let second = drain_timed(&mut player);
    let frames: Vec<u64> = second
        .iter()
        .filter(|(m, _)| m.kind != MediaKind::Data)
        .map(|(_, ts)| *ts)
        .collect();
    assert_eq!(frames[0], last + media_core::jitter::DEFAULT_FRAME_DELTA_MS);
    assert!(frames.windows(2).all(|w| w[0] <= w[1]), "{frames:?}");
    // A player joining now starts at 0 again.
    let mut fresh = hub.subscribe(&source);
    assert_eq!(times(&drain_timed(&mut fresh))[..4], [0, 0, 0, 0]);
}

#[test]
fn with_atc_every_player_gets_the_publishers_time() {
    let hub = Hub::new();
    // atc turns the source's correction off (PlayConfig::effective_jitter).
    let source = timed_source(&hub, "atc", true, JitterMode::Off);
    let _guard = hub.publish(&source, 1, 0).unwrap();
    let base = 1_000_000_000;
    push_two_gops(&source, base);
    let mut late = hub.subscribe(&source);
    let sent = drain_timed(&mut late);
    // Metadata and sequence headers at the start of the GOP the player gets.
    let expected: Vec<u64> = [4000, 4000, 4000, 4000, 4010, 4200]
        .iter()
        .map(|t| base + t)
        .collect();
    assert_eq!(times(&sent)[..6], expected);
    // time_jitter off without atc: the stream's times, headers as they were.
    let source = timed_source(&hub, "off", false, JitterMode::Off);
    let _guard = hub.publish(&source, 1, 0).unwrap();
    push_two_gops(&source, base);
    let sent = drain_timed(&mut hub.subscribe(&source));
    assert!(sent.iter().all(|(m, ts)| m.timestamp == *ts));
}

#[test]
fn a_player_that_paused_past_its_queue_skips_ahead_on_a_forward_timeline() {
    let hub = Hub::new();
    let source = hub.source(&key("paused"), || SourceOptions {
        jitter: JitterMode::Full,
        ..options(1_000)
    });
    let _guard = hub.publish(&source, 1, 0).unwrap();
    push_two_gops(&source, 0);
    let mut player = hub.subscribe(&source);
    let first = times(&drain_timed(&mut player));
    // Paused (not drained) while two more GOPs went by: more than its
    // 1 s bound, so it skips to the latest key frame, after the headers.
    for frame in 40..80 {
        let t = frame * 200;
        source.push(MediaKind::Video, t, video(frame % 20 == 0));
        source.push(MediaKind::Audio, t + 10, audio());
    }
    let after = drain_timed(&mut player);
    assert!(player.dropped() > 0, "it skipped");
    let last = *first.iter().max().unwrap();
    assert!(after.iter().all(|(_, ts)| *ts >= last), "{after:?}");
    let frames: Vec<u64> = after
        .iter()
        .filter(|(m, _)| !m.flags.sequence_header && m.kind != MediaKind::Data)
        .map(|(_, ts)| *ts)
        .collect();
    assert!(frames.windows(2).all(|w| w[0] <= w[1]), "{frames:?}");
}

/// Issue 22: a sink with a long lag bound (HLS: 30 s) that keeps up must not
/// make the log keep 30 s of media it has read; only the cached GOP stays, and
/// once the publisher left and the sink read the news, nothing.
#[test]
fn a_sink_that_keeps_up_leaves_only_the_gop_and_nothing_after_unpublish() {
    let hub = Hub::new();
    let source = hub.source(&key("hls"), || options(10_000));
    let guard = hub.publish(&source, 1, 0).unwrap();
    let mut sink = hub.subscribe_with_span(&source, 30_000);
    let frame = 1_000;
    let payload = |key: bool| {
        let mut p = video(key).to_vec();
        p.resize(frame, 0);
        Bytes::from(p)
    };
    source.push(MediaKind::Video, 0, video_header());
    // 20 s at 25 fps, a key frame every 2 s; the sink reads as it goes.
    for i in 0..500u64 {
        source.push(MediaKind::Video, i * 40, payload(i % 50 == 0));
        drain(&mut sink);
        let held = source.fanout().bytes();
        assert!(
            held <= 51 * frame + 64,
            "after {i} frames the log holds {held} B: more than the GOP"
        );
    }
    drop(guard);
    drain(&mut sink);
    assert_eq!(source.fanout().bytes(), 0, "the log outlived the stream");
    assert_eq!(source.fanout().kept(), 0);

    // A second consumer that never reads keeps what it has not read (up to
    // its bound); when it leaves, that goes too.
    let guard = hub.publish(&source, 1, 0).unwrap();
    let lagging = hub.subscribe(&source);
    for i in 0..100u64 {
        source.push(MediaKind::Video, i * 40, payload(i % 50 == 0));
        drain(&mut sink);
    }
    assert!(source.fanout().bytes() >= 100 * frame);
    drop(lagging);
    drop(guard);
    drain(&mut sink);
    assert_eq!(source.fanout().bytes(), 0);
}

/// E-RTMP v2 ModEx (a TimestampOffsetNano) in front of a multitrack
/// message: E-RTMP players get it as published, byte for byte; others get
/// track 0 in legacy form, which has no place for the offset.
#[test]
fn modex_multitrack_reaches_enhanced_players_untouched() {
    // A OneTrack avc1 key frame of track 0 (CodedFrames, cts 40).
    let body = [0, 0, 0x28, 0, 0, 0, 2, 0x65, 0x88];
    let mut plain = vec![0x80 | (1 << 4) | 6, 0x01];
    plain.extend_from_slice(b"avc1");
    plain.push(0);
    plain.extend_from_slice(&body);
    let mut modex = vec![0x80 | (1 << 4) | 7, 2, 0x07, 0xa1, 0x20, 0x06];
    modex.extend_from_slice(&plain[1..]);
    let frame = |p: Vec<u8>| Frame::new(MediaMessage::new(MediaKind::Video, 80, Bytes::from(p)));
    let (plain, modex) = (frame(plain), frame(modex));
    assert!(
        modex.msg.flags.keyframe,
        "track 0's key frame, behind ModEx"
    );
    let all = Frame::for_consumer(&modex, TrackFilter::All).unwrap();
    assert!(Arc::ptr_eq(all, &modex));
    let legacy = Frame::for_consumer(&modex, TrackFilter::DefaultOnly).unwrap();
    assert_eq!(&legacy.msg.payload[..5], &[0x17, 1, 0, 0, 0x28]);
    let plain_legacy = Frame::for_consumer(&plain, TrackFilter::DefaultOnly).unwrap();
    assert_eq!(legacy.msg, plain_legacy.msg);
    // A single-track ModEx message is what it is for everyone.
    let single = frame(b"\x97\x02\x00\x00\x01\x01avc1\x00\x00\x00".to_vec());
    let got = Frame::for_consumer(&single, TrackFilter::DefaultOnly).unwrap();
    assert!(Arc::ptr_eq(got, &single));
}
