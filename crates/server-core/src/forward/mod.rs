//! Forward (SRS `vhost { forward { } }`): every stream published on the
//! vhost is pushed to other servers, as a publisher there.
//!
//! An output of the stream lifecycle ([`Forward`]): started by the
//! stream's publish, stopped by its unpublish (and by shutdown, which
//! unpublishes everything). Each destination runs as its own task:
//! - it subscribes to the stream's source as a consumer with a bounded
//!   queue ([`QUEUE_SPAN_MS`]): a slow destination falls behind, skips to
//!   a key frame and never slows the publisher or the players;
//! - it connects with the shared upstream client ([`crate::upstream`]),
//!   with a setup deadline and a write-stall bound;
//! - a destination that is down, refuses or drops is retried with bounded
//!   exponential backoff ([`RETRY_FIRST`] to [`RETRY_MAX`]), logged, and
//!   listed in the HTTP API with its state, retries and bytes. Each
//!   (re)connect subscribes anew, so the destination first gets the
//!   metadata and the sequence headers, then the GOP cache from its key
//!   frame (SRS v0.9 fixed the same: "feed the forwarder the sequence
//!   header on reconnect").
//!
//! `backend URL` is SRS's dynamic forward: at publish, `on_forward` is
//! POSTed to the URL and the answer's `data.urls` are forwarded to as well.
//!
//! Loops. SRS refuses only a destination that is the server itself (same
//! host, port and vhost) and relies on nothing else. Here:
//! - the same check is made against this server's `listen` ports;
//! - a loop that comes back under the same name is stopped by the hub (a
//!   stream has one publisher: the returning forward is refused and
//!   retried at most every [`RETRY_MAX`]);
//! - every forward marks its publish with `forward_hops=N` (one more than
//!   the hops the stream arrived with), and a stream that arrived with
//!   [`MAX_FORWARD_HOPS`] is not forwarded further: this stops loops that
//!   rename the stream (`destination rtmp://h/[app]/[stream]_copy`) on
//!   each turn, which would otherwise create streams without end. The mark
//!   is a query parameter, so the destination's hooks see it too.

mod target;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_listener::Event;
use futures_util::future::{select, Either};
use futures_util::FutureExt;
use media_core::MediaKind;
use serde::Serialize;
use tracing::{debug, info, warn, Instrument};

use crate::context::ServerCtx;
use crate::hub::{MergeRule, QueueItem, Source, StreamKey};
use crate::lifecycle::{Output, PublishedStream};
use crate::upstream::{
    Backoff, RtmpUrl, RtmpUrlError, UpstreamConn, UpstreamError, UpstreamLimits,
};
use crate::vhost::VhostSettings;
pub use target::{
    arrived_hops, backend_body, backend_url, backend_urls, destination_url, MAX_BACKEND_URLS,
};

/// Most `destination`s in one `forward` block.
pub const MAX_DESTINATIONS: usize = 16;
/// A stream that arrived with this many forward hops is not forwarded again.
pub const MAX_FORWARD_HOPS: u32 = 8;
/// The query parameter a forward marks its publish with.
pub const HOPS_PARAM: &str = "forward_hops";
/// Media time a destination may fall behind before it skips to a key frame.
pub const QUEUE_SPAN_MS: u64 = 10_000;
/// First wait before retrying a destination (SRS waits 3 s each time,
/// `SRS_FORWARDER_CIMS`).
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between retries.
pub const RETRY_MAX: Duration = Duration::from_secs(30);
/// A connection that carried the stream this long resets the backoff.
pub const STABLE_AFTER: Duration = Duration::from_secs(10);

/// `forward { }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `destination ...`.
    pub destinations: Vec<Destination>,
    /// `backend URL`: SRS's dynamic forward.
    pub backend: Option<String>,
}

/// One `destination`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `HOST[:PORT]`: the stream keeps its app, name and query.
    HostPort {
        /// Host name or IP address.
        host: String,
        /// Port (1935 when absent).
        port: u16,
    },
    /// A full `rtmp://` URL, `[vhost]`, `[app]`, `[stream]` replaced.
    Url(String),
}

impl Destination {
    /// Parses `HOST[:PORT]` or an `rtmp://` URL (checked with sample names).
    pub fn parse(text: &str) -> Result<Self, RtmpUrlError> {
        if text.contains("://") {
            let sample = text
                .replace("[vhost]", "v")
                .replace("[app]", "a")
                .replace("[stream]", "s");
            RtmpUrl::parse(&sample)?;
            return Ok(Self::Url(text.to_owned()));
        }
        let (host, port) = crate::upstream::url::split_host_port(text)?;
        if host.is_empty() || host.contains(['/', '?', ' ']) {
            return Err(RtmpUrlError::NoHost);
        }
        Ok(Self::HostPort {
            host: host.to_owned(),
            port: port.unwrap_or(crate::upstream::RTMP_DEFAULT_PORT),
        })
    }
}

/// What a destination is doing, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardState {
    /// Connecting, handshaking or publishing.
    Connecting,
    /// Media flows.
    Forwarding,
    /// Waiting to retry after a failure.
    Retrying,
}

/// One destination of one stream, for the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardStatus {
    /// The URL, without its query.
    pub destination: String,
    /// What it is doing.
    pub state: ForwardState,
    /// Failed attempts and drops so far.
    pub retries: u64,
    /// Bytes sent over every connection so far.
    pub bytes: u64,
    /// Why the last attempt failed, if one did.
    pub last_error: Option<String>,
}

/// The forwards of one publish.
#[derive(Debug)]
struct StreamForwards {
    /// The publisher whose publish started them.
    publisher: String,
    stop: AtomicBool,
    wake: Event,
    destinations: Mutex<Vec<Arc<Mutex<ForwardStatus>>>>,
}

impl StreamForwards {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Completes once stopped.
    async fn until_stopped(&self) {
        loop {
            let listener = self.wake.listen();
            if self.stopped() {
                return;
            }
            listener.await;
        }
    }
}

/// The running forwards, by stream.
#[derive(Debug, Default)]
pub struct ForwardManager {
    running: Mutex<HashMap<StreamKey, Arc<StreamForwards>>>,
}

impl ForwardManager {
    /// Starts forwarding `stream` if its vhost says so.
    pub fn start(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        let Some(config) = stream.vhost.forward.as_ref().filter(|f| f.enabled) else {
            return;
        };
        let key = &stream.source.key;
        let hops = arrived_hops(&stream.publisher.param);
        if hops >= MAX_FORWARD_HOPS {
            warn!(stream = %key, hops, "forward: not forwarded: the stream has come through {MAX_FORWARD_HOPS} forwards (a loop?)");
            return;
        }
        let entry = Arc::new(StreamForwards {
            publisher: stream.publisher.client_id.clone(),
            stop: AtomicBool::new(false),
            wake: Event::new(),
            destinations: Mutex::new(Vec::new()),
        });
        if let Some(old) = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), entry.clone())
        {
            stop(&old);
        }
        let listen = ctx.config().listen.clone();
        for dest in &config.destinations {
            match destination_url(dest, key, &stream.publisher, hops + 1) {
                Ok(url) if is_self(&url, &listen) => {
                    warn!(stream = %key, destination = %url.redacted(), "forward: refused: the destination is this server (a loop)");
                }
                Ok(url) => spawn_destination(ctx, &stream.source, &entry, vec![url], None),
                Err(e) => warn!(stream = %key, "forward: bad destination: {e}"),
            }
        }
        if let Some(backend) = &config.backend {
            let ctx2 = ctx.clone();
            let source = stream.source.clone();
            let req = stream.publisher.clone();
            let backend = backend.clone();
            let timeout = stream.vhost.hooks.timeout;
            let entry2 = entry.clone();
            let span = tracing::info_span!("forward-backend", stream = %key);
            let task = async move {
                let body = backend_body(&req, ctx2.hooks.ids());
                let ask = ctx2.hooks.post_json(&backend, &body, timeout);
                let answer = match select(Box::pin(ask), Box::pin(entry2.until_stopped())).await {
                    Either::Left((answer, _)) => answer,
                    Either::Right(_) => return,
                };
                let urls = match answer
                    .map_err(|e| e.to_string())
                    .and_then(|b| backend_urls(&b))
                {
                    Ok(urls) => urls,
                    Err(e) => {
                        warn!("forward backend failed, nothing forwarded by it: {e}");
                        return;
                    }
                };
                debug!(count = urls.len(), "forward backend answered");
                for text in urls {
                    match backend_url(&text, hops + 1) {
                        Ok(url) => spawn_destination(&ctx2, &source, &entry2, vec![url], None),
                        Err(e) => warn!("forward backend: bad URL: {e}"),
                    }
                }
            };
            ctx.rt.spawn(Box::pin(task.instrument(span)));
        }
    }

    /// Stops the forwards `stream`'s publish started.
    pub fn stop(&self, stream: &PublishedStream) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let key = &stream.source.key;
        if running
            .get(key)
            .is_some_and(|e| e.publisher == stream.publisher.client_id)
        {
            if let Some(entry) = running.remove(key) {
                stop(&entry);
            }
        }
    }

    /// Stops every forward (shutdown).
    pub fn stop_all(&self) {
        let all: Vec<_> = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        for (_, entry) in all {
            stop(&entry);
        }
    }

    /// Every forwarded stream's destinations (for `/metrics`).
    pub fn all(&self) -> Vec<(StreamKey, Vec<ForwardStatus>)> {
        let keys: Vec<StreamKey> = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        keys.into_iter()
            .map(|k| {
                let status = self.status(&k);
                (k, status)
            })
            .filter(|(_, s)| !s.is_empty())
            .collect()
    }

    /// The destinations of stream `key`, for the API.
    pub fn status(&self, key: &StreamKey) -> Vec<ForwardStatus> {
        let entry = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned();
        entry.map_or_else(Vec::new, |e| {
            e.destinations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone())
                .collect()
        })
    }
}

fn stop(entry: &StreamForwards) {
    entry.stop.store(true, Ordering::SeqCst);
    entry.wake.notify(usize::MAX);
}

/// SRS's loop check: a destination on one of our own listen ports, on a
/// loopback or unspecified address (or one we listen on), is this server.
pub(crate) fn is_self(url: &RtmpUrl, listen: &[std::net::SocketAddr]) -> bool {
    let host = if url.host.eq_ignore_ascii_case("localhost") {
        "127.0.0.1"
    } else {
        url.host.as_str()
    };
    let Ok(ip) = host.parse::<std::net::IpAddr>() else {
        return false;
    };
    listen
        .iter()
        .any(|l| l.port() == url.port && (l.ip() == ip || ip.is_loopback() || ip.is_unspecified()))
}

/// A connection already publishing to one of a push's URLs when the push
/// starts: an edge connects to its origin before it answers the encoder
/// (so the encoder hears the origin's refusal), then pushes over it.
#[derive(Debug)]
pub struct FirstUpstream {
    /// Which of the push's URLs it went to.
    pub index: usize,
    /// The connection, `publish` answered.
    pub conn: UpstreamConn,
    /// Attempts that failed before it (shown as retries).
    pub failures: u64,
    /// Why the last of them failed.
    pub last_error: Option<String>,
}

/// Spawns the task pushing `source` to the first of `urls` that takes it
/// (moving to the next one after each failure), starting with `first`'s
/// connection when given.
fn spawn_destination(
    ctx: &Arc<ServerCtx>,
    source: &Arc<Source>,
    entry: &Arc<StreamForwards>,
    urls: Vec<RtmpUrl>,
    first_conn: Option<FirstUpstream>,
) {
    let Some(first) = urls.first().map(RtmpUrl::redacted) else {
        return;
    };
    let status = Arc::new(Mutex::new(ForwardStatus {
        destination: first_conn
            .as_ref()
            .and_then(|f| urls.get(f.index))
            .map_or_else(|| first.clone(), RtmpUrl::redacted),
        state: ForwardState::Connecting,
        retries: first_conn.as_ref().map_or(0, |f| f.failures),
        bytes: 0,
        last_error: first_conn.as_ref().and_then(|f| f.last_error.clone()),
    }));
    entry
        .destinations
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(status.clone());
    let task = DestinationTask {
        ctx: ctx.clone(),
        source: source.clone(),
        entry: entry.clone(),
        status,
        urls,
    };
    let span = tracing::info_span!("forward", stream = %source.key, to = %first);
    ctx.rt
        .spawn(Box::pin(task.run(first_conn).instrument(span)));
}

/// One destination's task.
struct DestinationTask {
    ctx: Arc<ServerCtx>,
    source: Arc<Source>,
    entry: Arc<StreamForwards>,
    status: Arc<Mutex<ForwardStatus>>,
    /// Where to: the first that takes the stream (one for a forward, an
    /// edge's origins for its publish).
    urls: Vec<RtmpUrl>,
}

impl DestinationTask {
    fn update(&self, f: impl FnOnce(&mut ForwardStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Pushes until stopped, over `ready` (a connection made before the
    /// task started) first when given.
    async fn run(self, mut ready: Option<FirstUpstream>) {
        let mut backoff = Backoff::new(RETRY_FIRST, RETRY_MAX);
        let mut sent_before = 0u64;
        let mut next = 0usize;
        if let Some(first) = &ready {
            next = first.index;
        }
        while !self.entry.stopped() {
            let Some(url) = self.urls.get(next % self.urls.len().max(1)) else {
                break;
            };
            self.update(|s| {
                s.state = ForwardState::Connecting;
                s.destination = url.redacted();
            });
            let attempt = match ready.take() {
                Some(first) => Ok(first.conn),
                None => {
                    let attempt = UpstreamConn::publish(
                        &self.ctx.rt,
                        &self.ctx.rtmps.upstream,
                        url,
                        Vec::new(),
                        UpstreamLimits::default(),
                    );
                    match select(Box::pin(attempt), Box::pin(self.entry.until_stopped())).await {
                        Either::Left((attempt, _)) => attempt,
                        Either::Right(_) => break,
                    }
                }
            };
            let error = match attempt {
                Ok(mut conn) => {
                    info!("forward: publishing");
                    self.update(|s| s.state = ForwardState::Forwarding);
                    let since = self.ctx.rt.now();
                    let result = self.pump(&mut conn, sent_before).await;
                    sent_before = sent_before.saturating_add(conn.bytes_out());
                    // A destination that takes the publish and drops it at
                    // once keeps backing off; one that held it a while is
                    // retried quickly.
                    if self.ctx.rt.now().saturating_sub(since) >= STABLE_AFTER {
                        backoff.reset();
                    }
                    match result {
                        Ok(()) => break,
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            };
            next = next.wrapping_add(1);
            let wait = backoff.failed();
            warn!(
                retry_in_ms = wait.as_millis() as u64,
                "forward failed: {error}"
            );
            self.update(|s| {
                s.state = ForwardState::Retrying;
                s.retries = s.retries.saturating_add(1);
                s.last_error = Some(error.to_string());
            });
            let sleep = self.ctx.rt.sleep(wait);
            let _ = select(sleep, Box::pin(self.entry.until_stopped())).await;
        }
        debug!("forward stopped");
    }

    /// Sends the stream until stopped (`Ok`) or the connection fails.
    async fn pump(&self, conn: &mut UpstreamConn, sent_before: u64) -> Result<(), UpstreamError> {
        let mut consumer = self
            .ctx
            .hub
            .subscribe_with_span(&self.source, QUEUE_SPAN_MS);
        let mut items = Vec::new();
        loop {
            if self.entry.stopped() {
                return Ok(());
            }
            if consumer.drain_into(&mut items) > 0 {
                for item in items.drain(..) {
                    if let QueueItem::Media(frame) = item {
                        let mut msg = frame.raw(1);
                        if frame.msg.kind == MediaKind::Data {
                            // Stored as players get it; a publisher sends
                            // `@setDataFrame` so the destination keeps it.
                            msg.payload = media_core::metadata::add_set_data_frame(&msg.payload);
                        }
                        conn.send(&msg);
                    }
                }
            }
            // A stalled destination holds this for at most the write-stall
            // bound; an unpublish does not wait for it.
            let flush = Box::pin(conn.flush().map(Some));
            let stop = Box::pin(self.entry.until_stopped().map(|()| None));
            match first(flush, stop).await {
                Some(flushed) => flushed?,
                None => return Ok(()),
            }
            let total = sent_before.saturating_add(conn.bytes_out());
            self.update(|s| s.bytes = total);
            while let Some(event) = conn.poll_event() {
                if let rtmp_proto::session::ClientEvent::Status {
                    level,
                    code,
                    description,
                    ..
                } = event
                {
                    if level == "error" {
                        return Err(UpstreamError::Refused(format!("{code} {description}")));
                    }
                }
            }
            // Wait for media, for the destination (acks, pings, a close),
            // for the stop, or a second.
            let ready = consumer.ready(MergeRule::IMMEDIATE).map(|()| None);
            let read = conn.read_some().map(Some);
            let stop = self.entry.until_stopped().map(|()| None);
            let tick = self.ctx.rt.sleep(Duration::from_secs(1)).map(|()| None);
            let woke = first(
                first(Box::pin(ready), Box::pin(read)),
                first(Box::pin(stop), tick),
            )
            .await;
            if let Some(read) = woke {
                read?;
            }
        }
    }
}

/// A push of one stream to the first of several servers that takes it,
/// moving to the next after each failure: an edge's publish to its origins
/// ([`crate::edge`]). Retried and bounded as a forward is; dropping it
/// stops the push.
#[derive(Debug)]
pub struct FailoverPush {
    entry: Arc<StreamForwards>,
}

impl FailoverPush {
    /// Starts pushing `source` (published by client `publisher`) to `urls`,
    /// over `first` to begin with when it is given.
    pub fn start(
        ctx: &Arc<ServerCtx>,
        source: &Arc<Source>,
        publisher: &str,
        urls: Vec<RtmpUrl>,
        first: Option<FirstUpstream>,
    ) -> Self {
        let entry = Arc::new(StreamForwards {
            publisher: publisher.to_owned(),
            stop: AtomicBool::new(false),
            wake: Event::new(),
            destinations: Mutex::new(Vec::new()),
        });
        spawn_destination(ctx, source, &entry, urls, first);
        Self { entry }
    }

    /// The push's state, for the API.
    pub fn status(&self) -> Option<ForwardStatus> {
        self.entry
            .destinations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .first()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// The client whose publish this push carries.
    pub fn publisher(&self) -> &str {
        &self.entry.publisher
    }
}

impl Drop for FailoverPush {
    fn drop(&mut self) {
        stop(&self.entry);
    }
}

/// The output of whichever of `a` and `b` completes first.
fn first<T>(
    a: impl std::future::Future<Output = T> + Unpin,
    b: impl std::future::Future<Output = T> + Unpin,
) -> impl std::future::Future<Output = T> + Unpin {
    select(a, b).map(|e| e.factor_first().0)
}

/// The forward output, registered in [`crate::lifecycle::OutputRegistry`].
#[derive(Debug)]
pub struct Forward;

impl Output for Forward {
    fn name(&self) -> &'static str {
        "forward"
    }

    fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        ctx.forwards.start(ctx, stream);
    }

    fn on_unpublish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        ctx.forwards.stop(stream);
    }

    /// The server is ending: every forward stops now (their publishers were
    /// closed, so they were stopping anyway; this also covers a forward
    /// still waiting on its backend).
    fn finish<'a>(&'a self, ctx: &'a Arc<ServerCtx>) -> crate::runtime::BoxFuture<'a, ()> {
        ctx.forwards.stop_all();
        Box::pin(async {})
    }

    /// `forward` changed: the stream's forwards stop and start again with
    /// the new settings (each destination reconnects from a key frame);
    /// switched off, they stop. Unchanged, they go on untouched.
    fn on_reload(
        &self,
        ctx: &Arc<ServerCtx>,
        stream: &PublishedStream,
        old: &VhostSettings,
        new: &Arc<VhostSettings>,
    ) {
        if old.forward == new.forward {
            return;
        }
        info!(stream = %stream.source.key, "reload: forward changed, restarting its forwards");
        ctx.forwards.stop(stream);
        let mut renewed = stream.clone();
        renewed.vhost = new.clone();
        ctx.forwards.start(ctx, &renewed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse() {
        assert_eq!(
            Destination::parse("127.0.0.1:19350"),
            Ok(Destination::HostPort {
                host: "127.0.0.1".into(),
                port: 19350
            })
        );
        assert_eq!(
            Destination::parse("[::1]"),
            Ok(Destination::HostPort {
                host: "::1".into(),
                port: 1935
            })
        );
        assert!(matches!(
            Destination::parse("rtmp://h/[app]/[stream]"),
            Ok(Destination::Url(_))
        ));
        assert!(Destination::parse("h:x").is_err());
        assert!(Destination::parse("h/x").is_err());
        assert!(Destination::parse("rtmp://h/[app]").is_err());
        assert!(Destination::parse("").is_err());
    }

    #[test]
    fn a_destination_on_our_own_port_is_us() {
        let listen: Vec<std::net::SocketAddr> = vec!["0.0.0.0:1935".parse().unwrap()];
        let url = |s: &str| RtmpUrl::parse(s).unwrap();
        assert!(is_self(&url("rtmp://127.0.0.1/l/s"), &listen));
        assert!(is_self(&url("rtmp://localhost:1935/l/s"), &listen));
        assert!(!is_self(&url("rtmp://127.0.0.1:19350/l/s"), &listen));
        assert!(!is_self(&url("rtmp://other.example/l/s"), &listen));
        let listen: Vec<std::net::SocketAddr> = vec!["127.0.0.1:19350".parse().unwrap()];
        assert!(is_self(&url("rtmp://127.0.0.1:19350/l/s"), &listen));
        assert!(!is_self(&url("rtmp://127.0.0.1:19351/l/s"), &listen));
    }
}
