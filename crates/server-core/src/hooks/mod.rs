//! SRS's `http_hooks`: HTTP callbacks that let an operator's own server allow
//! or refuse connects, publishes and plays, and hear about closes, unpublishes,
//! stops and finished HLS segments.
//!
//! SCAFFOLD: the interface the stream lifecycle calls. The HTTP client, the
//! JSON bodies, the answer contract and the `http_hooks` config block are
//! still to be written behind it.

use std::sync::Arc;

use crate::runtime::Runtime;

/// `vhost { http_hooks { ... } }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// `on_hls_notify URL-TEMPLATE`.
    pub on_hls_notify: Option<String>,
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
    /// `on_hls`: a segment was closed (never decides).
    Hls {
        /// The publisher.
        req: HookRequest,
        /// Segment duration, seconds.
        duration: f64,
        /// The server's working directory.
        cwd: String,
        /// The segment's file path.
        file: String,
        /// The segment's URL, relative to the playlist.
        url: String,
        /// The playlist's file path.
        m3u8: String,
        /// The playlist's URL.
        m3u8_url: String,
        /// The segment's sequence number.
        seq_no: u64,
    },
}

/// Why a deciding hook refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct HookDenied {
    /// The URL that refused (without its query, which may hold secrets).
    pub url: String,
    /// What it answered, or why the call failed.
    pub reason: String,
}

/// Calls hooks for the whole server.
#[derive(Debug)]
pub struct Hooks {
    #[allow(dead_code)]
    rt: Arc<dyn Runtime>,
}

impl Hooks {
    /// A hook caller on `rt`.
    pub fn new(rt: Arc<dyn Runtime>) -> Self {
        Self { rt }
    }

    /// Runs a deciding event's URLs in order; the first refusal stops the
    /// chain and refuses. Allows when hooks are off or the event has no URL.
    pub async fn check(
        &self,
        config: &HttpHooksConfig,
        event: &HookEvent,
    ) -> Result<(), HookDenied> {
        let _ = (config, event);
        Ok(())
    }

    /// Calls a non-deciding event's URLs in the background; failures are logged.
    pub fn notify(&self, config: &HttpHooksConfig, event: HookEvent) {
        let _ = (config, event);
    }
}
