//! The server: binds the listeners, accepts, and spawns a task per connection.
//!
//! Everything a connection needs is in [`ServerCtx`]: the runtime, the hub and
//! the resolved settings. Listeners are bound synchronously in [`Server::start`]
//! so that a caller (a test on port 0, or `main`) knows the real addresses before
//! any client connects.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rtmp_proto::chunk::Limits;
use tracing::{info, warn};

use crate::config::{Config, DEFAULT_VHOST};
use crate::hls_sink::HlsManager;
use crate::hub::{Hub, Source, StreamKey, StreamRequest};
use crate::runtime::{BoxFuture, Connection, Listener, Runtime};
use crate::vhost::VhostSettings;

/// HTTP server settings (SRS `http_server`).
#[derive(Debug, Clone)]
pub struct HttpServerSettings {
    /// Document root for static files and, usually, HLS output.
    pub dir: PathBuf,
    /// Send `Access-Control-Allow-Origin: *`.
    pub crossdomain: bool,
}

/// Shared state of a running server.
#[derive(Debug)]
pub struct ServerCtx {
    /// The async runtime.
    pub rt: Arc<dyn Runtime>,
    /// Streams and clients.
    pub hub: Arc<Hub>,
    /// HLS sinks.
    pub hls: HlsManager,
    /// HTTP callbacks (`http_hooks`).
    pub hooks: crate::hooks::Hooks,
    config: RwLock<Arc<Config>>,
    vhosts: RwLock<HashMap<String, Arc<VhostSettings>>>,
    http: RwLock<Arc<HttpServerSettings>>,
    connections: AtomicUsize,
    shutting_down: AtomicBool,
    /// The summaries API's previous CPU reading (its CPU shares cover the
    /// time between two calls).
    pub(crate) cpu_sample: Mutex<Option<crate::http::api::system::CpuSample>>,
}

impl ServerCtx {
    /// Builds the context for `config`.
    pub fn new(rt: Arc<dyn Runtime>, config: Config) -> Arc<Self> {
        let vhosts = crate::settings::vhosts(&config);
        let http = crate::settings::http_server(&config);
        Arc::new(Self {
            hooks: crate::hooks::Hooks::new(rt.clone()),
            rt,
            hub: Hub::new(),
            hls: HlsManager::default(),
            config: RwLock::new(Arc::new(config)),
            vhosts: RwLock::new(vhosts),
            http: RwLock::new(Arc::new(http)),
            connections: AtomicUsize::new(0),
            shutting_down: AtomicBool::new(false),
            cpu_sample: Mutex::new(None),
        })
    }

    /// Milliseconds of runtime time since the runtime started.
    pub fn now_ms(&self) -> u64 {
        self.rt.now().as_millis() as u64
    }

    /// The current config.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// HTTP server settings.
    pub fn http(&self) -> Arc<HttpServerSettings> {
        self.http.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Settings of vhost `name`, falling back to the default vhost.
    pub fn vhost(&self, name: &str) -> Arc<VhostSettings> {
        let vhosts = self.vhosts.read().unwrap_or_else(|e| e.into_inner());
        vhosts
            .get(name)
            .or_else(|| vhosts.get(DEFAULT_VHOST))
            .cloned()
            .unwrap_or_else(|| Arc::new(crate::settings::default_vhost()))
    }

    /// Every configured vhost.
    pub fn vhosts(&self) -> Vec<Arc<VhostSettings>> {
        let vhosts = self.vhosts.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = vhosts.values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Resolves a request's vhost the way SRS does: a configured vhost by that
    /// name, else `__defaultVhost__` if configured, else refused (`None`). A
    /// vhost configured with `enabled off` is refused too, not served by the
    /// default vhost. The returned key names the vhost actually used.
    pub fn resolve(&self, req: &StreamRequest) -> Option<(Arc<VhostSettings>, StreamKey)> {
        let vhosts = self.vhosts.read().unwrap_or_else(|e| e.into_inner());
        let vhost = match vhosts.get(&req.key.vhost) {
            Some(v) => v.clone(),
            None if self.is_disabled(&req.key.vhost) => return None,
            None => vhosts.get(DEFAULT_VHOST)?.clone(),
        };
        let key = StreamKey {
            vhost: vhost.name.clone(),
            app: req.key.app.clone(),
            stream: req.key.stream.clone(),
        };
        Some((vhost, key))
    }

    /// Whether the config names vhost `name` with `enabled off`.
    fn is_disabled(&self, name: &str) -> bool {
        self.config()
            .vhosts
            .iter()
            .any(|v| v.name == name && !v.enabled)
    }

    /// Chunk decoder limits from the config.
    pub fn chunk_limits(&self) -> Limits {
        Limits::default()
    }

    /// Called when a publish starts: starts the vhost's sinks (HLS) for the source.
    pub fn on_publish(self: &Arc<Self>, source: &Arc<Source>, vhost: &Arc<VhostSettings>) {
        if let Some(hls) = &vhost.hls {
            self.hls.ensure(self, source, hls);
        }
    }

    /// True once shutdown began.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// RTMP.
    Rtmp,
    /// The HTTP server (HLS, HTTP-FLV, static files); also the API when both share a port.
    HttpServer,
    /// The HTTP API.
    HttpApi,
    /// HTTP server and API on one port.
    HttpBoth,
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    ctx: Arc<ServerCtx>,
    bound: Vec<(ListenerKind, SocketAddr)>,
}

impl Server {
    /// Binds every listener the config names and starts serving.
    pub fn start(rt: Arc<dyn Runtime>, config: Config) -> io::Result<Server> {
        let plan = crate::settings::listeners(&config);
        let ctx = ServerCtx::new(rt.clone(), config);
        let mut bound = Vec::new();
        for (kind, addr) in plan {
            let listener = rt
                .bind(addr)
                .map_err(|e| io::Error::new(e.kind(), format!("listen {addr}: {e}")))?;
            let local = listener.local_addr()?;
            info!(?kind, %local, "listening");
            bound.push((kind, local));
            rt.spawn(Box::pin(accept_loop(ctx.clone(), listener, kind)));
        }
        rt.spawn(Box::pin(reaper(ctx.clone())));
        Ok(Server { ctx, bound })
    }

    /// The shared context.
    pub fn ctx(&self) -> &Arc<ServerCtx> {
        &self.ctx
    }

    /// Bound addresses of one kind (port 0 resolved).
    pub fn addrs(&self, kind: ListenerKind) -> Vec<SocketAddr> {
        self.bound
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, a)| *a)
            .collect()
    }

    /// Every bound address.
    pub fn bound(&self) -> &[(ListenerKind, SocketAddr)] {
        &self.bound
    }

    /// Graceful shutdown: ends every publish so HLS sinks close their segments and
    /// write final playlists, waiting at most `grace`.
    pub async fn shutdown(&self, grace: Duration) {
        self.ctx.shutting_down.store(true, Ordering::SeqCst);
        for client in self.ctx.hub.clients() {
            client.kick();
        }
        self.ctx.hls.finish_all(&self.ctx, grace).await;
    }
}

async fn accept_loop(ctx: Arc<ServerCtx>, listener: Box<dyn Listener>, kind: ListenerKind) {
    loop {
        let (conn, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                warn!(?kind, "accept: {e}");
                // Out of file descriptors and the like: back off instead of spinning.
                ctx.rt.sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if ctx.is_shutting_down() {
            return;
        }
        let max = ctx.config().max_connections as usize;
        if ctx.connections.load(Ordering::SeqCst) >= max {
            warn!(%peer, max, "refused: max_connections reached");
            drop(conn);
            continue;
        }
        ctx.connections.fetch_add(1, Ordering::SeqCst);
        let ctx2 = ctx.clone();
        ctx.rt.spawn(Box::pin(async move {
            // A bug that panics while serving one client ends that client only:
            // smol's executor would otherwise take the whole process down.
            let served = std::panic::AssertUnwindSafe(serve(ctx2.clone(), conn, peer, kind));
            if futures_util::FutureExt::catch_unwind(served).await.is_err() {
                tracing::error!(%peer, "connection task panicked; connection closed");
            }
            ctx2.connections.fetch_sub(1, Ordering::SeqCst);
        }));
    }
}

/// The connection's protocol, boxed on its own: a spawned task is sized for
/// the protocol it runs, not for the largest of them.
fn serve(
    ctx: Arc<ServerCtx>,
    conn: Box<dyn Connection>,
    peer: SocketAddr,
    kind: ListenerKind,
) -> BoxFuture<'static, ()> {
    use crate::http::Role;
    match kind {
        ListenerKind::Rtmp => Box::pin(crate::rtmp_conn::serve(ctx, conn, peer)),
        ListenerKind::HttpServer => Box::pin(crate::http::serve(ctx, conn, peer, Role::Server)),
        ListenerKind::HttpApi => Box::pin(crate::http::serve(ctx, conn, peer, Role::Api)),
        ListenerKind::HttpBoth => Box::pin(crate::http::serve(ctx, conn, peer, Role::Both)),
    }
}

/// Periodic housekeeping on one timer for the whole server: samples every
/// client's byte counters (the API's recent rates), and forgets idle sources so
/// memory doesn't grow with every stream name ever used (SRS #413).
async fn reaper(ctx: Arc<ServerCtx>) {
    loop {
        ctx.rt
            .sleep(Duration::from_millis(crate::hub::RATE_SAMPLE_MS))
            .await;
        if ctx.is_shutting_down() {
            return;
        }
        ctx.hub.sample_traffic(ctx.now_ms());
        let n = ctx.hub.reap_idle();
        if n > 0 {
            tracing::debug!(removed = n, "reaped idle sources");
        }
    }
}
