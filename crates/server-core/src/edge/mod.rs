//! Edge (SRS `vhost { cluster { mode remote; origin ...; } }`): the first
//! player of a stream makes this server pull it from an origin over RTMP;
//! every later player of that stream joins the same pull.
//!
//! The pull is an input of the stream lifecycle: it publishes into the
//! local hub with [`crate::lifecycle::publish_internal`], so the edge
//! serves its players from its own GOP cache, HLS and HTTP-FLV exactly as
//! an origin would. It is started by the lifecycle's `play`, which hands the
//! player a [`Viewer`] (held in its ticket); the pull counts them.
//! - One pull per stream: the manager's map is the only place a pull is
//!   created, under one lock, so a thundering herd of players opens one
//!   upstream connection.
//! - When the last player leaves, the pull keeps the upstream for
//!   `idle_timeout` (SRS issue 3158: its edges keep pulling with no
//!   players at all), then closes it and unpublishes.
//! - Failover: origins are tried in order, then round-robin; a refused,
//!   unreachable or dropped origin moves to the next one at once (the
//!   attempt is bounded by the upstream setup deadline), and after a whole
//!   round failed the pull backs off ([`RETRY_FIRST`] to [`RETRY_MAX`]).
//!   The local publish is held across reconnects, so players stay
//!   connected and resume from the key frame the next upstream starts with
//!   (SRS issue 4511: its v6 edges never try the second origin).
//! - A stream not published on the origin yet is no failure: the origin
//!   answers the play and sends media when it comes, so the edge's players
//!   wait as they would on the origin.
//! - A stream published on the edge itself ([`EdgePublish`], an output of
//!   the lifecycle) is played by the edge's players from the local hub and
//!   pushed to the origins with the forward machinery
//!   ([`crate::forward::FailoverPush`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_listener::Event;
use futures_util::future::{select, Either};
use media_core::MediaKind;
use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::command::status::PLAY_UNPUBLISH_NOTIFY;
use rtmp_proto::command::DataMessage;
use rtmp_proto::session::ClientEvent;
use serde::Serialize;
use tracing::{debug, info, warn, Instrument};

use crate::config::DEFAULT_VHOST;
use crate::context::ServerCtx;
use crate::forward::{FailoverPush, FirstUpstream, ForwardState};
use crate::hooks::HookRequest;
use crate::hub::{query_param, Source, StreamKey};
use crate::lifecycle::{Output, PublishedStream, Publishing};
use crate::upstream::{
    Backoff, ConnectOptions, RtmpUrl, RtmpUrlError, UpstreamConn, UpstreamError, UpstreamLimits,
};
use crate::vhost::VhostSettings;

/// Most `origin`s in one `cluster` block.
pub const MAX_ORIGINS: usize = 16;
/// How long a pull outlives its last player by default (`idle_timeout`).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest `idle_timeout`, in seconds (an hour).
pub const MAX_IDLE_TIMEOUT_SECS: f64 = 3600.0;
/// First wait after every origin failed once (SRS waits 3 s each time,
/// `SRS_EDGE_INGESTER_CIMS`).
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between rounds of attempts.
pub const RETRY_MAX: Duration = Duration::from_secs(10);
/// A connection that carried the stream this long resets the backoff.
pub const STABLE_AFTER: Duration = Duration::from_secs(10);
/// Resolve, connect, handshake, `connect` and `play` with one origin: a
/// dead origin costs at most this before the next one is tried.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(5);
/// An origin that sent media and then nothing for this long (without
/// saying the stream ended) is abandoned for the next one, as a dead one
/// is: a hung origin, or a link that went silent without a reset. SRS's
/// edge has the same 5 s (`SRS_EDGE_INGESTER_TIMEOUT`, its receive
/// timeout). Before the pull's first media, and after the origin's
/// `NetStream.Play.UnpublishNotify`, silence is a stream not published
/// (yet) and the edge waits, as players do on an origin; a reconnect of a
/// pull that was fed already expects media within this time too.
pub const SILENCE_TIMEOUT: Duration = Duration::from_secs(5);

/// `cluster { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// `mode remote` (an edge); `mode local`, the default, is an origin.
    pub remote: bool,
    /// `origin HOST[:PORT] ...`, tried in order.
    pub origins: Vec<Origin>,
    /// `idle_timeout SECS`: how long a pull outlives its last player (our
    /// addition, default [`DEFAULT_IDLE_TIMEOUT`]).
    pub idle_timeout: Duration,
    /// `token_traverse on` (SRS, default off): a client's `connect` on this
    /// edge is first made to an origin with the client's tcUrl (its query,
    /// where tokens go, included) and pageUrl, so the origin's `on_connect`
    /// hook judges the client; the origin's refusal refuses the client.
    pub token_traverse: bool,
    /// `vhost NAME` (SRS): the vhost this edge names to its origin, with
    /// `[vhost]` replaced by the client's (default `[vhost]`: the same).
    pub upstream_vhost: String,
    /// `debug_srs_upnode` (SRS, default on): the edge's `connect` to its
    /// origin carries the edge's identity after the command object
    /// (`srs_sig`, `srs_server`, `srs_version`, `srs_pid`, `srs_id`), as
    /// SRS's does, for the origin's logs and hooks.
    pub debug_srs_upnode: bool,
}

/// The `vhost` an edge names to its origin by default: the client's.
pub const SAME_VHOST: &str = "[vhost]";

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            remote: false,
            origins: Vec::new(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            token_traverse: false,
            upstream_vhost: SAME_VHOST.to_owned(),
            debug_srs_upnode: true,
        }
    }
}

/// One `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Pulled over RTMPS (`rtmps://HOST[:PORT]`; see [`crate::rtmps`]).
    pub tls: bool,
    /// Host name or IP address.
    pub host: String,
    /// Port (1935 when absent; 443 for `rtmps://`).
    pub port: u16,
}

impl Origin {
    /// Parses `HOST[:PORT]` (SRS's form) or `rtmps://HOST[:PORT]` (an
    /// origin reached over TLS; not in SRS, whose edge has no RTMPS client).
    pub fn parse(text: &str) -> Result<Self, RtmpUrlError> {
        let scheme = "rtmps://";
        let tls_rest = text
            .get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .and_then(|_| text.get(scheme.len()..));
        let (tls, authority) = match tls_rest {
            Some(rest) => (true, rest.strip_suffix('/').unwrap_or(rest)),
            None => (false, text),
        };
        let (host, port) = crate::upstream::url::split_host_port(authority)?;
        if host.is_empty() || host.contains(['/', '?', ' ']) {
            return Err(RtmpUrlError::NoHost);
        }
        let default_port = if tls {
            rtmp_proto::url::RTMPS_DEFAULT_PORT
        } else {
            crate::upstream::RTMP_DEFAULT_PORT
        };
        Ok(Self {
            tls,
            host: host.to_owned(),
            port: port.unwrap_or(default_port),
        })
    }

    /// How the API and the log name it: `HOST:PORT`, or
    /// `rtmps://HOST:PORT` over TLS.
    pub fn name(&self) -> String {
        let plain = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        if self.tls {
            format!("rtmps://{plain}")
        } else {
            plain
        }
    }
}

/// What a pull is doing, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeState {
    /// Connecting to an origin.
    Connecting,
    /// Playing from an origin (media flows once the origin has it).
    Pulling,
    /// Publishing to an origin what a publisher publishes on this edge.
    Pushing,
    /// Waiting to retry after every origin failed.
    Retrying,
}

/// One stream's pull, for the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdgeStatus {
    /// What it is doing.
    pub state: EdgeState,
    /// The origin tried or used now (`host:port`).
    pub origin: String,
    /// Players on this edge holding the pull (0 for a push).
    pub players: usize,
    /// Failed attempts and drops so far.
    pub retries: u64,
    /// Bytes read from origins so far.
    pub bytes: u64,
    /// Why the last attempt failed, if one did.
    pub last_error: Option<String>,
}

/// One stream's pull.
#[derive(Debug)]
struct Pull {
    /// The id the pull publishes into the local hub under.
    publisher_id: u64,
    players: AtomicUsize,
    /// When the player count last fell to zero (runtime time).
    idle_since: Mutex<Option<Duration>>,
    /// Wakes the task when a player leaves.
    wake: Event,
    status: Mutex<EdgeStatus>,
    rt: Arc<dyn crate::runtime::Runtime>,
}

impl Pull {
    fn update(&self, f: impl FnOnce(&mut EdgeStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn join(self: &Arc<Self>) -> Viewer {
        self.players.fetch_add(1, Ordering::SeqCst);
        *self.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Viewer { pull: self.clone() }
    }
}

/// A player's place on a pull: dropping it (with the player's ticket)
/// leaves the pull.
#[derive(Debug)]
pub struct Viewer {
    pull: Arc<Pull>,
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let mut idle = self
            .pull
            .idle_since
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if self.pull.players.fetch_sub(1, Ordering::SeqCst) == 1 {
            *idle = Some(self.pull.rt.now());
        }
        drop(idle);
        self.pull.wake.notify(usize::MAX);
    }
}

/// The running pulls and pushes, by stream.
#[derive(Debug, Default)]
pub struct EdgeManager {
    pulls: Mutex<HashMap<StreamKey, Arc<Pull>>>,
    /// Streams published on this edge, pushed to an origin.
    pushes: Mutex<HashMap<StreamKey, FailoverPush>>,
    /// Origin connections made for a publish on this edge before the
    /// encoder was answered, by stream, waiting for the push to take them.
    ready: Mutex<HashMap<StreamKey, (u64, FirstUpstream)>>,
}

/// Why no origin took a publish (or, with `token_traverse`, a connect) on
/// this edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginRefusal {
    /// An origin answered with an error (its `onStatus` code and
    /// description, passed on to the client as SRS's edge does).
    #[error("the origin refused: {0}")]
    Refused(String),
    /// No origin could be reached (the addresses stay in the log).
    #[error("no origin answered")]
    Unreachable,
}

/// Holds an origin connection made by [`EdgeManager::publish_upstream`]
/// until the stream's push takes it; dropped first (the local publish was
/// refused after all), it closes the connection.
#[derive(Debug)]
pub struct OriginPublishGuard {
    ctx: Arc<ServerCtx>,
    key: StreamKey,
    client_id: u64,
}

impl Drop for OriginPublishGuard {
    fn drop(&mut self) {
        let mut ready = self
            .ctx
            .edges
            .ready
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if ready
            .get(&self.key)
            .is_some_and(|(id, _)| *id == self.client_id)
        {
            ready.remove(&self.key);
        }
    }
}

impl EdgeManager {
    /// A client publishes `key` on `vhost`: on an edge, first publish it to
    /// an origin, trying each once in order (each within
    /// [`SETUP_TIMEOUT`]), and answer the encoder only then, so it hears
    /// an origin's refusal (SRS's `SrsPublishEdge::on_client_publish`
    /// connects its forwarder before the publish is accepted). The
    /// connection waits in the manager until [`EdgePublish`] starts the
    /// stream's push over it; `None` when `vhost` is no edge.
    pub async fn publish_upstream(
        &self,
        ctx: &Arc<ServerCtx>,
        vhost: &VhostSettings,
        key: &StreamKey,
        param: &str,
        client_id: u64,
    ) -> Result<Option<OriginPublishGuard>, OriginRefusal> {
        let Some(config) = vhost.edge.as_ref().filter(|c| !c.origins.is_empty()) else {
            return Ok(None);
        };
        let urls = origin_urls(config, key, param);
        let limits = UpstreamLimits {
            setup: SETUP_TIMEOUT,
            ..UpstreamLimits::default()
        };
        let mut failures = 0u64;
        let mut last: Option<UpstreamError> = None;
        for (index, url) in urls.iter().enumerate() {
            let connect = upstream_connect(config, client_id);
            let attempt =
                UpstreamConn::publish_with(&ctx.rt, &ctx.rtmps.upstream, url, connect, limits)
                    .await;
            match attempt {
                Ok(conn) => {
                    info!(stream = %key, origin = %url.redacted(), "edge: the origin took the publish");
                    let first = FirstUpstream {
                        index,
                        conn,
                        failures,
                        last_error: last.as_ref().map(ToString::to_string),
                    };
                    self.ready
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key.clone(), (client_id, first));
                    return Ok(Some(OriginPublishGuard {
                        ctx: ctx.clone(),
                        key: key.clone(),
                        client_id,
                    }));
                }
                Err(error) => {
                    warn!(stream = %key, origin = %url.redacted(), "edge: publish to the origin failed: {error}");
                    failures += 1;
                    last = Some(error);
                }
            }
        }
        // An origin's own answer decides; otherwise none was reachable.
        Err(match last {
            Some(UpstreamError::Refused(why)) => OriginRefusal::Refused(why),
            _ => OriginRefusal::Unreachable,
        })
    }

    /// SRS's `token_traverse`: on an edge with `token_traverse on`, a
    /// client's `connect` is made to the first origin that answers, with the
    /// client's tcUrl (its query, where tokens go, included) and pageUrl, so
    /// the origin's `on_connect` hook authenticates the client; an origin
    /// that refuses refuses the client, and so does none answering (SRS's
    /// `check_edge_token_traverse_auth`). Each origin gets
    /// [`SETUP_TIMEOUT`]. The tcUrl goes as the client sent it, as in SRS
    /// (`cluster { vhost }` renames the vhost of pulls and pushes only).
    pub async fn traverse_token(
        &self,
        ctx: &Arc<ServerCtx>,
        vhost: &VhostSettings,
        tc_url: &str,
        page_url: &str,
        client_id: u64,
    ) -> Result<(), OriginRefusal> {
        let Some(config) = vhost
            .edge
            .as_ref()
            .filter(|c| c.token_traverse && !c.origins.is_empty())
        else {
            return Ok(());
        };
        let req = crate::hub::StreamRequest::new(tc_url, "");
        let app = req.key.app.clone();
        let limits = UpstreamLimits {
            setup: SETUP_TIMEOUT,
            ..UpstreamLimits::default()
        };
        let mut last = None;
        for origin in &config.origins {
            let url = RtmpUrl {
                tls: origin.tls,
                host: origin.host.clone(),
                port: origin.port,
                app: app.clone(),
                stream: "_".to_owned(),
                query: String::new(),
            };
            let connect = ConnectOptions {
                tc_url: Some(tc_url.to_owned()),
                properties: vec![("pageUrl".to_owned(), Amf0Value::String(page_url.to_owned()))],
                extra: upnode_args(config, client_id),
            };
            match UpstreamConn::connect_only(&ctx.rt, &ctx.rtmps.upstream, &url, connect, limits)
                .await
            {
                Ok(()) => {
                    info!(origin = %origin.name(), "edge: token traverse: the origin accepted the connect");
                    return Ok(());
                }
                // The origin's answer decides; an unreachable one passes
                // the question to the next.
                Err(UpstreamError::Refused(why)) => {
                    info!(origin = %origin.name(), "edge: token traverse: the origin refused: {why}");
                    return Err(OriginRefusal::Refused(why));
                }
                Err(error) => {
                    warn!(origin = %origin.name(), "edge: token traverse: {error}");
                    last = Some(error);
                }
            }
        }
        debug!(?last, "edge: token traverse: no origin answered");
        Err(OriginRefusal::Unreachable)
    }

    /// A player joins `source` on `vhost`: on an edge, it joins the
    /// stream's pull, which starts now if none runs and nobody publishes
    /// the stream here. `param` is the player's query (`?` included), passed
    /// to the origin as SRS's edge passes its first player's.
    pub fn play(
        &self,
        ctx: &Arc<ServerCtx>,
        vhost: &Arc<VhostSettings>,
        source: &Arc<Source>,
        param: &str,
    ) -> Option<Viewer> {
        let config = vhost.edge.as_ref().filter(|c| !c.origins.is_empty())?;
        let mut pulls = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pull) = pulls.get(&source.key) {
            return Some(pull.join());
        }
        if source.publisher().is_some() {
            // Published here (a publisher on the edge): nothing to pull.
            return None;
        }
        let pull = Arc::new(Pull {
            publisher_id: ctx.hub.next_id(),
            players: AtomicUsize::new(0),
            idle_since: Mutex::new(None),
            wake: Event::new(),
            status: Mutex::new(EdgeStatus {
                state: EdgeState::Connecting,
                origin: String::new(),
                players: 0,
                retries: 0,
                bytes: 0,
                last_error: None,
            }),
            rt: ctx.rt.clone(),
        });
        let viewer = pull.join();
        pulls.insert(source.key.clone(), pull.clone());
        drop(pulls);
        let task = PullTask {
            ctx: ctx.clone(),
            vhost: vhost.clone(),
            config: config.clone(),
            source: source.clone(),
            pull,
            query: upstream_query(config, &source.key, param),
        };
        let span = tracing::info_span!("edge", stream = %source.key);
        ctx.rt.spawn(Box::pin(task.run().instrument(span)));
        Some(viewer)
    }

    /// The pull or push of stream `key`, for the API.
    pub fn status(&self, key: &StreamKey) -> Option<EdgeStatus> {
        if let Some(push) = self
            .pushes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            let f = push.status()?;
            return Some(EdgeStatus {
                state: match f.state {
                    ForwardState::Connecting => EdgeState::Connecting,
                    ForwardState::Forwarding => EdgeState::Pushing,
                    ForwardState::Retrying => EdgeState::Retrying,
                },
                origin: RtmpUrl::parse(&f.destination)
                    .map(|u| {
                        let plain = format!("{}:{}", u.host, u.port);
                        if u.tls {
                            format!("rtmps://{plain}")
                        } else {
                            plain
                        }
                    })
                    .unwrap_or(f.destination),
                players: 0,
                retries: f.retries,
                bytes: f.bytes,
                last_error: f.last_error,
            });
        }
        let pulls = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        let pull = pulls.get(key)?;
        let mut status = pull
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        status.players = pull.players.load(Ordering::SeqCst);
        Some(status)
    }

    /// Every pulled or pushed stream's state, and whether it is a push
    /// (for `/metrics`), by stream name.
    pub fn all(&self) -> Vec<(StreamKey, EdgeStatus, bool)> {
        let pushes: Vec<StreamKey> = self
            .pushes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        let mut keys: Vec<StreamKey> = self
            .pulls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        keys.extend(pushes.iter().cloned());
        keys.sort_by_key(|k| k.to_string());
        keys.dedup();
        keys.into_iter()
            .filter_map(|k| {
                // `status` answers for the push when there is one.
                let status = self.status(&k)?;
                let pushing = pushes.contains(&k);
                Some((k, status, pushing))
            })
            .collect()
    }

    /// Ends `pull` if it still has no player (under the map's lock, so no
    /// player can join a pull that is ending).
    fn try_finish(&self, key: &StreamKey, pull: &Arc<Pull>) -> bool {
        let mut pulls = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        if pull.players.load(Ordering::SeqCst) != 0 {
            return false;
        }
        if pulls.get(key).is_some_and(|p| Arc::ptr_eq(p, pull)) {
            pulls.remove(key);
        }
        true
    }
}

/// The query the edge plays the origin with: the first player's, with
/// `vhost=` added for a named vhost (SRS's edge builds its URL the same way,
/// `srs_generate_rtmp_url` with the request's vhost and param).
///
/// With `cluster { vhost NAME; }` the origin is named `NAME` (`[vhost]` in
/// it standing for the client's vhost) in place of any `vhost=` the client
/// gave, as SRS's `get_vhost_edge_transform_vhost`.
fn upstream_query(config: &ClusterConfig, key: &StreamKey, param: &str) -> String {
    let query = param.trim_start_matches('?');
    if config.upstream_vhost != SAME_VHOST {
        let target = config.upstream_vhost.replace(SAME_VHOST, &key.vhost);
        let rest: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("vhost="))
            .collect();
        let mut out: Vec<String> = Vec::new();
        if target != DEFAULT_VHOST {
            out.push(format!("vhost={target}"));
        }
        out.extend(rest.iter().map(|p| (*p).to_owned()));
        return out.join("&");
    }
    if key.vhost == DEFAULT_VHOST || query_param(query, "vhost").is_some() {
        return query.to_owned();
    }
    if query.is_empty() {
        format!("vhost={}", key.vhost)
    } else {
        format!("vhost={}&{query}", key.vhost)
    }
}

/// The edge's identity in its `connect` to an origin with
/// `debug_srs_upnode on` (SRS's `SrsBasicRtmpClient::do_connect_app`
/// names): after the command object, so the origin's logs and hooks can
/// tell an edge from an encoder. `id` is the edge's client id for it.
fn upnode_args(config: &ClusterConfig, id: u64) -> Vec<Amf0Value> {
    if !config.debug_srs_upnode {
        return Vec::new();
    }
    let text = |s: &str| Amf0Value::String(s.to_owned());
    vec![Amf0Value::Object(vec![
        ("srs_sig".into(), text(crate::SERVER_NAME)),
        (
            "srs_server".into(),
            text(concat!("rtmp-server/", env!("CARGO_PKG_VERSION"))),
        ),
        ("srs_license".into(), text(env!("CARGO_PKG_LICENSE"))),
        ("srs_version".into(), text(env!("CARGO_PKG_VERSION"))),
        (
            "srs_pid".into(),
            Amf0Value::Number(f64::from(std::process::id())),
        ),
        ("srs_id".into(), text(&id.to_string())),
    ])]
}

/// The `connect` of the edge's own upstream connections (pull, push).
fn upstream_connect(config: &ClusterConfig, id: u64) -> ConnectOptions {
    ConnectOptions {
        extra: upnode_args(config, id),
        ..ConnectOptions::default()
    }
}

/// The URLs of `key` on each origin, with the client's query (`param`).
fn origin_urls(config: &ClusterConfig, key: &StreamKey, param: &str) -> Vec<RtmpUrl> {
    let query = upstream_query(config, key, param);
    config
        .origins
        .iter()
        .map(|o| RtmpUrl {
            tls: o.tls,
            host: o.host.clone(),
            port: o.port,
            app: key.app.clone(),
            stream: key.stream.clone(),
            query: query.clone(),
        })
        .collect()
}

/// One stream's pull task.
struct PullTask {
    ctx: Arc<ServerCtx>,
    vhost: Arc<VhostSettings>,
    config: ClusterConfig,
    source: Arc<Source>,
    pull: Arc<Pull>,
    query: String,
}

impl PullTask {
    async fn run(self) {
        let publisher_id = self.pull.publisher_id;
        let mut publishing: Option<Publishing> = None;
        let mut backoff = Backoff::new(RETRY_FIRST, RETRY_MAX);
        let mut bytes_before = 0u64;
        let mut next = 0usize;
        let mut failed_in_round = 0usize;
        let count = self.config.origins.len().max(1);
        while let Some(origin) = self.config.origins.get(next % count) {
            let url = RtmpUrl {
                tls: origin.tls,
                host: origin.host.clone(),
                port: origin.port,
                app: self.source.key.app.clone(),
                stream: self.source.key.stream.clone(),
                query: self.query.clone(),
            };
            let origin_name = origin.name();
            self.pull.update(|s| {
                s.state = EdgeState::Connecting;
                s.origin = origin_name.clone();
            });
            let limits = UpstreamLimits {
                setup: SETUP_TIMEOUT,
                ..UpstreamLimits::default()
            };
            let attempt = async {
                // An origin that is this server would play the stream from
                // its own pull, which would then never lose its last player.
                let config = self.ctx.config();
                let listen = if url.tls {
                    &config.rtmps.listen
                } else {
                    &config.listen
                };
                if crate::forward::is_self(&url, listen) {
                    return Err(UpstreamError::Refused(
                        "the origin is this server (a loop)".to_owned(),
                    ));
                }
                let connect = upstream_connect(&self.config, publisher_id);
                UpstreamConn::play_with(
                    &self.ctx.rt,
                    &self.ctx.rtmps.upstream,
                    &url,
                    connect,
                    limits,
                )
                .await
            };
            let attempt = match select(Box::pin(attempt), Box::pin(self.until_idle())).await {
                Either::Left((attempt, _)) => attempt,
                Either::Right(_) => break,
            };
            let error = match attempt {
                Ok(mut conn) => {
                    info!(origin = %origin_name, "edge: pulling");
                    self.pull.update(|s| s.state = EdgeState::Pulling);
                    let since = self.ctx.rt.now();
                    let result = self
                        .pump(&mut conn, bytes_before, &mut publishing, publisher_id)
                        .await;
                    bytes_before = bytes_before.saturating_add(conn.bytes_in());
                    if self.ctx.rt.now().saturating_sub(since) >= STABLE_AFTER {
                        backoff.reset();
                        failed_in_round = 0;
                    }
                    match result {
                        Ok(PumpEnd::Idle) => break,
                        Ok(PumpEnd::PublishedHere) => {
                            self.ctx.edges.try_finish_now(&self.source.key, &self.pull);
                            break;
                        }
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            };
            warn!(origin = %origin_name, "edge: origin failed: {error}");
            self.pull.update(|s| {
                s.retries = s.retries.saturating_add(1);
                s.last_error = Some(error.to_string());
            });
            next = next.wrapping_add(1);
            failed_in_round += 1;
            if failed_in_round >= count {
                failed_in_round = 0;
                let wait = backoff.failed();
                self.pull.update(|s| s.state = EdgeState::Retrying);
                debug!(
                    retry_in_ms = wait.as_millis() as u64,
                    "edge: every origin failed"
                );
                let sleep = self.ctx.rt.sleep(wait);
                if let Either::Right(_) = select(sleep, Box::pin(self.until_idle())).await {
                    break;
                }
            }
        }
        // Ends the local publish (players are gone, or the server stops).
        drop(publishing);
        debug!("edge: pull stopped");
    }

    /// Publishes the pulled stream into the local hub.
    fn claim(&self, publisher_id: u64) -> Result<Publishing, crate::lifecycle::Refusal> {
        let key = &self.source.key;
        let publisher = HookRequest {
            client_id: publisher_id.to_string(),
            ip: String::new(),
            vhost: key.vhost.clone(),
            app: key.app.clone(),
            stream: key.stream.clone(),
            param: if self.query.is_empty() {
                String::new()
            } else {
                format!("?{}", self.query)
            },
            tc_url: String::new(),
            page_url: String::new(),
            stream_id: Some(self.source.id.to_string()),
        };
        crate::lifecycle::publish_internal(
            &self.ctx,
            self.vhost.clone(),
            &self.source,
            publisher,
            publisher_id,
        )
    }

    /// Completes once the pull had no player for `idle_timeout` (at once
    /// when the server is stopping) and was removed from the manager.
    async fn until_idle(&self) {
        loop {
            let listener = self.pull.wake.listen();
            let since = *self
                .pull
                .idle_since
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let idle = since.filter(|_| self.pull.players.load(Ordering::SeqCst) == 0);
            match idle {
                Some(since) => {
                    let grace = if self.ctx.is_shutting_down() {
                        Duration::ZERO
                    } else {
                        self.config.idle_timeout
                    };
                    let left = grace.saturating_sub(self.ctx.rt.now().saturating_sub(since));
                    if left.is_zero() {
                        if self.ctx.edges.try_finish(&self.source.key, &self.pull) {
                            info!("edge: no player left, closing the upstream");
                            return;
                        }
                        continue;
                    }
                    // Also wakes each second to notice a shutdown.
                    let wait = self.ctx.rt.sleep(left.min(Duration::from_secs(1)));
                    let _ = select(wait, listener).await;
                }
                None => {
                    let tick = self.ctx.rt.sleep(Duration::from_secs(1));
                    let _ = select(tick, listener).await;
                }
            }
        }
    }

    /// Feeds the local source from `conn` until the pull ends (`Ok`) or the
    /// connection fails.
    /// The local stream is claimed at the first media (not at the play's
    /// start), so a publisher on the edge may take the stream while its
    /// players wait for the origin: then this pull ends (`PublishedHere`)
    /// and the players play the local publish.
    async fn pump(
        &self,
        conn: &mut UpstreamConn,
        bytes_before: u64,
        publishing: &mut Option<Publishing>,
        publisher_id: u64,
    ) -> Result<PumpEnd, UpstreamError> {
        // When media last came (see SILENCE_TIMEOUT). A pull that already
        // fed its stream (this is a reconnect after a failure) expects the
        // next origin to go on within the same time, else it moves on again
        // (round-robin, with the backoff between rounds), as SRS's edge
        // does: with several origins, one that never had the stream is not
        // waited on forever.
        let mut last_media: Option<Duration> = publishing.is_some().then(|| self.ctx.rt.now());
        loop {
            while let Some(event) = conn.poll_event() {
                // Stream content, not the origin's words to its player
                // (`|RtmpSampleAccess` comes before any media).
                let media = matches!(event, ClientEvent::Media { .. })
                    || matches!(
                        &event,
                        ClientEvent::Data {
                            data: DataMessage::OnMetaData(_) | DataMessage::SetDataFrame { .. },
                            ..
                        }
                    );
                if media && publishing.is_none() {
                    match self.claim(publisher_id) {
                        Ok(p) => *publishing = Some(p),
                        Err(e) => {
                            info!("edge: not pulling: {e}");
                            return Ok(PumpEnd::PublishedHere);
                        }
                    }
                }
                if media {
                    last_media = Some(self.ctx.rt.now());
                }
                match event {
                    ClientEvent::Status { ref code, .. } if code == PLAY_UNPUBLISH_NOTIFY => {
                        // The stream ended on the origin: waiting for it
                        // again is no silence.
                        last_media = None;
                    }
                    ClientEvent::Media { message, .. } => {
                        if let Some(kind) = MediaKind::from_message_type(message.type_id) {
                            if kind != MediaKind::Data {
                                self.source.push(kind, message.timestamp, message.payload);
                            }
                        }
                    }
                    ClientEvent::Data { message, data, .. } => {
                        // Metadata only: `|RtmpSampleAccess` and the like
                        // are the origin's words to its player, not stream
                        // content.
                        let keep = matches!(
                            &data,
                            DataMessage::OnMetaData(_) | DataMessage::SetDataFrame { .. }
                        );
                        if keep {
                            if let Some(payload) =
                                media_core::metadata::strip_set_data_frame(&message.payload)
                            {
                                self.source
                                    .push(MediaKind::Data, message.timestamp, payload);
                            }
                        }
                    }
                    ClientEvent::Status {
                        level,
                        code,
                        description,
                        ..
                    } if level == "error" => {
                        return Err(UpstreamError::Refused(format!("{code} {description}")));
                    }
                    _ => {}
                }
            }
            // Acknowledgements and pong answers.
            conn.flush().await?;
            let total = bytes_before.saturating_add(conn.bytes_in());
            self.pull.update(|s| s.bytes = total);
            let silence = match last_media {
                Some(at) => {
                    let left = SILENCE_TIMEOUT.saturating_sub(self.ctx.rt.now().saturating_sub(at));
                    self.ctx.rt.sleep(left)
                }
                None => Box::pin(futures_util::future::pending()),
            };
            let idle_or_silent = select(Box::pin(self.until_idle()), silence);
            match select(Box::pin(conn.read_some()), idle_or_silent).await {
                Either::Left((read, _)) => {
                    read?;
                }
                Either::Right((Either::Left(_), _)) => return Ok(PumpEnd::Idle),
                Either::Right((Either::Right(_), _)) => {
                    return Err(UpstreamError::Silent(SILENCE_TIMEOUT));
                }
            }
        }
    }
}

/// Why a pump ended without an error.
enum PumpEnd {
    /// No player for `idle_timeout`.
    Idle,
    /// Someone publishes the stream on this edge: they serve it.
    PublishedHere,
}

impl EdgeManager {
    /// Removes `pull` whatever its players (it cannot run: the stream is
    /// published here). Its players stay on the local stream.
    fn try_finish_now(&self, key: &StreamKey, pull: &Arc<Pull>) {
        let mut pulls = self.pulls.lock().unwrap_or_else(|e| e.into_inner());
        if pulls.get(key).is_some_and(|p| Arc::ptr_eq(p, pull)) {
            pulls.remove(key);
        }
    }
}

/// Publishing to an edge, an output of the stream lifecycle: the stream is
/// pushed to the edge's origins (the first that takes it, the next after
/// each failure, retried as a forward is) while the edge's own players play
/// it locally. The first connection was made before the encoder was
/// answered ([`EdgeManager::publish_upstream`]), so an origin's refusal
/// reaches the encoder as in SRS; later failures are retried.
#[derive(Debug)]
pub struct EdgePublish;

impl Output for EdgePublish {
    fn name(&self) -> &'static str {
        "edge"
    }

    fn on_publish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        let Some(config) = stream.vhost.edge.as_ref() else {
            return;
        };
        let key = &stream.source.key;
        let edges = &ctx.edges;
        let pulled = edges
            .pulls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .is_some_and(|p| p.publisher_id.to_string() == stream.publisher.client_id);
        if pulled {
            // The edge's own pull: the stream came from the origin.
            return;
        }
        let urls = origin_urls(config, key, &stream.publisher.param);
        let first = {
            let mut ready = edges.ready.lock().unwrap_or_else(|e| e.into_inner());
            match ready.get(key) {
                Some((id, _)) if id.to_string() == stream.publisher.client_id => {
                    ready.remove(key).map(|(_, first)| first)
                }
                _ => None,
            }
        };
        info!(stream = %key, "edge: publish on the edge, pushing it to the origin");
        let push = FailoverPush::start(
            ctx,
            &stream.source,
            &stream.publisher.client_id,
            urls,
            first,
        );
        edges
            .pushes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), push);
    }

    fn on_unpublish(&self, ctx: &Arc<ServerCtx>, stream: &PublishedStream) {
        let mut pushes = ctx.edges.pushes.lock().unwrap_or_else(|e| e.into_inner());
        let key = &stream.source.key;
        if pushes
            .get(key)
            .is_some_and(|p| p.publisher() == stream.publisher.client_id)
        {
            pushes.remove(key);
        }
    }

    fn finish<'a>(&'a self, ctx: &'a Arc<ServerCtx>) -> crate::runtime::BoxFuture<'a, ()> {
        let all: Vec<_> = ctx
            .edges
            .pushes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        drop(all);
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse() {
        assert_eq!(
            Origin::parse("127.0.0.1:19350"),
            Ok(Origin {
                tls: false,
                host: "127.0.0.1".into(),
                port: 19350
            })
        );
        assert_eq!(
            Origin::parse("[::1]"),
            Ok(Origin {
                tls: false,
                host: "::1".into(),
                port: 1935
            })
        );
        let tls = Origin::parse("rtmps://o.example").unwrap();
        assert_eq!((tls.tls, tls.port), (true, 443));
        assert_eq!(tls.name(), "rtmps://o.example:443");
        assert_eq!(
            Origin::parse("RTMPS://[::1]:1443/").unwrap().name(),
            "rtmps://[::1]:1443"
        );
        assert!(Origin::parse("h:x").is_err());
        assert!(Origin::parse("h/x").is_err());
        assert!(Origin::parse("rtmp://h/a/s").is_err());
        assert!(Origin::parse("").is_err());
    }

    #[test]
    fn the_upstream_query_names_the_vhost() {
        let key = |v: &str| StreamKey {
            vhost: v.into(),
            app: "live".into(),
            stream: "s".into(),
        };
        let same = ClusterConfig::default();
        assert_eq!(
            upstream_query(&same, &key(DEFAULT_VHOST), "?token=a"),
            "token=a"
        );
        assert_eq!(
            upstream_query(&same, &key("v.example"), ""),
            "vhost=v.example"
        );
        assert_eq!(
            upstream_query(&same, &key("v.example"), "?token=a"),
            "vhost=v.example&token=a"
        );
        assert_eq!(
            upstream_query(&same, &key("v.example"), "?vhost=o"),
            "vhost=o"
        );
        // cluster { vhost ...; } renames it.
        let renamed = |v: &str| ClusterConfig {
            upstream_vhost: v.into(),
            ..ClusterConfig::default()
        };
        assert_eq!(
            upstream_query(
                &renamed("origin.example"),
                &key("v.example"),
                "?vhost=v.example&token=a"
            ),
            "vhost=origin.example&token=a"
        );
        assert_eq!(
            upstream_query(&renamed("in.[vhost]"), &key("v.example"), ""),
            "vhost=in.v.example"
        );
        assert_eq!(
            upstream_query(
                &renamed(DEFAULT_VHOST),
                &key("v.example"),
                "?vhost=v.example&t=1"
            ),
            "t=1"
        );
    }
}
