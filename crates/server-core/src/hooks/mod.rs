//! SRS's `http_hooks`: HTTP callbacks that let an operator's own server allow
//! or refuse connects, publishes and plays, and hear about closes, unpublishes,
//! stops, DVR files and finished HLS segments.
//!
//! The contract is SRS's (`srs_app_http_hooks.cpp`): each event's URLs are
//! called in order with `POST` and a JSON body ([`json_body`]); an answer
//! allows only with status 200 or 201 and a body of `0` or `{"code":0,...}`
//! ([`judge_answer`]). The first refusal stops the chain. A deciding event
//! ([`Hooks::check`]: on_connect, on_publish, on_play) fails closed: no
//! answer, a late one or a garbled one refuses. The others ([`Hooks::notify`],
//! [`Hooks::notify_hls`]) run in the background and only log.
//!
//! Bounds, so a hook server that is down, slow or hostile never holds up the
//! server or other streams:
//! - every call (name resolution, connect, TLS, request, answer) ends within
//!   the vhost's `timeout` ([`DEFAULT_TIMEOUT`]);
//! - answers are bounded ([`MAX_HEAD_BYTES`], [`MAX_BODY_BYTES`]);
//! - at most [`HookLimits::deciding`] deciding calls are in flight server-wide;
//!   one more waits for a slot within its own timeout, then refuses;
//! - at most [`HookLimits::notifying`] background calls are in flight and
//!   [`HookLimits::notify_queue`] events wait or run; past that an event is
//!   dropped and counted ([`Hooks::dropped_notifies`]), with a warning.
//!   The two pools are apart so a flood of closes never starves a publish.

mod answer;
mod body;
mod client;
mod hls;
mod stream_stats;
mod url;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_listener::Event;
use tracing::{debug, info, warn};

pub use crate::tls_client::RootCertError;
pub use answer::{judge_answer, quote, AnswerError, MAX_QUOTED_CHARS};
pub use body::{json as json_body, stream_url, ServerIds};
pub use client::{
    parse_response_head, ChunkError, ChunkedDecoder, Framing, HeadError, ResponseHead,
    MAX_BODY_BYTES, MAX_CHUNK_LINE_BYTES, MAX_HEADERS, MAX_HEAD_BYTES, MAX_INTERIM_RESPONSES,
    MAX_TRAILER_BYTES,
};
pub use hls::{segment_urls, SegmentUrls};
pub(crate) use url::ip_literal;
pub use url::{
    check_notify_template, render_notify, HookUrl, NotifyVars, UrlError, MAX_URL_BYTES,
    NOTIFY_VARIABLES,
};

use crate::hub::{ClientInfo, StreamKey};
use crate::runtime::{BoxFuture, Connection, Runtime};
use client::{exchange, request, ExchangeError, Overflow, Response};

/// A hook call's default time limit, all included: name resolution,
/// connect, TLS handshake, request and the whole answer.
///
/// SRS gives each socket operation 30 s (`SRS_HTTP_CLIENT_TIMEOUT`) and no
/// total, so a server trickling bytes holds a publish forever. Here the
/// bound is total, and 10 s: a publisher or player waits on it before any
/// media flows, encoders give up on their own after 10 to 30 s, and a hook
/// server that needs longer is better treated as down (refused) than
/// allowed to stall clients. It is also SRS's `on_hls_notify` limit.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Shortest `timeout` the config accepts, ms.
pub const MIN_TIMEOUT_MS: u64 = 100;
/// Longest `timeout` the config accepts, ms.
pub const MAX_TIMEOUT_MS: u64 = 120_000;
/// SRS's `hls_nb_notify` default: body bytes read from an `on_hls_notify` answer.
pub const DEFAULT_HLS_NB_NOTIFY: u32 = 64;
/// Largest `hls_nb_notify`: [`MAX_BODY_BYTES`].
pub const MAX_HLS_NB_NOTIFY: u32 = 64 * 1024;

/// `vhost { http_hooks { ... } }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHooksConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `on_connect URL...`.
    pub on_connect: Vec<String>,
    /// `on_close URL...`.
    pub on_close: Vec<String>,
    /// `on_publish URL...`.
    pub on_publish: Vec<String>,
    /// `on_unpublish URL...`.
    pub on_unpublish: Vec<String>,
    /// `on_play URL...`.
    pub on_play: Vec<String>,
    /// `on_stop URL...`.
    pub on_stop: Vec<String>,
    /// `on_dvr URL...`.
    pub on_dvr: Vec<String>,
    /// `on_hls URL...`.
    pub on_hls: Vec<String>,
    /// `on_hls_notify URL-TEMPLATE...` (SRS takes several, called in order).
    pub on_hls_notify: Vec<String>,
    /// `timeout MS` (our extension; SRS has no such directive): one call's
    /// total time limit. Default [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
}

impl Default for HttpHooksConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            on_connect: Vec::new(),
            on_close: Vec::new(),
            on_publish: Vec::new(),
            on_unpublish: Vec::new(),
            on_play: Vec::new(),
            on_stop: Vec::new(),
            on_dvr: Vec::new(),
            on_hls: Vec::new(),
            on_hls_notify: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// What SRS's `SrsRequest` tells a hook about the client and its stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookRequest {
    /// The client's id, as the HTTP API lists it.
    pub client_id: String,
    /// The client's IP address (no port).
    pub ip: String,
    /// The resolved vhost.
    pub vhost: String,
    /// The app.
    pub app: String,
    /// The stream name without its query (empty for connect/close).
    pub stream: String,
    /// The query exactly as the client sent it, `?` included (`?token=abc`), or empty.
    pub param: String,
    /// The RTMP tcUrl (for HTTP-FLV players, the URL they asked for).
    pub tc_url: String,
    /// The RTMP connect's `pageUrl` (for HTTP-FLV players, the `Referer`).
    pub page_url: String,
    /// The stream's id as the HTTP API lists it, once the stream exists
    /// (SRS sends `stream_id` only then).
    pub stream_id: Option<String>,
}

impl HookRequest {
    /// What the hub knows of `client` on stream `key`. The hub does not keep
    /// the query, so `param` is empty.
    pub fn from_client(client: &ClientInfo, key: &StreamKey) -> Self {
        let ip = client
            .peer
            .parse::<std::net::SocketAddr>()
            .map_or_else(|_| client.peer.clone(), |a| a.ip().to_string());
        client.with_details(|d| Self {
            client_id: client.id.to_string(),
            ip,
            vhost: key.vhost.clone(),
            app: key.app.clone(),
            stream: key.stream.clone(),
            param: String::new(),
            tc_url: d.url.clone(),
            page_url: d.page_url.clone(),
            stream_id: d.source_id.map(|id| id.to_string()),
        })
    }
}

/// One hook call's event and its fields.
#[derive(Debug, Clone, PartialEq)]
pub enum HookEvent {
    /// `on_connect` (decides).
    Connect(HookRequest),
    /// `on_close` (never decides).
    Close {
        /// Who.
        req: HookRequest,
        /// Bytes sent to the client.
        send_bytes: u64,
        /// Bytes received from the client.
        recv_bytes: u64,
    },
    /// `on_publish` (decides).
    Publish(HookRequest),
    /// `on_unpublish` (never decides).
    Unpublish(HookRequest),
    /// `on_play` (decides).
    Play(HookRequest),
    /// `on_stop` (never decides).
    Stop(HookRequest),
    /// `on_dvr`: a DVR file was closed (never decides).
    Dvr {
        /// The publisher.
        req: HookRequest,
        /// The server's working directory.
        cwd: String,
        /// The file's path.
        file: String,
    },
    /// `on_hls`: a segment was closed (never decides).
    Hls {
        /// The publisher.
        req: HookRequest,
        /// Segment duration, seconds.
        duration: f64,
        /// The server's working directory.
        cwd: String,
        /// The segment's file path (`hls_path` joined with its name, as SRS).
        file: String,
        /// The segment's URL below the HTTP root (see [`segment_urls`]).
        url: String,
        /// The playlist's file path.
        m3u8: String,
        /// The playlist's URL below the HTTP root.
        m3u8_url: String,
        /// The segment's sequence number.
        seq_no: u64,
    },
}

impl HookEvent {
    /// The client and stream the event is about.
    pub fn request(&self) -> &HookRequest {
        match self {
            Self::Connect(req)
            | Self::Publish(req)
            | Self::Unpublish(req)
            | Self::Play(req)
            | Self::Stop(req)
            | Self::Close { req, .. }
            | Self::Dvr { req, .. }
            | Self::Hls { req, .. } => req,
        }
    }

    /// SRS's `action` field: `on_connect`, `on_close`...
    pub fn action(&self) -> &'static str {
        match self {
            Self::Connect(_) => "on_connect",
            Self::Close { .. } => "on_close",
            Self::Publish(_) => "on_publish",
            Self::Unpublish(_) => "on_unpublish",
            Self::Play(_) => "on_play",
            Self::Stop(_) => "on_stop",
            Self::Dvr { .. } => "on_dvr",
            Self::Hls { .. } => "on_hls",
        }
    }

    /// The URLs `config` has for this event.
    pub fn urls<'a>(&self, config: &'a HttpHooksConfig) -> &'a [String] {
        match self {
            Self::Connect(_) => &config.on_connect,
            Self::Close { .. } => &config.on_close,
            Self::Publish(_) => &config.on_publish,
            Self::Unpublish(_) => &config.on_unpublish,
            Self::Play(_) => &config.on_play,
            Self::Stop(_) => &config.on_stop,
            Self::Dvr { .. } => &config.on_dvr,
            Self::Hls { .. } => &config.on_hls,
        }
    }

    /// Whether the event allows or refuses (on_connect, on_publish, on_play).
    pub fn decides(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Publish(_) | Self::Play(_))
    }
}

/// Why a deciding hook refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct HookDenied {
    /// The URL that refused (without its query, which may hold secrets).
    pub url: String,
    /// What it answered, or why the call failed.
    pub reason: String,
    /// Whether the hook server answered (the reason is its answer, which a
    /// refused client may be told) rather than failing (a timeout, a refused
    /// connection: details of the operator's network the client must not see).
    pub answered: bool,
}

impl HookDenied {
    /// What a refused client is told: the hook's own answer, or only that
    /// the hook could not be asked. The URL stays in the server's log.
    pub fn client_reason(&self) -> String {
        if self.answered {
            format!("refused by the authorization hook: {}", self.reason)
        } else {
            "the authorization hook could not be asked".to_owned()
        }
    }
}

/// How many hook calls may run at once, server-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookLimits {
    /// Deciding calls (on_connect, on_publish, on_play) in flight. One more
    /// waits for a slot within its timeout, then refuses. Default 64.
    pub deciding: usize,
    /// Background calls in flight. Default 32.
    pub notifying: usize,
    /// Background events waiting or running. One more is dropped and
    /// counted. Default 1024.
    pub notify_queue: usize,
}

impl Default for HookLimits {
    fn default() -> Self {
        Self {
            deciding: 64,
            notifying: 32,
            notify_queue: 1024,
        }
    }
}

/// JSON hook calls since start ([`Hooks::call_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookCallStats {
    /// Calls made (one per URL).
    pub calls: u64,
    /// Calls that failed: refused, unreachable, timed out or a bad answer.
    pub failed: u64,
    /// Their time added up, slot wait included.
    pub latency: Duration,
}

/// Calls hooks for the whole server.
#[derive(Debug, Clone)]
pub struct Hooks {
    inner: Arc<Inner>,
}

struct Inner {
    rt: Arc<dyn Runtime>,
    ids: ServerIds,
    tls: crate::tls_client::TlsClient,
    limits: HookLimits,
    deciding: Slots,
    notifying: Slots,
    queued: AtomicUsize,
    dropped: AtomicU64,
    /// JSON hook calls made, failed, and their time in µs (for `/metrics`).
    calls: AtomicU64,
    failed: AtomicU64,
    latency_us: AtomicU64,
    /// The same, per stream (events of a stream: not connect/close).
    per_stream: stream_stats::StreamHookStats,
    /// Background work waiting behind a running event, by chain (a client).
    chains: Mutex<HashMap<String, VecDeque<BoxFuture<'static, ()>>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("limits", &self.limits)
            .field("queued", &self.queued)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Hooks {
    /// A hook caller on `rt` with the default [`HookLimits`].
    pub fn new(rt: Arc<dyn Runtime>) -> Self {
        Self::with_limits(rt, HookLimits::default())
    }

    /// A hook caller on `rt` with these bounds (each at least 1).
    pub fn with_limits(rt: Arc<dyn Runtime>, limits: HookLimits) -> Self {
        let limits = HookLimits {
            deciding: limits.deciding.max(1),
            notifying: limits.notifying.max(1),
            notify_queue: limits.notify_queue.max(1),
        };
        Self {
            inner: Arc::new(Inner {
                rt,
                ids: ServerIds::current(),
                tls: crate::tls_client::TlsClient::new("hooks"),
                limits,
                deciding: Slots::new(limits.deciding),
                notifying: Slots::new(limits.notifying),
                queued: AtomicUsize::new(0),
                dropped: AtomicU64::new(0),
                calls: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                latency_us: AtomicU64::new(0),
                per_stream: Default::default(),
                chains: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Trusts these root certificates (DER) for `https` hooks, on top of the
    /// system's, from the next connection on: for a private CA that is not
    /// in the system store, and for tests. All are checked before any is
    /// kept. (Operators can also point `SSL_CERT_FILE` at a PEM bundle.)
    pub fn add_root_certificates(&self, ders: &[Vec<u8>]) -> Result<(), RootCertError> {
        self.inner.tls.add_roots(ders)
    }

    /// The ids the bodies carry.
    pub fn ids(&self) -> &ServerIds {
        &self.inner.ids
    }

    /// Background events dropped because [`HookLimits::notify_queue`] were
    /// already waiting or running.
    pub fn dropped_notifies(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// How the JSON hook calls (`on_connect`... `on_hls`, `on_dvr`; not
    /// `on_hls_notify`'s GETs) went since start: for `/metrics`.
    pub fn call_stats(&self) -> HookCallStats {
        HookCallStats {
            calls: self.inner.calls.load(Ordering::Relaxed),
            failed: self.inner.failed.load(Ordering::Relaxed),
            latency: Duration::from_micros(self.inner.latency_us.load(Ordering::Relaxed)),
        }
    }

    /// [`call_stats`](Self::call_stats) per stream, for the streams whose
    /// events (publish, play, unpublish, stop, HLS, DVR) called hooks;
    /// bounded (see `stream_stats`).
    pub fn stream_call_stats(&self) -> HashMap<StreamKey, HookCallStats> {
        self.inner.per_stream.snapshot()
    }

    /// Forgets the per-stream figures of streams `keep` says no to (the
    /// exporter drops those the hub no longer has).
    pub fn retain_stream_stats(&self, keep: impl FnMut(&StreamKey) -> bool) {
        self.inner.per_stream.retain(keep)
    }

    /// Runs a deciding event's URLs in order; the first refusal stops the
    /// chain and refuses. Allows when hooks are off or the event has no URL.
    pub async fn check(
        &self,
        config: &HttpHooksConfig,
        event: &HookEvent,
    ) -> Result<(), HookDenied> {
        if !config.enabled || event.urls(config).is_empty() {
            return Ok(());
        }
        let body = json_body(event, &self.inner.ids);
        let action = event.action();
        let stream = stream_of(event.request());
        for url in event.urls(config) {
            match self
                .inner
                .post(
                    &self.inner.deciding,
                    url,
                    &body,
                    config.timeout,
                    stream.as_ref(),
                )
                .await
            {
                Ok(()) => {
                    debug!(action, url = %name(url), client = %event.request().client_id, "hook allowed")
                }
                Err(e) => {
                    info!(action, url = %name(url), client = %event.request().client_id, "hook refused: {e}");
                    return Err(HookDenied {
                        url: name(url),
                        answered: matches!(e, CallError::Answer(_)),
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Calls a non-deciding event's URLs in order, in the background; never
    /// waits and never fails: what goes wrong is logged. As in SRS, a failed
    /// `on_hls` or `on_dvr` URL stops its chain; the others are all called.
    ///
    /// One client's events are sent one after another in the order given
    /// (SRS calls them from the client's own coroutine: `on_unpublish` or
    /// `on_stop` reaches the hook server before `on_close`); its HLS events
    /// form a chain of their own, so a slow `on_hls_notify` never delays its
    /// `on_close`. Different clients' events run side by side.
    pub fn notify(&self, config: &HttpHooksConfig, event: HookEvent) {
        if !config.enabled || event.urls(config).is_empty() {
            return;
        }
        let Some(ticket) = self.inner.enqueue(event.action()) else {
            return;
        };
        let urls = event.urls(config).to_vec();
        let body = json_body(&event, &self.inner.ids);
        let timeout = config.timeout;
        let stop_on_failure = matches!(event, HookEvent::Hls { .. } | HookEvent::Dvr { .. });
        let action = event.action();
        let client = event.request().client_id.clone();
        let stream = stream_of(event.request());
        let chain = match event {
            HookEvent::Hls { .. } => format!("{client}/hls"),
            _ => client.clone(),
        };
        let inner = self.inner.clone();
        self.inner.submit(chain, async move {
            let _ticket = ticket;
            for url in &urls {
                match inner
                    .post(&inner.notifying, url, &body, timeout, stream.as_ref())
                    .await
                {
                    Ok(()) => debug!(action, url = %name(url), %client, "hook called"),
                    Err(e) => {
                        warn!(action, url = %name(url), %client, "hook failed (ignored): {e}");
                        if stop_on_failure {
                            break;
                        }
                    }
                }
            }
        });
    }

    /// POSTs a JSON `body` to `url` and returns the answer's body when the
    /// answer allows (status 200 or 201 and `0` or `{"code":0,...}`, see
    /// [`judge_answer`]): for calls whose answer carries data, such as SRS's
    /// dynamic forward (`forward { backend URL; }`, `on_forward`). Bounded
    /// like a deciding hook: a slot of [`HookLimits::deciding`], `timeout`
    /// for everything, at most [`MAX_BODY_BYTES`] of answer.
    pub async fn post_json(
        &self,
        url: &str,
        body: &str,
        timeout: Duration,
    ) -> Result<Vec<u8>, HookDenied> {
        let denied = |e: CallError| HookDenied {
            url: name(url),
            answered: matches!(e, CallError::Answer(_)),
            reason: e.to_string(),
        };
        let r = self
            .inner
            .call(
                &self.inner.deciding,
                url,
                Some(body),
                timeout,
                MAX_BODY_BYTES,
                Overflow::Refuse,
            )
            .await
            .map_err(denied)?;
        judge_answer(r.status, &r.body).map_err(|e| denied(e.into()))?;
        Ok(r.body)
    }

    /// SRS's `on_hls_notify`: a `GET` of each of the vhost's templates in
    /// turn, with `[server_id] [service_id] [app] [stream] [ts_url] [param]`
    /// rendered (or of `ts_url` itself when it is an absolute `http(s)` URL,
    /// as SRS does to warm a CDN), reading at most `nb_notify` body bytes
    /// (`hls_nb_notify`) and ignoring the answer. In the background, like
    /// [`notify`](Self::notify).
    pub fn notify_hls(
        &self,
        config: &HttpHooksConfig,
        req: &HookRequest,
        ts_url: &str,
        nb_notify: usize,
    ) {
        if !config.enabled || config.on_hls_notify.is_empty() {
            return;
        }
        let absolute = ["http://", "https://"].iter().any(|scheme| {
            ts_url
                .get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
        });
        let vars = NotifyVars {
            server_id: &self.inner.ids.server_id,
            service_id: &self.inner.ids.service_id,
            app: &req.app,
            stream: &req.stream,
            ts_url,
            param: &req.param,
        };
        let urls: Vec<String> = config
            .on_hls_notify
            .iter()
            .map(|template| {
                if absolute {
                    ts_url.to_owned()
                } else {
                    render_notify(template, &vars)
                }
            })
            .collect();
        let Some(ticket) = self.inner.enqueue("on_hls_notify") else {
            return;
        };
        let limit = nb_notify.min(MAX_BODY_BYTES);
        let timeout = config.timeout;
        let inner = self.inner.clone();
        let chain = format!("{}/hls", req.client_id);
        self.inner.submit(chain, async move {
            let _ticket = ticket;
            for url in &urls {
                let started = inner.rt.now();
                match inner
                    .call(&inner.notifying, url, None, timeout, limit, Overflow::Stop)
                    .await
                {
                    Ok(r) => debug!(
                        url = %name(url),
                        status = r.status,
                        read = r.body.len(),
                        ms = inner.rt.now().saturating_sub(started).as_millis() as u64,
                        "on_hls_notify done"
                    ),
                    Err(e) => warn!(url = %name(url), "on_hls_notify failed (ignored): {e}"),
                }
            }
        });
    }
}

/// A URL as logs and refusals name it: without its query.
/// The stream a hook event is about; `None` for connect and close.
fn stream_of(req: &HookRequest) -> Option<StreamKey> {
    (!req.stream.is_empty()).then(|| StreamKey {
        vhost: req.vhost.clone(),
        app: req.app.clone(),
        stream: req.stream.clone(),
    })
}

fn name(url: &str) -> String {
    HookUrl::parse(url).map_or_else(|_| url::redact(url).to_owned(), |u| u.redacted())
}

/// Why one call failed.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("bad URL: {0}")]
    Url(#[from] UrlError),
    #[error("all {0} hook slots busy for the whole timeout")]
    Busy(usize),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot resolve {host}: {error}")]
    Resolve { host: String, error: std::io::Error },
    #[error("cannot connect to {addr}: {error}")]
    Connect { addr: String, error: std::io::Error },
    #[error("{0}")]
    Tls(String),
    #[error("{0}")]
    Exchange(#[from] ExchangeError),
    #[error("{0}")]
    Answer(#[from] AnswerError),
}

impl Inner {
    /// Runs `job` in the background after the jobs of `chain` submitted
    /// before it; one task per busy chain, none for an idle one.
    fn submit(self: &Arc<Self>, chain: String, job: impl Future<Output = ()> + Send + 'static) {
        let job: BoxFuture<'static, ()> = Box::pin(job);
        {
            let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(waiting) = chains.get_mut(&chain) {
                waiting.push_back(job);
                return;
            }
            chains.insert(chain.clone(), VecDeque::new());
        }
        let inner = self.clone();
        self.rt.spawn(Box::pin(async move {
            let mut job = job;
            loop {
                job.await;
                let mut chains = inner.chains.lock().unwrap_or_else(|e| e.into_inner());
                match chains.get_mut(&chain).and_then(VecDeque::pop_front) {
                    Some(next) => job = next,
                    None => {
                        chains.remove(&chain);
                        return;
                    }
                }
            }
        }));
    }

    /// Takes a place in the background queue, or counts a drop.
    fn enqueue(self: &Arc<Self>, action: &str) -> Option<QueueTicket> {
        let before = self.queued.fetch_add(1, Ordering::AcqRel);
        if before >= self.limits.notify_queue {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            // Every drop counts; a flood is logged sparsely.
            if dropped.is_power_of_two() || dropped.is_multiple_of(1000) {
                warn!(
                    action,
                    dropped,
                    queue = self.limits.notify_queue,
                    "hooks: background queue full, event dropped"
                );
            }
            return None;
        }
        Some(QueueTicket(self.clone()))
    }

    /// POSTs `body` to `url` and judges the answer.
    async fn post(
        &self,
        slots: &Slots,
        url: &str,
        body: &str,
        timeout: Duration,
        stream: Option<&StreamKey>,
    ) -> Result<(), CallError> {
        let started = self.rt.now();
        let result = async {
            let r = self
                .call(
                    slots,
                    url,
                    Some(body),
                    timeout,
                    MAX_BODY_BYTES,
                    Overflow::Refuse,
                )
                .await?;
            judge_answer(r.status, &r.body)?;
            Ok(())
        }
        .await;
        let took = self.rt.now().saturating_sub(started);
        self.calls.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency_us.fetch_add(us, Ordering::Relaxed);
        if let Some(key) = stream {
            self.per_stream.record(key, result.is_err(), took);
        }
        result
    }

    /// One request, everything within `timeout`, slot wait included.
    async fn call(
        &self,
        slots: &Slots,
        url: &str,
        json: Option<&str>,
        timeout: Duration,
        limit: usize,
        overflow: Overflow,
    ) -> Result<Response, CallError> {
        let url = HookUrl::parse(url)?;
        let rt = &*self.rt;
        let started = rt.now();
        let _slot = crate::runtime::timeout(rt, timeout, slots.take())
            .await
            .ok_or(CallError::Busy(slots.size))?;
        let left = timeout.saturating_sub(rt.now().saturating_sub(started));
        crate::runtime::timeout(rt, left, self.request(&url, json, limit, overflow))
            .await
            .ok_or(CallError::Timeout(timeout))?
    }

    async fn request(
        &self,
        url: &HookUrl,
        json: Option<&str>,
        limit: usize,
        overflow: Overflow,
    ) -> Result<Response, CallError> {
        let conn = self.connect(url).await?;
        let bytes = request(&url.host_header(), &url.target, json);
        if url.tls {
            let mut stream = self
                .tls
                .connect(&url.host, conn)
                .await
                .map_err(CallError::Tls)?;
            Ok(exchange(&mut stream, &bytes, limit, overflow).await?)
        } else {
            let mut conn = conn;
            Ok(exchange(&mut conn, &bytes, limit, overflow).await?)
        }
    }

    /// Connects to the first of the host's addresses that answers.
    async fn connect(&self, url: &HookUrl) -> Result<Box<dyn Connection>, CallError> {
        let addrs = match url::ip_literal(&url.host) {
            Some(ip) => vec![std::net::SocketAddr::new(ip, url.port)],
            None => self
                .rt
                .resolve(&url.host, url.port)
                .await
                .map_err(|error| CallError::Resolve {
                    host: url.host.clone(),
                    error,
                })?,
        };
        let mut last = None;
        for addr in addrs {
            match self.rt.connect(addr).await {
                Ok(conn) => {
                    let _ = conn.set_nodelay(true);
                    return Ok(conn);
                }
                Err(error) => {
                    last = Some(CallError::Connect {
                        addr: addr.to_string(),
                        error,
                    })
                }
            }
        }
        Err(last.unwrap_or_else(|| CallError::Resolve {
            host: url.host.clone(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        }))
    }
}

/// A place in the background queue, given back when dropped.
struct QueueTicket(Arc<Inner>);

impl Drop for QueueTicket {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A counting semaphore: `size` slots, waiters woken as slots come back.
#[derive(Debug)]
struct Slots {
    size: usize,
    free: Mutex<usize>,
    freed: Event,
}

impl Slots {
    fn new(size: usize) -> Self {
        Self {
            size,
            free: Mutex::new(size),
            freed: Event::new(),
        }
    }

    fn try_take(&self) -> bool {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if *free == 0 {
            return false;
        }
        *free -= 1;
        true
    }

    /// Waits for a slot. Cancel-safe: a waiter dropped after being woken
    /// passes the wakeup on (event-listener's guarantee).
    async fn take(&self) -> SlotGuard<'_> {
        loop {
            if self.try_take() {
                return SlotGuard(self);
            }
            let listener = self.freed.listen();
            if self.try_take() {
                return SlotGuard(self);
            }
            listener.await;
        }
    }
}

struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_their_action_urls_and_role() {
        let config = HttpHooksConfig {
            on_connect: vec!["c".into()],
            on_close: vec!["x".into()],
            on_publish: vec!["p".into()],
            on_unpublish: vec!["u".into()],
            on_play: vec!["l".into()],
            on_stop: vec!["s".into()],
            on_dvr: vec!["d".into()],
            on_hls: vec!["h".into()],
            ..HttpHooksConfig::default()
        };
        let r = HookRequest::default();
        let events = [
            (HookEvent::Connect(r.clone()), "on_connect", "c", true),
            (
                HookEvent::Close {
                    req: r.clone(),
                    send_bytes: 0,
                    recv_bytes: 0,
                },
                "on_close",
                "x",
                false,
            ),
            (HookEvent::Publish(r.clone()), "on_publish", "p", true),
            (HookEvent::Unpublish(r.clone()), "on_unpublish", "u", false),
            (HookEvent::Play(r.clone()), "on_play", "l", true),
            (HookEvent::Stop(r.clone()), "on_stop", "s", false),
            (
                HookEvent::Dvr {
                    req: r.clone(),
                    cwd: String::new(),
                    file: String::new(),
                },
                "on_dvr",
                "d",
                false,
            ),
        ];
        for (event, action, url, decides) in events {
            assert_eq!(event.action(), action);
            assert_eq!(event.urls(&config), [url.to_owned()]);
            assert_eq!(event.decides(), decides);
            assert_eq!(event.request(), &r);
        }
    }

    #[test]
    fn the_default_config_is_off_with_the_default_timeout() {
        let c = HttpHooksConfig::default();
        assert!(!c.enabled);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert!(c.on_hls_notify.is_empty());
    }

    #[test]
    fn nb_notify_is_bounded_by_the_body_bound() {
        assert_eq!(MAX_HLS_NB_NOTIFY as usize, MAX_BODY_BYTES);
    }

    #[test]
    fn names_never_show_the_query() {
        assert_eq!(name("http://h:1/x?token=s"), "http://h:1/x");
        assert_eq!(name("not a url?token=s"), "not a url");
    }

    #[test]
    fn slots_bound_and_come_back() {
        let slots = Slots::new(2);
        let a = futures_util::FutureExt::now_or_never(slots.take()).unwrap();
        let _b = futures_util::FutureExt::now_or_never(slots.take()).unwrap();
        assert!(futures_util::FutureExt::now_or_never(slots.take()).is_none());
        drop(a);
        assert!(futures_util::FutureExt::now_or_never(slots.take()).is_some());
    }
}
