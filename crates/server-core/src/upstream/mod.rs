//! The server's own outgoing RTMP connections: a forward pushing a stream
//! to another server today, an edge pulling one from its origin later.
//!
//! An [`UpstreamConn`] drives the sans-IO [`ClientSession`] over the
//! runtime's [`Runtime::connect`], so it runs the same on tokio, smol and
//! the simulator. Everything that waits on the remote server is bounded:
//! - name resolution, TCP connect, handshake, `connect` and `publish` (or,
//!   for an edge, `play`) all end within one setup deadline
//!   ([`UpstreamLimits::setup`]); a server that accepts TCP and never
//!   answers the handshake costs that long, then the caller retries;
//! - a write that makes no progress for [`UpstreamLimits::write_stall`]
//!   fails the connection (the caller drops it and reconnects), so a
//!   destination that stops reading never holds memory or a task forever;
//! - what the session queues on its own (acks, pings) is capped by the
//!   session itself; media is queued by the caller, who takes it from a
//!   bounded hub consumer (see `forward`).
//!
//! An edge pull ([`crate::edge`]) uses [`UpstreamConn::play`]: the same
//! setup deadline, with `play` in place of `publish_fmle`, then reads
//! [`ClientEvent::Media`] with [`UpstreamConn::read_some`] and feeds its
//! local source.

pub mod url;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::AsyncReadExt;
use rtmp_proto::amf0::Amf0Value;
use rtmp_proto::session::{
    ClientConfig, ClientEvent, ClientSession, ClientSetup, SessionError, SetupStep,
};
use rtmp_proto::RawMessage;

use crate::io::Outbox;
use crate::rtmps::TlsConnection;
use crate::runtime::{timeout, ReadHalf, Runtime, WriteHalf};
use crate::tls_client::TlsClient;
pub use url::{RtmpUrl, RtmpUrlError, MAX_RTMP_URL_BYTES, RTMP_DEFAULT_PORT};

/// Bytes read from the remote server per read.
const READ_BUF_LEN: usize = 16 * 1024;

/// How long an upstream connection may take or stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamLimits {
    /// Resolve, connect, handshake, `connect` and `publish`, all together.
    /// SRS gives each step 3 s (`SRS_CONSTS_RTMP_TIMEOUT`, ...) with no
    /// total; 10 s total here.
    pub setup: Duration,
    /// Longest a write may make no progress. SRS's forwarder uses 30 s
    /// (`SRS_FORWARDER_SLEEP_US`, its send timeout); 10 s here: a forward
    /// that cannot send for that long is better reconnected from a key frame.
    pub write_stall: Duration,
}

impl Default for UpstreamLimits {
    fn default() -> Self {
        Self {
            setup: Duration::from_secs(10),
            write_stall: Duration::from_secs(10),
        }
    }
}

/// Why an upstream connection failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The host has no address, or the resolver failed.
    #[error("cannot resolve {host}: {error}")]
    Resolve {
        /// The host.
        host: String,
        /// Why.
        error: std::io::Error,
    },
    /// No address took the TCP connection.
    #[error("cannot connect to {addr}: {error}")]
    Connect {
        /// The last address tried.
        addr: String,
        /// Why.
        error: std::io::Error,
    },
    /// Setup did not end within [`UpstreamLimits::setup`].
    #[error("no {0} within the setup deadline")]
    SetupTimeout(&'static str),
    /// A write made no progress for [`UpstreamLimits::write_stall`].
    #[error("write stalled")]
    WriteStall,
    /// Socket error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The remote server broke the protocol.
    #[error("rtmp: {0}")]
    Session(#[from] SessionError),
    /// The remote server closed the connection.
    #[error("closed by the remote server")]
    Closed,
    /// The remote server sent media, then nothing for this long.
    #[error("no media for {} s", .0.as_secs_f64())]
    Silent(Duration),
    /// The TLS handshake of an `rtmps://` upstream failed (its certificate
    /// is not trusted, or it does not speak TLS).
    #[error("{0}")]
    Tls(String),
    /// The remote server refused (`connect` or `publish`).
    #[error("refused: {0}")]
    Refused(String),
}

/// What an upstream connection's `connect` command says beyond the app.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectOptions {
    /// The tcUrl (default: the URL's, `rtmp[s]://host:port/app`).
    pub tc_url: Option<String>,
    /// Properties added to (or replacing defaults of) the command object.
    pub properties: Vec<(String, Amf0Value)>,
    /// User arguments after the command object.
    pub extra: Vec<Amf0Value>,
}

/// What a setup ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    Publish,
    Play,
    /// `connect` answered.
    Connect,
}

/// One outgoing RTMP connection.
pub struct UpstreamConn {
    rt: Arc<dyn Runtime>,
    limits: UpstreamLimits,
    /// The protocol state machine.
    session: ClientSession,
    read: ReadHalf,
    write: Box<dyn WriteHalf>,
    pieces: Vec<Bytes>,
    outbox: Outbox,
    read_buf: Box<[u8]>,
    /// The message stream `createStream` gave (0 before).
    stream_id: u32,
    bytes_out: u64,
    bytes_in: u64,
}

impl std::fmt::Debug for UpstreamConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConn")
            .field("stream_id", &self.stream_id)
            .field("bytes_out", &self.bytes_out)
            .field("bytes_in", &self.bytes_in)
            .finish_non_exhaustive()
    }
}

impl UpstreamConn {
    /// Resolves `url`'s host and opens a TCP connection to the first of
    /// its addresses that takes it (with the TLS handshake through `tls`
    /// for `rtmps://`), and starts a session (C0C1 queued).
    /// Not bounded by itself: [`publish`](Self::publish) bounds it.
    pub async fn open(
        rt: &Arc<dyn Runtime>,
        tls: &TlsClient,
        url: &RtmpUrl,
        limits: UpstreamLimits,
    ) -> Result<Self, UpstreamError> {
        let addrs =
            match crate::hooks::ip_literal(&url.host) {
                Some(ip) => vec![std::net::SocketAddr::new(ip, url.port)],
                None => rt.resolve(&url.host, url.port).await.map_err(|error| {
                    UpstreamError::Resolve {
                        host: url.host.clone(),
                        error,
                    }
                })?,
            };
        let mut last = None;
        for addr in addrs {
            match rt.connect(addr).await {
                Ok(conn) => {
                    // Commands are small and media is written in large
                    // batches: Nagle only adds delay.
                    let _ = conn.set_nodelay(true);
                    let conn = if url.tls {
                        let stream = tls
                            .connect(&url.host, conn)
                            .await
                            .map_err(UpstreamError::Tls)?;
                        Box::new(TlsConnection::new(stream))
                    } else {
                        conn
                    };
                    let (read, write) = conn.into_halves();
                    let session = ClientSession::new(ClientConfig::default(), 0, rt.random_seed());
                    return Ok(Self {
                        rt: rt.clone(),
                        limits,
                        session,
                        read,
                        write,
                        pieces: Vec::new(),
                        outbox: Outbox::default(),
                        read_buf: vec![0; READ_BUF_LEN].into_boxed_slice(),
                        stream_id: 0,
                        bytes_out: 0,
                        bytes_in: 0,
                    });
                }
                Err(error) => {
                    last = Some(UpstreamError::Connect {
                        addr: addr.to_string(),
                        error,
                    })
                }
            }
        }
        Err(last.unwrap_or_else(|| UpstreamError::Resolve {
            host: url.host.clone(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        }))
    }

    /// Connects to `url` and publishes its stream, FMLE style
    /// (`releaseStream`, `FCPublish`, `createStream`, `publish`), all within
    /// [`UpstreamLimits::setup`]. `properties` go into the `connect`
    /// command object. On success the connection is ready for
    /// [`send`](Self::send).
    pub async fn publish(
        rt: &Arc<dyn Runtime>,
        tls: &TlsClient,
        url: &RtmpUrl,
        properties: Vec<(String, Amf0Value)>,
        limits: UpstreamLimits,
    ) -> Result<Self, UpstreamError> {
        Self::set_up(rt, tls, url, properties, limits, true).await
    }

    /// Connects to `url` and plays its stream (`createStream`, then `play`),
    /// all within [`UpstreamLimits::setup`] (an edge pulling from its
    /// origin). Done at `NetStream.Play.Start`; media then arrives as
    /// [`ClientEvent::Media`] from [`read_some`](Self::read_some) and
    /// [`poll_event`](Self::poll_event). A stream not published on the
    /// remote server yet is no failure: its media comes when it does.
    pub async fn play(
        rt: &Arc<dyn Runtime>,
        tls: &TlsClient,
        url: &RtmpUrl,
        limits: UpstreamLimits,
    ) -> Result<Self, UpstreamError> {
        Self::set_up(rt, tls, url, Vec::new(), limits, false).await
    }

    /// Opens the connection and steps [`ClientSetup`] (the sequencing the
    /// `rtmp-client` library shares) until publishing or playing starts,
    /// within [`UpstreamLimits::setup`].
    async fn set_up(
        rt: &Arc<dyn Runtime>,
        tls: &TlsClient,
        url: &RtmpUrl,
        properties: Vec<(String, Amf0Value)>,
        limits: UpstreamLimits,
        publish: bool,
    ) -> Result<Self, UpstreamError> {
        let connect = ConnectOptions {
            properties,
            ..ConnectOptions::default()
        };
        let goal = if publish { Goal::Publish } else { Goal::Play };
        Self::set_up_with(rt, tls, url, connect, limits, goal).await
    }

    /// [`publish`](Self::publish) with the `connect` command of `connect`.
    pub async fn publish_with(
        rt: &Arc<dyn Runtime>,
        tls: &TlsClient,
        url: &RtmpUrl,
        connect: ConnectOptions,
        limits: UpstreamLimits,
    ) -> Result<Self, UpstreamError> {
        Self::set_up_with(rt, tls, url, connect, limits, Goal::Publish).await
    }

    /// [`play`](Self::play) with the `connect` command of `connect`.
    pub async fn play_with(
        rt: &Arc<dyn Runtime>,
        tls: &TlsClient,
        url: &RtmpUrl,
        connect: ConnectOptions,
        limits: UpstreamLimits,
    ) -> Result<Self, UpstreamError> {
        Self::set_up_with(rt, tls, url, connect, limits, Goal::Play).await
    }

    /// Connects to `url`'s server and app and waits for the answer to
    /// `connect`, within [`UpstreamLimits::setup`]; then the connection is
    /// dropped. SRS's `token_traverse`: the origin's `on_connect` hook
    /// judges an edge's client by the tcUrl it connected with.
    pub async fn connect_only(
        rt: &Arc<dyn Runtime>,
        tls: &TlsClient,
        url: &RtmpUrl,
        connect: ConnectOptions,
        limits: UpstreamLimits,
    ) -> Result<(), UpstreamError> {
        Self::set_up_with(rt, tls, url, connect, limits, Goal::Connect)
            .await
            .map(drop)
    }

    async fn set_up_with(
        rt: &Arc<dyn Runtime>,
        tls: &TlsClient,
        url: &RtmpUrl,
        connect: ConnectOptions,
        limits: UpstreamLimits,
        goal: Goal,
    ) -> Result<Self, UpstreamError> {
        let stage = std::sync::Mutex::new("connection");
        let setup = async {
            let mut conn = Self::open(rt, tls, url, limits).await?;
            let mut steps = ClientSetup::new();
            let tc_url = connect.tc_url.unwrap_or_else(|| url.tc_url());
            steps.connect_with_args(
                &mut conn.session,
                url,
                &tc_url,
                connect.properties,
                connect.extra,
            );
            match goal {
                Goal::Publish => steps.publish(&mut conn.session, url),
                Goal::Play => steps.play(&mut conn.session, url),
                Goal::Connect => {}
            }
            loop {
                set(&stage, steps.stage_name(&conn.session));
                conn.flush().await?;
                conn.read_some().await?;
                while let Some(event) = conn.session.poll_event() {
                    match steps.on_event(&mut conn.session, &event) {
                        SetupStep::Connected if goal == Goal::Connect => return Ok(conn),
                        SetupStep::Wait | SetupStep::Connected => {}
                        SetupStep::Ready(stream_id) => {
                            conn.stream_id = stream_id;
                            conn.flush().await?;
                            return Ok(conn);
                        }
                        SetupStep::Refused(why) => return Err(UpstreamError::Refused(why)),
                    }
                }
            }
        };
        match timeout(&**rt, limits.setup, setup).await {
            Some(result) => result,
            None => Err(UpstreamError::SetupTimeout(
                *stage.lock().unwrap_or_else(|e| e.into_inner()),
            )),
        }
    }

    /// Queues one message (audio, video or data) on the published stream.
    pub fn send(&mut self, msg: &RawMessage) {
        self.session.send_media(self.stream_id, msg);
    }

    /// Writes everything queued. Fails when a write makes no progress for
    /// [`UpstreamLimits::write_stall`].
    pub async fn flush(&mut self) -> Result<(), UpstreamError> {
        self.session.poll_transmit(&mut self.pieces);
        for piece in self.pieces.drain(..) {
            self.outbox.push_bytes(piece);
        }
        if self.outbox.is_empty() {
            return Ok(());
        }
        let stall = self.limits.write_stall;
        let rt = self.rt.clone();
        let write = self.outbox.write_all(&mut self.write);
        match timeout(&*rt, stall, write).await {
            Some(Ok(n)) => {
                self.bytes_out = self.bytes_out.saturating_add(n as u64);
                Ok(())
            }
            Some(Err(e)) => Err(e.into()),
            None => Err(UpstreamError::WriteStall),
        }
    }

    /// Waits for bytes from the remote server and feeds them to the session
    /// (answering pings and acknowledging on its own; events wait in
    /// [`poll_event`](Self::poll_event)). Cancel-safe: nothing is lost if the
    /// future is dropped before it completes.
    pub async fn read_some(&mut self) -> Result<usize, UpstreamError> {
        let n = self.read.read(&mut self.read_buf).await?;
        if n == 0 {
            return Err(UpstreamError::Closed);
        }
        self.bytes_in = self.bytes_in.saturating_add(n as u64);
        let data = self.read_buf.get(..n).unwrap_or_default();
        let now = u64::try_from(self.rt.now().as_millis()).unwrap_or(u64::MAX);
        self.session.handle_input(now, data)?;
        Ok(n)
    }

    /// The next event the remote server caused.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.session.poll_event()
    }

    /// Bytes written so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// Bytes read so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }
}

fn set(stage: &std::sync::Mutex<&'static str>, to: &'static str) {
    *stage.lock().unwrap_or_else(|e| e.into_inner()) = to;
}

/// Exponential backoff between retries: `first`, doubled after each
/// failure, at most `max`; back to `first` after a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// A backoff from `first` up to `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            next: first,
        }
    }

    /// The wait before the next attempt; doubles the one after.
    pub fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        wait
    }

    /// An attempt succeeded: the next failure waits `first` again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_bound_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        let waits: Vec<u64> = (0..5).map(|_| b.failed().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        b.reset();
        assert_eq!(b.failed(), Duration::from_secs(1));
    }
}
