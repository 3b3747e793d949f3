//! `GET /metrics` on the exporter's listener (`exporter { }`, SRS 5's
//! `SrsGoApiMetrics`): Prometheus metrics, encoded by `prometheus-client`.
//!
//! SRS's series, with its names, so SRS Grafana dashboards work:
//! `srs_build_info` (labels `server`, `service`, `pid`, `build_date`, `major`,
//! `version`, `code`, plus `label` and `tag` when configured), `srs_cpu_percent`
//! (this process's share of the machine's CPU time since the previous scrape,
//! in percent), `srs_memory` (resident set size in KiB; SRS's help text says
//! MB but its value is pages × 4, KiB), `srs_send_bytes_total`,
//! `srs_receive_bytes_total` (bytes moved by the clients connected now, as the
//! summaries API's `srs_send_bytes`/`srs_recv_bytes`, so they fall when a client
//! leaves, as SRS's do), `srs_streams` (streams being published), `srs_clients`
//! (connected clients), `srs_clients_total` (clients ever connected; typed
//! gauge, see [`render`]), `srs_clients_errs_total` (RTMP connections that
//! ended in an error, as SRS's `on_disconnect` counts them; closes by the
//! peer or by a kick are not errors). `srs_node_uname_info` carries uname(2)'s five fields as labels.
//!
//! Per stream, which SRS lacks (labels `vhost`, `app`, `stream`):
//! `srs_stream_clients`, `srs_stream_players`, `srs_stream_publishing`,
//! `srs_stream_receive_bytes_total`, `srs_stream_send_bytes` (bytes sent to the
//! players connected now), `srs_stream_receive_kbps`, `srs_stream_send_kbps`,
//! `srs_stream_frames_total` are the streams API's (`/api/v1/streams`,
//! built by the same [`json::stream`]); `srs_stream_hook_calls_total`,
//! `srs_stream_hook_failures_total` and `srs_stream_hook_latency_seconds_total`
//! count the HTTP hooks of the stream's events.
//!
//! Per track of an Enhanced RTMP v2 multitrack stream (labels `vhost`,
//! `app`, `stream`, `type` (`video` or `audio`), `track` (its id; 0 is the
//! default track)): `srs_stream_track_receive_kbps`, the rate the streams
//! API gives each track (`tracks[].kbps.recv_30s`), measured as
//! `srs_stream_receive_kbps` is. Single-track streams have none (their one
//! track's rate is the stream's).
//!
//! Label cardinality is bounded: the [`MAX_STREAM_SERIES`] oldest streams (by
//! id) get their own series; the rest are summed into one series labelled
//! [`OTHER`], and `srs_stream_others` says how many that holds. Only streams
//! with series of their own get per-track series, at most
//! [`MAX_TRACKS_PER_MESSAGE`](media_core::flv::MAX_TRACKS_PER_MESSAGE) each
//! (the hub counts no more).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use hyper::header;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::api::{json, system};
use super::reply::{self, Reply};
use crate::context::ServerCtx;
use crate::hub::StreamKey;

/// Streams that get series of their own; the rest share one (see the module doc).
pub const MAX_STREAM_SERIES: usize = 100;
/// The `vhost`, `app` and `stream` label of the series the streams past
/// [`MAX_STREAM_SERIES`] share.
pub const OTHER: &str = "_other";
/// The path served.
const PATH: &str = "/metrics";
/// OpenMetrics 1.0 text, which Prometheus asks for and parses.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A stream's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StreamLabels {
    pub(crate) vhost: String,
    pub(crate) app: String,
    pub(crate) stream: String,
}

/// One series' worth of a stream's figures (a stream, or the sum of those past the cap).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StreamFigures {
    pub(crate) clients: u64,
    pub(crate) players: u64,
    pub(crate) publishing: u64,
    pub(crate) recv_bytes: u64,
    pub(crate) send_bytes: u64,
    pub(crate) recv_kbps: u64,
    pub(crate) send_kbps: u64,
    pub(crate) frames: u64,
    pub(crate) dropped: u64,
    pub(crate) hls_segments: u64,
    pub(crate) hook_calls: u64,
    pub(crate) hook_failures: u64,
    pub(crate) hook_latency_us: u64,
}

impl StreamFigures {
    fn of(
        s: &json::Stream,
        stats: &crate::hub::SourceStats,
        hooks: Option<&crate::hooks::HookCallStats>,
    ) -> Self {
        let clients = s.clients as u64;
        let publishing = u64::from(s.publish.active);
        let hooks = hooks.copied().unwrap_or_default();
        Self {
            clients,
            players: clients.saturating_sub(publishing),
            publishing,
            recv_bytes: s.recv_bytes,
            send_bytes: s.send_bytes,
            recv_kbps: s.kbps.recv_30s,
            send_kbps: s.kbps.send_30s,
            frames: s.frames,
            dropped: stats.dropped.load(Ordering::Relaxed),
            hls_segments: stats.hls_segments.load(Ordering::Relaxed),
            hook_calls: hooks.calls,
            hook_failures: hooks.failed,
            hook_latency_us: u64::try_from(hooks.latency.as_micros()).unwrap_or(u64::MAX),
        }
    }

    fn add(&mut self, o: &Self) {
        self.clients = self.clients.saturating_add(o.clients);
        self.players = self.players.saturating_add(o.players);
        self.publishing = self.publishing.saturating_add(o.publishing);
        self.recv_bytes = self.recv_bytes.saturating_add(o.recv_bytes);
        self.send_bytes = self.send_bytes.saturating_add(o.send_bytes);
        self.recv_kbps = self.recv_kbps.saturating_add(o.recv_kbps);
        self.send_kbps = self.send_kbps.saturating_add(o.send_kbps);
        self.frames = self.frames.saturating_add(o.frames);
        self.dropped = self.dropped.saturating_add(o.dropped);
        self.hls_segments = self.hls_segments.saturating_add(o.hls_segments);
        self.hook_calls = self.hook_calls.saturating_add(o.hook_calls);
        self.hook_failures = self.hook_failures.saturating_add(o.hook_failures);
        self.hook_latency_us = self.hook_latency_us.saturating_add(o.hook_latency_us);
    }
}

/// One stream's series: its id (the order of the cap), labels and figures.
pub(crate) type StreamRow = (u64, StreamLabels, StreamFigures);

/// Streams with series of their own, then the sum of the rest and their number.
pub(crate) type StreamSeries = (
    Vec<(StreamLabels, StreamFigures)>,
    Option<(StreamFigures, u64)>,
);

/// A stream's row, from the streams API's object, the source's counters and
/// its hook calls.
fn row(
    s: &json::Stream,
    stats: &crate::hub::SourceStats,
    hooks: &HashMap<StreamKey, crate::hooks::HookCallStats>,
) -> StreamRow {
    let labels = StreamLabels {
        vhost: s.vhost.clone(),
        app: s.app.clone(),
        stream: s.name.clone(),
    };
    let key = StreamKey {
        vhost: s.vhost.clone(),
        app: s.app.clone(),
        stream: s.name.clone(),
    };
    (s.id, labels, StreamFigures::of(s, stats, hooks.get(&key)))
}

/// The per-stream series: at most `cap` streams with their own labels (the
/// lowest ids, so a stream keeps its series while it lives), then, if any are
/// left, their sum and how many they are.
pub(crate) fn stream_series(mut rows: Vec<StreamRow>, cap: usize) -> StreamSeries {
    rows.sort_by_key(|r| r.0);
    let rest = rows.split_off(cap.min(rows.len()));
    let own = rows.into_iter().map(|(_, l, f)| (l, f)).collect();
    let others = (!rest.is_empty()).then(|| {
        let mut sum = StreamFigures::default();
        for (_, _, f) in &rest {
            sum.add(f);
        }
        (sum, rest.len() as u64)
    });
    (own, others)
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: i64) {
    let g: Gauge = Gauge::default();
    g.set(value);
    registry.register(name, help, g);
}

/// A counter is named without `_total`: the encoder adds it.
fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let c: Counter = Counter::default();
    c.inc_by(value);
    registry.register(name, help, c);
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Every series, encoded.
pub(crate) async fn render(ctx: &ServerCtx) -> Result<String, std::fmt::Error> {
    let summaries = system::summaries_since(ctx, &ctx.metrics_cpu_sample).await;
    let clock = json::Clock {
        now_ms: ctx.now_ms(),
        unix_ms: ctx.rt.unix_time_ms(),
    };
    let sources = ctx.hub.sources();
    let by_source = json::clients_by_source(&ctx.hub.clients());
    let streams: Vec<json::Stream> = sources
        .iter()
        .map(|s| json::stream(s, &by_source, clock))
        .collect();
    let publishing = streams.iter().filter(|s| s.publish.active).count() as i64;
    let config = ctx.config();
    let exporter = &config.exporter;

    let mut registry = Registry::default();
    let uname = rustix::system::uname();
    let text = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
    let node = Family::<Vec<(&str, String)>, Gauge>::default();
    node.get_or_create(&vec![
        ("sysname", text(uname.sysname())),
        ("nodename", text(uname.nodename())),
        ("release", text(uname.release())),
        ("version", text(uname.version())),
        ("machine", text(uname.machine())),
    ])
    .set(1);
    registry.register(
        "srs_node_uname_info",
        "Labeled system information as provided by the uname system call",
        node,
    );
    let mut build = vec![
        ("server".to_owned(), format!("{}", std::process::id())),
        ("service".to_owned(), "rtmp-server".to_owned()),
        ("pid".to_owned(), std::process::id().to_string()),
        ("build_date".to_owned(), String::new()),
        (
            "major".to_owned(),
            crate::VERSION.split('.').next().unwrap_or("0").to_owned(),
        ),
        ("version".to_owned(), crate::VERSION.to_owned()),
        ("code".to_owned(), "rtmp-server".to_owned()),
    ];
    if !exporter.label.is_empty() {
        build.push(("label".to_owned(), exporter.label.clone()));
    }
    if !exporter.tag.is_empty() {
        build.push(("tag".to_owned(), exporter.tag.clone()));
    }
    let info = Family::<Vec<(String, String)>, Gauge>::default();
    info.get_or_create(&build).set(1);
    registry.register(
        "srs_build_info",
        "A metric with a constant '1' value labeled by the server's build and the exporter's label and tag",
        info,
    );
    let cpu: Gauge<f64, std::sync::atomic::AtomicU64> = Gauge::default();
    cpu.set(summaries.self_.cpu_percent * 100.0);
    registry.register(
        "srs_cpu_percent",
        "This process's share of the machine's CPU time since the previous scrape, percent",
        cpu,
    );
    gauge(
        &mut registry,
        "srs_memory",
        "Resident memory of this process, KiB",
        to_i64(summaries.self_.mem_kbyte),
    );
    counter(
        &mut registry,
        "srs_send_bytes",
        "Bytes sent to the clients connected now",
        summaries.system.srs_send_bytes,
    );
    counter(
        &mut registry,
        "srs_receive_bytes",
        "Bytes received from the clients connected now",
        summaries.system.srs_recv_bytes,
    );
    gauge(
        &mut registry,
        "srs_streams",
        "Streams being published",
        publishing,
    );
    gauge(
        &mut registry,
        "srs_clients",
        "Clients connected",
        summaries.system.conn_srs as i64,
    );
    // A gauge by type: OpenMetrics names a counter family without `_total`,
    // and a counter `srs_clients` would clash with the gauge above. Its
    // samples are `srs_clients_total`, rising only, as SRS's.
    gauge(
        &mut registry,
        "srs_clients_total",
        "Clients ever connected",
        to_i64(ctx.hub.clients_total()),
    );
    counter(
        &mut registry,
        "srs_clients_errs",
        "Client connections that ended in an error (i/o, protocol, timeout, over budget)",
        ctx.hub.clients_errs(),
    );

    // Hook figures of streams the hub no longer has are forgotten here.
    let live: HashSet<StreamKey> = streams
        .iter()
        .map(|s| StreamKey {
            vhost: s.vhost.clone(),
            app: s.app.clone(),
            stream: s.name.clone(),
        })
        .collect();
    ctx.hooks.retain_stream_stats(|k| live.contains(k));
    let hook_stats = ctx.hooks.stream_call_stats();
    let (own, others) = stream_series(
        streams
            .iter()
            .zip(&sources)
            .map(|(s, source)| row(s, &source.stats, &hook_stats))
            .collect(),
        MAX_STREAM_SERIES,
    );
    let mut series = own;
    let (other_figures, other_count) = match others {
        Some((f, n)) => (Some(f), n),
        None => (None, 0),
    };
    if let Some(f) = other_figures {
        let other = OTHER.to_owned();
        series.push((
            StreamLabels {
                vhost: other.clone(),
                app: other.clone(),
                stream: other,
            },
            f,
        ));
    }
    type Pick = fn(&StreamFigures) -> u64;
    let gauges: [(&str, &str, Pick); 6] = [
        (
            "srs_stream_clients",
            "Clients on the stream (publisher and players)",
            |f| f.clients,
        ),
        ("srs_stream_players", "Players of the stream", |f| f.players),
        (
            "srs_stream_publishing",
            "1 while the stream is published",
            |f| f.publishing,
        ),
        (
            "srs_stream_send_bytes",
            "Bytes sent to the stream's players connected now",
            |f| f.send_bytes,
        ),
        (
            "srs_stream_receive_kbps",
            "Bitrate received from the publisher over the last 30 s, kbit/s",
            |f| f.recv_kbps,
        ),
        (
            "srs_stream_send_kbps",
            "Bitrate sent to the players over the last 30 s, kbit/s",
            |f| f.send_kbps,
        ),
    ];
    for (name, help, pick) in gauges {
        let family = Family::<StreamLabels, Gauge>::default();
        for (labels, f) in &series {
            family.get_or_create(labels).set(to_i64(pick(f)));
        }
        registry.register(name, help, family);
    }
    let counters: [(&str, &str, Pick); 6] = [
        (
            "srs_stream_hook_calls",
            "HTTP hook calls for the stream's events (publish, play, unpublish, stop, HLS, DVR)",
            |f| f.hook_calls,
        ),
        (
            "srs_stream_hook_failures",
            "The stream's hook calls refused, unreachable, timed out or answered badly",
            |f| f.hook_failures,
        ),
        (
            "srs_stream_dropped_frames",
            "Messages skipped for consumers too slow to keep up (players, HLS, DVR, forwards)",
            |f| f.dropped,
        ),
        ("srs_stream_hls_segments", "HLS segments written", |f| {
            f.hls_segments
        }),
        (
            "srs_stream_receive_bytes",
            "Payload bytes received from the stream's publishers",
            |f| f.recv_bytes,
        ),
        (
            "srs_stream_frames",
            "Audio, video and data messages received",
            |f| f.frames,
        ),
    ];
    for (name, help, pick) in counters {
        let family = Family::<StreamLabels, Counter>::default();
        for (labels, f) in &series {
            family.get_or_create(labels).inc_by(pick(f));
        }
        registry.register(name, help, family);
    }
    register_track_series(&mut registry, &streams, &series);
    let latency = Family::<StreamLabels, Counter<f64, std::sync::atomic::AtomicU64>>::default();
    for (labels, f) in &series {
        latency
            .get_or_create(labels)
            .inc_by(f.hook_latency_us as f64 / 1e6);
    }
    registry.register(
        "srs_stream_hook_latency_seconds",
        "Time the stream's hook calls took, summed (divide by srs_stream_hook_calls_total for the mean)",
        latency,
    );
    let hooks = ctx.hooks.call_stats();
    counter(
        &mut registry,
        "srs_hook_calls",
        "HTTP hook calls (http_hooks, one per URL; not on_hls_notify)",
        hooks.calls,
    );
    counter(
        &mut registry,
        "srs_hook_failures",
        "HTTP hook calls refused, unreachable, timed out or answered badly",
        hooks.failed,
    );
    let latency: Counter<f64, std::sync::atomic::AtomicU64> = Counter::default();
    latency.inc_by(hooks.latency.as_secs_f64());
    registry.register(
        "srs_hook_latency_seconds",
        "Time spent in HTTP hook calls, summed (divide by srs_hook_calls_total for the mean)",
        latency,
    );
    counter(
        &mut registry,
        "srs_hook_dropped_notifies",
        "Background hook events dropped because the notify queue was full",
        ctx.hooks.dropped_notifies(),
    );
    // Supervised ffmpeg (ingest, transcode; not in SRS).
    let processes = Family::<Vec<(&str, String)>, Gauge>::default();
    for p in ctx.processes.list(ctx.rt.now()) {
        let kind = serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        let state = serde_json::to_value(p.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        processes
            .get_or_create(&vec![
                ("kind", kind.unwrap_or_default()),
                ("state", state.unwrap_or_default()),
            ])
            .inc();
    }
    registry.register(
        "srs_ffmpeg_processes",
        "Supervised ffmpeg processes (ingest, transcode), by kind and state",
        processes,
    );
    counter(
        &mut registry,
        "srs_ffmpeg_restarts",
        "ffmpeg processes restarted after they exited",
        ctx.processes.restarts_total(),
    );
    counter(
        &mut registry,
        "srs_ffmpeg_parked",
        "ffmpeg processes parked by dead-loop detection (died too often)",
        ctx.processes.parked_total(),
    );
    super::upstream_metrics::register(&mut registry, ctx);
    gauge(
        &mut registry,
        "srs_stream_others",
        "Streams past the per-stream series cap, summed into the series labelled _other",
        to_i64(other_count),
    );

    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)?;
    Ok(out)
}

/// `srs_stream_track_receive_kbps`, for the multitrack streams among those
/// with series of their own (`series`).
fn register_track_series(
    registry: &mut Registry,
    streams: &[json::Stream],
    series: &[(StreamLabels, StreamFigures)],
) {
    let family = Family::<Vec<(&'static str, String)>, Gauge>::default();
    for s in streams.iter().filter(|s| !s.track_rates.is_empty()) {
        let own = series
            .iter()
            .any(|(l, _)| l.vhost == s.vhost && l.app == s.app && l.stream == s.name);
        if !own {
            continue;
        }
        for t in &s.track_rates {
            family
                .get_or_create(&vec![
                    ("vhost", s.vhost.clone()),
                    ("app", s.app.clone()),
                    ("stream", s.name.clone()),
                    ("type", t.kind.to_owned()),
                    ("track", t.id.to_string()),
                ])
                .set(to_i64(t.kbps));
        }
    }
    registry.register(
        "srs_stream_track_receive_kbps",
        "Bitrate received of each track of a multitrack stream over the last 30 s, kbit/s",
        family,
    );
}

/// Serves a request on the exporter's listener.
pub(crate) async fn serve(ctx: &Arc<ServerCtx>, parts: &Parts) -> Reply {
    if parts.uri.path() != PATH {
        return reply::status(StatusCode::NOT_FOUND);
    }
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return reply::not_allowed("GET, HEAD");
    }
    match render(ctx).await {
        Ok(text) => {
            let mut resp = reply::full(StatusCode::OK, CONTENT_TYPE, text);
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-cache"),
            );
            resp
        }
        Err(_) => reply::status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(id: u64, name: &str, clients: u64, publishing: bool) -> StreamRow {
        let labels = StreamLabels {
            vhost: "__defaultVhost__".into(),
            app: "live".into(),
            stream: name.into(),
        };
        let publishing = u64::from(publishing);
        let figures = StreamFigures {
            clients,
            players: clients.saturating_sub(publishing),
            publishing,
            recv_bytes: 1000 * id,
            send_bytes: 100 * id,
            recv_kbps: id,
            send_kbps: 2 * id,
            frames: 10 * id,
            dropped: id,
            hls_segments: 3 * id,
            hook_calls: 2 * id,
            hook_failures: id,
            hook_latency_us: 1000 * id,
        };
        (id, labels, figures)
    }

    #[test]
    fn streams_past_the_cap_are_summed() {
        // Given out of order: the lowest ids keep their own series.
        let streams = vec![
            stream(5, "e", 3, true),
            stream(1, "a", 2, true),
            stream(4, "d", 1, false),
            stream(2, "b", 4, true),
            stream(3, "c", 0, false),
        ];
        let (own, others) = stream_series(streams, 2);
        let names: Vec<&str> = own.iter().map(|(l, _)| l.stream.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(own[0].1.players, 1);
        assert_eq!(own[1].1.players, 3);
        let (sum, n) = others.expect("three streams past the cap");
        assert_eq!(n, 3);
        assert_eq!(
            sum,
            StreamFigures {
                clients: 4,
                players: 3,
                publishing: 1,
                recv_bytes: 12_000,
                send_bytes: 1_200,
                recv_kbps: 12,
                send_kbps: 24,
                frames: 120,
                dropped: 12,
                hls_segments: 36,
                hook_calls: 24,
                hook_failures: 12,
                hook_latency_us: 12_000,
            }
        );
    }

    #[test]
    fn no_others_within_the_cap() {
        let (own, others) = stream_series(vec![stream(1, "a", 1, true)], MAX_STREAM_SERIES);
        assert_eq!(own.len(), 1);
        assert!(others.is_none());
        let (own, others) = stream_series(Vec::new(), 0);
        assert!(own.is_empty() && others.is_none());
        let (own, others) = stream_series(vec![stream(1, "a", 1, true)], 0);
        assert!(own.is_empty());
        assert_eq!(others.map(|(_, n)| n), Some(1));
    }

    #[test]
    fn exporter_block_plans_its_own_listener() {
        use crate::settings::{listeners, ListenerKind};
        let parse = |text: &str| crate::config::parse_str("t.conf", text).expect("config");
        let c =
            parse("listen 1935; exporter { enabled on; listen 127.0.0.1:9973; label L; tag T; }");
        assert_eq!(
            (c.exporter.label.as_str(), c.exporter.tag.as_str()),
            ("L", "T")
        );
        let plan = listeners(&c);
        assert!(plan.contains(&(ListenerKind::Exporter, "127.0.0.1:9973".parse().unwrap())));
        // SRS's defaults: off, port 9972.
        let c = parse("listen 1935;");
        assert!(!c.exporter.enabled);
        assert_eq!(c.exporter.listen[0].port(), 9972);
        assert!(!listeners(&c)
            .iter()
            .any(|(k, _)| *k == ListenerKind::Exporter));
        let c = parse("listen 1935; exporter { enabled on; }");
        assert!(listeners(&c).contains(&(ListenerKind::Exporter, "0.0.0.0:9972".parse().unwrap())));
        assert!(crate::config::parse_str("t.conf", "listen 1935; exporter { bogus 1; }").is_err());
    }
}
