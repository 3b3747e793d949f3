//! The I/O loop around one [`ClientSession`]: bytes from a [`SimConn`] in, bytes out.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::{AsyncReadExt, AsyncWriteExt};
use rtmp_proto::session::{ClientConfig, ClientEvent, ClientSession, SessionError};

use crate::handle::{Host, SimHandle};
use crate::net::SimConn;

/// Size of a client's read buffer.
const READ_BUFFER: usize = 64 * 1024;

/// Why a simulated client stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// The server sent something the session could not accept.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// `connect` or a stream command was refused; the status code says why.
    #[error("refused: {0}")]
    Refused(String),
    /// The server closed the connection.
    #[error("connection closed by the server")]
    Closed,
}

/// A connected client session and its socket.
#[derive(Debug)]
pub(crate) struct Driver {
    pub(crate) conn: SimConn,
    pub(crate) session: ClientSession,
    pub(crate) sim: SimHandle,
    buf: Vec<u8>,
    out: Vec<Bytes>,
}

impl Driver {
    /// Connects to `server` from `host` and starts the handshake.
    pub(crate) async fn open(
        host: &Host,
        server: SocketAddr,
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        let sim = host.sim().clone();
        let conn = host.connect(server).await?;
        let mut seed = [0u8; 32];
        sim.fill_random(&mut seed);
        let epoch = u32::try_from(sim.now().as_millis() & 0xffff_ffff).unwrap_or(0);
        Ok(Self {
            conn,
            session: ClientSession::new(config, epoch, seed),
            sim,
            buf: vec![0; READ_BUFFER],
            out: Vec::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.sim.now().as_millis()).unwrap_or(u64::MAX)
    }

    /// Writes everything the session has queued.
    pub(crate) async fn flush(&mut self) -> Result<(), ClientError> {
        self.session.poll_transmit(&mut self.out);
        for piece in self.out.drain(..) {
            self.conn.write_all(&piece).await?;
        }
        Ok(())
    }

    /// Reads once and feeds the session; `Ok(false)` at EOF. Cancel-safe: bytes
    /// are only consumed by the read that returns them.
    pub(crate) async fn read_once(&mut self) -> Result<bool, ClientError> {
        let n = self.conn.read(&mut self.buf).await?;
        if n == 0 {
            return Ok(false);
        }
        let now = self.now_ms();
        let data = self.buf.get(..n).unwrap_or_default();
        self.session.handle_input(now, data)?;
        Ok(true)
    }

    /// The next session event, reading and flushing as needed.
    pub(crate) async fn next_event(&mut self) -> Result<ClientEvent, ClientError> {
        loop {
            self.flush().await?;
            if let Some(event) = self.session.poll_event() {
                return Ok(event);
            }
            if !self.read_once().await? {
                return Err(ClientError::Closed);
            }
        }
    }

    /// `connect(app)`; waits for the answer. Unrelated events go to `other`.
    pub(crate) async fn connect_app(
        &mut self,
        app: &str,
        server: SocketAddr,
        other: &mut (dyn FnMut(ClientEvent) + Send),
    ) -> Result<(), ClientError> {
        let tc_url = format!("rtmp://{server}/{app}");
        self.session.connect(app, &tc_url, Vec::new());
        loop {
            match self.next_event().await? {
                ClientEvent::Connected { .. } => return Ok(()),
                ClientEvent::ConnectFailed { status } => {
                    return Err(ClientError::Refused(status.code))
                }
                event => other(event),
            }
        }
    }
}
