//! A consumer's queue: what one player has yet to receive.
//!
//! Bounded by time, not count (SRS `queue_length`, in seconds of media): when the
//! span between the oldest and newest queued media exceeds the bound, the player
//! is too slow, so its queue is emptied and it skips forward to the next video
//! key frame. A stalled player therefore holds at most `queue_length` seconds of
//! shared frames, never slows the publisher and never slows other players.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use event_listener::{Event, EventListener};
use media_core::MediaKind;

use super::frame::SharedFrame;

/// What a consumer receives.
#[derive(Debug, Clone)]
pub enum QueueItem {
    /// A media or data message.
    Media(SharedFrame),
    /// The publisher started (or restarted) publishing this stream.
    Published,
    /// The publisher left; the consumer stays and waits for a republish.
    Unpublished,
}

#[derive(Debug, Default)]
struct Inner {
    items: VecDeque<QueueItem>,
    /// After an overflow: drop media until the next video key frame.
    skip_to_keyframe: bool,
    /// Whether the stream carries video (audio-only streams can't wait for a key frame).
    has_video: bool,
    closed: bool,
}

/// A bounded, wakeable queue between a source and one consumer.
#[derive(Debug)]
pub struct ConsumerQueue {
    inner: Mutex<Inner>,
    event: Event,
    max_span_ms: u64,
    dropped: AtomicU64,
}

impl ConsumerQueue {
    /// A queue holding at most `max_span_ms` of media (0 disables the bound).
    pub fn new(max_span_ms: u64) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            event: Event::new(),
            max_span_ms,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere must not take every player down with a poisoned lock.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an item and wakes the consumer. Returns false once the consumer is gone.
    pub fn push(&self, item: QueueItem) -> bool {
        let mut inner = self.lock();
        if inner.closed {
            return false;
        }
        if let QueueItem::Media(frame) = &item {
            let msg = &frame.msg;
            if msg.kind == MediaKind::Video {
                inner.has_video = true;
            }
            if inner.skip_to_keyframe {
                let resume = !inner.has_video
                    || (msg.kind == MediaKind::Video && msg.flags.keyframe)
                    || msg.flags.sequence_header
                    || msg.kind == MediaKind::Data;
                if !resume {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                if msg.kind == MediaKind::Video && msg.flags.keyframe {
                    inner.skip_to_keyframe = false;
                }
            }
            if self.max_span_ms > 0 && self.overflows(&inner, msg.timestamp) {
                let before = inner.items.len();
                inner
                    .items
                    .retain(|i| !matches!(i, QueueItem::Media(f) if !f.msg.flags.sequence_header));
                let dropped = (before - inner.items.len()) as u64;
                self.dropped.fetch_add(dropped, Ordering::Relaxed);
                let resumes_here =
                    !inner.has_video || (msg.kind == MediaKind::Video && msg.flags.keyframe);
                if !resumes_here {
                    inner.skip_to_keyframe = true;
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
            }
        }
        inner.items.push_back(item);
        drop(inner);
        self.event.notify(1);
        true
    }

    fn overflows(&self, inner: &Inner, newest: u64) -> bool {
        let oldest = inner.items.iter().find_map(|i| match i {
            QueueItem::Media(f) if !f.msg.flags.sequence_header => Some(f.msg.timestamp),
            _ => None,
        });
        matches!(oldest, Some(t) if newest.saturating_sub(t) > self.max_span_ms)
    }

    /// Moves everything queued into `out`; returns how many items moved.
    pub fn drain_into(&self, out: &mut Vec<QueueItem>) -> usize {
        let mut inner = self.lock();
        let n = inner.items.len();
        out.extend(inner.items.drain(..));
        n
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A listener that fires on the next push (register before checking emptiness).
    pub fn listen(&self) -> EventListener {
        self.event.listen()
    }

    /// Frames dropped because this consumer was too slow.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Marks the consumer gone; later pushes are refused and the source forgets it.
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.items.clear();
        drop(inner);
        self.event.notify(usize::MAX);
    }

    /// True after [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }
}
