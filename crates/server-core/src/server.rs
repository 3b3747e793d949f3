//! The server: binds the listeners, accepts, and spawns a task per connection.
//!
//! Everything a connection needs is in [`ServerCtx`] (see [`crate::context`]). Listeners are bound synchronously in [`Server::start`]
//! so that a caller (a test on port 0, or `main`) knows the real addresses before
//! any client connects.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::access::budget::{BudgetRefused, ListenerBudget};
use crate::access::per_ip::RefusalNote;
use crate::config::Config;
use crate::context::ServerCtx;
use crate::reload::{ListenerEntry, ListenerStop};
use crate::runtime::{BoxFuture, Connection, Listener, Runtime};
pub use crate::settings::ListenerKind;

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
        ctx.rtmps
            .load_at_start(&ctx.config())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("rtmps: {e}")))?;
        let mut bound = Vec::new();
        for (kind, addr) in plan {
            let local = start_listener(&ctx, kind, addr)
                .map_err(|e| io::Error::new(e.kind(), format!("listen {addr}: {e}")))?;
            info!(?kind, %local, "listening");
            bound.push((kind, local));
        }
        crate::upgrade::drop_unclaimed();
        rt.spawn(Box::pin(reaper(ctx.clone())));
        // Ingests publish to the RTMP listener bound above.
        ctx.ingests.sync(&ctx);
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

    /// The listening sockets running now, for a binary upgrade to hand over
    /// (kind, configured and bound address, listener).
    pub fn handoff(&self) -> crate::upgrade::Handoff {
        self.ctx
            .reload
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|e| Some((e.kind, e.configured, e.local, e.listener.upgrade()?)))
            .collect()
    }

    /// Closes every listener: new clients are refused by the system (the
    /// first step of a graceful quit); connected ones go on.
    pub fn stop_accepting(&self) {
        self.ctx.shutting_down.store(true, Ordering::SeqCst);
        self.ctx.shutdown_begun.notify(usize::MAX);
    }

    /// Ends the server: closes the listeners and every connection, so each
    /// publish ends and its HLS sink closes its segment and writes the final
    /// playlist and its DVR recorder completes its file, waiting at most
    /// `grace` for each. A fast quit is this
    /// alone; a graceful quit drains clients first (see `cli`).
    pub async fn shutdown(&self, grace: Duration) {
        self.stop_accepting();
        // Before the kicks: an ingest dropped by them would be restarted.
        self.ctx.ingests.stop_all();
        for client in self.ctx.hub.clients() {
            client.kick();
        }
        self.ctx.hls.finish_all(&self.ctx, grace).await;
        self.ctx.outputs.finish_all(&self.ctx, grace).await;
        self.ctx.processes.stop_all(&*self.ctx.rt, grace).await;
    }
}

/// Binds `addr` (as configured: port 0 picks one) and starts accepting on it;
/// the listener is registered so a reload can stop it alone. The bound address.
pub(crate) fn start_listener(
    ctx: &Arc<ServerCtx>,
    kind: ListenerKind,
    addr: SocketAddr,
) -> io::Result<SocketAddr> {
    // A socket handed over by the previous process (SIGUSR2) is adopted,
    // not bound again.
    let listener: Arc<dyn Listener> = match crate::upgrade::take_listener(&*ctx.rt, kind, addr) {
        Some(adopted) => adopted?,
        None => ctx.rt.bind(addr)?,
    }
    .into();
    let local = listener.local_addr()?;
    let stop = Arc::new(ListenerStop::default());
    ctx.reload
        .listeners
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(ListenerEntry {
            kind,
            configured: addr,
            local,
            stop: stop.clone(),
            listener: Arc::downgrade(&listener),
        });
    ctx.rt
        .spawn(Box::pin(accept_loop(ctx.clone(), listener, kind, stop)));
    Ok(local)
}

/// Accepts until shutdown begins or a reload stops this listener; either way
/// the listener is dropped (the port closes) and accepted connections go on.
async fn accept_loop(
    ctx: Arc<ServerCtx>,
    listener: Arc<dyn Listener>,
    kind: ListenerKind,
    stop: Arc<ListenerStop>,
) {
    let budget = Arc::new(ListenerBudget::default());
    loop {
        let accept = async {
            use futures_util::future::{select, Either};
            match select(listener.accept(), std::pin::pin!(stop.stopped())).await {
                Either::Left((accepted, _)) => Some(accepted),
                Either::Right(_) => None,
            }
        };
        let Some(Some(accepted)) = ctx.unless_shutting_down(accept).await else {
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
        // This listener's own budget, and the global pool (which the HTTP
        // API is not part of: it stays reachable whatever fills the others).
        let max = config.max_connections as usize;
        let own = |name: &'static str, max: u32| (max > 0).then_some((name, max as usize));
        let (own, global) = match kind {
            ListenerKind::Rtmp | ListenerKind::Rtmps => (
                own("rtmp_max_connections", config.rtmp_max_connections),
                Some((&ctx.connections, max)),
            ),
            ListenerKind::HttpServer | ListenerKind::HttpBoth => (
                own(
                    "http_server.max_connections",
                    config.http_server.max_connections,
                ),
                Some((&ctx.connections, max)),
            ),
            ListenerKind::HttpApi => (
                own("http_api.max_connections", config.http_api.max_connections),
                None,
            ),
            _ => (None, Some((&ctx.connections, max))),
        };
        let budget_guard = match budget.acquire(peer, own, global) {
            Ok(guard) => guard,
            Err(refused) => {
                drop(conn);
                note_budget_refusal(&ctx, &budget, kind, refused);
                continue;
            }
        };
        let ctx2 = ctx.clone();
        ctx.rt.spawn(Box::pin(async move {
            // A bug that panics while serving one client ends that client only:
            // smol's executor would otherwise take the whole process down.
            let served = std::panic::AssertUnwindSafe(serve(ctx2.clone(), conn, peer, kind));
            if futures_util::FutureExt::catch_unwind(served).await.is_err() {
                tracing::error!(%peer, "connection task panicked; connection closed");
            }
            budget_guard.release(&ctx2.connections);
            drop(per_ip);
        }));
    }
}

/// Logs a refusal for want of connection budget without flooding the log:
/// the first at once, then one summary a second per listener.
fn note_budget_refusal(
    ctx: &Arc<ServerCtx>,
    budget: &Arc<ListenerBudget>,
    kind: ListenerKind,
    refused: BudgetRefused,
) {
    match budget.note_refusal(refused, ctx.rt.now()) {
        RefusalNote::Log(summary) => log_budget_refusals(kind, &summary),
        RefusalNote::FlushAt(at) => {
            let ctx = ctx.clone();
            let budget = budget.clone();
            let wait = at.saturating_sub(ctx.rt.now());
            ctx.rt.clone().spawn(Box::pin(async move {
                ctx.rt.sleep(wait).await;
                if let Some(summary) = budget.flush_refusals(ctx.rt.now()) {
                    log_budget_refusals(kind, &summary);
                }
            }));
        }
        RefusalNote::Held => {}
    }
}

fn log_budget_refusals(
    kind: ListenerKind,
    summary: &crate::access::per_ip::RefusalSummary<BudgetRefused>,
) {
    let last = &summary.last;
    let directive = last.directive();
    match summary.since_last_line {
        Some(since) if summary.count > 1 => warn!(
            ?kind,
            refused = summary.count,
            max = last.max,
            "refused {} connections in {:.1}s: {directive} reached (last: {last})",
            summary.count,
            since.as_secs_f64()
        ),
        _ => warn!(?kind, peer = %last.peer, max = last.max, "refused: {directive} reached"),
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
        ListenerKind::Rtmps => Box::pin(crate::rtmps::serve(ctx, conn, peer)),
        ListenerKind::HttpServer => Box::pin(crate::http::serve(ctx, conn, peer, Role::Server)),
        ListenerKind::HttpApi => Box::pin(crate::http::serve(ctx, conn, peer, Role::Api)),
        ListenerKind::HttpBoth => Box::pin(crate::http::serve(ctx, conn, peer, Role::Both)),
        ListenerKind::Exporter => Box::pin(crate::http::serve(ctx, conn, peer, Role::Exporter)),
    }
}

/// Periodic housekeeping on one timer for the whole server: samples every
/// client's byte counters (the API's recent rates), carries out `hls_dispose`
/// for stopped streams, and forgets idle sources so memory doesn't grow with
/// every stream name ever used (SRS #413).
async fn reaper(ctx: Arc<ServerCtx>) {
    loop {
        ctx.rt
            .sleep(Duration::from_millis(crate::hub::RATE_SAMPLE_MS))
            .await;
        if ctx.is_shutting_down() {
            return;
        }
        ctx.hub.sample_traffic(ctx.now_ms());
        ctx.hls.dispose_due(&ctx);
        let n = ctx.hub.reap_idle();
        if n > 0 {
            tracing::debug!(removed = n, "reaped idle sources");
        }
    }
}
