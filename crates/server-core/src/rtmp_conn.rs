//! One RTMP connection: a [`ServerSession`] driven by two loops.
//!
//! The read loop feeds socket bytes to the sans-IO session and acts on its
//! events (connect, publish, play...). The write loop drains what the session
//! wants to send plus, for a player, what its consumer has yet to read, and
//! writes it all in one vectored write. A player is woken by its source only
//! once `mw_latency` ms of media (and more than `mw_msgs` messages) wait, so
//! small messages merge into few large writes with no timer per player (SRS's
//! merged write). Any error ends this connection only, with its reason logged
//! under the connection's id.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::access::memory::Share;
use bytes::Bytes;
use futures_util::future::{poll_immediate, BoxFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::task::{noop_waker_ref, AtomicWaker};
use futures_util::FutureExt;
use media_core::MediaKind;
use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::chunk::Limits;
use rtmp_proto::command::status::{PLAY_FAILED, PLAY_STREAM_NOT_FOUND, PUBLISH_BAD_NAME};
use rtmp_proto::command::Command;
use rtmp_proto::control::UserControlEvent;
use rtmp_proto::message::RawMessage;
use rtmp_proto::session::{ServerConfig, ServerEvent, ServerSession};
use tracing::{debug, info, warn, Instrument};

use crate::context::ServerCtx;
use crate::hub::{
    ClientInfo, ClientKind, ClientOrder, Consumer, MergeRule, QueueItem, StreamRequest, TrackFilter,
};
use crate::io::Outbox;
use crate::lifecycle::{self, Peer, Publishing, Target, Ticket};
use crate::runtime::{timeout, Connection, WriteHalf};
use crate::vhost::VhostSettings;
use crate::vod::{VodItem, VodPlayback};

/// Longest tcUrl accepted at connect (real ones, tokens included, are far
/// shorter; AMF0 would allow 16 MiB, kept for the connection's life).
pub const MAX_TC_URL_BYTES: usize = 4096;
/// Longest client description (`flashVer`, `pageUrl`, `swfUrl`,
/// `fourCcList`) kept and logged.
const MAX_AGENT_BYTES: usize = 256;

/// `text` cut to at most `max` bytes, on a character boundary.
fn clip(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// An Enhanced RTMP `fourCcList` for the log: its string items, each clipped,
/// until the line would pass [`MAX_AGENT_BYTES`]. Built item by item, since the
/// array may hold megabytes that must not be formatted first and clipped after.
fn fourcc_list(value: &Amf0Value) -> String {
    let mut out = String::from("[");
    for item in value.as_array().unwrap_or_default() {
        let text = item.as_str().unwrap_or("?");
        let piece = format!("{:?}", clip(text, 16));
        if out.len() + piece.len() + 2 > MAX_AGENT_BYTES {
            out.push_str(", ...");
            break;
        }
        if out.len() > 1 {
            out.push_str(", ");
        }
        out.push_str(&piece);
    }
    out.push(']');
    out
}

/// A client must complete the handshake and send `connect` within this of
/// being accepted: shorter than [`IDLE_TIMEOUT`], so one address holding
/// silent sockets cannot keep `max_connections` full for long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that has not published or played this long after it connected
/// (or after its last stream ended) is dropped, however it trickles bytes.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A player whose socket accepts nothing for this long is dropped (stalled).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Most queued messages taken into one write: a join burst (the GOP cache)
/// goes out in slices, so no player holds room for a whole GOP at once.
const MAX_ITEMS_PER_WRITE: usize = 64;
/// With `mw_latency 0` and `mw_msgs N`, how long a publisher may be quiet
/// before its players get the fewer than N messages waiting.
const COUNT_RULE_RELEASE: Duration = Duration::from_millis(100);
/// Size of the per-thread read buffer every connection reads into.
const READ_BUF: usize = 64 * 1024;

thread_local! {
    /// One read buffer per thread, not per connection: bytes are handed to the
    /// session inside the same poll that read them, so no connection holds a
    /// buffer while it waits (players send little and there are thousands).
    static READ_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_BUF]);
}

#[derive(Debug)]
enum Role {
    Idle,
    Publishing {
        publishing: Publishing,
        got_media: bool,
    },
    Playing {
        consumer: Consumer,
        stream_id: u32,
        paused: bool,
        /// Sends `on_stop` when the play ends.
        _ticket: Ticket,
    },
    /// Running SRS's bandwidth check instead of publishing or playing.
    Bandcheck(Box<crate::bandcheck::BandcheckConn>),
    /// Playing a file (`vod`).
    Vod {
        playback: VodPlayback,
        stream_id: u32,
        /// Sends `on_stop` when the play ends.
        _ticket: Ticket,
    },
}

struct Conn {
    session: ServerSession,
    /// Who the client is, for the lifecycle's checks and hooks.
    peer: Peer,
    vhost: Arc<VhostSettings>,
    role: Role,
    /// The client sent `connect` (until then the shorter
    /// [`CONNECT_TIMEOUT`] applies).
    connect_seen: bool,
    /// Sends `on_close` when the connection ends.
    close_ticket: Ticket,
    /// When the publisher's last complete media message arrived (or its
    /// publish began): its `firstpkt_timeout`/`normal_timeout` run from here.
    media_since: Duration,
    /// The session ended (connect rejected, or a publish or play denied):
    /// flush what is queued, then close.
    closing: bool,
    /// Its part of the server-wide reassembly budget.
    reassembly: Share,
    /// Which tracks of an E-RTMP multitrack stream it plays: all when its
    /// connect announced Enhanced RTMP (`fourCcList`, or `capsEx`
    /// Multitrack), else the default track only.
    tracks: TrackFilter,
}

/// The read loop's signal to the write loop that the session has output: a
/// flag and one waker, so waiting allocates nothing.
#[derive(Debug, Default)]
struct Wake {
    flag: AtomicBool,
    waker: AtomicWaker,
}

impl Wake {
    fn notify(&self) {
        self.flag.store(true, Ordering::Release);
        self.waker.wake();
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.flag.swap(false, Ordering::AcqRel) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Why a connection ended, for the log line.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer broke the protocol.
    #[error("protocol: {0}")]
    Protocol(#[from] rtmp_proto::session::SessionError),
    /// The peer went silent.
    #[error("timeout: {0}")]
    Timeout(&'static str),
    /// The peer closed the connection.
    #[error("peer closed")]
    Closed,
    /// Kicked via the API.
    #[error("kicked")]
    Kicked,
    /// Closed for the server-wide reassembly budget.
    #[error("{0}")]
    OverBudget(#[from] crate::access::memory::OverBudget),
    /// A bandwidth check's client did not take its next step in time.
    #[error("bandcheck: {0}")]
    Bandcheck(#[from] rtmp_proto::bandcheck::BandcheckError),
}

/// Serves one accepted RTMP connection to its end.
pub async fn serve(ctx: Arc<ServerCtx>, conn: Box<dyn Connection>, peer: SocketAddr) {
    let id = ctx.hub.next_id();
    let span = tracing::info_span!("rtmp", cid = id, peer = %peer);
    async move {
        let info = ClientInfo::new(id, peer.to_string(), ctx.now_ms());
        let registration = ctx.hub.register_client(info);
        let info = registration.info().clone();
        debug!("accepted");
        let result = run(&ctx, conn, peer, &info).await;
        match result {
            Err(ConnError::Closed) | Ok(()) => info!("closed"),
            // The operator's (or a reload's) choice, not the connection's failure.
            Err(ConnError::Kicked) => warn!("closed: kicked"),
            Err(e) => {
                ctx.hub.count_client_error();
                warn!("closed: {e}")
            }
        }
    }
    .instrument(span)
    .await
}

async fn run(
    ctx: &Arc<ServerCtx>,
    conn: Box<dyn Connection>,
    addr: SocketAddr,
    info: &Arc<ClientInfo>,
) -> Result<(), ConnError> {
    // Until the connect request names one, the default vhost's settings hold.
    let default_vhost = ctx.vhost(crate::config::DEFAULT_VHOST);
    let session = ServerSession::new(
        ServerConfig {
            chunk_size: default_vhost.chunk_size,
            limits: ctx.chunk_limits(),
            ..ServerConfig::default()
        },
        ctx.now_ms() as u32,
        ctx.rt.random_seed(),
    );
    let state = Arc::new(Mutex::new(Conn {
        session,
        peer: Peer {
            info: info.clone(),
            ip: addr.ip().to_canonical(),
            tc_url: String::new(),
            page_url: String::new(),
        },
        vhost: default_vhost,
        role: Role::Idle,
        connect_seen: false,
        close_ticket: Ticket::default(),
        media_since: Duration::ZERO,
        closing: false,
        tracks: TrackFilter::DefaultOnly,
        reassembly: Share::new(ctx.reassembly.clone()),
    }));
    let wake = Wake::default();
    let (reader, writer) = conn.into_halves();
    // Each loop is polled only when its own waker fires: a player woken to
    // write does not re-poll its socket for reading, and the other way round.
    let mut loops: FuturesUnordered<BoxFuture<'_, Result<(), ConnError>>> = FuturesUnordered::new();
    loops.push(read_loop(ctx, reader, &state, &wake, info).boxed());
    loops.push(write_loop(ctx, writer, &state, &wake, info).boxed());
    loops.push(orders(&state, &wake, info).boxed());
    let result = loops.next().await.unwrap_or(Ok(()));
    drop(loops);
    // Dropping the state releases the publish or consumer guard, then
    // reports the close (`on_unpublish`/`on_stop` before `on_close`).
    let mut conn = lock(&state);
    conn.role = Role::Idle;
    drop(std::mem::take(&mut conn.close_ticket));
    result
}

/// Carries out what the server asks of this connection: a kick ends it; a
/// reconnect request (Enhanced RTMP v2) is queued for the write loop, which
/// then closes the connection if asked to, once the request is written.
async fn orders(
    state: &Arc<Mutex<Conn>>,
    wake: &Wake,
    info: &Arc<ClientInfo>,
) -> Result<(), ConnError> {
    loop {
        let ask = match info.next_order().await {
            ClientOrder::Kick => return Err(ConnError::Kicked),
            ClientOrder::Reconnect(ask) => ask,
        };
        let mut conn = lock(state);
        let sent = conn
            .session
            .request_reconnect(ask.tc_url.as_deref(), &ask.description);
        if sent {
            info!(tc_url = ?ask.tc_url, "reconnect requested: {}", ask.description);
        }
        if ask.then_close {
            if !sent {
                return Err(ConnError::Kicked);
            }
            conn.closing = true;
        }
        drop(conn);
        wake.notify();
    }
}

/// The chunk decoder limits of a connected client whose vhost caps messages
/// at `max_message` bytes: partial messages may hold twice that together
/// (one message and the others interleaved with it), never more than the
/// default 32 MiB.
fn rtmp_limits(max_message: u32) -> Limits {
    let defaults = Limits::default();
    Limits {
        max_message_size: max_message,
        max_reassembly_bytes: (max_message as usize)
            .saturating_mul(2)
            .min(defaults.max_reassembly_bytes),
        ..defaults
    }
}

fn lock(state: &Mutex<Conn>) -> MutexGuard<'_, Conn> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn read_loop(
    ctx: &Arc<ServerCtx>,
    mut reader: impl futures_io::AsyncRead + Unpin,
    state: &Arc<Mutex<Conn>>,
    wake: &Wake,
    info: &Arc<ClientInfo>,
) -> Result<(), ConnError> {
    let mut last_read = ctx.rt.now();
    // A publisher's last read may have left media short of a merge window
    // parked with its players; once it has been quiet `release_after`, they
    // get it anyway (see `Fanout::release`).
    let mut release_owed = false;
    // While idle the deadline runs from when the connection became idle, not
    // from its last read: a client trickling a byte now and then through the
    // handshake must not hold a connection slot for hours.
    let mut idle_since: Option<Duration> = None;
    loop {
        let (limit, what, merged_read, release_after, media_since, read_pause) = {
            let conn = lock(state);
            if matches!(conn.role, Role::Idle) {
                idle_since.get_or_insert(ctx.rt.now());
            } else {
                idle_since = None;
            }
            let (limit, what, merged_read, release_after) = match &conn.role {
                Role::Idle if !conn.connect_seen => {
                    (Some(CONNECT_TIMEOUT), "no connect", None, None)
                }
                Role::Idle => (Some(IDLE_TIMEOUT), "no publish or play", None, None),
                Role::Publishing {
                    got_media: false, ..
                } => (
                    Some(conn.vhost.firstpkt_timeout),
                    "no first packet",
                    conn.vhost.merged_read,
                    None,
                ),
                Role::Publishing {
                    got_media: true, ..
                } => (
                    Some(conn.vhost.normal_timeout),
                    "publisher silent",
                    conn.vhost.merged_read,
                    release_delay(&conn).filter(|_| release_owed),
                ),
                // Players legitimately send nothing; stalls are caught by the
                // write side. No timer then: thousands of players, one read each.
                Role::Playing { .. } | Role::Vod { .. } => (None, "player silent", None, None),
                // The check's own deadlines cover a silent client.
                Role::Bandcheck(_) => (None, "bandcheck client silent", None, None),
            };
            let media_since = match &conn.role {
                Role::Publishing { .. } => Some(conn.media_since),
                _ => None,
            };
            // A bandwidth check's publish phase reads no faster than its limit.
            let read_pause = match &conn.role {
                Role::Bandcheck(check) => check.read_pause(ctx.now_ms()),
                _ => None,
            };
            (
                limit,
                what,
                merged_read,
                release_after,
                media_since,
                read_pause,
            )
        };
        if let Some(pause) = read_pause {
            ctx.rt.sleep(pause).await;
            continue;
        }
        // A publisher's deadlines count complete media messages, not bytes:
        // one trickling an unfinished message a byte at a time is silent.
        let since = idle_since.or(media_since).unwrap_or(last_read);
        let quiet = ctx.rt.now().saturating_sub(since);
        let quiet_reading = ctx.rt.now().saturating_sub(idle_since.unwrap_or(last_read));
        // How long the next wait may last before the release is due.
        let until_release = release_after.map(|r| r.saturating_sub(quiet_reading));
        let mut step = if let Some(pause) = merged_read {
            // SRS's merged read: take what is already waiting without
            // registering for more; once nothing waits, sleep instead of
            // waking for each message, so one wakeup reads many.
            let read = {
                let mut noop = Context::from_waker(noop_waker_ref());
                read_and_process(&mut noop, ctx, &mut reader, state, info)
            };
            match read {
                Poll::Ready(r) => r?,
                Poll::Pending => {
                    if limit.is_some_and(|l| quiet > l) {
                        return Err(ConnError::Timeout(what));
                    }
                    if until_release == Some(Duration::ZERO) {
                        release_waiting(state);
                        release_owed = false;
                    }
                    let nap = until_release
                        .filter(|d| !d.is_zero())
                        .map_or(pause, |d| d.min(pause));
                    ctx.rt.sleep(nap).await;
                    continue;
                }
            }
        } else {
            let read =
                std::future::poll_fn(|cx| read_and_process(cx, ctx, &mut reader, state, info));
            match limit {
                None => read.await?,
                Some(limit) => {
                    let left = limit.saturating_sub(quiet);
                    match timeout(&*ctx.rt, until_release.map_or(left, |r| r.min(left)), read).await
                    {
                        Some(r) => r?,
                        None if ctx.rt.now().saturating_sub(since) >= limit => {
                            return Err(ConnError::Timeout(what));
                        }
                        None => {
                            release_waiting(state);
                            release_owed = false;
                            continue;
                        }
                    }
                }
            }
        };
        // The session waits on a decision: the lifecycle may take a while
        // (a hook is an HTTP call) and reading stops meanwhile, so the
        // client's bytes wait in the socket; the write loop and a kick carry on.
        while let Some(decision) = step.decision.take() {
            wake.notify();
            // Boxed: a decision's future (hooks, TLS) is large, and held
            // inline it would size every connection's task for it, idle
            // players included; boxed, it exists only while deciding.
            step = Box::pin(decide(ctx, state, decision)).await?;
        }
        last_read = ctx.rt.now();
        release_owed = true;
        wake.notify();
        if step.closing {
            // The write loop flushes the last replies and ends the connection.
            futures_util::future::pending::<()>().await;
        }
    }
}

/// How long a publisher may be quiet before its players get media the merge
/// rule still holds: `mw_latency` (SRS's merged-write sleep); none when the
/// rule holds nothing back.
fn release_delay(conn: &Conn) -> Option<Duration> {
    let rule = conn.vhost.merge_rule();
    if rule == MergeRule::IMMEDIATE {
        None
    } else if rule.min_span_ms == 0 {
        // Only a message count holds media back (`mw_latency 0`, `mw_msgs N`).
        Some(COUNT_RULE_RELEASE)
    } else {
        // Not so short that a publisher's every gap between frames fires it.
        Some(conn.vhost.mw_latency.max(Duration::from_millis(10)))
    }
}

fn release_waiting(state: &Mutex<Conn>) {
    if let Role::Publishing { publishing, .. } = &lock(state).role {
        publishing.source().release_waiting();
    }
}

/// One read into this thread's buffer, handed to the session at once.
fn read_and_process(
    cx: &mut Context<'_>,
    ctx: &Arc<ServerCtx>,
    reader: &mut (impl futures_io::AsyncRead + Unpin),
    state: &Mutex<Conn>,
    info: &Arc<ClientInfo>,
) -> Poll<Result<Step, ConnError>> {
    READ_BUFFER.with(|cell| {
        let mut shared = cell.try_borrow_mut();
        // Never nested in practice; a small stack buffer if it ever is.
        let mut fallback = [0u8; 512];
        let buf: &mut [u8] = match shared.as_deref_mut() {
            Ok(b) => b,
            Err(_) => &mut fallback,
        };
        match Pin::new(&mut *reader).poll_read(cx, buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Ready(Ok(0)) => Poll::Ready(Err(ConnError::Closed)),
            Poll::Ready(Ok(n)) => {
                info.add_in(n);
                let data = buf.get(..n).unwrap_or_default();
                Poll::Ready(process_input(ctx, state, data))
            }
        }
    })
}

/// What one read led to: whether the session is closing, and a decision
/// the session waits on.
#[derive(Debug, Default)]
struct Step {
    closing: bool,
    decision: Option<Decision>,
}

/// A request the session is paused on until the stream lifecycle answers.
#[derive(Debug)]
enum Decision {
    Connect,
    Publish {
        stream_id: u32,
        req: StreamRequest,
    },
    Play {
        stream_id: u32,
        req: StreamRequest,
        /// The `play` command's start (ms for a position, negative for live).
        start: f64,
    },
}

/// Feeds bytes to the session and acts on its events, up to a decision.
/// Synchronous, so the lock is never held across an await.
fn process_input(
    ctx: &Arc<ServerCtx>,
    state: &Mutex<Conn>,
    data: &[u8],
) -> Result<Step, ConnError> {
    let mut conn = lock(state);
    conn.session.handle_input(ctx.now_ms(), data)?;
    let held = conn.session.reassembly_bytes();
    let max = ctx.reassembly.max(ctx.config().rtmp_reassembly_budget);
    conn.reassembly.report(held, max)?;
    drain_events(&mut conn, ctx.rt.now())
}

/// Acts on the session's events until one needs a decision (the session
/// itself pauses there) or none are left.
fn drain_events(conn: &mut Conn, now: Duration) -> Result<Step, ConnError> {
    while let Some(event) = conn.session.poll_event() {
        if let Some(decision) = handle_event(conn, event, now)? {
            return Ok(Step {
                closing: conn.closing,
                decision: Some(decision),
            });
        }
    }
    Ok(Step {
        closing: conn.closing,
        decision: None,
    })
}

fn handle_event(
    conn: &mut Conn,
    event: ServerEvent,
    now: Duration,
) -> Result<Option<Decision>, ConnError> {
    match event {
        ServerEvent::Connect {
            tc_url,
            app,
            request,
        } => {
            conn.connect_seen = true;
            if tc_url.len() > MAX_TC_URL_BYTES {
                info!(bytes = tc_url.len(), "connect refused: tcUrl too long");
                conn.session.reject_connect("tcUrl too long")?;
                return Ok(None);
            }
            // Kept for the API and logged: clipped, since AMF0 strings may be 16 MiB.
            let property = |name: &str| {
                clip(
                    request
                        .get(name)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default(),
                    MAX_AGENT_BYTES,
                )
                .to_string()
            };
            let agent = property("flashVer");
            // Enhanced RTMP clients (OBS 30+, ffmpeg 6.1+) announce their codecs.
            let fourcc = request
                .get("fourCcList")
                .map(|v| format!(" fourCcList={}", fourcc_list(v)))
                .unwrap_or_default();
            info!(tc_url = ?tc_url, app = ?app, agent = ?agent, "connect{fourcc}");
            let multitrack = request.caps_ex_flags() & rtmp_proto::command::CAPS_EX_MULTITRACK;
            if !fourcc.is_empty() || multitrack != 0 {
                conn.tracks = TrackFilter::All;
            }
            conn.peer.page_url = property("pageUrl");
            conn.peer.tc_url = tc_url.clone();
            conn.peer.info.update(|d| {
                d.url = tc_url;
                d.agent = agent;
                d.page_url = property("pageUrl");
                d.swf_url = property("swfUrl");
            });
            return Ok(Some(Decision::Connect));
        }
        ServerEvent::Publish {
            stream_id, name, ..
        } => {
            if !matches!(conn.role, Role::Idle) {
                conn.session.reject_publish(
                    stream_id,
                    PUBLISH_BAD_NAME,
                    "already publishing or playing",
                )?;
                return Ok(None);
            }
            let req = StreamRequest::new(&conn.peer.tc_url, &name);
            return Ok(Some(Decision::Publish { stream_id, req }));
        }
        ServerEvent::Play {
            stream_id,
            name,
            start,
            ..
        } => {
            if !matches!(conn.role, Role::Idle) {
                conn.session.reject_play(
                    stream_id,
                    PLAY_FAILED,
                    "already publishing or playing",
                )?;
                return Ok(None);
            }
            let req = StreamRequest::new(&conn.peer.tc_url, &name);
            return Ok(Some(Decision::Play {
                stream_id,
                req,
                start,
            }));
        }
        ServerEvent::Pause { paused, .. } => {
            if let Role::Playing { paused: p, .. } = &mut conn.role {
                debug!(paused, "pause");
                *p = paused;
            }
            if let Role::Vod { playback, .. } = &conn.role {
                debug!(paused, "pause (vod)");
                playback.pause(paused);
            }
        }
        ServerEvent::Media { message, .. } => {
            if let Role::Publishing {
                publishing,
                got_media,
            } = &mut conn.role
            {
                // The session only hands over audio, video and data.
                let Some(kind) = MediaKind::from_message_type(message.type_id) else {
                    return Ok(None);
                };
                let payload = if kind == MediaKind::Data {
                    match media_core::metadata::strip_set_data_frame(&message.payload) {
                        Some(p) => p,
                        None => return Ok(None),
                    }
                } else {
                    message.payload
                };
                *got_media = true;
                conn.media_since = now;
                publishing.source().push(kind, message.timestamp, payload);
            }
        }
        ServerEvent::Unpublish { .. }
        | ServerEvent::DeleteStream { .. }
        | ServerEvent::CloseStream { .. } => {
            if !matches!(conn.role, Role::Idle) {
                debug!("stream closed by peer");
                conn.role = Role::Idle;
            }
        }
        ServerEvent::Closed => conn.closing = true,
        ServerEvent::Command {
            command: Command::Seek { position_ms, .. },
            ..
        } if matches!(conn.role, Role::Vod { .. }) => {
            if let Role::Vod { playback, .. } = &conn.role {
                // Negative or NaN positions mean the start.
                playback.seek(position_ms.max(0.0) as u64);
            }
        }
        ServerEvent::Command { command, .. } if matches!(conn.role, Role::Bandcheck(_)) => {
            if let Role::Bandcheck(check) = &mut conn.role {
                check.handle_command(now.as_millis() as u64, &command);
            }
        }
        other => debug!(event = ?other, "ignored"),
    }
    Ok(None)
}

/// Asks the stream lifecycle for `decision` (no lock held while it runs:
/// a hook may take seconds), answers the session, and acts on the events
/// that follow up to the next decision.
async fn decide(
    ctx: &Arc<ServerCtx>,
    state: &Mutex<Conn>,
    decision: Decision,
) -> Result<Step, ConnError> {
    let peer = lock(state).peer.clone();
    match decision {
        Decision::Connect => {
            let mut close = Ticket::default();
            let result = lifecycle::connect(ctx, &peer, &mut close)
                .await
                .and_then(|vhost| {
                    let flash = peer.info.with_details(|d| !d.swf_url.is_empty());
                    let check = lifecycle::bandcheck(ctx, &peer, &vhost, flash)?;
                    Ok((vhost, check))
                });
            let mut conn = lock(state);
            conn.close_ticket = close;
            match result {
                Ok((vhost, check)) => {
                    // SRS picks the vhost at connect (tcUrl host or `?vhost=`):
                    // its chunk_size goes out with the answer.
                    conn.session.set_chunk_size(vhost.chunk_size);
                    // And its message size cap (`max_message`), in force
                    // from the accept on (before it, the session's
                    // pre-connect limits).
                    let max_message = ctx.config().vhost(&vhost.name).max_message;
                    conn.session.set_limits(rtmp_limits(max_message));
                    conn.vhost = vhost;
                    conn.session.accept_connect()?;
                    if let Some(check) = check {
                        conn.role = Role::Bandcheck(Box::new(check));
                    }
                    conn.peer
                        .info
                        .set_supports_reconnect(conn.session.peer_supports_reconnect());
                }
                Err(refusal) => {
                    info!(tc_url = ?peer.tc_url, "connect refused: {refusal}");
                    conn.session.reject_connect(&refusal.client_reason())?;
                }
            }
            drain_events(&mut conn, ctx.rt.now())
        }
        Decision::Publish { stream_id, req } => {
            let result = match Target::resolve(ctx, &req) {
                Ok(target) => lifecycle::publish(ctx, &peer, target).await,
                Err(refusal) => Err(refusal),
            };
            let mut conn = lock(state);
            match result {
                Ok(publishing) => {
                    peer.info.set_kind(ClientKind::RtmpPublish);
                    conn.session.accept_publish(stream_id)?;
                    conn.vhost = publishing.vhost().clone();
                    conn.role = Role::Publishing {
                        publishing,
                        got_media: false,
                    };
                    conn.media_since = ctx.rt.now();
                }
                Err(refusal) => {
                    info!(stream = ?req.stream_with_query, "publish refused: {refusal}");
                    conn.session.reject_publish(
                        stream_id,
                        refusal.publish_code(),
                        &refusal.client_reason(),
                    )?;
                    conn.closing |= refusal.is_denial();
                }
            }
            drain_events(&mut conn, ctx.rt.now())
        }
        Decision::Play {
            stream_id,
            req,
            start,
        } => {
            if let Ok(target) = Target::resolve(ctx, &req) {
                if let Some(file) = crate::vod::find_for_play(ctx, &target).await {
                    return play_file(ctx, state, stream_id, target, file, start).await;
                }
            }
            let result = match Target::resolve(ctx, &req) {
                Ok(target) => lifecycle::play(ctx, &peer, target).await,
                Err(refusal) => Err(refusal),
            };
            let mut conn = lock(state);
            match result {
                Ok(mut playing) => {
                    peer.info.set_kind(ClientKind::RtmpPlay);
                    conn.session.accept_play(stream_id)?;
                    conn.vhost = playing.vhost;
                    playing.consumer.set_tracks(conn.tracks);
                    conn.role = Role::Playing {
                        consumer: playing.consumer,
                        stream_id,
                        paused: false,
                        _ticket: playing.ticket,
                    };
                }
                Err(refusal) => {
                    info!(stream = ?req.stream_with_query, "play refused: {refusal}");
                    conn.session.reject_play(
                        stream_id,
                        refusal.play_code(),
                        &refusal.client_reason(),
                    )?;
                    conn.closing |= refusal.is_denial();
                }
            }
            drain_events(&mut conn, ctx.rt.now())
        }
    }
}

/// A `play` of a file (opened and indexed, or why not): admission
/// (`security`, `refer`, `on_play`), then the file played from `start` (a
/// position in ms when not negative, as ffmpeg and rtmpdump send it).
async fn play_file(
    ctx: &Arc<ServerCtx>,
    state: &Mutex<Conn>,
    stream_id: u32,
    target: Target,
    file: Result<crate::vod::VodFile, crate::vod::VodError>,
    start: f64,
) -> Result<Step, ConnError> {
    let peer = lock(state).peer.clone();
    let result = match lifecycle::play_file(ctx, &peer, &target).await {
        Ok(ticket) => file.map(|file| (ticket, file)).map_err(Err),
        Err(refusal) => Err(Ok(refusal)),
    };
    let mut conn = lock(state);
    match result {
        Ok((ticket, file)) => {
            info!(file = %file.path.display(), start, "vod: play");
            peer.info.set_kind(ClientKind::RtmpPlay);
            conn.session.accept_play(stream_id)?;
            conn.vhost = target.vhost;
            let start_ms = (start > 0.0).then_some(start as u64);
            conn.role = Role::Vod {
                playback: VodPlayback::start(ctx.rt.clone(), file, start_ms),
                stream_id,
                _ticket: ticket,
            };
        }
        Err(Ok(refusal)) => {
            info!(stream = %target.key, "play refused: {refusal}");
            conn.session
                .reject_play(stream_id, refusal.play_code(), &refusal.client_reason())?;
            conn.closing |= refusal.is_denial();
        }
        Err(Err(e)) => {
            info!(stream = %target.key, "vod: {e}");
            conn.session
                .reject_play(stream_id, PLAY_STREAM_NOT_FOUND, "no such file")?;
        }
    }
    drain_events(&mut conn, ctx.rt.now())
}

async fn write_loop(
    ctx: &Arc<ServerCtx>,
    mut writer: Box<dyn WriteHalf>,
    state: &Arc<Mutex<Conn>>,
    wake: &Wake,
    info: &Arc<ClientInfo>,
) -> Result<(), ConnError> {
    // Sockets start with Nagle on; the vhost's `tcp_nodelay` is applied here
    // because this half owns the socket's write side.
    let mut nodelay = false;
    let mut outbox = Outbox::default();
    let mut session_out: Vec<Bytes> = Vec::new();
    // Set when the wait below ended because the consumer is ready, so the
    // check is not made twice per write.
    let mut known_ready = false;
    loop {
        let ready_hint = std::mem::take(&mut known_ready);
        let mut bandcheck_wait = None;
        {
            let mut conn = lock(state);
            if conn.vhost.tcp_nodelay != nodelay {
                nodelay = conn.vhost.tcp_nodelay;
                if let Err(e) = writer.set_nodelay(nodelay) {
                    debug!("tcp_nodelay {nodelay}: {e}");
                }
            }
            let rule = conn.vhost.merge_rule();
            let Conn {
                session,
                role,
                closing,
                ..
            } = &mut *conn;
            // The session's own output (replies, acks) goes first.
            to_outbox(session, &mut session_out, &mut outbox);
            // Closing: what the session queued (a refusal, a reconnect
            // request) goes out, no more media.
            if let (
                false,
                Role::Playing {
                    consumer,
                    stream_id,
                    paused: false,
                    ..
                },
            ) = (*closing, &mut *role)
            {
                if ready_hint || consumer.is_ready(rule) {
                    let stream_id = *stream_id;
                    let chunk_size = session.out_chunk_size();
                    // Each frame at this player's time (its timeline starts
                    // when it joined): the shared encoding, or that behind a
                    // first chunk header of its own.
                    consumer.drain_timed(MAX_ITEMS_PER_WRITE, |item, timestamp| match item {
                        QueueItem::Media(frame) => {
                            let (header, message) = frame.rtmp_at(chunk_size, stream_id, timestamp);
                            if let Some(header) = header {
                                outbox.push_bytes(header);
                            }
                            outbox.push_message(message);
                        }
                        QueueItem::Unpublished => {
                            session.send_status(
                                stream_id,
                                "status",
                                "NetStream.Play.UnpublishNotify",
                                "the publisher stopped; waiting for it to return",
                            );
                            session.send_user_control(UserControlEvent::StreamEof(stream_id));
                            to_outbox(session, &mut session_out, &mut outbox);
                        }
                        QueueItem::Published => {
                            session.send_user_control(UserControlEvent::StreamBegin(stream_id));
                            session.send_status(
                                stream_id,
                                "status",
                                "NetStream.Play.PublishNotify",
                                "the stream is live",
                            );
                            to_outbox(session, &mut session_out, &mut outbox);
                        }
                    });
                }
            }
            if let (
                false,
                Role::Vod {
                    playback,
                    stream_id,
                    ..
                },
            ) = (*closing, &mut *role)
            {
                let stream_id = *stream_id;
                playback.drain(MAX_ITEMS_PER_WRITE, |item| match item {
                    VodItem::Media(msg) => session.send_media(
                        stream_id,
                        &RawMessage {
                            csid: 0,
                            timestamp: msg.timestamp,
                            type_id: msg.kind.message_type(),
                            stream_id,
                            payload: msg.payload,
                        },
                    ),
                    VodItem::Status(code, description) => {
                        session.send_status(stream_id, "status", code, &description)
                    }
                    VodItem::StreamBegin => {
                        session.send_user_control(UserControlEvent::StreamBegin(stream_id))
                    }
                    VodItem::StreamEof => {
                        session.send_user_control(UserControlEvent::StreamEof(stream_id))
                    }
                });
                to_outbox(session, &mut session_out, &mut outbox);
            }
            if let Role::Bandcheck(check) = role {
                // One packet per write: the next waits for the socket, so
                // the check is paced by the link as well as by its limit.
                if let Some(packet) = check.poll_transmit(ctx.now_ms())? {
                    session.send_command(0, &packet);
                    to_outbox(session, &mut session_out, &mut outbox);
                }
                *closing |= check.is_done();
                bandcheck_wait = check.wait(ctx.now_ms());
            }
            if outbox.is_empty() && *closing {
                return Ok(());
            }
        }
        if outbox.is_empty() {
            if let Some(wait) = bandcheck_wait {
                // Until the session has output or the check's next step is due.
                let woken = std::future::poll_fn(|cx| wake.poll(cx));
                let _ = timeout(&*ctx.rt, wait, woken).await;
                continue;
            }
            // Until the session has output or the source says enough media waits.
            known_ready = std::future::poll_fn(|cx| {
                if wake.poll(cx).is_ready() {
                    return Poll::Ready(false);
                }
                let mut conn = lock(state);
                let rule = conn.vhost.merge_rule();
                match &mut conn.role {
                    Role::Playing {
                        consumer,
                        paused: false,
                        ..
                    } => consumer.poll_ready(cx, rule).map(|()| true),
                    Role::Vod { playback, .. } => playback.poll_ready(cx).map(|()| false),
                    _ => Poll::Pending,
                }
            })
            .await;
            continue;
        }
        // Most writes complete at once: arm the stall timer only for one that doesn't.
        let mut write = std::pin::pin!(outbox.write_all(&mut writer));
        let n = match poll_immediate(write.as_mut()).await {
            Some(r) => r?,
            None => match timeout(&*ctx.rt, SEND_TIMEOUT, write).await {
                None => return Err(ConnError::Timeout("send stalled")),
                Some(r) => r?,
            },
        };
        info.add_out(n);
    }
}

/// Moves the session's queued output into the outbox.
fn to_outbox(session: &mut ServerSession, scratch: &mut Vec<Bytes>, outbox: &mut Outbox) {
    session.poll_transmit(scratch);
    for bytes in scratch.drain(..) {
        outbox.push_bytes(bytes);
    }
    if scratch.capacity() > 32 {
        *scratch = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourcc_lists_are_logged_short_whatever_their_size() {
        let list = |items: Vec<Amf0Value>| fourcc_list(&Amf0Value::StrictArray(items));
        let s = |t: &str| Amf0Value::String(t.into());
        assert_eq!(list(vec![s("hvc1"), s("av01")]), r#"["hvc1", "av01"]"#);
        // A newline is escaped, so a client cannot forge log lines.
        assert_eq!(
            list(vec![s("x\n"), Amf0Value::Number(1.0)]),
            r#"["x\n", "?"]"#
        );
        assert_eq!(fourcc_list(&Amf0Value::Null), "[]");
        let huge = list(vec![s(&"a".repeat(60_000)); 200]);
        assert!(huge.len() <= MAX_AGENT_BYTES + 6, "{}", huge.len());
        assert!(huge.ends_with(", ...]"), "{huge}");
    }
}
