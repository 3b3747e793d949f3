//! HLS output: a consumer of a source that runs the sans-IO segmenter and
//! carries out its actions on the runtime's file system.
//!
//! One sink per stream. It outlives an unpublish for a grace period so that a
//! republish continues the segment numbering (marked by a discontinuity), and the
//! segmenter is parked in the manager when the sink ends, so numbering also
//! continues after a longer pause. `hls_dispose` of a parked stream is carried
//! out by the server's housekeeping timer ([`HlsManager::dispose_due`]), so no
//! task, consumer or source waits out the dispose time. A segment is written to `NAME.tmp` through one open file
//! and renamed when closed, so the HTTP server never serves a partial segment
//! ([`files`]). An E-RTMP multitrack stream also gets a playlist per
//! rendition and a master playlist naming them ([`renditions`]), parked and
//! disposed with the stream's own.

mod files;
mod live;
mod parked;
mod renditions;

pub use live::{LiveHls, LiveState, LiveStream, LiveUpdate, MAX_LIVE_PARTS};
pub use renditions::MAX_RENDITIONS;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_listener::Event;
use futures_util::future::select;
use media_core::hls::{HlsError, HlsSegmenter};
use media_core::mp4::{carries_audio, carries_video, Mp4Error};
use media_core::remux::RemuxError;
use tracing::{debug, info, warn, Instrument};

use self::files::{disposed_paths, remove_all, Closed, SegmentFiles};
use self::parked::{ParkedStreams, Parking};
use self::renditions::Renditions;
use crate::context::ServerCtx;
use crate::fs::stays_below;
use crate::hooks::{segment_urls, HookEvent, HookRequest};
use crate::hub::{MergeRule, QueueItem, Source, StreamKey};
use crate::vhost::HlsSettings;

/// How long a sink waits for a republish before it stops, whatever
/// `hls_dispose` says. Short: a later republish still continues the numbering
/// through the parked segmenter, while a waiting sink holds its task, its
/// consumer and so its source (about 6 KB a stream); waiting out SRS's 120 s
/// `hls_dispose`, a crowd of short publishes under new names kept memory up
/// for two minutes (issue 23 §4).
pub const REPUBLISH_GRACE: Duration = Duration::from_secs(10);
/// The HLS consumer tolerates this much backlog (slow disk) before dropping to a key frame.
const QUEUE_SPAN_MS: u64 = 30_000;
/// Segment bytes go to the open segment file in batches of at least this
/// size: the segmenter's pieces ([`media_core::hls::APPEND_MIN_BYTES`]) go
/// on as they come, smaller ones (an LL-HLS part's) are gathered. A stream
/// holds at most this much (plus one muxer piece) waiting; it held up to
/// 512 KiB while each batch opened the file anew, then 64 KiB (issue 22).
const FLUSH_BYTES: usize = media_core::hls::APPEND_MIN_BYTES;
/// Most stopped streams whose segmenter is kept so a later republish
/// continues the numbering. Each holds a playlist window; without a bound a
/// client publishing ever new names would grow the server without end. The
/// oldest go first (their next publish restarts at segment 0).
pub const MAX_PARKED_SEGMENTERS: usize = 1024;

#[derive(Debug, Default)]
struct Control {
    stop: AtomicBool,
    wake: Event,
    done: AtomicBool,
    done_event: Event,
    /// The publisher as the lifecycle admitted it (with the query it sent),
    /// for `on_hls`; set on every publish, so a republish updates it.
    publisher: Mutex<Option<HookRequest>>,
    /// The file identities its multitrack renditions write under (see
    /// [`HlsManager::claim`]).
    renditions: Mutex<Vec<String>>,
}

/// Tracks the running HLS sinks.
#[derive(Debug, Default)]
pub struct HlsManager {
    running: Mutex<BTreeMap<StreamKey, Arc<Control>>>,
    /// At most [`MAX_PARKED_SEGMENTERS`].
    parked: Mutex<ParkedStreams>,
    /// LL-HLS playlists and parts, served from memory.
    pub live: LiveHls,
}

/// What the usual templates (`[app]/[stream]...`) make of a key: two keys
/// that agree on it would write the same files.
fn file_identity(key: &StreamKey) -> String {
    format!("{}/{}", key.app, key.stream)
}

impl HlsManager {
    /// Starts a sink for `source` unless one is running.
    ///
    /// Apps and streams may both contain `/`, so `live` + `cam/x` and
    /// `live/cam` + `x` are different streams whose files would be the same:
    /// the second is not sliced while the first is, rather than overwriting
    /// and deleting the other's segments.
    pub fn ensure(&self, ctx: &Arc<ServerCtx>, source: &Arc<Source>, settings: &HlsSettings) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = running.get(&source.key) {
            if !c.done.load(Ordering::SeqCst) {
                return;
            }
        }
        let identity = file_identity(&source.key);
        if let Some(owner) = running.iter().find_map(|(k, c)| {
            (*k != source.key
                && !c.done.load(Ordering::SeqCst)
                && (file_identity(k) == identity || lock(&c.renditions).contains(&identity)))
            .then_some(k)
        }) {
            warn!(stream = ?source.key.to_string(), owner = ?owner.to_string(),
                "hls: not sliced: its files would be another stream's");
            return;
        }
        let control = Arc::new(Control::default());
        running.insert(source.key.clone(), control.clone());
        let parked = lock(&self.parked).take(&source.key);
        let (mut segmenter, mut renditions) = (None, None);
        if let Some(mut p) = parked {
            // A reload changed the options: the segmenters take them when
            // they can (numbering and window go on), else new ones start.
            let (app, stream) = (&source.key.app, &source.key.stream);
            let config = settings.config.clone();
            if let Some(resumed) = HlsSegmenter::resume(config, app, stream, p.playlist) {
                if let Some(mut r) = p.renditions.take() {
                    if r.reconfigure(&settings.config) {
                        renditions = Some(r);
                    } else {
                        // Their playlists would restart under the same
                        // names: the old files go first.
                        let paths = r.disposed_paths();
                        let (task_ctx, root) = (ctx.clone(), p.root);
                        ctx.rt.spawn(Box::pin(async move {
                            remove_all(&task_ctx, &root, paths).await;
                        }));
                    }
                }
                segmenter = Some(resumed);
            }
        }
        let segmenter = segmenter.unwrap_or_else(|| {
            HlsSegmenter::new(settings.config.clone(), &source.key.app, &source.key.stream)
        });
        let renditions = renditions.unwrap_or_else(|| {
            Box::new(Renditions::new(
                &source.key,
                &settings.config,
                settings.path.clone(),
            ))
        });
        *lock(&control.renditions) = renditions.identities();
        let sink = Sink {
            ctx: ctx.clone(),
            source: source.clone(),
            files: SegmentFiles::new(settings.path.clone()),
            segmenter,
            renditions,
            control,
            publisher: None,
            told_codec: false,
        };
        ctx.rt.spawn(Box::pin(sink.run()));
    }

    /// Stops the sink of `key`, if one runs: it closes its segment and
    /// writes the playlist (a reload switched HLS off). The segmenter is
    /// parked, so switching HLS on again continues the numbering after a
    /// discontinuity.
    pub fn stop(&self, key: &StreamKey) -> Option<impl std::future::Future<Output = ()>> {
        let control = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()?;
        control.stop.store(true, Ordering::SeqCst);
        control.wake.notify(usize::MAX);
        Some(async move {
            loop {
                let l = control.done_event.listen();
                if control.done.load(Ordering::SeqCst) {
                    return;
                }
                l.await;
            }
        })
    }

    /// Restarts the sink of `source` with `settings` (a reload changed
    /// them): the running one closes its segment, then a new one starts at
    /// the stream's next keyframe, after a discontinuity. The playlist's
    /// numbering and window go on, unless `hls_path`, `hls_m3u8_file` or
    /// `hls_entry_prefix` changed (`moved`, or refused by
    /// `HlsSegmenter::reconfigure`): the playlist is then a new one, at its
    /// new place, numbered from 0.
    pub fn restart(
        &self,
        ctx: &Arc<ServerCtx>,
        source: &Arc<Source>,
        settings: &HlsSettings,
        moved: bool,
    ) {
        let stopped = self.stop(&source.key);
        let (ctx, source, settings) = (ctx.clone(), source.clone(), settings.clone());
        ctx.rt.clone().spawn(Box::pin(async move {
            if let Some(stopped) = stopped {
                stopped.await;
            }
            if moved {
                // The old playlist lists segments under the old root.
                lock(&ctx.hls.parked).forget(&source.key);
            }
            if source.publisher().is_some() {
                ctx.hls.ensure(&ctx, &source, &settings);
            }
        }));
    }

    /// Tells `key`'s running sink who publishes it now (as the hooks know the
    /// publisher, with its `param`), for the `on_hls` calls that follow.
    pub fn set_publisher(&self, key: &StreamKey, publisher: &HookRequest) {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(control) = running.get(key) {
            *control.publisher.lock().unwrap_or_else(|e| e.into_inner()) = Some(publisher.clone());
        }
    }

    /// Lets `key`'s running sink write a multitrack rendition under
    /// `identity` (what [`file_identity`] makes of a key) unless another
    /// running stream writes those files; the claim also keeps a stream of
    /// that name from being sliced over it ([`HlsManager::ensure`]).
    pub(crate) fn claim(&self, key: &StreamKey, identity: &str) -> bool {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let taken = running.iter().any(|(k, c)| {
            k != key
                && !c.done.load(Ordering::SeqCst)
                && (file_identity(k) == identity
                    || lock(&c.renditions).iter().any(|r| r == identity))
        });
        if taken {
            warn!(stream = %key, rendition = identity,
                "hls: rendition not written: its files would be another stream's");
            return false;
        }
        if let Some(c) = running.get(key) {
            lock(&c.renditions).push(identity.to_owned());
        }
        true
    }

    /// Keeps a stopped sink's segmenter for a republish (`None`: its files
    /// were disposed, so there is nothing to continue) and forgets the sink.
    fn park(&self, key: StreamKey, keep: Option<Parking>, control: &Arc<Control>) {
        {
            let mut parked = lock(&self.parked);
            match keep {
                Some(keep) => parked.park(&key, keep),
                None => parked.forget(&key),
            }
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.get(&key).is_some_and(|c| Arc::ptr_eq(c, control)) {
            running.remove(&key);
        }
    }

    /// `hls_dispose` for parked streams whose time has come: their segments
    /// and playlist are removed in the background and the segmenter is
    /// dropped (a later publish starts a new playlist). Called by the
    /// server's housekeeping timer.
    pub fn dispose_due(&self, ctx: &Arc<ServerCtx>) {
        let now = ctx.rt.now();
        let due = {
            let mut parked = lock(&self.parked);
            if !parked.any_due(now) {
                return;
            }
            parked.take_due(now)
        };
        let task_ctx = ctx.clone();
        ctx.rt.spawn(Box::pin(async move {
            for mut p in due {
                debug!(stream = %p.name, "hls_dispose: removing files of the idle stream");
                let mut paths: Vec<String> =
                    p.playlist.disposed_paths().map(str::to_owned).collect();
                if let Some(r) = &mut p.renditions {
                    paths.extend(r.disposed_paths());
                }
                remove_all(&task_ctx, &p.root, paths).await;
            }
        }));
    }

    /// Streams with a running sink.
    pub fn active(&self) -> Vec<StreamKey> {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, c)| !c.done.load(Ordering::SeqCst))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Asks every sink to close its segment and write its playlist, and waits for
    /// them (at most `grace`).
    pub async fn finish_all(&self, ctx: &ServerCtx, grace: Duration) {
        let controls: Vec<_> = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for c in &controls {
            c.stop.store(true, Ordering::SeqCst);
            c.wake.notify(usize::MAX);
        }
        let wait_all = async {
            for c in &controls {
                loop {
                    let l = c.done_event.listen();
                    if c.done.load(Ordering::SeqCst) {
                        break;
                    }
                    l.await;
                }
            }
        };
        let _ = crate::runtime::timeout(&*ctx.rt, grace, wait_all).await;
    }
}

struct Sink {
    ctx: Arc<ServerCtx>,
    source: Arc<Source>,
    /// The main playlist's files (`files.root` is `hls_path`).
    files: SegmentFiles,
    segmenter: HlsSegmenter,
    /// The renditions of a multitrack stream (nothing until one is seen).
    renditions: Box<Renditions>,
    control: Arc<Control>,
    /// The publisher as the hooks saw it last (for `on_hls`).
    publisher: Option<HookRequest>,
    /// A codec the segment format cannot carry was logged (once a sink).
    told_codec: bool,
}

impl Sink {
    /// The sink's log span (`hls{stream=...}`) exists only while it has
    /// media to slice: a sink waiting out [`REPUBLISH_GRACE`] holds none.
    /// The log's span registry keeps a slot, with a small allocation of its
    /// own, for every span open at once and never gives it back; a crowd of
    /// short publishes, each sink waiting 10 s, left ~1,200 of them
    /// scattered through the heap, pinning its pages (2.6 MB of RSS after
    /// 1500 names; issue 23 §4).
    async fn run(mut self) {
        let key = self.source.key.clone();
        let mut span: Option<tracing::Span> = None;
        let span_of = |span: &mut Option<tracing::Span>| {
            span.get_or_insert_with(|| tracing::info_span!("hls", stream = %key))
                .clone()
        };
        debug!(stream = %self.source.key, "hls sink started");
        let mut consumer = self
            .ctx
            .hub
            .subscribe_with_span(&self.source, QUEUE_SPAN_MS);
        let mut items = Vec::new();
        let mut idle_since: Option<Duration> = None;
        // The files went with `hls_dispose`: a later publish starts afresh,
        // so the segmenter is not kept for it (a name never published
        // again keeps nothing).
        let mut disposed = false;
        // Left waiting for a republish: when its files are to go.
        let mut dispose_at = None;
        loop {
            let stop_listener = self.control.wake.listen();
            if self.control.stop.load(Ordering::SeqCst) {
                consumer.drain_into(&mut items);
                async {
                    self.feed(&mut items).await;
                    self.segmenter.on_unpublish();
                    self.execute().await;
                    self.renditions.on_unpublish(&self.ctx).await;
                }
                .instrument(span_of(&mut span))
                .await;
                break;
            }
            if consumer.drain_into(&mut items) > 0 {
                self.feed(&mut items).instrument(span_of(&mut span)).await;
                idle_since = if self.source.publisher().is_some() {
                    None
                } else {
                    idle_since.or(Some(self.ctx.rt.now()))
                };
                continue;
            }
            if self.source.publisher().is_none() {
                if items.capacity() > 0 {
                    // Waiting for a republish: keep no room sized for media.
                    items = Vec::new();
                    self.files.shrink();
                    self.renditions.shrink();
                }
                span = None;
                let since = *idle_since.get_or_insert(self.ctx.rt.now());
                let idle = self.ctx.rt.now().saturating_sub(since);
                // `hls_dispose`: after this long without a republish, the
                // stream's files go (SRS semantics); otherwise they stay.
                if let Some(dispose) = self.segmenter.dispose_after() {
                    if idle >= dispose {
                        debug!(stream = %self.source.key, "hls_dispose: removing files of the idle stream");
                        let mut paths = disposed_paths(&mut self.segmenter);
                        paths.extend(self.renditions.disposed_paths());
                        remove_all(&self.ctx, &self.files.root, paths).await;
                        disposed = true;
                        break;
                    }
                }
                if idle >= REPUBLISH_GRACE {
                    dispose_at = self.segmenter.dispose_after().map(|d| since + d);
                    break;
                }
            }
            let tick = self.ctx.rt.sleep(Duration::from_secs(1));
            let ready = Box::pin(consumer.ready(MergeRule::IMMEDIATE));
            let wait = select(stop_listener, ready);
            let _ = select(Box::pin(wait), tick).await;
        }
        drop(consumer);
        if let Ok(playlist) = self.files.playlist(&self.segmenter) {
            self.ctx.hls.live.remove(&playlist);
        }
        for playlist in self.renditions.live_playlists() {
            self.ctx.hls.live.remove(&playlist);
        }
        let control = self.control.clone();
        control.done.store(true, Ordering::SeqCst);
        let keep = (!disposed).then(|| Parking {
            playlist: self.segmenter.suspend(),
            root: self.files.root,
            dispose_at,
            // A stream that never was multitrack parks nothing for them.
            renditions: (!self.renditions.is_empty()).then_some(self.renditions),
        });
        self.ctx.hls.park(key.clone(), keep, &control);
        control.done_event.notify(usize::MAX);
        debug!(stream = %key, "hls sink stopped");
    }

    async fn feed(&mut self, items: &mut Vec<QueueItem>) {
        for item in items.drain(..) {
            match item {
                QueueItem::Media(frame) => {
                    let was_fmp4 = self.segmenter.is_fmp4();
                    if let Err(e) = self.segmenter.push(&frame.msg, self.ctx.rt.unix_time_ms()) {
                        self.skipped(&e);
                    }
                    if let Some(codec) = self.segmenter.fmp4_fallback().filter(|_| !was_fmp4) {
                        info!(
                            "hls: {codec}: MPEG-TS cannot carry it; the playlist goes on in \
                             fMP4 (CMAF .m4s segments and an init segment; hls_fmp4_fallback)"
                        );
                    }
                    self.execute().await;
                    let main = self.segmenter.playlist_path();
                    self.renditions
                        .push(&self.ctx, &frame.msg, frame.is_multitrack(), main)
                        .await;
                    continue;
                }
                QueueItem::Unpublished => {
                    self.segmenter.on_unpublish();
                    self.renditions.on_unpublish(&self.ctx).await;
                }
                QueueItem::Published => {
                    self.segmenter.on_republish();
                    self.renditions.on_republish(&self.ctx).await;
                    // A reload switched HLS off while the stream was away.
                    if self.ctx.vhost(&self.source.key.vhost).hls.is_none() {
                        self.control.stop.store(true, Ordering::SeqCst);
                    }
                }
            }
            self.execute().await;
        }
    }

    /// A frame the segmenter skipped: a codec its segment format cannot
    /// carry is said once, at warn, with what to do about it; the rest
    /// (a damaged frame) at debug. (A codec only fMP4 carries turns a TS
    /// playlist to fMP4 unless `hls_fmp4_fallback` is off, so it is only
    /// skipped then.)
    fn skipped(&mut self, e: &HlsError) {
        const FMP4_CODECS: &str = "HLS fMP4 here carries H.264, HEVC, AV1 and VP9 video, \
                                   AAC, MP3, Opus, FLAC, AC-3 and E-AC-3 audio";
        let unsupported = match e {
            HlsError::Remux(RemuxError::UnsupportedVideo(c)) if carries_video(*c) => Some(
                "MPEG-TS cannot carry it and `hls_fmp4_fallback` is off; \
                 `hls { hls_use_fmp4 on; }` or `hls_fmp4_fallback on;` slices it in fMP4",
            ),
            HlsError::Remux(RemuxError::UnsupportedAudio(f)) if carries_audio(*f) => Some(
                "MPEG-TS cannot carry it and `hls_fmp4_fallback` is off; \
                 `hls { hls_use_fmp4 on; }` or `hls_fmp4_fallback on;` slices it in fMP4",
            ),
            HlsError::Remux(RemuxError::UnsupportedVideo(_) | RemuxError::UnsupportedAudio(_)) => {
                Some(FMP4_CODECS)
            }
            HlsError::Mp4(Mp4Error::UnsupportedCodec(_)) => Some(FMP4_CODECS),
            _ => None,
        };
        match unsupported {
            Some(hint) if !self.told_codec => {
                self.told_codec = true;
                warn!("hls: {e}: not sliced: {hint}");
            }
            _ => debug!("hls: frame skipped: {e}"),
        }
    }

    async fn execute(&mut self) {
        while let Some(action) = self.segmenter.poll_action() {
            match self.files.apply(&self.ctx, &self.segmenter, action).await {
                Ok(Some(Closed {
                    seq,
                    path,
                    duration_ms,
                    ..
                })) => {
                    self.source
                        .stats
                        .hls_segments
                        .fetch_add(1, Ordering::Relaxed);
                    self.segment_hooks(seq, &path, duration_ms);
                }
                Ok(None) => {}
                Err(e) => warn!("hls write failed: {e}"),
            }
        }
    }
}

impl Sink {
    /// `on_hls` and `on_hls_notify` for a segment just made visible (SRS
    /// calls them once the segment is renamed). In the background: a slow
    /// hook server never holds up slicing.
    fn segment_hooks(&mut self, seq: u64, path: &str, duration_ms: u64) {
        let key = &self.source.key;
        let config = self.ctx.config();
        let vhost = config.vhost(&key.vhost);
        let hooks = &vhost.http_hooks;
        if !hooks.enabled || (hooks.on_hls.is_empty() && hooks.on_hls_notify.is_empty()) {
            return;
        }
        // The publisher the lifecycle admitted (query included); the last
        // segment closes after the publisher left: it keeps the one seen last.
        let admitted = self
            .control
            .publisher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(req) = admitted {
            self.publisher = Some(req);
        } else if let Some(client) = self
            .source
            .publisher()
            .and_then(|id| self.ctx.hub.client(id))
        {
            self.publisher = Some(HookRequest::from_client(&client, key));
        }
        let req = self.publisher.clone().unwrap_or_else(|| HookRequest {
            vhost: key.vhost.clone(),
            app: key.app.clone(),
            stream: key.stream.clone(),
            ..HookRequest::default()
        });
        let m3u8_url = self
            .segmenter
            .playlist_path()
            .unwrap_or_default()
            .to_owned();
        let urls = segment_urls(
            self.segmenter.config().entry_prefix.as_deref(),
            &m3u8_url,
            path,
        );
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let event = HookEvent::Hls {
            req: req.clone(),
            duration: duration_ms as f64 / 1000.0,
            cwd,
            file: self.files.root.join(path).display().to_string(),
            url: urls.url,
            m3u8: self.files.root.join(&m3u8_url).display().to_string(),
            m3u8_url,
            seq_no: seq,
        };
        self.ctx.hooks.notify(hooks, event);
        let nb_notify = usize::try_from(vhost.hls.nb_notify).unwrap_or(usize::MAX);
        self.ctx
            .hooks
            .notify_hls(hooks, &req, &urls.ts_url, nb_notify);
    }
}

/// `rel` (a rendered `hls_m3u8_file` or `hls_ts_file`) below `root`, refused
/// when it could leave `root` (see [`stays_below`]). Names are checked when a
/// stream is published and templates when the config loads; this keeps a
/// caller that skipped either check from writing anywhere else.
fn under(root: &Path, rel: &str) -> std::io::Result<PathBuf> {
    if stays_below(rel) {
        Ok(root.join(rel))
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("HLS path {rel:?} would leave hls_path"),
        ))
    }
}

/// A poisoned lock's data is still whole here (plain lists).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn tmp(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(stream: &str) -> StreamKey {
        StreamKey {
            vhost: "v".into(),
            app: "live".into(),
            stream: stream.into(),
        }
    }

    fn parked(stream: &str) -> Option<Parking> {
        Some(Parking {
            playlist: HlsSegmenter::new(Default::default(), "live", stream).suspend(),
            root: PathBuf::from("/hls"),
            dispose_at: None,
            renditions: None,
        })
    }

    #[test]
    fn parked_segmenters_are_bounded_and_stopped_sinks_forgotten() {
        let manager = HlsManager::default();
        let first = Arc::new(Control::default());
        manager
            .running
            .lock()
            .unwrap()
            .insert(key("s0"), first.clone());
        manager.park(key("s0"), parked("s0"), &first);
        assert!(manager.running.lock().unwrap().is_empty());
        for i in 1..MAX_PARKED_SEGMENTERS + 10 {
            let name = format!("s{i}");
            manager.park(key(&name), parked(&name), &Arc::default());
        }
        let parked = manager.parked.lock().unwrap();
        assert_eq!(parked.len(), MAX_PARKED_SEGMENTERS);
        // The oldest went first.
        assert_eq!(
            parked.names_in_order().first().map(String::as_str),
            Some("v/live/s10")
        );
        drop(parked);
        // A disposed stream keeps nothing, and forgets what it had parked.
        manager.park(key("s10"), None, &Arc::default());
        let parked = manager.parked.lock().unwrap();
        assert_eq!(parked.len(), MAX_PARKED_SEGMENTERS - 1);
        assert!(!parked.names_in_order().contains(&"v/live/s10".to_owned()));
    }

    #[test]
    fn a_running_sink_of_another_stream_is_not_forgotten() {
        let manager = HlsManager::default();
        let current = Arc::new(Control::default());
        manager.running.lock().unwrap().insert(key("a"), current);
        // An older sink of the same stream stops after a new one started.
        let old = Arc::new(Control::default());
        manager.park(key("a"), parked("a"), &old);
        assert_eq!(manager.active(), vec![key("a")]);
    }

    #[test]
    fn rendered_paths_stay_below_the_root() {
        let root = Path::new("/srv/hls");
        assert_eq!(
            under(root, "live/cam-1.ts").unwrap(),
            Path::new("/srv/hls/live/cam-1.ts")
        );
        assert_eq!(
            under(root, "./live/a..b.m3u8").unwrap(),
            Path::new("/srv/hls/live/a..b.m3u8")
        );
        for escape in ["../x.ts", "live/../../x.ts", "/etc/x.m3u8", "live/.."] {
            assert!(under(root, escape).is_err(), "{escape}");
        }
    }
}
