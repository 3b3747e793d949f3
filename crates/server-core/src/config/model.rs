//! The typed config: SRS's directive names, meanings, units and defaults.
//!
//! Every field is a directive this server acts on. Where a directive is
//! absent, the field holds SRS's default for it (see SRS `conf/full.conf`);
//! those are the `*::srs_default()` values. [`Config::default`] is different:
//! it is the embedded default config ([`DEFAULT_CONFIG`](super::DEFAULT_CONFIG)),
//! which turns on the HTTP server, the API, HLS and HTTP-FLV.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use media_core::hls::HlsConfig;
use media_core::jitter::JitterMode;

use super::mount::MountTemplate;
use crate::access::{ReferConfig, SecurityConfig};
use crate::hooks::HttpHooksConfig;

/// The vhost used when a client names no vhost, or one that is not configured.
pub const DEFAULT_VHOST: &str = "__defaultVhost__";

/// Where log lines go (SRS `srs_log_tank`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTank {
    /// Standard error.
    Console,
    /// `srs_log_file`.
    File,
}

/// The whole server config.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// RTMP listen addresses (`listen`); a bare port means `0.0.0.0:PORT`.
    pub listen: Vec<SocketAddr>,
    /// Connections beyond this are refused (`max_connections`, default 1000).
    pub max_connections: u32,
    /// Connections one client may hold open at once, over all listeners; an
    /// IPv6 client counts by its /64 (`max_connections_per_ip`, default 0:
    /// no cap, as SRS, which has no such limit). See [`crate::access::per_ip`].
    pub max_connections_per_ip: u32,
    /// The RTMP listeners' own connection budget (`rtmp_max_connections`,
    /// default 0: none but `max_connections`), counted in `max_connections`
    /// too. Below `max_connections`, a flood on the RTMP port leaves room
    /// for HTTP players.
    pub rtmp_max_connections: u32,
    /// Most bytes all RTMP connections' partial messages may hold together
    /// (`rtmp_reassembly_budget`, default 0: an eighth of the machine's
    /// memory, at least 64 MiB). Past it, a connection growing a large
    /// message is closed. Not in SRS.
    pub rtmp_reassembly_budget: u64,
    /// Outgoing RTMP chunk size in bytes (`chunk_size`, default 60000).
    pub chunk_size: u32,
    /// Threads running connections (`workers`, `auto` or a count; default
    /// `auto`): `None` lets the runtime choose (tokio: one per core; smol: one).
    pub workers: Option<u32>,
    /// Pid file (`pid`, default `./objs/rtmp-server.pid`).
    pub pid: PathBuf,
    /// SRS log level name (`srs_log_level`, default `trace`): one of
    /// `verbose`, `info`, `trace`, `warn`, `error`; mapped onto tracing levels
    /// by `crate::logging::filter_for`.
    pub log_level: String,
    /// Log destination (`srs_log_tank`, default `file`).
    pub log_tank: LogTank,
    /// Log file when `log_tank` is `file` (`srs_log_file`, default `./objs/rtmp-server.log`).
    pub log_file: PathBuf,
    /// Graceful quit (SIGQUIT), step 1: keep accepting for this long, so a
    /// load balancer (or Kubernetes, which signals and updates its Service
    /// at once) stops sending clients first (`grace_start_wait`, ms, default
    /// 2300, as SRS).
    pub grace_start_wait: Duration,
    /// Graceful quit, step 2: with the listeners closed, wait at most this
    /// long for publishers and players to finish by themselves; those left
    /// are then closed (`grace_drain_timeout`, ms, default 30000; SRS waits
    /// without limit).
    pub grace_drain_timeout: Duration,
    /// Graceful quit, last step: once every client is gone and HLS segments
    /// are closed, wait this long before exiting (`grace_final_wait`, ms,
    /// default 3200, as SRS).
    pub grace_final_wait: Duration,
    /// Treat SIGTERM as a graceful quit too, as SRS does for Kubernetes, which
    /// stops pods with SIGTERM (`force_grace_quit`, default off). SIGINT stays
    /// a fast quit.
    pub force_grace_quit: bool,
    /// The `tcUrl` an Enhanced RTMP reconnect request names, sent on a
    /// graceful quit and when a reload removes a client's vhost
    /// (`reconnect_tcurl`, default empty: none, so the client reconnects to
    /// the URL it used). `[vhost]` and `[app]` are replaced by the client's.
    pub reconnect_tcurl: String,
    /// The HTTP API (`http_api { }`).
    pub http_api: HttpApiConfig,
    /// The HTTP server for HLS, HTTP-FLV and static files (`http_server { }`).
    pub http_server: HttpServerConfig,
    /// Prometheus metrics on their own port (`exporter { }`).
    pub exporter: ExporterConfig,
    /// RTMP over TLS (`rtmps { }`, SRS 7).
    pub rtmps: super::rtmps::RtmpsConfig,
    /// Where ffmpeg's output goes, one file per process (`ff_log_dir`,
    /// default `./objs`; `/dev/null` discards it).
    pub ff_log_dir: PathBuf,
    /// ffmpeg's `-loglevel` for ingests (`ff_log_level`, default `info`).
    pub ff_log_level: String,
    /// Virtual hosts in file order (`vhost NAME { }`).
    pub vhosts: Vec<VhostConfig>,
}

/// `http_api { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpApiConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `listen` (default `1985`, i.e. `0.0.0.0:1985`).
    pub listen: Vec<SocketAddr>,
    /// Answer with `Access-Control-Allow-Origin: *` (`crossdomain`, default on).
    pub crossdomain: bool,
    /// With `crossdomain on`, the only origins (`scheme://host[:port]`,
    /// lowercase) browsers are told may call the API (`allow_origins`,
    /// default none: any origin, as SRS).
    pub allow_origins: Vec<String>,
    /// Credentials every API request must carry (`auth { }`, default none).
    pub auth: Option<ApiAuth>,
    /// The API listeners' own connection budget (`max_connections`, default
    /// 64). API connections count here only, not in the global
    /// `max_connections` (SRS counts them there, so an RTMP flood locks the
    /// API out); on a port shared with `http_server` they count as the HTTP
    /// server's.
    pub max_connections: u32,
    /// SRS's HTTP RPC (`raw_api { }`, default off).
    pub raw_api: RawApi,
}

/// `exporter { }` (SRS 5): `GET /metrics` in the Prometheus format on its own
/// listener, with SRS's metric names (see `http::metrics`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExporterConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `listen` (default `9972`, i.e. `0.0.0.0:9972`, as SRS).
    pub listen: Vec<SocketAddr>,
    /// `label`: added as a label to `srs_build_info` (default none).
    pub label: String,
    /// `tag`: added as a label to `srs_build_info` (default none).
    pub tag: String,
}

/// `http_api { raw_api { enabled on; allow_reload on; } }`: SRS's HTTP RPC,
/// `GET /api/v1/raw?rpc=reload` reloads the config file. Both default off:
/// whoever reaches the API (and holds its `auth` credentials, when set) may
/// then reload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawApi {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `allow_reload` (default off).
    pub allow_reload: bool,
}

/// `http_api { auth { enabled on; username U; password P; } }` (SRS 5): HTTP
/// Basic credentials, without which the API answers `401`, so kicking clients
/// and reading their addresses is not open to anyone who can reach the port.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiAuth {
    /// `username` (no `:`, which Basic credentials cannot hold in a name).
    pub username: String,
    /// `password`.
    pub password: String,
}

impl std::fmt::Debug for ApiAuth {
    // The password stays out of logs and `-t` output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// `http_server { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpServerConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// `listen` (default `8080`, i.e. `0.0.0.0:8080`).
    pub listen: Vec<SocketAddr>,
    /// Document root (`dir`, default `./objs/nginx/html`).
    pub dir: PathBuf,
    /// Answer with `Access-Control-Allow-Origin: *` (`crossdomain`, default on).
    pub crossdomain: bool,
    /// The HTTP server listeners' own connection budget (`max_connections`,
    /// default 0: none but the global `max_connections`, which counts them
    /// too).
    pub max_connections: u32,
    /// The web console (`console { }`, default on at `/console/`).
    pub console: super::console::ConsoleConfig,
}

/// `vhost NAME { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VhostConfig {
    /// The name (`__defaultVhost__` for the default one).
    pub name: String,
    /// `enabled` (default on); clients of a disabled vhost are refused.
    pub enabled: bool,
    /// Outgoing RTMP chunk size (`chunk_size`, default the global `chunk_size`).
    pub chunk_size: u32,
    /// Largest RTMP message a client of this vhost may send, in bytes
    /// (`max_message`, nginx-rtmp's directive; default 16777215, all the
    /// wire can describe, as SRS accepts). Also bounds what one connection's
    /// partial messages hold: twice this, at most 32 MiB.
    pub max_message: u32,
    /// Set `TCP_NODELAY` on client sockets (`tcp_nodelay`, default off).
    pub tcp_nodelay: bool,
    /// Favour latency over throughput (`min_latency`, default off). When on,
    /// `play.mw_msgs` defaults to 0 as in SRS.
    pub min_latency: bool,
    /// `play { }`.
    pub play: PlayConfig,
    /// `publish { }`.
    pub publish: PublishConfig,
    /// `hls { }`.
    pub hls: HlsVhostConfig,
    /// `dvr { }`: recording to files.
    pub dvr: super::DvrConfig,
    /// `vod { }`: files played on demand over RTMP and HLS.
    pub vod: super::VodConfig,
    /// `forward { }`: push every stream to other servers.
    pub forward: crate::forward::ForwardConfig,
    /// `cluster { }`: an edge pulls its streams from an origin.
    pub cluster: crate::edge::ClusterConfig,
    /// `http_remux { }` (HTTP-FLV).
    pub http_remux: HttpRemuxConfig,
    /// `http_hooks { }`: callbacks that admit clients and hear what happens.
    pub http_hooks: HttpHooksConfig,
    /// `security { }`: who may publish and play, by address.
    pub security: SecurityConfig,
    /// `refer { }`: who may connect, publish and play, by page.
    pub refer: ReferConfig,
    /// `bandcheck { }`: connects are bandwidth checks.
    pub bandcheck: crate::bandcheck::BandcheckConfig,
    /// `ingest ID { }` blocks: ffmpeg publishing a source into this vhost.
    pub ingests: Vec<crate::ffmpeg::IngestConfig>,
    /// `transcode [SCOPE] { }` blocks: ffmpeg re-encoding published streams.
    pub transcodes: Vec<crate::ffmpeg::TranscodeConfig>,
}

/// `play { }`: delivery to players.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayConfig {
    /// Send the last GOP to new players (`gop_cache`, default on).
    pub gop_cache: bool,
    /// Messages in the cached GOP at most; 0 = no frame limit
    /// (`gop_cache_max_frames`, default 2500).
    pub gop_cache_max_frames: usize,
    /// A player's queue may hold this much media before old GOPs are dropped
    /// (`queue_length`, seconds, default 30).
    pub queue_length: Duration,
    /// Timestamp correction (`time_jitter`: full, zero, off; default full).
    pub time_jitter: JitterMode,
    /// Interleave audio and video strictly (`mix_correct`). Only `off` is
    /// accepted for now; `on` is refused as not supported.
    pub mix_correct: bool,
    /// Absolute time: deliver the publisher's timestamps as they are (`atc`,
    /// default off). When on, time correction is off whatever `time_jitter`
    /// says, as in SRS; see [`PlayConfig::effective_jitter`].
    pub atc: bool,
    /// Merged-write interval for players (`mw_latency`, ms, default 350).
    pub mw_latency: Duration,
    /// Merged-write minimum message count (`mw_msgs`, default 8; 0 with `min_latency on`).
    pub mw_msgs: u32,
}

/// `publish { }`: what is expected of publishers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishConfig {
    /// The first media message must arrive within this (`firstpkt_timeout`, ms, default 20000).
    pub firstpkt_timeout: Duration,
    /// Later, silence longer than this drops the publisher (`normal_timeout`, ms, default 5000).
    pub normal_timeout: Duration,
    /// Merged read (`mr`, default off): once a publisher's socket is empty,
    /// sleep `mr_latency` before reading again, so each wakeup takes many
    /// messages. Fewer wakeups per publisher, for up to `mr_latency` more delay.
    pub mr: bool,
    /// The merged-read wait (`mr_latency`, ms, default 350).
    pub mr_latency: Duration,
}

/// `hls { }`: where the files go, and the segmenter's own options, which are
/// `media_core::hls::HlsConfig` field for field (SRS's seconds in the file,
/// [`Duration`] there).
#[derive(Debug, Clone, PartialEq)]
pub struct HlsVhostConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// Root directory of the playlists and segments (`hls_path`, default `./objs/nginx/html`).
    pub path: PathBuf,
    /// `hls_fragment`, `hls_td_ratio`, `hls_aof_ratio`, `hls_window`,
    /// `hls_wait_keyframe`, `hls_cleanup`, `hls_dispose`, `hls_m3u8_file`,
    /// `hls_ts_file` and `hls_entry_prefix`.
    pub segmenter: HlsConfig,
    /// Body bytes read from each `on_hls_notify` answer (`hls_nb_notify`,
    /// default 64; at most 65536).
    pub nb_notify: u32,
}

/// `http_remux { }`: HTTP-FLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRemuxConfig {
    /// `enabled` (default off).
    pub enabled: bool,
    /// URL path template (`mount`, default `[vhost]/[app]/[stream].flv`).
    pub mount: MountTemplate,
}

impl Config {
    /// The values SRS uses for a config file without any directive (no vhost,
    /// so every client is refused). The starting point of parsing.
    pub fn srs_default() -> Self {
        Self {
            listen: vec![any_v4(1935)],
            max_connections: 1000,
            max_connections_per_ip: 0,
            rtmp_max_connections: 0,
            rtmp_reassembly_budget: 0,
            workers: None,
            chunk_size: 60000,
            pid: PathBuf::from("./objs/rtmp-server.pid"),
            log_level: "trace".to_owned(),
            log_tank: LogTank::File,
            log_file: PathBuf::from("./objs/rtmp-server.log"),
            grace_start_wait: Duration::from_millis(2300),
            grace_drain_timeout: Duration::from_millis(30_000),
            grace_final_wait: Duration::from_millis(3200),
            force_grace_quit: false,
            reconnect_tcurl: String::new(),
            http_api: HttpApiConfig {
                enabled: false,
                listen: vec![any_v4(1985)],
                crossdomain: true,
                allow_origins: Vec::new(),
                auth: None,
                max_connections: 64,
                raw_api: RawApi::default(),
            },
            http_server: HttpServerConfig {
                enabled: false,
                listen: vec![any_v4(8080)],
                dir: PathBuf::from("./objs/nginx/html"),
                crossdomain: true,
                max_connections: 0,
                console: super::console::ConsoleConfig::default(),
            },
            exporter: ExporterConfig {
                enabled: false,
                listen: vec![any_v4(9972)],
                label: String::new(),
                tag: String::new(),
            },
            rtmps: super::rtmps::RtmpsConfig::srs_default(),
            ff_log_dir: PathBuf::from("./objs"),
            ff_log_level: "info".to_owned(),
            vhosts: Vec::new(),
        }
    }

    /// The settings for vhost `name`: that vhost if configured, else
    /// `__defaultVhost__`, else a disabled vhost (SRS refuses clients of an
    /// unknown vhost when there is no default one).
    pub fn vhost(&self, name: &str) -> &VhostConfig {
        self.find_vhost(name)
            .or_else(|| self.find_vhost(DEFAULT_VHOST))
            .unwrap_or_else(|| unconfigured_vhost())
    }

    /// The vhost configured under exactly `name`, if any.
    pub fn find_vhost(&self, name: &str) -> Option<&VhostConfig> {
        self.vhosts.iter().find(|v| v.name == name)
    }
}

impl Default for Config {
    /// The embedded default config ([`DEFAULT_CONFIG`](super::DEFAULT_CONFIG)):
    /// RTMP on 1935, HTTP server (HLS, HTTP-FLV, files) on 8080, HTTP API on
    /// 1985, logs to the console, and `__defaultVhost__` with HLS and HTTP-FLV on.
    fn default() -> Self {
        let mut vhost = VhostConfig::srs_default(DEFAULT_VHOST, 60000);
        vhost.hls.enabled = true;
        vhost.http_remux.enabled = true;
        let mut config = Config::srs_default();
        config.log_tank = LogTank::Console;
        config.http_api.enabled = true;
        config.http_server.enabled = true;
        config.vhosts.push(vhost);
        config
    }
}

impl VhostConfig {
    /// A vhost called `name` with every directive at SRS's default.
    pub fn srs_default(name: &str, chunk_size: u32) -> Self {
        Self {
            name: name.to_owned(),
            enabled: true,
            chunk_size,
            max_message: rtmp_proto::chunk::DEFAULT_MAX_MESSAGE_SIZE,
            tcp_nodelay: false,
            min_latency: false,
            play: PlayConfig::srs_default(),
            publish: PublishConfig::srs_default(),
            hls: HlsVhostConfig::srs_default(),
            dvr: super::DvrConfig::srs_default(),
            vod: super::VodConfig::srs_default(),
            forward: crate::forward::ForwardConfig::default(),
            cluster: crate::edge::ClusterConfig::default(),
            http_remux: HttpRemuxConfig::srs_default(),
            http_hooks: HttpHooksConfig::default(),
            security: SecurityConfig::default(),
            refer: ReferConfig::default(),
            bandcheck: crate::bandcheck::BandcheckConfig::default(),
            ingests: Vec::new(),
            transcodes: Vec::new(),
        }
    }
}

impl PlayConfig {
    /// SRS's defaults.
    pub fn srs_default() -> Self {
        Self {
            gop_cache: true,
            gop_cache_max_frames: 2500,
            queue_length: Duration::from_secs(30),
            time_jitter: JitterMode::Full,
            mix_correct: false,
            atc: false,
            mw_latency: Duration::from_millis(350),
            mw_msgs: 8,
        }
    }

    /// The correction to apply: `Off` under `atc on`, else `time_jitter`.
    pub fn effective_jitter(&self) -> JitterMode {
        if self.atc {
            JitterMode::Off
        } else {
            self.time_jitter
        }
    }
}

impl PublishConfig {
    /// SRS's defaults.
    pub fn srs_default() -> Self {
        Self {
            firstpkt_timeout: Duration::from_millis(20_000),
            normal_timeout: Duration::from_millis(5_000),
            mr: false,
            mr_latency: Duration::from_millis(350),
        }
    }
}

impl HlsVhostConfig {
    /// SRS's defaults (`hls_dispose` is 120 s there, not the segmenter's 0).
    pub fn srs_default() -> Self {
        Self {
            enabled: false,
            path: PathBuf::from("./objs/nginx/html"),
            segmenter: HlsConfig {
                dispose: Duration::from_secs(120),
                ..HlsConfig::default()
            },
            nb_notify: crate::hooks::DEFAULT_HLS_NB_NOTIFY,
        }
    }
}

impl HttpRemuxConfig {
    /// SRS's defaults.
    pub fn srs_default() -> Self {
        Self {
            enabled: false,
            mount: MountTemplate::srs_default(),
        }
    }
}

fn any_v4(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))
}

/// What [`Config::vhost`] returns when neither the vhost nor the default is
/// configured: SRS defaults, disabled.
fn unconfigured_vhost() -> &'static VhostConfig {
    static VHOST: OnceLock<VhostConfig> = OnceLock::new();
    VHOST.get_or_init(|| {
        let mut v = VhostConfig::srs_default(DEFAULT_VHOST, 60000);
        v.enabled = false;
        v
    })
}
