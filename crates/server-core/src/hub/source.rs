//! A live source: one stream's publisher, its GOP cache and its consumers.
//!
//! The shape of SRS's `SrsLiveSource`/`SrsLiveConsumer`: the publisher pushes
//! each message once; the source corrects its time, remembers what a late player
//! needs (metadata, sequence headers, last GOP), and hands a shared [`Frame`] to
//! every consumer through one shared log (`fanout.rs`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use media_core::gop::{is_metadata, GopCache, GopConfig};
use media_core::jitter::{JitterMode, PlayClock, PlayTimeline, TimeJitter};
use media_core::{MediaKind, MediaMessage};

use super::consumer::Consumer;
use super::fanout::{Fanout, QueueItem};
use super::frame::Frame;
use super::info::StreamInfo;
use super::key::StreamKey;
use super::rate::{TrackId, TrackRates, Traffic};

/// Per-source behaviour, taken from the vhost config when the source is created.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// GOP cache bounds.
    pub gop: GopConfig,
    /// Timestamp correction mode.
    pub jitter: JitterMode,
    /// SRS `atc`: players get the publisher's absolute timestamps instead of
    /// a timeline of their own from 0 (see [`PlayTimeline`]).
    pub atc: bool,
    /// Per-consumer bound in milliseconds of unread media (SRS `queue_length`; 0: none).
    pub queue_span_ms: u64,
}

/// Traffic counters, read by the HTTP API.
#[derive(Debug, Default)]
pub struct SourceStats {
    /// Payload bytes received from publishers.
    pub bytes_in: AtomicU64,
    /// Audio/video/data messages received.
    pub messages_in: AtomicU64,
    /// Messages a codec parser rejected (the stream goes on).
    pub bad_frames: AtomicU64,
    /// Messages skipped for consumers too slow to keep up (players, and the
    /// HLS, DVR and forward consumers), summed over them.
    pub dropped: AtomicU64,
    /// HLS segments written (renamed into place).
    pub hls_segments: AtomicU64,
}

#[derive(Debug)]
struct Inner {
    publisher: Option<u64>,
    publish_started_ms: u64,
    jitter: TimeJitter,
    gop: GopCache,
    /// Log position of the cached GOP's key frame, while the cache holds one:
    /// a late joiner reads the GOP from the shared log instead of copies.
    gop_start: Option<u64>,
    info: StreamInfo,
    /// Bytes per track of the current publish, for per-track rates.
    track_rates: TrackRates,
}

/// One stream in the hub.
#[derive(Debug)]
pub struct Source {
    /// Stable id for the HTTP API.
    pub id: u64,
    /// vhost/app/stream.
    pub key: StreamKey,
    /// Counters.
    pub stats: SourceStats,
    options: SourceOptions,
    /// Publisher state; taken before `fanout` when both are needed.
    inner: Mutex<Inner>,
    fanout: Mutex<Fanout>,
}

/// Why a publish was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// Someone is already publishing this stream (`NetStream.Publish.BadName`).
    #[error("stream {0} is already being published")]
    AlreadyPublishing(StreamKey),
    /// The app or stream name cannot safely name the files a published
    /// stream produces (`NetStream.Publish.BadName`).
    #[error(transparent)]
    BadName(#[from] super::NameError),
}

impl Source {
    pub(super) fn new(id: u64, key: StreamKey, options: SourceOptions) -> Self {
        Self {
            id,
            key,
            stats: SourceStats::default(),
            inner: Mutex::new(Inner {
                publisher: None,
                publish_started_ms: 0,
                jitter: TimeJitter::new(options.jitter),
                gop: GopCache::new(options.gop.clone()),
                gop_start: None,
                info: StreamInfo::default(),
                track_rates: TrackRates::new(0),
            }),
            fanout: Mutex::new(Fanout::default()),
            options,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn fanout(&self) -> MutexGuard<'_, Fanout> {
        // A panic elsewhere must not take every player down with a poisoned lock.
        self.fanout.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims the stream for `client_id`.
    pub(super) fn start_publish(&self, client_id: u64, now_ms: u64) -> Result<(), PublishError> {
        let mut inner = self.lock();
        if inner.publisher.is_some() {
            return Err(PublishError::AlreadyPublishing(self.key.clone()));
        }
        inner.publisher = Some(client_id);
        inner.publish_started_ms = now_ms;
        inner.jitter = TimeJitter::new(self.options.jitter);
        inner.gop.clear();
        inner.gop_start = None;
        inner.info = StreamInfo::default();
        inner.track_rates = TrackRates::new(now_ms);
        let mut fanout = self.fanout();
        fanout.pin(None);
        fanout.append(QueueItem::Published);
        Ok(())
    }

    /// Releases the stream if `client_id` holds it; consumers stay and wait.
    pub(super) fn stop_publish(&self, client_id: u64) {
        let mut inner = self.lock();
        if inner.publisher != Some(client_id) {
            return;
        }
        inner.publisher = None;
        inner.gop.clear();
        inner.gop_start = None;
        let mut fanout = self.fanout();
        fanout.pin(None);
        fanout.append(QueueItem::Unpublished);
    }

    /// Feeds one published message: correct time, cache, fan out.
    pub fn push(&self, kind: MediaKind, timestamp: u64, payload: Bytes) {
        self.stats
            .bytes_in
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
        self.stats.messages_in.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        let timestamp = inner.jitter.correct(kind, timestamp);
        let msg = MediaMessage::new(kind, timestamp, payload);
        if !inner.info.update(&msg) {
            self.stats.bad_frames.fetch_add(1, Ordering::Relaxed);
        }
        inner.track_rates.count(&msg);
        inner.gop.push(&msg);
        let opens_gop = msg.kind == MediaKind::Video
            && msg.flags.keyframe
            && !msg.flags.sequence_header
            && inner.gop.gop_frames() == 1;
        let mut fanout = self.fanout();
        if inner.gop.gop_frames() == 0 {
            inner.gop_start = None;
        } else if opens_gop {
            inner.gop_start = Some(fanout.head());
        }
        fanout.pin(inner.gop_start);
        fanout.append(QueueItem::Media(Frame::new(msg)));
    }

    /// Sends consumers what waits for them now, merge rule or not: the
    /// publisher paused (see `Fanout::release`).
    pub fn release_waiting(&self) {
        self.fanout().release();
    }

    /// Subscribes a consumer; if the stream is live it first gets what a late
    /// joiner needs (metadata, sequence headers, the GOP from its key frame),
    /// in SRS's order (`SrsMetaCache::dumps`: metadata, audio sequence header,
    /// video sequence header). A player (`span_ms` none) gets a clock on the
    /// vhost's timeline; a sink keeps the stream's timestamps.
    pub(super) fn add_consumer(self: &Arc<Self>, span_ms: Option<u64>) -> Consumer {
        let span = span_ms.unwrap_or(self.options.queue_span_ms);
        let inner = self.lock();
        let mut fanout = self.fanout();
        let mut preroll = VecDeque::new();
        let mut cursor = fanout.head();
        // Where the stream stands for this joiner: the first frame it gets.
        let mut start = None;
        if inner.publisher.is_some() {
            // A player joining a live stream starts with the cache; only a
            // later (re)publish is announced with PublishNotify.
            match inner.gop_start.filter(|&start| start >= fanout.first()) {
                Some(gop_start) => {
                    // The GOP is still in the shared log: start reading there,
                    // after the current configuration. Every joiner shares the
                    // same frames and their chunk encodings. (A header repeated
                    // inside the GOP is identical, or the cache would have
                    // dropped the GOP: reading it twice is harmless.)
                    // Then the other tracks' headers of a multitrack stream.
                    let h = &fanout.headers;
                    preroll.extend(
                        [&h.metadata, &h.audio, &h.video]
                            .into_iter()
                            .flatten()
                            .chain(h.tracks.iter().map(|(_, slot)| slot))
                            .map(|(_, frame)| QueueItem::Media(frame.clone())),
                    );
                    start = fanout.ts_from(gop_start);
                    cursor = gop_start;
                }
                None => {
                    let mut cached: Vec<_> = inner.gop.snapshot().collect();
                    // The snapshot opens with metadata, then the video
                    // sequence header before the audio one.
                    let opening = cached
                        .iter()
                        .take_while(|m| {
                            m.flags.sequence_header
                                || (m.kind == MediaKind::Data && is_metadata(&m.payload))
                        })
                        .count();
                    if let Some(headers) = cached.get_mut(..opening) {
                        headers.sort_by_key(|m| match m.kind {
                            MediaKind::Data => 0,
                            MediaKind::Audio => 1,
                            MediaKind::Video => 2,
                        });
                    }
                    start = cached.get(opening).map(|m| m.timestamp);
                    preroll.extend(
                        cached
                            .into_iter()
                            .map(|msg| QueueItem::Media(Frame::new(msg.clone()))),
                    );
                }
            }
        }
        let timeline = match span_ms {
            Some(_) => PlayTimeline::Stream,
            None => PlayTimeline::for_vhost(self.options.atc, self.options.jitter),
        };
        let owner = fanout.add_consumer(span, cursor);
        drop(fanout);
        drop(inner);
        Consumer::new(
            self.clone(),
            owner,
            cursor,
            span,
            preroll,
            PlayClock::new(timeline, start),
        )
    }

    /// The publishing client's id, if any.
    pub fn publisher(&self) -> Option<u64> {
        self.lock().publisher
    }

    /// When the current publish started (runtime ms).
    pub fn publish_started_ms(&self) -> u64 {
        self.lock().publish_started_ms
    }

    /// Payload bytes the source's log holds: the cached GOP and what its
    /// consumers have yet to read (the issue 22 accounting).
    pub fn log_bytes(&self) -> usize {
        self.fanout().bytes()
    }

    /// Live consumers (players and internal sinks such as HLS).
    pub fn consumer_count(&self) -> usize {
        self.fanout().consumers
    }

    /// Codec details for the API.
    pub fn info(&self) -> StreamInfo {
        self.lock().info.clone()
    }

    /// Records the per-track byte counters (the housekeeping timer, with
    /// the clients' counters: see `rate.rs`).
    pub fn sample_traffic(&self, now_ms: u64) {
        self.lock().track_rates.sample(now_ms);
    }

    /// Each track's bytes over the last 30 to 40 s of the current (or last)
    /// publish, as the stream's own `recv_30s` is measured; empty for a
    /// stream that is not multitrack (its one rate is the stream's).
    pub fn track_traffic(&self, now_ms: u64) -> Vec<(TrackId, Traffic)> {
        let inner = self.lock();
        if !inner.track_rates.is_multitrack() {
            return Vec::new();
        }
        inner.track_rates.recent(now_ms)
    }

    /// True when nobody publishes and nobody consumes: the hub may forget it.
    pub fn is_idle(&self) -> bool {
        self.publisher().is_none() && self.consumer_count() == 0
    }
}
