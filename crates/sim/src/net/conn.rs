//! A simulated TCP connection: `futures-io` reads and writes over two pipes.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::link::LinkConfig;
use super::pipe::Pipe;
use super::NetEnv;
use crate::transcript::Direction;

/// Both directions of one connection. Index 0 carries client-to-server bytes.
#[derive(Debug)]
pub(crate) struct ConnPair {
    pipes: [Pipe; 2],
    cfg: LinkConfig,
}

impl ConnPair {
    pub(crate) fn new(cfg: LinkConfig) -> Arc<Mutex<Self>> {
        Arc::new(Mutex::new(Self {
            pipes: [Pipe::default(), Pipe::default()],
            cfg,
        }))
    }
}

/// One end of a simulated TCP connection.
///
/// Reads return bytes once their virtual arrival time has come, coalescing
/// segments like TCP. Writes are accepted up to the link's buffer bound and
/// otherwise return `Pending` until the peer reads. `poll_close` sends a FIN: the
/// peer reads EOF after draining. [`SimConn::reset`] aborts: each side gets
/// `ConnectionReset` (the peer once the RST arrives). Dropping a connection
/// closes it, or resets it if it still had unread input (as Linux does).
#[derive(Debug)]
pub struct SimConn {
    pair: Arc<Mutex<ConnPair>>,
    /// 0 for the connecting side, 1 for the accepting side.
    side: usize,
    env: NetEnv,
    id: u64,
    local: SocketAddr,
    peer: SocketAddr,
}

impl SimConn {
    pub(crate) fn new(
        pair: Arc<Mutex<ConnPair>>,
        side: usize,
        env: NetEnv,
        id: u64,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> Self {
        Self {
            pair,
            side: side.min(1),
            env,
            id,
            local,
            peer,
        }
    }

    fn lock(&self) -> MutexGuard<'_, ConnPair> {
        self.pair.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn out_index(&self) -> usize {
        self.side
    }

    fn in_index(&self) -> usize {
        1 - self.side
    }

    /// The connection's id, shared by both ends and used in the transcript.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The link shaping this connection.
    pub fn link(&self) -> LinkConfig {
        self.lock().cfg.clone()
    }

    /// Bytes this end wrote that the peer has not read yet.
    pub fn unread_by_peer(&self) -> usize {
        let out = self.out_index();
        self.lock().pipes.get(out).map_or(0, Pipe::buffered)
    }

    /// Bytes this end has read so far.
    pub fn bytes_read(&self) -> u64 {
        let inp = self.in_index();
        self.lock().pipes.get(inp).map_or(0, Pipe::delivered)
    }

    /// Aborts the connection with an RST: this end fails at once, the peer when
    /// the RST arrives one latency later.
    pub fn reset(&self) {
        let clock = &self.env.clock;
        let now = clock.now();
        let (out, inp) = (self.out_index(), self.in_index());
        let mut pair = self.lock();
        let at_peer = now.saturating_add(pair.cfg.latency);
        let kind = io::ErrorKind::ConnectionReset;
        if let Some(p) = pair.pipes.get_mut(out) {
            p.fail_writer(now, kind, clock);
            p.fail_reader(at_peer, kind, clock);
        }
        if let Some(p) = pair.pipes.get_mut(inp) {
            p.fail_reader(now, kind, clock);
            p.fail_writer(at_peer, kind, clock);
            p.discard();
        }
    }

    fn direction_in(&self) -> Direction {
        if self.side == 0 {
            Direction::ToClient
        } else {
            Direction::ToServer
        }
    }
}

impl AsyncRead for SimConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let inp = this.in_index();
        let result = {
            let mut pair = this.lock();
            let pair = &mut *pair;
            match pair.pipes.get_mut(inp) {
                Some(pipe) => pipe.poll_read(cx, &this.env.clock, &pair.cfg, buf),
                None => Poll::Ready(Err(io::Error::from(io::ErrorKind::NotConnected))),
            }
        };
        if let Poll::Ready(Ok(n)) = &result {
            if let Some(data) = buf.get(..*n).filter(|d| !d.is_empty()) {
                let now = this.env.clock.now();
                this.env
                    .transcript
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .read(this.id, this.direction_in(), now, data);
            }
        }
        result
    }
}

impl AsyncWrite for SimConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let out = this.out_index();
        let mut pair = this.lock();
        let pair = &mut *pair;
        match pair.pipes.get_mut(out) {
            Some(pipe) => pipe.poll_write(cx, &this.env.clock, &this.env.rng, &pair.cfg, buf),
            None => Poll::Ready(Err(io::Error::from(io::ErrorKind::NotConnected))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let out = this.out_index();
        let mut pair = this.lock();
        let pair = &mut *pair;
        if let Some(pipe) = pair.pipes.get_mut(out) {
            pipe.close(&this.env.clock, &pair.cfg);
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for SimConn {
    fn drop(&mut self) {
        let (out, inp) = (self.out_index(), self.in_index());
        let unread = self.lock().pipes.get(inp).is_some_and(|p| p.buffered() > 0);
        if unread {
            self.reset();
        }
        let clock = &self.env.clock;
        let now = clock.now();
        let mut pair = self.lock();
        let pair = &mut *pair;
        let at_peer = now.saturating_add(pair.cfg.latency);
        if let Some(p) = pair.pipes.get_mut(out) {
            p.close(clock, &pair.cfg);
            // Our writer waiters belong to this (now gone) end.
            p.clear_writer(clock);
        }
        if let Some(p) = pair.pipes.get_mut(inp) {
            p.clear_reader(clock);
            p.discard();
            // Nobody will read any more: the peer's writes fail once it hears so.
            p.fail_writer(at_peer, io::ErrorKind::ConnectionReset, clock);
        }
    }
}
