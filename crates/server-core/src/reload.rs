//! Config reload (SIGHUP, `rtmp-server -s reload`, `GET /api/v1/raw?rpc=reload`):
//! what changed between the running config and the new file, and applying it
//! without dropping anyone.
//!
//! The new file is parsed and checked completely before anything changes; a
//! file with an error is refused and the running config stays in force. Then,
//! per directive (README "Reload" has the table):
//!
//! - listeners (`listen`, `http_server.listen`, `http_api.listen`): added
//!   addresses start accepting, removed ones stop; connections already
//!   accepted on them go on;
//! - vhosts: the resolved settings are replaced, so every new connection,
//!   publish and play uses the new ones; running sessions keep what they
//!   started with. Clients of a removed or `enabled off` vhost are
//!   disconnected (their streams end as on any unpublish: players get
//!   `UnpublishNotify` or EOF, HLS closes its segment);
//! - outputs (HLS...) of streams being published now are told
//!   ([`crate::lifecycle::Output::on_reload`]), so HLS starts or stops for
//!   them without a republish;
//! - `srs_log_level`, `max_connections`, `max_connections_per_ip` and the
//!   graceful quit timings apply at once; `pid` and `workers` do not (the
//!   running values are kept, and the log says so).
//!
//! SRS reloads the same way (`SrsConfig::reload_conf` diffs the old and new
//! trees and calls `SrsReloadHandler`s); one difference: SRS restarts every
//! RTMP listener when `listen` changes at all, while here only the added and
//! removed addresses are touched.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::{info, warn};

use crate::config::{self, Config, VhostConfig};
use crate::context::ServerCtx;
use crate::settings::ListenerKind;

/// How long a reload tries to bind an address whose old listener (of another
/// kind, on the same address) is still letting go of it.
const REBIND_WAIT: Duration = Duration::from_secs(2);
/// How often it tries meanwhile.
const REBIND_POLL: Duration = Duration::from_millis(20);

/// One running listener, so a reload can stop it alone.
#[derive(Debug)]
pub(crate) struct ListenerEntry {
    /// What it serves.
    pub kind: ListenerKind,
    /// The address as configured (port 0 stays 0): what a new config is compared with.
    pub configured: SocketAddr,
    /// The address bound.
    pub local: SocketAddr,
    /// Stops its accept loop.
    pub stop: Arc<ListenerStop>,
    /// The listener, while its accept loop holds it: for a binary upgrade
    /// to hand its socket over (`crate::upgrade`).
    pub listener: std::sync::Weak<dyn crate::runtime::Listener>,
}

/// Tells one accept loop to let go of its listener.
#[derive(Debug, Default)]
pub(crate) struct ListenerStop {
    stopped: AtomicBool,
    event: event_listener::Event,
}

impl ListenerStop {
    /// Asks the loop to stop; it closes the port at once.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    /// Completes once [`stop`](Self::stop) was called.
    pub async fn stopped(&self) {
        loop {
            let listener = self.event.listen();
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            listener.await;
        }
    }
}

/// What a reload needs besides the config: the file, the running listeners,
/// and whether a reload is under way (one at a time).
#[derive(Debug, Default)]
pub struct ReloadState {
    path: Mutex<Option<PathBuf>>,
    pub(crate) listeners: Mutex<Vec<ListenerEntry>>,
    busy: AtomicBool,
}

impl ReloadState {
    /// The config file a reload reads (none: the embedded default, which
    /// cannot change).
    pub fn set_path(&self, path: Option<PathBuf>) {
        *lock(&self.path) = path;
    }

    /// Every running listener: kind and bound address.
    pub fn listeners(&self) -> Vec<(ListenerKind, SocketAddr)> {
        lock(&self.listeners)
            .iter()
            .map(|l| (l.kind, l.local))
            .collect()
    }
}

/// Why a reload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadError {
    /// No `-c FILE`: the embedded default config cannot change.
    #[error("no config file (the embedded default is running): nothing to reload")]
    NoFile,
    /// Another reload is under way.
    #[error("a reload is already under way")]
    Busy,
    /// The server is quitting: its listeners are closing.
    #[error("the server is quitting")]
    Quitting,
    /// The new file has an error (`file:line: reason`); nothing changed.
    #[error("{0}")]
    Invalid(String),
}

/// What a reload did.
#[derive(Debug, Default, Clone)]
pub struct ReloadReport {
    /// One line per change ([`diff`]).
    pub changes: Vec<String>,
    /// Addresses that started accepting.
    pub started: Vec<(ListenerKind, SocketAddr)>,
    /// Addresses that stopped accepting.
    pub stopped: Vec<(ListenerKind, SocketAddr)>,
    /// What could not be applied (an address that cannot be bound...).
    pub failures: Vec<String>,
    /// Clients disconnected because their vhost went away or was disabled.
    pub kicked: usize,
}

/// Reads the config file again and applies it (see the module docs). The
/// running config stays in force when the file has an error.
pub async fn reload_file(ctx: &Arc<ServerCtx>) -> Result<ReloadReport, ReloadError> {
    if ctx.is_shutting_down() {
        return Err(ReloadError::Quitting);
    }
    let path = lock(&ctx.reload.path).clone().ok_or(ReloadError::NoFile)?;
    if ctx.reload.busy.swap(true, Ordering::SeqCst) {
        return Err(ReloadError::Busy);
    }
    struct Idle<'a>(&'a AtomicBool);
    impl Drop for Idle<'_> {
        fn drop(&mut self) {
            self.0.store(false, Ordering::SeqCst);
        }
    }
    let _idle = Idle(&ctx.reload.busy);
    let new = load_off_thread(ctx, path).await?;
    Ok(apply(ctx, new).await)
}

/// Most a reload waits for the file system to give the config file.
const LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// `config::load` on a thread of its own: a hung disk holds neither the
/// signals loop nor an executor thread (with `workers 1`, the whole server).
async fn load_off_thread(ctx: &ServerCtx, path: PathBuf) -> Result<Config, ReloadError> {
    #[derive(Default)]
    struct Slot {
        value: Mutex<Option<Result<Config, config::ConfigError>>>,
        done: event_listener::Event,
    }
    let slot = Arc::new(Slot::default());
    let filled = slot.clone();
    let read = path.clone();
    std::thread::Builder::new()
        .name("reload".into())
        .spawn(move || {
            *lock(&filled.value) = Some(config::load(&read));
            filled.done.notify(usize::MAX);
        })
        .map_err(|e| ReloadError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    let wait = async {
        loop {
            let listener = slot.done.listen();
            if let Some(result) = lock(&slot.value).take() {
                return result;
            }
            listener.await;
        }
    };
    match crate::runtime::timeout(&*ctx.rt, LOAD_TIMEOUT, wait).await {
        Some(loaded) => loaded.map_err(|e| ReloadError::Invalid(e.to_string())),
        None => Err(ReloadError::Invalid(format!(
            "{}: not read within {} s",
            path.display(),
            LOAD_TIMEOUT.as_secs()
        ))),
    }
}

/// Applies `new`, already checked, to the running server.
pub async fn apply(ctx: &Arc<ServerCtx>, mut new: Config) -> ReloadReport {
    let old = ctx.config();
    let mut report = ReloadReport {
        changes: diff(&old, &new),
        ..ReloadReport::default()
    };
    if report.changes.is_empty() {
        info!("reload: no change");
    }
    for line in &report.changes {
        info!("reload: {line}");
    }
    // Not reloadable: the running values stay (and stay in the config the
    // rest of the server reads, so nothing acts on a value not in force).
    if new.pid != old.pid {
        warn!(
            "reload: pid is not reloadable: still {} (restart to change it)",
            old.pid.display()
        );
        new.pid = old.pid.clone();
    }
    if new.workers != old.workers {
        warn!("reload: workers is not reloadable: the running thread count stays (restart to change it)");
        new.workers = old.workers;
    }
    if new.log_tank != old.log_tank || new.log_file != old.log_file {
        warn!("reload: srs_log_tank and srs_log_file are not reloadable: logs still go where they went (restart to change it)");
        new.log_tank = old.log_tank;
        new.log_file = old.log_file.clone();
    }
    if new.log_level != old.log_level {
        match crate::logging::set_level(&new.log_level) {
            Ok(()) => {}
            Err(why) => report.failures.push(format!("srs_log_level: {why}")),
        }
    }
    // Certificates are read again whether or not their names changed (a
    // renewed one keeps its name), before a new rtmps listener may start.
    let tls_failures = ctx.rtmps.reload(ctx, &new).await;
    report.failures.extend(tls_failures);
    ctx.replace_config(new.clone());
    apply_listeners(ctx, &old, &new, &mut report).await;
    // Clients of vhosts that are gone or disabled.
    let gone: Vec<String> = old
        .vhosts
        .iter()
        .filter(|v| v.enabled && !new.vhosts.iter().any(|n| n.name == v.name && n.enabled))
        .map(|v| v.name.clone())
        .collect();
    if !gone.is_empty() {
        report.kicked = kick_vhosts(ctx, &gone);
        info!(vhosts = ?gone, clients = report.kicked, "reload: clients of removed or disabled vhosts disconnected");
    }
    let new_vhosts: HashMap<String, _> = ctx
        .vhosts()
        .into_iter()
        .map(|v| (v.name.clone(), v))
        .collect();
    ctx.outputs.reload(ctx, &new_vhosts);
    ctx.ingests.sync(ctx);
    for failure in &report.failures {
        warn!("reload: {failure}");
    }
    info!(
        changes = report.changes.len(),
        failures = report.failures.len(),
        "reload done"
    );
    report
}

/// Disconnects every client on one of `vhosts`: publishers first, so each
/// stream ends (players hear the unpublish) before its players go. Clients
/// whose connect announced Enhanced RTMP's `capsEx` Reconnect are sent a
/// reconnect request first, then closed ([`crate::reconnect`]).
fn kick_vhosts(ctx: &ServerCtx, vhosts: &[String]) -> usize {
    let on_gone = |c: &crate::hub::ClientInfo| {
        c.with_details(|d| d.stream.as_ref().is_some_and(|k| vhosts.contains(&k.vhost)))
    };
    let clients: Vec<_> = ctx
        .hub
        .clients()
        .into_iter()
        .filter(|c| on_gone(c))
        .collect();
    let (publishers, players): (Vec<_>, Vec<_>) = clients
        .into_iter()
        .partition(|c| c.kind() == crate::hub::ClientKind::RtmpPublish);
    let n = publishers.len() + players.len();
    let ordered: Vec<_> = publishers.into_iter().chain(players).collect();
    let done = crate::reconnect::ask(ctx, &ordered, crate::reconnect::Why::VhostGone);
    if done.asked > 0 {
        info!(
            clients = done.asked,
            "reload: reconnect requested before closing (Enhanced RTMP capsEx)"
        );
    }
    n
}

/// Stops the listeners the new config no longer names and starts the ones it adds.
async fn apply_listeners(
    ctx: &Arc<ServerCtx>,
    old: &Config,
    new: &Config,
    report: &mut ReloadReport,
) {
    let (removed, added) = plan_changes(
        &crate::settings::listeners(old),
        &crate::settings::listeners(new),
    );
    for (kind, addr) in removed {
        let entry = {
            let mut listeners = lock(&ctx.reload.listeners);
            let i = listeners
                .iter()
                .position(|l| l.kind == kind && l.configured == addr);
            i.map(|i| listeners.remove(i))
        };
        if let Some(entry) = entry {
            entry.stop.stop();
            info!(
                "reload: {} stopped listening on {}",
                kind_name(kind),
                entry.local
            );
            report.stopped.push((kind, entry.local));
        }
    }
    for (kind, addr) in added {
        let start = ctx.rt.now();
        let bound = loop {
            match crate::server::start_listener(ctx, kind, addr) {
                Ok(local) => break Ok(local),
                // The old listener of the same address (another kind) may still
                // be letting go of it.
                Err(e)
                    if e.kind() == std::io::ErrorKind::AddrInUse
                        && ctx.rt.now().saturating_sub(start) < REBIND_WAIT =>
                {
                    ctx.rt.sleep(REBIND_POLL).await
                }
                Err(e) => break Err(e),
            }
        };
        match bound {
            Ok(local) => {
                info!("reload: {} listening on {local}", kind_name(kind));
                report.started.push((kind, local));
            }
            Err(e) => report
                .failures
                .push(format!("{} listen {addr}: {e}", kind_name(kind))),
        }
    }
}

/// One listener of a plan: what it serves, on which configured address.
type Planned = (ListenerKind, SocketAddr);

/// The listeners to stop and to start to go from plan `old` to `new`
/// (matched as multisets: two `:0` listeners are two listeners).
fn plan_changes(old: &[Planned], new: &[Planned]) -> (Vec<Planned>, Vec<Planned>) {
    let mut added = new.to_vec();
    let mut removed = Vec::new();
    for entry in old {
        match added.iter().position(|n| n == entry) {
            Some(i) => {
                added.remove(i);
            }
            None => removed.push(*entry),
        }
    }
    (removed, added)
}

/// The listener names the startup log uses.
pub(crate) fn kind_name(kind: ListenerKind) -> &'static str {
    match kind {
        ListenerKind::Rtmp => "rtmp",
        ListenerKind::HttpServer => "http server",
        ListenerKind::HttpApi => "http api",
        ListenerKind::HttpBoth => "http server+api",
        ListenerKind::Exporter => "exporter",
        ListenerKind::Rtmps => "rtmps",
    }
}

/// The changes from `old` to `new`, one line each, in file order: global
/// directives, then the HTTP server and API, then vhosts (added, removed,
/// then each changed block of the others).
pub fn diff(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! field {
        ($name:expr, $($f:tt)+) => {
            if old.$($f)+ != new.$($f)+ {
                out.push(format!("{}: {:?} -> {:?}", $name, old.$($f)+, new.$($f)+));
            }
        };
    }
    field!("listen", listen);
    field!("max_connections", max_connections);
    field!("max_connections_per_ip", max_connections_per_ip);
    field!("chunk_size", chunk_size);
    field!("workers", workers);
    field!("pid", pid);
    field!("srs_log_level", log_level);
    field!("srs_log_tank", log_tank);
    field!("srs_log_file", log_file);
    field!("grace_start_wait", grace_start_wait);
    field!("grace_drain_timeout", grace_drain_timeout);
    field!("grace_final_wait", grace_final_wait);
    field!("force_grace_quit", force_grace_quit);
    field!("reconnect_tcurl", reconnect_tcurl);
    field!("ff_log_dir", ff_log_dir);
    field!("ff_log_level", ff_log_level);
    field!("http_server.enabled", http_server.enabled);
    field!("http_server.listen", http_server.listen);
    field!("http_server.dir", http_server.dir);
    field!("http_server.crossdomain", http_server.crossdomain);
    field!("http_server.console", http_server.console);
    field!("http_api.enabled", http_api.enabled);
    field!("http_api.listen", http_api.listen);
    field!("http_api.crossdomain", http_api.crossdomain);
    field!("http_api.allow_origins", http_api.allow_origins);
    if old.http_api.auth != new.http_api.auth {
        // Credentials stay out of the log.
        out.push("http_api.auth: changed".to_owned());
    }
    field!("http_api.raw_api", http_api.raw_api);
    field!("exporter.enabled", exporter.enabled);
    field!("exporter.listen", exporter.listen);
    field!("exporter.label", exporter.label);
    field!("exporter.tag", exporter.tag);
    field!("rtmps.enabled", rtmps.enabled);
    field!("rtmps.listen", rtmps.listen);
    field!("rtmps.key", rtmps.key);
    field!("rtmps.cert", rtmps.cert);
    field!("rtmps.upstream_ca", rtmps.upstream_ca);
    for v in &new.vhosts {
        if !old.vhosts.iter().any(|o| o.name == v.name) {
            out.push(format!("vhost {}: added", v.name));
        }
    }
    for v in &old.vhosts {
        if !new.vhosts.iter().any(|n| n.name == v.name) {
            out.push(format!("vhost {}: removed", v.name));
        }
    }
    for v in &new.vhosts {
        if let Some(o) = old.vhosts.iter().find(|o| o.name == v.name) {
            let before = out.len();
            vhost_diff(o, v, &mut out);
            if out.len() == before && o != v {
                // A block this list does not name yet (a newer output's).
                out.push(format!("vhost {}: other directives changed", v.name));
            }
        }
    }
    if out.is_empty() && old != new {
        out.push("other directives changed".to_owned());
    }
    out
}

fn vhost_diff(old: &VhostConfig, new: &VhostConfig, out: &mut Vec<String>) {
    macro_rules! part {
        ($name:expr, $f:ident) => {
            if old.$f != new.$f {
                out.push(format!(
                    "vhost {} {}: {:?} -> {:?}",
                    new.name, $name, old.$f, new.$f
                ));
            }
        };
    }
    part!("enabled", enabled);
    part!("chunk_size", chunk_size);
    part!("tcp_nodelay", tcp_nodelay);
    part!("min_latency", min_latency);
    part!("play", play);
    part!("publish", publish);
    part!("hls", hls);
    part!("dvr", dvr);
    part!("http_remux", http_remux);
    part!("http_hooks", http_hooks);
    part!("security", security);
    part!("refer", refer);
    // ffmpeg blocks: named, not printed (an engine is long).
    let ids = |v: &VhostConfig| -> Vec<String> { v.ingests.iter().map(|i| i.id.clone()).collect() };
    if old.ingests != new.ingests {
        out.push(format!(
            "vhost {} ingest: {:?} -> {:?} (changed)",
            new.name,
            ids(old),
            ids(new)
        ));
    }
    let scopes =
        |v: &VhostConfig| -> Vec<String> { v.transcodes.iter().map(|t| t.scope.clone()).collect() };
    if old.transcodes != new.transcodes {
        out.push(format!(
            "vhost {} transcode: {:?} -> {:?} (changed)",
            new.name,
            scopes(old),
            scopes(new)
        ));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        config::parse_str("test.conf", text).unwrap()
    }

    #[test]
    fn the_same_file_is_no_change() {
        let a = parse("listen 1935; vhost __defaultVhost__ { hls { enabled on; } }");
        assert!(diff(&a, &a.clone()).is_empty());
    }

    #[test]
    fn one_line_per_change() {
        let old = parse(
            "listen 1935; srs_log_level trace; \
             vhost __defaultVhost__ { hls { enabled off; } } \
             vhost a.com { chunk_size 4096; } vhost b.com { }",
        );
        let new = parse(
            "listen 1935 1936; srs_log_level warn; \
             vhost __defaultVhost__ { hls { enabled on; } } \
             vhost a.com { chunk_size 8192; } vhost c.com { }",
        );
        let lines = diff(&old, &new);
        assert_eq!(lines.len(), 6, "{lines:#?}");
        assert!(lines[0].starts_with("listen: [0.0.0.0:1935] -> [0.0.0.0:1935, 0.0.0.0:1936]"));
        assert_eq!(lines[1], "srs_log_level: \"trace\" -> \"warn\"");
        assert_eq!(lines[2], "vhost c.com: added");
        assert_eq!(lines[3], "vhost b.com: removed");
        assert!(
            lines[4].starts_with("vhost __defaultVhost__ hls: "),
            "{}",
            lines[4]
        );
        assert_eq!(lines[5], "vhost a.com chunk_size: 4096 -> 8192");
    }

    #[test]
    fn credentials_are_not_logged() {
        let old = parse("http_api { enabled on; }");
        let new =
            parse("http_api { enabled on; auth { enabled on; username u; password secret; } }");
        assert_eq!(diff(&old, &new), vec!["http_api.auth: changed".to_owned()]);
    }

    #[test]
    fn hooks_and_disabled_vhosts_are_changes() {
        let old = parse(
            "vhost v { enabled on; http_hooks { enabled on; on_publish http://127.0.0.1:1/a; } }",
        );
        let new = parse(
            "vhost v { enabled off; http_hooks { enabled on; on_publish http://127.0.0.1:1/b; } }",
        );
        let lines = diff(&old, &new);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert_eq!(lines[0], "vhost v enabled: true -> false");
        assert!(lines[1].starts_with("vhost v http_hooks: ") && lines[1].contains("/b"));
    }

    #[test]
    fn listener_plans_change_by_address() {
        let a: SocketAddr = "127.0.0.1:1935".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:1936".parse().unwrap();
        let z: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let old = [
            (ListenerKind::Rtmp, a),
            (ListenerKind::Rtmp, z),
            (ListenerKind::HttpApi, b),
        ];
        let new = [
            (ListenerKind::Rtmp, z),
            (ListenerKind::Rtmp, b),
            (ListenerKind::HttpBoth, b),
        ];
        let (removed, added) = plan_changes(&old, &new);
        assert_eq!(
            removed,
            vec![(ListenerKind::Rtmp, a), (ListenerKind::HttpApi, b)]
        );
        assert_eq!(
            added,
            vec![(ListenerKind::Rtmp, b), (ListenerKind::HttpBoth, b)]
        );
        assert_eq!(plan_changes(&old, &old), (vec![], vec![]));
    }
}
