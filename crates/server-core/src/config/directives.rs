//! From the parse tree to [`Config`]: which directive goes where, and what it accepts.
//!
//! Each block has the directives this server implements, a list of SRS
//! directives it does not implement yet (refused with "not supported yet", so an
//! SRS config never half-works silently), and everything else is unknown. A
//! directive may appear once per block; `vhost` once per name.

use std::collections::HashMap;

use media_core::jitter::JitterMode;

use super::error::{ConfigError, ConfigErrorKind};
use super::model::{
    ApiAuth, Config, ExporterConfig, HlsVhostConfig, HttpApiConfig, HttpRemuxConfig,
    HttpServerConfig, LogTank, PlayConfig, PublishConfig, RawApi, VhostConfig,
};
use super::mount::{MountError, MountTemplate};
use super::parser::Directive;
use super::values::{
    bad, block, endpoints, integer, integer_u32, millis, number, on_off, one, seconds, some, text,
};

/// Smallest `chunk_size` (RTMP spec 5.4.1 default, and SRS's minimum).
pub const MIN_CHUNK_SIZE: u32 = 128;
/// Largest `chunk_size` SRS accepts.
pub const MAX_CHUNK_SIZE: u32 = 65536;
/// Largest `workers` count.
pub const MAX_WORKERS: u32 = 256;
/// Smallest vhost `max_message`: a metadata message or an AVC sequence
/// header must still fit.
const MIN_MAX_MESSAGE: u32 = 4096;

/// Largest `max_connections`.
pub const MAX_CONNECTIONS_LIMIT: u32 = 1_000_000;
/// Largest `gop_cache_max_frames`.
pub const MAX_GOP_CACHE_FRAMES: u64 = 1_000_000;
/// Largest `queue_length`, seconds.
pub const MAX_QUEUE_LENGTH_SECS: f64 = 3600.0;
/// Largest `mw_latency`, ms.
pub const MAX_MW_LATENCY_MS: u64 = 10_000;
/// Largest `mw_msgs` (SRS `SRS_PERF_MW_MSGS`).
pub const MAX_MW_MSGS: u32 = 128;
/// Longest `grace_start_wait`, `grace_drain_timeout` and `grace_final_wait`, ms (a day).
pub const MAX_GRACE_MS: u64 = 86_400_000;
/// Largest `firstpkt_timeout` / `normal_timeout`, ms.
pub const MAX_PUBLISH_TIMEOUT_MS: u64 = 3_600_000;
/// Shortest `mr_latency`, ms.
pub const MIN_MR_LATENCY_MS: u64 = 10;
/// Longest `mr_latency`, ms (SRS's range).
pub const MAX_MR_LATENCY_MS: u64 = 2_000;
/// Shortest `hls_fragment`, seconds.
pub const MIN_HLS_FRAGMENT_SECS: f64 = 0.1;
/// Longest `hls_fragment`, seconds.
pub const MAX_HLS_FRAGMENT_SECS: f64 = 3600.0;
/// Shortest `hls_part_duration` (LL-HLS), seconds.
const MIN_HLS_PART_SECS: f64 = 0.05;
/// Longest `hls_part_duration`: parts stay under the muxer's one-second
/// audio-only fragments, so every fragment is a part.
const MAX_HLS_PART_SECS: f64 = 0.95;
/// Longest `hls_window`, seconds.
pub const MAX_HLS_WINDOW_SECS: f64 = 86_400.0;
/// Longest `hls_dispose`, seconds.
pub const MAX_HLS_DISPOSE_SECS: f64 = 7.0 * 86_400.0;
/// Largest `hls_td_ratio` / `hls_aof_ratio`.
pub const MAX_HLS_RATIO: f64 = 100.0;

/// `srs_log_level` values, chatty to quiet.
pub const LOG_LEVELS: [&str; 5] = ["verbose", "info", "trace", "warn", "error"];

/// Top-level SRS directives not implemented yet.
const ROOT_NOT_SUPPORTED: &[&str] = &[
    "srs_log_level_v2",
    "utc_time",
    "work_dir",
    "asprocess",
    "empty_ip_ok",
    "disable_daemon_for_docker",
    "inotify_auto_reload",
    "auto_reload_for_docker",
    "query_latest_version",
    "first_wait_for_qlv",
    "circuit_breaker",
    "tencentcloud_cls",
    "tencentcloud_apm",
    "heartbeat",
    "stats",
    "stream_caster",
    "rtc_server",
    "srt_server",
    "rtmps",
    "http_stream",
    "in_docker",
    "threads",
    "tcmalloc_release_rate",
];
/// Vhost-level SRS directives not implemented yet.
const VHOST_NOT_SUPPORTED: &[&str] = &[
    "rtc",
    "srt",
    "hds",
    "dash",
    "exec",
    "edge",
    "mode",
    "origin",
    "token_traverse",
    "in_ack_size",
    "out_ack_size",
    "http_static",
    "debug_srs_upnode",
];
const PLAY_NOT_SUPPORTED: &[&str] = &["atc_auto", "send_min_interval", "reduce_sequence_header"];
const PUBLISH_NOT_SUPPORTED: &[&str] = &["parse_sps", "try_annexb_first", "kickoff_for_idle"];
const HLS_NOT_SUPPORTED: &[&str] = &[
    "hls_on_error",
    "hls_storage",
    "hls_mount",
    "hls_ts_floor",
    "hls_acodec",
    "hls_vcodec",
    "hls_ctx",
    "hls_ts_ctx",
    "hls_keys",
    "hls_fragments_per_key",
    "hls_key_file",
    "hls_key_file_path",
    "hls_key_url",
    "hls_dts_directly",
    "hls_recover",
    "hls_continuous",
];
const HTTP_REMUX_NOT_SUPPORTED: &[&str] = &[
    "fast_cache",
    "drop_if_not_match",
    "has_audio",
    "has_video",
    "guess_has_av",
];
const HTTP_API_NOT_SUPPORTED: &[&str] = &["https"];
const HTTP_SERVER_NOT_SUPPORTED: &[&str] = &["https"];

/// HLS template variables the segmenter renders (see `media_core::hls::template`).
const HLS_TEMPLATE_VARS: &[&str] = &[
    "app",
    "stream",
    "seq",
    "timestamp",
    "duration",
    "2006",
    "01",
    "02",
    "15",
    "04",
    "05",
    "999",
];

/// The error for a directive not handled in its block.
fn refuse(d: &Directive, not_supported: &[&str]) -> ConfigError {
    if not_supported.contains(&d.name.as_str()) {
        d.error(ConfigErrorKind::NotSupported(d.name.clone()))
    } else {
        d.error(ConfigErrorKind::UnknownDirective(d.name.clone()))
    }
}

fn not_supported_value(d: &Directive, value: &str) -> ConfigError {
    d.error(ConfigErrorKind::ValueNotSupported {
        directive: d.name.clone(),
        value: value.to_owned(),
    })
}

/// Refuses a second directive with the same key in one block.
#[derive(Default)]
pub(super) struct Seen<'a>(HashMap<String, &'a Directive>);

impl<'a> Seen<'a> {
    /// Refuses `d` if a directive of the same name came before it.
    pub(super) fn name(&mut self, d: &'a Directive) -> Result<(), ConfigError> {
        self.once(d.name.clone(), d)
    }

    fn once(&mut self, key: String, d: &'a Directive) -> Result<(), ConfigError> {
        if let Some(first) = self.0.get(&key) {
            return Err(d.error(ConfigErrorKind::Duplicate {
                directive: key,
                first: first.location(),
            }));
        }
        self.0.insert(key, d);
        Ok(())
    }
}

/// Builds the typed config from a parsed file.
pub(crate) fn build(tree: &[Directive]) -> Result<Config, ConfigError> {
    let mut c = Config::srs_default();
    let mut seen = Seen::default();
    // Vhosts with their own `chunk_size`, if given; the global one is only
    // known once the whole file is read.
    let mut vhosts: Vec<(VhostConfig, Option<u32>)> = Vec::new();
    for d in tree {
        let key = match (d.name.as_str(), d.args.first()) {
            ("vhost", Some(name)) => format!("vhost {name}"),
            _ => d.name.clone(),
        };
        seen.once(key, d)?;
        match d.name.as_str() {
            "listen" => c.listen = endpoints(d)?,
            "max_connections" => c.max_connections = integer_u32(d, 1, MAX_CONNECTIONS_LIMIT)?,
            "max_connections_per_ip" => {
                c.max_connections_per_ip = integer_u32(d, 0, MAX_CONNECTIONS_LIMIT)?;
            }
            "rtmp_reassembly_budget" => {
                c.rtmp_reassembly_budget = integer(d, 0, 1 << 40)?;
                if c.rtmp_reassembly_budget != 0 && c.rtmp_reassembly_budget < 1 << 20 {
                    return Err(bad(d, one(d)?, "0 (automatic) or at least 1048576 bytes"));
                }
            }
            "rtmp_max_connections" => {
                c.rtmp_max_connections = integer_u32(d, 0, MAX_CONNECTIONS_LIMIT)?;
            }
            "workers" => {
                c.workers = match one(d)? {
                    "auto" => None,
                    _ => Some(integer_u32(d, 1, MAX_WORKERS)?),
                }
            }
            "chunk_size" => c.chunk_size = integer_u32(d, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)?,
            "pid" => c.pid = text(d)?.into(),
            "daemon" => {
                if on_off(d)? {
                    // We never fork: run under a supervisor (systemd, docker) instead.
                    return Err(not_supported_value(d, "on"));
                }
            }
            "srs_log_level" => {
                let v = one(d)?;
                if !LOG_LEVELS.contains(&v) {
                    return Err(bad(d, v, "verbose, info, trace, warn or error"));
                }
                c.log_level = v.to_owned();
            }
            "srs_log_file" => c.log_file = text(d)?.into(),
            "ff_log_dir" => c.ff_log_dir = text(d)?.into(),
            "ff_log_level" => {
                let v = one(d)?;
                const LEVELS: &[&str] = &[
                    "quiet", "panic", "fatal", "error", "warning", "info", "verbose", "debug",
                    "trace",
                ];
                if !LEVELS.contains(&v) {
                    return Err(bad(d, v, LEVELS.join(", ")));
                }
                c.ff_log_level = v.to_owned();
            }
            "grace_start_wait" => c.grace_start_wait = millis(d, 0, MAX_GRACE_MS)?,
            "grace_drain_timeout" => c.grace_drain_timeout = millis(d, 0, MAX_GRACE_MS)?,
            "grace_final_wait" => c.grace_final_wait = millis(d, 0, MAX_GRACE_MS)?,
            "force_grace_quit" => c.force_grace_quit = on_off(d)?,
            "reconnect_tcurl" => c.reconnect_tcurl = tc_url(d)?,
            "srs_log_tank" => {
                c.log_tank = match one(d)? {
                    "console" => LogTank::Console,
                    "file" => LogTank::File,
                    v => return Err(bad(d, v, "console or file")),
                }
            }
            "http_api" => c.http_api = http_api(block(d, 0)?)?,
            "http_server" => c.http_server = http_server(block(d, 0)?)?,
            "exporter" => c.exporter = exporter(block(d, 0)?)?,
            "rtmps" => c.rtmps = super::rtmps::rtmps(block(d, 0)?)?,
            "vhost" => {
                let children = block(d, 1)?;
                let name = d.args.first().map(String::as_str).unwrap_or_default();
                if name.is_empty() || name.contains(['/', '?']) {
                    return Err(bad(d, name, "a host name or __defaultVhost__"));
                }
                vhosts.push(vhost(name, children)?);
            }
            _ => return Err(refuse(d, ROOT_NOT_SUPPORTED)),
        }
    }
    c.vhosts = vhosts
        .into_iter()
        .map(|(mut v, chunk)| {
            v.chunk_size = chunk.unwrap_or(c.chunk_size);
            v
        })
        .collect();
    Ok(c)
}

/// `exporter { enabled; listen; label; tag; }` (SRS 5's set).
fn exporter(dirs: &[Directive]) -> Result<ExporterConfig, ConfigError> {
    let mut c = Config::srs_default().exporter;
    let mut seen = Seen::default();
    for d in dirs {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "listen" => c.listen = endpoints(d)?,
            "label" => c.label = one(d)?.to_owned(),
            "tag" => c.tag = one(d)?.to_owned(),
            _ => return Err(refuse(d, &[])),
        }
    }
    Ok(c)
}

fn http_api(dirs: &[Directive]) -> Result<HttpApiConfig, ConfigError> {
    let mut c = Config::srs_default().http_api;
    let mut seen = Seen::default();
    let mut origins_given = None;
    for d in dirs {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "listen" => c.listen = endpoints(d)?,
            "crossdomain" => c.crossdomain = on_off(d)?,
            "max_connections" => c.max_connections = integer_u32(d, 1, MAX_CONNECTIONS_LIMIT)?,
            "allow_origins" => {
                c.allow_origins = allow_origins(d)?;
                origins_given = Some(d);
            }
            "auth" => c.auth = api_auth(d)?,
            "raw_api" => c.raw_api = raw_api(d)?,
            _ => return Err(refuse(d, HTTP_API_NOT_SUPPORTED)),
        }
    }
    if let Some(d) = origins_given.filter(|_| !c.crossdomain) {
        // `crossdomain off` allows no origin; a list beside it says otherwise.
        return Err(bad(
            d,
            &d.args.join(" "),
            "no allow_origins under 'crossdomain off' (which allows no origin at all)",
        ));
    }
    Ok(c)
}

/// `allow_origins ORIGIN...`: web origins as browsers send them in `Origin`
/// (RFC 6454 serialization: `scheme://host[:port]`, no path), lowercased.
fn allow_origins(d: &Directive) -> Result<Vec<String>, ConfigError> {
    let expected = "an origin such as https://console.example.com or http://10.0.0.5:8080 \
                    (scheme, host and port only; omit allow_origins to allow any origin)";
    some(d)?
        .iter()
        .map(|v| {
            let rest = v
                .strip_prefix("http://")
                .or_else(|| v.strip_prefix("https://"))
                .ok_or_else(|| bad(d, v, expected))?;
            let plain = |b: u8| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b);
            if rest.is_empty() || !rest.bytes().all(plain) {
                return Err(bad(d, v, expected));
            }
            Ok(v.to_ascii_lowercase())
        })
        .collect()
}

/// `raw_api { enabled on; allow_reload on; }` (SRS 5's set: its older
/// `allow_query` and `allow_update` are gone there and refused here).
fn raw_api(d: &Directive) -> Result<RawApi, ConfigError> {
    let mut c = RawApi::default();
    let mut seen = Seen::default();
    for d in block(d, 0)? {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "allow_reload" => c.allow_reload = on_off(d)?,
            _ => return Err(refuse(d, &[])),
        }
    }
    Ok(c)
}

/// `auth { enabled; username; password; }`: credentials when enabled.
fn api_auth(d: &Directive) -> Result<Option<ApiAuth>, ConfigError> {
    let (mut enabled, mut username, mut password) = (false, None, None);
    let mut seen = Seen::default();
    for d in block(d, 0)? {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "enabled" => enabled = on_off(d)?,
            "username" => {
                let name = text(d)?;
                if name.contains(':') {
                    return Err(bad(d, &name, "a name without ':'"));
                }
                username = Some(name);
            }
            "password" => password = Some(text(d)?),
            _ => return Err(refuse(d, &[])),
        }
    }
    match (enabled, username, password) {
        (false, _, _) => Ok(None),
        (true, Some(username), Some(password)) => Ok(Some(ApiAuth { username, password })),
        _ => Err(d.error(ConfigErrorKind::Missing {
            block: "auth".into(),
            needs: "both 'username' and 'password' when enabled",
        })),
    }
}

fn http_server(dirs: &[Directive]) -> Result<HttpServerConfig, ConfigError> {
    let mut c = Config::srs_default().http_server;
    let mut seen = Seen::default();
    for d in dirs {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "enabled" => c.enabled = on_off(d)?,
            "listen" => c.listen = endpoints(d)?,
            "dir" => c.dir = text(d)?.into(),
            "crossdomain" => c.crossdomain = on_off(d)?,
            "max_connections" => c.max_connections = integer_u32(d, 0, MAX_CONNECTIONS_LIMIT)?,
            "console" => c.console = super::console::console(d)?,
            _ => return Err(refuse(d, HTTP_SERVER_NOT_SUPPORTED)),
        }
    }
    Ok(c)
}

/// A vhost and its explicit `chunk_size`, if any.
fn vhost(name: &str, dirs: &[Directive]) -> Result<(VhostConfig, Option<u32>), ConfigError> {
    let mut v = VhostConfig::srs_default(name, MAX_CHUNK_SIZE);
    let mut chunk = None;
    let mut mw_msgs_given = false;
    let mut seen = Seen::default();
    for d in dirs {
        // Several ingests and transcodes, one per id or scope.
        let key = match (d.name.as_str(), d.args.first()) {
            ("ingest" | "transcode", Some(arg)) => format!("{} {arg}", d.name),
            _ => d.name.clone(),
        };
        seen.once(key, d)?;
        match d.name.as_str() {
            "enabled" => v.enabled = on_off(d)?,
            "ingest" => v.ingests.push(super::ffmpeg::ingest(d)?),
            "transcode" => v.transcodes.push(super::ffmpeg::transcode(d)?),
            "chunk_size" => chunk = Some(integer_u32(d, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)?),
            "max_message" => {
                v.max_message = integer_u32(
                    d,
                    MIN_MAX_MESSAGE,
                    rtmp_proto::chunk::DEFAULT_MAX_MESSAGE_SIZE,
                )?;
            }
            "tcp_nodelay" => v.tcp_nodelay = on_off(d)?,
            "min_latency" => v.min_latency = on_off(d)?,
            "play" => {
                let (play, given) = play(block(d, 0)?)?;
                v.play = play;
                mw_msgs_given = given;
            }
            "publish" => v.publish = publish(block(d, 0)?)?,
            "hls" => v.hls = hls(block(d, 0)?)?,
            "dvr" => v.dvr = super::dvr::dvr(block(d, 0)?)?,
            "vod" => v.vod = super::vod::vod(block(d, 0)?)?,
            "http_remux" => v.http_remux = http_remux(block(d, 0)?)?,
            "http_hooks" => v.http_hooks = super::hooks::http_hooks(block(d, 0)?)?,
            "forward" => v.forward = super::forward::forward(block(d, 0)?)?,
            "cluster" => v.cluster = super::cluster::cluster(block(d, 0)?)?,
            "security" => v.security = super::access::security(block(d, 0)?)?,
            "refer" => v.refer = super::access::refer(block(d, 0)?)?,
            "bandcheck" => v.bandcheck = super::bandcheck::bandcheck(d, block(d, 0)?)?,
            _ => return Err(refuse(d, VHOST_NOT_SUPPORTED)),
        }
    }
    if v.min_latency && !mw_msgs_given {
        // SRS: SRS_PERF_MW_MIN_MSGS_REALTIME, send as soon as anything is queued.
        v.play.mw_msgs = 0;
    }
    Ok((v, chunk))
}

/// `play { }` and whether `mw_msgs` was given.
fn play(dirs: &[Directive]) -> Result<(PlayConfig, bool), ConfigError> {
    let mut p = PlayConfig::srs_default();
    let mut mw_msgs_given = false;
    let mut seen = Seen::default();
    for d in dirs {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "gop_cache" => p.gop_cache = on_off(d)?,
            "gop_cache_max_frames" => {
                let n = integer(d, 0, MAX_GOP_CACHE_FRAMES)?;
                p.gop_cache_max_frames =
                    usize::try_from(n).map_err(|_| bad(d, &n.to_string(), "a smaller number"))?;
            }
            "queue_length" => p.queue_length = seconds(d, 0.0, MAX_QUEUE_LENGTH_SECS)?,
            "time_jitter" => {
                let v = one(d)?;
                p.time_jitter = v
                    .parse::<JitterMode>()
                    .map_err(|_| bad(d, v, "full, zero or off"))?;
            }
            "mix_correct" => {
                if on_off(d)? {
                    return Err(not_supported_value(d, "on"));
                }
                p.mix_correct = false;
            }
            "atc" => p.atc = on_off(d)?,
            "mw_latency" => p.mw_latency = millis(d, 0, MAX_MW_LATENCY_MS)?,
            "mw_msgs" => {
                p.mw_msgs = integer_u32(d, 0, MAX_MW_MSGS)?;
                mw_msgs_given = true;
            }
            _ => return Err(refuse(d, PLAY_NOT_SUPPORTED)),
        }
    }
    Ok((p, mw_msgs_given))
}

fn publish(dirs: &[Directive]) -> Result<PublishConfig, ConfigError> {
    let mut p = PublishConfig::srs_default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "firstpkt_timeout" => p.firstpkt_timeout = millis(d, 1, MAX_PUBLISH_TIMEOUT_MS)?,
            "normal_timeout" => p.normal_timeout = millis(d, 1, MAX_PUBLISH_TIMEOUT_MS)?,
            "mr" => p.mr = on_off(d)?,
            "mr_latency" => p.mr_latency = millis(d, MIN_MR_LATENCY_MS, MAX_MR_LATENCY_MS)?,
            _ => return Err(refuse(d, PUBLISH_NOT_SUPPORTED)),
        }
    }
    Ok(p)
}

fn hls(dirs: &[Directive]) -> Result<HlsVhostConfig, ConfigError> {
    let mut h = HlsVhostConfig::srs_default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "enabled" => h.enabled = on_off(d)?,
            "hls_path" => h.path = text(d)?.into(),
            "hls_fragment" => {
                h.segmenter.fragment = seconds(d, MIN_HLS_FRAGMENT_SECS, MAX_HLS_FRAGMENT_SECS)?;
            }
            "hls_td_ratio" => h.segmenter.td_ratio = number(d, 1.0, MAX_HLS_RATIO)?,
            "hls_aof_ratio" => h.segmenter.aof_ratio = number(d, 1.0, MAX_HLS_RATIO)?,
            "hls_window" => h.segmenter.window = seconds(d, 0.0, MAX_HLS_WINDOW_SECS)?,
            "hls_wait_keyframe" => h.segmenter.wait_keyframe = on_off(d)?,
            "hls_cleanup" => h.segmenter.cleanup = on_off(d)?,
            "hls_dispose" => h.segmenter.dispose = seconds(d, 0.0, MAX_HLS_DISPOSE_SECS)?,
            "hls_m3u8_file" => h.segmenter.m3u8_file = hls_template(d, false)?,
            "hls_ts_file" => h.segmenter.ts_file = hls_template(d, true)?,
            "hls_use_fmp4" => h.segmenter.use_fmp4 = on_off(d)?,
            "hls_fmp4_fallback" => h.segmenter.fmp4_fallback = on_off(d)?,
            "hls_fmp4_file" => h.segmenter.fmp4_file = hls_template(d, true)?,
            "hls_init_file" => h.segmenter.init_file = hls_template(d, false)?,
            "hls_ll" => h.segmenter.low_latency = on_off(d)?,
            "hls_part_duration" => {
                h.segmenter.part_duration = seconds(d, MIN_HLS_PART_SECS, MAX_HLS_PART_SECS)?;
            }
            "hls_entry_prefix" => h.segmenter.entry_prefix = Some(entry_prefix(d)?),
            "hls_nb_notify" => {
                h.nb_notify = integer_u32(d, 0, crate::hooks::MAX_HLS_NB_NOTIFY)?;
            }
            _ => return Err(refuse(d, HLS_NOT_SUPPORTED)),
        }
    }
    Ok(h)
}

/// An `hls_entry_prefix`: it is written into every playlist line that names a
/// segment, so whitespace or a control character (a line break would forge
/// playlist tags) is refused rather than passed on to players.
fn entry_prefix(d: &Directive) -> Result<String, ConfigError> {
    let v = text(d)?;
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            d,
            &v,
            "a URL prefix without spaces or control characters",
        ));
    }
    Ok(v)
}

/// `reconnect_tcurl`: an absolute or relative URI reference (Enhanced RTMP
/// v2 allows both) sent as is to clients, so no spaces or control characters
/// and at most [`MAX_RECONNECT_TCURL`] bytes.
fn tc_url(d: &Directive) -> Result<String, ConfigError> {
    let v = text(d)?;
    if v.len() > MAX_RECONNECT_TCURL || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            d,
            &v,
            format!(
                "a URL of at most {MAX_RECONNECT_TCURL} bytes without spaces or control characters"
            ),
        ));
    }
    Ok(v)
}

/// Longest `reconnect_tcurl`: a URL, not a payload.
const MAX_RECONNECT_TCURL: usize = 1024;

/// An `hls_m3u8_file` / `hls_ts_file` template. Every `[...]` must be a
/// variable the segmenter renders; a segment template must contain `[seq]` or
/// `[timestamp]`, or every segment would overwrite the previous one.
fn hls_template(d: &Directive, segment: bool) -> Result<String, ConfigError> {
    let v = text(d)?;
    if !crate::fs::stays_below(&v) {
        return Err(bad(
            d,
            &v,
            "a relative path below hls_path (no leading / or ..)",
        ));
    }
    let mut rest = v.as_str();
    let mut unique = false;
    while let Some(open) = rest.find('[') {
        let after_open = rest.get(open.saturating_add(1)..).unwrap_or_default();
        let Some(close) = after_open.find(']') else {
            return Err(bad(d, &v, "a path template with closed [variables]"));
        };
        let name = after_open.get(..close).unwrap_or_default();
        if name == "vhost" {
            return Err(not_supported_value(d, &v));
        }
        if !HLS_TEMPLATE_VARS.contains(&name) || (!segment && name == "duration") {
            return Err(bad(
                d,
                &v,
                format!("known variables only ('[{name}]' is not one)"),
            ));
        }
        unique |= name == "seq" || name == "timestamp";
        rest = after_open
            .get(close.saturating_add(1)..)
            .unwrap_or_default();
    }
    if segment && !unique {
        return Err(bad(d, &v, "a template containing [seq] or [timestamp]"));
    }
    Ok(v)
}

fn http_remux(dirs: &[Directive]) -> Result<HttpRemuxConfig, ConfigError> {
    let mut r = HttpRemuxConfig::srs_default();
    let mut seen = Seen::default();
    for d in dirs {
        seen.once(d.name.clone(), d)?;
        match d.name.as_str() {
            "enabled" => r.enabled = on_off(d)?,
            "mount" => {
                let v = one(d)?;
                r.mount = MountTemplate::parse(v).map_err(|e| match e {
                    MountError::UnsupportedExtension(_) => not_supported_value(d, v),
                    MountError::Invalid(what) => bad(d, v, what),
                })?;
            }
            _ => return Err(refuse(d, HTTP_REMUX_NOT_SUPPORTED)),
        }
    }
    Ok(r)
}
