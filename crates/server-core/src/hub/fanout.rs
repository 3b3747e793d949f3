//! A source's fan-out log: every message appended once, read by every consumer
//! at its own cursor.
//!
//! The alternative, a queue per consumer, costs a lock, a queue push and a
//! wakeup per message per player: at a thousand players that was the largest
//! user-space cost of the server. Here a publisher's message costs one append
//! and one pass over the consumers that are waiting, whatever the audience; a
//! consumer costs a cursor. Consumers are woken by the rule of SRS's merged
//! write (`mw_latency`, `mw_msgs`): only once enough media is waiting for them,
//! so a player gets one wakeup and one write per merge window, not one per
//! message, and no timer of its own.
//!
//! The log keeps only what some consumer has yet to read, plus the cached GOP
//! (the pin) late joiners start from. Retention is further bounded by media
//! time (the longest consumer `queue_length`), by [`MAX_ENTRIES`] and by
//! [`MAX_BYTES`]; a consumer that falls behind what is kept skips forward (see
//! `consumer.rs`). Keeping read messages for the longest bound instead cost a
//! stream with an HLS sink (30 s bound, always caught up) 30 s of its media,
//! about 2 MB at 500 kbit/s, and kept it after the publisher left (issue 22).

use std::collections::{BTreeMap, VecDeque};
use std::task::Waker;

use media_core::MediaKind;

use super::frame::SharedFrame;

/// Most messages kept for consumers, whatever their timestamps say (a stream
/// whose timestamps stand still would otherwise never age out).
pub const MAX_ENTRIES: usize = 16 * 1024;
/// Most payload bytes kept for consumers.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// A waiting consumer is woken once this many messages wait, whatever the
/// merge rule says (timestamps that stop advancing must not starve it).
pub const MAX_MERGE_MSGS: u64 = 256;

/// Waiting media spanning this long is sent even with fewer than `mw_msgs`
/// messages: a slow stream (a slideshow, sparse data) is not held back for a
/// message count it takes seconds to reach.
pub const COUNT_WAIVER_SPAN_MS: u64 = 500;

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

impl QueueItem {
    fn frame(&self) -> Option<&SharedFrame> {
        match self {
            QueueItem::Media(f) => Some(f),
            _ => None,
        }
    }
}

/// When a waiting consumer is worth waking: SRS's merged-write rule.
///
/// Ready when more than `min_msgs` messages wait and they span at least
/// `min_span_ms` of media time (SRS `mw_msgs` and `mw_latency`), or when they
/// span [`COUNT_WAIVER_SPAN_MS`] (and `min_span_ms`) however few they are. Time
/// is the stream's own, so a player is written to once per `min_span_ms` of
/// media without a timer of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MergeRule {
    /// Media time the waiting messages must span, ms.
    pub min_span_ms: u64,
    /// More than this many messages must wait.
    pub min_msgs: u32,
}

impl MergeRule {
    /// Wake on every message.
    pub const IMMEDIATE: MergeRule = MergeRule {
        min_span_ms: 0,
        min_msgs: 0,
    };
}

#[derive(Debug)]
struct Waiter {
    owner: u64,
    cursor: u64,
    rule: MergeRule,
    waker: Waker,
}

/// The latest metadata and sequence headers, by position, so a consumer that
/// skips forward never skips the codec configuration it needs.
#[derive(Debug, Default, Clone)]
pub(super) struct Headers {
    pub metadata: Option<(u64, SharedFrame)>,
    /// The default track's (or a single-track stream's) video header.
    pub video: Option<(u64, SharedFrame)>,
    /// The default track's audio header.
    pub audio: Option<(u64, SharedFrame)>,
    /// The other tracks' headers of an E-RTMP multitrack stream, by
    /// (kind, `media_core::gop::header_track`); a bounded few.
    pub tracks: Vec<((MediaKind, u16), (u64, SharedFrame))>,
}

impl Headers {
    /// Remembers a sequence header at `seq` in its track's slot.
    fn keep(&mut self, seq: u64, frame: &SharedFrame) {
        let msg = &frame.msg;
        let track = media_core::gop::header_track(msg);
        let slot = (seq, frame.clone());
        match (msg.kind, track) {
            (MediaKind::Video, 0) => self.video = Some(slot),
            (MediaKind::Audio, 0) => self.audio = Some(slot),
            (kind, track) => {
                let key = (kind, track);
                if let Some(entry) = self.tracks.iter_mut().find(|(k, _)| *k == key) {
                    entry.1 = slot;
                } else if self.tracks.len() < media_core::flv::MAX_TRACKS_PER_MESSAGE * 2 {
                    self.tracks.push((key, slot));
                }
            }
        }
    }

    /// Every header kept, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = &(u64, SharedFrame)> + '_ {
        [&self.metadata, &self.video, &self.audio]
            .into_iter()
            .flatten()
            .chain(self.tracks.iter().map(|(_, slot)| slot))
    }
}

/// The log itself; lives behind the source's fan-out mutex.
#[derive(Debug, Default)]
pub(super) struct Fanout {
    entries: VecDeque<QueueItem>,
    /// Position of `entries[0]`; positions never repeat.
    first_seq: u64,
    bytes: usize,
    newest_ts: u64,
    /// Position of the latest video key frame still kept.
    last_keyframe: Option<u64>,
    /// Position of the latest publish or unpublish item, so "is there news
    /// past this cursor" is one comparison, not a scan of what waits.
    last_control: Option<u64>,
    pub has_video: bool,
    pub headers: Headers,
    /// Most media time kept behind the newest message (the longest consumer bound).
    retain_span_ms: u64,
    /// Every consumer's cursor (a multiset: cursor -> consumers there), so the
    /// slowest is one lookup; what lies below it nobody will read.
    cursors: BTreeMap<u64, usize>,
    /// Kept whatever its age (the cached GOP's key frame, for late joiners).
    pin: Option<u64>,
    /// Positions below this are due whatever the merge rule says: the
    /// publisher went quiet with them waiting (see [`Fanout::release`]).
    released_to: u64,
    waiters: Vec<Option<Waiter>>,
    free_slots: Vec<usize>,
    pub consumers: usize,
    next_owner: u64,
}

impl Fanout {
    /// Position the next appended item gets.
    pub fn head(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }

    /// Oldest position still kept.
    pub fn first(&self) -> u64 {
        self.first_seq
    }

    pub fn newest_ts(&self) -> u64 {
        self.newest_ts
    }

    pub fn last_keyframe(&self) -> Option<u64> {
        self.last_keyframe.filter(|&k| k >= self.first_seq)
    }

    /// Media timestamp of the first media item at or after `seq`.
    pub fn ts_from(&self, seq: u64) -> Option<u64> {
        let index = usize::try_from(seq.saturating_sub(self.first_seq)).ok()?;
        self.entries
            .iter()
            .skip(index)
            .find_map(|i| i.frame().map(|f| f.msg.timestamp))
    }

    /// Items from `seq` (clamped to what is kept) to the head.
    pub fn range_from(&self, seq: u64) -> impl Iterator<Item = &QueueItem> + '_ {
        let index = usize::try_from(seq.saturating_sub(self.first_seq)).unwrap_or(usize::MAX);
        self.entries.iter().skip(index)
    }

    /// Keeps everything from `seq` on (within [`MAX_ENTRIES`] and
    /// [`MAX_BYTES`]), even with no consumer: the GOP late joiners start with.
    pub fn pin(&mut self, seq: Option<u64>) {
        self.pin = seq;
    }

    /// A new consumer reading from `cursor`: its owner id. Its span bound (0:
    /// none) extends how far behind the newest message anything is kept.
    pub fn add_consumer(&mut self, span_ms: u64, cursor: u64) -> u64 {
        self.consumers += 1;
        let span = if span_ms == 0 { u64::MAX } else { span_ms };
        self.retain_span_ms = self.retain_span_ms.max(span);
        *self.cursors.entry(cursor).or_default() += 1;
        self.next_owner += 1;
        self.next_owner
    }

    /// A consumer at `cursor` left: what only it still needed goes.
    pub fn remove_consumer(&mut self, slot: Option<usize>, owner: u64, cursor: u64) {
        self.consumers = self.consumers.saturating_sub(1);
        if let Some(i) = slot {
            self.release_slot(i, owner);
        }
        self.forget_cursor(cursor);
        self.trim();
    }

    /// A consumer read up to `to` (from `from`): what nobody needs now goes.
    pub fn move_cursor(&mut self, from: u64, to: u64) {
        if from == to {
            return;
        }
        self.forget_cursor(from);
        *self.cursors.entry(to).or_default() += 1;
        self.trim();
    }

    fn forget_cursor(&mut self, cursor: u64) {
        if let Some(n) = self.cursors.get_mut(&cursor) {
            *n -= 1;
            if *n == 0 {
                self.cursors.remove(&cursor);
            }
        }
    }

    /// Payload bytes the log holds (media it keeps for consumers and the GOP).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends one item, ages out what no consumer may still need and wakes
    /// the waiting consumers whose rule now holds.
    pub fn append(&mut self, item: QueueItem) {
        let seq = self.head();
        let control = match &item {
            QueueItem::Media(frame) => {
                let msg = &frame.msg;
                self.newest_ts = msg.timestamp;
                self.bytes += msg.payload.len();
                match msg.kind {
                    MediaKind::Video => {
                        self.has_video = true;
                        if msg.flags.sequence_header {
                            self.headers.keep(seq, frame);
                        } else if msg.flags.keyframe {
                            self.last_keyframe = Some(seq);
                        }
                    }
                    MediaKind::Audio if msg.flags.sequence_header => {
                        self.headers.keep(seq, frame);
                    }
                    MediaKind::Data if media_core::gop::is_metadata(&msg.payload) => {
                        self.headers.metadata = Some((seq, frame.clone()));
                    }
                    MediaKind::Data => {}
                    MediaKind::Audio => {}
                }
                false
            }
            QueueItem::Published => {
                // A new publish brings its own configuration.
                self.headers = Headers::default();
                self.last_keyframe = None;
                true
            }
            QueueItem::Unpublished => true,
        };
        if control {
            self.last_control = Some(seq);
        }
        self.entries.push_back(item);
        self.trim();
        self.wake(control);
    }

    fn trim(&mut self) {
        while !self.entries.is_empty() {
            // A control item ages with the media after it.
            let pinned = self.pin.is_some_and(|p| self.first_seq >= p);
            let read_by_all = self
                .cursors
                .first_key_value()
                .is_none_or(|(&slowest, _)| slowest > self.first_seq);
            let too_old = !pinned
                && (read_by_all
                    || self
                        .ts_from(self.first_seq)
                        .is_some_and(|t| self.newest_ts.saturating_sub(t) > self.retain_span_ms));
            if !(too_old || self.entries.len() > MAX_ENTRIES || self.bytes > MAX_BYTES) {
                break;
            }
            if let Some(QueueItem::Media(f)) = self.entries.pop_front() {
                self.bytes = self.bytes.saturating_sub(f.msg.payload.len());
            }
            self.first_seq += 1;
        }
        // An emptied log (the stream ended and everyone read the news) does
        // not keep room for a GOP of entries while it waits for a republish.
        if self.entries.is_empty() && self.entries.capacity() > 64 {
            self.entries = VecDeque::new();
        }
    }

    /// True when a consumer at `cursor` has something worth waking for.
    pub fn ready(&self, cursor: u64, rule: MergeRule) -> bool {
        // Publish and unpublish news goes out at once.
        self.last_control.is_some_and(|c| c >= cursor) || self.media_ready(cursor, rule)
    }

    /// [`ready`](Self::ready) for a consumer known to have no control item
    /// waiting (checked when it parked; later ones wake everybody).
    fn media_ready(&self, cursor: u64, rule: MergeRule) -> bool {
        let head = self.head();
        if cursor >= head {
            return false;
        }
        if cursor < self.first_seq || cursor < self.released_to {
            // It fell behind what is kept (let it skip forward now), or the
            // publisher paused with this media waiting.
            return true;
        }
        let waiting = head - cursor;
        if waiting >= MAX_MERGE_MSGS {
            return true;
        }
        let Some(oldest) = self.ts_from(cursor) else {
            return true;
        };
        // A jump either way is a discontinuity worth flushing at once.
        let span = self.newest_ts.abs_diff(oldest);
        span >= rule.min_span_ms
            && (waiting > u64::from(rule.min_msgs)
                || span >= COUNT_WAIVER_SPAN_MS.max(rule.min_span_ms))
    }

    /// Makes everything appended so far due for every consumer, merge rule or
    /// not, and wakes those holding some of it.
    ///
    /// The merge rule counts media time, so without this the last part of a
    /// window would wait for the next message however long the publisher
    /// pauses. SRS bounds that wait by wall time (`mw_latency` is its sleep);
    /// the publisher's connection calls this once it has been quiet that long.
    pub fn release(&mut self) {
        self.released_to = self.head();
        self.wake(false);
    }

    /// Registers (or refreshes) a consumer's waker; returns its slot.
    pub fn register(
        &mut self,
        slot: Option<usize>,
        owner: u64,
        cursor: u64,
        rule: MergeRule,
        waker: &Waker,
    ) -> usize {
        if let Some(i) = slot {
            if let Some(Some(w)) = self.waiters.get_mut(i) {
                if w.owner == owner {
                    w.cursor = cursor;
                    w.rule = rule;
                    if !w.waker.will_wake(waker) {
                        w.waker = waker.clone();
                    }
                    return i;
                }
            }
        }
        let waiter = Waiter {
            owner,
            cursor,
            rule,
            waker: waker.clone(),
        };
        match self.free_slots.pop() {
            Some(i) => {
                if let Some(s) = self.waiters.get_mut(i) {
                    *s = Some(waiter);
                }
                i
            }
            None => {
                self.waiters.push(Some(waiter));
                self.waiters.len() - 1
            }
        }
    }

    /// Forgets a consumer's waker if `slot` still holds it.
    pub fn release_slot(&mut self, slot: usize, owner: u64) {
        if let Some(s) = self.waiters.get_mut(slot) {
            if matches!(s, Some(w) if w.owner == owner) {
                *s = None;
                self.free_slots.push(slot);
            }
        }
    }

    fn wake(&mut self, all: bool) {
        for i in 0..self.waiters.len() {
            let due = match &self.waiters[i] {
                Some(w) => all || self.media_ready(w.cursor, w.rule),
                None => false,
            };
            if due {
                if let Some(w) = self.waiters[i].take() {
                    self.free_slots.push(i);
                    w.waker.wake();
                }
            }
        }
    }

    /// Consumers currently parked on a waker.
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.waiters.iter().filter(|w| w.is_some()).count()
    }

    #[cfg(test)]
    pub fn kept(&self) -> usize {
        self.entries.len()
    }
}
