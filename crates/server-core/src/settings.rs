//! Resolves the parsed [`Config`] into what the running server uses: per-vhost
//! [`VhostSettings`], HTTP server settings and the listener plan.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use media_core::gop::GopConfig;

use crate::config::{Config, VhostConfig, DEFAULT_VHOST};
use crate::vhost::{HlsSettings, VhostSettings};

/// Payload bytes a GOP cache may hold per stream (in addition to its frame bound).
pub const GOP_CACHE_MAX_BYTES: usize = 64 * 1024 * 1024;

/// HTTP server settings (SRS `http_server`).
#[derive(Debug, Clone)]
pub struct HttpServerSettings {
    /// Document root for static files and, usually, HLS output.
    pub dir: PathBuf,
    /// Send `Access-Control-Allow-Origin: *`.
    pub crossdomain: bool,
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
    /// Prometheus metrics (`exporter { }`): `GET /metrics` only.
    Exporter,
    /// RTMP over TLS (`rtmps { }`, SRS 7).
    Rtmps,
}

/// One vhost's settings.
pub fn vhost(v: &VhostConfig) -> VhostSettings {
    VhostSettings {
        name: v.name.clone(),
        chunk_size: v.chunk_size,
        tcp_nodelay: v.tcp_nodelay,
        gop: GopConfig {
            enabled: v.play.gop_cache,
            max_frames: v.play.gop_cache_max_frames,
            max_bytes: GOP_CACHE_MAX_BYTES,
        },
        jitter: v.play.effective_jitter(),
        atc: v.play.atc,
        queue_span: v.play.queue_length,
        mw_latency: if v.min_latency {
            std::time::Duration::ZERO
        } else {
            v.play.mw_latency
        },
        mw_msgs: v.play.mw_msgs,
        firstpkt_timeout: v.publish.firstpkt_timeout,
        normal_timeout: v.publish.normal_timeout,
        merged_read: (v.publish.mr && !v.min_latency).then_some(v.publish.mr_latency),
        hls: v.hls.enabled.then(|| HlsSettings {
            path: v.hls.path.clone(),
            config: v.hls.segmenter.clone(),
        }),
        dvr: v.dvr.enabled.then(|| v.dvr.clone()),
        vod: v.vod.enabled.then(|| v.vod.clone()),
        flv_mount: v.http_remux.enabled.then(|| v.http_remux.mount.clone()),
        forward: v.forward.enabled.then(|| v.forward.clone()),
        edge: v.cluster.remote.then(|| v.cluster.clone()),
        hooks: v.http_hooks.clone(),
        security: v.security.clone(),
        refer: v.refer.clone(),
        transcodes: v.transcodes.clone(),
    }
}

/// Every enabled vhost, by name.
pub fn vhosts(config: &Config) -> HashMap<String, Arc<VhostSettings>> {
    config
        .vhosts
        .iter()
        .filter(|v| v.enabled)
        .map(|v| (v.name.clone(), Arc::new(vhost(v))))
        .collect()
}

/// The default vhost with SRS defaults (used only if a lookup finds nothing).
pub fn default_vhost() -> VhostSettings {
    vhost(&crate::config::VhostConfig::srs_default(
        DEFAULT_VHOST,
        60000,
    ))
}

/// HTTP server settings.
pub fn http_server(config: &Config) -> HttpServerSettings {
    HttpServerSettings {
        dir: config.http_server.dir.clone(),
        crossdomain: config.http_server.crossdomain,
    }
}

/// What to bind: RTMP listeners, then the HTTP server and API. When the server
/// and the API name the same address they share one listener (as in SRS).
pub fn listeners(config: &Config) -> Vec<(ListenerKind, SocketAddr)> {
    let mut plan: Vec<(ListenerKind, SocketAddr)> = config
        .listen
        .iter()
        .map(|a| (ListenerKind::Rtmp, *a))
        .collect();
    let server: Vec<SocketAddr> = if config.http_server.enabled {
        config.http_server.listen.clone()
    } else {
        Vec::new()
    };
    let api: Vec<SocketAddr> = if config.http_api.enabled {
        config.http_api.listen.clone()
    } else {
        Vec::new()
    };
    for addr in &server {
        // Port 0 means "any free port": never merge those.
        let shared = addr.port() != 0 && api.contains(addr);
        plan.push((
            if shared {
                ListenerKind::HttpBoth
            } else {
                ListenerKind::HttpServer
            },
            *addr,
        ));
    }
    for addr in &api {
        if addr.port() == 0 || !server.contains(addr) {
            plan.push((ListenerKind::HttpApi, *addr));
        }
    }
    if config.exporter.enabled {
        // Always its own listener (as SRS): metrics stay off the public ports.
        plan.extend(
            config
                .exporter
                .listen
                .iter()
                .map(|a| (ListenerKind::Exporter, *a)),
        );
    }
    if config.rtmps.enabled {
        plan.extend(
            config
                .rtmps
                .listen
                .iter()
                .map(|a| (ListenerKind::Rtmps, *a)),
        );
    }
    plan
}
