//! One consumer of a source (a player or a sink): a cursor into the source's
//! fan-out log, plus what it must see first.
//!
//! Bounded by time, not count (SRS `queue_length`, in seconds of media): when
//! the media a consumer has yet to read spans more than its bound, or was aged
//! out of the log, it is too slow, so it skips forward to the latest video key
//! frame (or, with none kept, drops media until the next one). The metadata,
//! sequence headers and publish news it skipped over are still delivered. A
//! stalled player therefore never slows the publisher or other players, and
//! holds nothing of its own: the frames it has not read stay shared in the log.
//!
//! Each consumer also keeps its player's clock (`PlayClock`, SRS's per-consumer
//! jitter): with `atc off` a player's timeline starts at 0 when it joins, so
//! the timestamp it gets a frame at is its own, handed out with the frame by
//! [`Consumer::drain_timed`]. The frame itself, shared, keeps the stream's.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

use media_core::jitter::PlayClock;
use media_core::MediaKind;

use super::fanout::{MergeRule, QueueItem};
use super::frame::{Frame, TrackFilter};
use super::source::Source;

/// A subscription to a source. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Consumer {
    source: Arc<Source>,
    owner: u64,
    /// Next log position to read.
    cursor: u64,
    /// Most media time allowed to wait unread, ms (0: no bound).
    span_ms: u64,
    /// Read before the log: the GOP cache a late joiner starts with.
    preroll: VecDeque<QueueItem>,
    /// After a skip with no key frame kept: drop media until the next one.
    skip_to_keyframe: bool,
    /// Waker slot in the log while parked.
    slot: Option<usize>,
    dropped: u64,
    /// Where this consumer's timeline stands against the stream's.
    clock: PlayClock,
    /// Which tracks of a multitrack stream this consumer's player takes.
    tracks: TrackFilter,
}

impl Consumer {
    pub(super) fn new(
        source: Arc<Source>,
        owner: u64,
        cursor: u64,
        span_ms: u64,
        preroll: VecDeque<QueueItem>,
        clock: PlayClock,
    ) -> Self {
        Self {
            source,
            owner,
            cursor,
            span_ms,
            preroll,
            skip_to_keyframe: false,
            slot: None,
            dropped: 0,
            clock,
            tracks: TrackFilter::All,
        }
    }

    /// Sets which tracks of an E-RTMP multitrack stream this consumer
    /// receives ([`TrackFilter::All`] unless set): a player that did not
    /// announce E-RTMP gets the default track only.
    pub fn set_tracks(&mut self, tracks: TrackFilter) {
        self.tracks = tracks;
    }

    /// The source consumed.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// Messages skipped because this consumer was too slow.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// True when something waits and `rule` says it is worth sending now.
    pub fn is_ready(&self, rule: MergeRule) -> bool {
        !self.preroll.is_empty() || self.source.fanout().ready(self.cursor, rule)
    }

    /// Ready when [`is_ready`](Self::is_ready); otherwise parks `cx`'s waker
    /// with the source, which wakes it once the rule holds. No per-consumer
    /// timer: the publisher's messages are the clock.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>, rule: MergeRule) -> Poll<()> {
        if !self.preroll.is_empty() {
            return Poll::Ready(());
        }
        let mut fanout = self.source.fanout();
        if fanout.ready(self.cursor, rule) {
            if let Some(slot) = self.slot.take() {
                fanout.release_slot(slot, self.owner);
            }
            return Poll::Ready(());
        }
        self.slot = Some(fanout.register(self.slot, self.owner, self.cursor, rule, cx.waker()));
        Poll::Pending
    }

    /// Waits for [`poll_ready`](Self::poll_ready).
    pub async fn ready(&mut self, rule: MergeRule) {
        std::future::poll_fn(|cx| self.poll_ready(cx, rule)).await
    }

    /// Moves everything this consumer has yet to read into `out`; returns how
    /// many items moved.
    pub fn drain_into(&mut self, out: &mut Vec<QueueItem>) -> usize {
        self.drain_with(usize::MAX, |item| out.push(item.clone()))
    }

    /// Hands what this consumer has yet to read to `f`, in order, without
    /// cloning it (a player turns each frame straight into its shared
    /// encoding): at most about `max` items (a join burst goes out in slices,
    /// so no player holds room for a whole GOP); returns how many. `f` runs
    /// under the source's fan-out lock: it must not touch the source.
    ///
    /// Media goes out with the stream's timestamps (`frame.msg.timestamp`);
    /// a player uses [`drain_timed`](Self::drain_timed) instead.
    pub fn drain_with(&mut self, max: usize, mut f: impl FnMut(&QueueItem)) -> usize {
        self.drain_timed(max, |item, _| f(item))
    }

    /// [`drain_with`](Self::drain_with), with the timestamp this consumer's
    /// player gets each media item at on its own timeline (the vhost's `atc`
    /// and `time_jitter`, see `media_core::jitter::PlayTimeline`): with
    /// `atc off` it starts at 0 when the player joins and goes on across
    /// republishes. For publish news the timestamp means nothing (0).
    pub fn drain_timed(&mut self, max: usize, mut f: impl FnMut(&QueueItem, u64)) -> usize {
        let clock = &mut self.clock;
        let tracks = self.tracks;
        let mut f = |item: &QueueItem| {
            if let (QueueItem::Media(frame), TrackFilter::DefaultOnly) = (item, tracks) {
                // Another track than the default, or the default rebuilt.
                match Frame::for_consumer(frame, tracks) {
                    None => return,
                    Some(own) if !Arc::ptr_eq(own, frame) => {
                        let own = QueueItem::Media(own.clone());
                        let timestamp = clock.stamp(&frame.msg);
                        return f(&own, timestamp);
                    }
                    Some(_) => {}
                }
            }
            let timestamp = match item {
                QueueItem::Media(frame) => clock.stamp(&frame.msg),
                QueueItem::Published => {
                    clock.on_publish();
                    0
                }
                QueueItem::Unpublished => 0,
            };
            f(item, timestamp)
        };
        let mut count = 0;
        while count < max {
            let Some(item) = self.preroll.pop_front() else {
                break;
            };
            f(&item);
            count += 1;
        }
        if self.preroll.is_empty() && self.preroll.capacity() > 0 {
            self.preroll = VecDeque::new();
        }
        if count >= max {
            return count;
        }
        let mut fanout = self.source.fanout();
        let start = self.cursor;
        let head = fanout.head();
        let first = fanout.first();
        let behind = self.cursor < first
            || (self.span_ms > 0
                && fanout
                    .ts_from(self.cursor)
                    .is_some_and(|t| fanout.newest_ts().saturating_sub(t) > self.span_ms));
        if behind {
            let from = self.cursor.max(first);
            let (target, wait_for_keyframe) = match fanout.last_keyframe() {
                Some(k) if fanout.has_video && k >= from => (k, false),
                _ => (head, fanout.has_video),
            };
            // What is skipped but still needed: publish news, then the latest
            // metadata and sequence headers, in log order.
            let mut kept = 0u64;
            for item in fanout
                .range_from(from)
                .take(usize::try_from(target - from).unwrap_or(usize::MAX))
            {
                if !matches!(item, QueueItem::Media(_)) {
                    f(item);
                    kept += 1;
                }
            }
            let mut headers: Vec<_> = fanout
                .headers
                .all()
                .filter(|(seq, _)| *seq >= self.cursor && *seq < target)
                .collect();
            headers.sort_by_key(|(seq, _)| *seq);
            for (_, frame) in headers {
                f(&QueueItem::Media(frame.clone()));
                kept += 1;
            }
            count += kept as usize;
            let skipped = (target - self.cursor).saturating_sub(kept);
            self.dropped += skipped;
            self.source
                .stats
                .dropped
                .fetch_add(skipped, std::sync::atomic::Ordering::Relaxed);
            self.cursor = target;
            self.skip_to_keyframe = wait_for_keyframe;
        }
        let mut next = self.cursor;
        for item in fanout.range_from(self.cursor) {
            if count >= max {
                break;
            }
            next += 1;
            if self.skip_to_keyframe {
                if let QueueItem::Media(frame) = item {
                    let msg = &frame.msg;
                    let key = msg.kind == MediaKind::Video && msg.flags.keyframe;
                    if key {
                        self.skip_to_keyframe = false;
                    } else if !(msg.flags.sequence_header || msg.kind == MediaKind::Data) {
                        self.dropped += 1;
                        self.source
                            .stats
                            .dropped
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        continue;
                    }
                }
            }
            f(item);
            count += 1;
        }
        self.cursor = next;
        fanout.move_cursor(start, next);
        count
    }

    /// Log items this consumer has yet to read (not counting its preroll).
    pub fn unread(&self) -> u64 {
        self.source.fanout().head().saturating_sub(self.cursor)
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.source
            .fanout()
            .remove_consumer(self.slot.take(), self.owner, self.cursor);
    }
}
