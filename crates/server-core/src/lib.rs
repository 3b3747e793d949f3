//! The runtime-neutral server: everything `rtmp-server` and `rtmp-server-smol` share.
//!
//! Layout (one concern per module, mini-redis style):
//! - [`runtime`]: the small trait a backend implements (spawn, sleep, now, TCP, files).
//! - [`config`]: SRS-compatible config files; [`settings`] resolves them for the hot paths.
//! - [`server`]: listeners and accept loops; [`rtmp_conn`]: one RTMP connection.
//! - [`hub`]: streams (sources), consumers, fan-out, the client registry.
//! - [`hls_sink`]: HLS output; [`http`]: HLS/HTTP-FLV/static files and the HTTP API.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod bandcheck;
pub mod cli;
pub mod config;
pub mod context;
pub mod dvr;
pub mod edge;
pub mod ffmpeg;
pub mod file_workers;
pub mod forward;
pub mod fs;
pub mod hls_sink;
pub mod hooks;
pub mod http;
pub mod hub;
pub mod io;
pub mod lifecycle;
pub mod logging;
pub mod media;
pub mod net;
pub mod process;
pub mod reconnect;
pub mod reload;
pub mod rtmp_conn;
pub mod rtmps;
pub mod runtime;
pub mod server;
pub mod settings;
pub mod tls_client;
pub mod upgrade;
pub mod upstream;
pub mod vhost;
pub mod vod;

pub use config::Config;
pub use context::ServerCtx;
pub use runtime::Runtime;
pub use server::{ListenerKind, Server};

/// Server name reported in RTMP `_result` and the HTTP API.
pub const SERVER_NAME: &str = "rtmp-server";
/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// This process's server id, as the HTTP API's `server` field and the hooks'
/// `server_id` report it.
pub fn server_id() -> String {
    format!("vid-{:x}", std::process::id())
}

/// This process's service id, as the HTTP API's `service` field and the
/// hooks' `service_id` report it.
pub fn service_id() -> String {
    format!("{:x}", std::process::id())
}
