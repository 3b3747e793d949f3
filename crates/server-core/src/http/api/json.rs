//! The API's JSON objects, field for field as SRS's `/api/v1` writes them
//! (`SrsStatisticStream::dumps`, `SrsStatisticClient::dumps`,
//! `SrsStatisticVhost::dumps` in SRS 4/5), built from the hub.
//!
//! Where this server knows less or differently than SRS:
//! - Ids are the hub's numeric ids (SRS 4+ uses strings); a vhost's id is its name.
//! - `kbps` covers the last 30 to 40 s (counters sampled every 10 s; since
//!   connect for a younger client); a stream's `recv_30s` is its publisher's,
//!   its `send_30s` the sum over its players.
//! - A stream's `send_bytes` sums its currently connected players; `frames`
//!   counts every message received (audio, video, data); `live_ms` is the wall
//!   clock time the current publish started (0 when not publishing).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;

use crate::config::DEFAULT_VHOST;
use crate::hub::{ClientInfo, Source, StreamKey};
use crate::vhost::VhostSettings;
use media_core::MediaKind;

/// The two clocks the API reports against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Runtime monotonic ms (what `connected_ms` and `publish_started_ms` use).
    pub(crate) now_ms: u64,
    /// Wall clock, ms since the Unix epoch.
    pub(crate) unix_ms: u64,
}

/// Kilobits per second for `bytes` moved in `elapsed_ms` (bits per ms = kbit/s).
pub fn kbps(bytes: u64, elapsed_ms: u64) -> u64 {
    bytes.saturating_mul(8).checked_div(elapsed_ms).unwrap_or(0)
}

/// SRS's stream URL: `/app/stream` on the default vhost, `vhost/app/stream` otherwise.
pub(crate) fn stream_url(key: &StreamKey) -> String {
    if key.vhost == DEFAULT_VHOST {
        format!("/{}/{}", key.app, key.stream)
    } else {
        format!("{}/{}/{}", key.vhost, key.app, key.stream)
    }
}

/// `kbps` object.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Kbps {
    pub(crate) recv_30s: u64,
    pub(crate) send_30s: u64,
}

impl std::ops::AddAssign for Kbps {
    fn add_assign(&mut self, other: Self) {
        self.recv_30s = self.recv_30s.saturating_add(other.recv_30s);
        self.send_30s = self.send_30s.saturating_add(other.send_30s);
    }
}

/// A stream's `publish` object.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Publish {
    pub(crate) active: bool,
    /// The publishing client's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cid: Option<u64>,
}

/// A stream's `video` object.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Video {
    pub(crate) codec: String,
    pub(crate) profile: String,
    pub(crate) level: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// A stream's `audio` object.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Audio {
    pub(crate) codec: String,
    pub(crate) sample_rate: u32,
    pub(crate) channel: u8,
    pub(crate) profile: String,
}

/// One track of a multitrack stream: `{"id": 1, "type": "video", ...}` with
/// the fields of `video` or `audio`, and the track's `kbps`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Track {
    pub(crate) id: u8,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(flatten)]
    pub(crate) video: Option<Video>,
    #[serde(flatten)]
    pub(crate) audio: Option<Audio>,
    pub(crate) kbps: TrackKbps,
}

/// A track's `kbps` object: what the publisher sent of that track, over
/// the window of the stream's `recv_30s` (its bytes sampled on the same
/// timer; since the publish started, for a younger one).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub(crate) struct TrackKbps {
    pub(crate) recv_30s: u64,
}

/// The received rate of one track of a multitrack stream, the default
/// track's included (for the metrics; the API's `tracks` lists the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackRate {
    /// `video` or `audio`.
    pub(crate) kind: &'static str,
    pub(crate) id: u8,
    pub(crate) kbps: u64,
}

/// One element of `/api/v1/streams`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Stream {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) vhost: String,
    pub(crate) app: String,
    #[serde(rename = "tcUrl")]
    pub(crate) tc_url: String,
    pub(crate) url: String,
    pub(crate) live_ms: u64,
    pub(crate) clients: usize,
    pub(crate) frames: u64,
    pub(crate) send_bytes: u64,
    pub(crate) recv_bytes: u64,
    pub(crate) kbps: Kbps,
    pub(crate) publish: Publish,
    pub(crate) video: Option<Video>,
    pub(crate) audio: Option<Audio>,
    /// The other tracks of an Enhanced RTMP v2 multitrack stream (`video`
    /// and `audio` describe track 0); absent for single-track streams. Our
    /// addition: SRS has no multitrack.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tracks: Vec<Track>,
    /// Every track's received rate, track 0's too; empty for a stream that
    /// is not multitrack. Not in the JSON (`tracks` carries the others').
    #[serde(skip)]
    pub(crate) track_rates: Vec<TrackRate>,
    /// The stream's forward destinations (`vhost { forward { } }`; our
    /// addition: SRS's API does not show forwards).
    pub(crate) forwards: Vec<crate::forward::ForwardStatus>,
    /// On an edge, the stream's pull from its origin (`vhost { cluster {
    /// mode remote; } }`; our addition: SRS's API does not show it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) edge: Option<crate::edge::EdgeStatus>,
    /// The ffmpegs transcoding the stream (`vhost { transcode { } }`, as
    /// `/api/v1/processes` lists them); absent when none. Our addition.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) transcodes: Vec<crate::ffmpeg::ProcessStatus>,
}

impl Stream {
    /// The stream with its forward destinations.
    pub(crate) fn with_forwards(mut self, forwards: Vec<crate::forward::ForwardStatus>) -> Self {
        self.forwards = forwards;
        self
    }

    /// The stream with its edge pull, if any.
    pub(crate) fn with_edge(mut self, edge: Option<crate::edge::EdgeStatus>) -> Self {
        self.edge = edge;
        self
    }

    /// The stream with its transcoding ffmpegs.
    pub(crate) fn with_transcodes(mut self, transcodes: Vec<crate::ffmpeg::ProcessStatus>) -> Self {
        self.transcodes = transcodes;
        self
    }
}

/// One element of `/api/v1/clients`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Client {
    pub(crate) id: u64,
    /// The vhost's id (its name); empty before the client names a stream.
    pub(crate) vhost: String,
    /// The stream's id; `null` before the client publishes or plays.
    pub(crate) stream: Option<u64>,
    pub(crate) ip: String,
    #[serde(rename = "pageUrl")]
    pub(crate) page_url: String,
    #[serde(rename = "swfUrl")]
    pub(crate) swf_url: String,
    #[serde(rename = "tcUrl")]
    pub(crate) tc_url: String,
    pub(crate) url: String,
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) publish: bool,
    /// Seconds connected.
    pub(crate) alive: f64,
    pub(crate) send_bytes: u64,
    pub(crate) recv_bytes: u64,
    pub(crate) kbps: Kbps,
}

/// A vhost's `hls` object.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct VhostHls {
    pub(crate) enabled: bool,
    /// Target segment duration in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fragment: Option<f64>,
}

/// One element of `/api/v1/vhosts`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Vhost {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) enabled: bool,
    pub(crate) clients: usize,
    pub(crate) streams: usize,
    pub(crate) send_bytes: u64,
    pub(crate) recv_bytes: u64,
    pub(crate) kbps: Kbps,
    pub(crate) hls: VhostHls,
}

fn client_kbps(client: &ClientInfo, clock: Clock) -> Kbps {
    let recent = client.recent_traffic(clock.now_ms);
    Kbps {
        recv_30s: kbps(recent.bytes_in, recent.at_ms),
        send_30s: kbps(recent.bytes_out, recent.at_ms),
    }
}

/// Builds a client's object.
pub(crate) fn client(client: &ClientInfo, clock: Clock) -> Client {
    let details = client.details();
    let kind = client.kind();
    let ip = client
        .peer
        .parse::<SocketAddr>()
        .map_or_else(|_| client.peer.clone(), |a| a.ip().to_string());
    let (vhost, url, name) = match &details.stream {
        Some(key) => (key.vhost.clone(), stream_url(key), key.stream.clone()),
        None => Default::default(),
    };
    Client {
        id: client.id,
        vhost,
        stream: details.source_id,
        ip,
        page_url: details.page_url,
        swf_url: details.swf_url,
        tc_url: details.url,
        url,
        name,
        kind: kind.api_name(),
        publish: kind.is_publish(),
        alive: clock.now_ms.saturating_sub(client.connected_ms) as f64 / 1000.0,
        send_bytes: client.bytes_out.load(Ordering::Relaxed),
        recv_bytes: client.bytes_in.load(Ordering::Relaxed),
        kbps: client_kbps(client, clock),
    }
}

/// Every connected client grouped by the source it publishes or plays, in
/// one pass: building each stream's object from the whole client list would
/// cost streams × clients.
pub(crate) fn clients_by_source(clients: &[Arc<ClientInfo>]) -> HashMap<u64, Vec<Arc<ClientInfo>>> {
    let mut by_source: HashMap<u64, Vec<Arc<ClientInfo>>> = HashMap::new();
    for c in clients {
        if let Some(id) = c.with_details(|d| d.source_id) {
            by_source.entry(id).or_default().push(c.clone());
        }
    }
    by_source
}

/// Builds a stream's object from the clients [`clients_by_source`] found on it.
pub(crate) fn stream(
    source: &Source,
    by_source: &HashMap<u64, Vec<Arc<ClientInfo>>>,
    clock: Clock,
) -> Stream {
    let publisher = source.publisher();
    let attached: &[Arc<ClientInfo>] = by_source.get(&source.id).map_or(&[], Vec::as_slice);
    let publishing = publisher.and_then(|id| attached.iter().find(|c| c.id == id));
    let players = attached.iter().filter(|c| Some(c.id) != publisher);
    let mut kbps = Kbps::default();
    let mut send_bytes = 0u64;
    for player in players {
        kbps.send_30s = kbps
            .send_30s
            .saturating_add(client_kbps(player, clock).send_30s);
        send_bytes = send_bytes.saturating_add(player.bytes_out.load(Ordering::Relaxed));
    }
    if let Some(p) = publishing {
        kbps.recv_30s = client_kbps(p, clock).recv_30s;
    }
    let live_ms = match publisher {
        Some(_) => {
            let running = clock.now_ms.saturating_sub(source.publish_started_ms());
            clock.unix_ms.saturating_sub(running)
        }
        None => 0,
    };
    let info = source.info();
    let video = |v: crate::hub::VideoInfo| Video {
        codec: v.codec,
        profile: v.profile,
        level: v.level,
        width: v.width,
        height: v.height,
    };
    let audio = |a: crate::hub::AudioInfo| Audio {
        codec: a.codec,
        sample_rate: a.sample_rate,
        channel: a.channels,
        profile: a.profile,
    };
    let track_rates: Vec<TrackRate> = source
        .track_traffic(clock.now_ms)
        .into_iter()
        .map(|(t, traffic)| TrackRate {
            kind: if t.kind == MediaKind::Video {
                "video"
            } else {
                "audio"
            },
            id: t.id,
            kbps: self::kbps(traffic.bytes_in, traffic.at_ms),
        })
        .collect();
    let track_kbps = |kind: &str, id: u8| TrackKbps {
        recv_30s: track_rates
            .iter()
            .find(|r| r.kind == kind && r.id == id)
            .map_or(0, |r| r.kbps),
    };
    let tracks = info
        .tracks
        .into_iter()
        .map(|t| match t.media {
            crate::hub::TrackMedia::Video(v) => Track {
                id: t.id,
                kind: "video",
                video: Some(video(v)),
                audio: None,
                kbps: track_kbps("video", t.id),
            },
            crate::hub::TrackMedia::Audio(a) => Track {
                id: t.id,
                kind: "audio",
                video: None,
                audio: Some(audio(a)),
                kbps: track_kbps("audio", t.id),
            },
        })
        .collect();
    Stream {
        id: source.id,
        name: source.key.stream.clone(),
        vhost: source.key.vhost.clone(),
        app: source.key.app.clone(),
        tc_url: publishing
            .map(|p| p.with_details(|d| d.url.clone()))
            .unwrap_or_default(),
        url: stream_url(&source.key),
        live_ms,
        clients: attached.len(),
        frames: source.stats.messages_in.load(Ordering::Relaxed),
        send_bytes,
        recv_bytes: source.stats.bytes_in.load(Ordering::Relaxed),
        kbps,
        publish: Publish {
            active: publisher.is_some(),
            cid: publisher,
        },
        video: info.video.map(video),
        audio: info.audio.map(audio),
        tracks,
        track_rates,
        forwards: Vec::new(),
        edge: None,
        transcodes: Vec::new(),
    }
}

/// Builds a vhost's object from every source and client.
pub(crate) fn vhost(
    settings: &VhostSettings,
    sources: &[Arc<Source>],
    clients: &[Arc<ClientInfo>],
    clock: Clock,
) -> Vhost {
    let mut out = Vhost {
        id: settings.name.clone(),
        name: settings.name.clone(),
        enabled: true,
        clients: 0,
        streams: sources
            .iter()
            .filter(|s| s.key.vhost == settings.name && s.publisher().is_some())
            .count(),
        send_bytes: 0,
        recv_bytes: 0,
        kbps: Kbps::default(),
        hls: VhostHls {
            enabled: settings.hls.is_some(),
            fragment: settings
                .hls
                .as_ref()
                .map(|h| h.config.fragment.as_secs_f64()),
        },
    };
    for c in clients {
        if c.with_details(|d| d.stream.as_ref().is_some_and(|k| k.vhost == settings.name)) {
            out.clients += 1;
            out.send_bytes = out
                .send_bytes
                .saturating_add(c.bytes_out.load(Ordering::Relaxed));
            out.recv_bytes = out
                .recv_bytes
                .saturating_add(c.bytes_in.load(Ordering::Relaxed));
            out.kbps += client_kbps(c, clock);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kbps_is_bits_per_millisecond() {
        assert_eq!(kbps(125_000, 1000), 1000);
        assert_eq!(kbps(1, 0), 0);
        assert_eq!(kbps(u64::MAX, 1), u64::MAX);
    }

    #[test]
    fn stream_urls_follow_srs() {
        let key = |v: &str| StreamKey {
            vhost: v.into(),
            app: "live".into(),
            stream: "s".into(),
        };
        assert_eq!(stream_url(&key(DEFAULT_VHOST)), "/live/s");
        assert_eq!(stream_url(&key("v.example")), "v.example/live/s");
    }
}
