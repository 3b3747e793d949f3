//! What the hub knows about a connected client, for the HTTP API and kicking.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::task::AtomicWaker;

use super::rate::{RateWindow, Traffic};
use super::Hub;

/// The role a client plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Connected, not yet publishing or playing.
    Idle,
    /// An RTMP publisher (`fmle-publish` / `flash-publish` in SRS's API).
    RtmpPublish,
    /// An RTMP player.
    RtmpPlay,
    /// An HTTP-FLV player.
    FlvPlay,
}

impl ClientKind {
    /// SRS's API name for the role.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::RtmpPublish => "fmle-publish",
            Self::RtmpPlay => "rtmp-play",
            Self::FlvPlay => "flv-play",
        }
    }

    /// Whether the client sends media to us.
    pub fn is_publish(self) -> bool {
        matches!(self, Self::RtmpPublish)
    }
}

/// Mutable details filled in as the session progresses.
#[derive(Debug, Clone, Default)]
pub struct ClientDetails {
    /// vhost/app/stream, once known.
    pub stream: Option<super::StreamKey>,
    /// The source id, once publishing or playing.
    pub source_id: Option<u64>,
    /// The tcUrl (RTMP) or request URL (HTTP).
    pub url: String,
    /// The peer's flashVer / User-Agent.
    pub agent: String,
    /// The RTMP connect's `pageUrl` (the web page of a Flash player).
    pub page_url: String,
    /// The RTMP connect's `swfUrl`.
    pub swf_url: String,
}

/// Enhanced RTMP v2 "Reconnect Request" the server wants a client sent
/// (`NetConnection.Connect.ReconnectRequest`, see `crate::reconnect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectAsk {
    /// Where to reconnect; `None` for the URL the client used.
    pub tc_url: Option<String>,
    /// The status's human-readable description.
    pub description: String,
    /// Close the connection once the request is written (a reload removed
    /// the client's vhost) rather than serve on until the client leaves (a
    /// graceful quit, which the spec's "old server SHOULD continue
    /// processing messages" asks for).
    pub then_close: bool,
}

/// What the server asks of a connection, besides what its client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOrder {
    /// Close now ([`ClientInfo::kick`]).
    Kick,
    /// Send a reconnect request ([`ClientInfo::ask_reconnect`]).
    Reconnect(ReconnectAsk),
}

/// A connected client.
#[derive(Debug)]
pub struct ClientInfo {
    /// Unique id (the connection id in logs).
    pub id: u64,
    /// Peer address.
    pub peer: String,
    /// Runtime ms when it connected.
    pub connected_ms: u64,
    /// Bytes read from the peer.
    pub bytes_in: AtomicU64,
    /// Bytes written to the peer.
    pub bytes_out: AtomicU64,
    kind: Mutex<ClientKind>,
    details: Mutex<ClientDetails>,
    kicked: AtomicBool,
    /// The client's one connection waits here (polled on every wakeup of a
    /// busy connection, so a flag and a waker rather than a listener list).
    kick_waker: AtomicWaker,
    /// Sampled counters, for recent rates.
    rates: Mutex<RateWindow>,
    /// The client's RTMP `connect` announced `capsEx` Reconnect.
    supports_reconnect: AtomicBool,
    /// A reconnect request waiting for the connection to send it.
    reconnect: Mutex<Option<ReconnectAsk>>,
}

impl ClientInfo {
    /// A new idle client.
    pub fn new(id: u64, peer: String, connected_ms: u64) -> Self {
        Self {
            id,
            peer,
            connected_ms,
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            kind: Mutex::new(ClientKind::Idle),
            details: Mutex::new(ClientDetails::default()),
            kicked: AtomicBool::new(false),
            kick_waker: AtomicWaker::new(),
            rates: Mutex::new(RateWindow::new(connected_ms)),
            supports_reconnect: AtomicBool::new(false),
            reconnect: Mutex::new(None),
        }
    }

    /// Records whether the client announced Enhanced RTMP's `capsEx`
    /// Reconnect bit at connect.
    pub fn set_supports_reconnect(&self, yes: bool) {
        self.supports_reconnect.store(yes, Ordering::Relaxed);
    }

    /// Whether the client handles a reconnect request (RTMP clients whose
    /// connect announced it; never HTTP clients).
    pub fn supports_reconnect(&self) -> bool {
        self.supports_reconnect.load(Ordering::Relaxed)
    }

    /// Asks the connection to send `ask` (a later ask replaces one not yet
    /// sent). Only RTMP connections act on it: use it for clients that
    /// [`supports_reconnect`](Self::supports_reconnect), and
    /// [`kick`](Self::kick) the others.
    pub fn ask_reconnect(&self, ask: ReconnectAsk) {
        *self.reconnect.lock().unwrap_or_else(|e| e.into_inner()) = Some(ask);
        self.kick_waker.wake();
    }

    /// The next order for the connection: a kick wins over a pending
    /// reconnect request. One waiter per client, as [`kicked`](Self::kicked).
    pub async fn next_order(&self) -> ClientOrder {
        std::future::poll_fn(|cx| {
            let take = || {
                if self.is_kicked() {
                    return Some(ClientOrder::Kick);
                }
                self.reconnect
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .map(ClientOrder::Reconnect)
            };
            if let Some(order) = take() {
                return std::task::Poll::Ready(order);
            }
            self.kick_waker.register(cx.waker());
            match take() {
                Some(order) => std::task::Poll::Ready(order),
                None => std::task::Poll::Pending,
            }
        })
        .await
    }

    /// Current role.
    pub fn kind(&self) -> ClientKind {
        *self.kind.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the role.
    pub fn set_kind(&self, kind: ClientKind) {
        *self.kind.lock().unwrap_or_else(|e| e.into_inner()) = kind;
    }

    /// A copy of the details.
    pub fn details(&self) -> ClientDetails {
        self.details
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads the details without copying them (the API walks every client).
    pub fn with_details<R>(&self, f: impl FnOnce(&ClientDetails) -> R) -> R {
        f(&self.details.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Updates the details in place.
    pub fn update(&self, f: impl FnOnce(&mut ClientDetails)) {
        f(&mut self.details.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Asks the connection to close.
    pub fn kick(&self) {
        self.kicked.store(true, Ordering::SeqCst);
        self.kick_waker.wake();
    }

    /// True once kicked.
    pub fn is_kicked(&self) -> bool {
        self.kicked.load(Ordering::SeqCst)
    }

    /// Completes when the client is kicked. One waiter per client: the
    /// connection serving it.
    pub async fn kicked(&self) {
        std::future::poll_fn(|cx| {
            if self.is_kicked() {
                return std::task::Poll::Ready(());
            }
            self.kick_waker.register(cx.waker());
            if self.is_kicked() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await
    }

    /// The byte counters now.
    pub fn traffic(&self, now_ms: u64) -> Traffic {
        Traffic {
            at_ms: now_ms,
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
        }
    }

    /// Records the counters for [`recent_traffic`](Self::recent_traffic) (the
    /// server's housekeeping timer calls this for every client).
    pub fn sample_traffic(&self, now_ms: u64) {
        let now = self.traffic(now_ms);
        self.rates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(now);
    }

    /// Bytes moved over the last 30 to 40 s (since connect for a younger
    /// client), and over how many ms.
    pub fn recent_traffic(&self, now_ms: u64) -> Traffic {
        let now = self.traffic(now_ms);
        self.rates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recent(now)
    }

    /// Counts bytes read.
    pub fn add_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts bytes written.
    pub fn add_out(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Keeps a client listed while the connection lives.
#[derive(Debug)]
pub struct ClientRegistration {
    hub: Arc<Hub>,
    info: Arc<ClientInfo>,
}

impl ClientRegistration {
    pub(super) fn new(hub: Arc<Hub>, info: Arc<ClientInfo>) -> Self {
        Self { hub, info }
    }

    /// The shared info.
    pub fn info(&self) -> &Arc<ClientInfo> {
        &self.info
    }
}

impl Drop for ClientRegistration {
    fn drop(&mut self) {
        self.hub.unregister_client(self.info.id);
    }
}
