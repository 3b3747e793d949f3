//! Hub behaviour: publish/play meeting, late joiners, slow consumers, unpublish.

use std::time::Duration;

use bytes::Bytes;
use media_core::gop::GopConfig;
use media_core::jitter::JitterMode;
use media_core::{MediaKind, MediaMessage};

use super::*;

fn options(queue_span_ms: u64) -> SourceOptions {
    SourceOptions {
        gop: GopConfig::default(),
        jitter: JitterMode::Off,
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

fn drain(queue: &ConsumerQueue) -> Vec<QueueItem> {
    let mut items = Vec::new();
    queue.drain_into(&mut items);
    items
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
    let player = hub.subscribe(&source);
    let items = drain(player.queue());
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
    assert_eq!(media(&drain(player.queue())).len(), 1);
}

#[test]
fn player_waiting_before_publisher_gets_published_then_media() {
    let hub = Hub::new();
    let source = hub.source(&key("early"), || options(30_000));
    let player = hub.subscribe(&source);
    assert!(drain(player.queue()).is_empty());
    let guard = hub.publish(&source, 1, 0).unwrap();
    source.push(MediaKind::Video, 0, video(true));
    let items = drain(player.queue());
    assert!(matches!(items[0], QueueItem::Published));
    assert_eq!(media(&items).len(), 1);
    drop(guard);
    assert!(matches!(
        drain(player.queue())[..],
        [QueueItem::Unpublished]
    ));
}

#[test]
fn slow_consumer_is_bounded_and_skips_to_the_next_key_frame() {
    let hub = Hub::new();
    let source = hub.source(&key("slow"), || options(1_000));
    let _guard = hub.publish(&source, 1, 0).unwrap();
    let slow = hub.subscribe(&source);
    let fast = hub.subscribe(&source);
    let mut fast_got = 0;
    for i in 0..=200u64 {
        let t = i * 40;
        source.push(MediaKind::Video, t, video(i % 50 == 0));
        fast_got += media(&drain(fast.queue())).len();
        // The slow consumer never reads; its queue must stay within ~1 s of media.
        assert!(
            slow.queue().len() <= 1_000 / 40 + 3,
            "queue grew to {}",
            slow.queue().len()
        );
    }
    assert_eq!(
        fast_got, 201,
        "a slow consumer must not cost the fast one anything"
    );
    assert!(slow.queue().dropped() > 0);
    let left = media(&drain(slow.queue()));
    let first = left.first().expect("something queued");
    assert!(
        first.flags.keyframe,
        "after an overflow the queue restarts at a key frame"
    );
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
    let _ = Duration::ZERO;
}
