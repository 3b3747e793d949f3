//! HTTP: the HTTP server (HLS files, HTTP-FLV, static files, index page) and the
//! HTTP API, as SRS serves them.
//!
//! hyper 1 does the HTTP/1.1 framing; everything it needs from the outside world
//! comes from the runtime trait, so the same code runs on tokio, smol and the
//! simulator's virtual clock:
//! - [`hyper_io`]: the runtime's `futures-io` connection as hyper I/O, with a
//!   send-stall timeout (a player that stops reading is dropped).
//! - [`timer`]: hyper's timer on `Runtime::sleep`/`now`, so `header_read_timeout`
//!   (a client that connects and says nothing, or idles between requests) works.
//! - [`router`]: one request to its handler; [`files`], [`flv`], [`index`],
//!   [`console`] and [`api`] are the handlers; [`path`] and [`mime`] map URLs to files safely.
//!
//! Connection-level limits are the constants below; [`HttpOptions`] carries the
//! timeouts so tests can shorten them.

pub(crate) mod api;
pub mod auth;
mod body;
mod console;
mod files;
mod flv;
mod hls_live;
mod hyper_io;
mod index;
mod metrics;
mod mime;
pub mod path;
mod pieces;
pub mod range;
mod reply;
mod router;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod timer;
mod upstream_metrics;
mod vod;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use tracing::{debug, Instrument};

use crate::context::ServerCtx;
use crate::runtime::Connection;

/// Largest request head (request line plus headers) accepted, in bytes. hyper
/// answers a larger one with `431 Request Header Fields Too Large`. This is also
/// hyper's read/write buffer bound per connection (its minimum is 8 KiB).
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Most headers in one request (hyper answers `431` beyond).
pub const MAX_HEADERS: usize = 64;
/// Request bodies are read (and discarded) up to this size; a larger one gets
/// `413 Payload Too Large` and the connection is closed. SRS's API takes small
/// JSON bodies only.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;
/// Which services a listener offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// HLS, HTTP-FLV, static files.
    Server,
    /// The HTTP API.
    Api,
    /// Both on one port.
    Both,
    /// Prometheus metrics (`exporter { }`).
    Exporter,
}

/// Connection timeouts. [`Default`] holds the production values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// A request head must arrive completely within this, counted from when
    /// the connection opens or the previous response ends; so it is also the
    /// keep-alive idle timeout.
    pub header_read_timeout: Duration,
    /// A write that makes no progress for this long drops the connection (a
    /// stalled HTTP-FLV player or a client that stopped reading).
    pub send_timeout: Duration,
    /// A request body must arrive within this.
    pub body_read_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves one HTTP connection (keep-alive) to its end.
pub async fn serve(ctx: Arc<ServerCtx>, conn: Box<dyn Connection>, peer: SocketAddr, role: Role) {
    serve_with(ctx, conn, peer, role, HttpOptions::default()).await
}

/// [`serve`] with explicit timeouts.
pub async fn serve_with(
    ctx: Arc<ServerCtx>,
    conn: Box<dyn Connection>,
    peer: SocketAddr,
    role: Role,
    options: HttpOptions,
) {
    let span = tracing::debug_span!("http", peer = %peer, ?role);
    async move {
        // Responses are written whole or streamed by hyper; Nagle only adds delay.
        let _ = conn.set_nodelay(true);
        let io = hyper_io::HyperIo::new(conn, ctx.rt.clone(), options.send_timeout);
        let timer = timer::RuntimeTimer::new(ctx.rt.clone());
        let service = service_fn(move |req| {
            let ctx = ctx.clone();
            async move { Ok::<_, Infallible>(router::handle(&ctx, req, peer, role, &options).await) }
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(timer)
            .header_read_timeout(options.header_read_timeout)
            .max_buf_size(MAX_REQUEST_HEAD)
            .max_headers(MAX_HEADERS)
            .writev(true)
            .keep_alive(true)
            // The Date header comes from the runtime's clock (see `reply`), not
            // hyper's SystemTime cache, so the simulator stays deterministic.
            .auto_date_header(false);
        match builder.serve_connection(io, service).await {
            Ok(()) => debug!("closed"),
            Err(e) => debug!("closed: {e}"),
        }
    }
    .instrument(span)
    .await
}
