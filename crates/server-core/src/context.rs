//! The state every connection shares: the runtime, the hub, the resolved
//! settings, the outputs and the hooks. The server ([`crate::server`]) builds
//! it and hands it to each connection; protocols ([`crate::rtmp_conn`],
//! [`crate::http`]), the stream lifecycle and the outputs read it, so none of
//! them needs the accept loops.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rtmp_proto::chunk::Limits;

use crate::config::{Config, DEFAULT_VHOST};
use crate::hls_sink::HlsManager;
use crate::hub::{Hub, StreamKey, StreamRequest};
use crate::runtime::Runtime;
use crate::settings::HttpServerSettings;
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
    /// Forwards to other servers.
    pub forwards: crate::forward::ForwardManager,
    /// Edge pulls from origins (`cluster { mode remote; }`).
    pub edges: crate::edge::EdgeManager,
    /// HTTP callbacks (`http_hooks`).
    pub hooks: crate::hooks::Hooks,
    /// What a published stream feeds (HLS...).
    pub outputs: crate::lifecycle::OutputRegistry,
    /// Supervised ffmpeg processes (ingest, transcode).
    pub processes: crate::ffmpeg::ProcessTable,
    /// The running ingests.
    pub ingests: crate::ffmpeg::IngestManager,
    config: RwLock<Arc<Config>>,
    vhosts: RwLock<HashMap<String, Arc<VhostSettings>>>,
    http: RwLock<Arc<HttpServerSettings>>,
    pub(crate) connections: AtomicUsize,
    /// Open connections per client (`max_connections_per_ip`).
    pub per_ip: crate::access::PerIpLimit,
    /// Bandwidth checks: when each client last ran one, how many run.
    pub bandcheck: crate::bandcheck::BandcheckGate,
    /// What all RTMP connections' partial messages hold (`rtmp_reassembly_budget`).
    pub reassembly: Arc<crate::access::memory::ReassemblyBudget>,
    pub(crate) shutting_down: AtomicBool,
    /// Wakes the accept loops when shutdown begins, so the ports close at once.
    pub(crate) shutdown_begun: event_listener::Event,
    /// The summaries API's previous CPU reading (its CPU shares cover the
    /// time between two calls).
    pub(crate) cpu_sample: Mutex<Option<crate::http::api::system::CpuSample>>,
    /// The same for `/metrics`, so scrapes and API calls don't shorten each
    /// other's CPU window.
    pub(crate) metrics_cpu_sample: Mutex<Option<crate::http::api::system::CpuSample>>,
    /// The config file and the running listeners, for a reload ([`crate::reload`]).
    pub reload: crate::reload::ReloadState,
    /// RTMPS certificates: the listener's and the upstreams' roots ([`crate::rtmps`]).
    pub rtmps: crate::rtmps::RtmpsState,
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
            forwards: crate::forward::ForwardManager::default(),
            edges: crate::edge::EdgeManager::default(),
            outputs: crate::lifecycle::OutputRegistry::default(),
            processes: crate::ffmpeg::ProcessTable::default(),
            ingests: crate::ffmpeg::IngestManager::default(),
            config: RwLock::new(Arc::new(config)),
            vhosts: RwLock::new(vhosts),
            http: RwLock::new(Arc::new(http)),
            connections: AtomicUsize::new(0),
            per_ip: crate::access::PerIpLimit::new(),
            bandcheck: crate::bandcheck::BandcheckGate::default(),
            reassembly: Arc::new(crate::access::memory::ReassemblyBudget::new(
                crate::access::memory::auto_budget(crate::access::memory::mem_total_kib()),
            )),
            shutting_down: AtomicBool::new(false),
            shutdown_begun: event_listener::Event::new(),
            cpu_sample: Mutex::new(None),
            metrics_cpu_sample: Mutex::new(None),
            reload: crate::reload::ReloadState::default(),
            rtmps: crate::rtmps::RtmpsState::default(),
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

    /// Puts `config` in force (a reload, see [`crate::reload::apply`]):
    /// what is read from now on is resolved from it; sessions keep the
    /// settings they already hold.
    pub fn replace_config(&self, config: Config) {
        let vhosts = crate::settings::vhosts(&config);
        let http = crate::settings::http_server(&config);
        *self.http.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(http);
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        *self.vhosts.write().unwrap_or_else(|e| e.into_inner()) = vhosts;
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
