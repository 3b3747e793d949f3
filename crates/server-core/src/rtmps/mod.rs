//! RTMPS: RTMP inside TLS (RFC 8446; TLS 1.2 too), in both directions.
//!
//! - As a server: `rtmps { enabled on; listen 1443; key FILE; cert FILE; }`
//!   (SRS 7.0.56's block) binds listeners whose connections run the TLS
//!   handshake ([`TLS_HANDSHAKE_TIMEOUT`]) and then the very same RTMP
//!   connection code as the plain port ([`crate::rtmp_conn::serve`]). They
//!   are counted like the plain listener's (`max_connections`,
//!   `rtmp_max_connections`, `max_connections_per_ip`).
//! - As a client: `rtmps://` forward destinations and edge origins go
//!   through the server's [`TlsClient`] (system roots plus `upstream_ca`).
//!
//! The certificate, key and CA files are read at start (an unreadable or
//! bad one is a start-up error, as in SRS) and again at every reload
//! (SIGHUP), even if their names did not change, so a renewed certificate
//! is taken without a restart; a reload whose files are bad keeps the
//! running ones and says so. Connections already up keep the certificate
//! they were made with.
//!
//! TLS runs over the runtime's plain connections (`futures-io` streams), so
//! tokio, smol and the simulator all serve it ([`stream::TlsConnection`]).

pub mod certs;
pub mod stream;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use tracing::{debug, info, warn};

use crate::config::Config;
use crate::context::ServerCtx;
use crate::runtime::{timeout, Connection};
pub use certs::{TlsFileError, MAX_PEM_BYTES};
pub use stream::TlsConnection;

use crate::tls_client::TlsClient;

/// A client must finish the TLS handshake within this of being accepted
/// (then the RTMP handshake and `connect` get
/// [`CONNECT_TIMEOUT`](crate::rtmp_conn::CONNECT_TIMEOUT) of their own):
/// a socket that sends nothing, or a plain RTMP client that waits for S0,
/// holds its slot no longer.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most a reload waits for the file system to give one PEM file.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS state of a running server.
#[derive(Debug)]
pub struct RtmpsState {
    /// The listener's certificate and key (none: not enabled, or never
    /// loaded).
    server: RwLock<Option<Arc<ServerConfig>>>,
    /// The client side, for `rtmps://` upstreams.
    pub upstream: TlsClient,
}

impl Default for RtmpsState {
    fn default() -> Self {
        Self {
            server: RwLock::new(None),
            upstream: TlsClient::new("rtmps"),
        }
    }
}

impl RtmpsState {
    /// The listener's current TLS config.
    pub fn server_config(&self) -> Option<Arc<ServerConfig>> {
        self.server
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_server_config(&self, config: Option<Arc<ServerConfig>>) {
        *self.server.write().unwrap_or_else(|e| e.into_inner()) = config;
    }

    /// Reads the files `config` names, before the server starts.
    pub fn load_at_start(&self, config: &Config) -> Result<(), TlsFileError> {
        let c = &config.rtmps;
        if c.enabled && c.listen.is_empty() {
            warn!("rtmps: enabled with no listen address: no RTMPS listener (SRS suggests listen 1443)");
        }
        if c.enabled {
            let cert = certs::read_at_start(&c.cert)?;
            let key = certs::read_at_start(&c.key)?;
            self.set_server_config(Some(certs::server_config(&c.cert, &cert, &c.key, &key)?));
        }
        if let Some(ca) = &c.upstream_ca {
            let pem = certs::read_at_start(ca)?;
            self.upstream
                .set_extra_roots(certs::certificates(ca, &pem)?);
        }
        Ok(())
    }

    /// Reads the files `config` names again (a reload). What fails keeps
    /// the running value; each failure is returned for the reload's report.
    pub async fn reload(&self, ctx: &ServerCtx, config: &Config) -> Vec<String> {
        let c = &config.rtmps;
        let mut failures = Vec::new();
        if c.enabled {
            let loaded = async {
                let cert = read(ctx, &c.cert).await?;
                let key = read(ctx, &c.key).await?;
                certs::server_config(&c.cert, &cert, &c.key, &key)
            };
            match loaded.await {
                Ok(server) => {
                    self.set_server_config(Some(server));
                    info!(cert = %c.cert.display(), "rtmps: certificate and key loaded");
                }
                Err(e) => failures.push(format!("rtmps: {e} (the running certificate stays)")),
            }
        }
        match &c.upstream_ca {
            None => self.upstream.set_extra_roots(Vec::new()),
            Some(ca) => match read(ctx, ca)
                .await
                .and_then(|pem| certs::certificates(ca, &pem))
            {
                Ok(roots) => self.upstream.set_extra_roots(roots),
                Err(e) => failures.push(format!("rtmps upstream_ca: {e} (the running roots stay)")),
            },
        }
        failures
    }
}

/// Reads a PEM file through the runtime, bounded in size and time.
async fn read(ctx: &ServerCtx, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    let fail = |reason: String| TlsFileError::Read {
        path: path.display().to_string(),
        reason,
    };
    match timeout(
        &*ctx.rt,
        READ_TIMEOUT,
        ctx.rt.fs().read(path, MAX_PEM_BYTES),
    )
    .await
    {
        Some(Ok(data)) => Ok(data.to_vec()),
        Some(Err(e)) => Err(fail(e.to_string())),
        None => Err(fail(format!(
            "not read within {} s",
            READ_TIMEOUT.as_secs()
        ))),
    }
}

/// Serves one connection of an `rtmps` listener: the TLS handshake, then
/// RTMP as on the plain port. A client that is not TLS (a plain RTMP client
/// sends C0 = 3 where a ClientHello record starts with 22), or that does
/// not finish in time, is closed with a line in the log; nobody else is
/// affected.
pub(crate) async fn serve(ctx: Arc<ServerCtx>, conn: Box<dyn Connection>, peer: SocketAddr) {
    let Some(config) = ctx.rtmps.server_config() else {
        warn!(%peer, "rtmps: no certificate loaded; connection closed");
        return;
    };
    let accept = futures_rustls::TlsAcceptor::from(config).accept(conn);
    match timeout(&*ctx.rt, TLS_HANDSHAKE_TIMEOUT, accept).await {
        Some(Ok(stream)) => {
            debug!(%peer, "rtmps: TLS handshake done");
            let conn = Box::new(stream::TlsConnection::new(stream));
            crate::rtmp_conn::serve(ctx, conn, peer).await;
        }
        Some(Err(e)) => {
            info!(%peer, "rtmps: TLS handshake failed, connection closed: {e}");
        }
        None => info!(
            %peer,
            "rtmps: no TLS handshake within {} s, connection closed",
            TLS_HANDSHAKE_TIMEOUT.as_secs()
        ),
    }
}
