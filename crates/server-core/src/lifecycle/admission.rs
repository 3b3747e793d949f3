//! Admission: connect, publish and play as async steps every protocol shares.
//!
//! The order is SRS's (`SrsRtmpConn::service_cycle`, `publishing`,
//! `do_playing`): the vhost is resolved, then `security` (by address), then
//! `refer` (by page), then the `http_hooks` are asked, and only then is the
//! stream claimed or joined in the hub. One difference on purpose: SRS answers
//! `NetStream.Publish.Start` before it asks `on_publish` and then closes
//! without a word when the hook refuses (its issue 3436: OBS shows no reason).
//! Here the decision comes first, so a refused client gets an error status
//! with the reason before the connection closes.

use std::net::IpAddr;
use std::sync::Arc;

use http::StatusCode;
use rtmp_proto::command::status::{PLAY_STREAM_NOT_FOUND, PUBLISH_BAD_NAME};
use tracing::info;

use super::outputs::PublishedStream;
use crate::access::{ReferDenied, SecurityDenied, Verb};
use crate::bandcheck::{BandcheckConn, BandcheckRefusal};
use crate::context::ServerCtx;
use crate::hooks::{HookDenied, HookEvent, HookRequest, HttpHooksConfig};
use crate::hub::{
    ClientInfo, Consumer, NameError, PublishError, PublishGuard, Source, StreamKey, StreamRequest,
    MAX_NAME_BYTES,
};
use crate::vhost::VhostSettings;

/// Longest query string (`?token=...`) a play or publish may carry.
pub const MAX_PARAM_BYTES: usize = 4096;
/// The status a publish refused by `security`, `refer` or a hook gets.
pub const PUBLISH_REJECTED: &str = "NetStream.Publish.Rejected";
/// The status a play refused by `security`, `refer` or a hook gets.
pub const PLAY_REJECTED: &str = "NetStream.Play.Rejected";

/// Who asks: what the access checks and the hooks know about a client.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The client as the hub lists it (its id is the hooks' `client_id`).
    pub info: Arc<ClientInfo>,
    /// The client's address.
    pub ip: IpAddr,
    /// The RTMP tcUrl; for HTTP-FLV, the URL the player asked for.
    pub tc_url: String,
    /// The RTMP connect's `pageUrl`; for HTTP-FLV, the `Referer`.
    pub page_url: String,
}

impl Peer {
    /// The hooks' view of this client asking for `key` with query `param`
    /// (`source` once the stream exists in the hub).
    fn hook_request(&self, key: &StreamKey, param: &str, source: Option<&Source>) -> HookRequest {
        HookRequest {
            client_id: self.info.id.to_string(),
            ip: self.ip.to_string(),
            vhost: key.vhost.clone(),
            app: key.app.clone(),
            stream: key.stream.clone(),
            param: param.to_owned(),
            tc_url: self.tc_url.clone(),
            page_url: self.page_url.clone(),
            stream_id: source.map(|s| s.id.to_string()),
        }
    }
}

/// Why a client was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The vhost is not configured (and there is no `__defaultVhost__`), or is `enabled off`.
    #[error("vhost {0:?} not found or disabled")]
    VhostNotFound(String),
    /// An app, stream name or query string over its bound.
    #[error("name or query string too long")]
    NameTooLong,
    /// A published name that cannot safely name files.
    #[error(transparent)]
    BadName(#[from] NameError),
    /// Someone else publishes the stream.
    #[error("stream {0} is already being published")]
    AlreadyPublishing(StreamKey),
    /// The vhost's `security` rules (the reason names the rule).
    #[error(transparent)]
    Security(#[from] SecurityDenied),
    /// The vhost's `refer` rules (the reason names the page).
    #[error(transparent)]
    Refer(#[from] ReferDenied),
    /// An `http_hooks` URL refused (or failed, which refuses too).
    #[error("hook {0}")]
    Hook(#[from] HookDenied),
    /// The vhost's `bandcheck`: a wrong key, a check too soon, too many at once.
    #[error(transparent)]
    Bandcheck(#[from] BandcheckRefusal),
    /// On an edge, no origin took the publish ([`crate::edge`]).
    #[error(transparent)]
    Origin(#[from] crate::edge::OriginRefusal),
}

impl From<PublishError> for Refusal {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::AlreadyPublishing(key) => Self::AlreadyPublishing(key),
            PublishError::BadName(e) => Self::BadName(e),
        }
    }
}

impl Refusal {
    /// A decision of the operator's (`security`, `refer`, a hook) rather
    /// than a mistake in the request: the client is told, then disconnected.
    pub fn is_denial(&self) -> bool {
        matches!(
            self,
            Self::Security(_)
                | Self::Refer(_)
                | Self::Hook(_)
                | Self::Bandcheck(_)
                | Self::Origin(_)
        )
    }

    /// The `onStatus` code for a refused publish.
    pub fn publish_code(&self) -> &'static str {
        if self.is_denial() {
            PUBLISH_REJECTED
        } else {
            PUBLISH_BAD_NAME
        }
    }

    /// The `onStatus` code for a refused play.
    pub fn play_code(&self) -> &'static str {
        if self.is_denial() {
            PLAY_REJECTED
        } else {
            PLAY_STREAM_NOT_FOUND
        }
    }

    /// What the refused client is told (its `onStatus` description): the
    /// reason, except that a hook's URL, and how a hook failed, stay in the
    /// server's log.
    pub fn client_reason(&self) -> String {
        match self {
            Self::Hook(denied) => denied.client_reason(),
            other => other.to_string(),
        }
    }

    /// The HTTP status for a refused HTTP-FLV play.
    pub fn http_status(&self) -> StatusCode {
        match self {
            _ if self.is_denial() => StatusCode::FORBIDDEN,
            Self::NameTooLong => StatusCode::URI_TOO_LONG,
            _ => StatusCode::NOT_FOUND,
        }
    }
}

/// Tells the hooks, when dropped, that what it stands for has ended
/// (`on_close`, `on_unpublish`, `on_stop`). Empty when there is nobody to
/// tell, so a vhost without hooks pays nothing for it. On an edge, a
/// player's ticket also holds its place on the stream's pull from the
/// origin ([`crate::edge`]), so the pull knows when its last player left.
#[derive(Debug, Default)]
pub struct Ticket {
    armed: Option<Armed>,
    edge: Option<crate::edge::Viewer>,
}

#[derive(Debug)]
struct Armed {
    ctx: Arc<ServerCtx>,
    hooks: HttpHooksConfig,
    event: HookEvent,
    /// For `on_close`: the byte counts are read when the ticket drops.
    client: Option<Arc<ClientInfo>>,
}

impl Ticket {
    /// A ticket that sends `event` when dropped, if `hooks` has URLs for it.
    fn new(ctx: &Arc<ServerCtx>, hooks: &HttpHooksConfig, event: HookEvent) -> Self {
        let urls = match &event {
            HookEvent::Close { .. } => &hooks.on_close,
            HookEvent::Unpublish(_) => &hooks.on_unpublish,
            HookEvent::Stop(_) => &hooks.on_stop,
            _ => return Self::default(),
        };
        if !hooks.enabled || urls.is_empty() {
            return Self::default();
        }
        Self {
            armed: Some(Armed {
                ctx: ctx.clone(),
                hooks: hooks.clone(),
                event,
                client: None,
            }),
            edge: None,
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Some(Armed {
            ctx,
            hooks,
            mut event,
            client,
        }) = self.armed.take()
        else {
            return;
        };
        if let (
            HookEvent::Close {
                send_bytes,
                recv_bytes,
                ..
            },
            Some(client),
        ) = (&mut event, client)
        {
            let traffic = client.traffic(ctx.now_ms());
            *send_bytes = traffic.bytes_out;
            *recv_bytes = traffic.bytes_in;
        }
        ctx.hooks.notify(&hooks, event);
    }
}

/// The hooks' `param`: the query as the client sent it, `?` included. SRS
/// takes the stream name's; a client that put it on the tcUrl instead
/// (`rtmp://host/live?token=x`) gets that one.
fn hook_param(req: &StreamRequest) -> String {
    let (_, stream_query) = crate::hub::split_query(&req.stream_with_query);
    let (_, tc_query) = crate::hub::split_query(&req.tc_url);
    match (stream_query, tc_query) {
        ("", "") => String::new(),
        ("", tc) => format!("?{tc}"),
        (stream, _) => format!("?{stream}"),
    }
}

/// An RTMP `connect`: resolves the vhost from the tcUrl, checks `refer`'s
/// `all` list and asks `on_connect`. `on_close` is armed in `close` as soon
/// as the vhost is known, before `on_connect` is asked, so a client whose
/// connect a hook refuses is reported closed too, as SRS does.
pub async fn connect(
    ctx: &Arc<ServerCtx>,
    peer: &Peer,
    close: &mut Ticket,
) -> Result<Arc<VhostSettings>, Refusal> {
    let req = StreamRequest::new(&peer.tc_url, "");
    let Some((vhost, key)) = ctx.resolve(&req) else {
        return Err(Refusal::VhostNotFound(req.key.vhost));
    };
    let hook_req = peer.hook_request(&key, &hook_param(&req), None);
    *close = Ticket::new(
        ctx,
        &vhost.hooks,
        HookEvent::Close {
            req: hook_req.clone(),
            send_bytes: 0,
            recv_bytes: 0,
        },
    );
    if let Some(armed) = &mut close.armed {
        armed.client = Some(peer.info.clone());
    }
    if vhost.refer.enabled {
        vhost.refer.check(None, &peer.page_url)?;
    }
    // On an edge with `token_traverse on`, the origin judges the connect
    // first (SRS does it before its own checks of the client).
    Box::pin(
        ctx.edges
            .traverse_token(ctx, &vhost, &peer.tc_url, &peer.page_url, peer.info.id),
    )
    .await?;
    ctx.hooks
        .check(&vhost.hooks, &HookEvent::Connect(hook_req))
        .await?;
    Ok(vhost)
}

/// After an accepted [`connect`]: whether the client runs a bandwidth
/// check instead of publishing or playing, which it does on a vhost with
/// `bandcheck { enabled on; }` (SRS hands such a connect to its
/// `SrsBandwidth` before anything else). The check is admitted by the
/// vhost's key and interval ([`crate::bandcheck::BandcheckGate`]) or
/// refused; `None` on any other vhost. `flash`: the connect had a `swfUrl`.
pub fn bandcheck(
    ctx: &ServerCtx,
    peer: &Peer,
    vhost: &VhostSettings,
    flash: bool,
) -> Result<Option<BandcheckConn>, Refusal> {
    let config = ctx.config();
    let bandcheck = &config.vhost(&vhost.name).bandcheck;
    if !bandcheck.enabled {
        return Ok(None);
    }
    let ticket = ctx
        .bandcheck
        .admit(bandcheck, &peer.tc_url, peer.ip, ctx.rt.now())?;
    Ok(Some(BandcheckConn::new(
        bandcheck,
        flash,
        ticket,
        ctx.now_ms(),
    )))
}

/// A stream being published: the hub's claim on it, and what ends with it.
/// Dropping it unpublishes, stops the outputs and sends `on_unpublish`, in
/// that order, on every path out (an error, a kick, a panic).
#[derive(Debug)]
pub struct Publishing {
    guard: Option<PublishGuard>,
    stream: PublishedStream,
    ctx: Arc<ServerCtx>,
    _unpublish: Ticket,
}

impl Publishing {
    /// The stream's source, to push media into.
    pub fn source(&self) -> &Arc<Source> {
        &self.stream.source
    }

    /// The vhost the stream is published on.
    pub fn vhost(&self) -> &Arc<VhostSettings> {
        &self.stream.vhost
    }
}

impl Drop for Publishing {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.ctx.outputs.on_unpublish(&self.ctx, &self.stream);
    }
}

/// What a publish or play is for: the stream, on its vhost, with the
/// query string the client sent.
#[derive(Debug, Clone)]
pub struct Target {
    /// The vhost's settings.
    pub vhost: Arc<VhostSettings>,
    /// The stream (its `vhost` is the vhost actually used).
    pub key: StreamKey,
    /// The query as sent, `?` included (`?token=abc`), or empty: the hooks' `param`.
    pub param: String,
}

impl Target {
    /// An RTMP publish or play: the vhost from the tcUrl or `?vhost=`, SRS's way.
    pub fn resolve(ctx: &ServerCtx, req: &StreamRequest) -> Result<Self, Refusal> {
        let (vhost, key) = ctx
            .resolve(req)
            .ok_or_else(|| Refusal::VhostNotFound(req.key.vhost.clone()))?;
        Self::new(vhost, key, hook_param(req))
    }

    /// A stream already matched to its vhost (an HTTP-FLV mount), with the
    /// request's query (`?` included, or empty).
    pub fn new(vhost: Arc<VhostSettings>, key: StreamKey, param: String) -> Result<Self, Refusal> {
        // Names key the hub and the logs, and the query goes to hooks:
        // bounded for players too, whose names are not checked as file names.
        if key.app.len() > MAX_NAME_BYTES
            || key.stream.len() > MAX_NAME_BYTES
            || param.len() > MAX_PARAM_BYTES
        {
            return Err(Refusal::NameTooLong);
        }
        Ok(Self { vhost, key, param })
    }
}

/// `security` then `refer` for `verb`.
fn check_access(vhost: &VhostSettings, peer: &Peer, verb: Verb) -> Result<(), Refusal> {
    if vhost.security.enabled {
        vhost.security.check(verb, peer.ip)?;
    }
    if vhost.refer.enabled {
        vhost.refer.check(Some(verb), &peer.page_url)?;
    }
    Ok(())
}

/// A publish of `target`: checks, asks `on_publish`, claims the stream in
/// the hub and starts its outputs.
pub async fn publish(
    ctx: &Arc<ServerCtx>,
    peer: &Peer,
    target: Target,
) -> Result<Publishing, Refusal> {
    let Target { vhost, key, param } = target;
    key.check_names()?;
    check_access(&vhost, peer, Verb::Publish)?;
    // The source exists from here (the hooks name its id); if the hook
    // refuses, the hub's housekeeping forgets it.
    let source = ctx.hub.source(&key, || vhost.source_options());
    // Not worth a hook call if the stream is taken; the claim below decides.
    if source.publisher().is_some() {
        return Err(Refusal::AlreadyPublishing(key));
    }
    let hook_req = peer.hook_request(&key, &param, Some(&source));
    ctx.hooks
        .check(&vhost.hooks, &HookEvent::Publish(hook_req.clone()))
        .await?;
    // On an edge, the origin answers first (its connection is kept until
    // the stream's push takes it, below, in `on_publish`).
    let _origin = Box::pin(
        ctx.edges
            .publish_upstream(ctx, &vhost, &key, &param, peer.info.id),
    )
    .await?;
    let guard = ctx.hub.publish(&source, peer.info.id, ctx.now_ms())?;
    info!(stream = %key, param = ?param, "publish");
    peer.info.update(|d| {
        d.stream = Some(key.clone());
        d.source_id = Some(source.id);
    });
    let stream = PublishedStream {
        source,
        vhost: vhost.clone(),
        publisher: hook_req.clone(),
    };
    ctx.outputs.on_publish(ctx, &stream);
    Ok(Publishing {
        guard: Some(guard),
        stream,
        ctx: ctx.clone(),
        _unpublish: Ticket::new(ctx, &vhost.hooks, HookEvent::Unpublish(hook_req)),
    })
}

/// A stream the server publishes itself with media from elsewhere (an
/// edge's pull from its origin): claimed in the hub and its outputs started
/// as for any publish. No `security`, `refer` or hooks: SRS asks no hook
/// for its edge's own publish (the players were asked already).
pub fn publish_internal(
    ctx: &Arc<ServerCtx>,
    vhost: Arc<VhostSettings>,
    source: &Arc<Source>,
    publisher: HookRequest,
    client_id: u64,
) -> Result<Publishing, Refusal> {
    let guard = ctx.hub.publish(source, client_id, ctx.now_ms())?;
    info!(stream = %source.key, "publish (internal)");
    let stream = PublishedStream {
        source: source.clone(),
        vhost,
        publisher,
    };
    ctx.outputs.on_publish(ctx, &stream);
    Ok(Publishing {
        guard: Some(guard),
        stream,
        ctx: ctx.clone(),
        _unpublish: Ticket::default(),
    })
}

/// A stream being played: the consumer to drain, and what ends with it.
/// Dropping `ticket` (with the rest) sends `on_stop`.
#[derive(Debug)]
pub struct Playing {
    /// The player's queue on the stream.
    pub consumer: Consumer,
    /// The vhost the stream is played on.
    pub vhost: Arc<VhostSettings>,
    /// The stream.
    pub key: StreamKey,
    /// Sends `on_stop` when dropped: keep it as long as the consumer.
    pub ticket: Ticket,
}

/// A play of `target`: checks, asks `on_play`, then joins the stream (it
/// need not be published yet: the player waits for it, as in SRS).
pub async fn play(ctx: &Arc<ServerCtx>, peer: &Peer, target: Target) -> Result<Playing, Refusal> {
    let Target { vhost, key, param } = target;
    check_access(&vhost, peer, Verb::Play)?;
    let source = ctx.hub.source(&key, || vhost.source_options());
    let hook_req = peer.hook_request(&key, &param, Some(&source));
    ctx.hooks
        .check(&vhost.hooks, &HookEvent::Play(hook_req.clone()))
        .await?;
    info!(stream = ?key.to_string(), param = ?param, "play");
    let consumer = ctx.hub.subscribe(&source);
    let mut ticket = Ticket::new(ctx, &vhost.hooks, HookEvent::Stop(hook_req));
    // An edge pulls the stream from its origin for its first player.
    ticket.edge = ctx.edges.play(ctx, &vhost, &source, &param);
    peer.info.update(|d| {
        d.stream = Some(key.clone());
        d.source_id = Some(source.id);
    });
    Ok(Playing {
        consumer,
        ticket,
        vhost,
        key,
    })
}

/// A play of a file (`vod`): the same `security`, `refer` and `on_play`
/// as a live play, but no stream in the hub. The ticket sends `on_stop`.
pub async fn play_file(
    ctx: &Arc<ServerCtx>,
    peer: &Peer,
    target: &Target,
) -> Result<Ticket, Refusal> {
    let Target { vhost, key, param } = target;
    check_access(vhost, peer, Verb::Play)?;
    let hook_req = peer.hook_request(key, param, None);
    ctx.hooks
        .check(&vhost.hooks, &HookEvent::Play(hook_req.clone()))
        .await?;
    info!(stream = ?key.to_string(), param = ?param, "play (vod)");
    peer.info.update(|d| d.stream = Some(key.clone()));
    Ok(Ticket::new(ctx, &vhost.hooks, HookEvent::Stop(hook_req)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_param_is_the_query_as_sent() {
        let p = |tc: &str, name: &str| hook_param(&StreamRequest::new(tc, name));
        assert_eq!(p("rtmp://h/live", "cam?token=abc"), "?token=abc");
        assert_eq!(p("rtmp://h/live?token=x", "cam"), "?token=x");
        assert_eq!(p("rtmp://h/live?vhost=v", "cam?token=abc"), "?token=abc");
        assert_eq!(p("rtmp://h/live", "cam"), "");
    }

    #[test]
    fn refusals_map_to_protocol_answers() {
        let hook = Refusal::Hook(HookDenied {
            url: "http://10.1.2.3:8085/auth".into(),
            reason: "code 1".into(),
            answered: true,
        });
        assert!(hook.is_denial());
        // The client hears the hook's answer, never its address...
        assert!(hook.client_reason().contains("code 1"));
        assert!(!hook.client_reason().contains("10.1.2.3"));
        // ...nor how calling it failed.
        let down = Refusal::Hook(HookDenied {
            url: "http://10.1.2.3:8085/auth".into(),
            reason: "cannot connect to 10.1.2.3:8085: refused".into(),
            answered: false,
        });
        assert!(!down.client_reason().contains("10.1.2.3"));
        assert_eq!(hook.publish_code(), PUBLISH_REJECTED);
        assert_eq!(hook.play_code(), PLAY_REJECTED);
        assert_eq!(hook.http_status(), StatusCode::FORBIDDEN);
        let busy = Refusal::AlreadyPublishing(StreamKey {
            vhost: "v".into(),
            app: "a".into(),
            stream: "s".into(),
        });
        assert!(!busy.is_denial());
        assert_eq!(busy.publish_code(), PUBLISH_BAD_NAME);
        assert_eq!(Refusal::NameTooLong.http_status(), StatusCode::URI_TOO_LONG);
        assert_eq!(
            Refusal::VhostNotFound("x".into()).play_code(),
            PLAY_STREAM_NOT_FOUND
        );
    }
}
