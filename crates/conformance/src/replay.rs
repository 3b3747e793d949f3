//! Replaying a capture's client flows into the real server on `sim`.
//!
//! Each flow connects from its own simulated host to `server-core` (the
//! production code, default config unless told otherwise) and sends the
//! captured client bytes: at their capture times ([`Timing::Captured`]), or
//! in lockstep ([`Timing::Lockstep`]). Everything the server answers is read
//! and decoded as it arrives.
//!
//! **The handshake.** The captured C0C1 is sent as is; our server answers it
//! with its own S1/S2. The captured C2 answered the *captured* server's S1 (a
//! simple C2 echoes it, a complex C2 is signed with its digest), so it cannot
//! match ours. `server-core` checks C2 but, like SRS and nginx-rtmp, does not
//! reject a mismatch (old Flash Players and librtmp send sloppy C2s), so the
//! bytes after C2 are replayed exactly as captured. The report says whether
//! C2 matched. Acknowledgements the client sends carry the captured byte
//! counts; the server only logs those.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, FutureExt};
use rtmp_proto::command::Command;
use rtmp_proto::message::MessageType;
use server_core::{Config, ListenerKind, Server};
use sim::runtime::SimRuntime;
use sim::{Host, LinkConfig, Sim, SimConn, SimError, TranscriptHash};

use crate::capture::{Capture, ClientClose, Flow, Timing};
use crate::decode::{decode_all, Decoded, HandshakeSummary, PassiveDecoder, HANDSHAKE_LEN};
use crate::hls::{collect, HlsOutput};
use crate::reassembly::TimedWrite;
use crate::transcript::{Entry, Side};

/// The simulated server's address.
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// Lockstep: how long to wait for S0S1S2 before sending C2 anyway.
pub const HANDSHAKE_WAIT: Duration = Duration::from_secs(5);
/// Lockstep: how long to wait for the answer to a call.
pub const REPLY_WAIT: Duration = Duration::from_secs(2);
/// Lockstep: after a command that gets no `_result` (`play`, `pause`...), how
/// long to wait for the server to say anything.
pub const STATUS_WAIT: Duration = Duration::from_secs(1);
/// Lockstep: once the server answered, how long it may keep talking before
/// the next message is sent.
pub const QUIET: Duration = Duration::from_millis(50);
/// Lockstep: how long to keep reading after the last message before closing.
pub const LINGER: Duration = Duration::from_secs(3);
/// After the client closes, how long to keep reading for the server's close.
pub const DRAIN: Duration = Duration::from_secs(5);
/// A write that makes no progress for this long (the server stopped reading)
/// ends the flow with a reset.
pub const WRITE_STALL: Duration = Duration::from_secs(30);
/// A replay that has not finished after this much virtual time is cut short.
pub const MAX_REPLAY: Duration = Duration::from_secs(6 * 3600);
/// Client read buffer.
const READ_BUF: usize = 64 * 1024;

/// How to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Seed of the simulated world (segmentation, handshake filler).
    pub seed: u64,
    /// Server config; the built-in default when `None`.
    pub config: Option<Config>,
    /// Virtual time to keep running after the last flow ended (HLS flushes).
    pub settle: Duration,
    /// Every simulated link.
    pub link: LinkConfig,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            config: None,
            settle: Duration::from_secs(5),
            link: LinkConfig::default(),
        }
    }
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The server did not start.
    #[error("server start: {0}")]
    Server(#[from] std::io::Error),
    /// The server has no RTMP listener.
    #[error("the config has no RTMP listener")]
    NoRtmpListener,
    /// The simulation failed (livelock, budget).
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// What happened on one replayed connection.
#[derive(Debug, Clone)]
pub struct FlowReport {
    /// The capture's description of the flow.
    pub label: String,
    /// How it was paced.
    pub timing: String,
    /// Client messages (when fully sent) and server messages (when fully
    /// received), in order.
    pub entries: Vec<Entry>,
    /// The client's C0/C1.
    pub client_handshake: HandshakeSummary,
    /// Our server's S0/S1.
    pub server_handshake: HandshakeSummary,
    /// Whether our S2 echoes the client's C1 (simple handshake).
    pub s2_echoes_c1: bool,
    /// Whether the replayed C2 echoes our S1 (it cannot, unless the capture
    /// was of a client that ignores S1).
    pub c2_echoes_s1: bool,
    /// Connection events with their virtual times.
    pub events: Vec<String>,
    /// The client stream could not be decoded past some point.
    pub client_decode_error: Option<String>,
    /// Our server's stream could not be decoded past some point.
    pub server_decode_error: Option<String>,
    /// Messages of the captured server, when the capture has its side.
    pub captured_server: Option<Vec<Entry>>,
    /// Bytes the client sent.
    pub bytes_sent: u64,
    /// Bytes the server sent.
    pub bytes_received: u64,
}

/// The outcome of a replay.
#[derive(Debug, Clone)]
pub struct Report {
    /// Capture name.
    pub name: String,
    /// Seed used.
    pub seed: u64,
    /// Whether the server ran a custom config.
    pub custom_config: bool,
    /// Capture notes (skipped connections...).
    pub notes: Vec<String>,
    /// One per flow.
    pub flows: Vec<FlowReport>,
    /// HLS files written.
    pub hls: HlsOutput,
    /// The simulation's transcript hash (timing included).
    pub transcript_hash: TranscriptHash,
}

/// What a flow task records.
#[derive(Debug, Default)]
struct FlowLog {
    entries: Vec<Entry>,
    events: Vec<String>,
    handshake_in: Vec<u8>,
    server_decode_error: Option<String>,
    bytes_sent: u64,
    bytes_received: u64,
}

fn lock(log: &Mutex<FlowLog>) -> MutexGuard<'_, FlowLog> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

fn stamp(t: Duration) -> String {
    format!("+{:.3} s", t.as_secs_f64())
}

/// One lockstep step.
#[derive(Debug)]
enum Step {
    Write(Bytes),
    AwaitBytes(u64),
    AwaitReply(f64),
    AwaitNews,
    Pause(Duration),
}

#[derive(Debug)]
enum Plan {
    Captured {
        writes: VecDeque<TimedWrite>,
        close_at: Duration,
        close: ClientClose,
    },
    Lockstep {
        steps: VecDeque<Step>,
        deadline: Option<Duration>,
        /// Server bytes received when the current step began.
        baseline: Option<u64>,
    },
}

enum Next {
    Write(Bytes),
    WaitUntil(Duration),
    Close(ClientClose),
}

#[derive(Debug, Default)]
struct Progress {
    server_bytes: u64,
    replies: Vec<f64>,
}

impl Plan {
    fn lockstep(bytes: &Bytes, messages: &[Decoded]) -> Self {
        let mut steps = VecDeque::new();
        let c0c1 = (1 + rtmp_proto::handshake::HANDSHAKE_SIZE).min(bytes.len());
        let c2_end = HANDSHAKE_LEN.min(bytes.len());
        steps.push_back(Step::Write(bytes.slice(..c0c1)));
        steps.push_back(Step::AwaitBytes(HANDSHAKE_LEN as u64));
        if c2_end > c0c1 {
            steps.push_back(Step::Write(bytes.slice(c0c1..c2_end)));
        }
        let mut from = c2_end;
        for m in messages {
            let end = usize::try_from(m.end)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            if end > from {
                steps.push_back(Step::Write(bytes.slice(from..end)));
                from = end;
            }
            match command_kind(&m.msg) {
                CommandKind::Call(tid) => steps.push_back(Step::AwaitReply(tid)),
                CommandKind::Other => {
                    steps.push_back(Step::AwaitNews);
                    steps.push_back(Step::Pause(QUIET));
                }
                CommandKind::NotACommand => {}
            }
        }
        if from < bytes.len() {
            steps.push_back(Step::Write(bytes.slice(from..)));
        }
        steps.push_back(Step::Pause(LINGER));
        Plan::Lockstep {
            steps,
            deadline: None,
            baseline: None,
        }
    }

    fn next(&mut self, now: Duration, progress: &Progress) -> Next {
        match self {
            Plan::Captured {
                writes,
                close_at,
                close,
            } => match writes.front() {
                Some(w) if w.at <= now => {
                    let data = w.data.clone();
                    writes.pop_front();
                    Next::Write(data)
                }
                Some(w) => Next::WaitUntil(w.at),
                None if now < *close_at => Next::WaitUntil(*close_at),
                None => Next::Close(*close),
            },
            Plan::Lockstep {
                steps,
                deadline,
                baseline,
            } => loop {
                let Some(step) = steps.front() else {
                    return Next::Close(ClientClose::Fin);
                };
                let (done, wait) = match step {
                    Step::Write(b) => {
                        let b = b.clone();
                        steps.pop_front();
                        return Next::Write(b);
                    }
                    Step::AwaitBytes(n) => (progress.server_bytes >= *n, HANDSHAKE_WAIT),
                    Step::AwaitReply(t) => (progress.replies.contains(t), REPLY_WAIT),
                    Step::AwaitNews => {
                        let base = *baseline.get_or_insert(progress.server_bytes);
                        (progress.server_bytes > base, STATUS_WAIT)
                    }
                    Step::Pause(d) => (false, *d),
                };
                let until = *deadline.get_or_insert(now.saturating_add(wait));
                if done || now >= until {
                    steps.pop_front();
                    *deadline = None;
                    *baseline = None;
                    continue;
                }
                return Next::WaitUntil(until);
            },
        }
    }
}

/// How lockstep treats a client message.
enum CommandKind {
    /// A call that expects `_result`/`_error` with this transaction id (spec 7.2.1).
    Call(f64),
    /// A command answered, if at all, by `onStatus` (`play`, `pause`...).
    Other,
    /// Not a command, or the client's own answer to a call: sent at once.
    NotACommand,
}

fn command_kind(msg: &rtmp_proto::message::RawMessage) -> CommandKind {
    if !matches!(
        msg.type_id,
        MessageType::CommandAmf0 | MessageType::CommandAmf3
    ) {
        return CommandKind::NotACommand;
    }
    let Ok(cmd) = Command::decode(msg) else {
        return CommandKind::NotACommand;
    };
    let t = cmd.transaction_id();
    match cmd {
        Command::Result(_) | Command::Error(_) | Command::OnStatus(_) => CommandKind::NotACommand,
        _ if t > 0.0 => CommandKind::Call(t),
        _ => CommandKind::Other,
    }
}

enum Event {
    Wrote(usize),
    WriteFailed(std::io::Error),
    Read(std::io::Result<usize>),
    Timer,
}

struct FlowTask {
    host: Host,
    server: SocketAddr,
    start: Duration,
    plan: Plan,
    client_messages: Vec<Decoded>,
    log: Arc<Mutex<FlowLog>>,
}

impl FlowTask {
    async fn run(mut self) {
        let sim = self.host.sim().clone();
        sim.sleep_until(self.start).await;
        let mut conn = match self.host.connect(self.server).await {
            Ok(c) => c,
            Err(e) => {
                lock(&self.log).events.push(format!("connect failed: {e}"));
                return;
            }
        };
        lock(&self.log)
            .events
            .push(format!("connected {}", stamp(sim.now())));
        let mut buf = vec![0u8; READ_BUF];
        let mut decoder = PassiveDecoder::new();
        let mut progress = Progress::default();
        let mut pending: Option<(Bytes, Duration)> = None;
        let mut written = 0u64;
        let mut next_client = 0usize;
        let close = loop {
            let now = sim.now();
            let mut wake = None;
            if pending.is_none() {
                match self.plan.next(now, &progress) {
                    Next::Write(b) if b.is_empty() => continue,
                    Next::Write(b) => pending = Some((b, now)),
                    Next::WaitUntil(t) => wake = Some(t),
                    Next::Close(c) => break c,
                }
            }
            if let Some((_, since)) = &pending {
                wake = Some(since.saturating_add(WRITE_STALL));
            }
            let mut sleep = wake.map(|t| sim.sleep_until(t));
            let event = poll_fn(|cx| {
                if let Some((p, _)) = &pending {
                    match Pin::new(&mut conn).poll_write(cx, p) {
                        Poll::Ready(Ok(n)) => return Poll::Ready(Event::Wrote(n)),
                        Poll::Ready(Err(e)) => return Poll::Ready(Event::WriteFailed(e)),
                        Poll::Pending => {}
                    }
                }
                if let Poll::Ready(r) = Pin::new(&mut conn).poll_read(cx, &mut buf) {
                    return Poll::Ready(Event::Read(r));
                }
                if let Some(s) = sleep.as_mut() {
                    if s.poll_unpin(cx).is_ready() {
                        return Poll::Ready(Event::Timer);
                    }
                }
                Poll::Pending
            })
            .await;
            let now = sim.now();
            match event {
                Event::Wrote(n) => {
                    written = written.saturating_add(n as u64);
                    if let Some((p, _)) = pending.take() {
                        let rest = p.slice(n.min(p.len())..);
                        if !rest.is_empty() {
                            pending = Some((rest, now));
                        }
                    }
                    let mut log = lock(&self.log);
                    log.bytes_sent = written;
                    while let Some(m) = self.client_messages.get(next_client) {
                        if m.end > written {
                            break;
                        }
                        log.entries.push(Entry {
                            at: now,
                            side: Side::Client,
                            msg: m.msg.clone(),
                        });
                        next_client += 1;
                    }
                }
                Event::WriteFailed(e) => {
                    lock(&self.log)
                        .events
                        .push(format!("write failed {}: {e}", stamp(now)));
                    return;
                }
                Event::Read(Ok(0)) => {
                    lock(&self.log)
                        .events
                        .push(format!("server closed the connection {}", stamp(now)));
                    return;
                }
                Event::Read(Ok(n)) => {
                    let data = buf.get(..n).unwrap_or_default();
                    self.received(now, data, &mut decoder, &mut progress);
                }
                Event::Read(Err(e)) => {
                    lock(&self.log)
                        .events
                        .push(format!("read failed {}: {e}", stamp(now)));
                    return;
                }
                Event::Timer => {
                    if pending
                        .as_ref()
                        .is_some_and(|(_, since)| now >= since.saturating_add(WRITE_STALL))
                    {
                        lock(&self.log).events.push(format!(
                            "server stopped reading; client reset the connection {}",
                            stamp(now)
                        ));
                        conn.reset();
                        return;
                    }
                }
            }
        };
        let now = sim.now();
        match close {
            ClientClose::Reset => {
                lock(&self.log)
                    .events
                    .push(format!("client reset the connection {}", stamp(now)));
                conn.reset();
                return;
            }
            ClientClose::Fin | ClientClose::NotCaptured => {
                let how = if close == ClientClose::Fin {
                    "client closed (FIN)"
                } else {
                    "client closed (FIN; the capture does not show the client closing)"
                };
                lock(&self.log).events.push(format!("{how} {}", stamp(now)));
                let _ = conn.close().await;
            }
        }
        let unsent = self.client_messages.len().saturating_sub(next_client);
        if unsent > 0 {
            lock(&self.log)
                .events
                .push(format!("{unsent} client messages were not sent"));
        }
        self.drain(&mut conn, &mut buf, &mut decoder, &mut progress)
            .await;
    }

    async fn drain(
        &self,
        conn: &mut SimConn,
        buf: &mut [u8],
        decoder: &mut PassiveDecoder,
        progress: &mut Progress,
    ) {
        let sim = self.host.sim().clone();
        let deadline = sim.now().saturating_add(DRAIN);
        loop {
            let read = sim
                .timeout(deadline.saturating_sub(sim.now()), conn.read(buf))
                .await;
            let now = sim.now();
            let event = match read {
                None => format!(
                    "server kept the connection open {} after the client closed",
                    stamp(DRAIN)
                ),
                Some(Ok(0)) => format!("server closed the connection {}", stamp(now)),
                Some(Ok(n)) => {
                    let data = buf.get(..n).unwrap_or_default();
                    self.received(now, data, decoder, progress);
                    continue;
                }
                Some(Err(e)) => format!("read failed {}: {e}", stamp(now)),
            };
            lock(&self.log).events.push(event);
            return;
        }
    }

    fn received(
        &self,
        now: Duration,
        data: &[u8],
        decoder: &mut PassiveDecoder,
        progress: &mut Progress,
    ) {
        progress.server_bytes = progress.server_bytes.saturating_add(data.len() as u64);
        let messages = decoder.push(data);
        let mut log = lock(&self.log);
        log.bytes_received = progress.server_bytes;
        if log.handshake_in.len() < HANDSHAKE_LEN {
            log.handshake_in = decoder.handshake().to_vec();
        }
        for m in messages {
            if let Some(info) = response_transaction(&m.msg) {
                progress.replies.push(info);
            }
            log.entries.push(Entry {
                at: now,
                side: Side::Server,
                msg: m.msg,
            });
        }
        if log.server_decode_error.is_none() {
            log.server_decode_error = decoder.error().map(str::to_owned);
        }
    }
}

fn response_transaction(msg: &rtmp_proto::message::RawMessage) -> Option<f64> {
    if !matches!(
        msg.type_id,
        MessageType::CommandAmf0 | MessageType::CommandAmf3
    ) {
        return None;
    }
    match Command::decode(msg).ok()? {
        Command::Result(r) | Command::Error(r) => Some(r.transaction_id),
        _ => None,
    }
}

/// The address of flow `index`'s simulated host.
fn flow_host(index: usize) -> IpAddr {
    let base = u32::from(Ipv4Addr::new(10, 1, 0, 1));
    let offset = u32::try_from(index).unwrap_or(u32::MAX);
    IpAddr::V4(Ipv4Addr::from(base.saturating_add(offset)))
}

/// Replays every flow of `capture` into a fresh simulated server.
pub fn replay(capture: &Capture, options: &ReplayOptions) -> Result<Report, ReplayError> {
    let mut sim = Sim::new(options.seed);
    sim.set_default_link(options.link.clone());
    let rt = SimRuntime::new(sim.host(SERVER_IP));
    let config = options.config.clone().unwrap_or_default();
    let server = Server::start(rt, config)?;
    let rtmp = *server
        .addrs(ListenerKind::Rtmp)
        .first()
        .ok_or(ReplayError::NoRtmpListener)?;
    let mut tasks = Vec::new();
    for (i, flow) in capture.flows.iter().enumerate() {
        let (client_messages, client_decoder) = decode_all(&flow.client_bytes);
        let (plan, start, timing) = match &flow.timing {
            Timing::Captured {
                start,
                writes,
                close_at,
                close,
            } => (
                Plan::Captured {
                    writes: writes.iter().cloned().collect(),
                    close_at: *close_at,
                    close: *close,
                },
                *start,
                format!(
                    "as captured: {} writes from {}, client closes {}",
                    writes.len(),
                    stamp(*start),
                    stamp(*close_at)
                ),
            ),
            Timing::Lockstep => (
                Plan::lockstep(&flow.client_bytes, &client_messages),
                Duration::ZERO,
                "lockstep (no capture timing): each call waits for its answer".to_owned(),
            ),
        };
        let log = Arc::new(Mutex::new(FlowLog::default()));
        let task = FlowTask {
            host: sim.host(flow_host(i)),
            server: rtmp,
            start,
            plan,
            client_messages,
            log: log.clone(),
        };
        let handle = sim.spawn(task.run());
        tasks.push((
            flow,
            timing,
            client_decoder.error().map(str::to_owned),
            log,
            handle,
        ));
    }
    while tasks.iter().any(|t| !t.4.is_finished()) && sim.now() < MAX_REPLAY {
        sim.run_for(Duration::from_millis(500))?;
    }
    sim.run_for(options.settle)?;
    let hls = collect(&sim.fs());
    let transcript_hash = sim.transcript_hash();
    let mut flows = Vec::new();
    for (flow, timing, client_decode_error, log, handle) in tasks {
        let mut log = lock(&log);
        if !handle.is_finished() {
            log.events.push(format!(
                "still running when the replay stopped {}",
                stamp(sim.now())
            ));
        }
        flows.push(flow_report(flow, timing, client_decode_error, &mut log));
    }
    drop(server);
    Ok(Report {
        name: capture.name.clone(),
        seed: options.seed,
        custom_config: options.config.is_some(),
        notes: capture.notes.clone(),
        flows,
        hls,
        transcript_hash,
    })
}

fn flow_report(
    flow: &Flow,
    timing: String,
    client_decode_error: Option<String>,
    log: &mut FlowLog,
) -> FlowReport {
    let client_hs = flow
        .client_bytes
        .get(..HANDSHAKE_LEN)
        .unwrap_or(&flow.client_bytes);
    let server_hs = &log.handshake_in;
    let c2_echoes_s1 = match (
        client_hs.get(1 + 1536 + 8..HANDSHAKE_LEN),
        server_hs.get(1 + 8..1 + 1536),
    ) {
        (Some(c2), Some(s1)) => c2 == s1,
        _ => false,
    };
    let captured_server = flow.captured_server_bytes.as_ref().map(|b| {
        decode_all(b)
            .0
            .into_iter()
            .map(|d| Entry {
                at: Duration::ZERO,
                side: Side::Server,
                msg: d.msg,
            })
            .collect()
    });
    let mut events = std::mem::take(&mut log.events);
    if let Some(gap) = flow.gap {
        events.push(format!(
            "the capture lost client bytes at offset {gap}; replayed up to there"
        ));
    }
    FlowReport {
        label: flow.label.clone(),
        timing,
        entries: std::mem::take(&mut log.entries),
        client_handshake: HandshakeSummary::read(client_hs, true),
        server_handshake: HandshakeSummary::read(server_hs, false),
        s2_echoes_c1: crate::decode::s2_echoes_c1(client_hs, server_hs),
        c2_echoes_s1,
        events,
        client_decode_error,
        server_decode_error: log.server_decode_error.take(),
        captured_server,
        bytes_sent: log.bytes_sent,
        bytes_received: log.bytes_received,
    }
}
