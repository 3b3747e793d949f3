//! HTTP: the HTTP server (HLS files, HTTP-FLV, static files, index page) and the
//! HTTP API. STUB: being written by the http work.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::runtime::Connection;
use crate::server::ServerCtx;

/// Which services a listener offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// HLS, HTTP-FLV, static files.
    Server,
    /// The HTTP API.
    Api,
    /// Both on one port.
    Both,
}

/// Serves one HTTP connection (keep-alive) to its end.
pub async fn serve(ctx: Arc<ServerCtx>, conn: Box<dyn Connection>, peer: SocketAddr, role: Role) {
    let _ = (ctx, conn, peer, role);
}
