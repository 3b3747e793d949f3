//! The server: binds the listeners, accepts, and spawns a task per connection.
//!
//! Everything a connection needs is in [`ServerCtx`]: the runtime, the hub and
//! the resolved settings. Listeners are bound synchronously in [`Server::start`]
//! so that a caller (a test on port 0, or `main`) knows the real addresses before
//! any client connects.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rtmp_proto::chunk::Limits;
use tracing::{info, warn};

use crate::config::{Config, DEFAULT_VHOST};
use crate::hls_sink::HlsManager;
use crate::hub::{Hub, StreamKey, StreamRequest};
use crate::runtime::{BoxFuture, Connection, Listener, Runtime};
pub use crate::settings::{HttpServerSettings, ListenerKind};
use crate::vhost::VhostSettings;

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
    /// What a published stream feeds (HLS...).
    pub outputs: crate::lifecycle::OutputRegistry,
    config: RwLock<Arc<Config>>,
    vhosts: RwLock<HashMap<String, Arc<VhostSettings>>>,
    http: RwLock<Arc<HttpServerSettings>>,
    connections: AtomicUsize,
    /// Open connections per client (`max_connections_per_ip`).
    pub per_ip: crate::access::PerIpLimit,
    shutting_down: AtomicBool,
    /// Wakes the accept loops when shutdown begins, so the ports close at once.
    shutdown_begun: event_listener::Event,
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
            outputs: crate::lifecycle::OutputRegistry::default(),
            config: RwLock::new(Arc::new(config)),
            vhosts: RwLock::new(vhosts),
            http: RwLock::new(Arc::new(http)),
            connections: AtomicUsize::new(0),
            per_ip: crate::access::PerIpLimit::new(),
            shutting_down: AtomicBool::new(false),
            shutdown_begun: event_listener::Event::new(),
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

    /// True once shutdown began.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Runs `work` until it completes, or `None` once shutdown begins: how an
    /// accept loop lets go of its listener (closing the port) at once.
    pub async fn unless_shutting_down<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let begun = async {
            loop {
                let listener = self.shutdown_begun.listen();
                if self.is_shutting_down() {
                    return;
                }
                listener.await;
            }
        };
        match futures_util::future::select(std::pin::pin!(work), std::pin::pin!(begun)).await {
            futures_util::future::Either::Left((out, _)) => Some(out),
            futures_util::future::Either::Right(_) => None,
        }
    }
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

    /// Closes every listener: new clients are refused by the system (the
    /// first step of a graceful quit); connected ones go on.
    pub fn stop_accepting(&self) {
        self.ctx.shutting_down.store(true, Ordering::SeqCst);
        self.ctx.shutdown_begun.notify(usize::MAX);
    }

    /// Ends the server: closes the listeners and every connection, so each
    /// publish ends and its HLS sink closes its segment and writes the final
    /// playlist, waiting at most `grace` for those files. A fast quit is this
    /// alone; a graceful quit drains clients first (see `cli`).
    pub async fn shutdown(&self, grace: Duration) {
        self.stop_accepting();
        for client in self.ctx.hub.clients() {
            client.kick();
        }
        self.ctx.hls.finish_all(&self.ctx, grace).await;
    }
}

async fn accept_loop(ctx: Arc<ServerCtx>, listener: Box<dyn Listener>, kind: ListenerKind) {
    loop {
        let Some(accepted) = ctx.unless_shutting_down(listener.accept()).await else {
            return;
        };
        let (conn, peer) = match accepted {
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
        let config = ctx.config();
        // Counted across every listener; the slot is given back when the
        // guard drops with the connection's task, however that ends.
        let per_ip = match ctx.per_ip.acquire(peer.ip(), config.max_connections_per_ip) {
            Ok(guard) => guard,
            Err(refused) => {
                drop(conn);
                note_per_ip_refusal(&ctx, refused);
                continue;
            }
        };
        let max = config.max_connections as usize;
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
            drop(per_ip);
        }));
    }
}

/// Logs a `max_connections_per_ip` refusal without flooding the log: the
/// first at once, then one summary a second (a timer writes the last of a burst).
fn note_per_ip_refusal(ctx: &Arc<ServerCtx>, refused: crate::access::PerIpRefused) {
    use crate::access::per_ip::RefusalNote;
    match ctx.per_ip.note_refusal(refused, ctx.rt.now()) {
        RefusalNote::Log(summary) => log_per_ip_refusals(&summary),
        RefusalNote::FlushAt(at) => {
            let ctx = ctx.clone();
            let wait = at.saturating_sub(ctx.rt.now());
            ctx.rt.clone().spawn(Box::pin(async move {
                ctx.rt.sleep(wait).await;
                if let Some(summary) = ctx.per_ip.flush_refusals(ctx.rt.now()) {
                    log_per_ip_refusals(&summary);
                }
            }));
        }
        RefusalNote::Held => {}
    }
}

fn log_per_ip_refusals(
    summary: &crate::access::per_ip::RefusalSummary<crate::access::PerIpRefused>,
) {
    let last = &summary.last;
    match summary.since_last_line {
        Some(since) if summary.count > 1 => warn!(
            refused = summary.count,
            max = last.max,
            "refused {} connections in {:.1}s: max_connections_per_ip reached (last: {last})",
            summary.count,
            since.as_secs_f64()
        ),
        _ => warn!(
            peer = %last.peer,
            max = last.max,
            "refused: max_connections_per_ip reached ({last})"
        ),
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
