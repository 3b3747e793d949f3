//! A bound simulated listener.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use super::conn::SimConn;
use super::network::{ListenerState, Network};

/// A listening socket on a simulated host. Dropping it unbinds the address.
#[derive(Debug)]
pub struct SimListener {
    net: Arc<Network>,
    addr: SocketAddr,
    state: Arc<Mutex<ListenerState>>,
}

impl SimListener {
    pub(crate) fn new(
        net: Arc<Network>,
        addr: SocketAddr,
        state: Arc<Mutex<ListenerState>>,
    ) -> Self {
        Self { net, addr, state }
    }

    /// The bound address (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the next connection, returning it and the peer's address.
    pub fn accept(&self) -> Accept<'_> {
        Accept { listener: self }
    }
}

/// The future [`SimListener::accept`] returns.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Accept<'a> {
    listener: &'a SimListener,
}

impl Future for Accept<'_> {
    type Output = io::Result<(SimConn, SocketAddr)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self
            .listener
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(next) = state.backlog.pop_front() {
            return Poll::Ready(Ok(next));
        }
        if !state.open {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "listener closed",
            )));
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        self.net.unbind(self.addr);
    }
}
