//! A vhost's settings, resolved from the config into the values the hot paths use.
//!
//! The config module keeps SRS's names, units and text; this is the same
//! information after validation, in the types connections and sinks consume.

use std::path::PathBuf;
use std::time::Duration;

use media_core::gop::GopConfig;
use media_core::hls::HlsConfig;
use media_core::jitter::JitterMode;

use crate::access::{ReferConfig, SecurityConfig};
use crate::config::MountTemplate;
use crate::hooks::HttpHooksConfig;
use crate::hub::{MergeRule, SourceOptions};

/// Everything a connection or sink needs to know about its vhost.
#[derive(Debug, Clone)]
pub struct VhostSettings {
    /// The vhost name (`__defaultVhost__` for the default).
    pub name: String,
    /// Outgoing RTMP chunk size.
    pub chunk_size: u32,
    /// Disable Nagle on player sockets.
    pub tcp_nodelay: bool,
    /// GOP cache bounds.
    pub gop: GopConfig,
    /// Timestamp correction.
    pub jitter: JitterMode,
    /// SRS `atc`: players get the publisher's absolute timestamps; off, each
    /// player's timeline starts at 0 when it joins.
    pub atc: bool,
    /// Per-player queue bound (SRS `queue_length`).
    pub queue_span: Duration,
    /// Media time merged into one write to a player (SRS `mw_latency`).
    pub mw_latency: Duration,
    /// A player is written to only when more than this many messages wait (SRS `mw_msgs`).
    pub mw_msgs: u32,
    /// A publisher must send its first media within this.
    pub firstpkt_timeout: Duration,
    /// A publisher silent for this long is dropped.
    pub normal_timeout: Duration,
    /// SRS's merged read (`mr on`; never with `min_latency on`): read what a
    /// publisher has already sent, and once its socket is empty sleep this
    /// long instead of waking for each message.
    pub merged_read: Option<Duration>,
    /// HLS output, when enabled.
    pub hls: Option<HlsSettings>,
    /// Recording (`dvr`), when enabled.
    pub dvr: Option<crate::config::DvrConfig>,
    /// Files played on demand (`vod`), when enabled.
    pub vod: Option<crate::config::VodConfig>,
    /// HTTP-FLV mount (e.g. `[vhost]/[app]/[stream].flv`), when `http_remux` is enabled.
    pub flv_mount: Option<MountTemplate>,
    /// Forwarding to other servers (`forward`), when enabled.
    pub forward: Option<crate::forward::ForwardConfig>,
    /// Pulling from an origin (`cluster { mode remote; }`), on an edge.
    pub edge: Option<crate::edge::ClusterConfig>,
    /// Callbacks (`http_hooks`).
    pub hooks: HttpHooksConfig,
    /// Address rules (`security`).
    pub security: SecurityConfig,
    /// Page rules (`refer`).
    pub refer: ReferConfig,
    /// `transcode` blocks (the transcode output picks those enabled for a stream).
    pub transcodes: Vec<crate::ffmpeg::TranscodeConfig>,
}

/// HLS output for a vhost.
#[derive(Debug, Clone)]
pub struct HlsSettings {
    /// Root directory of the m3u8/ts files.
    pub path: PathBuf,
    /// The segmenter options.
    pub config: HlsConfig,
}

impl VhostSettings {
    /// The merged-write rule for this vhost's players (`mw_latency`, `mw_msgs`),
    /// RTMP and HTTP-FLV alike.
    pub fn merge_rule(&self) -> MergeRule {
        MergeRule {
            min_span_ms: u64::try_from(self.mw_latency.as_millis()).unwrap_or(u64::MAX),
            min_msgs: self.mw_msgs,
        }
    }

    /// Options for a new source on this vhost.
    pub fn source_options(&self) -> SourceOptions {
        SourceOptions {
            gop: self.gop.clone(),
            jitter: self.jitter,
            atc: self.atc,
            queue_span_ms: self.queue_span.as_millis() as u64,
        }
    }
}
