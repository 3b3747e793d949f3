//! The server's own outgoing RTMP connections in `/metrics`: forwards, edge
//! pulls and edge pushes, one series set per stream and upstream (what the
//! API shows as a stream's `forwards` and `edge`). SRS exports none of
//! these; the names follow its `srs_` prefix.
//!
//! - `srs_upstream_state{kind,vhost,app,stream,upstream,state}`: 1 for the
//!   state it is in (`connecting`, `forwarding`, `pulling`, `pushing`,
//!   `retrying`);
//! - `srs_upstream_bytes_total{...}`: bytes sent (forward, edge push) or
//!   received (edge pull) over every connection of it so far;
//! - `srs_upstream_retries_total{...}`: failed attempts and drops;
//! - `srs_upstream_players{...}`: an edge pull's players on this server.
//!
//! `upstream` is the destination (without its query, which may hold
//! secrets) or the origin in use now, so a failover shows as a new series.
//! At most [`MAX_UPSTREAM_SERIES`] upstreams get series (the rest are
//! counted in `srs_upstream_others`), so a server forwarding thousands of
//! streams does not flood its scraper.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::context::ServerCtx;
use crate::hub::StreamKey;

/// Most upstreams given series of their own.
pub const MAX_UPSTREAM_SERIES: usize = 200;

/// One upstream's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    /// `forward`, `edge_pull` or `edge_push`.
    kind: String,
    vhost: String,
    app: String,
    stream: String,
    upstream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    kind: String,
    vhost: String,
    app: String,
    stream: String,
    upstream: String,
    state: String,
}

/// One upstream's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    labels: UpstreamLabels,
    state: String,
    bytes: u64,
    retries: u64,
    players: Option<u64>,
}

fn labels(kind: &str, key: &StreamKey, upstream: &str) -> UpstreamLabels {
    UpstreamLabels {
        kind: kind.to_owned(),
        vhost: key.vhost.clone(),
        app: key.app.clone(),
        stream: key.stream.clone(),
        upstream: upstream.to_owned(),
    }
}

/// The state as the API names it.
fn state_name(state: impl serde::Serialize) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn rows(ctx: &ServerCtx) -> Vec<Row> {
    let mut rows = Vec::new();
    for (key, destinations) in ctx.forwards.all() {
        for d in destinations {
            rows.push(Row {
                labels: labels("forward", &key, &d.destination),
                state: state_name(d.state),
                bytes: d.bytes,
                retries: d.retries,
                players: None,
            });
        }
    }
    for (key, edge, pushing) in ctx.edges.all() {
        let kind = if pushing { "edge_push" } else { "edge_pull" };
        rows.push(Row {
            labels: labels(kind, &key, &edge.origin),
            state: state_name(edge.state),
            bytes: edge.bytes,
            retries: edge.retries,
            players: (!pushing).then_some(edge.players as u64),
        });
    }
    rows
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Adds the upstream series to `registry`.
pub(crate) fn register(registry: &mut Registry, ctx: &ServerCtx) {
    let mut rows = rows(ctx);
    let others = rows.len().saturating_sub(MAX_UPSTREAM_SERIES);
    rows.truncate(MAX_UPSTREAM_SERIES);
    let state = Family::<StateLabels, Gauge>::default();
    let bytes = Family::<UpstreamLabels, Counter>::default();
    let retries = Family::<UpstreamLabels, Counter>::default();
    let players = Family::<UpstreamLabels, Gauge>::default();
    for row in &rows {
        let l = &row.labels;
        state
            .get_or_create(&StateLabels {
                kind: l.kind.clone(),
                vhost: l.vhost.clone(),
                app: l.app.clone(),
                stream: l.stream.clone(),
                upstream: l.upstream.clone(),
                state: row.state.clone(),
            })
            .set(1);
        bytes.get_or_create(l).inc_by(row.bytes);
        retries.get_or_create(l).inc_by(row.retries);
        if let Some(n) = row.players {
            players.get_or_create(l).set(to_i64(n));
        }
    }
    registry.register(
        "srs_upstream_state",
        "The server's outgoing connections (forward, edge_pull, edge_push): 1 for the state each is in",
        state,
    );
    registry.register(
        "srs_upstream_bytes",
        "Bytes sent to (forward, edge_push) or received from (edge_pull) the upstream so far",
        bytes,
    );
    registry.register(
        "srs_upstream_retries",
        "Failed attempts and dropped connections of the upstream so far",
        retries,
    );
    registry.register(
        "srs_upstream_players",
        "Players on this server holding an edge pull",
        players,
    );
    let others_gauge: Gauge = Gauge::default();
    others_gauge.set(to_i64(others as u64));
    registry.register(
        "srs_upstream_others",
        "Upstreams past the per-upstream series cap (not listed)",
        others_gauge,
    );
}
