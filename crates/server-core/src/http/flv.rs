//! HTTP-FLV (SRS `http_remux`): a live stream as one endless chunked FLV file.
//!
//! A GET whose path matches a vhost's mount template subscribes to the stream
//! like an RTMP player and streams its messages as FLV tags (FLV spec v10.1
//! E.2 header, E.3 body, E.4.1 tag header): a consumer queue feeds the body,
//! each payload goes out as its own shared `Bytes` (never copied), preceded by
//! a 15-byte piece holding the previous tag's size and this tag's header (the
//! headers of one drain share one buffer). What one merge window releases
//! leaves as one body frame of up to [`MAX_PIECES`] pieces, so in one `writev`.
//!
//! Mounts resolve like SRS's HTTP mux: a template is rendered per vhost, with
//! `[vhost]/` dropped for `__defaultVhost__` (so the default serves
//! `/live/livestream.flv`). For a named vhost the request `Host` supplies the
//! vhost part (`http://v.example:8080/live/s.flv`), and the path may also spell
//! it out (`/v.example/live/s.flv`). Anything else falls back to the default
//! vhost, as RTMP does.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use media_core::flv;
use tracing::info;

use super::body::{BodyError, ResponseBody};
use super::pieces::{Pieces, MAX_PIECES};
use super::reply::{self, Reply};
use crate::config::DEFAULT_VHOST;
use crate::context::ServerCtx;
use crate::hub::{
    ClientInfo, ClientKind, ClientRegistration, Consumer, MergeRule, QueueItem, StreamKey,
    TrackFilter,
};
use crate::lifecycle::{self, Peer, Target, Ticket};
use crate::runtime::BoxFuture;
use crate::vhost::VhostSettings;

/// FLV file header (E.2) announcing audio and video, followed by nothing: the
/// first tag's 15-byte piece starts with `PreviousTagSize0 = 0`.
pub const FLV_FILE_HEADER: [u8; 9] = [b'F', b'L', b'V', 1, 0x05, 0, 0, 0, 9];
/// Bytes in an FLV tag header (E.4.1).
pub const TAG_HEADER_LEN: u32 = 11;
/// An FLV tag's `DataSize` is 24 bits.
pub const MAX_TAG_DATA: usize = 0x00FF_FFFF;
/// Queue items handled per poll before yielding to other tasks.
const MAX_STEPS_PER_POLL: usize = 256;

/// The vhost and stream a request path names, if it matches an HTTP-FLV mount.
/// `path` is the decoded path with its leading `/`; `host` is the request host
/// without port.
pub(crate) fn match_mount(
    vhosts: &[Arc<VhostSettings>],
    host: Option<&str>,
    path: &str,
) -> Option<(Arc<VhostSettings>, StreamKey)> {
    let hit = |v: &Arc<VhostSettings>, p: &str| {
        let mount = v.flv_mount.as_ref()?;
        let (app, stream) = mount.match_path(&v.name, p)?;
        Some((
            v.clone(),
            StreamKey {
                vhost: v.name.clone(),
                app,
                stream,
            },
        ))
    };
    // 1. The vhost the Host header names.
    if let Some(host) = host {
        if let Some(v) = vhosts
            .iter()
            .find(|v| v.name != DEFAULT_VHOST && v.name.eq_ignore_ascii_case(host))
        {
            if let Some(found) = hit(v, &format!("/{}{path}", v.name)).or_else(|| hit(v, path)) {
                return Some(found);
            }
        }
    }
    // 2. A named vhost spelled out in the path.
    let named = vhosts.iter().filter(|v| {
        v.name != DEFAULT_VHOST
            && v.flv_mount
                .as_ref()
                .is_some_and(|m| m.as_str().contains("[vhost]"))
    });
    for v in named {
        if let Some(found) = hit(v, path) {
            return Some(found);
        }
    }
    // 3. The default vhost.
    vhosts
        .iter()
        .find(|v| v.name == DEFAULT_VHOST)
        .and_then(|v| hit(v, path))
}

/// Who is asking, for the client registry, the access checks and the hooks.
pub(crate) struct FlvRequest {
    /// Peer address.
    pub(crate) peer: SocketAddr,
    /// The full request URL (shown as the client's `tcUrl` in the API, and
    /// the hooks' `tcUrl`).
    pub(crate) url: String,
    /// The User-Agent.
    pub(crate) agent: String,
    /// The `Referer` (checked by `refer`, the hooks' `pageUrl`).
    pub(crate) referer: String,
    /// The query string, `?` included, or empty (the hooks' `param`).
    pub(crate) query: String,
}

/// Starts streaming `key` to a player once the stream lifecycle admits it
/// (`security`, `refer` on the `Referer`, `on_play`): subscribes, registers
/// the client and returns the `200 video/x-flv` response whose body is the
/// live stream. A refused player gets 403 (or 404/414 for a bad request).
pub(crate) async fn play(
    ctx: &Arc<ServerCtx>,
    vhost: Arc<VhostSettings>,
    key: StreamKey,
    request: FlvRequest,
) -> Reply {
    let id = ctx.hub.next_id();
    let registration =
        ctx.hub
            .register_client(ClientInfo::new(id, request.peer.to_string(), ctx.now_ms()));
    let info = registration.info();
    info.update(|d| {
        d.url = request.url.clone();
        d.agent = request.agent.clone();
        d.page_url = request.referer.clone();
    });
    let peer = Peer {
        info: info.clone(),
        ip: request.peer.ip().to_canonical(),
        tc_url: request.url.clone(),
        page_url: request.referer.clone(),
    };
    let admitted = match Target::new(vhost, key, request.query.clone()) {
        // Boxed, as for RTMP: the admission future is large and short-lived.
        Ok(target) => Box::pin(lifecycle::play(ctx, &peer, target)).await,
        Err(refusal) => Err(refusal),
    };
    let playing = match admitted {
        Ok(playing) => playing,
        Err(refusal) => {
            info!(cid = id, peer = %request.peer, url = %request.url, "flv play refused: {refusal}");
            return reply::status(refusal.http_status());
        }
    };
    info.set_kind(ClientKind::FlvPlay);
    info!(cid = id, peer = %request.peer, stream = ?playing.key.to_string(), url = %request.url, "flv play");
    // Merged writes as for RTMP players (SRS does the same for HTTP-FLV).
    let rule = playing.vhost.merge_rule();
    let mut consumer = playing.consumer;
    consumer.set_tracks(tracks_asked(&request.query));
    let mut stream = FlvStream::new(consumer, registration, rule);
    stream.ticket = playing.ticket;
    let mut resp = Response::new(ResponseBody::Flv(Box::new(stream)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("video/x-flv"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    *resp.status_mut() = StatusCode::OK;
    resp
}

/// Which tracks of an E-RTMP multitrack stream an HTTP-FLV player gets. HTTP
/// has no `connect` to announce Enhanced RTMP in, so the URL says it:
/// `?tracks=all` for every track (ffmpeg 7.1+ reads them); by default the
/// default track only, which every FLV player (mpegts.js, flv.js, older
/// ffmpeg) can read.
fn tracks_asked(query: &str) -> TrackFilter {
    let all = query
        .trim_start_matches('?')
        .split('&')
        .any(|kv| kv.eq_ignore_ascii_case("tracks=all"));
    if all {
        TrackFilter::All
    } else {
        TrackFilter::DefaultOnly
    }
}

/// The headers a GET would get, for a HEAD on a mount (no subscription).
pub(crate) fn head() -> Reply {
    let mut resp = Response::new(ResponseBody::empty());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("video/x-flv"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// A player's live FLV body: drains its consumer queue into FLV pieces.
pub(crate) struct FlvStream {
    pending: VecDeque<Bytes>,
    /// One drain's items, each with the time this player gets it at (its
    /// consumer's clock: from 0 when it joined, going on across republishes;
    /// the publisher's with `atc on`).
    items: Vec<(QueueItem, u64)>,
    /// Tag headers of the drain being turned into pieces.
    headers: BytesMut,
    /// Each tag of that drain: where its header is in `headers`, and its payload.
    tags: Vec<(Range<usize>, Bytes)>,
    rule: MergeRule,
    kicked: BoxFuture<'static, ()>,
    prev_tag_size: u32,
    // Dropped last: unsubscribing and unlisting happen when the body goes
    // away, then `on_stop` is sent.
    consumer: Consumer,
    registration: ClientRegistration,
    ticket: Ticket,
}

impl FlvStream {
    fn new(consumer: Consumer, registration: ClientRegistration, rule: MergeRule) -> Self {
        let info = registration.info().clone();
        let mut pending = VecDeque::new();
        pending.push_back(Bytes::from_static(&FLV_FILE_HEADER));
        Self {
            pending,
            items: Vec::new(),
            headers: BytesMut::new(),
            tags: Vec::new(),
            rule,
            kicked: Box::pin(async move { info.kicked().await }),
            prev_tag_size: 0,
            consumer,
            registration,
            ticket: Ticket::default(),
        }
    }

    /// Turns one queue item, due at `timestamp` on this player's timeline,
    /// into pieces to send.
    fn push_item(&mut self, item: QueueItem, timestamp: u64) {
        match item {
            QueueItem::Media(frame) => {
                let payload = &frame.msg.payload;
                let Ok(size) = u32::try_from(payload.len()) else {
                    return;
                };
                if payload.len() > MAX_TAG_DATA {
                    // Cannot come from RTMP (24-bit message length); never emit a corrupt tag.
                    return;
                }
                // FLV timestamps are 32-bit milliseconds and wrap (E.4.1).
                let ts32 = (timestamp & 0xFFFF_FFFF) as u32;
                let Ok(header) =
                    flv::tag_prefix(self.prev_tag_size, frame.msg.kind.tag_type(), ts32, size)
                else {
                    return;
                };
                let at = self.headers.len();
                self.headers.extend_from_slice(&header);
                self.tags.push((at..self.headers.len(), payload.clone()));
                self.prev_tag_size = TAG_HEADER_LEN.saturating_add(size);
            }
            // The player stays and waits for the publisher to return; its
            // clock continues the timeline when it does.
            QueueItem::Published | QueueItem::Unpublished => {}
        }
    }

    /// Turns the tags of one drain into pieces: each header a slice of one
    /// shared buffer, each payload as it came.
    fn flush_tags(&mut self) {
        let headers = self.headers.split().freeze();
        for (header, payload) in self.tags.drain(..) {
            self.pending.push_back(headers.slice(header));
            if !payload.is_empty() {
                self.pending.push_back(payload);
            }
        }
    }

    /// Up to [`MAX_PIECES`] waiting pieces, as one frame.
    fn take_pieces(&mut self) -> Pieces {
        let mut out = Pieces::default();
        while out.count() < MAX_PIECES {
            let Some(piece) = self.pending.pop_front() else {
                break;
            };
            out.push(piece);
        }
        out
    }

    /// The next part of the body: everything the queue released, up to
    /// [`MAX_PIECES`] pieces; `Err` when the client was kicked.
    pub(crate) fn poll_next_pieces(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Pieces, BodyError>>> {
        let info = self.registration.info().clone();
        if info.is_kicked() {
            return Poll::Ready(Some(Err(BodyError::Kicked)));
        }
        for _ in 0..MAX_STEPS_PER_POLL {
            if !self.pending.is_empty() {
                let pieces = self.take_pieces();
                info.add_out(pieces.remaining());
                return Poll::Ready(Some(Ok(pieces)));
            }
            if self.consumer.poll_ready(cx, self.rule).is_pending() {
                return self.poll_kicked(cx);
            }
            let mut items = std::mem::take(&mut self.items);
            self.consumer
                .drain_timed(usize::MAX, |item, ts| items.push((item.clone(), ts)));
            for (item, timestamp) in items.drain(..) {
                self.push_item(item, timestamp);
            }
            self.items = items;
            self.flush_tags();
        }
        // Busy stream: let other tasks run, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn poll_kicked(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Pieces, BodyError>>> {
        match self.kicked.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::Kicked))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for FlvStream {
    fn drop(&mut self) {
        let info = self.registration.info();
        info!(
            cid = info.id,
            sent = info.bytes_out.load(std::sync::atomic::Ordering::Relaxed),
            dropped = self.consumer.dropped(),
            "flv play ended"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MountTemplate;
    use crate::hub::Hub;
    use bytes::Bytes;
    use media_core::MediaKind;

    fn vhost(name: &str, mount: Option<&str>) -> Arc<VhostSettings> {
        let mut v = crate::settings::default_vhost();
        v.name = name.to_owned();
        v.flv_mount = mount.map(|m| MountTemplate::parse(m).unwrap());
        Arc::new(v)
    }

    fn key(v: &str, a: &str, s: &str) -> StreamKey {
        StreamKey {
            vhost: v.into(),
            app: a.into(),
            stream: s.into(),
        }
    }

    #[test]
    fn default_mount_serves_live_paths_on_any_host() {
        let vhosts = vec![vhost(DEFAULT_VHOST, Some("[vhost]/[app]/[stream].flv"))];
        let (v, k) = match_mount(&vhosts, Some("example.com"), "/live/livestream.flv").unwrap();
        assert_eq!(v.name, DEFAULT_VHOST);
        assert_eq!(k, key(DEFAULT_VHOST, "live", "livestream"));
        assert!(match_mount(&vhosts, None, "/live/livestream.m3u8").is_none());
        assert!(match_mount(&vhosts, None, "/livestream.flv").is_none());
    }

    #[test]
    fn named_vhost_by_host_header_or_path() {
        let vhosts = vec![
            vhost(DEFAULT_VHOST, Some("[vhost]/[app]/[stream].flv")),
            vhost("v.example", Some("[vhost]/[app]/[stream].flv")),
            vhost("off.example", None),
        ];
        let (_, k) = match_mount(&vhosts, Some("v.example"), "/live/a.flv").unwrap();
        assert_eq!(k, key("v.example", "live", "a"));
        let (_, k) = match_mount(&vhosts, Some("V.EXAMPLE"), "/live/a.flv").unwrap();
        assert_eq!(k.vhost, "v.example");
        let (_, k) = match_mount(&vhosts, None, "/v.example/live/a.flv").unwrap();
        assert_eq!(k, key("v.example", "live", "a"));
        // Unknown host or a vhost without http_remux: the default vhost.
        let (_, k) = match_mount(&vhosts, Some("other.example"), "/live/a.flv").unwrap();
        assert_eq!(k.vhost, DEFAULT_VHOST);
        let (_, k) = match_mount(&vhosts, Some("off.example"), "/live/a.flv").unwrap();
        assert_eq!(k.vhost, DEFAULT_VHOST);
    }

    #[test]
    fn custom_template_and_no_default_mount() {
        let vhosts = vec![vhost(DEFAULT_VHOST, Some("/flv/[app]/[stream].flv"))];
        let (_, k) = match_mount(&vhosts, None, "/flv/live/x.flv").unwrap();
        assert_eq!(k, key(DEFAULT_VHOST, "live", "x"));
        assert!(match_mount(&vhosts, None, "/live/x.flv").is_none());
        let vhosts = vec![vhost(DEFAULT_VHOST, None)];
        assert!(match_mount(&vhosts, None, "/live/x.flv").is_none());
    }

    fn poll(stream: &mut FlvStream) -> Poll<Option<Result<Pieces, BodyError>>> {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        stream.poll_next_pieces(&mut cx)
    }

    fn drain(stream: &mut FlvStream) -> Vec<u8> {
        let mut out = Vec::new();
        while let Poll::Ready(Some(Ok(mut pieces))) = poll(stream) {
            out.extend_from_slice(&pieces.copy_to_bytes(pieces.remaining()));
        }
        out
    }

    #[test]
    fn streams_flv_tags_and_survives_republish() {
        let hub = Hub::new();
        let k = key(DEFAULT_VHOST, "live", "s");
        let source = hub.source(&k, || crate::settings::default_vhost().source_options());
        let consumer = hub.subscribe(&source);
        let registration =
            hub.register_client(ClientInfo::new(hub.next_id(), "1.2.3.4:5".into(), 0));
        let info = registration.info().clone();
        let mut stream = FlvStream::new(consumer, registration, MergeRule::IMMEDIATE);

        // Nothing published yet: the header, then the player waits.
        assert_eq!(drain(&mut stream), FLV_FILE_HEADER);
        assert!(poll(&mut stream).is_pending());

        let publish = hub.publish(&source, 99, 0).unwrap();
        source.push(
            MediaKind::Audio,
            0,
            Bytes::from_static(&[0xAF, 1, 0xAA, 0xBB]),
        );
        source.push(MediaKind::Audio, 40, Bytes::from_static(&[0xAF, 1, 0xCC]));
        // Released together, the two tags leave as one frame of four pieces.
        let out = match poll(&mut stream) {
            Poll::Ready(Some(Ok(mut frame))) => {
                assert_eq!(frame.count(), 4);
                frame.copy_to_bytes(frame.remaining())
            }
            _ => panic!("two tags ready"),
        };
        assert!(poll(&mut stream).is_pending());
        let first_ts;
        {
            // tag 1: prev=0, audio, size 4
            assert_eq!(&out[..8], &[0, 0, 0, 0, 8, 0, 0, 4]);
            first_ts = u32::from_be_bytes([out[11], out[8], out[9], out[10]]);
            assert_eq!(&out[15..19], &[0xAF, 1, 0xAA, 0xBB]);
            // tag 2: prev = 11 + 4
            assert_eq!(&out[19..27], &[0, 0, 0, 15, 8, 0, 0, 3]);
            assert_eq!(&out[34..], &[0xAF, 1, 0xCC]);
        }
        let second_ts = u32::from_be_bytes([out[30], out[27], out[28], out[29]]);
        assert!(second_ts > first_ts);
        assert_eq!(
            info.bytes_out.load(std::sync::atomic::Ordering::Relaxed),
            (FLV_FILE_HEADER.len() + out.len()) as u64
        );

        // The publisher leaves and returns: the player keeps waiting, and time goes on.
        drop(publish);
        assert!(poll(&mut stream).is_pending());
        let _publish = hub.publish(&source, 100, 1000).unwrap();
        source.push(MediaKind::Audio, 0, Bytes::from_static(&[0xAF, 1, 0xDD]));
        let out = drain(&mut stream);
        assert_eq!(&out[..8], &[0, 0, 0, 14, 8, 0, 0, 3]);
        let third_ts = u32::from_be_bytes([out[11], out[8], out[9], out[10]]);
        assert!(third_ts >= second_ts, "{third_ts} < {second_ts}");

        // Kicked: the body fails, so hyper closes the connection.
        info.kick();
        assert!(matches!(
            poll(&mut stream),
            Poll::Ready(Some(Err(BodyError::Kicked)))
        ));
        drop(stream);
        assert!(
            hub.client(info.id).is_none(),
            "client unlisted when the body goes away"
        );
    }
}
